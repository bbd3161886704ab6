"""Compiled coordinate descent for the elastic net (chapter 12 of the notes).

Both kernels minimise, for one target,

    P(w) = 1/2 ||y - X w||^2 + alpha ||w||_1 + beta/2 ||w||^2

(``alpha`` and ``beta`` are the estimator's penalties times ``n_samples``), one
coordinate at a time, and run the whole epoch loop in one call:

- :func:`enet_coordinate_descent` reads the columns of ``X`` as the rows of
  ``Xt = X.T`` (a C-ordered ``(n_features, n_samples)`` array, i.e. ``X`` in
  Fortran order) and keeps the residual ``R = y - X w`` up to date after each
  coordinate move (an axpy), so one coordinate costs two passes over a column.
- :func:`enet_coordinate_descent_gram` works on ``Q = X^T X`` and ``q = X^T y``
  instead, keeping ``Q w`` up to date: one coordinate costs ``O(n_features)``.

The stopping rule, the gap-safe screening of features and the random
coordinate choice (a xorshift generator seeded from ``random_state``) follow
scikit-learn's ``_cd_fast.pyx`` step by step, so that ``n_iter_`` and
``dual_gap_`` can be compared with scikit-learn's. The kernels return a status
instead of warning; the Python caller turns it into a ``ConvergenceWarning`` or,
when the iterates or the gap overflow, an error.
"""

import numpy as np
from numba import njit

# Largest value of the xorshift generator (2**31 - 1), as in scikit-learn.
RAND_R_MAX = 2147483647
_DEFAULT_SEED = 1
_MASK32 = 0xFFFFFFFF

# status returned by the kernels
CONVERGED, MAX_ITER, NONFINITE = 0, 1, 2


@njit(cache=True, nogil=True)
def _rand_int(end, state):
    """Draw an integer in ``[0, end)`` with the xorshift32 generator ``state[0]``."""
    s = state[0]
    if s == 0:
        s = _DEFAULT_SEED
    s ^= (s << 13) & _MASK32
    s ^= s >> 17
    s ^= (s << 5) & _MASK32
    state[0] = s
    return (s % (RAND_R_MAX + 1)) % end


@njit(cache=True, nogil=True)
def _soft_threshold(tmp, alpha, denom, positive):
    """Coordinate minimiser ``S(tmp, alpha) / denom`` (zero for negative ``tmp`` if positive)."""
    if positive and tmp < 0.0:
        return 0.0
    # sign(tmp) * max(|tmp| - alpha, 0) / denom, signed zeros included
    return np.sign(tmp) * max(abs(tmp) - alpha, 0.0) / denom


@njit(cache=True, nogil=True)
def _gap_from_parts(alpha, beta, w, XtA, R_norm2, Ry, positive):
    """Duality gap from ``XtA = X^T R - beta w`` (alpha > 0) or ``X^T R`` (alpha = 0).

    Returns ``(gap, dual_norm_XtA)``. With ``alpha > 0`` the dual point is the
    residual rescaled into the feasible set ``||X^T v||_inf <= alpha``
    (formulation A); with ``alpha = 0 < beta`` the ridge dual (formulation B);
    with ``alpha = beta = 0`` the squared gradient ``||X^T R||^2``.
    """
    n_features = w.shape[0]
    w_l2_norm2 = 0.0
    if beta > 0.0:
        for j in range(n_features):
            w_l2_norm2 += w[j] * w[j]
    if alpha == 0.0:
        dual_norm = 0.0
        for j in range(n_features):
            dual_norm += XtA[j] * XtA[j]
        if beta == 0.0:
            return dual_norm, dual_norm
        gap = R_norm2 + 0.5 * beta * w_l2_norm2 - Ry + dual_norm / (2.0 * beta)
        return gap, dual_norm
    dual_norm = 0.0
    w_l1_norm = 0.0
    if positive:
        dual_norm = XtA[0]
        for j in range(1, n_features):
            if XtA[j] > dual_norm:
                dual_norm = XtA[j]
    else:
        for j in range(n_features):
            if abs(XtA[j]) > dual_norm:
                dual_norm = abs(XtA[j])
    for j in range(n_features):
        w_l1_norm += abs(w[j])
    primal = 0.5 * (R_norm2 + beta * w_l2_norm2) + alpha * w_l1_norm
    scale = alpha / dual_norm if dual_norm > alpha else 1.0
    dual = -0.5 * scale * scale * (R_norm2 + beta * w_l2_norm2) + scale * Ry
    return primal - dual, dual_norm


