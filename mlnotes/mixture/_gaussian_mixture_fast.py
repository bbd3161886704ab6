"""Compiled passes of EM for Gaussian mixtures (chapter 20 of the notes).

Each pass reads the data once. For every sample it evaluates the weighted
log-densities of all components through the Cholesky factors of the precisions,
normalises them in log space (log-sum-exp), and, in the fused E+M pass,
accumulates the sufficient statistics of the M-step with the responsibilities
it has just computed:

.. math::

    N_k = \\sum_i r_{ik}, \\qquad
    s_k = \\sum_i r_{ik} x_i, \\qquad
    S_k = \\sum_i r_{ik} (x_i - c_k)(x_i - c_k)^\\top ,

where the shift :math:`c_k` is the current mean of component :math:`k`: the
covariance :math:`S_k / N_k - (\\mu_k - c_k)(\\mu_k - c_k)^\\top` is then free of
the cancellation that uncentred moments suffer, and no second pass over the
data is needed.

``prec_chol_t[k]`` is the *transpose* of the (upper triangular) Cholesky factor
:math:`U_k` of the precision, :math:`\\Sigma_k^{-1} = U_k U_k^\\top`, so that
:math:`y = U_k^\\top (x - \\mu_k)` reads contiguous rows. ``log_const[k]`` is
:math:`\\log \\pi_k + \\log\\det U_k - \\tfrac{d}{2}\\log 2\\pi`.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _full_row(X, i, means, prec_chol_t, log_const, diff, out):
    K, d = means.shape
    for k in range(K):
        for f in range(d):
            diff[f] = X[i, f] - means[k, f]
        s = 0.0
        for j in range(d):
            acc = 0.0
            for l in range(j + 1):
                acc += prec_chol_t[k, j, l] * diff[l]
            s += acc * acc
        out[k] = log_const[k] - 0.5 * s


@njit(cache=True, nogil=True)
def _diag_row(X, i, means, precisions, log_const, out):
    K, d = means.shape
    for k in range(K):
        s = 0.0
        for f in range(d):
            diff = X[i, f] - means[k, f]
            s += diff * diff * precisions[k, f]
        out[k] = log_const[k] - 0.5 * s


@njit(cache=True, nogil=True)
def _normalise(row, expo):
    """``log sum exp(row)``; ``expo`` receives ``exp(row - max)``; returns (lse, sum)."""
    K = row.shape[0]
    m = row[0]
    for k in range(1, K):
        if row[k] > m:
            m = row[k]
    if m == -np.inf:
        for k in range(K):
            expo[k] = 0.0
        return -np.inf, 0.0
    total = 0.0
    for k in range(K):
        e = np.exp(row[k] - m)
        expo[k] = e
        total += e
    return m + np.log(total), total


@njit(cache=True, nogil=True)
def em_pass_full(X, means, prec_chol_t, log_const, nk, sx, S):
    """E-step and M-step statistics for full (or tied) covariances.

    Returns the sum over samples of ``log p(x_i)``; fills ``nk`` (K,), ``sx``
    (K, d) and the upper triangles of ``S`` (K, d, d), shifted by ``means``.
    """
    n, d = X.shape
    K = means.shape[0]
    nk[:] = 0.0
    sx[:, :] = 0.0
    S[:, :, :] = 0.0
    diff = np.empty(d)
    row = np.empty(K)
    expo = np.empty(K)
    total = 0.0
    for i in range(n):
        _full_row(X, i, means, prec_chol_t, log_const, diff, row)
        lse, sumexp = _normalise(row, expo)
        total += lse
        for k in range(K):
            r = expo[k] / sumexp
            if r == 0.0:
                continue
            nk[k] += r
            for f in range(d):
                diff[f] = X[i, f] - means[k, f]
                sx[k, f] += r * X[i, f]
            for a in range(d):
                ra = r * diff[a]
                for b in range(a, d):
                    S[k, a, b] += ra * diff[b]
    return total


@njit(cache=True, nogil=True)
def em_pass_diag(X, means, precisions, log_const, nk, sx, S):
    """E-step and M-step statistics for diagonal (or spherical) covariances.

    ``precisions`` is (K, d); ``S`` (K, d) receives the shifted second moments
    of each feature.
    """
    n, d = X.shape
    K = means.shape[0]
    nk[:] = 0.0
    sx[:, :] = 0.0
    S[:, :] = 0.0
    row = np.empty(K)
    expo = np.empty(K)
    total = 0.0
    for i in range(n):
        _diag_row(X, i, means, precisions, log_const, row)
        lse, sumexp = _normalise(row, expo)
        total += lse
        for k in range(K):
            r = expo[k] / sumexp
            if r == 0.0:
                continue
            nk[k] += r
            for f in range(d):
                x = X[i, f]
                diff = x - means[k, f]
                sx[k, f] += r * x
                S[k, f] += r * diff * diff
    return total


@njit(cache=True, nogil=True)
def weighted_log_prob_full(X, means, prec_chol_t, log_const):
    """``log pi_k + log N(x_i | mu_k, Sigma_k)`` as an (n, K) array."""
    n, d = X.shape
    K = means.shape[0]
    out = np.empty((n, K))
    diff = np.empty(d)
    row = np.empty(K)
    for i in range(n):
        _full_row(X, i, means, prec_chol_t, log_const, diff, row)
        out[i, :] = row
    return out


@njit(cache=True, nogil=True)
def weighted_log_prob_diag(X, means, precisions, log_const):
    """Same as :func:`weighted_log_prob_full` for diagonal precisions (K, d)."""
    n, d = X.shape
    K = means.shape[0]
    out = np.empty((n, K))
    row = np.empty(K)
    for i in range(n):
        _diag_row(X, i, means, precisions, log_const, row)
        out[i, :] = row
    return out


@njit(cache=True, nogil=True)
def logsumexp_rows(A):
    """``log sum_k exp(A[i, k])`` for each row, stable."""
    n, K = A.shape
    out = np.empty(n)
    expo = np.empty(K)
    for i in range(n):
        out[i] = _normalise(A[i], expo)[0]
    return out
