"""Hindsight experience replay (Andrychowicz et al., 2017), SB3's ``HerReplayBuffer``.

Contract
--------
``HerReplayBuffer(buffer_size, observation_space, action_space, env, device="auto",
n_envs=1, optimize_memory_usage=False, handle_timeout_termination=True, n_sampled_goal=4,
goal_selection_strategy="future", copy_info_dict=False)``: a
:class:`~mlnotes.rl.common.replay_buffer.DictReplayBuffer` for goal-conditioned envs
(Dict observations with ``"achieved_goal"`` and ``"desired_goal"`` entries and a
``compute_reward(achieved_goal, desired_goal, info)`` method, vectorised over a batch).
Transitions are stored as collected; the relabelling happens when a batch is drawn, and
only transitions of finished episodes are drawn. The off-policy agents pass their
training env as ``env`` (``replay_buffer_class=HerReplayBuffer``; SB3's own class is
accepted and mapped to this one).
"""

import copy
import warnings

import numpy as np
from gymnasium import spaces

from .replay_buffer import DictReplayBuffer

_STRATEGIES = ("future", "final", "episode")


def _strategy_name(strategy):
    """The lower-case name of a goal selection strategy (a str or SB3's enum)."""
    name = getattr(strategy, "name", strategy)  # SB3's GoalSelectionStrategy member
    if isinstance(name, str) and name.lower() in _STRATEGIES:
        return name.lower()
    raise ValueError(
        f"goal_selection_strategy must be one of {list(_STRATEGIES)} (or SB3's "
        f"GoalSelectionStrategy), got {strategy!r}.")


