"""Nearest centroid (nearest class mean) classifier, with shrunken centroids (chapter 2)."""

import warnings
from numbers import Real

import numpy as np
from scipy import sparse, special
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics.pairwise import pairwise_distances
from sklearn.utils.metaestimators import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.sparsefuncs import csc_median_axis_0
from sklearn.utils.validation import check_is_fitted, validate_data

_SCIPY_METRIC = {"euclidean": "euclidean", "manhattan": "cityblock"}


def _distances(X, centroids, metric):
    """Distances from every row of ``X`` to every centroid (dense or CSR ``X``)."""
    if sparse.issparse(X):
        return pairwise_distances(X, centroids, metric=metric)
    return cdist(X, centroids, metric=_SCIPY_METRIC[metric])


def _dense(A):
    return A.toarray() if sparse.issparse(A) else np.asarray(A)


def _centroids(X, y_ind, n_classes, metric):
    """Class means (``"euclidean"``) or feature-wise class medians (``"manhattan"``)."""
    n_samples, n_features = X.shape
    counts = np.bincount(y_ind, minlength=n_classes)
    if metric == "euclidean":
        onehot = sparse.csr_matrix(
            (np.ones(n_samples), (y_ind, np.arange(n_samples))), shape=(n_classes, n_samples)
        )
        return _dense(onehot @ X) / counts[:, None], counts
    order = np.argsort(y_ind, kind="stable")
    bounds = np.r_[0, np.cumsum(counts)]
    Xs = X[order]
    centroids = np.empty((n_classes, n_features))
    for k in range(n_classes):  # one median per class (there is no grouped median)
        block = Xs[bounds[k]:bounds[k + 1]]
        centroids[k] = (csc_median_axis_0(sparse.csc_matrix(block)) if sparse.issparse(X)
                        else np.median(block, axis=0))
    return centroids, counts


def _within_class_sq(X, y_ind, centroids, counts):
    r"""Per-feature :math:`\sum_i (x_{ij} - c_{y_i j})^2`; expanded for sparse ``X``."""
    if not sparse.issparse(X):
        dev = X - centroids[y_ind]
        return np.einsum("ij,ij->j", dev, dev)
    n_samples = X.shape[0]
    onehot = sparse.csr_matrix(
        (np.ones(n_samples), (y_ind, np.arange(n_samples))), shape=(centroids.shape[0], n_samples)
    )
    sums = _dense(onehot @ X)
    sq = np.asarray(X.multiply(X).sum(axis=0)).ravel()
    out = sq - 2.0 * np.sum(centroids * sums, axis=0) + counts @ centroids**2
    return np.maximum(out, 0.0)


