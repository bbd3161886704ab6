"""Compiled passes of EM for Gaussian mixtures (chapter 20 of the notes).

Each pass reads the data once, in blocks of ``BLOCK`` samples stored feature by
feature (``XT`` is ``X`` transposed), so that the loops over the samples of a
block are contiguous and vectorised. For every block it evaluates the weighted
log-densities of all components through the Cholesky factors of the precisions,
normalises them in log space (log-sum-exp, with a vectorised ``exp``), and, in the
fused E+M pass, accumulates the sufficient statistics of the M-step with the
responsibilities it has just computed:

.. math::

    N_k = \\sum_i r_{ik}, \\qquad
    s_k = \\sum_i r_{ik} (x_i - c_k), \\qquad
    S_k = \\sum_i r_{ik} (x_i - c_k)(x_i - c_k)^\\top ,

where the shift :math:`c_k` is the current mean of component :math:`k`: the new
mean is :math:`c_k + s_k / N_k` and the covariance
:math:`S_k / N_k - (s_k / N_k)(s_k / N_k)^\\top` is free of the cancellation that
uncentred moments suffer, with no second pass over the data. The statistics of a
block come from one BLAS product (full, tied) or two (diag, spherical) per
component.

``prec_chol_t[k]`` is the *transpose* of the (upper triangular) Cholesky factor
:math:`U_k` of the precision, :math:`\\Sigma_k^{-1} = U_k U_k^\\top`;
``log_const[k]`` is :math:`\\log \\pi_k + \\log\\det U_k - \\tfrac{d}{2}\\log 2\\pi`.
"""

import numpy as np
from numba import njit

#: samples per block
BLOCK = 128

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer in the bits
_MAGIC_BITS = 4843621399236968448  # the bits of _MAGIC as an int64
# 1 / j! for j = 0..12: Taylor series of exp on |r| <= ln(2) / 2, error below 2e-16
_C0, _C1, _C2, _C3 = 1.0, 1.0, 0.5, 1.0 / 6.0
_C4, _C5, _C6 = 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0
_C7, _C8, _C9 = 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0
_C10, _C11, _C12 = 1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0


@njit(cache=True, nogil=True)
def exp_inplace(x, tbuf):
    """``x[:] = exp(x)`` (1-D, contiguous) to within 2 ulp, in loops LLVM vectorises.

    ``exp(v) = 2^k exp(r)`` with ``k = round(v / ln 2)`` (rounded by adding
    ``1.5 * 2^52``, whose low bits then hold ``k``) and a degree-12 polynomial
    for ``exp(r)``; ``2^k`` is built in the exponent bits. Arguments are clipped
    to [-708, 709]: below, the result is ``exp(-708) ~ 3e-308`` instead of a
    smaller number (harmless where it is added to terms of order one).
    """
    n = x.shape[0]
    for i in range(n):
        v = x[i]
        v = v if v > -708.0 else -708.0
        v = v if v < 709.0 else 709.0
        t = v * _LOG2E + _MAGIC
        kf = t - _MAGIC
        r = (v - kf * _LN2_HI) - kf * _LN2_LO
        p = _C12
        p = p * r + _C11
        p = p * r + _C10
        p = p * r + _C9
        p = p * r + _C8
        p = p * r + _C7
        p = p * r + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        p = p * r + _C1
        p = p * r + _C0
        tbuf[i] = t
        x[i] = p
    bits = tbuf[:n].view(np.int64)
    for i in range(n):
        bits[i] = (bits[i] - _MAGIC_BITS + 1023) << 52
    for i in range(n):
        x[i] *= tbuf[i]


@njit(cache=True, nogil=True)
def _load_block(XT, start, b, means, A):
    """``A[k, :d, t] = x_{start+t} - mu_k``, ``A[k, d, t] = 1``; zero padding past ``b``."""
    K, d = means.shape
    for k in range(K):
        for f in range(d):
            mu = means[k, f]
            row = A[k, f]
            for t in range(b):
                row[t] = XT[f, start + t] - mu
            for t in range(b, BLOCK):
                row[t] = 0.0
        ones = A[k, d]
        for t in range(b):
            ones[t] = 1.0
        for t in range(b, BLOCK):
            ones[t] = 0.0


@njit(cache=True, nogil=True)
def _log_prob_full(A, prec_chol_t, log_const, wlp, acc):
    """``wlp[k, t] = log_const[k] - ||U_k^T (x_t - mu_k)||^2 / 2`` for a block."""
    K = wlp.shape[0]
    d = prec_chol_t.shape[1]
    for k in range(K):
        s = wlp[k]
        for t in range(BLOCK):
            s[t] = 0.0
        for j in range(d):
            for t in range(BLOCK):
                acc[t] = 0.0
            for l in range(j + 1):
                p = prec_chol_t[k, j, l]
                Dl = A[k, l]
                for t in range(BLOCK):
                    acc[t] += p * Dl[t]
            for t in range(BLOCK):
                s[t] += acc[t] * acc[t]
        c = log_const[k]
        for t in range(BLOCK):
            s[t] = c - 0.5 * s[t]


