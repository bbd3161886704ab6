"""The off-policy loop: act, store in a replay buffer, take gradient steps on samples.

Contract (for the algorithm files built on it: DQN, SAC, TD3, DDPG)
-------------------------------------------------------------------
Subclass :class:`OffPolicyAlgorithm`, pass SB3's arguments through, and implement

- ``_setup_model()``: call ``super()._setup_model()`` (learning-rate schedule, seeding,
  replay buffer, ``self.policy = policy_class(obs_space, act_space, lr_schedule,
  **policy_kwargs)``, ``train_freq`` conversion), then create aliases
  (``self.actor``, ``self.critic_target``, ...);
- ``train(gradient_steps, batch_size)``: sample ``self.replay_buffer.sample(batch_size,
  env=self._vec_normalize_env)`` (a :class:`~mlnotes.rl.common.replay_buffer.
  ReplayBufferSamples`: ``rewards``/``dones`` of shape ``(B, 1)``, ``dones`` 0 at
  time-limit ends, ``discounts`` ``None`` unless n-step), update, call
  :func:`polyak_update`, add ``gradient_steps`` to ``self._n_updates``, and check each
  loss with ``self._check_finite_loss(loss, "critic_loss")``;
- optionally ``_on_step()`` (called after every env step; DQN's target update and
  exploration schedule), ``_policy_actions(obs)`` (the exploration action from the
  policy, default ``self.predict(obs, deterministic=False)[0]``: override with a lean
  version for speed) and ``_state_dict_names()`` (extra optimisers to save).

Box actions: the policy's ``predict`` returns actions in ``[low, high]``;
``_sample_action`` scales them to ``[-1, 1]`` (:meth:`OffPolicyAlgorithm.scale_action`),
adds ``action_noise()`` there, clips to ``[-1, 1]``, stores that **buffer action** and
steps the env with its unscaled version. Warm-up (``num_timesteps < learning_starts``)
samples the action space uniformly. SB3's action-noise classes
(``stable_baselines3.common.noise``) are used as they are, vectorised for several envs.
"""

import warnings
from abc import abstractmethod

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.noise import (
    ActionNoise,
    NormalActionNoise,
    OrnsteinUhlenbeckActionNoise,
    VectorizedActionNoise,
)
from stable_baselines3.common.type_aliases import RolloutReturn, TrainFreq, TrainFrequencyUnit

from ...utils._validation import check_int, check_real
from ..._fastpaths import enabled as fastpaths_enabled
from ..._fastpaths import fused_adam_step
from .base_class import BaseAlgorithm
from .her_replay_buffer import HerReplayBuffer
from .replay_buffer import DictReplayBuffer, NStepReplayBuffer, ReplayBuffer
from .schedules import get_schedule_fn


def polyak_update(params, target_params, tau):
    """Soft target update ``target <- tau * param + (1 - tau) * target`` (in place).

    Parameters
    ----------
    params : iterable of torch.Tensor
        Parameters (or buffers) of the online network.
    target_params : iterable of torch.Tensor
        The matching tensors of the target network, updated in place.
    tau : float
        Interpolation factor in [0, 1]: 1 copies, 0 keeps the target.

    Notes
    -----
    Polyak averaging, :math:`\\theta^- \\leftarrow \\tau\\theta + (1-\\tau)\\theta^-`,
    chapter 31 (target networks) and 41 (DDPG). Uses foreach kernels: one call per
    update, whatever the number of tensors.

    Examples
    --------
    >>> import torch
    >>> from mlnotes.rl.common.off_policy_algorithm import polyak_update
    >>> p, t = [torch.ones(2)], [torch.zeros(2)]
    >>> polyak_update(p, t, 0.25)
    >>> t[0].tolist()
    [0.25, 0.25]
    """
    params, target_params = list(params), list(target_params)
    if len(params) != len(target_params):
        raise ValueError(
            f"polyak_update got {len(params)} parameters and {len(target_params)} targets.")
    if not params:
        return
    with torch.no_grad():
        if not fastpaths_enabled():  # public ops, one tensor at a time
            for target, param in zip(target_params, params):
                target.copy_(param) if tau == 1 else target.lerp_(param, float(tau))
        elif tau == 1:
            torch._foreach_copy_(target_params, params)
        else:
            torch._foreach_lerp_(target_params, params, float(tau))


