import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn import neighbors as skn
from sklearn.datasets import load_digits, make_classification

from mlnotes.neighbors import NearestCentroid


def _data(n=400, p=6, n_classes=3, seed=0):
    X, y = make_classification(n, p, n_informative=min(p, 4), n_redundant=0, n_classes=n_classes,
                               n_clusters_per_class=1, class_sep=0.7, random_state=seed)
    rng = np.random.default_rng(seed)
    return X * rng.uniform(0.5, 3, size=p) + 2.0, y


PARAMS = [dict(), dict(metric="manhattan"), dict(shrink_threshold=0.3),
          dict(shrink_threshold=1.0, metric="manhattan"), dict(priors="empirical"),
          dict(priors=[0.2, 0.5, 0.3]), dict(priors=[0.2, 0.5, 0.3], metric="manhattan"),
          dict(priors="empirical", shrink_threshold=0.5)]


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_parity_with_sklearn(params, fmt):
    X, y = _data()
    Xte, _ = _data(n=300, seed=1)
    Xte[:20] = X[:20]  # include training points
    if fmt != "dense":
        X = X * (np.abs(X) > 2.5)  # sparse-ish
        Xte = Xte * (np.abs(Xte) > 2.5)
        X, Xte = getattr(sparse, f"{fmt}_matrix")(X), sparse.csr_matrix(Xte)
    ours = NearestCentroid(**params).fit(X, y)
    ref = skn.NearestCentroid(**params).fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    for name in ("centroids_", "within_class_std_dev_", "deviations_", "class_prior_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-10,
                                   atol=1e-12, err_msg=name)
    if params.get("metric", "euclidean") == "euclidean":
        np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte),
                                   rtol=1e-4, atol=1e-12)
        np.testing.assert_allclose(ours.decision_function(Xte), ref.decision_function(Xte),
                                   rtol=1e-8)
    else:
        for method in ("predict_proba", "predict_log_proba", "decision_function"):
            assert not hasattr(ours, method) and not hasattr(ref, method)


def test_digits_predictions_identical():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constant pixels, as scikit-learn
        for params in ({}, {"shrink_threshold": 0.2}, {"metric": "manhattan"}):
            ours = NearestCentroid(**params).fit(X, y)
            ref = skn.NearestCentroid(**params).fit(X, y)
            np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_binary_decision_function():
    X, y = _data(n_classes=2)
    ours, ref = NearestCentroid().fit(X, y), skn.NearestCentroid().fit(X, y)
    assert ours.decision_function(X).shape == (len(X),)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-8)


def test_known_answer():
    """Centroids are class means (medians for manhattan); the prediction is the class
    of the nearest one, computed here by brute force."""
    X, y = _data(n=150, p=3)
    Xte = np.random.default_rng(5).normal(2, 3, size=(200, 3))
    for metric, centre, dist in [
        ("euclidean", np.mean, lambda a, b: np.sqrt(((a - b) ** 2).sum(-1))),
        ("manhattan", np.median, lambda a, b: np.abs(a - b).sum(-1)),
    ]:
        clf = NearestCentroid(metric=metric).fit(X, y)
        C = np.array([centre(X[y == k], axis=0) for k in range(3)])
        np.testing.assert_allclose(clf.centroids_, C, rtol=1e-12)
        D = dist(Xte[:, None, :], C[None, :, :])
        np.testing.assert_array_equal(clf.predict(Xte), D.argmin(1))
    # the boundary of two centroids is their perpendicular bisector
    clf = NearestCentroid().fit([[0.0, 0.0], [0.1, 0.2], [4.0, 0.0], [3.9, 0.2]], [0, 0, 1, 1])
    assert list(clf.predict([[1.99, 5.0], [2.01, -5.0]])) == [0, 1]


def test_shrinkage_removes_features():
    """A large threshold shrinks every centroid to the overall mean."""
    X, y = _data()
    clf = NearestCentroid(shrink_threshold=1e6).fit(X, y)
    np.testing.assert_allclose(clf.deviations_, 0)
    np.testing.assert_allclose(clf.centroids_, np.broadcast_to(X.mean(0), (3, 6)), rtol=1e-12)


@pytest.mark.parametrize("params, match", [
    (dict(metric="cosine"), "metric"),
    (dict(shrink_threshold=0.0), "shrink_threshold"),
    (dict(priors="balanced"), "priors"),
    (dict(priors=[0.5, 0.5]), "number of priors"),
    (dict(priors=[1.5, -0.2, -0.3]), "non-negative"),
])
def test_bad_params(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        NearestCentroid(**params).fit(X, y)


def test_bad_input():
    X, y = _data()
    with pytest.raises(ValueError, match="class"):
        NearestCentroid().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="zero variance"), pytest.warns(UserWarning):
        NearestCentroid().fit(np.ones((10, 3)), np.arange(10) % 2)
    bad = X.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NearestCentroid().fit(bad, y)
    clf = NearestCentroid().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
    with pytest.warns(UserWarning, match="do not sum to 1"):
        NearestCentroid(priors=[1.0, 1.0, 2.0]).fit(X, y)
    Xc = X.copy()
    Xc[:, 0] = 1.0
    with pytest.warns(UserWarning, match="zero standard deviation"):
        NearestCentroid().fit(Xc, y)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), metric=st.sampled_from(["euclidean", "manhattan"]))
def test_row_permutation_invariance(seed, metric):
    X, y = _data(n=60, p=3, seed=seed % 50)
    perm = np.random.default_rng(seed).permutation(len(y))
    a = NearestCentroid(metric=metric).fit(X, y)
    b = NearestCentroid(metric=metric).fit(X[perm], y[perm])
    np.testing.assert_allclose(a.centroids_, b.centroids_, rtol=1e-12)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), names=st.permutations(["u", "v", "w"]))
def test_label_relabelling(seed, names):
    X, y = _data(n=60, p=3, seed=seed % 50)
    names = np.array(names)
    a, b = NearestCentroid().fit(X, y), NearestCentroid().fit(X, names[y])
    np.testing.assert_array_equal(b.predict(X), names[a.predict(X)])
    cols = np.searchsorted(b.classes_, names)
    np.testing.assert_allclose(b.predict_proba(X)[:, cols], a.predict_proba(X), rtol=1e-12)


def test_one_sample_per_class_gives_finite_scores():
    # issue 21 (bad-input audit): 2 x 50 data gave NaN predict_proba (0/0 pooled
    # deviation); scikit-learn predicts the same classes and raises on its NaN scores
    from sklearn.neighbors import NearestCentroid as SkNearestCentroid

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(2, 50)), np.array([0, 1])
    Q = rng.normal(size=(6, 50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = NearestCentroid().fit(X, y)
        ref = SkNearestCentroid().fit(X, y)
    np.testing.assert_array_equal(est.predict(Q), ref.predict(Q))
    scores = est.decision_function(Q)
    d2 = ((Q[:, None, :] - X[None]) ** 2).sum(axis=2)
    np.testing.assert_allclose(scores, d2[:, 0] - d2[:, 1], rtol=1e-10)
    proba = est.predict_proba(Q)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
