r"""Random projections and the Johnson-Lindenstrauss lemma (chapter 21 of the notes)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy import linalg
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import DataDimensionalityWarning
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import check_array, check_is_fitted, validate_data


@validate_params(
    {
        "n_samples": ["array-like", Interval(Real, 1, None, closed="left")],
        "eps": ["array-like", Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def johnson_lindenstrauss_min_dim(n_samples, *, eps=0.1):
    r"""Smallest target dimension the Johnson-Lindenstrauss lemma guarantees.

    Parameters
    ----------
    n_samples : int or array-like of int
        Number of points to embed (greater than 0). Arrays broadcast with ``eps``.
    eps : float or array-like of float, default=0.1
        Allowed distortion, in ``(0, 1)``.

    Returns
    -------
    n_components : int or ndarray of int
        :math:`\lfloor 4 \ln n / (\varepsilon^2/2 - \varepsilon^3/3) \rfloor`.

    Notes
    -----
    Chapter 21 of the notes (high-dimensional geometry). **Johnson-Lindenstrauss
    lemma**: for any :math:`n` points of :math:`\mathbb R^p` and
    :math:`\varepsilon \in (0, 1)`, a random linear map :math:`f(x) = R x` with
    :math:`R \in \mathbb R^{k \times p}` of i.i.d. :math:`\mathcal N(0, 1/k)`
    entries satisfies, for all pairs at once,

    .. math::

        (1 - \varepsilon) \|u - v\|^2 \le \|f(u) - f(v)\|^2 \le
        (1 + \varepsilon) \|u - v\|^2

    with probability at least :math:`1 - 1/n` as soon as

    .. math::

        k \ge \frac{4 \ln n}{\varepsilon^2 / 2 - \varepsilon^3 / 3} .

    The proof (Dasgupta and Gupta) bounds, for one pair, the chi-square tail
    :math:`P(|\,\|f(w)\|^2 / \|w\|^2 - 1| > \varepsilon) \le
    2 e^{-k(\varepsilon^2/2 - \varepsilon^3/3)/2}` and takes a union bound over the
    :math:`\binom n2` pairs. The dimension depends on the number of points, not on
    :math:`p`.

    References
    ----------
    S. Dasgupta and A. Gupta, "An elementary proof of a theorem of Johnson and
    Lindenstrauss", *Random Structures and Algorithms* 22(1), 2003.

    Examples
    --------
    >>> from mlnotes.random_projection import johnson_lindenstrauss_min_dim
    >>> int(johnson_lindenstrauss_min_dim(1e6, eps=0.5))
    663
    >>> johnson_lindenstrauss_min_dim([1e4, 1e5, 1e6], eps=0.1)
    array([ 7894,  9868, 11841])
    """
    eps = np.asarray(eps)
    n_samples = np.asarray(n_samples)
    if np.any(eps <= 0.0) or np.any(eps >= 1):
        raise ValueError(f"The JL bound is defined for eps in ]0, 1[, got {eps!r}")
    if np.any(n_samples <= 0):
        raise ValueError(
            f"The JL bound is defined for n_samples greater than zero, got {n_samples!r}"
        )
    return _jl_min_dim(n_samples, eps)


def _jl_min_dim(n_samples, eps):
    denominator = eps**2 / 2 - eps**3 / 3
    return (4 * np.log(n_samples) / denominator).astype(np.int64)


def _sparse_interface(M):
    """A CSR matrix in the sparse interface scikit-learn's config asks for."""
    if get_config().get("sparse_interface", "spmatrix") == "sparray":
        return sp.csr_array(M)
    return sp.csr_matrix(M)


