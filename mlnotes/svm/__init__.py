"""Support vector machines (chapter 4 of the notes)."""

from ._classes import SVC, SVR

__all__ = ["SVC", "SVR"]
