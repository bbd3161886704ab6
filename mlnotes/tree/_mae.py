"""Absolute-error criterion of the regression tree: weighted medians of every prefix
and suffix of a node's samples (chapter 13 of the notes).

A node's samples ``samples[start:end]`` in their current order define, for every
split position ``p``, a left child ``samples[start:p]`` and a right child
``samples[p:end]``. For each child the leaf value is the weighted median ``m`` of
its targets, and its impurity the mean absolute deviation around it,

.. math::

    H_{\\mathrm{MAE}}(S) = \\frac{1}{N_S} \\sum_{i \\in S} w_i |y_i - m_S| .

The absolute errors of all the prefixes are computed in one forward pass and those
of all the suffixes in one backward pass, in ``O(n log n)``: the samples are
ranked by target, then "activated" one after the other at their rank in a Fenwick
(binary indexed) tree holding prefix sums of ``w`` and ``w y``. The median of the
activated set is the smallest rank whose cumulative weight exceeds half the
total (the mid-point of two ranks when half the total falls exactly between
them), and the absolute error follows from the prefix sums at the median,

.. math::

    \\sum_i w_i |y_i - m| = (W\\!Y_{\\ge m} - m W_{\\ge m}) + (m W_{< m} - W\\!Y_{< m}).

This is the algorithm of scikit-learn's ``MAE`` criterion (>= 1.8), written here
step for step (same ranking sort, same Fenwick search, same order of the sums), so
that the trees are the ones scikit-learn grows.
"""

import numpy as np
from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path

from ._sort import sort_values_and_indices

# rows of the float64 work array ``mf`` (shape (7, n_samples + 1))
LEFT_ABS, RIGHT_ABS, LEFT_MED, RIGHT_MED, TREE_W, TREE_WY, SORTED_Y = 0, 1, 2, 3, 4, 5, 6
# rows of the int64 work array ``mi`` (shape (2, n_samples))
SORTED_IDX, RANKS = 0, 1


@njit(cache=True, nogil=True, _nrt=False)
def _fenwick_reset(tw, twy, size):
    """Clear the first ``size + 1`` cells; returns the largest power of two <= size."""
    for k in range(size + 1):
        tw[k] = 0.0
        twy[k] = 0.0
    p = 1
    while p <= size:
        p <<= 1
    return p >> 1


@njit(cache=True, nogil=True, _nrt=False)
def _fenwick_add(tw, twy, size, idx, wy, w):
    k = idx + 1
    while k <= size:
        tw[k] += w
        twy[k] += wy
        k += k & -k


@njit(cache=True, nogil=True, _nrt=False)
def _fenwick_search(tw, twy, size, max_pow2, target):
    """Smallest rank whose cumulative weight exceeds ``target``.

    Returns ``(rank, prev_rank, w_before, wy_before)``: ``prev_rank != rank``
    when the cumulative weight up to ``prev_rank`` (included) equals ``target``
    exactly; ``w_before``/``wy_before`` are the sums over the ranks before
    ``rank``.
    """
    current = 0
    cw = 0.0
    cwy = 0.0
    bit = max_pow2
    equal_bit = 0
    equal_target = 0.0
    while bit != 0:
        nxt = current + bit
        if nxt <= size:
            node_w = tw[nxt]
            if target == node_w:
                equal_target = target
                equal_bit = bit
                break
            elif target > node_w:
                target -= node_w
                current = nxt
                cw += node_w
                cwy += twy[nxt]
        bit >>= 1
    if bit == 0:
        return current, current, cw, cwy
    prev = current
    while bit != 0:
        nxt = prev + bit
        if nxt <= size:
            node_w = tw[nxt]
            if target > node_w:
                target -= node_w
                prev = nxt
        bit >>= 1
    bit = equal_bit
    target = equal_target
    while bit != 0:
        nxt = current + bit
        if nxt <= size:
            node_w = tw[nxt]
            if target >= node_w:
                target -= node_w
                current = nxt
                cw += node_w
                cwy += twy[nxt]
        bit >>= 1
    return current, prev, cw, cwy


