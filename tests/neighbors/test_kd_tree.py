"""KDTree (chapter 24): scikit-learn parity, brute-force known answers, structure,
pickling, bad input and hypothesis properties."""

import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import cdist
from sklearn.neighbors import KDTree as SkKDTree

from mlnotes.neighbors import KDTree

# (KDTree kwargs, scipy cdist metric and kwargs) of the supported metrics
METRICS = [
    (dict(), ("euclidean", {})),
    (dict(metric="manhattan"), ("cityblock", {})),
    (dict(metric="chebyshev"), ("chebyshev", {})),
    (dict(metric="minkowski", p=3), ("minkowski", {"p": 3})),
]
METRIC_IDS = ["euclidean", "manhattan", "chebyshev", "minkowski3"]


def _data(n=600, d=4, n_queries=80, seed=0):
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 3.0, size=d)
    return rng.normal(size=(n, d)) * scale, rng.normal(size=(n_queries, d)) * scale


def _brute(X, Q, cd):
    metric, kw = cd
    return cdist(Q, X, metric, **kw)


@pytest.mark.parametrize("kwargs, cd", METRICS, ids=METRIC_IDS)
@pytest.mark.parametrize("leaf_size", [1, 7, 40])
def test_query_matches_sklearn_and_brute_force(kwargs, cd, leaf_size):
    X, Q = _data(seed=leaf_size)
    ours = KDTree(X, leaf_size=leaf_size, **kwargs)
    ref = SkKDTree(X, leaf_size=leaf_size, **kwargs)
    D = _brute(X, Q, cd)
    order = np.argsort(D, axis=1, kind="stable")
    for k in (1, 6):
        d_ref, i_ref = ref.query(Q, k=k)
        for bf in (False, True):
            d, i = ours.query(Q, k=k, breadth_first=bf)
            assert d.shape == i.shape == (len(Q), k)
            np.testing.assert_array_equal(i, i_ref)
            np.testing.assert_allclose(d, d_ref, rtol=1e-12, atol=1e-10)
            # known answer: the k smallest entries of the full distance matrix
            np.testing.assert_array_equal(i, order[:, :k])
            np.testing.assert_allclose(d, np.take_along_axis(D, order[:, :k], 1),
                                       rtol=1e-12, atol=1e-10)
    # dualtree / sort_results are accepted and give the same neighbours
    np.testing.assert_array_equal(
        ours.query(Q, k=3, dualtree=True, return_distance=False), ref.query(Q, k=3)[1])


@pytest.mark.parametrize("kwargs, cd", METRICS, ids=METRIC_IDS)
def test_query_radius_matches_sklearn_and_brute_force(kwargs, cd):
    X, Q = _data(n=400, d=3, seed=5)
    ours, ref = KDTree(X, leaf_size=5, **kwargs), SkKDTree(X, leaf_size=5, **kwargs)
    D = _brute(X, Q, cd)
    r = np.quantile(D, 0.05)
    counts = ours.query_radius(Q, r, count_only=True)
    np.testing.assert_array_equal(counts, ref.query_radius(Q, r, count_only=True))
    np.testing.assert_array_equal(counts, (D <= r).sum(axis=1))
    ind = ours.query_radius(Q, r)
    ind_s, dist_s = ours.query_radius(Q, r, return_distance=True, sort_results=True)
    ind_r, dist_r = ref.query_radius(Q, r, return_distance=True, sort_results=True)
    for q in range(len(Q)):
        truth = np.flatnonzero(D[q] <= r)
        np.testing.assert_array_equal(np.sort(ind[q]), truth)
        np.testing.assert_array_equal(ind_s[q], ind_r[q])
        np.testing.assert_allclose(dist_s[q], dist_r[q], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dist_s[q], D[q, ind_s[q]], rtol=1e-12, atol=1e-12)
        assert np.all(np.diff(dist_s[q]) >= 0)
    # unsorted with distances: each distance belongs to its index
    ind_u, dist_u = ours.query_radius(Q, r, return_distance=True)
    for q in range(len(Q)):
        np.testing.assert_allclose(dist_u[q], D[q, ind_u[q]], rtol=1e-12, atol=1e-12)


