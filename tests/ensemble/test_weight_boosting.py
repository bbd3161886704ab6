import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import ensemble as sk_ensemble
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    make_classification,
    make_regression,
)
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier as SkTreeClassifier
from sklearn.tree import DecisionTreeRegressor as SkTreeRegressor

from mlnotes.ensemble import AdaBoostClassifier, AdaBoostRegressor
from mlnotes.ensemble._weight_boosting import _r2_round, _samme_round, _weighted_median


def _classification(n=400, n_classes=2, seed=0, p=8):
    return make_classification(n_samples=n, n_features=p, n_informative=5, n_redundant=1,
                               n_classes=n_classes, random_state=seed)


def _stump():
    return SkTreeClassifier(max_depth=1)


# ------------------------------------------------------------- parity (same weak learner)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("learning_rate", [1.0, 0.3])
def test_samme_parity_with_sklearn(n_classes, learning_rate):
    """Deterministic stumps (continuous features: no ties): the same ensemble."""
    X, y = _classification(n_classes=n_classes)
    params = dict(n_estimators=30, learning_rate=learning_rate, random_state=0)
    ours = AdaBoostClassifier(_stump(), **params).fit(X, y)
    ref = sk_ensemble.AdaBoostClassifier(_stump(), **params).fit(X, y)
    assert len(ours.estimators_) == len(ref.estimators_)
    np.testing.assert_allclose(ours.estimator_weights_, ref.estimator_weights_, rtol=1e-12)
    np.testing.assert_allclose(ours.estimator_errors_, ref.estimator_errors_, rtol=1e-12)
    for a, b in zip(ours.estimators_, ref.estimators_):
        assert a.tree_.feature[0] == b.tree_.feature[0]
        assert a.tree_.threshold[0] == b.tree_.threshold[0]
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.n_classes_ == ref.n_classes_
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X),
                               atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_,
                               atol=1e-12)
    for a, b in zip(ours.staged_decision_function(X), ref.staged_decision_function(X)):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("loss", ["linear", "square", "exponential"])
def test_r2_parity_with_sklearn(loss):
    """Same tree, same seed: the same weighted bootstraps, weights and median."""
    X, y = make_regression(n_samples=300, n_features=6, noise=10.0, random_state=0)
    params = dict(n_estimators=25, loss=loss, learning_rate=0.8, random_state=3)
    ours = AdaBoostRegressor(SkTreeRegressor(max_depth=3), **params).fit(X, y)
    ref = sk_ensemble.AdaBoostRegressor(SkTreeRegressor(max_depth=3), **params).fit(X, y)
    assert len(ours.estimators_) == len(ref.estimators_)
    np.testing.assert_allclose(ours.estimator_weights_, ref.estimator_weights_, rtol=1e-12)
    np.testing.assert_allclose(ours.estimator_errors_, ref.estimator_errors_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-12)
    for a, b in zip(ours.staged_predict(X[:50]), ref.staged_predict(X[:50])):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_string_labels_and_pickle():
    X, y = _classification(n_classes=3)
    labels = np.array(["ham", "spam", "eggs"])[y]
    ours = AdaBoostClassifier(_stump(), n_estimators=10, random_state=0).fit(X, labels)
    ref = sk_ensemble.AdaBoostClassifier(_stump(), n_estimators=10,
                                         random_state=0).fit(X, labels)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    again = pickle.loads(pickle.dumps(ours))
    np.testing.assert_array_equal(again.predict(X), ours.predict(X))


# ------------------------------------------------------------------ default weak learners


def _split(X, y, stratify=True):
    return train_test_split(X, y, test_size=0.25, random_state=0,
                            stratify=y if stratify else None)


def _three_classes(return_X_y=True):
    return _classification(n=1500, n_classes=3)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits, _three_classes])
def test_default_classifier_held_out_score(loader):
    """Default weak learner (mlnotes' stump) vs scikit-learn's default (its stump)."""
    X_train, X_test, y_train, y_test = _split(*loader(return_X_y=True))
    ours = AdaBoostClassifier(random_state=0).fit(X_train, y_train)
    ref = sk_ensemble.AdaBoostClassifier(random_state=0).fit(X_train, y_train)
    assert type(ours.estimators_[0]).__module__.startswith("mlnotes.tree")
    assert ours.estimators_[0].max_depth == 1
    assert abs(ours.score(X_test, y_test) - ref.score(X_test, y_test)) <= 0.02
    assert np.all(ours.feature_importances_ >= 0)
    assert ours.feature_importances_.sum() == pytest.approx(1.0)


