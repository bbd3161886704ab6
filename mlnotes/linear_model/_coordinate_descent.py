r"""Lasso and elastic net by coordinate descent (chapter 12 of the notes).

The estimators centre (and weight) the data, then call the compiled kernels of
:mod:`._cd_fast` once per target; :func:`enet_path` and :func:`lasso_path`
solve the same problem along a decreasing sequence of penalties, each
solution warm-starting the next.
"""

import numbers
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, metadata_routing
from sklearn.utils._param_validation import Hidden, Interval, StrOptions, validate_params
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._base import FLOAT_DTYPES, SPARSE_PREDICT_FORMATS, LinearModelMixin, _preprocess_data
from ._cd_fast import (
    MAX_ITER,
    NONFINITE,
    RAND_R_MAX,
    enet_coordinate_descent,
    enet_coordinate_descent_multi_task,
    enet_coordinate_descent_gram,
    sparse_enet_coordinate_descent,
)
from mlnotes.utils._random import check_random_state

__all__ = ["ElasticNet", "Lasso", "enet_path", "lasso_path"]

_MESSAGE_CONV = (
    "Objective did not converge. You might want to increase the number of iterations, "
    "check the scale of the features or consider increasing regularisation."
)
_MESSAGE_RIDGE = (
    "Linear regression models with a zero l1 penalization strength are more "
    "efficiently fitted using one of the solvers implemented in "
    "mlnotes.linear_model.Ridge instead."
)


def _draw_seed(rng, random):
    """Seed of the kernel's xorshift generator (drawn only for random selection)."""
    return int(rng.randint(0, RAND_R_MAX)) if random else 0


class _SparseDesign:
    """A CSC matrix ``X`` seen as the centred, weighted ``S^{1/2} (X - 1 X_mean^T)``.

    Holds the float64 CSC arrays, ``s = sqrt(sample_weight)`` (ones without
    weights) and ``X_mean`` for :func:`sparse_enet_coordinate_descent`; ``X``
    itself is neither densified nor centred.
    """

    def __init__(self, X, X_mean=None, sqrt_sw=None):
        X = sparse.csc_matrix(X)  # a view of the arrays when X is already CSC
        if not X.has_sorted_indices:
            X = X.sorted_indices()
        n_samples, n_features = X.shape
        if X.nnz >= np.iinfo(np.int32).max or max(X.shape) >= np.iinfo(np.int32).max:
            raise ValueError("Sparse X with 2**31 or more stored entries (64-bit indices) "
                             "is not supported by the coordinate-descent solver.")
        self.shape = X.shape
        self.data = np.ascontiguousarray(X.data, dtype=np.float64)
        self.indices = np.ascontiguousarray(X.indices, dtype=np.int32)
        self.indptr = np.ascontiguousarray(X.indptr, dtype=np.int32)
        self.X_mean = (np.zeros(n_features) if X_mean is None
                       else np.ascontiguousarray(X_mean, dtype=np.float64))
        self.s = (np.ones(n_samples) if sqrt_sw is None
                  else np.ascontiguousarray(sqrt_sw, dtype=np.float64))


def _signed_weight_gram(X, Y, sample_weight, fit_intercept):
    """Gram form of weighted least squares whose weights may be negative.

    The usual route (scale rows by ``sqrt(w)``) needs ``w >= 0``; this one
    forms ``Xc^T W Xc``, ``Xc^T W Yc`` and ``diag(Yc^T W Yc)`` directly
    (``Xc``, ``Yc`` centred on the weighted means when ``fit_intercept``), for
    dense or sparse ``X``: for sparse ``X``,
    ``Xc^T W Xc = X^T W X - S m m^T`` with ``S = sum(w)``, ``m`` the weighted
    column means. Returns ``(X_offset, Y_offset, gram, XY, y_norm2)``.
    """
    sw = np.asarray(sample_weight, dtype=np.float64)
    total = sw.sum()
    n_features = X.shape[1]
    if fit_intercept:
        X_offset = np.asarray(X.T @ sw, dtype=np.float64).ravel() / total
        Y_offset = (sw @ Y) / total
    else:
        X_offset = np.zeros(n_features)
        Y_offset = np.zeros(Y.shape[1])
    Yc = Y - Y_offset
    WYc = sw[:, None] * Yc
    if sparse.issparse(X):
        Xs = sparse.csr_matrix(X)
        gram = (Xs.T @ sparse.diags(sw) @ Xs).toarray()
        gram -= total * np.outer(X_offset, X_offset)
        XY = np.asarray(Xs.T @ WYc) - np.outer(X_offset, WYc.sum(axis=0))
    else:
        Xc = np.asarray(X, dtype=np.float64) - X_offset
        gram = Xc.T @ (sw[:, None] * Xc)
        XY = Xc.T @ WYc
    y_norm2 = np.einsum("ik,ik->k", Yc, WYc)
    return (X_offset.astype(X.dtype), Y_offset.astype(X.dtype),
            np.ascontiguousarray(gram, dtype=X.dtype), np.asarray(XY, dtype=X.dtype),
            y_norm2)


