"""Clustering: k-means, hierarchical (agglomerative) and spectral clustering (chapters 19-20)."""

from ._agglomerative import AgglomerativeClustering
from ._kmeans import KMeans, kmeans_plusplus
from ._spectral import SpectralClustering

__all__ = ["AgglomerativeClustering", "KMeans", "SpectralClustering", "kmeans_plusplus"]
