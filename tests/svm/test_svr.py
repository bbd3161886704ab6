import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import svm as sk_svm
from sklearn.datasets import load_diabetes, make_friedman1, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from mlnotes.svm import SVR

KERNELS = ["linear", "poly", "rbf", "sigmoid"]


def _data(n=120, p=4, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] - 0.3 * X[:, 2] ** 2 + noise * rng.normal(size=n)
    return X, y


def _assert_same_model(ours, ref, X, rtol=1e-6, atol=1e-8):
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_allclose(ours.support_vectors_, ref.support_vectors_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=rtol, atol=1e3 * atol)


# ------------------------------------------------------------------ parity


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("shrinking", [True, False])
@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.5])
def test_parity_with_sklearn(kernel, shrinking, epsilon):
    X, y = _data(seed=1)
    params = dict(kernel=kernel, C=2.0, epsilon=epsilon, tol=1e-6, shrinking=shrinking,
                  gamma=0.2, coef0=0.5, degree=2)
    ours = SVR(**params).fit(X, y)
    ref = sk_svm.SVR(**params).fit(X, y)
    _assert_same_model(ours, ref, X)
    assert isinstance(ours.n_iter_, int) and ours.n_iter_ > 0
    assert ours.fit_status_ == 0


def test_sample_weight_parity():
    X, y = _data(seed=2)
    sw = np.random.default_rng(0).uniform(0.2, 3.0, size=y.size)
    ours = SVR(tol=1e-6).fit(X, y, sample_weight=sw)
    ref = sk_svm.SVR(tol=1e-6).fit(X, y, sample_weight=sw)
    _assert_same_model(ours, ref, X)


def test_small_cache_gives_the_same_solution():
    X, y = _data(n=300, seed=3)
    for shrinking in (True, False):
        ref = sk_svm.SVR(tol=1e-6, shrinking=shrinking).fit(X, y)
        tiny = SVR(cache_size=1e-4, tol=1e-6, shrinking=shrinking).fit(X, y)
        _assert_same_model(tiny, ref, X)


def test_coef_matches_sklearn_for_linear_kernel():
    X, y = _data(seed=4)
    ours = SVR(kernel="linear", tol=1e-6).fit(X, y)
    ref = sk_svm.SVR(kernel="linear", tol=1e-6).fit(X, y)
    assert ours.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    with pytest.raises(AttributeError, match="linear kernel"):
        SVR().fit(X, y).coef_


def _datasets():
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes", StandardScaler().fit_transform(X), y / y.std(), dict(C=0.3, gamma=0.01)
    X, y = make_friedman1(600, noise=0.5, random_state=0)
    yield "friedman1", X, y, dict(C=10.0)
    X, y = make_regression(500, 10, n_informative=5, noise=5.0, random_state=0)
    yield "regression", X, y / y.std(), dict(C=10.0, epsilon=0.05)