def hard_update(params, target_params):
    """Copy the online parameters into the target network (in place).

    Parameters
    ----------
    params : iterable of torch.Tensor
        Parameters (or buffers) of the online network.
    target_params : iterable of torch.Tensor
        The matching tensors of the target network.

    Notes
    -----
    The periodic target update of DQN, :math:`\\theta^- \\leftarrow \\theta` every
    ``target_update_interval`` steps (``polyak_update`` with :math:`\\tau = 1`).

    Examples
    --------
    >>> import torch
    >>> from mlnotes.rl.common.off_policy_algorithm import hard_update
    >>> p, t = [torch.ones(2)], [torch.zeros(2)]
    >>> hard_update(p, t)
    >>> t[0].tolist()
    [1.0, 1.0]
    """
    polyak_update(params, target_params, 1.0)


def adam_step(optimizer):
    """``optimizer.step()``, with a fast path for a plain fused ``torch.optim.Adam``.

    For ``torch.optim.Adam(..., fused=True)`` with no hooks, no AMSGrad and a float
    learning rate, once its state exists, this calls the same fused kernel as
    ``Adam.step`` without the per-call dispatch (profiler records, hook checks,
    grouping by device), which costs more than the arithmetic on small networks
    (:func:`mlnotes._fastpaths.fused_adam_step`). Anything else goes through
    ``optimizer.step()``.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimiser, after ``backward``.
    """
    if not fused_adam_step(optimizer):
        optimizer.step()


_NOISE_MARK = "__action_noise__"


def _noise_to_spec(noise):
    """JSON-able description of SB3's noise classes (``None`` for any other object)."""
    def arr(x):
        return None if x is None else np.asarray(x, dtype=np.float64).tolist()

    if type(noise) is NormalActionNoise:
        return {_NOISE_MARK: "NormalActionNoise", "mean": arr(noise._mu),
                "sigma": arr(noise._sigma), "dtype": np.dtype(noise._dtype).name}
    if type(noise) is OrnsteinUhlenbeckActionNoise:
        return {_NOISE_MARK: "OrnsteinUhlenbeckActionNoise", "mean": arr(noise._mu),
                "sigma": arr(noise._sigma), "theta": float(noise._theta),
                "dt": float(noise._dt), "initial_noise": arr(noise.initial_noise),
                "dtype": np.dtype(noise._dtype).name}
    if type(noise) is VectorizedActionNoise:
        base = _noise_to_spec(noise.base_noise)
        return None if base is None else {_NOISE_MARK: "VectorizedActionNoise",
                                          "base_noise": base, "n_envs": int(noise.n_envs)}
    return None


def _noise_from_spec(spec):
    """Rebuild a noise object written by :func:`_noise_to_spec` (no code executed)."""
    try:
        kind = spec[_NOISE_MARK]
        if kind == "VectorizedActionNoise":
            return VectorizedActionNoise(_noise_from_spec(spec["base_noise"]),
                                         int(spec["n_envs"]))
        dtype = np.dtype(spec["dtype"])
        mean, sigma = np.asarray(spec["mean"]), np.asarray(spec["sigma"])
        if kind == "NormalActionNoise":
            return NormalActionNoise(mean=mean, sigma=sigma, dtype=dtype)
        if kind == "OrnsteinUhlenbeckActionNoise":
            initial = spec["initial_noise"]
            return OrnsteinUhlenbeckActionNoise(
                mean=mean, sigma=sigma, theta=float(spec["theta"]), dt=float(spec["dt"]),
                initial_noise=None if initial is None else np.asarray(initial), dtype=dtype)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"Malformed action noise description: {spec!r}") from exc
    raise ValueError(f"Unknown action noise {kind!r} in the description.")


def obs_as_tensor(observation, device):
    """A batch of env observations as tensors (a dict of them for Dict observations).

    Parameters
    ----------
    observation : numpy.ndarray or dict of numpy.ndarray
        Observations ``(n_envs,) + obs_shape`` as a VecEnv returns them.
    device : torch.device
        Device of the tensors.

    Returns
    -------
    obs : torch.Tensor or dict of torch.Tensor
        The same data (shared memory on the CPU).
    """
    if isinstance(observation, dict):
        return {k: torch.as_tensor(v, device=device) for k, v in observation.items()}
    return torch.as_tensor(observation, device=device)


