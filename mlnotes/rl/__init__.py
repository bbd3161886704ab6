"""Reinforcement-learning agents with the Stable-Baselines3 surface (chapters 25-29).

Every agent takes ``(policy, env, ...)``, learns with ``learn(total_timesteps)``,
acts with ``predict(obs)`` and saves with ``save(path)`` / ``Agent.load(path)``;
SB3's vectorised envs, callbacks and ``evaluate_policy`` work with them unchanged.
The agents live in sub-packages (``actor_critic``, ``policy_gradient``, ``imitation``)
without an ``__all__`` of their own; this module's ``__all__`` exports them once.
"""

from .actor_critic import A2C, DDPG, SAC, TD3
from .policy_gradient import NPG, PPO, REINFORCE, TRPO
from .imitation import BC, DAgger
from .value_based import DQN
from .exploration import RND, CountBonus
from .model_based import PETS, DynamicsEnsemble, DynaQ
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
    "PETS",
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
    "TabularPolicy",
    "ValueIteration",
]
