import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import random_projection as sk_rp
from sklearn.exceptions import DataDimensionalityWarning
from sklearn.metrics.pairwise import euclidean_distances

from mlnotes.random_projection import (
    GaussianRandomProjection,
    SparseRandomProjection,
    johnson_lindenstrauss_min_dim,
)
from mlnotes.random_projection._random_projection import _sparse_project


def _dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def _X(n=30, p=2000, seed=0):
    return np.random.default_rng(seed).normal(size=(n, p))


@pytest.mark.parametrize("n_samples, eps", [(1e6, 0.5), (1e6, [0.5, 0.1, 0.01]),
                                            ([1e4, 1e5, 1e6], 0.1), (100, 0.3), (2, 0.99)])
def test_jl_min_dim_closed_form_and_sklearn(n_samples, eps):
    e = np.asarray(eps)
    expected = (4 * np.log(np.asarray(n_samples)) / (e**2 / 2 - e**3 / 3)).astype(np.int64)
    ours = johnson_lindenstrauss_min_dim(n_samples, eps=eps)
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(ours, sk_rp.johnson_lindenstrauss_min_dim(n_samples,
                                                                            eps=eps))


@pytest.mark.parametrize("kwargs", [dict(eps=0.0), dict(eps=1.0), dict(eps=[0.5, 1.2])])
def test_jl_min_dim_rejects_bad_eps(kwargs):
    with pytest.raises(ValueError, match="eps"):
        johnson_lindenstrauss_min_dim(100, **kwargs)


def test_jl_min_dim_rejects_bad_n_samples():
    with pytest.raises(ValueError, match="n_samples"):
        johnson_lindenstrauss_min_dim(0, eps=0.5)


@pytest.mark.parametrize("params", [dict(), dict(n_components=100),
                                    dict(n_components=50, density=0.3),
                                    dict(n_components=40, density=1.0),
                                    dict(n_components=60, density=0.001),
                                    dict(n_components=30, compute_inverse_components=True)])
@pytest.mark.parametrize("seed", [0, 7])
def test_sparse_projection_is_sklearns(params, seed):
    X = _X(25, 3000)
    ours = SparseRandomProjection(random_state=seed, **params).fit(X)
    ref = sk_rp.SparseRandomProjection(random_state=seed, **params).fit(X)
    np.testing.assert_array_equal(_dense(ours.components_), _dense(ref.components_))
    assert ours.n_components_ == ref.n_components_ and ours.density_ == ref.density_
    X_new = _X(11, 3000, seed=1)  # an odd number of rows: the kernel's tail loop
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-12,
                               atol=1e-12)
    if ours.n_components_ <= 200:  # the pseudo-inverse of a 2759 x 3000 matrix is slow
        Z = ref.transform(X_new)
        np.testing.assert_allclose(ours.inverse_transform(Z), ref.inverse_transform(Z),
                                   rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("params", [dict(), dict(n_components=100),
                                    dict(n_components=30, compute_inverse_components=True)])
def test_gaussian_projection_is_sklearns(params):
    X = _X(25, 3000)
    ours = GaussianRandomProjection(random_state=3, **params).fit(X)
    ref = sk_rp.GaussianRandomProjection(random_state=3, **params).fit(X)
    np.testing.assert_array_equal(ours.components_, ref.components_)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-12)
    if params.get("compute_inverse_components"):
        np.testing.assert_allclose(ours.inverse_components_, ref.inverse_components_,
                                   rtol=1e-9)


def test_sparse_kernel_matches_scipy_product():
    rng = np.random.default_rng(0)
    C = sp.random(17, 300, density=0.05, format="csr", random_state=1)
    for n in (1, 3, 8, 13, 21):
        for dtype in (np.float64, np.float32):
            X = rng.normal(size=(n, 300)).astype(dtype)
            out = _sparse_project(X, C.indptr, C.indices, C.data.astype(dtype),
                                  np.empty((n, 17), dtype=dtype))
            np.testing.assert_allclose(out, X @ C.toarray().T, rtol=1e-4, atol=1e-5)


def test_jl_lemma_holds_with_high_probability():
    """With k = JL(n, eps), all pairwise squared distances stay within 1 +- eps in
    at least 1 - 1/n of the draws (the lemma's guarantee), for both matrices."""
    n, eps = 40, 0.4
    k = int(johnson_lindenstrauss_min_dim(n, eps=eps))
    X = _X(n, 3000, seed=5)
    D = euclidean_distances(X, squared=True)[np.triu_indices(n, 1)]
    for cls in (GaussianRandomProjection, SparseRandomProjection):
        failures = 0
        worst = 0.0
        for seed in range(20):
            Z = cls(n_components=k, random_state=seed).fit_transform(X)
            ratio = euclidean_distances(Z, squared=True)[np.triu_indices(n, 1)] / D
            worst = max(worst, np.max(np.abs(ratio - 1)))
            failures += np.any(np.abs(ratio - 1) > eps)
        # P(failure) <= 1/n per draw: 20 draws at 1/40 fail 0.5 times on average;
        # 4 or more failures has probability < 2e-3 under the bound.
        assert failures <= 3, (cls.__name__, failures, worst)


