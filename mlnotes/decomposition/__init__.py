"""Matrix decompositions: PCA and kernel PCA (chapter 18 of the notes)."""

from ._kernel_pca import KernelPCA
from ._pca import PCA

__all__ = ["KernelPCA", "PCA"]
