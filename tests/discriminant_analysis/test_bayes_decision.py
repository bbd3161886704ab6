import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit
from scipy.stats import norm
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from mlnotes.discriminant_analysis import (
    BayesDecisionClassifier,
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from mlnotes.naive_bayes import GaussianNB

# Two 1-D Gaussians: class 0 ~ N(MU0, SIGMA0^2), class 1 ~ N(MU1, SIGMA1^2).
MU0, SIGMA0, MU1, SIGMA1 = 0.0, 1.0, 2.0, 1.5


def _sample(n, pi1=0.5, seed=0, sigma1=SIGMA1):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < pi1).astype(int)
    x = np.where(y == 1, MU1 + sigma1 * rng.normal(size=n), MU0 + SIGMA0 * rng.normal(size=n))
    return x[:, None], y


def _regions(pi1, c01, c10, sigma1=SIGMA1):
    """Where the Bayes rule predicts 1: log(pi1 c10 N1) - log(pi0 c01 N0) > 0.

    The difference is a quadratic a x^2 + b x + c; returns its (sorted) real roots and
    the sign of a, from which the decision regions follow.
    """
    a = 0.5 / SIGMA0**2 - 0.5 / sigma1**2
    b = MU1 / sigma1**2 - MU0 / SIGMA0**2
    c = (0.5 * MU0**2 / SIGMA0**2 - 0.5 * MU1**2 / sigma1**2 + np.log(SIGMA0 / sigma1)
         + np.log(pi1 * c10 / ((1 - pi1) * c01)))
    if a == 0:
        return np.array([-c / b]), 0.0
    return np.sort(np.roots([a, b, c]).real), a


def _bayes_risk(pi1, c01, c10, sigma1=SIGMA1):
    """Exact risk of the Bayes rule: pi0 c01 P0(decide 1) + pi1 c10 P1(decide 0)."""
    roots, a = _regions(pi1, c01, c10, sigma1)
    F0 = norm(MU0, SIGMA0).cdf
    F1 = norm(MU1, sigma1).cdf
    if a > 0:  # decide 1 outside [r1, r2]
        r1, r2 = roots
        p0_decide1 = F0(r1) + 1 - F0(r2)
        p1_decide0 = F1(r2) - F1(r1)
    else:  # a == 0: decide 1 right of the root
        p0_decide1 = 1 - F0(roots[0])
        p1_decide0 = F1(roots[0])
    return (1 - pi1) * c01 * p0_decide1 + pi1 * c10 * p1_decide0


@pytest.fixture(scope="module")
def train():
    return _sample(100_000, seed=0)


@pytest.mark.parametrize("loss", [None, [[0, 1], [5, 0]], [[0, 4], [1, 0]]])
def test_empirical_risk_approaches_bayes_risk(train, loss):
    clf = BayesDecisionClassifier(loss=loss).fit(*train)
    qda = clf.estimator_
    L = np.array([[0, 1], [1, 0]] if loss is None else loss, dtype=float)
    Xte, yte = _sample(400_000, seed=1)
    empirical = L[yte, clf.predict(Xte)].mean()
    analytic = _bayes_risk(0.5, L[0, 1], L[1, 0])
    sd = L.max() * np.sqrt(analytic / L.max() * (1 - analytic / L.max()) / len(yte))
    assert abs(empirical - analytic) < 5 * sd + 2e-3
    # the rule beats a plain 0-1 (MAP) rule whenever the loss is asymmetric
    if loss is not None:
        map_risk = L[yte, qda.predict(Xte)].mean()
        assert empirical < map_risk


@pytest.mark.parametrize("c01, c10", [(1, 1), (1, 5), (5, 1), (2, 3)])
def test_asymmetric_loss_moves_the_threshold_to_the_analytic_point(c01, c10):
    """Equal variances: a single threshold at the midpoint + sigma^2 log(c01/c10)/(mu1-mu0)."""
    X, y = _sample(100_000, seed=3, sigma1=1.0)
    clf = BayesDecisionClassifier(loss=[[0, c01], [c10, 0]]).fit(X, y)
    grid = np.linspace(-3, 5, 16001)[:, None]
    pred = clf.predict(grid)
    switch = grid[1:, 0][np.diff(pred) != 0]
    analytic = (MU0 + MU1) / 2 + np.log(c01 / c10) / (MU1 - MU0)
    np.testing.assert_allclose(_regions(0.5, c01, c10, 1.0)[0], [analytic])
    assert switch.shape == (1,)
    assert abs(switch[0] - analytic) < 0.05
    assert pred[0] == 0 and pred[-1] == 1