@njit(cache=True)
def _sparse_project(X, indptr, indices, data, out):
    """``out = X @ C.T`` for dense ``X`` and CSR ``C`` (rows of ``C`` are components).

    Eight rows of ``X`` at a time: each non-zero of ``C`` is read once per eight rows,
    and those rows stay in cache while every component gathers its columns from them.
    """
    n = X.shape[0]
    k = indptr.shape[0] - 1
    n8 = n - n % 8
    for r in range(0, n8, 8):
        for i in range(k):
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
            for jj in range(indptr[i], indptr[i + 1]):
                j = indices[jj]
                v = data[jj]
                s0 += v * X[r, j]
                s1 += v * X[r + 1, j]
                s2 += v * X[r + 2, j]
                s3 += v * X[r + 3, j]
                s4 += v * X[r + 4, j]
                s5 += v * X[r + 5, j]
                s6 += v * X[r + 6, j]
                s7 += v * X[r + 7, j]
            out[r, i] = s0
            out[r + 1, i] = s1
            out[r + 2, i] = s2
            out[r + 3, i] = s3
            out[r + 4, i] = s4
            out[r + 5, i] = s5
            out[r + 6, i] = s6
            out[r + 7, i] = s7
    for r in range(n8, n):
        for i in range(k):
            s0 = 0.0
            for jj in range(indptr[i], indptr[i + 1]):
                s0 += data[jj] * X[r, indices[jj]]
            out[r, i] = s0
    return out


def _gaussian_random_matrix(n_components, n_features, rng):
    r"""Dense :math:`(k, p)` matrix of i.i.d. :math:`\mathcal N(0, 1/k)` entries."""
    return rng.normal(loc=0.0, scale=1.0 / np.sqrt(n_components),
                      size=(n_components, n_features))


def _sparse_random_matrix(n_components, n_features, density, rng):
    r"""Li et al.'s very sparse matrix: :math:`\pm\sqrt{s/k}` w.p. :math:`1/(2s)` each, else 0.

    ``s = 1 / density``. Row ``i`` gets :math:`\mathrm{Binomial}(p, 1/s)` non-zeros
    at uniformly chosen columns with random signs. The draws are made in the order
    scikit-learn makes them, so the same seed gives the same matrix.
    """
    if density == 1:
        signs = rng.binomial(1, 0.5, (n_components, n_features)) * 2 - 1
        return signs / np.sqrt(n_components)
    indptr = np.zeros(n_components + 1, dtype=np.int64)
    chunks = []
    for i in range(n_components):
        nnz_i = rng.binomial(n_features, density)
        chunks.append(sample_without_replacement(n_features, nnz_i, random_state=rng))
        indptr[i + 1] = indptr[i] + nnz_i
    indices = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    signs = rng.binomial(1, 0.5, size=indices.size) * 2 - 1
    data = signs * (np.sqrt(1 / density) / np.sqrt(n_components))
    M = sp.csr_matrix((data, indices, indptr), shape=(n_components, n_features))
    return _sparse_interface(M)


class _BaseRandomProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                            BaseEstimator):
    """Shared fit / inverse_transform of the random projections."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "compute_inverse_components": ["boolean"],
        "random_state": ["random_state"],
    }

    def fit(self, X, y=None):
        """Draw the random matrix for data of the shape of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: only its shape is used (``n_samples`` sets the
            dimension when ``n_components="auto"``).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32])
        n_samples, n_features = X.shape
        if self.n_components == "auto":
            self.n_components_ = int(johnson_lindenstrauss_min_dim(n_samples=n_samples,
                                                                   eps=self.eps))
            if self.n_components_ <= 0:
                raise ValueError(
                    f"eps={self.eps:f} and n_samples={n_samples} lead to a target "
                    f"dimension of {self.n_components_} which is invalid"
                )
            if self.n_components_ > n_features:
                raise ValueError(
                    f"eps={self.eps:f} and n_samples={n_samples} lead to a target "
                    f"dimension of {self.n_components_} which is larger than the "
                    f"original space with n_features={n_features}"
                )
        else:
            if self.n_components > n_features:
                warnings.warn(
                    "The number of components is higher than the number of features: "
                    f"n_features < n_components ({n_features} < {self.n_components})."
                    "The dimensionality of the problem will not be reduced.",
                    DataDimensionalityWarning,
                )
            self.n_components_ = self.n_components
        rng = check_random_state(self.random_state)
        self.components_ = self._make_random_matrix(self.n_components_, n_features,
                                                    rng).astype(X.dtype, copy=False)
        if self.compute_inverse_components:
            self.inverse_components_ = self._compute_inverse_components()
        return self

    def _compute_inverse_components(self):
        components = self.components_
        if sp.issparse(components):
            components = components.toarray()
        return linalg.pinv(components, check_finite=False)

    def inverse_transform(self, X):
        """Map projections back with the pseudo-inverse of the components.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_components)
            Projected data.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            :math:`z \\mapsto R^+ z`: the point of least norm that projects to
            ``z`` (dense, even for sparse input).
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32], accept_sparse=("csr", "csc"))
        inverse = (self.inverse_components_ if self.compute_inverse_components
                   else self._compute_inverse_components())
        out = X @ inverse.T
        return _sparse_interface(out) if sp.issparse(out) else out

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags


_DOC_NOTES = r"""
    Chapter 21 of the notes (high-dimensional geometry). A random linear map
    :math:`f(x) = R x`, :math:`R \in \mathbb R^{k \times p}`, with independent
    entries of mean 0 and variance :math:`1/k` preserves squared norms in
    expectation, :math:`E\|R w\|^2 = \|w\|^2`, and concentrates: the
    **Johnson-Lindenstrauss lemma** says that for :math:`n` points and
    :math:`k \ge 4 \ln n / (\varepsilon^2/2 - \varepsilon^3/3)` (see
    :func:`johnson_lindenstrauss_min_dim`), with probability at least
    :math:`1 - 1/n` every pair satisfies

    .. math::

        (1 - \varepsilon) \|u - v\|^2 \le \|R u - R v\|^2 \le
        (1 + \varepsilon) \|u - v\|^2 .
