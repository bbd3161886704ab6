r"""Kernel ridge regression: ridge regression in the feature space of a kernel (chapter 14)."""

import warnings
from numbers import Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..utils._validation import check_finite_result


def _kernel(X, Y, kernel, gamma, degree, coef0, kernel_params):
    """Gram matrix ``k(X, Y)`` through scikit-learn's :func:`pairwise_kernels`."""
    if callable(kernel):
        params = kernel_params or {}
    else:
        params = {"gamma": gamma, "degree": degree, "coef0": coef0}
    return pairwise_kernels(X, Y, metric=kernel, filter_params=True, **params)


def _solve_dual(K, Y, alpha, sample_weight=None, overwrite_K=False):
    r"""Dual coefficients :math:`A = (K + \alpha I)^{-1} Y` of kernel ridge regression.

    Parameters
    ----------
    K : ndarray of shape (n_samples, n_samples)
        Symmetric positive semi-definite Gram matrix of the training data.
    Y : ndarray of shape (n_samples, n_targets)
        Targets.
    alpha : ndarray of shape (n_targets,)
        Non-negative penalty of each target.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights :math:`s_i`; the system becomes
        :math:`(S^{1/2} K S^{1/2} + \alpha I) \tilde a = S^{1/2} y` with
        :math:`a = S^{1/2} \tilde a`.
    overwrite_K : bool, default=False
        Whether ``K`` may be destroyed (one Cholesky factorisation runs in it).

    Returns
    -------
    dual_coef : ndarray of shape (n_samples, n_targets)
    """
    n_samples = K.shape[0]
    dtype = np.result_type(K.dtype, Y.dtype, np.float32)
    if not overwrite_K or K.dtype != dtype:
        K = np.array(K, dtype=dtype, order="C")
    if sample_weight is not None:
        sw = np.sqrt(sample_weight).astype(dtype, copy=False)
        K *= sw[:, None]
        K *= sw[None, :]
        Y = Y * sw[:, None]
    Y = Y.astype(dtype, copy=False)
    diag = np.arange(n_samples)
    k_diag = K[diag, diag].copy()
    if np.all(alpha == alpha[0]):
        groups = [(alpha[0], slice(None))]
    else:
        groups = [(a, slice(j, j + 1)) for j, a in enumerate(alpha)]
    dual = np.empty((n_samples, Y.shape[1]), dtype=dtype)
    for g, (a, cols) in enumerate(groups):
        # The last system is factorised in K itself (no n^2 copy).
        A = K if g == len(groups) - 1 else K.copy()
        A[diag, diag] = k_diag + a
        # A is symmetric, so A.T is the same matrix in Fortran order: LAPACK's potrf
        # then works in place and leaves the other triangle untouched.
        F = A.T
        try:
            factor = linalg.cho_factor(F, lower=True, overwrite_a=True, check_finite=False)
        except linalg.LinAlgError:
            warnings.warn("Singular matrix in solving dual problem. Using least-squares "
                          "solution instead.")
            full = np.triu(F, 1)
            full += full.T
            full[diag, diag] = k_diag + a
            dual[:, cols] = linalg.lstsq(full, Y[:, cols], check_finite=False)[0]
        else:
            dual[:, cols] = linalg.cho_solve(factor, Y[:, cols], check_finite=False)
    if sample_weight is not None:
        dual *= sw[:, None]
    return dual