def _fortran_copy_aligned(X, align=64):
    """Copy of dense ``X`` in Fortran order whose first element sits on an ``align``-byte
    boundary; ``X`` (sparse) is returned unchanged.

    The dense coordinate-descent kernel streams the columns of ``X`` once per epoch;
    with a 64-byte-aligned start (``numpy.empty`` typically gives 16 mod 64 for large
    arrays) its vector loads cross fewer cache lines. Same values, so the same iterates.
    """
    if sparse.issparse(X):
        return X
    nbytes = X.size * X.itemsize
    buf = np.empty(nbytes + align, dtype=np.uint8)
    start = (-buf.ctypes.data) % align
    out = buf[start:start + nbytes].view(X.dtype).reshape(X.shape[::-1]).T
    out[...] = X
    return out


def _enet_solve(w, l1_reg, l2_reg, Xt, y, gram, Xy, *, max_iter, tol, seed, random,
                positive, do_screening, y_norm2=None):
    """Run one coordinate-descent solve in place on ``w``; warn if it did not converge.

    ``Xt`` is ``X.T`` (C-contiguous) or a :class:`_SparseDesign`; with a Gram
    matrix ``gram`` (and ``Xy = X^T y``) the Gram kernel is used instead.
    Returns ``(gap, n_iter)`` for the unnormalised objective
    ``1/2 ||y - Xw||^2 + l1_reg ||w||_1 + l2_reg/2 ||w||^2``.
    """
    max_iter, tol = int(max_iter), float(tol)
    if isinstance(Xt, _SparseDesign):
        w64 = np.ascontiguousarray(w, dtype=np.float64)
        gap, tol_scaled, n_iter, status = sparse_enet_coordinate_descent(
            w64, float(l1_reg), float(l2_reg), Xt.data, Xt.indices, Xt.indptr,
            np.ascontiguousarray(y, dtype=np.float64), Xt.s, Xt.X_mean, max_iter, tol,
            int(seed), bool(random), bool(positive), bool(do_screening),
        )
        if w64 is not w:
            w[:] = w64
    elif gram is not None:
        if y_norm2 is None:
            y_norm2 = float(np.dot(y, y))
        gap, tol_scaled, n_iter, status = enet_coordinate_descent_gram(
            w, float(l1_reg), float(l2_reg), gram, Xy, float(y_norm2), max_iter,
            tol, int(seed), bool(random), bool(positive), bool(do_screening),
        )
    else:
        gap, tol_scaled, n_iter, status = enet_coordinate_descent(
            w, float(l1_reg), float(l2_reg), Xt, y, max_iter, tol, int(seed),
            bool(random), bool(positive), bool(do_screening),
        )
    if status == NONFINITE:
        raise ValueError(
            "Coordinate descent iterations resulted in non-finite values (duality gap "
            f"{gap}); the input data may contain large values and need to be "
            "preprocessed."
        )
    if status == MAX_ITER:
        message = f"{_MESSAGE_CONV} Duality gap: {gap:.6e}, tolerance: {tol_scaled:.3e}"
        if l1_reg < np.finfo(np.float64).eps:
            message += "\n" + _MESSAGE_RIDGE
        warnings.warn(message, ConvergenceWarning, stacklevel=4)
    return gap, n_iter


def _check_gram(gram, X):
    """Validate a user-supplied Gram matrix: shape, and one entry against ``X``."""
    n_features = X.shape[1]
    gram = check_array(gram, dtype=X.dtype, order="C", copy=False)
    if gram.shape != (n_features, n_features):
        raise ValueError(
            f"precompute: the Gram matrix must have shape ({n_features}, {n_features}); "
            f"got {gram.shape}."
        )
    f1 = n_features // 2
    f2 = min(f1 + 1, n_features - 1)
    expected = np.dot(X[:, f1], X[:, f2])
    rtol = 1e-4 if np.float32 in (gram.dtype, X.dtype) else 1e-7
    if not np.isclose(expected, gram[f1, f2], rtol=rtol, atol=1e-5):
        raise ValueError(
            "Gram matrix passed in via 'precompute' parameter did not pass validation "
            f"when a single element was checked - please check that it was computed "
            f"properly. For element ({f1},{f2}) we computed {expected} but the "
            f"user-supplied value was {gram[f1, f2]}."
        )
    return gram


