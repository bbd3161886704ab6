import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn import cluster as sk_cluster
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from mlnotes.cluster import AgglomerativeClustering
from mlnotes.cluster import _agglomerative

LINKAGES = ["ward", "complete", "average", "single"]


def _data(n=300, d=4, k=4, std=2.0, seed=0):
    return make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std,
                      random_state=seed)


# ----------------------------------------------------------------- parity with sklearn


@pytest.mark.parametrize("linkage", LINKAGES)
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_parity_with_sklearn(linkage, metric):
    if linkage == "ward" and metric != "euclidean":
        pytest.skip("ward needs euclidean distances")
    X, _ = _data(seed=1)
    params = dict(n_clusters=5, linkage=linkage, metric=metric, compute_distances=True)
    ours = AgglomerativeClustering(**params).fit(X)
    ref = sk_cluster.AgglomerativeClustering(**params).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.children_, ref.children_)
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-10, atol=1e-12)
    assert ours.n_clusters_ == ref.n_clusters_ == 5
    assert ours.n_leaves_ == ref.n_leaves_ and ours.n_connected_components_ == 1


@pytest.mark.parametrize("linkage", LINKAGES)
def test_distance_threshold_as_sklearn(linkage):
    X, _ = _data(n=200, seed=2)
    params = dict(n_clusters=None, distance_threshold=4.0, linkage=linkage)
    ours = AgglomerativeClustering(**params).fit(X)
    ref = sk_cluster.AgglomerativeClustering(**params).fit(X)
    assert ours.n_clusters_ == ref.n_clusters_
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-10)
    assert not hasattr(AgglomerativeClustering().fit(X), "distances_")


@pytest.mark.parametrize("linkage", ["complete", "average", "single"])
def test_precomputed_and_callable_metrics(linkage):
    X, _ = _data(n=150, seed=3)
    D = cdist(X, X, "cityblock")
    direct = AgglomerativeClustering(4, linkage=linkage, metric="manhattan").fit(X)
    pre = AgglomerativeClustering(4, linkage=linkage, metric="precomputed").fit(D)
    call = AgglomerativeClustering(4, linkage=linkage,
                                   metric=lambda A: cdist(A, A, "cityblock")).fit(X)
    ref = sk_cluster.AgglomerativeClustering(4, linkage=linkage,
                                             metric="precomputed").fit(D)
    for est in (pre, call):
        # (scikit-learn orders each merged pair differently for precomputed single)
        np.testing.assert_array_equal(np.sort(est.children_, axis=1),
                                      np.sort(direct.children_, axis=1))
    np.testing.assert_array_equal(pre.labels_, ref.labels_)
    np.testing.assert_array_equal(pre.children_, ref.children_)


@pytest.mark.parametrize("linkage", LINKAGES)
def test_condensed_and_square_paths_agree(linkage, monkeypatch):
    X, _ = _data(n=120, seed=4)
    square = AgglomerativeClustering(3, linkage=linkage, compute_distances=True).fit(X)
    monkeypatch.setattr(_agglomerative, "_SQUARE_MAX", 0)
    condensed = AgglomerativeClustering(3, linkage=linkage, compute_distances=True).fit(X)
    np.testing.assert_array_equal(square.children_, condensed.children_)
    np.testing.assert_allclose(square.distances_, condensed.distances_, rtol=1e-12)


# ----------------------------------------------------------------- known answers


def _naive_linkage(X, linkage):
    """Merge the closest pair of clusters, recomputing cluster distances from their
    definitions at every step (no Lance-Williams update). Returns the merge
    distances in order and the leaf sets of the merged clusters."""
    P = cdist(X, X)
    clusters = {i: [i] for i in range(len(X))}
    merges = []

    def dist(a, b):
        block = P[np.ix_(a, b)]
        if linkage == "single":
            return block.min()
        if linkage == "complete":
            return block.max()
        if linkage == "average":
            return block.mean()
        ma, mb = X[a].mean(0), X[b].mean(0)  # ward: via the centroids
        return np.sqrt(2.0 * len(a) * len(b) / (len(a) + len(b)) * ((ma - mb) ** 2).sum())

    next_id = len(X)
    while len(clusters) > 1:
        keys = sorted(clusters)
        best = min(((dist(clusters[a], clusters[b]), a, b) for i, a in enumerate(keys)
                    for b in keys[i + 1:]))
        d, a, b = best
        merges.append((d, frozenset(clusters[a] + clusters[b])))
        clusters[next_id] = clusters.pop(a) + clusters.pop(b)
        next_id += 1
    return merges


