"""AdaBoost: SAMME for classification, AdaBoost.R2 for regression (chapter 23 of the notes).

Both estimators share one boosting loop (:meth:`_BaseWeightBoosting.fit`); what a
round does is a private function of plain arrays (:func:`_samme_round`,
:func:`_r2_round`), so the maths is testable without the estimator around it. The
weak learner is any scikit-learn-compatible estimator; by default a tree of
:mod:`mlnotes.tree`, imported when it is first needed.

The random draws (the seed given to each weak learner, AdaBoost.R2's weighted
bootstrap) are taken from the generator in the same order as scikit-learn takes
them, so that with the same weak learner and an integer ``random_state`` the two
libraries build the same ensemble.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
    is_classifier,
)
from sklearn.metrics import accuracy_score, r2_score
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._tags import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)
from ._base import EnsembleSequenceMixin

__all__ = ["AdaBoostClassifier", "AdaBoostRegressor"]

_MAX_SEED = np.iinfo(np.int32).max


# ---------------------------------------------------------------------------
# Shared helpers of the ensembles.
# ---------------------------------------------------------------------------


def _seed_estimator(estimator, random_state):
    """Give every ``random_state`` parameter of ``estimator`` its own integer seed.

    The parameters are visited in sorted order (nested ones included), one draw
    each, as scikit-learn's ensembles do.
    """
    rng = check_random_state(random_state)
    seeds = {
        key: rng.randint(_MAX_SEED)
        for key in sorted(estimator.get_params(deep=True))
        if key == "random_state" or key.endswith("__random_state")
    }
    if seeds:
        estimator.set_params(**seeds)
    return estimator


_TREE_MODULES = ("mlnotes.tree", "sklearn.tree")


def _member_inputs(estimator, X, order="C"):
    """``X`` as the learners should receive it, and the keyword arguments to add.

    Trees convert their input to float32 and validate it again in every ``fit`` and
    ``predict``; once the ensemble has validated ``X``, it converts it once for all
    of them and passes ``check_input=False`` (as scikit-learn's forests do). The
    conversion is the one the trees would make, so the results do not change.
    Fitting prefers Fortran order (a column per feature), prediction C order.
    """
    if (not issparse(X) and X.ndim == 2
            and type(estimator).__module__.startswith(_TREE_MODULES)
            and has_fit_parameter(estimator, "check_input")):
        with np.errstate(over="ignore"):
            X32 = np.asarray(X, dtype=np.float32, order=order)
        # the check the trees' own validation would make after their cast
        # (NaN is a missing value the trees route; infinities are refused)
        if X32.dtype.kind == "f" and np.isinf(X32).any():
            raise ValueError(
                "Input X contains infinity or a value too large for dtype('float32')."
            )
        return X32, {"check_input": False}
    return X, {}


def _input_tags_of(estimator):
    """Input tags of ``estimator``, or ``None`` when it cannot be built yet."""
    if estimator is None:
        return None
    try:
        return get_tags(estimator).input_tags
    except Exception:  # pragma: no cover - a foreign object without tags
        return None


# ---------------------------------------------------------------------------
# Private computation: one boosting round of each algorithm.
# ---------------------------------------------------------------------------


def _samme_round(incorrect, sample_weight, n_classes, learning_rate, update=True):
    """One round of SAMME from the mistakes of the weak learner.

    Parameters
    ----------
    incorrect : ndarray of shape (n_samples,), dtype=bool
        Whether the weak learner misclassifies each training sample.
    sample_weight : ndarray of shape (n_samples,)
        Current (normalised, non-negative) sample weights.
    n_classes : int
        Number of classes ``K``.
    learning_rate : float
        Shrinkage ``eta`` of the learner's weight.
    update : bool, default=True
        Whether to compute the new sample weights (the last round skips it).

    Returns
    -------
    error : float
        Weighted error ``err``.
    alpha : float or None
        Weight of the learner, ``eta (log((1 - err) / err) + log(K - 1))``;
        ``None`` when ``err`` is 0 (perfect fit) or at least ``1 - 1/K`` (no
        better than chance), the two cases where boosting stops.
    sample_weight : ndarray of shape (n_samples,)
        Updated, unnormalised weights: misclassified samples are multiplied by
        ``exp(alpha)``; samples of weight 0 stay at 0.
    """
    error = float(np.mean(np.average(incorrect, weights=sample_weight, axis=0)))
    if error <= 0 or error >= 1.0 - 1.0 / n_classes:
        return error, None, sample_weight
    alpha = learning_rate * (np.log((1.0 - error) / error) + np.log(n_classes - 1.0))
    if update:
        sample_weight = np.where(incorrect & (sample_weight > 0),
                                 sample_weight * np.exp(alpha), sample_weight)
    return error, alpha, sample_weight


def _r2_losses(abs_error, loss):
    """AdaBoost.R2's per-sample losses in [0, 1] from the absolute errors."""
    error_max = abs_error.max()
    losses = abs_error / error_max if error_max != 0 else abs_error.copy()
    if loss == "square":
        losses **= 2
    elif loss == "exponential":
        losses = 1.0 - np.exp(-losses)
    return losses


def _r2_round(abs_error, sample_weight, loss, learning_rate, update=True):
    """One round of AdaBoost.R2 (Drucker, 1997) from the absolute errors.

    Parameters
    ----------
    abs_error : ndarray of shape (n_samples,)
        ``|y_i - h(x_i)|`` of the weak learner on every training sample.
    sample_weight : ndarray of shape (n_samples,)
        Current (normalised, non-negative) sample weights.
    loss : {"linear", "square", "exponential"}
        How the normalised error becomes a loss in [0, 1].
    learning_rate : float
        Shrinkage ``eta``.
    update : bool, default=True
        Whether to compute the new sample weights.

    Returns
    -------
    error : float
        Weighted average loss ``L``.
    alpha : float or None
        Weight of the learner, ``eta log(1 / beta)`` with ``beta = L / (1 - L)``;
        1.0 for a perfect fit (``L = 0``) and ``None`` when ``L >= 0.5``.
    sample_weight : ndarray of shape (n_samples,)
        Updated, unnormalised weights ``w_i beta^(eta (1 - L_i))``.
    """
    mask = sample_weight > 0
    losses = _r2_losses(abs_error[mask], loss)
    weights = sample_weight[mask]
    error = float((weights * losses).sum())
    if error <= 0:
        return 0.0, 1.0, sample_weight
    if error >= 0.5:
        return error, None, sample_weight
    beta = error / (1.0 - error)
    alpha = learning_rate * np.log(1.0 / beta)
    if update:
        sample_weight = sample_weight.copy()
        sample_weight[mask] = weights * np.power(beta, (1.0 - losses) * learning_rate)
    return error, alpha, sample_weight


def _weighted_median(predictions, weights):
    """Row-wise weighted median of ``predictions`` (n_samples, n_estimators).

    The smallest prediction whose cumulative weight (in increasing order of the
    predictions) reaches half the total weight.
    """
    order = np.argsort(predictions, axis=1)
    cdf = np.cumsum(weights[order], axis=1)
    at_median = (cdf >= 0.5 * cdf[:, -1:]).argmax(axis=1)
    rows = np.arange(predictions.shape[0])
    return predictions[rows, order[rows, at_median]]


# ---------------------------------------------------------------------------
# Estimators.
# ---------------------------------------------------------------------------


class _BaseWeightBoosting(EnsembleSequenceMixin, MetaEstimatorMixin, BaseEstimator):
    """The boosting loop shared by the AdaBoost classifier and regressor."""

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def _default_estimator(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _base_input_tags(self):
        if self.estimator is not None:
            return _input_tags_of(self.estimator)
        try:
            return _input_tags_of(self._default_estimator())
        except ImportError:  # mlnotes.tree not importable: no sparse support claimed
            return None

    def _accept_sparse(self):
        tags = self._base_input_tags()
        return ["csr", "csc"] if tags is not None and tags.sparse else False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self._base_input_tags()
        tags.input_tags.sparse = bool(base is not None and base.sparse)
        return tags

    def _check_X(self, X):
        return validate_data(self, X, accept_sparse=self._accept_sparse(), ensure_2d=True,
                             allow_nd=True, dtype=None, reset=False)

    def _validate_estimator(self):
        self.estimator_ = (self._default_estimator() if self.estimator is None
                           else self.estimator)

    def _make_estimator(self, random_state):
        estimator = _seed_estimator(clone(self.estimator_), random_state)
        self.estimators_.append(estimator)
        return estimator

    def fit(self, X, y, sample_weight=None):
        """Build a boosted ensemble from the training set ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input samples (sparse only if the weak learner accepts it).
        y : array-like of shape (n_samples,)
            Class labels (classification) or targets (regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Initial sample weights; ``None`` gives each sample ``1 / n_samples``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, accept_sparse=self._accept_sparse(),
                             ensure_2d=True, allow_nd=True, dtype=None,
                             y_numeric=not is_classifier(self))
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, copy=True,
                                             ensure_non_negative=True)
        sample_weight /= sample_weight.sum()
        self._validate_estimator()
        self._prepare_targets(y)

        self.estimators_ = []
        self.estimator_weights_ = np.zeros(self.n_estimators, dtype=np.float64)
        self.estimator_errors_ = np.ones(self.n_estimators, dtype=np.float64)
        rng = check_random_state(self.random_state)
        eps = np.finfo(np.float64).eps
        X_fit, fit_kw = _member_inputs(self.estimator_, X, order="F")
        X_pred, predict_kw = _member_inputs(self.estimator_, X, order="C")
        data = (X_fit, fit_kw, X_pred, predict_kw)
        zero_weight = sample_weight == 0.0

        for iboost in range(self.n_estimators):
            # keep every weight away from 0 (underflow) except those that were 0
            sample_weight = np.clip(sample_weight, eps, None)
            sample_weight[zero_weight] = 0.0

            sample_weight, alpha, error = self._boost(iboost, data, y, sample_weight, rng)
            if sample_weight is None:  # weak learner no better than chance
                break
            self.estimator_weights_[iboost] = alpha
            self.estimator_errors_[iboost] = error
            if error == 0:  # perfect fit
                break
            total = np.sum(sample_weight)
            if not np.isfinite(total):
                warnings.warn(
                    "Sample weights have reached infinite values, at iteration "
                    f"{iboost}, causing overflow. Iterations stopped. Try lowering the "
                    "learning rate.", stacklevel=2,
                )
                break
            if total <= 0:
                break
            if iboost < self.n_estimators - 1:
                sample_weight /= total
        return self

    def _prepare_targets(self, y):
        """Hook run once before the rounds (the classifier finds its classes)."""

    def staged_score(self, X, y, sample_weight=None):
        """Score of the ensemble after each boosting round.

        Accuracy for the classifier, :math:`R^2` for the regressor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        y : array-like of shape (n_samples,)
            True labels or targets for ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights of the score.

        Yields
        ------
        score : float
            The score of the first ``t`` learners, ``t = 1, 2, ...``.
        """
        X = self._check_X(X)
        metric = accuracy_score if is_classifier(self) else r2_score
        for y_pred in self.staged_predict(X):
            yield metric(y, y_pred, sample_weight=sample_weight)

    @property
    def feature_importances_(self):
        """Impurity-based feature importances, averaged with the learner weights.

        Returns
        -------
        feature_importances_ : ndarray of shape (n_features,)
            ``sum_t alpha_t importances_t / sum_t alpha_t``.
        """
        check_is_fitted(self)
        if len(self.estimators_) == 0:
            raise ValueError(
                "Estimator not fitted, call `fit` before `feature_importances_`."
            )
        try:
            weights = self.estimator_weights_[: len(self.estimators_)]
            total = sum(w * est.feature_importances_
                        for w, est in zip(weights, self.estimators_))
        except AttributeError as exc:
            raise AttributeError(
                "Unable to compute feature importances since estimator does not have a "
                "feature_importances_ attribute"
            ) from exc
        return total / self.estimator_weights_.sum()


class AdaBoostClassifier(ClassifierMixin, _BaseWeightBoosting):
    r"""AdaBoost classifier: multi-class AdaBoost by the SAMME algorithm.

    Fits a sequence of weak classifiers, each on the training set re-weighted
    towards the samples its predecessors misclassified, and predicts by a
    weighted vote of all of them.

    Parameters
    ----------
    estimator : object, default=None
        The weak learner. It must accept ``sample_weight`` in ``fit``. ``None``
        means :class:`mlnotes.tree.DecisionTreeClassifier` with ``max_depth=1``
        (a decision stump).
    n_estimators : int, default=50
        Maximum number of boosting rounds; fewer if a learner fits perfectly or
        is no better than chance. At least 1.
    learning_rate : float, default=1.0
        Shrinkage ``eta > 0`` of every learner's weight; smaller values need
        more rounds.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``random_state`` of each weak learner (only used when it has
        one). ``None`` draws fresh entropy.

    Attributes
    ----------
    estimator_ : estimator
        The weak learner the ensemble is grown from (unfitted).
    estimators_ : list of classifiers
        The fitted weak learners.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_classes_ : int
        Number of classes.
    estimator_weights_ : ndarray of shape (n_estimators,)
        Weight ``alpha_t`` of each learner (0 for rounds that were not run).
    estimator_errors_ : ndarray of shape (n_estimators,)
        Weighted training error ``err_t`` of each learner (1 for rounds that
        were not run).
    feature_importances_ : ndarray of shape (n_features,)
        Importances of the learners averaged with their weights (learners
        with a ``feature_importances_`` attribute only).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    AdaBoostRegressor : AdaBoost.R2 for regression.
    BaggingClassifier : averages learners fitted on bootstrap samples instead.

    Notes
    -----
    Chapter 23 of the notes (boosting). SAMME (stagewise additive modelling
    with a multi-class exponential loss) starts from uniform weights
    :math:`w_i = 1/n` (or the normalised ``sample_weight``) and for
    :math:`t = 1, \dots, T` fits :math:`h_t` to the weighted data, then

    .. math::

        \mathrm{err}_t = \frac{\sum_i w_i \, \mathbb 1[y_i \ne h_t(x_i)]}{\sum_i w_i},
        \qquad
        \alpha_t = \eta \Big( \log\frac{1 - \mathrm{err}_t}{\mathrm{err}_t}
                   + \log(K - 1) \Big),
        \qquad
        w_i \leftarrow w_i \, e^{\alpha_t \mathbb 1[y_i \ne h_t(x_i)]} ,

    and renormalises the weights. The :math:`\log(K-1)` term makes
    :math:`\alpha_t > 0` as soon as the learner beats chance,
    :math:`\mathrm{err}_t < 1 - 1/K`; for :math:`K = 2` it is AdaBoost.M1 (with
    :math:`\alpha_t` twice Freund and Schapire's, which changes no decision).
    Boosting stops early when :math:`\mathrm{err}_t = 0` (the learner is kept
    with weight 1) or :math:`\mathrm{err}_t \ge 1 - 1/K` (the learner is
    dropped). The decision function is the normalised vote

    .. math::

        f_k(x) = \frac{1}{\sum_t \alpha_t} \sum_t \alpha_t
                 \Big( \mathbb 1[h_t(x) = k]
                       - \tfrac{1}{K-1} \mathbb 1[h_t(x) \ne k] \Big),

    the prediction :math:`\arg\max_k f_k(x)`, and the probabilities
    :math:`\mathrm{softmax}(f(x) / (K - 1))`.

    *Exponential-loss view.* Code the label as the vector :math:`y^{(k)} = 1`
    for the true class and :math:`-1/(K-1)` otherwise, and fit an additive
    model :math:`f = \sum_t \beta_t g_t` forward stagewise under the loss
    :math:`L(y, f) = \exp(-\tfrac1K y^\top f)`. At step :math:`t`, the loss of
    the current model enters only as the sample weights
    :math:`w_i \propto \exp(-\tfrac1K y_i^\top f_{t-1}(x_i))`; the best
    :math:`g_t` minimises the weighted error, the optimal step is
    :math:`\beta_t = \frac{(K-1)^2}{K} \big( \log\frac{1-\mathrm{err}_t}
    {\mathrm{err}_t} + \log(K-1) \big)`, proportional to :math:`\alpha_t`,
    and the weight update above is exactly :math:`w_i \leftarrow w_i
    \exp(-\tfrac1K \beta_t y_i^\top g_t(x_i))` after normalisation. For
    :math:`K = 2` this is :math:`\exp(-y f)` and the training error obeys

    .. math::

        \frac1n \sum_i \mathbb 1[y_i f_T(x_i) \le 0]
        \le \prod_{t=1}^T 2 \sqrt{\mathrm{err}_t (1 - \mathrm{err}_t)} ,

    which decays exponentially while every :math:`\mathrm{err}_t` stays below
    :math:`1/2 - \gamma`.

    References
    ----------
    Y. Freund and R. E. Schapire, "A decision-theoretic generalization of
    on-line learning and an application to boosting", *Journal of Computer and
    System Sciences* 55(1), 1997.

    J. Zhu, H. Zou, S. Rosset and T. Hastie, "Multi-class AdaBoost",
    *Statistics and Its Interface* 2(3), 2009.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from mlnotes.ensemble import AdaBoostClassifier
    >>> X, y = make_classification(n_samples=1000, n_features=4, n_informative=2,
    ...                            n_redundant=0, random_state=0, shuffle=False)
    >>> clf = AdaBoostClassifier(n_estimators=100, random_state=0).fit(X, y)
    >>> len(clf.estimators_), clf.estimator_weights_.shape
    (100, (100,))
    >>> clf.predict([[0, 0, 0, 0]])
    array([1])
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    def __init__(self, estimator=None, *, n_estimators=50, learning_rate=1.0,
                 random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.random_state = random_state

    def _default_estimator(self):
        from mlnotes.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=1)

    def _validate_estimator(self):
        super()._validate_estimator()
        if not has_fit_parameter(self.estimator_, "sample_weight"):
            raise ValueError(
                f"{self.estimator.__class__.__name__} doesn't support sample_weight."
            )

    def _prepare_targets(self, y):
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        self.n_classes_ = len(self.classes_)

    def _boost(self, iboost, data, y, sample_weight, rng):
        X_fit, fit_kw, X_pred, predict_kw = data
        estimator = self._make_estimator(rng)
        estimator.fit(X_fit, y, sample_weight=sample_weight, **fit_kw)
        incorrect = estimator.predict(X_pred, **predict_kw) != y
        last = iboost == self.n_estimators - 1
        error, alpha, new_weight = _samme_round(incorrect, sample_weight, self.n_classes_,
                                                self.learning_rate, update=not last)
        if error <= 0:
            return sample_weight, 1.0, 0.0
        if alpha is None:  # no better than chance: drop it and stop
            self.estimators_.pop()
            if not self.estimators_:
                raise ValueError(
                    "BaseClassifier in AdaBoostClassifier ensemble is worse than random, "
                    "ensemble can not be fit."
                )
            return None, None, None
        return new_weight, alpha, error

    # ----------------------------------------------------------- prediction

    def _votes(self, X):
        """Yield ``(alpha_t, per-class vote of learner t)``, shape (n_samples, K)."""
        K = self.n_classes_
        classes = self.classes_
        X, kw = _member_inputs(self.estimator_, X)
        for estimator, alpha in zip(self.estimators_, self.estimator_weights_):
            if K == 1:  # one class: every learner votes for it, nothing to compare
                yield alpha, np.zeros((_num_samples(X), 1))
                continue
            match = estimator.predict(X, **kw)[:, None] == classes[None, :]
            yield alpha, np.where(match, alpha, -alpha / (K - 1))

    def _finish_decision(self, score, norm):
        score = score / norm
        if self.n_classes_ == 2:
            return score[:, 1] - score[:, 0]
        return score

    def decision_function(self, X):
        """Normalised weighted vote of the learners.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        score : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``f_k(x)`` per class, in the order of ``classes_``; for two classes
            the single column ``f_1(x) - f_0(x)``, positive towards
            ``classes_[1]``.
        """
        check_is_fitted(self)
        X = self._check_X(X)
        if self.n_classes_ == 1:
            return np.zeros((_num_samples(X), 1))
        score = np.zeros((_num_samples(X), self.n_classes_))
        for _, vote in self._votes(X):
            score += vote
        return self._finish_decision(score, self.estimator_weights_.sum())

    def staged_decision_function(self, X):
        """Decision function after each boosting round.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Yields
        ------
        score : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The decision function of the first ``t`` learners.
        """
        check_is_fitted(self)
        X = self._check_X(X)
        score = np.zeros((_num_samples(X), max(self.n_classes_, 1)))
        norm = 0.0
        for alpha, vote in self._votes(X):
            norm += alpha
            score += vote
            yield self._finish_decision(score, norm)

    def _labels(self, decision):
        if self.n_classes_ == 2:
            return self.classes_.take(decision > 0, axis=0)
        return self.classes_.take(np.argmax(decision, axis=1), axis=0)

    def predict(self, X):
        """Predict the class with the largest weighted vote.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        return self._labels(self.decision_function(X))

    def staged_predict(self, X):
        """Predicted classes after each boosting round.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Yields
        ------
        y : ndarray of shape (n_samples,)
            The prediction of the first ``t`` learners.
        """
        for decision in self.staged_decision_function(X):
            yield self._labels(decision)

    @staticmethod
    def _proba_from_decision(decision, n_classes):
        """``softmax(f / (K - 1))``; for two classes ``softmax([-f, f] / 2)``."""
        if n_classes == 2:
            decision = np.column_stack([-decision, decision]) / 2.0
        else:
            decision = decision / (n_classes - 1)
        decision = decision - decision.max(axis=1, keepdims=True)
        proba = np.exp(decision)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict_proba(self, X):
        """Class probabilities ``softmax(f(x) / (K - 1))`` (Zhu et al., eq. 15).

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
        if self.n_classes_ == 1:
            return np.ones((_num_samples(self._check_X(X)), 1))
        return self._proba_from_decision(self.decision_function(X), self.n_classes_)

    def staged_predict_proba(self, X):
        """Class probabilities after each boosting round.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Yields
        ------
        proba : ndarray of shape (n_samples, n_classes)
            The probabilities of the first ``t`` learners.
        """
        for decision in self.staged_decision_function(X):
            if self.n_classes_ == 1:
                yield np.ones((decision.shape[0], 1))
            else:
                yield self._proba_from_decision(decision, self.n_classes_)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return np.log(self.predict_proba(X))


class AdaBoostRegressor(RegressorMixin, _BaseWeightBoosting):
    r"""AdaBoost regressor: the AdaBoost.R2 algorithm of Drucker (1997).

    Fits a sequence of regressors, each on a bootstrap sample drawn with the
    current sample weights as probabilities, re-weights towards the samples
    with a large error, and predicts the weighted median of all of them.

    Parameters
    ----------
    estimator : object, default=None
        The weak learner. ``None`` means
        :class:`mlnotes.tree.DecisionTreeRegressor` with ``max_depth=3``.
    n_estimators : int, default=50
        Maximum number of boosting rounds; fewer if a learner fits perfectly or
        its average loss reaches 1/2. At least 1.
    learning_rate : float, default=1.0
        Shrinkage ``eta > 0`` of each learner's weight and of the weight update.
    loss : {"linear", "square", "exponential"}, default="linear"
        Loss applied to the normalised absolute error when re-weighting.
    random_state : int, RandomState instance or None, default=None
        Controls the weighted bootstrap of every round and seeds the
        ``random_state`` of each weak learner. ``None`` draws fresh entropy.

    Attributes
    ----------
    estimator_ : estimator
        The weak learner the ensemble is grown from (unfitted).
    estimators_ : list of regressors
        The fitted weak learners.
    estimator_weights_ : ndarray of shape (n_estimators,)
        Weight ``alpha_t`` of each learner (0 for rounds that were not run).
    estimator_errors_ : ndarray of shape (n_estimators,)
        Average loss ``L_t`` of each learner (1 for rounds that were not run).
    feature_importances_ : ndarray of shape (n_features,)
        Importances of the learners averaged with their weights.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    AdaBoostClassifier : SAMME for classification.

    Notes
    -----
    Chapter 23 of the notes (boosting). Round :math:`t` draws a bootstrap
    sample with probabilities :math:`w_i`, fits :math:`h_t` on it, and
    measures every training sample's loss relative to the largest error,

    .. math::

        L_i = \ell\Big( \frac{|y_i - h_t(x_i)|}{\max_j |y_j - h_t(x_j)|} \Big),
        \qquad \ell(u) \in \{ u,\; u^2,\; 1 - e^{-u} \},
        \qquad \bar L_t = \sum_i w_i L_i .

    With the confidence :math:`\beta_t = \bar L_t / (1 - \bar L_t)` the weights
    and the learner's weight are

    .. math::

        w_i \leftarrow w_i \, \beta_t^{\eta (1 - L_i)} , \qquad
        \alpha_t = \eta \log \frac{1}{\beta_t} ,

    so samples predicted well lose weight. Boosting stops when
    :math:`\bar L_t = 0` or when :math:`\bar L_t \ge 1/2` (that learner is
    dropped unless it is the only one). The prediction is the weighted median
    of :math:`h_1(x), \dots, h_T(x)` with weights :math:`\alpha_t`: the
    smallest :math:`h_s(x)` with :math:`\sum_{t: h_t(x) \le h_s(x)} \alpha_t
    \ge \frac12 \sum_t \alpha_t`.

    References
    ----------
    H. Drucker, "Improving regressors using boosting techniques", *Proceedings
    of the 14th International Conference on Machine Learning*, 1997.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from mlnotes.ensemble import AdaBoostRegressor
    >>> X, y = make_regression(n_samples=200, n_features=4, n_informative=2,
    ...                        random_state=0)
    >>> reg = AdaBoostRegressor(n_estimators=30, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> bool(reg.score(X, y) > 0.8)
    True
    """

    _parameter_constraints = {
        **_BaseWeightBoosting._parameter_constraints,
        "loss": [StrOptions({"linear", "square", "exponential"})],
    }

    def __init__(self, estimator=None, *, n_estimators=50, learning_rate=1.0,
                 loss="linear", random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.loss = loss
        self.random_state = random_state

    def _default_estimator(self):
        from mlnotes.tree import DecisionTreeRegressor

        return DecisionTreeRegressor(max_depth=3)

    def _boost(self, iboost, data, y, sample_weight, rng):
        X_fit, fit_kw, X_pred, predict_kw = data
        estimator = self._make_estimator(rng)
        n_samples = _num_samples(X_pred)
        # weighted bootstrap: the weights are sampling probabilities
        rows = rng.choice(np.arange(n_samples), size=n_samples, replace=True,
                          p=sample_weight)
        estimator.fit(X_fit[rows], y[rows], **fit_kw)
        with np.errstate(over="ignore", invalid="ignore"):
            abs_error = np.abs(estimator.predict(X_pred, **predict_kw) - y)
        if not np.all(np.isfinite(abs_error)):
            raise ValueError(
                f"The errors of weak learner {iboost} are not finite (|y - h(x)| "
                "overflows float64): the targets y may contain values too large in "
                "magnitude and need to be rescaled."
            )
        last = iboost == self.n_estimators - 1
        error, alpha, new_weight = _r2_round(abs_error, sample_weight, self.loss,
                                             self.learning_rate, update=not last)
        if error <= 0:
            return sample_weight, 1.0, 0.0
        if alpha is None:  # average loss >= 1/2: drop it unless it is the only one
            if len(self.estimators_) > 1:
                self.estimators_.pop()
            return None, None, None
        return new_weight, alpha, error

    def _all_predictions(self, X):
        X, kw = _member_inputs(self.estimator_, X)
        return np.column_stack([est.predict(X, **kw) for est in self.estimators_])

    def predict(self, X):
        """Weighted median of the learners' predictions.

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
        weights = self.estimator_weights_[: len(self.estimators_)]
        return _weighted_median(self._all_predictions(X), weights)

    def staged_predict(self, X):
        """Weighted-median prediction after each boosting round.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Yields
        ------
        y : ndarray of shape (n_samples,)
            The prediction of the first ``t`` learners.
        """
        check_is_fitted(self)
        X = self._check_X(X)
        predictions = self._all_predictions(X)
        for t in range(1, len(self.estimators_) + 1):
            yield _weighted_median(predictions[:, :t], self.estimator_weights_[:t])
