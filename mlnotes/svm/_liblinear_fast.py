"""Compiled coordinate-descent solvers of the linear SVM (liblinear's algorithms).

- :func:`_dual_cd`: dual coordinate descent for the L1-loss (hinge) and L2-loss
  (squared hinge) SVM with an L2 penalty, with random permutations and
  shrinking (Hsieh et al., ICML 2008, Algorithm 3; liblinear's
  ``solve_l2r_l1l2_svc``).
- :func:`_l1r_l2_svc`: primal coordinate descent with one-dimensional Newton
  steps and a line search for the L2-loss SVM with an L1 penalty (Yuan et al.,
  JMLR 2010; liblinear's ``solve_l1r_l2_svc``).

The intercept is liblinear's: one extra, penalised, feature with the constant
value ``bias`` (``intercept_scaling``), whose weight is the last entry of ``w``.
Rows are read from a dense C-ordered array or from CSR arrays (dual); columns
from the transposed dense array or from CSC arrays (primal L1).
"""

import numpy as np
from numba import njit

from mlnotes.linear_model._sgd_fast import _dot_dense, _dot_sparse, _next_uint64

_INF = np.inf


@njit(cache=True, nogil=True)
def _bounded(rng, n):
    """A draw in ``[0, n)`` from the SplitMix64 state ``rng``."""
    return np.intp(_next_uint64(rng) % np.uint64(n))




@njit(cache=True, nogil=True)
def _dual_cd(X, data, indices, indptr, sparse, bias, y, upper, diag, w, alpha, eps,
             max_iter, rng, shrinking):
    r"""Dual coordinate descent for the L2-penalised linear SVM (one binary problem).

    Solves

    .. math::

        \min_{\alpha}\; \tfrac12 \alpha^\top (Q + D) \alpha - e^\top \alpha
        \quad \text{s.t. } 0 \le \alpha_i \le U_i,

    with :math:`Q_{ij} = y_i y_j \tilde x_i^\top \tilde x_j`, keeping
    :math:`w = \sum_i \alpha_i y_i \tilde x_i` up to date. Hinge loss:
    :math:`D = 0`, :math:`U_i = C_i`; squared hinge: :math:`D_{ii} = 1/(2C_i)`,
    :math:`U_i = \infty`.

    Parameters
    ----------
    X, data, indices, indptr, sparse
        The samples (dense C-ordered array, or CSR arrays when ``sparse``).
    bias : float
        Value of the constant feature (0 without intercept).
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    upper, diag : ndarray of shape (n_samples,)
        :math:`U_i` and :math:`D_{ii}`.
    w : ndarray of shape (n_features + 1,)
        Output: primal weights, the last one that of the constant feature.
    alpha : ndarray of shape (n_samples,)
        Output: the dual variables.
    eps : float
        Stopping tolerance on the spread of the projected gradient.
    max_iter : int
        Maximum number of outer iterations (passes over the active samples).
    rng : ndarray of shape (1,), uint64
        SplitMix64 state for the random permutations.
    shrinking : bool
        Whether to drop samples whose bound constraint is firmly active.

    Returns
    -------
    n_iter : int
        Outer iterations run.
    """
    n = y.shape[0]
    n_features = w.shape[0] - 1
    qd = np.empty(n)
    index = np.empty(n, dtype=np.intp)
    for j in range(w.shape[0]):
        w[j] = 0.0
    for i in range(n):
        alpha[i] = 0.0
        s = diag[i] + bias * bias
        if sparse:
            for jj in range(indptr[i], indptr[i + 1]):
                s += data[jj] * data[jj]
        else:
            for j in range(n_features):
                s += X[i, j] * X[i, j]
        qd[i] = s
        index[i] = i
    active = n
    pg_max_old = _INF
    pg_min_old = -_INF
    it = 0
    while it < max_iter:
        pg_max_new = -_INF
        pg_min_new = _INF
        for k in range(active):
            j = k + _bounded(rng, active - k)
            tmp = index[k]
            index[k] = index[j]
            index[j] = tmp
        s = 0
        while s < active:
            i = index[s]
            yi = y[i]
            # (the branch stays here: behind a shared helper the dense loop is
            # no longer vectorised)
            if sparse:
                G = _dot_sparse(data, indices, indptr, i, w)
            else:
                G = _dot_dense(X, i, w)
            G = (G + bias * w[n_features]) * yi - 1.0
            C = upper[i]
            G += alpha[i] * diag[i]
            PG = 0.0
            if alpha[i] == 0.0:
                if G > pg_max_old and shrinking:
                    active -= 1
                    tmp = index[s]
                    index[s] = index[active]
                    index[active] = tmp
                    continue
                elif G < 0.0:
                    PG = G
            elif alpha[i] == C:
                if G < pg_min_old and shrinking:
                    active -= 1
                    tmp = index[s]
                    index[s] = index[active]
                    index[active] = tmp
                    continue
                elif G > 0.0:
                    PG = G
            else:
                PG = G
            pg_max_new = max(pg_max_new, PG)
            pg_min_new = min(pg_min_new, PG)
            if abs(PG) > 1.0e-12:
                alpha_old = alpha[i]
                alpha[i] = min(max(alpha[i] - G / qd[i], 0.0), C)
                d = (alpha[i] - alpha_old) * yi
                if sparse:
                    for jj in range(indptr[i], indptr[i + 1]):
                        w[indices[jj]] += d * data[jj]
                else:
                    for j in range(n_features):
                        w[j] += d * X[i, j]
                w[n_features] += d * bias
            s += 1
        it += 1
        if pg_max_new - pg_min_new <= eps:
            if active == n:
                break
            active = n  # check the shrunk samples before stopping
            pg_max_old = _INF
            pg_min_old = -_INF
            continue
        pg_max_old = pg_max_new
        pg_min_old = pg_min_new
        if pg_max_old <= 0.0:
            pg_max_old = _INF
        if pg_min_old >= 0.0:
            pg_min_old = -_INF
    return it