"""


class GaussianRandomProjection(_BaseRandomProjection):
    __doc__ = r"""Reduce dimensionality by a Gaussian random projection.

    The projection matrix has i.i.d. :math:`\mathcal N(0, 1/k)` entries.

    See the :ref:`User Guide <user-guide-decomposition>`.

    Parameters
    ----------
    n_components : int or "auto", default="auto"
        Target dimension :math:`k`; "auto" takes the Johnson-Lindenstrauss bound
        for ``n_samples`` points and distortion ``eps``.
    eps : float, default=0.1
        Distortion of the Johnson-Lindenstrauss bound when ``n_components="auto"``.
    compute_inverse_components : bool, default=False
        Compute the pseudo-inverse of the components in ``fit`` (else in each
        ``inverse_transform``).
    random_state : int, RandomState instance or None, default=None
        Seed of the matrix; the same seed gives scikit-learn's matrix (None:
        fresh entropy; NumPy's global generator is never used).

    Attributes
    ----------
    n_components_ : int
        The target dimension used.
    components_ : ndarray of shape (n_components, n_features)
        The random matrix :math:`R`.
    inverse_components_ : ndarray of shape (n_features, n_components)
        Pseudo-inverse of the components (``compute_inverse_components``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SparseRandomProjection : a sparse matrix, cheaper to apply.
    johnson_lindenstrauss_min_dim : the dimension the lemma asks for.

    Notes
    -----""" + _DOC_NOTES + r"""
    References
    ----------
    S. Dasgupta and A. Gupta, "An elementary proof of a theorem of Johnson and
    Lindenstrauss", *Random Structures and Algorithms* 22(1), 2003.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.random_projection import GaussianRandomProjection
    >>> rng = np.random.RandomState(42)
    >>> X = rng.rand(25, 3000)
    >>> GaussianRandomProjection(random_state=rng).fit_transform(X).shape
    (25, 2759)
    """

    def __init__(self, n_components="auto", *, eps=0.1, compute_inverse_components=False,
                 random_state=None):
        self.n_components = n_components
        self.eps = eps
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state

    def _make_random_matrix(self, n_components, n_features, rng):
        return _gaussian_random_matrix(n_components, n_features, rng)

    def transform(self, X):
        """Project ``X``: :math:`x \\mapsto R x`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Projected data.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=[np.float64, np.float32])
        return np.asarray(X @ self.components_.T)


