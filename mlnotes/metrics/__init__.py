"""Metrics: the kernels and pairwise distances of chapter 14 (scikit-learn's own).

The kernel functions live in :mod:`mlnotes.metrics.pairwise`; :func:`pairwise_kernels`
is also available here, as in :mod:`sklearn.metrics`.
"""

from . import pairwise
from .pairwise import pairwise_kernels

__all__ = ["pairwise", "pairwise_kernels"]
