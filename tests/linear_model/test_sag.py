"""SAG/SAGA (Ridge, LogisticRegression) and the other logistic solvers vs scikit-learn."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn import linear_model as sk
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from mlnotes.linear_model import LogisticRegression, Ridge
from mlnotes.linear_model._sag_fast import (
    _sag_kernel, _sag_sparse_single, l1_quadratic_cd, sag_step_size,
)


def _regression(n=120, p=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    y = X @ rng.randn(p) + 2.0 + 0.1 * rng.randn(n)
    return X, y, rng.uniform(0.2, 2.0, n)


def _classification(n_classes=2, n=150, seed=0):
    X, y = make_classification(n, 5, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=seed)
    return StandardScaler().fit_transform(X), y


def test_step_size_rule():
    # 1 / L for SAG, 1 / (2L + min(2 n mu, L)) for SAGA
    assert sag_step_size(3.0, 0.1, "squared", True, 10, False) == pytest.approx(1 / 4.1)
    L = 0.25 * 4.0 + 0.1
    assert sag_step_size(3.0, 0.1, "log", True, 10, True) == pytest.approx(
        1 / (2 * L + min(2 * 10 * 0.1, L)))


@pytest.mark.parametrize("solver", ["sag", "saga"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_sag_parity(solver, fit_intercept, weighted):
    X, y, sw = _regression()
    sw = sw if weighted else None
    params = dict(alpha=1.0, solver=solver, tol=1e-10, max_iter=5000,
                  fit_intercept=fit_intercept, random_state=0)
    ours = Ridge(**params).fit(X, y, sample_weight=sw)
    ref = sk.Ridge(**params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-7)
    assert ours.solver_ == solver and ours.n_iter_.shape == (1,)
    # the same problem solved exactly
    exact = sk.Ridge(alpha=1.0, fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, exact.coef_, atol=1e-6)


def test_ridge_sag_sparse_and_multi_target():
    X, y, _ = _regression(p=8)
    X[np.abs(X) < 0.8] = 0.0
    Y = np.column_stack([y, -y + 1])
    Xs = sparse.csr_matrix(X)
    params = dict(alpha=[1.0, 3.0], solver="sag", tol=1e-10, max_iter=5000,
                  fit_intercept=False, random_state=0)
    ours = Ridge(**params).fit(Xs, Y)
    ref = sk.Ridge(**params).fit(Xs, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    assert ours.n_iter_.shape == (2,)
    # sparse with an intercept: as scikit-learn, sag fits it itself only at its
    # loose defaults (with a warning), saga refuses
    with pytest.warns(UserWarning, match="requires many iterations"):
        Ridge(solver="sag", tol=1e-3).fit(Xs, y)
    assert Ridge(solver="sag", tol=1e-6).fit(Xs, y).solver_ == "sparse_cg"
    with pytest.raises(ValueError, match="does not support fitting the intercept"):
        Ridge(solver="saga").fit(Xs, y)



@pytest.mark.parametrize("loss, code", [("log", 1), ("squared", 0)])
@pytest.mark.parametrize("saga", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("alpha", [1.0, 1e4])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sparse_single_output_kernel_is_the_general_one(loss, code, saga, fit_intercept,
                                                         alpha, index_dtype):
    # sparse X, one output, no L1: sag_solve runs _sag_sparse_single, which must
    # repeat _sag_kernel's arithmetic (same iterates, bit for bit); alpha=1e4
    # shrinks wscale below 1e-9 within an epoch (the mid-epoch rescale)
    rng = np.random.RandomState(0)
    X = sparse.random(200, 40, density=0.15, format="csr", random_state=rng)
    X.sum_duplicates()
    y = ((X @ rng.randn(40)) > 0).astype(float) if loss == "log" else rng.randn(200)
    sw = rng.uniform(0.5, 2.0, 200)
    n, p = X.shape
    mss = float(np.max(X.multiply(X).sum(axis=1)))
    step = sag_step_size(mss, alpha / n, loss, fit_intercept, n, saga)
    results = []
    for single in (False, True):
        W, b = np.full((p, 1), 0.01), np.full(1, 0.1)
        state = [np.zeros((p, 1)), np.zeros((n, 1)), np.zeros(n, dtype=np.int8)]
        isg = np.zeros(1)
        if single:
            out = _sag_sparse_single(
                X.data, X.indices.astype(index_dtype), X.indptr.astype(index_dtype), y,
                sw, W, b, *state, 0, isg, code, step, alpha / n, saga, fit_intercept,
                0.01, 1e-6, 30, 7)
        else:
            out = _sag_kernel(
                X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), False, y,
                sw, W, b, *state, 0, isg, code, step, alpha / n, 0.0, saga,
                fit_intercept, 0.01, 1e-6, 30, 7)
        results.append((out, W, b, isg, *state))
    (out0, *arrays0), (out1, *arrays1) = results
    assert out0 == out1
    for a0, a1 in zip(arrays0, arrays1):
        np.testing.assert_array_equal(a0, a1)

def test_ridge_sag_reproducible_and_max_iter_warns():
    X, y, _ = _regression()
    a = Ridge(solver="sag", random_state=3).fit(X, y).coef_
    b = Ridge(solver="sag", random_state=3).fit(X, y).coef_
    np.testing.assert_array_equal(a, b)
    with pytest.warns(ConvergenceWarning, match="max_iter was reached"):
        reg = Ridge(solver="saga", max_iter=2, tol=0.0).fit(X, y)
    assert reg.n_iter_[0] == 2


def test_ridge_y_column_vector_shape():
    # scikit-learn: one target given as (n, 1) still gives coef_ of shape (p,)
    X, y, _ = _regression()
    for solver in ["cholesky", "sag", "lsqr"]:
        ours = Ridge(solver=solver).fit(X, y[:, None])
        ref = sk.Ridge(solver=solver).fit(X, y[:, None])
        assert ours.coef_.shape == ref.coef_.shape == (X.shape[1],)
        assert np.shape(ours.intercept_) == np.shape(ref.intercept_) == (1,)
        assert ours.predict(X).shape == ref.predict(X).shape


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver, params", [
    ("sag", {}), ("saga", {}), ("newton-cg", {}),
    ("saga", {"l1_ratio": 1.0, "C": 0.3}), ("saga", {"l1_ratio": 0.5, "C": 0.3}),
    ("saga", {"C": np.inf}),
])
def test_logistic_solvers_parity(n_classes, solver, params):
    X, y = _classification(n_classes)
    sw = np.random.RandomState(1).uniform(0.5, 2.0, len(y))
    kw = dict(solver=solver, tol=1e-8, max_iter=5000, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
        ref = sk.LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    atol = 1e-3 if params.get("C") == np.inf else 1e-6
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=atol)
    assert ours.n_iter_.shape == (1,) and ours.n_iter_.dtype == np.int32
    if params.get("l1_ratio") == 1.0:
        np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)


@pytest.mark.parametrize("solver", ["sag", "saga", "newton-cg"])
def test_logistic_solvers_sparse(solver):
    X, y = _classification(2)
    X[np.abs(X) < 0.7] = 0.0
    kw = dict(solver=solver, tol=1e-8, max_iter=5000, random_state=0)
    ours = LogisticRegression(**kw).fit(sparse.csr_matrix(X), y)
    dense = LogisticRegression(solver="newton-cholesky", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.coef_, dense.coef_, atol=1e-5)


@pytest.mark.parametrize("params", [
    {}, {"l1_ratio": 1.0, "C": 0.5}, {"intercept_scaling": 50.0},
    {"fit_intercept": False}, {"class_weight": "balanced"},
])
@pytest.mark.parametrize("sparse_X", [False, True])
def test_liblinear_parity(params, sparse_X):
    X, y = _classification(2)
    X = sparse.csr_matrix(X) if sparse_X else X
    kw = dict(solver="liblinear", tol=1e-8, max_iter=1000, random_state=0, **params)
    ours = LogisticRegression(**kw).fit(X, y)
    ref = sk.LogisticRegression(**kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_liblinear_refusals_match_sklearn():
    X, y = _classification(3)
    for Est in (LogisticRegression, sk.LogisticRegression):
        with pytest.raises(ValueError, match="does not support multiclass"):
            Est(solver="liblinear").fit(X, y)
        with pytest.raises(ValueError, match="not supported for the liblinear"):
            Est(solver="liblinear", C=np.inf).fit(X, y % 2)
        with pytest.raises(ValueError, match="Only 'saga' solver supports elasticnet"):
            Est(solver="liblinear", l1_ratio=0.5).fit(X, y % 2)


def test_deprecated_penalty_l1_warns_and_fits_like_sklearn():
    X, y = _classification(2)
    kw = dict(penalty="l1", solver="saga", C=0.5, tol=1e-8, max_iter=3000,
              random_state=0)
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        ours = LogisticRegression(**kw).fit(X, y)
    with pytest.warns(FutureWarning):
        ref = sk.LogisticRegression(**kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    with pytest.warns(UserWarning, match="Inconsistent values: penalty=l1"):
        LogisticRegression(penalty="l1", l1_ratio=0.0, solver="saga").fit(X, y)


def test_sparsify_densify():
    X, y = _classification(3)
    clf = LogisticRegression(solver="saga", l1_ratio=1.0, C=0.05, random_state=0,
                             max_iter=500).fit(X, y)
    dense_scores = clf.decision_function(X)
    assert clf.sparsify() is clf and sparse.issparse(clf.coef_)
    np.testing.assert_allclose(clf.decision_function(X), dense_scores)
    np.testing.assert_allclose(clf.decision_function(sparse.csr_matrix(X)), dense_scores)
    np.testing.assert_array_equal(clf.predict(X), dense_scores.argmax(axis=1))
    assert clf.densify() is clf and isinstance(clf.coef_, np.ndarray)
    np.testing.assert_allclose(clf.decision_function(X), dense_scores)


def test_liblinear_l1_not_stuck_and_float64_coef():
    # scikit-learn's non-regression case for a stuck L1 liblinear fit: converges
    # without a ConvergenceWarning to scikit-learn's solution; coef_ is float64
    # whatever the input dtype, as liblinear's
    from sklearn.datasets import load_iris
    from sklearn.svm import l1_min_c

    iris = load_iris()
    X, y = iris.data[iris.target != 2], iris.target[iris.target != 2]
    Xs = StandardScaler().fit_transform(X)
    C = l1_min_c(X, y, loss="log") * 10 ** (10 / 29)
    kw = dict(l1_ratio=1, C=C, solver="liblinear", tol=1e-6, max_iter=100,
              intercept_scaling=10000.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = LogisticRegression(**kw).fit(Xs, y)
    ref = sk.LogisticRegression(**kw).fit(Xs, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    ours32 = LogisticRegression(solver="liblinear").fit(Xs.astype(np.float32), y)
    assert ours32.coef_.dtype == ours32.intercept_.dtype == np.float64


def _l1_quadratic_cd_reference(Q, q, u, max_sweeps, tol):
    """The coordinate descent of ``l1_quadratic_cd`` in plain Python, reading
    column ``j`` of ``Q`` as ``Q[k, j]``."""
    p = u.shape[0]
    Qu = Q @ u
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):
        d_max = 0.0
        for j in range(p):
            a = Q[j, j]
            if a <= 0.0:
                continue
            b = q[j] - Qu[j] + a * u[j]
            new = np.sign(b) * max(abs(b) - 1.0, 0.0) / a
            d = new - u[j]
            if d != 0.0:
                u[j] = new
                for k in range(p):
                    Qu[k] += d * Q[k, j]
                d_max = max(d_max, abs(d))
        if d_max <= tol:
            break
    return sweeps


@pytest.mark.parametrize("max_sweeps", [3, 1000])
def test_l1_quadratic_cd_reads_columns_of_q(max_sweeps):
    # the kernel reads column j of Q from a transposed copy; a Hessian from a matrix
    # product is symmetric only to rounding, so the copy must give the column's own
    # numbers: same iterate and sweep count as the plain loop on a non-symmetric Q
    rng = np.random.RandomState(0)
    A = rng.standard_normal((40, 12))
    Q = A.T @ (rng.uniform(0.1, 1.0, 40)[:, None] * A)
    Q += 1e-3 * rng.standard_normal(Q.shape)  # clearly non-symmetric
    Q[np.diag_indices_from(Q)] = np.abs(np.diag(Q)) + 1.0
    Q[3, 3] = 0.0  # a coordinate the kernel skips
    q = 5.0 * rng.standard_normal(12)
    u0 = rng.standard_normal(12)
    u, u_ref = u0.copy(), u0.copy()
    sweeps = l1_quadratic_cd(Q, q, u, max_sweeps, 1e-12)
    assert sweeps == _l1_quadratic_cd_reference(Q, q, u_ref, max_sweeps, 1e-12)
    np.testing.assert_array_equal(u, u_ref)
