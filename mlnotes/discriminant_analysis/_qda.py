"""Quadratic discriminant analysis: one Gaussian per class (chapter 7 of the notes)."""

from numbers import Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..linear_model._base import FLOAT_DTYPES
from ..utils._classifier import PosteriorClassifierMixin
from ..utils._validation import check_finite_result
from ._lda import (
    _check_n_classes,
    _check_priors,
    _encode_labels,
    _estimate_covariance,
    _split_by_class,
)

# Use the eigendecomposition of the class Gram matrix instead of an SVD of the
# centred class data when the smallest eigenvalue is at least this fraction of
# the largest: the relative error of every eigenvalue is then below ~1e-8.
_GRAM_MIN_RATIO = 1e-7
# ... and only for tall class data (for short blocks the SVD costs about as much).
_GRAM_MIN_ASPECT = 4


def _class_axes_svd(Xc, reg_param):
    r"""Principal axes and variances of the centred class data ``Xc``.

    Returns ``(scaling, rotation)``: the variances :math:`s_j^2 / n_k` along the
    right singular vectors of ``Xc`` (descending), shrunk towards one,
    :math:`(1 - r) s_j^2 / n_k + r`.
    """
    n_samples, n_features = Xc.shape
    scaling = rotation = None
    if n_samples >= _GRAM_MIN_ASPECT * n_features:  # tall: the Gram matrix is cheaper
        evals, evecs = linalg.eigh(Xc.T @ Xc, check_finite=False)
        if evals[0] >= _GRAM_MIN_RATIO * evals[-1] > 0:
            scaling, rotation = evals[::-1] / n_samples, evecs[:, ::-1]
    if scaling is None:
        _, s, Vt = linalg.svd(Xc, full_matrices=False, check_finite=False)
        scaling, rotation = s**2 / n_samples, Vt.T
    return (1 - reg_param) * scaling + reg_param, rotation


def _class_axes_eigen(Xk, shrinkage, covariance_estimator):
    """Eigendecomposition (descending) of the (shrunk or estimated) class covariance."""
    cov = _estimate_covariance(Xk, shrinkage, covariance_estimator)
    scaling, rotation = linalg.eigh(cov, check_finite=False)
    return scaling[::-1], rotation[:, ::-1], cov


def _qda_scores(X, means, rotations, scalings, priors):
    r"""Log-posterior up to a common constant, :math:`\delta_k(x)`, for every class."""
    scores = np.empty((X.shape[0], means.shape[0]))
    with np.errstate(divide="ignore"):
        log_priors = np.log(priors)
    for k, (mean, R, S) in enumerate(zip(means, rotations, scalings)):
        W = R * (1.0 / np.sqrt(S))
        Z = X @ W
        Z -= mean @ W
        scores[:, k] = -0.5 * (np.einsum("ij,ij->i", Z, Z) + np.sum(np.log(S)))
        scores[:, k] += log_priors[k]
    return scores