@pytest.mark.parametrize("linkage", LINKAGES)
def test_lance_williams_equals_recomputation(linkage):
    """The merges found with the in-place Lance-Williams updates are those of the
    definition of each linkage, recomputed from scratch."""
    X = np.random.default_rng(5).normal(size=(25, 3))
    naive = _naive_linkage(X, linkage)
    est = AgglomerativeClustering(1, linkage=linkage, compute_distances=True).fit(X)
    n = len(X)
    leaves = {i: frozenset([i]) for i in range(n)}
    ours = []
    for i, (a, b) in enumerate(est.children_):
        leaves[n + i] = leaves[a] | leaves[b]
        ours.append((est.distances_[i], leaves[n + i]))
    np.testing.assert_allclose([d for d, _ in ours], [d for d, _ in naive], rtol=1e-10)
    assert [s for _, s in ours] == [s for _, s in naive]


@pytest.mark.parametrize("linkage", LINKAGES)
def test_well_separated_blobs_recovered_exactly(linkage):
    X, y = _data(n=400, d=3, k=5, std=0.4, seed=6)
    labels = AgglomerativeClustering(5, linkage=linkage).fit_predict(X)
    assert adjusted_rand_score(y, labels) == 1.0


def test_tree_structure():
    X, _ = _data(n=60, seed=7)
    est = AgglomerativeClustering(3, compute_distances=True).fit(X)
    n = len(X)
    assert est.children_.shape == (n - 1, 2)
    # every node except the root is merged exactly once, children before parents
    flat = est.children_.ravel()
    assert sorted(flat) == list(range(2 * n - 2))
    assert np.all(est.children_.max(1) < n + np.arange(n - 1))
    assert np.all(np.diff(est.distances_) >= 0)  # ward is monotone
    # a cut into k clusters gives k labels 0..k-1
    for k in (1, 2, 7, n):
        labels = AgglomerativeClustering(k).fit(X).labels_
        assert sorted(np.unique(labels)) == list(range(k))


def test_memory_caches_the_tree(tmp_path):
    X, _ = _data(n=80, seed=8)
    a = AgglomerativeClustering(3, memory=str(tmp_path)).fit(X)
    b = AgglomerativeClustering(3, memory=str(tmp_path)).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert any(tmp_path.rglob("*"))


# ----------------------------------------------------------------- bad input


def test_more_clusters_than_samples_raises_as_sklearn():
    X = np.random.default_rng(0).normal(size=(5, 2))
    msg = "Cannot extract more clusters than samples"
    with pytest.raises(ValueError, match=msg):
        AgglomerativeClustering(6).fit(X)
    with pytest.raises(ValueError, match=msg):
        sk_cluster.AgglomerativeClustering(6).fit(X)


@pytest.mark.parametrize("params, match", [
    (dict(linkage="ward", metric="manhattan"), "Ward can only work with euclidean"),
    (dict(n_clusters=None), "Exactly one of n_clusters and distance_threshold"),
    (dict(n_clusters=2, distance_threshold=1.0), "Exactly one of n_clusters"),
    (dict(n_clusters=None, distance_threshold=1.0, compute_full_tree=False),
     "compute_full_tree must be True"),
    (dict(connectivity=np.eye(9)), "Wrong shape for connectivity matrix"),
    (dict(linkage="centroid"), "linkage"),
    (dict(metric="precomputed", linkage="average"), "should be square"),
])
def test_bad_params(params, match):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=match):
        AgglomerativeClustering(**params).fit(X)


def test_bad_input():
    X = np.random.default_rng(0).normal(size=(10, 2))
    bad = X.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AgglomerativeClustering().fit(bad)
    with pytest.raises(ValueError, match="minimum of 2"):
        AgglomerativeClustering(1).fit(X[:1])
    with pytest.raises(ValueError, match="zero vectors"):
        AgglomerativeClustering(linkage="average", metric="cosine").fit(
            np.vstack([X, np.zeros(2)]))


# ----------------------------------------------------------------- properties


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(3, 40), k=st.integers(1, 3),
       linkage=st.sampled_from(LINKAGES))
