"""Logistic regression, binary and multinomial, by L-BFGS or Newton (chapter 10 of the notes)."""

import warnings
from numbers import Integral, Real

import numpy as np
from numba import njit
from scipy import linalg, optimize, sparse, special
from sklearn.base import BaseEstimator
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..optim import newton
from ._sag_fast import l1_quadratic_cd, sag_solve
from ._base import (
    FLOAT_DTYPES,
    SPARSE_FIT_FORMATS,
    SPARSE_PREDICT_FORMATS,
    LinearClassifierMixin,
    SparseCoefMixin,
    proba_from_scores,
)

_SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")
_CONVERGENCE_HINT = (
    "Increase max_iter, scale the data (e.g. sklearn.preprocessing.StandardScaler), "
    "or increase the regularisation (smaller C)."
)


@njit(cache=True, nogil=True)
def _csr_weighted_gram(data, indices, indptr, weights, fit_intercept, out):
    """``out[:, :, b] = X1^T diag(weights[b]) X1`` for CSR ``X`` (``X1 = [X, 1]``).

    ``X`` must be in canonical format (sorted, unique column indices per row).
    One pass over the rows: each pair of stored entries ``a <= c`` of row ``i``
    adds ``weights[b, i] * x_ia * x_ic`` to ``out[j_a, j_c, b]`` (upper triangle,
    as ``j_a <= j_c``) for every weight vector ``b``; the lower triangle is
    mirrored at the end. The cost is ``sum_i nnz_i (nnz_i + 1) / 2 * n_weights``
    and no sparse product (with its symbolic phase and sparse result) is
    formed. ``out`` is zeroed here; its last axis holds the weight vectors,
    contiguous.
    """
    n_rows = indptr.shape[0] - 1
    n_weights = weights.shape[0]
    d = out.shape[0] - 1 if fit_intercept else out.shape[0]
    out[:] = 0.0
    wi = np.empty(n_weights)
    for i in range(n_rows):
        start, stop = indptr[i], indptr[i + 1]
        for b in range(n_weights):
            wi[b] = weights[b, i]
        for a in range(start, stop):
            ja = indices[a]
            va = data[a]
            for c in range(a, stop):
                jc = indices[c]
                vac = va * data[c]
                for b in range(n_weights):
                    out[ja, jc, b] += wi[b] * vac
            if fit_intercept:
                for b in range(n_weights):
                    out[ja, d, b] += wi[b] * va
        if fit_intercept:
            for b in range(n_weights):
                out[d, d, b] += wi[b]
    n_dof = out.shape[0]
    for j in range(n_dof):
        for k in range(j + 1, n_dof):
            for b in range(n_weights):
                out[k, j, b] = out[j, k, b]


