"""Compiled kernel sums of :meth:`mlnotes.neighbors.KDTree.kernel_density`.

Kernels are coded by an int (:data:`KERNELS`) and evaluated in log space, so that
the sum over the training points is a log-sum-exp that neither underflows far from
the data nor overflows: :math:`\\log \\sum_j K_h(d_j) = m + \\log \\sum_j
e^{\\log K_h(d_j) - m}` with :math:`m = \\max_j \\log K_h(d_j)`.
"""

import math

import numpy as np
from numba import njit

from ._neighbors_fast import CHEBYSHEV, EUCLIDEAN, MINKOWSKI, _rdist

KERNELS = {"gaussian": 0, "tophat": 1, "epanechnikov": 2, "exponential": 3,
           "linear": 4, "cosine": 5}
#: kernels that vanish beyond the bandwidth (sums over a radius query)
COMPACT = {"tophat", "epanechnikov", "linear", "cosine"}


@njit(cache=True, nogil=True)
def log_kernel(dist, h, kernel):
    """:math:`\\log K_h(d)` (unnormalised: :math:`K_h(0) = 1`)."""
    if kernel == 0:
        return -0.5 * (dist * dist) / (h * h)
    if kernel == 3:
        return -dist / h
    if dist >= h:
        return -np.inf
    if kernel == 1:
        return 0.0
    if kernel == 2:
        return math.log(1.0 - (dist * dist) / (h * h))
    if kernel == 4:
        return math.log(1.0 - dist / h)
    return math.log(math.cos(0.5 * math.pi * dist / h))


@njit(cache=True, nogil=True)
def _to_dist(r, metric, p):
    if metric == EUCLIDEAN:
        return math.sqrt(r)
    if metric == MINKOWSKI:
        return r ** (1.0 / p)
    return r


@njit(cache=True, nogil=True)
def _logsumexp(values, m):
    if m == -np.inf:
        return -np.inf
    s = 0.0
    for v in values:
        s += math.exp(v - m)
    return m + math.log(s)


@njit(cache=True, nogil=True)
def kde_brute(data, X, h, kernel, metric, p, out):
    """``out[i] = log sum_j K_h(d(X[i], data[j]))`` over every training point."""
    n = data.shape[0]
    buf = np.empty(n)
    for i in range(X.shape[0]):
        m = -np.inf
        for j in range(n):
            v = log_kernel(_to_dist(_rdist(X[i], data[j], metric, p), metric, p), h,
                           kernel)
            buf[j] = v
            if v > m:
                m = v
        out[i] = _logsumexp(buf, m)


@njit(cache=True, nogil=True)
def kde_from_radius(counts, dist, h, kernel, out):
    """The same sum from a radius query's distances (compact kernels: the points
    beyond ``h`` add nothing); ``counts[i]`` distances per query, concatenated."""
    start = 0
    for i in range(counts.shape[0]):
        stop = start + counts[i]
        m = -np.inf
        vals = np.empty(stop - start)
        for t in range(start, stop):
            v = log_kernel(dist[t], h, kernel)
            vals[t - start] = v
            if v > m:
                m = v
        out[i] = _logsumexp(vals, m)
        start = stop


def log_kernel_norm(h, d, kernel):
    """Log of the constant making :math:`K_h` a density on :math:`\\mathbb{R}^d`
    (for the Euclidean metric): :math:`-\\log \\int K_h`."""
    log_vn = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1)  # unit ball volume

    def log_sn(n):  # surface of the unit n-sphere in R^{n+1}
        return math.log(2 * math.pi) + (0.5 * (n - 1) * math.log(math.pi)
                                        - math.lgamma(0.5 * (n - 1) + 1))

    if kernel == "gaussian":
        factor = 0.5 * d * math.log(2 * math.pi)
    elif kernel == "tophat":
        factor = log_vn
    elif kernel == "epanechnikov":
        factor = log_vn + math.log(2.0 / (d + 2.0))
    elif kernel == "exponential":
        factor = log_sn(d - 1) + math.lgamma(d)
    elif kernel == "linear":
        factor = log_vn - math.log(d + 1.0)
    else:  # cosine: integral of cos(pi r / 2) r^(d-1) over [0, 1] by parts
        total, term = 0.0, 2.0 / math.pi
        for k in range(1, d + 1, 2):
            total += term
            term *= -(d - k) * (d - k - 1) * (2.0 / math.pi) ** 2
        factor = math.log(total) + log_sn(d - 1)
    return -factor - d * math.log(h)


__all__ = ["CHEBYSHEV", "COMPACT", "KERNELS", "kde_brute", "kde_from_radius",
           "log_kernel_norm"]
