"""Gaussian naive Bayes, with incremental (Chan et al.) updates (chapter 7 of the notes)."""

from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..utils._classifier import PosteriorClassifierMixin
from ..utils._validation import check_finite_result


def _class_moments(X, y_ind, n_classes, sample_weight=None):
    """(Weighted) count, mean and biased variance of every feature in every class.

    Two passes through sparse one-hot products, no loop over classes or samples.
    Classes without (weight of) samples get zeros.
    """
    n_samples = X.shape[0]
    w = np.ones(n_samples) if sample_weight is None else sample_weight
    onehot = sparse.csr_matrix((w, (y_ind, np.arange(n_samples))),
                               shape=(n_classes, n_samples))
    counts = np.bincount(y_ind, weights=w, minlength=n_classes)
    safe = np.where(counts > 0, counts, 1.0)[:, None]
    mean = np.asarray(onehot @ X) / safe
    dev = X - mean[y_ind]
    np.square(dev, out=dev)
    var = np.asarray(onehot @ dev) / safe
    return counts, mean, var


def _combine_moments(n_past, mu_past, var_past, n_new, mu_new, var_new):
    r"""Pool two sets of (count, mean, variance) per class (Chan, Golub, LeVeque).

    .. math::

        n = n_a + n_b, \quad
        \mu = \frac{n_a \mu_a + n_b \mu_b}{n}, \quad
        n \sigma^2 = n_a \sigma_a^2 + n_b \sigma_b^2
                     + \frac{n_a n_b}{n} (\mu_a - \mu_b)^2 .

    Rows with ``n_new`` (numerically) zero keep the past moments; rows with
    ``n_past == 0`` take the new ones.
    """
    n_total = n_past + n_new
    safe = np.where(n_total > 0, n_total, 1.0)[:, None]
    a, b = n_past[:, None], n_new[:, None]
    mu = (a * mu_past + b * mu_new) / safe
    ssd = a * var_past + b * var_new + (a * b / safe) * (mu_past - mu_new) ** 2
    var = ssd / safe
    keep_past = np.isclose(n_new, 0.0)[:, None]
    take_new = (n_past == 0)[:, None] & ~keep_past
    mu = np.where(keep_past, mu_past, np.where(take_new, mu_new, mu))
    var = np.where(keep_past, var_past, np.where(take_new, var_new, var))
    return mu, var


def _gaussian_jll(X, theta, var, class_prior):
    r"""Joint log-likelihood :math:`\log \pi_k + \sum_j \log \mathcal N(x_j; \theta_{kj}, \sigma^2_{kj})`.

    The quadratic form is expanded into two matrix products, after shifting ``X``
    and ``theta`` by a common reference point (the mean of the class means) to
    keep the cancellation in the expansion small.
    """
    ref = theta.mean(axis=0)
    Xs = X - ref
    ts = theta - ref
    prec = 1.0 / var
    quad = (Xs * Xs) @ prec.T - 2.0 * (Xs @ (ts * prec).T)
    quad += np.sum(ts * ts * prec, axis=1)
    with np.errstate(divide="ignore"):
        log_prior = np.log(class_prior)
    const = log_prior - 0.5 * np.sum(np.log(2.0 * np.pi * var), axis=1)
    return const - 0.5 * np.maximum(quad, 0.0)