def _alpha_max(Xy, n_samples, l1_ratio, positive):
    """Smallest penalty for which ``w = 0`` is optimal: ``max_j |x_j^T y| / (n l1_ratio)``."""
    if positive:
        return max(0.0, float(np.max(Xy))) / (n_samples * l1_ratio)
    return float(np.max(np.abs(Xy))) / (n_samples * l1_ratio)


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "n_alphas": [Interval(Integral, 1, None, closed="left"),
                     Hidden(StrOptions({"deprecated"}))],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like", None,
                   Hidden(StrOptions({"warn"}))],
        "precompute": [StrOptions({"auto"}), "boolean", "array-like"],
        "Xy": ["array-like", None],
        "copy_X": ["boolean"],
        "coef_init": ["array-like", None],
        "verbose": ["verbose"],
        "return_n_iter": ["boolean"],
        "positive": ["boolean"],
        "check_input": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas="deprecated", alphas="warn",
              precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
              return_n_iter=False, positive=False, check_input=True, **params):
    r"""Elastic-net solutions along a decreasing grid of penalties.

    Minimises, for each ``alpha`` of the grid,

    .. math::

        \frac{1}{2n} \|y - X w\|_2^2 + \alpha \rho \|w\|_1
        + \frac{\alpha (1 - \rho)}{2} \|w\|_2^2 ,

    with :math:`\rho` = ``l1_ratio``, starting each solve from the previous
    solution. No intercept is fitted: centre ``X`` and ``y`` first.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data (dense: Fortran order avoids a copy; sparse: converted
        to CSC, never centred nor densified, see ``X_offset`` below).
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Target. A 2-D ``y`` gives the multi-task elastic net, as scikit-learn:
        the L1 term becomes :math:`\alpha \rho \sum_j \|W_{:, j}\|_2` (a
        feature is kept or dropped for all targets together), solved by block
        coordinate descent (dense; sparse ``X`` is densified).
    l1_ratio : float, default=0.5
        Mix of the L1 and L2 penalties, in ``[0, 1]``; ``1`` is the lasso.
    eps : float, default=1e-3
        Length of the automatic grid: ``alpha_min / alpha_max``.
    n_alphas : int, default=100
        Deprecated (as in scikit-learn 1.9): pass an integer ``alphas`` instead.
    alphas : int or array-like, default=100
        Number of penalties on the automatic geometric grid from ``alpha_max``
        (the smallest ``alpha`` giving ``w = 0``) down to ``eps * alpha_max``,
        or the penalties themselves (sorted in decreasing order).
        ``None`` is deprecated and means 100.
    precompute : "auto", bool or array-like of shape (n_features, n_features), default="auto"
        Use the Gram matrix ``X^T X`` (computed, or given); ``"auto"`` uses it
        when ``n_samples > n_features``. Ignored for sparse ``X``.
    Xy : array-like of shape (n_features,), default=None
        ``X^T y``, used with a Gram matrix.
    copy_X : bool, default=True
        Kept for compatibility: ``X`` is never modified.
    coef_init : array-like of shape (n_features,), default=None
        Starting coefficients of the first solve.
    verbose : bool or int, default=False
        Print progress along the path.
    return_n_iter : bool, default=False
        Also return the number of epochs of each solve.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    check_input : bool, default=True
        Kept for compatibility; the input is always validated.
    **params : kwargs
        Solver options: ``tol`` (1e-4), ``max_iter`` (1000), ``random_state``,
        ``selection`` ("cyclic" or "random"), ``do_screening`` (True); for
        sparse ``X``, ``X_offset`` (column means, default zeros, divided by
        ``X_scale`` if given): the path is then that of ``X - X_offset``, a
        centring the CSC kernel applies implicitly, as in scikit-learn; and
        ``sample_weight`` (sparse ``X`` only, as scikit-learn uses it): the
        squared errors are weighted (the automatic grid ignores the weights,
        as scikit-learn's does).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The penalties, decreasing.
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
        Coefficients along the path.
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap of each solution (of the objective above).
    n_iters : list of int
        Epochs of each solve (if ``return_n_iter``).

    See Also
    --------
    ElasticNet, lasso_path

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import enet_path
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 3)
    >>> y = X @ np.array([2.0, 0.0, -1.0])
    >>> alphas, coefs, gaps = enet_path(X, y, l1_ratio=1.0, alphas=[10.0, 0.1])
    >>> np.round(coefs, 1)
    array([[ 0. ,  1.9],
           [ 0. ,  0. ],
           [ 0. , -0.9]])
    """
    if n_alphas == "deprecated":
        n_grid = 100
    else:
        warnings.warn(
            "'n_alphas' was deprecated in 1.9 and will be removed in 1.11. 'alphas' now "
            "accepts an integer value which removes the need to pass 'n_alphas'.",
            FutureWarning,
        )
        n_grid = n_alphas
    if alphas is None:
        warnings.warn("'alphas=None' is deprecated and will be removed in 1.11; set "
                      "'alphas=100' instead.", FutureWarning)
    elif not (isinstance(alphas, str) and alphas == "warn"):
        if isinstance(alphas, Integral):
            n_grid = alphas
        else:
            n_grid = None
    tol = params.pop("tol", 1e-4)
    max_iter = params.pop("max_iter", 1000)
    random_state = params.pop("random_state", None)
    selection = params.pop("selection", "cyclic")
    do_screening = params.pop("do_screening", True)
    X_offset = params.pop("X_offset", None)
    X_scale = params.pop("X_scale", None)
    sample_weight = params.pop("sample_weight", None)
    if params:
        raise ValueError(f"Unexpected parameters in params: {sorted(params)}.")
    if selection not in ("random", "cyclic"):
        raise ValueError(f"selection should be either 'random' or 'cyclic'; got {selection!r}.")

    X = check_array(X, accept_sparse="csc", dtype=FLOAT_DTYPES, order="F")
    y = check_array(y, dtype=X.dtype.type, ensure_2d=False)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y have inconsistent numbers of samples: {X.shape[0]} "
                         f"and {y.shape[0]}.")
    if y.ndim != 1:
        if positive:
            raise ValueError("positive=True is not allowed for multi-output (y.ndim != 1)")
        if sample_weight is not None:
            raise ValueError("enet_path: sample_weight is not supported with a 2-D y.")
        return _multi_task_path(
            X, y, l1_ratio=l1_ratio, eps=eps, n_grid=n_grid, alphas=alphas,
            coef_init=coef_init, verbose=verbose, return_n_iter=return_n_iter, tol=tol,
            max_iter=max_iter, random_state=random_state, random=selection == "random",
            X_offset=X_offset,
        )
    y = np.ascontiguousarray(y)
    n_samples, n_features = X.shape

    gram = None
    is_sparse = sparse.issparse(X)
    if sample_weight is not None and not is_sparse:
        raise ValueError("enet_path: sample_weight is supported for sparse X only; scale "
                         "the rows of a dense X and y by sqrt(sample_weight) instead.")
    if is_sparse:
        # as scikit-learn: sparse X is not centred; X_offset (/ X_scale) are the
        # column means the CSC kernel subtracts implicitly; no Gram matrix
        precompute = False
        if X_offset is not None:
            X_offset = np.asarray(X_offset, dtype=np.float64).ravel()
            if X_scale is not None:
                X_offset = X_offset / np.asarray(X_scale, dtype=np.float64).ravel()
    if isinstance(precompute, str):
        precompute = n_samples > n_features
    if hasattr(precompute, "__array__"):
        gram = _check_gram(precompute, X)
    elif precompute:
        gram = np.ascontiguousarray(X.T @ X)
    if gram is not None:
        Xy = np.ascontiguousarray(X.T @ y if Xy is None
                                  else check_array(Xy, dtype=X.dtype, ensure_2d=False).ravel())
    if is_sparse:
        sqrt_sw = None
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            sqrt_sw = np.sqrt(sample_weight)
        Xt = _SparseDesign(X, X_offset, sqrt_sw)
    else:
        Xt = np.ascontiguousarray(X.T) if gram is None else None

    if n_grid is not None:
        if l1_ratio == 0:
            raise ValueError("Automatic alpha grid generation is not supported for "
                             "l1_ratio=0. Please supply a grid with 'alphas'.")
        if Xy is not None:
            Xty = Xy
        elif is_sparse:
            Xty = np.asarray(X.T @ y).ravel() - Xt.X_mean * y.sum()
        else:
            Xty = X.T @ y
        a_max = _alpha_max(Xty, n_samples, l1_ratio, positive)
        res = np.finfo(np.float64).resolution
        grid = (np.full(n_grid, res) if a_max <= res
                else np.geomspace(a_max, a_max * eps, num=n_grid))
    else:
        grid = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if np.any(grid < 0):
            raise ValueError(f"alphas must be non-negative; got {alphas!r}.")

    if coef_init is None:
        w = np.zeros(n_features, dtype=X.dtype)
    else:
        w = np.array(coef_init, dtype=X.dtype).ravel()
        if w.shape != (n_features,):
            raise ValueError(f"coef_init must have shape ({n_features},); got {w.shape}.")
    rng = check_random_state(random_state)
    random = selection == "random"
    coefs = np.empty((n_features, grid.size), dtype=X.dtype)
    dual_gaps = np.empty(grid.size)
    n_iters = []
    # the kernels take the target scaled by sqrt(sample_weight) (sparse X only; the
    # automatic grid above uses the unweighted y, as scikit-learn's)
    y_solve = y * Xt.s if is_sparse and sample_weight is not None else y
    for i, alpha in enumerate(grid):
        gap, n_iter = _enet_solve(
            w, alpha * l1_ratio * n_samples, alpha * (1.0 - l1_ratio) * n_samples, Xt,
            y_solve,
            gram, Xy, max_iter=max_iter, tol=tol, seed=_draw_seed(rng, random),
            random=random, positive=positive, do_screening=do_screening,
        )
        if not np.all(np.isfinite(w)):
            raise ValueError("Coordinate descent produced non-finite coefficients; the "
                             "input may contain large values and need preprocessing.")
        coefs[:, i] = w
        dual_gaps[i] = gap / n_samples
        n_iters.append(n_iter)
        if verbose:
            print(f"Path: {i:03d} out of {grid.size:03d}")
    if return_n_iter:
        return grid, coefs, dual_gaps, n_iters
    return grid, coefs, dual_gaps


