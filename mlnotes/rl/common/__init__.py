"""Shared machinery of the agents: base agent, loops, buffers, policies, returns."""

from .base_class import BaseAlgorithm
from .buffers import RolloutBuffer, RolloutBufferSamples
from .distributions import CategoricalDistribution, DiagGaussianDistribution
from .on_policy_algorithm import OnPolicyAlgorithm
from .policies import ActorCriticPolicy, BasePolicy, MlpPolicy
from .schedules import ConstantSchedule, LinearSchedule, get_schedule_fn

__all__ = [
    "BaseAlgorithm",
    "OnPolicyAlgorithm",
    "ActorCriticPolicy",
    "BasePolicy",
    "RolloutBuffer",
    "RolloutBufferSamples",
    "CategoricalDistribution",
    "DiagGaussianDistribution",
    "ConstantSchedule",
    "LinearSchedule",
    "get_schedule_fn",
]
