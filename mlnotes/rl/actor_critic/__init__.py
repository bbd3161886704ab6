"""Actor-critic agents (chapter 29)."""

from ._a2c import A2C

__all__ = ["A2C"]