class KernelRidge(MultiOutputMixin, RegressorMixin, BaseEstimator):
    r"""Kernel ridge regression: ridge regression with the kernel trick.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1
        Non-negative strength of the penalty :math:`\alpha \|f\|^2_{\mathcal H}`; an
        array gives one penalty per target. ``alpha=0`` interpolates the training
        data when the Gram matrix is invertible (a singular system falls back to
        least squares with a warning).
    kernel : str or callable, default="linear"
        The kernel :math:`k`: ``"linear"``, ``"poly"``/``"polynomial"``, ``"rbf"``,
        ``"laplacian"``, ``"sigmoid"``, ``"cosine"``, ``"chi2"``,
        ``"additive_chi2"`` (scikit-learn's
        :func:`~mlnotes.metrics.pairwise.pairwise_kernels`), ``"precomputed"``
        (``X`` is then the Gram matrix), or a callable ``k(x, z) -> float`` on two
        rows.
    gamma : float, default=None
        :math:`\gamma` of the rbf, laplacian, poly, chi2 and sigmoid kernels;
        None lets the kernel choose (:math:`1 / n_\text{features}`).
    degree : float, default=3
        Degree :math:`d` of the polynomial kernel.
    coef0 : float, default=1
        :math:`c_0` of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Keyword arguments of a callable kernel.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        The dual coefficients :math:`a`: the prediction is
        :math:`f(x) = \sum_i a_i k(x_i, x)`.
    X_fit_ : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data (the Gram matrix when ``kernel="precomputed"``), needed to
        predict.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    mlnotes.linear_model.Ridge : the same penalty on a linear model, in the primal.
    mlnotes.svm.SVR : the epsilon-insensitive loss with the same kernels.

    Notes
    -----
    Chapter 14 of the notes (the kernel trick). Ridge regression in a feature space
    :math:`\phi` with kernel :math:`k(x, z) = \langle\phi(x), \phi(z)\rangle`
    minimises, with sample weights :math:`s_i`,

    .. math::

        \min_{f \in \mathcal H} \sum_{i=1}^n s_i \big(y_i - f(x_i)\big)^2
        + \alpha \|f\|_{\mathcal H}^2 .

    By the **representer theorem** the minimiser is a combination of the kernel
    functions at the training points, :math:`f(x) = \sum_i a_i k(x_i, x)`, so the
    problem needs only the Gram matrix :math:`K_{ij} = k(x_i, x_j)`: this is the
    kernel trick. With :math:`S = \mathrm{diag}(s)` the dual solution is

    .. math::

        a = S^{1/2} \big(S^{1/2} K S^{1/2} + \alpha I\big)^{-1} S^{1/2} y ,
        \qquad\text{i.e.}\quad a = (K + \alpha I)^{-1} y \text{ without weights},

    the dual form of the ridge solution
    :math:`w = (X^\top X + \alpha I)^{-1} X^\top y = X^\top (X X^\top + \alpha I)^{-1} y`
    with :math:`X X^\top` replaced by :math:`K`. It is solved by one Cholesky
    factorisation (:math:`O(n^3)`), done in place in the Gram matrix. There is
    no intercept: centre ``y`` or add a constant to the kernel.

    References
    ----------
    K. P. Murphy, *Machine Learning: A Probabilistic Perspective*, MIT Press, 2012,
    section 14.4.3.

    B. Schölkopf, R. Herbrich and A. J. Smola, "A generalized representer theorem",
    *COLT*, 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.kernel_ridge import KernelRidge
    >>> X = np.linspace(0, 3, 20)[:, None]
    >>> y = np.sin(X).ravel()
    >>> krr = KernelRidge(alpha=1e-3, kernel="rbf", gamma=1.0).fit(X, y)
    >>> bool(abs(krr.predict([[1.5]])[0] - np.sin(1.5)) < 1e-2)
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "kernel": [
            StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS) | {"precomputed"}),
            callable,
        ],
        "gamma": [Interval(Real, 0, None, closed="left"), None],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "kernel_params": [dict, None],
    }

    def __init__(self, alpha=1, *, kernel="linear", gamma=None, degree=3, coef0=1,
                 kernel_params=None):
        self.alpha = alpha
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params

    def _kernel_name(self):
        return repr(self.kernel) if isinstance(self.kernel, str) else "callable"

    def _get_kernel(self, X, Y=None):
        return _kernel(X, Y, self.kernel, self.gamma, self.degree, self.coef0,
                       self.kernel_params)

    def fit(self, X, y, sample_weight=None):
        """Fit kernel ridge regression.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; the ``(n_samples, n_samples)`` Gram matrix when
            ``kernel="precomputed"``.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), multi_output=True,
                             y_numeric=True)
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"With kernel='precomputed', X must be the square Gram matrix of the "
                f"training samples; got shape {X.shape}."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
        alpha = np.atleast_1d(np.asarray(self.alpha, dtype=np.float64)).ravel()
        if np.any(alpha < 0):
            raise ValueError(f"alpha must be non-negative; got {self.alpha!r}.")
        Y = y.reshape(y.shape[0], -1)
        if alpha.size not in (1, Y.shape[1]):
            raise ValueError(
                f"Number of targets and number of penalties do not correspond: "
                f"{Y.shape[1]} != {alpha.size}."
            )
        K = self._get_kernel(X)
        # Overflow (e.g. a linear kernel of values near 1e300) is an error, not NaN
        # dual coefficients (scikit-learn's Cholesky refuses the non-finite matrix).
        check_finite_result(K, f"the {self._kernel_name()} kernel matrix of the training data",
                            self, X)
        # A kernel we computed is ours to overwrite; a precomputed one is the user's.
        dual = _solve_dual(K, Y, alpha, sample_weight,
                           overwrite_K=self.kernel != "precomputed")
        check_finite_result(dual, "the dual coefficients", self, X)
        self.dual_coef_ = dual.ravel() if y.ndim == 1 else dual
        self.X_fit_ = X
        return self

    def predict(self, X):
        """Predict with the kernel expansion :math:`f(x) = \\sum_i a_i k(x_i, x)`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples; the ``(n_samples, n_samples_fitted)`` kernel between them and
            the training samples when ``kernel="precomputed"``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)
        if self.kernel == "precomputed" and X.shape[1] != self.X_fit_.shape[0]:
            raise ValueError(
                f"With kernel='precomputed', X must have one column per training "
                f"sample ({self.X_fit_.shape[0]}); got shape {X.shape}."
            )
        K = self._get_kernel(X, self.X_fit_)
        check_finite_result(K, f"the {self._kernel_name()} kernel between X and the training data",
                            self, X)
        with np.errstate(over="ignore", invalid="ignore"):
            y_pred = K @ self.dual_coef_
        return check_finite_result(y_pred, "the prediction", self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
