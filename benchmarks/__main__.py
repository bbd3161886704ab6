"""``python -m benchmarks [--quick] [--only NAME] [--list] [--out DIR]``."""

import os
import sys

# One thread everywhere, set before numpy/scipy/torch load their thread pools, so that
# libraries loaded later (lazily, by an estimator) are limited too. threadpoolctl and
# torch.set_num_threads enforce the same limit at run time (see benchmarks.harness).
# ``--threads all`` (every core for everyone) leaves the variables alone.
_ALL = "--threads=all" in sys.argv or any(
    a == "--threads" and b == "all" for a, b in zip(sys.argv, sys.argv[1:]))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    if not _ALL:
        os.environ[_var] = "1"

from benchmarks.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
