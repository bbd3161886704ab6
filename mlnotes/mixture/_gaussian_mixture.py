r"""Gaussian mixture models fitted by expectation-maximisation (chapter 20 of the notes)."""

import math
import warnings
from numbers import Integral, Real
from time import time

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..cluster._kmeans import KMeans, _kmeans_plusplus
from ._gaussian_mixture_fast import em_pass_diag, em_pass_full, weighted_log_prob

__all__ = ["GaussianMixture"]

_PRECISION_ERROR = (
    "Fitting the mixture model failed because some components have ill-defined "
    "empirical covariance (for instance caused by singleton or collapsed samples). "
    "Try to decrease the number of components, increase reg_covar, or scale the "
    "input data."
)
_LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------
# Private computation: parameters from responsibilities, Cholesky factors.
# ---------------------------------------------------------------------------


def _check_shape(param, shape, name):
    if param.shape != shape:
        raise ValueError(f"The parameter '{name}' should have the shape of {shape}, "
                         f"but got {param.shape}")


def _estimate_gaussian_parameters(X, resp, reg_covar, covariance_type):
    """M-step from responsibilities: ``(nk, means, covariances)`` (covariances centred).

    ``nk`` carries ``10 eps`` so that an empty component does not divide by zero.
    """
    nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
    means = (resp.T @ X) / nk[:, None]
    K, d = means.shape
    if covariance_type in ("full", "tied"):
        cov = np.empty((K, d, d))
        for k in range(K):
            diff = X - means[k]
            cov[k] = (resp[:, k] * diff.T) @ diff / nk[k]
        if covariance_type == "tied":
            cov = np.tensordot(nk, cov, axes=1) / nk.sum()
            cov.flat[:: d + 1] += reg_covar
        else:
            cov.reshape(K, -1)[:, :: d + 1] += reg_covar
        return nk, means, cov
    diag = np.empty((K, d))
    for k in range(K):
        diag[k] = resp[:, k] @ (X - means[k]) ** 2 / nk[k]
    diag += reg_covar
    if covariance_type == "spherical":
        return nk, means, diag.mean(axis=1)
    return nk, means, diag


def _compute_precision_cholesky(covariances, covariance_type):
    """Upper-triangular ``U`` with ``U U^T = Sigma^{-1}`` (or ``1/sqrt(var)``)."""
    if covariance_type in ("full", "tied"):
        covs = covariances if covariance_type == "full" else covariances[None]
        d = covs.shape[-1]
        eye = np.eye(d)
        out = np.empty_like(covs)
        for k, cov in enumerate(covs):
            try:
                L = linalg.cholesky(cov, lower=True, check_finite=False)
            except linalg.LinAlgError:
                raise ValueError(_PRECISION_ERROR) from None
            if not np.all(np.isfinite(L)):
                raise ValueError(_PRECISION_ERROR)
            out[k] = linalg.solve_triangular(L, eye, lower=True, check_finite=False).T
        return out if covariance_type == "full" else out[0]
    if np.any(covariances <= 0.0) or not np.all(np.isfinite(covariances)):
        raise ValueError(_PRECISION_ERROR)
    return 1.0 / np.sqrt(covariances)


def _precision_cholesky_from_precisions(precisions, covariance_type):
    """Upper-triangular factor of given precision matrices (flipped Cholesky)."""
    if covariance_type == "full":
        return np.stack([np.linalg.cholesky(P[::-1, ::-1])[::-1, ::-1] for P in precisions])
    if covariance_type == "tied":
        return np.linalg.cholesky(precisions[::-1, ::-1])[::-1, ::-1]
    return np.sqrt(precisions)


def _log_det_cholesky(prec_chol, covariance_type, n_features):
    """``log det U`` per component (the half log-determinant of the precision)."""
    if covariance_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(prec_chol)).sum()
    if covariance_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return n_features * np.log(prec_chol)