@njit(cache=True, nogil=True, _nrt=False)
def _rank(y, k, samples, start, end, mf, mi, sort_stack):
    """``mf[SORTED_Y, :n]`` = sorted targets of output ``k``; ``mi[RANKS, p]`` = rank
    of ``samples[p]`` among them."""
    n = end - start
    sorted_y = mf[SORTED_Y]
    sorted_idx = mi[SORTED_IDX]
    for p in range(start, end):
        sorted_y[p - start] = y[samples[p], k]
        sorted_idx[p - start] = p - start
    sort_values_and_indices(sorted_y, sorted_idx, 0, n, sort_stack)
    ranks = mi[RANKS]
    for j in range(n):
        ranks[start + sorted_idx[j]] = j


@njit(cache=True, nogil=True, _nrt=False)
def _pass(w, samples, start, end, mf, mi, n, abs_row, med_row):
    """Forward (``start < end``) or backward pass: add ``abs_row[p]`` the absolute
    error and set ``med_row[p]`` to the median of the samples visited so far."""
    tw = mf[TREE_W]
    twy = mf[TREE_WY]
    sorted_y = mf[SORTED_Y]
    ranks = mi[RANKS]
    abs_errors = mf[abs_row]
    medians = mf[med_row]
    max_pow2 = _fenwick_reset(tw, twy, n)
    total_w = 0.0
    total_wy = 0.0
    step = 1 if start < end else -1
    p = start
    for _ in range(n):
        wi = w[samples[p]]
        rank = ranks[p]
        wy = wi * sorted_y[rank]
        _fenwick_add(tw, twy, n, rank, wy, wi)
        total_w += wi
        total_wy += wy
        median_rank, prev_rank, w_left, wy_left = _fenwick_search(
            tw, twy, n, max_pow2, 0.5 * total_w)
        if median_rank != prev_rank:
            median = (sorted_y[prev_rank] + sorted_y[median_rank]) / 2
        else:
            median = sorted_y[median_rank]
        w_right = total_w - w_left
        wy_right = total_wy - wy_left
        medians[p] = median
        abs_errors[p] += (wy_right - median * w_right) + (median * w_left - wy_left)
        p += step


@njit(cache=True, nogil=True, _nrt=False)
def mae_reset(y, w, samples, start, end, n_outputs, mf, mi, sort_stack, node_medians):
    """Absolute errors and medians of every prefix and suffix of ``samples[start:end]``.

    After the call, for a split at ``pos``: ``mf[LEFT_ABS, pos - 1]`` and
    ``mf[RIGHT_ABS, pos]`` are the (output-summed) absolute errors of the left
    and right children, ``mf[LEFT_MED, pos - 1]`` and ``mf[RIGHT_MED, pos]`` their
    medians (of the last output), and ``node_medians[k]`` the median of the node.
    """
    n = end - start
    for p in range(start, end):
        mf[LEFT_ABS, p] = 0.0
        mf[RIGHT_ABS, p] = 0.0
    for k in range(n_outputs):
        _rank(y, k, samples, start, end, mf, mi, sort_stack)
        _pass(w, samples, start, end, mf, mi, n, LEFT_ABS, LEFT_MED)
        _pass(w, samples, end - 1, start - 1, mf, mi, n, RIGHT_ABS, RIGHT_MED)
        node_medians[k] = mf[RIGHT_MED, start]


@njit(cache=True, nogil=True, _nrt=False)
def mae_children(mf, start, pos, end, w_left, w_right, n_outputs):
    """Impurities (mean absolute deviations) of the children of a split at ``pos``."""
    imp_left = 0.0
    if pos > start:
        imp_left += mf[LEFT_ABS, pos - 1]
    imp_right = 0.0
    if pos < end:
        imp_right += mf[RIGHT_ABS, pos]
    return imp_left / (w_left * n_outputs), imp_right / (w_right * n_outputs)
