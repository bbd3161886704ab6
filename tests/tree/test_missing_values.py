"""Missing values (NaN) and the absolute-error criterion in the trees: the trees
scikit-learn grows (bit for bit), the routing of NaN at prediction, and known
answers (issues 14 and 21)."""

import numpy as np
import pytest
from sklearn import tree as sk_tree
from sklearn.datasets import make_classification, make_regression

from mlnotes.tree import DecisionTreeClassifier, DecisionTreeRegressor

TREE_ARRAYS = ["children_left", "children_right", "feature", "threshold", "impurity",
               "n_node_samples", "weighted_n_node_samples", "value",
               "missing_go_to_left"]


def _with_nan(X, frac=0.2, seed=0, columns=None):
    rng = np.random.default_rng(seed)
    X = X.copy()
    mask = rng.random(X.shape) < frac
    if columns is not None:
        keep = np.ones(X.shape[1], dtype=bool)
        keep[columns] = False
        mask[:, keep] = False
    X[mask] = np.nan
    return X


def _clf_data(n=240, p=5, seed=0):
    return make_classification(n_samples=n, n_features=p, n_informative=3,
                               n_redundant=1, n_classes=3, random_state=seed)


def _reg_data(n=240, p=5, seed=0):
    return make_regression(n_samples=n, n_features=p, n_informative=3, noise=5.0,
                           random_state=seed)


def assert_same_tree(ours, ref):
    assert ours.tree_.node_count == ref.tree_.node_count
    assert ours.tree_.max_depth == ref.tree_.max_depth
    for name in TREE_ARRAYS:
        np.testing.assert_array_equal(getattr(ours.tree_, name),
                                      getattr(ref.tree_, name), err_msg=name)


def _weights(n, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 4, size=n).astype(float)
    return w


# ------------------------------------------------------------- missing values


NAN_CLF_CASES = [
    dict(),
    dict(splitter="random"),
    dict(criterion="entropy", max_features=2),
    dict(max_leaf_nodes=10),
    dict(splitter="random", max_leaf_nodes=10, min_samples_leaf=3),
]


@pytest.mark.parametrize("params", NAN_CLF_CASES, ids=lambda p: str(p) or "default")
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_with_nan_identical_to_sklearn(params, weighted):
    X, y = _clf_data()
    X = _with_nan(X)
    w = _weights(len(y)) if weighted else None
    ours = DecisionTreeClassifier(random_state=0, **params).fit(X, y, sample_weight=w)
    ref = sk_tree.DecisionTreeClassifier(random_state=0, **params).fit(
        X, y, sample_weight=w)
    assert_same_tree(ours, ref)
    # both sides learned somewhere, and NaN routed as scikit-learn routes it
    assert 0 < ours.tree_.missing_go_to_left.sum() < ours.tree_.node_count
    X_test = _with_nan(_clf_data(seed=1)[0], frac=0.3, seed=1)
    np.testing.assert_array_equal(ours.predict_proba(X_test), ref.predict_proba(X_test))
    np.testing.assert_array_equal(ours.apply(X_test), ref.apply(X_test))
    np.testing.assert_array_equal(ours.decision_path(X_test).toarray(),
                                  ref.decision_path(X_test).toarray())


NAN_REG_CASES = [
    dict(),
    dict(splitter="random"),
    dict(criterion="poisson"),
    dict(criterion="absolute_error"),
    dict(criterion="absolute_error", splitter="random", max_leaf_nodes=12),
    dict(max_depth=4, min_weight_fraction_leaf=0.05),
]


@pytest.mark.parametrize("params", NAN_REG_CASES, ids=lambda p: str(p) or "default")
def test_regressor_with_nan_identical_to_sklearn(params):
    X, y = _reg_data()
    if params.get("criterion") == "poisson":
        y = np.abs(y)
    X = _with_nan(X)
    ours = DecisionTreeRegressor(random_state=0, **params).fit(X, y)
    ref = sk_tree.DecisionTreeRegressor(random_state=0, **params).fit(X, y)
    assert_same_tree(ours, ref)
    X_test = _with_nan(_reg_data(seed=1)[0], frac=0.3, seed=1)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))


def test_multi_output_and_monotonic_with_nan_identical_to_sklearn():
    X, y = _reg_data()
    X = _with_nan(X, seed=3)
    Y = np.column_stack([y, np.sin(y / 50.0)])
    for params in [dict(), dict(splitter="random")]:
        ours = DecisionTreeRegressor(random_state=1, **params).fit(X, Y)
        ref = sk_tree.DecisionTreeRegressor(random_state=1, **params).fit(X, Y)
        assert_same_tree(ours, ref)
    cst = [1, 0, -1, 0, 0]
    ours = DecisionTreeRegressor(random_state=0, monotonic_cst=cst, max_depth=5).fit(X, y)
    ref = sk_tree.DecisionTreeRegressor(random_state=0, monotonic_cst=cst,
                                        max_depth=5).fit(X, y)
    assert_same_tree(ours, ref)


