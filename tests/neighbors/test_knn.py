"""KNeighborsClassifier / KNeighborsRegressor (chapter 24): parity with scikit-learn,
known answers, precomputed distances, bad input and hypothesis properties."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.spatial.distance import cdist
from sklearn import neighbors as sk_neighbors
from sklearn.datasets import make_classification
from sklearn.model_selection import cross_val_score

from mlnotes.neighbors import KNeighborsClassifier, KNeighborsRegressor

P_VALUES = [1, 2, np.inf]


def _classification(n=400, d=4, n_classes=3, n_test=120, seed=0):
    X, y = make_classification(n_samples=n + n_test, n_features=d, n_informative=d,
                               n_redundant=0, n_classes=n_classes, random_state=seed)
    return X[:n], y[:n], X[n:]


def _regression(n=300, d=3, n_test=100, n_outputs=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n + n_test, d))
    shape = (d,) if n_outputs is None else (d, n_outputs)
    y = np.sin(X @ rng.normal(size=shape)) + 0.1 * rng.normal(size=(n + n_test,) + shape[1:])
    return X[:n], y[:n], X[n:]


@pytest.mark.parametrize("algorithm", ["brute", "kd_tree"])
@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("d", [3, 8])
def test_classifier_matches_sklearn(algorithm, p, weights, d):
    X, y, Xt = _classification(d=d, seed=d)
    params = dict(n_neighbors=7, algorithm=algorithm, p=p, weights=weights)
    ours = KNeighborsClassifier(**params).fit(X, y)
    ref = sk_neighbors.KNeighborsClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=1e-10,
                               atol=1e-12)
    d_o, i_o = ours.kneighbors(Xt)
    d_r, i_r = ref.kneighbors(Xt)
    np.testing.assert_array_equal(i_o, i_r)
    np.testing.assert_allclose(d_o, d_r, rtol=0, atol=1e-10)
    # the training points themselves (each is not its own neighbour)
    d_o, i_o = ours.kneighbors(n_neighbors=4)
    d_r, i_r = ref.kneighbors(n_neighbors=4)
    np.testing.assert_array_equal(i_o, i_r)
    np.testing.assert_allclose(d_o, d_r, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ours.predict(None), ref.predict(None))
    assert ours.effective_metric_ == ref.effective_metric_
    assert ours.effective_metric_params_ == ref.effective_metric_params_
    assert ours.n_samples_fit_ == ref.n_samples_fit_ and ours.outputs_2d_ is ref.outputs_2d_
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


@pytest.mark.parametrize("algorithm", ["brute", "kd_tree"])
@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_matches_sklearn(algorithm, p, weights):
    X, y, Xt = _regression(seed=3)
    params = dict(n_neighbors=6, algorithm=algorithm, p=p, weights=weights)
    ours = KNeighborsRegressor(**params).fit(X, y)
    ref = sk_neighbors.KNeighborsRegressor(**params).fit(X, y)
    np.testing.assert_allclose(ours.predict(Xt), ref.predict(Xt), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.predict(None), ref.predict(None), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(ours.kneighbors(Xt)[1], ref.kneighbors(Xt)[1])


def test_multioutput_and_string_labels_match_sklearn():
    X, y, Xt = _classification(n_classes=3, seed=4)
    Y = np.column_stack([y, (X[:, 0] > 0).astype(int)])
    for cls, targets in [(KNeighborsClassifier, Y), (KNeighborsClassifier,
                                                     np.array(["a", "bb", "c"])[y])]:
        ours = cls(n_neighbors=5, weights="distance").fit(X, targets)
        ref = sk_neighbors.KNeighborsClassifier(n_neighbors=5, weights="distance")
        ref.fit(X, targets)
        np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
        po, pr = ours.predict_proba(Xt), ref.predict_proba(Xt)
        for a, b in zip(po if isinstance(po, list) else [po], pr if isinstance(pr, list)
                        else [pr]):
            np.testing.assert_allclose(a, b, rtol=1e-10)
    X, y, Xt = _regression(n_outputs=2, seed=5)
    for weights in ("uniform", "distance"):
        ours = KNeighborsRegressor(weights=weights).fit(X, y)
        ref = sk_neighbors.KNeighborsRegressor(weights=weights).fit(X, y)
        np.testing.assert_allclose(ours.predict(Xt), ref.predict(Xt), rtol=1e-10)


def test_known_answer_against_full_distance_matrix():
    """The k-NN rule computed here from the full distance matrix."""
    X, y, Xt = _classification(n=200, n_classes=3, seed=6)
    k = 5
    D = cdist(Xt, X)
    nn = np.argsort(D, axis=1)[:, :k]
    votes = np.stack([(y[nn] == c).sum(axis=1) for c in range(3)], axis=1)
    for algorithm in ("brute", "kd_tree"):
        clf = KNeighborsClassifier(k, algorithm=algorithm).fit(X, y)
        np.testing.assert_array_equal(clf.kneighbors(Xt, return_distance=False), nn)
        np.testing.assert_allclose(clf.predict_proba(Xt), votes / k)
        np.testing.assert_array_equal(clf.predict(Xt), np.argmax(votes, axis=1))
    w = 1.0 / np.take_along_axis(D, nn, 1)
    wvotes = np.stack([(w * (y[nn] == c)).sum(axis=1) for c in range(3)], axis=1)
    clf = KNeighborsClassifier(k, weights="distance").fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(Xt), wvotes / wvotes.sum(1, keepdims=True),
                               rtol=1e-12)
    # 1-NN on its own training points (no duplicates) is always right
    assert KNeighborsClassifier(1).fit(X, y).score(X, y) == 1.0


def test_distance_weights_with_exact_matches():
    """A query equal to training points: those points share the whole vote."""
    X = np.array([[0.0], [0.0], [1.0], [2.0]])
    y = np.array([0, 1, 1, 1])
    clf = KNeighborsClassifier(3, weights="distance").fit(X, y)
    np.testing.assert_allclose(clf.predict_proba([[0.0]]), [[0.5, 0.5]])
    reg = KNeighborsRegressor(3, weights="distance").fit(X, y.astype(float))
    np.testing.assert_allclose(reg.predict([[0.0]]), [0.5])


@pytest.mark.parametrize("cls", [KNeighborsClassifier, KNeighborsRegressor])
def test_precomputed_equals_euclidean(cls):
    X, y, Xt = _classification(n=150, seed=7)
    for weights in ("uniform", "distance"):
        euc = cls(n_neighbors=4, weights=weights).fit(X, y)
        pre = cls(n_neighbors=4, weights=weights, metric="precomputed").fit(cdist(X, X), y)
        np.testing.assert_allclose(pre.predict(cdist(Xt, X)), euc.predict(Xt))
        d_p, i_p = pre.kneighbors(cdist(Xt, X))
        d_e, i_e = euc.kneighbors(Xt)
        np.testing.assert_array_equal(i_p, i_e)
        np.testing.assert_allclose(d_p, d_e, atol=1e-12)
        np.testing.assert_array_equal(pre.kneighbors(return_distance=False),
                                      euc.kneighbors(return_distance=False))
    assert pre.__sklearn_tags__().input_tags.pairwise
    assert not euc.__sklearn_tags__().input_tags.pairwise


@pytest.mark.parametrize("metric, metric_params", [
    ("cosine", None), ("sqeuclidean", None), ("canberra", None),
    ("minkowski", {"p": 3}), ("minkowski", {"p": 1.5, "w": np.array([1.0, 2, 3, 4])}),
])
def test_other_metrics_match_sklearn(metric, metric_params):
    X, y, Xt = _classification(n=200, seed=8)
    params = dict(n_neighbors=5, metric=metric, metric_params=metric_params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        ours = KNeighborsClassifier(**params).fit(X, y)
        ref = sk_neighbors.KNeighborsClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(ours.kneighbors(Xt)[1], ref.kneighbors(Xt)[1])
    np.testing.assert_allclose(ours.kneighbors(Xt)[0], ref.kneighbors(Xt)[0], rtol=1e-9,
                               atol=1e-10)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    assert ours.effective_metric_ == ref.effective_metric_


def test_callables_match_sklearn():
    X, y, Xt = _classification(n=60, n_test=10, seed=9)

    def l1(a, b):
        return np.abs(a - b).sum()

    def gauss(dist):
        return np.exp(-dist ** 2)

    ours = KNeighborsClassifier(3, metric=l1, weights=gauss).fit(X, y)
    ref = sk_neighbors.KNeighborsClassifier(3, metric=l1, weights=gauss).fit(X, y)
    np.testing.assert_array_equal(ours.kneighbors(Xt)[1], ref.kneighbors(Xt)[1])
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=1e-10)


def test_kneighbors_graph_matches_sklearn():
    X, y, Xt = _classification(n=80, n_test=12, seed=10)
    ours = KNeighborsClassifier(3).fit(X, y)
    ref = sk_neighbors.KNeighborsClassifier(3).fit(X, y)
    for Q in (Xt, None):
        for mode in ("connectivity", "distance"):
            a = ours.kneighbors_graph(Q, 4, mode=mode)
            b = ref.kneighbors_graph(Q, 4, mode=mode)
            assert type(a) is type(b) and a.shape == b.shape
            np.testing.assert_allclose(a.toarray(), b.toarray(), atol=1e-10)


def test_auto_algorithm_follows_sklearn():
    X, y, _ = _classification(n=300, d=4, seed=11)
    wide, _, _ = _classification(n=300, d=20, seed=11)
    cases = [(X, {}), (X, dict(n_neighbors=200)), (wide, {}), (X, dict(p=1)),
             (X, dict(metric="cosine")), (X, dict(p=0.5))]
    for data, params in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ours = KNeighborsClassifier(**params).fit(data, y)
            ref = sk_neighbors.KNeighborsClassifier(**params).fit(data, y)
        expected = {"ball_tree": "brute"}.get(ref._fit_method, ref._fit_method)
        assert ours._fit_method == expected, params
    assert KNeighborsClassifier(algorithm="ball_tree").fit(X, y)._fit_method == "kd_tree"


def test_n_jobs_and_leave_one_out():
    X, y, Xt = _classification(n=1200, n_test=900, seed=12)
    for algorithm in ("brute", "kd_tree"):
        one = KNeighborsClassifier(algorithm=algorithm).fit(X, y)
        two = KNeighborsClassifier(algorithm=algorithm, n_jobs=2).fit(X, y)
        for a, b in zip(one.kneighbors(Xt), two.kneighbors(Xt)):
            np.testing.assert_array_equal(a, b)
    ref = sk_neighbors.KNeighborsClassifier().fit(X, y)
    assert KNeighborsClassifier().fit(X, y).score(None, y) == ref.score(None, y)
    np.testing.assert_allclose(cross_val_score(KNeighborsClassifier(), X, y, cv=3),
                               cross_val_score(sk_neighbors.KNeighborsClassifier(), X, y,
                                               cv=3))


def test_warnings_as_sklearn():
    X, y, _ = _classification(n=50, seed=13)
    with pytest.warns(SyntaxWarning, match="Parameter p is found in metric_params"):
        KNeighborsClassifier(metric_params={"p": 3}).fit(X, y)
    with pytest.warns(UserWarning, match="0 < p < 1"):
        KNeighborsClassifier(p=0.5, algorithm="brute").fit(X, y)
    from sklearn.exceptions import DataConversionWarning

    with pytest.warns(DataConversionWarning, match="column-vector y"):
        KNeighborsClassifier().fit(X, y[:, None])


def _same_error(ours_call, ref_call):
    """Ours raises scikit-learn's exception type, its message (first line) inside."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as ref:
            ref_call()
        msg = str(ref.value).split("\n")[0]
        msg = re.sub(r"<function .*? at 0x[0-9a-f]+>", "", msg)  # addresses differ
        msg = msg.replace("sklearn.neighbors", "mlnotes.neighbors")
        msg = msg.replace("resultin ", "result in ")  # a typo in scikit-learn's message
        # quotes and the order of a set's elements ({'a', 'b'}) may differ
        pieces = re.split(r"\{[^}]*\}", msg)
        pattern = r"\{.*\}".join(".*".join(re.escape(p) for p in piece.split("'") if p)
                                   for piece in pieces)
        with pytest.raises(type(ref.value), match=pattern):
            ours_call()


