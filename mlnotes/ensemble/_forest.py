"""Random forests: bagged, feature-randomised CART trees (chapter 13 of the notes)."""

from abc import ABCMeta, abstractmethod
from numbers import Integral
from warnings import warn

import numpy as np
from scipy.sparse import hstack as sparse_hstack
from scipy.sparse import issparse
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MultiOutputMixin,
    RegressorMixin,
    is_classifier,
)
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import compute_class_weight, compute_sample_weight
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..tree import DecisionTreeClassifier, DecisionTreeRegressor
from ..tree._classes import (
    _FRIEDMAN_MSE_WARNING,
    _as_dense,
    _check_criterion_supported,
    _check_X_finite,
    _log_proba,
)
from ..tree._missing import forest_accumulate_missing
from ..tree._predict import forest_accumulate, pack_preorder
from ..tree._utils import TREE_LEAF
from ..utils._parallel import parallel
from ._base import EnsembleSequenceMixin
from mlnotes.utils._random import check_random_state

__all__ = ["RandomForestClassifier", "RandomForestRegressor"]

MAX_INT = np.iinfo(np.int32).max

_TREE_PARAMS = ("criterion", "max_depth", "min_samples_split", "min_samples_leaf",
                "min_weight_fraction_leaf", "max_features", "max_leaf_nodes",
                "min_impurity_decrease", "random_state", "ccp_alpha", "monotonic_cst")


def _n_samples_bootstrap(n_samples, max_samples, sample_weight):
    """Size of each bootstrap sample (scikit-learn 1.9's rule)."""
    if max_samples is None:
        return n_samples
    if isinstance(max_samples, Integral):
        return max_samples
    if sample_weight is None:
        total = n_samples
        what = f"the number of samples is {total} "
    else:
        total = sample_weight.sum()
        what = f"the total sum of sample weights is {total} "
    n = max(int(max_samples * total), 1)
    if n < max(10, n_samples ** (1 / 3)):
        warn(f"Using the fractional value {max_samples=} when {what}results in a low "
             f"number ({n}) of bootstrap samples. We recommend passing `max_samples` as "
             "an integer instead.")
    return n


def _sample_indices(seed, n_samples, n_samples_bootstrap, sample_weight):
    """Bootstrap indices of the tree seeded by ``seed``: uniform draws with
    replacement, or proportional to ``sample_weight`` when there is one."""
    rng = check_random_state(seed)
    if sample_weight is None:
        indices = rng.randint(0, n_samples, n_samples_bootstrap)
    else:
        p = sample_weight / np.sum(sample_weight)
        indices = rng.choice(n_samples, n_samples_bootstrap, replace=True, p=p)
    return indices.astype(np.int32)


def _unsampled_indices(seed, n_samples, n_samples_bootstrap, sample_weight):
    counts = np.bincount(_sample_indices(seed, n_samples, n_samples_bootstrap,
                                         sample_weight), minlength=n_samples)
    return np.flatnonzero(counts == 0)


def _build_tree(tree, bootstrap, X, y, sample_weight, n_classes, class_weight,
                n_samples_bootstrap):
    """Fit one tree on its bootstrap sample, given as integer sample weights."""
    if bootstrap:
        n_samples = X.shape[0]
        indices = _sample_indices(tree.random_state, n_samples, n_samples_bootstrap,
                                  sample_weight)
        weights = np.bincount(indices, minlength=n_samples).astype(np.float64)
        if class_weight == "balanced_subsample":
            weights = weights * compute_sample_weight("balanced", y, indices=indices)
    else:
        weights = sample_weight
    return tree._fit_encoded(X, y, weights, n_classes)


def _pack_trees(trees, columns):
    """All trees in one preorder record array (see :func:`pack_preorder`) with the
    value columns ``columns(tree_)`` of their nodes, and the side a missing value
    takes at each record."""
    sizes = [t.tree_.node_count for t in trees]
    roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    left, right = [], []
    for root, tree in zip(roots, trees):
        t = tree.tree_
        leaf = t.children_left == TREE_LEAF
        left.append(np.where(leaf, TREE_LEAF, t.children_left + root))
        right.append(np.where(leaf, TREE_LEAF, t.children_right + root))
    new_roots, nodes, values, old_ids = pack_preorder(
        roots, np.concatenate(left).astype(np.int64),
        np.concatenate(right).astype(np.int64),
        np.concatenate([t.tree_.feature for t in trees]).astype(np.int64),
        np.concatenate([t.tree_.threshold for t in trees]),
        np.ascontiguousarray(np.concatenate([columns(t.tree_) for t in trees])))
    missing_left = np.concatenate(
        [t.tree_.missing_go_to_left for t in trees]).astype(np.bool_)[old_ids]
    return new_roots, nodes, values, missing_left


