"""Test-wide settings: one torch/BLAS thread per xdist worker, quiet numba."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

try:  # torch is a runtime dependency; keep one thread per worker
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass
