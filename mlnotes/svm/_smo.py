"""Sequential minimal optimisation for the soft-margin SVM duals (chapter 4 of the notes).

One numba kernel, :func:`smo_solve`, solves the box- and equality-constrained
quadratic programme

.. math::

    \\min_{\\alpha} \\tfrac12 \\alpha^\\top Q \\alpha + p^\\top \\alpha
    \\quad\\text{s.t.}\\quad y^\\top \\alpha = 0,\\; 0 \\le \\alpha_t \\le C_t,
    \\qquad Q_{tu} = y_t y_u K(x_{b(t)}, x_{b(u)}),

that both C-SVC (one variable per sample, :math:`p = -1`) and epsilon-SVR (two
variables per sample, :math:`y = (1, -1)`, :math:`p = (\\epsilon - z, \\epsilon + z)`)
reduce to. The algorithm is the one of Fan, Chen & Lin (2005), as in LIBSVM:
second-order working-set selection, a two-variable analytic update clipped to the
box, the shrinking heuristic with gradient reconstruction, and a least-recently
used cache of kernel rows bounded in bytes.

Rows of :math:`Q` are cached in float32 (as LIBSVM does); gradients, the
diagonal and everything else are float64. For classification the solver permutes
its variables physically as they are shrunk (rows of ``X``, cached columns), so
that every loop runs over a contiguous prefix; for regression the cache holds
rows of the :math:`m \\times m` kernel matrix in the original order and a row of
:math:`Q` (length :math:`2m`) is gathered from it, which halves kernel work.
"""

import numpy as np
from numba import njit

LINEAR, POLY, RBF, SIGMOID, PRECOMPUTED = 0, 1, 2, 3, 4
KERNELS = {"linear": LINEAR, "poly": POLY, "rbf": RBF, "sigmoid": SIGMOID,
           "precomputed": PRECOMPUTED}

_LOWER, _UPPER, _FREE = 0, 1, 2
_TAU = 1e-12


@njit(cache=True)
def _powi(base, times):
    """``base ** times`` for a non-negative integer ``times``, by squaring."""
    tmp = base
    ret = 1.0
    t = times
    while t > 0:
        if t % 2 == 1:
            ret *= tmp
        tmp = tmp * tmp
        t //= 2
    return ret


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10


@njit(cache=True)
def _exp_inplace(x, kbuf):
    """``x[:] = exp(x)`` to within 3 ulp, in loops that LLVM vectorises.

    ``exp(x) = 2^k e^r`` with ``k = round(x / ln 2)``, ``|r| <= ln(2) / 2`` and
    ``e^r`` by its Taylor polynomial of degree 12 (truncation error below
    ``1e-16``); ``2^k`` is built from its bit pattern in ``kbuf`` (int64). The
    libm ``exp`` that numba calls element by element is three times slower,
    and kernel rows are stored in float32 anyway. Results below ``exp(-708)``
    are returned as ``2^-1022`` instead of underflowing.
    """
    n = x.shape[0]
    for t in range(n):
        v = min(max(x[t], -708.0), 709.0)
        k = np.floor(v * _LOG2E + 0.5)
        r = (v - k * _LN2_HI) - k * _LN2_LO
        q = 1.0 / 479001600.0
        q = q * r + 1.0 / 39916800.0
        q = q * r + 1.0 / 3628800.0
        q = q * r + 1.0 / 362880.0
        q = q * r + 1.0 / 40320.0
        q = q * r + 1.0 / 5040.0
        q = q * r + 1.0 / 720.0
        q = q * r + 1.0 / 120.0
        q = q * r + 1.0 / 24.0
        q = q * r + 1.0 / 6.0
        q = q * r + 0.5
        q = q * r + 1.0
        x[t] = q * r + 1.0
        kbuf[t] = (np.int64(k) + 1023) << 52
    scale = kbuf[:n].view(np.float64)
    for t in range(n):
        x[t] *= scale[t]


