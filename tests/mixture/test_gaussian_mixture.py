import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn import mixture as sk_mixture
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from mlnotes.mixture import GaussianMixture

COV_TYPES = ["full", "tied", "diag", "spherical"]


def _data(n=600, d=3, k=3, std=1.5, seed=0):
    X, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std,
                      random_state=seed)
    A = np.random.default_rng(seed).normal(size=(d, d))  # correlated features
    return X @ A, y


def _full_covariances(gm):
    """Covariance matrices (K, d, d) whatever the covariance type."""
    K, d = gm.means_.shape
    c = gm.covariances_
    if gm.covariance_type == "full":
        return c
    if gm.covariance_type == "tied":
        return np.repeat(c[None], K, axis=0)
    if gm.covariance_type == "diag":
        return np.array([np.diag(v) for v in c])
    return np.array([v * np.eye(d) for v in c])


def _log_density(gm, X):
    """log p(x) computed from the fitted parameters with scipy."""
    covs = _full_covariances(gm)
    comps = [np.log(w) + multivariate_normal(m, c).logpdf(X)
             for w, m, c in zip(gm.weights_, gm.means_, covs)]
    return logsumexp(np.column_stack(comps), axis=1)


# ----------------------------------------------------------------- parity with sklearn


@pytest.mark.parametrize("covariance_type", COV_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random_from_data",
                                         "random"])
def test_parity_with_sklearn(covariance_type, init_params):
    if covariance_type == "tied" and init_params in ("k-means++", "random_from_data"):
        pytest.skip("scikit-learn's tied covariance uses X^T X over all rows, wrong for "
                    "the one-hot-on-seeds initial responsibilities (rows summing to 0); "
                    "ours is the weighted formula (see test_tied_initialisation_is_weighted)")
    X, _ = _data(seed=1)
    params = dict(n_components=3, covariance_type=covariance_type,
                  init_params=init_params, random_state=0, n_init=2, tol=1e-8,
                  max_iter=300)
    ours = GaussianMixture(**params).fit(X)
    ref = sk_mixture.GaussianMixture(**params).fit(X)
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-8)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.converged_ == ref.converged_
    np.testing.assert_allclose(ours.weights_, ref.weights_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(ours.precisions_, ref.precisions_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(ours.precisions_cholesky_, ref.precisions_cholesky_,
                               rtol=1e-5, atol=1e-8)
    # the first bound can be huge (seeds with reg_covar-only covariances), where
    # scikit-learn's uncentred diag formula loses digits
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-6)
    X_new = X[::7] + 0.3
    np.testing.assert_allclose(ours.score_samples(X_new), ref.score_samples(X_new),
                               rtol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X_new), ref.predict_proba(X_new),
                               atol=1e-7)
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    assert ours.bic(X) == pytest.approx(ref.bic(X), rel=1e-9)
    assert ours.aic(X) == pytest.approx(ref.aic(X), rel=1e-9)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_held_out_likelihood_not_worse_than_sklearn(covariance_type):
    X, _ = _data(n=3000, d=5, k=6, std=3.0, seed=2)
    train, test = X[:2400], X[2400:]
    for seed in range(2):
        params = dict(n_components=6, covariance_type=covariance_type, random_state=seed)
        ours = GaussianMixture(**params).fit(train)
        ref = sk_mixture.GaussianMixture(**params).fit(train)
        assert ours.score(test) >= ref.score(test) - 0.01


def test_fit_predict_and_sample_match_sklearn():
    X, _ = _data(seed=3)
    ours = GaussianMixture(3, random_state=0)
    ref = sk_mixture.GaussianMixture(3, random_state=0)
    np.testing.assert_array_equal(ours.fit_predict(X), ref.fit_predict(X))
    np.testing.assert_array_equal(ours.fit(X).predict(X), ours.fit_predict(X))
    for ct in COV_TYPES:
        a = GaussianMixture(3, covariance_type=ct, random_state=4).fit(X)
        b = sk_mixture.GaussianMixture(3, covariance_type=ct, random_state=4).fit(X)
        Xa, ya = a.sample(50)
        Xb, yb = b.sample(50)
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_allclose(Xa, Xb, rtol=1e-5, atol=1e-6)
        assert Xa.shape == (50, X.shape[1]) and ya.dtype == np.int64


# ----------------------------------------------------------------- known answers