@pytest.mark.parametrize("name", ["KNeighborsClassifier", "KNeighborsRegressor"])
def test_bad_input_as_sklearn(name):
    ours_cls = {"KNeighborsClassifier": KNeighborsClassifier,
                "KNeighborsRegressor": KNeighborsRegressor}[name]
    ref_cls = getattr(sk_neighbors, name)
    X, y, Xt = _classification(n=10, n_test=3, seed=14)
    D, Dt = cdist(X, X), cdist(Xt, X)

    def both(params, call):
        _same_error(lambda: call(ours_cls(**params)), lambda: call(ref_cls(**params)))

    both(dict(n_neighbors=11), lambda e: e.fit(X, y).predict(Xt))
    both({}, lambda e: e.fit(X, y).kneighbors(Xt, 11))
    both({}, lambda e: e.fit(X, y).kneighbors(None, 10))
    both({}, lambda e: e.fit(X, y).kneighbors(Xt, 0))
    both({}, lambda e: e.fit(X, y).kneighbors(Xt, 2.0))
    both({}, lambda e: e.fit(X, y).kneighbors_graph(Xt, mode="foo"))
    both(dict(n_neighbors=0), lambda e: e.fit(X, y))
    both(dict(weights="foo"), lambda e: e.fit(X, y))
    both(dict(algorithm="foo"), lambda e: e.fit(X, y))
    # the set of metric names differs (no haversine, nan_euclidean, DistanceMetric
    # objects), the error does not
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'metric' parameter.*Got 'foo' instead"):
        ours_cls(metric="foo").fit(X, y)
    both(dict(leaf_size=0), lambda e: e.fit(X, y))
    both(dict(p=0), lambda e: e.fit(X, y))
    both(dict(algorithm="kd_tree", metric="cosine"), lambda e: e.fit(X, y))
    both(dict(algorithm="kd_tree", metric=lambda a, b: 1.0), lambda e: e.fit(X, y))
    both(dict(algorithm="kd_tree", p=0.5), lambda e: e.fit(X, y))
    both(dict(algorithm="kd_tree", metric_params={"w": np.ones(4)}, p=3),
         lambda e: e.fit(X, y))
    both(dict(weights=lambda d: np.zeros_like(d)) if name == "KNeighborsClassifier"
         else dict(n_neighbors=11), lambda e: e.fit(X, y).predict(Xt))
    both(dict(metric="precomputed"), lambda e: e.fit(D[:, :5], y))
    both(dict(metric="precomputed"), lambda e: e.fit(-D, y))
    both(dict(metric="precomputed"), lambda e: e.fit(D, y).predict(Dt[:, :5]))
    both(dict(metric="precomputed"), lambda e: e.fit(D, y).predict(-Dt))
    both({}, lambda e: e.fit(X, y).predict(Xt[:, :2]))
    both({}, lambda e: e.fit(X[:, 0], y))
    bad = X.copy()
    bad[2, 1] = np.nan
    both({}, lambda e: e.fit(bad, y))
    both({}, lambda e: e.fit(X, y).predict(bad))
    if name == "KNeighborsClassifier":
        both({}, lambda e: e.fit(X, np.linspace(0, 1, 10)))