def _multi_task_path(X, Y, *, l1_ratio, eps, n_grid, alphas, coef_init, verbose,
                     return_n_iter, tol, max_iter, random_state, random, X_offset):
    """The path of the multi-task elastic net (``enet_path`` with a 2-D ``y``).

    Objective ``1/(2n) ||Y - X W^T||_F^2 + alpha rho sum_j ||W[:, j]||_2
    + alpha (1 - rho)/2 ||W||_F^2``; coefficients of shape (n_targets,
    n_features, n_alphas), as scikit-learn. Sparse ``X`` is densified here
    (after subtracting ``X_offset``), the multi-task kernel being dense.
    """
    if sparse.issparse(X):
        X = X.toarray()
        if X_offset is not None:
            X = X - X_offset
    X = np.asarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    n_samples, n_features = X.shape
    n_targets = Y.shape[1]
    if n_grid is not None:
        if l1_ratio == 0:
            raise ValueError("Automatic alpha grid generation is not supported for "
                             "l1_ratio=0. Please supply a grid with 'alphas'.")
        XY = X.T @ Y
        a_max = np.sqrt(np.sum(XY ** 2, axis=1)).max() / (n_samples * l1_ratio)
        res = np.finfo(np.float64).resolution
        grid = (np.full(n_grid, res) if a_max <= res
                else np.geomspace(a_max, a_max * eps, num=n_grid))
    else:
        grid = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if np.any(grid < 0):
            raise ValueError(f"alphas must be non-negative; got {alphas!r}.")
    if coef_init is None:
        W = np.zeros((n_targets, n_features))
    else:
        W = np.array(coef_init, dtype=np.float64)
        if W.shape != (n_targets, n_features):
            raise ValueError(f"coef_init must have shape ({n_targets}, {n_features}); "
                             f"got {W.shape}.")
    Xt = np.ascontiguousarray(X.T)
    rng = check_random_state(random_state)
    coefs = np.empty((n_targets, n_features, grid.size))
    dual_gaps = np.empty(grid.size)
    n_iters = []
    for i, alpha in enumerate(grid):
        gap, tol_scaled, n_iter, status = enet_coordinate_descent_multi_task(
            W, alpha * l1_ratio * n_samples, alpha * (1.0 - l1_ratio) * n_samples, Xt, Y,
            int(max_iter), float(tol), _draw_seed(rng, random), bool(random),
        )
        if status == NONFINITE:
            raise ValueError("Coordinate descent produced non-finite coefficients; the "
                             "input may contain large values and need preprocessing.")
        if status == MAX_ITER:
            warnings.warn(f"{_MESSAGE_CONV} Duality gap: {gap:.6e}, tolerance: "
                          f"{tol_scaled:.3e}", ConvergenceWarning, stacklevel=3)
        coefs[:, :, i] = W
        dual_gaps[i] = gap / n_samples
        n_iters.append(n_iter)
        if verbose:
            print(f"Path: {i:03d} out of {grid.size:03d}")
    if return_n_iter:
        return grid, coefs, dual_gaps, n_iters
    return grid, coefs, dual_gaps