@njit(cache=True)
def _kernel_segment(kernel, X, sq, K, csr, kidx, gamma, coef0, degree, a, start, stop,
                    sgn, out):
    """``out[t] = sgn[a] * sgn[t] * k(a, t)`` for ``t`` in ``[start, stop)``.

    Points are the rows of ``X`` (``sq`` their squared norms), or, when
    ``csr = (data, indices, indptr, work)`` holds a CSR matrix, its rows
    ``kidx[a]`` and ``kidx[t]`` (row ``kidx[a]`` is scattered into the dense
    ``work`` vector, then each dot product runs over the non-zeros of row
    ``kidx[t]``); for a precomputed kernel, ``k(a, t) = K[kidx[a], kidx[t]]``.
    """
    sa = sgn[a]
    if kernel == PRECOMPUTED:
        ka = kidx[a]
        for t in range(start, stop):
            out[t] = sa * sgn[t] * K[ka, kidx[t]]
        return
    data, indices, indptr, work = csr
    if indptr.shape[0] > 1:  # sparse rows
        dots = np.empty(stop - start)
        ka = kidx[a]
        for jj in range(indptr[ka], indptr[ka + 1]):
            work[indices[jj]] = data[jj]
        for t in range(start, stop):
            kt = kidx[t]
            acc = 0.0
            for jj in range(indptr[kt], indptr[kt + 1]):
                acc += data[jj] * work[indices[jj]]
            dots[t - start] = acc
        for jj in range(indptr[ka], indptr[ka + 1]):
            work[indices[jj]] = 0.0
    else:
        dots = np.dot(X[start:stop], X[a])
    if kernel == LINEAR:
        for t in range(start, stop):
            out[t] = sa * sgn[t] * dots[t - start]
    elif kernel == POLY:
        for t in range(start, stop):
            out[t] = sa * sgn[t] * _powi(gamma * dots[t - start] + coef0, degree)
    elif kernel == RBF:
        sqa = sq[a]
        for t in range(start, stop):
            dots[t - start] = -gamma * (sqa + sq[t] - 2.0 * dots[t - start])
        _exp_inplace(dots, np.empty(stop - start, dtype=np.int64))
        for t in range(start, stop):
            out[t] = sa * sgn[t] * dots[t - start]
    else:  # SIGMOID
        for t in range(start, stop):
            out[t] = sa * sgn[t] * np.tanh(gamma * dots[t - start] + coef0)


@njit(cache=True)
def _kernel_diag(kernel, X, sq, K, gamma, coef0, degree):
    m = K.shape[0] if kernel == PRECOMPUTED else sq.shape[0]
    d = np.empty(m)
    for a in range(m):
        if kernel == PRECOMPUTED:
            d[a] = K[a, a]
        elif kernel == LINEAR:
            d[a] = sq[a]
        elif kernel == POLY:
            d[a] = _powi(gamma * sq[a] + coef0, degree)
        elif kernel == RBF:
            d[a] = 1.0
        else:
            d[a] = np.tanh(gamma * sq[a] + coef0)
    return d


# --------------------------------------------------------------------------
# Kernel-row cache: fixed slots of float32 rows, LRU order in a circular
# doubly linked list whose sentinel is slot ``n_slots``. ``st[0]`` is the top
# of the stack of free slots, ``st[1]`` the next gather buffer (regression).
# --------------------------------------------------------------------------


@njit(cache=True)
def _lru_unlink(s, prev, nxt):
    nxt[prev[s]] = nxt[s]
    prev[nxt[s]] = prev[s]


@njit(cache=True)
def _lru_push(s, prev, nxt):
    head = prev.shape[0] - 1
    last = prev[head]
    nxt[last] = s
    prev[s] = last
    nxt[s] = head
    prev[head] = s


@njit(cache=True)
def _cache_lookup(key, length, slot_of, owner, rlen, prev, nxt, free, st):
    """Slot holding row ``key`` (made most recent) and the first entry to fill."""
    s = slot_of[key]
    if s >= 0:
        _lru_unlink(s, prev, nxt)
        _lru_push(s, prev, nxt)
        start = rlen[s]
    else:
        if st[0] > 0:
            st[0] -= 1
            s = free[st[0]]
        else:  # evict the least recently used row
            head = prev.shape[0] - 1
            s = nxt[head]
            _lru_unlink(s, prev, nxt)
            slot_of[owner[s]] = -1
        _lru_push(s, prev, nxt)
        owner[s] = key
        slot_of[key] = s
        rlen[s] = 0
        start = 0
    if start < length:
        rlen[s] = length
    return s, start


