"""Compiled conjugate gradient of LinearSVC's trust-region Newton method (TRON), small dense data.

:func:`mlnotes.svm._linear_svc._primal_l2_tron` forms the Newton matrix explicitly
for dense problems with at most ``_DIRECT_MAX_WEIGHTS`` weights; its Steihaug
conjugate gradient then spent its time in the overhead of many small NumPy calls
(a few hundred per fit on digits), not in the arithmetic (issue 14). This kernel is
the same loop with the same operations in the same order (the products through
BLAS, as NumPy's), so its steps equal the Python loop's bit for bit.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _trust_region_cg(H, g, delta):
    """Steihaug's CG on ``H s = -g`` inside ``||s|| <= delta``; returns ``(s, r)``."""
    s = np.zeros_like(g)
    r = -g
    d = r.copy()
    tol = 0.1 * np.sqrt(np.dot(g, g))
    rr = np.dot(r, r)
    while np.sqrt(rr) > tol:
        Hd = np.dot(H, d)
        a = rr / np.dot(d, Hd)
        s_next = s + a * d
        if np.sqrt(np.dot(s_next, s_next)) > delta:
            sd, ss, dd = np.dot(s, d), np.dot(s, s), np.dot(d, d)
            rad = np.sqrt(sd * sd + dd * (delta * delta - ss))
            if sd >= 0:
                t = (delta * delta - ss) / (sd + rad)
            else:
                t = (rad - sd) / dd
            return s + t * d, r - t * Hd
        s = s_next
        r = r - a * Hd
        rr_new = np.dot(r, r)
        d = r + (rr_new / rr) * d
        rr = rr_new
    return s, r


@njit(cache=True, nogil=True)
def _scaled_rows(X, rows, scale):
    """``X[rows] * scale[:, None]`` in one pass (the same products as NumPy's)."""
    n_features = X.shape[1]
    out = np.empty((rows.shape[0], n_features))
    for k in range(rows.shape[0]):
        i = rows[k]
        for j in range(n_features):
            out[k, j] = X[i, j] * scale[k]
    return out


@njit(cache=True, nogil=True)
def _block_sum(a, lo, n):
    """NumPy's sum of a block of at most 128: 8 lanes, combined pairwise, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def _pairwise_sum(a):
    """``a.sum()`` in NumPy's order (its pairwise summation: halves cut at multiples of 8
    down to blocks of at most 128), so that the compiled gradient equals NumPy's bit for
    bit. The recursion runs on an explicit stack (numba's cache cannot hold recursive
    functions)."""
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    stage = np.zeros(64, np.int64)
    vals = np.empty(64)
    top, nv = 0, 0
    los[0], ns[0], stage[0] = 0, a.shape[0], 0
    while top >= 0:
        lo, n = los[top], ns[top]
        if n <= 128:
            vals[nv] = _block_sum(a, lo, n)
            nv += 1
            top -= 1
            continue
        n2 = n // 2
        n2 -= n2 % 8
        if stage[top] == 0:  # the left half
            stage[top] = 1
            top += 1
            los[top], ns[top], stage[top] = lo, n2, 0
        elif stage[top] == 1:  # the right half
            stage[top] = 2
            top += 1
            los[top], ns[top], stage[top] = lo + n2, n - n2, 0
        else:  # both done: left + right
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            top -= 1
    return vals[0]


@njit(cache=True, nogil=True)
def _objective(X, bias, y, C, w):
    """``(f(w), z)`` with the margins ``z = y * ([X, bias] w)``, as the Python loop."""
    n = X.shape[1]
    z = y * (np.dot(X, w[:n]) + bias * w[n])
    d = np.maximum(1.0 - z, 0.0)
    return 0.5 * np.dot(w, w) + np.dot(C, d * d), z

@njit(cache=True, nogil=True)
def _gradient(X, bias, y, C, w, z):
    """``w + 2 [X, bias]^T (C min(z - 1, 0) y)``, as the Python loop."""
    n = X.shape[1]
    r = C * np.minimum(z - 1.0, 0.0) * y
    t = np.empty(n + 1)
    t[:n] = np.dot(X.T, r)
    t[n] = bias * _pairwise_sum(r)
    return w + 2.0 * t