def test_default_regressor_held_out_score():
    X, y = make_regression(n_samples=1000, n_features=10, n_informative=5, noise=10.0,
                           random_state=0)
    X_train, X_test, y_train, y_test = _split(X, y, stratify=False)
    ours = AdaBoostRegressor(random_state=0).fit(X_train, y_train)
    ref = sk_ensemble.AdaBoostRegressor(random_state=0).fit(X_train, y_train)
    assert type(ours.estimators_[0]).__module__.startswith("mlnotes.tree")
    assert ours.estimators_[0].max_depth == 3
    assert abs(ours.score(X_test, y_test) - ref.score(X_test, y_test)) <= 0.02


# ------------------------------------------------------------------ known answers


def test_first_round_by_hand_three_classes():
    """Nine points, three classes of three on a line: the best stump gets two classes
    right, so err = 3/9 and alpha = log((1 - 1/3) / (1/3)) + log(3 - 1) = log 4."""
    X = np.arange(9.0).reshape(-1, 1)
    y = np.repeat([0, 1, 2], 3)
    clf = AdaBoostClassifier(_stump(), n_estimators=1).fit(X, y)
    assert clf.estimator_errors_[0] == pytest.approx(1 / 3, rel=1e-14)
    assert clf.estimator_weights_[0] == pytest.approx(np.log(4.0), rel=1e-14)
    half = AdaBoostClassifier(_stump(), n_estimators=1, learning_rate=0.5).fit(X, y)
    assert half.estimator_weights_[0] == pytest.approx(np.log(2.0), rel=1e-14)


def test_first_round_by_hand_two_classes():
    """Six points on a line, labels 0 0 0 1 1 0: the best stump splits between 2 and 3
    and misclassifies x = 5 only: err = 1/6, alpha = log 5; after the update the
    misclassified point weighs 5/10 and each other one 1/10."""
    X = np.arange(6.0).reshape(-1, 1)
    y = np.array([0, 0, 0, 1, 1, 0])
    clf = AdaBoostClassifier(_stump(), n_estimators=1).fit(X, y)
    assert clf.estimator_errors_[0] == pytest.approx(1 / 6, rel=1e-14)
    assert clf.estimator_weights_[0] == pytest.approx(np.log(5.0), rel=1e-14)
    incorrect = clf.estimators_[0].predict(X) != y
    np.testing.assert_array_equal(incorrect, [0, 0, 0, 0, 0, 1])
    error, alpha, w = _samme_round(incorrect, np.full(6, 1 / 6), 2, 1.0)
    np.testing.assert_allclose(w / w.sum(), [0.1, 0.1, 0.1, 0.1, 0.1, 0.5], rtol=1e-14)


def test_r2_round_by_hand():
    """|errors| 0, 1, 2, 4 with weights 1/4: linear losses 0, 1/4, 1/2, 1, average
    7/16, beta = 7/9, alpha = log(9/7), new weights w_i beta^(1 - L_i)."""
    abs_error = np.array([0.0, 1.0, 2.0, 4.0])
    w = np.full(4, 0.25)
    error, alpha, new = _r2_round(abs_error, w, "linear", 1.0)
    assert error == pytest.approx(7 / 16)
    assert alpha == pytest.approx(np.log(9 / 7))
    beta = 7 / 9
    np.testing.assert_allclose(new, 0.25 * beta ** np.array([1.0, 0.75, 0.5, 0.0]))
    # square: losses 0, 1/16, 1/4, 1 -> average 21/64
    assert _r2_round(abs_error, w, "square", 1.0)[0] == pytest.approx(21 / 64)
    # exponential: 1 - exp(-L)
    expected = np.mean(1 - np.exp(-np.array([0.0, 0.25, 0.5, 1.0])))
    assert _r2_round(abs_error, w, "exponential", 1.0)[0] == pytest.approx(expected)


