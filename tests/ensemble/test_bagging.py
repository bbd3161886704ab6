import pickle
import warnings

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
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier as SkTreeClassifier
from sklearn.tree import DecisionTreeRegressor as SkTreeRegressor

from mlnotes.ensemble import BaggingClassifier, BaggingRegressor


def _classification(n=300, n_classes=3, seed=0, p=8):
    return make_classification(n_samples=n, n_features=p, n_informative=5, n_redundant=1,
                               n_classes=n_classes, random_state=seed)


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # too few estimators for OOB, ...
        return est.fit(*args, **kwargs)


def _assert_same_ensemble(ours, ref, X):
    assert len(ours.estimators_) == len(ref.estimators_)
    for a, b in zip(ours.estimators_samples_, ref.estimators_samples_):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ours.estimators_features_, ref.estimators_features_):
        np.testing.assert_array_equal(a, b)
    if hasattr(ref, "predict_proba"):
        np.testing.assert_array_equal(ours.classes_, ref.classes_)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


# ------------------------------------------------------------- parity (same base learner)

CONFIGS = [
    dict(),
    dict(oob_score=True, n_estimators=30),
    dict(max_samples=0.5, bootstrap=False),
    dict(max_samples=100, max_features=0.5),
    dict(max_features=3, bootstrap_features=True, oob_score=True),
    dict(max_samples=0.7, max_features=5, bootstrap=False, bootstrap_features=True),
]


@pytest.mark.parametrize("params", CONFIGS)
def test_classifier_parity_with_sklearn(params):
    X, y = _classification()
    params = {"n_estimators": 12, "random_state": 0, **params}
    ours = _fit(BaggingClassifier(SkTreeClassifier(), **params), X, y)
    ref = _fit(sk_ensemble.BaggingClassifier(SkTreeClassifier(), **params), X, y)
    _assert_same_ensemble(ours, ref, X)
    if params.get("oob_score"):
        assert ours.oob_score_ == ref.oob_score_
        np.testing.assert_allclose(ours.oob_decision_function_, ref.oob_decision_function_)


@pytest.mark.parametrize("params", CONFIGS[:4])
def test_regressor_parity_with_sklearn(params):
    X, y = make_regression(n_samples=250, n_features=6, noise=5.0, random_state=0)
    params = {"n_estimators": 12, "random_state": 0, **params}
    ours = _fit(BaggingRegressor(SkTreeRegressor(), **params), X, y)
    ref = _fit(sk_ensemble.BaggingRegressor(SkTreeRegressor(), **params), X, y)
    _assert_same_ensemble(ours, ref, X)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-12)
    if params.get("oob_score"):
        assert ours.oob_score_ == pytest.approx(ref.oob_score_, rel=1e-12)
        np.testing.assert_allclose(ours.oob_prediction_, ref.oob_prediction_)


def test_sample_weight_draws_as_sklearn():
    X, y = _classification()
    w = np.random.default_rng(0).uniform(0.0, 3.0, size=len(y))
    params = dict(n_estimators=8, max_samples=0.8, random_state=1)
    ours = BaggingClassifier(SkTreeClassifier(), **params).fit(X, y, sample_weight=w)
    ref = sk_ensemble.BaggingClassifier(SkTreeClassifier(), **params).fit(X, y,
                                                                          sample_weight=w)
    _assert_same_ensemble(ours, ref, X)


def test_voting_without_predict_proba_as_sklearn():
    """Perceptron has no predict_proba: the probabilities are vote shares."""
    X, y = _classification()
    params = dict(n_estimators=7, random_state=0, oob_score=True)
    ours = _fit(BaggingClassifier(Perceptron(), **params), X, y)
    ref = _fit(sk_ensemble.BaggingClassifier(Perceptron(), **params), X, y)
    _assert_same_ensemble(ours, ref, X)
    votes = ours.predict_proba(X) * 7
    np.testing.assert_allclose(votes, np.round(votes))
    assert ours.oob_score_ == ref.oob_score_
    # Perceptron has a decision function, averaged as scikit-learn does
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X))


