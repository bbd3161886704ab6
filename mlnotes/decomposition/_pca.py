r"""Principal component analysis (chapter 18 of the notes).

The solvers:

* ``"full"``: the exact SVD of the centred data. For tall data it runs LAPACK's
  QR factorisation in place (``geqrf``) and the SVD of the small triangular factor,
  which gives the same singular values and right singular vectors as the SVD of
  the whole matrix without ever forming the left singular vectors -- or, for
  float64 data whose spectrum is well conditioned (singular values within a factor
  1000, kept components separated, :func:`_gram_is_safe`), the eigendecomposition
  of the centred Gram matrix, which agrees with the SVD to about 1e-10 at half the
  flops (a ``syrk``);
* ``"covariance_eigh"``: the eigendecomposition of the covariance matrix
  :math:`X_c^\top X_c / (n - 1)`, one pass over the data, for
  ``n_samples >> n_features`` (squares the condition number: the smallest
  components lose accuracy);
* ``"randomized"``: Halko, Martinsson and Tropp's randomised range finder with power
  iterations;
* ``"arpack"``: Lanczos (``scipy.sparse.linalg.svds``) on the implicitly centred
  data, the solver for sparse input.
"""

from math import lgamma, log
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg import blas
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from mlnotes.utils._random import check_random_state
from mlnotes.utils._validation import check_finite_result
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

# Rows per block when a statistic is accumulated over blocks of rows.
_BLOCK = 4096


# ----------------------------------------------------------------------------- helpers


def _flip_rows(Vt):
    """Flip each row of ``Vt`` in place so that its entry of largest magnitude is positive.

    scikit-learn's ``svd_flip(u, v, u_based_decision=False)`` convention (the rows of
    ``Vt`` are the principal axes); :func:`mlnotes.utils.linalg.deterministic_sign`
    applies the same rule to columns. Returns the signs.
    """
    if Vt.shape[0] == 0:
        return np.ones(0, dtype=Vt.dtype)
    idx = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), idx])
    signs[signs == 0] = 1
    Vt *= signs[:, None]
    return signs


def _flip_columns(U):
    """Flip each column of ``U`` in place: entry of largest magnitude positive."""
    if U.shape[1] == 0:
        return np.ones(0, dtype=U.dtype)
    idx = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[idx, np.arange(U.shape[1])])
    signs[signs == 0] = 1
    U *= signs[None, :]
    return signs


def _centered_sum_squares(X, mean):
    """:math:`\\sum_{ij} (x_{ij} - \\mu_j)^2` over blocks of rows (no full copy)."""
    total = 0.0
    for start in range(0, X.shape[0], _BLOCK):
        block = X[start:start + _BLOCK] - mean
        flat = block.ravel()
        total += float(flat @ flat)
    return total


def _range_finder(A, size, n_iter, normalizer, rng):
    r"""Orthonormal basis :math:`Q` of the approximate range of ``A`` (Halko et al., alg. 4.4).

    ``A`` is an ndarray or anything with ``@`` and ``.T`` (a LinearOperator). Draws
    ``rng.normal(size=(A.shape[1], size))`` exactly once, then runs ``n_iter``
    normalised power iterations :math:`Q \leftarrow \mathrm{norm}(A\,\mathrm{norm}(A^\top Q))`.
    """
    Q = rng.normal(size=(A.shape[1], size))
    dtype = getattr(A, "dtype", np.float64)
    if dtype == np.float32:
        Q = Q.astype(np.float32)
    if normalizer == "auto":
        normalizer = "none" if n_iter <= 2 else "LU"

    def qr(M):
        return linalg.qr(M, mode="economic", overwrite_a=True, check_finite=False)[0]

    def lu(M):
        return linalg.lu(M, permute_l=True, overwrite_a=True, check_finite=False)[0]

    norm = {"QR": qr, "LU": lu, "none": lambda M: M}[normalizer]
    for _ in range(n_iter):
        Q = norm(A @ Q)
        Q = norm(A.T @ Q)
    return qr(A @ Q)