def test_weighted_median_by_hand():
    predictions = np.array([[3.0, 1.0, 2.0], [5.0, 5.0, -1.0]])
    # row 0 sorted: 1 (w 0.2), 2 (w 0.3), 3 (w 0.5): cumulative 0.2, 0.5 >= 0.5 -> 2
    # row 1 sorted: -1 (w 0.3), 5, 5: cumulative 0.3, 0.8 -> 5
    np.testing.assert_array_equal(_weighted_median(predictions, np.array([0.5, 0.2, 0.3])),
                                  [2.0, 5.0])


# ------------------------------------------------------------------ theory


def test_training_error_bound_binary():
    """Binary AdaBoost: training error after T rounds <= prod_t 2 sqrt(e_t (1 - e_t))."""
    X, y = _classification(n=500, seed=3)
    clf = AdaBoostClassifier(_stump(), n_estimators=60, random_state=0).fit(X, y)
    errors = clf.estimator_errors_[: len(clf.estimators_)]
    assert np.all(errors < 0.5)
    bounds = np.cumprod(2.0 * np.sqrt(errors * (1.0 - errors)))
    train_errors = np.array([np.mean(p != y) for p in clf.staged_predict(X)])
    assert np.all(train_errors <= bounds + 1e-12)
    assert np.all(np.diff(bounds) < 0)  # every factor is below 1: the bound shrinks
    assert train_errors[-1] < train_errors[0]


def test_perfect_fit_stops_early_as_sklearn():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    ours = AdaBoostClassifier(_stump(), n_estimators=10).fit(X, y)
    ref = sk_ensemble.AdaBoostClassifier(_stump(), n_estimators=10).fit(X, y)
    assert len(ours.estimators_) == len(ref.estimators_) == 1
    np.testing.assert_array_equal(ours.estimator_weights_, ref.estimator_weights_)
    np.testing.assert_array_equal(ours.estimator_errors_, ref.estimator_errors_)
    np.testing.assert_array_equal(ours.predict(X), y)


def test_worse_than_random_learner_raises_as_sklearn():
    X, _ = _classification(n=100)
    y = np.arange(100) % 2  # balanced: the constant learner has error 1/2
    weak = DummyClassifier(strategy="most_frequent")
    with pytest.raises(ValueError) as ref:
        sk_ensemble.AdaBoostClassifier(weak).fit(X, y)
    with pytest.raises(ValueError, match="worse than random") as ours:
        AdaBoostClassifier(weak).fit(X, y)
    assert str(ours.value) == str(ref.value)


def test_r2_useless_learner_is_kept_alone_as_sklearn():
    """A learner with average loss >= 1/2 ends boosting; the first one is kept."""
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    weak = DummyRegressor(strategy="constant", constant=1e6)
    ours = AdaBoostRegressor(weak, random_state=0).fit(X, y)
    ref = sk_ensemble.AdaBoostRegressor(weak, random_state=0).fit(X, y)
    assert len(ours.estimators_) == len(ref.estimators_) == 1
    np.testing.assert_array_equal(ours.estimator_weights_, ref.estimator_weights_)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X))


# ------------------------------------------------------------------ staged consistency


@pytest.mark.parametrize("n_classes", [2, 3])
def test_staged_classifier_ends_at_final(n_classes):
    X, y = _classification(n_classes=n_classes)
    clf = AdaBoostClassifier(_stump(), n_estimators=15, random_state=0).fit(X, y)
    stages = list(clf.staged_predict(X))
    assert len(stages) == len(clf.estimators_)
    np.testing.assert_array_equal(stages[-1], clf.predict(X))
    *_, decision = clf.staged_decision_function(X)
    np.testing.assert_allclose(decision, clf.decision_function(X), atol=1e-12)
    *_, proba = clf.staged_predict_proba(X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)))
    scores = list(clf.staged_score(X, y))
    assert scores[-1] == pytest.approx(clf.score(X, y))
    # the first stage is the first learner alone
    np.testing.assert_array_equal(stages[0], clf.estimators_[0].predict(X))


