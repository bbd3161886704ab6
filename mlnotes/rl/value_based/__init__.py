"""Value-based agents (chapter 31): DQN and its Q-network policy.

The agents are documented and exported through :mod:`mlnotes.rl` (its ``__all__``);
this package has no ``__all__`` of its own so that the API reference lists each agent
once.
"""

from ._dqn import DQN, CnnPolicy, DQNPolicy, MultiInputPolicy, QNetwork