def _sum_over_trees(packed, X, n_cols, n_jobs):
    """Sum of the trees' leaf values for each row of ``X``, rows split over threads."""
    out = np.zeros((X.shape[0], n_cols))
    with np.errstate(invalid="ignore", over="ignore"):
        has_nan = np.isnan(np.sum(X))
    if has_nan:  # the NaN-aware traversal (missing values routed as learned)
        kernel = forest_accumulate_missing
    else:
        kernel = forest_accumulate
        packed = packed[:3]
    n_jobs = min(effective_n_jobs(n_jobs), max(1, X.shape[0] // 256))
    if n_jobs == 1:
        kernel(X, *packed, out)
        return out
    bounds = np.linspace(0, X.shape[0], n_jobs + 1).astype(int)
    # writes into ``out``: shared memory required, so local threads even when the
    # caller set a Dask/Ray joblib backend (a soft "threads" hint would ship copies)
    Parallel(n_jobs=n_jobs, require="sharedmem")(
        delayed(kernel)(X[a:b], *packed, out[a:b])
        for a, b in zip(bounds[:-1], bounds[1:]))
    return out


class BaseForest(EnsembleSequenceMixin, MultiOutputMixin, BaseEstimator, metaclass=ABCMeta):
    """Shared fitting, out-of-bag scoring and inspection of the random forests."""

    _parameter_constraints: dict = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "oob_score": ["boolean", callable],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "max_samples": [
            None,
            Interval(RealNotInt, 0.0, None, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
    }

    @abstractmethod
    def __init__(self):
        """Concrete forests take their parameters as keywords (see subclasses)."""

    def _make_tree(self, params, random_state):
        """A new tree with the forest's tree parameters and its own seed (drawn as
        scikit-learn draws it, so that the same seed gives the same forest)."""
        return self._tree_class(**params, random_state=random_state.randint(MAX_INT))

    def fit(self, X, y, sample_weight=None):
        """Grow the forest on the training set ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples (converted to float32; sparse input is densified).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classification) or real targets (regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights. With ``bootstrap=True`` they are the probabilities
            with which samples are drawn into each bootstrap sample (as in
            scikit-learn 1.9); otherwise they weight the trees' criterion.

        Returns
        -------
        self : object
            The fitted forest.
        """
        self._validate_params()
        _check_criterion_supported(self.criterion, type(self).__name__)
        if self.criterion == "friedman_mse":
            warn('Value `"friedman_mse"` for `criterion` is deprecated and will be '
                 'removed in 1.11. It maps to `"squared_error"` as both were always '
                 'equivalent. Use `criterion="squared_error"` to remove this warning.',
                 FutureWarning)
        # the fitted state, kept in case a warm start grows nothing on a y whose
        # outputs the existing trees were not grown for
        previous_state = (dict(self.__dict__)
                          if self.warm_start and getattr(self, "estimators_", None)
                          else None)
        if issparse(y):
            raise ValueError("sparse multilabel-indicator for y is not supported.")
        X, y = validate_data(self, X, y, multi_output=True,
                             accept_sparse=["csc", "csr", "coo"], dtype=np.float32,
                             ensure_all_finite=False)
        _check_X_finite(X, type(self).__name__)
        X = np.asfortranarray(_as_dense(X), dtype=np.float32)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        y = np.atleast_1d(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warn("A column-vector y was passed when a 1d array was expected. Please "
                 "change the shape of y to (n_samples,), for example using ravel().",
                 DataConversionWarning, stacklevel=2)
        if y.ndim == 1:
            y = np.reshape(y, (-1, 1))
        if self.criterion == "poisson":
            if np.any(y < 0):
                raise ValueError("Some value(s) of y are negative which is not allowed "
                                 "for Poisson regression.")
            if np.sum(y) <= 0:
                raise ValueError("Sum of y is not strictly positive which is necessary "
                                 "for Poisson regression.")
        self._n_samples, self.n_outputs_ = y.shape
        y, expanded_class_weight = self._validate_y_class_weight(y, sample_weight)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if sample_weight is None:
            sample_weight_ = expanded_class_weight
        elif expanded_class_weight is None:
            sample_weight_ = sample_weight
        else:
            sample_weight_ = sample_weight * expanded_class_weight
        if sample_weight_ is not None:
            sample_weight_ = np.asarray(sample_weight_, dtype=np.float64)
        self._sample_weight = sample_weight_

        if not self.bootstrap and self.max_samples is not None:
            raise ValueError("`max_sample` cannot be set if `bootstrap=False`. Either "
                             "switch to `bootstrap=True` or set `max_sample=None`.")
        n_samples_bootstrap = (_n_samples_bootstrap(X.shape[0], self.max_samples,
                                                    sample_weight_)
                               if self.bootstrap else None)
        self._n_samples_bootstrap = n_samples_bootstrap
        if not self.bootstrap and self.oob_score:
            raise ValueError("Out of bag estimation only available if bootstrap=True")

        self.estimator_ = self._tree_class()
        random_state = check_random_state(self.random_state)
        if not self.warm_start or not hasattr(self, "estimators_"):
            self.estimators_ = []
        n_more = self.n_estimators - len(self.estimators_)
        if n_more < 0:
            raise ValueError(f"n_estimators={self.n_estimators} must be larger or equal "
                             f"to len(estimators_)={len(self.estimators_)} when "
                             "warm_start==True")
        if n_more == 0:
            warn("Warm-start fitting without increasing n_estimators does not fit new "
                 "trees.")
        if previous_state is not None and not self._same_outputs_as_trees():
            if n_more == 0:  # nothing grown: the forest stays as it was fitted
                self.__dict__.clear()
                self.__dict__.update(previous_state)
                return self
            raise ValueError(
                "warm_start=True cannot add trees for a y whose number of outputs or "
                "of classes differs from the one the existing trees were grown on; "
                "fit with warm_start=False.")
        else:
            if self.warm_start and len(self.estimators_) > 0:
                # skip the seeds of the trees already grown
                random_state.randint(MAX_INT, size=len(self.estimators_))
            params = {p: getattr(self, p) for p in _TREE_PARAMS if p != "random_state"}
            if params["criterion"] == "friedman_mse":
                params["criterion"] = "squared_error"
            trees = [self._make_tree(params, random_state) for _ in range(n_more)]
            n_classes = (list(np.atleast_1d(self.n_classes_)) if is_classifier(self)
                         else None)
            trees = parallel(self.n_jobs, verbose=self.verbose, prefer="threads")(
                delayed(_build_tree)(t, self.bootstrap, X, y, sample_weight_, n_classes,
                                     getattr(self, "class_weight", None),
                                     n_samples_bootstrap)
                for t in trees
            )
            self.estimators_.extend(trees)

        if self.oob_score and (n_more > 0 or not hasattr(self, "oob_score_")):
            y_type = type_of_target(y)
            if y_type == "unknown" or (is_classifier(self)
                                       and y_type == "multiclass-multioutput"):
                raise ValueError(
                    "The type of target cannot be used to compute OOB estimates. Got "
                    f"{y_type} while only the following are supported: continuous, "
                    "continuous-multioutput, binary, multiclass, multilabel-indicator.")
            scorer = self.oob_score if callable(self.oob_score) else None
            self._set_oob_score_and_attributes(X, y, scorer)

        if is_classifier(self) and self.n_outputs_ == 1:
            self.n_classes_ = self.n_classes_[0]
            self.classes_ = self.classes_[0]
        self._pack()
        return self

    def _validate_y_class_weight(self, y, sample_weight):
        return y, None

    def _same_outputs_as_trees(self):
        """Whether the existing trees were grown for the outputs (and, for a
        classifier, the numbers of classes) of the y being fitted."""
        tree = self.estimators_[0]
        if tree.n_outputs_ != self.n_outputs_:
            return False
        return not is_classifier(self) or np.array_equal(
            np.atleast_1d(tree.n_classes_), np.atleast_1d(self.n_classes_))

    def _pack(self):
        """Pack the trees for :func:`forest_accumulate` (done at the end of ``fit``
        and when unpickling, so that predicting never changes the estimator)."""
        self._packed = ([tree.tree_ for tree in self.estimators_],
                        _pack_trees(self.estimators_, self._value_columns))

    def _packed_trees(self):
        """The packed trees; packed afresh if ``estimators_`` was changed by hand."""
        trees = [tree.tree_ for tree in self.estimators_]
        cached = self.__dict__.get("_packed")
        if (cached is None or len(cached[0]) != len(trees)
                or any(a is not b for a, b in zip(cached[0], trees))):
            return _pack_trees(self.estimators_, self._value_columns)
        return cached[1]

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_packed", None)  # derived from the trees; rebuilt when unpickled
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.__dict__.get("estimators_"):
            self._pack()

    def _oob_predictions(self, X, y):
        """Average prediction of each training sample by the trees that did not see it."""
        n_samples = y.shape[0]
        n_outputs = self.n_outputs_
        if is_classifier(self):
            shape = (n_samples, np.atleast_1d(self.n_classes_)[0], n_outputs)
        else:
            shape = (n_samples, 1, n_outputs)
        oob_pred = np.zeros(shape, dtype=np.float64)
        n_oob_pred = np.zeros((n_samples, n_outputs), dtype=np.int64)
        for tree in self.estimators_:
            unsampled = _unsampled_indices(tree.random_state, n_samples,
                                           self._n_samples_bootstrap, self._sample_weight)
            oob_pred[unsampled, ...] += self._tree_oob_prediction(tree, X[unsampled, :])
            n_oob_pred[unsampled, :] += 1
        for k in range(n_outputs):
            if (n_oob_pred == 0).any():
                warn("Some inputs do not have OOB scores. This probably means too few "
                     "trees were used to compute any reliable OOB estimates.", UserWarning)
                n_oob_pred[n_oob_pred == 0] = 1
            oob_pred[..., k] /= n_oob_pred[..., [k]]
        return oob_pred

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, accept_sparse=["csr", "csc", "coo"],
                          reset=False, ensure_all_finite=False)
        _check_X_finite(X, type(self).__name__)
        return np.ascontiguousarray(_as_dense(X))

    def apply(self, X):
        """Leaf index of each sample in each tree.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        X_leaves : ndarray of shape (n_samples, n_estimators)
            Index of the leaf that sample ``i`` reaches in tree ``j``.
        """
        X = self._validate_X_predict(X)
        results = parallel(self.n_jobs, verbose=self.verbose, prefer="threads")(
            delayed(tree.apply)(X, check_input=False) for tree in self.estimators_)
        return np.array(results).T

    def decision_path(self, X):
        """Nodes each sample traverses, over all trees.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        indicator : sparse matrix of shape (n_samples, n_nodes)
            CSR indicator of the nodes traversed, trees side by side.
        n_nodes_ptr : ndarray of shape (n_estimators + 1,)
            Columns ``n_nodes_ptr[i]:n_nodes_ptr[i + 1]`` belong to tree ``i``.
        """
        X = self._validate_X_predict(X)
        indicators = parallel(self.n_jobs, verbose=self.verbose, prefer="threads")(
            delayed(tree.decision_path)(X, check_input=False) for tree in self.estimators_)
        n_nodes = [0] + [ind.shape[1] for ind in indicators]
        return sparse_hstack(indicators).tocsr(), np.array(n_nodes).cumsum()

    @property
    def feature_importances_(self):
        """Mean over the trees of their normalised impurity-decrease importances.

        Returns
        -------
        feature_importances_ : ndarray of shape (n_features,)
            Sums to one unless every tree is a single leaf (then all zero).
        """
        check_is_fitted(self)
        all_importances = [tree.feature_importances_ for tree in self.estimators_
                           if tree.tree_.node_count > 1]
        if not all_importances:
            return np.zeros(self.n_features_in_, dtype=np.float64)
        mean = np.mean(all_importances, axis=0, dtype=np.float64)
        return mean / np.sum(mean)

    @property
    def estimators_samples_(self):
        """Indices of the (in-bag) samples each tree was grown on.

        Returns
        -------
        estimators_samples_ : list of ndarray
            One array of indices per tree (with repetitions for bootstrap).
        """
        check_is_fitted(self)
        out = []
        for tree in self.estimators_:
            if not self.bootstrap:
                out.append(np.arange(self._n_samples, dtype=np.int32))
            else:
                out.append(_sample_indices(tree.random_state, self._n_samples,
                                           self._n_samples_bootstrap, self._sample_weight))
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True  # dense input only, as the trees
        return tags


class ForestClassifier(ClassifierMixin, BaseForest, metaclass=ABCMeta):
    """Classification side of the forests (class encoding, weights, voting)."""

    _tree_class = DecisionTreeClassifier

    @staticmethod
    def _tree_oob_prediction(tree, X):
        y_pred = np.asarray(tree.predict_proba(X, check_input=False))
        if y_pred.ndim == 2:
            return y_pred[..., np.newaxis]
        return np.rollaxis(y_pred, axis=0, start=3)

    def _set_oob_score_and_attributes(self, X, y, scoring_function=None):
        self.oob_decision_function_ = self._oob_predictions(X, y)
        if self.oob_decision_function_.shape[-1] == 1:
            self.oob_decision_function_ = self.oob_decision_function_.squeeze(axis=-1)
        if scoring_function is None:
            scoring_function = accuracy_score
        self.oob_score_ = scoring_function(y,
                                           np.argmax(self.oob_decision_function_, axis=1))

    def _validate_y_class_weight(self, y, sample_weight):
        check_classification_targets(y)
        y_original = np.copy(y)
        self.classes_ = []
        self.n_classes_ = []
        y_encoded = np.zeros(y.shape, dtype=int)
        for k in range(self.n_outputs_):
            classes_k, y_encoded[:, k] = np.unique(y[:, k], return_inverse=True)
            self.classes_.append(classes_k)
            self.n_classes_.append(classes_k.shape[0])
        y = y_encoded
        if self.class_weight is None:
            return y, None
        if isinstance(self.class_weight, (dict, list)):
            return y, compute_sample_weight(self.class_weight, y_original)
        if self.warm_start:
            warn('class_weight presets "balanced" or "balanced_subsample" are not '
                 "recommended for warm_start if the fitted data differs from the full "
                 'dataset. In order to use "balanced" weights, use compute_class_weight '
                 '("balanced", classes, y). In place of y you can use a large enough '
                 "sample of the full training set target to properly estimate the class "
                 "frequency distributions. Pass the resulting weights as the "
                 "class_weight parameter.")
        if self.class_weight == "balanced_subsample" and self.bootstrap:
            return y, None
        class_weight = []
        for k in range(self.n_outputs_):
            weights = compute_class_weight("balanced", classes=self.classes_[k],
                                           y=y_original[:, k], sample_weight=sample_weight)
            class_weight.append(dict(zip(self.classes_[k], weights)))
        if self.n_outputs_ == 1:
            class_weight = class_weight[0]
        return y, compute_sample_weight(class_weight, y_original)

    def predict(self, X):
        """Predict the class of each sample: the arg-max of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted classes.
        """
        proba = self.predict_proba(X)
        if self.n_outputs_ == 1:
            return self.classes_.take(np.argmax(proba, axis=1), axis=0)
        n_samples = proba[0].shape[0]
        predictions = np.empty((n_samples, self.n_outputs_), dtype=self.classes_[0].dtype)
        for k in range(self.n_outputs_):
            predictions[:, k] = self.classes_[k].take(np.argmax(proba[k], axis=1), axis=0)
        return predictions

    def predict_proba(self, X):
        """Class probabilities: the mean of the trees' leaf class frequencies.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list of such arrays
            Probabilities in the order of ``classes_`` (one array per output for
            multi-output ``y``).
        """
        check_is_fitted(self)
        X = self._validate_X_predict(X)
        n_classes = np.atleast_1d(self.n_classes_)
        total = _sum_over_trees(self._packed_trees(), X, int(n_classes.sum()), self.n_jobs)
        total /= len(self.estimators_)
        all_proba = np.split(total, np.cumsum(n_classes)[:-1], axis=1)
        return all_proba[0] if len(all_proba) == 1 else all_proba

    def _value_columns(self, tree):
        """Class frequencies of each node, the outputs side by side."""
        n_classes = np.atleast_1d(self.n_classes_)
        return np.concatenate([tree.value[:, k, :c] for k, c in enumerate(n_classes)],
                              axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

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


class ForestRegressor(RegressorMixin, BaseForest, metaclass=ABCMeta):
    """Regression side of the forests (averaging)."""

    _tree_class = DecisionTreeRegressor

    @staticmethod
    def _tree_oob_prediction(tree, X):
        y_pred = tree.predict(X, check_input=False)
        if y_pred.ndim == 1:
            return y_pred[:, np.newaxis, np.newaxis]
        return y_pred[:, np.newaxis, :]

    def _set_oob_score_and_attributes(self, X, y, scoring_function=None):
        self.oob_prediction_ = self._oob_predictions(X, y).squeeze(axis=1)
        if self.oob_prediction_.shape[-1] == 1:
            self.oob_prediction_ = self.oob_prediction_.squeeze(axis=-1)
        if scoring_function is None:
            scoring_function = r2_score
        self.oob_score_ = scoring_function(y, self.oob_prediction_)

    def predict(self, X):
        """Predict the mean of the trees' predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        check_is_fitted(self)
        X = self._validate_X_predict(X)
        y_hat = _sum_over_trees(self._packed_trees(), X, self.n_outputs_, self.n_jobs)
        y_hat /= len(self.estimators_)
        return y_hat[:, 0] if self.n_outputs_ == 1 else y_hat

    @staticmethod
    def _value_columns(tree):
        """Mean target of each node, one column per output."""
        return tree.value[:, :, 0]


class RandomForestClassifier(ForestClassifier):
    r"""A random forest classifier: bagged CART trees with random feature subsets.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees.
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
        Impurity measure of the trees (see
        :class:`~mlnotes.tree.DecisionTreeClassifier`).
    max_depth : int, default=None
        Maximum depth of the trees; None grows them until their leaves are pure.
    min_samples_split : int or float, default=2
        Minimum number (or fraction) of samples to split a node.
    min_samples_leaf : int or float, default=1
        Minimum number (or fraction) of samples in each leaf.
    min_weight_fraction_leaf : float, default=0.0
        Minimum fraction of the total weight in each leaf.
    max_features : {"sqrt", "log2"}, int, float or None, default="sqrt"
        Number of features drawn at random at each node (``sqrt(n_features)``
        by default; None for all, which is plain bagging).
    max_leaf_nodes : int, default=None
        Grow each tree best first up to this many leaves.
    min_impurity_decrease : float, default=0.0
        Split a node only if the weighted impurity decrease is at least this.
    bootstrap : bool, default=True
        Grow each tree on a bootstrap sample; False uses the whole data set.
    oob_score : bool or callable, default=False
        Score the forest on the out-of-bag samples (accuracy, or
        ``oob_score(y, y_pred)`` if callable). Needs ``bootstrap=True``.
    n_jobs : int, default=None
        Threads used to grow and apply the trees (None: one; -1: all cores).
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap samples and the trees; an int reproduces the forest,
        and gives the forest scikit-learn grows with that int.
    verbose : int, default=0
        Verbosity of the joblib loops.
    warm_start : bool, default=False
        Keep the trees of the previous fit and add ``n_estimators - len(estimators_)``
        new ones.
    class_weight : {"balanced", "balanced_subsample"}, dict, list of dict or None, \
default=None
        Class weights; ``"balanced_subsample"`` recomputes the balanced weights
        on each bootstrap sample.
    ccp_alpha : float, default=0.0
        Cost-complexity pruning parameter of the trees.
    max_samples : int or float, default=None
        Size of the bootstrap samples: all ``n_samples`` (None), a number, or a
        fraction of ``n_samples`` (of the total sample weight when weighted).
    monotonic_cst : array-like of int of shape (n_features,), default=None
        Monotonicity constraints of the trees (binary classification).

    Attributes
    ----------
    estimator_ : DecisionTreeClassifier
        The template of the trees.
    estimators_ : list of DecisionTreeClassifier
        The fitted trees.
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels (per output).
    n_classes_ : int or list of int
        Number of classes (per output).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    n_outputs_ : int
        Number of outputs.
    feature_importances_ : ndarray of shape (n_features,)
        Mean impurity-decrease importance over the trees.
    oob_score_ : float
        Out-of-bag score (with ``oob_score``).
    oob_decision_function_ : ndarray of shape (n_samples, n_classes) or \
(n_samples, n_classes, n_outputs)
        Out-of-bag class probabilities of the training samples (with
        ``oob_score``).
    estimators_samples_ : list of ndarray
        In-bag sample indices of each tree.

    See Also
    --------
    RandomForestRegressor : the regression forest.
    mlnotes.tree.DecisionTreeClassifier : a single tree.

    Notes
    -----
    Chapter 13 of the notes (random forests). Each of the :math:`B` trees is
    grown, without pruning, on a bootstrap sample of the training set (drawn
    with replacement, passed to the tree as integer sample weights) and
    considers only ``max_features`` randomly drawn features at each node. The
    forest averages the trees,

    .. math::

        \hat f(x) = \frac{1}{B} \sum_{b=1}^{B} T_b(x),

    (class frequencies for classification, whose arg-max is the predicted
    class). Bagging lowers the variance of the deep, unbiased trees; the
    feature sampling decorrelates them, since the variance of an average of
    :math:`B` trees of variance :math:`\sigma^2` and pairwise correlation
    :math:`\rho` is :math:`\rho\sigma^2 + (1 - \rho)\sigma^2 / B`. The
    out-of-bag estimate scores each training sample with the trees whose
    bootstrap sample missed it (about :math:`e^{-1} \approx 37\%` of them).

    The trees are grown by the numba kernel of :mod:`mlnotes.tree`, which
    releases the GIL, so ``n_jobs`` threads grow them in parallel. The same
    ``random_state`` gives the same trees, bootstrap samples and predictions
    as scikit-learn's forest, also on data with missing values (NaN, dense
    input only): each tree learns at each split the side they go to (see
    :class:`~mlnotes.tree.DecisionTreeClassifier`). Sparse input is densified.
    See the :ref:`User Guide <user-guide-ensemble>`.

    References
    ----------
    L. Breiman, "Random Forests", *Machine Learning* 45(1), 5-32, 2001.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from mlnotes.ensemble import RandomForestClassifier
    >>> X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    >>> clf = RandomForestClassifier(n_estimators=20, oob_score=True,
    ...                              random_state=0).fit(X, y)
    >>> len(clf.estimators_), clf.predict(X[:3]).shape
    (20, (3,))
    >>> bool(clf.oob_score_ > 0.8)
    True
    """

    _parameter_constraints: dict = {
        **BaseForest._parameter_constraints,
        **DecisionTreeClassifier._parameter_constraints,
        "class_weight": [StrOptions({"balanced_subsample", "balanced"}), dict, list, None],
    }
    _parameter_constraints.pop("splitter")

    def __init__(
        self,
        n_estimators=100,
        *,
        criterion="gini",
        max_depth=None,
        min_samples_split=2,
        min_samples_leaf=1,
        min_weight_fraction_leaf=0.0,
        max_features="sqrt",
        max_leaf_nodes=None,
        min_impurity_decrease=0.0,
        bootstrap=True,
        oob_score=False,
        n_jobs=None,
        random_state=None,
        verbose=0,
        warm_start=False,
        class_weight=None,
        ccp_alpha=0.0,
        max_samples=None,
        monotonic_cst=None,
    ):
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.class_weight = class_weight
        self.ccp_alpha = ccp_alpha
        self.max_samples = max_samples
        self.monotonic_cst = monotonic_cst


class RandomForestRegressor(ForestRegressor):
    r"""A random forest regressor: bagged CART regression trees.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees.
    criterion : {"squared_error", "absolute_error", "poisson"}, default="squared_error"
        Impurity measure of the trees (see
        :class:`~mlnotes.tree.DecisionTreeRegressor`).
    max_depth : int, default=None
        Maximum depth of the trees.
    min_samples_split : int or float, default=2
        Minimum number (or fraction) of samples to split a node.
    min_samples_leaf : int or float, default=1
        Minimum number (or fraction) of samples in each leaf.
    min_weight_fraction_leaf : float, default=0.0
        Minimum fraction of the total weight in each leaf.
    max_features : {"sqrt", "log2"}, int, float or None, default=1.0
        Number of features drawn at each node; 1.0 (all features, plain
        bagging) by default.
    max_leaf_nodes : int, default=None
        Grow each tree best first up to this many leaves.
    min_impurity_decrease : float, default=0.0
        Split a node only if the weighted impurity decrease is at least this.
    bootstrap : bool, default=True
        Grow each tree on a bootstrap sample.
    oob_score : bool or callable, default=False
        Score on the out-of-bag samples (R^2, or ``oob_score(y, y_pred)``).
    n_jobs : int, default=None
        Threads used to grow and apply the trees.
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap samples and the trees.
    verbose : int, default=0
        Verbosity of the joblib loops.
    warm_start : bool, default=False
        Keep the trees of the previous fit and add new ones.
    ccp_alpha : float, default=0.0
        Cost-complexity pruning parameter of the trees.
    max_samples : int or float, default=None
        Size of the bootstrap samples.
    monotonic_cst : array-like of int of shape (n_features,), default=None
        Monotonicity constraints of the trees.

    Attributes
    ----------
    estimator_ : DecisionTreeRegressor
        The template of the trees.
    estimators_ : list of DecisionTreeRegressor
        The fitted trees.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    n_outputs_ : int
        Number of outputs.
    feature_importances_ : ndarray of shape (n_features,)
        Mean impurity-decrease importance over the trees.
    oob_score_ : float
        Out-of-bag R^2 (with ``oob_score``).
    oob_prediction_ : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Out-of-bag predictions of the training samples (with ``oob_score``).
    estimators_samples_ : list of ndarray
        In-bag sample indices of each tree.

    See Also
    --------
    RandomForestClassifier : the classification forest.
    mlnotes.tree.DecisionTreeRegressor : a single tree.

    Notes
    -----
    Chapter 13 of the notes (random forests). Each of the :math:`B` trees is
    grown, without pruning, on a bootstrap sample of the training set (drawn
    with replacement, passed to the tree as integer sample weights) and
    considers only ``max_features`` randomly drawn features at each node. The
    forest averages the trees,

    .. math::

        \hat f(x) = \frac{1}{B} \sum_{b=1}^{B} T_b(x),

    (class frequencies for classification, whose arg-max is the predicted
    class). Bagging lowers the variance of the deep, unbiased trees; the
    feature sampling decorrelates them, since the variance of an average of
    :math:`B` trees of variance :math:`\sigma^2` and pairwise correlation
    :math:`\rho` is :math:`\rho\sigma^2 + (1 - \rho)\sigma^2 / B`. The
    out-of-bag estimate scores each training sample with the trees whose
    bootstrap sample missed it (about :math:`e^{-1} \approx 37\%` of them).

    The trees are grown by the numba kernel of :mod:`mlnotes.tree`, which
    releases the GIL, so ``n_jobs`` threads grow them in parallel. The same
    ``random_state`` gives the same trees, bootstrap samples and predictions
    as scikit-learn's forest, also on data with missing values (NaN, dense
    input only): each tree learns at each split the side they go to (see
    :class:`~mlnotes.tree.DecisionTreeClassifier`). Sparse input is densified.
    See the :ref:`User Guide <user-guide-ensemble>`.

    References
    ----------
    L. Breiman, "Random Forests", *Machine Learning* 45(1), 5-32, 2001.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from mlnotes.ensemble import RandomForestRegressor
    >>> X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    >>> reg = RandomForestRegressor(n_estimators=20, random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **BaseForest._parameter_constraints,
        **DecisionTreeRegressor._parameter_constraints,
    }
    _parameter_constraints.pop("splitter")

    def __init__(
        self,
        n_estimators=100,
        *,
        criterion="squared_error",
        max_depth=None,
        min_samples_split=2,
        min_samples_leaf=1,
        min_weight_fraction_leaf=0.0,
        max_features=1.0,
        max_leaf_nodes=None,
        min_impurity_decrease=0.0,
        bootstrap=True,
        oob_score=False,
        n_jobs=None,
        random_state=None,
        verbose=0,
        warm_start=False,
        ccp_alpha=0.0,
        max_samples=None,
        monotonic_cst=None,
    ):
        self.n_estimators = n_estimators
        if isinstance(criterion, str) and criterion == "friedman_mse":
            # as scikit-learn 1.9: warned and mapped when the estimator is built
            criterion = "squared_error"
            warn(_FRIEDMAN_MSE_WARNING, FutureWarning, stacklevel=2)
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.ccp_alpha = ccp_alpha
        self.max_samples = max_samples
        self.monotonic_cst = monotonic_cst