def test_staged_regressor_ends_at_final():
    X, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
    reg = AdaBoostRegressor(SkTreeRegressor(max_depth=2), n_estimators=12,
                            random_state=0).fit(X, y)
    stages = list(reg.staged_predict(X))
    assert len(stages) == len(reg.estimators_)
    np.testing.assert_allclose(stages[-1], reg.predict(X))
    np.testing.assert_allclose(stages[0], reg.estimators_[0].predict(X))
    assert list(reg.staged_score(X, y))[-1] == pytest.approx(reg.score(X, y))


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("cls, sk_cls", [
    (AdaBoostClassifier, sk_ensemble.AdaBoostClassifier),
    (AdaBoostRegressor, sk_ensemble.AdaBoostRegressor),
])
@pytest.mark.parametrize("params", [dict(learning_rate=0.0), dict(learning_rate=-1.0),
                                    dict(n_estimators=0), dict(estimator="tree")])
def test_bad_params_as_sklearn(cls, sk_cls, params):
    X, y = _classification(n=60)
    with pytest.raises(ValueError) as ref:
        sk_cls(**params).fit(X, y)
    with pytest.raises(ValueError) as ours:
        cls(**params).fit(X, y)
    assert type(ours.value) is type(ref.value)
    assert str(ours.value) == str(ref.value)


def test_bad_loss():
    X, y = make_regression(n_samples=30, n_features=2, random_state=0)
    with pytest.raises(ValueError, match="loss"):
        AdaBoostRegressor(SkTreeRegressor(), loss="huber").fit(X, y)


def test_weak_learner_without_sample_weight_as_sklearn():
    X, y = _classification(n=60)
    with pytest.raises(ValueError) as ref:
        sk_ensemble.AdaBoostClassifier(KNeighborsClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="doesn't support sample_weight") as ours:
        AdaBoostClassifier(KNeighborsClassifier()).fit(X, y)
    assert str(ours.value) == str(ref.value)


def test_unfitted_and_wrong_features():
    X, y = _classification(n=60)
    with pytest.raises(NotFittedError):
        AdaBoostClassifier(_stump()).predict(X)
    clf = AdaBoostClassifier(_stump(), n_estimators=3).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="features"):
        next(clf.staged_predict(X[:, :3]))


def test_other_weak_learner_and_sample_weight():
    """Any learner with sample_weight works (here logistic regression), and zero
    weights stay zero (those rows never influence the fit)."""
    X, y = _classification(n=200, n_classes=3)
    w = np.ones(len(y))
    w[:50] = 0.0
    params = dict(n_estimators=5, random_state=0)
    ours = AdaBoostClassifier(LogisticRegression(max_iter=200), **params).fit(X, y, w)
    ref = sk_ensemble.AdaBoostClassifier(LogisticRegression(max_iter=200),
                                         **params).fit(X, y, w)
    np.testing.assert_allclose(ours.estimator_weights_, ref.estimator_weights_, rtol=1e-8)
    dropped = AdaBoostClassifier(LogisticRegression(max_iter=200), **params).fit(X[50:],
                                                                                 y[50:])
    np.testing.assert_allclose(ours.estimator_weights_, dropped.estimator_weights_,
                               rtol=1e-6)


def test_global_rng_untouched_with_random_state_none():
    """random_state=None draws fresh entropy, never numpy's global generator."""
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    state = np.random.get_state()[1].copy()
    AdaBoostRegressor(SkTreeRegressor(max_depth=2), n_estimators=3).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


# ------------------------------------------------------------------ properties


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), exponents=st.lists(st.integers(-8, 8), min_size=4,
                                                      max_size=4),
       n_classes=st.integers(2, 4))
