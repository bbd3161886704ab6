r"""Monte Carlo tree search with UCT for discrete actions (chapter 33).

Each call to ``predict`` grows a search tree from the current state with
``n_simulations`` simulations. A simulation descends the tree choosing, at a node with
visit count :math:`N(s)`,

.. math::

    a = \arg\max_a\; \bar Q(s, a) + c \sqrt{\frac{\ln N(s)}{N(s, a)}}

(untried actions first; Kocsis and Szepesvári, 2006), adds one node, estimates its
value by a random rollout, and backs the discounted return up the path. The action
executed is the most visited at the root. Stochastic transitions are handled by
keeping one child per sampled next state.
"""

import math
from numbers import Integral, Real

import numpy as np
from gymnasium import spaces
from sklearn.utils import check_scalar

from ..tabular._model import ParamsByNameMixin, make_env

__all__ = ["MCTS"]


class _Node:
    __slots__ = ("visits", "action_visits", "action_values", "children", "terminal")

    def __init__(self, n_actions):
        self.visits = 0
        self.action_visits = [0] * n_actions
        self.action_values = [0.0] * n_actions  # running mean of the return
        self.children = {}  # (action, next_state) -> _Node
        self.terminal = False


def _model_from_toy_text(env, rng):
    table = getattr(env.unwrapped, "P", None)
    if table is None:
        return None

    def model(state, action):
        outcomes = table[int(state)][int(action)]
        if len(outcomes) == 1:
            _, next_state, reward, terminated = outcomes[0]
        else:
            probs = np.array([o[0] for o in outcomes])
            _, next_state, reward, terminated = outcomes[rng.choice(len(outcomes), p=probs)]
        return int(next_state), float(reward), bool(terminated)

    return model


