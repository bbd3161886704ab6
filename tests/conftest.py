"""Test-wide settings: one torch/BLAS thread per xdist worker and reproducible
Hypothesis examples."""

import os
import tempfile

from hypothesis import settings

os.environ.setdefault("OMP_NUM_THREADS", "1")
# SB3's logger makes a new empty folder in the temp directory at every learn() (and our
# offline fit()) unless SB3_LOGDIR names one: one folder per test process instead of
# thousands per run
os.environ.setdefault("SB3_LOGDIR", tempfile.mkdtemp(prefix="mlnotes-tests-sb3-"))

try:  # torch is a runtime dependency; keep one thread per worker
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


# Hypothesis draws the same examples on every run (the settings of its own "ci" profile,
# which it loads by itself only where it sees a CI variable): a failing property then
# fails on every run and on every machine, instead of once in a while. Set
# MLNOTES_HYPOTHESIS_EXPLORE=1 to draw fresh examples (exploring locally); see
# CONTRIBUTING.md, "Tests".
if os.environ.get("MLNOTES_HYPOTHESIS_EXPLORE", "") in ("", "0"):
    settings.register_profile("mlnotes-reproducible", derandomize=True, database=None,
                              print_blob=True)
    settings.load_profile("mlnotes-reproducible")
