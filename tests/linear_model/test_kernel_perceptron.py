import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris, make_blobs, make_circles, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron as SkPerceptron
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel
from sklearn.model_selection import cross_val_score

from mlnotes.linear_model import KernelPerceptron


def _quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_kernel_is_the_primal_perceptron(n_classes, fit_intercept):
    """w = sum_i alpha_i y_i x_i: with the linear kernel and the same visiting order
    the dual perceptron makes exactly scikit-learn's Perceptron's mistakes."""
    X, y = make_classification(200, 5, n_informative=3, n_classes=n_classes,
                               random_state=0)
    ours = _quiet_fit(KernelPerceptron(kernel="linear", shuffle=False, max_iter=7,
                                       fit_intercept=fit_intercept), X, y)
    ref = SkPerceptron(shuffle=False, max_iter=7, tol=None, eta0=1.0,
                       fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.dual_coef_ @ ours.support_vectors_, ref.coef_,
                               atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-12)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X),
                               atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_xor_is_learned_with_a_polynomial_kernel():
    X = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=float)
    y = np.array([0, 0, 1, 1])
    clf = KernelPerceptron(kernel="poly", degree=2, gamma=1.0, coef0=1.0,
                           random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), y)
    assert clf.n_iter_ < clf.max_iter  # converged: an epoch without mistakes
    with pytest.warns(ConvergenceWarning):  # no line separates XOR
        KernelPerceptron(kernel="linear", max_iter=20, random_state=0).fit(X, y)


def test_decision_function_is_the_kernel_expansion():
    X, y = make_circles(120, factor=0.4, noise=0.05, random_state=1)
    clf = KernelPerceptron(kernel="rbf", gamma=2.0, random_state=0).fit(X, y)
    K = rbf_kernel(X[:10], clf.support_vectors_, gamma=2.0)
    expected = K @ clf.dual_coef_.ravel() + clf.intercept_[0]
    np.testing.assert_allclose(clf.decision_function(X[:10]), expected, rtol=1e-12)
    # alpha_i are mistake counts: non-negative integers, signed by the label
    signs = np.where(y[clf.support_] == clf.classes_[1], 1, -1)
    counts = clf.dual_coef_.ravel() * signs
    assert np.all(counts >= 1) and np.all(counts == np.round(counts))
    assert clf.score(X, y) == 1.0  # separable with the rbf kernel


def test_novikoff_mistake_bound():
    """Separable data with margin gamma and radius R: at most (R / gamma)^2 mistakes."""
    rng = np.random.default_rng(0)
    w_true = np.array([1.0, -2.0, 0.5]) / np.linalg.norm([1.0, -2.0, 0.5])
    X = rng.uniform(-1, 1, size=(400, 3))
    margin = X @ w_true
    keep = np.abs(margin) > 0.1
    X, y = X[keep], np.where(margin[keep] > 0, 1, -1)
    gamma = np.min(np.abs(X @ w_true))
    R = np.max(np.linalg.norm(X, axis=1))
    clf = KernelPerceptron(kernel="linear", fit_intercept=False, max_iter=1000,
                           random_state=0).fit(X, y)
    mistakes = np.abs(clf.dual_coef_).sum()
    assert clf.score(X, y) == 1.0
    assert mistakes <= (R / gamma) ** 2


def test_precomputed_and_callable_kernels_match_the_named_kernel():
    X, y = make_blobs(150, centers=3, random_state=0)
    named = KernelPerceptron(kernel="poly", degree=2, gamma=0.5, coef0=1.0,
                             random_state=3)
    named = _quiet_fit(named, X, y)
    K = polynomial_kernel(X, degree=2, gamma=0.5, coef0=1.0)
    pre = _quiet_fit(KernelPerceptron(kernel="precomputed", random_state=3), K, y)
    func = _quiet_fit(KernelPerceptron(
        kernel=lambda A, B: polynomial_kernel(A, B, degree=2, gamma=0.5, coef0=1.0),
        random_state=3), X, y)
    for other, Xp in ((pre, K[:20]), (func, X[:20])):
        np.testing.assert_allclose(other.decision_function(Xp),
                                   named.decision_function(X[:20]), rtol=1e-10)
    np.testing.assert_array_equal(pre.support_, named.support_)


def test_multiclass_one_vs_rest():
    X, y = load_iris(return_X_y=True)
    clf = KernelPerceptron(random_state=0)
    scores = cross_val_score(clf, X, y, cv=5)
    assert scores.mean() > 0.9
    fitted = _quiet_fit(clf, X, y)
    assert fitted.decision_function(X).shape == (150, 3)
    assert fitted.dual_coef_.shape == (3, fitted.support_.size)
    np.testing.assert_array_equal(
        fitted.predict(X), fitted.classes_[np.argmax(fitted.decision_function(X), axis=1)])


def test_random_state_reproducibility():
    X, y = make_classification(100, 4, random_state=0)
    a = _quiet_fit(KernelPerceptron(random_state=5), X, y).decision_function(X)
    b = _quiet_fit(KernelPerceptron(random_state=5), X, y).decision_function(X)
    np.testing.assert_array_equal(a, b)
    state = np.random.get_state()[1].copy()
    _quiet_fit(KernelPerceptron(random_state=None), X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG untouched


def test_bad_input():
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    with pytest.raises(ValueError, match="class"):
        KernelPerceptron().fit(X, np.zeros(40))
    with pytest.raises(ValueError, match="Unknown label type"):
        KernelPerceptron().fit(X, np.linspace(0, 1, 40))
    with pytest.raises(ValueError, match="square"):
        KernelPerceptron(kernel="precomputed").fit(X, y)
    clf = _quiet_fit(KernelPerceptron(kernel="precomputed"), X @ X.T, y)
    with pytest.raises(ValueError, match="features|number of samples"):
        clf.predict(np.ones((2, 5)))
    with pytest.raises(ValueError, match="max_iter"):
        KernelPerceptron(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="kernel function must return"):
        KernelPerceptron(kernel=lambda A, B: np.ones((2, 2))).fit(X, y)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_label_relabelling(seed):
    """Renaming the classes renames the predictions and changes nothing else."""
    X, y = make_blobs(60, centers=3, random_state=seed % 1000)
    names = np.array(["b", "c", "a"])
    a = _quiet_fit(KernelPerceptron(shuffle=False), X, y)
    b = _quiet_fit(KernelPerceptron(shuffle=False), X, names[y])
    # classes_ are sorted: "a" < "b" < "c" is the order 2, 0, 1 of the integer labels
    np.testing.assert_array_equal(names[a.predict(X)], b.predict(X))
