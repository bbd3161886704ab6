"""Ordinary least squares (chapter 9 of the notes)."""

import sys
from numbers import Integral, Real

import numpy as np
from joblib import delayed
from scipy import linalg, optimize, sparse
from scipy.sparse import linalg as sp_linalg
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..utils._parallel import parallel
from ._base import (
    FLOAT_DTYPES,
    SPARSE_FIT_FORMATS,
    SPARSE_PREDICT_FORMATS,
    LinearModelMixin,
    _centered_operator,
    _preprocess_data,
)


def _lstsq_qr(X, y, cond):
    """Minimum-norm least squares through a thin QR of ``[X | y]``.

    A Householder QR of the augmented matrix gives ``R`` (top-left block) and
    ``Q^T y`` (top-right block) in one pass over the data; the small system
    ``R w = Q^T y`` is then solved by an SVD (``gelsd``), which also yields the
    singular values of ``X`` and its numerical rank. This is as stable as
    calling ``gelsd`` on ``X`` directly, and cheaper for tall data.

    Returns ``(coef, rank, singular_values)`` with ``coef`` of shape
    ``(n_features,)`` or ``(n_features, n_targets)``.
    """
    n_samples, n_features = X.shape
    y2 = y.reshape(n_samples, -1)
    if n_samples <= n_features:
        coef, _, rank, sing = linalg.lstsq(X, y2, cond=cond, check_finite=False)
    else:
        Xy = np.empty((n_samples, n_features + y2.shape[1]), dtype=X.dtype, order="F")
        Xy[:, :n_features] = X
        Xy[:, n_features:] = y2
        R = linalg.qr(Xy, mode="r", overwrite_a=True, check_finite=False)[0]
        coef, _, rank, sing = linalg.lstsq(
            R[:n_features, :n_features], R[:n_features, n_features:],
            cond=cond, check_finite=False,
        )
    return (coef.ravel() if y.ndim == 1 else coef), rank, sing


#: the Gram path is taken when the reciprocal condition number of ``X^T X`` is at least
#: this (``cond(X) <~ 1e4``): the normal equations' error ``~ eps * cond(X)^2`` on the
#: singular values stays below 1e-8, and refinement brings the coefficients to the QR
#: solution's accuracy. Worse conditioned problems take :func:`_lstsq_qr`.
GRAM_MIN_RCOND = 1e-8


