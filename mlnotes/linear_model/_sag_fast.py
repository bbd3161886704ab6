"""Stochastic average gradient (SAG) and SAGA, compiled with numba.

Used by :class:`Ridge` (``solver="sag"``/``"saga"``) and
:class:`LogisticRegression` (``solver="sag"``/``"saga"``, and the L1 penalty of
``solver="liblinear"``). The problem solved is

.. math::

    \\min_{W, b} \\frac1n \\sum_{i=1}^n s_i \\, \\ell(y_i, W^\\top x_i + b)
    + \\frac{\\alpha}{2n} \\lVert W \\rVert_F^2 + \\frac{\\beta}{n} \\lVert W \\rVert_1

with the half squared error, the binary logistic loss (``y`` in {0, 1}) or the
multinomial loss (``y`` the class index). One step draws a sample ``i``
uniformly (with replacement), computes the derivative ``g_i`` of its loss in
the linear score and replaces the ``i``-th entry of a table of derivatives;
``G = sum_i g_i x_i`` is kept up to date. SAG steps along ``-G / m`` (``m`` the
number of samples seen so far), SAGA along
``-(g_i - g_i^{old}) x_i - G^{old} / m`` followed by the proximal operator of
the L1 term (soft thresholding). The L2 term shrinks the weights by
``1 - step * alpha / n`` every step.

Implementation: the weights are stored as ``wscale * W`` so that the shrinkage
is one multiplication, and the step along ``G`` (which changes only on the
features of the drawn sample) is applied to a feature only when a sample
containing it is drawn ("just-in-time" updates, from cumulative sums of the
step sizes): a step costs O(nnz of the sample), so sparse data are cheap.
Every epoch ends by bringing all features up to date; the run stops when the
largest change of a weight over the epoch is at most ``tol`` times the largest
weight (scikit-learn's rule). Dense ``X`` is read as a CSR matrix whose rows
are all full (``dense=True``), without a copy. Sparse ``X`` with one output and
no L1 term (binary logistic, squared loss) runs a specialised copy of the
kernel (:func:`_sag_sparse_single`) with the same arithmetic, so the same
iterates.
"""

import warnings

import numpy as np
from numba import njit
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

LOSS_SQUARED, LOSS_LOG, LOSS_MULTINOMIAL = 0, 1, 2
_LOSS_CODES = {"squared": LOSS_SQUARED, "log": LOSS_LOG, "multinomial": LOSS_MULTINOMIAL}


def sag_step_size(max_squared_sum, alpha_scaled, loss, fit_intercept, n_samples,
                  is_saga):
    """The constant step size: ``1 / L`` for SAG, ``1 / (2 L + min(2 n mu, L))`` for SAGA.

    ``L`` bounds the Lipschitz constant of one sample's gradient:
    ``max ||x_i||^2 + fit_intercept`` (times 1/4 for the logistic losses) plus
    ``alpha_scaled``, the L2 strength divided by ``n_samples``.
    """
    scale = 1.0 if loss == "squared" else 0.25
    L = scale * (max_squared_sum + int(fit_intercept)) + alpha_scaled
    if is_saga:
        return 1.0 / (2.0 * L + min(2.0 * n_samples * alpha_scaled, L))
    return 1.0 / L


@njit(cache=True, nogil=True)
def _soft(x, t):
    if x > t:
        return x - t
    if x < -t:
        return x + t
    return 0.0


@njit(cache=True, nogil=True)
def _catch_up(W, wscale, sum_grad, cum, cum_prox, last, t, j, prox):
    """Apply to feature ``j`` the pending steps ``last[j] .. t - 1``."""
    if last[j] >= t:
        return
    K = W.shape[1]
    start = last[j]
    total = cum[t - 1] - (cum[start - 1] if start > 0 else 0.0)
    if not prox:
        for k in range(K):
            W[j, k] -= total * sum_grad[j, k]
    else:
        total_prox = cum_prox[t - 1] - (cum_prox[start - 1] if start > 0 else 0.0)
        for k in range(K):
            if abs(sum_grad[j, k] * total) < total_prox:
                # no sign change possible along the way: one combined step
                W[j, k] = _soft(W[j, k] - total * sum_grad[j, k], total_prox)
            else:
                for s in range(start, t):
                    a = cum[s] - (cum[s - 1] if s > 0 else 0.0)
                    b = cum_prox[s] - (cum_prox[s - 1] if s > 0 else 0.0)
                    W[j, k] = _soft(W[j, k] - a * sum_grad[j, k], b)
    last[j] = t


