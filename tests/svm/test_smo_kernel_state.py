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
