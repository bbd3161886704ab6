"""The k-d tree's tree-order copy and the label encoding of the k-NN classifiers:
shortcuts taken for speed that must give exactly what the plain versions give."""

import numpy as np
import pytest
from sklearn.neighbors import KDTree as SkKDTree

from mlnotes.neighbors import KDTree, KNeighborsClassifier
from mlnotes.neighbors._base import _encode_labels


@pytest.mark.parametrize("shape", [(5000, 3), (2000, 10), (300, 64), (64, 2)])
def test_tree_order_copy_is_data_permuted(shape):
    rng = np.random.default_rng(shape[0])
    X = np.round(rng.standard_normal(shape), 1)  # many ties in every coordinate
    tree = KDTree(X, leaf_size=7)
    np.testing.assert_array_equal(tree._pdata, X[tree.idx_array])
    ref = SkKDTree(X, leaf_size=7)
    _, ref_idx, ref_nodes, ref_bounds = ref.get_arrays()
    np.testing.assert_array_equal(tree.node_bounds, ref_bounds)
    for start, end in zip(ref_nodes["idx_start"], ref_nodes["idx_end"]):
        assert set(tree.idx_array[start:end]) == set(ref_idx[start:end])
    d, i = tree.query(X[:200], k=4)
    d_ref, i_ref = ref.query(X[:200], k=4)
    np.testing.assert_allclose(d, d_ref, rtol=1e-15)


@pytest.mark.parametrize("y", [
    np.array([3, 1, 2, 3, 1, 7]),
    np.array([2.5, -0.0, 0.0, 1.0, 2.5]),
    np.array([True, False, True]),
    np.array([-3, 4, -3], dtype=np.int8),
    np.array(["b", "a", "c", "a"]),
    np.array(["b", 1, "a"], dtype=object)[[0, 2, 0]],
])
def test_encode_labels_is_unique_with_inverse(y):
    classes, codes = _encode_labels(y)
    ref_classes, ref_codes = np.unique(y, return_inverse=True)
    np.testing.assert_array_equal(classes, ref_classes)
    assert classes.dtype == ref_classes.dtype
    np.testing.assert_array_equal(codes, ref_codes)
    assert codes.dtype == ref_codes.dtype


def test_classifier_float_labels():
    X = np.arange(12.0).reshape(-1, 1)
    y = np.repeat([3.0, -1.0, 2.0], 4)
    clf = KNeighborsClassifier(n_neighbors=3).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [-1.0, 2.0, 3.0])
    np.testing.assert_array_equal(clf.predict(X), y)
