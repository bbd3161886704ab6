"""Linear discriminant analysis: Gaussian classes with a shared covariance (chapter 7)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg, sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..linear_model._base import FLOAT_DTYPES, LinearClassifierMixin, proba_from_scores
from ..utils._validation import check_finite_result

# A Gram matrix X^T X gives the squared singular values of X with an absolute
# error of about eps * n_features * ||X||^2; the cut-off ``tol**2`` must sit
# above this many times that noise level, or the exact SVD is used instead.
_GRAM_SAFETY = 10.0


# ---------------------------------------------------------------------------
# Helpers shared by LDA and QDA (private: the maths, without the checks).
# ---------------------------------------------------------------------------

def _encode_labels(y):
    """Sorted class labels and the index of each sample's class."""
    classes, y_ind = np.unique(y, return_inverse=True)
    return classes, y_ind.reshape(-1)


def _check_n_classes(classes):
    if classes.shape[0] < 2:
        raise ValueError(
            "The number of classes has to be greater than one; got "
            f"{classes.shape[0]} class."
        )


def _class_means(X, y_ind, n_classes):
    """Per-class means through one sparse one-hot product, and the class counts."""
    n_samples = X.shape[0]
    onehot = sparse.csr_matrix(
        (np.ones(n_samples, dtype=X.dtype), (y_ind, np.arange(n_samples))),
        shape=(n_classes, n_samples),
    )
    counts = np.bincount(y_ind, minlength=n_classes)
    return np.asarray(onehot @ X) / counts[:, None], counts


def _split_by_class(X, y_ind, n_classes):
    """The rows of ``X`` of each class, as a list of contiguous arrays."""
    order = np.argsort(y_ind, kind="stable")
    bounds = np.cumsum(np.bincount(y_ind, minlength=n_classes))[:-1]
    return np.split(X[order], bounds)


def _is_constant(var, mean, n_samples):
    """Whether a variance is indistinguishable from 0 (error bound of the 2-pass formula)."""
    eps = np.finfo(np.float64).eps
    return var <= n_samples * eps * var + (n_samples * mean * eps) ** 2


def _ledoit_wolf_shrinkage(Z, gram):
    r"""Ledoit-Wolf shrinkage intensity of centred data ``Z`` with ``gram = Z^T Z``.

    With :math:`S = Z^\top Z / n` and :math:`\mu = \mathrm{tr}(S) / p`, the
    optimal weight of :math:`\mu I` is :math:`\min(\beta, \delta) / \delta` with
    :math:`\delta = \|S - \mu I\|_F^2 / p` and
    :math:`\beta = \frac{1}{p n^2} \sum_i \|z_i z_i^\top - S\|_F^2`; the sum
    collapses to :math:`\sum_i \|z_i\|^4 / n^2 - \|S\|_F^2 / n`.
    """
    n_samples, n_features = Z.shape
    if n_features == 1:
        return 0.0
    emp = gram / n_samples
    mu = np.trace(emp) / n_features
    row_norms2 = np.einsum("ij,ij->i", Z, Z)
    frob2 = np.sum(emp**2)
    beta = (row_norms2 @ row_norms2 / n_samples - frob2) / (n_features * n_samples)
    delta = (frob2 - 2.0 * mu * np.trace(emp) + n_features * mu**2) / n_features
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


def _covariance(Xc, shrinkage=None, mean=0.0):
    """(Shrunk) maximum-likelihood covariance of the centred block ``Xc``.

    ``shrinkage`` is None (empirical), a float in [0, 1] (convex combination
    with ``tr(S)/p * I``) or ``"auto"`` (Ledoit-Wolf on the standardised block,
    rescaled back; ``mean``, the block's mean before centring, tells
    near-constant features, which are left unscaled).
    """
    n_samples, n_features = Xc.shape
    if shrinkage is None:
        return Xc.T @ Xc / n_samples
    if isinstance(shrinkage, str):  # "auto"
        var = np.einsum("ij,ij->j", Xc, Xc) / n_samples
        scale = np.sqrt(var)
        scale[_is_constant(var, mean, n_samples)] = 1.0
        Z = Xc / scale
        gram = Z.T @ Z
        delta = _ledoit_wolf_shrinkage(Z, gram)
        cov = (1.0 - delta) * gram / n_samples
        cov.flat[:: n_features + 1] += delta * np.trace(gram) / (n_samples * n_features)
        return scale[:, None] * cov * scale[None, :]
    cov = Xc.T @ Xc / n_samples
    mu = np.trace(cov) / n_features
    cov *= 1.0 - shrinkage
    cov.flat[:: n_features + 1] += shrinkage * mu
    return cov


