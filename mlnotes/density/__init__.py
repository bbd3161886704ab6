"""Density models: probability mass of discrete data (chapters 47-48)."""

from ._histogram import Histogram
from ._logistic_mixture import DiscretizedLogisticMixture
from ._made import MADE

__all__ = ["DiscretizedLogisticMixture", "Histogram", "MADE"]