@njit(cache=True, nogil=True)
def _gap_dense(w, alpha, beta, Xt, y, R, XtA, positive):
    """Duality gap of the current iterate; fills ``XtA`` in place."""
    R_norm2 = np.dot(R, R)
    Ry = np.dot(R, y)
    XtA[:] = np.dot(Xt, R)
    if alpha != 0.0:
        for j in range(w.shape[0]):
            XtA[j] -= beta * w[j]
    return _gap_from_parts(alpha, beta, w, XtA, R_norm2, Ry, positive)


@njit(cache=True, nogil=True)
def _screen_dense(first, w, alpha, beta, Xt, R, XtA, dual_norm, gap, norm2, active,
                  excluded):
    """Gap-safe screening (Fercoq et al. 2015, eq. 11): drop features that are zero
    at every solution inside the gap ball; their coefficient is set to zero and the
    residual corrected. Returns the number of active features, listed in ``active``."""
    n_active = 0
    radius = np.sqrt(2.0 * gap) / alpha
    denom = max(alpha, dual_norm)
    for j in range(w.shape[0]):
        if first:
            if norm2[j] == 0.0:
                w[j] = 0.0
                excluded[j] = True
                continue
        elif excluded[j]:
            continue
        d_j = (1.0 - abs(XtA[j] / denom)) / np.sqrt(norm2[j] + beta)
        if d_j <= radius:
            active[n_active] = j
            excluded[j] = False
            n_active += 1
        else:
            if w[j] != 0.0:
                _axpy(w[j], Xt[j], R)
                w[j] = 0.0
            excluded[j] = True
    return n_active


@njit(cache=True, nogil=True)
def _axpy(a, x, y):
    """``y += a * x`` in place."""
    for i in range(y.shape[0]):
        y[i] += a * x[i]


