"""Rollout storage of the on-policy agents.

:class:`RolloutBuffer` preallocates its numpy arrays once, is filled one vectorised
step at a time by the rollout loop, computes advantages and returns with
:func:`mlnotes.rl.common.returns.compute_gae` (written once in the project) and hands
out typed :class:`RolloutBufferSamples` of torch tensors.
"""

from typing import NamedTuple

import numpy as np
import torch
from gymnasium import spaces

from .returns import _gae  # the unchecked kernel of compute_gae


class RolloutBufferSamples(NamedTuple):
    """One (mini)batch of a rollout, flattened over steps and environments.

    Parameters
    ----------
    observations : torch.Tensor of shape (batch,) + obs_shape
        Observations the actions were taken in.
    actions : torch.Tensor of shape (batch,) or (batch, action_dim)
        Actions taken (as sampled, before clipping).
    old_values : torch.Tensor of shape (batch,)
        Critic values at collection time.
    old_log_prob : torch.Tensor of shape (batch,)
        Log-probabilities at collection time.
    advantages : torch.Tensor of shape (batch,)
        Advantage estimates.
    returns : torch.Tensor of shape (batch,)
        Value targets (``advantages + old_values``).
    """

    observations: torch.Tensor
    actions: torch.Tensor
    old_values: torch.Tensor
    old_log_prob: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor


class RolloutBuffer:
    """Preallocated storage for ``buffer_size`` steps of ``n_envs`` environments.

    Parameters
    ----------
    buffer_size : int
        Steps per environment in one rollout (``n_steps``).
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    device : torch.device or str, default="cpu"
        Device of the sampled tensors.
    gae_lambda : float, default=1.0
        GAE parameter (1 gives Monte-Carlo returns bootstrapped at the rollout end).
    gamma : float, default=0.99
        Discount factor.
    n_envs : int, default=1
        Number of parallel environments.

    Attributes
    ----------
    observations, actions, rewards, dones, values, log_probs : numpy.ndarray
        The storage, time first: ``(buffer_size, n_envs, ...)``.
    advantages, returns : numpy.ndarray of shape (buffer_size, n_envs)
        Filled by :meth:`compute_returns_and_advantage`.
    pos : int
        Number of steps stored.
    """

    def __init__(self, buffer_size, observation_space, action_space, device="cpu",
                 gae_lambda=1.0, gamma=0.99, n_envs=1):
        self.buffer_size, self.n_envs = int(buffer_size), int(n_envs)
        self.observation_space, self.action_space = observation_space, action_space
        self.device = torch.device(device)
        self.gae_lambda, self.gamma = gae_lambda, gamma
        self.obs_shape = tuple(observation_space.shape) \
            if not isinstance(observation_space, spaces.Dict) else None
        if isinstance(action_space, spaces.Discrete):
            self.action_shape, action_dtype = (), np.int64
        else:
            self.action_shape, action_dtype = (int(np.prod(action_space.shape)),), np.float32
        T, n = self.buffer_size, self.n_envs
        self.observations = self._allocate_observations(T, n)
        self.actions = np.zeros((T, n, *self.action_shape), dtype=action_dtype)
        self.rewards = np.zeros((T, n), dtype=np.float32)
        self.dones = np.zeros((T, n), dtype=bool)
        self.values = np.zeros((T, n), dtype=np.float32)
        self.log_probs = np.zeros((T, n), dtype=np.float32)
        self.advantages = np.zeros((T, n), dtype=np.float32)
        self.returns = np.zeros((T, n), dtype=np.float32)
        self.pos = 0
        self.full = False

    def _allocate_observations(self, T, n):
        return np.zeros((T, n, *self.obs_shape), dtype=_obs_dtype(self.observation_space))

    def reset(self):
        """Start a new rollout (the arrays are reused, not reallocated)."""
        self.pos = 0
        self.full = False

    def add(self, obs, actions, rewards, dones, values, log_probs):
        """Store one vectorised step.

        Parameters
        ----------
        obs : numpy.ndarray of shape (n_envs,) + obs_shape
            Observations the actions were taken in.
        actions : numpy.ndarray
            Actions, ``(n_envs,)`` or ``(n_envs, action_dim)``.
        rewards : numpy.ndarray of shape (n_envs,)
            Rewards (with the time-limit bootstrap already added).
        dones : numpy.ndarray of shape (n_envs,)
            Whether the transition ended its episode.
        values : numpy.ndarray or torch.Tensor of shape (n_envs,)
            Critic values of ``obs``.
        log_probs : numpy.ndarray or torch.Tensor of shape (n_envs,)
            Log-probabilities of ``actions``.
        """
        if self.pos >= self.buffer_size:
            raise RuntimeError("RolloutBuffer is full; call reset() first.")
        p = self.pos
        self._store_observations(p, obs)
        self.actions[p] = np.reshape(actions, (self.n_envs, *self.action_shape))
        self.rewards[p] = rewards
        self.dones[p] = dones
        self.values[p] = values
        self.log_probs[p] = log_probs
        self.pos += 1
        self.full = self.pos == self.buffer_size

    def _store_observations(self, p, obs):
        self.observations[p] = np.reshape(obs, (self.n_envs, *self.obs_shape))

    def compute_returns_and_advantage(self, last_values, dones=None):
        """Fill ``advantages`` and ``returns`` with GAE(gamma, lambda).

        Parameters
        ----------
        last_values : numpy.ndarray or torch.Tensor of shape (n_envs,)
            Values of the observations after the last stored step.
        dones : numpy.ndarray of shape (n_envs,), default=None
            Whether the last step ended its episode (already in the stored ``dones``;
            accepted for SB3 compatibility).
        """
        if isinstance(last_values, torch.Tensor):
            last_values = last_values.detach().cpu().numpy()
        T = self.pos
        done = self.dones[:T]
        if dones is not None:
            done = done.copy()
            done[-1] |= np.asarray(dones, dtype=bool).reshape(self.n_envs)
        # the buffer's arrays are well-formed by construction: the unchecked kernel of
        # compute_gae (a non-finite reward or value surfaces as a non-finite loss)
        adv, ret = _gae(self.rewards[:T], self.values[:T], (~done).astype(np.float32),
                        np.asarray(last_values, dtype=np.float32).reshape(self.n_envs),
                        float(self.gamma), float(self.gae_lambda))
        self.advantages[:T] = adv
        self.returns[:T] = ret

    def get(self, batch_size=None, generator=None):
        """Yield the stored steps as :class:`RolloutBufferSamples`.

        Parameters
        ----------
        batch_size : int, default=None
            Minibatch size; ``None`` yields the whole rollout at once, in storage order.
        generator : numpy.random.Generator, default=None
            Source of the shuffling permutation when ``batch_size`` is given (numpy's
            global generator when ``None``, as SB3).

        Yields
        ------
        samples : RolloutBufferSamples
            Flattened tensors on the buffer's device.
        """
        total = self.pos * self.n_envs
        flat = self._flat_tensors()
        if batch_size is None or batch_size >= total:
            yield RolloutBufferSamples(*flat)
            return
        perm = (generator.permutation(total) if generator is not None
                else np.random.permutation(total))
        perm = torch.as_tensor(perm, device=self.device)
        for start in range(0, total, batch_size):
            idx = perm[start:start + batch_size]
            yield RolloutBufferSamples(*(
                {k: v[idx] for k, v in t.items()} if isinstance(t, dict) else t[idx]
                for t in flat))

    def _flat_tensors(self):
        T, n = self.pos, self.n_envs

        def flat(a, tail=()):
            return torch.as_tensor(a[:T].reshape(T * n, *tail), device=self.device)

        return (self._flat_observations(flat), flat(self.actions, self.action_shape),
                flat(self.values), flat(self.log_probs), flat(self.advantages),
                flat(self.returns))

    def _flat_observations(self, flat):
        return flat(self.observations, self.obs_shape)


