"""Sparse (CSR/CSC) input for LinearRegression, Ridge and LogisticRegression.

Each fit on sparse X is compared with scikit-learn's fit on the same sparse X and
with our own fit on ``X.toarray()``; predictions on sparse test data with those on
dense. Other tests check that X is never densified during a fit.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import linear_model as sk_linear_model

from mlnotes.linear_model import LinearRegression, LogisticRegression, Ridge

SHAPES = [(300, 20), (40, 120)]  # tall, and wide (n_features > n_samples)


def _sparse_X(n, p, *, density=0.08, fmt="csr", seed=0, container=sp.csr_array):
    """Random sparse X whose non-zeros are N(2, 1): the columns have non-zero means,
    so centring matters."""
    rng = np.random.default_rng(seed)
    X = sp.random_array((n, p), density=density, format=fmt, rng=rng,
                        data_sampler=lambda size: rng.normal(2.0, 1.0, size))
    # every row and column gets at least one non-zero
    X = X + sp.csr_array((np.full(n, 0.5), (np.arange(n), np.arange(n) % p)), shape=(n, p))
    X = container(X)
    return X.asformat(fmt)


def _regression(n, p, *, n_targets=None, fmt="csr", seed=0, container=sp.csr_array):
    rng = np.random.default_rng(seed + 1)
    X = _sparse_X(n, p, fmt=fmt, seed=seed, container=container)
    shape = (p,) if n_targets is None else (p, n_targets)
    y = X @ rng.normal(size=shape) + rng.normal(size=(n,) + shape[1:]) + 5.0
    return X, y, rng.uniform(0.1, 3.0, size=n)


def _classification(n, p, n_classes, *, fmt="csr", seed=0):
    rng = np.random.default_rng(seed + 2)
    X = _sparse_X(n, p, fmt=fmt, seed=seed)
    W = rng.normal(size=(p, n_classes))
    scores = X @ W + rng.gumbel(size=(n, n_classes))
    y = scores.argmax(axis=1)
    y[:n_classes] = np.arange(n_classes)  # every class present
    return X, y, rng.uniform(0.1, 3.0, size=n)


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def _check_predictions(ours_sparse, ours_dense, X, methods, rtol):
    """Predictions of the sparse fit on sparse (CSR, CSC, COO) X equal the dense
    fit's on X.toarray()."""
    Xd = X.toarray()
    for fmt in ("csr", "csc", "coo"):
        for method in methods:
            a = getattr(ours_sparse, method)(X.asformat(fmt))
            b = getattr(ours_dense, method)(Xd)
            assert isinstance(a, np.ndarray) and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


# -- Ridge -------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["auto", "cholesky", "lsqr", "sparse_cg"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_parity(solver, shape, n_targets, fit_intercept, weighted):
    fmt = "csc" if weighted else "csr"
    X, y, sw = _regression(*shape, n_targets=n_targets, fmt=fmt)
    sw = sw if weighted else None
    alpha = [0.5, 2.0, 10.0] if n_targets else 1.5
    params = dict(alpha=alpha, solver=solver, fit_intercept=fit_intercept, tol=1e-12)
    ours = Ridge(**params).fit(X, y, sample_weight=sw)
    assert sp.issparse(X)  # the input is left as it was
    dense = Ridge(**{**params, "solver": "svd"}).fit(X.toarray(), y, sample_weight=sw)
    tol = 1e-8 if solver == "cholesky" else 1e-6
    assert ours.coef_.shape == dense.coef_.shape
    assert _rel(ours.coef_, dense.coef_) < tol
    assert _rel(ours.intercept_, dense.intercept_) < tol
    if solver == "cholesky" and fit_intercept:
        # scikit-learn refuses this combination (we support it: the centring is a
        # rank-two correction of the sparse Gram matrix); compare on dense X.
        with pytest.raises(ValueError, match="does not support fitting the intercept"):
            sk_linear_model.Ridge(**params).fit(X, y, sample_weight=sw)
        ref = sk_linear_model.Ridge(**params).fit(X.toarray(), y, sample_weight=sw)
    else:
        ref = sk_linear_model.Ridge(**params).fit(X, y, sample_weight=sw)
        assert ours.solver_ == ref.solver_
    assert _rel(ours.coef_, ref.coef_) < tol
    if fit_intercept:
        assert _rel(ours.intercept_, ref.intercept_) < tol
    _check_predictions(ours, dense, X, ["predict"], rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_positive_parity(fit_intercept):
    X, y, sw = _regression(200, 15)
    y = y - 30 * X[:, [0]].toarray().ravel()  # a negative coefficient to clip
    params = dict(alpha=1.0, positive=True, fit_intercept=fit_intercept, tol=1e-10)
    ours = Ridge(**params).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.Ridge(**params).fit(X, y, sample_weight=sw)
    dense = Ridge(**params).fit(X.toarray(), y, sample_weight=sw)
    assert ours.solver_ == "lbfgs" and np.all(ours.coef_ >= 0) and ours.coef_[0] == 0
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, dense.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)


