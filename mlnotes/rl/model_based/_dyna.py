r"""Dyna-Q: Q-learning that also learns from a learned tabular model (chapter 34).

After every real transition Dyna-Q (Sutton, 1990) records it in a tabular model
:math:`\hat M(s, a) = (r, s', \text{terminated})` (the last outcome seen; exact for
deterministic environments) and then performs ``n_planning_steps`` simulated
Q-learning updates on pairs :math:`(s, a)` drawn uniformly from those visited,

.. math::

    Q(s, a) \leftarrow Q(s, a) + \alpha \big[\hat r + \gamma (1 - \hat d)
    \max_{a'} Q(\hat s', a') - Q(s, a)\big],

so each real step is reused many times: the simplest form of model-based RL.
"""

from numbers import Integral

from sklearn.utils import check_scalar

from ..tabular._td import QLearning

__all__ = ["DynaQ"]


class DynaQ(QLearning):
    r"""Dyna-Q: tabular Q-learning plus planning updates from a learned model.

    Everything of :class:`~mlnotes.rl.QLearning` (the SB3 surface, epsilon schedule,
    ``"TabularPolicy"``), plus ``n_planning_steps`` simulated updates after each real
    step, replayed from a table of the last outcome observed for each visited
    state-action pair. With ``n_planning_steps=0`` it is Q-learning. Chapter 34 of the
    notes; see the user guide, "Planning".

    Parameters
    ----------
    policy : str or type
        ``"TabularPolicy"``.
    env : gymnasium.Env, VecEnv or str
        An environment with Discrete observation and action spaces.
    learning_rate : float or callable, default=0.1
        Step size of real and simulated updates.
    gamma : float, default=0.99
        Discount factor.
    n_planning_steps : int, default=10
        Simulated updates per real step.
    exploration_fraction : float, default=0.1
        Fraction of training over which epsilon decays.
    exploration_initial_eps : float, default=1.0
        Initial epsilon.
    exploration_final_eps : float, default=0.05
        Final epsilon.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments (``q_init``).
    verbose : int, default=0
        Verbosity.
    seed : int, default=None
        Seed of the global generators, the env, exploration and planning draws.
    device : str, default="auto"
        Ignored: tabular agents run on the CPU.
    _init_setup_model : bool, default=True
        Build the table at construction.

    Attributes
    ----------
    policy : TabularPolicy
        Holds ``q_table``.
    model_ : dict
        ``(state, action) -> (reward, next_state, terminated)`` of the last outcomes
        (not saved: a loaded agent starts with an empty model).

    Examples
    --------
    >>> from mlnotes.rl import DynaQ
    >>> agent = DynaQ("TabularPolicy", "FrozenLake-v1", n_planning_steps=5, seed=0)
    >>> len(agent.learn(500).model_) > 0
    True
    """

    def __init__(self, policy, env, learning_rate=0.1, gamma=0.99, n_planning_steps=10,
                 exploration_fraction=0.1, exploration_initial_eps=1.0,
                 exploration_final_eps=0.05, stats_window_size=100, tensorboard_log=None,
                 policy_kwargs=None, verbose=0, seed=None, device="auto",
                 _init_setup_model=True):
        check_scalar(n_planning_steps, "n_planning_steps", Integral, min_val=0)
        self.n_planning_steps = int(n_planning_steps)
        self.model_ = {}
        super().__init__(policy, env, learning_rate=learning_rate, gamma=gamma,
                         exploration_fraction=exploration_fraction,
                         exploration_initial_eps=exploration_initial_eps,
                         exploration_final_eps=exploration_final_eps,
                         stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs,
                         verbose=verbose, seed=seed, device=device,
                         _init_setup_model=_init_setup_model)

    def _after_update(self, q, obs, actions, rewards, next_states, terminated, alpha):
        model = self.model_
        for s, a, r, s2, d in zip(obs.tolist(), actions.tolist(), rewards.tolist(),
                                  next_states.tolist(), terminated.tolist()):
            if (s, a) not in model:
                self._keys.append((s, a))
            model[(s, a)] = (r, s2, d)
        keys, gamma = self._keys, self.gamma
        for k in self._rng.integers(0, len(keys), self.n_planning_steps):
            s, a = keys[k]
            r, s2, d = model[(s, a)]
            target = r if d else r + gamma * q[s2].max()
            q[s, a] += alpha * (target - q[s, a])

    def _setup_model(self):
        super()._setup_model()
        self.model_ = {}
        self._keys = []
