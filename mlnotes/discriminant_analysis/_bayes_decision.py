"""Bayes decision rule with a loss matrix, prior shift and reject option (chapter 6)."""

from numbers import Number, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._lda import _check_n_classes, _check_priors, _encode_labels
from ._qda import QuadraticDiscriminantAnalysis


def _check_loss(loss, n_classes):
    """Validate a loss matrix ``loss[i, j]`` = cost of predicting j when the truth is i."""
    if loss is None:
        return 1.0 - np.eye(n_classes)
    try:
        loss = np.asarray(loss, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"loss must be a numeric matrix; got {loss!r}.") from exc
    if loss.shape != (n_classes, n_classes):
        raise ValueError(
            f"loss must have shape (n_classes, n_classes) = ({n_classes}, {n_classes}); "
            f"got shape {loss.shape}."
        )
    if not np.all(np.isfinite(loss)):
        raise ValueError("loss must contain only finite values.")
    if np.any(loss < 0):
        raise ValueError(f"loss must be non-negative; got a minimum entry of {loss.min()}.")
    return loss


def _reweight_posteriors(proba, old_priors, new_priors):
    r"""Posteriors under new class priors: :math:`p'_k \propto p_k \pi'_k / \pi_k`.

    A row whose reweighted posteriors all vanish (the model puts all its mass on
    classes given prior 0) carries no information and gets the new priors.
    """
    proba = proba * (new_priors / old_priors)
    total = proba.sum(axis=1, keepdims=True)
    empty = total[:, 0] <= 0
    total[empty] = 1.0
    proba /= total
    proba[empty] = new_priors
    return proba


def _bayes_actions(proba, loss, reject_cost, zero_one):
    """Index of the action of least expected risk (``n_classes`` means reject)."""
    if zero_one:  # 0-1 loss: argmax of the posterior, exactly (no 1 - p rounding)
        best = proba.argmax(axis=1)
        best_risk = 1.0 - proba[np.arange(proba.shape[0]), best]
    else:
        risk = proba @ loss
        best = risk.argmin(axis=1)
        best_risk = risk[np.arange(risk.shape[0]), best]
    if reject_cost is not None:
        best = np.where(reject_cost < best_risk, proba.shape[1], best)
    return best


