"""Density models: probability mass of discrete data (chapters 47-48)."""

from ._histogram import Histogram
from ._logistic_mixture import DiscretizedLogisticMixture
from ._made import MADE
from ._pixelcnn import PixelCNN

__all__ = ["DiscretizedLogisticMixture", "Histogram", "MADE", "PixelCNN"]
