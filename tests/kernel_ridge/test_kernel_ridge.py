import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import kernel_ridge as sk_kernel_ridge
from sklearn.linear_model import Ridge as SkRidge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV

from mlnotes.kernel_ridge import KernelRidge


def _data(n=80, p=4, n_targets=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    shape = (n,) if n_targets is None else (n, n_targets)
    y = np.sin(X[:, :1] * 2).reshape(n, -1) @ np.ones((1, 1 if n_targets is None
                                                       else n_targets))
    y = y.reshape(shape) + 0.1 * rng.normal(size=shape)
    return X, y, rng.uniform(0.1, 3.0, size=n)


def _cosine_row_kernel(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("params", [
    dict(), dict(kernel="rbf"), dict(kernel="rbf", gamma=0.5, alpha=0.01),
    dict(kernel="poly", degree=2, coef0=1.0), dict(kernel="laplacian", gamma=0.3),
    dict(kernel="sigmoid", gamma=0.05), dict(kernel="cosine", alpha=0.1),
    dict(kernel=_cosine_row_kernel, alpha=0.1),
])
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_parity_with_sklearn(params, n_targets, weighted):
    X, y, sw = _data(n_targets=n_targets)
    sw = sw if weighted else None
    X_new = _data(seed=1)[0][:20]
    ours = KernelRidge(**params).fit(X, y, sample_weight=sw)
    ref = sk_kernel_ridge.KernelRidge(**params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.predict(X_new), ref.predict(X_new), rtol=1e-7,
                               atol=1e-9)


def test_one_penalty_per_target():
    X, y, _ = _data(n_targets=3)
    alpha = [0.01, 1.0, 100.0]
    ours = KernelRidge(alpha=alpha, kernel="rbf").fit(X, y)
    ref = sk_kernel_ridge.KernelRidge(alpha=alpha, kernel="rbf").fit(X, y)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-8)
    for j, a in enumerate(alpha):
        single = KernelRidge(alpha=a, kernel="rbf").fit(X, y[:, j])
        np.testing.assert_allclose(ours.dual_coef_[:, j], single.dual_coef_, rtol=1e-10)


def test_closed_form_dual_solution():
    """a = (K + alpha I)^-1 y, computed here with numpy."""
    X, y, sw = _data(n=50)
    K = rbf_kernel(X, gamma=0.7)
    krr = KernelRidge(alpha=0.3, kernel="rbf", gamma=0.7).fit(X, y)
    np.testing.assert_allclose(krr.dual_coef_, np.linalg.solve(K + 0.3 * np.eye(50), y),
                               rtol=1e-9, atol=1e-12)
    # weighted: minimiser of sum_i s_i (y_i - f(x_i))^2 + alpha a^T K a
    krr_w = KernelRidge(alpha=0.3, kernel="rbf", gamma=0.7).fit(X, y, sample_weight=sw)
    S = np.diag(sw)
    a = np.linalg.solve(S @ K + 0.3 * np.eye(50), S @ y)
    np.testing.assert_allclose(krr_w.dual_coef_, a, rtol=1e-8, atol=1e-12)


def test_linear_kernel_is_ridge_without_intercept():
    X, y, _ = _data(n=60, p=5)
    krr = KernelRidge(alpha=2.0).fit(X, y)
    ridge = SkRidge(alpha=2.0, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(krr.predict(X), ridge.predict(X), rtol=1e-9)
    np.testing.assert_allclose(X.T @ krr.dual_coef_, ridge.coef_, rtol=1e-9)


def test_integer_weights_are_repetitions():
    X, y, _ = _data(n=30)
    w = np.arange(30) % 3 + 1
    weighted = KernelRidge(alpha=0.5, kernel="rbf").fit(X, y, sample_weight=w)
    repeated = KernelRidge(alpha=0.5, kernel="rbf").fit(np.repeat(X, w, axis=0),
                                                        np.repeat(y, w))
    X_new = _data(seed=4)[0][:10]
    np.testing.assert_allclose(weighted.predict(X_new), repeated.predict(X_new),
                               rtol=1e-8)


def test_precomputed_kernel_is_not_modified():
    X, y, _ = _data()
    K = rbf_kernel(X)
    K_orig = K.copy()
    krr = KernelRidge(kernel="precomputed", alpha=0.1).fit(K, y)
    np.testing.assert_array_equal(K, K_orig)
    np.testing.assert_allclose(krr.predict(K[:5]),
                               KernelRidge(kernel="rbf", alpha=0.1).fit(X, y).predict(X[:5]),
                               rtol=1e-10)


def test_sparse_input():
    X, y, _ = _data()
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    ours = KernelRidge(kernel="rbf").fit(Xs, y)
    ref = sk_kernel_ridge.KernelRidge(kernel="rbf").fit(Xs.toarray(), y)
    np.testing.assert_allclose(ours.predict(Xs), ref.predict(Xs.toarray()), rtol=1e-9)


def test_singular_system_falls_back_to_least_squares():
    X = np.vstack([np.eye(3), np.eye(3)])
    y = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="Singular matrix"):
        krr = KernelRidge(alpha=0.0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sk_kernel_ridge.KernelRidge(alpha=0.0).fit(X, y)
    np.testing.assert_allclose(krr.predict(X), ref.predict(X), atol=1e-10)
    np.testing.assert_allclose(krr.predict(X), y, atol=1e-10)


def test_grid_search():
    X, y, _ = _data(n=120)
    grid = GridSearchCV(KernelRidge(kernel="rbf"), {"alpha": [1e-3, 1.0],
                                                    "gamma": [0.1, 1.0]}, cv=3).fit(X, y)
    assert grid.best_score_ > 0.6


@pytest.mark.parametrize("params, fit_kwargs, match", [
    (dict(alpha=[1.0, 2.0]), {}, "Number of targets and number of penalties"),
    (dict(alpha=-1.0), {}, "alpha"),
    (dict(kernel="gaussian"), {}, "kernel"),
    (dict(), dict(sample_weight=-np.ones(80)), "(?i)negative"),
])
def test_bad_parameters(params, fit_kwargs, match):
    X, y, _ = _data()
    with pytest.raises(ValueError, match=match):
        KernelRidge(**params).fit(X, y, **fit_kwargs)


def test_bad_precomputed_shapes():
    X, y, _ = _data()
    with pytest.raises(ValueError, match="square Gram matrix"):
        KernelRidge(kernel="precomputed").fit(X, y)
    krr = KernelRidge(kernel="precomputed").fit(rbf_kernel(X), y)
    with pytest.raises(ValueError, match="features"):
        krr.predict(np.ones((3, 5)))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), alpha=st.floats(1e-3, 10.0))
def test_row_permutation_invariance(seed, alpha):
    X, y, _ = _data(n=30, seed=seed)
    perm = np.random.default_rng(seed).permutation(30)
    a = KernelRidge(alpha=alpha, kernel="rbf").fit(X, y)
    b = KernelRidge(alpha=alpha, kernel="rbf").fit(X[perm], y[perm])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("kernel", ["linear", "poly"])
def test_overflowing_kernel_raises_a_clear_error(kernel):
    """Issue 21: values near 1e300 overflow the Gram matrix; fit raises a ValueError naming
    it (was: NaN dual coefficients and predictions with only an overflow warning)."""
    X, y, _ = _data(n=20)
    with pytest.raises(ValueError, match="kernel matrix.*infinite|kernel matrix.*NaN"):
        KernelRidge(kernel=kernel).fit(X * 1e300, y)


def test_prediction_overflow_raises_a_clear_error():
    X, y, _ = _data(n=20)
    model = KernelRidge(kernel="poly").fit(X, y)
    with pytest.raises(ValueError, match="kernel between X"):
        model.predict(X * 1e300)
