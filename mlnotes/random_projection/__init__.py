"""Random projections (chapter 21 of the notes: high-dimensional geometry)."""

from ._random_projection import (
    GaussianRandomProjection,
    SparseRandomProjection,
    johnson_lindenstrauss_min_dim,
)

__all__ = ["GaussianRandomProjection", "SparseRandomProjection",
           "johnson_lindenstrauss_min_dim"]
