from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import preprocessing as sk_preprocessing
from sklearn.pipeline import make_pipeline

from mlnotes.linear_model import LinearRegression
from mlnotes.preprocessing import PolynomialFeatures

PARAMS = [
    dict(degree=2), dict(degree=3), dict(degree=3, interaction_only=True),
    dict(degree=(2, 3)), dict(degree=(0, 2), include_bias=False),
    dict(degree=4, include_bias=False), dict(degree=1), dict(degree=0),
    dict(degree=(3, 3), interaction_only=True), dict(degree=2, order="F"),
]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("n_features", [1, 4])
def test_parity_with_sklearn(params, n_features):
    X = np.random.default_rng(0).normal(size=(9, n_features))
    ours = PolynomialFeatures(**params).fit(X)
    ref = sk_preprocessing.PolynomialFeatures(**params).fit(X)
    assert ours.n_output_features_ == ref.n_output_features_
    np.testing.assert_array_equal(ours.powers_, ref.powers_)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-12)
    assert list(ours.get_feature_names_out(["a", "b", "c", "d"][:n_features])) == list(
        ref.get_feature_names_out(["a", "b", "c", "d"][:n_features])
    )


@pytest.mark.parametrize("params", PARAMS + [dict(degree=3, order="F", interaction_only=True)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_output_bit_identical_to_sklearn(params, dtype):
    """The row-wise kernel (C order) and the column-wise products (F order) make
    the same products as scikit-learn in the same order: the same bits, in the
    requested memory order, for F- and C-ordered input."""
    X = np.random.default_rng(1).normal(size=(57, 5)).astype(dtype)
    ref = sk_preprocessing.PolynomialFeatures(**params).fit(X).transform(X)
    for X_in in (X, np.asfortranarray(X)):
        out = PolynomialFeatures(**params).fit(X_in).transform(X_in)
        assert out.dtype == ref.dtype
        np.testing.assert_array_equal(out, ref)
        order = params.get("order", "C")
        assert out.flags["C_CONTIGUOUS" if order == "C" else "F_CONTIGUOUS"]


def test_output_is_the_monomials_of_powers():
    """Known answer: column i equals prod_j x_j ** powers_[i, j]."""
    X = np.random.default_rng(1).uniform(0.5, 2, size=(6, 3))
    pf = PolynomialFeatures(degree=3).fit(X)
    expected = np.prod(X[:, None, :] ** pf.powers_[None, :, :], axis=2)
    np.testing.assert_allclose(pf.transform(X), expected, rtol=1e-12)


@pytest.mark.parametrize("p, d", [(3, 2), (5, 3), (2, 5)])
def test_number_of_features_closed_form(p, d):
    X = np.ones((2, p))
    assert PolynomialFeatures(d).fit(X).n_output_features_ == comb(p + d, d)
    n_inter = sum(comb(p, k) for k in range(d + 1))
    assert PolynomialFeatures(d, interaction_only=True).fit(X).n_output_features_ == n_inter


def test_polynomial_regression_recovers_a_polynomial():
    x = np.linspace(-2, 2, 50)[:, None]
    y = 1 - 2 * x[:, 0] + 0.5 * x[:, 0] ** 3
    model = make_pipeline(PolynomialFeatures(3), LinearRegression()).fit(x, y)
    np.testing.assert_allclose(model[-1].coef_[1:], [-2, 0, 0.5], atol=1e-10)
    np.testing.assert_allclose(model.predict(x), y, atol=1e-10)


@pytest.mark.parametrize(
    "params, match",
    [(dict(degree=-1), "degree"), (dict(degree=(3, 2)), "degree"),
     (dict(degree=0, include_bias=False), "empty"), (dict(order="K"), "order")],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        PolynomialFeatures(**params).fit(np.ones((3, 2)))


def test_feature_count_mismatch():
    pf = PolynomialFeatures().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="features"):
        pf.transform(np.ones((3, 3)))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), degree=st.integers(1, 4), p=st.integers(1, 4),
       interaction_only=st.booleans())
def test_row_order_and_feature_permutation(seed, degree, p, interaction_only):
    """Rows map independently; permuting inputs permutes the set of output columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(5, p))
    pf = PolynomialFeatures(degree, interaction_only=interaction_only)
    out = pf.fit_transform(X)
    perm = rng.permutation(5)
    np.testing.assert_allclose(pf.transform(X[perm]), out[perm])
    cols = rng.permutation(p)
    out_cols = PolynomialFeatures(degree, interaction_only=interaction_only).fit_transform(
        X[:, cols]
    )
    np.testing.assert_allclose(np.sort(out_cols, axis=1), np.sort(out, axis=1), rtol=1e-12)


@pytest.mark.parametrize("params", [
    dict(degree=(-1, 2)), dict(degree=(0, 1.5)), dict(degree=(3, 2)), dict(degree=(1, 2, 3)),
    dict(degree=0, include_bias=False), dict(degree=(0, 0), include_bias=False),
])
def test_degree_errors_as_sklearn(params):
    from sklearn.preprocessing import PolynomialFeatures as SkPolynomialFeatures

    X = np.ones((4, 2))
    messages = []
    for cls in (PolynomialFeatures, SkPolynomialFeatures):
        with pytest.raises(ValueError) as info:
            cls(**params).fit_transform(X)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("interaction_only", [True, False])
@pytest.mark.parametrize("include_bias", [True, False])
def test_combinations_are_the_output_columns(interaction_only, include_bias):
    from sklearn.preprocessing import PolynomialFeatures as SkPolynomialFeatures

    args = dict(n_features=4, min_degree=2, max_degree=3, interaction_only=interaction_only,
                include_bias=include_bias)
    assert list(PolynomialFeatures._combinations(**args)) == \
        list(SkPolynomialFeatures._combinations(**args))
    est = PolynomialFeatures((2, 3), interaction_only=interaction_only,
                             include_bias=include_bias).fit(np.ones((2, 4)))
    assert len(list(PolynomialFeatures._combinations(**args))) == est.n_output_features_


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_overflowing_monomials_raise_value_error(fmt):
    # issue 21 (bad-input audit): 1e300 data expanded to inf silently
    from scipy import sparse as sp

    X = np.random.default_rng(0).normal(size=(20, 3))
    wrap = (lambda A: A) if fmt == "dense" else sp.csr_matrix
    with pytest.raises(ValueError, match="overflow float64"):
        PolynomialFeatures(3).fit_transform(wrap(X * 1e150))
    out = PolynomialFeatures(3).fit_transform(wrap(X * 1e100))  # up to ~1e300: fine
    out = out.toarray() if sp.issparse(out) else out
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, PolynomialFeatures(3).fit_transform(X)
                               * (1e100 ** PolynomialFeatures(3).fit(X).powers_.sum(1)),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="overflow float32"):
        PolynomialFeatures(2).fit_transform(wrap((X * 1e20).astype(np.float32)))
