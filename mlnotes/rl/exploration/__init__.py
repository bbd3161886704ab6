"""Exploration bonuses (chapters 36-37) as vectorised-env wrappers for any agent.

The classes are exported from :mod:`mlnotes.rl`.
"""

from ._bonus import RND, CountBonus
