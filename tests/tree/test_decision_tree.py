import pickle
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn import tree as sk_tree
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_classification,
    make_regression,
)
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from mlnotes.tree import DecisionTreeClassifier, DecisionTreeRegressor

TREE_ARRAYS = ["children_left", "children_right", "feature", "threshold", "impurity",
               "n_node_samples", "weighted_n_node_samples", "value"]


def _clf_data(n=300, p=6, n_classes=3, seed=0):
    return make_classification(n_samples=n, n_features=p, n_informative=4,
                               n_redundant=1, n_classes=n_classes, random_state=seed)


def _reg_data(n=300, p=6, seed=0):
    return make_regression(n_samples=n, n_features=p, n_informative=4, noise=5.0,
                           random_state=seed)


def _weights(n, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.2, 3.0, size=n)
    w[rng.random(n) < 0.1] = 0.0
    return w


def assert_same_tree(ours, ref):
    """The two fitted trees have identical arrays (bit for bit)."""
    assert ours.tree_.node_count == ref.tree_.node_count
    assert ours.tree_.max_depth == ref.tree_.max_depth
    for name in TREE_ARRAYS:
        a, b = getattr(ours.tree_, name), getattr(ref.tree_, name)
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)


# --------------------------------------------------------------------- parity


CLF_CASES = [
    dict(),
    dict(criterion="entropy"),
    dict(criterion="log_loss", max_depth=4),
    dict(max_features="sqrt"),
    dict(max_features=2, splitter="random"),
    dict(splitter="random"),
    dict(max_leaf_nodes=12),
    dict(max_leaf_nodes=20, max_features=0.5),
    dict(min_samples_leaf=4, min_samples_split=10),
    dict(min_weight_fraction_leaf=0.02, min_impurity_decrease=0.005),
    dict(class_weight="balanced"),
    dict(class_weight={0: 1.0, 1: 2.5, 2: 0.5}),
    dict(ccp_alpha=0.01),
]


@pytest.mark.parametrize("params", CLF_CASES, ids=lambda p: str(p) or "default")
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_identical_to_sklearn(params, weighted):
    X, y = _clf_data()
    sw = _weights(len(y)) if weighted else None
    ours = DecisionTreeClassifier(random_state=3, **params).fit(X, y, sample_weight=sw)
    ref = sk_tree.DecisionTreeClassifier(random_state=3, **params).fit(X, y,
                                                                        sample_weight=sw)
    assert_same_tree(ours, ref)
    X_test, _ = _clf_data(seed=1)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    np.testing.assert_array_equal(ours.predict_proba(X_test), ref.predict_proba(X_test))
    np.testing.assert_array_equal(ours.apply(X_test), ref.apply(X_test))
    np.testing.assert_array_equal(ours.decision_path(X_test).toarray(),
                                  ref.decision_path(X_test).toarray())
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_,
                               rtol=1e-12, atol=1e-15)
    assert ours.get_depth() == ref.get_depth()
    assert ours.get_n_leaves() == ref.get_n_leaves()
    assert ours.max_features_ == ref.max_features_


REG_CASES = [
    dict(),
    dict(max_features="sqrt"),
    dict(splitter="random", max_features=0.5),
    dict(max_leaf_nodes=25),
    dict(min_samples_leaf=3, max_depth=6),
    dict(criterion="poisson"),
    dict(ccp_alpha=20.0),
]


@pytest.mark.parametrize("params", REG_CASES, ids=lambda p: str(p) or "default")
@pytest.mark.parametrize("weighted", [False, True])
def test_regressor_identical_to_sklearn(params, weighted):
    X, y = _reg_data()
    if params.get("criterion") == "poisson":
        y = np.exp(y / 100.0)
    sw = _weights(len(y)) if weighted else None
    ours = DecisionTreeRegressor(random_state=5, **params).fit(X, y, sample_weight=sw)
    ref = sk_tree.DecisionTreeRegressor(random_state=5, **params).fit(X, y,
                                                                       sample_weight=sw)
    assert_same_tree(ours, ref)
    X_test, _ = _reg_data(seed=1)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))


