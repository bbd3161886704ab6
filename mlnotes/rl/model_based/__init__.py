"""Model-based RL (chapters 34-35): learned dynamics.

The classes are exported from :mod:`mlnotes.rl`.
"""

from ._dynamics import DynamicsEnsemble
from ._mbpo import MBPO
from ._pets import PETS, PETSPolicy
from ._dyna import DynaQ
