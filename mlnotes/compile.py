"""Compile and cache the numba kernels of every estimator: ``python -m mlnotes.compile``.

mlnotes' compiled kernels (trees, SVMs, coordinate descent, k-means, neighbours...) are
numba functions with ``cache=True``: the first call in a fresh install compiles them
(seconds to tens of seconds per estimator), and every later process loads the machine
code from numba's cache in milliseconds. This module pays that once, at install time:
it fits and predicts every estimator of :func:`mlnotes.utils.discovery.all_estimators`
on small data of the usual kinds (float64 features; integer class labels, float
targets, integer levels for density models), in a few worker processes, so that a
user's first ``fit`` finds the kernels of the default code paths already compiled.

``make install`` runs it; after ``pip install mlnotes`` run it once yourself::

    python -m mlnotes.compile            # every estimator, a few processes
    python -m mlnotes.compile SVC Lasso  # only these
    python -m mlnotes.compile --list     # what it would run

Where the cache goes: numba writes next to the module (``__pycache__``) when that
directory is writable, otherwise into its per-user cache directory
(``~/.cache/numba`` on Linux, ``$XDG_CACHE_HOME/numba`` when set), and into
``$NUMBA_CACHE_DIR`` when that variable is set. A read-only (system, container)
install therefore still caches, per user; run this command as that user, or set
``NUMBA_CACHE_DIR`` to a shared writable directory for every user.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

# A command, not part of the API reference (nothing here is exported).
__all__ = []

# Torch estimators run no numba code: nothing to cache (their first call pays torch's
# own start-up, a fraction of a second).
_TORCH_MODULES = ("mlnotes.neural_network", "mlnotes.density._made",
                  "mlnotes.density._pixelcnn", "mlnotes.density._transformer",
                  "mlnotes.density._rnn", "mlnotes.density._logistic_mixture",
                  "mlnotes.density._vae", "mlnotes.density._flow", "mlnotes.density._latent")

#: constructor parameters an estimator needs on the small data (nothing else changes)
_PARAMS = {
    "PixelCNN": dict(image_shape=(4, 4)),
    "CNNClassifier": dict(image_shape=(4, 4)),
    "SpectralClustering": dict(n_clusters=3),
    "AgglomerativeClustering": dict(n_clusters=3),
    "KMeans": dict(n_clusters=3, random_state=0),
    "GaussianMixture": dict(n_components=3, random_state=0),
    # the Johnson-Lindenstrauss default asks for more components than 16 features
    "GaussianRandomProjection": dict(n_components=8, random_state=0),
    "SparseRandomProjection": dict(n_components=8, random_state=0),
}


def _data(kind, n_samples, n_features, seed=0):
    rng = np.random.RandomState(seed)
    if kind == "density":
        X = (rng.rand(n_samples, n_features) < 0.4).astype(np.int64)
        return X, None
    X = rng.normal(size=(n_samples, n_features))
    if kind == "regressor":
        return X, X @ rng.normal(size=n_features) + 0.1 * rng.normal(size=n_samples)
    centers = rng.normal(scale=3.0, size=(3, n_features))
    y = np.arange(n_samples) % 3
    X += centers[y]
    return X, y


def _kind(est):
    from sklearn.base import DensityMixin, is_classifier, is_regressor

    if isinstance(est, DensityMixin):
        return "density"
    if is_classifier(est):
        return "classifier"
    if is_regressor(est):
        return "regressor"
    return "other"  # clusterers, transformers: features only


def is_torch_estimator(cls) -> bool:
    """Whether ``cls`` runs on torch (nothing for numba to compile)."""
    from mlnotes.base import TorchEstimator

    return issubclass(cls, TorchEstimator) or cls.__module__.startswith(_TORCH_MODULES)


def workload(name, cls, n_samples=300, n_features=16, seed=0, extra_params=None):
    """A callable doing a typical first ``fit`` and ``predict`` of ``cls``.

    Parameters
    ----------
    name : str
        The class name (selects the few parameters small data needs).
    cls : type
        The estimator class.
    n_samples, n_features : int
        Size of the generated data.
    seed : int
        Seed of the generated data.
    extra_params : dict or None, default=None
        Further constructor parameters (a non-default code path to compile).

    Returns
    -------
    run : callable
        ``run()`` constructs the estimator, fits it and calls its prediction method
        (``predict``, else ``score_samples``, ``transform`` or ``fit_predict``);
        returns the output.
    """
    params = dict(_PARAMS.get(name, {}), **(extra_params or {}))
    kind = _kind(cls(**params))
    X, y = _data(kind, n_samples, n_features, seed)

    def run():
        est = cls(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind in ("classifier", "regressor"):
                est.fit(X, y)
                return est.predict(X)
            if hasattr(est, "predict") and kind != "density":
                est.fit(X)
                return est.predict(X)
            if hasattr(est, "score_samples"):
                est.fit(X)
                return est.score_samples(X)
            if hasattr(est, "transform"):
                return est.fit(X).transform(X)
            return est.fit_predict(X)

    return run


def _compile_one(name):
    # runs in a worker process
    from mlnotes.utils.discovery import all_estimators

    cls_name, extra = _VARIANTS.get(name, (name, None))
    cls = dict(all_estimators())[cls_name]
    start = time.perf_counter()
    try:
        workload(cls_name, cls, extra_params=extra)()
    except Exception as exc:  # report, never stop the others
        return name, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"
    return name, time.perf_counter() - start, None


def _selected(names=None, include_torch=False):
    from mlnotes.utils.discovery import all_estimators

    estimators = dict(all_estimators())
    if names:
        unknown = sorted(set(names) - set(estimators))
        if unknown:
            raise ValueError(f"unknown estimators {unknown}; known: {sorted(estimators)}")
        return [n for n in estimators if n in names]
    return [n for n, c in estimators.items() if include_torch or not is_torch_estimator(c)]


def compile_estimators(names=None, n_jobs=None, include_torch=False, log=print):
    """Run :func:`workload` of every (or every named) estimator, caching numba code.

    Parameters
    ----------
    names : list of str or None, default=None
        Class names; None means every estimator that uses numba.
    n_jobs : int or None, default=None
        Worker processes; None uses ``min(4, os.cpu_count())``.
    include_torch : bool, default=False
        Also run the torch estimators (nothing to cache; for measurements).
    log : callable, default=print
        Receives one line per estimator.

    Returns
    -------
    failures : dict of str to str
        Estimators whose workload raised, with the error.
    """
    selected = _selected(names, include_torch)
    n_jobs = n_jobs or min(4, os.cpu_count() or 1)
    failures = {}
    start = time.perf_counter()
    # Two waves: first one estimator per kernel module, slowest first (processes must
    # not compile the same kernels side by side), then the rest, which mostly load
    # what the first wave cached.
    first = [n for n in _FIRST_WAVE if n in selected]
    variants = [v for v, (n, _) in _VARIANTS.items() if n in selected]
    waves = [first, [n for n in selected if n not in first] + variants]
    pool = ProcessPoolExecutor(max_workers=n_jobs) if n_jobs != 1 else None
    try:
        for wave in waves:
            if pool is None:
                results = (_compile_one(n) for n in wave)
            else:
                futures = [pool.submit(_compile_one, n) for n in wave]
                results = (f.result() for f in as_completed(futures))
            for name, seconds, error in results:
                log(f"  {name:<32} {seconds:6.1f} s"
                    + (f"  FAILED: {error}" if error else ""))
                if error:
                    failures[name] = error
    finally:
        if pool is not None:
            pool.shutdown()
    log(f"compiled {len(selected) - len(failures)} of {len(selected)} estimators"
        f"{f' (+ {len(variants)} parameter variants)' if variants else ''} in "
        f"{time.perf_counter() - start:.0f} s ({n_jobs} processes)")
    return failures


#: code paths that the defaults do not run but a first fit would otherwise compile
#: for minutes: name -> (estimator, extra constructor parameters); run in the second
#: wave, once the kernels they share with the default path are cached
_VARIANTS = {
    # the best-first builder (its own compiled entry point, see tree/_builder.py)
    "DecisionTreeClassifier(max_leaf_nodes=8)": ("DecisionTreeClassifier",
                                                 dict(max_leaf_nodes=8)),
}

#: one estimator per module of kernels, the slowest to compile first
_FIRST_WAVE = ("DecisionTreeClassifier", "SVC", "KMeans", "SGDClassifier", "ElasticNet",
               "KNeighborsClassifier", "AgglomerativeClustering", "GaussianMixture",
               "LinearSVC", "PolynomialFeatures", "LogisticRegression")


def main(argv=None):
    """Command line: ``python -m mlnotes.compile [--jobs N] [--list] [NAME ...]``.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 when every workload ran, 1 otherwise, 2 for unknown names.
    """
    p = argparse.ArgumentParser(
        prog="python -m mlnotes.compile",
        description="Compile and cache the numba kernels of mlnotes' estimators, so that "
                    "their first fit is fast.")
    p.add_argument("names", nargs="*", help="estimator class names (default: all)")
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="worker processes (default: min(4, CPUs))")
    p.add_argument("--list", action="store_true", help="list the estimators and exit")
    args = p.parse_args(argv)
    try:
        selected = _selected(args.names)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.list:
        print("\n".join(selected))
        return 0
    import numba.core.config as numba_config

    where = numba_config.CACHE_DIR or "next to each module, else the per-user cache"
    print(f"mlnotes: compiling the numba kernels of {len(selected)} estimators "
          f"(cache: {where})", flush=True)
    failures = compile_estimators(args.names or None, args.jobs,
                                  log=lambda m: print(m, flush=True))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