def test_nan_only_at_predict_goes_to_the_larger_child():
    """Trained without NaN, a node sends NaN to its child with more samples."""
    X, y = _clf_data()
    ours = DecisionTreeClassifier(random_state=0, max_depth=4).fit(X, y)
    ref = sk_tree.DecisionTreeClassifier(random_state=0, max_depth=4).fit(X, y)
    assert_same_tree(ours, ref)
    t = ours.tree_
    inner = t.children_left >= 0
    larger_left = (t.n_node_samples[t.children_left[inner]]
                   > t.n_node_samples[t.children_right[inner]])
    np.testing.assert_array_equal(t.missing_go_to_left[inner], larger_left)
    X_test = _with_nan(X, frac=0.5, seed=2)
    np.testing.assert_array_equal(ours.predict_proba(X_test), ref.predict_proba(X_test))
    # a row of NaN only follows the larger child from the root to a leaf
    node = 0
    while t.children_left[node] >= 0:
        node = (t.children_left[node] if t.missing_go_to_left[node]
                else t.children_right[node])
    assert ours.apply(np.full((1, X.shape[1]), np.nan))[0] == node


def test_missing_values_are_a_signal():
    """A feature that is missing exactly for class 1 separates the classes at the
    root: NaN goes to one child, every other value to the other."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (rng.random(200) < 0.5).astype(int)
    X[y == 1, 0] = np.nan
    tree = DecisionTreeClassifier(random_state=0).fit(X, y)
    assert tree.tree_.feature[0] == 0
    assert tree.tree_.threshold[0] == np.inf  # non-missing left, missing right
    assert not tree.tree_.missing_go_to_left[0]
    assert tree.tree_.impurity[1] == 0.0 and tree.tree_.impurity[2] == 0.0
    np.testing.assert_array_equal(tree.predict(X), y)


def test_all_missing_feature_is_never_split_on():
    X, y = _clf_data(n=120)
    X[:, 2] = np.nan
    ours = DecisionTreeClassifier(random_state=0).fit(X, y)
    ref = sk_tree.DecisionTreeClassifier(random_state=0).fit(X, y)
    assert_same_tree(ours, ref)
    assert 2 not in ours.tree_.feature


def test_nan_tags_and_check_estimator_missing_value_checks():
    """With the allow_nan tag, as scikit-learn's trees, check_estimator pickles a
    tree fitted on data with NaN (check_estimators_pickle) instead of asking for
    an error on NaN (check_estimators_nan_inf, which is not yielded)."""
    from sklearn.utils.estimator_checks import (
        _yield_all_checks,
        check_estimators_pickle,
    )

    for est in [DecisionTreeClassifier(random_state=0), DecisionTreeRegressor()]:
        assert est.__sklearn_tags__().input_tags.allow_nan
        names = {getattr(c, "func", c).__name__ for c in _yield_all_checks(est, legacy=True)}
        assert "check_estimators_pickle" in names
        assert "check_estimators_nan_inf" not in names
        check_estimators_pickle(type(est).__name__, est)


# -------------------------------------------------------------- absolute error


MAE_CASES = [
    dict(),
    dict(splitter="random"),
    dict(max_leaf_nodes=15),
    dict(min_samples_leaf=5, max_features=3),
    dict(ccp_alpha=0.5),
    dict(monotonic_cst=[1, 0, 0, -1, 0], max_depth=6),
]


@pytest.mark.parametrize("params", MAE_CASES, ids=lambda p: str(p) or "default")
@pytest.mark.parametrize("weighted", [False, True])
def test_absolute_error_identical_to_sklearn(params, weighted):
    X, y = _reg_data(n=200)
    y = np.round(y)  # ties in y: medians between two ranks
    w = _weights(len(y), seed=2) if weighted else None
    ours = DecisionTreeRegressor(criterion="absolute_error", random_state=0,
                                 **params).fit(X, y, sample_weight=w)
    ref = sk_tree.DecisionTreeRegressor(criterion="absolute_error", random_state=0,
                                        **params).fit(X, y, sample_weight=w)
    assert_same_tree(ours, ref)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_absolute_error_multi_output_and_fractional_weights_identical_to_sklearn():
    X, y = _reg_data(n=150, seed=4)
    Y = np.column_stack([y, -2.0 * y + 1.0, np.abs(y)])
    w = np.random.default_rng(0).uniform(0.1, 2.0, size=len(y))
    ours = DecisionTreeRegressor(criterion="absolute_error", random_state=0,
                                 max_depth=6).fit(X, Y, sample_weight=w)
    ref = sk_tree.DecisionTreeRegressor(criterion="absolute_error", random_state=0,
                                        max_depth=6).fit(X, Y, sample_weight=w)
    assert_same_tree(ours, ref)


def _weighted_median(y, w):
    """The smallest y whose cumulative weight exceeds half the total, or the
    midpoint of two values when half the total is reached exactly between them."""
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    cum = np.cumsum(w)
    half = cum[-1] / 2
    k = np.searchsorted(cum, half, side="right")
    if k > 0 and cum[k - 1] == half:
        return (y[k - 1] + y[k]) / 2
    return y[k]


def test_absolute_error_leaves_are_medians_and_impurity_the_mean_deviation():
    """Known answers, computed here by brute force: each node's value is the
    weighted median of its training targets, its impurity the weighted mean
    absolute deviation around it, and the root split minimises the total one."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 8, size=(60, 2)).astype(float)
    y = rng.exponential(size=60).round(2)
    w = rng.integers(1, 4, size=60).astype(float)
    tree = DecisionTreeRegressor(criterion="absolute_error", random_state=0,
                                 max_depth=3).fit(X, y, sample_weight=w)
    node_of = tree.decision_path(X).toarray().astype(bool)
    t = tree.tree_
    for node in range(t.node_count):
        rows = node_of[:, node]
        m = _weighted_median(y[rows], w[rows])
        assert t.value[node, 0, 0] == pytest.approx(m)
        assert t.impurity[node] == pytest.approx(
            np.sum(w[rows] * np.abs(y[rows] - m)) / np.sum(w[rows]))

    def cost(rows):
        m = _weighted_median(y[rows], w[rows])
        return np.sum(w[rows] * np.abs(y[rows] - m))

    best = min(cost(X[:, j] <= v) + cost(X[:, j] > v)
               for j in range(2) for v in np.unique(X[:, j])[:-1] + 0.5)
    root = X[:, t.feature[0]] <= t.threshold[0]
    assert cost(root) + cost(~root) == pytest.approx(best)


