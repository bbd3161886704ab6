"""Sparse (CSC/CSR) input for Lasso, ElasticNet, enet_path and lasso_path.

Each fit on sparse X is compared with scikit-learn's fit on the same sparse X
(coefficients, intercept, ``n_iter_``, ``dual_gap_``) and with our own fit on
``X.toarray()``; another test checks that X is never densified during a fit.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk_linear_model
from sklearn.exceptions import ConvergenceWarning

from mlnotes.linear_model import ElasticNet, Lasso, enet_path, lasso_path

SHAPES = [(200, 30), (50, 150)]  # tall, and wide (n_features > n_samples)


def _sparse_X(n, p, *, density=0.1, fmt="csc", seed=0):
    """Random sparse X whose non-zeros are N(2, 1): the columns have non-zero means,
    so the implicit centring matters."""
    rng = np.random.default_rng(seed)
    X = sp.random_array((n, p), density=density, format="csr", rng=rng,
                        data_sampler=lambda size: rng.normal(2.0, 1.0, size))
    X = X + sp.csr_array((np.full(n, 0.5), (np.arange(n), np.arange(n) % p)), shape=(n, p))
    X = X.asformat(fmt)
    # 32-bit indices: scikit-learn's coordinate descent rejects 64-bit ones
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return X


def _regression(n, p, *, n_targets=None, fmt="csc", seed=0):
    rng = np.random.default_rng(seed + 1)
    X = _sparse_X(n, p, fmt=fmt, seed=seed)
    coef = rng.normal(size=(p,) if n_targets is None else (p, n_targets))
    coef[p // 3:] = 0.0  # a sparse truth
    y = X @ coef + 0.3 * rng.normal(size=(n,) if n_targets is None else (n, n_targets))
    return X, y + 5.0, rng.uniform(0.1, 3.0, size=n)


def _compare(ours, ref, *, rtol=1e-7):
    scale = max(np.max(np.abs(ref.coef_)), 1.0)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(np.ravel(ours.n_iter_), np.ravel(ref.n_iter_), atol=1)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("alpha", "l1_ratio"), [(0.05, 1.0), (0.01, 0.5), (0.2, 0.2)])
@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_enet_parity(shape, fit_intercept, weighted, alpha, l1_ratio, fmt):
    X, y, sw = _regression(*shape, fmt=fmt)
    sw = sw if weighted else None
    params = dict(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-10,
                  max_iter=20_000)
    ours = ElasticNet(**params).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.ElasticNet(**params).fit(X, y, sample_weight=sw)
    _compare(ours, ref)
    dense = ElasticNet(**params).fit(X.toarray(), y, sample_weight=sw)
    _compare(ours, dense)
    np.testing.assert_allclose(ours.predict(X), dense.predict(X.toarray()), rtol=1e-7)
    for other in ("csr", "csc", "coo"):
        np.testing.assert_allclose(ours.predict(X.asformat(other)), ours.predict(X.toarray()),
                                   rtol=1e-12)


def test_dual_gap_and_n_iter_match_sklearn_at_default_tol():
    for shape in SHAPES:
        X, y, sw = _regression(*shape, seed=3)
        for alpha in (0.5, 0.05, 0.005):
            ours = Lasso(alpha=alpha, max_iter=5000).fit(X, y, sample_weight=sw)
            ref = sk_linear_model.Lasso(alpha=alpha, max_iter=5000).fit(X, y, sample_weight=sw)
            assert abs(ours.n_iter_ - ref.n_iter_) <= 1
            np.testing.assert_allclose(ours.dual_gap_, ref.dual_gap_, rtol=1e-3)
            np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_positive(fit_intercept):
    X, y, sw = _regression(150, 40, seed=5)
    params = dict(alpha=0.01, positive=True, fit_intercept=fit_intercept, tol=1e-10,
                  max_iter=20_000)
    ours = Lasso(**params).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.Lasso(**params).fit(X, y, sample_weight=sw)
    assert np.all(ours.coef_ >= 0) and np.any(ours.coef_ == 0)
    _compare(ours, ref)


def test_multi_target_equals_single_targets():
    X, Y, _ = _regression(120, 25, n_targets=3, seed=7)
    ours = ElasticNet(alpha=0.02, tol=1e-10, max_iter=10_000).fit(X, Y)
    ref = sk_linear_model.ElasticNet(alpha=0.02, tol=1e-10, max_iter=10_000).fit(X, Y)
    _compare(ours, ref)
    dense = ElasticNet(alpha=0.02, tol=1e-10, max_iter=10_000).fit(X.toarray(), Y)
    _compare(ours, dense)
    assert isinstance(ours.n_iter_, list) and len(ours.n_iter_) == 3


def test_random_selection_and_warm_start():
    X, y, _ = _regression(150, 60, seed=9)
    cyclic = Lasso(alpha=0.02, tol=1e-10, max_iter=10_000).fit(X, y)
    rand = Lasso(alpha=0.02, tol=1e-10, max_iter=10_000, selection="random",
                 random_state=0).fit(X, y)
    np.testing.assert_allclose(rand.coef_, cyclic.coef_, rtol=1e-6, atol=1e-8)
    again = Lasso(alpha=0.02, tol=1e-10, max_iter=10_000, selection="random",
                  random_state=0).fit(X, y)
    assert again.n_iter_ == rand.n_iter_
    # the same seed gives the same coordinate order as our dense fit
    dense = Lasso(alpha=0.02, tol=1e-10, max_iter=10_000, selection="random",
                  random_state=0).fit(X.toarray(), y)
    assert dense.n_iter_ == rand.n_iter_
    np.testing.assert_allclose(rand.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    # warm start from the solution: converged before the first epoch
    warm = Lasso(alpha=0.02, tol=1e-6, warm_start=True, max_iter=10_000).fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_ == 0
    np.testing.assert_allclose(warm.coef_, cyclic.coef_, rtol=1e-4, atol=1e-6)


def test_convergence_warning_like_dense():
    X, y, _ = _regression(100, 80, seed=11)
    with pytest.warns(ConvergenceWarning, match="Duality gap"):
        Lasso(alpha=1e-4, max_iter=2, tol=1e-12).fit(X, y)


def test_float32_sparse():
    X, y, _ = _regression(100, 20, seed=13)
    X32 = X.astype(np.float32)
    ours = Lasso(alpha=0.05).fit(X32, y.astype(np.float32))
    dense = Lasso(alpha=0.05).fit(X32.toarray(), y.astype(np.float32))
    assert ours.coef_.dtype == dense.coef_.dtype
    np.testing.assert_allclose(ours.coef_, dense.coef_, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("path", ["enet", "lasso"])
@pytest.mark.parametrize("shape", SHAPES)
def test_paths(path, shape):
    X, y, _ = _regression(*shape, fmt="csr", seed=15)
    y = y - y.mean()
    if path == "enet":
        ours_f, ref_f, kw = enet_path, sk_linear_model.enet_path, {"l1_ratio": 0.4}
    else:
        ours_f, ref_f, kw = lasso_path, sk_linear_model.lasso_path, {}
    kw.update(alphas=6, eps=1e-2, tol=1e-10, max_iter=20_000, return_n_iter=True)
    a, coefs, gaps, n_iters = ours_f(X, y, **kw)
    ra, rcoefs, rgaps, rn_iters = ref_f(X, y, **kw)
    np.testing.assert_allclose(a, ra, rtol=1e-12)
    np.testing.assert_allclose(coefs, rcoefs, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(n_iters, rn_iters, atol=1)
    da, dcoefs, _, _ = ours_f(X.toarray(), y, **kw)
    np.testing.assert_allclose(coefs, dcoefs, rtol=1e-7, atol=1e-8)


def test_path_with_X_offset_equals_centred_dense():
    """With X_offset, the sparse path solves the problem on X - X_offset (not formed)."""
    X, y, _ = _regression(120, 30, seed=17)
    y = y - y.mean()
    offset = np.asarray(X.mean(axis=0)).ravel()
    kw = dict(alphas=[0.5, 0.05], tol=1e-10, max_iter=20_000)
    _, coefs, _ = lasso_path(X, y, X_offset=offset, **kw)
    _, dcoefs, _ = lasso_path(X.toarray() - offset, y, **kw)
    np.testing.assert_allclose(coefs, dcoefs, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("est_cls", [Lasso, ElasticNet])
def test_fit_never_densifies_X(monkeypatch, est_cls):
    """Densifying a matrix of X's shape (toarray/todense) raises during the fit."""
    X, y, sw = _regression(120, 30, fmt="csr")
    shape = X.shape
    for cls in {type(X), sp.csr_matrix, sp.csc_array, sp.csc_matrix, sp.coo_array}:
        for name in ("toarray", "todense"):
            method = getattr(cls, name)

            def guarded(self, *args, _method=method, **kwargs):
                if self.shape == shape:
                    raise AssertionError("X was densified")
                return _method(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, guarded)
    est = est_cls(alpha=0.01).fit(X, y, sample_weight=sw)
    est.predict(X)
    lasso_path(X, y - y.mean(), alphas=3)
    with pytest.raises(AssertionError, match="densified"):  # the guard works
        X.toarray()