def test_all_zero_callable_weights_raise_for_the_regressor_too():
    """Deviation: scikit-learn's regressor returns NaN here; ours raises."""
    X, y, Xt = _regression(n=20, n_test=3, seed=15)
    with pytest.raises(ValueError, match="zero weights"):
        KNeighborsRegressor(weights=lambda d: np.zeros_like(d)).fit(X, y).predict(Xt)


def test_sparse_input_is_accepted():
    # sparse input is tested in tests/neighbors/test_sparse_knn.py
    from scipy import sparse

    X, y, _ = _classification(n=30, seed=16)
    np.testing.assert_array_equal(
        KNeighborsClassifier().fit(sparse.csr_matrix(X), y).predict(X),
        KNeighborsClassifier().fit(X, y).predict(X))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(8, 80), d=st.integers(1, 6),
       k=st.integers(1, 8), p=st.sampled_from(P_VALUES + [3]),
       leaf_size=st.integers(1, 20))
def test_property_kd_tree_equals_brute(seed, n, d, k, p, leaf_size):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d)
    Q = rng.normal(size=(15, d)) * X.std(axis=0)
    y = rng.integers(0, 3, size=n)
    k = min(k, n)
    brute = KNeighborsRegressor(k, algorithm="brute", p=p).fit(X, y)
    tree = KNeighborsRegressor(k, algorithm="kd_tree", p=p, leaf_size=leaf_size).fit(X, y)
    d_b, i_b = brute.kneighbors(Q)
    d_t, i_t = tree.kneighbors(Q)
    np.testing.assert_array_equal(i_b, i_t)
    np.testing.assert_allclose(d_b, d_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(brute.predict(Q), tree.predict(Q), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), algorithm=st.sampled_from(["brute", "kd_tree"]))
