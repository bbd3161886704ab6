"""Constants of the tree kernels and their random-number generator (chapter 13).

scikit-learn's ``_utils.pyx`` counterpart: the node sentinels (``TREE_LEAF``,
``TREE_UNDEFINED``), the criterion and splitter codes shared by the estimators and
the kernels, and the 32-bit xorshift generator that draws features and thresholds
exactly as scikit-learn's ``rand_r`` does (so that a tree grown here from a
``random_state`` is the tree scikit-learn grows from it).
"""

import numpy as np
from numba import njit

GINI, ENTROPY, SQUARED_ERROR, POISSON, ABSOLUTE_ERROR = 0, 1, 2, 3, 4
BEST, RANDOM = 0, 1

TREE_LEAF = -1
TREE_UNDEFINED = -2

RAND_R_MAX = 2147483647
_FEATURE_THRESHOLD = np.float32(1e-7)
_EPSILON = np.finfo(np.float64).eps  # a node this pure is a leaf
_POISSON_EPSILON = 10 * np.finfo(np.float64).eps
_LN2 = np.log(2.0)
_INF = np.inf
_MAX_FLOAT64 = np.finfo(np.float64).max


# ----------------------------------------------------------------------------- random


@njit(cache=True, nogil=True, inline="always")
def _rand_r(state):
    """32-bit xorshift step (Marsaglia 2003); ``state`` is a length-1 int64 array."""
    s = state[0]
    if s == 0:
        s = 1
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    state[0] = s
    return s % (RAND_R_MAX + 1)


@njit(cache=True, nogil=True, inline="always")
def _rand_int(low, high, state):
    """An integer in ``[low, high)``."""
    return low + _rand_r(state) % (high - low)


@njit(cache=True, nogil=True)
def _rand_uniform(low, high, state):
    """A float in ``[low, high)``."""
    return (high - low) * np.float64(_rand_r(state)) / np.float64(RAND_R_MAX) + low