@njit(cache=True)
def _get_q(i, length, svr, kernel, X, sq, K, csr, kidx, gamma, coef0, degree, y, ones,
           bidx, data, slot_of, owner, rlen, prev, nxt, free, st, bufs):
    """Row ``i`` of ``Q`` over the first ``length`` (current) variables."""
    if not svr:
        s, start = _cache_lookup(i, length, slot_of, owner, rlen, prev, nxt, free, st)
        if start < length:
            _kernel_segment(kernel, X, sq, K, csr, kidx, gamma, coef0, degree, i, start,
                            length, y, data[s])
        return data[s]
    m = data.shape[1]
    b = bidx[i]
    s, start = _cache_lookup(b, m, slot_of, owner, rlen, prev, nxt, free, st)
    if start < m:
        _kernel_segment(kernel, X, sq, K, csr, kidx, gamma, coef0, degree, b, 0, m, ones,
                        data[s])
    row = data[s]
    buf = bufs[st[1]]
    st[1] = 1 - st[1]
    yi = y[i]
    for t in range(length):
        buf[t] = yi * y[t] * row[bidx[t]]
    return buf


@njit(cache=True)
def _swap_index(i, j, svr, sparse, kernel, X, sq, y, G, status, alpha, p, act, bidx, G_bar,
                C, QD, data, slot_of, owner, rlen, prev, nxt, free, st):
    if i == j:
        return
    y[i], y[j] = y[j], y[i]
    G[i], G[j] = G[j], G[i]
    status[i], status[j] = status[j], status[i]
    alpha[i], alpha[j] = alpha[j], alpha[i]
    p[i], p[j] = p[j], p[i]
    act[i], act[j] = act[j], act[i]
    bidx[i], bidx[j] = bidx[j], bidx[i]
    G_bar[i], G_bar[j] = G_bar[j], G_bar[i]
    C[i], C[j] = C[j], C[i]
    QD[i], QD[j] = QD[j], QD[i]
    if svr:  # the cache is keyed by sample, in the original order
        return
    if kernel != PRECOMPUTED:
        if not sparse:  # sparse rows are reached through ``kidx`` (``act``)
            for f in range(X.shape[1]):
                X[i, f], X[j, f] = X[j, f], X[i, f]
        sq[i], sq[j] = sq[j], sq[i]
    # the cached rows follow their variables ...
    si = slot_of[i]
    sj = slot_of[j]
    slot_of[i] = sj
    slot_of[j] = si
    if sj >= 0:
        owner[sj] = i
    if si >= 0:
        owner[si] = j
    # ... and columns i, j swap inside every cached row (rows too short lose it)
    lo, hi = (i, j) if i < j else (j, i)
    head = prev.shape[0] - 1
    s = nxt[head]
    while s != head:
        s_next = nxt[s]
        if rlen[s] > lo:
            if rlen[s] > hi:
                row = data[s]
                row[lo], row[hi] = row[hi], row[lo]
            else:
                _lru_unlink(s, prev, nxt)
                slot_of[owner[s]] = -1
                owner[s] = -1
                rlen[s] = 0
                free[st[0]] = s
                st[0] += 1
        s = s_next


@njit(cache=True)
def _update_status(i, alpha, C, status):
    if alpha[i] >= C[i]:
        status[i] = _UPPER
    elif alpha[i] <= 0.0:
        status[i] = _LOWER
    else:
        status[i] = _FREE