def test_property_row_order_and_relabelling_invariance(seed, algorithm):
    """Permuting the training rows or renaming the classes changes nothing (no distance
    ties in continuous data, no vote ties with two classes and k odd)."""
    X, y, Xt = _classification(n=120, n_test=30, n_classes=2, seed=seed % 1000)
    perm = np.random.default_rng(seed).permutation(len(X))
    base = KNeighborsClassifier(5, algorithm=algorithm).fit(X, y)
    perm_fit = KNeighborsClassifier(5, algorithm=algorithm).fit(X[perm], y[perm])
    np.testing.assert_array_equal(base.predict(Xt), perm_fit.predict(Xt))
    np.testing.assert_array_equal(perm[perm_fit.kneighbors(Xt, return_distance=False)],
                                  base.kneighbors(Xt, return_distance=False))
    names = np.array(["zeta", "alpha"])
    renamed = KNeighborsClassifier(5, algorithm=algorithm).fit(X, names[y])
    np.testing.assert_array_equal(renamed.predict(Xt), names[base.predict(Xt)])


# ----------------------------------------------------------------- issue 21: metrics


def test_valid_metric_lists_are_sklearn_ones():
    from mlnotes.neighbors import VALID_METRICS, VALID_METRICS_SPARSE

    for key, names in sk_neighbors.VALID_METRICS.items():
        assert sorted(VALID_METRICS[key]) == sorted(names)
    for key, names in sk_neighbors.VALID_METRICS_SPARSE.items():
        assert sorted(VALID_METRICS_SPARSE[key]) == sorted(names)