class _Kernel:
    """The arrays the compiled passes need, built from the current parameters."""

    def __init__(self, weights, means, prec_chol, covariance_type):
        K, d = means.shape
        with np.errstate(divide="ignore"):
            log_w = np.log(weights)
        self.log_const = np.ascontiguousarray(
            log_w + _log_det_cholesky(prec_chol, covariance_type, d) - 0.5 * d * _LOG_2PI,
            dtype=np.float64)
        self.means = np.ascontiguousarray(means, dtype=np.float64)
        self.full = covariance_type in ("full", "tied")
        if covariance_type == "full":
            self.prec = np.ascontiguousarray(np.transpose(prec_chol, (0, 2, 1)))
        elif covariance_type == "tied":
            self.prec = np.ascontiguousarray(np.broadcast_to(prec_chol.T, (K, d, d)))
        elif covariance_type == "diag":
            self.prec = np.ascontiguousarray(prec_chol ** 2)
        else:
            self.prec = np.ascontiguousarray(np.repeat((prec_chol ** 2)[:, None], d, axis=1))

    def weighted_log_prob(self, XT):
        """(n, K) weighted log-densities of the samples ``XT`` (d, n)."""
        K, d = self.means.shape
        full, diag = ((self.prec, np.empty((K, d))) if self.full
                      else (np.empty((K, d, d)), self.prec))
        return weighted_log_prob(XT, self.means, full, diag, self.log_const, self.full)

    def em_pass(self, XT):
        """Sum of the log-densities and the shifted statistics ``(nk, sd, S)``."""
        d = XT.shape[0]
        K = self.means.shape[0]
        if self.full:
            stats = np.empty((K, d + 1, d + 1))
            total = em_pass_full(XT, self.means, self.prec, self.log_const, stats)
            return total, stats[:, d, d], stats[:, :d, d], stats[:, :d, :d]
        stats, S = np.empty((K, d + 1)), np.empty((K, d))
        total = em_pass_diag(XT, self.means, self.prec, self.log_const, stats, S)
        return total, stats[:, d], stats[:, :d], S


def _m_step_from_stats(nk, sd, S, shift, reg_covar, covariance_type):
    """Weights, means and covariances from the statistics of one fused pass.

    ``sd`` and ``S`` are the first and second moments about ``shift`` (the means
    the pass used): the new mean is ``shift + sd / nk``.
    """
    K, d = sd.shape
    nk = nk + 10 * np.finfo(np.float64).eps
    delta = sd / nk[:, None]
    means = shift + delta
    if covariance_type in ("full", "tied"):
        if covariance_type == "full":
            cov = S / nk[:, None, None] - delta[:, :, None] * delta[:, None, :]
            cov = 0.5 * (cov + np.transpose(cov, (0, 2, 1)))
            cov.reshape(K, -1)[:, :: d + 1] += reg_covar
        else:
            cov = (S.sum(axis=0) - np.einsum("k,ka,kb->ab", nk, delta, delta)) / nk.sum()
            cov = 0.5 * (cov + cov.T)
            cov.flat[:: d + 1] += reg_covar
    else:
        cov = S / nk[:, None] - delta ** 2 + reg_covar
        if covariance_type == "spherical":
            cov = cov.mean(axis=1)
    return nk / nk.sum(), means, cov


def _logsumexp_rows(A):
    """``log sum_k exp(A[i, k])`` per row, stable (numpy's vectorised exp)."""
    m = A.max(axis=1)
    m[~np.isfinite(m)] = 0.0
    with np.errstate(divide="ignore"):
        return np.log(np.exp(A - m[:, None]).sum(axis=1)) + m


def _as_float64(X):
    X = np.ascontiguousarray(X, dtype=np.float64)
    return X if X.flags.writeable else X.copy()


# ---------------------------------------------------------------------------
# The estimator.
# ---------------------------------------------------------------------------


