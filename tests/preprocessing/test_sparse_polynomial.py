"""Sparse (CSR/CSC) input for PolynomialFeatures: the output equals scikit-learn's
on the same sparse input (values, stored pattern, format and container) and our
own dense output on ``X.toarray()``; X is never densified."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import preprocessing as sk_preprocessing

from mlnotes.preprocessing import PolynomialFeatures

DEGREES = [1, 2, 3, 4, (2, 3), (0, 2), (3, 4)]


def _sparse_X(n=60, p=7, density=0.3, seed=0, fmt="csr", container=sp.csr_matrix):
    rng = np.random.default_rng(seed)
    X = sp.random_array((n, p), density=density, format="csr", rng=rng,
                        data_sampler=lambda size: rng.normal(0.0, 2.0, size))
    X = sp.csr_array((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                     shape=X.shape)
    keep = np.ones(n)
    keep[min(3, n - 1)] = 0.0  # an empty row
    X = (sp.diags_array(keep) @ X).tocsr()
    X.eliminate_zeros()
    # canonical rows: scikit-learn's CSR expansion assumes sorted indices (ours
    # sorts a copy, see test_unsorted_indices_and_duplicates)
    X.sum_duplicates()
    return container(X).asformat(fmt)


def _assert_same_sparse(ours, ref):
    assert type(ours) is type(ref)
    assert ours.format == ref.format
    assert ours.shape == ref.shape
    assert ours.dtype == ref.dtype
    o, r = ours.tocsr(), ref.tocsr()
    o.sort_indices()
    r.sort_indices()
    np.testing.assert_array_equal(o.indptr, r.indptr)
    np.testing.assert_array_equal(o.indices, r.indices)
    np.testing.assert_allclose(o.data, r.data, rtol=1e-12)


@pytest.fixture
def no_densify(monkeypatch):
    def boom(self, *a, **k):
        raise AssertionError("sparse X was densified")
    for cls in (sp.csr_array, sp.csc_array, sp.csr_matrix, sp.csc_matrix):
        monkeypatch.setattr(cls, "toarray", boom)
        monkeypatch.setattr(cls, "todense", boom)


@pytest.mark.parametrize("degree", DEGREES)
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [True, False])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_matches_sklearn(degree, interaction_only, include_bias, fmt):
    X = _sparse_X(seed=DEGREES.index(degree) + 10 * interaction_only, fmt=fmt)
    kw = dict(degree=degree, interaction_only=interaction_only,
              include_bias=include_bias)
    ref = sk_preprocessing.PolynomialFeatures(**kw).fit(X)
    ours = PolynomialFeatures(**kw).fit(X)
    XP_ref = ref.transform(X)
    XP = ours.transform(X)
    _assert_same_sparse(XP, XP_ref)
    assert ours.n_output_features_ == ref.n_output_features_
    np.testing.assert_array_equal(ours.get_feature_names_out(),
                                  ref.get_feature_names_out())
    np.testing.assert_array_equal(ours.powers_, ref.powers_)
    # equal to our dense output on X.toarray()
    np.testing.assert_allclose(XP.toarray(),
                               PolynomialFeatures(**kw).fit_transform(X.toarray()),
                               rtol=1e-12)


def test_never_densified_and_canonical(no_densify):
    X = _sparse_X(n=200, p=30, density=0.1, seed=3)
    XP = PolynomialFeatures(3).fit_transform(X)
    assert XP.format == "csr" and XP.has_sorted_indices
    ref = sk_preprocessing.PolynomialFeatures(3).fit_transform(X)
    _assert_same_sparse(XP, ref)
    XP = PolynomialFeatures(4, interaction_only=True).fit_transform(X.tocsc())
    assert XP.format == "csc"


@pytest.mark.parametrize("container", [sp.csr_array, sp.csr_matrix, sp.coo_array,
                                       sp.csc_array, sp.lil_matrix])
def test_containers_and_formats(container):
    X = _sparse_X(seed=4, container=container, fmt=container((1, 1)).format)
    ref = sk_preprocessing.PolynomialFeatures(2).fit_transform(X)
    _assert_same_sparse(PolynomialFeatures(2).fit_transform(X), ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept(dtype):
    X = _sparse_X(seed=5).astype(dtype)
    ours = PolynomialFeatures(3).fit_transform(X)
    ref = sk_preprocessing.PolynomialFeatures(3).fit_transform(X)
    assert ours.dtype == ref.dtype == dtype
    o, r = ours.tocsr(), ref.tocsr()
    np.testing.assert_array_equal(o.indices, r.indices)
    np.testing.assert_allclose(o.data, r.data, rtol=1e-6)


def test_unsorted_indices_and_duplicates():
    X = _sparse_X(n=20, p=5, seed=6).tocsr()
    dense = X.toarray()
    # reverse each row's stored order, and split one entry into two duplicates
    rows = []
    for i in range(X.shape[0]):
        s, e = X.indptr[i], X.indptr[i + 1]
        rows.append((X.indices[s:e][::-1], X.data[s:e][::-1]))
    indices = np.concatenate([r[0] for r in rows] + [[0]])
    data = np.concatenate([r[1] for r in rows] + [[1.5]])
    indptr = np.r_[X.indptr[:-1], X.indptr[-1] + 1]
    Xu = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    dense[-1, 0] += 1.5
    ours = PolynomialFeatures(3).fit_transform(Xu)
    np.testing.assert_allclose(ours.toarray(), PolynomialFeatures(3).fit_transform(dense),
                               rtol=1e-12)


def test_known_answer():
    X = sp.csr_matrix(np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]]))
    XP = PolynomialFeatures(2).fit_transform(X).toarray()
    x = np.array([[0, 2, 3], [1, 0, 0]], dtype=float)
    expect = np.column_stack(
        [np.ones(2)] + [x[:, j] for j in range(3)]
        + [x[:, i] * x[:, j] for i in range(3) for j in range(i, 3)])
    np.testing.assert_array_equal(XP, expect)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 15), p=st.integers(1, 8),
       degree=st.integers(1, 4), interaction_only=st.booleans(),
       include_bias=st.booleans(), density=st.floats(0.0, 1.0))
def test_property_equals_dense(seed, n, p, degree, interaction_only, include_bias,
                               density):
    X = _sparse_X(n=n + 4, p=p, density=density, seed=seed)
    kw = dict(degree=degree, interaction_only=interaction_only,
              include_bias=include_bias)
    XP = PolynomialFeatures(**kw).fit_transform(X)
    np.testing.assert_allclose(XP.toarray(),
                               PolynomialFeatures(**kw).fit_transform(X.toarray()),
                               rtol=1e-12)


# ----------------------------------------------------------------- issue 21: huge outputs


@pytest.mark.parametrize("interaction_only", [True, False])
@pytest.mark.parametrize("include_bias", [True, False])
def test_expansion_too_large_to_index_raises_as_sklearn(interaction_only, include_bias):
    from sklearn.preprocessing import PolynomialFeatures as SkPolynomialFeatures

    n_features = np.iinfo(np.int64).max // 2
    X = sp.csr_matrix(([1.0], ([0], [n_features - 1])))
    params = dict(interaction_only=interaction_only, include_bias=include_bias,
                  degree=(2, 2))
    msg = (r"The output that would result from the current configuration would have "
           r"\d* features which is too large to be indexed")
    for cls in (PolynomialFeatures, SkPolynomialFeatures):
        with pytest.raises(ValueError, match=msg):
            cls(**params).fit(X)
        with pytest.raises(ValueError, match=msg):
            cls(**params).fit_transform(X)
    expected = SkPolynomialFeatures._num_combinations(
        n_features=n_features, min_degree=2, max_degree=2,
        interaction_only=interaction_only, include_bias=include_bias)
    assert PolynomialFeatures._num_combinations(
        n_features, 2, 2, interaction_only, include_bias) == expected


@pytest.mark.parametrize("degree, n_features", [
    (2, 65535), (3, 2344), (3, 65535),
    (2, int(np.sqrt(np.iinfo(np.int64).max))),       # indices near the int64 limit
    (2, int(np.sqrt(np.iinfo(np.int64).max) + 1)),
])
@pytest.mark.parametrize("interaction_only", [True, False])
def test_wide_sparse_expansion_as_sklearn(degree, n_features, interaction_only):
    from sklearn.preprocessing import PolynomialFeatures as SkPolynomialFeatures

    X = sp.csr_matrix(([1.5, 2.0], ([0, 0], [3, n_features - 1])),
                          shape=(2, n_features))
    params = dict(degree=degree, interaction_only=interaction_only)
    ours = PolynomialFeatures(**params).fit_transform(X)
    ref = SkPolynomialFeatures(**params).fit_transform(X)
    assert ours.shape == ref.shape
    assert ours.indices.dtype == ref.indices.dtype
    np.testing.assert_array_equal(ours.indptr, ref.indptr)
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_array_equal(ours.data, ref.data)


def test_closed_form_ranks_equal_the_table(monkeypatch):
    from mlnotes.preprocessing import _polynomial

    rng = np.random.RandomState(0)
    X = sp.random(20, 12, density=0.4, format="csr", random_state=rng)
    for params in (dict(degree=4), dict(degree=(2, 3), interaction_only=True)):
        table = PolynomialFeatures(**params).fit_transform(X)
        monkeypatch.setattr(_polynomial, "_TABLE_MAX", 0)
        closed = PolynomialFeatures(**params).fit_transform(X)
        monkeypatch.undo()
        np.testing.assert_array_equal(table.indices, closed.indices)
        np.testing.assert_allclose(table.data, closed.data, rtol=1e-15)