@pytest.mark.parametrize("algorithm", ["auto", "brute", "kd_tree", "ball_tree"])
@pytest.mark.parametrize("metric", ["p", "infinity", "sokalmichener", "cosine", "yule",
                                    "haversine", "nan_euclidean", "sqeuclidean"])
def test_metric_accepted_or_refused_as_sklearn(algorithm, metric):
    rng = np.random.RandomState(0)
    X = (rng.rand(30, 2) > 0.5).astype(float)
    y = rng.randint(2, size=30)
    outcomes = []
    for cls in (KNeighborsClassifier, sk_neighbors.KNeighborsClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                cls(3, metric=metric, algorithm=algorithm).fit(X, y)
                outcomes.append("ok")
            except ValueError as exc:
                outcomes.append(re.sub(r"sklearn|mlnotes", "", str(exc)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("cls, sk_cls", [
    (KNeighborsClassifier, sk_neighbors.KNeighborsClassifier),
    (KNeighborsRegressor, sk_neighbors.KNeighborsRegressor),
])
def test_nan_euclidean_as_sklearn(cls, sk_cls):
    rng = np.random.RandomState(1)
    X = rng.rand(40, 4)
    X[rng.rand(40, 4) < 0.2] = np.nan
    y = rng.randint(3, size=40)
    Q = rng.rand(10, 4)
    Q[0, 1] = np.nan
    ours = cls(4, metric="nan_euclidean", weights="distance").fit(X, y)
    ref = sk_cls(4, metric="nan_euclidean", weights="distance").fit(X, y)
    for query in (Q, None):
        d1, i1 = ours.kneighbors(query)
        d2, i2 = ref.kneighbors(query)
        np.testing.assert_allclose(d1, d2, rtol=1e-12)
        np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(ours.predict(Q), ref.predict(Q))
    assert ours.__sklearn_tags__().input_tags.allow_nan
    with pytest.raises(ValueError, match="NaN"):
        cls(4).fit(X, y)


@pytest.mark.parametrize("algorithm", ["auto", "brute", "ball_tree"])
def test_haversine_as_sklearn(algorithm):
    rng = np.random.RandomState(2)
    X = rng.rand(60, 2) * [np.pi, 2 * np.pi] - [np.pi / 2, np.pi]
    y = rng.randint(3, size=60)
    Q = rng.rand(8, 2)
    ours = KNeighborsClassifier(5, metric="haversine", algorithm=algorithm).fit(X, y)
    ref = sk_neighbors.KNeighborsClassifier(5, metric="haversine",
                                            algorithm=algorithm).fit(X, y)
    d1, i1 = ours.kneighbors(Q)
    d2, i2 = ref.kneighbors(Q)
    np.testing.assert_allclose(d1, d2, rtol=1e-12)
    np.testing.assert_array_equal(i1, i2)
    three = KNeighborsClassifier(metric="haversine", algorithm="brute").fit(
        rng.rand(10, 3), np.ones(10))
    with pytest.raises(ValueError, match="Haversine distance only valid in 2 dimensions"):
        three.predict(rng.rand(4, 3))
    with pytest.raises(ValueError, match="Metric 'haversine' not valid for sparse input"):
        KNeighborsClassifier(metric="haversine", algorithm="ball_tree").fit(
            sparse.csr_matrix(X), y)


def test_distance_metric_object_as_sklearn():
    from sklearn.metrics import DistanceMetric

    rng = np.random.RandomState(3)
    X, y, Q = rng.rand(50, 3), rng.rand(50), rng.rand(6, 3)
    dm = DistanceMetric.get_metric("minkowski", p=3)
    ours = KNeighborsRegressor(4, metric=dm).fit(X, y)
    ref = sk_neighbors.KNeighborsRegressor(4, metric=dm).fit(X, y)
    np.testing.assert_allclose(ours.predict(Q), ref.predict(Q), rtol=1e-12)


def test_fit_on_trees_and_fitted_estimators_as_sklearn():
    from mlnotes.neighbors import KDTree

    rng = np.random.RandomState(4)
    X, y, Q = rng.rand(30, 3), rng.randint(3, size=30), rng.rand(5, 3)
    expected = sk_neighbors.NearestNeighbors(n_neighbors=2).fit(X).kneighbors(Q)
    for data in (sk_neighbors.NearestNeighbors().fit(X), sk_neighbors.BallTree(X),
                 sk_neighbors.KDTree(X), KDTree(X), KNeighborsClassifier().fit(X, y)):
        dist, ind = KNeighborsClassifier(2).fit(data, y).kneighbors(Q)
        np.testing.assert_allclose(dist, expected[0])
        np.testing.assert_array_equal(ind, expected[1])
