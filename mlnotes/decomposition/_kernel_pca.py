r"""Kernel PCA: PCA in the feature space of a kernel (chapters 14 and 18 of the notes)."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.sparse.linalg import eigsh
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.linalg import eigh_sorted
from ._pca import _flip_columns, _randomized_svd
from mlnotes.utils._random import check_random_state


def _center_gram(K):
    r"""Double-centre a square Gram matrix in place: :math:`H K H`, :math:`H = I - \frac1n 11^\top`.

    Returns ``(K, column means, grand mean)``; the means centre later kernels.
    """
    n = K.shape[0]
    col_means = K.sum(axis=0) / n
    all_mean = col_means.sum() / n
    row_means = K.sum(axis=1) / n  # equal to col_means for a symmetric K
    K -= col_means[None, :]
    K -= row_means[:, None]
    K += all_mean
    return K, col_means, all_mean


def _clean_spectrum(eigenvalues):
    """Zero the eigenvalues a PSD matrix has only through rounding; reject real negatives.

    The thresholds of scikit-learn's ``_check_psd_eigenvalues``: an eigenvalue below
    ``-1e-5`` times the largest (and below ``-1e-10``) means the kernel is not
    positive semi-definite; smaller negative ones, and positive ones below
    ``1e-12`` times the largest, are rounding noise and become 0 (float32:
    ``5e-3``, ``1e-6`` and ``2e-7``).
    """
    lam = np.array(eigenvalues)
    double = lam.dtype == np.float64
    neg_ratio, neg_value = (1e-5, 1e-10) if double else (5e-3, 1e-6)
    small_ratio = 1e-12 if double else 2e-7
    largest = lam.max()
    if largest < 0:
        raise ValueError(
            f"All eigenvalues are negative (maximum is {largest:g}). Either the matrix "
            "is not PSD, or there was an issue while computing the eigendecomposition "
            "of the matrix."
        )
    smallest = lam.min()
    if smallest < -neg_ratio * largest and smallest < -neg_value:
        raise ValueError(
            f"There are significant negative eigenvalues ({-smallest / largest:g} of the "
            "maximum positive). Either the matrix is not PSD, or there was an issue "
            "while computing the eigendecomposition of the matrix."
        )
    lam[lam < 0] = 0
    lam[(lam > 0) & (lam < small_ratio * largest)] = 0
    return lam


class KernelPCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Kernel principal component analysis.

    PCA of the data mapped into the feature space of a kernel, computed from the
    centred Gram matrix alone (the kernel trick).

    See the :ref:`User Guide <user-guide-decomposition>`.

    Parameters
    ----------
    n_components : int, default=None
        Number of components; None keeps every component of non-zero eigenvalue.
    kernel : {"linear", "poly", "rbf", "sigmoid", "cosine", "precomputed"} or \
            callable, default="linear"
        The kernel (scikit-learn's :func:`~mlnotes.metrics.pairwise.pairwise_kernels`);
        with "precomputed", ``X`` is the Gram matrix.
    gamma : float, default=None
        :math:`\gamma` of the rbf, poly and sigmoid kernels; None means
        :math:`1 / n_\text{features}`.
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        :math:`c_0` of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Keyword arguments of a callable kernel.
    alpha : float, default=1.0
        Ridge penalty of the pre-image regression (``fit_inverse_transform``).
    fit_inverse_transform : bool, default=False
        Learn an approximate inverse map by kernel ridge regression of the
        training data on their projections (Bakır et al.).
    eigen_solver : {"auto", "dense", "arpack", "randomized"}, default="auto"
        "dense": LAPACK's symmetric eigensolver for the wanted eigenpairs;
        "arpack": Lanczos (:func:`scipy.sparse.linalg.eigsh`); "randomized":
        Halko et al.'s randomised method. "auto": "arpack" when there are more
        than 200 samples and fewer than 10 components (scikit-learn's rule) or at
        most ``n_samples / 20`` components (an extension: with ``tol=0`` Lanczos
        gives LAPACK's eigenpairs to rounding, several times faster), otherwise
        "dense".
    tol : float, default=0
        Convergence tolerance of "arpack" (0: machine precision).
    max_iter : int, default=None
        Iteration limit of "arpack".
    iterated_power : int or "auto", default="auto"
        Power iterations of "randomized".
    remove_zero_eig : bool, default=False
        Drop the components of zero eigenvalue (always done when ``n_components``
        is None).
    random_state : int, RandomState instance or None, default=None
        Seed of "arpack"'s start vector and "randomized"'s directions (None:
        fresh entropy; NumPy's global generator is never used).
    copy_X : bool, default=True
        Store a copy of ``X`` (else a reference) in ``X_fit_``.
    n_jobs : int, default=None
        Jobs for computing the kernel (scikit-learn's ``pairwise_kernels``).

    Attributes
    ----------
    eigenvalues_ : ndarray of shape (n_components,)
        Eigenvalues of the centred Gram matrix, decreasing.
    eigenvectors_ : ndarray of shape (n_samples, n_components)
        Unit eigenvectors of the centred Gram matrix, each column's entry of
        largest magnitude positive.
    dual_coef_ : ndarray of shape (n_samples, n_features)
        Coefficients of the pre-image regression (``fit_inverse_transform``).
    X_transformed_fit_ : ndarray of shape (n_samples, n_components)
        Projections of the training data (``fit_inverse_transform``).
    X_fit_ : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, needed to transform.
    gamma_ : float
        The :math:`\gamma` used.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    PCA : the linear case, from the data matrix.

    Notes
    -----
    Chapters 14 and 18 of the notes. PCA in the feature space :math:`\phi` needs the
    eigenvectors of the covariance :math:`\frac1n \sum_i \tilde\phi(x_i)
    \tilde\phi(x_i)^\top` of the centred features
    :math:`\tilde\phi(x) = \phi(x) - \frac1n\sum_j \phi(x_j)`. Each lies in the span
    of the :math:`\tilde\phi(x_i)`, :math:`v = \sum_i a_i \tilde\phi(x_i)`, which turns
    the problem into the eigenproblem of the **centred kernel matrix**

    .. math::

        \tilde K = H K H , \qquad H = I - \tfrac1n \mathbf 1 \mathbf 1^\top , \qquad
        \tilde K_{ij} = K_{ij} - \bar K_{i\cdot} - \bar K_{\cdot j} + \bar K_{\cdot\cdot} ,

    :math:`\tilde K a = \lambda a`. Unit length of :math:`v` requires
    :math:`\|a\|^2 = 1/\lambda`, so with unit eigenvectors :math:`u_k` of
    :math:`\tilde K` the projection of a point is

    .. math::

        z_k(x) = \langle v_k, \tilde\phi(x) \rangle
               = \frac{1}{\sqrt{\lambda_k}} \sum_{i=1}^n u_{ik}\, \tilde k(x_i, x) ,

    and the training points project to :math:`\sqrt{\lambda_k}\, u_k`. With the
    linear kernel this is PCA: :math:`\tilde K = X_c X_c^\top = U S^2 U^\top` (the
    SVD relation), and :math:`z = U S`.

    References
    ----------
    B. Schölkopf, A. Smola and K.-R. Müller, "Kernel principal component analysis",
    *ICANN*, 1997.

    G. H. Bakır, J. Weston and B. Schölkopf, "Learning to find pre-images",
    *NeurIPS*, 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.decomposition import PCA, KernelPCA
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(20, 3)
    >>> Z = KernelPCA(n_components=2).fit_transform(X)
    >>> np.allclose(np.abs(Z), np.abs(PCA(n_components=2).fit_transform(X)))
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "kernel": [
            StrOptions({"linear", "poly", "rbf", "sigmoid", "cosine", "precomputed"}),
            callable,
        ],
        "gamma": [Interval(Real, 0, None, closed="left"), None],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "kernel_params": [dict, None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_inverse_transform": ["boolean"],
        "eigen_solver": [StrOptions({"auto", "dense", "arpack", "randomized"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "iterated_power": [Interval(Integral, 0, None, closed="left"),
                           StrOptions({"auto"})],
        "remove_zero_eig": ["boolean"],
        "random_state": ["random_state"],
        "copy_X": ["boolean"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, n_components=None, *, kernel="linear", gamma=None, degree=3,
                 coef0=1, kernel_params=None, alpha=1.0, fit_inverse_transform=False,
                 eigen_solver="auto", tol=0, max_iter=None, iterated_power="auto",
                 remove_zero_eig=False, random_state=None, copy_X=True, n_jobs=None):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.alpha = alpha
        self.fit_inverse_transform = fit_inverse_transform
        self.eigen_solver = eigen_solver
        self.tol = tol
        self.max_iter = max_iter
        self.iterated_power = iterated_power
        self.remove_zero_eig = remove_zero_eig
        self.random_state = random_state
        self.copy_X = copy_X
        self.n_jobs = n_jobs

    def _get_kernel(self, X, Y=None):
        if callable(self.kernel):
            params = self.kernel_params or {}
        else:
            params = {"gamma": self.gamma_, "degree": self.degree, "coef0": self.coef0}
        return pairwise_kernels(X, Y, metric=self.kernel, filter_params=True,
                                n_jobs=self.n_jobs, **params)

    def _eigen(self, K, n_components):
        """Leading eigenpairs of the centred Gram matrix ``K`` (sorted, signs fixed)."""
        n = K.shape[0]
        solver = self.eigen_solver
        if solver == "auto":
            # scikit-learn: arpack only below 10 components. Lanczos to machine
            # precision (tol=0) agrees with LAPACK to rounding and stays faster than the
            # full tridiagonal reduction up to about n / 20 components.
            few = n_components < 10 or n_components <= n // 20
            solver = "arpack" if n > 200 and few else "dense"
        if solver == "dense":
            values, vectors = eigh_sorted(K, n_components)
            values, vectors = values.astype(K.dtype), vectors.astype(K.dtype)
        elif solver == "arpack":
            v0 = check_random_state(self.random_state).uniform(-1, 1, n)
            values, vectors = eigsh(K, n_components, which="LA", tol=self.tol,
                                    maxiter=self.max_iter, v0=v0)
        else:  # randomized, "module" selection: largest |eigenvalue|, signed
            U, s, Vt = _randomized_svd(K, n_components, n_iter=self.iterated_power,
                                       random_state=check_random_state(self.random_state))
            values = s * np.sign(np.einsum("ji,ij->j", Vt, U))
            vectors = U
        values = _clean_spectrum(values)
        _flip_columns(vectors)
        order = values.argsort()[::-1]
        return values[order], np.ascontiguousarray(vectors[:, order])

    def fit(self, X, y=None):
        """Fit kernel PCA on ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; the ``(n_samples, n_samples)`` Gram matrix when
            ``kernel="precomputed"``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X)
        return self

    def _fit(self, X):
        self._validate_params()
        if self.fit_inverse_transform and self.kernel == "precomputed":
            raise ValueError("Cannot fit_inverse_transform with a precomputed kernel.")
        X = validate_data(self, X, accept_sparse="csr", copy=self.copy_X)
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"With kernel='precomputed', X must be the square Gram matrix of the "
                f"training samples; got shape {X.shape}."
            )
        self.gamma_ = 1 / X.shape[1] if self.gamma is None else self.gamma
        K = self._get_kernel(X)
        if K is X or np.shares_memory(K, X):
            K = K.copy()  # X_fit_ keeps the (uncentred) precomputed kernel
        K = np.asarray(K)
        if not np.issubdtype(K.dtype, np.floating):
            K = K.astype(np.float64)
        n_components = (K.shape[0] if self.n_components is None
                        else min(K.shape[0], self.n_components))
        K, self._K_fit_rows, self._K_fit_all = _center_gram(K)
        values, vectors = self._eigen(K, n_components)
        if self.remove_zero_eig or self.n_components is None:
            keep = values > 0
            values, vectors = values[keep], vectors[:, keep]
        self.eigenvalues_ = values
        self.eigenvectors_ = vectors
        self.X_fit_ = X
        X_transformed = vectors * np.sqrt(values)
        if self.fit_inverse_transform:
            self._fit_inverse(X_transformed, X)
        return X_transformed

    def _fit_inverse(self, X_transformed, X):
        if sp.issparse(X):
            raise NotImplementedError(
                "Inverse transform not implemented for sparse matrices!"
            )
        n = X_transformed.shape[0]
        K = self._get_kernel(X_transformed)
        K.flat[:: n + 1] += self.alpha
        self.dual_coef_ = linalg.solve(K, X, assume_a="pos", overwrite_a=True)
        self.X_transformed_fit_ = X_transformed

    def fit_transform(self, X, y=None, **params):
        """Fit kernel PCA and return the projections of the training data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.
        **params : dict
            Ignored (scikit-learn's signature).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            :math:`\\sqrt{\\lambda_k}\\, u_k`, without recomputing the kernel.
        """
        return self._fit(X)

    def transform(self, X):
        """Project ``X`` on the kernel principal components.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; the ``(n_samples, n_samples_fitted)`` kernel against the
            training data when ``kernel="precomputed"``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Projections :math:`\\tilde K(X, X_{fit})\\, u_k / \\sqrt{\\lambda_k}`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        K = np.asarray(self._get_kernel(X, self.X_fit_))
        nonzero = self.eigenvalues_ > 0
        A = np.zeros_like(self.eigenvectors_)
        A[:, nonzero] = self.eigenvectors_[:, nonzero] / np.sqrt(self.eigenvalues_[nonzero])
        # (K - 1 r^T - c 1^T + a 11^T) A without forming the centred kernel
        row_means = K.sum(axis=1) / self._K_fit_rows.shape[0]
        Z = K @ A
        Z -= (self._K_fit_rows @ A)[None, :]
        Z -= (row_means - self._K_fit_all)[:, None] * A.sum(axis=0)[None, :]
        return Z

    def inverse_transform(self, X):
        """Approximate pre-images of projections (needs ``fit_inverse_transform``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Projections.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Kernel ridge regression :math:`k(X, Z_{fit}) (K_Z + \\alpha I)^{-1}
            X_{fit}` of the training data on their projections. The mean of the
            features is not modelled (the kernel was centred).
        """
        if not self.fit_inverse_transform:
            raise NotFittedError(
                "The fit_inverse_transform parameter was not set to True when "
                "instantiating and hence the inverse transform is not available."
            )
        check_is_fitted(self)
        K = self._get_kernel(X, self.X_transformed_fit_)
        return K @ self.dual_coef_

    @property
    def _n_features_out(self):
        return self.eigenvalues_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
