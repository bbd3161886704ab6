"""The tabular MDP behind a gymnasium toy-text environment, as arrays.

Gymnasium's toy-text environments (FrozenLake, Taxi, CliffWalking, ...) expose their
model as ``env.unwrapped.P[s][a] = [(probability, next_state, reward, terminated), ...]``.
The exact solvers work on three arrays built from it once:

- ``R[s, a]``: the expected immediate reward,
  :math:`\\sum_{s'} p(s' \\mid s, a)\\, r(s, a, s')`;
- ``T[s, a, s']``: the probability of moving to :math:`s'` *and continuing* (transitions
  that terminate the episode are left out, so the value after them is 0);
- ``T`` is kept dense: the toy-text problems have at most a few hundred states.

With them the Bellman operators are one ``einsum`` each:
:math:`Q = R + \\gamma\\, T V`.
"""

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = []


class ParamsByNameMixin:
    """``get_params``/``set_params`` over the constructor arguments in ``_param_names``.

    scikit-learn's parameter protocol (``clone``, grid searches) for the tabular
    solvers and the shooting planners, which hold an environment and are not
    ``BaseEstimator``s. ``_params_changed`` runs after ``set_params``.
    """

    _param_names = ()

    def get_params(self, deep=False):
        """Constructor arguments (scikit-learn protocol).

        Parameters
        ----------
        deep : bool, default=False
            Unused.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        """Set constructor arguments (they take effect at the next ``fit`` or use).

        Parameters
        ----------
        **params : dict
            New values.

        Returns
        -------
        self : object
            The instance.
        """
        for name, value in params.items():
            if name not in self._param_names:
                raise ValueError(f"Invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters are {list(self._param_names)}.")
            setattr(self, name, value)
        self._params_changed()
        return self

    def _params_changed(self):
        """Called after ``set_params``: drop what was built from the old values."""


@dataclass(frozen=True)
class TabularMDP:
    """Expected rewards and continuing transitions of a finite MDP.

    Attributes
    ----------
    rewards : numpy.ndarray of shape (n_states, n_actions)
        Expected immediate reward of each state-action pair.
    transitions : numpy.ndarray of shape (n_states, n_actions, n_states)
        Probability of each next state when the episode goes on (terminating
        transitions are excluded, so rows may sum to less than 1).
    """

    rewards: np.ndarray
    transitions: np.ndarray

    @property
    def n_states(self):
        return self.rewards.shape[0]

    @property
    def n_actions(self):
        return self.rewards.shape[1]

    def q_from_v(self, values, gamma):
        """One Bellman backup: ``Q[s, a] = R[s, a] + gamma * sum_s' T[s, a, s'] V[s']``."""
        return self.rewards + gamma * (self.transitions @ values)

    def evaluate(self, policy, gamma):
        """Exact value of a deterministic policy by one linear solve.

        Solves :math:`(I - \\gamma T_\\pi) V = R_\\pi` where :math:`T_\\pi[s] = T[s,
        \\pi(s)]` and :math:`R_\\pi[s] = R[s, \\pi(s)]`.
        """
        idx = np.arange(self.n_states)
        t_pi = self.transitions[idx, policy]
        r_pi = self.rewards[idx, policy]
        a = np.eye(self.n_states) - gamma * t_pi
        try:
            return np.linalg.solve(a, r_pi)
        except np.linalg.LinAlgError:
            # gamma = 1 with a policy that never terminates: the value is not finite
            raise ValueError(
                "The policy's value is not finite (gamma=1 and the policy can loop "
                "forever without terminating); use gamma < 1."
            ) from None


def make_env(env):
    """Make an env from an id; return it unchanged otherwise."""
    if isinstance(env, str):
        return gym.make(env)
    return env


def check_discrete_spaces(env, algorithm):
    """Raise unless both spaces of ``env`` are ``Discrete`` starting at 0."""
    obs_space = getattr(env, "observation_space", None)
    act_space = getattr(env, "action_space", None)
    for what, space in (("observation", obs_space), ("action", act_space)):
        if not isinstance(space, spaces.Discrete):
            raise ValueError(
                f"{algorithm} needs Discrete observation and action spaces (a tabular "
                f"method); the env's {what} space is {space!r}."
            )
        if int(space.start) != 0:
            raise ValueError(
                f"{algorithm} needs Discrete spaces that start at 0; the env's {what} "
                f"space is {space!r}."
            )
    return int(obs_space.n), int(act_space.n)


def mdp_from_env(env, algorithm="This solver"):
    """Build a :class:`TabularMDP` from ``env.unwrapped.P``.

    Parameters
    ----------
    env : gymnasium.Env or str
        A toy-text environment with a known model (``env.unwrapped.P``).
    algorithm : str, default="This solver"
        Name used in error messages.

    Returns
    -------
    mdp : TabularMDP
        The model as arrays.
    """
    env = make_env(env)
    n_states, n_actions = check_discrete_spaces(env, algorithm)
    model = getattr(getattr(env, "unwrapped", env), "P", None)
    if model is None:
        raise ValueError(
            f"{algorithm} needs the environment's model: env.unwrapped.P[s][a] = "
            "[(probability, next_state, reward, terminated), ...], as gymnasium's "
            f"toy-text environments provide; {type(env.unwrapped).__name__} has no P. Learn "
            "from interaction instead (QLearning, SARSA)."
        )
    rewards = np.zeros((n_states, n_actions))
    transitions = np.zeros((n_states, n_actions, n_states))
    for s in range(n_states):
        for a in range(n_actions):
            outcomes = model[s][a]
            total = 0.0
            for prob, next_state, reward, terminated in outcomes:
                total += prob
                rewards[s, a] += prob * reward
                if not terminated:
                    transitions[s, a, next_state] += prob
            if not np.isclose(total, 1.0):
                raise ValueError(
                    f"The model's probabilities for state {s}, action {a} sum to {total}, "
                    "not 1."
                )
    return TabularMDP(rewards, transitions)
