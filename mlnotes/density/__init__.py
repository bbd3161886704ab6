"""Density models: probability mass of discrete data (chapters 47-48)."""

from ._histogram import Histogram

__all__ = ["Histogram"]