def _randomized_svd(A, n_components, *, n_oversamples=10, n_iter="auto",
                    power_iteration_normalizer="auto", transpose="auto", random_state=None):
    r"""Truncated SVD :math:`A \approx U S V^\top` by the randomised range finder.

    Halko, Martinsson and Tropp (2011): find an orthonormal :math:`Q` whose span
    approximates the range of :math:`A` (``n_components + n_oversamples`` random
    directions refined by ``n_iter`` power iterations), then take the exact SVD of
    the small matrix :math:`B = Q^\top A = \hat U S V^\top` and :math:`U = Q \hat U`.
    No sign convention is applied. Consumes the random state as scikit-learn's
    ``randomized_svd`` does, so equal seeds give equal results.

    Parameters
    ----------
    A : ndarray of shape (m, n)
        Matrix to decompose.
    n_components : int
        Number of singular triplets returned.
    n_oversamples : int, default=10
        Extra random directions.
    n_iter : int or "auto", default="auto"
        Power iterations; "auto" is 7 when ``n_components < 0.1 min(m, n)``, else 4.
    power_iteration_normalizer : {"auto", "QR", "LU", "none"}, default="auto"
        Normalisation between power iterations ("auto": none for ``n_iter <= 2``,
        otherwise LU).
    transpose : bool or "auto", default="auto"
        Work on :math:`A^\top` ("auto": when ``m < n``).
    random_state : int, RandomState instance or None, default=None
        Seed of the random directions.

    Returns
    -------
    U : ndarray of shape (m, n_components)
    s : ndarray of shape (n_components,)
    Vt : ndarray of shape (n_components, n)
    """
    rng = check_random_state(random_state)
    m, n = A.shape
    if n_iter == "auto":
        n_iter = 7 if n_components < 0.1 * min(m, n) else 4
    if transpose == "auto":
        transpose = m < n
    M = A.T if transpose else A
    Q = _range_finder(M, n_components + n_oversamples, n_iter, power_iteration_normalizer,
                      rng)
    B = (M.T @ Q).T  # Q^T M, computed as (M^T Q)^T so that operators work too
    Uhat, s, Vt = linalg.svd(B, full_matrices=False, check_finite=False)
    U = Q @ Uhat
    k = n_components
    if transpose:
        return Vt[:k].T, s[:k], U[:, :k].T
    return U[:, :k], s[:k], Vt[:k]


def _randomized_svd_gram(Xc, n_components, *, n_oversamples, n_iter,
                         power_iteration_normalizer, random_state):
    r""":func:`_randomized_svd` of a tall matrix through its Gram matrix.

    The power iterations :math:`Q \leftarrow \mathrm{norm}(A^\top\mathrm{norm}(A Q))`
    span the same subspace as :math:`Q \leftarrow \mathrm{norm}(G Q)` with
    :math:`G = A^\top A`; when ``A`` has few columns, forming :math:`G` once (one
    symmetric rank-k update) and iterating on the small :math:`p \times p` matrix is
    much cheaper than ``2 n_iter`` passes over ``A``. Same random draws, same
    subspace in exact arithmetic as the direct route; returns ``(U, s, Vt, trace(G))``.
    """
    rng = check_random_state(random_state)
    m, n = Xc.shape
    size = n_components + n_oversamples
    normalizer = power_iteration_normalizer
    if normalizer == "auto":
        normalizer = "none" if n_iter <= 2 else "LU"
    Z = rng.normal(size=(n, size))
    if Xc.dtype == np.float32:
        Z = Z.astype(np.float32)
    G = Xc.T @ Xc

    def qr(M):
        return linalg.qr(M, mode="economic", overwrite_a=True, check_finite=False)[0]

    def lu(M):
        return linalg.lu(M, permute_l=True, overwrite_a=True, check_finite=False)[0]

    norm = {"QR": qr, "LU": lu, "none": lambda M: M}[normalizer]
    for _ in range(n_iter):
        Z = norm(G @ Z)
    Q = qr(Xc @ Z)
    B = Q.T @ Xc
    Uhat, s, Vt = linalg.svd(B, full_matrices=False, check_finite=False)
    U = Q @ Uhat
    k = n_components
    return U[:, :k], s[:k], Vt[:k], float(np.trace(G))


def _use_gram_route(shape, n_components, n_oversamples, n_iter):
    """Whether the Gram route of the randomised SVD costs less (flop model)."""
    m, n = shape
    if m < n or n_iter == 0:
        return False
    size = n_components + n_oversamples
    gram = m * n * n + 4.0 * m * n * size
    direct = 2.0 * m * n * size * (2 * n_iter + 2) + 4.0 * m * size * size * (n_iter + 1)
    return gram < 0.8 * direct