def test_ridge_auto_solver_on_sparse_is_sparse_cg():
    X, y, _ = _regression(100, 10)
    assert Ridge().fit(X, y).solver_ == "sparse_cg"
    assert sk_linear_model.Ridge().fit(X, y).solver_ == "sparse_cg"
    assert Ridge().fit(X.toarray(), y).solver_ == "cholesky"


def test_ridge_svd_rejects_sparse():
    X, y, _ = _regression(50, 5)
    # as scikit-learn: with an intercept the intercept check comes first (ValueError)
    for Est in (Ridge, sk_linear_model.Ridge):
        with pytest.raises(ValueError, match="does not support fitting the intercept"):
            Est(solver="svd").fit(X, y)
        with pytest.raises(TypeError, match="SVD solver does not support sparse"):
            Est(solver="svd", fit_intercept=False).fit(X, y)
    assert not Ridge(solver="svd").__sklearn_tags__().input_tags.sparse
    assert Ridge().__sklearn_tags__().input_tags.sparse


def test_ridge_closed_form_on_sparse():
    """w = (Xc^T Xc + alpha I)^-1 Xc^T yc, computed here with dense numpy."""
    X, y, _ = _regression(80, 6, seed=3)
    Xd = X.toarray()
    Xc, yc = Xd - Xd.mean(0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + 2.0 * np.eye(6), Xc.T @ yc)
    for solver in ("cholesky", "lsqr", "sparse_cg"):
        reg = Ridge(alpha=2.0, solver=solver, tol=1e-12).fit(X, y)
        np.testing.assert_allclose(reg.coef_, w, rtol=1e-7)
        np.testing.assert_allclose(reg.intercept_, y.mean() - Xd.mean(0) @ w, rtol=1e-7)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_cholesky_singular_sparse(fit_intercept):
    """alpha=0 with a duplicated column: the Gram matrix is singular. Either the
    Cholesky factorisation fails and the sparse fit falls back to lsqr (scikit-learn
    would fall back to svd, which refuses sparse X), giving the minimum-norm
    solution, or rounding lets it through, as for our dense fit; either way the fit
    is a least-squares solution: its predictions are those of OLS."""
    X, y, _ = _regression(60, 6, seed=4)
    X = sp.csr_array(sp.hstack([X, X[:, [0]]]))
    params = dict(alpha=0.0, solver="cholesky", fit_intercept=fit_intercept, tol=1e-12)
    reg = Ridge(**params).fit(X, y)
    ols = LinearRegression(fit_intercept=fit_intercept).fit(X.toarray(), y)
    np.testing.assert_allclose(reg.predict(X), ols.predict(X), rtol=1e-8, atol=1e-10)
    if reg.solver_ == "lsqr":
        np.testing.assert_allclose(reg.coef_, ols.coef_, rtol=1e-8, atol=1e-10)
    else:
        dense = Ridge(**params).fit(X.toarray(), y)
        assert dense.solver_ == "cholesky"
        np.testing.assert_allclose(reg.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


# -- LinearRegression ----------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n_targets", [None, 2])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_linear_regression_parity(shape, n_targets, fit_intercept, weighted, fmt):
    X, y, sw = _regression(*shape, n_targets=n_targets, fmt=fmt)
    sw = sw if weighted else None
    params = dict(fit_intercept=fit_intercept, tol=1e-12)
    ours = LinearRegression(**params).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.LinearRegression(**params).fit(X, y, sample_weight=sw)
    dense = LinearRegression(**params).fit(X.toarray(), y, sample_weight=sw)
    assert ours.coef_.shape == ref.coef_.shape == dense.coef_.shape
    # the wide problems are underdetermined: all three give the minimum-norm solution
    assert _rel(ours.coef_, ref.coef_) < 1e-8
    assert _rel(ours.coef_, dense.coef_) < 1e-6
    if fit_intercept:
        assert _rel(ours.intercept_, ref.intercept_) < 1e-8
        assert _rel(ours.intercept_, dense.intercept_) < 1e-6
    assert not hasattr(ours, "rank_") and not hasattr(ours, "singular_")
    _check_predictions(ours, dense, X, ["predict"], rtol=1e-6)


def test_linear_regression_positive_rejects_sparse_like_sklearn():
    X, y, _ = _regression(50, 5)
    for cls in (LinearRegression, sk_linear_model.LinearRegression):
        with pytest.raises(TypeError, match="[Ss]parse"):
            cls(positive=True).fit(X, y)
    assert not LinearRegression(positive=True).__sklearn_tags__().input_tags.sparse
    # a dense positive fit still predicts on sparse data, as in scikit-learn
    reg = LinearRegression(positive=True).fit(X.toarray(), y)
    np.testing.assert_allclose(reg.predict(X), reg.predict(X.toarray()), rtol=1e-12)


def test_refit_dense_after_sparse_sets_rank():
    X, y, _ = _regression(60, 5)
    reg = LinearRegression().fit(X.toarray(), y)
    assert reg.rank_ == 5
    reg.fit(X, y)
    assert not hasattr(reg, "rank_")


# -- LogisticRegression --------------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_parity(solver, n_classes, shape, fit_intercept, weighted):
    fmt = "csc" if weighted else "csr"
    X, y, sw = _classification(*shape, n_classes, fmt=fmt)
    sw = sw if weighted else None
    params = dict(solver=solver, fit_intercept=fit_intercept, tol=1e-10, max_iter=1000)
    ours = LogisticRegression(**params).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.LogisticRegression(**params).fit(X, y, sample_weight=sw)
    dense = LogisticRegression(**params).fit(X.toarray(), y, sample_weight=sw)
    assert ours.coef_.shape == ref.coef_.shape == dense.coef_.shape
    for other in (ref, dense):
        np.testing.assert_allclose(ours.coef_, other.coef_, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, other.intercept_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    _check_predictions(ours, dense, X,
                       ["decision_function", "predict_proba", "predict_log_proba"],
                       rtol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), dense.predict(X.toarray()))


def test_logistic_class_weight_and_no_penalty_on_sparse():
    X, y, _ = _classification(200, 10, 3)
    for params in (dict(class_weight="balanced"), dict(C=np.inf)):
        params = dict(params, tol=1e-10, max_iter=2000)
        ours = LogisticRegression(**params).fit(X, y)
        ref = sk_linear_model.LogisticRegression(**params).fit(X, y)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_logistic_sparse_hessian_equals_dense():
    from mlnotes.linear_model._logistic import _LogisticLoss

    X, y, sw = _classification(70, 6, 3)
    # the same matrix with unsorted, duplicated column indices (non-canonical CSR)
    coo = X.tocoo()
    half = coo.data / 2
    order = np.random.default_rng(1).permutation(2 * coo.nnz)
    rows = np.concatenate([coo.row, coo.row])[order]
    cols = np.concatenate([coo.col, coo.col])[order]
    vals = np.concatenate([half, half])[order]
    sort = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=X.shape[0]))])
    messy = sp.csr_array((vals[sort], cols[sort], indptr), shape=X.shape)
    assert not messy.has_canonical_format
    rng = np.random.default_rng(0)
    for Xs in (X, X.tocsc(), messy):
        for fit_intercept in (True, False):
            for n_classes, yy in ((2, (y == 1).astype(int)), (3, y)):
                kw = dict(sample_weight=sw, l2_reg_strength=0.1,
                          fit_intercept=fit_intercept)
                a = _LogisticLoss(Xs, yy, n_classes, **kw)
                b = _LogisticLoss(X.toarray(), yy, n_classes, **kw)
                x = rng.normal(size=a.size)
                np.testing.assert_allclose(a.fun(x), b.fun(x), rtol=1e-12)
                np.testing.assert_allclose(a.grad(x), b.grad(x), rtol=1e-10, atol=1e-14)
                np.testing.assert_allclose(a.hess(x), b.hess(x), rtol=1e-10, atol=1e-14)
                # a second point reuses the buffers
                x = rng.normal(size=a.size)
                np.testing.assert_allclose(a.hess(x), b.hess(x), rtol=1e-10, atol=1e-14)


