"""Clustering: k-means, hierarchical (agglomerative) and spectral clustering (chapters 19-20)."""

from ._kmeans import KMeans, kmeans_plusplus

__all__ = ["KMeans", "kmeans_plusplus"]
