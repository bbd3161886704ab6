import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import linear_model as sk_linear_model
from sklearn.exceptions import ConvergenceWarning

from mlnotes.linear_model import ElasticNet, Lasso, enet_path, lasso_path


def _data(n=120, p=12, n_targets=None, offset=3.0, seed=0):
    """Sparse ground truth (half the coefficients zero), features on different scales."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + offset
    shape = (p,) if n_targets is None else (p, n_targets)
    coef = rng.normal(size=shape) * (rng.uniform(size=shape) < 0.5)
    y = X @ coef + rng.normal(size=(n,) + shape[1:]) + 7
    return X, y, rng.uniform(0.1, 3.0, size=n)


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300)


def _centred(X, y, sw=None, fit_intercept=True):
    """Weighted-centred data scaled by sqrt(w / mean(w)): the problem the solver sees."""
    n = X.shape[0]
    sw = np.ones(n) if sw is None else sw * n / np.sum(sw)
    if fit_intercept:
        X = X - np.average(X, axis=0, weights=sw)
        y = y - np.average(y, axis=0, weights=sw)
    s = np.sqrt(sw)
    return X * s[:, None], y * (s[:, None] if y.ndim > 1 else s)


def _alpha_max(X, y, l1_ratio=1.0, fit_intercept=True):
    Xc, yc = _centred(X, y, fit_intercept=fit_intercept)
    return np.max(np.abs(Xc.T @ yc)) / (X.shape[0] * l1_ratio)


def _objective(w, Xc, yc, alpha, l1_ratio):
    n = Xc.shape[0]
    r = yc - Xc @ w
    return (r @ r / (2 * n) + alpha * l1_ratio * np.abs(w).sum()
            + 0.5 * alpha * (1 - l1_ratio) * w @ w)


ESTIMATORS = [
    ("Lasso", {}),
    ("ElasticNet", dict(l1_ratio=0.2)),
    ("ElasticNet", dict(l1_ratio=0.8)),
]
_OURS = {"Lasso": Lasso, "ElasticNet": ElasticNet}


@pytest.mark.parametrize("name, params", ESTIMATORS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(120, 12), (30, 60)])
def test_parity_with_sklearn(name, params, fit_intercept, positive, weighted, shape):
    X, y, sw = _data(*shape)
    sw = sw if weighted else None
    alpha = 0.1 * _alpha_max(X, y, params.get("l1_ratio", 1.0), fit_intercept)
    params = dict(params, alpha=alpha, fit_intercept=fit_intercept, positive=positive,
                  tol=1e-10, max_iter=100_000)
    ours = _OURS[name](**params).fit(X, y, sample_weight=sw)
    ref = getattr(sk_linear_model, name)(**params).fit(X, y, sample_weight=sw)
    assert ours.coef_.shape == ref.coef_.shape
    assert _rel(ours.coef_, ref.coef_) < 1e-4
    assert np.array_equal(ours.coef_ == 0, ref.coef_ == 0)  # same support
    if fit_intercept:
        assert _rel(ours.intercept_, ref.intercept_) < 1e-4
    else:
        assert ours.intercept_ == 0.0
    assert abs(ours.n_iter_ - ref.n_iter_) <= 1
    assert isinstance(ours.n_iter_, int)


@pytest.mark.parametrize("name, params", ESTIMATORS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multi_target_parity_and_independence(name, params, fit_intercept):
    X, Y, _ = _data(n_targets=3)
    params = dict(params, alpha=0.5, fit_intercept=fit_intercept, tol=1e-10)
    ours = _OURS[name](**params).fit(X, Y)
    ref = getattr(sk_linear_model, name)(**params).fit(X, Y)
    assert ours.coef_.shape == (3, X.shape[1]) and ours.dual_gap_.shape == (3,)
    assert _rel(ours.coef_, ref.coef_) < 1e-4
    assert _rel(ours.intercept_, ref.intercept_) < 1e-4
    assert isinstance(ours.n_iter_, list) and len(ours.n_iter_) == 3
    for k in range(3):  # each target is an independent fit
        single = _OURS[name](**params).fit(X, Y[:, k])
        np.testing.assert_allclose(ours.coef_[k], single.coef_, rtol=1e-12, atol=1e-14)
        assert ours.n_iter_[k] == single.n_iter_
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_column_target_shapes_match_sklearn(fit_intercept):
    X, y, _ = _data()
    Y = y[:, None]
    ours = Lasso(alpha=0.1, fit_intercept=fit_intercept).fit(X, Y)
    ref = sk_linear_model.Lasso(alpha=0.1, fit_intercept=fit_intercept).fit(X, Y)
    for attr in ("coef_", "intercept_", "dual_gap_"):
        assert np.shape(getattr(ours, attr)) == np.shape(getattr(ref, attr)), attr
    assert type(ours.n_iter_) is type(ref.n_iter_)
    assert ours.predict(X).shape == ref.predict(X).shape


def test_dual_gap_and_n_iter_match_sklearn_at_default_tol():
    X, y, _ = _data(n=300, p=30, seed=3)
    for l1_ratio in (1.0, 0.5):
        ours = ElasticNet(alpha=0.05, l1_ratio=l1_ratio).fit(X, y)
        ref = sk_linear_model.ElasticNet(alpha=0.05, l1_ratio=l1_ratio).fit(X, y)
        assert abs(ours.n_iter_ - ref.n_iter_) <= 1
        np.testing.assert_allclose(ours.dual_gap_, ref.dual_gap_, rtol=1e-3)


@pytest.mark.parametrize("precompute", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_dual_gap_is_sane_and_bounds_suboptimality(precompute, l1_ratio):
    """0 <= P(w) - P(w*) <= dual_gap_ <= tol ||y||^2 / n, with P(w*) from a tight solve."""
    X, y, _ = _data(n=200, p=20, seed=1)
    alpha, tol = 0.05, 1e-3
    loose = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=tol, precompute=precompute)
    loose.fit(X, y)
    tight = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000).fit(X, y)
    Xc, yc = _centred(X, y)
    p_loose = _objective(loose.coef_, Xc, yc, alpha, l1_ratio)
    p_star = _objective(tight.coef_, Xc, yc, alpha, l1_ratio)
    assert 1 <= loose.n_iter_ <= loose.max_iter
    assert 0 <= loose.dual_gap_ <= tol * yc @ yc / len(y)
    assert -1e-12 <= p_loose - p_star <= loose.dual_gap_ + 1e-12


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7, 0.3])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_kkt_conditions(l1_ratio, positive, weighted):
    """Subgradient optimality, checked on the centred weighted data (no scikit-learn)."""
    X, y, sw = _data(n=150, p=15, seed=2)
    sw = sw if weighted else None
    alpha = 0.2 * _alpha_max(X, y, l1_ratio)
    reg = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive, tol=1e-13,
                     max_iter=100_000).fit(X, y, sample_weight=sw)
    w = reg.coef_
    Xc, yc = _centred(X, y, sw)
    n = len(y)
    # gradient of the smooth part, negated: X^T r / n - alpha (1 - l1_ratio) w
    g = Xc.T @ (yc - Xc @ w) / n - alpha * (1 - l1_ratio) * w
    a = alpha * l1_ratio
    active = w != 0
    assert 0 < active.sum() < w.size  # the test exercises both cases
    np.testing.assert_allclose(g[active], a * np.sign(w[active]), rtol=1e-6)
    if positive:
        assert np.all(w >= 0)
        assert np.all(g[~active] <= a * (1 + 1e-6))
    else:
        assert np.all(np.abs(g[~active]) <= a * (1 + 1e-6))
    # the intercept makes the weighted residuals sum to zero
    sw_ = np.ones(n) if sw is None else sw
    np.testing.assert_allclose(np.average(y - reg.predict(X), weights=sw_), 0, atol=1e-8)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
@pytest.mark.parametrize("positive", [False, True])
def test_orthonormal_design_closed_form(l1_ratio, positive):
    """With X^T X = I the solution is the soft-thresholded least-squares fit."""
    rng = np.random.default_rng(4)
    n, p = 60, 8
    Q, _ = np.linalg.qr(rng.normal(size=(n, p)))
    y = Q @ np.array([3.0, -2.0, 0.0, 0.0, 1.5, 0.0, -4.0, 0.0]) + 0.3 * rng.normal(size=n)
    alpha = 0.02
    reg = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, positive=positive,
                     tol=1e-12).fit(Q, y)
    z = Q.T @ y  # least squares
    a, b = n * alpha * l1_ratio, n * alpha * (1 - l1_ratio)
    expected = np.sign(z) * np.maximum(np.abs(z) - a, 0) / (1 + b)
    if positive:
        expected = np.maximum(expected, 0)
    assert 0 < np.count_nonzero(expected) < p
    np.testing.assert_allclose(reg.coef_, expected, rtol=1e-8, atol=1e-12)
    assert reg.n_iter_ <= 2  # coordinates are decoupled: one epoch solves it


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_max_gives_zero_coef(l1_ratio, fit_intercept):
    X, y, _ = _data()
    a_max = _alpha_max(X, y, l1_ratio, fit_intercept)
    at = ElasticNet(alpha=a_max * (1 + 1e-9), l1_ratio=l1_ratio,
                    fit_intercept=fit_intercept).fit(X, y)
    assert np.all(at.coef_ == 0)
    if fit_intercept:
        np.testing.assert_allclose(at.intercept_, y.mean())
        np.testing.assert_allclose(at.predict(X), y.mean())
    # (at the default tol, w = 0 is already within the duality-gap tolerance here)
    below = ElasticNet(alpha=a_max * 0.99, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                       tol=1e-10).fit(X, y)
    assert np.count_nonzero(below.coef_) == 1  # the most correlated feature enters first


def test_support_shrinks_as_alpha_grows():
    X, y, _ = _data(p=20)
    nnz = [np.count_nonzero(Lasso(alpha=a).fit(X, y).coef_) for a in (1e-3, 0.1, 0.5, 2.0)]
    assert nnz == sorted(nnz, reverse=True) and nnz[0] > nnz[-1]


@pytest.mark.parametrize("precompute", [False, True])
def test_random_selection_converges_to_cyclic_solution(precompute):
    X, y, _ = _data(n=200, p=25, seed=5)
    params = dict(alpha=0.05, l1_ratio=0.7, tol=1e-12, max_iter=100_000,
                  precompute=precompute)
    cyclic = ElasticNet(**params).fit(X, y)
    fits = [ElasticNet(selection="random", random_state=s, **params).fit(X, y)
            for s in (0, 1)]
    for f in fits:
        np.testing.assert_allclose(f.coef_, cyclic.coef_, rtol=1e-6, atol=1e-9)
    again = ElasticNet(selection="random", random_state=0, **params).fit(X, y)
    np.testing.assert_array_equal(again.coef_, fits[0].coef_)  # reproducible
    assert again.n_iter_ == fits[0].n_iter_
    # same coordinate sequence as scikit-learn for the same seed
    ref = sk_linear_model.ElasticNet(selection="random", random_state=0, **params).fit(X, y)
    assert abs(fits[0].n_iter_ - ref.n_iter_) <= 1


def test_random_selection_leaves_global_rng_alone_when_cyclic():
    X, y, _ = _data()
    state = np.random.get_state()[1].copy()
    Lasso(alpha=0.1).fit(X, y)
    assert np.array_equal(np.random.get_state()[1], state)


def test_warm_start():
    X, y, _ = _data(n=200, p=30, seed=6)
    params = dict(alpha=0.02, l1_ratio=0.9, tol=1e-10, max_iter=100_000)
    cold = ElasticNet(**params).fit(X, y)
    warm = ElasticNet(warm_start=True, **params).fit(X, y)
    assert warm.n_iter_ == cold.n_iter_
    warm.fit(X, y)  # starts at the solution: converged before the first epoch
    assert warm.n_iter_ == 0
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=1e-8)
    # a few short warm-started fits reach the same solution
    est = ElasticNet(warm_start=True, **dict(params, max_iter=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(cold.n_iter_):
            est.fit(X, y)
    np.testing.assert_allclose(est.coef_, cold.coef_, rtol=1e-6, atol=1e-9)
    # without warm_start the previous solution is forgotten
    est2 = ElasticNet(**params).fit(X, y)
    assert est2.fit(X, y).n_iter_ == cold.n_iter_


def test_warm_start_with_incompatible_coef():
    X, y, _ = _data()
    est = Lasso(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X[:, :5], y)


def test_convergence_warning():
    X, y, _ = _data(n=200, p=30)
    with pytest.warns(ConvergenceWarning, match="Duality gap"):
        Lasso(alpha=1e-3, max_iter=2, tol=1e-12).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Lasso(alpha=0.1).fit(X, y)


def test_alpha_zero_warns():
    X, y, _ = _data()
    with pytest.warns(UserWarning, match="alpha=0"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            Lasso(alpha=0.0, max_iter=5).fit(X, y)


def test_divergence_raises_instead_of_returning_nan():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * 1e160  # squares overflow
    y = rng.normal(size=40) * 1e160
    for precompute in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(ValueError, match="non-finite"):
                Lasso(precompute=precompute).fit(X, y)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_precompute_gram(l1_ratio, fit_intercept):
    X, y, sw = _data(n=200, p=15)
    params = dict(alpha=0.1, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-10)
    plain = ElasticNet(**params).fit(X, y, sample_weight=sw)
    gram = ElasticNet(precompute=True, **params).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.ElasticNet(precompute=True, **params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(gram.coef_, plain.coef_, rtol=1e-7, atol=1e-10)
    assert _rel(gram.coef_, ref.coef_) < 1e-4
    assert abs(gram.n_iter_ - ref.n_iter_) <= 1


def test_precompute_given_gram():
    X, y, _ = _data(n=200, p=15)
    Xc, yc = X - X.mean(0), y - y.mean()
    params = dict(alpha=0.1, fit_intercept=False, tol=1e-10)
    given = Lasso(precompute=Xc.T @ Xc, **params).fit(Xc, yc)
    plain = Lasso(**params).fit(Xc, yc)
    np.testing.assert_allclose(given.coef_, plain.coef_, rtol=1e-7, atol=1e-10)
    with pytest.raises(ValueError, match="Gram matrix"):
        Lasso(precompute=2 * Xc.T @ Xc + 1, **params).fit(Xc, yc)
    with pytest.raises(ValueError, match="shape"):
        Lasso(precompute=np.eye(3), **params).fit(Xc, yc)
    # a Gram matrix of uncentred X is recomputed when an intercept is fitted
    with pytest.warns(UserWarning, match="recomputing Gram"):
        rec = Lasso(alpha=0.1, precompute=X.T @ X, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(rec.coef_, Lasso(alpha=0.1, tol=1e-10).fit(X, y).coef_,
                               rtol=1e-7, atol=1e-10)


def test_sample_weight_equals_repetition():
    X, y, _ = _data(n=50, p=6)
    w = np.random.default_rng(0).integers(0, 4, size=50)
    params = dict(alpha=0.05, l1_ratio=0.8, tol=1e-12)
    weighted = ElasticNet(**params).fit(X, y, sample_weight=w)
    repeated = ElasticNet(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-7)


def test_constant_sample_weight_changes_nothing():
    X, y, _ = _data()
    a = Lasso(alpha=0.1).fit(X, y)
    for sw in (3.0, np.full(len(y), 0.25)):
        b = Lasso(alpha=0.1).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-14)


def test_float32_preserved():
    X, y, _ = _data()
    reg32 = Lasso(alpha=0.1).fit(X.astype(np.float32), y.astype(np.float32))
    reg64 = Lasso(alpha=0.1).fit(X, y)
    assert reg32.coef_.dtype == np.float32
    np.testing.assert_allclose(reg32.coef_, reg64.coef_, rtol=1e-3, atol=1e-4)


def test_copy_X_and_fortran_input_not_modified():
    X, y, _ = _data()
    for Xin in (X.copy(), np.asfortranarray(X)):
        before = Xin.copy()
        Lasso(alpha=0.1).fit(Xin, y)
        np.testing.assert_array_equal(Xin, before)


def test_sparse_coef():
    X, Y, _ = _data(n_targets=2)
    reg = Lasso(alpha=0.5).fit(X, Y)
    np.testing.assert_array_equal(reg.sparse_coef_.toarray(), reg.coef_)
    single = Lasso(alpha=0.5).fit(X, Y[:, 0])
    assert single.sparse_coef_.shape == (1, X.shape[1])


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("precompute", ["auto", False])
def test_path_parity_with_sklearn(l1_ratio, precompute):
    X, y, _ = _data(n=100, p=10)
    Xc, yc = X - X.mean(0), y - y.mean()
    kw = dict(l1_ratio=l1_ratio, alphas=10, eps=1e-2, precompute=precompute, tol=1e-10,
              return_n_iter=True)
    alphas, coefs, gaps, n_iters = enet_path(Xc, yc, **kw)
    ref = sk_linear_model.enet_path(Xc, yc, **kw)
    np.testing.assert_allclose(alphas, ref[0], rtol=1e-12)
    assert _rel(coefs, ref[1]) < 1e-4
    assert coefs.shape == (10, 10) and gaps.shape == (10,) and len(n_iters) == 10
    assert np.all(coefs[:, 0] == 0)  # the grid starts at alpha_max
    # each point of the path is the estimator's solution
    est = ElasticNet(alpha=alphas[5], l1_ratio=l1_ratio, fit_intercept=False,
                     tol=1e-10).fit(Xc, yc)
    np.testing.assert_allclose(coefs[:, 5], est.coef_, rtol=1e-6, atol=1e-9)


def test_lasso_path_given_alphas():
    X, y, _ = _data(n=100, p=10)
    alphas, coefs, _ = lasso_path(X, y, alphas=[0.01, 1.0, 0.1], tol=1e-10)
    np.testing.assert_array_equal(alphas, [1.0, 0.1, 0.01])
    ref = sk_linear_model.lasso_path(X, y, alphas=[0.01, 1.0, 0.1], tol=1e-10)
    assert _rel(coefs, ref[1]) < 1e-4
    with pytest.raises(ValueError, match="Unexpected"):
        lasso_path(X, y, alphas=3, spam=1)
    with pytest.raises(ValueError, match="l1_ratio=0"):
        enet_path(X, y, l1_ratio=0.0, alphas=3)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(alpha=-1.0), "alpha"),
        (dict(l1_ratio=1.5), "l1_ratio"),
        (dict(l1_ratio=-0.1), "l1_ratio"),
        (dict(selection="greedy"), "selection"),
        (dict(tol=-1.0), "tol"),
        (dict(max_iter=0), "max_iter"),
    ],
)
def test_bad_params(params, match):
    X, y, _ = _data()
    with pytest.raises(ValueError, match=match):
        ElasticNet(**params).fit(X, y)


def test_bad_input():
    X, y, sw = _data()
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Lasso().fit(bad, y)
    reg = Lasso(alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :3])
    with pytest.raises(ValueError, match="non-zero|positive sum"):
        Lasso().fit(X, y, sample_weight=np.zeros_like(sw))
    from scipy import sparse  # sparse X is accepted (tests/linear_model/test_sparse_cd.py)

    with pytest.raises(ValueError, match="NaN"):
        Lasso().fit(sparse.csr_matrix(bad), y)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), frac=st.floats(0.01, 0.9),
       l1_ratio=st.sampled_from([1.0, 0.5]), n=st.integers(8, 60))
def test_row_order_invariance(seed, frac, l1_ratio, n):
    X, y, sw = _data(n=n, p=6, seed=seed)
    alpha = frac * _alpha_max(X, y, l1_ratio)
    perm = np.random.default_rng(seed).permutation(n)
    params = dict(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000)
    a = ElasticNet(**params).fit(X, y, sample_weight=sw)
    b = ElasticNet(**params).fit(X[perm], y[perm], sample_weight=sw[perm])
    scale = np.max(np.abs(a.coef_)) + 1e-12
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-7 * scale)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("Est", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_negative_sample_weight_like_sklearn(Est, fit_intercept):
    # issue 21: negative weights were refused; scikit-learn accepts them. Its
    # sparse solver fits the signed weighted objective (its dense path takes
    # sqrt(w) and returns NaN-driven zeros): ours gives that solution for
    # dense and sparse X.
    from scipy import sparse

    rng = np.random.RandomState(0)
    X = rng.randn(30, 4)
    y = X @ np.array([1.0, 2.0, 0.0, 0.0]) + 0.1 * rng.randn(30)
    sw = np.ones(30)
    sw[:3] = -0.5
    params = dict(alpha=0.05, tol=1e-10, fit_intercept=fit_intercept)
    ref = getattr(sk_linear_model, Est)(**params).fit(sparse.csc_matrix(X), y,
                                                      sample_weight=sw)
    for Xs in (X, sparse.csc_matrix(X)):
        ours = getattr(__import__("mlnotes.linear_model", fromlist=[Est]), Est)(
            **params).fit(Xs, y, sample_weight=sw)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)
    # all-negative weights are rescaled to positive ones, as scikit-learn does
    ours = Lasso(alpha=0.05).fit(X, y, sample_weight=-np.abs(sw))
    ref = sk_linear_model.Lasso(alpha=0.05).fit(X, y, sample_weight=-np.abs(sw))
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)


@pytest.mark.parametrize("path", ["enet_path", "lasso_path"])
def test_multi_output_path_like_sklearn(path):
    # issue 21: a 2-D y was refused; scikit-learn fits the multi-task elastic net
    rng = np.random.RandomState(0)
    X = rng.randn(40, 6)
    Y = X @ rng.randn(6, 3) + 0.1 * rng.randn(40, 3)
    kw = dict(l1_ratio=0.7) if path == "enet_path" else {}
    ours = globals()[path](X, Y, alphas=5, tol=1e-10, **kw)
    ref = getattr(sk_linear_model, path)(X, Y, alphas=5, tol=1e-10, **kw)
    assert ours[1].shape == ref[1].shape == (3, 6, 5)
    np.testing.assert_allclose(ours[0], ref[0])
    np.testing.assert_allclose(ours[1], ref[1], atol=1e-8)
    # group sparsity: a feature is zero for every target or for none
    zero = ours[1] == 0
    assert np.all(zero.all(axis=0) == zero.any(axis=0))
    with pytest.raises(ValueError, match="positive=True is not allowed"):
        enet_path(X, Y, positive=True)


def test_check_input_false_any_memory_order():
    # scikit-learn's test_check_input_false expects a ValueError for C-ordered X
    # with check_input=False (its Cython solver needs Fortran order); ours solves
    # either layout to scikit-learn's result on the Fortran-ordered copy (a
    # deliberate difference, issue 21).
    rng = np.random.RandomState(0)
    X = rng.randn(20, 10)
    y = X @ rng.randn(10) + 0.1 * rng.randn(20)
    X_f, X_c = np.asfortranarray(X), np.ascontiguousarray(X)
    ref = sk_linear_model.ElasticNet(selection="cyclic", tol=1e-6).fit(
        X_f, y, check_input=False)
    with pytest.raises(ValueError, match="Fortran"):
        sk_linear_model.ElasticNet(selection="cyclic", tol=1e-6).fit(
            X_c, y, check_input=False)
    for X_ in (X_f, X_c):
        ours = ElasticNet(selection="cyclic", tol=1e-6).fit(X_, y, check_input=False)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7, 3), (250, 1000), (1, 5)])
def test_fortran_copy_aligned(dtype, shape):
    from mlnotes.linear_model._coordinate_descent import _fortran_copy_aligned

    X = np.random.default_rng(0).normal(size=shape).astype(dtype)
    for src in (X, np.asfortranarray(X), X[:, ::-1]):
        out = _fortran_copy_aligned(src)
        assert out.flags.f_contiguous and out.flags.writeable
        assert out.dtype == dtype and out.shape == shape
        assert out.ctypes.data % 64 == 0
        assert not np.shares_memory(out, src)
        np.testing.assert_array_equal(out, src)


@pytest.mark.parametrize("Est, kw", [(Lasso, dict(alpha=0.05)),
                                     (ElasticNet, dict(alpha=0.1, l1_ratio=0.3)),
                                     (ElasticNet, dict(alpha=0.1, selection="random",
                                                       random_state=0))])
@pytest.mark.parametrize("sw", [False, True])
def test_aligned_copy_same_iterates(Est, kw, sw):
    # copy_X=True (C input): our 64-byte-aligned Fortran copy; copy_X=False on a
    # writeable Fortran array: the array itself, centred in place. Same values in
    # a different buffer, so bit-identical fits.
    X, y, _ = _data(n=60, p=150, seed=3)
    w = np.linspace(0.5, 2.0, X.shape[0]) if sw else None
    a = Est(**kw).fit(np.ascontiguousarray(X), y, sample_weight=w)
    XF = np.array(X, order="F")
    b = Est(copy_X=False, **kw).fit(XF, y, sample_weight=w)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_ and a.n_iter_ == b.n_iter_
    assert a.dual_gap_ == b.dual_gap_
