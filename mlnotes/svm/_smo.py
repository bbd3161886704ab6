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

The solver's state is grouped into named tuples (numba passes them as structs, at
no cost), so that two arrays cannot be swapped by position: :class:`QMatrix` (the
kernel, the points and the variables' signs: everything a row of :math:`Q` is
computed from), :class:`KernelCache` (the cached rows and their bookkeeping) and
:class:`Variables` (the dual variables, gradients, bounds and status). The main
loop unpacks them into locals once; the helpers called per element take plain
values.
"""

from collections import namedtuple

import numpy as np

from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path

LINEAR, POLY, RBF, SIGMOID, PRECOMPUTED = 0, 1, 2, 3, 4
KERNELS = {"linear": LINEAR, "poly": POLY, "rbf": RBF, "sigmoid": SIGMOID,
           "precomputed": PRECOMPUTED}

_LOWER, _UPPER, _FREE = 0, 1, 2
_TAU = 1e-12

#: What a row of :math:`Q` is computed from: ``svr`` (two variables per point),
#: ``sparse`` (points read from ``csr``), the kernel code and its ``gamma``,
#: ``coef0``, ``degree``; the points ``X`` (dense; permuted with the variables in
#: classification), their squared norms ``sq``, the precomputed kernel ``K``, the
#: CSR points ``csr = (data, indices, indptr, work)``, ``kidx`` (position -> row of
#: ``K`` or of ``csr``), the variables' signs ``y``, ``ones`` (length ``m``) and
#: ``bidx`` (variable -> point).
QMatrix = namedtuple("QMatrix", ["svr", "sparse", "kernel", "gamma", "coef0", "degree",
                                 "X", "sq", "K", "csr", "kidx", "y", "ones", "bidx"])

#: The least-recently-used cache of kernel rows: float32 ``rows`` in fixed slots,
#: ``slot_of`` (key -> slot, -1: not cached), ``owner`` (slot -> key), ``rlen``
#: (entries filled per slot), the LRU list ``prev``/``nxt`` (a circular doubly
#: linked list whose sentinel is slot ``n_slots``), the stack of ``free`` slots,
#: ``st`` (``st[0]``: top of the free stack, ``st[1]``: next gather buffer) and the
#: two gather buffers ``bufs`` of regression.
KernelCache = namedtuple("KernelCache", ["rows", "slot_of", "owner", "rlen", "prev", "nxt",
                                         "free", "st", "bufs"])

#: The dual variables in the solver's (permuted) order: ``alpha``, the gradient
#: ``G``, ``G_bar`` (gradient part of the variables at their upper bound), the
#: linear term ``p``, the upper bounds ``C``, the diagonal ``QD`` of :math:`Q`,
#: the bound ``status`` (int8) and ``act`` (position -> original variable).
Variables = namedtuple("Variables", ["alpha", "G", "G_bar", "p", "C", "QD", "status",
                                     "act"])


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
def _kernel_segment(qm, a, start, stop, sgn, out):
    """``out[t] = sgn[a] * sgn[t] * k(a, t)`` for ``t`` in ``[start, stop)``.

    Points (of the :class:`QMatrix` ``qm``) are the rows of ``X`` (``sq`` their
    squared norms), or, when ``csr = (data, indices, indptr, work)`` holds a CSR
    matrix, its rows ``kidx[a]`` and ``kidx[t]`` (row ``kidx[a]`` is scattered
    into the dense ``work`` vector, then each dot product runs over the
    non-zeros of row ``kidx[t]``); for a precomputed kernel,
    ``k(a, t) = K[kidx[a], kidx[t]]``.
    """
    kernel, X, sq, K, kidx = qm.kernel, qm.X, qm.sq, qm.K, qm.kidx
    gamma, coef0, degree = qm.gamma, qm.coef0, qm.degree
    sa = sgn[a]
    if kernel == PRECOMPUTED:
        ka = kidx[a]
        for t in range(start, stop):
            out[t] = sa * sgn[t] * K[ka, kidx[t]]
        return
    data, indices, indptr, work = qm.csr
    if qm.sparse:  # sparse rows
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
def _kernel_diag(qm):
    """``k(x_a, x_a)`` for every point ``a`` of the :class:`QMatrix` ``qm``."""
    kernel, sq, K = qm.kernel, qm.sq, qm.K
    gamma, coef0, degree = qm.gamma, qm.coef0, qm.degree
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
# Kernel-row cache (:class:`KernelCache`): fixed slots of float32 rows, LRU
# order in a circular doubly linked list whose sentinel is slot ``n_slots``.
# --------------------------------------------------------------------------


@njit(cache=True)
def new_cache(n_keys, row_len, n_buf, cache_bytes):
    """An empty :class:`KernelCache` of rows of ``row_len`` float32 entries.

    As many slots as ``cache_bytes`` holds, at most ``n_keys`` (one per row that
    can be asked for) and at least two; ``n_buf`` is the length of the two
    gather buffers (1 when unused).
    """
    n_slots = cache_bytes // (4 * row_len)
    if n_slots > n_keys:
        n_slots = n_keys
    if n_slots < 2:
        n_slots = 2
    prev = np.empty(n_slots + 1, dtype=np.int64)
    nxt = np.empty(n_slots + 1, dtype=np.int64)
    prev[n_slots] = n_slots
    nxt[n_slots] = n_slots
    st = np.zeros(2, dtype=np.int64)
    st[0] = n_slots
    free = np.empty(n_slots, dtype=np.int64)
    for s in range(n_slots):
        free[s] = n_slots - 1 - s
    # fields in KernelCache's order: rows, slot_of, owner, rlen, prev, nxt, free, st, bufs
    return KernelCache(np.empty((n_slots, row_len), dtype=np.float32),
                       np.full(n_keys, -1, dtype=np.int64),
                       np.full(n_slots, -1, dtype=np.int64),
                       np.zeros(n_slots, dtype=np.int64), prev, nxt, free, st,
                       np.empty((2, n_buf), dtype=np.float32))


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


# No reference counting (a fast path): reading the cache's arrays from the named tuple
# would otherwise incref and decref each of them at every lookup, a few per iteration.
@njit(cache=True, _nrt=False)
def _cache_lookup(key, length, cache):
    """Slot holding row ``key`` (made most recent) and the first entry to fill."""
    slot_of, owner, rlen = cache.slot_of, cache.owner, cache.rlen
    prev, nxt, free, st = cache.prev, cache.nxt, cache.free, cache.st
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
def _get_q(i, length, qm, cache):
    """Row ``i`` of ``Q`` over the first ``length`` (current) variables."""
    data = cache.rows
    y = qm.y
    if not qm.svr:
        s, start = _cache_lookup(i, length, cache)
        if start < length:
            _kernel_segment(qm, i, start, length, y, data[s])
        return data[s]
    bidx, st = qm.bidx, cache.st
    m = data.shape[1]
    b = bidx[i]
    s, start = _cache_lookup(b, m, cache)
    if start < m:
        _kernel_segment(qm, b, 0, m, qm.ones, data[s])
    row = data[s]
    buf = cache.bufs[st[1]]
    st[1] = 1 - st[1]
    yi = y[i]
    for t in range(length):
        buf[t] = yi * y[t] * row[bidx[t]]
    return buf


@njit(cache=True)
def _swap_index(i, j, qm, var, cache):
    """Swap variables ``i`` and ``j`` (and, in classification, their points and rows)."""
    if i == j:
        return
    y, bidx, X, sq = qm.y, qm.bidx, qm.X, qm.sq
    G, status, alpha, p, act = var.G, var.status, var.alpha, var.p, var.act
    G_bar, C, QD = var.G_bar, var.C, var.QD
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
    if qm.svr:  # the cache is keyed by sample, in the original order
        return
    if qm.kernel != PRECOMPUTED:
        if not qm.sparse:  # sparse rows are reached through ``kidx`` (``act``)
            for f in range(X.shape[1]):
                X[i, f], X[j, f] = X[j, f], X[i, f]
        sq[i], sq[j] = sq[j], sq[i]
    # the cached rows follow their variables ...
    data, slot_of, owner, rlen = cache.rows, cache.slot_of, cache.owner, cache.rlen
    prev, nxt, free, st = cache.prev, cache.nxt, cache.free, cache.st
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
    # kidx maps a position to a row of K: the variable itself when permuting
    # (classification), the identity on samples otherwise (regression)
    kidx = act if not svr else np.arange(m)
    # fields in QMatrix's order: svr, sparse, kernel, gamma, coef0, degree, X, sq, K,
    # csr, kidx, y, ones, bidx
    qm = QMatrix(svr, sparse, kernel, gamma, coef0, degree, Xw, sq, K, csr, kidx, y, ones,
                 bidx)
    diag = _kernel_diag(qm)
    QD = np.empty(n)
    for t in range(n):
        QD[t] = diag[bidx[t]]
    # rows of Q (classification) or of the kernel matrix (regression)
    cache = new_cache(m if svr else n, m if svr else n, n if svr else 1, cache_bytes)

    status = np.empty(n, dtype=np.int8)
    for t in range(n):
        _update_status(t, alpha, C, status)
    G = p.copy()
    G_bar = np.zeros(n)
    # fields in Variables' order: alpha, G, G_bar, p, C, QD, status, act
    var = Variables(alpha, G, G_bar, p, C, QD, status, act)
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
                    _reconstruct_gradient(active_size, n, qm, cache, var)
                    active_size = n
                t = 0
                while t < active_size:
                    if _be_shrunk(t, gmax1, gmax2, y, G, status):
                        active_size -= 1
                        while active_size > t:
                            if not _be_shrunk(active_size, gmax1, gmax2, y, G, status):
                                _swap_index(t, active_size, qm, var, cache)
                                break
                            active_size -= 1
                    t += 1

        i, j = _select_working_set(active_size, qm, cache, var, eps)
        if j == -1:
            _reconstruct_gradient(active_size, n, qm, cache, var)
            active_size = n
            i, j = _select_working_set(active_size, qm, cache, var, eps)
            if j == -1:
                break
            counter = 1  # shrink at the next iteration

        n_iter += 1

        # ---- two-variable analytic update, clipped to the box
        Q_i = _get_q(i, active_size, qm, cache)
        Q_j = _get_q(j, active_size, qm, cache)
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
            Q_i = _get_q(i, n, qm, cache)
            if ui:
                for k in range(n):
                    G_bar[k] -= C_i * Q_i[k]
            else:
                for k in range(n):
                    G_bar[k] += C_i * Q_i[k]
        if uj != (status[j] == _UPPER):
            Q_j = _get_q(j, n, qm, cache)
            if uj:
                for k in range(n):
                    G_bar[k] -= C_j * Q_j[k]
            else:
                for k in range(n):
                    G_bar[k] += C_j * Q_j[k]

    if active_size < n:  # stopped by max_iter while shrunk: complete the gradient
        _reconstruct_gradient(active_size, n, qm, cache, var)
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
def _select_working_set(active_size, qm, cache, var, eps):
    """Second-order working-set selection (WSS2); ``j == -1`` when optimal."""
    y, G, QD, status = qm.y, var.G, var.QD, var.status
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
    Q_i = _get_q(i, active_size, qm, cache)
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
def _reconstruct_gradient(active_size, n, qm, cache, var):
    """Recompute ``G`` of the shrunk variables from ``G_bar`` and the free ones."""
    if active_size == n:
        return
    G, G_bar, p, alpha, status = var.G, var.G_bar, var.p, var.alpha, var.status
    for t in range(active_size, n):
        G[t] = G_bar[t] + p[t]
    n_free = 0
    for t in range(active_size):
        if status[t] == _FREE:
            n_free += 1
    if n_free * n > 2 * active_size * (n - active_size):
        for i in range(active_size, n):
            Q_i = _get_q(i, active_size, qm, cache)
            acc = 0.0
            for t in range(active_size):
                if status[t] == _FREE:
                    acc += alpha[t] * Q_i[t]
            G[i] += acc
    else:
        for i in range(active_size):
            if status[i] == _FREE:
                Q_i = _get_q(i, n, qm, cache)
                a_i = alpha[i]
                for t in range(active_size, n):
                    G[t] += a_i * Q_i[t]
