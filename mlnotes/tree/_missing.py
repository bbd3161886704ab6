"""Missing values (NaN) in the trees: the kernels that move them during the split
search and route them at prediction (chapter 13 of the notes).

The rule is scikit-learn's (>= 1.3). When the samples of a node have missing
values on the feature being searched, the non-missing values are sorted and each
threshold between two of them is evaluated twice: with the missing samples sent
to the right child, then to the left one; the split "non-missing left, missing
right" (threshold :math:`+\\infty`) is a candidate too. The best of all is kept,
and the side the missing values went to is stored in the node
(``missing_go_to_left``). A node that saw no missing value in training sends a
missing value to its child with more training samples. The random splitter draws
the side of the missing values at random, with the threshold.
"""

import numpy as np
from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path


@njit(cache=True, nogil=True, _nrt=False)
def gather_missing(X, feat, samples, fv, start, end):
    """``fv[start:end - n_missing]`` = the non-missing ``X[samples[p], feat]``, the
    samples with a missing value moved to ``samples[end - n_missing:end]``.

    The same swaps as scikit-learn's dense partitioner (each missing value found
    from the left is exchanged with the last non-missing one), so the samples come
    out in the same order. Returns ``n_missing``.
    """
    n_missing = 0
    i = start
    current_end = end - 1
    while i <= current_end:
        if np.isnan(X[samples[current_end], feat]):
            n_missing += 1
            current_end -= 1
            continue
        if np.isnan(X[samples[i], feat]):
            tmp = samples[i]
            samples[i] = samples[current_end]
            samples[current_end] = tmp
            n_missing += 1
            current_end -= 1
        fv[i] = X[samples[i], feat]
        i += 1
    return n_missing


@njit(cache=True, nogil=True, _nrt=False)
def shift_missing_left(samples, fv, start, end, n_missing, samples_tmp, fv_tmp):
    """Move the ``n_missing`` last entries of ``samples[start:end]`` (and of ``fv``)
    to the front, keeping the order inside both blocks."""
    n_non_missing = end - start - n_missing
    for q in range(n_missing):
        samples_tmp[q] = samples[start + n_non_missing + q]
        fv_tmp[q] = fv[start + n_non_missing + q]
    for q in range(n_non_missing - 1, -1, -1):
        samples[start + n_missing + q] = samples[start + q]
        fv[start + n_missing + q] = fv[start + q]
    for q in range(n_missing):
        samples[start + q] = samples_tmp[q]
        fv[start + q] = fv_tmp[q]


@njit(cache=True, nogil=True, _nrt=False)
def partition_missing(X, feat, samples, start, end, threshold, missing_left):
    """Move the samples going left (``x <= threshold``, or missing and
    ``missing_left``) before the others; returns the first position of the right
    child."""
    lo = start
    hi = end
    while lo < hi:
        v = X[samples[lo], feat]
        if np.isnan(v):
            go_left = missing_left
        else:
            go_left = v <= threshold
        if go_left:
            lo += 1
        else:
            hi -= 1
            tmp = samples[lo]
            samples[lo] = samples[hi]
            samples[hi] = tmp
    return hi


@njit(cache=True, nogil=True)
def has_nan_columns(X):
    """Per-column flag (uint8) of the columns of ``X`` that contain a NaN."""
    n, d = X.shape
    out = np.zeros(d, dtype=np.uint8)
    for j in range(d):
        for i in range(n):
            if np.isnan(X[i, j]):
                out[j] = 1
                break
    return out


@njit(cache=True, nogil=True)
def apply_preorder_missing(X, nodes, old_ids, missing_left):
    """:func:`~mlnotes.tree._predict.apply_preorder` for rows that may hold NaN:
    a missing value fails ``x <= threshold`` and then goes left where
    ``missing_left[node]`` (preorder numbering). On rows without NaN this costs
    one comparison per right branch."""
    n = X.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        node = 0
        while True:
            f = nodes[node].feature
            if f < 0:
                break
            v = X[i, f]
            if v <= nodes[node].threshold:
                node += 1
            elif v != v and missing_left[node]:
                node += 1
            else:
                node = nodes[node].right
        out[i] = old_ids[node]
    return out


@njit(cache=True, nogil=True)
def forest_accumulate_missing(X, roots, nodes, values, missing_left, out):
    """:func:`~mlnotes.tree._predict.forest_accumulate` for rows that may hold NaN."""
    n = X.shape[0]
    n_cols = values.shape[1]
    for t in range(roots.shape[0]):
        root = roots[t]
        for i in range(n):
            node = root
            while True:
                f = nodes[node].feature
                if f < 0:
                    break
                v = X[i, f]
                if v <= nodes[node].threshold:
                    node += 1
                elif v != v and missing_left[node]:
                    node += 1
                else:
                    node = nodes[node].right
            for c in range(n_cols):
                out[i, c] += values[node, c]
