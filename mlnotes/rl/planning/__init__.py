"""Planning and optimal control (chapter 33): LQR, iLQR, shooting MPC and MCTS.

The classes are exported from :mod:`mlnotes.rl`.
"""

from ._lqr import LQR, iLQR
from ._shooting import CEM, MPPI, RandomShooting
from ._mcts import MCTS
