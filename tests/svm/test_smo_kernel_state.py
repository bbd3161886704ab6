"""The SMO solver's kernel cache and state are named tuples (issue 20).

The helpers of :func:`mlnotes.svm._smo.smo_solve` read the kernel and the points
from a :class:`QMatrix`, the cached rows from a :class:`KernelCache` and the dual
variables from :class:`Variables` instead of 25 positional arrays: swapped by
position they fail to compile, and rows served by a cache of two slots (evicting)
are the rows of the kernel matrix.
"""

import inspect

import numpy as np
import pytest
from numba.core.errors import TypingError
from sklearn.metrics.pairwise import rbf_kernel

from mlnotes.svm import _smo
from mlnotes.svm._classes import _NO_CSR


def _classification_qmatrix(X, y, gamma):
    m = X.shape[0]
    sq = np.einsum("ij,ij->i", X, X)
    return _smo.QMatrix(False, False, _smo.RBF, gamma, 0.0, 3, X.copy(), sq,
                        np.zeros((1, 1)), _NO_CSR, np.arange(m), y.copy(), np.ones(m),
                        np.arange(m))


def test_helpers_take_named_state():
    for fn, expected in [
        (_smo._get_q, ["i", "length", "qm", "cache"]),
        (_smo._cache_lookup, ["key", "length", "cache"]),
        (_smo._swap_index, ["i", "j", "qm", "var", "cache"]),
        (_smo._select_working_set, ["active_size", "qm", "cache", "var", "eps"]),
        (_smo._reconstruct_gradient, ["active_size", "n", "qm", "cache", "var"]),
    ]:
        assert list(inspect.signature(fn.py_func).parameters) == expected, fn


def test_rows_of_a_two_slot_cache_are_kernel_rows():
    rng = np.random.RandomState(0)
    X = rng.randn(6, 3)
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
    gamma = 0.3
    qm = _classification_qmatrix(X, y, gamma)
    cache = _smo.new_cache(6, 6, 1, 0)  # no bytes: the minimum of two slots
    assert cache.rows.shape == (2, 6)
    Q = np.outer(y, y) * rbf_kernel(X, gamma=gamma)
    # rows asked for in turn, partly then fully: every answer is the row of Q
    # (float32), whichever slot it was evicted from or extended in
    for i, length in [(0, 3), (1, 6), (0, 6), (4, 6), (1, 6), (5, 2), (5, 6)]:
        row = _smo._get_q(i, length, qm, cache)
        np.testing.assert_allclose(row[:length], Q[i, :length], rtol=1e-6)
    # the bookkeeping is consistent: each cached key's slot is owned by it
    for key in range(6):
        s = cache.slot_of[key]
        if s >= 0:
            assert cache.owner[s] == key and cache.rlen[s] == 6


def test_swapped_state_does_not_compile():
    rng = np.random.RandomState(0)
    qm = _classification_qmatrix(rng.randn(4, 2), np.array([1.0, -1.0, 1.0, -1.0]), 0.5)
    cache = _smo.new_cache(4, 4, 1, 0)
    with pytest.raises(TypingError):
        _smo._get_q(0, 4, cache, qm)


@pytest.mark.parametrize("kind", ["SVC", "SVR"])
def test_tiny_cache_fit_equals_sklearn(kind):
    # Two cached rows: every iteration goes through the cache lookup, evictions and
    # (with shrinking) swaps. make test-no-fastpaths runs this file again with the
    # lookup compiled with reference counting: both must give scikit-learn's model.
    from sklearn import svm as sk_svm

    from mlnotes import svm

    rng = np.random.RandomState(3)
    X = rng.randn(120, 4)
    if kind == "SVC":
        y = (X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.3).astype(int)
    else:
        y = np.sin(X[:, 0]) + 0.1 * rng.randn(120)
    params = dict(C=10.0, tol=1e-6, shrinking=True)
    ours = getattr(svm, kind)(cache_size=1e-4, **params).fit(X, y)
    ref = getattr(sk_svm, kind)(**params).fit(X, y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)