# -- all three -----------------------------------------------------------------------

ESTIMATORS = [
    (LinearRegression, {}),
    (Ridge, {}),
    (Ridge, dict(solver="cholesky")),
    (Ridge, dict(solver="lsqr")),
    (Ridge, dict(positive=True)),
    (LogisticRegression, {}),
    (LogisticRegression, dict(solver="newton-cholesky")),
]


def _target(est_cls, X):
    if est_cls is LogisticRegression:
        return (np.asarray(X.sum(axis=1)).ravel() > np.median(X.sum(axis=1))).astype(int)
    return np.asarray(X.sum(axis=1)).ravel() + 1.0


@pytest.mark.parametrize(("est_cls", "params"), ESTIMATORS)
def test_fit_never_densifies_X(monkeypatch, est_cls, params):
    """Densifying a matrix of X's shape (toarray/todense/A) raises during the fit."""
    X, _, sw = _regression(120, 30, fmt="csr")
    y = _target(est_cls, X)
    shape = X.shape
    real = {}
    for cls in {type(X), sp.csr_matrix, sp.csc_array, sp.csc_matrix, sp.coo_array}:
        for name in ("toarray", "todense"):
            method = getattr(cls, name)
            real[(cls, name)] = method

            def guarded(self, *args, _method=method, **kwargs):
                if self.shape == shape:
                    raise AssertionError("X was densified")
                return _method(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, guarded)
    est = est_cls(**params).fit(X, y, sample_weight=sw)
    est.predict(X)
    with pytest.raises(AssertionError, match="densified"):  # the guard works
        X.toarray()


