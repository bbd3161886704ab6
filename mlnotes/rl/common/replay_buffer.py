"""Replay storage of the off-policy agents (DQN, SAC, TD3, DDPG).

Contract (for the algorithm files built on it)
----------------------------------------------
``ReplayBuffer(buffer_size, observation_space, action_space, device="auto", n_envs=1,
optimize_memory_usage=False, handle_timeout_termination=True)``, Stable-Baselines3's
signature and semantics:

- storage is preallocated numpy, time first: ``observations[t, env]``; it holds
  ``max(buffer_size // n_envs, 1)`` steps of every env and overwrites the oldest step
  once full (``pos``, ``full``);
- ``add(obs, next_obs, action, reward, done, infos)`` stores one vectorised step:
  ``obs``/``next_obs`` ``(n_envs,) + obs_shape`` (``next_obs`` is the *true* next
  observation: the loop puts ``infos[i]["terminal_observation"]`` there when env ``i``
  was reset), ``action`` ``(n_envs, action_dim)`` as the algorithm wants to learn from
  it (Box actions scaled to [-1, 1] by
  :class:`~mlnotes.rl.common.off_policy_algorithm.OffPolicyAlgorithm`), ``reward`` and
  ``done`` ``(n_envs,)``; ``infos[i]["TimeLimit.truncated"]`` marks a time-limit end;
- ``sample(batch_size, env=None)`` draws uniformly (numpy's global RNG, seeded by the
  agent's ``seed`` as in SB3) and returns :class:`ReplayBufferSamples` of tensors on
  ``device``: ``observations`` ``(B,) + obs_shape``, ``actions`` ``(B, action_dim)``
  (``int64`` for Discrete, ``float32`` for Box), ``next_observations``,
  ``dones`` ``(B, 1)`` float, **0 for a time-limit truncation** (so the target
  bootstraps from the stored true final observation) and 1 only for a real
  termination, ``rewards`` ``(B, 1)`` float, and ``discounts`` (``None``, or ``(B, 1)``
  per-sample bootstrap discounts for :class:`NStepReplayBuffer`). The Bellman target
  is ``rewards + (1 - dones) * discounts_or_gamma * V(next_observations)``;
- ``env``: a ``VecNormalize`` whose ``normalize_obs``/``normalize_reward`` are
  applied at sampling time (raw values are stored);
- ``save(path)`` / ``ReplayBuffer.load(path, device)``: one ``.npz`` of arrays plus a
  JSON header, read with ``allow_pickle=False`` (no code from the file runs).
"""

import json
import pathlib
import warnings
from typing import NamedTuple, Optional

import numpy as np
import torch
from gymnasium import spaces

from . import save_util

