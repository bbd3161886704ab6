import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import cluster as sk_cluster
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from mlnotes.cluster import KMeans, kmeans_plusplus
from mlnotes.cluster._k_means_fast import CHUNK


def _blobs(n=600, d=5, k=4, std=1.0, seed=0):
    return make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std,
                      random_state=seed)


def _brute_labels(X, C):
    return np.argmin(((X[:, None, :] - C[None, :, :]) ** 2).sum(-1), axis=1)


# ----------------------------------------------------------------- parity with sklearn


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_parity_with_sklearn(init, weighted, seed):
    """Same seeds draw the same centres: the runs, and so the results, coincide."""
    X, _ = _blobs(n=900, d=6, k=5, std=2.5, seed=seed)
    sw = np.random.default_rng(seed).uniform(0.5, 2.0, len(X)) if weighted else None
    params = dict(n_clusters=5, init=init, n_init=3, random_state=seed)
    ours = KMeans(**params).fit(X, sample_weight=sw)
    ref = sk_cluster.KMeans(**params).fit(X, sample_weight=sw)
    assert ours.inertia_ <= ref.inertia_ * (1 + 1e-9)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert adjusted_rand_score(ours.labels_, ref.labels_) == 1.0
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-8)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.labels_.dtype == np.int32


def test_inertia_not_worse_than_sklearn_on_digits():
    X = load_digits().data
    for seed in range(3):
        ours = KMeans(n_clusters=10, n_init=2, random_state=seed).fit(X)
        ref = sk_cluster.KMeans(n_clusters=10, n_init=2, random_state=seed).fit(X)
        assert ours.inertia_ <= ref.inertia_ * 1.005


def test_kmeans_plusplus_matches_sklearn():
    X, _ = _blobs(n=700, d=4, k=6, seed=3)
    sw = np.random.default_rng(0).uniform(0.1, 1.0, len(X))
    for weights in (None, sw):
        for trials in (None, 1, 5):
            c1, i1 = kmeans_plusplus(X, 6, sample_weight=weights, random_state=7,
                                     n_local_trials=trials)
            c2, i2 = sk_cluster.kmeans_plusplus(X, 6, sample_weight=weights,
                                                random_state=7, n_local_trials=trials)
            np.testing.assert_array_equal(i1, i2)
            np.testing.assert_array_equal(c1, X[i1])


def test_transform_and_score_match_sklearn():
    X, _ = _blobs(seed=4)
    X_new = np.random.default_rng(0).normal(size=(50, X.shape[1])) * 5
    ours = KMeans(4, random_state=0).fit(X)
    ref = sk_cluster.KMeans(4, random_state=0).fit(X)
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-10)
    assert ours.score(X_new) == pytest.approx(ref.score(X_new), rel=1e-10)
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    np.testing.assert_allclose(ours.fit_transform(X), ref.fit_transform(X), rtol=1e-10)


# ----------------------------------------------------------------- known answers


def test_well_separated_blobs_recovered_exactly():
    X, y = _blobs(n=1000, d=3, k=6, std=0.3, seed=5)
    km = KMeans(6, n_init=5, random_state=0).fit(X)
    assert adjusted_rand_score(y, km.labels_) == 1.0
    # the centres are the cluster means, the inertia the sum of squares about them
    means = np.array([X[km.labels_ == j].mean(0) for j in range(6)])
    np.testing.assert_allclose(km.cluster_centers_, means, atol=1e-10)
    assert km.inertia_ == pytest.approx(((X - means[km.labels_]) ** 2).sum(), rel=1e-10)


def test_fixed_point_labels_are_nearest_centres():
    X, _ = _blobs(n=2 * CHUNK + 17, d=7, k=5, std=3.0, seed=6)  # several blocks
    km = KMeans(5, random_state=1, tol=0).fit(X)
    np.testing.assert_array_equal(km.labels_, _brute_labels(X, km.cluster_centers_))
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert -km.score(X) == pytest.approx(km.inertia_, rel=1e-10)