def _assess_dimension(spectrum, rank, n_samples):
    r"""Minka's Laplace approximation of :math:`\log p(X \mid \text{rank})`.

    ``spectrum`` holds the eigenvalues of the sample covariance in decreasing
    order; ``rank`` must lie in ``[1, len(spectrum) - 1]``. Equation (30) of
    Minka (2000): the evidence of probabilistic PCA with ``rank`` components,
    integrating over the orthonormal frame (uniform prior on the Stiefel
    manifold), the retained variances and the noise variance.
    """
    d = spectrum.shape[0]
    if not 1 <= rank < d:
        raise ValueError("the tested rank should be in [1, n_features - 1]")
    eps = 1e-15
    if spectrum[rank - 1] < eps:
        return -np.inf  # a rank this high models noise-free directions: never the max
    n = n_samples
    # log of the prior volume of the Stiefel manifold, p(U)
    log_pu = -rank * log(2.0) + sum(
        lgamma((d - i + 1) / 2.0) - log(np.pi) * (d - i + 1) / 2.0
        for i in range(1, rank + 1)
    )
    log_pl = -np.sum(np.log(spectrum[:rank])) * n / 2.0
    v = max(eps, float(np.sum(spectrum[rank:])) / (d - rank))  # noise variance
    log_pv = -log(v) * n * (d - rank) / 2.0
    m = d * rank - rank * (rank + 1.0) / 2.0
    log_pp = log(2.0 * np.pi) * (m + rank) / 2.0
    # log det of the Hessian A_Z, equation (31): pairs i < j over i < rank
    inv = np.full(d, 1.0 / v)
    inv[:rank] = 1.0 / spectrum[:rank]
    i, j = np.triu_indices(d, k=1)
    keep = i < rank
    i, j = i[keep], j[keep]
    log_az = np.sum(np.log((spectrum[i] - spectrum[j]) * (inv[j] - inv[i])) + log(n))
    return log_pu + log_pl + log_pv + log_pp - log_az / 2.0 - rank * log(n) / 2.0


def _infer_dimension(spectrum, n_samples):
    """The rank in ``[1, n_features - 1]`` of largest Minka evidence."""
    ll = np.full(spectrum.shape[0], -np.inf)
    for rank in range(1, spectrum.shape[0]):
        ll[rank] = _assess_dimension(spectrum, rank, n_samples)
    return int(np.argmax(ll))


def _n_kept(n_components, explained_variance, n_samples):
    """The number of components kept by a full solver: ``n_components`` itself, or
    Minka's choice (``"mle"``), or the fewest whose explained variance ratios sum to
    more than a fraction in ``(0, 1)``."""
    if n_components == "mle":
        return _infer_dimension(explained_variance, n_samples)
    if 0 < n_components < 1.0:
        ratio_cumsum = np.cumsum(explained_variance / explained_variance.sum())
        return int(np.searchsorted(ratio_cumsum, n_components, side="right")) + 1
    return n_components


def _svd_tall(Xc):
    """Singular values and right singular vectors of a tall matrix via QR (in place).

    ``Xc`` (Fortran-ordered, ``n >= p``) is overwritten by LAPACK's Householder QR;
    the SVD of the ``p x p`` factor ``R`` has the same ``S`` and ``Vt`` as ``Xc``.
    """
    _, R = linalg.qr(Xc, overwrite_a=True, mode="raw", check_finite=False)
    _, S, Vt = linalg.svd(R, full_matrices=False, overwrite_a=True, check_finite=False)
    return S, Vt


#: Relative size (of the largest eigenvalue of the Gram matrix) below which the
#: smallest eigenvalue, or the gap around a kept component, sends ``svd_solver="full"``
#: back from the Gram matrix to the QR route (see :func:`_gram_is_safe`).
_GRAM_RTOL = 1e-6


def _eigh_gram(Xc):
    """Eigenvalues (decreasing) and eigenvectors (rows) of ``Xc^T Xc``.

    The Gram matrix is one BLAS ``syrk`` (``n p^2`` flops, half of a Householder
    QR's ``2 n p^2``), its eigendecomposition LAPACK's ``syevr`` on ``p x p``.
    """
    G = blas.dsyrk(1.0, Xc.T, trans=0, lower=0)
    w, V = linalg.eigh(G, lower=False, check_finite=False, overwrite_a=True)
    return w[::-1], np.ascontiguousarray(V[:, ::-1].T)