class _LogisticLoss:
    """Penalised, weighted mean log-loss of a linear model, with gradient and Hessian.

    The objective of the parameter vector ``x`` is

        f(x) = sum_i s_i loss_i / sum_i s_i + l2_reg_strength / 2 * ||W||^2

    with the intercepts left out of the penalty. Layout of ``x``: binary
    ``[w_1 .. w_d, b]`` (``b`` only with an intercept); multinomial a
    ``(n_dof, n_classes)`` array raveled in C order, i.e. the classes of one
    feature are contiguous and the intercepts come last (the layout of
    scikit-learn's ``LinearModelLoss``).

    The linear predictor ``X @ w`` and the probabilities of the last point
    evaluated are cached, so ``fun``, ``grad`` and ``hess`` at one point (as
    :func:`mlnotes.optim.newton` calls them) pass over ``X`` only as often as
    needed.
    """

    def __init__(self, X, y, n_classes, *, sample_weight, l2_reg_strength,
                 fit_intercept):
        self.X = X
        self.is_sparse = sparse.issparse(X)
        self.n_samples, self.n_features = X.shape
        self.n_classes = n_classes
        self.binary = n_classes == 2
        self.fit_intercept = fit_intercept
        self.n_dof = self.n_features + int(fit_intercept)
        self.l2 = float(l2_reg_strength)
        sw_sum = self.n_samples if sample_weight is None else float(np.sum(sample_weight))
        # Weights normalised to sum to one; a scalar without sample weights.
        self.sw = (1.0 / sw_sum if sample_weight is None
                   else np.asarray(sample_weight, dtype=np.float64) / sw_sum)
        self.has_negative_weights = sample_weight is not None and np.any(self.sw < 0)
        if self.binary:
            # loss_i = -log(expit(sign_i * z_i)) with sign_i = +1 for the
            # positive class and -1 for the negative one.
            self.sign = np.where(y == 1, 1.0, -1.0)
            self.z = np.empty(self.n_samples)
            self.q = np.empty(self.n_samples)
            self.r = np.empty(self.n_samples)
        else:
            # Flat indices of the observed classes in a (n_classes, n_samples) array.
            self.flat_y = y * self.n_samples + np.arange(self.n_samples)
        self._x = None
        self._hess_buffer = None
        self._csr = None

    @property
    def size(self):
        return self.n_dof * (1 if self.binary else self.n_classes)

    def _cast(self, w):
        return w.astype(self.X.dtype, copy=False)

    # -- evaluation at a point -------------------------------------------------
    def _evaluate(self, x):
        """Loss at ``x``; caches what the gradient and the Hessian need."""
        if self._x is not None and np.array_equal(x, self._x):
            return self._loss
        X, d = self.X, self.n_features
        if self.binary:
            w = x[:d]
            if self.is_sparse:
                self.z[:] = X @ self._cast(w)
            elif X.dtype == np.float64:
                np.matmul(X, w, out=self.z)
            else:
                self.z[:] = X @ self._cast(w)
            if self.fit_intercept:
                self.z += x[d]
            m = self.z
            m *= self.sign  # margin of the observed class
            # With e = exp(-m): loss_i = log1p(e) and the probability of the
            # observed class is q = 1 / (1 + e); cheaper than expit and log.
            e = np.negative(m, out=self.q)
            with np.errstate(over="ignore"):
                np.exp(e, out=e)
            losses = np.log1p(e, out=self.r)
            loss = self.sw * losses.sum() if np.ndim(self.sw) == 0 else self.sw @ losses
            if not np.isfinite(loss):  # exp overflowed: margins below -709
                losses = -special.log_expit(m)
                loss = (self.sw * losses.sum() if np.ndim(self.sw) == 0
                        else self.sw @ losses)
            e += 1.0
            np.reciprocal(e, out=self.q)
        else:
            K = self.n_classes
            W = x.reshape(self.n_dof, K)
            # The transposed predictor (K, n) keeps every class contiguous:
            # reductions over classes are then elementwise operations.
            if self.is_sparse:
                Zt = np.ascontiguousarray((X @ self._cast(W[:d])).T)
            else:
                Zt = self._cast(W[:d]).T @ X.T
            Zt = Zt.astype(np.float64, copy=False)
            if self.fit_intercept:
                Zt += W[d][:, None]
            z_obs = Zt.ravel()[self.flat_y]
            z_max = Zt.max(axis=0)
            Zt -= z_max
            np.exp(Zt, out=Zt)
            norm = Zt.sum(axis=0)
            Zt /= norm
            lse = np.log(norm)
            lse += z_max
            lse -= z_obs
            loss = (self.sw * lse.sum() if np.ndim(self.sw) == 0 else self.sw @ lse)
            self.Pt = Zt  # probabilities, (K, n)
        if self.l2 > 0:
            coef = x[: d] if self.binary else x[: d * self.n_classes]
            loss += 0.5 * self.l2 * (coef @ coef)
        self._x = x.copy()
        self._loss = float(loss)
        self._grad = None
        return self._loss

    def fun(self, x):
        return self._evaluate(x)

    def grad(self, x):
        self._evaluate(x)
        if self._grad is not None:
            return self._grad
        X, d = self.X, self.n_features
        if self.binary:
            r = np.subtract(self.q, 1.0, out=self.r)
            r *= self.sign  # d loss_i / d z_i = expit(z_i) - y_i
            r *= self.sw
            g = np.empty(self.n_dof)
            if self.is_sparse:
                g[:d] = X.T @ self._cast(r)
            elif X.dtype == np.float64:
                g[:d] = r @ X
            else:
                g[:d] = self._cast(r) @ X
            if self.fit_intercept:
                g[d] = r.sum()
            if self.l2 > 0:
                g[:d] += self.l2 * x[:d]
        else:
            K = self.n_classes
            Rt = self.Pt.copy()
            Rt.ravel()[self.flat_y] -= 1.0  # P - Y
            Rt *= self.sw
            G = np.empty((self.n_dof, K))
            if self.is_sparse:
                G[:d] = X.T @ self._cast(Rt).T
            else:
                G[:d] = (self._cast(Rt) @ X).T
            if self.fit_intercept:
                G[d] = Rt.sum(axis=1)
            if self.l2 > 0:
                G[:d] += self.l2 * x.reshape(self.n_dof, K)[:d]
            g = G.ravel()
        self._grad = g
        return g

    def loss_gradient(self, x):
        return self.fun(x), self.grad(x).copy()

    def hessp(self, x, v):
        """Hessian-vector product ``H(x) v`` without forming ``H`` (for newton-cg)."""
        self._evaluate(x)
        X, d = self.X, self.n_features
        if self.binary:
            u = X @ self._cast(v[:d])
            u = np.asarray(u, dtype=np.float64)
            if self.fit_intercept:
                u = u + v[d]
            h = self.q * (1.0 - self.q) * self.sw
            r = h * u
            out = np.empty(self.n_dof)
            out[:d] = X.T @ self._cast(r) if self.is_sparse else self._cast(r) @ X
            if self.fit_intercept:
                out[d] = r.sum()
            if self.l2 > 0:
                out[:d] += self.l2 * v[:d]
            return out
        K = self.n_classes
        V = v.reshape(self.n_dof, K)
        if self.is_sparse:
            Ut = np.ascontiguousarray((X @ self._cast(V[:d])).T)
        else:
            Ut = self._cast(V[:d]).T @ X.T
        Ut = Ut.astype(np.float64, copy=False)
        if self.fit_intercept:
            Ut = Ut + V[d][:, None]
        P = self.Pt
        # per sample (diag(p) - p p^T) u = p * (u - p.u)
        Rt = P * (Ut - (P * Ut).sum(axis=0))
        Rt *= self.sw
        G = np.empty((self.n_dof, K))
        G[:d] = X.T @ self._cast(Rt).T if self.is_sparse else (self._cast(Rt) @ X).T
        if self.fit_intercept:
            G[d] = Rt.sum(axis=1)
        if self.l2 > 0:
            G[:d] += self.l2 * V[:d]
        return G.ravel()

    def hess(self, x, chunk_size=8192):
        """Hessian ``X1^T diag(h) X1 + l2 I`` (``X1`` = ``X`` with a column of ones)."""
        self._evaluate(x)
        if self.is_sparse:
            return self._hess_sparse()
        X, n, d = self.X, self.n_samples, self.n_features
        n_dof = self.n_dof
        chunk_size = min(chunk_size, n)
        if self._hess_buffer is None or self._hess_buffer.shape[0] != chunk_size:
            self._hess_buffer = np.empty((chunk_size, n_dof))
        B = self._hess_buffer

        def sandwich(H, weight, start, stop):
            """H += X1[start:stop]^T diag(weight) X1[start:stop], chunk by chunk
            so that the work array stays in cache."""
            Bc = B[: stop - start]
            if self.has_negative_weights:
                Bc[:, :d] = X[start:stop]
                if self.fit_intercept:
                    Bc[:, d] = 1.0
                H += Bc.T @ (weight[:, None] * Bc)
            else:
                root = np.sqrt(weight)
                np.multiply(X[start:stop], root[:, None], out=Bc[:, :d])
                if self.fit_intercept:
                    Bc[:, d] = root
                H += Bc.T @ Bc  # symmetric rank-k update (BLAS syrk)

        if self.binary:
            q = self.q
            h = q * (1.0 - q)
            h *= self.sw
            H = np.zeros((n_dof, n_dof))
            for start in range(0, n, chunk_size):
                stop = min(start + chunk_size, n)
                sandwich(H, h[start:stop], start, stop)
            if self.l2 > 0:
                H[np.arange(d), np.arange(d)] += self.l2
            return H

        # Per sample, the Hessian of the multinomial loss in the raw scores is
        # diag(p) - p p^T; block (k, l) of the full Hessian is
        # X1^T diag(s * (p_k [k == l] - p_k p_l)) X1.
        K = self.n_classes
        Pt = self.Pt
        pairs = [(k, l) for k in range(K) for l in range(k, K)]
        blocks = np.zeros((len(pairs), n_dof, n_dof))
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            P = Pt[:, start:stop]
            sw = self.sw if np.ndim(self.sw) == 0 else self.sw[start:stop]
            for i, (k, l) in enumerate(pairs):
                weight = P[k] * ((1.0 - P[k]) if k == l else P[l])
                weight *= sw
                sandwich(blocks[i], weight, start, stop)
        H4 = np.empty((n_dof, K, n_dof, K))
        for i, (k, l) in enumerate(pairs):
            block = blocks[i] if k == l else -blocks[i]
            H4[:, k, :, l] = block
            H4[:, l, :, k] = block
        H = H4.reshape(n_dof * K, n_dof * K)
        if self.l2 > 0:
            idx = np.arange(d * K)
            H[idx, idx] += self.l2
        return H


    def _sandwich_sparse(self, weights):
        """Dense ``X1^T diag(w_b) X1`` for each row ``w_b`` of ``weights``
        (``X1 = [X, 1]``), shape ``(n_dof, n_dof, n_weights)``; see
        :func:`_csr_weighted_gram`."""
        if self._csr is None:
            X = sparse.csr_array(self.X)  # a sparse copy only for CSC input
            if not X.has_canonical_format:
                X = X.copy()
                X.sum_duplicates()  # sorted, unique indices
            self._csr = (X.data.astype(np.float64, copy=False),
                         X.indices.astype(np.int64, copy=False),
                         X.indptr.astype(np.int64, copy=False))
        weights = np.ascontiguousarray(weights, dtype=np.float64)
        if self._hess_buffer is None or self._hess_buffer.shape[2] != weights.shape[0]:
            self._hess_buffer = np.empty((self.n_dof, self.n_dof, weights.shape[0]))
        _csr_weighted_gram(*self._csr, weights, self.fit_intercept, self._hess_buffer)
        return self._hess_buffer

    def _hess_sparse(self):
        """The Hessian of :meth:`hess` for sparse ``X``; ``X`` is never densified."""
        d, n_dof = self.n_features, self.n_dof
        sw = self.sw if np.ndim(self.sw) else np.full(self.n_samples, self.sw)
        if self.binary:
            q = self.q
            H = self._sandwich_sparse((q * (1.0 - q) * sw)[None])[:, :, 0].copy()
            if self.l2 > 0:
                H[np.arange(d), np.arange(d)] += self.l2
            return H
        K, Pt = self.n_classes, self.Pt
        pairs = [(k, l) for k in range(K) for l in range(k, K)]
        weights = np.empty((len(pairs), self.n_samples))
        for i, (k, l) in enumerate(pairs):
            weights[i] = Pt[k] * ((1.0 - Pt[k]) if k == l else Pt[l]) * sw
        blocks = self._sandwich_sparse(weights)
        H4 = np.empty((n_dof, K, n_dof, K))
        for i, (k, l) in enumerate(pairs):
            block = blocks[:, :, i] if k == l else -blocks[:, :, i]
            H4[:, k, :, l] = block
            H4[:, l, :, k] = block
        H = H4.reshape(n_dof * K, n_dof * K)
        if self.l2 > 0:
            idx = np.arange(d * K)
            H[idx, idx] += self.l2
        return H


