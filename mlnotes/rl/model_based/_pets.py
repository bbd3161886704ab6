r"""PETS: probabilistic ensembles with trajectory sampling (chapter 35).

PETS (Chua et al., 2018) learns a probabilistic ensemble of the dynamics and reward,
:math:`(\Delta s, r) \sim \mathcal{N}(\mu_e(s, a), \sigma_e^2(s, a))`, from its own
interaction, and acts by model-predictive control: at every step the cross-entropy
method searches action sequences whose return is estimated by *trajectory sampling*,
propagating ``n_particles`` particles per candidate, each tied to one member for the
whole horizon (TS-infinity) and sampling that member's Gaussian at each step. The
model is refitted on all data every ``train_freq`` steps. It learns from far fewer
environment steps than model-free agents, at a much higher compute cost per step.
"""

from numbers import Integral

import numpy as np
import torch
from gymnasium import spaces
from sklearn.utils import check_scalar

from ..common.base_class import BaseAlgorithm
from ..common.policies import BasePolicy
from ..common.schedules import get_schedule_fn
from ..planning._shooting import CEM
from ._dynamics import TransitionModel

__all__ = ["PETS", "PETSPolicy"]


class _Spaces:
    """The two spaces a planner reads from an "env"."""

    def __init__(self, observation_space, action_space):
        self.observation_space = observation_space
        self.action_space = action_space


class _TrajectorySamplingCEM(CEM):
    """CEM whose candidate returns average ``n_particles`` sampled model rollouts."""

    def __init__(self, policy, **kwargs):
        super().__init__(_Spaces(policy.observation_space, policy.action_space),
                         model=policy.sample_step, **kwargs)
        self._policy = policy

    def rollout_returns(self, observation, sequences):
        policy = self._policy
        n, horizon = sequences.shape[:2]
        particles = policy.n_particles
        obs = np.repeat(np.asarray(observation, dtype=np.float64).reshape(1, -1),
                        n * particles, axis=0)
        actions = np.repeat(sequences, particles, axis=0)  # candidate-major rows
        total = np.zeros(n * particles)
        for t in range(horizon):
            obs, rewards, _ = policy.sample_step(obs, actions[:, t])
            self.n_model_calls_ += 1
            total += rewards
        return total.reshape(n, particles).mean(axis=1)


class PETSPolicy(BasePolicy):
    """The ensemble dynamics model and the CEM planner that acts with it.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box
        Observations.
    action_space : gymnasium.spaces.Box
        Actions.
    lr_schedule : callable
        Learning rate of the model's Adam optimiser.
    n_members : int, default=5
        Ensemble size.
    net_arch : tuple of int, default=(200, 200, 200)
        Hidden widths of each member.
    activation : str, default="silu"
        Hidden activation.
    weight_decay : float, default=5e-5
        Adam's weight decay.
    horizon, n_samples, n_elites, n_iterations : int
        The CEM planner's settings.
    n_particles : int, default=20
        Sampled rollouts per candidate (a multiple of ``n_members`` keeps the members
        equally used).
    """

    def __init__(self, observation_space, action_space, lr_schedule, n_members=5,
                 net_arch=(200, 200, 200), activation="silu", weight_decay=5e-5,
                 horizon=25, n_samples=400, n_elites=40, n_iterations=5, n_particles=20):
        super().__init__(observation_space, action_space)
        for what, space in (("observation", observation_space), ("action", action_space)):
            if not isinstance(space, spaces.Box) or len(space.shape) != 1:
                raise ValueError(f"PETS needs a flat Box {what} space, got {space!r}.")
        self.obs_dim = int(observation_space.shape[0])
        self.act_dim = int(action_space.shape[0])
        self.n_particles = int(n_particles)
        self.dynamics = TransitionModel(self.obs_dim, self.act_dim, n_members, net_arch,
                                        activation, lr_schedule(1), weight_decay)
        self.optimizer = self.dynamics.optimizer  # saved as the policy's optimiser
        self.planner = _TrajectorySamplingCEM(self, horizon=horizon, n_samples=n_samples,
                                              n_elites=n_elites, n_iterations=n_iterations)
        self._generator = torch.Generator().manual_seed(0)

    def seed(self, seed):
        """Seed the planner's sampler and the trajectory-sampling noise."""
        self.planner.set_params(seed=seed)
        self._generator.manual_seed(0 if seed is None else int(seed))

    def sample_step(self, obs, actions):
        """One trajectory-sampling step for rows ``(member, particle)``.

        Row ``i`` uses member ``i % n_members`` (rows are candidate-major with
        ``n_particles`` consecutive rows per candidate) and samples its Gaussian.

        Parameters
        ----------
        obs : numpy.ndarray of shape (N, obs_dim)
            Current observations.
        actions : numpy.ndarray of shape (N, act_dim)
            Actions (within the bounds).

        Returns
        -------
        next_obs : numpy.ndarray of shape (N, obs_dim)
        rewards : numpy.ndarray of shape (N,)
        terminated : numpy.ndarray of shape (N,)
            Always False (the model does not predict terminations).
        """
        next_obs, rewards = self.dynamics.sample_step(obs, actions, None, self._generator)
        return next_obs, rewards, np.zeros(len(obs), dtype=bool)

    def _predict(self, obs, deterministic=False):
        actions = [self.planner.plan(o, key=i)[0]
                   for i, o in enumerate(obs.cpu().numpy().astype(np.float64))]
        low, high = self.action_space.low, self.action_space.high
        return torch.as_tensor(np.clip(np.stack(actions), low, high))