def _gram_is_safe(eigenvalues, n_kept):
    r"""Whether the Gram eigendecomposition gives the SVD's results to about 1e-10.

    Forming :math:`G = X_c^\top X_c` and diagonalising it perturbs every eigenvalue
    by about :math:`\epsilon \lambda_{\max}` and an eigenvector by about
    :math:`\epsilon \lambda_{\max} / \mathrm{gap}` (:math:`\epsilon = 2.2\cdot
    10^{-16}`). The singular values :math:`\sigma_i = \sqrt{\lambda_i}` then keep a
    relative accuracy :math:`\epsilon \lambda_{\max} / (2 \lambda_i)` and the kept
    components :math:`\epsilon \lambda_{\max} / \mathrm{gap}`: both below
    :math:`10^{-10}` when :math:`\lambda_{\min} \ge 10^{-6} \lambda_{\max}`
    (singular values within a factor 1000 of each other) and every kept component's
    eigenvalue is at least :math:`10^{-6} \lambda_{\max}` away from its neighbours.
    Otherwise (rank-deficient, badly conditioned, or nearly repeated leading
    components) the QR route runs instead.
    """
    lam_max = eigenvalues[0]
    if not lam_max > 0 or eigenvalues[-1] < _GRAM_RTOL * lam_max:
        return False
    gaps = -np.diff(eigenvalues[:n_kept + 1])
    return bool(np.all(gaps >= _GRAM_RTOL * lam_max))