class _FixedEntries:
    """The objective restricted to ``x[free]``, the other entries held at zero.

    Used for the multinomial Newton solver: the multinomial loss is unchanged
    when a constant is added to the intercepts of all classes (and, without
    penalty, to the coefficients of all classes of one feature), so its
    Hessian is singular in those directions. Holding the last class's entries
    at zero removes them, as in scikit-learn's ``NewtonCholeskySolver``.
    """

    def __init__(self, loss, free):
        self.loss = loss
        self.free = free
        self._index = np.ix_(free, free)

    def expand(self, x_free):
        x = np.zeros(self.free.shape[0])
        x[self.free] = x_free
        return x

    def fun(self, x_free):
        return self.loss.fun(self.expand(x_free))

    def grad(self, x_free):
        return self.loss.grad(self.expand(x_free))[self.free]

    def hess(self, x_free):
        return self.loss.hess(self.expand(x_free))[self._index]


def _solve_lbfgs(loss, x0, *, tol, max_iter, verbose=0, on_iteration=None):
    """Minimise the loss with L-BFGS-B, scikit-learn's options; returns ``(x, n_iter)``.

    ``on_iteration(x)``, if given, is called after every iteration.
    """
    callback = None
    if verbose or on_iteration is not None:
        def callback(intermediate_result):
            if verbose:
                print(f"L-BFGS: loss={intermediate_result.fun:.10g}")
            if on_iteration is not None:
                on_iteration(intermediate_result.x)
    result = optimize.minimize(
        loss.loss_gradient,
        x0,
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={
            "maxiter": max_iter,
            "maxls": 50,
            "gtol": tol,
            "ftol": 64 * np.finfo(np.float64).eps,
        },
    )
    n_iter = min(result.nit, max_iter)
    if result.status != 0:
        message = (
            f"lbfgs failed to converge after {n_iter} iteration(s) "
            f"(status={result.status}: {result.message})."
        )
        if n_iter == max_iter:
            message += f" The limit max_iter={max_iter} was reached."
        warnings.warn(f"{message} {_CONVERGENCE_HINT}", ConvergenceWarning, stacklevel=4)
    return result.x, n_iter


class _IllConditionedHessian(Exception):
    """Raised from the Hessian callback to leave :func:`newton` at ``x``."""

    def __init__(self, x, n_hessians, message):
        super().__init__(message)
        self.x = x
        self.n_hessians = n_hessians


def _hessian_trouble(H, factor=None):
    """scikit-learn's test for leaving Newton's method: the symmetric solve
    (``scipy.linalg.solve(..., assume_a="sym")``) fails or warns that the
    matrix is singular or ill-conditioned. Returns the message or ``None``.

    That solve's LAPACK steps (Bunch-Kaufman ``sytrf`` of the upper triangle,
    then ``sycon`` with the 1-norm of ``H``: singular on a zero pivot or a zero
    estimate, ill-conditioned when the estimate of the reciprocal condition
    number is below machine epsilon) and its messages, without the solve. With
    the Cholesky factor ``factor`` that Newton's method computes anyway (the
    ``(c, lower)`` pair of :func:`scipy.linalg.cho_factor`), ``pocon`` estimates
    the same reciprocal condition number in O(n^2); both estimates bound the true
    one from above and agree to a small factor, so an estimate above 1000 eps
    passes without the O(n^3) ``sytrf``, which cost more than the Newton step
    (a test compares the decisions with the symmetric solve's).
    """
    if not np.all(np.isfinite(H)):
        return None  # newton() stops on a non-finite Hessian itself
    eps = np.finfo(H.dtype).eps
    anorm = np.abs(H).sum(axis=0).max()
    if factor is not None:
        c, lower = factor
        (pocon,) = linalg.lapack.get_lapack_funcs(("pocon",), (c,))
        rcond, info = pocon(c, anorm, uplo="L" if lower else "U")
        if info == 0 and rcond >= 1e3 * eps:
            return None
    sytrf, sycon = linalg.lapack.get_lapack_funcs(("sytrf", "sycon"), (H,))
    ldl, pivots, info = sytrf(H)
    if info == 0:
        rcond, info = sycon(ldl, pivots, anorm)
    if info > 0 or rcond == 0:
        return "A singular matrix detected: slice(s) [0] are singular."
    if not rcond >= eps:
        return f"An ill-conditioned matrix detected: slice 0 has rcond = {rcond}."
    return None