def test_well_separated_blobs_recovered_exactly():
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    X, y = make_blobs(n_samples=900, centers=centers, cluster_std=0.5, random_state=5)
    gm = GaussianMixture(4, random_state=0).fit(X)
    assert adjusted_rand_score(y, gm.predict(X)) == 1.0
    # at convergence the parameters are the per-cluster ML estimates
    for k in range(4):
        pts = X[gm.predict(X) == k]
        np.testing.assert_allclose(gm.means_[k], pts.mean(0), atol=1e-6)
        np.testing.assert_allclose(gm.covariances_[k], np.cov(pts.T, bias=True), atol=1e-5)
        assert gm.weights_[k] == pytest.approx(len(pts) / len(X), abs=1e-6)


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_em_increases_the_lower_bound(covariance_type):
    X, _ = _data(n=800, d=3, k=5, std=3.0, seed=6)
    gm = GaussianMixture(5, covariance_type=covariance_type, init_params="random",
                         tol=0, max_iter=60, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    bounds = np.asarray(gm.lower_bounds_)
    assert len(bounds) == 60
    assert np.all(np.diff(bounds) >= -1e-10)
    # the lower bound is the average log-likelihood before the last M-step, which
    # the last M-step can only raise
    assert gm.score(X) >= bounds[-1] - 1e-10


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_em_step_equals_closed_form(covariance_type):
    """One fused E+M pass equals responsibilities from scipy densities followed by
    the weighted maximum-likelihood formulas, written out here."""
    X, _ = _data(n=300, d=3, k=3, std=2.0, seed=7)
    gm = GaussianMixture(3, covariance_type=covariance_type, max_iter=3,
                         random_state=0, reg_covar=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    covs = _full_covariances(gm)
    logp = np.column_stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                            for w, m, c in zip(gm.weights_, gm.means_, covs)])
    resp = np.exp(logp - logsumexp(logp, axis=1)[:, None])
    nk = resp.sum(0)
    means = resp.T @ X / nk[:, None]
    full = np.array([(resp[:, k, None] * (X - means[k])).T @ (X - means[k]) / nk[k]
                     for k in range(3)])
    lb = gm._em_step(np.ascontiguousarray(X.T))
    assert lb == pytest.approx(np.mean(logsumexp(logp, axis=1)), rel=1e-10)
    np.testing.assert_allclose(gm.weights_, nk / len(X), rtol=1e-10)
    np.testing.assert_allclose(gm.means_, means, rtol=1e-9, atol=1e-12)
    d = X.shape[1]
    expected = {
        "full": full + 1e-4 * np.eye(d),
        "tied": np.tensordot(nk, full, axes=1) / nk.sum() + 1e-4 * np.eye(d),
        "diag": np.diagonal(full, axis1=1, axis2=2) + 1e-4,
        "spherical": np.diagonal(full, axis1=1, axis2=2).mean(1) + 1e-4,
    }[covariance_type]
    np.testing.assert_allclose(gm.covariances_, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_score_samples_is_the_mixture_log_density(covariance_type):
    X, _ = _data(seed=8)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    X_new = X[:40] * 1.3
    np.testing.assert_allclose(gm.score_samples(X_new), _log_density(gm, X_new),
                               rtol=1e-9)
    assert gm.score(X_new) == pytest.approx(np.mean(gm.score_samples(X_new)))
    proba = gm.predict_proba(X_new)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(gm.predict(X_new), proba.argmax(1))
    np.testing.assert_allclose(gm.precisions_, np.linalg.inv(gm.covariances_)
                               if covariance_type in ("full", "tied")
                               else 1.0 / gm.covariances_, rtol=1e-8)


def test_tied_initialisation_is_weighted():
    """From one-hot responsibilities on K seed points, every covariance type
    starts from the weighted formula: the seeds alone give zero scatter."""
    X, _ = _data(seed=14)
    for ct in COV_TYPES:
        gm = GaussianMixture(3, covariance_type=ct, init_params="random_from_data",
                             max_iter=0, random_state=0, reg_covar=1e-3).fit(X)
        np.testing.assert_allclose(np.diagonal(_full_covariances(gm), axis1=1, axis2=2),
                                   1e-3, rtol=1e-6)


def test_one_component_is_the_gaussian_mle():
    X, _ = _data(n=200, seed=9)
    gm = GaussianMixture(1, reg_covar=0.0).fit(X)
    np.testing.assert_allclose(gm.means_[0], X.mean(0), rtol=1e-10)
    np.testing.assert_allclose(gm.covariances_[0], np.cov(X.T, bias=True), rtol=1e-9)
    assert gm.n_iter_ <= 2 and gm.converged_


def test_user_initialisation():
    X, _ = _data(seed=10)
    ref = GaussianMixture(3, random_state=0).fit(X)
    gm = GaussianMixture(3, weights_init=ref.weights_, means_init=ref.means_,
                         precisions_init=ref.precisions_, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    np.testing.assert_allclose(gm.means_, ref.means_, atol=1e-3)
    # max_iter=0 keeps the initial parameters
    gm0 = GaussianMixture(3, weights_init=ref.weights_, means_init=ref.means_,
                          precisions_init=ref.precisions_, max_iter=0).fit(X)
    np.testing.assert_allclose(gm0.precisions_, ref.precisions_, rtol=1e-8)
    np.testing.assert_allclose(gm0.covariances_, ref.covariances_, rtol=1e-6)


def test_warm_start_continues():
    X, _ = _data(n=500, d=3, k=4, std=3.0, seed=11)
    gm = GaussianMixture(4, max_iter=2, warm_start=True, random_state=0, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
        first = gm.lower_bound_
        gm.fit(X)
    assert gm.lower_bound_ >= first - 1e-12
    cold = GaussianMixture(4, max_iter=4, random_state=0, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X)
    np.testing.assert_allclose(gm.means_, cold.means_, rtol=1e-10)


def test_non_convergence_warns():
    X, _ = _data(n=300, d=3, k=4, std=3.0, seed=12)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        GaussianMixture(4, max_iter=1, random_state=0).fit(X)


# ----------------------------------------------------------------- bad input


def test_more_components_than_samples_raises_as_sklearn():
    X = np.random.default_rng(0).normal(size=(4, 2))
    msg = r"Expected n_samples >= n_components but got n_components = 5, n_samples = 4"
    with pytest.raises(ValueError, match=msg):
        GaussianMixture(5).fit(X)
    with pytest.raises(ValueError, match=msg):
        sk_mixture.GaussianMixture(5).fit(X)


@pytest.mark.parametrize("params, match", [
    (dict(weights_init=[0.5, 0.6]), "should be normalized"),
    (dict(weights_init=[1.5, -0.5]), r"range \[0, 1\]"),
    (dict(weights_init=[1.0]), "shape"),
    (dict(means_init=np.zeros((3, 2))), "shape"),
    (dict(precisions_init=-np.ones((2, 2, 2))), "symmetric, positive-definite"),
    (dict(covariance_type="diag", precisions_init=-np.ones((2, 2))), "positive"),
    (dict(covariance_type="banana"), "covariance_type"),
    (dict(n_components=0), "n_components"),
    (dict(reg_covar=-1.0), "reg_covar"),
])
def test_bad_params(params, match):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**{"n_components": 2, **params}).fit(X)


def test_degenerate_covariance_raises():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 5, axis=0)
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        GaussianMixture(2, reg_covar=0.0, random_state=0).fit(X)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nonfinite_rejected(value):
    X, _ = _data(n=50, seed=13)
    gm = GaussianMixture(2, random_state=0).fit(X)
    bad = X.copy()
    bad[3, 1] = value
    for call in (GaussianMixture(2).fit, gm.score_samples, gm.predict, gm.predict_proba):
        with pytest.raises(ValueError, match="NaN|infinity"):
            call(bad)
    with pytest.raises(ValueError, match="features"):
        gm.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="n_samples"):
        gm.sample(0)


# ----------------------------------------------------------------- properties


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 4), ct=st.sampled_from(COV_TYPES))
def test_row_permutation_and_translation(seed, k, ct):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 2)) * rng.uniform(0.5, 3, size=2)
    gm = GaussianMixture(k, covariance_type=ct, init_params="random_from_data",
                         random_state=seed % 50, reg_covar=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
        moved = GaussianMixture(k, covariance_type=ct, init_params="random_from_data",
                                random_state=seed % 50, reg_covar=1e-3).fit(X + 5.0)
    # translation equivariance (the draws pick the same rows)
    np.testing.assert_allclose(moved.means_, gm.means_ + 5.0, atol=1e-6)
    s = gm.score_samples(X)
    perm = rng.permutation(len(X))
    np.testing.assert_allclose(gm.score_samples(X[perm]), s[perm], rtol=1e-12)
    np.testing.assert_allclose(moved.score_samples(X + 5.0), s, rtol=1e-6, atol=1e-6)
