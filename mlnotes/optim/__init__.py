"""Optimisers from the notes: Newton's method (chapter 10); the gradient-descent family
(chapter 3) is to come."""

from ._newton import NewtonResult, newton

__all__ = ["newton", "NewtonResult"]
