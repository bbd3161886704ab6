import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn import ensemble as sk_ensemble
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
    make_regression,
)
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from mlnotes.ensemble import RandomForestClassifier, RandomForestRegressor
from mlnotes.tree import DecisionTreeClassifier, DecisionTreeRegressor

TREE_ARRAYS = ["children_left", "children_right", "feature", "threshold", "impurity",
               "n_node_samples", "weighted_n_node_samples", "value"]


def _clf_data(n=300, p=8, n_classes=3, seed=0):
    return make_classification(n_samples=n, n_features=p, n_informative=5,
                               n_classes=n_classes, random_state=seed)


def _reg_data(n=300, p=8, seed=0):
    return make_regression(n_samples=n, n_features=p, n_informative=5, noise=10.0,
                           random_state=seed)


def assert_same_forest(ours, ref):
    assert len(ours.estimators_) == len(ref.estimators_)
    for a, b in zip(ours.estimators_, ref.estimators_):
        assert a.random_state == b.random_state
        for name in TREE_ARRAYS:
            np.testing.assert_array_equal(getattr(a.tree_, name), getattr(b.tree_, name),
                                          err_msg=name)


# ---------------------------------------------------------------------- parity


CLF_CASES = [
    dict(),
    dict(oob_score=True, criterion="entropy"),
    dict(class_weight="balanced", oob_score=True),
    dict(class_weight="balanced_subsample", max_depth=6),
    dict(bootstrap=False, max_features=None),
    dict(max_samples=0.5, min_samples_leaf=2),
    dict(max_samples=100, max_leaf_nodes=16),
]


@pytest.mark.filterwarnings("ignore:Some inputs do not have OOB scores")
@pytest.mark.parametrize("params", CLF_CASES, ids=lambda p: str(p) or "default")
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_identical_to_sklearn(params, weighted):
    """Same random_state: the same bootstrap samples, trees and predictions."""
    X, y = _clf_data()
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y)) if weighted else None
    ours = RandomForestClassifier(n_estimators=8, random_state=4, **params)
    ref = sk_ensemble.RandomForestClassifier(n_estimators=8, random_state=4, **params)
    ours.fit(X, y, sample_weight=sw)
    ref.fit(X, y, sample_weight=sw)
    assert_same_forest(ours, ref)
    X_test, _ = _clf_data(seed=1)
    np.testing.assert_array_equal(ours.predict_proba(X_test), ref.predict_proba(X_test))
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    np.testing.assert_array_equal(ours.apply(X_test), ref.apply(X_test))
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_,
                               rtol=1e-12)
    if params.get("oob_score"):
        assert ours.oob_score_ == ref.oob_score_
        np.testing.assert_array_equal(ours.oob_decision_function_,
                                      ref.oob_decision_function_)
    for a, b in zip(ours.estimators_samples_, ref.estimators_samples_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("params", [dict(oob_score=True), dict(max_features="sqrt"),
                                    dict(criterion="poisson", max_depth=5)],
                         ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.filterwarnings("ignore:Some inputs do not have OOB scores")
def test_regressor_identical_to_sklearn(params, weighted):
    X, y = _reg_data()
    if params.get("criterion") == "poisson":
        y = np.exp(y / 200.0)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y)) if weighted else None
    ours = RandomForestRegressor(n_estimators=8, random_state=2, **params)
    ref = sk_ensemble.RandomForestRegressor(n_estimators=8, random_state=2, **params)
    ours.fit(X, y, sample_weight=sw)
    ref.fit(X, y, sample_weight=sw)
    assert_same_forest(ours, ref)
    X_test, _ = _reg_data(seed=1)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    if params.get("oob_score"):
        assert ours.oob_score_ == ref.oob_score_
        np.testing.assert_array_equal(ours.oob_prediction_, ref.oob_prediction_)


