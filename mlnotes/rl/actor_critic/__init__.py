"""Actor-critic agents (chapter 29; DDPG, TD3 and SAC, chapters 41-42).

The agents are documented and exported through :mod:`mlnotes.rl` (its ``__all__``);
this package has no ``__all__`` of its own so that the API reference lists each agent
once.
"""

from ._a2c import A2C
from ._ddpg import DDPG
from ._sac import SAC
from ._td3 import TD3