class MCTS(ParamsByNameMixin):
    r"""UCT Monte Carlo tree search for discrete actions.

    A planner with the agent surface that makes sense for it: ``predict(observation)``
    searches from that state and returns the most visited root action, so SB3's
    ``evaluate_policy`` runs it. The simulator is a function
    ``model(state, action) -> (next_state, reward, terminated)`` on single states
    (hashable); for gymnasium's toy-text environments (FrozenLake, Taxi, CliffWalking)
    it is built from ``env.unwrapped.P``. Chapter 33 of the notes; see the user guide,
    "Planning".

    Parameters
    ----------
    env : gymnasium.Env or str
        The environment (its Discrete action space, and its model when ``model`` is
        None).
    model : callable, default=None
        ``model(state, action) -> (next_state, reward, terminated)``.
    n_simulations : int, default=500
        Simulations per decision.
    exploration_constant : float, default=1.0
        :math:`c` of the UCT bonus (scale it with the returns).
    gamma : float, default=0.99
        Discount factor.
    max_depth : int, default=100
        Depth limit of a simulation (tree part plus rollout).
    seed : int, default=None
        Seed of the rollouts, tie-breaking and stochastic transitions.

    Attributes
    ----------
    root_ : object
        The root node of the last search (``root_.action_visits``,
        ``root_.action_values``: lists over the actions).

    Examples
    --------
    >>> import gymnasium as gym
    >>> from mlnotes.rl import MCTS
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> planner = MCTS(env, n_simulations=200, seed=0)
    >>> int(planner.predict(14)[0])  # next to the goal: move right
    2
    """

    _param_names = ("env", "model", "n_simulations", "exploration_constant", "gamma",
                    "max_depth", "seed")

    def __init__(self, env, model=None, n_simulations=500, exploration_constant=1.0,
                 gamma=0.99, max_depth=100, seed=None):
        self.env = env
        self.model = model
        self.n_simulations = n_simulations
        self.exploration_constant = exploration_constant
        self.gamma = gamma
        self.max_depth = max_depth
        self.seed = seed
        self._ready = False

    def _params_changed(self):
        self._ready = False  # the tree and model are rebuilt at the next use

    def _setup(self):
        if self._ready:
            return
        check_scalar(self.n_simulations, "n_simulations", Integral, min_val=1)
        check_scalar(self.max_depth, "max_depth", Integral, min_val=1)
        check_scalar(self.gamma, "gamma", Real, min_val=0, max_val=1)
        check_scalar(self.exploration_constant, "exploration_constant", Real, min_val=0)
        self.env = make_env(self.env)
        if not isinstance(self.env.action_space, spaces.Discrete):
            raise ValueError("MCTS needs a Discrete action space, got "
                             f"{self.env.action_space!r}.")
        self._n_actions = int(self.env.action_space.n)
        self._rng = np.random.default_rng(self.seed)
        self._model = self.model if self.model is not None else \
            _model_from_toy_text(self.env, self._rng)
        if self._model is None:
            raise ValueError(
                "MCTS needs a simulator: pass model(state, action) -> (next_state, "
                "reward, terminated), or use a toy-text env (which has env.unwrapped.P)."
            )
        self._ready = True

    def _select(self, node):
        visits = node.action_visits
        untried = [a for a, n in enumerate(visits) if n == 0]
        if untried:
            return untried[int(self._rng.integers(len(untried)))] if len(untried) > 1 \
                else untried[0]
        c_log = self.exploration_constant * math.sqrt(math.log(node.visits))
        scores = [q + c_log / math.sqrt(n) for q, n in zip(node.action_values, visits)]
        top = max(scores)
        best = [a for a, sc in enumerate(scores) if sc == top]
        return best[0] if len(best) == 1 else best[int(self._rng.integers(len(best)))]

    def _rollout(self, state, depth):
        total, discount = 0.0, 1.0
        for _ in range(depth):
            state, reward, terminated = self._model(state, int(self._rng.integers(
                self._n_actions)))
            total += discount * reward
            discount *= self.gamma
            if terminated:
                break
        return total

    def _simulate(self, node, state, depth):
        if depth == 0 or node.terminal:
            return 0.0
        action = self._select(node)
        next_state, reward, terminated = self._model(state, action)
        key = (action, next_state)
        child = node.children.get(key)
        if child is None:
            child = _Node(self._n_actions)
            child.terminal = terminated
            node.children[key] = child
            future = 0.0 if terminated else self._rollout(next_state, depth - 1)
        else:
            future = self._simulate(child, next_state, depth - 1)
        child.visits += 1
        value = reward + self.gamma * future
        node.visits += 1
        node.action_visits[action] += 1
        node.action_values[action] += (value - node.action_values[action]) / \
            node.action_visits[action]
        return value

    def search(self, state):
        """Grow a tree from ``state``; return the root's visit counts per action.

        Parameters
        ----------
        state : hashable
            The current state.

        Returns
        -------
        visits : numpy.ndarray of shape (n_actions,)
            Simulations that started with each action.
        """
        self._setup()
        root = _Node(self._n_actions)
        for _ in range(int(self.n_simulations)):
            self._simulate(root, state, int(self.max_depth))
        self.root_ = root
        return np.array(root.action_visits, dtype=np.float64)

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        """The most visited root action(s) (Stable-Baselines3's ``predict`` signature).

        Parameters
        ----------
        observation : int, hashable or array-like
            One state, or a batch of integer states ``(n_env,)``.
        state : None
            Recurrent state (unused; returned unchanged).
        episode_start : numpy.ndarray, default=None
            Unused (each decision searches afresh).
        deterministic : bool, default=True
            Unused.

        Returns
        -------
        actions : int or numpy.ndarray
            The chosen action(s).
        state : None
            The recurrent state.
        """
        self._setup()
        obs = np.asarray(observation)
        if obs.ndim == 0:
            visits = self.search(obs.item())
            return np.int64(np.argmax(visits)), state
        return np.array([np.argmax(self.search(o.item() if hasattr(o, "item") else o))
                         for o in obs]), state