class QuadraticDiscriminantAnalysis(PosteriorClassifierMixin, BaseEstimator):
    r"""Quadratic discriminant analysis: one Gaussian, with its own covariance, per class.

    A generative classifier: each class is a Gaussian with its own mean and
    covariance, and new points are classified by Bayes' rule, which gives a
    quadratic decision boundary.

    Parameters
    ----------
    solver : {"svd", "eigen"}, default="svd"
        - ``"svd"``: principal axes of each class from the singular value
          decomposition of its centred data (through the eigendecomposition of
          the class Gram matrix when that is accurate, i.e. when the class
          covariance is well conditioned); supports ``reg_param``. Each class
          needs more samples than features.
        - ``"eigen"``: eigendecomposition of each class covariance; supports
          ``shrinkage`` and ``covariance_estimator`` (``reg_param`` is ignored,
          as in scikit-learn 1.9).
    shrinkage : "auto" or float, default=None
        Shrinkage of each class covariance towards a multiple of the identity
        (``"eigen"`` only): ``None``, a float in [0, 1], or ``"auto"``
        (Ledoit-Wolf on standardised features).
    priors : array-like of shape (n_classes,), default=None
        Class prior probabilities; by default the class frequencies of ``y``.
    reg_param : float, default=0.0
        Regularisation of the class covariances (``"svd"`` only): the variances
        along the principal axes become ``(1 - reg_param) * S2 + reg_param``.
    store_covariance : bool, default=False
        Whether to store the class covariances in ``covariance_``.
    tol : float, default=1e-4
        Absolute threshold under which a (regularised) class variance makes the
        class covariance count as singular, which raises a ``LinAlgError``.
    covariance_estimator : estimator, default=None
        An estimator with ``fit`` and a ``covariance_`` attribute, used for each
        class covariance (``"eigen"`` only; leave ``shrinkage=None``). Any object
        with ``fit`` will do; a clone (a deep copy if it is not an estimator) is
        fitted, the parameter is not changed.

    Attributes
    ----------
    covariance_ : list of n_classes ndarray of shape (n_features, n_features)
        Class covariances (maximum-likelihood, regularised as used); only with
        ``store_covariance=True``.
    means_ : ndarray of shape (n_classes, n_features)
        Class means.
    priors_ : ndarray of shape (n_classes,)
        Class priors.
    rotations_ : list of n_classes ndarray of shape (n_features, n_k)
        Principal axes (eigenvectors of the covariance) of each class.
    scalings_ : list of n_classes ndarray of shape (n_k,)
        Variances along the principal axes of each class.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LinearDiscriminantAnalysis : One shared covariance (linear boundary).
    mlnotes.naive_bayes.GaussianNB : Diagonal class covariances.

    Notes
    -----
    Chapter 7 of the notes (generative classifiers). The generative model is

    .. math::

        P(y = k) = \pi_k, \qquad x \mid y = k \sim \mathcal N(\mu_k, \Sigma_k),

    with maximum-likelihood estimates :math:`\hat\pi_k = n_k / n`,
    :math:`\hat\mu_k = \frac{1}{n_k}\sum_{i: y_i = k} x_i` and
    :math:`\hat\Sigma_k = \frac{1}{n_k}\sum_{i: y_i = k}(x_i - \hat\mu_k)(x_i - \hat\mu_k)^\top
    = R_k \,\mathrm{diag}(s_k)\, R_k^\top`. Bayes' rule gives the log-posterior,
    up to a term common to all classes,

    .. math::

        \delta_k(x) = -\tfrac12 (x - \mu_k)^\top \Sigma_k^{-1} (x - \mu_k)
                      - \tfrac12 \log\lvert\Sigma_k\rvert + \log\pi_k
                    = -\tfrac12 \bigl\lVert \mathrm{diag}(s_k)^{-1/2} R_k^\top (x - \mu_k)
                      \bigr\rVert^2 - \tfrac12 \textstyle\sum_j \log s_{kj} + \log\pi_k ,

    and the boundary :math:`\delta_k(x) = \delta_l(x)` between two classes is a
    quadric: the term :math:`x^\top(\Sigma_l^{-1} - \Sigma_k^{-1})x` no longer
    cancels as it does in LDA.

    References
    ----------
    T. Hastie, R. Tibshirani, J. Friedman, *The Elements of Statistical
    Learning*, 2nd ed., Springer, 2009, section 4.3 (eq. 4.12).

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.discriminant_analysis import QuadraticDiscriminantAnalysis
    >>> X = np.array([[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]])
    >>> y = np.array([1, 1, 1, 2, 2, 2])
    >>> clf = QuadraticDiscriminantAnalysis().fit(X, y)
    >>> clf.predict([[-0.8, -1]])
    array([1])
    """

    _parameter_constraints = {
        "solver": [StrOptions({"svd", "eigen"})],
        "shrinkage": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both"), None],
        "priors": ["array-like", None],
        "reg_param": [Interval(Real, 0, 1, closed="both")],
        "store_covariance": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "covariance_estimator": [HasMethods("fit"), None],
    }

    def __init__(self, *, solver="svd", shrinkage=None, priors=None, reg_param=0.0,
                 store_covariance=False, tol=1.0e-4, covariance_estimator=None):
        self.solver = solver
        self.shrinkage = shrinkage
        self.priors = priors
        self.reg_param = reg_param
        self.store_covariance = store_covariance
        self.tol = tol
        self.covariance_estimator = covariance_estimator

    def fit(self, X, y):
        """Fit one Gaussian per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        numpy.linalg.LinAlgError
            If a class covariance is singular (rank below ``n_features`` after
            regularisation), as in scikit-learn; a subclass of ``ValueError``.
        """
        self._validate_params()
        if self.solver == "svd":
            if self.shrinkage is not None:
                raise NotImplementedError("shrinkage not supported with 'svd' solver.")
            if self.covariance_estimator is not None:
                raise ValueError(
                    "covariance_estimator is not supported with solver='svd'. "
                    "Try solver='eigen' instead."
                )
        elif self.covariance_estimator is not None and self.shrinkage not in (None, 0):
            raise ValueError(
                "covariance_estimator and shrinkage parameters are not None. Only one of "
                "the two can be set."
            )
        X, y = validate_data(self, X, y, dtype=FLOAT_DTYPES)
        check_classification_targets(y)
        self.classes_, y_ind = _encode_labels(y)
        _check_n_classes(self.classes_)
        n_samples, n_features = X.shape
        n_classes = self.classes_.shape[0]
        X = X.astype(np.float64, copy=False)
        if self.priors is None:
            self.priors_ = np.bincount(y_ind, minlength=n_classes) / n_samples
        else:
            self.priors_ = _check_priors(self.priors, n_classes)

        means, covs, scalings, rotations = [], [], [], []
        for label, Xk in zip(self.classes_, _split_by_class(X, y_ind, n_classes)):
            n_k = Xk.shape[0]
            if n_k == 1:
                raise ValueError(
                    f"y has only 1 sample in class {label}, covariance is ill defined."
                )
            mean = Xk.mean(axis=0)
            if self.solver == "svd":
                scaling, rotation = _class_axes_svd(Xk - mean, self.reg_param)
                cov = (rotation * scaling) @ rotation.T if self.store_covariance else None
            else:
                scaling, rotation, cov = _class_axes_eigen(
                    Xk, self.shrinkage, self.covariance_estimator
                )
            if np.sum(scaling > self.tol) < n_features:
                if self.solver == "svd" and n_k <= n_features:
                    raise linalg.LinAlgError(
                        f"The covariance matrix of class {label} is not full rank. When "
                        "using `solver='svd'` the number of samples in each class should "
                        f"be more than the number of features, but class {label} has "
                        f"{n_k} samples and {n_features} features. Try using "
                        "`solver='eigen'` and setting the parameter `shrinkage` for "
                        "regularization."
                    )
                param = "shrinkage" if self.solver == "eigen" else "reg_param"
                raise linalg.LinAlgError(
                    f"The covariance matrix of class {label} is not full rank. Increase "
                    f"the value of `{param}` to reduce the collinearity."
                )
            means.append(mean)
            covs.append(cov)
            scalings.append(scaling)
            rotations.append(rotation)
        check_finite_result(np.concatenate([np.ravel(s) for s in scalings]),
                            "the class covariances", self, X)
        if self.store_covariance:
            self.covariance_ = covs
        self.means_ = np.asarray(means)
        self.scalings_ = scalings
        self.rotations_ = rotations
        return self

    def _joint_log_likelihood(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        return _qda_scores(X.astype(np.float64, copy=False), self.means_,
                           self.rotations_, self.scalings_, self.priors_)

    def decision_function(self, X):
        """Quadratic discriminant scores.

        Up to a term common to all classes, the log-posterior
        :math:`\\log p(y = k \\mid x)`; for two classes the log-odds of
        ``classes_[1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Scores, of ``classes_[1]`` only for two classes.
        """
        scores = self._joint_log_likelihood(X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores
