r"""Bayesian ridge regression by evidence maximisation (chapter 11 of the notes)."""

from math import log
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._base import FLOAT_DTYPES, LinearModelMixin, _preprocess_data

__all__ = ["BayesianRidge"]


class _SVDModel:
    """The centred, weighted data in the SVD basis ``X = U diag(s) V^T``.

    Everything one MacKay iteration needs costs ``O(K)`` or ``O(K p)`` here
    (``K = min(n, p)``): the posterior mean is ``V diag(s / (s^2 + r)) U^T y``
    with ``r = lambda / alpha``, and its residual sum of squares is
    ``||y_perp||^2 + sum_k (r / (s_k^2 + r) (U^T y)_k)^2``, where ``y_perp`` is
    the part of ``y`` outside the column space of ``X`` (computed once).
    """

    def __init__(self, X, y):
        U, self.s, self.Vt = linalg.svd(X, full_matrices=False, check_finite=False)
        self.eig = self.s**2
        self.Uty = U.T @ y
        self.sse_perp = float(np.sum((y - U @ self.Uty) ** 2))

    def posterior_mean(self, alpha, lambda_):
        """Posterior mean of the weights and the residual sum of squares it leaves."""
        ratio = lambda_ / alpha
        denom = self.eig + ratio
        coef = self.Vt.T @ (self.s / denom * self.Uty)
        sse = self.sse_perp + np.sum((ratio / denom * self.Uty) ** 2)
        return coef, sse