@njit(cache=True, nogil=True)
def enet_coordinate_descent(w, alpha, beta, Xt, y, max_iter, tol, seed, random,
                            positive, do_screening):
    """Cyclic or random coordinate descent on the elastic net, ``X`` given as ``Xt = X.T``.

    Parameters
    ----------
    w : ndarray of shape (n_features,)
        Initial coefficients, updated in place.
    alpha, beta : float
        L1 and L2 penalties of the unnormalised objective ``P(w)``.
    Xt : C-contiguous ndarray of shape (n_features, n_samples)
        The transposed design matrix (``X`` in Fortran order).
    y : C-contiguous ndarray of shape (n_samples,)
        Target.
    max_iter : int
        Maximum number of epochs (passes over the active features).
    tol : float
        Relative tolerance: an epoch whose largest move is at most ``tol``
        times the largest coefficient triggers a duality-gap check, and the
        loop stops when the gap is at most ``tol * ||y||^2``.
    seed : int
        Seed of the xorshift generator (``selection="random"``).
    random, positive, do_screening : bool
        Random coordinate order; non-negative coefficients; gap-safe screening.

    Returns
    -------
    gap : float
        Duality gap at the returned ``w``.
    tol : float
        ``tol * ||y||^2``, the target of the gap.
    n_iter : int
        Number of epochs run.
    status : int
        ``CONVERGED`` (the gap reached the target), ``MAX_ITER`` (it did not
        within ``max_iter`` epochs) or ``NONFINITE`` (a coefficient or the gap
        overflowed: the descent stopped early).
    """
    n_features, n_samples = Xt.shape
    norm2 = np.empty(n_features)
    for j in range(n_features):
        norm2[j] = np.dot(Xt[j], Xt[j])
    R = y.copy()
    for j in range(n_features):
        if w[j] != 0.0:
            _axpy(-w[j], Xt[j], R)
    XtA = np.empty(n_features, dtype=Xt.dtype)
    state = np.array([seed], dtype=np.int64)
    d_w_tol = tol
    tol = tol * np.dot(y, y)
    if alpha == 0.0:
        do_screening = False
    active = np.arange(n_features)
    excluded = np.zeros(n_features, dtype=np.bool_)

    gap, dual_norm = _gap_dense(w, alpha, beta, Xt, y, R, XtA, positive)
    if not np.isfinite(gap):
        return gap, tol, 0, NONFINITE
    if gap <= tol:
        return gap, tol, 0, CONVERGED
    n_active = n_features
    if do_screening:
        n_active = _screen_dense(True, w, alpha, beta, Xt, R, XtA, dual_norm, gap, norm2,
                                 active, excluded)

    n_iter = 0
    status = MAX_ITER
    for n_iter in range(max_iter):
        w_max = 0.0
        d_w_max = 0.0
        for f_iter in range(n_active):
            jj = _rand_int(n_active, state) if random else f_iter
            j = active[jj] if do_screening else jj
            if norm2[j] == 0.0:
                continue
            w_j = w[j]
            xj = Xt[j]
            # tmp = X[:, j] @ (R + w_j X[:, j]): the partial residual's correlation
            tmp = np.dot(xj, R) + w_j * norm2[j]
            new = _soft_threshold(tmp, alpha, norm2[j] + beta, positive)
            w[j] = new
            if new != w_j:
                _axpy(w_j - new, xj, R)
            d_w_max = max(d_w_max, abs(new - w_j))
            w_max = max(w_max, abs(new))
        if not np.isfinite(w_max):
            status = NONFINITE
            break
        if w_max == 0.0 or d_w_max / w_max <= d_w_tol or n_iter == max_iter - 1:
            gap, dual_norm = _gap_dense(w, alpha, beta, Xt, y, R, XtA, positive)
            if not np.isfinite(gap):
                status = NONFINITE
                break
            if gap <= tol:
                status = CONVERGED
                break
            if do_screening:
                n_active = _screen_dense(False, w, alpha, beta, Xt, R, XtA, dual_norm,
                                         gap, norm2, active, excluded)
    return gap, tol, n_iter + 1, status


@njit(cache=True, nogil=True)
def _gap_gram(w, alpha, beta, Qw, q, y_norm2, XtA, positive):
    """Duality gap from the Gram quantities; fills ``XtA`` in place."""
    q_dot_w = np.dot(w, q)
    R_norm2 = y_norm2 + np.dot(w, Qw) - 2.0 * q_dot_w
    Ry = y_norm2 - q_dot_w
    for j in range(w.shape[0]):
        XtA[j] = q[j] - Qw[j]
        if alpha != 0.0:
            XtA[j] -= beta * w[j]
    return _gap_from_parts(alpha, beta, w, XtA, R_norm2, Ry, positive)


@njit(cache=True, nogil=True)
def _screen_gram(first, w, alpha, beta, Q, Qw, XtA, dual_norm, gap, active, excluded):
    """Gap-safe screening with the Gram matrix (see :func:`_screen_dense`)."""
    n_active = 0
    radius = np.sqrt(2.0 * abs(gap)) / alpha  # rounding may make the gap negative
    denom = max(alpha, dual_norm)
    for j in range(w.shape[0]):
        if first:
            if Q[j, j] == 0.0:
                w[j] = 0.0
                excluded[j] = True
                continue
        elif excluded[j]:
            continue
        d_j = (1.0 - abs(XtA[j] / denom)) / np.sqrt(Q[j, j] + beta)
        if d_j <= radius:
            active[n_active] = j
            excluded[j] = False
            n_active += 1
        else:
            if w[j] != 0.0:
                _axpy(-w[j], Q[j], Qw)
                w[j] = 0.0
            excluded[j] = True
    return n_active