@njit(cache=True, nogil=True)
def _flush(W, wscale, sum_grad, cum, cum_prox, last, t, prox):
    """Bring every feature up to date, fold ``wscale`` into ``W``; False if not finite."""
    p = W.shape[0]
    ok = True
    for j in range(p):
        _catch_up(W, wscale, sum_grad, cum, cum_prox, last, t, j, prox)
        last[j] = 0
        for k in range(W.shape[1]):
            W[j, k] *= wscale
            if not np.isfinite(W[j, k]):
                ok = False
    return ok


@njit(cache=True, nogil=True)
def _sag_kernel(data, indices, indptr, dense, y, sw, W, b, sum_grad, grad_mem, seen,
                num_seen, intercept_sum_grad, loss, step, alpha_scaled, beta_scaled,
                saga, fit_intercept, intercept_decay, tol, max_iter, seed):
    """Run SAG/SAGA epochs in place on ``W`` (n_features, K) and ``b`` (K,).

    Returns ``(n_epochs, num_seen, status)``, status 0 (converged), 1 (max_iter
    reached) or -1 (non-finite weights).
    """
    np.random.seed(seed)
    n = indptr.shape[0] - 1
    p, K = W.shape
    prox = saga and beta_scaled > 0.0
    decay = 1.0 - step * alpha_scaled
    cum = np.zeros(n + 1)
    cum_prox = np.zeros(n + 1)
    last = np.zeros(p, dtype=np.int64)
    prev = W.copy()
    pred = np.empty(K)
    g = np.empty(K)
    wscale = 1.0
    t = 0
    for epoch in range(max_iter):
        for _ in range(n):
            i = np.random.randint(0, n)
            if seen[i] == 0:
                seen[i] = 1
                num_seen += 1
            start, stop = indptr[i], indptr[i + 1]
            # bring the features of x_i up to date (dense rows: already are), predict
            for k in range(K):
                pred[k] = 0.0
            if dense and K == 1:
                acc = 0.0
                for j in range(p):
                    acc += data[start + j] * W[j, 0]
                pred[0] = acc
            elif dense:
                for j in range(p):
                    v = data[start + j]
                    for k in range(K):
                        pred[k] += v * W[j, k]
            else:
                for q in range(start, stop):
                    j = indices[q]
                    lj = last[j]
                    if lj < t:
                        if prox:
                            _catch_up(W, wscale, sum_grad, cum, cum_prox, last, t, j,
                                      prox)
                        else:  # inlined: a call per entry costs more than the update
                            total = cum[t - 1] - (cum[lj - 1] if lj > 0 else 0.0)
                            for k in range(K):
                                W[j, k] -= total * sum_grad[j, k]
                            last[j] = t
                    v = data[q]
                    for k in range(K):
                        pred[k] += v * W[j, k]
            for k in range(K):
                pred[k] = pred[k] * wscale + b[k]
            # derivative of the loss in the score, times the sample weight
            if loss == 0:
                g[0] = (pred[0] - y[i]) * sw[i]
            elif loss == 1:
                z = pred[0]
                if z >= 0:
                    prob = 1.0 / (1.0 + np.exp(-z))
                else:
                    e = np.exp(z)
                    prob = e / (1.0 + e)
                g[0] = (prob - y[i]) * sw[i]
            else:
                zmax = pred[0]
                for k in range(1, K):
                    zmax = max(zmax, pred[k])
                norm = 0.0
                for k in range(K):
                    pred[k] = np.exp(pred[k] - zmax)
                    norm += pred[k]
                yi = int(y[i])
                for k in range(K):
                    g[k] = (pred[k] / norm - (1.0 if k == yi else 0.0)) * sw[i]
            wscale *= decay
            inv_seen = 1.0 / num_seen
            if dense:
                # every feature moves every step: apply the step now, no lag
                a = step * inv_seen / wscale
                b_prox = step * beta_scaled / wscale
                c_saga = step * (1.0 - inv_seen) / wscale
                for k in range(K):
                    pred[k] = g[k] - grad_mem[i, k]  # reuse as the gradient change
                if K == 1 and not prox:
                    dg = pred[0]
                    for j in range(p):
                        corr = data[start + j] * dg
                        sg = sum_grad[j, 0] + corr
                        sum_grad[j, 0] = sg
                        if saga:
                            W[j, 0] -= a * sg + corr * c_saga
                        else:
                            W[j, 0] -= a * sg
                for j in range(p if K > 1 or prox else 0):
                    v = data[start + j]
                    for k in range(K):
                        corr = v * pred[k]
                        sg = sum_grad[j, k] + corr
                        sum_grad[j, k] = sg
                        wjk = W[j, k] - a * sg
                        if saga:
                            wjk -= corr * c_saga
                        if prox:
                            wjk = _soft(wjk, b_prox)
                        W[j, k] = wjk
            else:
                for q in range(start, stop):
                    j = indices[q]
                    v = data[q]
                    for k in range(K):
                        corr = v * (g[k] - grad_mem[i, k])
                        if saga:
                            W[j, k] -= corr * step * (1.0 - inv_seen) / wscale
                        sum_grad[j, k] += corr
            if fit_intercept:
                for k in range(K):
                    corr = g[k] - grad_mem[i, k]
                    intercept_sum_grad[k] += corr
                    b[k] -= step * intercept_sum_grad[k] * inv_seen * intercept_decay
                    if saga:
                        b[k] -= corr * step * (1.0 - inv_seen)
                    if not np.isfinite(b[k]):
                        return epoch + 1, num_seen, -1
            for k in range(K):
                grad_mem[i, k] = g[k]
            if not dense:
                prev_cum = cum[t - 1] if t > 0 else 0.0
                cum[t] = prev_cum + step * inv_seen / wscale
                if prox:
                    prev_prox = cum_prox[t - 1] if t > 0 else 0.0
                    cum_prox[t] = prev_prox + step * beta_scaled / wscale
                t += 1
            if wscale < 1e-9:
                if not _flush(W, wscale, sum_grad, cum, cum_prox, last, t, prox):
                    return epoch + 1, num_seen, -1
                wscale = 1.0
                t = 0
        if not _flush(W, wscale, sum_grad, cum, cum_prox, last, t, prox):
            return epoch + 1, num_seen, -1
        wscale = 1.0
        t = 0
        max_change = 0.0
        max_weight = 0.0
        for j in range(p):
            for k in range(K):
                max_weight = max(max_weight, abs(W[j, k]))
                max_change = max(max_change, abs(W[j, k] - prev[j, k]))
                prev[j, k] = W[j, k]
        if (max_weight != 0.0 and max_change / max_weight <= tol) or (
                max_weight == 0.0 and max_change == 0.0):
            return epoch + 1, num_seen, 0
    return max_iter, num_seen, 1


