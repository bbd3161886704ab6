"""Nearest-neighbour and prototype methods (chapters 2 and 5 of the notes)."""

from ._base import VALID_METRICS  # noqa: F401  (as sklearn.neighbors.VALID_METRICS)
from ._base import VALID_METRICS_SPARSE  # noqa: F401
from ._classification import KNeighborsClassifier
from ._kd_tree import KDTree
from ._nearest_centroid import NearestCentroid
from ._regression import KNeighborsRegressor

__all__ = ["KDTree", "KNeighborsClassifier", "KNeighborsRegressor", "NearestCentroid"]
