"""Sparse (CSR/CSC) input for KNeighborsClassifier / KNeighborsRegressor.

Each fit on sparse X is compared with scikit-learn's fit on the same sparse X and
with our own fit on ``X.toarray()``; sparse fit + dense query and the reverse;
X is never densified (``toarray``/``todense`` patched to raise).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import neighbors as sk_neighbors
from sklearn.exceptions import EfficiencyWarning

from mlnotes.neighbors import KNeighborsClassifier, KNeighborsRegressor

# (metric, p): the metrics scikit-learn accepts on sparse X
METRICS = [("euclidean", 2), ("manhattan", 2), ("cosine", 2), ("minkowski", 1),
           ("minkowski", 2)]


def _data(n=250, n_test=60, p=40, density=0.15, seed=0, fmt="csr"):
    rng = np.random.default_rng(seed)
    X = sp.random_array((n + n_test, p), density=density, format="csr", rng=rng,
                        data_sampler=lambda size: rng.normal(1.0, 1.0, size))
    X = (X + sp.csr_array((np.full(n + n_test, 0.5),
                           (np.arange(n + n_test), np.arange(n + n_test) % p)),
                          shape=X.shape)).tocsr()
    # 32-bit indices: scikit-learn's sparse Manhattan kernel accepts only those
    X = sp.csr_array((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                     shape=X.shape)
    y = (np.asarray(X @ rng.normal(size=p)) > 0.3).astype(int) + (
        np.asarray(X[:, 0].toarray()).ravel() > 1)
    yr = np.asarray(X @ rng.normal(size=p)) + 0.1 * rng.normal(size=n + n_test)
    return X[:n].asformat(fmt), y[:n], yr[:n], X[n:].asformat(fmt)


@pytest.fixture
def no_densify(monkeypatch):
    def boom(self, *a, **k):
        raise AssertionError("sparse X was densified")
    for cls in (sp.csr_array, sp.csc_array, sp.csr_matrix, sp.csc_matrix):
        monkeypatch.setattr(cls, "toarray", boom)
        monkeypatch.setattr(cls, "todense", boom)


@pytest.mark.parametrize("metric,p", METRICS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_kneighbors_matches_sklearn(metric, p, fmt):
    X, y, _, Xt = _data(fmt=fmt, seed=1)
    Xd, Xtd = X.toarray(), Xt.toarray()
    ref = sk_neighbors.NearestNeighbors(n_neighbors=6, metric=metric, p=p).fit(X)
    ours = KNeighborsClassifier(n_neighbors=6, metric=metric, p=p).fit(X, y)
    d_ref, i_ref = ref.kneighbors(Xt)
    d, i = ours.kneighbors(Xt)
    np.testing.assert_allclose(d, d_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(i, i_ref)
    # leave-one-out query on the fitted data
    d_loo_ref, i_loo_ref = ref.kneighbors()
    d_loo, i_loo = ours.kneighbors()
    np.testing.assert_allclose(d_loo, d_loo_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(i_loo, i_loo_ref)
    # sparse fit + dense query, dense fit + sparse query, all dense
    for fit_X, q in [(X, Xtd), (Xd, Xt), (Xd, Xtd)]:
        d2, i2 = KNeighborsClassifier(n_neighbors=6, metric=metric, p=p).fit(
            fit_X, y).kneighbors(q)
        np.testing.assert_allclose(d2, d, rtol=1e-8, atol=1e-10)
        np.testing.assert_array_equal(i2, i)


@pytest.mark.parametrize("metric,p", [("euclidean", 2), ("manhattan", 2), ("cosine", 2)])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_classifier_matches_sklearn(metric, p, weights, no_densify):
    X, y, _, Xt = _data(seed=2)
    kw = dict(n_neighbors=7, metric=metric, p=p, weights=weights)
    ref = sk_neighbors.KNeighborsClassifier(**kw).fit(X, y)
    ours = KNeighborsClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xt.tocsc()), ref.predict(Xt))
    assert ours.score(Xt, ref.predict(Xt)) == 1.0


@pytest.mark.parametrize("metric,p", [("euclidean", 2), ("minkowski", 1), ("cosine", 2)])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_matches_sklearn(metric, p, weights, no_densify):
    X, _, yr, Xt = _data(seed=3)
    kw = dict(n_neighbors=5, metric=metric, p=p, weights=weights)
    ref = sk_neighbors.KNeighborsRegressor(**kw).fit(X, yr)
    ours = KNeighborsRegressor(**kw).fit(X, yr)
    np.testing.assert_allclose(ours.predict(Xt), ref.predict(Xt), rtol=1e-10)
    yr2 = np.column_stack([yr, -2 * yr])
    ref2 = sk_neighbors.KNeighborsRegressor(**kw).fit(X, yr2)
    ours2 = KNeighborsRegressor(**kw).fit(X, yr2)
    np.testing.assert_allclose(ours2.predict(Xt), ref2.predict(Xt), rtol=1e-10)


def test_sparse_equals_dense_fit():
    X, y, yr, Xt = _data(seed=4)
    for Est, target in [(KNeighborsClassifier, y), (KNeighborsRegressor, yr)]:
        sparse = Est(n_neighbors=4, weights="distance").fit(X, target)
        dense = Est(n_neighbors=4, weights="distance").fit(X.toarray(), target)
        np.testing.assert_allclose(sparse.predict(Xt), dense.predict(Xt.toarray()),
                                   rtol=1e-10)
        g1 = sparse.kneighbors_graph(Xt, mode="distance")
        g2 = dense.kneighbors_graph(Xt.toarray(), mode="distance")
        np.testing.assert_allclose(g1.toarray(), g2.toarray(), rtol=1e-8, atol=1e-10)


def test_int64_indices():
    X, y, _, Xt = _data(seed=9)
    X64 = sp.csr_array((X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)),
                       shape=X.shape)
    ref = sk_neighbors.KNeighborsClassifier(metric="manhattan").fit(X, y)
    ours = KNeighborsClassifier(metric="manhattan").fit(X64, y)
    np.testing.assert_array_equal(ours.kneighbors(Xt)[1], ref.kneighbors(Xt)[1])


def test_callable_metric_on_sparse():
    X, y, _, Xt = _data(n=60, n_test=10, seed=5)

    def l1(a, b):
        return float(np.abs((a - b)).sum())

    ref = sk_neighbors.KNeighborsClassifier(3, metric=l1).fit(X, y)
    ours = KNeighborsClassifier(3, metric=l1).fit(X, y)
    np.testing.assert_array_equal(ours.kneighbors(Xt)[1], ref.kneighbors(Xt)[1])


@pytest.mark.parametrize("algorithm", ["kd_tree", "ball_tree"])
def test_tree_algorithm_warns_and_uses_brute(algorithm):
    X, y, _, Xt = _data(seed=6)
    with pytest.warns(UserWarning, match="cannot use tree with sparse input"):
        ours = KNeighborsClassifier(algorithm=algorithm).fit(X, y)
    assert ours._fit_method == "brute"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KNeighborsClassifier(algorithm="auto").fit(X, y)
        KNeighborsClassifier(algorithm="brute").fit(X, y)
    ref = sk_neighbors.KNeighborsClassifier().fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))


@pytest.mark.parametrize("kw", [dict(metric="chebyshev"), dict(metric="minkowski", p=3),
                                dict(metric="braycurtis")])
def test_invalid_sparse_metric(kw):
    X, y, _, Xt = _data(n=30, n_test=5, seed=7)
    with pytest.raises(ValueError, match="not valid for sparse input"):
        KNeighborsClassifier(**kw).fit(X, y)
    with pytest.raises(ValueError, match="not valid for sparse input"):
        sk_neighbors.KNeighborsClassifier(**kw).fit(X, y)
    # dense fit then sparse query with such a metric
    est = KNeighborsClassifier(algorithm="brute", **kw).fit(X.toarray(), y)
    with pytest.raises(ValueError, match="not valid for sparse input"):
        est.predict(Xt)


@pytest.mark.parametrize("algorithm", ["kd_tree", "ball_tree"])
def test_tree_fit_rejects_sparse_query(algorithm):
    X, y, _, Xt = _data(n=100, p=3, n_test=5, density=0.6, seed=8)
    msg = f"{algorithm} does not work with sparse matrices"
    est = KNeighborsClassifier(algorithm=algorithm).fit(X.toarray(), y)
    with pytest.raises(ValueError, match=msg):
        est.predict(Xt)
    ref = sk_neighbors.KNeighborsClassifier(algorithm=algorithm).fit(X.toarray(), y)
    with pytest.raises(ValueError, match=msg):
        ref.predict(Xt)


@pytest.mark.filterwarnings("ignore:Precomputed sparse input was not sorted")
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_precomputed_sparse_graph_matches_sklearn(fmt):
    X, y, _, Xt = _data(seed=10)
    Xd, Xtd = X.toarray(), Xt.toarray()
    nn = sk_neighbors.NearestNeighbors(n_neighbors=8).fit(Xd)
    G_train = nn.kneighbors_graph(mode="distance").asformat(fmt)
    G_test = nn.kneighbors_graph(Xtd, mode="distance").asformat(fmt)
    for Est, SkEst in [(KNeighborsClassifier, sk_neighbors.KNeighborsClassifier)]:
        for weights in ["uniform", "distance"]:
            kw = dict(n_neighbors=5, metric="precomputed", weights=weights)
            ours = Est(**kw).fit(G_train, y)
            ref = SkEst(**kw).fit(G_train, y)
            d, i = ours.kneighbors(G_test)
            d_ref, i_ref = ref.kneighbors(G_test)
            np.testing.assert_allclose(d, d_ref)
            np.testing.assert_array_equal(i, i_ref)
            np.testing.assert_allclose(ours.predict_proba(G_test),
                                       ref.predict_proba(G_test))
            d, i = ours.kneighbors()
            d_ref, i_ref = ref.kneighbors()
            np.testing.assert_allclose(d, d_ref)
            np.testing.assert_array_equal(i, i_ref)
            # the same neighbours as the sparse feature matrix itself
            direct = Est(n_neighbors=5, weights=weights).fit(X, y)
            np.testing.assert_array_equal(ours.kneighbors(G_test)[1],
                                          direct.kneighbors(Xt)[1])
    with pytest.raises(ValueError, match="neighbors per samples are required"):
        KNeighborsClassifier(n_neighbors=9, metric="precomputed").fit(
            G_train, y).kneighbors(G_test)
    with pytest.raises(TypeError, match="not supported due to its handling"):
        KNeighborsClassifier(metric="precomputed").fit(
            sp.eye_array(len(y), format="dia"), y)


def test_precomputed_unsorted_graph_warns_as_sklearn():
    X, y, _, _ = _data(n=80, seed=11)
    G = sk_neighbors.NearestNeighbors(n_neighbors=6).fit(X).kneighbors_graph(
        mode="distance")
    G.sort_indices()  # by column: not by distance
    with pytest.warns(EfficiencyWarning, match="not sorted by row values"):
        ref = sk_neighbors.KNeighborsClassifier(3, metric="precomputed").fit(G, y)
    with pytest.warns(EfficiencyWarning, match="not sorted by row values"):
        ours = KNeighborsClassifier(3, metric="precomputed").fit(G, y)
    np.testing.assert_array_equal(ours.kneighbors()[1], ref.kneighbors()[1])
    sorted_G = sk_neighbors.sort_graph_by_row_values(G.copy(), warn_when_not_sorted=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KNeighborsClassifier(3, metric="precomputed").fit(sorted_G, y)
