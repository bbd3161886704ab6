import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from scipy.stats import multivariate_normal, norm
from sklearn import discriminant_analysis as skda
from sklearn.covariance import OAS

from mlnotes.discriminant_analysis import QuadraticDiscriminantAnalysis


def _data(n=500, p=5, n_classes=3, seed=0, offset=3.0):
    """Gaussian classes with random means and well-conditioned random covariances."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    X = np.empty((n, p))
    for k in range(n_classes):
        Q = np.linalg.qr(rng.normal(size=(p, p)))[0]
        L = Q * rng.uniform(0.5, 2.0, size=p)
        X[y == k] = rng.normal(size=(np.sum(y == k), p)) @ L.T + rng.normal(0, 2, p)
    return X * rng.uniform(0.3, 4.0, size=p) + offset, y


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300)


CONFIGS = [dict(), dict(reg_param=0.3), dict(reg_param=1.0),
           dict(solver="eigen"), dict(solver="eigen", shrinkage=0.2),
           dict(solver="eigen", shrinkage="auto"),
           dict(solver="eigen", covariance_estimator=OAS())]


@pytest.mark.parametrize("params", CONFIGS, ids=str)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("priors", [None, "given"])
def test_parity_with_sklearn(params, n_classes, priors):
    X, y = _data(n_classes=n_classes)
    Xte, _ = _data(n=100, n_classes=n_classes, seed=1)
    priors = None if priors is None else np.r_[0.2, np.full(n_classes - 1, 0.8 / (
        n_classes - 1))]
    ours = QuadraticDiscriminantAnalysis(priors=priors, store_covariance=True,
                                         **params).fit(X, y)
    ref = skda.QuadraticDiscriminantAnalysis(priors=priors, store_covariance=True,
                                             **params).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte),
                               rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(ours.predict_log_proba(Xte), ref.predict_log_proba(Xte),
                               rtol=1e-4, atol=1e-10)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    assert _rel(ours.decision_function(Xte), ref.decision_function(Xte)) < 1e-8
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-10)
    np.testing.assert_allclose(ours.priors_, ref.priors_)
    for k in range(n_classes):
        np.testing.assert_allclose(ours.scalings_[k], ref.scalings_[k], rtol=1e-8)
        np.testing.assert_allclose(ours.covariance_[k], ref.covariance_[k], rtol=1e-8,
                                   atol=1e-12)
        # principal axes: the same up to the sign of each axis
        R, S = ours.rotations_[k], ref.rotations_[k]
        np.testing.assert_allclose(R * np.sign(np.sum(R * S, axis=0)), S, atol=1e-7)


def test_log_posterior_is_the_gaussian_model():
    """decision scores = log pi_k + log N(x; mu_k, Sigma_k) from the sample statistics."""
    X, y = _data(n=300, p=3)
    clf = QuadraticDiscriminantAnalysis().fit(X, y)
    Xte = X[:50] + 0.3
    logp = np.column_stack([
        np.log(np.mean(y == k)) + multivariate_normal(X[y == k].mean(0),
                                                      np.cov(X[y == k].T, bias=True)
                                                      ).logpdf(Xte)
        for k in range(3)])
    expected = logp - logp.max(1, keepdims=True)
    expected = np.exp(expected) / np.exp(expected).sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(Xte), expected, rtol=1e-9, atol=1e-14)


def test_quadratic_boundary_at_the_analytic_points():
    """1-D N(0, 1) vs N(1, 2^2) with equal priors: decide 1 outside the two roots of
    log N(x; 1, 4) = log N(x; 0, 1)."""
    rng = np.random.default_rng(2)
    n = 200_000
    y = rng.integers(0, 2, n)
    X = np.where(y == 1, 1.0 + 2.0 * rng.normal(size=n), rng.normal(size=n))[:, None]
    clf = QuadraticDiscriminantAnalysis().fit(X, y)
    # (1/2 - 1/8) x^2 + x/4 - 1/8 - log 2 = 0
    roots = np.sort(np.roots([0.5 - 0.125, 0.25, -0.125 - np.log(2.0)]))
    grid = np.linspace(-4, 4, 8001)[:, None]
    pred = clf.predict(grid)
    switches = grid[1:, 0][np.diff(pred) != 0]
    assert switches.shape == (2,)
    np.testing.assert_allclose(switches, roots, atol=0.03)
    np.testing.assert_allclose(
        norm.logpdf(roots, 1, 2), norm.logpdf(roots, 0, 1), atol=1e-12)  # the roots


def test_reg_param_shrinks_variances_towards_one():
    X, y = _data()
    a = QuadraticDiscriminantAnalysis().fit(X, y)
    b = QuadraticDiscriminantAnalysis(reg_param=0.25).fit(X, y)
    for sa, sb in zip(a.scalings_, b.scalings_):
        np.testing.assert_allclose(sb, 0.75 * sa + 0.25, rtol=1e-10)


def test_singular_covariance_raises_as_sklearn():
    X, y = _data(p=3)
    X = np.c_[X, X[:, 0] - X[:, 1]]  # exactly collinear
    for est in (QuadraticDiscriminantAnalysis(), skda.QuadraticDiscriminantAnalysis()):
        with pytest.raises(linalg.LinAlgError, match="not full rank.*reg_param"):
            est.fit(X, y)
    # LinAlgError is a ValueError, and regularisation or shrinkage fixes it
    with pytest.raises(ValueError, match="shrinkage"):
        QuadraticDiscriminantAnalysis(solver="eigen").fit(X, y)
    ours = QuadraticDiscriminantAnalysis(reg_param=0.1).fit(X, y)
    ref = skda.QuadraticDiscriminantAnalysis(reg_param=0.1).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-4,
                               atol=1e-10)
    QuadraticDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(X, y)


def test_too_few_samples_per_class():
    X, y = _data(n=30, p=12)
    with pytest.raises(linalg.LinAlgError, match="more than the number of features"):
        QuadraticDiscriminantAnalysis().fit(X, y)
    y2 = y.copy()
    y2[0] = 7
    with pytest.raises(ValueError, match="only 1 sample in class 7"):
        QuadraticDiscriminantAnalysis().fit(X[:, :2], y2)


@pytest.mark.parametrize("params, error, match", [
    (dict(solver="lsqr"), ValueError, "solver"),
    (dict(reg_param=1.5), ValueError, "reg_param"),
    (dict(shrinkage=0.5), NotImplementedError, "shrinkage not supported"),
    (dict(covariance_estimator=OAS()), ValueError, "solver='eigen'"),
    (dict(solver="eigen", shrinkage=0.5, covariance_estimator=OAS()), ValueError,
     "Only one of the two can be set"),
    (dict(priors=[0.5, 0.5]), ValueError, "number of priors"),
    (dict(priors=[0.5, 0.7, -0.2]), ValueError, "non-negative"),
    (dict(tol=-1), ValueError, "tol"),
])
def test_bad_params(params, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        QuadraticDiscriminantAnalysis(**params).fit(X, y)


def test_bad_input():
    X, y = _data()
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        QuadraticDiscriminantAnalysis().fit(bad, y)
    with pytest.raises(ValueError, match="class"):
        QuadraticDiscriminantAnalysis().fit(X, np.ones(len(X)))
    clf = QuadraticDiscriminantAnalysis().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
    bad = X[:5].copy()
    bad[2, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict_proba(bad)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), reg=st.sampled_from([0.0, 0.2]))
def test_row_permutation_invariance(seed, reg):
    X, y = _data(n=90, p=3, seed=seed % 50)
    perm = np.random.default_rng(seed).permutation(len(y))
    a = QuadraticDiscriminantAnalysis(reg_param=reg).fit(X, y)
    b = QuadraticDiscriminantAnalysis(reg_param=reg).fit(X[perm], y[perm])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), labels=st.permutations([-4, 10, 3]))
def test_label_relabelling(seed, labels):
    X, y = _data(n=90, p=3, seed=seed % 50)
    labels = np.array(labels)
    a = QuadraticDiscriminantAnalysis().fit(X, y)
    b = QuadraticDiscriminantAnalysis().fit(X, labels[y])
    np.testing.assert_array_equal(b.predict(X), labels[a.predict(X)])
    cols = np.searchsorted(b.classes_, labels)
    np.testing.assert_allclose(b.predict_proba(X)[:, cols], a.predict_proba(X),
                               rtol=1e-7, atol=1e-10)


def test_priors_not_shared_with_user_array():
    """Issue 21: priors_ is a copy, not a view of the user's priors (scikit-learn copies)."""
    X, y = _data(n_classes=2)
    priors = np.array([0.3, 0.7])
    clf = QuadraticDiscriminantAnalysis(priors=priors).fit(X, y)
    assert not np.shares_memory(clf.priors_, priors)
    priors[0] = 0.9
    np.testing.assert_array_equal(clf.priors_, [0.3, 0.7])