class GaussianMixture(DensityMixin, BaseEstimator):
    r"""Gaussian mixture model fitted by expectation-maximisation (EM).

    See the :ref:`User Guide <user-guide-mixture>`.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        - ``"full"``: each component has its own covariance matrix;
        - ``"tied"``: all components share one covariance matrix;
        - ``"diag"``: each component has its own diagonal covariance;
        - ``"spherical"``: each component has its own single variance.
    tol : float, default=1e-3
        EM stops when the average log-likelihood (the lower bound) changes by
        less than ``tol`` between iterations.
    reg_covar : float, default=1e-6
        Added to the diagonal of the covariances, keeping them positive
        definite.
    max_iter : int, default=100
        Maximum number of EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the highest lower bound wins.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, \
            default="kmeans"
        How the responsibilities start: hard assignments from
        :class:`~mlnotes.cluster.KMeans` (one run), one-hot on k-means++ seeds,
        uniform random responsibilities, or one-hot on random data points.
    weights_init : array-like of shape (n_components,), default=None
        Initial mixing weights (computed from the initialisation if None).
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means (computed from the initialisation if None).
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances), of shape ``(n_components,)``
        (spherical), ``(n_features, n_features)`` (tied), ``(n_components,
        n_features)`` (diag) or ``(n_components, n_features, n_features)``
        (full).
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and :meth:`sample`.
    warm_start : bool, default=False
        Start each ``fit`` from the previous solution (``n_init`` is then 1).
    verbose : int, default=0
        1 prints the initialisations and iterations, 2 also times and lower
        bounds.
    verbose_interval : int, default=10
        Iterations between two messages.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing weights.
    means_ : ndarray of shape (n_components, n_features)
        Component means.
    covariances_ : ndarray
        Covariances; shape ``(n_components,)``, ``(n_features, n_features)``,
        ``(n_components, n_features)`` or ``(n_components, n_features,
        n_features)`` for spherical, tied, diag and full.
    precisions_ : ndarray
        Inverse covariances, same shape as ``covariances_``.
    precisions_cholesky_ : ndarray
        Upper-triangular Cholesky factors :math:`U` of the precisions,
        :math:`\Sigma^{-1} = U U^\top` (square roots for diag and spherical).
    converged_ : bool
        Whether the best initialisation converged.
    n_iter_ : int
        EM iterations of the best initialisation.
    lower_bound_ : float
        Average log-likelihood of the training data at the last iteration of
        the best initialisation.
    lower_bounds_ : list of float
        The lower bound at each iteration of the best initialisation.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    mlnotes.cluster.KMeans : hard clustering, the limit of EM with vanishing
        spherical covariances.

    Notes
    -----
    Chapter 20 of the notes. The model is
    :math:`p(x) = \sum_{k=1}^K \pi_k \mathcal N(x \mid \mu_k, \Sigma_k)`. EM
    maximises the log-likelihood by alternating

    E-step (responsibilities, computed in log space with log-sum-exp):

    .. math::

        r_{ik} = \frac{\pi_k \mathcal N(x_i \mid \mu_k, \Sigma_k)}
                      {\sum_l \pi_l \mathcal N(x_i \mid \mu_l, \Sigma_l)},

    M-step (weighted maximum likelihood), with :math:`N_k = \sum_i r_{ik}`:

    .. math::

        \pi_k = \frac{N_k}{n}, \qquad
        \mu_k = \frac{1}{N_k} \sum_i r_{ik} x_i, \qquad
        \Sigma_k = \frac{1}{N_k} \sum_i r_{ik} (x_i - \mu_k)(x_i - \mu_k)^\top
                   + \epsilon I .

    Each iteration cannot decrease the log-likelihood
    :math:`\frac1n \sum_i \log p(x_i)` (the lower bound reported here, which
    equals the evidence lower bound after the E-step). Densities are evaluated
    through the Cholesky factor :math:`U_k` of the precision,
    :math:`\log \mathcal N(x \mid \mu, \Sigma) = -\tfrac d2 \log 2\pi + \log\det U
    - \tfrac12 \| U^\top (x - \mu) \|^2`.

    One EM iteration is one compiled (numba) pass over the data that computes
    the responsibilities and accumulates the statistics of the M-step at once
    (second moments shifted by the current means, so no cancellation). The
    computation is float64 whatever the input dtype; the initialisation and
    the stopping rule are scikit-learn's, so the same ``random_state`` gives
    scikit-learn's fit up to rounding.

    References
    ----------
    A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood from
    incomplete data via the EM algorithm", *Journal of the Royal Statistical
    Society B* 39(1), 1977.

    C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
    section 9.2.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.mixture import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> np.round(gm.means_[np.argsort(gm.means_[:, 0])], 6)
    array([[ 1.,  2.],
           [10.,  2.]])
    >>> gm.predict([[0, 0], [12, 3]]).tolist() == gm.predict([[1, 2], [10, 2]]).tolist()
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "random", "random_from_data", "k-means++"})],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3,
                 reg_covar=1e-6, max_iter=100, n_init=1, init_params="kmeans",
                 weights_init=None, means_init=None, precisions_init=None,
                 random_state=None, warm_start=False, verbose=0, verbose_interval=10):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # -- validation of the initial parameters ------------------------------------

    def _check_initial_parameters(self, n_features):
        K, ct = self.n_components, self.covariance_type
        weights = means = precisions = None
        if self.weights_init is not None:
            weights = check_array(self.weights_init, dtype=[np.float64, np.float32],
                                  ensure_2d=False)
            _check_shape(weights, (K,), "weights")
            if np.any(weights < 0.0) or np.any(weights > 1.0):
                raise ValueError(
                    "The parameter 'weights' should be in the range [0, 1], but got "
                    f"max value {weights.max():.5f}, min value {weights.min():.5f}")
            atol = 1e-6 if weights.dtype == np.float32 else 1e-8
            if not np.allclose(abs(1.0 - weights.sum()), 0.0, atol=atol):
                raise ValueError("The parameter 'weights' should be normalized, but got "
                                 f"sum(weights) = {weights.sum():.5f}")
            weights = weights.astype(np.float64)
        if self.means_init is not None:
            means = check_array(self.means_init, dtype=[np.float64, np.float32],
                                ensure_2d=False)
            _check_shape(means, (K, n_features), "means")
            means = means.astype(np.float64)
        if self.precisions_init is not None:
            precisions = check_array(self.precisions_init, dtype=[np.float64, np.float32],
                                     ensure_2d=False, allow_nd=ct == "full")
            shapes = {"full": (K, n_features, n_features),
                      "tied": (n_features, n_features),
                      "diag": (K, n_features), "spherical": (K,)}
            _check_shape(precisions, shapes[ct], f"{ct} precision")
            precisions = precisions.astype(np.float64)
            if ct in ("full", "tied"):
                for P in (precisions if ct == "full" else [precisions]):
                    if not (np.allclose(P, P.T) and np.all(np.linalg.eigvalsh(P) > 0.0)):
                        raise ValueError(
                            f"'{ct} precision' should be symmetric, positive-definite")
            elif np.any(precisions <= 0.0):
                raise ValueError(f"'{ct} precision' should be positive")
        return weights, means, precisions

    # -- initialisation ------------------------------------------------------------

    def _initial_resp(self, X, random_state):
        n, K = X.shape[0], self.n_components
        if self.init_params == "kmeans":
            resp = np.zeros((n, K))
            labels = KMeans(n_clusters=K, n_init=1, random_state=random_state).fit(X).labels_
            resp[np.arange(n), labels] = 1.0
        elif self.init_params == "random":
            resp = random_state.uniform(size=(n, K))
            resp /= resp.sum(axis=1)[:, None]
        elif self.init_params == "random_from_data":
            resp = np.zeros((n, K))
            resp[random_state.choice(n, size=K, replace=False), np.arange(K)] = 1.0
        else:  # k-means++
            resp = np.zeros((n, K))
            _, indices = _kmeans_plusplus(X, K, np.einsum("ij,ij->i", X, X),
                                          np.ones(n), random_state)
            resp[indices, np.arange(K)] = 1.0
        return resp

    def _initialize_parameters(self, X, random_state, inits):
        """Draw the initial responsibilities (unless every parameter is given), then
        :meth:`_initialize` from them."""
        if any(init is None for init in inits):
            resp = self._initial_resp(X, random_state)
        else:
            resp = None
        self._initialize(X, resp, inits)

    def _initialize(self, X, resp, inits=None):
        """Initial parameters from responsibilities ``resp`` (n_samples, n_components)
        and the user's ``weights_init``/``means_init``/``precisions_init``.

        ``_initialize(X, resp)`` is scikit-learn's signature (its tests call it);
        ``inits`` are the user parameters validated by ``fit``. Called directly,
        as scikit-learn's, it takes them as given (``fit`` checks their shapes
        against ``n_components``, this method does not).
        """
        if inits is None:
            inits = tuple(None if v is None else np.asarray(v, dtype=np.float64)
                          for v in (self.weights_init, self.means_init,
                                    self.precisions_init))
        weights_init, means_init, precisions_init = inits
        ct = self.covariance_type
        weights = means = covariances = None
        if resp is not None and (
                weights_init is None or means_init is None or precisions_init is None):
            X = _as_float64(np.asarray(X))
            resp = np.asarray(resp, dtype=np.float64)
            weights, means, covariances = _estimate_gaussian_parameters(
                X, resp, self.reg_covar, ct)
            weights = weights / X.shape[0]
        self.weights_ = weights if weights_init is None else weights_init.copy()
        self.means_ = means if means_init is None else means_init.copy()
        if precisions_init is None:
            self.covariances_ = covariances
            self.precisions_cholesky_ = _compute_precision_cholesky(covariances, ct)
        else:
            self.precisions_cholesky_ = _precision_cholesky_from_precisions(
                precisions_init, ct)
            if ct in ("full", "tied"):
                self.covariances_ = np.linalg.inv(precisions_init)
            else:
                self.covariances_ = 1.0 / precisions_init

    # -- EM ------------------------------------------------------------------------

    def _kernel(self):
        return _Kernel(self.weights_, self.means_, self.precisions_cholesky_,
                       self.covariance_type)

    def _em_step(self, XT):
        """One fused E+M pass over ``XT`` (d, n); returns the lower bound before the
        M-step (the average log-likelihood under the current parameters)."""
        total, nk, sd, S = self._kernel().em_pass(XT)
        self.weights_, self.means_, self.covariances_ = _m_step_from_stats(
            nk, sd, S, self.means_, self.reg_covar, self.covariance_type)
        self.precisions_cholesky_ = _compute_precision_cholesky(
            self.covariances_, self.covariance_type)
        return total / XT.shape[1]

    def _fit(self, X):
        self._validate_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        if X.shape[0] < self.n_components:
            raise ValueError("Expected n_samples >= n_components but got "
                             f"n_components = {self.n_components}, "
                             f"n_samples = {X.shape[0]}")
        X = _as_float64(X)
        XT = np.ascontiguousarray(X.T)  # the compiled passes read features contiguously
        inits = self._check_initial_parameters(X.shape[1])
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = self.n_init if do_init else 1
        max_lower_bound = -np.inf
        best_params, best_n_iter, best_lower_bounds = None, 0, []
        self.converged_ = False
        random_state = check_random_state(self.random_state)
        for init in range(n_init):
            self._verbose_init_beg(init)
            if do_init:
                self._initialize_parameters(X, random_state, inits)
            lower_bound = -np.inf if do_init else self.lower_bound_
            lower_bounds = []
            if self.max_iter == 0:
                best_params, best_n_iter = self._get_parameters(), 0
                continue
            converged = False
            for n_iter in range(1, self.max_iter + 1):
                previous = lower_bound
                lower_bound = self._em_step(XT)
                lower_bounds.append(lower_bound)
                change = lower_bound - previous
                self._verbose_iter_end(n_iter, change)
                if abs(change) < self.tol:
                    converged = True
                    break
            self._verbose_init_end(lower_bound, converged)
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound = lower_bound
                best_params = self._get_parameters()
                best_n_iter = n_iter
                best_lower_bounds = lower_bounds
                self.converged_ = converged
        if not self.converged_ and self.max_iter > 0:
            warnings.warn("Best performing initialization did not converge. Try different "
                          "init parameters, or increase max_iter, tol, or check for "
                          "degenerate data.", ConvergenceWarning, stacklevel=3)
        self._set_parameters(best_params)
        self.n_iter_ = best_n_iter
        self.lower_bound_ = max_lower_bound
        self.lower_bounds_ = best_lower_bounds
        return XT

    def _get_parameters(self):
        return (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)

    def _set_parameters(self, params):
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_ = params
        U = self.precisions_cholesky_
        if self.covariance_type == "full":
            self.precisions_ = U @ np.transpose(U, (0, 2, 1))
        elif self.covariance_type == "tied":
            self.precisions_ = U @ U.T
        else:
            self.precisions_ = U ** 2

    def fit(self, X, y=None):
        """Estimate the model parameters by EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted model.
        """
        self._fit(X)
        return self

    def fit_predict(self, X, y=None):
        """Estimate the model by EM and return the most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels, consistent with ``predict`` on the training data.
        """
        XT = self._fit(X)
        return np.argmax(self._kernel().weighted_log_prob(XT), axis=1)

    # -- predict-time methods --------------------------------------------------------

    def _weighted_log_prob(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self._kernel().weighted_log_prob(np.ascontiguousarray(X.T, dtype=np.float64))

    def score_samples(self, X):
        """Log-density of each sample under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to evaluate.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            ``log p(x_i)`` in nats.
        """
        return _logsumexp_rows(self._weighted_log_prob(X))

    def score(self, X, y=None):
        """Average log-density of the samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to evaluate.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        log_likelihood : float
            Mean of :meth:`score_samples`.
        """
        return float(np.mean(self.score_samples(X)))

    def predict(self, X):
        """Most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels.
        """
        return np.argmax(self._weighted_log_prob(X), axis=1)

    def predict_proba(self, X):
        """Posterior probability of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to evaluate.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            Responsibilities (rows sum to one).
        """
        wlp = self._weighted_log_prob(X)
        return np.exp(wlp - _logsumexp_rows(wlp)[:, None])

    def sample(self, n_samples=1):
        """Draw samples from the fitted mixture.

        The generator is ``check_random_state(random_state)``, as in
        scikit-learn: with an int ``random_state`` every call returns the same
        draws.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.
        y : ndarray of shape (n_samples,)
            The component each sample came from.
        """
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(f"Invalid value for 'n_samples': {n_samples} . The sampling "
                             "requires at least one sample.")
        d = self.means_.shape[1]
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        ct = self.covariance_type
        if ct == "full":
            parts = [rng.multivariate_normal(m, c, int(s))
                     for m, c, s in zip(self.means_, self.covariances_, counts)]
        elif ct == "tied":
            parts = [rng.multivariate_normal(m, self.covariances_, int(s))
                     for m, s in zip(self.means_, counts)]
        else:
            parts = [m + rng.standard_normal(size=(s, d)) * np.sqrt(c)
                     for m, c, s in zip(self.means_, self.covariances_, counts)]
        y = np.concatenate([np.full(int(s), k, dtype=np.int64) for k, s in enumerate(counts)])
        return np.vstack(parts).astype(np.float64), y

    def _n_parameters(self):
        K, d = self.means_.shape
        cov_params = {"full": K * d * (d + 1) / 2.0, "diag": K * d,
                      "tied": d * (d + 1) / 2.0, "spherical": K}[self.covariance_type]
        return int(cov_params + d * K + K - 1)

    def bic(self, X):
        """Bayesian information criterion on ``X`` (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        bic : float
            ``-2 log L + p log n`` with ``p`` free parameters.
        """
        n = np.asarray(X).shape[0] if hasattr(X, "shape") else len(X)
        return -2 * self.score(X) * n + self._n_parameters() * math.log(n)

    def aic(self, X):
        """Akaike information criterion on ``X`` (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        aic : float
            ``-2 log L + 2 p`` with ``p`` free parameters.
        """
        n = np.asarray(X).shape[0] if hasattr(X, "shape") else len(X)
        return -2 * self.score(X) * n + 2 * self._n_parameters()

    # -- verbose messages -------------------------------------------------------------

    def _verbose_init_beg(self, n_init):
        if self.verbose >= 1:
            print(f"Initialization {n_init}")
        if self.verbose >= 2:
            self._init_prev_time = self._iter_prev_time = time()

    def _verbose_iter_end(self, n_iter, diff_ll):
        if n_iter % self.verbose_interval != 0:
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        elif self.verbose >= 2:
            now = time()
            print(f"  Iteration {n_iter}\t time lapse {now - self._iter_prev_time:.5f}s\t "
                  f"ll change {diff_ll:.5f}")
            self._iter_prev_time = now

    def _verbose_init_end(self, lower_bound, converged):
        msg = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {msg}.")
        elif self.verbose >= 2:
            print(f"Initialization {msg}. time lapse {time() - self._init_prev_time:.5f}s"
                  f"\t lower bound {lower_bound:.5f}.")