def _map_sb3_buffer_class(klass):
    """SB3's own ``HerReplayBuffer`` class (what SB3 users pass) -> ours."""
    if isinstance(klass, type) and klass.__name__ == "HerReplayBuffer" \
            and klass.__module__.startswith("stable_baselines3."):
        return HerReplayBuffer
    return klass


def convert_train_freq(train_freq):
    """Normalise ``train_freq`` to SB3's ``TrainFreq(frequency, unit)``.

    Parameters
    ----------
    train_freq : int or tuple of (int, str) or TrainFreq
        ``n`` (every ``n`` steps), ``(n, "step")`` or ``(n, "episode")``.

    Returns
    -------
    train_freq : stable_baselines3.common.type_aliases.TrainFreq
        The frequency and its unit.

    Raises
    ------
    ValueError
        For a non-positive frequency or an unknown unit.

    Examples
    --------
    >>> from mlnotes.rl.common.off_policy_algorithm import convert_train_freq
    >>> convert_train_freq((2, "episode")).unit.value
    'episode'
    """
    if isinstance(train_freq, TrainFreq):
        return train_freq
    if not isinstance(train_freq, (tuple, list)):
        train_freq = (train_freq, "step")
    if len(train_freq) != 2:
        raise ValueError(f"train_freq must be an int or (int, 'step'|'episode'), got {train_freq!r}.")
    frequency, unit = train_freq
    check_int(frequency, "train_freq's frequency", 1)
    try:
        unit = TrainFrequencyUnit(unit.value if isinstance(unit, TrainFrequencyUnit) else unit)
    except ValueError as exc:
        raise ValueError(
            f"train_freq's unit must be 'step' or 'episode', got {unit!r}.") from exc
    return TrainFreq(int(frequency), unit)


