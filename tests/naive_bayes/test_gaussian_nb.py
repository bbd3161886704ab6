import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn import naive_bayes as sknb
from sklearn.datasets import load_digits, make_classification

from mlnotes.naive_bayes import GaussianNB


def _data(n=600, p=8, n_classes=3, seed=0, offset=50.0):
    X, y = make_classification(n, p, n_informative=min(p, 5) - 1, n_redundant=1,
                               n_classes=n_classes, n_clusters_per_class=1,
                               random_state=seed)
    rng = np.random.default_rng(seed)
    return X * rng.uniform(0.1, 10, size=p) + offset, y


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("priors", [None, "given"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("var_smoothing", [1e-9, 1e-2])
def test_parity_with_sklearn(n_classes, priors, weighted, var_smoothing):
    X, y = _data(n_classes=n_classes)
    Xte, _ = _data(n=200, n_classes=n_classes, seed=1)
    priors = None if priors is None else np.arange(1, n_classes + 1) / np.sum(
        np.arange(1, n_classes + 1))
    sw = np.random.default_rng(2).uniform(0.1, 3, size=len(y)) if weighted else None
    ours = GaussianNB(priors=priors, var_smoothing=var_smoothing).fit(X, y, sample_weight=sw)
    ref = sknb.GaussianNB(priors=priors, var_smoothing=var_smoothing).fit(X, y,
                                                                         sample_weight=sw)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), rtol=1e-4,
                               atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    np.testing.assert_allclose(ours.predict_joint_log_proba(Xte),
                               ref.predict_joint_log_proba(Xte), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_log_proba(Xte), ref.predict_log_proba(Xte),
                               rtol=1e-6, atol=1e-9)
    for name in ("theta_", "var_", "class_count_", "class_prior_", "epsilon_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-10,
                                   err_msg=name)


def test_digits_parity():
    X, y = load_digits(return_X_y=True)
    ours, ref = GaussianNB().fit(X, y), sknb.GaussianNB().fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-4,
                               atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_partial_fit_in_chunks_equals_fit(weighted):
    X, y = _data(n=1000)
    sw = np.random.default_rng(3).uniform(0.1, 3, size=len(y)) if weighted else None
    full = GaussianNB().fit(X, y, sample_weight=sw)
    online = GaussianNB()
    bounds = [0, 7, 150, 151, 600, 1000]  # uneven chunks, one of a single sample
    for a, b in zip(bounds, bounds[1:]):
        online.partial_fit(X[a:b], y[a:b], classes=[0, 1, 2] if a == 0 else None,
                           sample_weight=None if sw is None else sw[a:b])
    np.testing.assert_allclose(online.theta_, full.theta_, rtol=1e-10)
    # epsilon_ is computed from the last batch, as in scikit-learn
    np.testing.assert_allclose(online.var_ - online.epsilon_, full.var_ - full.epsilon_,
                               rtol=1e-9)
    np.testing.assert_allclose(online.class_count_, full.class_count_, rtol=1e-12)
    np.testing.assert_allclose(online.predict_proba(X), full.predict_proba(X), rtol=1e-4,
                               atol=1e-10)
    # and the same as scikit-learn's partial_fit on the same chunks
    ref = sknb.GaussianNB()
    for a, b in zip(bounds, bounds[1:]):
        ref.partial_fit(X[a:b], y[a:b], classes=[0, 1, 2],
                        sample_weight=None if sw is None else sw[a:b])
    # scikit-learn takes the *new* batch's epsilon_ out of var_ before pooling (not the
    # one it added), which leaves an error of order var_smoothing * var: hence 1e-6.
    np.testing.assert_allclose(online.var_, ref.var_, rtol=1e-6)
    np.testing.assert_allclose(online.predict_proba(X), ref.predict_proba(X), rtol=1e-4,
                               atol=1e-12)


def test_known_answer():
    """theta_ / var_ are the class means / biased variances (+ epsilon), and the joint
    log-likelihood is the sum of univariate normal log-densities plus the log prior."""
    X, y = _data(n=300, p=4)
    clf = GaussianNB().fit(X, y)
    eps = 1e-9 * X.var(0).max()
    for k in range(3):
        np.testing.assert_allclose(clf.theta_[k], X[y == k].mean(0), rtol=1e-12)
        np.testing.assert_allclose(clf.var_[k], X[y == k].var(0) + eps, rtol=1e-12)
    Xte = X[:20] * 1.1
    jll = np.column_stack([
        np.log(np.mean(y == k)) + norm.logpdf(Xte, X[y == k].mean(0),
                                              np.sqrt(X[y == k].var(0) + eps)).sum(1)
        for k in range(3)])
    np.testing.assert_allclose(clf.predict_joint_log_proba(Xte), jll, rtol=1e-10)


def test_one_class_absent_from_a_batch_and_zero_weights():
    X, y = _data(n=300)
    clf = GaussianNB().partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    assert clf.class_count_[2] == 0 and np.all(clf.theta_[2] == 0)
    clf.partial_fit(X[y == 2], y[y == 2])
    full = GaussianNB().fit(X, y)
    np.testing.assert_allclose(clf.theta_, full.theta_, rtol=1e-10)
    # zero weight on a class: no evidence, prior zero -> never predicted
    sw = (y != 1).astype(float)
    clf = GaussianNB().fit(X, y, sample_weight=sw)
    assert clf.class_prior_[1] == 0 and not np.any(clf.predict(X) == 1)


@pytest.mark.parametrize("params, match", [
    (dict(priors=[0.5, 0.5]), "Number of priors"),
    (dict(priors=[0.5, 0.6, 0.2]), "sum of the priors"),
    (dict(priors=[1.2, -0.1, -0.1]), "non-negative"),
    (dict(var_smoothing=-1.0), "var_smoothing"),
])
def test_bad_params(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        GaussianNB(**params).fit(X, y)


def test_bad_input():
    X, y = _data()
    bad = X.copy()
    bad[5, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GaussianNB().fit(bad, y)
    with pytest.raises(ValueError, match="classes must be passed"):
        GaussianNB().partial_fit(X, y)
    clf = GaussianNB().partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="do not exist"):
        clf.partial_fit(X[:3], [0, 1, 5])
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[:3], y[:3], classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:3, :4], y[:3])
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:3, :4])