def test_query_radius_per_query_radius_and_edge_cases():
    X, Q = _data(n=300, d=2, n_queries=20, seed=3)
    tree = KDTree(X, leaf_size=4)
    D = cdist(Q, X)
    r = np.linspace(0.0, 2.0, len(Q))
    np.testing.assert_array_equal(tree.query_radius(Q, r, count_only=True),
                                  (D <= r[:, None]).sum(1))
    assert np.all(tree.query_radius(Q, -1.0, count_only=True) == 0)
    # radius 0 around training points: the point itself (continuous data)
    ind = tree.query_radius(X[:5], 0.0)
    assert [list(a) for a in ind] == [[i] for i in range(5)]
    assert ind.dtype == object and ind[0].dtype == np.intp
    # a huge radius returns everything
    assert np.all(tree.query_radius(Q[:3], 1e9, count_only=True) == len(X))


def test_tree_is_scikit_learns():
    """Same levels, same node ranges and leaves, same bounding boxes and the same
    point set in every node as scikit-learn's tree (median split, widest dimension)."""
    X, _ = _data(n=1000, d=5, seed=7)
    for leaf_size in (1, 10, 40):
        ours, ref = KDTree(X, leaf_size=leaf_size), SkKDTree(X, leaf_size=leaf_size)
        data, idx, nodes, bounds = ours.get_arrays()
        data_r, idx_r, nodes_r, bounds_r = ref.get_arrays()
        np.testing.assert_array_equal(data, data_r)
        assert nodes.shape == nodes_r.shape
        for field in ("idx_start", "idx_end", "is_leaf"):
            np.testing.assert_array_equal(nodes[field], nodes_r[field])
        np.testing.assert_allclose(nodes["radius"], nodes_r["radius"], rtol=1e-12)
        np.testing.assert_array_equal(bounds, bounds_r)
        for s, e in zip(nodes_r["idx_start"], nodes_r["idx_end"]):
            assert set(idx[s:e]) == set(idx_r[s:e])
        assert np.array_equal(np.sort(idx), np.arange(len(X)))
        leaves = nodes[nodes["is_leaf"] == 1]
        sizes = leaves["idx_end"] - leaves["idx_start"]
        assert sizes.max() <= 2 * leaf_size