class OffPolicyAlgorithm(BaseAlgorithm):
    """Base class of the off-policy agents (DQN, SAC, TD3, DDPG), SB3's surface.

    Parameters
    ----------
    policy : str or type
        Policy class or a name of ``policy_aliases``.
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment.
    learning_rate : float or callable
        Learning rate, or a schedule of the remaining progress (1 to 0).
    buffer_size : int, default=1_000_000
        Replay buffer size (transitions).
    learning_starts : int, default=100
        Steps of uniformly random actions before the first update.
    batch_size : int, default=256
        Minibatch size of each gradient step.
    tau : float, default=0.005
        Polyak coefficient of the target networks (1: hard copy).
    gamma : float, default=0.99
        Discount factor.
    train_freq : int or tuple of (int, str), default=(1, "step")
        Collect this many steps (``"step"``, per env) or episodes (``"episode"``, one
        env only) between two training phases.
    gradient_steps : int, default=1
        Gradient steps per training phase; -1 does as many as env steps collected.
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Exploration noise added to Box actions in the scaled [-1, 1] space.
    replay_buffer_class : type, default=None
        Replay buffer class (default :class:`~mlnotes.rl.common.replay_buffer.
        ReplayBuffer`, or ``NStepReplayBuffer`` when ``n_steps > 1``).
    replay_buffer_kwargs : dict, default=None
        Extra arguments of the replay buffer.
    optimize_memory_usage : bool, default=False
        Memory-saving replay buffer (see ``ReplayBuffer``).
    n_steps : int, default=1
        Horizon of n-step returns (``NStepReplayBuffer`` when > 1).
    policy_kwargs : dict, default=None
        Extra arguments of the policy.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    verbose : int, default=0
        Verbosity.
    device : str or torch.device, default="auto"
        Device of the networks.
    support_multi_env : bool, default=False
        Whether the algorithm accepts several environments.
    monitor_wrapper : bool, default=True
        Wrap a single env in SB3's ``Monitor``.
    seed : int, default=None
        Seed (python, numpy, torch, action space, environment).
    use_sde : bool, default=False
        Generalised state-dependent exploration (policies that support it).
    sde_sample_freq : int, default=-1
        Resample the gSDE noise every this many steps (-1: once per rollout).
    use_sde_at_warmup : bool, default=False
        Use gSDE instead of uniform sampling during warm-up.
    sde_support : bool, default=True
        Whether the algorithm supports gSDE.
    supported_action_spaces : tuple of type, default=None
        Action spaces the algorithm accepts (``None``: Box and Discrete).

    Attributes
    ----------
    replay_buffer : ReplayBuffer
        The experience replay.
    train_freq : stable_baselines3.common.type_aliases.TrainFreq
        The training frequency (converted by ``_setup_model``).
    action_noise : stable_baselines3.common.noise.ActionNoise or None
        The exploration noise.

    Notes
    -----
    One iteration of :meth:`learn` collects ``train_freq`` steps (or episodes) with
    the behaviour policy, storing :math:`(s, a, r, s', d)` for every env, then, once
    more than ``learning_starts`` steps were taken, performs ``gradient_steps`` updates
    on minibatches sampled uniformly from the buffer (chapter 31: experience replay).
    Box actions are stored scaled to :math:`[-1, 1]`,
    :math:`\\tilde a = 2 (a - l) / (h - l) - 1`, with the exploration noise added
    in that space.
    """

    policy_aliases = {}

    def __init__(self, policy, env, learning_rate, buffer_size=1_000_000, learning_starts=100,
                 batch_size=256, tau=0.005, gamma=0.99, train_freq=(1, "step"),
                 gradient_steps=1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs=None, optimize_memory_usage=False, n_steps=1,
                 policy_kwargs=None, stats_window_size=100, tensorboard_log=None, verbose=0,
                 device="auto", support_multi_env=False, monitor_wrapper=True, seed=None,
                 use_sde=False, sde_sample_freq=-1, use_sde_at_warmup=False, sde_support=True,
                 supported_action_spaces=None):
        if supported_action_spaces is not None:
            # instance attribute: checked by BaseAlgorithm when the env is attached
            self.supported_action_spaces = tuple(supported_action_spaces)
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         verbose=verbose, device=device, support_multi_env=support_multi_env,
                         monitor_wrapper=monitor_wrapper, seed=seed)
        check_int(buffer_size, "buffer_size", 1)
        check_int(learning_starts, "learning_starts", 0)
        check_int(batch_size, "batch_size", 1)
        check_real(tau, "tau", 0, 1)
        check_real(gamma, "gamma", 0, 1)
        check_int(gradient_steps, "gradient_steps", -1)
        check_int(n_steps, "n_steps", 1)
        if isinstance(action_noise, dict) and _NOISE_MARK in action_noise:
            # written by save(): SB3's noise classes are stored by their parameters
            action_noise = _noise_from_spec(action_noise)
            if "action_noise" in getattr(self, "_init_params", {}):
                self._init_params["action_noise"] = action_noise
        if action_noise is not None and not isinstance(action_noise, ActionNoise):
            raise TypeError(
                "action_noise must be a stable_baselines3.common.noise.ActionNoise or None, "
                f"got {type(action_noise).__name__}.")
        replay_buffer_class = _map_sb3_buffer_class(replay_buffer_class)
        if "replay_buffer_class" in getattr(self, "_init_params", {}):
            self._init_params["replay_buffer_class"] = replay_buffer_class
        if replay_buffer_class is not None and not (
                isinstance(replay_buffer_class, type)
                and issubclass(replay_buffer_class, ReplayBuffer)):
            raise TypeError(
                "replay_buffer_class must be a subclass of "
                f"mlnotes.rl.common.replay_buffer.ReplayBuffer, got {replay_buffer_class!r}.")
        if replay_buffer_kwargs is not None and not isinstance(replay_buffer_kwargs, dict):
            raise TypeError("replay_buffer_kwargs must be a dict or None.")
        if use_sde and not sde_support:
            raise ValueError(f"{type(self).__name__} does not support gSDE (use_sde=True).")
        self.buffer_size, self.batch_size = int(buffer_size), int(batch_size)
        self.learning_starts = int(learning_starts)
        self.tau, self.gamma = float(tau), float(gamma)
        self.gradient_steps = int(gradient_steps)
        self.action_noise = action_noise
        self.optimize_memory_usage = bool(optimize_memory_usage)
        self.replay_buffer = None
        self.replay_buffer_class = replay_buffer_class
        self.replay_buffer_kwargs = dict(replay_buffer_kwargs or {})
        strategy = self.replay_buffer_kwargs.get("goal_selection_strategy")
        if strategy is not None and not isinstance(strategy, str):
            # SB3's GoalSelectionStrategy member -> its name (storable in a save file)
            self.replay_buffer_kwargs["goal_selection_strategy"] = str(
                getattr(strategy, "name", strategy)).lower()
            if "replay_buffer_kwargs" in getattr(self, "_init_params", {}):
                self._init_params["replay_buffer_kwargs"] = dict(self.replay_buffer_kwargs)
        self.n_steps = int(n_steps)
        self.train_freq = convert_train_freq(train_freq)
        self.use_sde = bool(use_sde)
        self.sde_sample_freq = int(sde_sample_freq)
        self.use_sde_at_warmup = bool(use_sde_at_warmup)
        if sde_support and self.use_sde:
            self.policy_kwargs["use_sde"] = True

    # ------------------------------------------------------------------ setup

    def _attach_env(self, env):
        if (isinstance(env.observation_space, spaces.Dict)
                and "MultiInputPolicy" in self.policy_aliases
                and not getattr(self.policy_class, "supports_dict_observations", False)):
            raise ValueError(
                f"{type(self).__name__} needs \"MultiInputPolicy\" for the Dict observation "
                f"space {env.observation_space}, not {self.policy_class.__name__} (as SB3).")
        super()._attach_env(env)

    def _make_replay_buffer(self):
        klass, kwargs = self.replay_buffer_class, dict(self.replay_buffer_kwargs)
        if klass is not None and issubclass(klass, HerReplayBuffer):
            if self.n_steps > 1:
                raise ValueError("n_steps > 1 is not supported with HerReplayBuffer.")
            kwargs["env"] = self.env  # computes the rewards of relabelled goals (as SB3)
        if klass is None and isinstance(self.observation_space, spaces.Dict):
            if self.n_steps > 1:
                raise ValueError("n_steps > 1 (NStepReplayBuffer) does not support Dict "
                                 "observation spaces.")
            klass = DictReplayBuffer  # as SB3
        if klass is None:
            if self.n_steps > 1:
                klass = NStepReplayBuffer
                kwargs.update(n_steps=self.n_steps, gamma=self.gamma)
            else:
                klass = ReplayBuffer
        return klass(self.buffer_size, self.observation_space, self.action_space,
                     device=self.device, n_envs=self.n_envs,
                     optimize_memory_usage=self.optimize_memory_usage, **kwargs)

    def _setup_model(self):
        self.lr_schedule = get_schedule_fn(self.learning_rate)
        self.set_random_seed(self.seed)
        if self.replay_buffer is None:
            self.replay_buffer = self._make_replay_buffer()
        kwargs = dict(self._default_policy_kwargs(), **self.policy_kwargs)
        self.policy = self.policy_class(self.observation_space, self.action_space,
                                        self.lr_schedule, **kwargs).to(self.device)
        self.train_freq = convert_train_freq(self.train_freq)
        if isinstance(self.action_space, spaces.Box):
            self._action_low = np.asarray(self.action_space.low, dtype=np.float64)
            self._action_high = np.asarray(self.action_space.high, dtype=np.float64)
            if not (np.all(np.isfinite(self._action_low))
                    and np.all(np.isfinite(self._action_high))):
                raise ValueError(
                    f"{type(self).__name__} needs a bounded Box action space, got "
                    f"{self.action_space!r}.")

    def _default_policy_kwargs(self):
        """Policy arguments the algorithm sets unless the user gave them."""
        return {}

    # ------------------------------------------------------------------ actions

    def scale_action(self, action):
        """Map Box actions from ``[low, high]`` to ``[-1, 1]``.

        Parameters
        ----------
        action : numpy.ndarray
            Actions within the bounds of the action space.

        Returns
        -------
        scaled_action : numpy.ndarray
            :math:`2 (a - l) / (h - l) - 1`.
        """
        low, high = self._action_low, self._action_high
        return (2.0 * ((action - low) / (high - low)) - 1.0).astype(np.float32)

    def unscale_action(self, scaled_action):
        """Map Box actions from ``[-1, 1]`` back to ``[low, high]``.

        Parameters
        ----------
        scaled_action : numpy.ndarray
            Actions in ``[-1, 1]``.

        Returns
        -------
        action : numpy.ndarray
            :math:`l + (\\tilde a + 1)(h - l) / 2`, in the action space's dtype.
        """
        low, high = self._action_low, self._action_high
        return (low + 0.5 * (scaled_action + 1.0) * (high - low)).astype(self.action_space.dtype)

    def _policy_actions(self, observation):
        """Exploration actions of the policy for a batch of observations (env units)."""
        return self.predict(observation, deterministic=False)[0]

    def _sample_action(self, learning_starts, action_noise=None, n_envs=1):
        """Exploration action for every env, as SB3.

        Parameters
        ----------
        learning_starts : int
            Uniformly random actions while ``num_timesteps < learning_starts``.
        action_noise : ActionNoise, default=None
            Noise added to the scaled Box action.
        n_envs : int, default=1
            Number of environments.

        Returns
        -------
        action : numpy.ndarray
            Actions to send to the environments.
        buffer_action : numpy.ndarray
            Actions to store (scaled to [-1, 1] for Box spaces).
        """
        if self.num_timesteps < learning_starts and not (self.use_sde and self.use_sde_at_warmup):
            action = np.array([self.action_space.sample() for _ in range(n_envs)])
        else:
            action = self._policy_actions(self._last_obs)
        if isinstance(self.action_space, spaces.Box):
            scaled = self.scale_action(action)
            if action_noise is not None:
                scaled = np.clip(scaled + action_noise(), -1, 1).astype(np.float32)
            return self.unscale_action(scaled), scaled
        return action, action

    # ------------------------------------------------------------------ training

    @abstractmethod
    def train(self, gradient_steps, batch_size):
        """Sample the replay buffer and update the networks (each algorithm's loss).

        Parameters
        ----------
        gradient_steps : int
            Number of gradient steps.
        batch_size : int
            Minibatch size.
        """

    def _on_step(self):
        """Called after every environment step (DQN: target update, exploration rate)."""

    def _check_finite_loss(self, loss, name="loss"):
        """Raise ``FloatingPointError`` naming ``name`` when ``loss`` is not finite."""
        if not bool(torch.isfinite(loss)):
            raise FloatingPointError(
                f"{type(self).__name__} training diverged: {name} is {loss.item()} at "
                f"update {self._n_updates} ({self.num_timesteps} steps). Lower the "
                "learning rate or check the environment's rewards and observations."
            )

    def _store_transition(self, replay_buffer, buffer_action, new_obs, reward, dones, infos):
        """Store one step, with the true final observation of finished episodes."""
        vec_normalize = self._vec_normalize_env
        if vec_normalize is not None:
            original_new_obs = vec_normalize.get_original_obs()
            next_obs, reward_ = original_new_obs, vec_normalize.get_original_reward()
        else:
            self._last_original_obs, next_obs, reward_ = self._last_obs, new_obs, reward
        if dones.any():
            is_dict = isinstance(next_obs, dict)
            next_obs = ({k: np.array(v, copy=True) for k, v in next_obs.items()} if is_dict
                        else np.array(next_obs, copy=True))
            for i in np.flatnonzero(dones):
                terminal = infos[i].get("terminal_observation")
                if terminal is not None:
                    if vec_normalize is not None:
                        terminal = vec_normalize.unnormalize_obs(terminal)
                    if is_dict:
                        for key in next_obs:
                            next_obs[key][i] = terminal[key]
                    else:
                        next_obs[i] = terminal
        replay_buffer.add(self._last_original_obs, next_obs, buffer_action, reward_, dones,
                          infos)
        self._last_obs = new_obs
        if vec_normalize is not None:
            self._last_original_obs = original_new_obs

    def collect_rollouts(self, env, callback, train_freq, replay_buffer, action_noise=None,
                         learning_starts=0, log_interval=None):
        """Collect ``train_freq`` steps or episodes into ``replay_buffer``.

        Parameters
        ----------
        env : stable_baselines3.common.vec_env.VecEnv
            The training environment.
        callback : stable_baselines3.common.callbacks.BaseCallback
            Called at every step (with ``locals`` updated) and around the rollout.
        train_freq : stable_baselines3.common.type_aliases.TrainFreq
            How much to collect.
        replay_buffer : ReplayBuffer
            The storage.
        action_noise : ActionNoise, default=None
            Exploration noise of Box actions.
        learning_starts : int, default=0
            Uniformly random actions before this many steps.
        log_interval : int, default=None
            Dump the logs every this many episodes.

        Returns
        -------
        rollout : stable_baselines3.common.type_aliases.RolloutReturn
            Steps collected (summed over envs), episodes, and ``continue_training``.
        """
        self.policy.set_training_mode(False)
        n_envs = env.num_envs
        if n_envs > 1 and train_freq.unit is not TrainFrequencyUnit.STEP:
            raise ValueError("train_freq in episodes needs a single environment.")
        if self.use_sde:
            self.actor.reset_noise(n_envs)
        by_step = train_freq.unit is TrainFrequencyUnit.STEP
        frequency = train_freq.frequency
        num_collected_steps = num_collected_episodes = 0
        callback.on_rollout_start()
        while (num_collected_steps if by_step else num_collected_episodes) < frequency:
            if self.use_sde and self.sde_sample_freq > 0 \
                    and num_collected_steps % self.sde_sample_freq == 0:
                self.actor.reset_noise(n_envs)
            actions, buffer_actions = self._sample_action(learning_starts, action_noise,
                                                          n_envs)
            new_obs, rewards, dones, infos = env.step(actions)
            self.num_timesteps += n_envs
            num_collected_steps += 1
            callback.update_locals(locals())
            if not callback.on_step():
                return RolloutReturn(num_collected_steps * n_envs, num_collected_episodes,
                                     continue_training=False)
            self._update_info_buffer(infos, dones)
            self._store_transition(replay_buffer, buffer_actions, new_obs, rewards, dones,
                                   infos)
            self._current_progress_remaining = \
                1.0 - float(self.num_timesteps) / float(self._total_timesteps)
            self._on_step()
            if dones.any():
                for idx in np.flatnonzero(dones):
                    num_collected_episodes += 1
                    self._episode_num += 1
                    if action_noise is not None:
                        action_noise.reset(**({"indices": [idx]} if n_envs > 1 else {}))
                    if log_interval is not None and self._episode_num % log_interval == 0:
                        self.dump_logs()
        callback.on_rollout_end()
        return RolloutReturn(num_collected_steps * n_envs, num_collected_episodes, True)

    def _setup_learn(self, total_timesteps, callback=None, reset_num_timesteps=True,
                     tb_log_name="run", progress_bar=False):
        buf = self.replay_buffer
        if (self.optimize_memory_usage and reset_num_timesteps and buf is not None
                and (buf.full or buf.pos > 0)):
            # the next observation of the last stored step would be the new episode's first
            warnings.warn(
                "The last trajectory in the replay buffer will be truncated: with "
                "optimize_memory_usage=True the next observation of its last step is the "
                "first of the new learn() call, so that step is marked as an episode end. "
                "Pass reset_num_timesteps=False to continue the trajectory instead.",
                UserWarning, stacklevel=3)
            buf.dones[(buf.pos - 1) % buf.buffer_size] = True
        if self.env is not None and buf is not None and buf.n_envs != self.env.num_envs:
            raise ValueError(
                f"The replay buffer holds {buf.n_envs} envs but the environment has "
                f"{self.env.num_envs}.")
        if (self.action_noise is not None and self.env is not None and self.env.num_envs > 1
                and not isinstance(self.action_noise, VectorizedActionNoise)):
            self.action_noise = VectorizedActionNoise(self.action_noise, self.env.num_envs)
        return super()._setup_learn(total_timesteps, callback, reset_num_timesteps,
                                    tb_log_name, progress_bar)

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="run",
              reset_num_timesteps=True, progress_bar=False):
        """Alternate collection and training until ``total_timesteps`` steps were taken.

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=4
            Episodes between log dumps (``None``: never).
        tb_log_name : str, default="run"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : OffPolicyAlgorithm
            The trained agent.
        """
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())
        while self.num_timesteps < total_timesteps:
            rollout = self.collect_rollouts(
                self.env, train_freq=self.train_freq, action_noise=self.action_noise,
                callback=callback, learning_starts=self.learning_starts,
                replay_buffer=self.replay_buffer, log_interval=log_interval)
            if not rollout.continue_training:
                break
            if self.num_timesteps > 0 and self.num_timesteps > self.learning_starts:
                gradient_steps = (self.gradient_steps if self.gradient_steps >= 0
                                  else rollout.episode_timesteps)
                if gradient_steps > 0:
                    self.train(batch_size=self.batch_size, gradient_steps=gradient_steps)
        callback.on_training_end()
        return self

    def dump_logs(self, iteration=0):
        """Record the episode, rollout and time statistics and write them out.

        Parameters
        ----------
        iteration : int, default=0
            Unused by the off-policy loop (kept for the base signature).
        """
        self.logger.record("time/episodes", self._episode_num, exclude="tensorboard")
        if self.use_sde and hasattr(self, "actor") and hasattr(self.actor, "get_std"):
            self.logger.record("train/std", self.actor.get_std().mean().item())
        super().dump_logs(iteration)

    # ------------------------------------------------------------------ save

    def save(self, path, exclude=None, include=None):
        """Write the agent to one zip file (JSON hyperparameters + torch tensors).

        SB3's action-noise classes (``NormalActionNoise``,
        ``OrnsteinUhlenbeckActionNoise``, ``VectorizedActionNoise``) are stored by their
        parameters; any other noise object must be passed to ``load`` in
        ``custom_objects``. The replay buffer is saved separately
        (:meth:`save_replay_buffer`), as in SB3.

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            Destination; ``.zip`` is appended to a path without that suffix.
        exclude : list of str, default=None
            Accepted for SB3 compatibility.
        include : list of str, default=None
            Accepted for SB3 compatibility.
        """
        params = self._init_params
        noise = params.get("action_noise")
        spec = _noise_to_spec(noise) if noise is not None else None
        if spec is not None:
            params["action_noise"] = spec
        try:
            super().save(path, exclude=exclude, include=include)
        finally:
            if spec is not None:
                params["action_noise"] = noise

    # ------------------------------------------------------------------ replay buffer I/O

    def save_replay_buffer(self, path):
        """Write the replay buffer to a ``.npz`` file (arrays + JSON header, no pickle).

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            Destination; missing folders are created.
        """
        if self.replay_buffer is None:
            raise ValueError("The replay buffer is not defined.")
        self.replay_buffer.save(path)

    def load_replay_buffer(self, path, truncate_last_traj=True):
        """Load a replay buffer written by :meth:`save_replay_buffer`.

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            The file.
        truncate_last_traj : bool, default=True
            For a :class:`~mlnotes.rl.common.her_replay_buffer.HerReplayBuffer`: close
            the episodes that were running when it was saved (their last step becomes
            a time-limit end), as SB3; pass ``False`` to continue them. Other buffers
            store independent transitions and ignore it.

        Raises
        ------
        ValueError
            When the file is not a replay buffer or its spaces differ from the agent's.
        """
        buf = ReplayBuffer.load(path, device=self.device)
        if self.observation_space is not None and buf.observation_space != self.observation_space:
            raise ValueError(
                f"The replay buffer's observation space {buf.observation_space} differs from "
                f"the agent's {self.observation_space}.")
        if self.action_space is not None and buf.action_space != self.action_space:
            raise ValueError(
                f"The replay buffer's action space {buf.action_space} differs from the "
                f"agent's {self.action_space}.")
        if isinstance(buf, HerReplayBuffer):
            if self.env is None:
                raise ValueError("Loading a HerReplayBuffer needs the agent's env (its "
                                 "compute_reward): pass env when loading the agent.")
            buf.set_env(self.env)
            if truncate_last_traj:
                buf.truncate_last_trajectory()
        self.replay_buffer = buf


__all__ = ["OffPolicyAlgorithm", "polyak_update", "hard_update", "convert_train_freq"]
