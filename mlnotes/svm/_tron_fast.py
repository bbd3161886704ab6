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
