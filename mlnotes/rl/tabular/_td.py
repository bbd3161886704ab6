r"""Tabular temporal-difference control from interaction: Q-learning and SARSA (ch. 30).

Both keep a table :math:`Q(s, a)`, act epsilon-greedily and move each visited entry
towards a one-step target with step size :math:`\alpha`:

.. math::

    Q(s_t, a_t) \leftarrow Q(s_t, a_t) + \alpha \big[y_t - Q(s_t, a_t)\big],

with the off-policy target :math:`y_t = r_t + \gamma \max_{a'} Q(s_{t+1}, a')` for
Q-learning and the on-policy target :math:`y_t = r_t + \gamma\, Q(s_{t+1}, a_{t+1})`
for SARSA (:math:`a_{t+1}` is the action the behaviour policy takes next). A terminal
transition has target :math:`r_t`; a time-limit truncation bootstraps from the true
final state, as SB3's buffers do. They are agents with the Stable-Baselines3 surface
(``learn``, ``predict``, callbacks, ``save``/``load``) whose policy is the table
(``"TabularPolicy"``); they run on the CPU.
"""

import numpy as np
import torch
from gymnasium import spaces

from ..common.base_class import BaseAlgorithm
from ..common.policies import BasePolicy
from ..common.schedules import get_schedule_fn

__all__ = ["QLearning", "SARSA", "TabularPolicy"]


class TabularPolicy(BasePolicy):
    """A table of action values; greedy ``predict`` (the policy of QLearning/SARSA).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Discrete
        The states.
    action_space : gymnasium.spaces.Discrete
        The actions.
    lr_schedule : callable
        Unused (kept for the policy signature of the other agents).
    q_init : float, default=0.0
        Initial value of every entry (optimistic values encourage exploration).

    Attributes
    ----------
    q_table : torch.Tensor of shape (n_states, n_actions)
        The action values (float64, a buffer saved in the state dict).
    """

    def __init__(self, observation_space, action_space, lr_schedule=None, q_init=0.0):
        super().__init__(observation_space, action_space)
        for what, space in (("observation", observation_space), ("action", action_space)):
            if not isinstance(space, spaces.Discrete):
                raise ValueError(f"TabularPolicy needs a Discrete {what} space, got "
                                 f"{space!r}.")
        if isinstance(q_init, bool) or not isinstance(q_init, (int, float, np.number)) \
                or not np.isfinite(q_init):
            raise ValueError(f"q_init must be a finite number, got {q_init!r}.")
        self.q_init = float(q_init)
        table = torch.full((int(observation_space.n), int(action_space.n)), self.q_init,
                           dtype=torch.float64)
        self.register_buffer("q_table", table)
        self.exploration_rate = 0.0
        self._rng = np.random.default_rng()

    def _predict(self, obs, deterministic=False):
        states = obs.reshape(-1).long() - int(self.observation_space.start)
        greedy = self.q_table[states].argmax(dim=1)
        if deterministic or self.exploration_rate <= 0:
            return greedy
        explore = self._rng.random(len(greedy)) < self.exploration_rate
        random_actions = self._rng.integers(0, self.q_table.shape[1], len(greedy))
        return torch.as_tensor(np.where(explore, random_actions, greedy.numpy()))


