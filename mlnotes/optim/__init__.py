"""Optimisers from the notes: the gradient-descent family and backtracking line search
(chapter 3), Newton's method (chapter 10)."""

from ._first_order import adam, gradient_descent, sgd
from ._line_search import backtracking_line_search
from ._newton import NewtonResult, newton
from ._result import OptimResult

__all__ = [
    "gradient_descent",
    "adam",
    "sgd",
    "backtracking_line_search",
    "OptimResult",
    "newton",
    "NewtonResult",
]
