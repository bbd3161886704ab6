"""Nearest-neighbour and prototype methods (chapters 2 and 5 of the notes)."""

from ._nearest_centroid import NearestCentroid

__all__ = ["NearestCentroid"]