class _TabularTD(BaseAlgorithm):
    """The interaction loop shared by Q-learning and SARSA; a subclass gives the target."""

    policy_aliases = {"TabularPolicy": TabularPolicy}
    _on_policy_target = False

    def __init__(self, policy, env, learning_rate=0.1, gamma=0.99, exploration_fraction=0.1,
                 exploration_initial_eps=1.0, exploration_final_eps=0.05,
                 stats_window_size=100, tensorboard_log=None, policy_kwargs=None, verbose=0,
                 seed=None, device="auto", _init_setup_model=True):
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         verbose=verbose, device="cpu", seed=seed)
        name = type(self).__name__
        for value, what in ((gamma, "gamma"), (exploration_fraction, "exploration_fraction"),
                            (exploration_initial_eps, "exploration_initial_eps"),
                            (exploration_final_eps, "exploration_final_eps")):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not 0 <= value <= 1:
                raise ValueError(f"{name}: {what} must be a number in [0, 1], got {value!r}.")
        if self.observation_space is not None:
            for what, space in (("observation", self.observation_space),
                                ("action", self.action_space)):
                if not isinstance(space, spaces.Discrete):
                    raise ValueError(
                        f"{name} is tabular: it needs Discrete observation and action "
                        f"spaces; the env's {what} space is {space!r}. Use DQN or PPO "
                        "for continuous observations."
                    )
        self.gamma = float(gamma)
        self.exploration_fraction = float(exploration_fraction)
        self.exploration_initial_eps = float(exploration_initial_eps)
        self.exploration_final_eps = float(exploration_final_eps)
        self.exploration_rate = self.exploration_initial_eps
        self._rng = None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        self.lr_schedule = get_schedule_fn(self.learning_rate)
        self.set_random_seed(self.seed)
        self._rng = np.random.default_rng(self.seed)
        self.policy = self.policy_class(self.observation_space, self.action_space,
                                        self.lr_schedule, **self.policy_kwargs)
        self.policy._rng = self._rng

    def _state_dict_names(self):
        return ["policy"]

    def _epsilon(self, progress_remaining):
        """Linear decay from the initial to the final rate over ``exploration_fraction``."""
        done = 1.0 - progress_remaining
        if self.exploration_fraction <= 0 or done >= self.exploration_fraction:
            return self.exploration_final_eps
        return self.exploration_initial_eps + done / self.exploration_fraction * (
            self.exploration_final_eps - self.exploration_initial_eps)

    def _act(self, q, states, epsilon):
        greedy = q[states].argmax(axis=1)
        explore = self._rng.random(len(states)) < epsilon
        return np.where(explore, self._rng.integers(0, q.shape[1], len(states)), greedy)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """Action(s) for one state or a batch (epsilon-greedy unless deterministic).

        Parameters
        ----------
        observation : int or array-like of int
            One state, or a batch ``(n_env,)``.
        state : None
            Recurrent state (unused; returned unchanged).
        episode_start : numpy.ndarray, default=None
            Unused (Stable-Baselines3 signature).
        deterministic : bool, default=False
            Greedy actions; otherwise epsilon-greedy with the current
            ``exploration_rate`` (as SB3's DQN).

        Returns
        -------
        actions : numpy.ndarray
            One action, or ``(n_env,)``.
        state : None
            The recurrent state.
        """
        self.policy.exploration_rate = self.exploration_rate
        return self.policy.predict(observation, state, episode_start, deterministic)

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="run",
              reset_num_timesteps=True, progress_bar=False):
        """Interact and update the table for ``total_timesteps`` steps.

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s), called at every vectorised step.
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
        self : QLearning or SARSA
            The trained agent.
        """
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        env = self.env
        q = self.policy.q_table.numpy()  # shares memory with the policy's table
        gamma = self.gamma
        obs = np.asarray(self._last_obs).reshape(-1).astype(np.int64)
        self.exploration_rate = self._epsilon(self._current_progress_remaining)
        actions = self._act(q, obs, self.exploration_rate)
        callback.on_training_start(locals(), globals())
        callback.on_rollout_start()
        while self.num_timesteps < total_timesteps:
            new_obs, rewards, dones, infos = env.step(actions)
            if not np.all(np.isfinite(rewards)):
                raise ValueError(
                    f"The environment returned a non-finite reward {rewards} at step "
                    f"{self.num_timesteps}: the env is the cause, not the learner."
                )
            self.num_timesteps += env.num_envs
            callback.update_locals(locals())
            if not callback.on_step():
                break
            self._update_info_buffer(infos, dones)
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            self.exploration_rate = self._epsilon(self._current_progress_remaining)
            alpha = float(self.lr_schedule(self._current_progress_remaining))
            new_obs = np.asarray(new_obs).reshape(-1).astype(np.int64)
            # the state the transition really ended in: the final state of a finished
            # episode (VecEnv resets and returns the next episode's first state)
            next_states = new_obs.copy()
            terminated = np.zeros(env.num_envs, dtype=bool)
            for i in np.flatnonzero(dones):
                if infos[i].get("TimeLimit.truncated", False) and \
                        infos[i].get("terminal_observation") is not None:
                    next_states[i] = int(np.asarray(infos[i]["terminal_observation"]))
                else:
                    terminated[i] = True
            next_actions = self._act(q, new_obs, self.exploration_rate)
            bootstrap = self._bootstrap(q, next_states, new_obs, next_actions, dones)
            target = rewards + gamma * np.where(terminated, 0.0, bootstrap)
            q[obs, actions] += alpha * (target - q[obs, actions])
            self._n_updates += env.num_envs
            self._after_update(q, obs, actions, rewards, next_states, terminated, alpha)
            if dones.any():
                self._episode_num += int(dones.sum())
                if log_interval is not None and self._episode_num % log_interval == 0:
                    self.dump_logs()
            obs, actions = new_obs, next_actions
            self._last_obs = new_obs
            self._last_episode_starts = dones
        callback.on_rollout_end()
        callback.on_training_end()
        return self

    def _bootstrap(self, q, next_states, new_obs, next_actions, dones):
        """Value of the next state in the target (per subclass)."""
        raise NotImplementedError

    def _after_update(self, q, obs, actions, rewards, next_states, terminated, alpha):
        """Hook after each real update (Dyna-Q plans here); nothing by default."""


