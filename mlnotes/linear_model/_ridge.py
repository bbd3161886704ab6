"""Ridge regression: least squares with an L2 penalty (chapter 12 of the notes)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg, optimize, sparse
from scipy.sparse import linalg as sp_linalg
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._sag_fast import sag_solve
from ._base import (
    FLOAT_DTYPES,
    SPARSE_FIT_FORMATS,
    SPARSE_PREDICT_FORMATS,
    LinearModelMixin,
    _centered_operator,
    _preprocess_data,
)

# Rows per block when the Gram matrix is accumulated from centred blocks: small
# enough to stay in cache, large enough for BLAS to run at full speed.
_GRAM_BLOCK = 2048


def _centered_gram(X, Y, X_offset, Y_offset, sample_weight):
    """``Xc^T Xc`` and ``Xc^T Yc`` of the centred, weighted data, block by block.

    Equivalent to centring a copy of ``X`` and multiplying, without the copy of
    ``X``: each block of rows is centred (and scaled by ``sqrt(w)``) in a small
    buffer and its contribution added through a symmetric rank-k update.
    """
    n_samples, n_features = X.shape
    syrk = linalg.get_blas_funcs("syrk", (X,))
    # upper triangle only (half the flops of a general product); Fortran order so
    # BLAS updates it in place
    gram = np.zeros((n_features, n_features), dtype=X.dtype, order="F")
    Xy = np.zeros((n_features, Y.shape[1]), dtype=X.dtype)
    X_offset = X_offset.astype(X.dtype, copy=False)
    for start in range(0, n_samples, _GRAM_BLOCK):
        stop = min(start + _GRAM_BLOCK, n_samples)
        Xb = X[start:stop] - X_offset
        Yb = Y[start:stop] - Y_offset
        if sample_weight is not None:
            sqrt_sw = np.sqrt(sample_weight[start:stop])[:, None]
            Xb *= sqrt_sw
            Yb *= sqrt_sw
        # a C-ordered block's transpose is Fortran-ordered: syrk(A) = A A^T = Xb^T Xb
        gram = syrk(1.0, Xb.T, beta=1.0, c=gram, trans=0, lower=0, overwrite_c=1)
        Xy += Xb.T @ Yb
    upper = np.triu(gram)
    return upper + np.triu(upper, 1).T, Xy


def _solve_gram(gram, Xy, alpha):
    """Solve ``(gram + alpha_j I) w_j = Xy_j`` for each target ``j`` by Cholesky."""
    n_features, n_targets = Xy.shape
    coef = np.empty((n_targets, n_features), dtype=gram.dtype)
    diag = np.arange(n_features)
    same_alpha = np.all(alpha == alpha[0])
    groups = [np.arange(n_targets)] if same_alpha else [[j] for j in range(n_targets)]
    for idx in groups:
        A = gram.copy()
        A[diag, diag] += alpha[idx[0]]
        coef[idx] = linalg.solve(A, Xy[:, idx], assume_a="pos", overwrite_a=True,
                                 check_finite=False).T
    return coef


def _solve_svd(X, Y, alpha):
    """Ridge through the thin SVD ``X = U S V^T``: ``w = V diag(s/(s^2+a)) U^T y``."""
    U, s, Vt = linalg.svd(X, full_matrices=False, check_finite=False)
    s_nnz = s > 1e-15  # singular values that are numerically zero add nothing
    UTy = U.T @ Y
    d = np.zeros((s.size, alpha.size), dtype=X.dtype)
    d[s_nnz] = s[s_nnz, None] / (s[s_nnz, None] ** 2 + alpha[None, :])
    return (Vt.T @ (d * UTy)).T


def _solve_kernel(X, Y, alpha):
    """Dual (kernel) form for wide data: ``w = X^T (X X^T + alpha I)^{-1} y``."""
    K = X @ X.T
    return (X.T @ _solve_dual(K, Y, alpha)).T


def _solve_dual(K, Y, alpha):
    """``(K + alpha_j I)^{-1} y_j`` for each target ``j`` by Cholesky.

    ``K`` is the caller's scratch: with one target it is factorised in place.
    """
    n_samples = K.shape[0]
    dual = np.empty_like(Y)
    diag = np.arange(n_samples)
    for j in range(Y.shape[1]):
        A = K if Y.shape[1] == 1 else K.copy()
        A[diag, diag] += alpha[j]
        dual[:, j] = linalg.solve(A, Y[:, j], assume_a="pos", overwrite_a=True,
                                  check_finite=False)
    return dual


def _solve_cholesky_sparse(X, Y, X_offset, sqrt_sw, alpha):
    """Closed-form ridge on sparse ``X`` without centring or densifying ``X``.

    With ``Xs = S^{1/2} X`` (sparse), ``s = sqrt(w)`` and ``m = X_offset``, the
    centred weighted matrix is ``Xs - s m^T``. Its Gram matrix (primal, when
    ``n_samples >= n_features``) or kernel (dual, wide data) follows from the
    sparse product by a rank-two correction:

        (Xs - s m^T)^T (Xs - s m^T) = Xs^T Xs - u m^T - m u^T + (s.s) m m^T,
        u = Xs^T s;
        (Xs - s m^T)(Xs - s m^T)^T = Xs Xs^T - v s^T - s v^T + (m.m) s s^T,
        v = Xs m.

    ``Y`` is centred and weighted already. Only the dense ``p x p`` (or
    ``n x n``) system is formed.
    """
    n_samples, n_features = X.shape
    s = np.ones(n_samples, dtype=X.dtype) if sqrt_sw is None else sqrt_sw
    Xs = X if sqrt_sw is None else sparse.diags_array(sqrt_sw) @ X
    Xs = sparse.csr_array(Xs)
    has_offset = np.any(X_offset != 0)
    if n_samples >= n_features:
        gram = (Xs.T @ Xs).toarray()
        Xy = np.asarray(Xs.T @ Y)
        if has_offset:
            u = Xs.T @ s
            gram -= np.outer(u, X_offset)
            gram -= np.outer(X_offset, u)
            gram += (s @ s) * np.outer(X_offset, X_offset)
            Xy -= np.outer(X_offset, s @ Y)
        return _solve_gram(gram, Xy, alpha)
    K = (Xs @ Xs.T).toarray()
    if has_offset:
        v = Xs @ X_offset
        K -= np.outer(v, s)
        K -= np.outer(s, v)
        K += (X_offset @ X_offset) * np.outer(s, s)
    dual = _solve_dual(K, Y, alpha)
    coef = np.asarray(Xs.T @ dual)
    if has_offset:
        coef -= np.outer(X_offset, s @ dual)
    return coef.T


def _solve_lsqr(X, Y, alpha, max_iter, tol):
    n_targets = Y.shape[1]
    coef = np.empty((n_targets, X.shape[1]), dtype=X.dtype)
    n_iter = np.empty(n_targets, dtype=np.int32)
    for j in range(n_targets):
        out = sp_linalg.lsqr(X, Y[:, j], damp=np.sqrt(alpha[j]), atol=tol, btol=tol,
                             iter_lim=max_iter)
        coef[j], n_iter[j] = out[0], out[2]
    return coef, n_iter


def _solve_sparse_cg(X, Y, alpha, max_iter, tol):
    """Conjugate gradient on the normal equations (or on the kernel when wide)."""
    n_samples, n_features = X.shape
    n_targets = Y.shape[1]
    coef = np.empty((n_targets, n_features), dtype=X.dtype)
    n_iter = np.empty(n_targets, dtype=np.int32)
    for j in range(n_targets):
        a = alpha[j]
        if n_features > n_samples:
            op = sp_linalg.LinearOperator((n_samples, n_samples), dtype=X.dtype,
                                          matvec=lambda v, a=a: X @ (X.T @ v) + a * v)
            rhs = Y[:, j]
        else:
            op = sp_linalg.LinearOperator((n_features, n_features), dtype=X.dtype,
                                          matvec=lambda v, a=a: X.T @ (X @ v) + a * v)
            rhs = X.T @ Y[:, j]
        counter = [0]

        def _count(_, counter=counter):
            counter[0] += 1

        sol, info = sp_linalg.cg(op, rhs, rtol=tol, maxiter=max_iter, callback=_count)
        if info > 0:
            warnings.warn(
                f"sparse_cg did not converge after {info} iterations; increase max_iter "
                "or tol.", ConvergenceWarning, stacklevel=4,
            )
        coef[j] = X.T @ sol if n_features > n_samples else sol
        n_iter[j] = counter[0]
    return coef, n_iter


def _solve_lbfgs_positive(X, Y, alpha, max_iter, tol):
    """Projected quasi-Newton (L-BFGS-B) with the bounds ``w >= 0``."""
    n_features = X.shape[1]
    coef = np.empty((Y.shape[1], n_features), dtype=X.dtype)
    n_iter = np.empty(Y.shape[1], dtype=np.int32)
    options = {} if max_iter is None else {"maxiter": max_iter}
    for j in range(Y.shape[1]):
        y, a = Y[:, j], alpha[j]

        def fun(w, y=y, a=a):
            residual = X @ w - y
            return (0.5 * residual @ residual + 0.5 * a * w @ w,
                    X.T @ residual + a * w)

        res = optimize.minimize(fun, np.zeros(n_features), method="L-BFGS-B", jac=True,
                                bounds=[(0, np.inf)] * n_features, tol=tol,
                                options=options)
        if not res.success:
            warnings.warn(f"The lbfgs solver did not converge: {res.message}. Increase "
                          "max_iter or tol.", ConvergenceWarning, stacklevel=4)
        coef[j], n_iter[j] = res.x, res.nit
    return coef, n_iter


class Ridge(MultiOutputMixin, RegressorMixin, LinearModelMixin, BaseEstimator):
    r"""Linear least squares with an L2 penalty (ridge regression, Tikhonov).

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Strength of the L2 penalty, non-negative. An array gives one penalty per
        target. ``alpha=0`` is ordinary least squares (use
        :class:`LinearRegression` then).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    copy_X : bool, default=True
        Kept for compatibility with scikit-learn: ``X`` is never overwritten.
    max_iter : int, default=None
        Iteration limit of the iterative solvers (``"lsqr"``, ``"sparse_cg"``,
        ``"lbfgs"``; epochs of ``"sag"``/``"saga"``); ``None`` uses the solver's
        own default (1000 epochs for ``"sag"``/``"saga"``).
    tol : float, default=1e-4
        Stopping tolerance of the iterative solvers (unused by ``"cholesky"``
        and ``"svd"``, which are exact).
    solver : {"auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga", "lbfgs"}, default="auto"
        - ``"auto"``: ``"lbfgs"`` when ``positive=True``, otherwise
          ``"cholesky"`` on dense ``X`` and ``"sparse_cg"`` on sparse ``X`` (as
          in scikit-learn).
        - ``"cholesky"``: closed form. With ``n_samples >= n_features`` it solves
          the ``(n_features, n_features)`` normal equations, accumulated from
          centred blocks of rows without copying ``X``; with wide data it solves
          the ``(n_samples, n_samples)`` dual (kernel) system instead.
        - ``"svd"``: closed form through the SVD of ``X``; the most stable and
          the slowest. Dense ``X`` only (``TypeError`` on sparse, as in
          scikit-learn).
        - ``"lsqr"``: damped least squares by :func:`scipy.sparse.linalg.lsqr`,
          iterative; touches ``X`` only through products, the choice for very
          large problems.
        - ``"sparse_cg"``: conjugate gradient on the normal (or dual) equations.
        - ``"sag"``, ``"saga"``: stochastic average gradient and its variant
          SAGA (numba), one sample per step with scikit-learn's constant step
          size; stop when the largest change of a weight over an epoch is at
          most ``tol`` times the largest weight. Dense ``X`` is centred first;
          on sparse ``X`` with ``fit_intercept=True``, as in scikit-learn,
          ``"sag"`` fits the intercept itself only with the default
          ``max_iter`` and ``tol > 1e-4`` (with a warning) and otherwise hands
          over to ``"sparse_cg"``, and ``"saga"`` raises ``ValueError``.
        - ``"lbfgs"``: L-BFGS-B; the only solver supporting ``positive=True``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (``solver="lbfgs"``).
    random_state : int, RandomState instance or None, default=None
        Seeds the order in which ``"sag"``/``"saga"`` draw the samples; unused
        by the other solvers.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weight vector(s); one target (``y`` of shape ``(n_samples,)`` or
        ``(n_samples, 1)``) gives shape ``(n_features,)``, as in scikit-learn.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    n_iter_ : None or ndarray of shape (n_targets,)
        Iterations (epochs for ``"sag"``/``"saga"``) run for each target by
        ``"sag"``, ``"saga"`` and ``"lsqr"``; ``None`` for the other solvers, as
        in scikit-learn.
    solver_ : str
        The solver used in ``fit``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    LinearRegression : ordinary least squares.

    Notes
    -----
    Chapter 12 of the notes (ridge regression, regularisation). With sample
    weights :math:`s_i`, ridge minimises

    .. math::

        \min_{w, b} \sum_{i=1}^n s_i (y_i - x_i^\top w - b)^2 + \alpha \|w\|_2^2 ,

    whose solution, with :math:`X_c, y_c` centred on the weighted means and
    :math:`S = \mathrm{diag}(s)`, is

    .. math::

        w = (X_c^\top S X_c + \alpha I)^{-1} X_c^\top S y_c
          = X_c^\top S^{1/2} (S^{1/2} X_c X_c^\top S^{1/2} + \alpha I)^{-1} S^{1/2} y_c ,

    the primal form (cost :math:`O(n p^2)`) or the dual form (cost
    :math:`O(n^2 p)`, used when :math:`p > n`), and :math:`b = \bar y - \bar x^\top w`.
    The penalty shrinks the components of :math:`w` along the singular
    directions of :math:`X` by :math:`s_k^2 / (s_k^2 + \alpha)`; it is the MAP
    estimate under a Gaussian prior :math:`w \sim \mathcal N(0, \sigma^2/\alpha\, I)`.

    Sparse ``X`` (CSR or CSC; other formats are converted to CSR) is accepted
    and never centred nor densified. ``"lsqr"``, ``"sparse_cg"`` and
    ``"lbfgs"`` see the centred, weighted matrix
    :math:`S^{1/2}(X - \mathbf 1 \bar x^\top)` through a linear operator that
    costs one sparse product per application, as scikit-learn does.
    ``"cholesky"`` forms the sparse product :math:`X_s^\top X_s` (or
    :math:`X_s X_s^\top` for wide data), :math:`X_s = S^{1/2} X`, as a dense
    :math:`p \times p` (or :math:`n \times n`) matrix and centres it by a
    rank-two correction,

    .. math::

        (X_s - s \bar x^\top)^\top (X_s - s \bar x^\top)
        = X_s^\top X_s - u \bar x^\top - \bar x u^\top + (s^\top s)\, \bar x \bar x^\top,
        \quad u = X_s^\top s,\ s = \sqrt{\text{sample weights}},

    so unlike scikit-learn it also fits an intercept on sparse data (this
    subtraction loses accuracy when the column means dwarf the spread of the
    columns; use ``"sparse_cg"`` or ``"lsqr"`` then). If the Cholesky
    factorisation of that system fails (singular, ``alpha=0``), the sparse fit
    falls back to ``"lsqr"`` (the dense one to ``"svd"``), which gives the
    minimum-norm solution; ``solver_`` says so.

    References
    ----------
    A. E. Hoerl and R. W. Kennard, "Ridge regression: biased estimation for
    nonorthogonal problems", *Technometrics* 12(1), 1970.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import Ridge
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(10, 5)
    >>> y = X @ np.array([1.0, 0.0, -1.0, 2.0, 0.5]) + 0.01 * rng.randn(10)
    >>> reg = Ridge(alpha=1e-3).fit(X, y)
    >>> np.round(reg.coef_, 1)
    array([ 1. ,  0. , -1. ,  2. ,  0.5])
    >>> reg.solver_
    'cholesky'
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "copy_X": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag",
                               "saga", "lbfgs"})],
        "positive": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, copy_X=True, max_iter=None,
                 tol=1e-4, solver="auto", positive=False, random_state=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state

    def _resolve_solver(self, is_sparse=False):
        if self.solver == "auto":
            if self.positive:
                return "lbfgs"
            return "sparse_cg" if is_sparse else "cholesky"
        if self.positive and self.solver != "lbfgs":
            raise ValueError(
                f"solver={self.solver!r} does not support positive=True; set solver to "
                "'auto' or 'lbfgs'."
            )
        if self.solver == "lbfgs" and not self.positive:
            raise ValueError("solver='lbfgs' is only used with positive=True.")
        if is_sparse and self.fit_intercept and self.solver == "svd":
            raise ValueError(
                "solver='svd' does not support fitting the intercept on sparse data. "
                "Please set the solver to 'auto' or 'lsqr', 'sparse_cg', 'sag', 'lbfgs' "
                "or set `fit_intercept=False`"
            )
        if is_sparse and self.fit_intercept and self.solver in ("sag", "saga"):
            # as scikit-learn: SAG fits the intercept of sparse data itself only
            # at its default max_iter and a loose tol; otherwise sparse_cg.
            if self.solver == "saga":
                raise ValueError(
                    "solver='saga' does not support fitting the intercept on sparse "
                    "data. Please set the solver to 'auto' or 'lsqr', 'sparse_cg', "
                    "'sag', 'lbfgs' or set `fit_intercept=False`"
                )
            if self.max_iter is None and self.tol > 1e-4:
                warnings.warn(
                    '"sag" solver requires many iterations to fit an intercept with '
                    'sparse inputs. Either set the solver to "auto" or "sparse_cg", or '
                    'set a low "tol" and a high "max_iter" (especially if inputs are '
                    "not standardized)."
                )
                return "sag"
            return "sparse_cg"
        return self.solver

    def fit(self, X, y, sample_weight=None):
        """Fit ridge regression.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weight of each sample; a float gives every sample that
            weight.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(
            self, X, y, dtype=FLOAT_DTYPES, y_numeric=True, multi_output=True,
            accept_sparse=SPARSE_FIT_FORMATS,
        )
        solver = self._resolve_solver(sparse.issparse(X))
        if solver == "svd" and sparse.issparse(X):
            raise TypeError("SVD solver does not support sparse inputs currently")
        y = y.astype(X.dtype, copy=False)
        n_samples, n_features = X.shape
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        alpha = np.asarray(self.alpha, dtype=X.dtype).ravel()
        if np.any(alpha < 0):
            raise ValueError(f"alpha must be non-negative; got {self.alpha!r}.")
        if alpha.size not in (1, n_targets):
            raise ValueError(
                f"Number of targets and number of penalties do not correspond: "
                f"{alpha.size} != {n_targets}."
            )
        if alpha.size == 1:
            alpha = np.repeat(alpha, n_targets)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )

        Y = y.reshape(n_samples, -1)
        self.n_iter_ = None
        if solver in ("sag", "saga"):
            coef, X_offset, Y_offset = self._fit_sag(X, Y, alpha, sample_weight, solver)
        elif sparse.issparse(X):
            coef, solver = self._fit_sparse(X, Y, alpha, sample_weight, solver)
            X_offset, Y_offset = coef[1], coef[2]
            coef = coef[0]
        elif solver == "cholesky" and n_samples >= n_features:
            if self.fit_intercept:
                X_offset = np.average(X, axis=0, weights=sample_weight)
                Y_offset = np.average(Y, axis=0, weights=sample_weight)
            else:
                X_offset = np.zeros(n_features, dtype=X.dtype)
                Y_offset = np.zeros(n_targets, dtype=X.dtype)
            gram, Xy = _centered_gram(X, Y, X_offset, Y_offset, sample_weight)
            try:
                coef = _solve_gram(gram, Xy, alpha)
            except linalg.LinAlgError:  # singular with alpha == 0: fall back to SVD
                Xc, Yc, *_ = _preprocess_data(X, Y, fit_intercept=self.fit_intercept,
                                              sample_weight=sample_weight)
                coef = _solve_svd(Xc, Yc, alpha)
                solver = "svd"
        else:
            X, Y, X_offset, Y_offset, _ = _preprocess_data(
                X, Y, fit_intercept=self.fit_intercept, sample_weight=sample_weight
            )
            if solver == "cholesky":
                try:
                    coef = _solve_kernel(X, Y, alpha)
                except linalg.LinAlgError:
                    coef = _solve_svd(X, Y, alpha)
                    solver = "svd"
            elif solver == "svd":
                coef = _solve_svd(X, Y, alpha)
            elif solver == "lsqr":
                coef, self.n_iter_ = _solve_lsqr(X, Y, alpha, self.max_iter, self.tol)
            elif solver == "sparse_cg":
                coef, self.n_iter_ = _solve_sparse_cg(X, Y, alpha, self.max_iter, self.tol)
            else:  # lbfgs, positive
                coef, self.n_iter_ = _solve_lbfgs_positive(X, Y, alpha, self.max_iter,
                                                           self.tol)
        if not np.all(np.isfinite(coef)) and solver not in ("sag", "saga"):
            raise ValueError(
                f"Ridge solver {solver!r} produced non-finite coefficients; the data may "
                "be too badly scaled. Standardise X or use solver='svd'."
            )
        self.solver_ = solver
        if solver in ("sparse_cg", "lbfgs"):
            self.n_iter_ = None  # as scikit-learn: only sag, saga and lsqr report it
        if y.ndim == 1:
            coef, Y_offset = coef.ravel(), Y_offset[0]
        elif n_targets == 1:  # y of shape (n, 1): coef_ (n_features,) as scikit-learn
            coef = coef.ravel()
        self.coef_ = coef
        self._set_intercept(X_offset, Y_offset)
        return self

    def _fit_sag(self, X, Y, alpha, sample_weight, solver):
        """SAG/SAGA on each target; returns ``(coef, X_offset, Y_offset)``.

        Dense ``X`` is centred on its weighted means and the intercept follows
        from them; sparse ``X`` is never centred: with ``fit_intercept`` the
        intercept is a parameter of SAG itself (scikit-learn's choice, with its
        damped intercept steps), ``y`` being centred first.
        """
        n_samples, n_features = X.shape
        n_targets = Y.shape[1]
        fit_intercept_in_sag = False
        if self.fit_intercept:
            Y_offset = np.average(Y, axis=0, weights=sample_weight)
            Y = Y - Y_offset
            if sparse.issparse(X):
                X_offset = np.zeros(n_features, dtype=X.dtype)
                fit_intercept_in_sag = True
            else:
                X_offset = np.average(X, axis=0, weights=sample_weight).astype(X.dtype)
                X = X - X_offset
        else:
            X_offset = np.zeros(n_features, dtype=X.dtype)
            Y_offset = np.zeros(n_targets, dtype=X.dtype)
        if sparse.issparse(X):
            X = sparse.csr_array(X)
            max_squared_sum = float(np.max(np.asarray(X.multiply(X).sum(axis=1))))
        else:
            max_squared_sum = float(np.max(np.einsum("ij,ij->i", X, X)))
        max_iter = 1000 if self.max_iter is None else self.max_iter
        coef = np.empty((n_targets, n_features), dtype=X.dtype)
        intercept = np.zeros(n_targets)
        self.n_iter_ = np.empty(n_targets, dtype=np.int32)
        for j in range(n_targets):
            W, b, n_iter = sag_solve(
                X, Y[:, j], sample_weight, loss="squared", alpha=alpha[j], beta=0.0,
                max_iter=max_iter, tol=self.tol, random_state=self.random_state,
                fit_intercept=fit_intercept_in_sag, is_saga=solver == "saga",
                max_squared_sum=max_squared_sum,
            )
            coef[j], intercept[j], self.n_iter_[j] = W[:, 0], b[0], n_iter
        # y_offset - X_offset @ coef is the intercept: fold SAG's own intercept in
        Y_offset = (np.asarray(Y_offset, dtype=np.float64) + intercept).astype(X.dtype)
        return coef, X_offset, Y_offset

    def _fit_sparse(self, X, Y, alpha, sample_weight, solver):
        """Solve on sparse ``X``, never centring or densifying it.

        Returns ``((coef, X_offset, Y_offset), solver)``.
        """
        X, Y, X_offset, Y_offset, sqrt_sw = _preprocess_data(
            X, Y, fit_intercept=self.fit_intercept, sample_weight=sample_weight
        )
        if solver == "cholesky":
            try:
                coef = _solve_cholesky_sparse(X, Y, X_offset, sqrt_sw, alpha)
                return (coef, X_offset, Y_offset), solver
            except linalg.LinAlgError:  # singular with alpha == 0
                solver = "lsqr"
        if sqrt_sw is None and not self.fit_intercept:
            op = X
        else:
            op = _centered_operator(X, X_offset, sqrt_sw)
        if solver == "lsqr":
            coef, self.n_iter_ = _solve_lsqr(op, Y, alpha, self.max_iter, self.tol)
        elif solver == "sparse_cg":
            coef, self.n_iter_ = _solve_sparse_cg(op, Y, alpha, self.max_iter, self.tol)
        else:  # lbfgs, positive
            coef, self.n_iter_ = _solve_lbfgs_positive(op, Y, alpha, self.max_iter,
                                                       self.tol)
        return (coef, X_offset, Y_offset), solver

    _sparse_formats = SPARSE_PREDICT_FORMATS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # svd never takes sparse X; saga not with an intercept (as scikit-learn)
        tags.input_tags.sparse = self.solver != "svd" and not (
            self.solver == "saga" and self.fit_intercept)
        return tags