def test_scaling_features_by_powers_of_two(seed, exponents, n_classes):
    """Stumps compare one feature with a threshold: scaling a feature by 2^k (exact
    in floating point) changes no split, so nothing else changes either."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 4))
    y = rng.integers(0, n_classes, size=80)
    scale = 2.0 ** np.array(exponents)
    a = AdaBoostClassifier(_stump(), n_estimators=8, random_state=0).fit(X, y)
    b = AdaBoostClassifier(_stump(), n_estimators=8, random_state=0).fit(X * scale, y)
    np.testing.assert_array_equal(a.estimator_weights_, b.estimator_weights_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X * scale))


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_weighted_median_matches_definition(data):
    n_rows = data.draw(st.integers(1, 5))
    n_est = data.draw(st.integers(1, 8))
    values = st.integers(-3, 3).map(float)  # small set: many ties
    predictions = np.array(data.draw(st.lists(st.lists(values, min_size=n_est,
                                                       max_size=n_est),
                                              min_size=n_rows, max_size=n_rows)))
    weights = np.array(data.draw(st.lists(st.integers(1, 5).map(float), min_size=n_est,
                                          max_size=n_est)))
    got = _weighted_median(predictions, weights)
    for row, value in zip(predictions, got):
        # the smallest v with total weight of {predictions <= v} >= half the total
        candidates = [v for v in np.unique(row)
                      if weights[row <= v].sum() >= 0.5 * weights.sum()]
        assert value == min(candidates)


# ------------------------------------------------------------- sparse input, overflow


def _sparse_classification(n_classes=3):
    X, y = _classification(n=200, n_classes=n_classes)
    X[np.abs(X) < 0.7] = 0.0
    return X, y


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_parity_with_sklearn(fmt):
    """Sparse X with a weak learner that takes it: scikit-learn's ensemble."""
    import scipy.sparse as sp

    X, y = _sparse_classification()
    Xs = sp.csr_matrix(X).asformat(fmt)
    params = dict(n_estimators=15, random_state=0)
    ours = AdaBoostClassifier(_stump(), **params).fit(Xs, y)
    ref = sk_ensemble.AdaBoostClassifier(_stump(), **params).fit(Xs, y)
    np.testing.assert_allclose(ours.estimator_weights_, ref.estimator_weights_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(Xs), ref.predict_proba(Xs), atol=1e-12)
    z = X @ np.arange(1.0, X.shape[1] + 1.0)
    params = dict(n_estimators=10, random_state=3)
    ours = AdaBoostRegressor(SkTreeRegressor(max_depth=3), **params).fit(Xs, z)
    ref = sk_ensemble.AdaBoostRegressor(SkTreeRegressor(max_depth=3), **params).fit(Xs, z)
    np.testing.assert_allclose(ours.estimator_weights_, ref.estimator_weights_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict(Xs), ref.predict(Xs), rtol=1e-12)


def test_sparse_input_with_mlnotes_learners_equals_dense():
    """Default trees and mlnotes' SVC/SVR take sparse X: the same ensemble as dense."""
    import scipy.sparse as sp

    from mlnotes.svm import SVC, SVR

    X, y = _sparse_classification()
    Xs = sp.csr_matrix(X)
    z = X @ np.arange(1.0, X.shape[1] + 1.0)
    for make, target in [(lambda: AdaBoostClassifier(random_state=0), y),
                         (lambda: AdaBoostClassifier(SVC(kernel="linear"), n_estimators=4,
                                                     random_state=0), y),
                         (lambda: AdaBoostRegressor(random_state=0), z),
                         (lambda: AdaBoostRegressor(SVR(C=10.0), n_estimators=4,
                                                    random_state=0), z)]:
        dense, sparse = make().fit(X, target), make().fit(Xs, target)
        np.testing.assert_allclose(sparse.estimator_weights_, dense.estimator_weights_,
                                   rtol=1e-10)
        np.testing.assert_allclose(sparse.predict(Xs), dense.predict(X), rtol=1e-10)


def test_inputs_overflowing_float32_raise_as_sklearn():
    """Trees work in float32: X beyond its range is refused (it used to become inf)."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(30, 3))
    y = rng.randint(0, 2, size=30)
    for est, target in [(AdaBoostClassifier(), y), (AdaBoostRegressor(), y * 1.0)]:
        with pytest.raises(ValueError, match="too large for dtype\\('float32'\\)"):
            est.fit(X, target)
    fitted = AdaBoostClassifier(n_estimators=3).fit(X / 1e300, y)
    with pytest.raises(ValueError, match="too large for dtype\\('float32'\\)"):
        fitted.predict(X)


def test_regressor_overflowing_errors_raise():
    """|y - h(x)| overflowing float64 gave NaN weights silently (scikit-learn too)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(30, 3))
    y = np.finfo(np.float64).max * rng.uniform(-1, 1, size=30)
    with pytest.raises(ValueError, match="errors of weak learner 0 are not finite"):
        AdaBoostRegressor(random_state=0).fit(X, y)