@njit(cache=True)
def smo_solve(X, K, csr, kernel, gamma, coef0, degree, svr, y_in, p_in, C_in, eps,
              shrinking, max_iter, cache_bytes):
    """Solve the dual from ``alpha = 0``.

    Parameters
    ----------
    X : ndarray of shape (m, n_features)
        Points of the problem (ignored, any 2-D array, for a precomputed kernel).
    K : ndarray of shape (m, m)
        Precomputed kernel matrix (ignored, any 2-D array, otherwise).
    csr : tuple of 4 ndarrays
        ``(data, indices, indptr, work)``: the points as a CSR matrix (sorted
        or not) and a zeroed float64 buffer of length ``n_features``, used
        instead of ``X`` when ``indptr`` has more than one entry; pass
        ``indptr`` of length 1 for dense ``X``.
    kernel : int
        One of ``LINEAR, POLY, RBF, SIGMOID, PRECOMPUTED``.
    svr : bool
        False: ``n = m`` variables, variable ``t`` is point ``t``. True:
        ``n = 2m`` variables, variables ``t`` and ``t + m`` are point ``t``.
    y_in, p_in, C_in : ndarray of shape (n,)
        Signs (+1/-1), linear term and upper bounds of the variables.
    eps : float
        Stopping tolerance on the maximal violation ``m(alpha) - M(alpha)``.
    shrinking : bool
    max_iter : int
        -1 for no limit.
    cache_bytes : int
        Size of the kernel-row cache (at least two rows are always kept).

    Returns
    -------
    alpha : ndarray of shape (n,)
    rho : float
        The decision function is ``sum_t y_t alpha_t k(x_t, x) - rho``.
    n_iter : int
    timed_out : bool
    """
    n = y_in.shape[0]
    precomputed = kernel == PRECOMPUTED
    sp_data, sp_indices, sp_indptr, _ = csr
    sparse = (not precomputed) and sp_indptr.shape[0] > 1
    if precomputed:
        m = K.shape[0]
    elif sparse:
        m = sp_indptr.shape[0] - 1
    else:
        m = X.shape[0]

    y = y_in.copy()
    p = p_in.copy()
    C = C_in.copy()
    alpha = np.zeros(n)
    act = np.arange(n)
    bidx = np.empty(n, dtype=np.int64)
    for t in range(n):
        bidx[t] = t if t < m else t - m
    ones = np.ones(m)

    # points: dense classification works on a copy it may permute
    if svr or precomputed or sparse:
        Xw = X
    else:
        Xw = X.copy()
    sq = np.zeros(m)
    if sparse:
        for a in range(m):
            s_ = 0.0
            for jj in range(sp_indptr[a], sp_indptr[a + 1]):
                s_ += sp_data[jj] * sp_data[jj]
            sq[a] = s_
    elif not precomputed:
        for a in range(m):
            s_ = 0.0
            for f in range(Xw.shape[1]):
                s_ += Xw[a, f] * Xw[a, f]
            sq[a] = s_
    diag = _kernel_diag(kernel, Xw, sq, K, gamma, coef0, degree)
    QD = np.empty(n)
    for t in range(n):
        QD[t] = diag[bidx[t]]
    # kidx maps a position to a row of K: the variable itself when permuting
    # (classification), the identity on samples otherwise (regression)
    kidx = act if not svr else np.arange(m)

    # cache
    row_len = m if svr else n
    n_keys = m if svr else n
    n_slots = cache_bytes // (4 * row_len)
    if n_slots > n_keys:
        n_slots = n_keys
    if n_slots < 2:
        n_slots = 2
    data = np.empty((n_slots, row_len), dtype=np.float32)
    slot_of = np.full(n_keys, -1, dtype=np.int64)
    owner = np.full(n_slots, -1, dtype=np.int64)
    rlen = np.zeros(n_slots, dtype=np.int64)
    prev = np.empty(n_slots + 1, dtype=np.int64)
    nxt = np.empty(n_slots + 1, dtype=np.int64)
    prev[n_slots] = n_slots
    nxt[n_slots] = n_slots
    free = np.empty(n_slots, dtype=np.int64)
    for s in range(n_slots):
        free[s] = n_slots - 1 - s
    st = np.zeros(2, dtype=np.int64)
    st[0] = n_slots
    bufs = np.empty((2, n if svr else 1), dtype=np.float32)

    status = np.empty(n, dtype=np.int8)
    for t in range(n):
        _update_status(t, alpha, C, status)
    G = p.copy()
    G_bar = np.zeros(n)
    active_size = n
    unshrink = False

    n_iter = 0
    counter = min(n, 1000) + 1
    timed_out = False
    inf = np.inf
    while True:
        if max_iter != -1 and n_iter >= max_iter:
            timed_out = True
            break

        counter -= 1
        if counter == 0:
            counter = min(n, 1000)
            if shrinking:
                # ---- shrinking: drop bounded variables that cannot move
                gmax1 = -inf  # max -y_t G_t over I_up
                gmax2 = -inf  # max  y_t G_t over I_low
                for t in range(active_size):
                    if y[t] > 0:
                        if status[t] != _UPPER and -G[t] >= gmax1:
                            gmax1 = -G[t]
                        if status[t] != _LOWER and G[t] >= gmax2:
                            gmax2 = G[t]
                    else:
                        if status[t] != _UPPER and -G[t] >= gmax2:
                            gmax2 = -G[t]
                        if status[t] != _LOWER and G[t] >= gmax1:
                            gmax1 = G[t]
                if not unshrink and gmax1 + gmax2 <= eps * 10:
                    unshrink = True
                    _reconstruct_gradient(active_size, n, svr, kernel, Xw, sq, K, csr,
                                          kidx, gamma, coef0, degree, y, ones, bidx,
                                          data, slot_of, owner, rlen, prev, nxt, free,
                                          st, bufs, G, G_bar, p, alpha, status)
                    active_size = n
                t = 0
                while t < active_size:
                    if _be_shrunk(t, gmax1, gmax2, y, G, status):
                        active_size -= 1
                        while active_size > t:
                            if not _be_shrunk(active_size, gmax1, gmax2, y, G, status):
                                _swap_index(t, active_size, svr, sparse, kernel, Xw, sq, y, G,
                                            status, alpha, p, act, bidx, G_bar, C, QD,
                                            data, slot_of, owner, rlen, prev, nxt,
                                            free, st)
                                break
                            active_size -= 1
                    t += 1

        i, j = _select_working_set(active_size, svr, kernel, Xw, sq, K, csr, kidx, gamma,
                                   coef0, degree, y, ones, bidx, data, slot_of, owner,
                                   rlen, prev, nxt, free, st, bufs, G, QD, status, eps)
        if j == -1:
            _reconstruct_gradient(active_size, n, svr, kernel, Xw, sq, K, csr, kidx, gamma,
                                  coef0, degree, y, ones, bidx, data, slot_of, owner,
                                  rlen, prev, nxt, free, st, bufs, G, G_bar, p, alpha,
                                  status)
            active_size = n
            i, j = _select_working_set(active_size, svr, kernel, Xw, sq, K, csr, kidx,
                                       gamma, coef0, degree, y, ones, bidx, data,
                                       slot_of, owner, rlen, prev, nxt, free, st, bufs,
                                       G, QD, status, eps)
            if j == -1:
                break
            counter = 1  # shrink at the next iteration

        n_iter += 1

        # ---- two-variable analytic update, clipped to the box
        Q_i = _get_q(i, active_size, svr, kernel, Xw, sq, K, csr, kidx, gamma, coef0,
                     degree, y, ones, bidx, data, slot_of, owner, rlen, prev, nxt,
                     free, st, bufs)
        Q_j = _get_q(j, active_size, svr, kernel, Xw, sq, K, csr, kidx, gamma, coef0,
                     degree, y, ones, bidx, data, slot_of, owner, rlen, prev, nxt,
                     free, st, bufs)
        C_i = C[i]
        C_j = C[j]
        old_ai = alpha[i]
        old_aj = alpha[j]
        if y[i] != y[j]:
            quad = QD[i] + QD[j] + 2.0 * Q_i[j]
            if quad <= 0.0:
                quad = _TAU
            delta = (-G[i] - G[j]) / quad
            diff = alpha[i] - alpha[j]
            alpha[i] += delta
            alpha[j] += delta
            if diff > 0.0:
                if alpha[j] < 0.0:
                    alpha[j] = 0.0
                    alpha[i] = diff
            else:
                if alpha[i] < 0.0:
                    alpha[i] = 0.0
                    alpha[j] = -diff
            if diff > C_i - C_j:
                if alpha[i] > C_i:
                    alpha[i] = C_i
                    alpha[j] = C_i - diff
            else:
                if alpha[j] > C_j:
                    alpha[j] = C_j
                    alpha[i] = C_j + diff
        else:
            quad = QD[i] + QD[j] - 2.0 * Q_i[j]
            if quad <= 0.0:
                quad = _TAU
            delta = (G[i] - G[j]) / quad
            total = alpha[i] + alpha[j]
            alpha[i] -= delta
            alpha[j] += delta
            if total > C_i:
                if alpha[i] > C_i:
                    alpha[i] = C_i
                    alpha[j] = total - C_i
            else:
                if alpha[j] < 0.0:
                    alpha[j] = 0.0
                    alpha[i] = total
            if total > C_j:
                if alpha[j] > C_j:
                    alpha[j] = C_j
                    alpha[i] = total - C_j
            else:
                if alpha[i] < 0.0:
                    alpha[i] = 0.0
                    alpha[j] = total

        # ---- gradient update
        dai = alpha[i] - old_ai
        daj = alpha[j] - old_aj
        for k in range(active_size):
            G[k] += Q_i[k] * dai + Q_j[k] * daj

        # ---- bound status and G_bar (gradient part of the variables at C)
        ui = status[i] == _UPPER
        uj = status[j] == _UPPER
        _update_status(i, alpha, C, status)
        _update_status(j, alpha, C, status)
        if ui != (status[i] == _UPPER):
            Q_i = _get_q(i, n, svr, kernel, Xw, sq, K, csr, kidx, gamma, coef0, degree, y,
                         ones, bidx, data, slot_of, owner, rlen, prev, nxt, free, st,
                         bufs)
            if ui:
                for k in range(n):
                    G_bar[k] -= C_i * Q_i[k]
            else:
                for k in range(n):
                    G_bar[k] += C_i * Q_i[k]
        if uj != (status[j] == _UPPER):
            Q_j = _get_q(j, n, svr, kernel, Xw, sq, K, csr, kidx, gamma, coef0, degree, y,
                         ones, bidx, data, slot_of, owner, rlen, prev, nxt, free, st,
                         bufs)
            if uj:
                for k in range(n):
                    G_bar[k] -= C_j * Q_j[k]
            else:
                for k in range(n):
                    G_bar[k] += C_j * Q_j[k]

    if active_size < n:  # stopped by max_iter while shrunk: complete the gradient
        _reconstruct_gradient(active_size, n, svr, kernel, Xw, sq, K, csr, kidx, gamma,
                              coef0, degree, y, ones, bidx, data, slot_of, owner, rlen,
                              prev, nxt, free, st, bufs, G, G_bar, p, alpha, status)
        active_size = n

    # ---- rho: mean of y_t G_t over free variables, else middle of the bounds
    n_free = 0
    ub = inf
    lb = -inf
    sum_free = 0.0
    for t in range(active_size):
        yG = y[t] * G[t]
        if status[t] == _UPPER:
            if y[t] < 0:
                ub = min(ub, yG)
            else:
                lb = max(lb, yG)
        elif status[t] == _LOWER:
            if y[t] > 0:
                ub = min(ub, yG)
            else:
                lb = max(lb, yG)
        else:
            n_free += 1
            sum_free += yG
    rho = sum_free / n_free if n_free > 0 else (ub + lb) / 2.0

    alpha_out = np.empty(n)
    for t in range(n):
        alpha_out[act[t]] = alpha[t]
    return alpha_out, rho, n_iter, timed_out


