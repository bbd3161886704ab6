"""joblib backends: which one is active, and a row-chunked map that uses it.

mlnotes' estimators with ``n_jobs`` run their parallel work through joblib, so that a
backend chosen by the caller (``joblib.parallel_config(backend="dask")`` with a Dask
``distributed.Client``, Ray's ``ray.util.joblib.register_ray()`` then
``backend="ray"``) distributes it unchanged. Locally the default stays threads:
the compiled kernels (numba ``nogil``) release the GIL, so threads share the fitted
data without copying it. joblib treats ``prefer="threads"`` as a soft hint that a
backend set by the caller overrides; code that writes into shared arrays must say
``require="sharedmem"`` instead, which keeps it on local threads.
"""

import numpy as np
from joblib import delayed, effective_n_jobs
from joblib.parallel import get_active_backend
from sklearn.utils.parallel import Parallel  # propagates scikit-learn's config

__all__ = ["active_backend_name", "is_external_backend", "map_row_chunks", "parallel"]

# joblib's own local backends (module joblib._parallel_backends); any other active
# backend was registered by a cluster library (joblib._dask, ray.util.joblib, ...).
_LOCAL_BACKENDS = {"SequentialBackend": "sequential", "ThreadingBackend": "threading",
                   "LokyBackend": "loky", "MultiprocessingBackend": "multiprocessing"}


def active_backend_name():
    """Name of the joblib backend a ``Parallel(prefer=None)`` call would use now.

    Returns
    -------
    name : str
        ``"loky"``, ``"threading"``, ``"multiprocessing"``, ``"sequential"`` for
        joblib's local backends, otherwise the backend class's name (for example
        ``"DaskDistributedBackend"``, ``"RayBackend"``).
    """
    backend, _ = get_active_backend()
    cls = type(backend)
    if cls.__module__ == "joblib._parallel_backends" and cls.__name__ in _LOCAL_BACKENDS:
        return _LOCAL_BACKENDS[cls.__name__]
    return cls.__name__


def is_external_backend():
    """Whether the caller activated a joblib backend that is not one of joblib's
    local ones (a Dask, Ray or other cluster backend).

    Returns
    -------
    external : bool
    """
    return active_backend_name() not in _LOCAL_BACKENDS.values()


def parallel(n_jobs, **parallel_kw):
    """``Parallel(n_jobs=n_jobs, **parallel_kw)``, except that ``n_jobs=1`` runs the
    tasks here, in order, under every backend.

    joblib's Dask backend ignores ``n_jobs`` (it always uses every thread of the
    cluster), so without this an estimator given ``n_jobs=1`` inside a search that
    runs on Dask would still send each of its trees, chunks or targets to the cluster
    as tasks of their own (nested parallelism: hundreds of small tasks, each shipping
    its data). ``n_jobs=1`` means what scikit-learn documents: no parallelism.

    Parameters
    ----------
    n_jobs : int or None
        joblib's ``n_jobs``.
    **parallel_kw : dict
        Other arguments of :class:`joblib.Parallel` (``prefer``, ``require``,
        ``verbose``).

    Returns
    -------
    parallel : sklearn.utils.parallel.Parallel
        Call it on ``delayed`` tasks; with ``n_jobs=1`` its backend is joblib's
        sequential one (an explicit backend wins over the caller's configuration).
    """
    if n_jobs == 1:
        return Parallel(n_jobs=1, backend="sequential", **parallel_kw)
    return Parallel(n_jobs=n_jobs, **parallel_kw)


def map_row_chunks(func, X, n_jobs, min_rows):
    """``[func(X[a:b]) for each chunk]`` over near-equal row chunks, in parallel.

    The chunks are at least ``min_rows`` long and there are at most
    ``effective_n_jobs(n_jobs)`` of them. Locally they run on joblib threads (the
    kernels release the GIL); under a backend the caller set (Dask, Ray) each chunk
    is one task of that backend, ``func`` and its data shipped to the workers.

    Parameters
    ----------
    func : callable
        Function of a row slice of ``X``; its results are returned, never written
        into shared memory (so that a process or cluster backend works).
    X : array-like of shape (n_rows, ...)
        Rows to split.
    n_jobs : int or None
        joblib's ``n_jobs`` (None: 1, or the active backend's default).
    min_rows : int
        Smallest chunk worth a task of its own.

    Returns
    -------
    results : list
        ``func`` of each chunk, in row order (one element when nothing is split).
    """
    n_rows = X.shape[0]
    n_chunks = min(effective_n_jobs(n_jobs), max(1, n_rows // max(1, min_rows)))
    if n_chunks <= 1:
        return [func(X)]
    bounds = np.linspace(0, n_rows, n_chunks + 1).astype(int)
    return Parallel(n_jobs=n_chunks, prefer="threads")(
        delayed(func)(X[a:b]) for a, b in zip(bounds[:-1], bounds[1:]))
