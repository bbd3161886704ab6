"""Decision trees: CART for classification and regression (chapter 13 of the notes)."""

import numbers
import warnings
from math import ceil
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MultiOutputMixin,
    RegressorMixin,
    clone,
    is_classifier,
)
from sklearn.utils import (
    Bunch,
    compute_sample_weight,
    metadata_routing,
)
from sklearn.utils._param_validation import Hidden, Interval, RealNotInt, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_n_features,
    _check_sample_weight,
    assert_all_finite,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ._builder import build_tree
from ._prune import build_pruned, cost_complexity_prune
from ._utils import (
    ABSOLUTE_ERROR,
    BEST,
    ENTROPY,
    GINI,
    POISSON,
    RAND_R_MAX,
    RANDOM,
    SQUARED_ERROR,
)
from ._missing import has_nan_columns
from ._tree import Tree
from mlnotes.utils._random import check_random_state

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]

_CRITERIA = {"gini": GINI, "entropy": ENTROPY, "log_loss": ENTROPY,
             "squared_error": SQUARED_ERROR, "friedman_mse": SQUARED_ERROR,
             "poisson": POISSON, "absolute_error": ABSOLUTE_ERROR}
_SPLITTERS = {"best": BEST, "random": RANDOM}
_FRIEDMAN_MSE_WARNING = (
    'Value `"friedman_mse"` for `criterion` is deprecated and will be removed in 1.11. '
    'It maps to `"squared_error"` as both were always equivalent. Use '
    '`criterion="squared_error"` to remove this warning.')
_NO_MONOTONIC = np.zeros(0, dtype=np.int8)


def _check_X_finite(X, estimator_name):
    """Reject infinities; missing values (NaN) are accepted in a dense ``X`` (the
    trees learn where to send them), rejected in a sparse one, as in scikit-learn.

    Returns True when a dense ``X`` contains NaN.
    """
    data = X.data if issparse(X) else X
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(data)):
            return False
    if issparse(X):
        assert_all_finite(data, input_name="X", estimator_name=estimator_name)
    assert_all_finite(data, allow_nan=True, input_name="X",
                      estimator_name=estimator_name)
    return bool(np.isnan(data).any())