@njit(cache=True, nogil=True)
def _flush_pairs(ws, cum, last, t, wscale):
    """:func:`_flush` for :func:`_sag_sparse_single`'s ``(weight, gradient sum)`` pairs."""
    ok = True
    for j in range(ws.shape[0]):
        lj = last[j]
        if lj < t:
            total = cum[t - 1] - (cum[lj - 1] if lj > 0 else 0.0)
            ws[j, 0] -= total * ws[j, 1]
        last[j] = 0
        ws[j, 0] *= wscale
        if not np.isfinite(ws[j, 0]):
            ok = False
    return ok


@njit(cache=True, nogil=True)
def _sag_sparse_single(data, indices, indptr, y, sw, W, b, sum_grad, grad_mem, seen,
                       num_seen, intercept_sum_grad, loss, step, alpha_scaled, saga,
                       fit_intercept, intercept_decay, tol, max_iter, seed):
    """:func:`_sag_kernel` for sparse ``X``, one output and no L1 term.

    The same arithmetic in the same order (so the same iterates, bit for bit),
    written for the common sparse case: scalars instead of length-1 loops, the
    lagged update fused with the prediction, and each weight stored next to its
    gradient sum (one ``(n_features, 2)`` array, so a feature of the drawn
    sample costs one cache line instead of two), the "last updated" steps in
    32 bits. ``indices``/``indptr`` may be 32- or 64-bit (no copy of scikit-
    learn's 32-bit CSR).
    """
    np.random.seed(seed)
    n = indptr.shape[0] - 1
    p = W.shape[0]
    ws = np.empty((p, 2))
    for j in range(p):
        ws[j, 0] = W[j, 0]
        ws[j, 1] = sum_grad[j, 0]
    decay = 1.0 - step * alpha_scaled
    cum = np.zeros(n + 1)
    last = np.zeros(p, dtype=np.int32)
    prev = W[:, 0].copy()
    wscale = 1.0
    t = 0
    status = 1
    b0 = b[0]
    isg = intercept_sum_grad[0]
    for epoch in range(max_iter):
        for _ in range(n):
            i = np.random.randint(0, n)
            if seen[i] == 0:
                seen[i] = 1
                num_seen += 1
            start, stop = indptr[i], indptr[i + 1]
            cum_t = cum[t - 1] if t > 0 else 0.0
            acc = 0.0
            for q in range(start, stop):
                j = indices[q]
                lj = last[j]
                wj = ws[j, 0]
                if lj < t:
                    total = cum_t - (cum[lj - 1] if lj > 0 else 0.0)
                    wj -= total * ws[j, 1]
                    ws[j, 0] = wj
                    last[j] = t
                acc += data[q] * wj
            pred = acc * wscale + b0
            if loss == 0:
                g = (pred - y[i]) * sw[i]
            else:
                if pred >= 0:
                    prob = 1.0 / (1.0 + np.exp(-pred))
                else:
                    e = np.exp(pred)
                    prob = e / (1.0 + e)
                g = (prob - y[i]) * sw[i]
            wscale *= decay
            inv_seen = 1.0 / num_seen
            dg = g - grad_mem[i, 0]
            if saga:
                for q in range(start, stop):
                    j = indices[q]
                    corr = data[q] * dg
                    ws[j, 0] -= corr * step * (1.0 - inv_seen) / wscale
                    ws[j, 1] += corr
            else:
                for q in range(start, stop):
                    ws[indices[q], 1] += data[q] * dg
            if fit_intercept:
                isg += dg
                b0 -= step * isg * inv_seen * intercept_decay
                if saga:
                    b0 -= dg * step * (1.0 - inv_seen)
                if not np.isfinite(b0):
                    b[0] = b0
                    intercept_sum_grad[0] = isg
                    return epoch + 1, num_seen, -1
            grad_mem[i, 0] = g
            prev_cum = cum[t - 1] if t > 0 else 0.0
            cum[t] = prev_cum + step * inv_seen / wscale
            t += 1
            if wscale < 1e-9:
                if not _flush_pairs(ws, cum, last, t, wscale):
                    status = -1
                    break
                wscale = 1.0
                t = 0
        if status == -1:
            break
        ok = _flush_pairs(ws, cum, last, t, wscale)
        wscale = 1.0
        t = 0
        if not ok:
            status = -1
            break
        max_change = 0.0
        max_weight = 0.0
        for j in range(p):
            wj = ws[j, 0]
            max_weight = max(max_weight, abs(wj))
            max_change = max(max_change, abs(wj - prev[j]))
            prev[j] = wj
        if (max_weight != 0.0 and max_change / max_weight <= tol) or (
                max_weight == 0.0 and max_change == 0.0):
            status = 0
            break
    else:
        status = 1
        epoch = max_iter - 1
    for j in range(p):
        W[j, 0] = ws[j, 0]
        sum_grad[j, 0] = ws[j, 1]
    b[0] = b0
    intercept_sum_grad[0] = isg
    return epoch + 1, num_seen, status