def test_lloyd_steps_never_increase_inertia():
    X, _ = _blobs(n=500, d=4, k=6, std=3.0, seed=7)
    previous = np.inf
    for max_iter in range(1, 8):
        km = KMeans(6, init="random", n_init=1, max_iter=max_iter, tol=0,
                    random_state=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            inertia = km.fit(X).inertia_
        assert inertia <= previous + 1e-9
        previous = inertia


def test_weights_equal_repetition():
    X, _ = _blobs(n=80, d=3, k=3, seed=8)
    reps = np.random.default_rng(0).integers(1, 4, len(X))
    init = X[:3]
    a = KMeans(3, init=init, n_init=1).fit(X, sample_weight=reps)
    b = KMeans(3, init=init, n_init=1).fit(np.repeat(X, reps, axis=0))
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, atol=1e-10)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-10)


def test_array_init_is_used_and_single_run():
    X, _ = _blobs(seed=9)
    init = X[[0, 100, 200, 300]]
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        km = KMeans(4, init=init, n_init=3, max_iter=1).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        KMeans(4, init=init).fit(X)
    labels = _brute_labels(X, init)
    means = np.array([X[labels == j].mean(0) for j in range(4)])
    np.testing.assert_allclose(km.cluster_centers_, means, atol=1e-10)


def test_callable_init():
    X, _ = _blobs(seed=10)
    calls = []

    def init(X, k, random_state):
        calls.append(k)
        return X[:k]

    KMeans(4, init=init, n_init=2, random_state=0).fit(X)
    assert calls == [4, 4]


def test_float32_keeps_dtype():
    X, _ = _blobs(seed=11)
    km = KMeans(4, random_state=0).fit(X.astype(np.float32))
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(X.astype(np.float32)).dtype == np.float32
    ref = KMeans(4, random_state=0).fit(X)
    assert adjusted_rand_score(km.labels_, ref.labels_) == 1.0


def test_empty_cluster_is_relocated():
    # two tight groups and an initial centre far from every point
    X = np.array([[0.0, 0], [0.1, 0], [0, 0.1], [10, 10], [10.1, 10], [10, 10.2]])
    init = np.array([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0]])
    km = KMeans(3, init=init, n_init=1).fit(X)
    assert np.unique(km.labels_).size == 3


def test_fewer_distinct_points_than_clusters_warns():
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(2\)"):
        KMeans(3, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning):
        sk_cluster.KMeans(3, random_state=0).fit(X)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_elkan_equals_lloyd_and_sklearn(seed):
    """Elkan's bounds only skip distances that cannot win: same iterations, same
    result as Lloyd's, and as scikit-learn's Elkan."""
    X, _ = _blobs(n=1500, d=4, k=12, std=1.5, seed=seed)
    sw = np.random.default_rng(seed).uniform(0.5, 2.0, len(X))
    params = dict(n_clusters=12, n_init=2, random_state=seed)
    elkan = KMeans(algorithm="elkan", **params).fit(X, sample_weight=sw)
    lloyd = KMeans(**params).fit(X, sample_weight=sw)
    ref = sk_cluster.KMeans(algorithm="elkan", **params).fit(X, sample_weight=sw)
    for other in (lloyd, ref):
        np.testing.assert_array_equal(elkan.labels_, other.labels_)
        assert elkan.n_iter_ == other.n_iter_
        assert elkan.inertia_ == pytest.approx(other.inertia_, rel=1e-10)
        np.testing.assert_allclose(elkan.cluster_centers_, other.cluster_centers_,
                                   atol=1e-9)


def test_elkan_relocates_empty_clusters_and_warns_for_one_cluster():
    X = np.array([[0.0, 0], [0.1, 0], [0, 0.1], [10, 10], [10.1, 10], [10, 10.2]])
    init = np.array([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0]])
    km = KMeans(3, init=init, n_init=1, algorithm="elkan").fit(X)
    assert np.unique(km.labels_).size == 3
    with pytest.warns(RuntimeWarning, match="single cluster"):
        KMeans(1, algorithm="elkan").fit(X)