def _obs_dtype(space):
    # images (and other integer Box spaces) keep their dtype (uint8: 4x less memory);
    # the rest is stored as float32
    if isinstance(space, spaces.Box) and np.dtype(space.dtype).kind in "ui":
        return space.dtype
    return np.float32


class DictRolloutBuffer(RolloutBuffer):
    """:class:`RolloutBuffer` for Dict observations (one array per key, as SB3's).

    Parameters
    ----------
    buffer_size : int
        Steps per environment in one rollout (``n_steps``).
    observation_space : gymnasium.spaces.Dict
        Observation space (Box or Discrete entries).
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    device : torch.device or str, default="cpu"
        Device of the sampled tensors.
    gae_lambda : float, default=1.0
        GAE parameter.
    gamma : float, default=0.99
        Discount factor.
    n_envs : int, default=1
        Number of parallel environments.

    Attributes
    ----------
    observations : dict of str to numpy.ndarray
        ``(buffer_size, n_envs) + shape`` per key; the samples' ``observations`` are
        dicts of tensors.
    """

    def _allocate_observations(self, T, n):
        self.obs_shapes = {k: tuple(s.shape) for k, s in self.observation_space.spaces.items()}
        return {k: np.zeros((T, n, *shape), dtype=_obs_dtype(self.observation_space[k]))
                for k, shape in self.obs_shapes.items()}

    def _store_observations(self, p, obs):
        for key, shape in self.obs_shapes.items():
            self.observations[key][p] = np.reshape(obs[key], (self.n_envs, *shape))

    def _flat_observations(self, flat):
        return {k: flat(v, self.obs_shapes[k]) for k, v in self.observations.items()}