@njit(cache=True, nogil=True)
def enet_coordinate_descent_gram(w, alpha, beta, Q, q, y_norm2, max_iter, tol, seed,
                                 random, positive, do_screening):
    """Coordinate descent on ``1/2 w^T Q w - q^T w + alpha ||w||_1 + beta/2 ||w||^2``.

    With ``Q = X^T X``, ``q = X^T y`` and ``y_norm2 = y^T y`` this is the elastic
    net of :func:`enet_coordinate_descent` (same arguments and returns, ``Q``
    C-contiguous); each coordinate costs ``O(n_features)`` instead of
    ``O(n_samples)``.
    """
    n_features = Q.shape[0]
    Qw = np.dot(Q, w)
    XtA = np.zeros(n_features, dtype=Q.dtype)
    state = np.array([seed], dtype=np.int64)
    d_w_tol = tol
    tol = tol * y_norm2
    if alpha == 0.0:
        do_screening = False
    active = np.arange(n_features)
    excluded = np.zeros(n_features, dtype=np.bool_)

    gap, dual_norm = _gap_gram(w, alpha, beta, Qw, q, y_norm2, XtA, positive)
    if not np.isfinite(gap):
        return gap, tol, 0, NONFINITE
    if 0.0 <= gap <= tol:  # a singular Q may give a (spurious) negative gap
        return gap, tol, 0, CONVERGED
    n_active = n_features
    if do_screening:
        n_active = _screen_gram(True, w, alpha, beta, Q, Qw, XtA, dual_norm, gap, active,
                                excluded)

    n_iter = 0
    status = MAX_ITER
    for n_iter in range(max_iter):
        w_max = 0.0
        d_w_max = 0.0
        for f_iter in range(n_active):
            jj = _rand_int(n_active, state) if random else f_iter
            j = active[jj] if do_screening else jj
            Qjj = Q[j, j]
            if Qjj == 0.0:
                continue
            w_j = w[j]
            tmp = q[j] - Qw[j] + w_j * Qjj
            new = _soft_threshold(tmp, alpha, Qjj + beta, positive)
            w[j] = new
            if new != w_j:
                _axpy(new - w_j, Q[j], Qw)
            d_w_max = max(d_w_max, abs(new - w_j))
            w_max = max(w_max, abs(new))
        if not np.isfinite(w_max):
            status = NONFINITE
            break
        if w_max == 0.0 or d_w_max / w_max <= d_w_tol or n_iter == max_iter - 1:
            gap, dual_norm = _gap_gram(w, alpha, beta, Qw, q, y_norm2, XtA, positive)
            if not np.isfinite(gap):
                status = NONFINITE
                break
            if gap <= tol:
                status = CONVERGED
                break
            if do_screening:
                n_active = _screen_gram(False, w, alpha, beta, Q, Qw, XtA, dual_norm, gap,
                                        active, excluded)
    return gap, tol, n_iter + 1, status


@njit(cache=True, nogil=True)
def _residual_sparse(Rp, s, c, R):
    """Materialise ``R = R' + c s`` (the residual of the centred, weighted problem)."""
    for i in range(R.shape[0]):
        R[i] = Rp[i] + c * s[i]


@njit(cache=True, nogil=True)
def _gap_sparse(w, alpha, beta, data_s, indices, indptr, X_mean, y, Rp, s, c, RS, R, XtA,
                positive):
    """Duality gap for CSC ``X``, centred implicitly; fills ``R`` and ``XtA`` in place."""
    _residual_sparse(Rp, s, c, R)
    R_norm2 = np.dot(R, R)
    Ry = np.dot(R, y)
    for j in range(w.shape[0]):
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            acc += data_s[k] * R[indices[k]]
        XtA[j] = acc - X_mean[j] * RS
        if alpha != 0.0:
            XtA[j] -= beta * w[j]
    return _gap_from_parts(alpha, beta, w, XtA, R_norm2, Ry, positive)