def sag_solve(X, y, sample_weight, *, loss, alpha, beta, max_iter, tol, random_state,
              fit_intercept, is_saga, coef_init=None, intercept_init=None,
              n_classes=1, intercept_decay=None, max_squared_sum=None):
    """Fit a linear model by SAG/SAGA; ``X`` dense or sparse (CSR).

    ``alpha``/``beta``: L2/L1 strengths of ``(1/n) [sum_i s_i loss_i +
    alpha/2 ||W||^2 + beta ||W||_1]``. ``y``: targets (squared), 0/1 (log) or
    class indices (multinomial, ``n_classes`` columns). Returns ``(coef of shape
    (n_features, K), intercept of shape (K,), n_iter)``; warns
    (``ConvergenceWarning``) when ``max_iter`` epochs did not converge and raises
    ``ValueError`` on non-finite weights.
    """
    n_samples, n_features = X.shape
    K = n_classes if loss == "multinomial" else 1
    if sparse.issparse(X):
        Xc = sparse.csr_array(X)
        if not Xc.has_canonical_format:
            Xc = Xc.copy()
            Xc.sum_duplicates()
        # float64 data, int64 indices (few compiled signatures); the single-output
        # kernel also takes 32-bit ones as they are (scikit-learn's CSR, no copy)
        data = Xc.data.astype(np.float64, copy=False)
        indices, indptr = Xc.indices, Xc.indptr
        single = K == 1 and not (is_saga and float(beta) / n_samples > 0.0)
        if not (single and indices.dtype == indptr.dtype == np.int32):
            indices = indices.astype(np.int64, copy=False)
            indptr = indptr.astype(np.int64, copy=False)
        dense = False
        if max_squared_sum is None:
            max_squared_sum = float(np.max(np.asarray(Xc.multiply(Xc).sum(axis=1))))
        if intercept_decay is None:
            intercept_decay = 0.01
    else:
        Xd = np.ascontiguousarray(X)
        data = Xd.reshape(-1)
        indices = np.zeros(1, dtype=np.int64)
        indptr = np.arange(0, n_samples * n_features + 1, max(n_features, 1),
                           dtype=np.int64)[: n_samples + 1]
        if n_features == 0:
            indptr = np.zeros(n_samples + 1, dtype=np.int64)
        dense = True
        single = False
        if max_squared_sum is None:
            max_squared_sum = float(np.max(np.einsum("ij,ij->i", Xd, Xd)))
        if intercept_decay is None:
            intercept_decay = 1.0
    alpha_scaled = float(alpha) / n_samples
    beta_scaled = float(beta) / n_samples
    step = sag_step_size(max_squared_sum, alpha_scaled, loss, fit_intercept, n_samples,
                         is_saga)
    if step * alpha_scaled == 1.0:
        raise ZeroDivisionError("Current sag implementation does not handle the case "
                                "step_size * alpha_scaled == 1")
    sw = (np.ones(n_samples) if sample_weight is None
          else np.asarray(sample_weight, dtype=np.float64))
    W = (np.zeros((n_features, K)) if coef_init is None
         else np.array(coef_init, dtype=np.float64).reshape(n_features, K))
    b = (np.zeros(K) if intercept_init is None
         else np.array(intercept_init, dtype=np.float64).reshape(K))
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    y = np.asarray(y, dtype=np.float64)
    if single:
        n_iter, _, status = _sag_sparse_single(
            data, indices, indptr, y, sw, W, b, np.zeros((n_features, 1)),
            np.zeros((n_samples, 1)), np.zeros(n_samples, dtype=np.int8), 0,
            np.zeros(1), _LOSS_CODES[loss], step, alpha_scaled, bool(is_saga),
            bool(fit_intercept), float(intercept_decay), float(tol), int(max_iter), seed,
        )
    else:
        n_iter, _, status = _sag_kernel(
            data, indices, indptr, dense, y, sw, W, b,
            np.zeros((n_features, K)), np.zeros((n_samples, K)),
            np.zeros(n_samples, dtype=np.int8), 0, np.zeros(K), _LOSS_CODES[loss],
            step, alpha_scaled, beta_scaled, bool(is_saga), bool(fit_intercept),
            float(intercept_decay), float(tol), int(max_iter), seed,
        )
    if status == -1:
        raise ValueError(
            f"Floating-point under-/overflow occurred at epoch #{n_iter}. Scaling input "
            "data with StandardScaler or MinMaxScaler might help."
        )
    if status == 1:
        warnings.warn("The max_iter was reached which means the coef_ did not converge",
                      ConvergenceWarning, stacklevel=3)
    return W, b, n_iter


