"""Policy-gradient agents (chapter 28): REINFORCE and the natural policy gradient.

The agents are documented and exported through :mod:`mlnotes.rl` (its ``__all__``);
this package has no ``__all__`` of its own so that the API reference lists each agent
once.
"""

from ._reinforce import REINFORCE
from ._npg import NPG
from ._ppo import PPO
from ._trpo import TRPO