def test_row_permutation_and_similarity_invariance(seed, n, k, linkage):
    """Permuting rows permutes the labels; a rigid motion and scaling leave the
    partition unchanged (continuous data: no ties)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    labels = AgglomerativeClustering(k, linkage=linkage).fit_predict(X)
    perm = rng.permutation(n)
    permuted = AgglomerativeClustering(k, linkage=linkage).fit_predict(X[perm])
    assert adjusted_rand_score(labels[perm], permuted) == pytest.approx(1.0)
    theta = rng.uniform(0, 2 * np.pi)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = AgglomerativeClustering(k, linkage=linkage).fit_predict(3.0 * X @ R + 1.0)
    assert adjusted_rand_score(labels, moved) == pytest.approx(1.0)


# ----------------------------------------------------------------- structured clustering


def _structured_case(seed, n_neighbors, rounded=False):
    from sklearn.neighbors import kneighbors_graph

    X, _ = _data(n=150, d=3, k=4, std=1.5, seed=seed)
    if rounded:
        X = np.round(X)  # many tied distances: the heap order must be scikit-learn's
    return X, kneighbors_graph(X, n_neighbors, include_self=False)


@pytest.mark.parametrize("linkage", LINKAGES)
@pytest.mark.parametrize("params", [
    dict(n_clusters=4, compute_distances=True),
    dict(n_clusters=None, distance_threshold=3.0),
    dict(n_clusters=30, compute_full_tree=False),
])
@pytest.mark.parametrize("rounded", [False, True])
def test_connectivity_parity_with_sklearn(linkage, params, rounded):
    X, conn = _structured_case(5, 5, rounded)
    ours = AgglomerativeClustering(linkage=linkage, connectivity=conn, **params).fit(X)
    ref = sk_cluster.AgglomerativeClustering(linkage=linkage, connectivity=conn,
                                             **params).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.children_, ref.children_)
    assert ours.n_clusters_ == ref.n_clusters_
    assert ours.n_connected_components_ == ref.n_connected_components_
    if hasattr(ref, "distances_"):
        np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-10)


@pytest.mark.parametrize("linkage", LINKAGES)
def test_disconnected_graph_is_completed_with_sklearn_warning(linkage):
    X, conn = _structured_case(6, 2)
    match = r"the number of connected components of the connectivity matrix is \d+ > 1"
    with pytest.warns(UserWarning, match=match):
        ours = AgglomerativeClustering(4, linkage=linkage, connectivity=conn,
                                       compute_distances=True).fit(X)
    with pytest.warns(UserWarning, match=match):
        ref = sk_cluster.AgglomerativeClustering(4, linkage=linkage, connectivity=conn,
                                                 compute_distances=True).fit(X)
    assert ours.n_connected_components_ == ref.n_connected_components_ > 1
    np.testing.assert_array_equal(ours.children_, ref.children_)
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-10)


def test_callable_and_dense_connectivity():
    from sklearn.neighbors import kneighbors_graph

    X, conn = _structured_case(7, 6)
    graph = AgglomerativeClustering(3, connectivity=conn).fit(X)
    dense = AgglomerativeClustering(3, connectivity=conn.toarray()).fit(X)
    call = AgglomerativeClustering(
        3, connectivity=lambda A: kneighbors_graph(A, 6, include_self=False)).fit(X)
    np.testing.assert_array_equal(graph.labels_, dense.labels_)
    np.testing.assert_array_equal(graph.labels_, call.labels_)
    np.testing.assert_array_equal(graph.children_, call.children_)


def test_full_graph_connectivity_equals_unstructured_ward():
    # every pair connected: the structured search makes the unstructured merges
    X, _ = _data(n=60, seed=8)
    full = np.ones((60, 60))
    a = AgglomerativeClustering(4, connectivity=full, compute_distances=True).fit(X)
    b = AgglomerativeClustering(4, compute_distances=True).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.distances_, b.distances_, rtol=1e-10)


def test_structured_more_clusters_than_samples_raises_as_sklearn():
    X, conn = _structured_case(9, 5)
    msg = "Cannot provide more clusters than samples"
    for cls in (AgglomerativeClustering, sk_cluster.AgglomerativeClustering):
        with pytest.raises(ValueError, match=msg):
            cls(200, connectivity=conn, compute_full_tree=False).fit(X)


@pytest.mark.parametrize("linkage, metric", [
    ("ward", "euclidean"), ("complete", "euclidean"), ("average", "cosine"),
    ("single", "euclidean"), ("ward", "structured"),
])
def test_overflowing_distances_raise_value_error(linkage, metric):
    X = np.random.default_rng(0).normal(size=(20, 3)) * 1e300
    params = dict(linkage=linkage, metric=metric)
    if metric == "structured":
        params = dict(linkage=linkage, connectivity=np.ones((20, 20)))
    with pytest.raises(ValueError, match="not finite"):
        AgglomerativeClustering(**params).fit(X)