def _solve_newton_cholesky(loss, x0, *, tol, max_iter, verbose=0):
    """Minimise the loss with Newton's method (IRLS); returns ``(x, n_iter)``.

    As scikit-learn's ``NewtonCholeskySolver``, a singular or ill-conditioned
    Hessian at Newton iteration ``k`` (counted from 1) ends Newton's method:
    a ``LinAlgWarning`` is emitted and L-BFGS continues from the current
    point for the remaining ``max_iter - k`` iterations; ``n_iter`` is then
    ``k - 1`` plus the L-BFGS iterations.
    """
    x0 = x0.copy()
    objective, free = loss, None
    if not loss.binary:
        K, d = loss.n_classes, loss.n_features
        W0 = x0.reshape(loss.n_dof, K)
        fixed = np.zeros_like(W0, dtype=bool)
        if loss.l2 == 0:
            W0 -= W0[:, -1:]  # probabilities are unchanged
            fixed[:, -1] = True
        elif loss.fit_intercept:
            W0[d] -= W0[d, -1]
            fixed[d, -1] = True
        if fixed.any():
            free = ~fixed.ravel()
            objective = _FixedEntries(loss, free)
            x0 = x0[free]
    n_hessians, at = 0, None

    def hess(x):
        nonlocal n_hessians, at
        n_hessians, at = n_hessians + 1, x
        return objective.hess(x)

    def check(H, factor):
        trouble = _hessian_trouble(H, factor)
        if trouble is not None:
            raise _IllConditionedHessian(np.array(at, dtype=np.float64), n_hessians,
                                         trouble)

    try:
        result = newton(objective.fun, x0, grad=objective.grad, hess=hess,
                        hessian_check=check, tol=tol, max_iter=max_iter,
                        verbose=verbose)
    except _IllConditionedHessian as exc:
        x = exc.x if free is None else objective.expand(exc.x)
        n_iter = exc.n_hessians - 1  # Newton steps completed
        left = max_iter - exc.n_hessians
        if left < 0:  # the Hessian of the final stopping test, max_iter steps done
            return x, n_iter
        warnings.warn(
            "The inner solver of newton-cholesky stumbled upon a singular or very "
            f"ill-conditioned Hessian matrix at iteration {exc.n_hessians}. It will "
            f"now resort to lbfgs instead (as scikit-learn's). The linear algebra "
            f"message was: {exc}",
            linalg.LinAlgWarning,
            stacklevel=4,
        )
        x, more = _solve_lbfgs(loss, x, tol=tol, max_iter=left, verbose=verbose)
        return x, n_iter + more
    x = result.x if free is None else objective.expand(result.x)
    n_iter = result.n_iter
    if result.status == 2:
        left = max_iter - n_iter
        warnings.warn(
            f"The line search of the newton-cholesky solver failed at iteration "
            f"{n_iter + 1}; "
            + (f"finishing with lbfgs for the remaining {left} iteration(s)."
               if left > 0 else f"no iteration left (max_iter={max_iter}).")
            + f" {_CONVERGENCE_HINT}",
            ConvergenceWarning,
            stacklevel=4,
        )
        if left > 0:
            x, more = _solve_lbfgs(loss, x, tol=tol, max_iter=left, verbose=verbose)
            n_iter += more
    elif result.status == 1:
        warnings.warn(
            f"Newton solver did not converge after {n_iter} iterations: newton-cholesky "
            f"reached the limit max_iter={max_iter} (max|gradient|="
            f"{np.max(np.abs(result.grad)):.3g}, tol={tol}). {_CONVERGENCE_HINT}",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif result.status == 3:
        warnings.warn(
            f"newton-cholesky stopped after {n_iter} iteration(s): the loss or its "
            "derivatives became non-finite; the last finite iterate is returned. "
            f"{_CONVERGENCE_HINT}",
            ConvergenceWarning,
            stacklevel=4,
        )
    return x, n_iter


def _solve_newton_cg(loss, x0, *, tol, max_iter, verbose=0, name="newton-cg"):
    """Truncated Newton: conjugate gradient on ``H d = -g`` with Hessian-vector
    products, then a backtracking (Armijo) line search; returns ``(x, n_iter)``.

    Stops when ``max |g| <= tol`` (scikit-learn's rule for ``newton-cg``). The
    inner CG stops when the residual's L1 norm is at most
    ``min(0.5, sqrt(||g||_1)) ||g||_1`` (a forcing sequence giving superlinear
    convergence) or after ``200`` steps, or at a direction of non-positive
    curvature.
    """
    x = np.array(x0, dtype=np.float64)
    f = loss.fun(x)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        g = loss.grad(x).copy()
        if np.max(np.abs(g)) <= tol:
            return x, n_iter - 1
        g_l1 = np.sum(np.abs(g))
        eta = min(0.5, np.sqrt(g_l1))
        # CG on H d = -g
        d = np.zeros_like(x)
        r = -g
        q = r.copy()
        rr = r @ r
        for _ in range(200):
            if np.sum(np.abs(r)) <= eta * g_l1:
                break
            Hq = loss.hessp(x, q)
            curvature = q @ Hq
            if curvature <= 0:
                if not d.any():
                    d = -g
                break
            step = rr / curvature
            d += step * q
            r -= step * Hq
            rr_new = r @ r
            q = r + (rr_new / rr) * q
            rr = rr_new
        # the Hessian-vector products moved the cache: re-evaluate at x
        slope = g @ d
        t = 1.0
        accepted = False
        for _ in range(50):
            f_new = loss.fun(x + t * d)
            if f_new <= f + 1e-4 * t * slope:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            warnings.warn(
                f"The line search of newton-cg failed at iteration {n_iter}. "
                f"{_CONVERGENCE_HINT}", ConvergenceWarning, stacklevel=4)
            return x, n_iter
        x = x + t * d
        f = f_new
        if verbose:
            print(f"newton-cg iteration {n_iter}: loss={f:.10g}")
    g = loss.grad(x)
    if np.max(np.abs(g)) <= tol:
        return x, max_iter
    if name == "liblinear":
        message = ("Liblinear failed to converge, increase the number of iterations "
                   f"(max_iter={max_iter}; max|gradient|={np.max(np.abs(g)):.3g}).")
    else:
        message = (f"newton-cg failed to converge after {max_iter} iteration(s) "
                   f"(max|gradient|={np.max(np.abs(g)):.3g}, tol={tol}). Increase the "
                   f"number of iterations (max_iter). {_CONVERGENCE_HINT}")
    warnings.warn(message, ConvergenceWarning, stacklevel=4)
    return x, max_iter


def _logistic_regression(X, y, n_classes, *, C, fit_intercept, sample_weight, solver,
                         tol, max_iter, x0=None, verbose=0, on_iteration=None):
    """Fit penalised logistic regression on validated data.

    ``y`` holds class indices ``0 .. n_classes - 1``. Returns the parameter
    vector in the layout of :class:`_LogisticLoss` and the number of iterations.
    """
    sw_sum = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
    l2 = 0.0 if np.isinf(C) else 1.0 / (C * sw_sum)
    loss = _LogisticLoss(X, y, n_classes, sample_weight=sample_weight,
                         l2_reg_strength=l2, fit_intercept=fit_intercept)
    x0 = np.zeros(loss.size) if x0 is None else np.asarray(x0, dtype=np.float64)
    if solver == "lbfgs":
        return _solve_lbfgs(loss, x0, tol=tol, max_iter=max_iter, verbose=verbose,
                            on_iteration=on_iteration)
    if solver == "newton-cg":
        return _solve_newton_cg(loss, x0, tol=tol, max_iter=max_iter, verbose=verbose)
    return _solve_newton_cholesky(loss, x0, tol=tol, max_iter=max_iter, verbose=verbose)


# Up to this many columns the L1 liblinear fit forms the (dense) Hessian and takes
# proximal Newton steps; beyond, SAGA.
_L1_NEWTON_MAX_FEATURES = 1000


def _l1_proximal_newton(X, y, sample_weight, *, C, tol, max_iter):
    """``min_w C sum_i s_i log(1 + exp(-y_i w.x_i)) + ||w||_1`` by proximal Newton.

    Each iteration minimises the quadratic model of the smooth part plus the
    L1 norm, ``g.d + d^T H d / 2 + ||w + d||_1``, by coordinate descent
    (:func:`l1_quadratic_cd`, on ``u = w + d``), then backtracks along ``d``
    until the objective decreases by a fraction of the model's prediction (as
    liblinear's newGLMNET, with an exact inner solve). Stops when the
    minimum-norm subgradient is at most ``tol`` times its value at zero.
    Returns ``(w, n_iter)``.
    """
    n_samples, n_dof = X.shape
    sw = np.ones(n_samples) if sample_weight is None else np.asarray(sample_weight, float)
    sign = np.where(y == 1, 1.0, -1.0)
    Xd = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)

    def smooth(w):
        m = sign * (Xd @ w)
        return C * (sw @ np.logaddexp(0.0, -m)), m

    def subgradient_norm(w, g):
        sub = np.where(w > 0, g + 1.0, np.where(w < 0, g - 1.0,
                                                np.sign(g) * np.maximum(np.abs(g) - 1.0, 0)))
        return np.max(np.abs(sub)) if sub.size else 0.0

    w = np.zeros(n_dof)
    f, m = smooth(w)
    n_iter = 0
    stop = None
    for n_iter in range(1, max_iter + 1):
        p = special.expit(-m)  # 1 - P(observed class)
        g = -C * (Xd.T @ (sw * sign * p))
        norm = subgradient_norm(w, g)
        if stop is None:
            stop = tol * max(norm, 1e-12)
        if norm <= stop:
            return w, n_iter - 1
        h = C * sw * p * (1.0 - p)
        H = Xd.T @ (h[:, None] * Xd)
        H.flat[:: n_dof + 1] += 1e-12  # the diagonal
        u = w.copy()
        l1_quadratic_cd(H, H @ w - g, u, 1000, 1e-10 * max(1.0, np.max(np.abs(w))))
        d = u - w
        model = g @ d + np.abs(u).sum() - np.abs(w).sum()
        F = f + np.abs(w).sum()
        t = 1.0
        for _ in range(60):
            w_new = w + t * d
            f_new, m_new = smooth(w_new)
            if f_new + np.abs(w_new).sum() <= F + 0.01 * t * model:
                break
            t *= 0.5
        w, f, m = w_new, f_new, m_new
    warnings.warn("Liblinear failed to converge, increase the number of iterations "
                  f"(max_iter={max_iter}).", ConvergenceWarning, stacklevel=4)
    return w, max_iter


