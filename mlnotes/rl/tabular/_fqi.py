r"""Fitted Q iteration: batch value iteration with any scikit-learn regressor (ch. 30).

From a fixed dataset of transitions :math:`(s_i, a_i, r_i, s'_i, d_i)` (``d_i = 1`` when
the episode terminated there), fitted Q iteration repeats

.. math::

    y_i &= r_i + \gamma\,(1 - d_i) \max_{a'} \hat Q_k(s'_i, a'), \\
    \hat Q_{k+1} &= \text{regress}\big(\{(s_i, a_i) \mapsto y_i\}\big),

so each iteration is one supervised regression (Ernst, Geurts and Wehenkel, 2005). With
a regressor that reproduces sample means exactly (a table) it is value iteration on the
dataset's empirical MDP; with trees or networks it generalises across states.
"""

import numpy as np
from sklearn.base import clone

from ._dp import _check_solver_params
from ._model import ParamsByNameMixin

__all__ = ["FittedQIteration"]

_KEYS = ("observations", "actions", "rewards", "next_observations", "terminals")


def _features(obs, actions, n_actions):
    onehot = np.zeros((len(obs), n_actions))
    onehot[np.arange(len(obs)), actions] = 1.0
    return np.hstack([obs, onehot])


class FittedQIteration(ParamsByNameMixin):
    r"""Fitted Q iteration over a dataset of transitions, with any regressor.

    The regressor models :math:`\hat Q(s, a)` on the features
    :math:`[s, \text{one-hot}(a)]`; every iteration fits a fresh clone of it on the
    Bellman targets :math:`y_i = r_i + \gamma (1 - d_i) \max_{a'} \hat Q_k(s'_i, a')`.
    Time-limit truncations are not terminations: leave them at ``terminals = 0`` so the
    target bootstraps. Chapter 30 of the notes; see the user guide, "Tabular methods".

    Parameters
    ----------
    estimator : regressor, default=None
        Any scikit-learn regressor; ``None`` uses
        ``mlnotes.ensemble.RandomForestRegressor(n_estimators=50, min_samples_leaf=5)``
        (tree ensembles are the classic choice: their averages keep the iteration
        stable).
    gamma : float, default=0.99
        Discount factor.
    n_iterations : int, default=50
        Bellman iterations (the horizon the values look ahead is about this many steps).
    n_actions : int, default=None
        Number of discrete actions; ``None`` takes ``max(actions) + 1`` of the dataset.
    random_state : int, RandomState or None, default=None
        Seeds the regressor's clones (when they have a ``random_state``).

    Attributes
    ----------
    estimator_ : regressor
        The last fitted regressor, :math:`\hat Q_K`.
    n_actions_ : int
        Number of actions.
    n_features_in_ : int
        Observation dimension.
    target_history_ : list of float
        Mean absolute change of the targets at each iteration (convergence trace).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from mlnotes.rl import FittedQIteration
    >>> # a two-state chain: action 1 in state 0 moves to state 1, which pays 1 and ends
    >>> data = {"observations": np.array([[0.], [0.], [1.], [1.]]),
    ...         "actions": np.array([0, 1, 0, 1]),
    ...         "rewards": np.array([0., 0., 1., 1.]),
    ...         "next_observations": np.array([[0.], [1.], [1.], [1.]]),
    ...         "terminals": np.array([0, 0, 1, 1])}
    >>> fqi = FittedQIteration(DecisionTreeRegressor(), gamma=0.9, n_iterations=20).fit(data)
    >>> fqi.predict(np.array([[0.], [1.]]))[0]
    array([1, 0])
    >>> np.round(fqi.q_values(np.array([[0.]])), 3)
    array([[0.81, 0.9 ]])
    """

    _param_names = ("estimator", "gamma", "n_iterations", "n_actions", "random_state")

    def __init__(self, estimator=None, gamma=0.99, n_iterations=50, n_actions=None,
                 random_state=None):
        self.estimator = estimator
        self.gamma = gamma
        self.n_iterations = n_iterations
        self.n_actions = n_actions
        self.random_state = random_state

    def _make_estimator(self, seed):
        if self.estimator is None:
            from mlnotes.ensemble import RandomForestRegressor

            est = RandomForestRegressor(n_estimators=50, min_samples_leaf=5)
        else:
            est = clone(self.estimator)
        if "random_state" in est.get_params():
            est.set_params(random_state=seed)
        return est

    def _validate_dataset(self, dataset):
        if not isinstance(dataset, dict):
            raise TypeError("dataset must be a dict of arrays with keys "
                            f"{list(_KEYS)}, got {type(dataset).__name__}.")
        missing = [k for k in _KEYS if k not in dataset]
        if missing:
            raise ValueError(f"dataset lacks the keys {missing}; it needs {list(_KEYS)}.")
        obs = np.asarray(dataset["observations"], dtype=np.float64)
        next_obs = np.asarray(dataset["next_observations"], dtype=np.float64)
        obs = obs.reshape(len(obs), -1)
        next_obs = next_obs.reshape(len(next_obs), -1)
        actions = np.asarray(dataset["actions"])
        rewards = np.asarray(dataset["rewards"], dtype=np.float64).reshape(-1)
        terminals = np.asarray(dataset["terminals"], dtype=np.float64).reshape(-1)
        n = len(obs)
        if n == 0:
            raise ValueError("The dataset is empty.")
        if not (len(next_obs) == len(actions) == len(rewards) == len(terminals) == n) \
                or next_obs.shape[1] != obs.shape[1]:
            raise ValueError("The dataset's arrays must have the same number of rows "
                             "and observations and next_observations the same width.")
        actions = actions.reshape(-1)
        if actions.dtype.kind == "f" and np.all(np.isfinite(actions)) \
                and np.all(actions == np.round(actions)):
            actions = actions.astype(np.int64)
        if actions.dtype.kind not in "iu" or np.any(actions < 0):
            raise ValueError("FittedQIteration needs discrete actions: non-negative "
                             "integers.")
        for name, arr in (("observations", obs), ("next_observations", next_obs),
                          ("rewards", rewards)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"The dataset's {name} contain NaN or infinity.")
        return obs, actions.astype(np.int64), rewards, next_obs, terminals

    def fit(self, dataset):
        """Run the Bellman iterations on a fixed dataset.

        Parameters
        ----------
        dataset : dict of arrays
            ``observations`` (n, d), ``actions`` (n,) integers, ``rewards`` (n,),
            ``next_observations`` (n, d), ``terminals`` (n,) (1 where the episode
            terminated; truncations are 0). Other keys (``timeouts``) are ignored.

        Returns
        -------
        self : FittedQIteration
            The fitted object.
        """
        _check_solver_params(self, "n_iterations")
        obs, actions, rewards, next_obs, terminals = self._validate_dataset(dataset)
        n_actions = int(actions.max()) + 1 if self.n_actions is None else self.n_actions
        if isinstance(n_actions, bool) or not isinstance(n_actions, (int, np.integer)) \
                or n_actions < 1 or actions.max() >= n_actions:
            raise ValueError(f"n_actions must be an int larger than every action, got "
                             f"{self.n_actions!r}.")
        self.n_actions_ = int(n_actions)
        self.n_features_in_ = obs.shape[1]
        rng = np.random.default_rng(
            self.random_state if not hasattr(self.random_state, "randint")
            else self.random_state.randint(2**31))
        X = _features(obs, actions, self.n_actions_)
        y = rewards.copy()
        estimator = None
        self.target_history_ = []
        for _ in range(int(self.n_iterations)):
            estimator = self._make_estimator(int(rng.integers(2**31)))
            estimator.fit(X, y)
            self.estimator_ = estimator
            q_next = self.q_values(next_obs)
            new_y = rewards + self.gamma * (1.0 - terminals) * q_next.max(axis=1)
            self.target_history_.append(float(np.mean(np.abs(new_y - y))))
            y = new_y
        return self

    def _check_fitted(self):
        if not hasattr(self, "estimator_"):
            raise ValueError("This FittedQIteration is not fitted yet: call fit(dataset) "
                             "first.")

    def q_values(self, observations):
        """The fitted :math:`\\hat Q(s, a)` for every action.

        Parameters
        ----------
        observations : array-like of shape (n, d)
            States.

        Returns
        -------
        q : numpy.ndarray of shape (n, n_actions)
            Action values.
        """
        self._check_fitted()
        obs = np.asarray(observations, dtype=np.float64).reshape(len(observations), -1)
        if obs.shape[1] != self.n_features_in_:
            raise ValueError(f"Observations have {obs.shape[1]} features, the dataset had "
                             f"{self.n_features_in_}.")
        n = len(obs)
        stacked = np.vstack([_features(obs, np.full(n, a), self.n_actions_)
                             for a in range(self.n_actions_)])
        return self.estimator_.predict(stacked).reshape(self.n_actions_, n).T

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        """Greedy action(s) (Stable-Baselines3's ``predict`` signature).

        Parameters
        ----------
        observation : array-like of shape (d,) or (n_env, d)
            One observation or a batch.
        state : None
            Recurrent state (unused; returned unchanged).
        episode_start : numpy.ndarray, default=None
            Unused.
        deterministic : bool, default=True
            Unused: the greedy policy is deterministic.

        Returns
        -------
        actions : numpy.ndarray
            One action, or ``(n_env,)``.
        state : None
            The recurrent state.
        """
        self._check_fitted()
        obs = np.asarray(observation, dtype=np.float64)
        single = obs.ndim <= 1 and obs.size == self.n_features_in_
        obs = obs.reshape(-1, self.n_features_in_)
        actions = self.q_values(obs).argmax(axis=1)
        return (actions[0] if single else actions), state