def _estimate_covariance(X, shrinkage=None, covariance_estimator=None):
    """Covariance of the (uncentred) block ``X``, by formula or by an estimator."""
    if covariance_estimator is not None:
        # A copy is fitted, never the user's object; scikit-learn accepts any
        # object with ``fit`` and ``covariance_``, so one that is not a
        # clonable estimator is deep-copied instead (``safe=False``).
        est = clone(covariance_estimator, safe=False)
        est.fit(X)
        if not hasattr(est, "covariance_"):
            raise ValueError(
                f"{type(est).__name__} does not have a covariance_ attribute; "
                "covariance_estimator must set one in fit."
            )
        return np.atleast_2d(np.asarray(est.covariance_, dtype=np.float64))
    mean = X.mean(axis=0)
    return _covariance(X - mean, shrinkage, mean)


def _within_class_covariance(X, y_ind, means, priors, shrinkage=None,
                             covariance_estimator=None):
    r"""Prior-weighted within-class covariance :math:`\sum_k \pi_k \hat\Sigma_k`."""
    n_classes, n_features = means.shape
    if covariance_estimator is None and not isinstance(shrinkage, str):
        # One weighted Gram matrix: sum_k pi_k / n_k * Xc_k^T Xc_k.
        counts = np.bincount(y_ind, minlength=n_classes)
        Xc = X - means[y_ind]
        w = (priors / counts)[y_ind]
        cov = Xc.T @ (Xc * w[:, None])
        if shrinkage:
            mu = np.trace(cov) / n_features
            cov *= 1.0 - shrinkage
            cov.flat[:: n_features + 1] += shrinkage * mu
        return cov
    cov = np.zeros((n_features, n_features))
    for k, Xk in enumerate(_split_by_class(X, y_ind, n_classes)):
        cov += priors[k] * _estimate_covariance(Xk, shrinkage, covariance_estimator)
    return cov


def _sqrt_eig_of_gram(A, tol):
    """Singular values (descending) and right singular vectors of ``A`` ((n, p), n >= p).

    Through the eigendecomposition of ``A^T A`` (``n p^2 / 2`` flops, no ``U``)
    when that is accurate: every kept eigenvalue (above ``tol**2``) at least
    ``1e6`` times the rounding noise of the Gram matrix (so it has six correct
    digits or more) and 100 times ``tol**2``, and every dropped one below
    ``tol**2 / 100``, so no singular value is near the cut-off. Otherwise through
    the exact SVD of ``A``. Returns ``(s, V)`` with ``V`` of shape ``(p, r)``.
    """
    n_features = A.shape[1]
    evals, evecs = linalg.eigh(A.T @ A, check_finite=False)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    noise = _GRAM_SAFETY * np.finfo(np.float64).eps * n_features * max(evals[0], 0.0)
    cut = tol * tol
    kept, dropped = evals[evals > cut], evals[evals <= cut]
    accurate = (
        kept.size > 0
        and kept[-1] >= max(1e6 * noise, 1e2 * cut)
        and noise <= 1e-2 * cut
        and (dropped.size == 0 or dropped[0] <= 1e-2 * cut)
    )
    if accurate:
        return np.sqrt(np.clip(evals, 0.0, None)), evecs
    _, s, Vt = linalg.svd(A, full_matrices=False, check_finite=False)
    return s, Vt.T