def test_multi_output_identical_to_sklearn():
    X, y = _clf_data()
    Y = np.c_[y, (y + X[:, 0] > 1).astype(int)]
    ours = DecisionTreeClassifier(random_state=0).fit(X, Y)
    ref = sk_tree.DecisionTreeClassifier(random_state=0).fit(X, Y)
    assert_same_tree(ours, ref)
    for a, b in zip(ours.predict_proba(X), ref.predict_proba(X)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    Xr, yr = _reg_data()
    Yr = np.c_[yr, yr ** 2 / 100.0]
    ours = DecisionTreeRegressor(random_state=0, max_depth=8).fit(Xr, Yr)
    ref = sk_tree.DecisionTreeRegressor(random_state=0, max_depth=8).fit(Xr, Yr)
    assert_same_tree(ours, ref)
    np.testing.assert_array_equal(ours.predict(Xr), ref.predict(Xr))


@pytest.mark.parametrize("cst", [[1, -1, 0, 0, 1, 0], [0, 0, -1, 1, 0, 0]])
def test_monotonic_constraints_identical_to_sklearn(cst):
    X, y = _clf_data(n_classes=2)
    for ours, ref, yy in [
        (DecisionTreeClassifier, sk_tree.DecisionTreeClassifier, y),
        (DecisionTreeRegressor, sk_tree.DecisionTreeRegressor, _reg_data()[1]),
    ]:
        for extra in [dict(), dict(max_leaf_nodes=15)]:
            a = ours(monotonic_cst=cst, random_state=0, **extra).fit(X, yy)
            b = ref(monotonic_cst=cst, random_state=0, **extra).fit(X, yy)
            assert_same_tree(a, b)


def test_large_nodes_and_ties_identical_to_sklearn():
    """Nodes of >= 384 samples are sorted by the radix path; digits has many ties."""
    X, y = make_classification(n_samples=2000, n_features=8, random_state=0)
    assert_same_tree(DecisionTreeClassifier(random_state=0).fit(X, y),
                     sk_tree.DecisionTreeClassifier(random_state=0).fit(X, y))
    X, y = load_digits(return_X_y=True)
    assert_same_tree(DecisionTreeClassifier(random_state=0).fit(X, y),
                     sk_tree.DecisionTreeClassifier(random_state=0).fit(X, y))
    X = -X + 0.5  # negative values and zeros
    assert_same_tree(DecisionTreeClassifier(random_state=1, max_features=10).fit(X, y),
                     sk_tree.DecisionTreeClassifier(random_state=1,
                                                    max_features=10).fit(X, y))


def _score_gap(ours_cls, ref_cls, X, y, seeds, **params):
    gaps = []
    for seed in seeds:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed)
        ours = ours_cls(random_state=seed, **params).fit(X_tr, y_tr).score(X_te, y_te)
        ref = ref_cls(random_state=seed, **params).fit(X_tr, y_tr).score(X_te, y_te)
        gaps.append(ours - ref)
    return np.mean(gaps)


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer, load_digits])
def test_held_out_accuracy_matches_sklearn(loader):
    X, y = loader(return_X_y=True)
    gap = _score_gap(DecisionTreeClassifier, sk_tree.DecisionTreeClassifier, X, y,
                     seeds=range(3), max_features="sqrt")
    assert gap > -0.02


def test_held_out_r2_matches_sklearn():
    X, y = load_diabetes(return_X_y=True)
    gap = _score_gap(DecisionTreeRegressor, sk_tree.DecisionTreeRegressor, X, y,
                     seeds=range(3), max_depth=4, max_features=0.5)
    assert gap > -0.02


# -------------------------------------------------------------- known answers


def _brute_force_root_split(X, y, impurity):
    """Exhaustive search of the best root split (feature, threshold, decrease)."""
    n = len(y)
    best = (-np.inf, None, None)
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        for lo, hi in zip(values[:-1], values[1:]):
            threshold = lo / 2.0 + hi / 2.0
            left = X[:, j] <= threshold
            decrease = impurity(y) - (left.sum() * impurity(y[left])
                                      + (~left).sum() * impurity(y[~left])) / n
            if decrease > best[0] + 1e-12:
                best = (decrease, j, threshold)
    return best


def _gini(y):
    p = np.bincount(y) / len(y)
    return 1.0 - np.sum(p ** 2)


def _entropy(y):
    p = np.bincount(y) / len(y)
    p = p[p > 0]
    return -np.sum(p * np.log2(p))


def test_hand_computable_split():
    X = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    clf = DecisionTreeClassifier().fit(X, y)
    assert clf.tree_.node_count == 3
    assert clf.tree_.feature[0] == 0
    assert clf.tree_.threshold[0] == 3.5
    assert clf.tree_.impurity[0] == 0.5  # 1 - (1/2)^2 - (1/2)^2
    np.testing.assert_array_equal(clf.tree_.impurity[1:], [0.0, 0.0])  # pure: leaves
    np.testing.assert_array_equal(clf.tree_.value[:, 0, :], [[0.5, 0.5], [1, 0], [0, 1]])