def test_reject_region_is_chows_rule(train):
    c = 0.2
    clf = BayesDecisionClassifier(reject_cost=c).fit(*train)
    qda = clf.estimator_
    grid = np.linspace(-4, 6, 4001)[:, None]
    pred = clf.predict(grid)
    pmax = clf.predict_proba(grid).max(axis=1)
    clear = np.abs(pmax - (1 - c)) > 1e-9
    np.testing.assert_array_equal((pred == -1)[clear], (pmax < 1 - c)[clear])
    assert np.all(pred[~(pred == -1)] == qda.predict(grid)[~(pred == -1)])
    # analytic: the true posterior of class 1 lies in (c, 1 - c) on the rejected set
    logit_p1 = (norm.logpdf(grid[:, 0], MU1, SIGMA1) - norm.logpdf(grid[:, 0], MU0, SIGMA0))
    true_reject = (expit(logit_p1) > c) & (expit(logit_p1) < 1 - c)
    assert np.mean((pred == -1) != true_reject) < 0.01
    assert 0.05 < np.mean(true_reject) < 0.9  # the test is not vacuous
    risk = clf.expected_risk(grid)
    assert risk.shape == (grid.shape[0], 3)
    np.testing.assert_allclose(risk[:, 2], c)
    np.testing.assert_allclose(risk[:, :2], 1 - clf.predict_proba(grid))


def test_reject_cost_extremes(train):
    X, y = train
    Xte = X[:2000]
    for c in (0.5, 0.7):  # 1 - max p <= 1/2 <= c: never reject
        assert not np.any(BayesDecisionClassifier(reject_cost=c).fit(X, y).predict(Xte) == -1)
    # c = 0: reject wherever the posterior is not exactly 0/1
    pred = BayesDecisionClassifier(reject_cost=0.0).fit(X, y).predict(Xte)
    assert np.all(pred[np.abs(Xte[:, 0] - 1) < 2] == -1)


@pytest.mark.parametrize("priors", [[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]])
def test_priors_override_moves_the_threshold(priors):
    """Trained on balanced classes, deployed with priors pi': threshold shifts by
    sigma^2 log(pi'_0 / pi'_1) / (mu1 - mu0)."""
    X, y = _sample(100_000, seed=4, sigma1=1.0)
    clf = BayesDecisionClassifier(priors=priors).fit(X, y)
    grid = np.linspace(-3, 5, 16001)[:, None]
    switch = grid[1:, 0][np.diff(clf.predict(grid)) != 0]
    analytic = (MU0 + MU1) / 2 + np.log(priors[0] / priors[1]) / (MU1 - MU0)
    assert switch.shape == (1,) and abs(switch[0] - analytic) < 0.05
    # the reweighted posterior is the formula, applied to the estimator's posterior
    p = clf.estimator_.predict_proba(grid)
    w = p * np.asarray(priors) / clf.class_prior_
    np.testing.assert_allclose(clf.predict_proba(grid), w / w.sum(1, keepdims=True),
                               rtol=1e-12)


def test_priors_override_equals_refitting_with_those_priors():
    X, y = _sample(2000, pi1=0.3, seed=5)
    priors = [0.6, 0.4]
    clf = BayesDecisionClassifier(priors=priors).fit(X, y)
    ref = QuadraticDiscriminantAnalysis(priors=priors).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-9)
    np.testing.assert_allclose(clf.class_prior_, np.bincount(y) / len(y))
    np.testing.assert_allclose(clf.priors_, priors)


def test_multiclass_expected_risk_and_other_estimators():
    rng = np.random.default_rng(6)
    centres = np.array([[0, 0], [3, 0], [0, 3]])
    y = rng.integers(0, 3, 3000)
    X = centres[y] + rng.normal(size=(3000, 2))
    labels = np.array(["ant", "bee", "cow"])
    L = np.array([[0, 1, 10], [1, 0, 1], [3, 2, 0]], dtype=float)
    for est in (None, GaussianNB(), LinearDiscriminantAnalysis(), LogisticRegression()):
        clf = BayesDecisionClassifier(est, loss=L, reject_cost=0.3,
                                      reject_label="?").fit(X, labels[y])
        proba = clf.predict_proba(X)
        risk = clf.expected_risk(X)
        assert risk.shape == (3000, 4)
        np.testing.assert_allclose(risk[:, :3], proba @ L, rtol=1e-12)
        actions = np.array(["ant", "bee", "cow", "?"])
        np.testing.assert_array_equal(clf.predict(X), actions[risk.argmin(axis=1)])
        assert set(clf.predict(X)) <= set(actions)
        assert np.any(clf.predict(X) == "?")
        np.testing.assert_array_equal(clf.classes_, labels)


