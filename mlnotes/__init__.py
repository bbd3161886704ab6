"""mlnotes: the methods of a set of machine-learning course notes, as tested estimators and agents."""

__version__ = "0.1.0.dev0"

from mlnotes._numba_cache import ensure_cache_dir as _ensure_numba_cache_dir

_ensure_numba_cache_dir()  # a read-only install without a writable home still caches

from mlnotes._fastpaths import separate_numba_cache as _separate_numba_cache

_separate_numba_cache()  # MLNOTES_DISABLE_FASTPATHS=1: kernels compiled and cached apart