@njit(cache=True)
def _be_shrunk(t, gmax1, gmax2, y, G, status):
    if status[t] == _UPPER:
        if y[t] > 0:
            return -G[t] > gmax1
        return -G[t] > gmax2
    if status[t] == _LOWER:
        if y[t] > 0:
            return G[t] > gmax2
        return G[t] > gmax1
    return False


@njit(cache=True)
def _select_working_set(active_size, svr, kernel, X, sq, K, csr, kidx, gamma, coef0, degree,
                        y, ones, bidx, data, slot_of, owner, rlen, prev, nxt, free, st,
                        bufs, G, QD, status, eps):
    """Second-order working-set selection (WSS2); ``j == -1`` when optimal."""
    inf = np.inf
    gmax = -inf
    gmax2 = -inf
    gmax_idx = -1
    gmin_idx = -1
    obj_diff_min = inf
    for t in range(active_size):
        if y[t] > 0:
            if status[t] != _UPPER and -G[t] >= gmax:
                gmax = -G[t]
                gmax_idx = t
        else:
            if status[t] != _LOWER and G[t] >= gmax:
                gmax = G[t]
                gmax_idx = t
    i = gmax_idx
    if i == -1:
        return -1, -1
    Q_i = _get_q(i, active_size, svr, kernel, X, sq, K, csr, kidx, gamma, coef0, degree, y,
                 ones, bidx, data, slot_of, owner, rlen, prev, nxt, free, st, bufs)
    yi = y[i]
    QDi = QD[i]
    for t in range(active_size):
        if y[t] > 0:
            if status[t] != _LOWER:
                grad_diff = gmax + G[t]
                if G[t] >= gmax2:
                    gmax2 = G[t]
                if grad_diff > 0.0:
                    quad = QDi + QD[t] - 2.0 * yi * Q_i[t]
                    if quad <= 0.0:
                        quad = _TAU
                    obj_diff = -(grad_diff * grad_diff) / quad
                    if obj_diff <= obj_diff_min:
                        gmin_idx = t
                        obj_diff_min = obj_diff
        else:
            if status[t] != _UPPER:
                grad_diff = gmax - G[t]
                if -G[t] >= gmax2:
                    gmax2 = -G[t]
                if grad_diff > 0.0:
                    quad = QDi + QD[t] + 2.0 * yi * Q_i[t]
                    if quad <= 0.0:
                        quad = _TAU
                    obj_diff = -(grad_diff * grad_diff) / quad
                    if obj_diff <= obj_diff_min:
                        gmin_idx = t
                        obj_diff_min = obj_diff
    if gmax + gmax2 < eps or gmin_idx == -1:
        return -1, -1
    return i, gmin_idx