# ------------------------------------------------------------------- exporters


def test_exporters_give_sklearn_output_for_the_same_tree():
    """export_text / export_graphviz / plot_tree of mlnotes.tree accept our trees
    (scikit-learn's own refuse them) and print what scikit-learn prints for its
    identical tree."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlnotes.tree import export_graphviz, export_text, plot_tree

    X, y = _clf_data(n=120)
    X = _with_nan(X, frac=0.1)
    ours = DecisionTreeClassifier(random_state=0, max_depth=3).fit(X, y)
    ref = sk_tree.DecisionTreeClassifier(random_state=0, max_depth=3).fit(X, y)
    with pytest.raises(ValueError, match="decision_tree"):
        sk_tree.export_text(ours)
    assert export_text(ours, show_weights=True) == sk_tree.export_text(
        ref, show_weights=True)
    assert export_text(ref) == sk_tree.export_text(ref)
    assert export_graphviz(ours, filled=True) == sk_tree.export_graphviz(ref, filled=True)
    Xr, yr = _reg_data(n=80)
    reg = DecisionTreeRegressor(max_depth=2, criterion="absolute_error").fit(Xr, yr)
    reg_ref = sk_tree.DecisionTreeRegressor(max_depth=2, criterion="absolute_error")
    reg_ref.fit(Xr, yr)
    assert export_text(reg, decimals=4) == sk_tree.export_text(reg_ref, decimals=4)
    fig, ax = plt.subplots()
    texts = [a.get_text() for a in plot_tree(ours, ax=ax)]
    plt.close(fig)
    fig, ax = plt.subplots()
    ref_texts = [a.get_text() for a in sk_tree.plot_tree(ref, ax=ax)]
    plt.close(fig)
    assert texts == ref_texts
    with pytest.raises(Exception, match="fitted|decision_tree"):
        export_text(DecisionTreeClassifier())


# ------------------------------------ scikit-learn's test_tree.py cases (issue 21)


def test_sklearn_error_order_deprecation_and_huge_allocation():
    """As scikit-learn 1.9: the Poisson checks come before the length check,
    "friedman_mse" warns when the estimator is built (and becomes
    "squared_error"), and an impossible max_leaf_nodes is a MemoryError."""
    from mlnotes.ensemble import RandomForestRegressor

    with pytest.raises(ValueError, match="y is not positive.*Poisson"):
        DecisionTreeRegressor(criterion="poisson").fit([[0, 1, 2]], [0, 0, 0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        DecisionTreeRegressor().fit([[0, 1, 2]], [0, 0, 0])
    for cls in (DecisionTreeRegressor, RandomForestRegressor):
        with pytest.warns(FutureWarning, match="friedman_mse"):
            est = cls(criterion="friedman_mse")
        assert est.get_params()["criterion"] == "squared_error"
    X = np.random.default_rng(0).normal(size=(10, 2))
    y = np.arange(10) % 2
    with pytest.raises(MemoryError):
        DecisionTreeClassifier(max_leaf_nodes=2**63 - 1).fit(X, y)
    with pytest.raises(Exception):
        DecisionTreeClassifier(max_leaf_nodes=2**65).fit(X, y)
