"""Shared machinery of the agents: base agent, loops, buffers, policies, returns.

The policies (``ActorCriticPolicy``, alias ``MlpPolicy``; ``ActorCriticCnnPolicy``, alias
``CnnPolicy``; ``MultiInputActorCriticPolicy``, alias ``MultiInputPolicy``; ``BasePolicy``) are
``torch.nn.Module`` subclasses importable from here; their reference is the docstring of
:mod:`mlnotes.rl.common.policies` (they are left out of ``__all__`` so that the API pages
do not reproduce the inherited ``torch.nn.Module`` documentation).
"""

from .base_class import BaseAlgorithm
from .buffers import DictRolloutBuffer, RolloutBuffer, RolloutBufferSamples
from .distributions import CategoricalDistribution, DiagGaussianDistribution
from .off_policy_algorithm import OffPolicyAlgorithm, hard_update, polyak_update
from .on_policy_algorithm import OnPolicyAlgorithm
from .policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    BasePolicy,
    CnnPolicy,
    MlpPolicy,
    MultiInputActorCriticPolicy,
    MultiInputPolicy,
)
from .her_replay_buffer import HerReplayBuffer
from .replay_buffer import DictReplayBuffer, NStepReplayBuffer, ReplayBuffer, ReplayBufferSamples
from .schedules import ConstantSchedule, LinearSchedule, get_schedule_fn

__all__ = [
    "BaseAlgorithm",
    "OnPolicyAlgorithm",
    "OffPolicyAlgorithm",
    "ReplayBuffer",
    "NStepReplayBuffer",
    "DictReplayBuffer",
    "HerReplayBuffer",
    "ReplayBufferSamples",
    "polyak_update",
    "hard_update",
    "RolloutBuffer",
    "DictRolloutBuffer",
    "RolloutBufferSamples",
    "CategoricalDistribution",
    "DiagGaussianDistribution",
    "ConstantSchedule",
    "LinearSchedule",
    "get_schedule_fn",
]