class BayesDecisionClassifier(ClassifierMixin, BaseEstimator):
    r"""Bayes decision rule on top of a probabilistic classifier.

    Fits a probabilistic classifier, optionally replaces the class priors it
    learned from the training frequencies, and predicts the action of least
    expected risk under a loss matrix, with an optional reject action of fixed
    cost (Chow's rule).

    Parameters
    ----------
    estimator : classifier, default=None
        Any classifier with ``fit`` and ``predict_proba``; a clone is fitted.
        ``None`` means :class:`QuadraticDiscriminantAnalysis`.
    loss : array-like of shape (n_classes, n_classes), default=None
        ``loss[i, j]`` is the cost of predicting class ``classes_[j]`` when the
        truth is ``classes_[i]``; non-negative and finite. ``None`` is the 0-1
        loss (``1 - identity``), whose Bayes rule is the class of largest
        posterior.
    priors : array-like of shape (n_classes,), default=None
        Class priors for the deployment population, replacing the training class
        frequencies: the posteriors are reweighted by ``priors / frequencies``
        and renormalised. Non-negative, summing to one. ``None`` keeps the
        training frequencies.
    reject_cost : float, default=None
        Cost of the reject action (non-negative). ``None`` disables rejection.
    reject_label : int, float or str, default=-1
        Label predicted for rejected samples; must not be a class label and must
        be of the classes' type (a string for string labels, a number for
        numeric labels). Only used when ``reject_cost`` is set.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies in the training data (the priors the estimator learned).
    priors_ : ndarray of shape (n_classes,)
        Priors used for the decisions: ``priors`` if given, else ``class_prior_``.
    loss_ : ndarray of shape (n_classes, n_classes)
        The loss matrix used (0-1 loss by default).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    QuadraticDiscriminantAnalysis : The default posterior model.
    sklearn.model_selection.TunedThresholdClassifierCV : Tunes a binary threshold
        on a score instead of deriving it from a loss.

    Notes
    -----
    Chapter 6 of the notes (Bayes decision theory). With posteriors
    :math:`p(i \mid x)` and loss :math:`L_{ij}` for taking action :math:`j`
    when the truth is :math:`i`, the expected (conditional) risk of action
    :math:`j` is

    .. math::

        R(j \mid x) = \sum_{i=1}^{K} L_{ij}\, p(i \mid x) ,

    and the Bayes decision rule :math:`\hat y(x) = \arg\min_j R(j \mid x)`
    minimises the overall risk :math:`\mathbb E_x[R(\hat y(x) \mid x)]`, whose
    minimum is the Bayes risk. For the 0-1 loss :math:`R(j \mid x) = 1 - p(j
    \mid x)`, the rule is the maximum a posteriori class. With a reject action
    of cost :math:`c`, the rule rejects when :math:`c < \min_j R(j \mid x)`; for
    the 0-1 loss this is Chow's rule,

    .. math::

        \text{reject} \iff \max_j p(j \mid x) < 1 - c .

    Priors :math:`\pi'` different from the training frequencies :math:`\pi`
    change only the prior factor of Bayes' rule, so

    .. math::

        p'(i \mid x) = \frac{p(i \mid x)\, \pi'_i / \pi_i}
                            {\sum_k p(k \mid x)\, \pi'_k / \pi_k} .

    For two classes the rule predicts class 1 when
    :math:`p(1 \mid x) / p(0 \mid x) > (L_{01} - L_{00}) / (L_{10} - L_{11})`.

    References
    ----------
    C. K. Chow, "On optimum recognition error and reject tradeoff", *IEEE
    Transactions on Information Theory* 16(1), 1970.

    R. O. Duda, P. E. Hart, D. G. Stork, *Pattern Classification*, 2nd ed.,
    Wiley, 2001, chapter 2.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.discriminant_analysis import BayesDecisionClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(-1, 1, (200, 1)), rng.normal(1, 1, (200, 1))]
    >>> y = np.r_[np.zeros(200, dtype=int), np.ones(200, dtype=int)]
    >>> clf = BayesDecisionClassifier(reject_cost=0.2).fit(X, y)
    >>> clf.predict([[-3.0], [0.0], [3.0]])
    array([ 0, -1,  1])
    >>> clf.expected_risk([[0.0]]).shape
    (1, 3)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "loss": ["array-like", None],
        "priors": ["array-like", None],
        "reject_cost": [Interval(Real, 0, None, closed="left"), None],
        "reject_label": "no_validation",
    }

    def __init__(self, estimator=None, loss=None, priors=None, reject_cost=None,
                 reject_label=-1):
        self.estimator = estimator
        self.loss = loss
        self.priors = priors
        self.reject_cost = reject_cost
        self.reject_label = reject_label

    def _check_reject_label(self, classes):
        label = self.reject_label
        if isinstance(label, (str, np.str_)):
            ok = all(isinstance(c, (str, np.str_)) for c in classes)
        else:
            ok = isinstance(label, Number) and not isinstance(label, (bool, np.bool_)) \
                and np.issubdtype(classes.dtype, np.number)
        if not ok:
            raise ValueError(
                f"reject_label={label!r} must be of the type of the class labels "
                f"({classes.dtype}): a string for string labels, a number for numeric "
                "labels."
            )
        if label in classes.tolist():
            raise ValueError(
                f"reject_label={label!r} is one of the class labels {classes.tolist()}; "
                "choose a label that no class uses."
            )

    def fit(self, X, y):
        """Fit the posterior model and set up the decision rule.

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
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        classes, y_ind = _encode_labels(y)
        _check_n_classes(classes)
        n_classes = classes.shape[0]
        loss = _check_loss(self.loss, n_classes)
        class_prior = np.bincount(y_ind, minlength=n_classes) / y_ind.shape[0]
        if self.priors is None:
            priors = class_prior
        else:
            priors = _check_priors(self.priors, n_classes)
            if not np.isclose(priors.sum(), 1.0):
                raise ValueError(f"priors must sum to 1; they sum to {priors.sum()}.")
        if self.reject_cost is not None:
            self._check_reject_label(classes)

        est = QuadraticDiscriminantAnalysis() if self.estimator is None else self.estimator
        est = clone(est).fit(X, y)
        est_classes = np.asarray(est.classes_)
        if not np.array_equal(np.sort(est_classes), classes):
            raise ValueError(
                f"The estimator learned classes {est_classes.tolist()}, not the classes "
                f"of y {classes.tolist()}."
            )
        self._columns = np.argsort(est_classes)  # estimator's columns in our order
        self.estimator_ = est
        self.classes_ = classes
        self.class_prior_ = class_prior
        self.priors_ = priors
        self.loss_ = loss
        # The decision set-up as fitted (set_params after fit needs a refit).
        self._zero_one = self.loss is None
        self._reject = None if self.reject_cost is None else (
            float(self.reject_cost), self.reject_label)
        return self

    def predict_proba(self, X):
        """Posterior class probabilities under the priors ``priors_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The estimator's posteriors, reweighted by ``priors_ / class_prior_``
            and renormalised; columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        proba = proba[:, self._columns]
        if np.array_equal(self.priors_, self.class_prior_):
            return proba
        return _reweight_posteriors(proba, self.class_prior_, self.priors_)

    def expected_risk(self, X):
        """Expected risk of every action given ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        risk : ndarray of shape (n_samples, n_classes) or (n_samples, n_classes + 1)
            ``risk[n, j] = sum_i loss_[i, j] * p(i | x_n)`` for predicting
            ``classes_[j]``; with ``reject_cost`` set, a last column holds the
            cost of rejecting.
        """
        proba = self.predict_proba(X)
        risk = 1.0 - proba if self._zero_one else proba @ self.loss_
        if self._reject is not None:
            risk = np.column_stack([risk, np.full(risk.shape[0], self._reject[0])])
        return risk

    def predict(self, X):
        """Predict the action of least expected risk.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            A class label, or ``reject_label`` where rejecting costs less than
            every class.
        """
        proba = self.predict_proba(X)
        if self._reject is None:
            return self.classes_.take(_bayes_actions(proba, self.loss_, None, self._zero_one))
        cost, label = self._reject
        best = _bayes_actions(proba, self.loss_, cost, self._zero_one)
        actions = list(self.classes_) + [label]
        actions = np.array(actions, dtype=object if self.classes_.dtype == object else None)
        return actions.take(best)