class _PlainCovariance:
    """An object with fit and covariance_, neither an estimator nor clonable (issue 21)."""

    def __init__(self, shrinkage):
        self._shrinkage = shrinkage  # no get_params: sklearn.base.clone refuses it

    def fit(self, X):
        from sklearn.covariance import ShrunkCovariance
        self.covariance_ = ShrunkCovariance(shrinkage=self._shrinkage).fit(X).covariance_
        return self


def test_non_estimator_covariance_estimator_as_sklearn():
    X, y = _data(n=300)
    plain = _PlainCovariance(0.3)
    ours = QuadraticDiscriminantAnalysis(solver="eigen", covariance_estimator=plain,
                                         store_covariance=True).fit(X, y)
    ref = skda.QuadraticDiscriminantAnalysis(
        solver="eigen", covariance_estimator=_PlainCovariance(0.3), store_covariance=True
    ).fit(X, y)
    np.testing.assert_allclose(np.asarray(ours.covariance_), np.asarray(ref.covariance_),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-6,
                               atol=1e-12)
    assert not hasattr(plain, "covariance_")  # a copy was fitted


def test_overflowing_covariance_raises_a_clear_error():
    """Issue 21: values near 1e300 overflow the class covariances: a ValueError naming
    them (was: NaN probabilities)."""
    X = np.random.default_rng(0).normal(size=(40, 3)) * 1e300
    with pytest.raises(ValueError, match="class covariances has infinite entries"):
        QuadraticDiscriminantAnalysis().fit(X, np.arange(40) % 2)