_FORMAT = "mlnotes-replay-buffer"
_FORMAT_VERSION = 1
_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def _available_memory():
    """Bytes of memory available now (``None`` when psutil is not installed)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil ships with the rl extra
        return None
    return psutil.virtual_memory().available


def _warn_if_too_large(buffer, arrays):
    """Warn, as SB3, when the preallocated arrays (lazily committed by the OS) would not
    fit in the memory available now once filled."""
    available = _available_memory()
    if available is None:
        return
    total = sum(a.nbytes for a in arrays if a is not None)
    if total > available:
        warnings.warn(
            f"The replay buffer of {type(buffer).__name__} needs {total / 1e9:.2f} GB once "
            f"full but only {available / 1e9:.2f} GB of memory are available: it may not "
            "fit (lower buffer_size, or set optimize_memory_usage=True).", UserWarning,
            stacklevel=4)


class ReplayBufferSamples(NamedTuple):
    """One batch of transitions drawn from a replay buffer (tensors).

    Parameters
    ----------
    observations : torch.Tensor of shape (batch,) + obs_shape
        States :math:`s`.
    actions : torch.Tensor of shape (batch, action_dim)
        Actions :math:`a` as stored (``int64`` indices for Discrete, Box actions in
        [-1, 1]).
    next_observations : torch.Tensor of shape (batch,) + obs_shape
        Next states :math:`s'` (the true final observation at an episode end).
    dones : torch.Tensor of shape (batch, 1)
        1.0 where :math:`s'` is terminal (no bootstrap), 0.0 otherwise, including
        time-limit truncations.
    rewards : torch.Tensor of shape (batch, 1)
        Rewards (the discounted n-step sums for :class:`NStepReplayBuffer`).
    discounts : torch.Tensor of shape (batch, 1) or None, default=None
        Per-sample bootstrap discount :math:`\\gamma^k` (n-step buffers only).
    """

    observations: torch.Tensor
    actions: torch.Tensor
    next_observations: torch.Tensor
    dones: torch.Tensor
    rewards: torch.Tensor
    discounts: Optional[torch.Tensor] = None


def _resolve_device(device):
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def _obs_shape(space):
    if isinstance(space, spaces.Discrete):
        return (1,)
    if isinstance(space, (spaces.Box, spaces.MultiBinary)):
        return tuple(space.shape)
    raise ValueError(
        "ReplayBuffer supports Box, Discrete and MultiBinary observation spaces, got "
        f"{space!r}.")


def _action_dim(space):
    if isinstance(space, spaces.Discrete):
        return 1
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    raise ValueError(f"ReplayBuffer supports Box and Discrete action spaces, got {space!r}.")


def _storage_dtype(dtype):
    # float64 spaces are stored as float32, as SB3 does
    return np.float32 if np.dtype(dtype) == np.float64 else np.dtype(dtype)


def _obs_storage_dtype(space):
    # MultiBinary bits are stored as float32 (the policies read them as floats)
    if isinstance(space, spaces.MultiBinary):
        return np.float32
    return _storage_dtype(space.dtype)


class ReplayBuffer:
    """Uniform experience replay with time-limit-aware ``dones`` (SB3's ``ReplayBuffer``).

    Parameters
    ----------
    buffer_size : int
        Transitions kept (over all envs); the oldest are overwritten.
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    device : str or torch.device, default="auto"
        Device of the sampled tensors.
    n_envs : int, default=1
        Number of parallel environments (one ``add`` stores one step of each).
    optimize_memory_usage : bool, default=False
        Store each observation once: the next observation of step ``t`` is read from
        ``observations[t + 1]`` (halves the memory). As in SB3, the true final
        observation of an episode is then overwritten by the next episode's first one,
        so time-limit ends bootstrap from the wrong state; incompatible with
        ``handle_timeout_termination=True``.
    handle_timeout_termination : bool, default=True
        Treat a time-limit end (``infos[i]["TimeLimit.truncated"]``) as non-terminal:
        its sampled ``done`` is 0.

    Attributes
    ----------
    observations, next_observations : numpy.ndarray of shape (size, n_envs) + obs_shape
        Stored observations (``next_observations`` is ``None`` with
        ``optimize_memory_usage``).
    actions : numpy.ndarray of shape (size, n_envs, action_dim)
        Stored actions.
    rewards, dones, timeouts : numpy.ndarray of shape (size, n_envs)
        Rewards, episode ends, time-limit ends (``float32``).
    buffer_size : int
        Steps stored per environment, ``max(buffer_size // n_envs, 1)``.
    pos : int
        Next write position.
    full : bool
        Whether the buffer has wrapped around.

    Notes
    -----
    Chapter 31 of the notes (experience replay). Sampling uniformly from the last
    ``buffer_size`` transitions decorrelates the minibatches of the Q-learning update.
    A transition whose episode ended by a time limit was not terminal in the
    underlying MDP, so its target keeps the bootstrap term:

    .. math::

        y = r + \\gamma (1 - d) \\max_{a'} Q(s', a'), \\qquad
        d = \\text{terminated} \\land \\lnot \\text{truncated},

    with :math:`s'` the true final observation, not the reset observation that a
    vectorised env returns.

    Examples
    --------
    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> from mlnotes.rl.common.replay_buffer import ReplayBuffer
    >>> buf = ReplayBuffer(100, spaces.Box(-1, 1, (3,)), spaces.Discrete(2), device="cpu")
    >>> obs = np.zeros((1, 3), dtype=np.float32)
    >>> buf.add(obs, obs + 1, np.array([1]), np.array([0.5]), np.array([True]),
    ...         [{"TimeLimit.truncated": True}])
    >>> batch = buf.sample(4)
    >>> batch.rewards.shape, float(batch.dones.max())
    (torch.Size([4, 1]), 0.0)
    """

    def __init__(self, buffer_size, observation_space, action_space, device="auto", n_envs=1,
                 optimize_memory_usage=False, handle_timeout_termination=True):
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) \
                or buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive int, got {buffer_size!r}.")
        if isinstance(n_envs, bool) or not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive int, got {n_envs!r}.")
        self.observation_space, self.action_space = observation_space, action_space
        self.obs_shape = _obs_shape(observation_space)
        self.action_dim = _action_dim(action_space)
        self.n_envs = int(n_envs)
        self.buffer_size = max(int(buffer_size) // self.n_envs, 1)
        self.device = _resolve_device(device)
        self.pos, self.full = 0, False
        self.optimize_memory_usage = bool(optimize_memory_usage)
        if self.optimize_memory_usage and handle_timeout_termination:
            raise ValueError(
                "ReplayBuffer does not support optimize_memory_usage=True and "
                "handle_timeout_termination=True at the same time (the final observation "
                "of a truncated episode is overwritten); set "
                "replay_buffer_kwargs=dict(handle_timeout_termination=False).")
        self.handle_timeout_termination = bool(handle_timeout_termination)
        size, n = self.buffer_size, self.n_envs
        obs_dtype = _obs_storage_dtype(observation_space)
        self.observations = np.zeros((size, n, *self.obs_shape), dtype=obs_dtype)
        self.next_observations = (None if self.optimize_memory_usage
                                  else np.zeros((size, n, *self.obs_shape), dtype=obs_dtype))
        act_dtype = (np.int64 if isinstance(action_space, spaces.Discrete)
                     else _storage_dtype(action_space.dtype))
        self.actions = np.zeros((size, n, self.action_dim), dtype=act_dtype)
        self.rewards = np.zeros((size, n), dtype=np.float32)
        self.dones = np.zeros((size, n), dtype=np.float32)
        self.timeouts = np.zeros((size, n), dtype=np.float32)
        _warn_if_too_large(self, [self.observations, self.next_observations, self.actions,
                                  self.rewards, self.dones, self.timeouts])

    # ------------------------------------------------------------------ storage

    def extend(self, *args):
        """Store several vectorised steps: :meth:`add` on each row (SB3's ``extend``).

        Parameters
        ----------
        *args : sequences
            ``obs, next_obs, action, reward, done, infos``, each with one entry per
            step (the first axis), as :meth:`add` takes them.
        """
        if len({len(a) for a in args}) > 1:
            raise ValueError("extend() needs arguments of the same length (one entry per "
                             f"step), got lengths {[len(a) for a in args]}.")
        for data in zip(*args):
            self.add(*data)

    def size(self):
        """Number of steps stored per environment.

        Returns
        -------
        size : int
            ``buffer_size`` once full, else ``pos``.
        """
        return self.buffer_size if self.full else self.pos

    def reset(self):
        """Forget every stored transition (the arrays are kept)."""
        self.pos, self.full = 0, False

    def add(self, obs, next_obs, action, reward, done, infos):
        """Store one vectorised step.

        Parameters
        ----------
        obs : numpy.ndarray of shape (n_envs,) + obs_shape
            Observations the actions were taken in.
        next_obs : numpy.ndarray of shape (n_envs,) + obs_shape
            True next observations (the final observation at an episode end).
        action : numpy.ndarray of shape (n_envs, action_dim) or (n_envs,)
            Actions (Box actions scaled to [-1, 1] by the off-policy loop).
        reward : numpy.ndarray of shape (n_envs,)
            Rewards.
        done : numpy.ndarray of shape (n_envs,)
            Episode ends (termination or truncation).
        infos : list of dict
            Per-env info dicts; ``"TimeLimit.truncated"`` marks a time-limit end.
        """
        pos, n = self.pos, self.n_envs
        self.observations[pos] = np.asarray(obs).reshape((n, *self.obs_shape))
        if self.optimize_memory_usage:
            self.observations[(pos + 1) % self.buffer_size] = \
                np.asarray(next_obs).reshape((n, *self.obs_shape))
        else:
            self.next_observations[pos] = np.asarray(next_obs).reshape((n, *self.obs_shape))
        self._store_step(action, reward, done, infos)

    def _store_step(self, action, reward, done, infos):
        """The observation-free part of :meth:`add` at ``pos``; then ``pos`` advances."""
        pos, n = self.pos, self.n_envs
        self.actions[pos] = np.asarray(action).reshape((n, self.action_dim))
        self.rewards[pos] = reward
        self.dones[pos] = done
        if self.handle_timeout_termination:
            self.timeouts[pos] = np.array([info.get("TimeLimit.truncated", False)
                                           for info in infos], dtype=np.float32).reshape(n)
        pos += 1
        if pos == self.buffer_size:
            self.full, pos = True, 0
        self.pos = pos

    # ------------------------------------------------------------------ sampling

    def _batch_indices(self, batch_size):
        if self.optimize_memory_usage and self.full:
            # position pos holds the next observation of pos - 1 only: skip it
            return (np.random.randint(1, self.buffer_size, size=batch_size) + self.pos) \
                % self.buffer_size
        upper = self.buffer_size if self.full else self.pos
        if upper == 0:
            raise ValueError("Cannot sample from an empty replay buffer.")
        return np.random.randint(0, upper, size=batch_size)

    def sample(self, batch_size, env=None):
        """Draw ``batch_size`` transitions uniformly (with replacement).

        Parameters
        ----------
        batch_size : int
            Number of transitions.
        env : stable_baselines3.common.vec_env.VecNormalize, default=None
            Normalises the sampled observations and rewards when given.

        Returns
        -------
        samples : ReplayBufferSamples
            The batch as tensors on ``device``.
        """
        batch_inds = self._batch_indices(batch_size)
        env_inds = (np.random.randint(0, self.n_envs, size=batch_size) if self.n_envs > 1
                    else np.zeros(batch_size, dtype=np.int64))
        return self._get_samples(batch_inds, env_inds, env)

    def _flat(self, array, flat_inds):
        # one gather on the (size * n_envs, ...) view: faster than two fancy indices
        return array.reshape((self.buffer_size * self.n_envs, *array.shape[2:]))[flat_inds]

    def _sampled_observations(self, batch_inds, env_inds, flat):
        """``(obs, next_obs)`` of the sampled transitions, as numpy copies."""
        obs = self._flat(self.observations, flat)
        if self.optimize_memory_usage:
            next_flat = ((batch_inds + 1) % self.buffer_size) * self.n_envs + env_inds
            return obs, self._flat(self.observations, next_flat)
        return obs, self._flat(self.next_observations, flat)

    def _observations_to_torch(self, obs):
        return self.to_torch(obs)

    def _relabel(self, batch_inds, env_inds, obs, next_obs, rewards):
        """Hook between gathering and normalising a batch (HER relabels goals here);
        the arrays are copies, changed in place."""

    def _get_samples(self, batch_inds, env_inds, env=None):
        # one implementation for the Box, Dict and HER buffers: the Dict buffer swaps
        # the observation gather/conversion, HER adds its relabelling
        flat = batch_inds * self.n_envs + env_inds
        obs, next_obs = self._sampled_observations(batch_inds, env_inds, flat)
        rewards = self._flat(self.rewards, flat)
        self._relabel(batch_inds, env_inds, obs, next_obs, rewards)
        dones = self._flat(self.dones, flat)
        if self.handle_timeout_termination:
            dones = dones * (1.0 - self._flat(self.timeouts, flat))
        if env is not None:
            obs, next_obs = env.normalize_obs(obs), env.normalize_obs(next_obs)
            rewards = np.asarray(env.normalize_reward(rewards), dtype=np.float32)
        return ReplayBufferSamples(
            self._observations_to_torch(obs), self.to_torch(self._flat(self.actions, flat)),
            self._observations_to_torch(next_obs), self.to_torch(dones.reshape(-1, 1)),
            self.to_torch(rewards.reshape(-1, 1)))

    def to_torch(self, array):
        """Convert a sampled numpy array to a tensor on ``device``.

        Parameters
        ----------
        array : numpy.ndarray
            A freshly gathered array (not a view of the storage).

        Returns
        -------
        tensor : torch.Tensor
            The tensor (shares memory with ``array`` on the CPU).
        """
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        return tensor if self.device.type == "cpu" else tensor.to(self.device)

    # ------------------------------------------------------------------ save / load

    def _header(self):
        return {
            "format": _FORMAT, "version": _FORMAT_VERSION,
            "class": type(self).__name__,
            "observation_space": save_util.encode_space(self.observation_space),
            "action_space": save_util.encode_space(self.action_space),
            "buffer_size": self.buffer_size * self.n_envs, "n_envs": self.n_envs,
            "pos": int(self.pos), "full": bool(self.full),
            "optimize_memory_usage": self.optimize_memory_usage,
            "handle_timeout_termination": self.handle_timeout_termination,
            "extra": self._extra_kwargs(),
        }

    #: constructor arguments read back from the header's "extra" entry by load()
    _extra_init_keys = ()

    def _extra_kwargs(self):
        return {}

    def _check_loaded(self):
        """Validate the state read by :meth:`load` (subclasses with bookkeeping)."""

    def _stored_arrays(self):
        """The storage arrays by file name (Dict observations: one per key)."""
        return {name: getattr(self, name) for name in _ARRAYS
                if getattr(self, name) is not None}

    def save(self, path):
        """Write the buffer to one ``.npz`` file (arrays and a JSON header, no pickle).

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            Destination: ``.npz`` is appended to a path without a suffix; a path with
            one (e.g. the ``.pkl`` names of SB3's ``CheckpointCallback``) is written as
            given.
        """
        arrays = self._stored_arrays()
        header = np.array(json.dumps(self._header()))
        if isinstance(path, (str, pathlib.Path)):
            path = pathlib.Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix:
                with open(path, "wb") as fh:
                    np.savez(fh, header=header, **arrays)
                return
        np.savez(path, header=header, **arrays)

    @classmethod
    def load(cls, path, device="auto"):
        """Read a buffer written by :meth:`save`.

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            The file (``.npz`` may be omitted).
        device : str or torch.device, default="auto"
            Device of the sampled tensors.

        Returns
        -------
        buffer : ReplayBuffer
            The buffer, of the class named in the file (:class:`ReplayBuffer`,
            :class:`NStepReplayBuffer`, :class:`DictReplayBuffer` or
            :class:`~mlnotes.rl.common.her_replay_buffer.HerReplayBuffer`, whose env is
            then ``None`` until ``set_env``).

        Raises
        ------
        ValueError
            When the file is not a replay buffer written by :meth:`save` or its arrays
            do not fit its header.
        """
        if isinstance(path, (str, pathlib.Path)):
            path = pathlib.Path(path)
            if not path.exists() and path.with_suffix(path.suffix + ".npz").exists():
                path = path.with_suffix(path.suffix + ".npz")
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"][()]))
                arrays = {name: data[name] for name in data.files if name != "header"}
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"Not a replay buffer file written by save(): {exc}") from exc
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise ValueError("Not a replay buffer file written by ReplayBuffer.save().")
        from .her_replay_buffer import HerReplayBuffer
        classes = {"ReplayBuffer": ReplayBuffer, "NStepReplayBuffer": NStepReplayBuffer,
                   "DictReplayBuffer": DictReplayBuffer, "HerReplayBuffer": HerReplayBuffer}
        klass = classes.get(header.get("class"))
        if klass is None:
            raise ValueError(f"Unknown replay buffer class {header.get('class')!r} in file.")
        try:
            buf = klass(int(header["buffer_size"]),
                        save_util.decode_space(header["observation_space"]),
                        save_util.decode_space(header["action_space"]), device=device,
                        n_envs=int(header["n_envs"]),
                        optimize_memory_usage=bool(header["optimize_memory_usage"]),
                        handle_timeout_termination=bool(header["handle_timeout_termination"]),
                        **({"env": None} if getattr(klass, "_takes_env", False) else {}),
                        **{k: v for k, v in dict(header.get("extra", {})).items()
                           if k in klass._extra_init_keys})
            for name, target in buf._stored_arrays().items():
                array = arrays[name]
                if array.shape != target.shape or array.dtype != target.dtype:
                    raise ValueError(
                        f"array {name!r} has shape {array.shape} and dtype {array.dtype}, "
                        f"expected {target.shape} and {target.dtype}")
                target[...] = array
            buf.pos, buf.full = int(header["pos"]), bool(header["full"])
            if not 0 <= buf.pos < buf.buffer_size:
                raise ValueError(f"position {buf.pos} out of range")
            buf._check_loaded()
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Corrupted replay buffer file: {exc}") from exc
        return buf


class NStepReplayBuffer(ReplayBuffer):
    """Replay buffer returning n-step returns (SB3's ``NStepReplayBuffer``).

    Parameters
    ----------
    buffer_size : int
        Transitions kept (over all envs).
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    device : str or torch.device, default="auto"
        Device of the sampled tensors.
    n_envs : int, default=1
        Number of parallel environments.
    optimize_memory_usage : bool, default=False
        Not supported (raises ``ValueError`` when ``True``).
    handle_timeout_termination : bool, default=True
        Bootstrap at time-limit ends.
    n_steps : int, default=3
        Horizon :math:`n` of the returns.
    gamma : float, default=0.99
        Discount factor.

    Attributes
    ----------
    n_steps : int
        Horizon of the returns.
    gamma : float
        Discount factor.

    Notes
    -----
    For a sampled step :math:`t`, let :math:`k \\le n` be the number of steps up to and
    including the first episode end (or the newest stored step) within
    :math:`t, \\dots, t+n-1`. The sample holds

    .. math::

        R = \\sum_{i=0}^{k-1} \\gamma^i r_{t+i}, \\qquad s' = s_{t+k}, \\qquad
        \\text{discount} = \\gamma^k,

    with ``done`` the termination flag of step :math:`t+k-1` (0 at a time limit), so
    the target is :math:`R + \\text{discount}\\,(1-d)\\,\\max_{a'} Q(s', a')`.

    Examples
    --------
    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> from mlnotes.rl.common.replay_buffer import NStepReplayBuffer
    >>> buf = NStepReplayBuffer(10, spaces.Box(-1, 1, (1,)), spaces.Discrete(2),
    ...                         device="cpu", n_steps=2, gamma=0.5)
    >>> for t in range(3):
    ...     obs = np.full((1, 1), t, dtype=np.float32)
    ...     buf.add(obs, obs + 1, np.array([0]), np.array([1.0]), np.array([False]), [{}])
    >>> batch = buf._get_samples(np.array([0]), np.array([0]))
    >>> float(batch.rewards), float(batch.discounts), float(batch.next_observations)
    (1.5, 0.25, 2.0)
    """

    def __init__(self, buffer_size, observation_space, action_space, device="auto", n_envs=1,
                 optimize_memory_usage=False, handle_timeout_termination=True, n_steps=3,
                 gamma=0.99):
        if optimize_memory_usage:
            raise ValueError("NStepReplayBuffer does not support optimize_memory_usage=True.")
        super().__init__(buffer_size, observation_space, action_space, device=device,
                         n_envs=n_envs, optimize_memory_usage=False,
                         handle_timeout_termination=handle_timeout_termination)
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive int, got {n_steps!r}.")
        if not 0 <= gamma <= 1:
            raise ValueError(f"gamma must be in [0, 1], got {gamma!r}.")
        self.n_steps, self.gamma = int(n_steps), float(gamma)

    _extra_init_keys = ("n_steps", "gamma")

    def _extra_kwargs(self):
        return {"n_steps": self.n_steps, "gamma": self.gamma}

    def _get_samples(self, batch_inds, env_inds, env=None):
        n, size = self.n_steps, self.buffer_size
        idx = (batch_inds[:, None] + np.arange(n)) % size          # (B, n)
        env_col = env_inds[:, None]
        dones = self.dones[idx, env_col]
        timeouts = self.timeouts[idx, env_col] if self.handle_timeout_termination \
            else np.zeros_like(dones)
        # the newest stored step ends every window (the step after it is older data)
        stop = (dones > 0) | (timeouts > 0) | (idx == (self.pos - 1) % size)
        last = np.where(stop.any(axis=1), stop.argmax(axis=1), n - 1)   # (B,)
        mask = np.arange(n) <= last[:, None]
        rewards = self.rewards[idx, env_col]
        if env is not None:
            rewards = np.asarray(env.normalize_reward(rewards), dtype=np.float32)
        powers = self.gamma ** np.arange(n, dtype=np.float64)
        returns = (rewards * powers * mask).sum(axis=1).astype(np.float32)
        discounts = (self.gamma ** (last + 1.0)).astype(np.float32)
        end = (batch_inds + last) % size
        final_done = self.dones[end, env_inds]
        if self.handle_timeout_termination:
            final_done = final_done * (1.0 - self.timeouts[end, env_inds])
        obs = self.observations[batch_inds, env_inds]
        next_obs = self.next_observations[end, env_inds]
        if env is not None:
            obs, next_obs = env.normalize_obs(obs), env.normalize_obs(next_obs)
        return ReplayBufferSamples(
            self.to_torch(obs), self.to_torch(self.actions[batch_inds, env_inds]),
            self.to_torch(next_obs), self.to_torch(final_done.reshape(-1, 1)),
            self.to_torch(returns.reshape(-1, 1)), self.to_torch(discounts.reshape(-1, 1)))


class DictReplayBuffer(ReplayBuffer):
    """Replay buffer for Dict observations (SB3's ``DictReplayBuffer``).

    Parameters
    ----------
    buffer_size : int
        Transitions kept (over all envs); the oldest are overwritten.
    observation_space : gymnasium.spaces.Dict
        Dict of Box/Discrete observation spaces.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    device : str or torch.device, default="auto"
        Device of the sampled tensors.
    n_envs : int, default=1
        Number of parallel environments.
    optimize_memory_usage : bool, default=False
        Not supported (raises ``ValueError`` when ``True``, as SB3).
    handle_timeout_termination : bool, default=True
        Treat a time-limit end as non-terminal (its sampled ``done`` is 0).

    Attributes
    ----------
    observations, next_observations : dict of numpy.ndarray
        One array ``(size, n_envs) + shape`` per key of the observation space.
    actions : numpy.ndarray of shape (size, n_envs, action_dim)
        Stored actions.
    rewards, dones, timeouts : numpy.ndarray of shape (size, n_envs)
        Rewards, episode ends, time-limit ends.
    obs_shape : dict of tuple
        Shape of each entry.

    Notes
    -----
    The same storage and the same target as :class:`ReplayBuffer`,
    :math:`y = r + \\gamma (1 - d) V(s')` with :math:`d = 0` at a time limit, each
    entry of the Dict observation stored in its own array; the sampled
    ``observations`` and ``next_observations`` are dicts of tensors (what the
    ``MultiInputPolicy`` networks take).

    Examples
    --------
    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> from mlnotes.rl.common.replay_buffer import DictReplayBuffer
    >>> space = spaces.Dict({"x": spaces.Box(-1, 1, (3,)), "k": spaces.Discrete(4)})
    >>> buf = DictReplayBuffer(10, space, spaces.Discrete(2), device="cpu")
    >>> obs = {"x": np.zeros((1, 3), np.float32), "k": np.array([2])}
    >>> buf.add(obs, obs, np.array([1]), np.array([1.0]), np.array([False]), [{}])
    >>> batch = buf.sample(2)
    >>> sorted(batch.observations), batch.observations["x"].shape
    (['k', 'x'], torch.Size([2, 3]))
    """

    def __init__(self, buffer_size, observation_space, action_space, device="auto", n_envs=1,
                 optimize_memory_usage=False, handle_timeout_termination=True):
        if not isinstance(observation_space, spaces.Dict):
            raise ValueError(
                f"DictReplayBuffer needs a Dict observation space, got {observation_space!r}.")
        if optimize_memory_usage:
            raise ValueError("DictReplayBuffer does not support optimize_memory_usage=True "
                             "(as SB3).")
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) \
                or buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive int, got {buffer_size!r}.")
        if isinstance(n_envs, bool) or not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive int, got {n_envs!r}.")
        self.observation_space, self.action_space = observation_space, action_space
        self.obs_shape = {k: _obs_shape(sub) for k, sub in observation_space.spaces.items()}
        self.action_dim = _action_dim(action_space)
        self.n_envs = int(n_envs)
        self.buffer_size = max(int(buffer_size) // self.n_envs, 1)
        self.device = _resolve_device(device)
        self.pos, self.full = 0, False
        self.optimize_memory_usage = False
        self.handle_timeout_termination = bool(handle_timeout_termination)
        size, n = self.buffer_size, self.n_envs

        def storage():
            return {k: np.zeros((size, n, *shape),
                                dtype=_obs_storage_dtype(observation_space[k]))
                    for k, shape in self.obs_shape.items()}

        self.observations, self.next_observations = storage(), storage()
        act_dtype = (np.int64 if isinstance(action_space, spaces.Discrete)
                     else _storage_dtype(action_space.dtype))
        self.actions = np.zeros((size, n, self.action_dim), dtype=act_dtype)
        self.rewards = np.zeros((size, n), dtype=np.float32)
        self.dones = np.zeros((size, n), dtype=np.float32)
        self.timeouts = np.zeros((size, n), dtype=np.float32)
        _warn_if_too_large(self, [*self.observations.values(),
                                  *self.next_observations.values(), self.actions,
                                  self.rewards, self.dones, self.timeouts])

    def add(self, obs, next_obs, action, reward, done, infos):
        """Store one vectorised step.

        Parameters
        ----------
        obs : dict of numpy.ndarray
            Observations, ``(n_envs,) + shape`` per key.
        next_obs : dict of numpy.ndarray
            True next observations (the final observation at an episode end).
        action : numpy.ndarray of shape (n_envs, action_dim) or (n_envs,)
            Actions.
        reward : numpy.ndarray of shape (n_envs,)
            Rewards.
        done : numpy.ndarray of shape (n_envs,)
            Episode ends.
        infos : list of dict
            Per-env info dicts; ``"TimeLimit.truncated"`` marks a time-limit end.
        """
        pos, n = self.pos, self.n_envs
        for key, shape in self.obs_shape.items():
            self.observations[key][pos] = np.asarray(obs[key]).reshape((n, *shape))
            self.next_observations[key][pos] = np.asarray(next_obs[key]).reshape((n, *shape))
        self._store_step(action, reward, done, infos)

    def _batch_indices(self, batch_size):
        upper = self.buffer_size if self.full else self.pos
        if upper == 0:
            raise ValueError("Cannot sample from an empty replay buffer.")
        return np.random.randint(0, upper, size=batch_size)

    def _sampled_observations(self, batch_inds, env_inds, flat):
        return ({k: self._flat(v, flat) for k, v in self.observations.items()},
                {k: self._flat(v, flat) for k, v in self.next_observations.items()})

    def _observations_to_torch(self, obs):
        return {k: self.to_torch(v) for k, v in obs.items()}

    def _stored_arrays(self):
        arrays = {}
        for i, key in enumerate(self.obs_shape):
            # entry names by position: a key may hold any character
            arrays[f"observations:{i}"] = self.observations[key]
            arrays[f"next_observations:{i}"] = self.next_observations[key]
        for name in ("actions", "rewards", "dones", "timeouts"):
            arrays[name] = getattr(self, name)
        return arrays
