"""Clustering: k-means, hierarchical (agglomerative) and spectral clustering (chapters 19-20)."""

from ._agglomerative import AgglomerativeClustering
from ._kmeans import KMeans, kmeans_plusplus

__all__ = ["AgglomerativeClustering", "KMeans", "kmeans_plusplus"]