def _fit_liblinear_logistic(X, y, *, C, penalty, fit_intercept, intercept_scaling,
                            sample_weight, tol, max_iter, random_state, verbose=0):
    """Binary logistic regression with liblinear's objective.

    liblinear appends a constant column ``intercept_scaling`` to ``X`` and
    penalises its weight like the others, so the intercept
    ``intercept_scaling * w_{p+1}`` is regularised (less so as the scaling
    grows). The objective is ``C sum_i s_i log(1 + exp(-y_i w.x_i)) + R(w)``
    with ``R = ||w||^2 / 2`` (L2) or ``||w||_1`` (L1). The L2 problem is solved
    by truncated Newton (as liblinear's trust-region Newton, to a tighter
    gradient tolerance), the L1 problem by proximal Newton (coordinate descent
    on each quadratic model, as liblinear's newGLMNET) up to
    ``_L1_NEWTON_MAX_FEATURES`` columns and by SAGA beyond.
    Returns ``(coef (1, p), intercept (1,), n_iter)``.
    """
    n_samples, n_features = X.shape
    if fit_intercept:
        column = np.full((n_samples, 1), float(intercept_scaling), dtype=X.dtype)
        if sparse.issparse(X):
            Xa = sparse.hstack([X, sparse.csr_array(column)], format="csr")
        else:
            Xa = np.hstack([X, column])
    else:
        Xa = X
    if penalty == "l1" and Xa.shape[1] <= _L1_NEWTON_MAX_FEATURES:
        w, n_iter = _l1_proximal_newton(Xa, y, sample_weight, C=C, tol=tol,
                                        max_iter=max_iter)
    elif penalty == "l1":
        W, _, n_iter = sag_solve(
            Xa, y, sample_weight, loss="log", alpha=0.0, beta=1.0 / C,
            max_iter=max(1000, 10 * max_iter), tol=tol * 1e-2,
            random_state=random_state, fit_intercept=False, is_saga=True,
        )
        w = W[:, 0]
    else:
        sw_sum = n_samples if sample_weight is None else float(np.sum(sample_weight))
        loss = _LogisticLoss(Xa, y, 2, sample_weight=sample_weight,
                             l2_reg_strength=1.0 / (C * sw_sum), fit_intercept=False)
        w, n_iter = _solve_newton_cg(loss, np.zeros(loss.size), tol=tol * 1e-2,
                                     max_iter=max_iter, verbose=verbose, name="liblinear")
    coef = w[:n_features][None, :]
    intercept = (np.array([intercept_scaling * w[n_features]]) if fit_intercept
                 else np.zeros(1))
    return coef, intercept, n_iter