class GaussianNB(PosteriorClassifierMixin, BaseEstimator):
    r"""Gaussian naive Bayes: features independent and Gaussian given the class.

    Can be fitted incrementally with :meth:`partial_fit` (out-of-core or
    streaming data): the class means and variances are pooled exactly, batch
    after batch, with the update of Chan, Golub and LeVeque.

    Parameters
    ----------
    priors : array-like of shape (n_classes,), default=None
        Class prior probabilities (non-negative, summing to one). By default the
        (weighted) class frequencies of the training data.
    var_smoothing : float, default=1e-9
        Fraction of the largest feature variance added to every variance, for
        numerical stability.

    Attributes
    ----------
    class_count_ : ndarray of shape (n_classes,)
        (Weighted) number of training samples seen in each class.
    class_prior_ : ndarray of shape (n_classes,)
        Class prior probabilities.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    epsilon_ : float
        Absolute value added to the variances (``var_smoothing`` times the
        largest feature variance of the last batch).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
    var_ : ndarray of shape (n_classes, n_features)
        Variance of each feature in each class (plus ``epsilon_``).
    theta_ : ndarray of shape (n_classes, n_features)
        Mean of each feature in each class.

    See Also
    --------
    mlnotes.discriminant_analysis.QuadraticDiscriminantAnalysis : Full class
        covariances.

    Notes
    -----
    Chapter 7 of the notes (generative classifiers). The generative model is a
    Gaussian class-conditional density with a *diagonal* covariance,

    .. math::

        P(y = k) = \pi_k, \qquad
        p(x \mid y = k) = \prod_{j=1}^{p} \mathcal N(x_j;\, \theta_{kj}, \sigma^2_{kj}),

    whose maximum-likelihood estimates are the class frequencies
    :math:`\hat\pi_k = n_k / n`, the class means
    :math:`\hat\theta_{kj} = \frac{1}{n_k}\sum_{i: y_i = k} x_{ij}` and the
    (biased) class variances
    :math:`\hat\sigma^2_{kj} = \frac{1}{n_k}\sum_{i: y_i = k}(x_{ij} - \hat\theta_{kj})^2`
    (weighted sums with ``sample_weight``). Bayes' rule gives the joint
    log-likelihood

    .. math::

        \log p(x, y = k) = \log \pi_k
            - \frac12 \sum_{j=1}^{p} \Bigl[\log(2\pi\sigma^2_{kj})
            + \frac{(x_j - \theta_{kj})^2}{\sigma^2_{kj}}\Bigr],

    and the decision boundary :math:`\log p(x, y = k) = \log p(x, y = l)` is a
    quadric with axis-aligned principal axes; it is linear (as in LDA) when the
    two classes have the same variances.

    References
    ----------
    T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise
    algorithm for computing sample variances", Stanford CS report
    STAN-CS-79-773, 1979.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.naive_bayes import GaussianNB
    >>> X = np.array([[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]])
    >>> y = np.array([1, 1, 1, 2, 2, 2])
    >>> clf = GaussianNB().fit(X, y)
    >>> clf.predict([[-0.8, -1]])
    array([1])
    >>> online = GaussianNB().partial_fit(X[:3], y[:3], classes=[1, 2]).partial_fit(X[3:], y[3:])
    >>> np.allclose(online.theta_, clf.theta_) and np.allclose(online.var_, clf.var_)
    True
    """

    _parameter_constraints = {
        "priors": ["array-like", None],
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, priors=None, var_smoothing=1e-9):
        self.priors = priors
        self.var_smoothing = var_smoothing

    def fit(self, X, y, sample_weight=None):
        """Fit the class means, variances and priors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        return self._partial_fit(X, y, None, refit=True,
                                 sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one batch of samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that can appear in ``y``; required on the first call,
            and, if given later, equal to the first one.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()
        return self._partial_fit(X, y, classes, refit=False, sample_weight=sample_weight)

    def _partial_fit(self, X, y, classes, refit, sample_weight):
        first_call = refit or not hasattr(self, "classes_")
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=first_call)
        check_classification_targets(y)
        if refit:
            classes = np.unique(y)
        if first_call:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            # One class is allowed, as in scikit-learn: every prediction is that class.
            classes = np.unique(np.asarray(classes))
        elif classes is not None and not np.array_equal(self.classes_, np.unique(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {self.classes_!r}"
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        Xd = X.astype(np.float64, copy=False)
        known = classes if first_call else self.classes_
        y_ind = np.searchsorted(known, y)
        y_ind_clip = np.minimum(y_ind, known.shape[0] - 1)
        unknown = known[y_ind_clip] != y
        if np.any(unknown):
            raise ValueError(
                f"The target label(s) {np.unique(y[unknown])} in y do not exist in the "
                f"initial classes {known}."
            )
        n_classes, n_features = known.shape[0], X.shape[1]

        if first_call:
            class_prior = None
            if self.priors is not None:
                class_prior = np.asarray(self.priors, dtype=np.float64).ravel()
                if class_prior.shape[0] != n_classes:
                    raise ValueError("Number of priors must match number of classes.")
                if not np.isclose(class_prior.sum(), 1.0):
                    raise ValueError("The sum of the priors should be 1.")
                if np.any(class_prior < 0):
                    raise ValueError("Priors must be non-negative.")
            theta = np.zeros((n_classes, n_features))
            var = np.zeros((n_classes, n_features))
            count = np.zeros(n_classes)
        else:
            theta, count = self.theta_.astype(np.float64), self.class_count_.copy()
            var = self.var_.astype(np.float64) - self.epsilon_  # take the old smoothing out

        # Smoothing: a fraction of the largest feature variance of this batch.
        with np.errstate(over="ignore", invalid="ignore"):
            epsilon = self.var_smoothing * float(np.max(np.var(Xd, axis=0)))
            n_new, mu_new, var_new = _class_moments(Xd, y_ind, n_classes, sample_weight)
            theta, var = _combine_moments(count, theta, var, n_new, mu_new, var_new)
        check_finite_result(np.append(var, epsilon), "the class variances", self, Xd)
        check_finite_result(theta, "the class means", self, Xd)
        if first_call and epsilon == 0.0:
            # every feature constant (or one row): scikit-learn's epsilon is 0 and its
            # probabilities NaN (0 / 0); smoothing by var_smoothing itself (as if the
            # largest variance were 1) keeps them finite: the priors on such data
            epsilon = float(self.var_smoothing) or np.finfo(np.float64).tiny
        count = count + n_new
        var = var + epsilon

        self.classes_ = known
        self.epsilon_ = epsilon
        self.theta_ = theta.astype(X.dtype, copy=False)
        self.var_ = var.astype(X.dtype, copy=False)
        self.class_count_ = count.astype(X.dtype, copy=False)
        if self.priors is None:
            self.class_prior_ = (count / count.sum()).astype(X.dtype, copy=False)
        elif first_call:
            self.class_prior_ = class_prior.astype(X.dtype, copy=False)
        return self

    def _joint_log_likelihood(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return _gaussian_jll(X.astype(np.float64, copy=False), self.theta_.astype(np.float64),
                             self.var_.astype(np.float64),
                             self.class_prior_.astype(np.float64))

    def predict_joint_log_proba(self, X):
        """Joint log-probability :math:`\\log p(x, y = k)` of each sample and class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        jll : ndarray of shape (n_samples, n_classes)
            ``log P(y = k) + log p(x | y = k)``, columns in the order of ``classes_``.
        """
        return self._joint_log_likelihood(X)