def test_decision_function_only_if_base_has_it():
    X, y = _classification(n_classes=2)
    assert not hasattr(BaggingClassifier(SkTreeClassifier()), "decision_function")
    clf = BaggingClassifier(LogisticRegression(), n_estimators=4, random_state=0).fit(X, y)
    ref = sk_ensemble.BaggingClassifier(LogisticRegression(), n_estimators=4,
                                        random_state=0).fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X))
    np.testing.assert_allclose(clf.predict_log_proba(X), ref.predict_log_proba(X))


def test_base_without_sample_weight_is_fitted_on_rows():
    """k-NN takes no sample_weight: the drawn rows are indexed instead, as scikit-learn."""
    X, y = _classification()
    params = dict(n_estimators=5, random_state=0, max_features=0.5)
    ours = BaggingClassifier(KNeighborsClassifier(), **params).fit(X, y)
    ref = sk_ensemble.BaggingClassifier(KNeighborsClassifier(), **params).fit(X, y)
    _assert_same_ensemble(ours, ref, X)


# ------------------------------------------------------------------ default base learner


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
def test_default_classifier_scores_close_to_sklearn(loader):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    params = dict(n_estimators=20, oob_score=True, random_state=0)
    ours = BaggingClassifier(**params).fit(X_train, y_train)
    ref = sk_ensemble.BaggingClassifier(**params).fit(X_train, y_train)
    assert type(ours.estimators_[0]).__module__.startswith("mlnotes.tree")
    assert abs(ours.score(X_test, y_test) - ref.score(X_test, y_test)) <= 0.02
    assert abs(ours.oob_score_ - ref.oob_score_) <= 0.02