# ------------------------------------------------------------------------------ PCA


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Principal component analysis: the orthogonal projection of maximum variance.

    The data are centred (not scaled) and projected on the leading right singular
    vectors of the centred data matrix.

    See the :ref:`User Guide <user-guide-decomposition>`.

    Parameters
    ----------
    n_components : int, float, "mle" or None, default=None
        Components to keep. An int keeps that many; a float in ``(0, 1)`` keeps the
        fewest components whose explained variance ratios sum to more than it
        (``svd_solver="full"`` or ``"covariance_eigh"``); ``"mle"`` picks the
        number by Minka's evidence (same solvers); None keeps
        ``min(n_samples, n_features)`` (one less with ``"arpack"``).
    copy : bool, default=True
        If False, ``fit`` centres ``X`` in place when it is a writeable float array
        (``"arpack"``, ``"randomized"`` and wide ``"full"`` fits):
        ``fit(X).transform(X)`` is then wrong, use ``fit_transform(X)``.
    whiten : bool, default=False
        Divide the projections by the square root of their variance, so that the
        transformed features have unit variance.
    svd_solver : {"auto", "full", "covariance_eigh", "arpack", "randomized"}, \
            default="auto"
        "auto" follows scikit-learn: ``"covariance_eigh"`` when
        ``n_features <= 1000`` and ``n_samples >= 10 n_features``; else ``"full"``
        for data of at most 500 rows and columns or ``n_components="mle"``; else
        ``"randomized"`` when ``1 <= n_components < 0.8 min(n_samples,
        n_features)``; else ``"full"``. Sparse input uses ``"arpack"``.
    tol : float, default=0.0
        Tolerance on singular values of ``"arpack"`` (0: machine precision).
    iterated_power : int or "auto", default="auto"
        Power iterations of ``"randomized"`` ("auto": 7 when
        ``n_components < 0.1 min(X.shape)``, else 4).
    n_oversamples : int, default=10
        Extra random directions of ``"randomized"``.
    power_iteration_normalizer : {"auto", "QR", "LU", "none"}, default="auto"
        Normaliser of the power iterations of ``"randomized"``.
    random_state : int, RandomState instance or None, default=None
        Seed of ``"arpack"``'s start vector and ``"randomized"``'s directions
        (None: fresh entropy; NumPy's global generator is never used).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Principal axes (unit right singular vectors of the centred data), by
        decreasing explained variance; each row's entry of largest magnitude is
        positive (scikit-learn's ``svd_flip`` convention).
    explained_variance_ : ndarray of shape (n_components,)
        Variance along each axis (``n_samples - 1`` degrees of freedom): the
        largest eigenvalues of the sample covariance matrix.
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Fraction of the total variance along each axis.
    singular_values_ : ndarray of shape (n_components,)
        Singular values of the centred data (2-norms of the projections).
    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training data.
    n_components_ : int
        Number of components kept.
    n_samples_ : int
        Number of training samples.
    noise_variance_ : float
        Noise variance :math:`\sigma^2` of probabilistic PCA: the mean of the
        discarded eigenvalues (0 when nothing is discarded).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    KernelPCA : PCA in the feature space of a kernel.

    Notes
    -----
    Chapter 18 of the notes. With centred data :math:`X_c = X - \mathbf 1 \mu^\top`
    and sample covariance :math:`\Sigma = X_c^\top X_c / (n - 1)`, the first
    principal axis maximises the variance of the projection, and the first
    :math:`k` axes together minimise the reconstruction error:

    .. math::

        u_1 = \arg\max_{\|u\| = 1} u^\top \Sigma u , \qquad
        W_k = \arg\min_{W^\top W = I_k} \sum_{i=1}^n
              \big\| x_i - \mu - W W^\top (x_i - \mu) \big\|^2 .

    Both are solved by the eigenvectors of :math:`\Sigma` with the largest
    eigenvalues. With the SVD :math:`X_c = U S V^\top`,

    .. math::

        \Sigma = V \frac{S^2}{n - 1} V^\top , \qquad
        \text{components} = V_{:, 1:k}^\top , \qquad
        \text{explained variance} = \frac{s_j^2}{n - 1} , \qquad
        z = V_{:, 1:k}^\top (x - \mu) ,

    and the error left is the sum of the discarded eigenvalues. For tall float64
    data ``svd_solver="full"`` diagonalises :math:`X_c^\top X_c` directly when that
    is numerically safe (eigenvalues within :math:`10^6` of each other and kept ones
    at least :math:`10^{-6} \lambda_{\max}` apart, so that :math:`s_j` and the
    components agree with the SVD's to about :math:`10^{-10}`), and computes the
    SVD (through a QR factorisation) otherwise. ``score_samples``
    is the log-likelihood of probabilistic PCA (Tipping and Bishop),
    :math:`x \sim \mathcal N(\mu, W W^\top + \sigma^2 I)` with the maximum-likelihood
    :math:`W` and :math:`\sigma^2` given by the fitted attributes.

    References
    ----------
    N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
    randomness: probabilistic algorithms for constructing approximate matrix
    decompositions", *SIAM Review* 53(2), 2011.

    T. P. Minka, "Automatic choice of dimensionality for PCA", *NeurIPS*, 2000.

    M. E. Tipping and C. M. Bishop, "Probabilistic principal component analysis",
    *J. R. Statist. Soc. B* 61(3), 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.decomposition import PCA
    >>> X = np.array([[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]])
    >>> pca = PCA(n_components=2).fit(X)
    >>> pca.explained_variance_ratio_.round(4)
    array([0.9924, 0.0076])
    >>> pca.singular_values_.round(4)
    array([6.3006, 0.5498])
    """

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 0, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            StrOptions({"mle"}),
            None,
        ],
        "copy": ["boolean"],
        "whiten": ["boolean"],
        "svd_solver": [StrOptions({"auto", "full", "covariance_eigh", "arpack",
                                   "randomized"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "iterated_power": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "n_oversamples": [Interval(Integral, 1, None, closed="left")],
        "power_iteration_normalizer": [StrOptions({"auto", "QR", "LU", "none"})],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=None, *, copy=True, whiten=False, svd_solver="auto",
                 tol=0.0, iterated_power="auto", n_oversamples=10,
                 power_iteration_normalizer="auto", random_state=None):
        self.n_components = n_components
        self.copy = copy
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.tol = tol
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------------------

    def fit(self, X, y=None):
        """Fit the principal axes of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (sparse only with the "auto", "arpack" and
            "covariance_eigh" solvers).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X_checked, _, _ = self._fit(X)
        self._check_finite_fit(X_checked)
        return self

    def _check_finite_fit(self, X):
        # an SVD/eigendecomposition of values near 1e150-1e300 can overflow (squares)
        # (one sample: explained_variance_ is 0 / 0 = NaN, as in scikit-learn)
        names = ("components_", "explained_variance_") if X.shape[0] > 1 else (
            "components_",)
        for name in names:
            check_finite_result(getattr(self, name), f"the fitted {name}", self, X)

    def fit_transform(self, X, y=None):
        """Fit the model and return the projection of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Projection of ``X`` on the principal axes.
        """
        X, U, centered = self._fit(X)
        self._check_finite_fit(X)
        if U is not None:  # the left singular vectors are at hand: Z = U S
            U = U[:, :self.n_components_]
            if self.whiten:
                U *= np.sqrt(X.shape[0] - 1)
            else:
                U *= self.singular_values_[None, :]
            return U
        return self._transform(X, centered=centered)

    def _resolve_solver(self, X):
        solver = self.svd_solver
        if sp.issparse(X) and solver not in ("auto", "arpack", "covariance_eigh"):
            raise TypeError(
                f'PCA only support sparse inputs with the "arpack" and "covariance_eigh" '
                f'solvers, while "{solver}" was passed. See TruncatedSVD for a possible '
                "alternative."
            )
        if solver == "auto" and sp.issparse(X):
            solver = "arpack"
        if self.n_components is None:
            n_components = min(X.shape) - (1 if solver == "arpack" else 0)
        else:
            n_components = self.n_components
        if solver == "auto":
            n, p = X.shape
            if p <= 1000 and n >= 10 * p:
                solver = "covariance_eigh"
            elif max(X.shape) <= 500 or n_components == "mle":
                solver = "full"
            elif 1 <= n_components < 0.8 * min(X.shape):
                solver = "randomized"
            else:
                solver = "full"
        return solver, n_components

    def _fit(self, X):
        """Validate, dispatch to the solver; returns ``(X, U or None, X_is_centred)``."""
        self._validate_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32],
                          accept_sparse=("csr", "csc"), ensure_2d=True, copy=False)
        solver, n_components = self._resolve_solver(X)
        self._fit_svd_solver = solver
        if solver in ("full", "covariance_eigh"):
            return self._fit_full(X, n_components, solver)
        return self._fit_truncated(X, n_components, solver)

    def _centered(self, X, mean):
        """``X - mean``: in place when ``copy=False`` allows it, else a new array."""
        if not self.copy and X.flags.writeable:
            X -= mean
            return X, True
        return X - mean, False

    def _fit_full(self, X, n_components, solver):
        n_samples, n_features = X.shape
        if n_components == "mle":
            if n_samples < n_features:
                raise ValueError(
                    "n_components='mle' is only supported if n_samples >= n_features"
                )
        elif not 0 <= n_components <= min(n_samples, n_features):
            raise ValueError(
                f"n_components={n_components} must be between 0 and "
                f"min(n_samples, n_features)={min(n_samples, n_features)} with "
                f"svd_solver={solver!r}"
            )
        dtype = X.dtype
        mean = np.asarray(X.mean(axis=0), dtype=dtype).reshape(-1)
        self.mean_ = mean
        U = None
        centered = False
        if solver == "full":
            if n_samples >= n_features:
                S, Vt = self._svd_tall_full(X, mean, n_components)
            else:
                Xc, centered = self._centered(X, mean)
                U, S, Vt = linalg.svd(Xc, full_matrices=False, check_finite=False)
            explained_variance = S**2 / (n_samples - 1)
        else:  # covariance_eigh: one pass, X never copied
            C = X.T @ X
            C = np.asarray(C.toarray() if sp.issparse(C) else C, dtype=np.float64)
            C -= n_samples * np.outer(mean, mean)
            C /= n_samples - 1
            eigenvalues, eigenvectors = linalg.eigh(C, check_finite=False)
            eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
            eigenvalues[eigenvalues < 0.0] = 0.0
            explained_variance = eigenvalues.astype(dtype)
            S = np.sqrt(eigenvalues * (n_samples - 1)).astype(dtype)
            Vt = np.ascontiguousarray(eigenvectors.T, dtype=dtype)
        signs = _flip_rows(Vt)
        if U is not None:
            U *= signs[None, :]

        total_var = explained_variance.sum()
        explained_variance_ratio = explained_variance / total_var
        n_components = _n_kept(n_components, explained_variance, n_samples)
        if n_components < min(n_features, n_samples):
            self.noise_variance_ = float(np.mean(explained_variance[n_components:]))
        else:
            self.noise_variance_ = 0.0
        self.n_samples_ = n_samples
        self.n_components_ = n_components
        self.components_ = np.ascontiguousarray(Vt[:n_components])
        self.explained_variance_ = explained_variance[:n_components].copy()
        self.explained_variance_ratio_ = explained_variance_ratio[:n_components].copy()
        self.singular_values_ = S[:n_components].copy()
        return X, U, centered

    @staticmethod
    def _svd_tall_full(X, mean, n_components):
        """``(S, Vt)`` of the centred tall ``X`` for ``svd_solver="full"``.

        float64 data whose Gram matrix is well conditioned (:func:`_gram_is_safe`)
        take its eigendecomposition (4-5x faster on 20,000 x 100); the others the
        exact QR route (:func:`_svd_tall`), which the first then cost about 20%
        extra.
        """
        if X.dtype == np.float64 and not sp.issparse(X) and X.shape[1] > 1:
            w, Vt = _eigh_gram(X - mean)
            n_kept = _n_kept(n_components, np.maximum(w, 0.0) / (X.shape[0] - 1),
                             X.shape[0])
            if _gram_is_safe(w, n_kept):
                return np.sqrt(w), Vt
        # a fresh Fortran-ordered centred copy that the QR may destroy
        return _svd_tall(np.subtract(X, mean, order="F"))

    def _fit_truncated(self, X, n_components, solver):
        n_samples, n_features = X.shape
        if isinstance(n_components, str):
            raise ValueError(
                f"n_components={n_components!r} cannot be a string with "
                f"svd_solver='{solver}'"
            )
        if not 1 <= n_components <= min(n_samples, n_features):
            raise ValueError(
                f"n_components={n_components!r} must be between 1 and "
                f"min(n_samples, n_features)={min(n_samples, n_features)!r} with "
                f"svd_solver='{solver}'"
            )
        if solver == "arpack" and n_components == min(n_samples, n_features):
            raise ValueError(
                f"n_components={n_components!r} must be strictly less than "
                f"min(n_samples, n_features)={min(n_samples, n_features)!r} with "
                f"svd_solver='{solver}'"
            )
        rng = check_random_state(self.random_state)
        dtype = X.dtype
        centered = False
        if sp.issparse(X):
            mean = np.asarray(X.mean(axis=0), dtype=dtype).reshape(-1)
            sq = np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).reshape(-1)
            col_var = (sq - n_samples * mean.astype(np.float64) ** 2) / (n_samples - 1)
            total_var = float(np.sum(col_var))
            Xc = _centred_operator(X, mean)
        else:
            mean = X.mean(axis=0).astype(dtype, copy=False)
            Xc, centered = self._centered(X, mean)
            total_var = None
        self.mean_ = mean
        n_iter = self.iterated_power
        if n_iter == "auto":
            n_iter = 7 if n_components < 0.1 * min(X.shape) else 4
        if solver == "randomized" and not sp.issparse(X) and _use_gram_route(
                X.shape, n_components, self.n_oversamples, n_iter):
            U, S, Vt, trace = _randomized_svd_gram(
                Xc, n_components, n_oversamples=self.n_oversamples, n_iter=n_iter,
                power_iteration_normalizer=self.power_iteration_normalizer,
                random_state=rng,
            )
            total_var = trace / (n_samples - 1)
        elif solver == "arpack":
            v0 = rng.uniform(-1, 1, min(X.shape))
            U, S, Vt = svds(Xc, k=n_components, tol=self.tol, v0=v0)
            order = np.argsort(S)[::-1]
            U, S, Vt = U[:, order], S[order], Vt[order]
        else:
            U, S, Vt = _randomized_svd(
                Xc, n_components, n_oversamples=self.n_oversamples,
                n_iter=n_iter,
                power_iteration_normalizer=self.power_iteration_normalizer,
                random_state=rng,
            )
        if total_var is None:
            flat = Xc.ravel()
            total_var = float(flat @ flat) / (n_samples - 1)
        U, S, Vt = U.astype(dtype, copy=False), S.astype(dtype, copy=False), \
            np.ascontiguousarray(Vt, dtype=dtype)
        signs = _flip_rows(Vt)
        U = U * signs[None, :]
        self.n_samples_ = n_samples
        self.components_ = Vt
        self.n_components_ = n_components
        self.explained_variance_ = S**2 / (n_samples - 1)
        self.explained_variance_ratio_ = self.explained_variance_ / total_var
        self.singular_values_ = S.copy()
        if n_components < min(n_features, n_samples):
            self.noise_variance_ = float(
                (total_var - np.sum(self.explained_variance_))
                / (min(n_features, n_samples) - n_components)
            )
        else:
            self.noise_variance_ = 0.0
        return X, U, centered

    # -- transforming ----------------------------------------------------------------

    def _transform(self, X, centered=False):
        Z = X @ self.components_.T
        Z = np.asarray(Z)
        if not centered:
            Z -= (self.mean_ @ self.components_.T)[None, :]
        if self.whiten:
            scale = np.sqrt(self.explained_variance_)
            scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
            Z /= scale
        return Z

    def transform(self, X):
        """Project ``X`` on the principal axes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            :math:`(x - \\mu)^\\top` ``components_.T`` (divided by the square root
            of ``explained_variance_`` when ``whiten``).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32],
                          accept_sparse=("csr", "csc"), reset=False)
        return self._transform(X)

    def inverse_transform(self, X):
        """Map projections back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Projections (whitened ones when ``whiten``).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            :math:`\\mu + W z`: the orthogonal projection of the original data on
            the principal subspace, exactly the data when no component was dropped.
        """
        check_is_fitted(self)
        X = check_array(X, input_name="X", dtype=[np.float64, np.float32])
        if self.whiten:
            components = np.sqrt(self.explained_variance_)[:, None] * self.components_
        else:
            components = self.components_
        return X @ components + self.mean_

    # -- probabilistic PCA -------------------------------------------------------------

    def _spectrum_parts(self):
        components = self.components_
        exp_var = self.explained_variance_
        if self.whiten:
            components = components * np.sqrt(exp_var[:, None])
        diff = np.where(exp_var > self.noise_variance_, exp_var - self.noise_variance_, 0.0)
        return components, exp_var, diff

    def get_covariance(self):
        r"""Covariance of the data under probabilistic PCA.

        Returns
        -------
        cov : ndarray of shape (n_features, n_features)
            :math:`W \,\mathrm{diag}(\lambda - \sigma^2)\, W^\top + \sigma^2 I`, with
            :math:`W` = ``components_.T``, :math:`\lambda` = ``explained_variance_``
            and :math:`\sigma^2` = ``noise_variance_``.
        """
        check_is_fitted(self)
        components, _, diff = self._spectrum_parts()
        cov = (components.T * diff) @ components
        cov.flat[:: cov.shape[0] + 1] += self.noise_variance_
        return cov

    def get_precision(self):
        r"""Precision (inverse covariance) of the data under probabilistic PCA.

        Computed with the matrix inversion lemma: only an
        ``(n_components, n_components)`` matrix is inverted.

        Returns
        -------
        precision : ndarray of shape (n_features, n_features)
            :math:`\sigma^{-2} I - \sigma^{-4} W (D^{-1} + \sigma^{-2} W^\top W)^{-1}
            W^\top` with :math:`D = \mathrm{diag}(\lambda - \sigma^2)`.
        """
        check_is_fitted(self)
        n_features = self.components_.shape[1]
        if self.n_components_ == 0:
            return np.eye(n_features) / self.noise_variance_
        if self.noise_variance_ == 0.0:
            return linalg.inv(self.get_covariance())
        components, _, diff = self._spectrum_parts()
        sigma2 = self.noise_variance_
        inner = components @ components.T / sigma2
        inner.flat[:: inner.shape[0] + 1] += 1.0 / diff
        precision = components.T @ linalg.inv(inner) @ components
        precision /= -(sigma2**2)
        precision.flat[:: n_features + 1] += 1.0 / sigma2
        return precision

    def score_samples(self, X):
        """Log-likelihood of each sample under probabilistic PCA.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ll : ndarray of shape (n_samples,)
            :math:`\\log \\mathcal N(x; \\mu, C)` with :math:`C` from
            :meth:`get_covariance`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        Xr = X - self.mean_
        precision = self.get_precision()
        sign, logdet = np.linalg.slogdet(precision)
        if sign <= 0:
            logdet = -np.inf
        ll = -0.5 * np.sum(Xr * (Xr @ precision), axis=1)
        ll -= 0.5 * (X.shape[1] * log(2.0 * np.pi) - logdet)
        return ll

    def score(self, X, y=None):
        """Mean log-likelihood of the samples under probabilistic PCA.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        ll : float
            Mean of :meth:`score_samples`.
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = self.svd_solver in ("auto", "arpack", "covariance_eigh")
        return tags


def _centred_operator(X, mean):
    """The implicitly centred sparse matrix ``X - 1 mean^T`` as a LinearOperator."""
    mean = np.asarray(mean, dtype=np.float64)
    n = X.shape[0]

    def matvec(v):
        return X @ v - mean @ v

    def matmat(V):
        return X @ V - (mean @ V)[None, :]

    def rmatvec(u):
        return X.T @ u - mean * u.sum()

    def rmatmat(U):
        return X.T @ U - np.outer(mean, U.sum(axis=0))

    return LinearOperator((n, X.shape[1]), matvec=matvec, matmat=matmat,
                          rmatvec=rmatvec, rmatmat=rmatmat, dtype=X.dtype)