# ----------------------------------------------------------------- bad input


def test_more_clusters_than_samples_raises_as_sklearn():
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match=r"n_samples=5 should be >= n_clusters=6"):
        KMeans(6).fit(X)
    with pytest.raises(ValueError, match=r"n_samples=5 should be >= n_clusters=6"):
        sk_cluster.KMeans(6).fit(X)
    with pytest.raises(ValueError, match=r"n_samples=5 should be >= n_clusters=6"):
        kmeans_plusplus(X, 6)


@pytest.mark.parametrize("params, match", [
    (dict(n_clusters=0), "n_clusters"),
    (dict(n_init=0), "n_init"),
    (dict(max_iter=0), "max_iter"),
    (dict(tol=-1.0), "tol"),
    (dict(algorithm="full"), "algorithm"),
    (dict(init="kmeans"), "init"),
])
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        KMeans(**params).fit(np.ones((10, 2)))


def test_bad_init_shape():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="number of clusters 2"):
        KMeans(2, init=np.zeros((3, 3))).fit(X)
    with pytest.raises(ValueError, match="number of features of the data 3"):
        KMeans(2, init=np.zeros((2, 2))).fit(X)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nonfinite_rejected(value):
    X = np.random.default_rng(0).normal(size=(20, 3))
    km = KMeans(2, random_state=0).fit(X)
    bad = X.copy()
    bad[3, 1] = value
    for call in (KMeans(2).fit, km.predict, km.transform, km.score):
        with pytest.raises(ValueError, match="NaN|infinity"):
            call(bad)
    with pytest.raises(ValueError, match="features"):
        km.predict(X[:, :2])