def test_sparse_matrix_distribution():
    """Entries are +-sqrt(s/k) w.p. 1/(2s) each and 0 otherwise, s = 1/density."""
    k, p, density = 200, 2500, 0.02
    C = SparseRandomProjection(n_components=k, density=density, random_state=0).fit(
        np.zeros((5, p))).components_
    values = C.data
    v = np.sqrt(1 / density) / np.sqrt(k)
    np.testing.assert_allclose(np.abs(values), v)
    nnz = values.size
    # number of non-zeros ~ Binomial(k p, density): a 5-sigma band
    mean, sd = k * p * density, np.sqrt(k * p * density * (1 - density))
    assert abs(nnz - mean) < 5 * sd
    # signs: Binomial(nnz, 1/2)
    assert stats.binomtest(int(np.sum(values > 0)), nnz, 0.5).pvalue > 1e-3
    # columns are uniform: chi-square test of the column counts (in 25 bins)
    counts = np.bincount(C.indices * 25 // p, minlength=25)
    assert stats.chisquare(counts).pvalue > 1e-3
    # E[R^T R] = I: column norms average 1
    assert abs(np.mean(np.asarray(C.multiply(C).sum(axis=0))) - 1) < 0.05


def test_gaussian_matrix_distribution():
    k = 100
    C = GaussianRandomProjection(n_components=k, random_state=0).fit(
        np.zeros((5, 1000))).components_
    assert stats.kstest(C.ravel() * np.sqrt(k), "norm").pvalue > 1e-3


def test_sparse_input_and_dense_output():
    X = sp.random(20, 500, density=0.05, format="csr", random_state=0)
    rp = SparseRandomProjection(n_components=10, random_state=0).fit(X)
    out = rp.transform(X)
    assert sp.issparse(out)
    dense = SparseRandomProjection(n_components=10, random_state=0,
                                   dense_output=True).fit(X).transform(X)
    assert isinstance(dense, np.ndarray)
    np.testing.assert_allclose(out.toarray(), dense)
    np.testing.assert_allclose(dense, rp.transform(X.toarray()), atol=1e-12)
    g = GaussianRandomProjection(n_components=10, random_state=0).fit(X)
    np.testing.assert_allclose(g.transform(X), g.transform(X.toarray()), atol=1e-12)


def test_float32_is_preserved():
    X = _X(10, 400).astype(np.float32)
    for cls in (GaussianRandomProjection, SparseRandomProjection):
        rp = cls(n_components=20, random_state=0).fit(X)
        assert rp.transform(X).dtype == np.float32
        assert rp.components_.dtype == np.float32


def test_inverse_transform_is_least_norm_preimage():
    X = _X(5, 60)
    rp = GaussianRandomProjection(n_components=80, random_state=0)
    with pytest.warns(DataDimensionalityWarning):
        rp.fit(X)
    # more components than features: the projection is injective and inverts exactly
    np.testing.assert_allclose(rp.inverse_transform(rp.transform(X)), X, atol=1e-10)


def test_more_components_than_features_warns_as_sklearn():
    X = _X(10, 20)
    with pytest.warns(DataDimensionalityWarning,
                      match="The number of components is higher than the number of"):
        SparseRandomProjection(n_components=30).fit(X)


def test_auto_dimension_larger_than_the_data_is_an_error():
    with pytest.raises(ValueError, match="which is larger than the original space"):
        GaussianRandomProjection().fit(_X(30, 100))


def test_bad_parameters():
    X = _X(10, 50)
    with pytest.raises(ValueError, match="density"):
        SparseRandomProjection(n_components=5, density=0.0).fit(X)
    with pytest.raises(ValueError, match="n_components"):
        GaussianRandomProjection(n_components=0).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        GaussianRandomProjection(n_components=5).fit(np.where(X > 2, np.nan, X))
    rp = SparseRandomProjection(n_components=5).fit(X)
    with pytest.raises(ValueError, match="features"):
        rp.transform(X[:, :10])


def test_global_random_state_is_untouched():
    state = np.random.get_state()[1].copy()
    SparseRandomProjection(n_components=5).fit(_X(10, 50))
    GaussianRandomProjection(n_components=5).fit(_X(10, 50))
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 40), n=st.integers(1, 12))
def test_projection_is_linear(seed, k, n):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, 200)), rng.normal(size=(n, 200))
    a, b = rng.normal(size=2)
    for cls in (GaussianRandomProjection, SparseRandomProjection):
        rp = cls(n_components=k, random_state=seed).fit(X)
        np.testing.assert_allclose(rp.transform(a * X + b * Y),
                                   a * rp.transform(X) + b * rp.transform(Y), atol=1e-9)