@pytest.mark.parametrize("criterion, impurity", [("gini", _gini), ("entropy", _entropy)])
def test_root_split_is_the_brute_force_optimum(criterion, impurity):
    X, y = _clf_data(n=120, p=5)
    X = np.round(X, 3).astype(np.float32).astype(np.float64)
    decrease, feature, threshold = _brute_force_root_split(X, y, impurity)
    clf = DecisionTreeClassifier(criterion=criterion, max_depth=1).fit(X, y)
    assert clf.tree_.feature[0] == feature
    assert clf.tree_.threshold[0] == pytest.approx(threshold)
    np.testing.assert_allclose(clf.tree_.impurity[0], impurity(y), rtol=1e-12)
    imp = clf.tree_.impurity
    w = clf.tree_.weighted_n_node_samples
    np.testing.assert_allclose(imp[0] - (w[1] * imp[1] + w[2] * imp[2]) / w[0], decrease,
                               rtol=1e-10)


def test_regression_impurity_is_the_variance_and_leaves_the_means():
    X, y = _reg_data(n=80)
    reg = DecisionTreeRegressor(max_depth=3).fit(X, y)
    np.testing.assert_allclose(reg.tree_.impurity[0], np.var(y), rtol=1e-10)
    leaves = reg.apply(X)
    for leaf in np.unique(leaves):
        np.testing.assert_allclose(reg.tree_.value[leaf, 0, 0], y[leaves == leaf].mean(),
                                   rtol=1e-10)
        np.testing.assert_allclose(reg.tree_.impurity[leaf], np.var(y[leaves == leaf]),
                                   rtol=1e-8, atol=1e-8)


def test_pure_node_is_a_leaf():
    X = np.random.default_rng(0).normal(size=(30, 3))
    clf = DecisionTreeClassifier().fit(X, np.full(30, 7))
    assert clf.tree_.node_count == 1 and clf.get_depth() == 0
    assert np.all(clf.predict(X) == 7)
    np.testing.assert_array_equal(clf.feature_importances_, np.zeros(3))
    reg = DecisionTreeRegressor().fit(X, np.full(30, 2.5))
    assert reg.tree_.node_count == 1 and np.all(reg.predict(X) == 2.5)


def test_fully_grown_tree_fits_distinct_points_exactly():
    X, y = _clf_data(n=200)
    clf = DecisionTreeClassifier().fit(X, y)
    assert clf.score(X, y) == 1.0
    assert np.all(clf.tree_.impurity[clf.tree_.children_left == -1] == 0.0)


def test_feature_importances_from_the_tree_arrays():
    X, y = _clf_data()
    clf = DecisionTreeClassifier(random_state=0, max_depth=5).fit(X, y)
    t = clf.tree_
    expected = np.zeros(X.shape[1])
    for node in np.flatnonzero(t.children_left != -1):
        left, right = t.children_left[node], t.children_right[node]
        expected[t.feature[node]] += (
            t.weighted_n_node_samples[node] * t.impurity[node]
            - t.weighted_n_node_samples[left] * t.impurity[left]
            - t.weighted_n_node_samples[right] * t.impurity[right])
    np.testing.assert_allclose(clf.feature_importances_, expected / expected.sum(),
                               rtol=1e-12)
    assert clf.feature_importances_.sum() == pytest.approx(1.0)
    assert np.all(clf.feature_importances_ >= 0)


def test_sample_weight_is_repetition():
    X, y = _clf_data(n=150)
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    X_rep, y_rep = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    for cls, target, target_rep in [(DecisionTreeClassifier, y, y_rep),
                                    (DecisionTreeRegressor, X[:, 0] * 2 + y,
                                     X_rep[:, 0] * 2 + y_rep)]:
        # (fully grown, the two trees would differ in the nodes holding one distinct
        # row: a leaf by min_samples_split when weighted, a failed split search,
        # which draws from the feature permutation, when repeated; and small nodes
        # have equally good splits that the permutation decides between)
        weighted = cls(random_state=0, max_depth=3).fit(X, target, sample_weight=counts)
        repeated = cls(random_state=0, max_depth=3).fit(X_rep, target_rep)
        for name in ["feature", "threshold", "weighted_n_node_samples"]:
            np.testing.assert_array_equal(getattr(weighted.tree_, name),
                                          getattr(repeated.tree_, name))
        np.testing.assert_allclose(weighted.tree_.value, repeated.tree_.value, rtol=1e-12)
        np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-12)


