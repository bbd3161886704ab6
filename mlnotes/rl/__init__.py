"""Reinforcement-learning agents with the Stable-Baselines3 surface (chapters 25-44).

Needs the ``rl`` extra (``pip install "mlnotes[rl]"``: gymnasium and
Stable-Baselines3); without it, importing this module says so, and the rest of mlnotes
works as usual.

Every agent takes ``(policy, env, ...)``, learns with ``learn(total_timesteps)``,
acts with ``predict(obs)`` and saves with ``save(path)`` / ``Agent.load(path)``;
SB3's vectorised envs, callbacks and ``evaluate_policy`` work with them unchanged.
The agents live in sub-packages (``actor_critic``, ``policy_gradient``, ``imitation``)
without an ``__all__`` of their own; this module's ``__all__`` exports them once.
"""

try:  # the agents need the "rl" extra; the rest of mlnotes does not
    import gymnasium as _gymnasium  # noqa: F401
    import stable_baselines3 as _sb3  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"mlnotes.rl needs the reinforcement-learning extra ({_exc.name} is missing): "
        "pip install 'mlnotes[rl]' (gymnasium and stable-baselines3)."
    ) from _exc

from .actor_critic import A2C, DDPG, SAC, TD3
from .policy_gradient import NPG, PPO, REINFORCE, TRPO
from .imitation import BC, DAgger
from .value_based import DQN
from .exploration import RND, CountBonus
from .model_based import MBPO, PETS, DynamicsEnsemble, DynaQ
from .offline._awac import AWAC
from .offline._cql import CQL
from .offline._discrete_cql import DiscreteCQL
from .offline._iql import IQL
from .offline._td3bc import TD3BC
from .planning import CEM, LQR, MCTS, MPPI, RandomShooting, iLQR
from .tabular import (FittedQIteration, PolicyIteration, QLearning, SARSA, TabularPolicy,
                      ValueIteration)

__all__ = [
    "A2C",
    "DDPG",
    "SAC",
    "TD3",
    "NPG",
    "PPO",
    "REINFORCE",
    "TRPO",
    "BC",
    "DAgger",
    "DQN",
    "CountBonus",
    "RND",
    "DynamicsEnsemble",
    "DynaQ",
    "MBPO",
    "PETS",
    "AWAC",
    "CQL",
    "DiscreteCQL",
    "IQL",
    "TD3BC",
    "CEM",
    "LQR",
    "MCTS",
    "MPPI",
    "RandomShooting",
    "iLQR",
    "FittedQIteration",
    "PolicyIteration",
    "QLearning",
    "SARSA",
    "ValueIteration",
]