@njit(cache=True)
def _reconstruct_gradient(active_size, n, svr, kernel, X, sq, K, csr, kidx, gamma, coef0,
                          degree, y, ones, bidx, data, slot_of, owner, rlen, prev, nxt,
                          free, st, bufs, G, G_bar, p, alpha, status):
    """Recompute ``G`` of the shrunk variables from ``G_bar`` and the free ones."""
    if active_size == n:
        return
    for t in range(active_size, n):
        G[t] = G_bar[t] + p[t]
    n_free = 0
    for t in range(active_size):
        if status[t] == _FREE:
            n_free += 1
    if n_free * n > 2 * active_size * (n - active_size):
        for i in range(active_size, n):
            Q_i = _get_q(i, active_size, svr, kernel, X, sq, K, csr, kidx, gamma, coef0,
                         degree, y, ones, bidx, data, slot_of, owner, rlen, prev, nxt,
                         free, st, bufs)
            acc = 0.0
            for t in range(active_size):
                if status[t] == _FREE:
                    acc += alpha[t] * Q_i[t]
            G[i] += acc
    else:
        for i in range(active_size):
            if status[i] == _FREE:
                Q_i = _get_q(i, n, svr, kernel, X, sq, K, csr, kidx, gamma, coef0, degree,
                             y, ones, bidx, data, slot_of, owner, rlen, prev, nxt, free,
                             st, bufs)
                a_i = alpha[i]
                for t in range(active_size, n):
                    G[t] += a_i * Q_i[t]