def test_random_state_reproducibility():
    X, y = _clf_data()
    a = DecisionTreeClassifier(max_features=2, random_state=7).fit(X, y)
    b = DecisionTreeClassifier(max_features=2, random_state=7).fit(X, y)
    assert_same_tree(a, b)
    trees = {DecisionTreeClassifier(max_features=1, random_state=seed).fit(X, y)
             .get_n_leaves() for seed in range(6)}
    assert len(trees) > 1  # the seed does change the tree


def test_max_leaf_nodes_and_max_depth_are_respected():
    X, y = _clf_data(n=400)
    for k in [2, 5, 17]:
        clf = DecisionTreeClassifier(max_leaf_nodes=k, random_state=0).fit(X, y)
        assert clf.get_n_leaves() == k
    assert DecisionTreeClassifier(max_depth=3).fit(X, y).get_depth() == 3


def test_cost_complexity_pruning_path_matches_sklearn():
    X, y = _clf_data()
    ours = DecisionTreeClassifier(random_state=0).cost_complexity_pruning_path(X, y)
    ref = sk_tree.DecisionTreeClassifier(random_state=0).cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(ours.ccp_alphas, ref.ccp_alphas, rtol=1e-12)
    np.testing.assert_allclose(ours.impurities, ref.impurities, rtol=1e-12)
    assert np.all(np.diff(ours.ccp_alphas) >= 0)
    # the largest alpha prunes the tree to its root
    root = DecisionTreeClassifier(random_state=0, ccp_alpha=ours.ccp_alphas[-1]).fit(X, y)
    assert root.tree_.node_count == 1


def test_pickle_round_trip():
    X, y = _clf_data()
    clf = DecisionTreeClassifier(random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))


def test_tree_arrays_have_sklearn_dtypes():
    X, y = _clf_data()
    ours = DecisionTreeClassifier(random_state=0).fit(X, y).tree_
    ref = sk_tree.DecisionTreeClassifier(random_state=0).fit(X, y).tree_
    for name in TREE_ARRAYS:
        assert getattr(ours, name).dtype == getattr(ref, name).dtype, name
    np.testing.assert_array_equal(ours.compute_node_depths(), ref.compute_node_depths())
    assert ours.n_leaves == ref.n_leaves and ours.n_outputs == ref.n_outputs
    np.testing.assert_array_equal(ours.n_classes, ref.n_classes)


def test_sparse_input_is_densified():
    from scipy import sparse

    X, y = _clf_data()
    X[np.abs(X) < 0.8] = 0.0
    dense = DecisionTreeClassifier(random_state=0).fit(X, y)
    for fmt in ["csr", "csc"]:
        X_sparse = sparse.csr_array(X).asformat(fmt)
        sp = DecisionTreeClassifier(random_state=0).fit(X_sparse, y)
        assert_same_tree(sp, dense)
        np.testing.assert_array_equal(sp.predict(sparse.csr_matrix(X)), dense.predict(X))


# --------------------------------------------------------------------- bad input


def test_infinity_and_sparse_missing_values_are_rejected_clearly():
    """NaN is a missing value (tests/tree/test_missing_values.py); an infinity is
    an error, and so is NaN in a sparse matrix, as in scikit-learn."""
    X, y = _clf_data(n=50)
    X[3, 1] = np.inf
    for cls in [DecisionTreeClassifier, DecisionTreeRegressor]:
        with pytest.raises(ValueError, match="infinity"):
            cls().fit(X, y)
    fitted = DecisionTreeClassifier().fit(np.nan_to_num(X, posinf=0.0), y)
    with pytest.raises(ValueError, match="infinity"):
        fitted.predict(X)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DecisionTreeClassifier().fit(sparse.csr_matrix(X), y)
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(sparse.csr_matrix(X))


def test_bad_parameters_are_rejected():
    X, y = _reg_data(n=50)
    with pytest.raises(InvalidParameterError, match="criterion"):
        DecisionTreeRegressor(criterion="gini").fit(X, y)
    with pytest.raises(InvalidParameterError, match="max_depth"):
        DecisionTreeRegressor(max_depth=0).fit(X, y)
    with pytest.raises(ValueError, match="negative"):
        DecisionTreeRegressor(criterion="poisson").fit(X, y - 1000)
    with pytest.raises(ValueError, match="monotonic_cst has shape"):
        DecisionTreeRegressor(monotonic_cst=[1, 0]).fit(X, y)
    with pytest.raises(ValueError, match="-1, 0 or 1"):
        DecisionTreeRegressor(monotonic_cst=[2] * X.shape[1]).fit(X, y)
    Xc, yc = _clf_data(n=60)
    with pytest.raises(ValueError, match="multiclass"):
        DecisionTreeClassifier(monotonic_cst=[1] * Xc.shape[1]).fit(Xc, yc)
    with pytest.raises(ValueError, match="Unknown label type"):
        DecisionTreeClassifier().fit(X, y)