@pytest.mark.filterwarnings("ignore:Some inputs do not have OOB scores")
def test_multi_output_identical_to_sklearn():
    X, y = _clf_data(n_classes=2)
    Y = np.c_[y, (X[:, 0] > 0).astype(int)]
    ours = RandomForestClassifier(n_estimators=5, oob_score=True, random_state=0).fit(X, Y)
    ref = sk_ensemble.RandomForestClassifier(n_estimators=5, oob_score=True,
                                             random_state=0).fit(X, Y)
    assert_same_forest(ours, ref)
    for a, b in zip(ours.predict_proba(X), ref.predict_proba(X)):
        np.testing.assert_array_equal(a, b)
    assert ours.oob_score_ == ref.oob_score_
    Xr, yr = _reg_data()
    Yr = np.c_[yr, -yr / 2.0]
    ours = RandomForestRegressor(n_estimators=5, oob_score=True, random_state=0)
    ours.fit(Xr, Yr)
    ref = sk_ensemble.RandomForestRegressor(n_estimators=5, oob_score=True,
                                            random_state=0).fit(Xr, Yr)
    assert_same_forest(ours, ref)
    np.testing.assert_array_equal(ours.oob_prediction_, ref.oob_prediction_)


def test_warm_start_matches_sklearn_and_a_single_fit():
    X, y = _clf_data()
    ours = RandomForestClassifier(n_estimators=4, warm_start=True, random_state=1)
    ours.fit(X, y)
    first = list(ours.estimators_)
    ours.set_params(n_estimators=9).fit(X, y)
    assert ours.estimators_[:4] == first  # kept, not refitted
    ref = sk_ensemble.RandomForestClassifier(n_estimators=4, warm_start=True,
                                             random_state=1).fit(X, y)
    ref.set_params(n_estimators=9).fit(X, y)
    assert_same_forest(ours, ref)
    single_fit = RandomForestClassifier(n_estimators=9, random_state=1).fit(X, y)
    assert_same_forest(single_fit, ref)
    with pytest.warns(UserWarning, match="without increasing n_estimators"):
        ours.fit(X, y)
    with pytest.raises(ValueError, match="must be larger or equal"):
        ours.set_params(n_estimators=3).fit(X, y)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
def test_held_out_accuracy_matches_sklearn(loader):
    X, y = loader(return_X_y=True)
    gaps = []
    for seed in range(2):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed)
        ours = RandomForestClassifier(n_estimators=30, random_state=seed).fit(X_tr, y_tr)
        ref = sk_ensemble.RandomForestClassifier(n_estimators=30,
                                                 random_state=seed).fit(X_tr, y_tr)
        gaps.append(ours.score(X_te, y_te) - ref.score(X_te, y_te))
    assert np.mean(gaps) > -0.02


def test_held_out_r2_matches_sklearn():
    X, y = load_diabetes(return_X_y=True)
    gaps = []
    for seed in range(2):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed)
        ours = RandomForestRegressor(n_estimators=30, random_state=seed).fit(X_tr, y_tr)
        ref = sk_ensemble.RandomForestRegressor(n_estimators=30,
                                                random_state=seed).fit(X_tr, y_tr)
        gaps.append(ours.score(X_te, y_te) - ref.score(X_te, y_te))
    assert np.mean(gaps) > -0.02


# -------------------------------------------------------------- known answers


def test_forest_is_the_average_of_its_trees():
    X, y = _clf_data()
    clf = RandomForestClassifier(n_estimators=6, random_state=0).fit(X, y)
    mean = np.mean([t.predict_proba(X) for t in clf.estimators_], axis=0)
    np.testing.assert_allclose(clf.predict_proba(X), mean, rtol=1e-12)
    Xr, yr = _reg_data()
    reg = RandomForestRegressor(n_estimators=6, random_state=0).fit(Xr, yr)
    mean = np.mean([t.predict(Xr) for t in reg.estimators_], axis=0)
    np.testing.assert_allclose(reg.predict(Xr), mean, rtol=1e-12)
    imps = np.mean([t.feature_importances_ for t in reg.estimators_], axis=0)
    np.testing.assert_allclose(reg.feature_importances_, imps / imps.sum(), rtol=1e-12)
    assert reg.feature_importances_.sum() == pytest.approx(1.0)