class PETS(BaseAlgorithm):
    r"""Model-based RL with a probabilistic ensemble and trajectory-sampling MPC.

    The agent starts with ``learning_starts`` random steps, then every
    ``train_freq`` steps refits its :class:`~mlnotes.rl.DynamicsEnsemble`-style model
    (inputs ``[s, a]``, targets ``[s' - s, r]``, standardised; Gaussian NLL; each
    member on its own bootstrap draws) for ``n_epochs`` epochs on all data collected
    so far, and acts by CEM over action sequences, estimating a candidate's return by
    the mean of ``n_particles`` sampled model rollouts (TS-infinity). Chapter 35 of the
    notes; see the user guide, "Planning".

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` (:class:`PETSPolicy`: the ensemble and the planner).
    env : gymnasium.Env, VecEnv or str
        An environment with flat Box observations and Box actions (one env).
    learning_rate : float or callable, default=1e-3
        The model's Adam step size.
    learning_starts : int, default=200
        Random steps before the first model fit.
    train_freq : int, default=200
        Environment steps between model refits (one Pendulum episode).
    n_epochs : int, default=20
        Epochs over the data at each refit.
    batch_size : int, default=256
        Mini-batch size of the model fit.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        :class:`PETSPolicy` arguments: ``n_members``, ``net_arch``, ``horizon``,
        ``n_samples``, ``n_elites``, ``n_iterations``, ``n_particles``, ...
    verbose : int, default=0
        Verbosity.
    seed : int, default=None
        Seed of everything random (global generators, as SB3).
    device : str, default="auto"
        Ignored: PETS runs on the CPU (its planner is numpy-driven).
    _init_setup_model : bool, default=True
        Build the model at construction.

    Attributes
    ----------
    policy : PETSPolicy
        The model and the planner.
    model_loss_ : list of float
        Mean training NLL after each refit.

    Examples
    --------
    >>> from mlnotes.rl import PETS
    >>> agent = PETS("MlpPolicy", "Pendulum-v1", learning_starts=20, train_freq=20,
    ...              n_epochs=1, seed=0,
    ...              policy_kwargs=dict(net_arch=(16,), horizon=3, n_samples=8,
    ...                                 n_elites=2, n_iterations=1, n_particles=5))
    >>> agent.learn(30).num_timesteps
    30
    """

    policy_aliases = {"MlpPolicy": PETSPolicy}
    supported_action_spaces = (spaces.Box,)

    def __init__(self, policy, env, learning_rate=1e-3, learning_starts=200, train_freq=200,
                 n_epochs=20, batch_size=256, stats_window_size=100, tensorboard_log=None,
                 policy_kwargs=None, verbose=0, seed=None, device="auto",
                 _init_setup_model=True):
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         verbose=verbose, device="cpu", support_multi_env=False, seed=seed)
        for value, name, low in ((learning_starts, "learning_starts", 0),
                                 (train_freq, "train_freq", 1), (n_epochs, "n_epochs", 1),
                                 (batch_size, "batch_size", 1)):
            check_scalar(value, name, Integral, min_val=low)
        if self.env is not None and self.env.num_envs != 1:
            raise ValueError("PETS plans for one environment: pass a single env.")
        if self.observation_space is not None:
            for what, space in (("observation", self.observation_space),
                                ("action", self.action_space)):
                if not isinstance(space, spaces.Box):
                    raise ValueError(f"PETS needs Box {what} and action spaces; the env's "
                                     f"{what} space is {space!r}.")
        self.learning_starts = int(learning_starts)
        self.train_freq = int(train_freq)
        self.n_epochs = int(n_epochs)
        self.batch_size = int(batch_size)
        self.model_loss_ = []
        self._data = None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        self.lr_schedule = get_schedule_fn(self.learning_rate)
        self.set_random_seed(self.seed)
        self.policy = self.policy_class(self.observation_space, self.action_space,
                                        self.lr_schedule, **self.policy_kwargs)
        self.policy.seed(self.seed)
        self._rng = np.random.default_rng(self.seed)

    # ------------------------------------------------------------------ model fit

    def train_model(self):
        """Refit the ensemble on every transition collected so far."""
        data = self._data
        loss = self.policy.dynamics.fit(
            data["obs"], data["actions"], data["next_obs"], data["rewards"], self.n_epochs,
            self.batch_size, self._rng,
            learning_rate=self.lr_schedule(self._current_progress_remaining),
            what=f"the PETS model (after {self.num_timesteps} steps)")
        self.model_loss_.append(loss)
        self._n_updates += 1
        self.logger.record("train/model_nll", self.model_loss_[-1])

    # ------------------------------------------------------------------ learning

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="PETS",
              reset_num_timesteps=True, progress_bar=False):
        """Interact, refit the model every ``train_freq`` steps, plan with it.

        Parameters
        ----------
        total_timesteps : int
            Environment steps.
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s), called at every step.
        log_interval : int, default=1
            Episodes between log dumps (``None``: never).
        tb_log_name : str, default="PETS"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter and the dataset.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : PETS
            The trained agent.
        """
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if reset_num_timesteps or self._data is None:
            self._data = {k: np.empty((0, d)) for k, d in (
                ("obs", self.policy.obs_dim), ("actions", self.policy.act_dim),
                ("next_obs", self.policy.obs_dim))}
            self._data["rewards"] = np.empty(0)
            self._fitted = False
        env = self.env
        low, high = self.action_space.low, self.action_space.high
        callback.on_training_start(locals(), globals())
        callback.on_rollout_start()
        since_fit = 0
        while self.num_timesteps < total_timesteps:
            obs = np.asarray(self._last_obs, dtype=np.float64)
            if not np.all(np.isfinite(obs)):
                raise ValueError(f"The environment returned a non-finite observation "
                                 f"{obs}: the env is the cause.")
            if self._fitted:
                if self._last_episode_starts is not None and self._last_episode_starts[0]:
                    self.policy.planner._plans = {}
                actions = self.policy.predict(obs, deterministic=True)[0]
            else:
                actions = self._rng.uniform(low, high, (1, *self.action_space.shape))
            actions = np.asarray(actions, dtype=np.float32).reshape(1, -1)
            new_obs, rewards, dones, infos = env.step(actions)
            if not np.all(np.isfinite(rewards)):
                raise ValueError(f"The environment returned a non-finite reward {rewards}: "
                                 "the env is the cause.")
            self.num_timesteps += 1
            callback.update_locals(locals())
            if not callback.on_step():
                break
            self._update_info_buffer(infos, dones)
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            next_obs = np.asarray(new_obs, dtype=np.float64).copy()
            if dones[0] and infos[0].get("terminal_observation") is not None:
                next_obs[0] = infos[0]["terminal_observation"]
            for key, value in (("obs", obs), ("actions", actions), ("next_obs", next_obs)):
                self._data[key] = np.vstack([self._data[key], value.reshape(1, -1)])
            self._data["rewards"] = np.append(self._data["rewards"], float(rewards[0]))
            self._last_obs = new_obs
            self._last_episode_starts = dones
            since_fit += 1
            if dones[0]:
                self._episode_num += 1
                if log_interval is not None and self._episode_num % log_interval == 0:
                    self.dump_logs()
            if self.num_timesteps >= self.learning_starts and (
                    not self._fitted or since_fit >= self.train_freq):
                self.train_model()
                self._fitted = True
                since_fit = 0
        callback.on_rollout_end()
        callback.on_training_end()
        return self