def test_duplicates_and_ties():
    """Integer grid data with many equal distances: distances are still exact and every
    returned index is at the returned distance."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, size=(300, 2)).astype(float)
    Q = rng.integers(0, 4, size=(50, 2)).astype(float)
    tree = KDTree(X, leaf_size=3)
    d, i = tree.query(Q, k=10)
    D = cdist(Q, X)
    np.testing.assert_array_equal(d, np.sort(D, axis=1)[:, :10])
    np.testing.assert_array_equal(np.take_along_axis(D, i, 1), d)
    assert all(len(set(row)) == 10 for row in i)


def test_pickle_roundtrip():
    X, Q = _data(n=200, d=3, seed=2)
    tree = KDTree(X, leaf_size=8, metric="manhattan")
    clone = pickle.loads(pickle.dumps(tree))
    for a, b in zip(tree.query(Q, k=4), clone.query(Q, k=4)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(clone.data, X)


def test_data_is_not_aliased_into_the_queries():
    X, Q = _data(n=200, d=3, seed=4)
    tree = KDTree(X.copy(), leaf_size=8)
    expected = tree.query(Q, k=3)
    tree.data[:] = 0.0  # writing into the stored data does not corrupt the tree order
    np.testing.assert_array_equal(tree.query(Q, k=3)[1], expected[1])


def test_metric_aliases_and_p():
    X, Q = _data(n=150, d=3, seed=6)
    base = KDTree(X).query(Q, k=3)
    for kw in (dict(metric="euclidean"), dict(metric="l2"), dict(metric="minkowski", p=2),
               dict(metric="p", p=2.0)):
        np.testing.assert_array_equal(KDTree(X, **kw).query(Q, k=3)[1], base[1])
    for a, b in [(dict(metric="l1"), dict(metric="minkowski", p=1)),
                 (dict(metric="infinity"), dict(metric="minkowski", p=np.inf))]:
        np.testing.assert_array_equal(KDTree(X, **a).query(Q, k=3)[1],
                                      KDTree(X, **b).query(Q, k=3)[1])
    assert sorted(KDTree.valid_metrics) == sorted(SkKDTree.valid_metrics)


def _same_error(ours_call, ref_call):
    """Ours raises the exception type of scikit-learn, with its message inside."""
    with pytest.raises(Exception) as ref:
        ref_call()
    with pytest.raises(type(ref.value), match=re.escape(str(ref.value).split("\n")[0])):
        ours_call()


def test_bad_input_as_sklearn():
    X, Q = _data(n=50, d=3, seed=1)
    tree, ref = KDTree(X), SkKDTree(X)
    _same_error(lambda: KDTree(X[:, 0]), lambda: SkKDTree(X[:, 0]))
    _same_error(lambda: KDTree(X[:0]), lambda: SkKDTree(X[:0]))
    bad = X.copy()
    bad[3, 1] = np.nan
    _same_error(lambda: KDTree(bad), lambda: SkKDTree(bad))
    bad[3, 1] = np.inf
    _same_error(lambda: KDTree(bad), lambda: SkKDTree(bad))
    _same_error(lambda: KDTree(X, leaf_size=0), lambda: SkKDTree(X, leaf_size=0))
    _same_error(lambda: KDTree(X, metric="minkowski", p=-1),
                lambda: SkKDTree(X, metric="minkowski", p=-1))
    _same_error(lambda: tree.query(Q[:, :2]), lambda: ref.query(Q[:, :2]))
    _same_error(lambda: tree.query(Q, k=51), lambda: ref.query(Q, k=51))
    _same_error(lambda: tree.query(Q[0]), lambda: ref.query(Q[0]))
    _same_error(lambda: tree.query_radius(Q, 1.0, return_distance=True, count_only=True),
                lambda: ref.query_radius(Q, 1.0, return_distance=True, count_only=True))
    _same_error(lambda: tree.query_radius(Q, 1.0, sort_results=True),
                lambda: ref.query_radius(Q, 1.0, sort_results=True))
    _same_error(lambda: tree.query_radius(Q, np.ones(3)),
                lambda: ref.query_radius(Q, np.ones(3)))
    _same_error(lambda: tree.query_radius(Q[:, :1], 1.0),
                lambda: ref.query_radius(Q[:, :1], 1.0))
    with pytest.raises(ValueError, match="not valid for KDTree"):
        KDTree(X, metric="cosine")
    with pytest.raises(ValueError, match="weighted Minkowski"):
        KDTree(X, metric="minkowski", p=3, w=np.ones(3))
    with pytest.raises(TypeError, match="unexpected keyword"):
        KDTree(X, metric="euclidean", p=3)
    with pytest.raises(TypeError, match="integer"):
        tree.query(Q, k=2.5)
    assert tree.query(Q, k=0)[0].shape == ref.query(Q, k=0)[0].shape == (len(Q), 0)


@settings(max_examples=40, deadline=None)
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 4)),
                 elements=st.integers(-5, 5).map(float)),
    leaf_size=st.integers(1, 8),
    k=st.integers(1, 6),
    metric=st.sampled_from(METRICS),
)
def test_property_tree_equals_brute_force(X, leaf_size, k, metric):
    """On small integer data (many ties and duplicates) the tree returns the k smallest
    distances of the brute-force matrix, every index at its distance."""
    kwargs, cd = metric
    k = min(k, len(X))
    tree = KDTree(X, leaf_size=leaf_size, **kwargs)
    Q = X[::-1] + 0.5
    d, i = tree.query(Q, k=k)
    D = _brute(X, Q, cd)
    np.testing.assert_allclose(d, np.sort(D, axis=1)[:, :k], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.take_along_axis(D, i, 1), d, rtol=1e-12, atol=1e-12)
    r = float(np.median(D)) + 1e-7  # off the boundary: r**2 rounds either way
    np.testing.assert_array_equal(tree.query_radius(Q, r, count_only=True),
                                  (D <= r).sum(axis=1))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), leaf_a=st.integers(1, 50), leaf_b=st.integers(1, 50))
def test_property_leaf_size_does_not_change_the_answer(seed, leaf_a, leaf_b):
    X, Q = _data(n=120, d=3, n_queries=15, seed=seed)
    a = KDTree(X, leaf_size=leaf_a).query(Q, k=5)
    b = KDTree(X, leaf_size=leaf_b).query(Q, k=5)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])


# ----------------------------------------------------------------- issue 21: KDE, 2-point


def _exact_kde(X, Q, h, kernel, metric="euclidean"):
    """Kernel sums by brute force (scipy distances), normalised as scikit-learn."""
    from scipy.special import gammaln, logsumexp

    D = cdist(Q, X, metric) / h
    with np.errstate(divide="ignore"):
        logk = {
            "gaussian": -0.5 * D ** 2,
            "tophat": np.where(D < 1, 0.0, -np.inf),
            "epanechnikov": np.log(np.clip(1 - D ** 2, 0, None)),
            "exponential": -D,
            "linear": np.log(np.clip(1 - D, 0, None)),
            "cosine": np.log(np.where(D < 1, np.cos(0.5 * np.pi * D), 0.0)),
        }[kernel]
    d = X.shape[1]
    log_vn = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1)
    # the normalising integrals, in closed form (cosine numerically)
    if kernel == "gaussian":
        log_int = 0.5 * d * np.log(2 * np.pi)
    elif kernel == "tophat":
        log_int = log_vn
    elif kernel == "epanechnikov":
        log_int = log_vn + np.log(2 / (d + 2))
    elif kernel == "exponential":
        log_int = np.log(d) + log_vn + gammaln(d)
    elif kernel == "linear":
        log_int = log_vn - np.log(d + 1)
    else:
        t = np.linspace(0, 1, 200001)
        f = np.cos(0.5 * np.pi * t) * t ** (d - 1)
        log_int = np.log(d) + log_vn + np.log(np.trapezoid(f, t))
    return logsumexp(logk, axis=1) - log_int - d * np.log(h)


@pytest.mark.parametrize("kernel", ["gaussian", "tophat", "epanechnikov", "exponential",
                                    "linear", "cosine"])
@pytest.mark.parametrize("d", [1, 3])
def test_kernel_density_as_sklearn(kernel, d):
    rng = np.random.RandomState(d)
    X = rng.randn(200, d)
    Q = rng.randn(30, d) * 1.5
    ours = KDTree(X, leaf_size=8)
    ref = SkKDTree(X, leaf_size=8)
    for h in (0.3, 1.0):
        log_dens = ours.kernel_density(Q, h, kernel=kernel, return_log=True)
        exact = _exact_kde(X, Q, h, kernel)
        rtol = 1e-6 if kernel == "cosine" else 1e-10  # (numerical integral)
        np.testing.assert_allclose(np.exp(log_dens), np.exp(exact), rtol=rtol, atol=1e-300)
        # scikit-learn's sums are approximate (rtol): agree within them
        dens = ours.kernel_density(Q, h, kernel=kernel)
        np.testing.assert_allclose(dens, ref.kernel_density(Q, h, kernel=kernel,
                                                            rtol=1e-10),
                                   rtol=1e-6, atol=1e-10)


def test_kernel_density_log_is_finite_far_from_the_data_and_validates():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 2)
    tree = KDTree(X)
    far = np.array([[1e3, 1e3]])
    assert tree.kernel_density(far, 0.5)[0] == 0.0
    log_dens = tree.kernel_density(far, 0.5, return_log=True)
    np.testing.assert_allclose(log_dens, _exact_kde(X, far, 0.5, "gaussian"), rtol=1e-12)
    with pytest.raises(ValueError, match="kernel = 'box' not recognized"):
        tree.kernel_density(X, 0.5, kernel="box")
    with pytest.raises(ValueError, match="h must be a positive number"):
        tree.kernel_density(X, 0.0)
    with pytest.raises(ValueError, match="dimension must match"):
        tree.kernel_density(rng.randn(3, 3), 0.5)


@pytest.mark.parametrize("metric", ["euclidean", "cityblock", "chebyshev"])
def test_two_point_correlation_as_sklearn(metric):
    rng = np.random.RandomState(5)
    # integer points: exact distances, many pairs exactly at the radii
    X = rng.randint(-3, 4, size=(150, 3)).astype(float)
    Q = rng.randint(-3, 4, size=(40, 3)).astype(float)
    r = np.array([0.0, 1.0, 2.0, 2.5, 3.0, 5.0])
    ours = KDTree(X, leaf_size=5, metric=metric).two_point_correlation(Q, r)
    ref = SkKDTree(X, leaf_size=5, metric=metric).two_point_correlation(Q, r)
    np.testing.assert_array_equal(ours, ref)
    brute = [(cdist(Q, X, metric) <= radius).sum() for radius in r]
    np.testing.assert_array_equal(ours, brute)
    # unsorted radii: counts[i] belongs to r[i] (scikit-learn returns them in the
    # order of the sorted radii)
    shuffled = r[[3, 0, 5, 1, 4, 2]]
    np.testing.assert_array_equal(
        KDTree(X, metric=metric).two_point_correlation(Q, shuffled),
        np.array(brute)[[3, 0, 5, 1, 4, 2]])
    assert KDTree(X).two_point_correlation(Q, 1.0).shape == (1,)
