"""Bagging: averaging learners fitted on bootstrap samples (chapter 13 of the notes).

Each learner is fitted on rows drawn with (or without) replacement and, optionally,
on a random subset of the features: bagging, pasting, random subspaces and random
patches are the four combinations. The draws of learner ``b`` come from its own
seed, taken from ``random_state`` in the same order as scikit-learn takes them,
so the in-bag rows (``estimators_samples_``) are recomputed from the seeds instead
of being stored, and with the same base learner and an integer ``random_state``
the two libraries build the same ensemble.
"""

import warnings
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
)
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import delayed
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from ._weight_boosting import _input_tags_of, _member_inputs, _seed_estimator
from ..utils._parallel import parallel
from ._base import EnsembleSequenceMixin
from mlnotes.utils._random import check_random_state

__all__ = ["BaggingClassifier", "BaggingRegressor"]

_MAX_SEED = np.iinfo(np.int32).max


# ---------------------------------------------------------------------------
# Private computation: draws, fitting and prediction of a chunk of learners.
# ---------------------------------------------------------------------------


def _n_bootstrap_rows(n_samples, max_samples, sample_weight):
    """Number of rows each learner draws (``max_samples`` resolved)."""
    if max_samples is None:
        return n_samples
    if isinstance(max_samples, Integral):
        return int(max_samples)
    total = n_samples if sample_weight is None else sample_weight.sum()
    n_rows = max(int(max_samples * total), 1)
    if n_rows < max(10, n_samples ** (1 / 3)):
        what = ("the number of samples is" if sample_weight is None
                else "the total sum of sample weights is")
        warnings.warn(
            f"Using the fractional value max_samples={max_samples} when {what} {total} "
            f"results in a low number ({n_rows}) of bootstrap samples. We recommend "
            "passing `max_samples` as an integer instead.", stacklevel=3,
        )
    return n_rows


def _draw(rng, with_replacement, n_population, n_draws):
    if with_replacement:
        return rng.randint(0, n_population, n_draws)
    return sample_without_replacement(n_population, n_draws, random_state=rng)


def _draw_indices(seed, bootstrap_features, bootstrap, n_features, n_samples,
                  max_features, max_samples, sample_weight):
    """Feature and row indices of one learner, from its seed alone.

    Features first, then rows; with ``sample_weight`` the rows are drawn with
    probabilities proportional to the weights.
    """
    rng = check_random_state(seed)
    features = _draw(rng, bootstrap_features, n_features, max_features)
    if sample_weight is None:
        rows = _draw(rng, bootstrap, n_samples, max_samples)
    else:
        rows = rng.choice(n_samples, max_samples, replace=bootstrap,
                          p=sample_weight / np.sum(sample_weight))
    return features, rows


def _prefer(base):
    """Threads for trees (their fitting and prediction release the GIL), else joblib's
    default (processes), as scikit-learn's bagging."""
    module = type(base).__module__
    return "threads" if module.startswith(("mlnotes.tree", "sklearn.tree")) else None