def test_estimator_classes_order_is_respected():
    """An estimator whose classes_ are not sorted still gives columns in our order."""
    class Reversed(QuadraticDiscriminantAnalysis):
        def fit(self, X, y):
            super().fit(X, y)
            self.classes_ = self.classes_[::-1].copy()
            return self

        def predict_proba(self, X):
            return super().predict_proba(X)[:, ::-1]

    X, y = _sample(500, seed=7)
    a = BayesDecisionClassifier(Reversed()).fit(X, y)
    b = BayesDecisionClassifier().fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("params, match", [
    (dict(loss=[[0, 1, 1], [1, 0, 1]]), r"shape \(n_classes, n_classes\) = \(2, 2\)"),
    (dict(loss=[[0, 1], [-1, 0]]), "non-negative"),
    (dict(loss=[[0, np.nan], [1, 0]]), "finite"),
    (dict(loss=[["a", "b"], ["c", "d"]]), "numeric"),
    (dict(reject_cost=-0.1), "reject_cost"),
    (dict(priors=[0.2, 0.3, 0.5]), "number of priors"),
    (dict(priors=[1.2, -0.2]), "non-negative"),
    (dict(priors=[0.2, 0.2]), "sum to 1"),
    (dict(reject_cost=0.1, reject_label=1), "class labels"),
    (dict(reject_cost=0.1, reject_label="reject"), "type of the class labels"),
    (dict(estimator=LinearSVC()), "estimator"),
])
def test_bad_params(params, match):
    X, y = _sample(200, seed=8)
    with pytest.raises(ValueError, match=match):
        BayesDecisionClassifier(**params).fit(X, y)


def test_string_labels_need_a_string_reject_label():
    X, y = _sample(200, seed=9)
    names = np.array(["neg", "pos"])[y]
    with pytest.raises(ValueError, match="string"):
        BayesDecisionClassifier(reject_cost=0.1).fit(X, names)  # default -1
    clf = BayesDecisionClassifier(reject_cost=0.3, reject_label="unsure").fit(X, names)
    assert set(clf.predict(X)) == {"neg", "pos", "unsure"}
    # without a reject option the reject label is not used, hence not checked
    BayesDecisionClassifier().fit(X, names)


def test_bad_input():
    X, y = _sample(200, seed=10)
    with pytest.raises(ValueError, match="class"):
        BayesDecisionClassifier().fit(X, np.zeros(200))
    clf = BayesDecisionClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.expected_risk(np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        clf.predict([[np.nan]])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(0.01, 100),
       shift=st.lists(st.floats(0, 10), min_size=3, max_size=3))
def test_loss_invariances(seed, scale, shift):
    """Scaling the loss, or adding a constant to a row (a cost that does not depend on
    the action), leaves the Bayes decisions unchanged."""
    rng = np.random.default_rng(seed)
    L = rng.uniform(0, 5, size=(3, 3))
    np.fill_diagonal(L, 0)
    X = rng.normal(size=(300, 2)) + np.repeat(np.eye(3, 2) * 2, 100, axis=0)
    y = np.repeat([0, 1, 2], 100)
    base = BayesDecisionClassifier(loss=L).fit(X, y)
    risk = base.expected_risk(X)
    clear = np.sort(risk, axis=1)[:, 1] - risk.min(axis=1) > 1e-8 * (1 + scale)
    for L2 in (scale * L, L + np.asarray(shift)[:, None]):
        other = clone(base).set_params(loss=L2).fit(X, y)
        np.testing.assert_array_equal(other.predict(X)[clear], base.predict(X)[clear])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), names=st.permutations([7, 2, 5]))
def test_label_relabelling(seed, names):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 2)) + np.repeat(np.eye(3, 2) * 2, 100, axis=0)
    y = np.repeat([0, 1, 2], 100)
    names = np.array(names)
    L = rng.uniform(0.5, 3, size=(3, 3))
    np.fill_diagonal(L, 0)
    a = BayesDecisionClassifier(loss=L, reject_cost=0.4).fit(X, y)
    # the loss matrix follows the classes into their sorted order
    order = np.argsort(names)  # class index (in a) of each sorted new label
    b = BayesDecisionClassifier(loss=L[np.ix_(order, order)], reject_cost=0.4).fit(
        X, names[y])
    expected = np.where(a.predict(X) == -1, -1, names[np.clip(a.predict(X), 0, 2)])
    np.testing.assert_array_equal(b.predict(X), expected)

