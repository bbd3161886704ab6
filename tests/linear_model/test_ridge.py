import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import linear_model as sk_linear_model
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from mlnotes.linear_model import LinearRegression, Ridge


def _data(n=200, p=10, n_targets=None, offset=3.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 5, size=p) + offset
    shape = (p,) if n_targets is None else (p, n_targets)
    y = X @ rng.normal(size=shape) + rng.normal(size=(n,) + shape[1:]) + 7
    return X, y, rng.uniform(0.1, 3.0, size=n)


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300)


@pytest.mark.parametrize("solver", ["auto", "cholesky", "svd", "lsqr", "sparse_cg"])
@pytest.mark.parametrize("shape", [(300, 20), (40, 120)])
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_parity_with_sklearn(solver, shape, n_targets, fit_intercept, weighted):
    X, y, sw = _data(*shape, n_targets=n_targets)
    sw = sw if weighted else None
    alpha = [0.5, 2.0, 10.0] if n_targets else 1.5
    params = dict(alpha=alpha, solver=solver, fit_intercept=fit_intercept, tol=1e-12)
    ours = Ridge(**params).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.Ridge(**params).fit(X, y, sample_weight=sw)
    tol = 1e-8 if solver in ("auto", "cholesky", "svd") else 1e-6
    assert ours.coef_.shape == ref.coef_.shape
    assert _rel(ours.coef_, ref.coef_) < tol
    if fit_intercept:
        assert _rel(ours.intercept_, ref.intercept_) < tol


def test_closed_form():
    """w = (Xc^T Xc + alpha I)^-1 Xc^T yc, computed here directly."""
    X, y, _ = _data(n=50, p=4, seed=1)
    alpha = 3.0
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(4), Xc.T @ yc)
    reg = Ridge(alpha=alpha).fit(X, y)
    np.testing.assert_allclose(reg.coef_, w, rtol=1e-10)
    np.testing.assert_allclose(reg.intercept_, y.mean() - X.mean(0) @ w, rtol=1e-10)


def test_primal_and_dual_agree_with_svd():
    X, y, _ = _data(n=60, p=55, seed=2)
    for rows in (slice(None), slice(0, 40)):  # n > p: primal system; p > n: dual system
        chol = Ridge(alpha=2.0, solver="cholesky").fit(X[rows], y[rows])
        svd = Ridge(alpha=2.0, solver="svd").fit(X[rows], y[rows])
        assert chol.solver_ == "cholesky"
        np.testing.assert_allclose(chol.coef_, svd.coef_, rtol=1e-9)


def test_alpha_zero_is_least_squares():
    X, y, _ = _data()
    np.testing.assert_allclose(Ridge(alpha=0.0).fit(X, y).coef_,
                               LinearRegression().fit(X, y).coef_, rtol=1e-8)


def test_alpha_zero_singular_falls_back_to_svd():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 2))
    X = np.hstack([A, A])
    y = A @ np.array([1.0, 2.0])
    reg = Ridge(alpha=0.0, fit_intercept=False).fit(X, y)
    assert np.all(np.isfinite(reg.coef_))
    np.testing.assert_allclose(X @ reg.coef_, y, atol=1e-8)


def test_shrinkage_monotone_in_alpha():
    X, y, _ = _data()
    norms = [np.linalg.norm(Ridge(alpha=a).fit(X, y).coef_) for a in (0.1, 10, 1e3, 1e5)]
    assert all(a > b for a, b in zip(norms, norms[1:]))


def test_per_target_alpha_equals_separate_fits():
    X, Y, _ = _data(n_targets=2)
    joint = Ridge(alpha=[1.0, 50.0]).fit(X, Y)
    for j, a in enumerate([1.0, 50.0]):
        np.testing.assert_allclose(joint.coef_[j], Ridge(alpha=a).fit(X, Y[:, j]).coef_,
                                   rtol=1e-10)


def test_positive():
    X, y, _ = _data()
    reg = Ridge(positive=True).fit(X, y)
    ref = sk_linear_model.Ridge(positive=True).fit(X, y)
    assert reg.solver_ == "lbfgs" and np.all(reg.coef_ >= 0)
    np.testing.assert_allclose(reg.predict(X), ref.predict(X), rtol=1e-5)


def test_iterative_solvers_report_n_iter():
    X, y, _ = _data()
    # as scikit-learn: only sag, saga and lsqr report n_iter_
    for solver in ("cholesky", "sparse_cg"):
        assert Ridge(solver=solver).fit(X, y).n_iter_ is None
        assert sk_linear_model.Ridge(solver=solver).fit(X, y).n_iter_ is None
    for solver in ("lsqr", "sag"):
        n_iter = Ridge(solver=solver, max_iter=2).fit(X, y).n_iter_
        assert n_iter.shape == (1,) and n_iter[0] > 0


def test_sparse_cg_convergence_warning():
    X, y, _ = _data()
    with pytest.warns(ConvergenceWarning):
        Ridge(solver="sparse_cg", max_iter=1, tol=1e-14).fit(X, y)


def test_sample_weight_equals_repetition():
    X, y, _ = _data(n=40, p=3)
    w = np.random.default_rng(0).integers(0, 4, size=40)
    weighted = Ridge(alpha=2.0).fit(X, y, sample_weight=w)
    repeated = Ridge(alpha=2.0).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)


def test_float32_preserved():
    X, y, _ = _data()
    reg = Ridge().fit(X.astype(np.float32), y.astype(np.float32))
    assert reg.coef_.dtype == np.float32


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(alpha=-1.0), "alpha"),
        (dict(alpha=[1.0, -1.0]), "alpha"),
        (dict(solver="bogus"), "solver"),
        (dict(solver="svd", positive=True), "positive"),
        (dict(tol=-1.0), "tol"),
    ],
)
def test_bad_params(params, match):
    X, y, _ = _data(n_targets=2)
    with pytest.raises(ValueError, match=match):
        Ridge(**params).fit(X, y)


def test_alpha_count_mismatch():
    X, Y, _ = _data(n_targets=3)
    with pytest.raises(ValueError, match="number of penalties"):
        Ridge(alpha=[1.0, 2.0]).fit(X, Y)


def test_wrong_feature_count_at_predict():
    X, y, _ = _data()
    reg = Ridge().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :3])


def test_grid_search_picks_sensible_alpha():
    X, y, _ = _data(n=60, p=40, seed=5)
    search = GridSearchCV(Ridge(), {"alpha": [1e-3, 1.0, 1e6]}, cv=3).fit(X, y)
    assert search.best_params_["alpha"] != 1e6


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), alpha=st.floats(1e-3, 1e3), n=st.integers(5, 50))
def test_row_order_invariance(seed, alpha, n):
    X, y, sw = _data(n=n, p=6, seed=seed)
    perm = np.random.default_rng(seed).permutation(n)
    a = Ridge(alpha=alpha).fit(X, y, sample_weight=sw)
    b = Ridge(alpha=alpha).fit(X[perm], y[perm], sample_weight=sw[perm])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-10)


def test_gram_is_accumulated_across_blocks(monkeypatch):
    """Blocks of rows give the same answer as one block (the data span several)."""
    from mlnotes.linear_model import _ridge

    X, y, sw = _data(n=1000, p=5)
    one = Ridge().fit(X, y, sample_weight=sw)
    monkeypatch.setattr(_ridge, "_GRAM_BLOCK", 64)
    many = Ridge().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(many.coef_, one.coef_, rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Ridge().fit(X, y)
