"""Tabular methods (chapters 27 and 30): exact dynamic programming on a known MDP,
temporal-difference control from interaction, and fitted Q iteration on a dataset.

The classes are exported from :mod:`mlnotes.rl`.
"""

from ._dp import PolicyIteration, ValueIteration
from ._fqi import FittedQIteration
from ._td import SARSA, QLearning, TabularPolicy