@njit(cache=True, nogil=True)
def _l1r_l2_svc(Xt, data, indices, indptr, sparse, y, C, w, eps, max_iter, rng):
    r"""Coordinate descent (Newton steps + line search) for the L1-penalised L2-loss SVM.

    Minimises :math:`\|w\|_1 + \sum_i C_i \max(0, 1 - y_i w^\top \tilde x_i)^2`
    one weight at a time, keeping :math:`b_i = 1 - y_i w^\top \tilde x_i` up
    to date, with shrinking of the weights that stay at zero.

    Parameters
    ----------
    Xt, data, indices, indptr, sparse
        The columns: a dense array of shape (n_columns, n_samples) (the
        transposed samples, constant feature included) or CSC arrays.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    C : ndarray of shape (n_samples,)
        Cost of each sample.
    w : ndarray of shape (n_columns,)
        Output: the weights.
    eps : float
        Relative stopping tolerance on the L1 norm of the optimality violation.
    max_iter : int
        Maximum number of outer iterations.
    rng : ndarray of shape (1,), uint64
        SplitMix64 state for the random permutations.

    Returns
    -------
    n_iter : int
        Outer iterations run.
    """
    n_cols = w.shape[0]
    n = y.shape[0]
    max_num_linesearch = 20
    sigma = 0.01
    b = np.ones(n)
    xj_sq = np.zeros(n_cols)
    index = np.arange(n_cols)
    for j in range(n_cols):
        w[j] = 0.0
        s = 0.0
        if sparse:
            for kk in range(indptr[j], indptr[j + 1]):
                s += C[indices[kk]] * data[kk] * data[kk]
        else:
            for i in range(n):
                s += C[i] * Xt[j, i] * Xt[j, i]
        xj_sq[j] = s
    active = n_cols
    g_max_old = _INF
    g_norm1_init = -1.0
    it = 0
    while it < max_iter:
        g_max_new = 0.0
        g_norm1_new = 0.0
        for k in range(active):
            j = k + _bounded(rng, active - k)
            tmp = index[k]
            index[k] = index[j]
            index[j] = tmp
        s = 0
        while s < active:
            j = index[s]
            s += 1
            g_loss = 0.0
            H = 0.0
            if sparse:
                for kk in range(indptr[j], indptr[j + 1]):
                    i = indices[kk]
                    if b[i] > 0.0:
                        val = data[kk] * y[i]
                        tmp = C[i] * val
                        g_loss -= tmp * b[i]
                        H += tmp * val
            else:
                for i in range(n):
                    if b[i] > 0.0:
                        val = Xt[j, i] * y[i]
                        tmp = C[i] * val
                        g_loss -= tmp * b[i]
                        H += tmp * val
            g_loss *= 2.0
            G = g_loss
            H = max(2.0 * H, 1e-12)
            Gp = G + 1.0
            Gn = G - 1.0
            violation = 0.0
            if w[j] == 0.0:
                if Gp < 0.0:
                    violation = -Gp
                elif Gn > 0.0:
                    violation = Gn
                elif Gp > g_max_old / n and Gn < -g_max_old / n:
                    s -= 1
                    active -= 1
                    tmp = index[s]
                    index[s] = index[active]
                    index[active] = tmp
                    continue
            elif w[j] > 0.0:
                violation = abs(Gp)
            else:
                violation = abs(Gn)
            g_max_new = max(g_max_new, violation)
            g_norm1_new += violation

            # Newton direction of the one-dimensional problem
            if Gp < H * w[j]:
                d = -Gp / H
            elif Gn > H * w[j]:
                d = -Gn / H
            else:
                d = -w[j]
            if abs(d) < 1.0e-12:
                continue
            delta = abs(w[j] + d) - abs(w[j]) + G * d
            d_old = 0.0
            loss_old = 0.0
            loss_new = 0.0
            num_linesearch = 0
            while num_linesearch < max_num_linesearch:
                d_diff = d_old - d
                cond = abs(w[j] + d) - abs(w[j]) - sigma * delta
                appxcond = xj_sq[j] * d * d + g_loss * d + cond
                if appxcond <= 0.0:  # sufficient decrease guaranteed by the bound
                    if sparse:
                        for kk in range(indptr[j], indptr[j + 1]):
                            i = indices[kk]
                            b[i] += d_diff * data[kk] * y[i]
                    else:
                        for i in range(n):
                            b[i] += d_diff * Xt[j, i] * y[i]
                    break
                loss_new = 0.0
                if sparse:
                    for kk in range(indptr[j], indptr[j + 1]):
                        i = indices[kk]
                        if num_linesearch == 0 and b[i] > 0.0:
                            loss_old += C[i] * b[i] * b[i]
                        b_new = b[i] + d_diff * data[kk] * y[i]
                        b[i] = b_new
                        if b_new > 0.0:
                            loss_new += C[i] * b_new * b_new
                else:
                    for i in range(n):
                        if num_linesearch == 0 and b[i] > 0.0:
                            loss_old += C[i] * b[i] * b[i]
                        b_new = b[i] + d_diff * Xt[j, i] * y[i]
                        b[i] = b_new
                        if b_new > 0.0:
                            loss_new += C[i] * b_new * b_new
                cond = cond + loss_new - loss_old
                if cond <= 0.0:
                    break
                d_old = d
                d *= 0.5
                delta *= 0.5
                num_linesearch += 1
            w[j] += d
            if num_linesearch >= max_num_linesearch:
                # the line search failed: recompute b from scratch
                for i in range(n):
                    b[i] = 1.0
                for jc in range(n_cols):
                    if w[jc] == 0.0:
                        continue
                    if sparse:
                        for kk in range(indptr[jc], indptr[jc + 1]):
                            i = indices[kk]
                            b[i] -= w[jc] * data[kk] * y[i]
                    else:
                        for i in range(n):
                            b[i] -= w[jc] * Xt[jc, i] * y[i]
        if it == 0:
            g_norm1_init = g_norm1_new
        it += 1
        if g_norm1_new <= eps * g_norm1_init:
            if active == n_cols:
                break
            active = n_cols
            g_max_old = _INF
            continue
        g_max_old = g_max_new
    return it