class HerReplayBuffer(DictReplayBuffer):
    """Replay buffer that relabels goals in hindsight (SB3's ``HerReplayBuffer``).

    Parameters
    ----------
    buffer_size : int
        Transitions kept (over all envs); an episode is dropped as a whole once its
        oldest step is overwritten.
    observation_space : gymnasium.spaces.Dict
        Goal-conditioned observation space, with ``"achieved_goal"`` and
        ``"desired_goal"`` entries of the same shape.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    env : stable_baselines3.common.vec_env.VecEnv or gymnasium.Env or None
        The training env, whose ``compute_reward`` gives the rewards of relabelled
        transitions (``env_method("compute_reward", ...)`` on a VecEnv, else the
        unwrapped env's method). ``None`` is allowed until :meth:`set_env`.
    device : str or torch.device, default="auto"
        Device of the sampled tensors.
    n_envs : int, default=1
        Number of parallel environments.
    optimize_memory_usage : bool, default=False
        Not supported (raises ``ValueError`` when ``True``, as SB3).
    handle_timeout_termination : bool, default=True
        Treat a time-limit end as non-terminal (its sampled ``done`` is 0).
    n_sampled_goal : int, default=4
        Virtual transitions per real one: a fraction
        ``1 - 1 / (n_sampled_goal + 1)`` of every batch is relabelled.
    goal_selection_strategy : {"future", "final", "episode"} or GoalSelectionStrategy, \
default="future"
        Where the new goal comes from: the achieved goal of a step at or after the
        sampled one (``"future"``), of the episode's last step (``"final"``) or of any
        step of the episode (``"episode"``).
    copy_info_dict : bool, default=False
        Store the info dicts and pass them to ``compute_reward`` (slower); otherwise
        empty dicts are passed.

    Attributes
    ----------
    env : VecEnv or gymnasium.Env or None
        The env that computes the rewards.
    n_sampled_goal : int
        Virtual transitions per real one.
    her_ratio : float
        Fraction of each batch that is relabelled, ``1 - 1 / (n_sampled_goal + 1)``.
    goal_selection_strategy : str
        ``"future"``, ``"final"`` or ``"episode"``.
    copy_info_dict : bool
        Whether the info dicts are stored.
    ep_start : numpy.ndarray of shape (size, n_envs)
        Buffer position of the first step of each stored step's episode.
    ep_length : numpy.ndarray of shape (size, n_envs)
        Length of each stored step's episode (0 while the episode runs or once it is
        partly overwritten: such steps are never sampled).

    Notes
    -----
    Chapter 32 of the notes (goal-conditioned RL). In a goal-conditioned MDP the
    reward :math:`r = R(g_a(s'), g)` depends on the goal achieved in the next state
    and on the desired goal :math:`g`. A failed episode
    :math:`(s_0, a_0, \\dots, s_T)` still shows how to reach the goals it did
    achieve, so each stored step :math:`(s_t \\Vert g, a_t, s_{t+1} \\Vert g)` is
    replayed with a goal :math:`g'` taken from the same episode,

    .. math::

        g' = g_a(s_{k+1}), \\quad k \\sim \\mathcal{U}\\{t, \\dots, T-1\\}
        \\ (\\text{future}), \\quad k = T - 1 \\ (\\text{final}), \\quad
        k \\sim \\mathcal{U}\\{0, \\dots, T-1\\} \\ (\\text{episode}),

    and the recomputed reward :math:`r' = R(g_a(s_{t+1}), g')`; the Bellman target
    :math:`y = r' + \\gamma (1 - d) V(s_{t+1} \\Vert g')` is then unchanged. With
    ``n_sampled_goal`` :math:`k` virtual transitions per real one, a batch holds the
    fraction :math:`1 - 1/(k+1)` of relabelled transitions (SB3's layout: real ones
    first). "future" includes the sampled step itself, as in SB3.

    Examples
    --------
    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> from mlnotes.rl.common import HerReplayBuffer
    >>> class Env:  # a goal-conditioned env: reward 0 on the goal, -1 elsewhere
    ...     def compute_reward(self, achieved, desired, info):
    ...         return -(np.abs(achieved - desired).sum(-1) > 0).astype(np.float32)
    >>> box = spaces.Box(0, 10, (1,))
    >>> space = spaces.Dict({"observation": box, "achieved_goal": box, "desired_goal": box})
    >>> buf = HerReplayBuffer(10, space, spaces.Discrete(2), Env(), device="cpu",
    ...                       goal_selection_strategy="final")
    >>> for t in range(3):
    ...     obs = {k: np.full((1, 1), t, np.float32) for k in ("observation", "achieved_goal")}
    ...     nxt = {k: v + 1 for k, v in obs.items()}
    ...     obs["desired_goal"] = nxt["desired_goal"] = np.full((1, 1), 9, np.float32)
    ...     buf.add(obs, nxt, np.array([0]), np.array([-1.0]), np.array([t == 2]), [{}])
    >>> batch = buf.sample(5)   # 1 real transition, 4 relabelled with the final goal 3
    >>> batch.observations["desired_goal"].ravel().tolist()[1:]
    [3.0, 3.0, 3.0, 3.0]
    """

    #: the loader passes ``env=None`` (the agent sets its env afterwards)
    _takes_env = True
    _extra_init_keys = ("n_sampled_goal", "goal_selection_strategy", "copy_info_dict")

    def __init__(self, buffer_size, observation_space, action_space, env, device="auto",
                 n_envs=1, optimize_memory_usage=False, handle_timeout_termination=True,
                 n_sampled_goal=4, goal_selection_strategy="future", copy_info_dict=False):
        super().__init__(buffer_size, observation_space, action_space, device=device,
                         n_envs=n_envs, optimize_memory_usage=optimize_memory_usage,
                         handle_timeout_termination=handle_timeout_termination)
        missing = [k for k in ("achieved_goal", "desired_goal")
                   if k not in observation_space.spaces]
        if missing:
            raise ValueError(
                "HerReplayBuffer needs a goal-conditioned Dict observation space with "
                f"'achieved_goal' and 'desired_goal' entries; {missing} missing in "
                f"{observation_space}.")
        if self.obs_shape["achieved_goal"] != self.obs_shape["desired_goal"]:
            raise ValueError(
                "'achieved_goal' and 'desired_goal' must have the same shape, got "
                f"{self.obs_shape['achieved_goal']} and {self.obs_shape['desired_goal']}.")
        if isinstance(n_sampled_goal, bool) or not isinstance(n_sampled_goal,
                                                              (int, np.integer)) \
                or n_sampled_goal < 0:
            raise ValueError(
                f"n_sampled_goal must be a non-negative int, got {n_sampled_goal!r}.")
        self.env = env
        self.n_sampled_goal = int(n_sampled_goal)
        self.her_ratio = 1.0 - 1.0 / (self.n_sampled_goal + 1)
        self.goal_selection_strategy = _strategy_name(goal_selection_strategy)
        self.copy_info_dict = bool(copy_info_dict)
        size, n = self.buffer_size, self.n_envs
        self.infos = (np.array([[{} for _ in range(n)] for _ in range(size)], dtype=object)
                      if self.copy_info_dict else None)
        self.ep_start = np.zeros((size, n), dtype=np.int64)
        self.ep_length = np.zeros((size, n), dtype=np.int64)
        self.current_ep_start = np.zeros(n, dtype=np.int64)

    def set_env(self, env):
        """Set the env that computes the rewards of relabelled transitions.

        Parameters
        ----------
        env : VecEnv or gymnasium.Env
            The training env.
        """
        self.env = env

    # ------------------------------------------------------------------ storage

    def reset(self):
        """Forget every stored transition and episode."""
        super().reset()
        self.ep_start[...] = 0
        self.ep_length[...] = 0
        self.current_ep_start[...] = 0

    def add(self, obs, next_obs, action, reward, done, infos):
        """Store one vectorised step and close the episodes that end with it.

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
            Episode ends (termination or truncation).
        infos : list of dict
            Per-env info dicts.
        """
        pos, size = self.pos, self.buffer_size
        # the step about to be overwritten is the oldest of a stored episode: drop the
        # rest of that episode (it could no longer be relabelled from its start)
        for i in np.flatnonzero(self.ep_length[pos] > 0):
            steps = (self.ep_start[pos, i] + np.arange(self.ep_length[pos, i])) % size
            self.ep_length[steps, i] = 0
        self.ep_start[pos] = self.current_ep_start
        self.ep_length[pos] = 0
        if self.copy_info_dict:
            for i in range(self.n_envs):
                self.infos[pos, i] = copy.deepcopy(infos[i])
        super().add(obs, next_obs, action, reward, done, infos)
        for i in np.flatnonzero(np.asarray(done).reshape(self.n_envs)):
            self._close_episode(int(i))

    def _close_episode(self, env_idx):
        """Record the length of env ``env_idx``'s episode, which ended at ``pos - 1``."""
        start, end = int(self.current_ep_start[env_idx]), self.pos
        if end <= start:
            end += self.buffer_size   # the episode wraps around the end of the storage
        length = min(end - start, self.buffer_size)
        steps = np.arange(end - length, end) % self.buffer_size
        self.ep_start[steps, env_idx] = (end - length) % self.buffer_size
        self.ep_length[steps, env_idx] = length
        self.current_ep_start[env_idx] = self.pos

    def truncate_last_trajectory(self):
        """Close the episodes still running (e.g. after loading a saved buffer).

        Their last stored step becomes an episode end, marked as a time-limit end when
        ``handle_timeout_termination`` (so its target still bootstraps), as in SB3.
        """
        running = np.flatnonzero(self.current_ep_start != self.pos)
        if running.size == 0:
            return
        warnings.warn(
            "The last trajectory in the replay buffer will be truncated: if you continue "
            "the episode that was running when the buffer was saved, pass "
            "truncate_last_traj=False.", UserWarning, stacklevel=2)
        last = (self.pos - 1) % self.buffer_size
        for i in running:
            self.dones[last, i] = 1.0
            if self.handle_timeout_termination:
                self.timeouts[last, i] = 1.0
            self._close_episode(int(i))

    # ------------------------------------------------------------------ sampling

    def _compute_reward(self, achieved_goal, desired_goal, infos):
        env = self.env
        if env is None:
            raise ValueError(
                "HerReplayBuffer needs the env (its compute_reward) to relabel "
                "transitions: pass env=... or call set_env(env).")
        if hasattr(env, "env_method"):
            # the first env's method, all envs being copies of one another (as SB3)
            rewards = env.env_method("compute_reward", achieved_goal, desired_goal, infos,
                                     indices=[0])[0]
        else:
            rewards = getattr(env, "unwrapped", env).compute_reward(achieved_goal,
                                                                   desired_goal, infos)
        rewards = np.asarray(rewards, dtype=np.float32).reshape(-1)
        if rewards.shape[0] != len(achieved_goal):
            raise ValueError(
                f"compute_reward returned {rewards.shape[0]} rewards for a batch of "
                f"{len(achieved_goal)} goals: it must be vectorised over the batch.")
        return rewards

    def _sample_goal_steps(self, batch_inds, env_inds):
        """Buffer positions whose achieved goal relabels each sampled step."""
        start = self.ep_start[batch_inds, env_inds]
        length = self.ep_length[batch_inds, env_inds]
        if self.goal_selection_strategy == "final":
            offset = length - 1
        elif self.goal_selection_strategy == "future":
            current = (batch_inds - start) % self.buffer_size
            offset = np.random.randint(current, length)
        else:
            offset = np.random.randint(0, length)
        return (start + offset) % self.buffer_size

    def sample(self, batch_size, env=None):
        """Draw transitions of finished episodes and relabel a fraction of them.

        Parameters
        ----------
        batch_size : int
            Number of transitions.
        env : stable_baselines3.common.vec_env.VecNormalize, default=None
            Normalises the sampled observations and rewards when given.

        Returns
        -------
        samples : ReplayBufferSamples
            The batch: its first ``batch_size - int(her_ratio * batch_size)``
            transitions as stored, the others with a new desired goal (in both
            ``observations`` and ``next_observations``) and the recomputed reward.

        Raises
        ------
        RuntimeError
            When no episode has finished yet.
        """
        valid = np.flatnonzero(self.ep_length > 0)
        if valid.size == 0:
            raise RuntimeError(
                "HerReplayBuffer cannot sample before the end of the first episode: "
                "choose learning_starts larger than the episode length.")
        flat = valid[np.random.randint(0, valid.size, size=batch_size)]
        batch_inds, env_inds = np.divmod(flat, self.n_envs)
        return self._get_samples(batch_inds, env_inds, env)

    def _relabel(self, batch_inds, env_inds, obs, next_obs, rewards):
        # the last int(her_ratio * batch) transitions get a new desired goal and reward
        n_virtual = int(self.her_ratio * len(batch_inds))
        if n_virtual > 0:
            virtual = slice(len(batch_inds) - n_virtual, None)
            b, e = batch_inds[virtual], env_inds[virtual]
            goal_steps = self._sample_goal_steps(b, e)
            goals = self.next_observations["achieved_goal"][goal_steps, e]
            obs["desired_goal"][virtual] = goals
            next_obs["desired_goal"][virtual] = goals
            infos = ([copy.deepcopy(info) for info in self.infos[b, e]] if self.copy_info_dict
                     else [{} for _ in range(n_virtual)])
            rewards[virtual] = self._compute_reward(next_obs["achieved_goal"][virtual],
                                                    goals, infos)

    # ------------------------------------------------------------------ save / load

    def _extra_kwargs(self):
        return {"n_sampled_goal": self.n_sampled_goal,
                "goal_selection_strategy": self.goal_selection_strategy,
                "copy_info_dict": self.copy_info_dict}

    def _stored_arrays(self):
        # the info dicts are not written (no pickle): a loaded buffer passes empty ones
        arrays = super()._stored_arrays()
        arrays.update(ep_start=self.ep_start, ep_length=self.ep_length,
                      current_ep_start=self.current_ep_start)
        return arrays

    def _check_loaded(self):
        size = self.buffer_size
        if (self.ep_start.min(initial=0) < 0 or self.ep_start.max(initial=0) >= size
                or self.ep_length.min(initial=0) < 0 or self.ep_length.max(initial=0) > size
                or self.current_ep_start.min(initial=0) < 0
                or self.current_ep_start.max(initial=0) >= size):
            raise ValueError("episode bookkeeping out of range")
        # an episode's steps must lie between its start and the stored length
        steps = np.arange(size)[:, None]
        inside = (steps - self.ep_start) % size < np.maximum(self.ep_length, 1)
        if not np.all(inside | (self.ep_length == 0)):
            raise ValueError("episode bookkeeping inconsistent")


__all__ = ["HerReplayBuffer"]
