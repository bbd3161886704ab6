import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import linear_model as sk_linear_model
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlnotes.linear_model import LinearRegression


def _data(n=200, p=10, n_targets=None, offset=3.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10, size=p) + offset
    shape = (p,) if n_targets is None else (p, n_targets)
    y = X @ rng.normal(size=shape) + 0.1 * rng.normal(size=(n,) + shape[1:]) + 7
    return X, y, rng.uniform(0.1, 3.0, size=n)


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(200, 10), (30, 60)])
def test_parity_with_sklearn(fit_intercept, n_targets, weighted, shape):
    X, y, sw = _data(*shape, n_targets=n_targets)
    sw = sw if weighted else None
    ours = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    ref = sk_linear_model.LinearRegression(fit_intercept=fit_intercept).fit(
        X, y, sample_weight=sw
    )
    assert ours.coef_.shape == ref.coef_.shape
    assert _rel(ours.coef_, ref.coef_) < 1e-8
    if fit_intercept:
        assert _rel(ours.intercept_, ref.intercept_) < 1e-8
    assert ours.rank_ == ref.rank_
    np.testing.assert_allclose(ours.singular_, ref.singular_, rtol=1e-8)


def test_positive_parity():
    X, y, _ = _data()
    ours = LinearRegression(positive=True).fit(X, y)
    ref = sk_linear_model.LinearRegression(positive=True).fit(X, y)
    assert np.all(ours.coef_ >= 0)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)


def test_known_answer_exact_fit():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    w, b = np.array([1.5, -2.0, 0.0, 3.0]), -4.0
    reg = LinearRegression().fit(X, X @ w + b)
    np.testing.assert_allclose(reg.coef_, w, atol=1e-12)
    assert abs(reg.intercept_ - b) < 1e-12


def test_normal_equations_hold():
    """The residual is orthogonal to the centred columns (the normal equations)."""
    X, y, sw = _data(seed=3)
    reg = LinearRegression().fit(X, y, sample_weight=sw)
    r = y - reg.predict(X)
    Xc = X - np.average(X, axis=0, weights=sw)
    assert np.max(np.abs(Xc.T @ (sw * r))) < 1e-7 * np.abs(Xc).max() * np.abs(y).max()
    assert abs(np.sum(sw * r)) < 1e-8 * np.sum(sw) * np.abs(y).max()


def test_rank_deficient_gives_min_norm_solution():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(40, 3))
    X = np.hstack([A, A[:, :1]])  # the fourth column repeats the first
    y = A @ np.array([2.0, 1.0, -1.0])
    reg = LinearRegression(fit_intercept=False).fit(X, y)
    assert reg.rank_ == 3
    np.testing.assert_allclose(reg.coef_, [1.0, 1.0, -1.0, 1.0], atol=1e-10)


def test_sample_weight_equals_repetition():
    X, y, _ = _data(n=40, p=3)
    w = np.random.default_rng(0).integers(0, 4, size=40)
    weighted = LinearRegression().fit(X, y, sample_weight=w)
    repeated = LinearRegression().fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)


def test_float32_preserved():
    X, y, _ = _data()
    reg = LinearRegression().fit(X.astype(np.float32), y.astype(np.float32))
    assert reg.coef_.dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_input_not_modified():
    X, y, sw = _data()
    X0, y0 = X.copy(), y.copy()
    LinearRegression().fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_pipeline_and_grid_search():
    X, y, _ = _data()
    search = GridSearchCV(make_pipeline(StandardScaler(), LinearRegression()),
                          {"linearregression__fit_intercept": [True, False]}, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"linearregression__fit_intercept": True}
    assert search.best_score_ > 0.99


@pytest.mark.parametrize(
    "X, y, match",
    [
        ([[1.0, np.nan], [2.0, 3.0], [3.0, 1.0]], [1.0, 2.0, 3.0], "NaN"),
        ([[1.0, np.inf], [2.0, 3.0], [3.0, 1.0]], [1.0, 2.0, 3.0], "infinity"),
        ([[1.0, 2.0], [2.0, 3.0], [3.0, 1.0]], [1.0, np.nan, 3.0], "NaN"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], "2D array"),
        ([[1.0, 2.0], [2.0, 3.0]], [1.0, 2.0, 3.0], "inconsistent numbers of samples"),
    ],
)
def test_bad_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        LinearRegression().fit(np.asarray(X), np.asarray(y))


def test_negative_sample_weight_rejected():
    X, y, _ = _data(n=10, p=2)
    with pytest.raises(ValueError, match="[Nn]egative"):
        LinearRegression().fit(X, y, sample_weight=-np.ones(10))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(12, 60), p=st.integers(1, 6))