class _LbfgsIterationTasks:
    """scikit-learn's callback sub-tasks for the L-BFGS iterations.

    The first iteration's task opens at the starting point; after each
    iteration (scipy's ``callback``) the current task ends with the iterate's
    ``coef_``/``intercept_`` and the next one opens. ``close`` ends the last
    task opened, an iteration that never ran, with no estimator state.
    """

    def __init__(self, context, estimator, args, coef_intercept, x0):
        self._context = context
        self._estimator = estimator
        self._args = args
        self._coef_intercept = coef_intercept
        self._task = self._begin(x0)

    def _state(self, x):
        # a copy: scipy updates its iterate in place
        coef, intercept = self._coef_intercept(np.array(x, dtype=np.float64))
        return {"coef_": coef, "intercept_": intercept}

    def _begin(self, x):
        task = self._context.subcontext(task_name="lbfgs-iter")
        task.call_on_fit_task_begin(estimator=self._estimator,
                                    reconstruction_attributes=self._state(x), **self._args)
        return task

    def __call__(self, x):
        self._task.call_on_fit_task_end(estimator=self._estimator,
                                        reconstruction_attributes=self._state(x),
                                        **self._args)
        self._task = self._begin(x)

    def close(self):
        self._task.call_on_fit_task_end(estimator=self._estimator)