def test_default_regressor_score_close_to_sklearn():
    X, y = make_regression(n_samples=600, n_features=8, noise=10.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    ours = BaggingRegressor(n_estimators=20, random_state=0).fit(X_train, y_train)
    ref = sk_ensemble.BaggingRegressor(n_estimators=20, random_state=0)
    ref.fit(X_train, y_train)
    assert type(ours.estimators_[0]).__module__.startswith("mlnotes.tree")
    assert abs(ours.score(X_test, y_test) - ref.score(X_test, y_test)) <= 0.02


# ------------------------------------------------------------------ known answers


def test_out_of_bag_fraction_is_about_one_over_e():
    """A row is out of a size-n bootstrap sample with probability (1 - 1/n)^n."""
    X, y = _classification(n=1000)
    clf = BaggingClassifier(SkTreeClassifier(max_depth=1), n_estimators=40,
                            random_state=0).fit(X, y)
    n = len(y)
    oob = [1.0 - np.unique(rows).size / n for rows in clf.estimators_samples_]
    # each fraction has standard deviation about 0.015; their mean about 0.0024
    assert np.mean(oob) == pytest.approx((1 - 1 / n) ** n, abs=0.01)


def test_oob_decision_function_by_hand():
    """Row i's OOB probabilities are the mean over the learners that did not see it."""
    X, y = _classification(n=120)
    clf = BaggingClassifier(SkTreeClassifier(max_depth=3), n_estimators=15, oob_score=True,
                            random_state=0).fit(X, y)
    expected = np.zeros((len(y), clf.n_classes_))
    counts = np.zeros(len(y))
    for est, rows in zip(clf.estimators_, clf.estimators_samples_):
        out = np.setdiff1d(np.arange(len(y)), rows)
        expected[out] += est.predict_proba(X[out])
        counts[out] += 1
    assert np.all(counts > 0)
    expected /= counts[:, None]
    np.testing.assert_allclose(clf.oob_decision_function_, expected, atol=1e-12)
    np.testing.assert_allclose(clf.oob_decision_function_.sum(axis=1), 1.0)
    assert clf.oob_score_ == pytest.approx(np.mean(clf.classes_[expected.argmax(1)] == y))


def test_predict_proba_is_mean_of_members():
    X, y = _classification(n=150)
    clf = BaggingClassifier(SkTreeClassifier(max_depth=2), n_estimators=6, max_features=0.5,
                            random_state=0).fit(X, y)
    mean = np.mean([est.predict_proba(X[:, f]) for est, f in
                    zip(clf.estimators_, clf.estimators_features_)], axis=0)
    np.testing.assert_allclose(clf.predict_proba(X), mean, atol=1e-12)


def test_averaging_reduces_variance():
    """Over independent training sets, bagged trees vary less than single trees."""
    rng = np.random.default_rng(0)
    x_test = np.linspace(-2, 2, 50).reshape(-1, 1)
    single, bagged = [], []
    for seed in range(12):
        X = rng.uniform(-2, 2, size=(150, 1))
        y = np.sin(2 * X[:, 0]) + rng.normal(scale=0.5, size=150)
        single.append(SkTreeRegressor(random_state=seed).fit(X, y).predict(x_test))
        bagged.append(BaggingRegressor(SkTreeRegressor(), n_estimators=30,
                                       random_state=seed).fit(X, y).predict(x_test))
    assert np.var(bagged, axis=0).mean() < 0.6 * np.var(single, axis=0).mean()


# ------------------------------------------------------------------ reproducibility


def test_random_state_reproducible_and_pickles():
    X, y = _classification()
    a = BaggingClassifier(SkTreeClassifier(), n_estimators=8, random_state=3).fit(X, y)
    b = BaggingClassifier(SkTreeClassifier(), n_estimators=8, random_state=3).fit(X, y)
    c = BaggingClassifier(SkTreeClassifier(), n_estimators=8, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert any(not np.array_equal(r, s) for r, s in zip(a.estimators_samples_,
                                                         c.estimators_samples_))
    again = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(again.predict_proba(X), a.predict_proba(X))
    for r, s in zip(again.estimators_samples_, a.estimators_samples_):
        np.testing.assert_array_equal(r, s)


def test_global_rng_untouched_with_random_state_none():
    X, y = _classification(n=80)
    state = np.random.get_state()[1].copy()
    BaggingClassifier(SkTreeClassifier(), n_estimators=3).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_n_jobs_gives_the_same_ensemble():
    X, y = _classification()
    one = BaggingClassifier(SkTreeClassifier(), n_estimators=6, random_state=0).fit(X, y)
    two = BaggingClassifier(SkTreeClassifier(), n_estimators=6, random_state=0,
                            n_jobs=2).fit(X, y)
    _assert_same_ensemble(two, one, X)


def test_warm_start_equals_one_fit():
    X, y = _classification()
    warm = BaggingClassifier(SkTreeClassifier(), n_estimators=5, warm_start=True,
                             random_state=0).fit(X, y)
    warm.set_params(n_estimators=10).fit(X, y)
    cold = BaggingClassifier(SkTreeClassifier(), n_estimators=10, random_state=0).fit(X, y)
    _assert_same_ensemble(warm, cold, X)
    with pytest.warns(UserWarning, match="does not fit new trees"):
        warm.fit(X, y)
    with pytest.raises(ValueError, match="must be larger or equal"):
        warm.set_params(n_estimators=4).fit(X, y)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("params", [
    dict(oob_score=True, bootstrap=False),
    dict(oob_score=True, warm_start=True),
    dict(max_features=20),
    dict(max_samples=1000, bootstrap=False),
    dict(n_estimators=0),
    dict(max_samples=1.5),
    dict(max_features=0.0),
    dict(estimator="tree"),
])
def test_bad_params_as_sklearn(params):
    X, y = _classification()
    params = {"estimator": SkTreeClassifier(), **params}
    with pytest.raises(ValueError) as ref:
        sk_ensemble.BaggingClassifier(**params).fit(X, y)
    with pytest.raises(ValueError) as ours:
        BaggingClassifier(**params).fit(X, y)
    assert type(ours.value) is type(ref.value)
    assert str(ours.value) == str(ref.value).replace("sklearn.", "mlnotes.")


def test_unfitted_and_wrong_features():
    X, y = _classification()
    with pytest.raises(NotFittedError):
        BaggingClassifier(SkTreeClassifier()).predict(X)
    with pytest.raises(NotFittedError):
        BaggingClassifier(SkTreeClassifier()).estimators_samples_
    clf = BaggingClassifier(SkTreeClassifier(), n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


def test_sample_weight_without_bootstrap_warns():
    X, y = _classification()
    with pytest.warns(UserWarning, match="recommended to use bootstrap=True"):
        BaggingClassifier(SkTreeClassifier(), n_estimators=2, bootstrap=False,
                          max_samples=0.5).fit(X, y, sample_weight=np.ones(len(y)))


# ------------------------------------------------------------------ properties


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16),
       max_samples=st.one_of(st.none(), st.integers(10, 60), st.floats(0.1, 1.0)),
       max_features=st.one_of(st.integers(1, 6), st.floats(0.2, 1.0)),
       bootstrap=st.booleans(), bootstrap_features=st.booleans())
def test_same_ensemble_as_sklearn_for_any_draw_settings(seed, max_samples, max_features,
                                                         bootstrap, bootstrap_features):
    """Whatever the draw settings, the same seeds give scikit-learn's rows, features and
    probabilities; rows and features are in range and of the requested size."""
    X, y = _classification(n=60, p=6, seed=seed % 7)
    params = dict(n_estimators=4, max_samples=max_samples, max_features=max_features,
                  bootstrap=bootstrap, bootstrap_features=bootstrap_features,
                  random_state=seed)
    ours = _fit(BaggingClassifier(SkTreeClassifier(max_depth=3), **params), X, y)
    ref = _fit(sk_ensemble.BaggingClassifier(SkTreeClassifier(max_depth=3), **params), X, y)
    _assert_same_ensemble(ours, ref, X)
    for rows, features in zip(ours.estimators_samples_, ours.estimators_features_):
        assert rows.min() >= 0 and rows.max() < 60
        assert features.min() >= 0 and features.max() < 6
        if not bootstrap:
            assert np.unique(rows).size == rows.size
        if not bootstrap_features:
            assert np.unique(features).size == features.size


def test_missing_values_parity_with_sklearn():
    """The default tree accepts NaN (issues 14, 21): so does bagging, as scikit-learn's."""
    X, y = _classification(n=200)
    X = X.copy()
    X[np.random.default_rng(0).random(X.shape) < 0.15] = np.nan
    params = dict(n_estimators=6, random_state=0, max_features=0.75)
    ours = _fit(BaggingClassifier(**params), X, y)
    ref = _fit(sk_ensemble.BaggingClassifier(**params), X, y)
    assert ours.__sklearn_tags__().input_tags.allow_nan
    _assert_same_ensemble(ours, ref, X)
    yr = y.astype(float) * 1.5
    ours = _fit(BaggingRegressor(**params), X, yr)
    ref = _fit(sk_ensemble.BaggingRegressor(**params), X, yr)
    _assert_same_ensemble(ours, ref, X)


def test_non_finite_input_is_left_to_the_learners():
    """As scikit-learn: a pipeline that imputes NaN/inf fits inside bagging, and a
    learner that refuses them raises its ValueError (scikit-learn's
    test_bagging_classifier_with_missing_inputs)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from mlnotes.tree import DecisionTreeClassifier

    X = np.array([[1, 3, 5], [2, np.nan, 6], [2, np.inf, 6], [2, -np.inf, 6],
                  [1, 2, 4]], dtype=float)
    y = np.array([3, 6, 6, 6, 3])
    impute = FunctionTransformer(lambda Z: np.nan_to_num(Z, nan=0.0, posinf=9.0,
                                                         neginf=-9.0))
    bag = BaggingClassifier(make_pipeline(impute, DecisionTreeClassifier()),
                            random_state=0, n_estimators=3)
    assert bag.fit(X, y).predict(X).shape == y.shape
    with pytest.raises(ValueError, match="infinity"):
        BaggingClassifier(DecisionTreeClassifier(), n_estimators=3).fit(X, y)
