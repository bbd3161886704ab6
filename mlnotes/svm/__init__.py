"""Support vector machines (chapter 4 of the notes)."""

from ._classes import SVC, SVR
from ._linear_svc import LinearSVC

__all__ = ["LinearSVC", "SVC", "SVR"]