def _solve_svd(X, y_ind, means, priors, tol, max_components, store_covariance):
    """LDA by two SVDs: whiten the within-class scatter, then rotate the centroids.

    Returns a dict of the fitted attributes (``coef`` and ``intercept`` per class).
    """
    n_samples, n_features = X.shape
    n_classes = means.shape[0]
    out = {}
    if store_covariance:
        out["covariance_"] = _within_class_covariance(X, y_ind, means, priors)
    xbar = priors @ means
    Xc = X - means[y_ind]
    # 1) within-class scaling: standardise, then whiten by the SVD of the pooled data.
    # The standard deviation is taken of the data divided by its largest absolute
    # value, so values near 1e300 (squares overflow) or 1e-300 (squares underflow to
    # 0) are standardised as exactly as values near 1.
    peak = np.max(np.abs(Xc), axis=0) if n_samples else np.zeros(n_features)
    peak[peak == 0] = 1.0
    std = peak * np.sqrt(np.einsum("ij,ij->j", Xc / peak, Xc / peak) / n_samples)
    if not np.any(std > 0):
        raise ValueError(
            "Every feature of X is constant within each class, so the shared "
            "within-class covariance of LDA is zero and no discriminant direction "
            "exists; drop the constant features or add varying ones."
        )
    std[std == 0] = 1.0
    Xc *= 1.0 / std
    Xc *= 1.0 / np.sqrt(n_samples)
    if n_samples >= n_features:
        s, V = _sqrt_eig_of_gram(Xc, tol)
    else:
        _, s, Vt = linalg.svd(Xc, full_matrices=False, check_finite=False)
        V = Vt.T
    rank = int(np.sum(s > tol))
    if rank == 0:
        raise ValueError(
            f"The standardised within-class data of X has no singular value above "
            f"tol={tol}, so LDA's shared covariance is singular in every direction; "
            f"lower tol or drop the (near-)constant features."
        )
    scalings = (V[:, :rank] / std[:, None]) / s[:rank]
    # 2) between-class scaling: SVD of the weighted, whitened centroids.
    fac = 1.0 / (n_classes - 1)
    centroids = (np.sqrt(n_samples * priors * fac)[:, None] * (means - xbar)) @ scalings
    _, s, Vt = linalg.svd(centroids, full_matrices=False, check_finite=False)
    if max_components == 0:
        out["explained_variance_ratio_"] = np.empty((0,))
    else:
        out["explained_variance_ratio_"] = (s**2 / np.sum(s**2))[:max_components]
    rank = int(np.sum(s > tol * s[0]))
    scalings = scalings @ Vt.T[:, :rank]
    proj = (means - xbar) @ scalings
    coef = proj @ scalings.T
    with np.errstate(divide="ignore"):
        intercept = -0.5 * np.sum(proj**2, axis=1) + np.log(priors) - coef @ xbar
    out.update(scalings_=scalings, xbar_=xbar, coef_=coef, intercept_=intercept)
    return out


def _solve_lsqr(X, y_ind, means, priors, shrinkage, covariance_estimator):
    r"""LDA by solving :math:`\Sigma w_k = \mu_k` (least squares: singular-safe)."""
    cov = _within_class_covariance(X, y_ind, means, priors, shrinkage,
                                   covariance_estimator)
    check_finite_result(cov, "the within-class covariance", "LinearDiscriminantAnalysis", X)
    coef = linalg.lstsq(cov, means.T, check_finite=False)[0].T
    with np.errstate(divide="ignore"):
        intercept = -0.5 * np.einsum("ij,ij->i", means, coef) + np.log(priors)
    return {"covariance_": cov, "coef_": coef, "intercept_": intercept}