class NearestCentroid(ClassifierMixin, BaseEstimator):
    r"""Nearest centroid classifier (optionally with shrunken centroids).

    Each class is represented by its centroid (mean, or median for the
    Manhattan metric) and a sample gets the class of the nearest centroid.

    Parameters
    ----------
    metric : {"euclidean", "manhattan"}, default="euclidean"
        Distance to the centroids. With ``"euclidean"`` the centroid is the
        class mean (it minimises the sum of squared distances); with
        ``"manhattan"`` it is the feature-wise median (it minimises the sum of
        absolute distances).
    shrink_threshold : float, default=None
        Threshold for shrinking the centroids towards the overall mean
        (nearest shrunken centroids); features whose standardised class
        deviations all shrink to zero no longer affect the prediction.
    priors : {"uniform", "empirical"} or array-like of shape (n_classes,), \
            default="uniform"
        Class priors, used by :meth:`decision_function` and
        :meth:`predict_proba` (and by :meth:`predict` when not uniform):
        ``"uniform"``, ``"empirical"`` (class frequencies) or given values
        (renormalised with a warning if they do not sum to one).

    Attributes
    ----------
    centroids_ : ndarray of shape (n_classes, n_features)
        Centroid of each class (after shrinking).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    deviations_ : ndarray of shape (n_classes, n_features)
        Standardised deviations :math:`d_{kj}` of the class centroids from the
        overall mean (soft-thresholded with ``shrink_threshold``).
    within_class_std_dev_ : ndarray of shape (n_features,)
        Pooled within-class standard deviation :math:`s_j` of each feature.
    class_prior_ : ndarray of shape (n_classes,)
        Class prior probabilities.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    mlnotes.discriminant_analysis.LinearDiscriminantAnalysis : The Gaussian
        model whose diagonal, equal-variance special case this is.

    Notes
    -----
    Chapter 2 of the notes (the nearest-mean classifier, the simplest
    prototype method). The rule is

    .. math::

        \hat y(x) = \arg\min_k \lVert x - c_k \rVert, \qquad
        c_k = \frac{1}{n_k}\sum_{i: y_i = k} x_i ,

    a linear boundary: :math:`\lVert x - c_k\rVert^2 - \lVert x - c_l\rVert^2`
    is affine in :math:`x`, so the classes are separated by the perpendicular
    bisectors of the centroids (a Voronoi diagram of the centroids). It is
    LDA with a shared isotropic covariance and equal priors. With shrinkage
    (Tibshirani et al. 2002), the standardised deviations
    :math:`d_{kj} = (c_{kj} - \bar x_j) / (m_k (s_j + s_0))`, with
    :math:`m_k = \sqrt{1/n_k - 1/n}` and :math:`s_0` the median of the
    :math:`s_j`, are soft-thresholded,
    :math:`d'_{kj} = \mathrm{sign}(d_{kj})(|d_{kj}| - \Delta)_+`, and the
    centroids become :math:`\bar x_j + m_k (s_j + s_0) d'_{kj}`. The
    discriminant score is
    :math:`\delta_k(x) = -\sum_j (x_j - c_{kj})^2 / s_j^2 + 2 \log \pi_k`.

    See the :ref:`User Guide <user-guide-neighbors>`.

    References
    ----------
    R. Tibshirani, T. Hastie, B. Narasimhan, G. Chu, "Diagnosis of multiple
    cancer types by shrunken centroids of gene expression", *PNAS* 99(10), 2002.

    T. Hastie, R. Tibshirani, J. Friedman, *The Elements of Statistical
    Learning*, 2nd ed., Springer, 2009, section 18.2.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.neighbors import NearestCentroid
    >>> X = np.array([[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]])
    >>> y = np.array([1, 1, 1, 2, 2, 2])
    >>> clf = NearestCentroid().fit(X, y)
    >>> clf.predict([[-0.8, -1]])
    array([1])
    >>> clf.centroids_
    array([[-2.        , -1.33333333],
           [ 2.        ,  1.33333333]])
    """

    _parameter_constraints = {
        "metric": [StrOptions({"manhattan", "euclidean"})],
        "shrink_threshold": [Interval(Real, 0, None, closed="neither"), None],
        "priors": ["array-like", StrOptions({"empirical", "uniform"})],
    }

    def __init__(self, metric="euclidean", *, shrink_threshold=None, priors="uniform"):
        self.metric = metric
        self.shrink_threshold = shrink_threshold
        self.priors = priors

    def fit(self, X, y):
        """Fit the class centroids.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Centroid shrinking is also supported for sparse ``X``.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"])
        if sparse.issparse(X):
            X = X.tocsr()
        check_classification_targets(y)
        self.classes_, y_ind = np.unique(y, return_inverse=True)
        y_ind = y_ind.reshape(-1)
        n_samples, n_features = X.shape
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise ValueError(
                f"The number of classes has to be greater than one; got {n_classes} class"
            )
        if isinstance(self.priors, str) and self.priors == "empirical":
            self.class_prior_ = np.bincount(y_ind, minlength=n_classes) / n_samples
        elif isinstance(self.priors, str):  # uniform
            self.class_prior_ = np.full(n_classes, 1.0 / n_classes)
        else:
            self.class_prior_ = np.asarray(self.priors, dtype=np.float64).ravel()
            if self.class_prior_.shape[0] != n_classes:
                raise ValueError(
                    f"The number of priors ({self.class_prior_.shape[0]}) must match the "
                    f"number of classes ({n_classes})."
                )
        if np.any(self.class_prior_ < 0):
            raise ValueError("priors must be non-negative")
        if not np.isclose(self.class_prior_.sum(), 1.0):
            warnings.warn(
                "The priors do not sum to 1. Normalizing such that it sums to one.",
                UserWarning,
            )
            self.class_prior_ = self.class_prior_ / self.class_prior_.sum()

        centroids, counts = _centroids(X, y_ind, n_classes, self.metric)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.within_class_std_dev_ = np.sqrt(
                _within_class_sq(X, y_ind, centroids, counts) / (n_samples - n_classes)
            )
        if n_samples == n_classes:
            # one sample per class: the pooled deviation has no degree of freedom
            # (0 / 0; scikit-learn keeps NaN and its decision_function raises);
            # as a zero deviation, the scores are plain squared distances
            self.within_class_std_dev_ = np.zeros(X.shape[1])
        if np.any(self.within_class_std_dev_ == 0):
            warnings.warn(
                "self.within_class_std_dev_ has at least 1 zero standard deviation. "
                "Inputs within the same classes for at least 1 feature are identical."
            )
        if sparse.issparse(X):
            constant = np.all((X.max(axis=0) - X.min(axis=0)).toarray() == 0)
        else:
            constant = np.all(np.ptp(X, axis=0) == 0)
        if constant:
            raise ValueError("All features have zero variance. Division by zero.")

        overall = np.asarray(X.mean(axis=0)).ravel()
        m = np.sqrt(1.0 / counts - 1.0 / n_samples)
        s = self.within_class_std_dev_ + np.median(self.within_class_std_dev_)
        ms = m[:, None] * s
        with np.errstate(divide="ignore", invalid="ignore"):
            self.deviations_ = (centroids - overall) / ms
        if self.shrink_threshold:
            d = self.deviations_
            self.deviations_ = np.sign(d) * np.maximum(np.abs(d) - self.shrink_threshold, 0)
            centroids = overall + ms * self.deviations_
        self.centroids_ = centroids
        return self

    def _validate_X(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return X.astype(np.float64, copy=False) if not sparse.issparse(X) else X

    def _discriminant(self, X):
        r"""Scores :math:`-\lVert (x - c_k) / s\rVert^2 + 2 \log \pi_k` (ESL eq. 18.2)."""
        X = self._validate_X(X)
        scale = np.where(self.within_class_std_dev_ != 0, self.within_class_std_dev_, 1.0)
        if sparse.issparse(X):
            Xn = X @ sparse.diags(1.0 / scale)
        else:
            Xn = X / scale
        dist = _distances(Xn, self.centroids_ / scale, self.metric)
        with np.errstate(divide="ignore"):
            return -(dist**2) + 2.0 * np.log(self.class_prior_)

    def predict(self, X):
        """Predict the class of the nearest centroid.

        With non-uniform priors, the class of largest discriminant score
        (distances standardised by ``within_class_std_dev_``, plus the log prior).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        if np.allclose(self.class_prior_, 1.0 / len(self.classes_)):
            X = self._validate_X(X)
            return self.classes_.take(
                _distances(X, self.centroids_, self.metric).argmin(axis=1)
            )
        return self.classes_.take(self._discriminant(X).argmax(axis=1))

    def _euclidean(self):
        return self.metric == "euclidean"

    @available_if(_euclidean)
    def decision_function(self, X):
        """Discriminant scores (euclidean metric only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            :math:`\\delta_k(x)`; for two classes :math:`\\delta_1(x) - \\delta_0(x)`.
        """
        scores = self._discriminant(X)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    @available_if(_euclidean)
    def predict_proba(self, X):
        """Class probabilities, the softmax of the discriminant scores (euclidean only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        return special.softmax(self._discriminant(X), axis=1)

    @available_if(_euclidean)
    def predict_log_proba(self, X):
        """Log class probabilities (euclidean metric only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        return special.log_softmax(self._discriminant(X), axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