def test_trees_are_grown_on_their_bootstrap_samples():
    X, y = _reg_data(n=120)
    reg = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    for tree, idx in zip(reg.estimators_, reg.estimators_samples_):
        counts = np.bincount(idx, minlength=len(y))
        root = tree.tree_
        assert root.weighted_n_node_samples[0] == len(y)  # n draws with replacement
        assert root.n_node_samples[0] == np.count_nonzero(counts)
        np.testing.assert_allclose(root.value[0, 0, 0], np.average(y, weights=counts))
        single = DecisionTreeRegressor(max_features=1.0, random_state=tree.random_state)
        single.fit(X, y, sample_weight=counts)
        np.testing.assert_array_equal(single.tree_.threshold, tree.tree_.threshold)


def test_oob_score_is_the_out_of_bag_accuracy():
    X_all, y_all = _clf_data(n=2400)
    X, y, X_te, y_te = X_all[:400], y_all[:400], X_all[400:], y_all[400:]
    clf = RandomForestClassifier(n_estimators=25, oob_score=True, random_state=0).fit(X, y)
    votes = np.zeros((len(y), 3))
    seen = np.zeros(len(y))
    for tree, idx in zip(clf.estimators_, clf.estimators_samples_):
        out = np.setdiff1d(np.arange(len(y)), idx)
        votes[out] += tree.predict_proba(X[out])
        seen[out] += 1
    assert np.all(seen > 0)
    np.testing.assert_allclose(clf.oob_decision_function_, votes / seen[:, None],
                               rtol=1e-12)
    assert clf.oob_score_ == accuracy_score(y, votes.argmax(axis=1))
    # and it estimates the held-out accuracy
    assert abs(clf.oob_score_ - clf.score(X_te, y_te)) < 0.1


def test_parallel_fit_and_predict_give_the_same_forest():
    X, y = _clf_data()
    a = RandomForestClassifier(n_estimators=8, random_state=0, n_jobs=1).fit(X, y)
    b = RandomForestClassifier(n_estimators=8, random_state=0, n_jobs=2).fit(X, y)
    assert_same_forest(a, b)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-12)


def test_random_state_reproducibility_and_pickle():
    X, y = _reg_data()
    a = RandomForestRegressor(n_estimators=5, random_state=11).fit(X, y)
    b = RandomForestRegressor(n_estimators=5, random_state=11).fit(X, y)
    assert_same_forest(a, b)
    c = RandomForestRegressor(n_estimators=5, random_state=12).fit(X, y)
    assert not np.array_equal(a.predict(X), c.predict(X))
    d = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(d.predict(X), a.predict(X))
    assert len(d) == 5 and isinstance(d[0], DecisionTreeRegressor)
    assert isinstance(RandomForestClassifier(n_estimators=2).fit(*_clf_data()).estimator_,
                      DecisionTreeClassifier)


def test_decision_path_columns_follow_the_trees():
    X, y = _clf_data(n=100)
    clf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    indicator, ptr = clf.decision_path(X[:5])
    assert indicator.shape == (5, ptr[-1])
    for i, tree in enumerate(clf.estimators_):
        np.testing.assert_array_equal(indicator[:, ptr[i]:ptr[i + 1]].toarray(),
                                      tree.decision_path(X[:5]).toarray())


# ------------------------------------------------------------------ bad input


def test_bad_input_is_rejected():
    X, y = _clf_data(n=60)
    with pytest.raises(ValueError, match="Out of bag estimation only available"):
        RandomForestClassifier(bootstrap=False, oob_score=True).fit(X, y)
    with pytest.raises(ValueError, match="max_sample"):
        RandomForestClassifier(bootstrap=False, max_samples=10).fit(X, y)
    Xn = X.copy()
    Xn[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        RandomForestClassifier(n_estimators=2).fit(Xn, y)
    fitted = RandomForestRegressor(n_estimators=2).fit(X, y.astype(float))
    with pytest.raises(ValueError, match="infinity"):
        fitted.predict(Xn)
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(sparse.csr_matrix(Xn))
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])
    with pytest.warns(DataConversionWarning):
        RandomForestRegressor(n_estimators=2).fit(X, y.reshape(-1, 1).astype(float))
    with pytest.raises(ValueError, match="Unknown label type"):
        RandomForestClassifier(n_estimators=2).fit(X, y + 0.5)
    with pytest.warns(UserWarning, match="do not have OOB scores"):
        RandomForestClassifier(n_estimators=2, oob_score=True, random_state=0).fit(X, y)