def test_row_order_invariance(seed, n, p):
    X, y, sw = _data(n=n, p=p, seed=seed)
    perm = np.random.default_rng(seed).permutation(n)
    a = LinearRegression().fit(X, y, sample_weight=sw)
    b = LinearRegression().fit(X[perm], y[perm], sample_weight=sw[perm])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-7, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(1e-3, 1e3), shift=st.floats(-1e3, 1e3))
def test_affine_target_equivariance(seed, scale, shift):
    """Fitting ``a*y + c`` gives ``a*coef`` and ``a*intercept + c``."""
    X, y, _ = _data(n=30, p=3, seed=seed)
    a = LinearRegression().fit(X, y)
    b = LinearRegression().fit(X, scale * y + shift)
    np.testing.assert_allclose(b.coef_, scale * a.coef_, rtol=1e-6, atol=1e-8 * scale)
    np.testing.assert_allclose(b.intercept_, scale * a.intercept_ + shift, rtol=1e-6,
                               atol=1e-6 * (abs(shift) + scale))


def test_gram_path_matches_qr_and_falls_back_when_ill_conditioned():
    """Tall well-conditioned X takes the normal equations (same answer as the QR
    solve); a nearly collinear X (cond ~ 1e7) falls back to the QR solve."""
    from mlnotes.linear_model import _least_squares as ls

    X, y, _ = _data(n=3000, p=20, offset=1e4, seed=4)  # large offsets: centred exactly
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    gram = ls._lstsq_gram(X, yc, cond=1e-6, offset=X.mean(axis=0))
    assert gram is not None
    qr = ls._lstsq_qr(Xc, yc, cond=1e-6)
    assert _rel(gram[0], qr[0]) < 1e-12
    assert gram[1] == qr[1]
    np.testing.assert_allclose(gram[2], qr[2], rtol=1e-10)

    rng = np.random.default_rng(5)
    Z = rng.normal(size=(3000, 8))
    Z[:, 1] = Z[:, 0] + 1e-7 * Z[:, 1]
    yz = Z @ rng.normal(size=8) + rng.normal(size=3000)
    assert ls._lstsq_gram(Z - Z.mean(axis=0), yz - yz.mean(), cond=1e-6) is None
    ours = LinearRegression().fit(Z, yz)
    ref = sk_linear_model.LinearRegression().fit(Z, yz)
    assert _rel(ours.coef_, ref.coef_) < 1e-6  # ill-conditioned: both solvers' rounding
    np.testing.assert_allclose(ours.singular_, ref.singular_, rtol=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_tall_parity_with_sklearn(fit_intercept, n_targets):
    """The unweighted tall path (blocked centring, no copy of X) against scikit-learn,
    with more rows than one centring block."""
    X, y, _ = _data(n=20000, p=7, n_targets=n_targets, offset=50.0, seed=6)
    ours = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    ref = sk_linear_model.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    assert _rel(ours.coef_, ref.coef_) < 1e-10
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)
    assert ours.rank_ == ref.rank_
    np.testing.assert_allclose(ours.singular_, ref.singular_, rtol=1e-9)


def test_sklearn_ransac_takes_it_as_its_default_learner():
    # scikit-learn's RANSACRegressor sets min_samples = n_features + 1 only for
    # an isinstance of its LinearRegression and refuses any other learner
    # without min_samples (sklearn/linear_model/tests/test_ransac.py, issue 21).
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X @ np.array([2.0, -1.0]) + 0.5
    y[::7] += 20.0  # outliers
    ours = sk_linear_model.RANSACRegressor(LinearRegression(), random_state=0).fit(X, y)
    ref = sk_linear_model.RANSACRegressor(sk_linear_model.LinearRegression(),
                                          random_state=0).fit(X, y)
    assert isinstance(ours.estimator_, LinearRegression)
    np.testing.assert_array_equal(ours.inlier_mask_, ref.inlier_mask_)
    assert ours.n_trials_ == ref.n_trials_
    np.testing.assert_allclose(ours.estimator_.coef_, ref.estimator_.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-10, atol=1e-10)

    class FirstCallValid:  # scikit-learn's test_ransac_warn_exceed_max_skips
        def __init__(self):
            self.calls = 0

        def __call__(self, X, y):
            self.calls += 1
            return self.calls == 1

    with pytest.warns(ConvergenceWarning, match="max_skips"):
        ours = sk_linear_model.RANSACRegressor(
            LinearRegression(), is_data_valid=FirstCallValid(), max_skips=3,
            max_trials=5).fit(X, y)
    assert ours.n_skips_invalid_data_ == 4