class LogisticRegression(CallbackSupportMixin, LinearClassifierMixin, SparseCoefMixin,
                         BaseEstimator):
    r"""Logistic regression (logit, maximum entropy) classifier, L2, L1 or elastic-net.

    Two classes are modelled by the logistic function of a linear score, more
    classes by the multinomial (softmax) model. The penalised likelihood is
    maximised by L-BFGS (the default), Newton's method (iteratively reweighted
    least squares, ``solver="newton-cholesky"``), truncated Newton
    (``"newton-cg"``), stochastic average gradient (``"sag"``, ``"saga"``) or
    liblinear's formulation (``"liblinear"``). The signature, defaults,
    objective and fitted attributes are those of scikit-learn 1.9's
    :class:`sklearn.linear_model.LogisticRegression`.

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet", None}, default="deprecated"
        Deprecated in scikit-learn 1.8, kept for compatibility: use ``l1_ratio``
        and ``C`` (``C=np.inf`` for no penalty) instead. Setting it warns
        (``FutureWarning``), as do values inconsistent with ``l1_ratio``;
        ``penalty=None`` means no penalty and ignores ``C``.
    C : float, default=1.0
        Inverse of the regularisation strength; must be positive. ``np.inf``
        means no penalty.
    l1_ratio : float, default=0.0
        Elastic-net mixing in ``[0, 1]``: ``0`` is the L2 penalty, ``1`` the L1
        penalty (``"saga"`` and ``"liblinear"``), values in between the
        elastic net (``"saga"`` only); other combinations raise ``ValueError``
        as in scikit-learn. Moot with ``C=np.inf``.
    dual : bool, default=False
        Only the primal problem is solved: ``True`` raises ``ValueError``
        except with ``solver="liblinear"`` and the L2 penalty, where
        scikit-learn solves the dual; mlnotes then solves the primal, whose
        solution is the same.
    tol : float, default=1e-4
        Stop when the largest absolute entry of the gradient of the objective
        below is at most ``tol`` (and, for Newton, half the squared Newton
        decrement too).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    intercept_scaling : float, default=1
        Only for ``solver="liblinear"``: a constant feature of this value is
        appended to ``X`` and its (penalised) weight times ``intercept_scaling``
        is the intercept; a larger value penalises the intercept less.
    class_weight : dict or "balanced", default=None
        Weights ``{class_label: weight}`` that multiply the sample weights of
        each class. ``"balanced"`` uses ``n_samples / (n_classes * count)``, the
        counts being weighted by ``sample_weight``.
    random_state : int, RandomState instance or None, default=None
        Seeds the sample order of ``"sag"``/``"saga"`` (and of the L1
        ``"liblinear"`` fit); the other solvers are deterministic.
    solver : {"lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"}, default="lbfgs"
        ``"lbfgs"``: :func:`scipy.optimize.minimize` with L-BFGS-B on the
        objective and its gradient. ``"newton-cholesky"``:
        :func:`mlnotes.optim.newton`, a Newton step from a Cholesky solve of the
        Hessian with a backtracking line search; its cost per iteration grows
        as ``n_samples * (n_features * n_classes)**2``, so it suits problems
        with few features. As scikit-learn's, a singular or ill-conditioned
        Hessian (e.g. collinear features without penalty) emits a
        ``LinAlgWarning`` and hands the remaining iterations to ``"lbfgs"``.
        ``"newton-cg"``: Newton steps from conjugate
        gradient with Hessian-vector products (no Hessian is formed), stopping
        at ``max|gradient| <= tol``. ``"sag"``/``"saga"``: stochastic average
        gradient (numba; ``"saga"`` also L1/elastic net), scikit-learn's step
        size and stopping rule (relative change of the weights over an epoch
        at most ``tol``), ``max_iter`` epochs. ``"liblinear"``: two classes
        only, liblinear's objective with a penalised intercept (see
        ``intercept_scaling``), solved by truncated Newton (L2) or proximal
        Newton (L1; SAGA above 1,000 features).
    max_iter : int, default=100
        Maximum number of solver iterations.
    verbose : int, default=0
        Print progress if positive.
    warm_start : bool, default=False
        Start from the ``coef_`` and ``intercept_`` of the previous fit.
    n_jobs : int, default=None
        Has no effect (as in scikit-learn 1.8+, which deprecates it); setting
        it warns.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row (for ``classes_[1]``) with two classes.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts; zeros when ``fit_intercept=False``. For more than two
        classes they sum to zero (the softmax is unchanged by a common shift).
    n_iter_ : ndarray of shape (1,)
        Number of iterations of the solver.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    mlnotes.optim.newton : the Newton solver.
    sklearn.linear_model.LogisticRegression : the reference implementation.

    Notes
    -----
    Chapter 10 of the notes (Newton's method, logistic regression). With
    sample weights :math:`s_i` (times the class weights), :math:`S = \sum_i s_i`
    and scores :math:`z_i = W x_i + b`, the estimator minimises

    .. math::

        \frac{1}{S} \sum_{i=1}^n s_i \, \ell(y_i, z_i)
        + \frac{1}{2 C S} \lVert W \rVert_F^2 ,

    equivalently :math:`C \sum_i s_i \ell(y_i, z_i) + \tfrac12 \lVert W \rVert_F^2`,
    where :math:`\ell(y, z) = \log(1 + e^{z}) - y z` for two classes
    (:math:`y \in \{0, 1\}`) and :math:`\ell(y, z) = \log \sum_k e^{z_k} - z_y`
    for the multinomial model. The intercepts are not penalised. With
    ``l1_ratio`` :math:`= \rho > 0` (``"saga"``, ``"liblinear"``) the penalty
    :math:`\tfrac12 \lVert W \rVert_F^2` becomes
    :math:`\rho \lVert W \rVert_1 + \tfrac{1 - \rho}{2} \lVert W \rVert_F^2`,
    whose L1 part sets coefficients exactly to zero; SAGA handles it by the
    proximal step :math:`w_j \leftarrow \operatorname{sign}(w_j)
    \max(|w_j| - \eta \rho / (C n), 0)` after each gradient step of size
    :math:`\eta`.

    With :math:`p_i = \sigma(z_i)` the gradient is
    :math:`\frac1S X^\top S_w (p - y) + \lambda w` and the Hessian
    :math:`\frac1S X^\top \operatorname{diag}(s_i p_i (1 - p_i)) X + \lambda I`
    (with :math:`\lambda = 1/(CS)` and a column of ones appended to :math:`X`
    for the intercept), so each Newton step

    .. math::

        w \leftarrow w - t \, H^{-1} \nabla f(w)

    is a weighted least-squares problem (iteratively reweighted least
    squares). For more than two classes the Hessian blocks are
    :math:`X^\top \operatorname{diag}(s_i (p_{ik} \delta_{kl} - p_{ik} p_{il})) X / S`;
    the last class's intercept (and, without penalty, all of its
    coefficients) is held at zero during the Newton iterations, and the
    solution is shifted afterwards so that the intercepts (and, without
    penalty, the coefficients of each feature) sum to zero over the classes,
    the parametrisation scikit-learn reports.

    Sparse ``X`` (CSR or CSC; other formats are converted to CSR), such as a
    TF-IDF matrix, is accepted by both solvers and never densified: the scores
    :math:`X W` and the gradient :math:`X^\top R` are sparse products, the
    intercept is a separate parameter (no column of ones is appended), and the
    Newton Hessian blocks :math:`X^\top \operatorname{diag}(h) X` are sparse
    products stored as a dense :math:`q \times q` matrix, so
    ``"newton-cholesky"`` still suits only a few hundred coefficients.

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
    section 4.3 (iteratively reweighted least squares).

    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer,
    2006, section 7.2 (L-BFGS).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from mlnotes.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
    >>> clf.predict(X[:2, :])
    array([0, 0])
    >>> clf.predict_proba(X[:2, :]).round(3)
    array([[0.982, 0.018, 0.   ],
           [0.971, 0.029, 0.   ]])
    >>> round(clf.score(X, y), 2)
    0.97

    Newton's method reaches the same solution in a few iterations:

    >>> newton = LogisticRegression(solver="newton-cholesky").fit(X, y)
    >>> newton.n_iter_
    array([6], dtype=int32)
    >>> bool(np.allclose(newton.coef_, clf.coef_, atol=1e-2))
    True
    """

    _parameter_constraints = {
        "penalty": [
            StrOptions({"l1", "l2", "elasticnet"}),
            None,
            Hidden(StrOptions({"deprecated"})),
        ],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "dual": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [StrOptions(set(_SOLVERS))],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self,
        penalty="deprecated",
        *,
        C=1.0,
        l1_ratio=0.0,
        dual=False,
        tol=1e-4,
        fit_intercept=True,
        intercept_scaling=1,
        class_weight=None,
        random_state=None,
        solver="lbfgs",
        max_iter=100,
        verbose=0,
        warm_start=False,
        n_jobs=None,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    def _resolve_penalty(self):
        """``(penalty, C, l1_ratio)`` as scikit-learn 1.9 decides them, with its warnings.

        ``penalty`` is ``"l2"``, ``"l1"``, ``"elasticnet"`` or ``None``; with
        ``penalty=None`` (or ``C=np.inf``) ``C`` is returned as ``np.inf``.
        """
        l1_ratio = self.l1_ratio
        if self.penalty == "deprecated":
            if l1_ratio == 0 or l1_ratio is None:
                penalty = "l2"
                if l1_ratio is None:
                    warnings.warn(
                        "'l1_ratio=None' was deprecated in version 1.8 and will trigger "
                        "an error in 1.10. Use 0<=l1_ratio<=1 instead.",
                        FutureWarning,
                    )
            elif l1_ratio == 1:
                penalty = "l1"
            else:
                penalty = "elasticnet"
            if self.C == np.inf:
                penalty = None
        else:
            penalty = self.penalty
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. "
                "Leave 'penalty' at its default and use 'l1_ratio' or 'C' instead: "
                "l1_ratio=0 for penalty='l2', l1_ratio=1 for penalty='l1', "
                "0<l1_ratio<1 for penalty='elasticnet' and C=np.inf for penalty=None.",
                FutureWarning,
            )
        solver = self.solver
        if solver not in ("liblinear", "saga") and penalty not in ("l2", None):
            raise ValueError(
                f"Solver {solver} supports only 'l2' or None penalties, got {penalty} "
                "penalty."
            )
        if solver != "liblinear" and self.dual:
            raise ValueError(
                f"Solver {solver} supports only dual=False, got dual={self.dual}"
            )
        if solver == "liblinear" and self.dual and penalty == "l1":
            raise ValueError(
                "Unsupported set of arguments: The combination of penalty='l1' and "
                "loss='logistic_regression' are not supported when dual=True, "
                "Parameters: penalty='l1', loss='logistic_regression', dual=True"
            )
        if penalty == "elasticnet" and solver != "saga":
            raise ValueError(
                f"Only 'saga' solver supports elasticnet penalty, got solver={solver}."
            )
        if solver == "liblinear" and penalty is None:
            raise ValueError(
                "C=np.inf as well as penalty=None is not supported for the liblinear "
                "solver"
            )
        if penalty != "elasticnet" and l1_ratio is not None and 0 < l1_ratio < 1:
            warnings.warn(
                "l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
                f"(penalty={penalty})"
            )
        if (self.penalty == "l2" and l1_ratio != 0) or (
                self.penalty == "l1" and l1_ratio != 1):
            warnings.warn(
                f"Inconsistent values: penalty={self.penalty} with l1_ratio={l1_ratio}. "
                "penalty is deprecated. Please use l1_ratio only."
            )
        if penalty == "elasticnet" and l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        C = self.C
        if self.penalty is None:
            if self.C != 1.0:
                warnings.warn("Setting penalty=None will ignore the C and l1_ratio "
                              "parameters")
            C, penalty = np.inf, None
        if penalty is None:
            C = np.inf
        if self.n_jobs is not None:
            warnings.warn(
                "'n_jobs' has no effect since 1.8 and will be removed in 1.10. You "
                f"provided 'n_jobs={self.n_jobs}', please leave it unspecified.",
                FutureWarning,
            )
        return penalty, C, (0.0 if l1_ratio is None else float(l1_ratio))

    def set_callbacks(self, *callbacks):
        """Set callbacks for the fit (scikit-learn's experimental callback API).

        Parameters
        ----------
        *callbacks : callback instances
            Objects following :class:`sklearn.callback.FitCallback` (e.g.
            :class:`sklearn.callback.ProgressBar`); none removes the callbacks.

        Returns
        -------
        self : object
            The estimator itself.

        Notes
        -----
        As in scikit-learn 1.9, the fit is one task and, with
        ``solver="lbfgs"``, each L-BFGS iteration a sub-task whose
        ``fitted_estimator`` has the coefficients of that iterate; the other
        solvers only report the fit task (a ``UserWarning`` says so).
        """
        if self.solver != "lbfgs":
            warnings.warn(
                f"Callbacks are only supported in {type(self).__name__} for "
                f"solver='lbfgs'. This estimator has solver='{self.solver}', callbacks "
                "will be ignored during the solving of the regression.",
                UserWarning,
            )
        return super().set_callbacks(*callbacks)

    @with_callbacks
    def fit(self, X, y, sample_weight=None):
        """Fit the model to the training data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are never densified.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample; multiplied by the class weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        penalty, C, l1_ratio = self._resolve_penalty()
        solver = self.solver
        X, y = validate_data(self, X, y, dtype=FLOAT_DTYPES,
                             accept_sparse=SPARSE_FIT_FORMATS,
                             order="C" if solver in ("sag", "saga") else None)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        n_classes = self.classes_.shape[0]
        # scikit-learn's callback tasks: the fit, and each L-BFGS iteration (at
        # least one, plus the empty one opened after the last) as a sub-task
        callback_ctx = self._init_callback_context(max_subtasks=max(self.max_iter, 1) + 1)
        callback_args = dict(X=X, y=y, metadata=(None if sample_weight is None
                                                 else {"sample_weight": sample_weight}))
        callback_ctx.call_on_fit_task_begin(estimator=self, **callback_args)
        if solver == "liblinear" and n_classes > 2:
            raise ValueError(
                "The 'liblinear' solver does not support multiclass classification "
                "(n_classes >= 3). Either use another solver or wrap the estimator in "
                "a OneVsRestClassifier to keep applying a one-versus-rest scheme."
            )
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {self.classes_[0]!r}"
            )
        if sample_weight is not None or self.class_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 copy=True)
        if self.class_weight is not None:
            class_weight = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight
            )
            sample_weight *= class_weight[y_index]
        if sample_weight is not None and not np.sum(sample_weight) > 0:
            raise ValueError(
                "The sample weights (times the class weights) must have a positive "
                f"sum; got {np.sum(sample_weight)}."
            )

        n_features = X.shape[1]
        n_rows = 1 if n_classes == 2 else n_classes
        if solver == "liblinear":
            if X.shape[0] and (X.max() if sparse.issparse(X) else np.max(X)) > 1e30:
                raise ValueError(
                    "Using the 'liblinear' solver while X contains a maximum value > "
                    "1e30 results in a frozen fit. Please choose another solver or "
                    "rescale the input X."
                )
            coef, intercept, n_iter = _fit_liblinear_logistic(
                X, y_index, C=C, penalty=penalty, fit_intercept=self.fit_intercept,
                intercept_scaling=self.intercept_scaling, sample_weight=sample_weight,
                tol=self.tol, max_iter=self.max_iter, random_state=self.random_state,
                verbose=self.verbose,
            )
            # float64 whatever the input, as scikit-learn's liblinear
            self.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
            self.intercept_ = np.asarray(intercept, dtype=np.float64)
            self.n_iter_ = np.array([n_iter], dtype=np.int32)
            callback_ctx.call_on_fit_task_end(estimator=self, reconstruction_attributes={},
                                              **callback_args)
            return self

        n_dof = n_features + int(self.fit_intercept)
        W0 = None
        if self.warm_start and hasattr(self, "coef_"):
            coef = self.coef_
            coef = coef.toarray() if sparse.issparse(coef) else np.asarray(coef)
            if coef.shape != (n_rows, n_features):
                raise ValueError(
                    f"warm_start: the previous coef_ has shape {coef.shape}, expected "
                    f"{(n_rows, n_features)} for {n_classes} classes and {n_features} "
                    "features."
                )
            W0 = np.zeros((n_dof, n_rows))
            W0[:n_features] = coef.T
            if self.fit_intercept:
                W0[n_features] = self.intercept_

        if solver in ("sag", "saga"):
            if penalty == "l1":
                alpha, beta = 0.0, 1.0 / C
            elif penalty == "elasticnet":
                alpha, beta = (1.0 - l1_ratio) / C, l1_ratio / C
            else:
                alpha, beta = 1.0 / C, 0.0
            binary = n_classes == 2
            W, b, n_iter = sag_solve(
                X, y_index, sample_weight, loss="log" if binary else "multinomial",
                alpha=alpha, beta=beta, max_iter=self.max_iter, tol=self.tol,
                random_state=self.random_state, fit_intercept=self.fit_intercept,
                is_saga=solver == "saga", n_classes=n_classes,
                coef_init=None if W0 is None else W0[:n_features],
                intercept_init=(None if W0 is None or not self.fit_intercept
                                else W0[n_features]),
            )
            coef, intercept = W.T, (b if self.fit_intercept else np.zeros(n_rows))
        else:
            def coef_intercept(x):
                W = x.reshape(n_dof, n_rows)
                coef = W[:n_features].T
                intercept = W[n_features] if self.fit_intercept else np.zeros(n_rows)
                if n_classes > 2:
                    # The softmax is unchanged by a common shift: report the solution
                    # whose intercepts (and, without penalty, coefficients) sum to 0.
                    intercept = intercept - intercept.mean()
                    if np.isinf(C):
                        coef = coef - coef.mean(axis=0)
                return (np.ascontiguousarray(coef, dtype=X.dtype),
                        np.asarray(intercept, dtype=X.dtype))

            bridge = None
            if solver == "lbfgs" and getattr(self, "_skl_callbacks", None):
                bridge = _LbfgsIterationTasks(
                    callback_ctx, self, callback_args, coef_intercept,
                    np.zeros(n_dof * n_rows) if W0 is None else W0.ravel())
            x, n_iter = _logistic_regression(
                X, y_index, n_classes, C=C, fit_intercept=self.fit_intercept,
                sample_weight=sample_weight, solver=solver, tol=self.tol,
                max_iter=self.max_iter, x0=None if W0 is None else W0.ravel(),
                verbose=self.verbose, on_iteration=bridge,
            )
            if bridge is not None:
                bridge.close()
            coef, intercept = coef_intercept(x)
        self.coef_ = np.ascontiguousarray(coef, dtype=X.dtype)
        self.intercept_ = np.asarray(intercept, dtype=X.dtype)
        self.n_iter_ = np.array([n_iter], dtype=np.int32)
        callback_ctx.call_on_fit_task_end(estimator=self, reconstruction_attributes={},
                                          **callback_args)
        return self

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns ordered as ``classes_``: the logistic
            function of the score for two classes, its softmax otherwise.
        """
        check_is_fitted(self)
        return proba_from_scores(self.decision_function(X))

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        return proba_from_scores(self.decision_function(X), log=True)

    _sparse_formats = SPARSE_PREDICT_FORMATS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if self.solver == "liblinear":  # two classes only, as scikit-learn
            tags.classifier_tags.multi_class = False
        return tags
