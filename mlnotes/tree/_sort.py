"""Sorting kernels of the tree builder: introsort of a node's feature values with
their sample indices (the same algorithm as scikit-learn's, so ties come out in the
same order) and an LSD radix sort for large nodes."""

import numpy as np
from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path


# ------------------------------------------------------------------------------- sort


@njit(cache=True, nogil=True, inline="always")
def _swap(v, idx, i, j):
    tv = v[i]
    v[i] = v[j]
    v[j] = tv
    ti = idx[i]
    idx[i] = idx[j]
    idx[j] = ti


@njit(cache=True, nogil=True, _nrt=False)
def _insertion_sort(v, idx, lo, n):
    for i in range(lo + 1, lo + n):
        tv = v[i]
        ti = idx[i]
        j = i
        while j > lo and v[j - 1] > tv:
            v[j] = v[j - 1]
            idx[j] = idx[j - 1]
            j -= 1
        v[j] = tv
        idx[j] = ti


@njit(cache=True, nogil=True, _nrt=False)
def _sift_down(v, idx, lo, start, end):
    root = start
    while True:
        child = root * 2 + 1
        maxind = root
        if child < end and v[lo + maxind] < v[lo + child]:
            maxind = child
        if child + 1 < end and v[lo + maxind] < v[lo + child + 1]:
            maxind = child + 1
        if maxind == root:
            break
        _swap(v, idx, lo + root, lo + maxind)
        root = maxind


@njit(cache=True, nogil=True, _nrt=False)
def _heapsort(v, idx, lo, n):
    start = (n - 2) // 2
    end = n
    while True:
        _sift_down(v, idx, lo, start, end)
        if start == 0:
            break
        start -= 1
    end = n - 1
    while end > 0:
        _swap(v, idx, lo, lo + end)
        _sift_down(v, idx, lo, 0, end)
        end -= 1


@njit(cache=True, nogil=True, inline="always")
def _median3(v, lo, n):
    a = v[lo]
    b = v[lo + n // 2]
    c = v[lo + n - 1]
    if a < b:
        if b < c:
            return b
        elif a < c:
            return c
        return a
    elif b < c:
        if a < c:
            return a
        return c
    return b


@njit(cache=True, nogil=True, _nrt=False)
def sort_values_and_indices(v, idx, lo, n, stack):
    """Sort ``v[lo:lo+n]`` ascending, permuting ``idx[lo:lo+n]`` alongside.

    Introsort (Musser 1997): quicksort with a median-of-three pivot and a
    three-way partition ``[< pivot][== pivot][> pivot]`` (fast on the many ties
    of discrete features), heapsort below a depth limit of ``2 log2 n``,
    insertion sort under 16 elements. ``stack`` (int64, ``(>= 2 log2 n + 2, 3)``)
    holds the pending left parts instead of recursion.
    """
    if n <= 1:
        return
    top = 0
    stack[0, 0] = lo
    stack[0, 1] = n
    stack[0, 2] = 2 * np.int64(np.log2(np.float64(n)))
    top = 1
    while top > 0:
        top -= 1
        lo = stack[top, 0]
        n = stack[top, 1]
        maxd = stack[top, 2]
        while n > 15:
            if maxd <= 0:
                _heapsort(v, idx, lo, n)
                n = 0
                break
            maxd -= 1
            pivot = _median3(v, lo, n)
            i = 0
            left = 0
            right = n
            while i < right:
                if v[lo + i] < pivot:
                    _swap(v, idx, lo + i, lo + left)
                    i += 1
                    left += 1
                elif v[lo + i] > pivot:
                    right -= 1
                    _swap(v, idx, lo + i, lo + right)
                else:
                    i += 1
            if left > 1:
                stack[top, 0] = lo
                stack[top, 1] = left
                stack[top, 2] = maxd
                top += 1
            lo += right
            n -= right
        if n > 1:
            _insertion_sort(v, idx, lo, n)


_RADIX_MIN = 64  # below this many samples introsort beats the radix passes


@njit(cache=True, nogil=True, _nrt=False)
def gather_sorted(X, feat, samples, fv, start, end, sort_stack, keys, keys_tmp, idx_tmp,
                  hist):
    """``fv[start:end] = X[samples[start:end], feat]``, then sort both by value.

    Small nodes use :func:`sort_values_and_indices`. Large ones use a stable LSD
    radix sort on the float32 bit patterns mapped to order-preserving unsigned
    keys (sign bit flipped for positive numbers, all bits for negative ones):
    the four byte histograms are counted while gathering, and a byte on which
    all keys agree costs no pass. Ties may then come out in another order than
    introsort's, which changes nothing but the order of floating-point sums.
    """
    n = end - start
    if n < _RADIX_MIN:
        for p in range(start, end):
            fv[p] = X[samples[p], feat]
        sort_values_and_indices(fv, samples, start, n, sort_stack)
        return
    fbits = fv.view(np.uint32)
    hist[:, :] = 0
    for p in range(start, end):
        fv[p] = X[samples[p], feat]
        u = np.int64(fbits[p])
        if u >= 0x80000000:
            k = u ^ 0xFFFFFFFF
        else:
            k = u | 0x80000000
        keys[p] = k
        hist[0, k & 0xFF] += 1
        hist[1, (k >> 8) & 0xFF] += 1
        hist[2, (k >> 16) & 0xFF] += 1
        hist[3, k >> 24] += 1
    in_tmp = False
    for d in range(4):
        shift = 8 * d
        trivial = False
        total = 0
        for b in range(256):
            c = hist[d, b]
            if c == n:
                trivial = True
                break
            hist[d, b] = total
            total += c
        if trivial:
            continue
        if not in_tmp:
            for p in range(start, end):
                k = keys[p]
                b = (k >> shift) & 0xFF
                dst = start + hist[d, b]
                hist[d, b] += 1
                keys_tmp[dst] = k
                idx_tmp[dst] = samples[p]
        else:
            for p in range(start, end):
                k = keys_tmp[p]
                b = (k >> shift) & 0xFF
                dst = start + hist[d, b]
                hist[d, b] += 1
                keys[dst] = k
                samples[dst] = idx_tmp[p]
        in_tmp = not in_tmp
    if in_tmp:
        for p in range(start, end):
            keys[p] = keys_tmp[p]
            samples[p] = idx_tmp[p]
    for p in range(start, end):
        k = np.int64(keys[p])
        if k >= 0x80000000:
            fbits[p] = k ^ 0x80000000
        else:
            fbits[p] = k ^ 0xFFFFFFFF