@njit(cache=True, nogil=True)
def l1_quadratic_cd(Q, q, u, max_sweeps, tol):
    """Minimise ``1/2 u^T Q u - q^T u + ||u||_1`` by cyclic coordinate descent, in place.

    The subproblem of a proximal Newton step (``Q`` the Hessian, positive
    semi-definite). Each coordinate is set to its exact minimiser
    ``soft(q_j - (Q u)_j + Q_jj u_j, 1) / Q_jj``; stops when a sweep moves no
    coordinate by more than ``tol``. Returns the number of sweeps.

    The update of ``Q u`` after a coordinate move reads column ``j`` of ``Q``;
    it reads it as row ``j`` of a C-ordered copy of ``Q^T`` (contiguous, so the
    loop vectorises). The copy holds the same numbers, so the result is the one
    of reading ``Q[k, j]`` (``Q`` from a matrix product need not be exactly
    symmetric, so ``Q[j, k]`` would not do).
    """
    p = u.shape[0]
    Qu = Q @ u
    QT = np.ascontiguousarray(Q.T)
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):
        d_max = 0.0
        for j in range(p):
            a = Q[j, j]
            if a <= 0.0:
                continue
            b = q[j] - Qu[j] + a * u[j]
            new = _soft(b, 1.0) / a
            d = new - u[j]
            if d != 0.0:
                u[j] = new
                column = QT[j]
                for k in range(p):
                    Qu[k] += d * column[k]
                d_max = max(d_max, abs(d))
        if d_max <= tol:
            break
    return sweeps
