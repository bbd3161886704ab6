"""Probability outputs for SVMs: Platt scaling and pairwise coupling (chapter 4 of the notes).

A binary SVM's decision value :math:`f` becomes a probability through a sigmoid

.. math::

    P(y = +1 \\mid f) = \\frac{1}{1 + \\exp(A f + B)},

whose :math:`(A, B)` minimise the cross-entropy against the regularised targets
:math:`t_+ = (N_+ + 1) / (N_+ + 2)`, :math:`t_- = 1 / (N_- + 2)` (Platt, 1999),
by Newton's method with a backtracking line search (Lin, Lin & Weng, 2007). The
decision values are out-of-fold (5-fold cross-validation), so that the sigmoid
is not fitted to the margins the SVM was trained to push apart.

With :math:`k > 2` classes, the pairwise estimates :math:`r_{ij} \\approx P(y=i
\\mid y \\in \\{i, j\\}, x)` of the one-vs-one SVMs are coupled into one
distribution :math:`p` by the second method of Wu, Lin & Weng (2004):

.. math::

    \\min_p \\sum_i \\sum_{j \\ne i} (r_{ji} p_i - r_{ij} p_j)^2
    \\quad\\text{s.t.}\\quad \\sum_i p_i = 1,

solved by the fixed-point iteration of that paper (as LIBSVM does, also for
:math:`k = 2`, where it converges to :math:`p = (r_{01}, r_{10})`).
"""

import numpy as np
from numba import njit

_MIN_PROB = 1e-7


def _cross_entropy(dec, t, A, B):
    f = dec * A + B
    # t f + log(1 + exp(-f)) for f >= 0, (t - 1) f + log(1 + exp(f)) otherwise
    return np.sum(np.where(f >= 0, t * f, (t - 1.0) * f) + np.log1p(np.exp(-np.abs(f))))


def sigmoid_train(dec, labels):
    """Fit Platt's sigmoid ``1 / (1 + exp(A f + B))`` to ``P(label > 0 | f)``.

    Parameters
    ----------
    dec : ndarray of shape (n,)
        Decision values (out-of-fold).
    labels : ndarray of shape (n,)
        Positive for the ``+1`` class.

    Returns
    -------
    A, B : float
    """
    dec = np.asarray(dec, dtype=np.float64)
    pos = labels > 0
    prior1 = float(np.count_nonzero(pos))
    prior0 = float(dec.size) - prior1
    max_iter, min_step, sigma, eps = 100, 1e-10, 1e-12, 1e-5
    t = np.where(pos, (prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0))
    A, B = 0.0, float(np.log((prior0 + 1.0) / (prior1 + 1.0)))
    fval = _cross_entropy(dec, t, A, B)
    for _ in range(max_iter):
        f = dec * A + B
        e = np.exp(-np.abs(f))
        # p = P(+1) = 1 / (1 + exp(f)), q = 1 - p, computed without overflow
        p = np.where(f >= 0, e / (1.0 + e), 1.0 / (1.0 + e))
        q = 1.0 - p
        d2 = p * q
        h11 = sigma + np.dot(dec * dec, d2)
        h22 = sigma + np.sum(d2)
        h21 = np.dot(dec, d2)
        d1 = t - p
        g1 = np.dot(dec, d1)
        g2 = np.sum(d1)
        if abs(g1) < eps and abs(g2) < eps:
            break
        det = h11 * h22 - h21 * h21
        dA = -(h22 * g1 - h21 * g2) / det
        dB = -(-h21 * g1 + h11 * g2) / det
        gd = g1 * dA + g2 * dB
        step = 1.0
        while step >= min_step:
            newA, newB = A + step * dA, B + step * dB
            newf = _cross_entropy(dec, t, newA, newB)
            if newf < fval + 1e-4 * step * gd:
                A, B, fval = newA, newB, newf
                break
            step /= 2.0
        if step < min_step:  # line search failed: keep the last point
            break
    return A, B


def sigmoid_predict(dec, A, B):
    """``1 / (1 + exp(A f + B))`` without overflow."""
    f = np.asarray(dec) * A + B
    e = np.exp(-np.abs(f))
    return np.where(f >= 0, e / (1.0 + e), 1.0 / (1.0 + e))


@njit(cache=True)
def _couple(r, p, Q, Qp):
    """Wu-Lin-Weng method 2 for one sample: ``r`` (k, k) pairwise -> ``p`` (k,)."""
    k = r.shape[0]
    max_iter = max(100, k)
    eps = 0.005 / k
    for t in range(k):
        p[t] = 1.0 / k
        Q[t, t] = 0.0
        for j in range(t):
            Q[t, t] += r[j, t] * r[j, t]
            Q[t, j] = Q[j, t]
        for j in range(t + 1, k):
            Q[t, t] += r[j, t] * r[j, t]
            Q[t, j] = -r[j, t] * r[t, j]
    for _ in range(max_iter):
        pQp = 0.0
        for t in range(k):
            acc = 0.0
            for j in range(k):
                acc += Q[t, j] * p[j]
            Qp[t] = acc
            pQp += p[t] * acc
        max_error = 0.0
        for t in range(k):
            err = abs(Qp[t] - pQp)
            if err > max_error:
                max_error = err
        if max_error < eps:
            break
        for t in range(k):
            diff = (-Qp[t] + pQp) / Q[t, t]
            p[t] += diff
            pQp = (pQp + diff * (diff * Q[t, t] + 2.0 * Qp[t])) / (1.0 + diff) / (1.0 + diff)
            for j in range(k):
                Qp[j] = (Qp[j] + diff * Q[t, j]) / (1.0 + diff)
                p[j] /= 1.0 + diff


@njit(cache=True)
def _couple_all(pairwise, n_classes):
    """Couple the clipped pairwise probabilities of every row.

    ``pairwise[s, q]`` is ``r_ij`` of the ``q``-th pair ``(i, j)``, ``i < j``, in
    LIBSVM's order.
    """
    n = pairwise.shape[0]
    out = np.empty((n, n_classes))
    r = np.zeros((n_classes, n_classes))
    Q = np.empty((n_classes, n_classes))
    Qp = np.empty(n_classes)
    p = np.empty(n_classes)
    for s in range(n):
        q = 0
        for i in range(n_classes):
            for j in range(i + 1, n_classes):
                r[i, j] = pairwise[s, q]
                r[j, i] = 1.0 - pairwise[s, q]
                q += 1
        _couple(r, p, Q, Qp)
        out[s] = p
    return out


def pairwise_coupling(dec, probA, probB, n_classes):
    """Class probabilities from the one-vs-one decision values, as LIBSVM.

    Parameters
    ----------
    dec : ndarray of shape (n_samples, n_classes * (n_classes - 1) / 2)
        Decision values of the pairs ``(i, j)``, positive towards ``i``.
    probA, probB : ndarray of shape (n_pairs,)
        Platt's sigmoid of each pair.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
    """
    r = np.clip(sigmoid_predict(dec, probA, probB), _MIN_PROB, 1.0 - _MIN_PROB)
    return _couple_all(np.ascontiguousarray(r, dtype=np.float64), n_classes)