def test_sparse_X_not_modified():
    X, y, sw = _regression(80, 20)
    before = X.copy()
    ElasticNet(alpha=0.01, copy_X=False).fit(X, y, sample_weight=sw)
    assert (X != before).nnz == 0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_sparse_rejected(bad):
    X, y, _ = _regression(50, 10)
    X = X.tocsc()
    X.data[0] = bad
    with pytest.raises(ValueError):
        Lasso().fit(X, y)


def test_64bit_indices_accepted():
    """Unlike scikit-learn's solver, 64-bit CSR/CSC indices are accepted (and give the
    same fit as 32-bit ones)."""
    X, y, sw = _regression(100, 30, fmt="csr", seed=19)
    X64 = X.copy()
    X64.indices, X64.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    a = ElasticNet(alpha=0.01, tol=1e-10).fit(X64, y, sample_weight=sw)
    b = ElasticNet(alpha=0.01, tol=1e-10).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.n_iter_ == b.n_iter_


def test_path_sample_weight_matches_sklearn():
    """enet_path(sparse X, sample_weight=..., X_offset=...) as scikit-learn's (the form
    its ElasticNetCV uses), and as our dense path on the centred, row-scaled data."""
    X, y, sw = _regression(150, 40, seed=21)
    sw = sw * (len(sw) / sw.sum())
    offset = np.average(X.toarray(), axis=0, weights=sw)
    y = y - np.average(y, weights=sw)
    kw = dict(l1_ratio=0.7, alphas=[1.0, 0.1, 0.01], tol=1e-10, max_iter=20_000,
              return_n_iter=True)
    _, coefs, gaps, n_iters = enet_path(X, y, sample_weight=sw, X_offset=offset, **kw)
    _, rcoefs, rgaps, rn_iters = sk_linear_model.enet_path(
        X, y, sample_weight=sw, X_offset=offset, X_scale=np.ones(X.shape[1]), **kw)
    np.testing.assert_allclose(coefs, rcoefs, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(n_iters, rn_iters, atol=1)
    s = np.sqrt(sw)
    _, dcoefs, _, _ = enet_path((X.toarray() - offset) * s[:, None], y * s, **kw)
    np.testing.assert_allclose(coefs, dcoefs, rtol=1e-7, atol=1e-8)
    with pytest.raises(ValueError, match="sparse X only"):
        enet_path(X.toarray(), y, sample_weight=sw, alphas=[0.1])