@pytest.mark.parametrize(("est_cls", "params"),
                         [(LinearRegression, {}), (Ridge, {}), (LogisticRegression, {})])
def test_large_sparse_fit_memory(est_cls, params):
    """A fit on 20,000 x 50,000 CSR (0.1% density, 1e6 non-zeros) allocates far less
    than a dense copy of X (8 GB): the peak traced allocation is below 200 MB."""
    rng = np.random.default_rng(0)
    n, p = 20_000, 50_000
    X = sp.random_array((n, p), density=0.001, format="csr", rng=rng)
    if est_cls is LinearRegression:
        params = dict(tol=1e-4)  # lsqr tolerance: keep the run short
    y = _target(est_cls, X)
    tracemalloc.start()
    try:
        est = est_cls(**params).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert est.coef_.shape[-1] == p
    assert peak < 200e6, f"peak allocation {peak / 1e6:.0f} MB"


@pytest.mark.parametrize(("est_cls", "params"), ESTIMATORS)
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.coo_array,
                                       sp.lil_array, sp.dok_matrix])
def test_sparse_containers_accepted(est_cls, params, container):
    """Sparse matrices and arrays of any format (non-CSR/CSC are converted)."""
    X, _, _ = _regression(60, 8)
    y = _target(est_cls, X)
    a = est_cls(**params).fit(container(X), y)
    b = est_cls(**params).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.predict(container(X)), b.predict(X), rtol=1e-10)


@pytest.mark.parametrize(("est_cls", "params"), ESTIMATORS)
def test_float32_sparse(est_cls, params):
    X, _, _ = _regression(80, 6)
    y = _target(est_cls, X)
    X32 = X.astype(np.float32)
    a = est_cls(**params).fit(X32, y)
    b = est_cls(**params).fit(X32.toarray(), y)
    assert a.coef_.dtype == b.coef_.dtype
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(("est_cls", "params"), ESTIMATORS)
def test_bad_sparse_input(est_cls, params):
    X, _, _ = _regression(40, 5)
    y = _target(est_cls, X)
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est_cls(**params).fit(bad, y)
    est = est_cls(**params).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :4])
    bad.data[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.predict(bad)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(5, 40), p=st.integers(1, 30),
       density=st.floats(0.05, 0.5), fit_intercept=st.booleans(),
       alpha=st.floats(0.01, 100.0))
def test_ridge_cholesky_sparse_equals_dense_property(seed, n, p, density, fit_intercept,
                                                     alpha):
    rng = np.random.default_rng(seed)
    X = sp.random_array((n, p), density=density, format="csr", rng=rng)
    X.data = rng.normal(1.0, 2.0, size=X.nnz)
    y = rng.normal(size=n)
    sw = rng.uniform(0.1, 2.0, size=n)
    params = dict(alpha=alpha, fit_intercept=fit_intercept)
    a = Ridge(solver="cholesky", **params).fit(X, y, sample_weight=sw)
    b = Ridge(solver="svd", **params).fit(X.toarray(), y, sample_weight=sw)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["liblinear", "sag", "saga"])
def test_logistic_int64_indexed_csr_accepted(solver):
    # scikit-learn's test_large_sparse_matrix: its liblinear/sag/saga refuse CSR with
    # int64 indices ("Only sparse matrices with 32-bit integer indices"); ours fit
    # them, with the result of the int32-indexed matrix (a deliberate difference,
    # issue 21).
    rng = np.random.RandomState(42)
    X = sp.random(20, 10, density=0.3, random_state=42, format="csr")
    y = rng.randint(2, size=20)
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    with pytest.raises(ValueError, match="32-bit integer indices"):
        sk_linear_model.LogisticRegression(solver=solver).fit(X64, y)
    a = LogisticRegression(solver=solver, random_state=0).fit(X, y)
    b = LogisticRegression(solver=solver, random_state=0).fit(X64, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