@njit(cache=True, nogil=True)
def _move_sparse(d, j, data_s, indices, indptr, X_mean, Rp, c):
    """``R <- R - d z_j`` for the implicit column ``z_j = s * (x_j - X_mean[j])``:
    ``R' -= d s * x_j`` on the stored entries, the mean part goes into ``c``."""
    for k in range(indptr[j], indptr[j + 1]):
        Rp[indices[k]] -= d * data_s[k]
    return c + d * X_mean[j]


@njit(cache=True, nogil=True)
def _screen_sparse(first, w, alpha, beta, data_s, indices, indptr, X_mean, Rp, c, XtA,
                   dual_norm, gap, norm2, active, excluded):
    """Gap-safe screening for CSC ``X`` (see :func:`_screen_dense`).

    Returns ``(n_active, c)``: the residual's mean part ``c`` changes when a
    screened-out coefficient is set to zero."""
    n_active = 0
    radius = np.sqrt(2.0 * abs(gap)) / alpha
    denom = max(alpha, dual_norm)
    for j in range(w.shape[0]):
        if first:
            if norm2[j] == 0.0:
                w[j] = 0.0
                excluded[j] = True
                continue
        elif excluded[j]:
            continue
        d_j = (1.0 - abs(XtA[j] / denom)) / np.sqrt(norm2[j] + beta)
        if d_j <= radius:
            active[n_active] = j
            excluded[j] = False
            n_active += 1
        else:
            if w[j] != 0.0:
                c = _move_sparse(-w[j], j, data_s, indices, indptr, X_mean, Rp, c)
                w[j] = 0.0
            excluded[j] = True
    return n_active, c