@njit(cache=True, nogil=True)
def _log_prob_diag(A, precisions, log_const, wlp, Q):
    """Diagonal precisions (K, d); ``Q[k, f, t]`` receives the squared differences."""
    K, d = precisions.shape
    for k in range(K):
        s = wlp[k]
        for t in range(BLOCK):
            s[t] = 0.0
        for f in range(d):
            p = precisions[k, f]
            Df = A[k, f]
            q = Q[k, f]
            for t in range(BLOCK):
                v = Df[t] * Df[t]
                q[t] = v
                s[t] += p * v
        c = log_const[k]
        for t in range(BLOCK):
            s[t] = c - 0.5 * s[t]


@njit(cache=True, nogil=True)
def _normalise_block(wlp, b, mx, tot, tbuf):
    """Responsibilities in place of ``wlp`` (zero past ``b``); returns the sum of
    ``log p(x_t)`` over the ``b`` samples of the block."""
    K = wlp.shape[0]
    for t in range(BLOCK):
        mx[t] = wlp[0, t]
    for k in range(1, K):
        row = wlp[k]
        for t in range(BLOCK):
            if row[t] > mx[t]:
                mx[t] = row[t]
    for k in range(K):
        row = wlp[k]
        for t in range(BLOCK):
            row[t] -= mx[t]
    exp_inplace(wlp.reshape(-1), tbuf)
    for t in range(BLOCK):
        tot[t] = 0.0
    for k in range(K):
        row = wlp[k]
        for t in range(BLOCK):
            tot[t] += row[t]
    total = 0.0
    for t in range(b):
        total += mx[t] + np.log(tot[t])
    for t in range(BLOCK):
        tot[t] = 1.0 / tot[t] if t < b else 0.0
    for k in range(K):
        row = wlp[k]
        for t in range(BLOCK):
            row[t] *= tot[t]
    return total


@njit(cache=True, nogil=True)
def em_pass_full(XT, means, prec_chol_t, log_const, stats):
    """E-step and M-step statistics for full (or tied) covariances.

    ``XT`` is (d, n). Returns the sum over samples of ``log p(x_i)``; ``stats``
    (K, d + 1, d + 1) receives ``[[S_k, s_k], [s_k^T, N_k]]`` shifted by ``means``.
    """
    d, n = XT.shape
    K = means.shape[0]
    stats[:, :, :] = 0.0
    A = np.empty((K, d + 1, BLOCK))
    W = np.empty((d + 1, BLOCK))
    wlp = np.empty((K, BLOCK))
    acc = np.empty(BLOCK)
    mx = np.empty(BLOCK)
    tot = np.empty(BLOCK)
    tbuf = np.empty(K * BLOCK)
    total = 0.0
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        _load_block(XT, start, b, means, A)
        _log_prob_full(A, prec_chol_t, log_const, wlp, acc)
        total += _normalise_block(wlp, b, mx, tot, tbuf)
        for k in range(K):
            r = wlp[k]
            Ak = A[k]
            for f in range(d + 1):
                for t in range(BLOCK):
                    W[f, t] = Ak[f, t] * r[t]
            stats[k] += np.dot(W, Ak.T)
    return total


@njit(cache=True, nogil=True)
def em_pass_diag(XT, means, precisions, log_const, stats, S):
    """E-step and M-step statistics for diagonal (or spherical) covariances.

    ``precisions`` is (K, d); ``stats`` (K, d + 1) receives ``[s_k, N_k]`` and ``S``
    (K, d) the shifted second moments of each feature.
    """
    d, n = XT.shape
    K = means.shape[0]
    stats[:, :] = 0.0
    S[:, :] = 0.0
    A = np.empty((K, d + 1, BLOCK))
    Q = np.empty((K, d, BLOCK))
    wlp = np.empty((K, BLOCK))
    mx = np.empty(BLOCK)
    tot = np.empty(BLOCK)
    tbuf = np.empty(K * BLOCK)
    total = 0.0
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        _load_block(XT, start, b, means, A)
        _log_prob_diag(A, precisions, log_const, wlp, Q)
        total += _normalise_block(wlp, b, mx, tot, tbuf)
        for k in range(K):
            r = wlp[k]
            stats[k] += np.dot(A[k], r)
            S[k] += np.dot(Q[k], r)
    return total


@njit(cache=True, nogil=True)
def weighted_log_prob(XT, means, prec_chol_t, precisions, log_const, full):
    """``log pi_k + log N(x_i | mu_k, Sigma_k)`` as an (n, K) array.

    Uses ``prec_chol_t`` (K, d, d) when ``full``, else the diagonal
    ``precisions`` (K, d); the other argument is not read.
    """
    d, n = XT.shape
    K = means.shape[0]
    out = np.empty((n, K))
    A = np.empty((K, d + 1, BLOCK))
    Q = np.empty((K, d, BLOCK))
    wlp = np.empty((K, BLOCK))
    acc = np.empty(BLOCK)
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        _load_block(XT, start, b, means, A)
        if full:
            _log_prob_full(A, prec_chol_t, log_const, wlp, acc)
        else:
            _log_prob_diag(A, precisions, log_const, wlp, Q)
        for t in range(b):
            for k in range(K):
                out[start + t, k] = wlp[k, t]
    return out