def lasso_path(X, y, *, eps=1e-3, n_alphas="deprecated", alphas="warn",  # numpydoc ignore=PR01,RT01
               precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
               return_n_iter=False, positive=False, **params):
    r"""Lasso solutions along a decreasing grid of penalties.

    :func:`enet_path` with ``l1_ratio=1``: minimises
    :math:`\frac{1}{2n}\|y - Xw\|_2^2 + \alpha \|w\|_1` for each ``alpha``.
    Parameters and returns as in :func:`enet_path`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import lasso_path
    >>> X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    >>> alphas, coefs, _ = lasso_path(X, X @ np.array([1.0, 0.5]), alphas=3)
    >>> alphas.shape, coefs.shape
    ((3,), (2, 3))
    """
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
                     precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                     verbose=verbose, return_n_iter=return_n_iter, positive=positive,
                     **params)


class ElasticNet(MultiOutputMixin, RegressorMixin, LinearModelMixin, BaseEstimator):
    r"""Linear regression with combined L1 and L2 penalties, by coordinate descent.

    Parameters
    ----------
    alpha : float, default=1.0
        Multiplier of the penalty terms, non-negative. ``alpha=0`` is ordinary
        least squares, which coordinate descent solves slowly (use
        :class:`LinearRegression`).
    l1_ratio : float, default=0.5
        Mixing parameter :math:`\rho \in [0, 1]`: ``1`` is the lasso penalty,
        ``0`` the ridge penalty.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    precompute : bool or array-like of shape (n_features, n_features), default=False
        Run coordinate descent on the Gram matrix :math:`X^\top X` (computed
        from the centred, weighted data, or given): each coordinate step then
        costs :math:`O(p)` instead of :math:`O(n)`, worthwhile when
        ``n_samples >> n_features``. A given matrix is recomputed (with a
        warning) when ``X`` has to be centred. Ignored for sparse ``X`` (as in
        scikit-learn).
    max_iter : int, default=1000
        Maximum number of epochs (passes over the features).
    copy_X : bool, default=True
        If False, ``X`` may be overwritten (centred in place) when it already
        is a Fortran-ordered float array.
    tol : float, default=1e-4
        When the largest coefficient move of an epoch is at most ``tol`` times
        the largest coefficient, the duality gap is computed, and the descent
        stops once it is at most ``tol`` times :math:`\|y\|_2^2 / n`.
    warm_start : bool, default=False
        Start from the previous ``coef_`` instead of zero.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Seeds the coordinate order when ``selection="random"`` (only then is
        it used).
    selection : {"cyclic", "random"}, default="cyclic"
        Visit the coordinates in order, or draw one at random at each step
        (often faster to converge at loose ``tol``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weight vector(s).
    sparse_coef_ : sparse matrix of shape (1, n_features) or (n_targets, n_features)
        ``coef_`` as a CSR matrix.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    n_iter_ : int or list of int
        Epochs run by coordinate descent (one per target for a 2-D ``y``).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution (of the objective below).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    Lasso : the special case ``l1_ratio=1``.
    Ridge : the L2 penalty alone, in closed form.
    enet_path : solutions along a grid of penalties.

    Notes
    -----
    Chapter 12 of the notes (regularisation: the lasso and the elastic net).
    With sample weights :math:`s_i` (rescaled to sum to :math:`n`) and
    :math:`\rho` = ``l1_ratio``, ElasticNet minimises

    .. math::

        \min_{w, b} \frac{1}{2n} \sum_{i=1}^n s_i (y_i - x_i^\top w - b)^2
        + \alpha \rho \|w\|_1 + \frac{\alpha (1 - \rho)}{2} \|w\|_2^2 .

    The intercept is eliminated by centring :math:`X, y` on their weighted
    means (and scaling rows by :math:`\sqrt{s_i}`); multiplied by :math:`n`
    the problem becomes :math:`P(w) = \frac12 \|y - Xw\|^2 + a \|w\|_1 +
    \frac{b}{2} \|w\|^2` with :math:`a = n\alpha\rho`, :math:`b = n\alpha(1-\rho)`.
    Coordinate descent minimises :math:`P` exactly in one coordinate at a
    time, keeping the residual :math:`r = y - Xw` up to date:

    .. math::

        w_j \leftarrow \frac{S\!\left(x_j^\top r + \|x_j\|^2 w_j,\; a\right)}
                            {\|x_j\|^2 + b}, \qquad
        S(z, a) = \operatorname{sign}(z) \max(|z| - a, 0),

    the soft-thresholding operator (with ``positive=True``, negative
    :math:`z` gives :math:`w_j = 0`). When an epoch moves no coefficient by
    more than ``tol`` :math:`\max_j |w_j|`, the duality gap is checked: the
    residual scaled into the dual feasible set,
    :math:`\nu = s\, r` with :math:`s = \min(1, a / \|X^\top r - b w\|_\infty)`,
    gives

    .. math::

        G(w, \nu) = P(w) - D(\nu), \qquad
        D(\nu) = -\frac{s^2}{2} \left(\|r\|^2 + b \|w\|^2\right) + s\, r^\top y ,

    an upper bound on :math:`P(w) - P(w^\star)`, and the descent stops when
    :math:`G \le` ``tol`` :math:`\|y\|^2`; ``dual_gap_`` is :math:`G / n`.
    Sparse ``X`` (CSR or CSC; converted to CSC) is never centred nor
    densified: the compiled CSC kernel works with the implicit column
    :math:`z_j = s \circ (x_j - \bar x_j \mathbf 1)` (:math:`s = \sqrt{s_i}`)
    and keeps the dense residual as :math:`r = r' + c\, s` with
    :math:`r' = y - S^{1/2} X w` and the scalar :math:`c = \bar x^\top w`, so a
    coordinate step costs :math:`O(\mathrm{nnz}(x_j))` and the iterates,
    ``n_iter_`` and ``dual_gap_`` are those of the dense fit on the centred
    data (no Gram matrix is used).
    Features that the gap proves to be zero at the optimum (gap-safe
    screening) are dropped from the epochs. These are scikit-learn's rules,
    so ``n_iter_`` and ``dual_gap_`` compare with its.

    References
    ----------
    J. Friedman, T. Hastie and R. Tibshirani, "Regularization paths for
    generalized linear models via coordinate descent", *Journal of Statistical
    Software* 33(1), 2010.

    E. Ndiaye, O. Fercoq, A. Gramfort and J. Salmon, "Gap safe screening rules
    for sparsity enforcing penalties", *JMLR* 18, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import ElasticNet
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 4)
    >>> y = X @ np.array([3.0, 0.0, -2.0, 0.0]) + 0.1 * rng.randn(100) + 1.0
    >>> reg = ElasticNet(alpha=0.1, l1_ratio=0.7).fit(X, y)
    >>> np.round(reg.coef_, 1)
    array([ 2.8,  0. , -1.9,  0. ])
    >>> round(float(reg.intercept_), 1)
    1.0
    """

    __metadata_request__fit = {"check_input": metadata_routing.UNUSED}

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "precompute": ["boolean", "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "copy_X": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
    }

    path = staticmethod(enet_path)

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False,
                 max_iter=1000, copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model by coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Dense: Fortran order avoids a copy. Sparse (CSR or
            CSC, converted to CSC): never centred nor densified, see Notes.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target(s); each target is fitted independently.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to ``n_samples``
            (so a constant weight changes nothing).
        check_input : bool, default=True
            Kept for compatibility with scikit-learn; the input is always
            validated.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        l1_ratio = getattr(self, "l1_ratio", 1.0)
        if self.alpha == 0:
            warnings.warn("With alpha=0, this algorithm does not converge well. You are "
                          "advised to use the LinearRegression estimator", stacklevel=2)
        modifies_X = self.fit_intercept or (
            sample_weight is not None and not isinstance(sample_weight, numbers.Number)
        )
        if sparse.issparse(X):
            modifies_X = False  # sparse X is never centred nor rescaled
        # dense X to be centred or rescaled on a copy: validate without copying, then
        # copy once into a 64-byte-aligned Fortran buffer (see _fortran_copy_aligned)
        own_copy = self.copy_X and modifies_X
        X, y = validate_data(
            self, X, y, accept_sparse="csc", dtype=FLOAT_DTYPES,
            order=None if own_copy else "F", copy=False,
            force_writeable=modifies_X and not own_copy, multi_output=True, y_numeric=True,
        )
        if own_copy:
            X = _fortran_copy_aligned(X)
        n_samples, n_features = X.shape
        Y = np.array(y, dtype=X.dtype).reshape(n_samples, -1)
        n_targets = Y.shape[1]

        if isinstance(sample_weight, numbers.Number):
            sample_weight = None  # a constant weight is rescaled away
        if sample_weight is not None:
            # negative weights are accepted, as scikit-learn does
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
            total = sample_weight.sum()
            if total == 0 or not np.isfinite(total):
                raise ValueError("sample_weight must have a non-zero, finite sum.")
            sample_weight = sample_weight * (n_samples / total)
        y_norm2 = None
        if sample_weight is not None and np.any(sample_weight < 0):
            # no sqrt(w) scaling possible: the Gram form with the signed weights
            X_offset, Y_offset, gram, XY, y_norm2 = _signed_weight_gram(
                X, Y, sample_weight, self.fit_intercept)
            Xt = None
        else:
            X, Y, X_offset, Y_offset, sqrt_sw = _preprocess_data(
                X, Y, fit_intercept=self.fit_intercept, sample_weight=sample_weight,
                copy=False,
            )
        if y_norm2 is not None:
            pass  # Gram form above
        elif sparse.issparse(X):
            # as scikit-learn: no Gram matrix with sparse X; the CSC kernel centres
            # and weights the columns implicitly
            gram, XY = None, None
            Xt = _SparseDesign(X, X_offset, sqrt_sw)
        else:
            gram, XY = self._gram(X, Y, X_offset)
            Xt = np.ascontiguousarray(X.T) if gram is None else None

        if self.warm_start and hasattr(self, "coef_"):
            if np.size(self.coef_) != n_targets * n_features:
                raise ValueError(
                    f"warm_start: the previous coef_ has shape {np.shape(self.coef_)}, "
                    f"which does not fit {n_targets} target(s) and {n_features} features."
                )
            coef = np.array(self.coef_, dtype=X.dtype).reshape(n_targets, n_features)
        else:
            coef = np.zeros((n_targets, n_features), dtype=X.dtype)

        random = self.selection == "random"
        max_iter = 1000 if self.max_iter is None else self.max_iter
        dual_gaps = np.zeros(n_targets, dtype=X.dtype)
        n_iters = []
        for k in range(n_targets):
            w = np.ascontiguousarray(coef[k])
            yk = np.ascontiguousarray(Y[:, k])
            Xy = None if XY is None else np.ascontiguousarray(XY[:, k])
            seed = _draw_seed(check_random_state(self.random_state), random)
            gap, n_iter = _enet_solve(
                w, self.alpha * l1_ratio * n_samples, self.alpha * (1.0 - l1_ratio) * n_samples,
                Xt, yk, gram, Xy, max_iter=max_iter, tol=self.tol, seed=seed, random=random,
                positive=self.positive, do_screening=True,
                y_norm2=None if y_norm2 is None else abs(y_norm2[k]),
            )
            coef[k] = w
            dual_gaps[k] = gap / n_samples
            n_iters.append(n_iter)

        if n_targets == 1:  # as scikit-learn, also for y of shape (n_samples, 1)
            self.coef_, self.dual_gap_, self.n_iter_ = coef[0], dual_gaps[0], n_iters[0]
            if y.ndim == 1 or not self.fit_intercept:
                Y_offset = Y_offset[0]
        else:
            self.coef_, self.dual_gap_, self.n_iter_ = coef, dual_gaps, n_iters
        self._set_intercept(X_offset, Y_offset)
        if not (np.all(np.isfinite(self.coef_)) and np.all(np.isfinite(self.intercept_))):
            raise ValueError(
                "Coordinate descent iterations resulted in non-finite parameter values. "
                "The input data may contain large values and need to be preprocessed."
            )
        return self

    def _gram(self, X, Y, X_offset):
        """Gram matrix and ``X^T Y`` of the centred data, or ``(None, None)``."""
        precompute = self.precompute
        if hasattr(precompute, "__array__"):
            if self.fit_intercept and not np.allclose(X_offset, 0.0):
                warnings.warn("Gram matrix was provided but X was centered to fit "
                              "intercept: recomputing Gram matrix.", UserWarning)
                precompute = True
            else:
                return _check_gram(precompute, X), X.T @ Y
        if precompute is True or (isinstance(precompute, np.bool_) and precompute):
            return np.ascontiguousarray(X.T @ X), X.T @ Y
        return None, None

    @property
    def sparse_coef_(self):
        """``coef_`` as a sparse CSR matrix of shape (n_targets, n_features)."""
        csr = sparse.csr_matrix(np.atleast_2d(self.coef_))
        try:
            from sklearn.utils._sparse import _align_api_if_sparse
        except ImportError:  # pragma: no cover - older scikit-learn
            return csr
        return _align_api_if_sparse(csr)

    _sparse_formats = SPARSE_PREDICT_FORMATS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Lasso(ElasticNet):
    r"""Linear regression with an L1 penalty (the lasso), by coordinate descent.

    Parameters
    ----------
    alpha : float, default=1.0
        Multiplier of the L1 penalty, non-negative. ``alpha=0`` is ordinary
        least squares (use :class:`LinearRegression`).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    precompute : bool or array-like of shape (n_features, n_features), default=False
        Run coordinate descent on the Gram matrix :math:`X^\top X` (see
        :class:`ElasticNet`).
    copy_X : bool, default=True
        If False, ``X`` may be overwritten (centred in place).
    max_iter : int, default=1000
        Maximum number of epochs.
    tol : float, default=1e-4
        Stopping tolerance on the duality gap, relative to :math:`\|y\|^2/n`
        (see :class:`ElasticNet`).
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Seeds the coordinate order when ``selection="random"``.
    selection : {"cyclic", "random"}, default="cyclic"
        Coordinate order.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weight vector(s).
    sparse_coef_ : sparse matrix of shape (1, n_features) or (n_targets, n_features)
        ``coef_`` as a CSR matrix.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    n_iter_ : int or list of int
        Epochs run by coordinate descent (one per target for a 2-D ``y``).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    ElasticNet : L1 and L2 penalties together.
    lasso_path : solutions along a grid of penalties.

    Notes
    -----
    Chapter 12 of the notes (the lasso). The lasso minimises

    .. math::

        \min_{w, b} \frac{1}{2n} \sum_{i=1}^n s_i (y_i - x_i^\top w - b)^2
        + \alpha \|w\|_1 ,

    the elastic net with ``l1_ratio=1``. With centred data, residual
    :math:`r = y - Xw` and :math:`a = n\alpha`, each coordinate step is a
    soft-thresholding,

    .. math::

        w_j \leftarrow \frac{S(x_j^\top r + \|x_j\|^2 w_j,\; a)}{\|x_j\|^2},
        \qquad S(z, a) = \operatorname{sign}(z)\max(|z| - a, 0),

    so on an orthonormal design the solution is the least-squares
    coefficients soft-thresholded at :math:`a`, and :math:`w = 0` exactly when
    :math:`\alpha \ge \max_j |x_j^\top y| / n`. The descent stops on the
    duality gap

    .. math::

        G = \tfrac12\|r\|^2 + a\|w\|_1 + \tfrac{s^2}{2}\|r\|^2 - s\, r^\top y,
        \qquad s = \min\!\left(1, \frac{a}{\|X^\top r\|_\infty}\right),

    once :math:`G \le` ``tol`` :math:`\|y\|^2` (see :class:`ElasticNet`).
    Sparse ``X`` is accepted and centred implicitly (see :class:`ElasticNet`).

    References
    ----------
    R. Tibshirani, "Regression shrinkage and selection via the lasso", *Journal
    of the Royal Statistical Society B* 58(1), 1996.

    Examples
    --------
    >>> from mlnotes.linear_model import Lasso
    >>> reg = Lasso(alpha=0.1).fit([[0, 0], [1, 1], [2, 2]], [0, 1, 2])
    >>> reg.coef_
    array([0.85, 0.  ])
    >>> round(float(reg.intercept_), 2)
    0.15
    """

    _parameter_constraints = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }

    path = staticmethod(enet_path)

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute=False, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic"):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
                         warm_start=warm_start, positive=positive,
                         random_state=random_state, selection=selection)