@njit(cache=True, nogil=True)
def sparse_enet_coordinate_descent(w, alpha, beta, data, indices, indptr, y, s, X_mean,
                                   max_iter, tol, seed, random, positive, do_screening):
    """Coordinate descent on the elastic net for a CSC ``X``, never centred nor densified.

    The design matrix of the problem is ``Z = S^{1/2} (X - 1 X_mean^T)``
    (``s = sqrt(sample_weight)``, ones without weights; ``X_mean`` the weighted
    column means, zeros without intercept), and ``y`` is the centred target
    already multiplied by ``s``. The residual ``R = y - Z w`` is kept dense as
    ``R = R' + c s`` with ``R' = y - S X w`` and the scalar ``c = X_mean^T w``, so
    a coordinate move costs ``O(nnz(x_j))``, not ``O(n_samples)``: the
    correlation ``z_j^T R = sum_i s_i x_ij (R'_i + c s_i) - X_mean[j] s^T R``,
    where ``s^T R`` does not change with ``w`` when ``X_mean`` is the weighted
    mean (and is not needed when it is zero). The stopping rule, the screening
    and the random order are those of :func:`enet_coordinate_descent` (same
    arguments otherwise: ``data, indices, indptr`` are the CSC arrays; same
    returns).
    """
    n_samples = y.shape[0]
    n_features = w.shape[0]
    # data_s[k] = s_i * x_ij for the stored entries (a weighted copy of the data only)
    data_s = np.empty(data.shape[0])
    norm2 = np.empty(n_features)
    sw_sum = 0.0
    for i in range(n_samples):
        sw_sum += s[i] * s[i]
    for j in range(n_features):
        m = X_mean[j]
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            si = s[indices[k]]
            data_s[k] = si * data[k]
            diff = data[k] - m
            acc += si * si * (diff * diff - m * m)
        norm2[j] = acc + m * m * sw_sum
        if norm2[j] < 0.0:  # rounding on a (numerically) constant column
            norm2[j] = 0.0
    Rp = y.copy()
    c = 0.0
    for j in range(n_features):
        if w[j] != 0.0:
            c = _move_sparse(w[j], j, data_s, indices, indptr, X_mean, Rp, c)
    R = np.empty(n_samples)
    _residual_sparse(Rp, s, c, R)
    RS = np.dot(s, R)  # s^T R, constant along the descent
    XtA = np.empty(n_features)
    state = np.array([seed], dtype=np.int64)
    d_w_tol = tol
    tol = tol * np.dot(y, y)
    if alpha == 0.0:
        do_screening = False
    active = np.arange(n_features)
    excluded = np.zeros(n_features, dtype=np.bool_)

    gap, dual_norm = _gap_sparse(w, alpha, beta, data_s, indices, indptr, X_mean, y, Rp, s,
                                 c, RS, R, XtA, positive)
    if not np.isfinite(gap):
        return gap, tol, 0, NONFINITE
    if gap <= tol:
        return gap, tol, 0, CONVERGED
    n_active = n_features
    if do_screening:
        n_active, c = _screen_sparse(True, w, alpha, beta, data_s, indices, indptr, X_mean,
                                     Rp, c, XtA, dual_norm, gap, norm2, active, excluded)

    n_iter = 0
    status = MAX_ITER
    for n_iter in range(max_iter):
        w_max = 0.0
        d_w_max = 0.0
        for f_iter in range(n_active):
            jj = _rand_int(n_active, state) if random else f_iter
            j = active[jj] if do_screening else jj
            if norm2[j] == 0.0:
                continue
            w_j = w[j]
            # tmp = z_j @ (R + w_j z_j)
            acc = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                i = indices[k]
                acc += data_s[k] * (Rp[i] + c * s[i])
            tmp = acc - X_mean[j] * RS + w_j * norm2[j]
            new = _soft_threshold(tmp, alpha, norm2[j] + beta, positive)
            w[j] = new
            if new != w_j:
                c = _move_sparse(new - w_j, j, data_s, indices, indptr, X_mean, Rp, c)
            d_w_max = max(d_w_max, abs(new - w_j))
            w_max = max(w_max, abs(new))
        if not np.isfinite(w_max):
            status = NONFINITE
            break
        if w_max == 0.0 or d_w_max / w_max <= d_w_tol or n_iter == max_iter - 1:
            gap, dual_norm = _gap_sparse(w, alpha, beta, data_s, indices, indptr, X_mean, y,
                                         Rp, s, c, RS, R, XtA, positive)
            if not np.isfinite(gap):
                status = NONFINITE
                break
            if gap <= tol:
                status = CONVERGED
                break
            if do_screening:
                n_active, c = _screen_sparse(False, w, alpha, beta, data_s, indices, indptr,
                                             X_mean, Rp, c, XtA, dual_norm, gap, norm2,
                                             active, excluded)
    return gap, tol, n_iter + 1, status


@njit(cache=True, nogil=True)
def _gap_multi_task(W, alpha, beta, Xt, Y, R, XtA):
    """Duality gap of the multi-task elastic net at ``W``; ``Y`` and the residual
    ``R = Y - X W^T`` are stored transposed, (n_targets, n_samples)."""
    n_targets, n_features = W.shape
    dual_norm = 0.0
    for j in range(n_features):
        s2 = 0.0
        for k in range(n_targets):
            v = np.dot(Xt[j], R[k]) - beta * W[k, j]
            XtA[j, k] = v
            s2 += v * v
        dual_norm = max(dual_norm, np.sqrt(s2))
    R_norm2 = 0.0
    RY = 0.0
    for k in range(n_targets):
        R_norm2 += np.dot(R[k], R[k])
        RY += np.dot(R[k], Y[k])
    w_norm2 = 0.0
    l21 = 0.0
    for j in range(n_features):
        s2 = 0.0
        for k in range(n_targets):
            s2 += W[k, j] * W[k, j]
        w_norm2 += s2
        l21 += np.sqrt(s2)
    if dual_norm > alpha:
        const = alpha / dual_norm
        gap = 0.5 * (R_norm2 + R_norm2 * const * const)
    else:
        const = 1.0
        gap = R_norm2
    gap += alpha * l21 - const * RY + 0.5 * beta * (1.0 + const * const) * w_norm2
    return gap