def _centred_gram(X, offset):
    """Upper triangle of ``(X - offset)^T (X - offset)`` without a centred copy of ``X``.

    Rows are centred a cache-sized block at a time and accumulated with BLAS ``syrk``
    (``offset=None``: ``X`` is used as it is), so ``X`` is read once and never copied
    whole: the centring copy costs as much as the product on tall data.
    """
    syrk = linalg.blas.dsyrk
    if offset is None:  # BLAS reads a C-ordered X as its (Fortran) transpose
        return (syrk(1.0, X.T, trans=0, lower=0) if X.flags.c_contiguous
                else syrk(1.0, X, trans=1, lower=0))
    n_samples, n_features = X.shape
    rows = max(256, (1 << 17) // max(n_features, 1))  # ~1 MB blocks
    gram = np.zeros((n_features, n_features), order="F")
    for start in range(0, n_samples, rows):
        block = X[start:start + rows] - offset  # C-ordered: its transpose is Fortran
        gram = syrk(1.0, block.T, beta=1.0, c=gram, trans=0, lower=0, overwrite_c=1)
    return gram


def _lstsq_gram(X, y, cond, offset=None, max_refine=3):
    """Least squares through the normal equations, or None when ``X`` is ill-conditioned.

    ``G = X^T X`` (one ``syrk``: half the flops of a Householder QR and far better
    cache use on tall data) is factored by Cholesky, ``G = R^T R``; LAPACK's ``pocon``
    estimates its reciprocal condition number. If ``rcond(G) >= GRAM_MIN_RCOND`` the
    solution ``w = G^{-1} X^T y`` is refined by the corrected semi-normal equations,

    .. math:: r = y - X w, \\qquad w \\leftarrow w + R^{-1} R^{-T} X^T r,

    (at most ``max_refine`` steps, stopping once a correction is below 1e-12 relative),
    which gives the accuracy of a QR solve while ``eps * cond(X)^2 < 1``. The singular
    values of ``X`` are the square roots of the eigenvalues of ``G`` (relative error
    ``<= eps / rcond(G)``). Returns ``(coef, rank, singular_values)`` like
    :func:`_lstsq_qr`, or None (ill-conditioned, not tall, or not float64).

    ``offset``: column means to subtract from ``X`` (``y`` already centred); ``X`` is
    then used uncentred, block by block (:func:`_centred_gram`) and in the residuals
    ``X w - offset^T w``.
    """
    n_samples, n_features = X.shape
    if X.dtype != np.float64 or n_samples <= n_features:
        return None
    gram = _centred_gram(X, offset)
    upper = np.triu(gram)
    gram_full = upper + np.triu(gram, 1).T
    anorm = np.abs(gram_full).sum(axis=0).max()
    chol, info = linalg.lapack.dpotrf(upper, lower=0, clean=1)
    if info != 0 or anorm == 0.0:
        return None
    rcond, info = linalg.lapack.dpocon(chol, anorm, uplo="U")
    if info != 0 or not rcond >= GRAM_MIN_RCOND:
        return None
    factor = (chol, False)

    def xt(r):  # (X - offset)^T r
        out = X.T @ r
        return out if offset is None else out - np.multiply.outer(offset, r.sum(axis=0))

    def residual(coef):  # y - (X - offset) coef
        return y - (X @ coef if offset is None else X @ coef - offset @ coef)

    # y stays 1-D for one target: matrix-vector products, not (n, 1) matrix products
    coef = linalg.cho_solve(factor, xt(y), check_finite=False)
    for _ in range(max_refine):
        step = linalg.cho_solve(factor, xt(residual(coef)), check_finite=False)
        coef += step
        # the first step removes the normal equations' O(eps cond^2) error; stop once
        # a step is far below the parity tolerance (1e-8)
        if np.abs(step).max() <= 1e-12 * max(np.abs(coef).max(), 1e-300):
            break
    eig = linalg.eigvalsh(gram_full, lower=False, check_finite=False)
    sing = np.sqrt(np.clip(eig[::-1], 0.0, None))
    rank = int(np.sum(sing > cond * sing[0])) if sing[0] > 0 else 0
    if rank < n_features:  # the solution would not be the minimum-norm one
        return None
    return coef, rank, sing


def _lsqr_target(X, y, X_offset, sqrt_sw, tol):
    """lsqr of one target on the centred, weighted operator of sparse ``X``."""
    return sp_linalg.lsqr(_centered_operator(X, X_offset, sqrt_sw), y,
                          atol=tol, btol=tol)[0]


def _lstsq_sparse(X, y, X_offset, sqrt_sw, tol, n_jobs=None):
    """Least squares on sparse ``X`` by :func:`scipy.sparse.linalg.lsqr`.

    ``X`` is never centred or densified: lsqr sees the centred, weighted matrix
    ``S^{1/2} (X - 1 X_offset^T)`` through a linear operator, and ``y`` is
    already centred and weighted. Started from zero, lsqr converges to the
    minimum-norm solution, as the dense solver returns on rank-deficient data.
    Several targets are solved independently, one joblib task each (``n_jobs``,
    as scikit-learn). Returns ``coef`` of shape ``(n_features,)`` or
    ``(n_targets, n_features)``.
    """
    if y.ndim == 1:
        return _lsqr_target(X, y, X_offset, sqrt_sw, tol).astype(X.dtype, copy=False)
    coefs = parallel(n_jobs, prefer="threads")(
        delayed(_lsqr_target)(X, y[:, j], X_offset, sqrt_sw, tol)
        for j in range(y.shape[1]))
    return np.vstack(coefs).astype(X.dtype, copy=False)


_REGISTERED_WITH_SKLEARN = False


def _register_with_sklearn():
    """Declare :class:`LinearRegression` a virtual subclass of scikit-learn's.

    scikit-learn's ``RANSACRegressor`` picks its default ``min_samples``
    (``n_features + 1``) only for an ``isinstance`` of its own
    ``LinearRegression`` and raises otherwise, so the drop-in would need an
    explicit ``min_samples`` there. scikit-learn's class is an ``ABCMeta``
    class, so registering ours makes that check hold. This runs when
    ``sklearn.linear_model`` is already imported (here at import time, and
    from ``__init__``, which ``clone`` calls inside ``RANSACRegressor.fit``),
    so importing mlnotes never imports ``sklearn.linear_model`` itself.
    """
    global _REGISTERED_WITH_SKLEARN
    if _REGISTERED_WITH_SKLEARN:
        return
    reference = getattr(sys.modules.get("sklearn.linear_model"), "LinearRegression", None)
    if reference is not None and hasattr(reference, "register"):
        reference.register(LinearRegression)
        _REGISTERED_WITH_SKLEARN = True


class LinearRegression(MultiOutputMixin, RegressorMixin, LinearModelMixin, BaseEstimator):
    r"""Ordinary least squares linear regression.

    Fits ``coef_`` and ``intercept_`` that minimise the residual sum of squares
    between the targets and the linear prediction.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an intercept. If False, the data are taken as centred.
    copy_X : bool, default=True
        Kept for compatibility with scikit-learn. The data are always copied
        once, into the work array of the factorisation, so ``X`` is never
        overwritten.
    tol : float, default=1e-6
        Relative cut-off for small singular values: those below
        ``tol * largest`` are treated as zero, which sets ``rank_`` and gives the
        minimum-norm solution on rank-deficient data. On sparse ``X``, the
        ``atol`` and ``btol`` of :func:`scipy.sparse.linalg.lsqr`.
    n_jobs : int, default=None
        Jobs for problems with several targets on sparse ``X`` or with
        ``positive=True``: one target per joblib task, as in scikit-learn (a Dask
        or Ray joblib backend distributes them; locally they run on threads, where
        scikit-learn starts processes). The dense solver is a single BLAS/LAPACK
        call whose threads are set by threadpoolctl or the environment.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (non-negative least
        squares, :func:`scipy.optimize.nnls`). Dense ``X`` only, as in
        scikit-learn.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Estimated coefficients.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    rank_ : int
        Numerical rank of the (centred) design matrix. Only for dense ``X``
        without ``positive``.
    singular_ : ndarray of shape (min(n_samples, n_features),)
        Singular values of the (centred, weighted) design matrix. Only for
        dense ``X`` without ``positive``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    Ridge : least squares with an L2 penalty.

    Notes
    -----
    Chapter 9 of the notes (regression). With sample weights :math:`s_i` the
    estimator solves

    .. math::

        \min_{w, b} \sum_{i=1}^n s_i \, (y_i - x_i^\top w - b)^2 ,

    whose normal equations :math:`X_c^\top S X_c w = X_c^\top S y_c` (with
    :math:`X_c, y_c` centred on their weighted means) are never formed: the
    problem is solved through a QR factorisation of :math:`S^{1/2}[X_c \mid y_c]`
    followed by an SVD of the small triangular factor, so the condition number
    is not squared. The intercept is :math:`b = \bar y - \bar x^\top w`.

    Sparse ``X`` (CSR or CSC; other formats are converted to CSR) is accepted
    and never densified nor centred: as in scikit-learn, the problem is solved
    by :func:`scipy.sparse.linalg.lsqr` on a linear operator that applies
    :math:`S^{1/2}(X - \mathbf 1 \bar x^\top)` and its transpose through
    products with :math:`X` alone, to the tolerance ``tol``; ``rank_`` and
    ``singular_`` are then not set.

    References
    ----------
    G. H. Golub and C. F. Van Loan, *Matrix Computations*, 4th ed., section 5.3.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import LinearRegression
    >>> X = np.array([[1, 1], [1, 2], [2, 2], [2, 3]])
    >>> y = np.dot(X, np.array([1, 2])) + 3
    >>> reg = LinearRegression().fit(X, y)
    >>> reg.coef_
    array([1., 2.])
    >>> float(reg.intercept_)
    3.0
    >>> reg.predict(np.array([[3, 5]]))
    array([16.])
    """

    _parameter_constraints = {
        "fit_intercept": ["boolean"],
        "copy_X": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [None, Integral],
        "positive": ["boolean"],
    }

    def __init__(self, *, fit_intercept=True, copy_X=True, tol=1e-6, n_jobs=None,
                 positive=False):
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.tol = tol
        self.n_jobs = n_jobs
        self.positive = positive
        _register_with_sklearn()

    def fit(self, X, y, sample_weight=None):
        """Fit the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values, cast to the dtype of ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(
            self, X, y, dtype=FLOAT_DTYPES, y_numeric=True, multi_output=True,
            accept_sparse=False if self.positive else SPARSE_FIT_FORMATS,
        )
        y = y.astype(X.dtype, copy=False)
        if sample_weight is None and not self.positive and not sparse.issparse(X):
            # tall, well-conditioned X: normal equations on X itself (no centred copy)
            if self.fit_intercept:
                X_offset, y_offset = X.mean(axis=0), y.mean(axis=0)
                solved = _lstsq_gram(X, y - y_offset, cond=self.tol, offset=X_offset)
            else:
                X_offset = np.zeros(X.shape[1], dtype=X.dtype)  # (_set_intercept: 0)
                y_offset = np.zeros(y.shape[1:], dtype=X.dtype) if y.ndim > 1 else 0.0
                solved = _lstsq_gram(X, y, cond=self.tol)
            if solved is not None:
                coef, self.rank_, self.singular_ = solved
                self.coef_ = coef.T
                self._set_intercept(X_offset, y_offset)
                return self
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        X, y, X_offset, y_offset, sqrt_sw = _preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sample_weight
        )
        if sparse.issparse(X):
            for attr in ("rank_", "singular_"):  # from an earlier dense fit
                self.__dict__.pop(attr, None)
            self.coef_ = _lstsq_sparse(X, y, X_offset, sqrt_sw, self.tol, self.n_jobs)
        elif self.positive:
            if y.ndim == 1:
                self.coef_ = optimize.nnls(X, y)[0]
            else:
                solved = parallel(self.n_jobs, prefer="threads")(
                    delayed(optimize.nnls)(X, y[:, j]) for j in range(y.shape[1]))
                self.coef_ = np.vstack([c for c, _ in solved])
        else:
            solved = _lstsq_gram(X, y, cond=self.tol)  # weighted, well-conditioned tall X
            if solved is None:
                solved = _lstsq_qr(X, y, cond=self.tol)
            coef, self.rank_, self.singular_ = solved
            self.coef_ = coef.T
        self._set_intercept(X_offset, y_offset)
        return self

    _sparse_formats = SPARSE_PREDICT_FORMATS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = not self.positive
        return tags


_register_with_sklearn()
