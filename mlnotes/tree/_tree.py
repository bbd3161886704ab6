"""The fitted tree: flat node arrays laid out as scikit-learn's ``Tree``."""

import numpy as np
from scipy.sparse import csr_array, csr_matrix
from sklearn import get_config

from ._missing import apply_preorder_missing
from ._predict import apply_preorder, decision_path_dense, pack_preorder
from ._tree_store import (
    NODE_FEATURE,
    NODE_IMPURITY,
    NODE_LEFT,
    NODE_MISSING_LEFT,
    NODE_N_SAMPLES,
    NODE_RIGHT,
    NODE_THRESHOLD,
    NODE_WEIGHT,
)
from ._utils import TREE_LEAF, TREE_UNDEFINED


class Tree:
    """Array representation of a binary decision tree.

    Node ``i`` has children ``children_left[i]`` and ``children_right[i]``
    (``-1`` for a leaf), splits on ``X[:, feature[i]] <= threshold[i]`` (``-2``
    for a leaf) and predicts ``value[i]``. The attributes have scikit-learn's
    names, shapes and dtypes, so that code written against
    ``sklearn.tree._tree.Tree`` (inspection, plotting, export) reads it as is.

    Parameters
    ----------
    n_features : int
        Number of features of the training data.
    n_classes : array-like of int of shape (n_outputs,)
        Number of classes of each output (ones for regression).
    n_outputs : int
        Number of outputs.

    Attributes
    ----------
    node_count : int
        Number of nodes.
    capacity : int
        Number of nodes stored (equal to ``node_count``).
    max_depth : int
        Depth of the deepest leaf (the root has depth 0).
    children_left, children_right : ndarray of shape (node_count,), dtype=intp
        Children of each node, ``-1`` at the leaves.
    feature : ndarray of shape (node_count,), dtype=intp
        Feature the node splits on, ``-2`` at the leaves.
    threshold : ndarray of shape (node_count,), dtype=float64
        Threshold of the split, ``-2.0`` at the leaves.
    impurity : ndarray of shape (node_count,), dtype=float64
        Impurity of the training samples at the node.
    n_node_samples : ndarray of shape (node_count,), dtype=intp
        Number of training samples (with a non-zero weight) at the node.
    weighted_n_node_samples : ndarray of shape (node_count,), dtype=float64
        Their total weight.
    missing_go_to_left : ndarray of shape (node_count,), dtype=uint8
        1 where a missing value (NaN) goes to the left child: the side learned
        in training when the node's samples had missing values on its feature,
        otherwise the child with more training samples.
    value : ndarray of shape (node_count, n_outputs, max_n_classes)
        Class frequencies (classification) or mean target (regression) of the
        training samples at each node.
    n_leaves : int
        Number of leaves.
    """

    def __init__(self, n_features, n_classes, n_outputs):
        self.n_features = int(n_features)
        self.n_classes = np.asarray(n_classes, dtype=np.intp).reshape(-1)
        self.n_outputs = int(n_outputs)
        self.max_n_classes = int(np.max(self.n_classes))
        self.max_depth = 0
        self.node_count = 0
        empty_i = np.empty(0, dtype=np.intp)
        self.children_left = empty_i
        self.children_right = empty_i
        self.feature = empty_i
        self.n_node_samples = empty_i
        self.threshold = np.empty(0)
        self.impurity = np.empty(0)
        self.weighted_n_node_samples = np.empty(0)
        self.missing_go_to_left = np.empty(0, dtype=np.uint8)
        self.value = np.empty((0, self.n_outputs, self.max_n_classes))

    @classmethod
    def _from_arrays(cls, n_features, n_classes, n_outputs, ints, floats, values,
                     max_depth):
        tree = cls(n_features, n_classes, n_outputs)
        tree.children_left = np.ascontiguousarray(ints[:, NODE_LEFT], dtype=np.intp)
        tree.children_right = np.ascontiguousarray(ints[:, NODE_RIGHT], dtype=np.intp)
        tree.feature = np.ascontiguousarray(ints[:, NODE_FEATURE], dtype=np.intp)
        tree.n_node_samples = np.ascontiguousarray(ints[:, NODE_N_SAMPLES],
                                                   dtype=np.intp)
        tree.threshold = np.ascontiguousarray(floats[:, NODE_THRESHOLD])
        tree.impurity = np.ascontiguousarray(floats[:, NODE_IMPURITY])
        tree.weighted_n_node_samples = np.ascontiguousarray(floats[:, NODE_WEIGHT])
        tree.missing_go_to_left = floats[:, NODE_MISSING_LEFT].astype(np.uint8)
        tree.value = values
        tree.node_count = int(ints.shape[0])
        tree.max_depth = int(max_depth)
        return tree

    def _subtree(self, old_ids, left, right, max_depth):
        """The tree made of the nodes ``old_ids`` with the new children arrays."""
        tree = Tree(self.n_features, self.n_classes, self.n_outputs)
        leaf = left == TREE_LEAF
        tree.children_left = left.astype(np.intp)
        tree.children_right = right.astype(np.intp)
        tree.feature = np.where(leaf, TREE_UNDEFINED,
                                self.feature[old_ids]).astype(np.intp)
        tree.threshold = np.where(leaf, float(TREE_UNDEFINED), self.threshold[old_ids])
        tree.missing_go_to_left = np.where(
            leaf, 0, self.missing_go_to_left[old_ids]).astype(np.uint8)
        tree.impurity = self.impurity[old_ids]
        tree.n_node_samples = self.n_node_samples[old_ids]
        tree.weighted_n_node_samples = self.weighted_n_node_samples[old_ids]
        tree.value = self.value[old_ids]
        tree.node_count = int(old_ids.shape[0])
        tree.max_depth = int(max_depth)
        return tree

    @property
    def capacity(self):
        """Number of nodes stored."""
        return self.node_count

    @property
    def n_leaves(self):
        """Number of leaves."""
        return int(np.sum((self.children_left == TREE_LEAF)
                          & (self.children_right == TREE_LEAF)))

    def _check_X(self, X):
        if not isinstance(X, np.ndarray):
            raise ValueError(f"X should be in np.ndarray format, got {type(X)}")
        if X.dtype != np.float32:
            raise ValueError(f"X.dtype should be np.float32, got {X.dtype}")
        if X.ndim != 2 or X.shape[1] < self.n_features:
            raise ValueError(f"X should have {self.n_features} columns, got {X.shape}")

    def apply(self, X):
        """Index of the leaf each sample falls into.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), dtype=float32
            Input samples.

        Returns
        -------
        leaves : ndarray of shape (n_samples,), dtype=intp
            Leaf index of each sample.
        """
        self._check_X(X)
        with np.errstate(invalid="ignore", over="ignore"):
            has_nan = bool(np.isnan(np.sum(X)))
        return self._apply(X, has_nan)

    def _apply(self, X, has_nan):
        """:meth:`apply` on a checked ``X``; ``has_nan`` (bool, or None when not
        known) picks the traversal: without NaN the plain one, otherwise the one
        that routes missing values (which also serves when it is not known)."""
        packed = self.__dict__.get("_packed")
        if packed is None:  # preorder records: going left is the next record
            _, nodes, _, old_ids = pack_preorder(
                np.zeros(1, dtype=np.int64), self.children_left.astype(np.int64),
                self.children_right.astype(np.int64), self.feature.astype(np.int64),
                self.threshold, np.zeros((self.node_count, 0)))
            missing_left = self.missing_go_to_left[old_ids].astype(np.bool_)
            packed = self.__dict__["_packed"] = (nodes, old_ids, missing_left)
        if has_nan is False:
            leaves = apply_preorder(X, packed[0], packed[1])
        else:
            leaves = apply_preorder_missing(X, *packed)
        return leaves.astype(np.intp, copy=False)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_packed", None)  # a cache, rebuilt on the first prediction
        return state

    def predict(self, X):
        """Value of the leaf each sample falls into.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), dtype=float32
            Input samples.

        Returns
        -------
        values : ndarray
            ``value[apply(X)]``, of shape (n_samples, max_n_classes) for a single
            output and (n_samples, n_outputs, max_n_classes) otherwise.
        """
        return self._predict(X, None)

    def _predict(self, X, has_nan):
        """:meth:`predict` on a checked ``X`` (``has_nan`` as in :meth:`_apply`)."""
        self._check_X(X)
        out = self.value.take(self._apply(X, has_nan), axis=0, mode="clip")
        if self.n_outputs == 1:
            out = out.reshape(X.shape[0], self.max_n_classes)
        return out

    def decision_path(self, X):
        """Indicator matrix of the nodes each sample traverses.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), dtype=float32
            Input samples.

        Returns
        -------
        indicator : sparse matrix of shape (n_samples, node_count)
            CSR matrix with a one at ``[i, j]`` where sample ``i`` goes through
            node ``j``.
        """
        self._check_X(X)
        indptr, indices = decision_path_dense(X, self.children_left, self.children_right,
                                              self.feature, self.threshold,
                                              self.max_depth,
                                              self.missing_go_to_left.astype(np.bool_))
        data = np.ones(indices.shape[0], dtype=np.intp)
        shape = (X.shape[0], self.node_count)
        if get_config().get("sparse_interface", "spmatrix") == "sparray":
            return csr_array((data, indices, indptr), shape=shape)
        return csr_matrix((data, indices, indptr), shape=shape)

    def compute_node_depths(self):
        """Depth of each node, the root having depth 1 (as scikit-learn counts).

        Returns
        -------
        depths : ndarray of shape (node_count,), dtype=int64
            Depth of each node.
        """
        depths = np.empty(self.node_count, dtype=np.int64)
        if self.node_count:
            depths[0] = 1
        for node in range(self.node_count):
            if self.children_left[node] != TREE_LEAF:
                depths[self.children_left[node]] = depths[node] + 1
                depths[self.children_right[node]] = depths[node] + 1
        return depths

    def compute_feature_importances(self, normalize=True):
        """Total weighted impurity decrease brought by each feature.

        Parameters
        ----------
        normalize : bool, default=True
            Divide by the sum so that the importances sum to one (unless the tree
            is a single leaf, where they are all zero).

        Returns
        -------
        importances : ndarray of shape (n_features,)
            Importance of each feature.
        """
        importances = np.zeros(self.n_features)
        inner = np.flatnonzero(self.children_left != TREE_LEAF)
        if inner.size:
            w, imp = self.weighted_n_node_samples, self.impurity
            left, right = self.children_left[inner], self.children_right[inner]
            decrease = (w[inner] * imp[inner] - w[left] * imp[left]
                        - w[right] * imp[right])
            np.add.at(importances, self.feature[inner], decrease)
        importances /= self.weighted_n_node_samples[0]
        if normalize:
            total = np.sum(importances)
            if total > 0.0:
                importances /= total
        return importances