@njit(cache=True, nogil=True)
def enet_coordinate_descent_multi_task(W, alpha, beta, Xt, Y, max_iter, tol, seed,
                                       random):
    """Block coordinate descent on the multi-task elastic net, in place on ``W``.

    Minimises ``1/2 ||Y - X W^T||_F^2 + alpha sum_j ||W[:, j]||_2
    + beta/2 ||W||_F^2`` (``W`` of shape (n_targets, n_features), ``Xt = X.T``
    C-contiguous, ``Y`` (n_samples, n_targets)). Each step minimises exactly
    over the column ``W[:, j]`` (all targets of feature ``j``): with
    ``t = X_j^T R + ||X_j||^2 W[:, j]``, the new column is
    ``t max(0, 1 - alpha / ||t||) / (||X_j||^2 + beta)`` (group soft
    thresholding), so a feature is kept or dropped for all targets together.
    Stops as the single-task kernel: duality gap at most ``tol ||Y||_F^2``,
    checked when the largest change of a weight over an epoch is at most
    ``tol`` times the largest weight. Returns ``(gap, tol_scaled, n_iter,
    status)``.
    """
    n_targets, n_features = W.shape
    n_samples = Y.shape[0]
    Yt = np.ascontiguousarray(Y.T)
    R = Yt.copy()  # residual, transposed: (n_targets, n_samples)
    for j in range(n_features):
        for k in range(n_targets):
            if W[k, j] != 0.0:
                for i in range(n_samples):
                    R[k, i] -= Xt[j, i] * W[k, j]
    norm2 = np.empty(n_features)
    for j in range(n_features):
        norm2[j] = np.dot(Xt[j], Xt[j])
    y_norm2 = 0.0
    for i in range(n_samples):
        for k in range(n_targets):
            y_norm2 += Y[i, k] * Y[i, k]
    d_w_tol = tol
    tol = tol * y_norm2
    XtA = np.zeros((n_features, n_targets))
    state = np.array([seed], dtype=np.int64)
    t = np.empty(n_targets)
    old = np.empty(n_targets)
    gap = _gap_multi_task(W, alpha, beta, Xt, Yt, R, XtA)
    if gap <= tol:
        return gap, tol, 0, CONVERGED
    status = MAX_ITER
    n_iter = 0
    for n_iter in range(max_iter):
        w_max = 0.0
        d_w_max = 0.0
        for f_iter in range(n_features):
            j = _rand_int(n_features, state) if random else f_iter
            if norm2[j] == 0.0:
                continue
            t_norm = 0.0
            for k in range(n_targets):
                old[k] = W[k, j]
                t[k] = np.dot(Xt[j], R[k]) + norm2[j] * old[k]
                t_norm += t[k] * t[k]
            t_norm = np.sqrt(t_norm)
            scale = 0.0
            if t_norm > alpha:
                scale = (1.0 - alpha / t_norm) / (norm2[j] + beta)
            d_max = 0.0
            for k in range(n_targets):
                new = t[k] * scale
                W[k, j] = new
                d = new - old[k]
                if d != 0.0:
                    for i in range(n_samples):
                        R[k, i] -= Xt[j, i] * d
                d_max = max(d_max, abs(d))
                w_max = max(w_max, abs(new))
            d_w_max = max(d_w_max, d_max)
        if not np.isfinite(w_max):
            status = NONFINITE
            break
        if w_max == 0.0 or d_w_max / w_max <= d_w_tol or n_iter == max_iter - 1:
            gap = _gap_multi_task(W, alpha, beta, Xt, Yt, R, XtA)
            if not np.isfinite(gap):
                status = NONFINITE
                break
            if gap <= tol:
                status = CONVERGED
                break
    return gap, tol, n_iter + 1, status