class BayesianRidge(RegressorMixin, LinearModelMixin, BaseEstimator):
    r"""Bayesian ridge regression: the ridge penalty and the noise level learned from the evidence.

    Parameters
    ----------
    max_iter : int, default=300
        Maximum number of evidence-maximisation iterations.
    tol : float, default=1e-3
        Stop when the L1 norm of the change of the posterior mean of the weights
        between two iterations is below ``tol``.
    alpha_1 : float, default=1e-6
        Shape of the Gamma prior over the noise precision ``alpha``.
    alpha_2 : float, default=1e-6
        Rate (inverse scale) of the Gamma prior over ``alpha``.
    lambda_1 : float, default=1e-6
        Shape of the Gamma prior over the weight precision ``lambda``.
    lambda_2 : float, default=1e-6
        Rate of the Gamma prior over ``lambda``.
    alpha_init : float, default=None
        Initial noise precision; ``None`` means ``1 / Var(y)``.
    lambda_init : float, default=None
        Initial weight precision; ``None`` means 1.
    compute_score : bool, default=False
        Record the log evidence at every iteration in ``scores_``.
    fit_intercept : bool, default=True
        Whether to fit an intercept (not a random variable of the model: the
        data are centred on their weighted means).
    copy_X : bool, default=True
        If False, ``X`` may be centred in place.
    verbose : bool, default=False
        Print the iteration at which the loop converged.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean of the weights.
    intercept_ : float
        Independent term; 0.0 when ``fit_intercept=False``.
    alpha_ : float
        Estimated precision of the noise.
    lambda_ : float
        Estimated precision of the weights.
    sigma_ : ndarray of shape (n_features, n_features)
        Posterior covariance of the weights.
    scores_ : ndarray of shape (n_iter_ + 1,)
        Log evidence (plus the log hyperpriors) at each iteration and at the
        final ``alpha_, lambda_``, if ``compute_score``; otherwise an empty list.
    n_iter_ : int
        Iterations run.
    X_offset_ : ndarray of shape (n_features,)
        Weighted mean of ``X`` that was subtracted (zeros without intercept).
    X_scale_ : ndarray of shape (n_features,)
        Ones (the features are not rescaled).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    Ridge : the same model with a fixed penalty ``alpha = lambda_ / alpha_``.

    Notes
    -----
    Chapter 11 of the notes (statistical justification: ridge regression as a
    posterior mean). The model is a Gaussian prior on the weights and a
    Gaussian likelihood of the (centred) targets,

    .. math::

        p(w \mid \lambda) = \mathcal N(w \mid 0, \lambda^{-1} I_p), \qquad
        p(y \mid X, w, \alpha) = \prod_{i=1}^n
            \mathcal N(y_i \mid x_i^\top w, \alpha^{-1}),

    with Gamma hyperpriors :math:`\alpha \sim \Gamma(\alpha_1, \alpha_2)`,
    :math:`\lambda \sim \Gamma(\lambda_1, \lambda_2)`. The posterior of the
    weights is Gaussian,

    .. math::

        p(w \mid y) = \mathcal N(w \mid \mu, \Sigma), \qquad
        \Sigma = (\lambda I + \alpha X^\top X)^{-1}, \qquad
        \mu = \alpha \Sigma X^\top y ,

    so :math:`\mu` is the ridge solution with penalty :math:`\lambda/\alpha`.
    The precisions maximise the log evidence (marginal likelihood)

    .. math::

        \log p(y \mid \alpha, \lambda) = \frac p2 \log\lambda + \frac n2 \log\alpha
        - \frac\alpha2 \|y - X\mu\|^2 - \frac\lambda2 \|\mu\|^2
        + \frac12 \log|\Sigma| - \frac n2 \log 2\pi

    (plus the log hyperpriors in ``scores_``). Setting its derivatives to zero
    gives MacKay's fixed-point updates, iterated to convergence,

    .. math::

        \gamma = \sum_k \frac{\alpha e_k}{\lambda + \alpha e_k}, \qquad
        \lambda \leftarrow \frac{\gamma + 2\lambda_1}{\|\mu\|^2 + 2\lambda_2}, \qquad
        \alpha \leftarrow \frac{n - \gamma + 2\alpha_1}{\|y - X\mu\|^2 + 2\alpha_2},

    where :math:`e_k` are the eigenvalues of :math:`X^\top X` and
    :math:`\gamma` the effective number of parameters. One SVD of :math:`X`
    makes every iteration cheap. With sample weights :math:`s_i`, row
    :math:`i` is scaled by :math:`\sqrt{s_i}` and :math:`n` becomes
    :math:`\sum_i s_i`. The predictive distribution at :math:`x` is
    :math:`\mathcal N(x^\top \mu + b, x^\top \Sigma x + 1/\alpha)`
    (``predict(X, return_std=True)``).

    References
    ----------
    D. J. C. MacKay, "Bayesian interpolation", *Neural Computation* 4(3), 1992.

    M. E. Tipping, "Sparse Bayesian learning and the relevance vector
    machine", *JMLR* 1, 2001 (appendix A).

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import BayesianRidge
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 3)
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.randn(50)
    >>> reg = BayesianRidge().fit(X, y)
    >>> np.round(reg.coef_, 1)
    array([ 1. , -2. ,  0.5])
    >>> mean, std = reg.predict(X[:2], return_std=True)
    >>> bool(np.all(std > 0.05)) and bool(np.all(std < 0.2))
    True
    """

    _parameter_constraints = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "alpha_1": [Interval(Real, 0, None, closed="left")],
        "alpha_2": [Interval(Real, 0, None, closed="left")],
        "lambda_1": [Interval(Real, 0, None, closed="left")],
        "lambda_2": [Interval(Real, 0, None, closed="left")],
        "alpha_init": [None, Interval(Real, 0, None, closed="left")],
        "lambda_init": [None, Interval(Real, 0, None, closed="left")],
        "compute_score": ["boolean"],
        "fit_intercept": ["boolean"],
        "copy_X": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, max_iter=300, tol=1e-3, alpha_1=1e-6, alpha_2=1e-6, lambda_1=1e-6,
                 lambda_2=1e-6, alpha_init=None, lambda_init=None, compute_score=False,
                 fit_intercept=True, copy_X=True, verbose=False):
        self.max_iter = max_iter
        self.tol = tol
        self.alpha_1 = alpha_1
        self.alpha_2 = alpha_2
        self.lambda_1 = lambda_1
        self.lambda_2 = lambda_2
        self.alpha_init = alpha_init
        self.lambda_init = lambda_init
        self.compute_score = compute_score
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        """Fit the model: evidence maximisation over ``alpha`` and ``lambda``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=FLOAT_DTYPES, y_numeric=True,
                             force_writeable=True, copy=self.copy_X)
        dtype = X.dtype
        y = y.astype(dtype, copy=False)
        n_samples, n_features = X.shape
        sw_sum, y_var = n_samples, y.var()
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype,
                                                 ensure_non_negative=True)
            sw_sum = sample_weight.sum()
            y_var = np.average((y - np.average(y, weights=sample_weight)) ** 2,
                               weights=sample_weight)
        X, y, X_offset, y_offset, _ = _preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sample_weight, copy=False
        )
        self.X_offset_ = X_offset
        self.X_scale_ = np.ones(n_features, dtype=dtype)

        eps = np.finfo(np.float64).eps
        alpha_ = 1.0 / (y_var + eps) if self.alpha_init is None else self.alpha_init
        lambda_ = 1.0 if self.lambda_init is None else self.lambda_init
        alpha_ = np.asarray(alpha_, dtype=dtype)
        lambda_ = np.asarray(lambda_, dtype=dtype)

        svd = _SVDModel(X, y)
        eig = svd.eig
        scores = []
        coef_old = None
        for iter_ in range(self.max_iter):
            coef, sse = svd.posterior_mean(alpha_, lambda_)
            if self.compute_score:
                scores.append(self._log_marginal_likelihood(
                    n_features, sw_sum, eig, alpha_, lambda_, coef, sse))
            # MacKay's fixed-point updates
            gamma = np.sum(alpha_ * eig / (lambda_ + alpha_ * eig))
            lambda_ = (gamma + 2 * self.lambda_1) / (np.sum(coef**2) + 2 * self.lambda_2)
            alpha_ = (sw_sum - gamma + 2 * self.alpha_1) / (sse + 2 * self.alpha_2)
            if iter_ != 0 and np.sum(np.abs(coef_old - coef)) < self.tol:
                if self.verbose:
                    print(f"Convergence after {iter_} iterations")
                break
            coef_old = coef
        self.n_iter_ = iter_ + 1

        if not (np.isfinite(alpha_) and np.isfinite(lambda_)):
            raise ValueError(
                f"Evidence maximisation diverged (alpha_={alpha_}, lambda_={lambda_}); the "
                "data may be degenerate (e.g. a constant or perfectly fitted target) or "
                "badly scaled."
            )
        self.alpha_, self.lambda_ = alpha_, lambda_
        coef, sse = svd.posterior_mean(alpha_, lambda_)
        self.coef_ = coef.astype(dtype, copy=False)
        if self.compute_score:
            scores.append(self._log_marginal_likelihood(
                n_features, sw_sum, eig, alpha_, lambda_, coef, sse))
            scores = np.array(scores)
        self.scores_ = scores

        # Sigma = V diag(1 / (alpha e + lambda)) V^T, with e = 0 outside the row
        # space of X (only the thin V is computed when n_samples < n_features).
        Vt = svd.Vt
        inv = 1.0 / (alpha_ * eig + lambda_)
        if Vt.shape[0] == n_features:
            sigma = Vt.T @ (inv[:, None] * Vt)
        else:
            sigma = Vt.T @ ((inv - 1.0 / lambda_)[:, None] * Vt)
            sigma[np.diag_indices(n_features)] += 1.0 / lambda_
        self.sigma_ = sigma.astype(dtype, copy=False)
        self._set_intercept(X_offset, y_offset)
        if not (np.all(np.isfinite(self.coef_)) and np.isfinite(self.intercept_)):
            raise ValueError("BayesianRidge produced non-finite coefficients; the input "
                             "may contain large values and need preprocessing.")
        return self

    def _log_marginal_likelihood(self, n_features, sw_sum, eig, alpha_, lambda_, coef, sse):
        """Log evidence plus the log Gamma hyperpriors (up to constants)."""
        # log|Sigma| = -sum_k log(lambda + alpha e_k), e_k = 0 beyond the rank
        logdet_sigma = -(np.sum(np.log(lambda_ + alpha_ * eig))
                         + (n_features - eig.size) * log(lambda_))
        score = self.lambda_1 * log(lambda_) - self.lambda_2 * lambda_
        score += self.alpha_1 * log(alpha_) - self.alpha_2 * alpha_
        score += 0.5 * (n_features * log(lambda_) + sw_sum * log(alpha_) - alpha_ * sse
                        - lambda_ * np.sum(coef**2) + logdet_sigma - sw_sum * log(2 * np.pi))
        return score

    def predict(self, X, return_std=False):
        """Predict with the posterior mean; optionally the predictive standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        return_std : bool, default=False
            Also return the standard deviation of the predictive distribution,
            :math:`\\sqrt{x^\\top \\Sigma x + 1/\\alpha}` (``x`` centred).

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
            Mean of the predictive distribution.
        y_std : ndarray of shape (n_samples,)
            Its standard deviation (only if ``return_std``).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        y_mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return y_mean
        Xc = X - self.X_offset_
        var = np.einsum("ij,ij->i", Xc @ self.sigma_, Xc)
        return y_mean, np.sqrt(var + 1.0 / self.alpha_)