def _partition(n_estimators, n_jobs):
    """Split ``n_estimators`` learners into contiguous, near-equal chunks."""
    n_jobs = min(effective_n_jobs(n_jobs), n_estimators)
    sizes = np.full(n_jobs, n_estimators // n_jobs, dtype=int)
    sizes[: n_estimators % n_jobs] += 1
    return n_jobs, [0] + np.cumsum(sizes).tolist()


def _fit_chunk(base, X, y, sample_weight, seeds, draw_args, start, total, verbose):
    """Fit the learners of one chunk (one joblib task)."""
    n_samples, n_features = X.shape
    max_features = draw_args["max_features"]
    subset_features = draw_args["bootstrap_features"] or max_features != n_features
    weights_rows = has_fit_parameter(base, "sample_weight")
    X, fit_kw = _member_inputs(base, X, order="F")
    estimators, features_list = [], []
    for i, seed in enumerate(seeds):
        if verbose > 1:
            print(f"Building estimator {start + i + 1} of {total}...")
        estimator = _seed_estimator(clone(base), seed)
        features, rows = _draw_indices(seed, n_features=n_features, n_samples=n_samples,
                                       sample_weight=sample_weight, **draw_args)
        if weights_rows:
            # a row drawn k times gets weight k: no copy of the rows
            counts = np.bincount(rows, minlength=n_samples)
            X_ = X[:, features] if subset_features else X
            estimator.fit(X_, y, sample_weight=counts, **fit_kw)
        else:
            X_ = X[rows]
            if subset_features:
                X_ = X_[:, features]
            estimator.fit(X_, y[rows], **fit_kw)
        estimators.append(estimator)
        features_list.append(features)
    return estimators, features_list


def _proba_chunk(estimators, features_list, X, n_classes):
    """Summed class probabilities (or votes) of one chunk of classifiers."""
    n_samples = X.shape[0]
    proba = np.zeros((n_samples, n_classes))
    X, kw = _member_inputs(estimators[0], X)
    for estimator, features in zip(estimators, features_list):
        Xf = X[:, features]
        if hasattr(estimator, "predict_proba"):
            p = estimator.predict_proba(Xf, **kw)
            if p.shape[1] == n_classes:
                proba += p
            else:  # a class was missing from this learner's sample
                proba[:, estimator.classes_] += p
        else:
            proba[np.arange(n_samples), estimator.predict(Xf, **kw).astype(np.intp)] += 1
    return proba


def _log_proba_chunk(estimators, features_list, X, n_classes):
    """``log(sum of probabilities)`` of one chunk, computed in log space."""
    log_proba = np.full((X.shape[0], n_classes), -np.inf)
    for estimator, features in zip(estimators, features_list):
        lp = estimator.predict_log_proba(X[:, features])
        cols = (slice(None) if lp.shape[1] == n_classes else estimator.classes_)
        log_proba[:, cols] = np.logaddexp(log_proba[:, cols], lp)
    return log_proba


def _decision_chunk(estimators, features_list, X):
    return sum(est.decision_function(X[:, f]) for est, f in zip(estimators, features_list))


def _predict_chunk(estimators, features_list, X):
    X, kw = _member_inputs(estimators[0], X)
    return sum(est.predict(X[:, f], **kw) for est, f in zip(estimators, features_list))


# ---------------------------------------------------------------------------
# Estimators.
# ---------------------------------------------------------------------------


def _base_has(attr):
    """``available_if`` check: the (fitted or given) base learner has ``attr``."""

    def check(self):
        if hasattr(self, "estimators_"):
            return hasattr(self.estimators_[0], attr)
        return hasattr(self._base(), attr)

    return check


class _BaseBagging(EnsembleSequenceMixin, MetaEstimatorMixin, BaseEstimator):
    """Fitting, draws and parallelism shared by the bagging classifier and regressor."""

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [None, Interval(Integral, 1, None, closed="left"),
                        Interval(RealNotInt, 0, 1, closed="right")],
        "max_features": [Interval(Integral, 1, None, closed="left"),
                         Interval(RealNotInt, 0, 1, closed="right")],
        "bootstrap": ["boolean"],
        "bootstrap_features": ["boolean"],
        "oob_score": ["boolean"],
        "warm_start": ["boolean"],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, estimator=None, n_estimators=10, *, max_samples=None,
                 max_features=1.0, bootstrap=True, bootstrap_features=False,
                 oob_score=False, warm_start=False, n_jobs=None, random_state=None,
                 verbose=0):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.bootstrap_features = bootstrap_features
        self.oob_score = oob_score
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _default_estimator(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _base(self):
        return self._default_estimator() if self.estimator is None else self.estimator

    def _base_input_tags(self):
        try:
            return _input_tags_of(self._base())
        except ImportError:  # mlnotes.tree not importable yet
            return None

    def _accept_sparse(self):
        tags = self._base_input_tags()
        return ["csr", "csc"] if tags is not None and tags.sparse else False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self._base_input_tags()
        tags.input_tags.sparse = bool(base is not None and base.sparse)
        tags.input_tags.allow_nan = bool(base is not None and base.allow_nan)
        return tags

    def _check_X(self, X):
        # NaN and infinities are left to the learners (which may impute them,
        # e.g. a pipeline), as in scikit-learn
        return validate_data(self, X, accept_sparse=self._accept_sparse(), dtype=None,
                             ensure_all_finite=False, reset=False)

    def fit(self, X, y, sample_weight=None):
        """Fit the ensemble on bootstrap samples of ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input samples (sparse only if the base learner accepts it).
        y : array-like of shape (n_samples,)
            Class labels (classification) or targets (regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Used as probabilities of the row draws (not passed to the learners).
            The frequency semantics of weights hold with ``bootstrap=True`` and
            an integer or float ``max_samples``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse=self._accept_sparse(), dtype=None,
                             ensure_all_finite=False, multi_output=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=None)
            if not self.bootstrap:
                warnings.warn(
                    f"When fitting {type(self).__name__} with sample_weight it is "
                    f"recommended to use bootstrap=True, got {self.bootstrap}."
                )
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        rng = check_random_state(self.random_state)
        n_samples = X.shape[0]
        self._n_samples = n_samples
        y = self._encode_y(y)
        self.estimator_ = self._base()

        max_samples = _n_bootstrap_rows(n_samples, self.max_samples, sample_weight)
        if not self.bootstrap and max_samples > n_samples:
            raise ValueError(
                f"Effective max_samples={max_samples} must be <= n_samples={n_samples} "
                "to be able to sample without replacement."
            )
        self._max_samples = max_samples
        if isinstance(self.max_features, Integral):
            max_features = self.max_features
        else:
            max_features = int(self.max_features * self.n_features_in_)
        if max_features > self.n_features_in_:
            raise ValueError("max_features must be <= n_features")
        self._max_features = max(1, int(max_features))
        self._sample_weight = sample_weight

        if self.oob_score and not self.bootstrap:
            raise ValueError("Out of bag estimation only available if bootstrap=True")
        if self.oob_score and self.warm_start:
            raise ValueError("Out of bag estimate only available if warm_start=False")
        if self.warm_start and hasattr(self, "oob_score_"):
            del self.oob_score_
        if not self.warm_start or not hasattr(self, "estimators_"):
            self.estimators_ = []
            self.estimators_features_ = []
            self._seeds = np.empty(0, dtype=int)

        n_new = self.n_estimators - len(self.estimators_)
        if n_new < 0:
            raise ValueError(
                f"n_estimators={self.n_estimators} must be larger or equal to "
                f"len(estimators_)={len(self.estimators_)} when warm_start==True"
            )
        if n_new == 0:
            warnings.warn("Warm-start fitting without increasing n_estimators does not "
                          "fit new trees.")
            return self

        if self.warm_start and self.estimators_:
            rng.randint(_MAX_SEED, size=len(self.estimators_))  # skip the seeds used
        seeds = rng.randint(_MAX_SEED, size=n_new)
        self._seeds = np.concatenate([self._seeds, seeds]) if self.warm_start else seeds

        draw_args = dict(bootstrap_features=self.bootstrap_features,
                         bootstrap=self.bootstrap, max_features=self._max_features,
                         max_samples=self._max_samples)
        n_jobs, starts = _partition(n_new, self.n_jobs)
        chunks = self._parallel(n_jobs)(
            delayed(_fit_chunk)(self.estimator_, X, y, sample_weight,
                                seeds[starts[j]:starts[j + 1]], draw_args, starts[j], n_new,
                                self.verbose)
            for j in range(n_jobs)
        )
        for estimators, features in chunks:
            self.estimators_ += estimators
            self.estimators_features_ += features

        if self.oob_score:
            self._set_oob_score(X, y)
        return self

    def _encode_y(self, y):
        if y.ndim == 1 or y.shape[1] == 1:
            return column_or_1d(y, warn=True)
        return y

    def _indices(self):
        for seed in self._seeds:
            yield _draw_indices(seed, self.bootstrap_features, self.bootstrap,
                                self.n_features_in_, self._n_samples, self._max_features,
                                self._max_samples, self._sample_weight)

    @property
    def estimators_samples_(self):
        """In-bag row indices of each learner, recomputed from its seed.

        Returns
        -------
        estimators_samples_ : list of ndarray
            For each learner, the indices of the rows it was fitted on (with
            repetitions when ``bootstrap=True``).
        """
        check_is_fitted(self)
        return [rows for _, rows in self._indices()]

    def _oob_masks(self):
        for rows in self.estimators_samples_:
            mask = np.ones(self._n_samples, dtype=bool)
            mask[rows] = False
            yield mask

    def _parallel(self, n_jobs):
        # one chunk runs here, under any backend (joblib's Dask backend ignores n_jobs)
        return parallel(n_jobs, verbose=self.verbose, prefer=_prefer(self.estimator_))

    def _chunks(self):
        n_jobs, starts = _partition(len(self.estimators_), self.n_jobs)
        return n_jobs, [(self.estimators_[a:b], self.estimators_features_[a:b])
                        for a, b in zip(starts, starts[1:])]


_PARAMS_DOC = """
    Parameters
    ----------
    estimator : object, default=None
        The base learner fitted on each random subset. ``None`` means
        :class:`mlnotes.tree.{tree}`.
    n_estimators : int, default=10
        Number of learners in the ensemble.
    max_samples : int or float, default=None
        Rows drawn for each learner (with replacement by default, see
        ``bootstrap``). ``None``: ``n_samples``; an int: that many; a float in
        (0, 1]: that fraction of ``n_samples`` (of the total sample weight when
        ``sample_weight`` is given).
    max_features : int or float, default=1.0
        Features drawn for each learner (without replacement by default). An
        int: that many; a float: ``max(1, int(max_features * n_features))``.
    bootstrap : bool, default=True
        Whether rows are drawn with replacement (bagging) or without (pasting).
    bootstrap_features : bool, default=False
        Whether features are drawn with replacement.
    oob_score : bool, default=False
        Whether to estimate the generalisation score on the out-of-bag rows
        (needs ``bootstrap=True``).
    warm_start : bool, default=False
        Reuse the learners of the previous ``fit`` and add new ones up to
        ``n_estimators``.
    n_jobs : int, default=None
        Number of joblib jobs for ``fit`` and prediction; ``None`` means 1
        unless in a :func:`joblib.parallel_backend` context, -1 all processors.
    random_state : int, RandomState instance or None, default=None
        Controls the row and feature draws and the seeds of the learners.
        ``None`` draws fresh entropy.
    verbose : int, default=0
        Verbosity of fitting and prediction.
"""


class BaggingClassifier(ClassifierMixin, _BaseBagging):
    __doc__ = r"""Bagging classifier: averages classifiers fitted on random subsets.

    Each learner sees a bootstrap sample of the rows (and optionally a random
    subset of the features); the ensemble predicts the class of largest mean
    predicted probability (a majority vote when the learners have no
    ``predict_proba``).
    """ + _PARAMS_DOC.format(tree="DecisionTreeClassifier") + r"""
    Attributes
    ----------
    estimator_ : estimator
        The base learner the ensemble is grown from (unfitted).
    estimators_ : list of estimators
        The fitted learners.
    estimators_samples_ : list of ndarray
        In-bag row indices of each learner.
    estimators_features_ : list of ndarray
        Feature indices of each learner.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_classes_ : int
        Number of classes.
    oob_score_ : float
        Out-of-bag accuracy (only with ``oob_score=True``).
    oob_decision_function_ : ndarray of shape (n_samples, n_classes)
        Out-of-bag class probabilities of each training row; NaN for a row
        that was in every learner's sample (only with ``oob_score=True``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    BaggingRegressor : the same for regression.
    AdaBoostClassifier : re-weights instead of resampling, sequentially.

    Notes
    -----
    Chapter 13 of the notes (bagging). Bagging averages :math:`B` predictors
    :math:`\hat f_b` fitted on bootstrap samples,
    :math:`\hat f(x) = \frac1B \sum_b \hat f_b(x)`. If each has variance
    :math:`\sigma^2` at :math:`x` and any two have correlation :math:`\rho`
    (they share the training set), then

    .. math::

        \operatorname{Var}\Big[\frac1B \sum_{b=1}^B \hat f_b(x)\Big]
        = \rho \sigma^2 + \frac{1 - \rho}{B} \sigma^2 ,

    while the bias is that of a single learner: averaging removes the second
    term as :math:`B` grows, so it helps most for unstable, low-bias learners
    such as deep trees (random subsets of the features lower :math:`\rho`).
    A given row is left out of a bootstrap sample of size :math:`n` with
    probability

    .. math::

        \Big(1 - \frac1n\Big)^n \xrightarrow[n\to\infty]{} e^{-1} \approx 0.368 ,

    so every row is *out of bag* for about a third of the learners, whose mean
    probability gives an almost free estimate of the test accuracy
    (``oob_score_``).

    References
    ----------
    L. Breiman, "Bagging predictors", *Machine Learning* 24(2), 1996.

    T. K. Ho, "The random subspace method for constructing decision forests",
    *IEEE Transactions on Pattern Analysis and Machine Intelligence* 20(8), 1998.

    G. Louppe and P. Geurts, "Ensembles on random patches", *ECML PKDD*, 2012.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from mlnotes.ensemble import BaggingClassifier
    >>> X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    >>> clf = BaggingClassifier(n_estimators=20, oob_score=True, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> len(clf.estimators_), clf.predict_proba(X[:2]).shape
    (20, (2, 2))
    >>> bool(clf.oob_score_ > 0.8)
    True
    """

    def __init__(self, estimator=None, n_estimators=10, *, max_samples=None,
                 max_features=1.0, bootstrap=True, bootstrap_features=False,
                 oob_score=False, warm_start=False, n_jobs=None, random_state=None,
                 verbose=0):
        super().__init__(estimator=estimator, n_estimators=n_estimators,
                         max_samples=max_samples, max_features=max_features,
                         bootstrap=bootstrap, bootstrap_features=bootstrap_features,
                         oob_score=oob_score, warm_start=warm_start, n_jobs=n_jobs,
                         random_state=random_state, verbose=verbose)

    def _default_estimator(self):
        from mlnotes.tree import DecisionTreeClassifier

        return DecisionTreeClassifier()

    def _encode_y(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.n_classes_ = len(self.classes_)
        return codes

    def _set_oob_score(self, X, y):
        n_samples = y.shape[0]
        X, _ = _member_inputs(self.estimator_, X)  # converted once for all learners
        sums = np.zeros((n_samples, self.n_classes_))
        for estimator, features, mask in zip(self.estimators_, self.estimators_features_,
                                             self._oob_masks()):
            if mask.any():
                sums[mask] += _proba_chunk([estimator], [features], X[mask],
                                           self.n_classes_)
        totals = sums.sum(axis=1)
        if (totals == 0).any():
            warnings.warn("Some inputs do not have OOB scores. This probably means too "
                          "few estimators were used to compute any reliable oob "
                          "estimates.")
        with np.errstate(invalid="ignore", divide="ignore"):
            self.oob_decision_function_ = sums / totals[:, None]
        self.oob_score_ = accuracy_score(y, np.argmax(sums, axis=1))

    def predict_proba(self, X):
        """Mean class probabilities of the learners (vote shares without them).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = self._check_X(X)
        n_jobs, chunks = self._chunks()
        parts = self._parallel(n_jobs)(
            delayed(_proba_chunk)(est, feat, X, self.n_classes_) for est, feat in chunks
        )
        return sum(parts) / len(self.estimators_)

    def predict(self, X):
        """Class of largest mean probability.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        proba = self.predict_proba(X)
        return self.classes_.take(np.argmax(proba, axis=1), axis=0)

    def predict_log_proba(self, X):
        """Logarithm of the mean class probabilities.

        Computed in log space (log-sum-exp of the learners' log-probabilities)
        when the learners have ``predict_log_proba``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        check_is_fitted(self)
        if not hasattr(self.estimator_, "predict_log_proba"):
            return np.log(self.predict_proba(X))
        X = self._check_X(X)
        n_jobs, chunks = self._chunks()
        parts = self._parallel(n_jobs)(
            delayed(_log_proba_chunk)(est, feat, X, self.n_classes_)
            for est, feat in chunks
        )
        log_proba = parts[0]
        for part in parts[1:]:
            log_proba = np.logaddexp(log_proba, part)
        return log_proba - np.log(len(self.estimators_))

    @available_if(_base_has("decision_function"))
    def decision_function(self, X):
        """Mean decision function of the learners.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        score : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The learners' decision functions averaged, columns in the order of
            ``classes_`` (one column for two classes).
        """
        check_is_fitted(self)
        X = self._check_X(X)
        n_jobs, chunks = self._chunks()
        parts = self._parallel(n_jobs)(
            delayed(_decision_chunk)(est, feat, X) for est, feat in chunks
        )
        return sum(parts) / len(self.estimators_)


class BaggingRegressor(RegressorMixin, _BaseBagging):
    __doc__ = r"""Bagging regressor: averages regressors fitted on random subsets.

    Each learner sees a bootstrap sample of the rows (and optionally a random
    subset of the features); the ensemble predicts their mean.
    """ + _PARAMS_DOC.format(tree="DecisionTreeRegressor") + r"""
    Attributes
    ----------
    estimator_ : estimator
        The base learner the ensemble is grown from (unfitted).
    estimators_ : list of estimators
        The fitted learners.
    estimators_samples_ : list of ndarray
        In-bag row indices of each learner.
    estimators_features_ : list of ndarray
        Feature indices of each learner.
    oob_score_ : float
        Out-of-bag :math:`R^2` (only with ``oob_score=True``).
    oob_prediction_ : ndarray of shape (n_samples,)
        Out-of-bag prediction of each training row; NaN for a row that was in
        every learner's sample (only with ``oob_score=True``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    BaggingClassifier : the same for classification.

    Notes
    -----
    Chapter 13 of the notes (bagging). The mean of :math:`B` learners of
    variance :math:`\sigma^2` and pairwise correlation :math:`\rho` has
    variance :math:`\rho\sigma^2 + (1-\rho)\sigma^2/B` and the bias of one
    learner; see :class:`BaggingClassifier` for the out-of-bag estimate.

    .. math::

        \hat f(x) = \frac1B \sum_{b=1}^B \hat f_b(x)

    References
    ----------
    L. Breiman, "Bagging predictors", *Machine Learning* 24(2), 1996.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from mlnotes.ensemble import BaggingRegressor
    >>> X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    >>> reg = BaggingRegressor(n_estimators=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> bool(reg.score(X, y) > 0.9)
    True
    """

    def __init__(self, estimator=None, n_estimators=10, *, max_samples=None,
                 max_features=1.0, bootstrap=True, bootstrap_features=False,
                 oob_score=False, warm_start=False, n_jobs=None, random_state=None,
                 verbose=0):
        super().__init__(estimator=estimator, n_estimators=n_estimators,
                         max_samples=max_samples, max_features=max_features,
                         bootstrap=bootstrap, bootstrap_features=bootstrap_features,
                         oob_score=oob_score, warm_start=warm_start, n_jobs=n_jobs,
                         random_state=random_state, verbose=verbose)

    def _default_estimator(self):
        from mlnotes.tree import DecisionTreeRegressor

        return DecisionTreeRegressor()

    def _set_oob_score(self, X, y):
        n_samples = y.shape[0]
        X, _ = _member_inputs(self.estimator_, X)  # converted once for all learners
        sums = np.zeros(n_samples)
        counts = np.zeros(n_samples)
        for estimator, features, mask in zip(self.estimators_, self.estimators_features_,
                                             self._oob_masks()):
            if mask.any():
                sums[mask] += _predict_chunk([estimator], [features], X[mask])
                counts[mask] += 1
        if (counts == 0).any():
            warnings.warn("Some inputs do not have OOB scores. This probably means too "
                          "few estimators were used to compute any reliable oob "
                          "estimates.")
            counts[counts == 0] = 1
        self.oob_prediction_ = sums / counts
        self.oob_score_ = r2_score(y, self.oob_prediction_)

    def predict(self, X):
        """Mean prediction of the learners.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted targets.
        """
        check_is_fitted(self)
        X = self._check_X(X)
        n_jobs, chunks = self._chunks()
        parts = self._parallel(n_jobs)(
            delayed(_predict_chunk)(est, feat, X) for est, feat in chunks
        )
        return sum(parts) / len(self.estimators_)