# ------------------------------------------------------------------ properties


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 80), n_classes=st.integers(2, 4))
def test_probabilities_are_averaged_frequencies(seed, n, n_classes):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, n_classes, size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=seed)
        clf.fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_warm_start_refit_on_two_outputs_with_balanced_class_weight():
    """Issue 21 (scikit-learn's test_class_weight_errors): a warm-start refit on a 2-output
    y without more trees warns as scikit-learn and grows nothing (no IndexError); the
    forest keeps predicting as it was fitted. Adding trees for the new outputs is a
    clear ValueError (scikit-learn mixes 1- and 2-output trees silently)."""
    rng = np.random.RandomState(0)
    X = rng.rand(60, 3)
    y = np.where(rng.rand(60) > 0.5, 1, -1)
    Y = np.c_[y, 2 * y]
    clf = RandomForestClassifier(n_estimators=5, class_weight="balanced", warm_start=True,
                                 random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="class_weight presets")
        with pytest.warns(UserWarning, match="does not fit new trees"):
            clf.fit(X, Y)
        assert len(clf.estimators_) == 5
        np.testing.assert_array_equal(clf.predict_proba(X), proba)
        with pytest.raises(ValueError, match="number of outputs or of classes"):
            clf.set_params(n_estimators=8).fit(X, Y)


# ------------------------------------------------- missing values, absolute error


def _with_nan(X, frac=0.15, seed=0):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < frac] = np.nan
    return X


@pytest.mark.filterwarnings("ignore:Some inputs do not have OOB scores")
@pytest.mark.parametrize("params", [dict(oob_score=True), dict(max_leaf_nodes=12),
                                    dict(bootstrap=False, max_features=None)], ids=str)
def test_forests_with_nan_identical_to_sklearn(params):
    """Issue 14: the same trees as scikit-learn's on data with missing values, in
    fit and in predict, and NaN at predict only for a forest trained without."""
    X, y = _clf_data(n=200)
    Xn = _with_nan(X)
    X_test = _with_nan(_clf_data(n=200, seed=1)[0], frac=0.3, seed=1)
    ours = RandomForestClassifier(n_estimators=4, random_state=0, **params).fit(Xn, y)
    ref = sk_ensemble.RandomForestClassifier(n_estimators=4, random_state=0,
                                             **params).fit(Xn, y)
    assert_same_forest(ours, ref)
    for a, b in zip(ours.estimators_, ref.estimators_):
        np.testing.assert_array_equal(a.tree_.missing_go_to_left,
                                      b.tree_.missing_go_to_left)
    np.testing.assert_array_equal(ours.predict_proba(X_test), ref.predict_proba(X_test))
    np.testing.assert_array_equal(ours.apply(X_test), ref.apply(X_test))
    if params.get("oob_score"):
        assert ours.oob_score_ == ref.oob_score_
    Xr, yr = _reg_data(n=200)
    Xrn = _with_nan(Xr, seed=2)
    ours = RandomForestRegressor(n_estimators=4, random_state=0, **params).fit(Xrn, yr)
    ref = sk_ensemble.RandomForestRegressor(n_estimators=4, random_state=0,
                                            **params).fit(Xrn, yr)
    assert_same_forest(ours, ref)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    clean = RandomForestRegressor(n_estimators=4, random_state=0).fit(Xr, yr)
    clean_ref = sk_ensemble.RandomForestRegressor(n_estimators=4, random_state=0).fit(Xr, yr)
    np.testing.assert_array_equal(clean.predict(X_test), clean_ref.predict(X_test))


def test_forest_absolute_error_identical_to_sklearn():
    X, y = _reg_data(n=150)
    ours = RandomForestRegressor(n_estimators=3, criterion="absolute_error",
                                 max_depth=6, random_state=0).fit(X, y)
    ref = sk_ensemble.RandomForestRegressor(n_estimators=3, criterion="absolute_error",
                                            max_depth=6, random_state=0).fit(X, y)
    assert_same_forest(ours, ref)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