def _missing_mask(X):
    """uint8 flag of the columns of a dense float32 ``X`` holding a NaN, or an
    empty array when there is none (the builder then skips every NaN check)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.isnan(np.sum(X)):
            return np.zeros(0, dtype=np.uint8)
    mask = has_nan_columns(X)
    return mask if mask.any() else np.zeros(0, dtype=np.uint8)


def _check_criterion_supported(criterion, estimator_name):
    """Every criterion of scikit-learn 1.9 is supported; kept for the callers."""


def _log_proba(proba, n_outputs):
    """``log`` of :meth:`predict_proba`'s output (an array, or a list of arrays with
    several outputs), ``-inf`` for a zero probability: the ``predict_log_proba`` of
    the trees and of the forests."""
    with np.errstate(divide="ignore"):
        if n_outputs == 1:
            return np.log(proba)
        return [np.log(p) for p in proba]


def _as_dense(X):
    """Trees split dense columns: a sparse matrix is densified (float32)."""
    return X.toarray() if issparse(X) else X


class BaseDecisionTree(MultiOutputMixin, BaseEstimator):
    """Shared fitting and prediction of :class:`DecisionTreeClassifier` and
    :class:`DecisionTreeRegressor`; not meant to be used directly."""

    __metadata_request__predict = {"check_input": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        "splitter": [StrOptions({"best", "random"})],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_split": [
            Interval(Integral, 2, None, closed="left"),
            Interval(RealNotInt, 0.0, 1.0, closed="right"),
        ],
        "min_samples_leaf": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0.0, 1.0, closed="neither"),
        ],
        "min_weight_fraction_leaf": [Interval(Real, 0.0, 0.5, closed="both")],
        "max_features": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0.0, 1.0, closed="right"),
            StrOptions({"sqrt", "log2"}),
            None,
        ],
        "random_state": ["random_state"],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left"), None],
        "min_impurity_decrease": [Interval(Real, 0.0, None, closed="left")],
        "ccp_alpha": [Interval(Real, 0.0, None, closed="left")],
        "monotonic_cst": ["array-like", None],
    }

    def get_depth(self):
        """Return the depth of the tree: the longest root-to-leaf path.

        Returns
        -------
        depth : int
            Maximum depth (a single leaf has depth 0).
        """
        check_is_fitted(self)
        return self.tree_.max_depth

    def get_n_leaves(self):
        """Return the number of leaves of the tree.

        Returns
        -------
        n_leaves : int
            Number of leaves.
        """
        check_is_fitted(self)
        return self.tree_.n_leaves

    # ------------------------------------------------------------------ fitting

    def _validate_X_y(self, X, y):
        X, y = validate_data(
            self, X, y,
            validate_separately=(
                dict(dtype=np.float32, accept_sparse=["csc", "csr", "coo"],
                     ensure_all_finite=False),
                dict(ensure_2d=False, dtype=None),
            ),
        )
        _check_X_finite(X, type(self).__name__)
        return _as_dense(X), y

    def _fit(self, X, y, sample_weight=None, check_input=True):
        random_state = check_random_state(self.random_state)
        if check_input:
            X, y = self._validate_X_y(X, y)
        n_samples, self.n_features_in_ = X.shape
        criterion = self.criterion
        _check_criterion_supported(criterion, type(self).__name__)
        y = np.atleast_1d(y)
        if check_input and criterion == "poisson":
            if np.any(y < 0):
                raise ValueError("Some value(s) of y are negative which is not allowed "
                                 "for Poisson regression.")
            if np.sum(y) <= 0:
                raise ValueError("Sum of y is not positive which is necessary for "
                                 "Poisson regression.")
        if check_input:  # after the Poisson checks, in scikit-learn's order
            check_consistent_length(X, y)
        if y.ndim == 1:
            y = np.reshape(y, (-1, 1))
        self.n_outputs_ = y.shape[1]

        expanded_class_weight = None
        if is_classifier(self):
            check_classification_targets(y)
            y_encoded = np.zeros(y.shape, dtype=np.intp)
            classes, n_classes = [], []
            for k in range(self.n_outputs_):
                classes_k, y_encoded[:, k] = np.unique(y[:, k], return_inverse=True)
                classes.append(classes_k)
                n_classes.append(classes_k.shape[0])
            self.classes_ = classes
            self.n_classes_ = np.array(n_classes, dtype=np.intp)
            if self.class_weight is not None:
                expanded_class_weight = compute_sample_weight(self.class_weight, y)
            y = y_encoded
        y = np.ascontiguousarray(y, dtype=np.float64)
        if len(y) != n_samples:
            raise ValueError(f"Number of labels={len(y)} does not match number of "
                             f"samples={n_samples}")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if expanded_class_weight is not None:
            sample_weight = (expanded_class_weight if sample_weight is None
                             else sample_weight * expanded_class_weight)
        return self._grow(X, y, sample_weight, random_state)

    def _fit_encoded(self, X, y, sample_weight, n_classes):
        """Fit on data a forest has validated: ``X`` float32 (Fortran order is
        fastest), ``y`` float64 of shape (n_samples, n_outputs) holding class
        indices for classification, ``sample_weight`` float64 or None."""
        self.n_features_in_ = X.shape[1]
        self.n_outputs_ = y.shape[1]
        if is_classifier(self):
            self.classes_ = [np.arange(k, dtype=np.float64) for k in n_classes]
            self.n_classes_ = np.asarray(n_classes, dtype=np.intp)
        return self._grow(X, y, sample_weight, check_random_state(self.random_state))

    def _grow(self, X, y, sample_weight, random_state):
        """Grow (and prune) the tree on validated, encoded data."""
        n_samples, n_features = X.shape
        is_clf = is_classifier(self)
        _check_criterion_supported(self.criterion, type(self).__name__)
        if self.criterion == "friedman_mse":
            warnings.warn(
                'Value `"friedman_mse"` for `criterion` is deprecated and will be removed '
                'in 1.11. It maps to `"squared_error"` as both were always equivalent. '
                'Use `criterion="squared_error"` to remove this warning.',
                FutureWarning,
            )
        max_depth = np.iinfo(np.int32).max if self.max_depth is None else self.max_depth
        if isinstance(self.min_samples_leaf, numbers.Integral):
            min_samples_leaf = self.min_samples_leaf
        else:
            min_samples_leaf = ceil(self.min_samples_leaf * n_samples)
        if isinstance(self.min_samples_split, numbers.Integral):
            min_samples_split = self.min_samples_split
        else:
            min_samples_split = max(2, ceil(self.min_samples_split * n_samples))
        min_samples_split = max(min_samples_split, 2 * min_samples_leaf)

        if self.max_features == "sqrt":
            max_features = max(1, int(np.sqrt(n_features)))
        elif self.max_features == "log2":
            max_features = max(1, int(np.log2(n_features)))
        elif self.max_features is None:
            max_features = n_features
        elif isinstance(self.max_features, numbers.Integral):
            max_features = self.max_features
        else:
            max_features = max(1, int(self.max_features * n_features))
        self.max_features_ = max_features
        max_leaf_nodes = -1 if self.max_leaf_nodes is None else self.max_leaf_nodes

        if sample_weight is None:
            min_weight_leaf = self.min_weight_fraction_leaf * n_samples
            weights = np.ones(n_samples)
        else:
            min_weight_leaf = self.min_weight_fraction_leaf * np.sum(sample_weight)
            weights = np.ascontiguousarray(sample_weight, dtype=np.float64)

        monotonic_cst = self._validate_monotonic_cst(n_features)
        n_classes = (self.n_classes_ if is_clf
                     else np.ones(self.n_outputs_, dtype=np.intp))
        seed = random_state.randint(0, RAND_R_MAX)
        Xf = X if (X.dtype == np.float32 and X.flags.f_contiguous) else np.asfortranarray(
            X, dtype=np.float32)
        try:
            ints, floats, values, depth = build_tree(
                Xf, y, weights, np.asarray(n_classes, dtype=np.int64), is_clf,
                _CRITERIA[self.criterion], _SPLITTERS[getattr(self, "splitter", "best")],
                int(max_features), int(min_samples_split), int(min_samples_leaf),
                float(min_weight_leaf), int(max_depth), int(max_leaf_nodes),
                float(self.min_impurity_decrease), monotonic_cst, int(seed),
                _missing_mask(Xf))
        except ValueError as exc:
            if "array is too big" not in str(exc):
                raise
            # the best-first frontier is sized by max_leaf_nodes, as scikit-learn's
            # tree capacity is: an impossible size is a MemoryError there too
            raise MemoryError(
                f"cannot allocate the tree for max_leaf_nodes={self.max_leaf_nodes}"
            ) from None
        except ZeroDivisionError:
            if not np.any(weights < 0):
                raise
            # Negative weights can cancel positive ones: a node (or a candidate
            # child) of total weight 0 has no weighted mean/proportions.
            # scikit-learn fits on and returns non-finite values (-inf, nan) there.
            raise ValueError(
                "sample_weight has negative values and some node of the tree has a "
                "total sample weight of exactly 0, so its value (a weighted mean) is "
                "undefined. Use non-negative sample weights, or weights whose partial "
                "sums cannot cancel."
            ) from None
        self.tree_ = Tree._from_arrays(n_features, n_classes, self.n_outputs_, ints,
                                       floats, values, depth)
        if is_clf and self.n_outputs_ == 1:
            self.n_classes_ = self.n_classes_[0]
            self.classes_ = self.classes_[0]
        self._prune_tree()
        return self

    def _validate_monotonic_cst(self, n_features):
        if self.monotonic_cst is None:
            return _NO_MONOTONIC
        if self.n_outputs_ > 1:
            raise ValueError(
                "Monotonicity constraints are not supported with multiple outputs.")
        cst = np.asarray(self.monotonic_cst)
        if cst.shape[0] != n_features:
            raise ValueError(f"monotonic_cst has shape {cst.shape[0]} but the input data "
                             f"X has {n_features} features.")
        if not np.all(np.isin(cst, (-1, 0, 1))):
            raise ValueError("monotonic_cst must be None or an array-like of -1, 0 or 1, "
                             f"but got {np.unique(cst)}")
        cst = np.asarray(cst, dtype=np.int8)
        if is_classifier(self):
            if self.n_classes_[0] > 2:
                raise ValueError("Monotonicity constraints are not supported with "
                                 "multiclass classification")
            # the tree constrains the frequency of the first (negative) class, the
            # user the probability of the positive one
            cst = -cst
        return np.ascontiguousarray(cst)

    def _prune_tree(self):
        """Minimal cost-complexity pruning with ``ccp_alpha``."""
        if self.ccp_alpha == 0.0:
            return
        tree = self.tree_
        leaves, _, _, _ = cost_complexity_prune(
            tree.children_left.astype(np.int64), tree.children_right.astype(np.int64),
            tree.weighted_n_node_samples, tree.impurity, float(self.ccp_alpha), False)
        old_ids, left, right, depth = build_pruned(
            tree.children_left.astype(np.int64), tree.children_right.astype(np.int64),
            leaves)
        self.tree_ = tree._subtree(old_ids, left, right, depth)

    def cost_complexity_pruning_path(self, X, y, sample_weight=None):
        r"""Compute the pruning path of minimal cost-complexity pruning.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        ccp_path : :class:`~sklearn.utils.Bunch`
            ``ccp_alphas``: the effective alphas :math:`\alpha_k` at which the
            successive subtrees :math:`T_k` become optimal; ``impurities``: the
            total weighted leaf impurity :math:`R(T_k)` of each.
        """
        est = clone(self).set_params(ccp_alpha=0.0)
        est.fit(X, y, sample_weight=sample_weight)
        tree = est.tree_
        _, _, alphas, impurities = cost_complexity_prune(
            tree.children_left.astype(np.int64), tree.children_right.astype(np.int64),
            tree.weighted_n_node_samples, tree.impurity, 0.0, True)
        return Bunch(ccp_alphas=alphas, impurities=impurities)

    # --------------------------------------------------------------- prediction

    def _validate_X_predict(self, X, check_input):
        return self._validate_X_predict_nan(X, check_input)[0]

    def _validate_X_predict_nan(self, X, check_input):
        """The checked ``X`` and whether it holds NaN (None if not checked)."""
        has_nan = None
        if check_input:
            X = validate_data(self, X, dtype=np.float32,
                              accept_sparse=["csr", "csc", "coo"], reset=False,
                              ensure_all_finite=False)
            has_nan = _check_X_finite(X, type(self).__name__)
            X = np.ascontiguousarray(_as_dense(X))
        else:
            _check_n_features(self, X, reset=False)
        return X, has_nan

    def predict(self, X, check_input=True):
        """Predict the class or the regression value of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples (converted to float32, as in training).
        check_input : bool, default=True
            Validate ``X``; pass False only for a float32 ndarray already checked.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Majority class of the leaf (classification, ties to the first class of
            ``classes_``) or mean target of the leaf (regression).
        """
        check_is_fitted(self)
        X, has_nan = self._validate_X_predict_nan(X, check_input)
        proba = self.tree_._predict(X, has_nan)
        n_samples = X.shape[0]
        if is_classifier(self):
            if self.n_outputs_ == 1:
                return self.classes_.take(np.argmax(proba, axis=1), axis=0)
            predictions = np.zeros((n_samples, self.n_outputs_),
                                   dtype=self.classes_[0].dtype)
            for k in range(self.n_outputs_):
                predictions[:, k] = self.classes_[k].take(np.argmax(proba[:, k], axis=1),
                                                          axis=0)
            return predictions
        if self.n_outputs_ == 1:
            return proba[:, 0]
        return proba[:, :, 0]

    def apply(self, X, check_input=True):
        """Return the index of the leaf that each sample falls into.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        check_input : bool, default=True
            Validate ``X``; pass False only for a float32 ndarray already checked.

        Returns
        -------
        X_leaves : ndarray of shape (n_samples,)
            Leaf index in ``[0, tree_.node_count)`` of each sample.
        """
        check_is_fitted(self)
        X, has_nan = self._validate_X_predict_nan(X, check_input)
        self.tree_._check_X(X)
        return self.tree_._apply(X, has_nan)

    def decision_path(self, X, check_input=True):
        """Return the nodes each sample goes through.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        check_input : bool, default=True
            Validate ``X``; pass False only for a float32 ndarray already checked.

        Returns
        -------
        indicator : sparse matrix of shape (n_samples, n_nodes)
            CSR indicator, non-zero at ``[i, j]`` when sample ``i`` traverses node
            ``j``.
        """
        check_is_fitted(self)
        X = self._validate_X_predict(X, check_input)
        return self.tree_.decision_path(X)

    @property
    def feature_importances_(self):
        """Normalised total impurity decrease brought by each feature (Gini importance).

        Returns
        -------
        feature_importances_ : ndarray of shape (n_features,)
            Non-negative, summing to one unless the tree is a single leaf.
        """
        check_is_fitted(self)
        return self.tree_.compute_feature_importances()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # NaN only in dense input, as scikit-learn's trees (whose tag says the same)
        tags.input_tags.allow_nan = True
        return tags




class DecisionTreeClassifier(ClassifierMixin, BaseDecisionTree):
    r"""A decision tree classifier (CART).

    Parameters
    ----------
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
        Impurity measure: the Gini index, or the Shannon entropy
        (``"log_loss"`` is the same) whose decrease is the information gain.
    splitter : {"best", "random"}, default="best"
        ``"best"`` scans every threshold of each candidate feature; ``"random"``
        draws one threshold per candidate feature uniformly between its minimum
        and maximum in the node and keeps the best of those.
    max_depth : int, default=None
        Maximum depth of the tree; None grows until the leaves are pure or
        smaller than ``min_samples_split``.
    min_samples_split : int or float, default=2
        Minimum number of samples to split a node; a float is a fraction of
        ``n_samples`` (rounded up).
    min_samples_leaf : int or float, default=1
        Minimum number of samples in each child of a split; a float is a
        fraction of ``n_samples`` (rounded up).
    min_weight_fraction_leaf : float, default=0.0
        Minimum fraction of the total sample weight in each child of a split.
    max_features : int, float, {"sqrt", "log2"} or None, default=None
        Number of features drawn at random at each node: an int, a fraction
        ``max(1, int(max_features * n_features))``, ``sqrt(n_features)``,
        ``log2(n_features)``, or all of them (None). More are inspected when the
        drawn ones are all constant in the node.
    random_state : int, RandomState instance or None, default=None
        Seeds the feature permutations (drawn at every node, even with
        ``max_features=None``, where they only break ties between equally good
        splits) and the random thresholds. An int makes the tree reproducible;
        the same int gives the tree scikit-learn grows.
    max_leaf_nodes : int, default=None
        Grow best first until this many leaves; None for unlimited (depth
        first).
    min_impurity_decrease : float, default=0.0
        Split a node only if the weighted impurity decrease
        :math:`\Delta` (see Notes) is at least this.
    class_weight : dict, list of dict or "balanced", default=None
        Weights of the classes ``{label: weight}`` (one dict per output for
        multi-output ``y``), multiplied into ``sample_weight``; ``"balanced"``
        uses ``n_samples / (n_classes * np.bincount(y))``.
    ccp_alpha : float, default=0.0
        Complexity parameter :math:`\alpha` of minimal cost-complexity pruning:
        the grown tree is pruned to the subtree minimising
        :math:`R(T) + \alpha |\tilde T|`. Zero: no pruning.
    monotonic_cst : array-like of int of shape (n_features,), default=None
        Monotonicity constraint of each feature on the probability of the
        positive class: 1 increasing, -1 decreasing, 0 none. Binary,
        single-output classification only.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels (a list with one array per output for multi-output ``y``).
    n_classes_ : int or ndarray of int
        Number of classes (per output).
    n_outputs_ : int
        Number of outputs.
    max_features_ : int
        The number of features drawn at each node.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    feature_importances_ : ndarray of shape (n_features,)
        Normalised total impurity decrease per feature.
    tree_ : Tree
        The fitted tree: ``children_left``, ``children_right``, ``feature``,
        ``threshold``, ``value`` (class frequencies), ``impurity``,
        ``n_node_samples``, ``weighted_n_node_samples``, ``node_count``,
        ``max_depth``, with scikit-learn's layout.

    See Also
    --------
    DecisionTreeRegressor : the regression tree.
    mlnotes.ensemble.RandomForestClassifier : bagged randomised trees.

    Notes
    -----
    Chapter 13 of the notes (decision trees). A node :math:`t` holding the
    weighted samples :math:`S_t` (total weight :math:`N_t`) is split on the
    feature :math:`j` and threshold :math:`\theta` into
    :math:`S_L = \{x \in S_t : x_j \le \theta\}` and :math:`S_R`, chosen
    greedily to maximise the weighted impurity decrease (the information gain
    for the entropy)

    .. math::

        \Delta(t; j, \theta) = \frac{N_t}{N}\Big( H(S_t)
            - \frac{N_L}{N_t} H(S_L) - \frac{N_R}{N_t} H(S_R) \Big),

    where :math:`N` is the total weight of the training set. The thresholds
    tried are the midpoints between consecutive distinct values of
    :math:`x_j` in the node (found by sorting the node's samples along
    :math:`x_j`); the candidate features are ``max_features`` of them drawn
    at random without replacement at every node. A node becomes a leaf when it
    is pure, too small (``min_samples_split``, ``min_samples_leaf``,
    ``min_weight_fraction_leaf``), too deep (``max_depth``), or when the best
    decrease is below ``min_impurity_decrease``. With ``max_leaf_nodes`` the
    tree grows best first: the leaf with the largest :math:`\Delta` is split
    next.

    For classification, with :math:`p_k` the weighted frequency of class
    :math:`k` among the samples of a node, the impurities are

    .. math::

        H_{\mathrm{Gini}} = \sum_k p_k (1 - p_k) = 1 - \sum_k p_k^2, \qquad
        H_{\mathrm{entropy}} = -\sum_k p_k \log_2 p_k ,

    averaged over the outputs for multi-output ``y``. A leaf predicts the
    class frequencies :math:`p_k` (``predict_proba``) and their arg-max.

    Missing values (NaN, in a dense ``X``) are handled as in scikit-learn
    >= 1.3. At a node whose samples have missing values on the feature
    searched, every threshold between the sorted non-missing values is
    evaluated twice, with the missing samples sent to the left and to the
    right child (and "all non-missing left, missing right", threshold
    :math:`+\infty`); the best is kept and the side stored in
    ``tree_.missing_go_to_left``. A node that saw no missing value sends them
    to its child with more training samples. With ``splitter="random"`` the
    side is drawn at random with the threshold.

    The input is converted to float32 (as scikit-learn does), so thresholds
    and predictions agree with scikit-learn's tree to the last bit, with or
    without missing values; a sparse ``X`` is densified (and may not hold
    NaN, as in scikit-learn). See the :ref:`User Guide <user-guide-tree>`.

    References
    ----------
    L. Breiman, J. Friedman, R. Olshen and C. Stone, *Classification and
    Regression Trees*, Wadsworth, 1984.

    T. Hastie, R. Tibshirani and J. Friedman, *The Elements of Statistical
    Learning*, 2nd ed., Springer, 2009, section 9.2.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.tree import DecisionTreeClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = DecisionTreeClassifier(random_state=0).fit(X, y)
    >>> clf.tree_.threshold[0], clf.get_depth(), clf.get_n_leaves()
    (np.float64(1.5), 1, 2)
    >>> clf.predict([[0.5], [2.5]])
    array([0, 1])
    """

    __metadata_request__predict_proba = {"check_input": metadata_routing.UNUSED}
    __metadata_request__fit = {"check_input": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": [StrOptions({"gini", "entropy", "log_loss"})],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        criterion="gini",
        splitter="best",
        max_depth=None,
        min_samples_split=2,
        min_samples_leaf=1,
        min_weight_fraction_leaf=0.0,
        max_features=None,
        random_state=None,
        max_leaf_nodes=None,
        min_impurity_decrease=0.0,
        class_weight=None,
        ccp_alpha=0.0,
        monotonic_cst=None,
    ):
        self.criterion = criterion
        self.splitter = splitter
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.class_weight = class_weight
        self.ccp_alpha = ccp_alpha
        self.monotonic_cst = monotonic_cst

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Grow the tree on the training set ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples (converted to float32; sparse input is densified).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (integers or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights; samples of zero weight are ignored, and splits that
            leave a child without weight are not considered.
        check_input : bool, default=True
            Validate the input; pass False only for data already checked.

        Returns
        -------
        self : DecisionTreeClassifier
            The fitted tree.
        """
        self._validate_params()
        return self._fit(X, y, sample_weight=sample_weight, check_input=check_input)

    def predict_proba(self, X, check_input=True):
        """Class probabilities: the weighted class frequencies of the leaf.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.
        check_input : bool, default=True
            Validate ``X``; pass False only for a float32 ndarray already checked.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list of such arrays
            Probabilities in the order of ``classes_`` (one array per output for
            multi-output ``y``).
        """
        check_is_fitted(self)
        X, has_nan = self._validate_X_predict_nan(X, check_input)
        proba = self.tree_._predict(X, has_nan)
        if self.n_outputs_ == 1:
            return proba[:, : self.n_classes_]
        return [proba[:, k, : self.n_classes_[k]] for k in range(self.n_outputs_)]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` for a zero probability).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes) or list of such arrays
            Log-probabilities in the order of ``classes_``.
        """
        return _log_proba(self.predict_proba(X), self.n_outputs_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class DecisionTreeRegressor(RegressorMixin, BaseDecisionTree):
    r"""A decision tree regressor (CART).

    Parameters
    ----------
    criterion : {"squared_error", "absolute_error", "poisson"}, default="squared_error"
        Impurity measure: the variance of the targets in the node (the mean
        squared error around the node mean), the mean absolute deviation
        around the node's weighted median (which the leaf then predicts), or
        the half Poisson deviance (non-negative targets with a positive sum).
        ``"friedman_mse"`` is deprecated in scikit-learn 1.9 and maps to
        ``"squared_error"`` with a ``FutureWarning``.
    splitter : {"best", "random"}, default="best"
        ``"best"`` scans every threshold of each candidate feature; ``"random"``
        draws one threshold per candidate feature uniformly between its minimum
        and maximum in the node and keeps the best of those.
    max_depth : int, default=None
        Maximum depth of the tree; None grows until the leaves are pure or
        smaller than ``min_samples_split``.
    min_samples_split : int or float, default=2
        Minimum number of samples to split a node; a float is a fraction of
        ``n_samples`` (rounded up).
    min_samples_leaf : int or float, default=1
        Minimum number of samples in each child of a split; a float is a
        fraction of ``n_samples`` (rounded up).
    min_weight_fraction_leaf : float, default=0.0
        Minimum fraction of the total sample weight in each child of a split.
    max_features : int, float, {"sqrt", "log2"} or None, default=None
        Number of features drawn at random at each node (see
        :class:`DecisionTreeClassifier`).
    random_state : int, RandomState instance or None, default=None
        Seeds the feature permutations and the random thresholds; the same int
        gives the tree scikit-learn grows.
    max_leaf_nodes : int, default=None
        Grow best first until this many leaves; None for unlimited.
    min_impurity_decrease : float, default=0.0
        Split a node only if the weighted impurity decrease is at least this.
    ccp_alpha : float, default=0.0
        Complexity parameter of minimal cost-complexity pruning; zero: none.
    monotonic_cst : array-like of int of shape (n_features,), default=None
        Monotonicity constraint of each feature on the prediction: 1
        increasing, -1 decreasing, 0 none. Single output only.

    Attributes
    ----------
    n_outputs_ : int
        Number of outputs.
    max_features_ : int
        The number of features drawn at each node.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    feature_importances_ : ndarray of shape (n_features,)
        Normalised total impurity decrease per feature.
    tree_ : Tree
        The fitted tree, with scikit-learn's array layout (``value`` holds the
        mean target of each node).

    See Also
    --------
    DecisionTreeClassifier : the classification tree.
    mlnotes.ensemble.RandomForestRegressor : bagged randomised trees.

    Notes
    -----
    Chapter 13 of the notes (decision trees). A node :math:`t` holding the
    weighted samples :math:`S_t` (total weight :math:`N_t`) is split on the
    feature :math:`j` and threshold :math:`\theta` into
    :math:`S_L = \{x \in S_t : x_j \le \theta\}` and :math:`S_R`, chosen
    greedily to maximise the weighted impurity decrease (the information gain
    for the entropy)

    .. math::

        \Delta(t; j, \theta) = \frac{N_t}{N}\Big( H(S_t)
            - \frac{N_L}{N_t} H(S_L) - \frac{N_R}{N_t} H(S_R) \Big),

    where :math:`N` is the total weight of the training set. The thresholds
    tried are the midpoints between consecutive distinct values of
    :math:`x_j` in the node (found by sorting the node's samples along
    :math:`x_j`); the candidate features are ``max_features`` of them drawn
    at random without replacement at every node. A node becomes a leaf when it
    is pure, too small (``min_samples_split``, ``min_samples_leaf``,
    ``min_weight_fraction_leaf``), too deep (``max_depth``), or when the best
    decrease is below ``min_impurity_decrease``. With ``max_leaf_nodes`` the
    tree grows best first: the leaf with the largest :math:`\Delta` is split
    next.

    For regression the impurity of a node with weights :math:`w_i` and mean
    :math:`\bar y` is the weighted variance, or the half Poisson deviance,

    .. math::

        H_{\mathrm{MSE}} = \frac{1}{N_t}\sum_{i \in S_t} w_i (y_i - \bar y)^2,
        \qquad
        H_{\mathrm{Poisson}} = \frac{1}{N_t}\sum_{i \in S_t} w_i
            \Big(y_i \log\frac{y_i}{\bar y} - y_i + \bar y\Big),

    and a leaf predicts :math:`\bar y`; or, for ``"absolute_error"``, the
    mean absolute deviation around the weighted median :math:`m_t` (the
    leaf's prediction),

    .. math::

        H_{\mathrm{MAE}} = \frac{1}{N_t}\sum_{i \in S_t} w_i |y_i - m_t|,

    whose values for every left and right child of a sorted feature are
    computed in :math:`O(n \log n)` per feature by two passes over the
    samples with a Fenwick tree of weights ranked by target (as in
    scikit-learn >= 1.8). For the squared error the best
    threshold maximises :math:`S_L^2/N_L + S_R^2/N_R` (:math:`S` the weighted
    sums of :math:`y`), updated in :math:`O(1)` per threshold.

    ``X`` is converted to float32 as in scikit-learn; a sparse ``X`` is
    densified. Missing values (NaN) in a dense ``X`` are sent to the side
    learned at each split (see :class:`DecisionTreeClassifier`). See the
    :ref:`User Guide <user-guide-tree>`.

    References
    ----------
    L. Breiman, J. Friedman, R. Olshen and C. Stone, *Classification and
    Regression Trees*, Wadsworth, 1984.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.tree import DecisionTreeRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([1.0, 1.0, 5.0, 5.0])
    >>> reg = DecisionTreeRegressor(max_depth=1).fit(X, y)
    >>> reg.predict([[0.2], [2.8]])
    array([1., 5.])
    >>> float(reg.tree_.impurity[0])
    4.0
    """

    __metadata_request__fit = {"check_input": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": [
            StrOptions({"squared_error", "absolute_error", "poisson"}),
            Hidden(StrOptions({"friedman_mse"})),
        ],
    }

    def __init__(
        self,
        *,
        criterion="squared_error",
        splitter="best",
        max_depth=None,
        min_samples_split=2,
        min_samples_leaf=1,
        min_weight_fraction_leaf=0.0,
        max_features=None,
        random_state=None,
        max_leaf_nodes=None,
        min_impurity_decrease=0.0,
        ccp_alpha=0.0,
        monotonic_cst=None,
    ):
        if isinstance(criterion, str) and criterion == "friedman_mse":
            # as scikit-learn 1.9: warned and mapped when the estimator is built
            criterion = "squared_error"
            warnings.warn(_FRIEDMAN_MSE_WARNING, FutureWarning, stacklevel=2)
        self.criterion = criterion
        self.splitter = splitter
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.ccp_alpha = ccp_alpha
        self.monotonic_cst = monotonic_cst

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Grow the tree on the training set ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples (converted to float32; sparse input is densified).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Real-valued targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights; samples of zero weight are ignored.
        check_input : bool, default=True
            Validate the input; pass False only for data already checked.

        Returns
        -------
        self : DecisionTreeRegressor
            The fitted tree.
        """
        self._validate_params()
        return self._fit(X, y, sample_weight=sample_weight, check_input=check_input)
