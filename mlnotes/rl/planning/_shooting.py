r"""Model-predictive control by shooting: random shooting, CEM and MPPI (chapter 33).

At every step the planner searches for an action sequence :math:`a_{0:H-1}` that
maximises the model's predicted return from the current observation,

.. math::

    J(a_{0:H-1}) = \sum_{t=0}^{H-1} \gamma^t\, r(s_t, a_t), \qquad
    s_{t+1} = f(s_t, a_t),

executes the first action only, and plans again at the next step (receding horizon).
All candidate sequences are rolled out together: one vectorised model call per time
step, whatever the number of candidates. The plan of the previous step, shifted by one,
seeds the next search (warm start).
"""

from numbers import Integral, Real

import numpy as np
from gymnasium import spaces
from sklearn.utils import check_scalar

from ..tabular._model import ParamsByNameMixin, make_env
from ._models import true_model

__all__ = ["CEM", "MPPI", "RandomShooting"]


class _ShootingPlanner(ParamsByNameMixin):
    """Receding-horizon planning over a batched model; subclasses write ``_search``."""

    _param_names = ("env", "model", "horizon", "n_samples", "gamma", "seed")

    def __init__(self, env, model=None, horizon=30, n_samples=500, gamma=1.0, seed=None):
        self.env = env
        self.model = model
        self.horizon = horizon
        self.n_samples = n_samples
        self.gamma = gamma
        self.seed = seed
        self._ready = False

    # ------------------------------------------------------------- parameters

    def _params_changed(self):
        self._ready = False  # the planner is rebuilt at its next use

    def __repr__(self):
        shown = {k: v for k, v in self.get_params().items() if k not in ("env", "model")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def _check_params(self):
        check_scalar(self.horizon, "horizon", Integral, min_val=1)
        check_scalar(self.n_samples, "n_samples", Integral, min_val=1)
        check_scalar(self.gamma, "gamma", Real, min_val=0, max_val=1)

    def _setup(self):
        if self._ready:
            return
        name = type(self).__name__
        self._check_params()
        env = make_env(self.env)
        self.env = env
        space = env.action_space
        if not isinstance(space, spaces.Box):
            raise ValueError(f"{name} plans continuous actions: the env's action space "
                             f"must be a Box, got {space!r}.")
        self.observation_space = env.observation_space
        self.action_space = space
        self._model = true_model(env, name) if self.model is None else self.model
        if not callable(self._model):
            raise TypeError("model must be callable: model(observations, actions) -> "
                            "(next_observations, rewards, terminated).")
        self._low = np.asarray(space.low, dtype=np.float64).reshape(-1)
        self._high = np.asarray(space.high, dtype=np.float64).reshape(-1)
        if not (np.all(np.isfinite(self._low)) and np.all(np.isfinite(self._high))):
            raise ValueError(f"{name} needs a bounded action space, got {space!r}.")
        self._rng = np.random.default_rng(self.seed)
        self._plans = {}
        self.n_model_calls_ = 0
        self._ready = True

    # ------------------------------------------------------------- planning

    def _initial_mean(self):
        return np.tile((self._low + self._high) / 2, (int(self.horizon), 1))

    def rollout_returns(self, observation, sequences):
        """Predicted discounted returns of candidate action sequences.

        Parameters
        ----------
        observation : array-like of shape (obs_dim,)
            The start.
        sequences : numpy.ndarray of shape (n, horizon, act_dim)
            Candidate action sequences (already within the bounds).

        Returns
        -------
        returns : numpy.ndarray of shape (n,)
            :math:`\\sum_t \\gamma^t r_t` under the model; rewards after a predicted
            termination are not counted.
        """
        self._setup()
        n, horizon = sequences.shape[:2]
        obs = np.repeat(np.asarray(observation, dtype=np.float64).reshape(1, -1), n, axis=0)
        total = np.zeros(n)
        alive = np.ones(n, dtype=bool)
        discount = 1.0
        for t in range(horizon):
            obs, rewards, terminated = self._model(obs, sequences[:, t])
            self.n_model_calls_ += 1
            total += discount * np.where(alive, np.asarray(rewards, dtype=np.float64), 0.0)
            alive &= ~np.asarray(terminated, dtype=bool)
            discount *= self.gamma
        return total

    def plan(self, observation, key=0):
        """Search an action sequence from ``observation`` (warm-started per ``key``).

        Parameters
        ----------
        observation : array-like of shape (obs_dim,)
            The current observation.
        key : hashable, default=0
            Which warm start to use and update (one per environment of a batch).

        Returns
        -------
        plan : numpy.ndarray of shape (horizon, act_dim)
            The planned actions; the first one is executed.
        """
        self._setup()
        obs = np.asarray(observation, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(obs)):
            raise ValueError("The observation contains NaN or infinity.")
        mean = self._plans.get(key)
        if mean is None:
            mean = self._initial_mean()
        plan = self._search(obs, mean)
        # warm start of the next step: shift by one, repeat the last action
        self._plans[key] = np.concatenate([plan[1:], plan[-1:]], axis=0)
        return plan

    def reset(self):
        """Forget the warm starts (call at the start of a new episode)."""
        self._setup()
        self._plans = {}

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        """The first planned action(s) (Stable-Baselines3's ``predict`` signature).

        Parameters
        ----------
        observation : array-like of shape (obs_dim,) or (n_env, obs_dim)
            One observation or a batch (planned one by one, each with its warm start).
        state : None
            Recurrent state (unused; returned unchanged).
        episode_start : numpy.ndarray of bool, default=None
            Environments whose episode just started: their warm start is dropped.
        deterministic : bool, default=True
            Unused (the search is seeded by ``seed``).

        Returns
        -------
        actions : numpy.ndarray
            ``(act_dim,)`` or ``(n_env, act_dim)``.
        state : None
            The recurrent state.
        """
        self._setup()
        obs = np.asarray(observation, dtype=np.float64)
        shape = self.observation_space.shape
        single = obs.shape == shape
        if not single and obs.shape[1:] != shape:
            raise ValueError(f"Unexpected observation shape {obs.shape}; expected {shape} "
                             f"or (n_env, {', '.join(map(str, shape))}).")
        obs = obs.reshape((-1, *shape))
        if episode_start is not None:
            for i in np.flatnonzero(np.asarray(episode_start).reshape(-1)):
                self._plans.pop(int(i), None)
        actions = np.stack([self.plan(o, key=i)[0] for i, o in enumerate(obs)])
        actions = actions.reshape((-1, *self.action_space.shape)).astype(
            self.action_space.dtype)
        return (actions[0] if single else actions), state

    def _search(self, obs, mean):
        raise NotImplementedError


class RandomShooting(_ShootingPlanner):
    r"""Random-shooting MPC: the best of ``n_samples`` uniform action sequences.

    Samples sequences uniformly in the action bounds (plus the shifted previous plan),
    rolls them all out through the model and executes the first action of the best.
    The simplest planner of chapter 33; see the user guide, "Planning".

    Parameters
    ----------
    env : gymnasium.Env or str
        The environment (its action bounds; its true model when ``model`` is None).
    model : callable, default=None
        ``model(observations, actions) -> (next_observations, rewards, terminated)`` on
        batches; ``None`` uses the exact model of the env (Pendulum-v1,
        MountainCarContinuous-v0).
    horizon : int, default=30
        Planning horizon :math:`H`.
    n_samples : int, default=1000
        Candidate sequences per step.
    gamma : float, default=1.0
        Discount of the planned return.
    seed : int, default=None
        Seed of the sampler.

    Attributes
    ----------
    n_model_calls_ : int
        Batched model calls so far (one per time step of each search).

    Examples
    --------
    >>> from mlnotes.rl import RandomShooting
    >>> planner = RandomShooting("Pendulum-v1", horizon=10, n_samples=100, seed=0)
    >>> planner.predict([1.0, 0.0, 0.0])[0].shape
    (1,)
    """

    def __init__(self, env, model=None, horizon=30, n_samples=1000, gamma=1.0, seed=None):
        super().__init__(env, model, horizon, n_samples, gamma, seed)

    def _search(self, obs, mean):
        h, d = mean.shape
        samples = self._rng.uniform(self._low, self._high, (int(self.n_samples), h, d))
        samples[0] = mean
        returns = self.rollout_returns(obs, samples)
        return samples[int(np.argmax(returns))]


class CEM(_ShootingPlanner):
    r"""Cross-entropy-method MPC.

    Keeps a diagonal Gaussian over action sequences; each of ``n_iterations`` rounds
    samples ``n_samples`` sequences (clipped to the bounds), rolls them out in one
    batch, and refits the Gaussian to the ``n_elites`` best,

    .. math::

        \mu \leftarrow (1 - \alpha)\, \text{mean}(\text{elites}) + \alpha \mu, \qquad
        \sigma \leftarrow (1 - \alpha)\, \text{std}(\text{elites}) + \alpha \sigma.

    The executed action is the first of the final mean; the mean, shifted by one step,
    starts the next search. Chapter 33 of the notes; see the user guide, "Planning".

    Parameters
    ----------
    env : gymnasium.Env or str
        The environment (its action bounds; its true model when ``model`` is None).
    model : callable, default=None
        Batched model ``f(observations, actions) -> (next_observations, rewards,
        terminated)``; ``None`` uses the env's exact model.
    horizon : int, default=30
        Planning horizon.
    n_samples : int, default=500
        Sequences per iteration.
    n_iterations : int, default=5
        Refits per step.
    n_elites : int, default=50
        Sequences the Gaussian is refitted to.
    alpha : float, default=0.1
        Smoothing of the refit (0: no memory).
    init_std : float, default=None
        Initial standard deviation as a fraction of the action range (``None``: 0.5).
    gamma : float, default=1.0
        Discount of the planned return.
    seed : int, default=None
        Seed of the sampler.

    Attributes
    ----------
    n_model_calls_ : int
        Batched model calls so far.

    Examples
    --------
    >>> from mlnotes.rl import CEM
    >>> planner = CEM("Pendulum-v1", horizon=10, n_samples=64, n_elites=8, seed=0)
    >>> planner.predict([1.0, 0.0, 0.0])[0].shape
    (1,)
    """

    _param_names = _ShootingPlanner._param_names + (
        "n_iterations", "n_elites", "alpha", "init_std")

    def __init__(self, env, model=None, horizon=30, n_samples=500, n_iterations=5,
                 n_elites=50, alpha=0.1, init_std=None, gamma=1.0, seed=None):
        super().__init__(env, model, horizon, n_samples, gamma, seed)
        self.n_iterations = n_iterations
        self.n_elites = n_elites
        self.alpha = alpha
        self.init_std = init_std

    def _check_params(self):
        super()._check_params()
        check_scalar(self.n_iterations, "n_iterations", Integral, min_val=1)
        check_scalar(self.n_elites, "n_elites", Integral, min_val=1)
        if self.n_elites > self.n_samples:
            raise ValueError(f"n_elites={self.n_elites} must not exceed "
                             f"n_samples={self.n_samples}.")
        check_scalar(self.alpha, "alpha", Real, min_val=0, max_val=1)
        if self.init_std is not None:
            check_scalar(self.init_std, "init_std", Real, min_val=0,
                         include_boundaries="neither")

    def _search(self, obs, mean):
        scale = 0.5 if self.init_std is None else float(self.init_std)
        std = np.broadcast_to(scale * (self._high - self._low), mean.shape).copy()
        h, d = mean.shape
        for _ in range(int(self.n_iterations)):
            samples = mean + std * self._rng.standard_normal((int(self.n_samples), h, d))
            samples = np.clip(samples, self._low, self._high)
            returns = self.rollout_returns(obs, samples)
            elites = samples[np.argpartition(-returns, int(self.n_elites) - 1)
                             [:int(self.n_elites)]]
            mean = (1 - self.alpha) * elites.mean(axis=0) + self.alpha * mean
            std = (1 - self.alpha) * elites.std(axis=0) + self.alpha * std
        return np.clip(mean, self._low, self._high)


class MPPI(_ShootingPlanner):
    r"""Model-predictive path integral control.

    Perturbs the current plan :math:`\mu` with Gaussian noise
    :math:`\epsilon^k \sim \mathcal{N}(0, \sigma^2 I)`, rolls out the ``n_samples``
    perturbed sequences in one batch and moves the plan by the return-weighted average
    of the noise,

    .. math::

        w_k \propto \exp\!\big((J_k - \max_j J_j) / \lambda\big), \qquad
        \mu \leftarrow \mu + \sum_k w_k\, \epsilon^k,

    (Williams et al., 2017). A small temperature :math:`\lambda` approaches the best
    sample, a large one the plain average. The plan, shifted by one step, warm-starts
    the next. Chapter 33 of the notes; see the user guide, "Planning".

    Parameters
    ----------
    env : gymnasium.Env or str
        The environment (its action bounds; its true model when ``model`` is None).
    model : callable, default=None
        Batched model; ``None`` uses the env's exact model.
    horizon : int, default=30
        Planning horizon.
    n_samples : int, default=1000
        Perturbed sequences per iteration.
    noise_sigma : float, default=None
        Standard deviation of the perturbations as a fraction of the action range
        (``None``: 0.5).
    temperature : float, default=1.0
        :math:`\lambda`.
    n_iterations : int, default=1
        Updates per step.
    gamma : float, default=1.0
        Discount of the planned return.
    seed : int, default=None
        Seed of the sampler.

    Attributes
    ----------
    n_model_calls_ : int
        Batched model calls so far.

    Examples
    --------
    >>> from mlnotes.rl import MPPI
    >>> planner = MPPI("Pendulum-v1", horizon=10, n_samples=64, seed=0)
    >>> planner.predict([1.0, 0.0, 0.0])[0].shape
    (1,)
    """

    _param_names = _ShootingPlanner._param_names + (
        "noise_sigma", "temperature", "n_iterations")

    def __init__(self, env, model=None, horizon=30, n_samples=1000, noise_sigma=None,
                 temperature=1.0, n_iterations=1, gamma=1.0, seed=None):
        super().__init__(env, model, horizon, n_samples, gamma, seed)
        self.noise_sigma = noise_sigma
        self.temperature = temperature
        self.n_iterations = n_iterations

    def _check_params(self):
        super()._check_params()
        if self.noise_sigma is not None:
            check_scalar(self.noise_sigma, "noise_sigma", Real, min_val=0,
                         include_boundaries="neither")
        check_scalar(self.temperature, "temperature", Real, min_val=0,
                     include_boundaries="neither")
        check_scalar(self.n_iterations, "n_iterations", Integral, min_val=1)

    def _search(self, obs, mean):
        scale = 0.5 if self.noise_sigma is None else float(self.noise_sigma)
        sigma = scale * (self._high - self._low)
        h, d = mean.shape
        for _ in range(int(self.n_iterations)):
            samples = mean + sigma * self._rng.standard_normal((int(self.n_samples), h, d))
            samples = np.clip(samples, self._low, self._high)
            samples[0] = mean  # the current plan competes as well
            returns = self.rollout_returns(obs, samples)
            weights = np.exp((returns - returns.max()) / self.temperature)
            weights /= weights.sum()
            mean = np.tensordot(weights, samples, axes=1)
        return np.clip(mean, self._low, self._high)