def test_friedman_mse_is_deprecated_to_squared_error():
    X, y = _reg_data(n=80)
    with pytest.warns(FutureWarning, match="friedman_mse"):
        a = DecisionTreeRegressor(criterion="friedman_mse", random_state=0).fit(X, y)
    b = DecisionTreeRegressor(random_state=0).fit(X, y)
    assert_same_tree(a, b)


# ------------------------------------------------------------------- properties


def _distinct_columns(X):
    Xf = X.astype(np.float32)
    return all(len(np.unique(Xf[:, j])) == len(Xf) for j in range(X.shape[1]))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(10, 60), p=st.integers(1, 4),
       n_classes=st.integers(2, 4))
def test_label_relabelling_invariance(seed, n, p, n_classes):
    """Renaming the classes (order-reversing, to strings) renames the predictions."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = rng.integers(0, n_classes, size=n)
    assume(len(np.unique(y)) > 1)
    names = np.array([f"c{9 - k}" for k in range(n_classes)])  # reverses the sort order
    a = DecisionTreeClassifier(random_state=0, max_depth=4).fit(X, y)
    b = DecisionTreeClassifier(random_state=0, max_depth=4).fit(X, names[y])
    X_test = rng.normal(size=(20, p))
    pa, pb = a.predict_proba(X_test), b.predict_proba(X_test)
    for k, label in enumerate(a.classes_):
        column = list(b.classes_).index(names[label])
        np.testing.assert_array_equal(pa[:, k], pb[:, column])
    untied = np.sort(pa, axis=1)[:, -1] > np.sort(pa, axis=1)[:, -2]  # argmax ties go
    np.testing.assert_array_equal(names[a.predict(X_test)][untied],  # to the first class
                                  b.predict(X_test)[untied])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(10, 60), p=st.integers(1, 4))
def test_monotone_feature_transform_invariance(seed, n, p):
    """A strictly increasing map of the features leaves the partition of the
    training set, hence the predictions on it, unchanged."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, p))
    Z = np.exp(X) * 3.0 + X ** 3  # strictly increasing
    assume(_distinct_columns(X) and _distinct_columns(Z))
    y = rng.integers(0, 3, size=n)
    yr = X[:, 0] - 2 * X[:, -1] + rng.normal(size=n)
    for cls, target in [(DecisionTreeClassifier, y), (DecisionTreeRegressor, yr)]:
        a = cls(random_state=0).fit(X, target)
        b = cls(random_state=0).fit(Z, target)
        np.testing.assert_array_equal(a.apply(X), b.apply(Z))
        np.testing.assert_array_equal(a.predict(X), b.predict(Z))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 80))
def test_probabilities_are_leaf_frequencies(seed, n):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, 3, size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = DecisionTreeClassifier(max_depth=3, random_state=0)
        clf.fit(X, y, sample_weight=w)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    leaves = clf.apply(X)
    for leaf in np.unique(leaves):
        in_leaf = leaves == leaf
        freq = np.array([w[in_leaf & (y == c)].sum() for c in clf.classes_])
        np.testing.assert_allclose(proba[in_leaf][0], freq / w[in_leaf].sum(), rtol=1e-10)


def test_negative_sample_weight_parity_or_clear_error():
    """Issue 21: negative sample weights fit as scikit-learn does; when a node's total
    weight cancels to 0 (scikit-learn then predicts -inf), a clear ValueError, never a
    ZeroDivisionError from the builder."""
    from sklearn.tree import DecisionTreeRegressor as SkRegressor

    rng = np.random.RandomState(0)
    X, y, w = rng.rand(50, 3), rng.rand(50), rng.rand(50)
    w[:5] = -0.5
    ours = DecisionTreeRegressor(random_state=0).fit(X, y, sample_weight=w)
    ref = SkRegressor(random_state=0).fit(X, y, sample_weight=w)
    assert ours.tree_.node_count == ref.tree_.node_count
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-12)

    X, y = rng.rand(20, 2), rng.rand(20)
    w = np.ones(20)
    w[0] = -1.0
    with np.errstate(all="ignore"):
        ref = SkRegressor(random_state=0).fit(X, y, sample_weight=w)
    assert not np.all(np.isfinite(ref.predict(X)))
    with pytest.raises(ValueError, match="total sample weight of exactly 0"):
        DecisionTreeRegressor(random_state=0).fit(X, y, sample_weight=w)
