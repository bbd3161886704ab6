"""Bandits (chapters 36-37): environments, exploration policies and regret bounds."""

from ._bandits import (
    UCB1,
    BernoulliBandit,
    EpsilonGreedy,
    GaussianBandit,
    LinearContextualBandit,
    LinUCB,
    ThompsonSampling,
    lai_robbins_bound,
    simulate,
    ucb1_regret_bound,
)

__all__ = [
    "BernoulliBandit",
    "GaussianBandit",
    "LinearContextualBandit",
    "EpsilonGreedy",
    "UCB1",
    "ThompsonSampling",
    "LinUCB",
    "simulate",
    "lai_robbins_bound",
    "ucb1_regret_bound",
]