@njit(cache=True, nogil=True)
def _mcsvm_cs_subproblem(A, B, yi, C_yi, active, alpha_new):
    """Closed-form solution of one sample's Crammer-Singer sub-problem.

    Minimises :math:`\\tfrac12 A \\|\\alpha\\|^2 + B^\\top \\alpha` over the
    ``active`` entries subject to :math:`\\sum_m \\alpha_m = 0`,
    :math:`\\alpha_m \\le C_{y_i}[m = y_i]`: ``alpha_new[m] = min(bound_m,
    (beta - B[m]) / A)`` with the threshold ``beta`` found by sorting
    ``D = B + A C e_{y_i}`` in decreasing order (Crammer & Singer 2001; Keerthi et
    al. 2008).
    """
    D = B[:active].copy()
    if yi < active:
        D[yi] += A * C_yi
    D = np.sort(D)[::-1]
    beta = D[0] - A * C_yi
    r = 1
    while r < active and beta < r * D[r]:
        beta += D[r]
        r += 1
    beta /= r
    for m in range(active):
        if m == yi:
            alpha_new[m] = min(C_yi, (beta - B[m]) / A)
        else:
            alpha_new[m] = min(0.0, (beta - B[m]) / A)


@njit(cache=True, nogil=True)
def _mcsvm_cs(X, data, indices, indptr, sparse, bias, y, C, w, eps, max_iter, rng):
    r"""Sequential dual method for the Crammer-Singer multi-class SVM (liblinear's).

    Solves the dual of

    .. math::

        \min_{W} \tfrac12 \sum_m \|w_m\|^2 + \sum_i C_i \max_m
        \big(1 - [m = y_i] + w_m^\top \tilde x_i - w_{y_i}^\top \tilde x_i\big),

    i.e. :math:`\min_\alpha \tfrac12 \sum_m \|w_m\|^2 + \sum_i \sum_{m \ne y_i}
    \alpha_i^m` with :math:`w_m = \sum_i \alpha_i^m \tilde x_i`,
    :math:`\sum_m \alpha_i^m = 0`, :math:`\alpha_i^m \le C_i [m = y_i]`, one
    sample's :math:`\alpha_i \in \mathbb{R}^k` at a time in random order, each
    sub-problem solved exactly, with shrinking of the classes (and samples)
    whose multipliers sit at their bound (Keerthi, Sundararajan, Chang, Hsieh
    and Lin, KDD 2008; liblinear's ``Solver_MCSVM_CS``).

    Parameters
    ----------
    X, data, indices, indptr, sparse
        The samples (dense C-ordered array, or CSR arrays when ``sparse``).
    bias : float
        Value of the constant feature (0 without intercept).
    y : ndarray of shape (n_samples,), int
        Class index of each sample, in ``0 .. k - 1``.
    C : ndarray of shape (n_samples,)
        Cost of each sample.
    w : ndarray of shape (n_features + 1, k)
        Output: the weights, the last row that of the constant feature.
    eps : float
        Stopping tolerance on the largest violation.
    max_iter : int
        Maximum number of passes.
    rng : ndarray of shape (1,), uint64
        SplitMix64 state for the random permutations.

    Returns
    -------
    n_iter : int
    """
    n = y.shape[0]
    k = w.shape[1]
    nf = w.shape[0] - 1
    alpha = np.zeros((n, k))
    alpha_index = np.empty((n, k), dtype=np.intp)
    qd = np.empty(n)
    index = np.empty(n, dtype=np.intp)
    y_index = np.empty(n, dtype=np.intp)
    active_i = np.empty(n, dtype=np.intp)
    G = np.empty(k)
    B = np.empty(k)
    alpha_new = np.empty(k)
    d_ind = np.empty(k, dtype=np.intp)
    d_val = np.empty(k)
    w[:, :] = 0.0
    for i in range(n):
        for m in range(k):
            alpha_index[i, m] = m
        s = bias * bias
        if sparse:
            for jj in range(indptr[i], indptr[i + 1]):
                s += data[jj] * data[jj]
        else:
            for j in range(nf):
                s += X[i, j] * X[i, j]
        qd[i] = s
        active_i[i] = k
        y_index[i] = y[i]
        index[i] = i
    active = n
    eps_shrink = max(10.0 * eps, 1.0)
    start_from_all = True
    it = 0
    while it < max_iter:
        stopping = -_INF
        for s in range(active):
            j = s + _bounded(rng, active - s)
            tmp = index[s]
            index[s] = index[j]
            index[j] = tmp
        s = 0
        while s < active:
            i = index[s]
            Ai = qd[i]
            if Ai <= 0.0:
                s += 1
                continue
            act = active_i[i]
            yi = y_index[i]
            Ci = C[i]
            for m in range(act):
                G[m] = 1.0
            if yi < act:
                G[yi] = 0.0
            if sparse:
                for jj in range(indptr[i], indptr[i + 1]):
                    f = indices[jj]
                    v = data[jj]
                    for m in range(act):
                        G[m] += w[f, alpha_index[i, m]] * v
            else:
                for f in range(nf):
                    v = X[i, f]
                    if v != 0.0:
                        for m in range(act):
                            G[m] += w[f, alpha_index[i, m]] * v
            if bias != 0.0:
                for m in range(act):
                    G[m] += w[nf, alpha_index[i, m]] * bias
            min_g = _INF
            max_g = -_INF
            for m in range(act):
                if alpha[i, alpha_index[i, m]] < 0.0 and G[m] < min_g:
                    min_g = G[m]
                if G[m] > max_g:
                    max_g = G[m]
            if yi < act:
                if alpha[i, y[i]] < Ci and G[yi] < min_g:
                    min_g = G[yi]
            # shrink the classes whose multiplier sits at its bound
            m = 0
            while m < act:
                bound = Ci if m == yi else 0.0
                if alpha[i, alpha_index[i, m]] == bound and G[m] < min_g:
                    act -= 1
                    while act > m:
                        bound2 = Ci if act == yi else 0.0
                        if not (alpha[i, alpha_index[i, act]] == bound2
                                and G[act] < min_g):
                            tmp = alpha_index[i, m]
                            alpha_index[i, m] = alpha_index[i, act]
                            alpha_index[i, act] = tmp
                            g_tmp = G[m]
                            G[m] = G[act]
                            G[act] = g_tmp
                            if yi == act:
                                yi = m
                            elif yi == m:
                                yi = act
                            break
                        act -= 1
                m += 1
            active_i[i] = act
            y_index[i] = yi
            if act <= 1:
                active -= 1
                tmp = index[s]
                index[s] = index[active]
                index[active] = tmp
                continue
            if max_g - min_g <= 1e-12:
                s += 1
                continue
            stopping = max(max_g - min_g, stopping)
            for m in range(act):
                B[m] = G[m] - Ai * alpha[i, alpha_index[i, m]]
            _mcsvm_cs_subproblem(Ai, B, yi, Ci, act, alpha_new)
            nz = 0
            for m in range(act):
                c = alpha_index[i, m]
                d = alpha_new[m] - alpha[i, c]
                alpha[i, c] = alpha_new[m]
                if abs(d) >= 1e-12:
                    d_ind[nz] = c
                    d_val[nz] = d
                    nz += 1
            if sparse:
                for jj in range(indptr[i], indptr[i + 1]):
                    f = indices[jj]
                    v = data[jj]
                    for q in range(nz):
                        w[f, d_ind[q]] += d_val[q] * v
            else:
                for f in range(nf):
                    v = X[i, f]
                    if v != 0.0:
                        for q in range(nz):
                            w[f, d_ind[q]] += d_val[q] * v
            for q in range(nz):
                w[nf, d_ind[q]] += d_val[q] * bias
            s += 1
        it += 1
        if stopping < eps_shrink:
            if stopping < eps and start_from_all:
                break
            active = n
            for i in range(n):
                active_i[i] = k
            eps_shrink = max(eps_shrink / 2.0, eps)
            start_from_all = True
        else:
            start_from_all = False
    return it