class SparseRandomProjection(_BaseRandomProjection):
    __doc__ = r"""Reduce dimensionality by a sparse random projection (Achlioptas, Li et al.).

    With :math:`s = 1 / \text{density}`, the entries of the projection matrix are
    :math:`+\sqrt{s/k}` and :math:`-\sqrt{s/k}` with probability :math:`1/(2s)`
    each and 0 otherwise: the same mean and variance as the Gaussian matrix, with
    a fraction ``density`` of non-zeros.

    See the :ref:`User Guide <user-guide-decomposition>`.

    Parameters
    ----------
    n_components : int or "auto", default="auto"
        Target dimension :math:`k`; "auto" takes the Johnson-Lindenstrauss bound
        for ``n_samples`` points and distortion ``eps``.
    density : float or "auto", default="auto"
        Fraction of non-zero entries, in ``(0, 1]``; "auto" is
        :math:`1/\sqrt{n_\text{features}}` (Li et al.), 1/3 is Achlioptas' matrix.
    eps : float, default=0.1
        Distortion of the Johnson-Lindenstrauss bound when ``n_components="auto"``.
    dense_output : bool, default=False
        Return a dense array even for sparse input (dense input always gives
        dense output).
    compute_inverse_components : bool, default=False
        Compute the pseudo-inverse of the components in ``fit`` (else in each
        ``inverse_transform``).
    random_state : int, RandomState instance or None, default=None
        Seed of the matrix; the same seed gives scikit-learn's matrix (None:
        fresh entropy; NumPy's global generator is never used).

    Attributes
    ----------
    n_components_ : int
        The target dimension used.
    components_ : sparse matrix of shape (n_components, n_features)
        The random matrix :math:`R` in CSR format (dense when ``density=1``).
    inverse_components_ : ndarray of shape (n_features, n_components)
        Pseudo-inverse of the components (``compute_inverse_components``).
    density_ : float
        The density used.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    GaussianRandomProjection : the dense Gaussian matrix.
    johnson_lindenstrauss_min_dim : the dimension the lemma asks for.

    Notes
    -----""" + _DOC_NOTES + r"""
    The sparse matrix satisfies the same bound (Achlioptas) and costs
    :math:`O(\text{density} \cdot k p)` per point; dense input is projected by a
    compiled kernel that gathers the non-zero columns of each component.

    References
    ----------
    D. Achlioptas, "Database-friendly random projections", *PODS*, 2001.

    P. Li, T. J. Hastie and K. W. Church, "Very sparse random projections",
    *KDD*, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.random_projection import SparseRandomProjection
    >>> rng = np.random.RandomState(42)
    >>> X = rng.rand(25, 3000)
    >>> transformer = SparseRandomProjection(random_state=rng).fit(X)
    >>> transformer.transform(X).shape
    (25, 2759)
    >>> round(float(transformer.density_), 4)
    0.0183
    """

    _parameter_constraints = {
        **_BaseRandomProjection._parameter_constraints,
        "density": [Interval(Real, 0.0, 1.0, closed="right"), StrOptions({"auto"})],
        "dense_output": ["boolean"],
    }

    def __init__(self, n_components="auto", *, density="auto", eps=0.1,
                 dense_output=False, compute_inverse_components=False,
                 random_state=None):
        self.n_components = n_components
        self.density = density
        self.eps = eps
        self.dense_output = dense_output
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state

    def _make_random_matrix(self, n_components, n_features, rng):
        density = 1 / np.sqrt(n_features) if self.density == "auto" else self.density
        if not 0 < density <= 1:
            raise ValueError(f"Expected density in range ]0, 1], got: {density!r}")
        self.density_ = density
        return _sparse_random_matrix(n_components, n_features, density, rng)

    def transform(self, X):
        """Project ``X``: :math:`x \\mapsto R x`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        X_new : {ndarray, sparse matrix} of shape (n_samples, n_components)
            Projected data: sparse only for sparse input with
            ``dense_output=False``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=[np.float64, np.float32])
        C = self.components_
        if not sp.issparse(C):  # density == 1: a dense matrix
            out = X @ C.T
            return out.toarray() if sp.issparse(out) and self.dense_output else out
        if sp.issparse(X):
            out = X @ C.T
            if self.dense_output:
                return out.toarray()
            return _sparse_interface(out)
        X = np.ascontiguousarray(X)
        C = sp.csr_matrix(C)
        out = np.empty((X.shape[0], C.shape[0]), dtype=X.dtype)
        data = C.data.astype(X.dtype, copy=False)
        return _sparse_project(X, C.indptr, C.indices, data, out)