def _solve_eigen(X, y_ind, means, priors, shrinkage, covariance_estimator,
                 max_components):
    r"""LDA by the generalised eigenproblem :math:`S_b v = \lambda S_w v` (Fisher)."""
    Sw = _within_class_covariance(X, y_ind, means, priors, shrinkage,
                                  covariance_estimator)
    St = _estimate_covariance(X, shrinkage, covariance_estimator)
    for cov in (Sw, St):
        check_finite_result(cov, "the covariance", "LinearDiscriminantAnalysis", X)
    msg = ("The within-class covariance matrix is singular, so solver='eigen' cannot "
           "whiten it; set shrinkage (e.g. 'auto') or use solver='svd'.")
    # Numerically singular (not only where the Cholesky factorisation happens to
    # break down): the smallest eigenvalue is at the rounding-noise level.
    w = linalg.eigvalsh(Sw, check_finite=False)
    if w[0] <= 10 * Sw.shape[0] * np.finfo(np.float64).eps * abs(w[-1]):
        raise linalg.LinAlgError(msg)
    try:
        evals, evecs = linalg.eigh(St - Sw, Sw, check_finite=False)
    except linalg.LinAlgError as exc:
        raise linalg.LinAlgError(f"{msg} ({exc})") from exc
    order = np.argsort(evals)[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sort(evals / np.sum(evals))[::-1][:max_components]
    evecs = evecs[:, order]
    coef = (means @ evecs) @ evecs.T
    with np.errstate(divide="ignore"):
        intercept = -0.5 * np.einsum("ij,ij->i", means, coef) + np.log(priors)
    return {"covariance_": Sw, "explained_variance_ratio_": ratio, "scalings_": evecs,
            "coef_": coef, "intercept_": intercept}


def _check_priors(priors, n_classes, name="priors"):
    # Always a copy: the fitted ``priors_`` must not share memory with the user's array.
    priors = np.array(priors, dtype=np.float64, copy=True).ravel()
    if priors.shape[0] != n_classes:
        raise ValueError(
            f"The number of {name} ({priors.shape[0]}) must match the number of "
            f"classes ({n_classes})."
        )
    if not np.all(np.isfinite(priors)):
        raise ValueError(f"{name} must be finite; got {priors!r}.")
    if np.any(priors < 0):
        raise ValueError(f"{name} must be non-negative; got {priors!r}.")
    return priors


class LinearDiscriminantAnalysis(
    ClassNamePrefixFeaturesOutMixin, LinearClassifierMixin, TransformerMixin, BaseEstimator
):
    r"""Linear discriminant analysis: Gaussian classes sharing one covariance.

    A generative classifier: each class is a Gaussian with its own mean and a
    covariance common to all classes, and new points are classified by Bayes'
    rule, which gives a linear decision boundary. The same model projects the
    data onto the (at most ``n_classes - 1``) most discriminative directions
    (Fisher's discriminant) through :meth:`transform`.

    Parameters
    ----------
    solver : {"svd", "lsqr", "eigen"}, default="svd"
        - ``"svd"``: whitens the pooled within-class data by its singular value
          decomposition, then finds the directions spanned by the whitened class
          means by a second (small) SVD. Never forms the covariance matrix
          explicitly unless ``store_covariance=True``; handles rank-deficient
          data by dropping singular directions below ``tol``. The singular
          values come from the ``(n_features, n_features)`` Gram matrix when it
          determines them accurately, and from an SVD of the data otherwise.
        - ``"lsqr"``: solves :math:`\Sigma w_k = \mu_k` by least squares;
          supports shrinkage and ``covariance_estimator``; no :meth:`transform`.
        - ``"eigen"``: solves the generalised eigenproblem of the between- and
          within-class covariances; supports shrinkage, ``covariance_estimator``
          and :meth:`transform`; needs a non-singular within-class covariance.
    shrinkage : "auto" or float, default=None
        Shrinkage of the within-class covariances towards a multiple of the
        identity (``"lsqr"`` and ``"eigen"`` only): ``None`` for none, a float in
        [0, 1] for a fixed weight, ``"auto"`` for the Ledoit-Wolf weight
        (computed on standardised features).
    priors : array-like of shape (n_classes,), default=None
        Class prior probabilities; by default the class frequencies of ``y``.
        Renormalised (with a warning) if they do not sum to one.
    n_components : int, default=None
        Number of directions kept by :meth:`transform`, at most
        ``min(n_classes - 1, n_features)`` (the default).
    store_covariance : bool, default=False
        Whether the ``"svd"`` solver also computes ``covariance_`` (the other
        solvers always do).
    tol : float, default=1e-4
        Absolute threshold on the singular values of the standardised
        within-class data below which a direction is discarded (``"svd"`` only).
    covariance_estimator : estimator, default=None
        An estimator with ``fit`` and a ``covariance_`` attribute (e.g. from
        :mod:`sklearn.covariance`) used, instead of the maximum-likelihood
        formula, for each class covariance (``"lsqr"`` and ``"eigen"`` only;
        leave ``shrinkage=None``). Any object with ``fit`` will do; a clone (a
        deep copy if it is not an estimator) is fitted, the parameter is not changed.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_classes, n_features)
        Weight vector(s); shape ``(1, n_features)`` for two classes.
    intercept_ : ndarray of shape (n_classes,)
        Intercept term(s); shape ``(1,)`` for two classes.
    covariance_ : ndarray of shape (n_features, n_features)
        Prior-weighted within-class covariance :math:`\sum_k \pi_k \hat\Sigma_k`
        (biased estimates, possibly shrunk). For ``"svd"``, only with
        ``store_covariance=True``.
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Fraction of the between-class variance along each kept direction
        (``"svd"`` and ``"eigen"``).
    means_ : ndarray of shape (n_classes, n_features)
        Class means.
    priors_ : ndarray of shape (n_classes,)
        Class priors (sum to one).
    scalings_ : ndarray of shape (rank, n_classes - 1)
        The discriminant directions, scaled so the within-class covariance is
        the identity along them (``"svd"`` and ``"eigen"``).
    xbar_ : ndarray of shape (n_features,)
        Prior-weighted overall mean (``"svd"`` only).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    QuadraticDiscriminantAnalysis : One covariance per class (quadratic boundary).
    mlnotes.naive_bayes.GaussianNB : Diagonal covariance per class.

    Notes
    -----
    Chapter 7 of the notes (generative classifiers). The generative model is

    .. math::

        P(y = k) = \pi_k, \qquad x \mid y = k \sim \mathcal N(\mu_k, \Sigma),

    with maximum-likelihood estimates :math:`\hat\pi_k = n_k / n`,
    :math:`\hat\mu_k = \frac{1}{n_k}\sum_{i: y_i = k} x_i` and the pooled
    covariance :math:`\hat\Sigma = \sum_k \hat\pi_k \hat\Sigma_k`,
    :math:`\hat\Sigma_k = \frac{1}{n_k}\sum_{i: y_i = k}(x_i - \hat\mu_k)(x_i - \hat\mu_k)^\top`.
    Bayes' rule gives the log-posterior, up to a term common to all classes,

    .. math::

        \delta_k(x) = \log p(y = k \mid x) + c(x)
                    = x^\top \Sigma^{-1}\mu_k - \tfrac12 \mu_k^\top\Sigma^{-1}\mu_k
                      + \log \pi_k ,

    linear in :math:`x` because the quadratic term :math:`x^\top\Sigma^{-1}x` is
    the same for every class. The boundary between classes :math:`k` and
    :math:`l` is the hyperplane

    .. math::

        (\mu_k - \mu_l)^\top \Sigma^{-1} x
          = \tfrac12 (\mu_k - \mu_l)^\top \Sigma^{-1} (\mu_k + \mu_l)
            - \log\frac{\pi_k}{\pi_l} .

    Fisher's view gives the same directions: :math:`w` maximising the ratio
    :math:`w^\top S_b w / w^\top S_w w` of between- to within-class variance
    solves :math:`S_b w = \lambda S_w w`; :meth:`transform` projects on them.

    References
    ----------
    T. Hastie, R. Tibshirani, J. Friedman, *The Elements of Statistical
    Learning*, 2nd ed., Springer, 2009, section 4.3.

    R. O. Duda, P. E. Hart, D. G. Stork, *Pattern Classification*, 2nd ed.,
    Wiley, 2001, sections 2.6 and 3.8.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.discriminant_analysis import LinearDiscriminantAnalysis
    >>> X = np.array([[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]])
    >>> y = np.array([1, 1, 1, 2, 2, 2])
    >>> clf = LinearDiscriminantAnalysis().fit(X, y)
    >>> clf.predict([[-0.8, -1]])
    array([1])
    >>> clf.transform(X).shape
    (6, 1)
    """

    _parameter_constraints = {
        "solver": [StrOptions({"svd", "lsqr", "eigen"})],
        "shrinkage": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both"), None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "priors": ["array-like", None],
        "store_covariance": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "covariance_estimator": [HasMethods("fit"), None],
    }

    def __init__(self, solver="svd", shrinkage=None, priors=None, n_components=None,
                 store_covariance=False, tol=1e-4, covariance_estimator=None):
        self.solver = solver
        self.shrinkage = shrinkage
        self.priors = priors
        self.n_components = n_components
        self.store_covariance = store_covariance
        self.tol = tol
        self.covariance_estimator = covariance_estimator

    def fit(self, X, y):
        """Fit the class means, priors and the shared covariance.

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
        """
        self._validate_params()
        if self.solver == "svd":
            if self.shrinkage is not None:
                raise NotImplementedError("shrinkage not supported with 'svd' solver.")
            if self.covariance_estimator is not None:
                raise ValueError(
                    "covariance estimator is not supported with svd solver (the "
                    "covariance_estimator parameter); use solver='lsqr' or 'eigen'."
                )
        elif self.covariance_estimator is not None and self.shrinkage not in (None, 0):
            raise ValueError(
                "covariance_estimator and shrinkage parameters are not None. Only one of "
                "the two can be set."
            )
        X, y = validate_data(self, X, y, ensure_min_samples=2, dtype=FLOAT_DTYPES)
        check_classification_targets(y)
        self.classes_, y_ind = _encode_labels(y)
        _check_n_classes(self.classes_)
        n_samples, n_features = X.shape
        n_classes = self.classes_.shape[0]
        if n_samples == n_classes:
            raise ValueError("The number of samples must be more than the number of classes.")
        dtype = X.dtype
        X = X.astype(np.float64, copy=False)

        if self.priors is None:
            priors = np.bincount(y_ind, minlength=n_classes) / n_samples
        else:
            priors = _check_priors(self.priors, n_classes)
            if abs(priors.sum() - 1.0) > 1e-5:
                warnings.warn("The priors do not sum to 1. Renormalizing", UserWarning)
                priors = priors / priors.sum()

        max_components = min(n_classes - 1, n_features)
        if self.n_components is not None and self.n_components > max_components:
            raise ValueError(
                f"n_components cannot be larger than min(n_features, n_classes - 1) "
                f"(n_components={self.n_components}, the limit is {max_components})."
            )
        self._max_components = (
            max_components if self.n_components is None else self.n_components
        )

        means, _ = _class_means(X, y_ind, n_classes)
        if self.solver == "svd":
            fitted = _solve_svd(X, y_ind, means, priors, self.tol, self._max_components,
                                self.store_covariance)
        elif self.solver == "lsqr":
            fitted = _solve_lsqr(X, y_ind, means, priors, self.shrinkage,
                                 self.covariance_estimator)
        else:
            fitted = _solve_eigen(X, y_ind, means, priors, self.shrinkage,
                                  self.covariance_estimator, self._max_components)
        if n_classes == 2:  # one score: log-odds of classes_[1] against classes_[0]
            fitted["coef_"] = (fitted["coef_"][1] - fitted["coef_"][0])[None, :]
            fitted["intercept_"] = np.atleast_1d(
                fitted["intercept_"][1] - fitted["intercept_"][0]
            )
        for name in ("coef_", "scalings_"):
            if name in fitted:
                check_finite_result(
                    fitted[name], f"the fitted {name.rstrip('_')} (solver={self.solver!r})",
                    self, X)
        if np.any(np.isnan(fitted["intercept_"])) or np.any(fitted["intercept_"] == np.inf):
            check_finite_result(fitted["intercept_"], "the fitted intercept", self, X)
        self.means_ = means.astype(dtype, copy=False)
        self.priors_ = priors.astype(dtype, copy=False)
        for name, value in fitted.items():
            setattr(self, name, np.asarray(value).astype(dtype, copy=False))
        self._n_features_out = self._max_components
        return self

    def transform(self, X):
        """Project the data onto the discriminant directions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Projected data (for ``"svd"``, at most ``rank`` columns).
        """
        if self.solver == "lsqr":
            raise NotImplementedError(
                "transform not implemented for 'lsqr' solver (use 'svd' or 'eigen')."
            )
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        if self.solver == "svd":
            X_new = (X - self.xbar_) @ self.scalings_
        else:
            X_new = X @ self.scalings_
        return X_new[:, : self._max_components]

    def predict_proba(self, X):
        """Posterior class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            :math:`p(y = k \\mid x)`, columns in the order of ``classes_``.
        """
        return proba_from_scores(self.decision_function(X))

    def predict_log_proba(self, X):
        """Log posterior class probabilities (computed stably, without exp/log).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            :math:`\\log p(y = k \\mid x)`.
        """
        return proba_from_scores(self.decision_function(X), log=True)

    def decision_function(self, X):
        """Linear discriminant scores.

        Up to a term common to all classes, the log-posterior
        :math:`\\log p(y = k \\mid x)`; for two classes the log-odds
        :math:`\\log p(y = 1 \\mid x) - \\log p(y = 0 \\mid x)`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Scores, of ``classes_[1]`` only for two classes.
        """
        return super().decision_function(X)