# ----------------------------------------------------------------- properties


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 5), n=st.integers(10, 60))
def test_labels_are_nearest_centres_and_relabel_invariance(seed, k, n):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * rng.uniform(0.1, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = KMeans(k, random_state=seed % 100).fit(X)
    assert km.labels_.shape == (n,)
    d = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    # the label is a nearest centre (ties allowed)
    assert np.all(d[np.arange(n), km.labels_] <= d.min(1) * (1 + 1e-9) + 1e-12)
    # shifting and scaling the data moves the centres the same way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moved = KMeans(k, random_state=seed % 100).fit(3.0 * X + 7.0)
    assert adjusted_rand_score(km.labels_, moved.labels_) == pytest.approx(1.0)


# ----------------------------------------------------------------- sparse input


def _sparse_blobs(seed=13):
    import scipy.sparse as sp

    X, y = _blobs(n=600, d=30, k=4, std=2.0, seed=seed)
    X[np.abs(X) < 3] = 0.0  # about half the entries stored
    return X, sp.csr_matrix(X), y


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_sparse_parity_with_sklearn(init):
    X, Xs, _ = _sparse_blobs()
    sw = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    params = dict(n_clusters=4, init=init, n_init=2, random_state=0)
    ours = KMeans(**params).fit(Xs, sample_weight=sw)
    ref = sk_cluster.KMeans(**params).fit(Xs, sample_weight=sw)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_allclose(ours.transform(Xs), ref.transform(Xs), rtol=1e-9)
    assert ours.score(Xs) == pytest.approx(ref.score(Xs), rel=1e-9)
    c1, i1 = kmeans_plusplus(Xs, 4, random_state=5)
    c2, i2 = sk_cluster.kmeans_plusplus(Xs, 4, random_state=5)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(c1, X[i1])


def test_sparse_equals_dense():
    """Same seeds, same problem: the sparse path (uncentred) and the dense path
    (centred) find the same clustering."""
    import scipy.sparse as sp

    X, Xs, _ = _sparse_blobs(seed=14)
    dense = KMeans(4, random_state=0).fit(X)
    for fmt in ("csr", "csc", "coo"):
        sparse = KMeans(4, random_state=0).fit(sp.csr_matrix(Xs).asformat(fmt))
        np.testing.assert_array_equal(sparse.labels_, dense.labels_)
        assert sparse.inertia_ == pytest.approx(dense.inertia_, rel=1e-9)
        np.testing.assert_array_equal(sparse.predict(X), dense.predict(Xs))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_of_the_centres_has_an_exact_zero_diagonal(dtype):
    """Issue 21 (scikit-learn's test_transform): transforming cluster_centers_ gives the
    pairwise distances of the centres, with exactly 0 on the diagonal."""
    from sklearn.metrics import pairwise_distances

    X, _ = _blobs()
    X = (X * 10.0 + 3.0).astype(dtype)
    km = KMeans(n_clusters=4, n_init=1, random_state=0).fit(X)
    Xt = km.transform(km.cluster_centers_)
    assert Xt.dtype == dtype
    np.testing.assert_array_equal(Xt.diagonal(), np.zeros(4))
    np.testing.assert_allclose(Xt, pairwise_distances(km.cluster_centers_), rtol=1e-6)


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
@pytest.mark.parametrize("tol", [1e-2, 0.0])
def test_verbose_output_as_sklearn(algorithm, tol, capsys):
    X = np.random.RandomState(0).normal(size=(2000, 5))
    params = dict(n_clusters=6, random_state=42, init="random", n_init=1, tol=tol,
                  algorithm=algorithm)
    quiet = KMeans(**params).fit(X)
    capsys.readouterr()
    ours = KMeans(verbose=1, **params).fit(X)
    out = capsys.readouterr().out
    sk_cluster.KMeans(verbose=1, **params).fit(X)
    ref = capsys.readouterr().out
    # the same run as without verbose, reported as scikit-learn reports it
    assert ours.n_iter_ == quiet.n_iter_ and ours.inertia_ == quiet.inertia_
    np.testing.assert_array_equal(ours.labels_, quiet.labels_)
    assert "Initialization complete" in out
    pattern = r"Iteration \d+, inertia ([0-9.e+]+[0-9])"
    ours_its = [float(v) for v in re.findall(pattern, out)]
    ref_its = [float(v) for v in re.findall(pattern, ref)]
    assert len(ours_its) == len(ref_its) == ours.n_iter_
    np.testing.assert_allclose(ours_its, ref_its, rtol=1e-10)
    final = "strict convergence" if tol == 0 else r"center shift .* within tolerance"
    assert re.search(final, out) and re.search(final, ref)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_init_centroids_takes_sklearn_keywords_and_weights(init):
    # scikit-learn's tests call KMeans._init_centroids with these keywords
    from sklearn.metrics.pairwise import euclidean_distances

    rng = np.random.RandomState(0)
    X, _ = make_blobs(n_samples=100, n_features=5, centers=5, random_state=0)
    weights = rng.uniform(size=X.shape[0])
    weights[::2] = 0
    centers = KMeans()._init_centroids(
        X=X, x_squared_norms=(X ** 2).sum(axis=1), init=init, sample_weight=weights,
        n_centroids=10, random_state=np.random.RandomState(0))
    assert centers.shape == (10, 5)
    assert not np.any(np.isclose(euclidean_distances(X[::2], centers), 0))
    km = KMeans(n_clusters=3, n_init=4, random_state=0).fit(X)
    assert km._n_init == 4


@pytest.mark.parametrize("where", ["all", "one"])
def test_overflowing_distances_raise_value_error(where):
    # issue 21 (bad-input audit): 1e300 data gave inf transform distances
    X = np.random.default_rng(0).normal(size=(30, 3))
    big = X * 1e300 if where == "all" else X.copy()
    if where == "one":
        big[0, 0] = 1e300
    with pytest.raises(ValueError, match="overflow float64"):
        KMeans(3, n_init=1, random_state=0).fit(big)
    # 1e150: squared distances ~1e300 still fit, with finite outputs
    km = KMeans(3, n_init=1, random_state=0).fit(X * 1e150)
    assert np.all(np.isfinite(km.transform(X * 1e150)))
    ref = KMeans(3, n_init=1, random_state=0).fit(X)
    assert adjusted_rand_score(km.labels_, ref.labels_) == 1.0
