r"""Exact dynamic programming on a known finite MDP (chapters 27 and 30).

:class:`ValueIteration` and :class:`PolicyIteration` solve the Bellman optimality
equation of a gymnasium toy-text environment whose model is known
(``env.unwrapped.P``) and then act greedily. They have the parts of the agent surface
that make sense for a solver: ``predict(observation, state=None, episode_start=None,
deterministic=True)`` returning ``(action, state)``, so Stable-Baselines3's
``evaluate_policy`` runs them, and ``get_params``/``set_params``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_scalar

from ._model import ParamsByNameMixin, make_env, mdp_from_env

__all__ = ["ValueIteration", "PolicyIteration"]


def _check_solver_params(obj, iterations_name="max_iter"):
    check_scalar(obj.gamma, "gamma", Real, min_val=0, max_val=1)
    if hasattr(obj, "tol"):
        check_scalar(obj.tol, "tol", Real, min_val=0, include_boundaries="neither")
    check_scalar(getattr(obj, iterations_name), iterations_name, Integral, min_val=1)


class _TabularSolver(ParamsByNameMixin):
    """What both solvers share: parameters, ``predict``, fitted checks."""

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if k != "env")
        return f"{type(self).__name__}({args})"

    def _check_fitted(self):
        if not hasattr(self, "policy_"):
            raise ValueError(f"This {type(self).__name__} is not fitted yet: call fit() "
                             "before predict().")

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        """Greedy action(s) of the solved MDP.

        Parameters
        ----------
        observation : int or array-like of int
            One state, or a batch of states ``(n_env,)``.
        state : None
            Recurrent state (unused; returned unchanged).
        episode_start : numpy.ndarray, default=None
            Unused (Stable-Baselines3 signature).
        deterministic : bool, default=True
            Unused: the optimal policy is deterministic.

        Returns
        -------
        actions : int or numpy.ndarray
            ``policy_[observation]``.
        state : None
            The recurrent state.
        """
        self._check_fitted()
        obs = np.asarray(observation)
        if obs.dtype.kind not in "iu" and not (
                obs.dtype.kind == "f" and np.all(np.isfinite(obs)) and np.all(obs == np.round(obs))):
            raise ValueError(f"Observations must be integer states, got {observation!r}.")
        obs = obs.astype(np.int64)
        if np.any(obs < 0) or np.any(obs >= self.policy_.shape[0]):
            raise ValueError(f"States must be in [0, {self.policy_.shape[0]}), got "
                             f"{observation!r}.")
        return self.policy_[obs], state


class ValueIteration(_TabularSolver):
    r"""Value iteration on a known finite MDP.

    Repeats the Bellman optimality backup

    .. math::

        V_{k+1}(s) = \max_a \Big[ R(s, a) + \gamma \sum_{s'} T(s' \mid s, a)\, V_k(s') \Big]

    from :math:`V_0 = 0` until :math:`\|V_{k+1} - V_k\|_\infty < \text{tol}`; the backup
    is a :math:`\gamma`-contraction, so the result is within
    :math:`\gamma\,\text{tol} / (1 - \gamma)` of :math:`V^*`. ``T`` leaves out the
    transitions that terminate the episode (chapter 27 of the notes for the MDP, chapter
    30 for value methods). See the user guide, "Tabular methods".

    Parameters
    ----------
    env : gymnasium.Env or str
        A toy-text environment with a known model ``env.unwrapped.P`` (FrozenLake-v1,
        Taxi-v3, CliffWalking-v1, ...), or its id.
    gamma : float, default=0.99
        Discount factor (``1`` only for problems where every policy terminates).
    tol : float, default=1e-10
        Stop when the largest change of a state's value is below this.
    max_iter : int, default=100_000
        Maximum number of backups.

    Attributes
    ----------
    values_ : numpy.ndarray of shape (n_states,)
        Optimal state values :math:`V^*`.
    q_values_ : numpy.ndarray of shape (n_states, n_actions)
        Optimal action values :math:`Q^*`.
    policy_ : numpy.ndarray of shape (n_states,)
        A greedy optimal action in each state (the lowest index among ties).
    n_iter_ : int
        Backups performed.

    See Also
    --------
    PolicyIteration : Exact policy evaluation and greedy improvement.

    Examples
    --------
    >>> from mlnotes.rl import ValueIteration
    >>> vi = ValueIteration("FrozenLake-v1", gamma=0.99).fit()
    >>> vi.values_.shape, vi.policy_.shape
    ((16,), (16,))
    >>> round(float(vi.values_[0]), 3)
    0.542
    """

    _param_names = ("env", "gamma", "tol", "max_iter")

    def __init__(self, env, gamma=0.99, tol=1e-10, max_iter=100_000):
        self.env = env
        self.gamma = gamma
        self.tol = tol
        self.max_iter = max_iter

    def fit(self):
        """Solve the MDP.

        Returns
        -------
        self : ValueIteration
            The solved solver.
        """
        name = type(self).__name__
        _check_solver_params(self)
        self.env = make_env(self.env)
        mdp = mdp_from_env(self.env, name)
        gamma = float(self.gamma)
        values = np.zeros(mdp.n_states)
        for it in range(1, int(self.max_iter) + 1):
            q = mdp.q_from_v(values, gamma)
            new = q.max(axis=1)
            delta = np.max(np.abs(new - values))
            values = new
            if delta < self.tol:
                break
        else:
            raise RuntimeError(
                f"{name} did not converge in max_iter={self.max_iter} backups (last "
                f"change {delta:.3g}); with gamma={gamma} the error shrinks by gamma per "
                "backup: raise max_iter or tol."
            )
        self.q_values_ = mdp.q_from_v(values, gamma)
        self.values_ = self.q_values_.max(axis=1)
        self.policy_ = self.q_values_.argmax(axis=1)
        self.n_iter_ = it
        return self


class PolicyIteration(_TabularSolver):
    r"""Policy iteration on a known finite MDP.

    Alternates exact policy evaluation, one linear solve

    .. math::

        (I - \gamma T_\pi)\, V^\pi = R_\pi,

    and greedy improvement :math:`\pi'(s) = \arg\max_a [R(s, a) + \gamma \sum_{s'}
    T(s' \mid s, a) V^\pi(s')]`, keeping the current action unless another is better by
    more than ``tol`` (so it cannot cycle between tied actions). It stops when the policy
    is stable, after finitely many iterations; the policy is then optimal. Chapter 30 of
    the notes; see the user guide, "Tabular methods".

    Parameters
    ----------
    env : gymnasium.Env or str
        A toy-text environment with a known model ``env.unwrapped.P``, or its id.
    gamma : float, default=0.99
        Discount factor.
    tol : float, default=1e-12
        An action replaces the current one only if its value is larger by more than this.
    max_iter : int, default=1_000
        Maximum number of improvement steps.

    Attributes
    ----------
    values_ : numpy.ndarray of shape (n_states,)
        Values of the final policy, :math:`V^*`.
    q_values_ : numpy.ndarray of shape (n_states, n_actions)
        :math:`Q^*`.
    policy_ : numpy.ndarray of shape (n_states,)
        An optimal action in each state.
    n_iter_ : int
        Evaluation-improvement rounds performed.

    See Also
    --------
    ValueIteration : Repeated Bellman optimality backups.

    Examples
    --------
    >>> from mlnotes.rl import PolicyIteration
    >>> pi = PolicyIteration("FrozenLake-v1", gamma=0.99).fit()
    >>> round(float(pi.values_[0]), 3)
    0.542
    """

    _param_names = ("env", "gamma", "tol", "max_iter")

    def __init__(self, env, gamma=0.99, tol=1e-12, max_iter=1_000):
        self.env = env
        self.gamma = gamma
        self.tol = tol
        self.max_iter = max_iter

    def fit(self):
        """Solve the MDP.

        Returns
        -------
        self : PolicyIteration
            The solved solver.
        """
        name = type(self).__name__
        _check_solver_params(self)
        self.env = make_env(self.env)
        mdp = mdp_from_env(self.env, name)
        gamma = float(self.gamma)
        policy = np.zeros(mdp.n_states, dtype=np.int64)
        states = np.arange(mdp.n_states)
        for it in range(1, int(self.max_iter) + 1):
            values = mdp.evaluate(policy, gamma)
            q = mdp.q_from_v(values, gamma)
            best = q.argmax(axis=1)
            improve = q[states, best] > q[states, policy] + self.tol
            if not improve.any():
                break
            policy = np.where(improve, best, policy)
        else:
            raise RuntimeError(f"{name} did not converge in max_iter={self.max_iter} "
                               "improvement steps.")
        self.values_ = values
        self.q_values_ = q
        self.policy_ = policy
        self.n_iter_ = it
        return self