@pytest.mark.parametrize("name, X, y, params", list(_datasets()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_held_out_r2_matches_sklearn(name, X, y, params):
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    ours = SVR(**params).fit(Xtr, ytr).score(Xte, yte)
    ref = sk_svm.SVR(**params).fit(Xtr, ytr).score(Xte, yte)
    assert ours > 0.3
    assert abs(ours - ref) <= 0.01


def test_precomputed_equals_rbf():
    X, y = _data(n=150, seed=5)
    Xte = _data(n=30, seed=6)[0]
    gamma = 0.3
    rbf = SVR(gamma=gamma, tol=1e-6).fit(X, y)
    pre = SVR(kernel="precomputed", tol=1e-6).fit(rbf_kernel(X, X, gamma=gamma), y)
    np.testing.assert_array_equal(pre.support_, rbf.support_)
    np.testing.assert_allclose(pre.dual_coef_, rbf.dual_coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(pre.predict(rbf_kernel(Xte, X, gamma=gamma)),
                               rbf.predict(Xte), rtol=1e-6, atol=1e-8)


def test_callable_kernel_equals_rbf():
    X, y = _data(seed=7)
    rbf = SVR(gamma=0.5, tol=1e-6).fit(X, y)
    fun = SVR(kernel=lambda A, B: rbf_kernel(A, B, gamma=0.5), tol=1e-6).fit(X, y)
    np.testing.assert_allclose(fun.predict(X), rbf.predict(X), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ known answers


def test_flattest_line_in_the_tube():
    """Points on a line, hard tube: the flattest line within epsilon of all of them
    passes epsilon above the first point and epsilon below the last."""
    x = np.linspace(-1.0, 3.0, 9)
    y = 2.0 * x + 1.0
    eps = 0.2
    reg = SVR(kernel="linear", C=1e4, epsilon=eps, tol=1e-10).fit(x[:, None], y)
    slope = 2.0 - 2 * eps / (x[-1] - x[0])
    np.testing.assert_allclose(reg.coef_[0, 0], slope, rtol=1e-8)
    np.testing.assert_allclose(reg.intercept_[0], (y[0] + eps) - slope * x[0], rtol=1e-8)
    np.testing.assert_array_equal(reg.support_, [0, 8])
    # w = sum_i coef_i x_i with the two end points; multipliers cancel (e^T coef = 0)
    w = slope
    np.testing.assert_allclose(reg.dual_coef_[0], [-w / (x[-1] - x[0]), w / (x[-1] - x[0])],
                               rtol=1e-8)


def test_wide_tube_has_no_support_vectors():
    X, y = _data(seed=8)
    eps = np.abs(y - 0.5 * (y.max() + y.min())).max() + 1.0
    reg = SVR(epsilon=eps).fit(X, y)
    ref = sk_svm.SVR(epsilon=eps).fit(X, y)
    assert reg.support_.size == 0 and reg.dual_coef_.shape == (1, 0)
    np.testing.assert_allclose(reg.predict(X), ref.predict(X))


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_kkt_conditions_hold(kernel):
    X, y = _data(n=200, seed=9)
    C, eps, tol = 2.0, 0.2, 1e-6
    reg = SVR(kernel=kernel, C=C, epsilon=eps, tol=tol).fit(X, y)
    coef = np.zeros(y.size)
    coef[reg.support_] = reg.dual_coef_[0]
    r = y - reg.predict(X)  # residuals
    assert np.all(np.abs(coef) <= C * (1 + 1e-12))
    assert abs(coef.sum()) < 1e-10
    zero, bound = coef == 0, np.abs(coef) >= C
    free = ~zero & ~bound
    assert free.any() and bound.any()
    assert np.all(np.abs(r[zero]) <= eps + 10 * tol)  # inside the tube
    np.testing.assert_allclose(np.abs(r[free]), eps, atol=10 * tol)  # on its edge
    assert np.all(np.abs(r[bound]) >= eps - 10 * tol)  # outside
    # the sign of a coefficient is the side of the tube the point is on
    np.testing.assert_array_equal(np.sign(coef[~zero]), np.sign(r[~zero]))


# ------------------------------------------------------------------ weights


def test_sample_weight_scales_C():
    X, y = _data(seed=10)
    a = SVR(C=3.0, tol=1e-8).fit(X, y)
    b = SVR(C=1.0, tol=1e-8).fit(X, y, sample_weight=np.full(y.size, 3.0))
    np.testing.assert_allclose(a.dual_coef_, b.dual_coef_, rtol=1e-6, atol=1e-9)


def test_zero_weight_equals_removal():
    X, y = _data(seed=11)
    sw = np.ones(y.size)
    sw[1::4] = 0.0
    weighted = SVR(gamma=0.3, tol=1e-8).fit(X, y, sample_weight=sw)
    removed = SVR(gamma=0.3, tol=1e-8).fit(X[sw > 0], y[sw > 0])
    np.testing.assert_array_equal(weighted.support_, np.flatnonzero(sw > 0)[removed.support_])
    np.testing.assert_allclose(weighted.predict(X), removed.predict(X), rtol=1e-6, atol=1e-8)


def test_heavy_sample_is_fitted_closer():
    X, y = _data(seed=12)
    base = SVR(C=0.5).fit(X, y)
    i = np.argmax(np.abs(y - base.predict(X)))
    sw = np.ones(y.size)
    sw[i] = 100.0
    heavy = SVR(C=0.5).fit(X, y, sample_weight=sw)
    assert abs(y[i] - heavy.predict(X[[i]])[0]) < abs(y[i] - base.predict(X[[i]])[0])


# ------------------------------------------------------------------ behaviour


def test_max_iter_warns():
    X, y = _data(n=200, seed=13)
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        reg = SVR(max_iter=5).fit(X, y)
    assert reg.fit_status_ == 1 and reg.n_iter_ == 5


def test_grid_search():
    X, y = _data(n=150, seed=14)
    search = GridSearchCV(SVR(), {"C": [1e-3, 1.0], "epsilon": [0.1, 0.5]}, cv=3).fit(X, y)
    assert search.best_params_["C"] == 1.0


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "params, match",
    [(dict(C=0.0), "C"), (dict(epsilon=-0.1), "epsilon"), (dict(gamma=-1.0), "gamma"),
     (dict(kernel="cosine"), "kernel"), (dict(tol=-1.0), "tol"),
     (dict(cache_size=-5), "cache_size")],
)
def test_bad_params(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        SVR(**params).fit(X, y)


def test_bad_input():
    X, y = _data()
    bad = y.copy()
    bad[4] = np.inf
    with pytest.raises(ValueError, match="NaN|infinity"):
        SVR().fit(X, bad)
    with pytest.raises(ValueError, match="2D array"):
        SVR().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="zero or negative weights"):
        SVR().fit(X, y, sample_weight=np.zeros(y.size))
    with pytest.raises(NotFittedError):
        SVR().predict(X)
    with pytest.raises(ValueError, match="square"):
        SVR(kernel="precomputed").fit(X @ X.T[:, :10], y)
    reg = SVR(kernel="precomputed").fit(X @ X.T, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:3] @ X.T[:, :10])
    with pytest.raises(ValueError, match="features"):
        SVR().fit(X, y).predict(X[:, :1])


def test_column_vector_target_warns():
    from sklearn.exceptions import DataConversionWarning

    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)
        with pytest.raises(DataConversionWarning):
            SVR().fit(X, y[:, None])


# ------------------------------------------------------------------ properties


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), kernel=st.sampled_from(["linear", "rbf"]),
       epsilon=st.floats(0.0, 0.5))
def test_row_permutation_invariance(seed, kernel, epsilon):
    X, y = _data(n=50, seed=seed)
    perm = np.random.default_rng(seed).permutation(y.size)
    a = SVR(kernel=kernel, epsilon=epsilon, tol=1e-10).fit(X, y)
    b = SVR(kernel=kernel, epsilon=epsilon, tol=1e-10).fit(X[perm], y[perm])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-5, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), shift=st.floats(-100, 100), scale=st.floats(0.1, 10))
def test_affine_targets(seed, shift, scale):
    """Scaling y, epsilon and C together scales the fit; shifting y shifts it."""
    X, y = _data(n=50, seed=seed)
    a = SVR(kernel="rbf", gamma=0.5, C=1.0, epsilon=0.1, tol=1e-10).fit(X, y)
    b = SVR(kernel="rbf", gamma=0.5, C=scale, epsilon=0.1 * scale,
            tol=1e-10).fit(X, scale * y + shift)
    np.testing.assert_allclose(b.predict(X), scale * a.predict(X) + shift,
                               rtol=1e-5, atol=1e-5 * (scale + abs(shift)))