def test_one_class_fits_as_sklearn():
    """scikit-learn's GaussianNB accepts a single class; so do we."""
    X, _ = _data()
    clf = GaussianNB().fit(X, np.full(len(X), 7))
    np.testing.assert_array_equal(clf.predict(X[:5]), 7)
    np.testing.assert_allclose(clf.predict_proba(X[:5]), 1.0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.integers(1, 199), max_size=5))
def test_chunking_invariance(seed, cuts):
    X, y = _data(n=200, p=3, seed=seed % 20)
    full = GaussianNB().fit(X, y)
    online = GaussianNB()
    bounds = [0, *sorted(set(cuts)), 200]
    for a, b in zip(bounds, bounds[1:]):
        online.partial_fit(X[a:b], y[a:b], classes=np.unique(y))
    np.testing.assert_allclose(online.theta_, full.theta_, rtol=1e-9)
    np.testing.assert_allclose(online.var_ - online.epsilon_, full.var_ - full.epsilon_,
                               rtol=1e-7, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_row_permutation_invariance(seed):
    X, y = _data(n=100, p=4, seed=seed % 20)
    perm = np.random.default_rng(seed).permutation(len(y))
    a, b = GaussianNB().fit(X, y), GaussianNB().fit(X[perm], y[perm])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), names=st.permutations(["x", "y", "z"]))
def test_label_relabelling(seed, names):
    X, y = _data(n=100, p=4, seed=seed % 20)
    names = np.array(names)
    a, b = GaussianNB().fit(X, y), GaussianNB().fit(X, names[y])
    np.testing.assert_array_equal(b.predict(X), names[a.predict(X)])
    cols = np.searchsorted(b.classes_, names)
    np.testing.assert_allclose(b.predict_proba(X)[:, cols], a.predict_proba(X), rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("X", [np.full((10, 2), 3.0), np.ones((1, 2))],
                         ids=["constant", "one_row"])
def test_zero_variance_gives_the_priors_not_nan(X):
    """Issue 21: with every feature constant (or one row) scikit-learn's epsilon is 0
    and its probabilities NaN (0 / 0); ours smooth by var_smoothing, so the posterior
    on the training points is the prior."""
    y = np.arange(len(X)) % 2
    proba = GaussianNB().fit(X, y).predict_proba(X)
    prior = np.bincount(y) / len(y)
    np.testing.assert_allclose(proba, np.tile(prior[prior > 0], (len(X), 1)))


def test_overflowing_variance_raises_a_clear_error():
    X = np.random.default_rng(0).normal(size=(20, 3)) * 1e300
    with pytest.raises(ValueError, match="class variances has infinite entries"):
        GaussianNB().fit(X, np.arange(20) % 2)


def test_overflowing_prediction_raises_a_clear_error():
    X = np.random.default_rng(0).normal(size=(20, 3))
    model = GaussianNB().fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="not finite.*Rescale"):
        model.predict_proba(X * 1e300)