class QLearning(_TabularTD):
    r"""Tabular Q-learning (off-policy TD control), with the Stable-Baselines3 surface.

    .. math::

        Q(s_t, a_t) \leftarrow Q(s_t, a_t) + \alpha \big[r_t + \gamma \max_{a'}
        Q(s_{t+1}, a') - Q(s_t, a_t)\big]

    acting epsilon-greedily with :math:`\epsilon` decaying linearly from
    ``exploration_initial_eps`` to ``exploration_final_eps`` over the first
    ``exploration_fraction`` of training (as SB3's DQN). With every pair visited
    infinitely often and step sizes satisfying the Robbins-Monro conditions the table
    converges to :math:`Q^*` (chapter 30 of the notes; the user guide's "Tabular
    methods" has the Taxi-v3 results).

    Parameters
    ----------
    policy : str or type
        ``"TabularPolicy"`` (the table) or a subclass of :class:`TabularPolicy`.
    env : gymnasium.Env, VecEnv or str
        An environment with Discrete observation and action spaces.
    learning_rate : float or callable, default=0.1
        Step size :math:`\alpha`, or a schedule of the remaining progress (1 to 0).
    gamma : float, default=0.99
        Discount factor.
    exploration_fraction : float, default=0.1
        Fraction of training over which epsilon decays.
    exploration_initial_eps : float, default=1.0
        Initial epsilon.
    exploration_final_eps : float, default=0.05
        Final epsilon.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard log folder.
    policy_kwargs : dict, default=None
        Arguments of the policy (``q_init``: initial table value).
    verbose : int, default=0
        0 silent, 1 training statistics.
    seed : int, default=None
        Seed of the global generators, the env and the exploration draws.
    device : str, default="auto"
        Ignored: tabular agents run on the CPU.
    _init_setup_model : bool, default=True
        Build the table at construction.

    Attributes
    ----------
    policy : TabularPolicy
        Holds ``q_table``.
    exploration_rate : float
        Current epsilon.

    See Also
    --------
    SARSA : The on-policy variant.
    ValueIteration : The exact solution when the model is known.

    Examples
    --------
    >>> from mlnotes.rl import QLearning
    >>> agent = QLearning("TabularPolicy", "FrozenLake-v1", seed=0).learn(2_000)
    >>> agent.policy.q_table.shape
    torch.Size([16, 4])
    """

    def _bootstrap(self, q, next_states, new_obs, next_actions, dones):
        return q[next_states].max(axis=1)


class SARSA(_TabularTD):
    r"""Tabular SARSA (on-policy TD control), with the Stable-Baselines3 surface.

    .. math::

        Q(s_t, a_t) \leftarrow Q(s_t, a_t) + \alpha \big[r_t + \gamma\,
        Q(s_{t+1}, a_{t+1}) - Q(s_t, a_t)\big],

    where :math:`a_{t+1}` is the epsilon-greedy action actually taken next, so the table
    learns the value of the exploring policy (safer paths on CliffWalking than
    Q-learning's). After a time-limit truncation the next action is drawn
    epsilon-greedily at the true final state. Chapter 30 of the notes; see the user
    guide's "Tabular methods".

    Parameters
    ----------
    policy : str or type
        ``"TabularPolicy"`` or a subclass of :class:`TabularPolicy`.
    env : gymnasium.Env, VecEnv or str
        An environment with Discrete observation and action spaces.
    learning_rate : float or callable, default=0.1
        Step size, or a schedule of the remaining progress.
    gamma : float, default=0.99
        Discount factor.
    exploration_fraction : float, default=0.1
        Fraction of training over which epsilon decays.
    exploration_initial_eps : float, default=1.0
        Initial epsilon.
    exploration_final_eps : float, default=0.05
        Final epsilon.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard log folder.
    policy_kwargs : dict, default=None
        Arguments of the policy (``q_init``).
    verbose : int, default=0
        Verbosity.
    seed : int, default=None
        Seed of the global generators, the env and the exploration draws.
    device : str, default="auto"
        Ignored: tabular agents run on the CPU.
    _init_setup_model : bool, default=True
        Build the table at construction.

    Attributes
    ----------
    policy : TabularPolicy
        Holds ``q_table``.
    exploration_rate : float
        Current epsilon.

    See Also
    --------
    QLearning : The off-policy variant.

    Examples
    --------
    >>> from mlnotes.rl import SARSA
    >>> agent = SARSA("TabularPolicy", "FrozenLake-v1", seed=0).learn(2_000)
    >>> agent.predict(0, deterministic=True)[0].shape
    ()
    """

    def _bootstrap(self, q, next_states, new_obs, next_actions, dones):
        values = q[new_obs, next_actions]
        if dones.any():
            # a finished episode's next action was drawn at the next episode's first
            # state; the truncated one needs an action at its true final state
            idx = np.flatnonzero(dones)
            acts = self._act(q, next_states[idx], self.exploration_rate)
            values = values.copy()
            values[idx] = q[next_states[idx], acts]
        return values
