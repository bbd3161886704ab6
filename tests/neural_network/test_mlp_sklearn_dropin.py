"""MLP behaviours that scikit-learn's own ``test_mlp.py`` exercises (issue 21).

Each test fails on the code before the fix: a hand-set ``coefs_`` ignored by
``partial_fit``, ``_optimizer`` without ``learning_rate``, and a diverging fit with
early stopping raising instead of recording NaN validation scores.
"""

import warnings

import numpy as np
import pytest
from sklearn import neural_network as sk_nn
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from mlnotes.neural_network import MLPClassifier, MLPRegressor


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_partial_fit_continues_from_hand_set_weights():
    # one SGD step on one sample from weights set by hand; the expected step is
    # back-propagation written out in numpy here (logistic units, log-loss, L2)
    X = np.array([[0.6, 0.8, 0.7]])
    W1 = np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]])
    W2 = np.array([[0.1], [0.2]])
    b1, b2 = np.array([0.1, 0.1]), np.array([1.0])
    eta, alpha = 0.1, 0.1
    h = _sigmoid(X @ W1 + b1)
    o = _sigmoid(h @ W2 + b2)
    d2 = o - 0.0  # y = 0
    d1 = (d2 @ W2.T) * h * (1 - h)
    expected = [W1 - eta * (X.T @ d1 + alpha * W1), W2 - eta * (h.T @ d2 + alpha * W2),
                b1 - eta * d1.ravel(), b2 - eta * d2.ravel()]

    mlp = MLPClassifier(solver="sgd", learning_rate_init=eta, alpha=alpha,
                        activation="logistic", random_state=1, max_iter=1,
                        hidden_layer_sizes=2, momentum=0)
    mlp.coefs_ = [W1.copy(), W2.copy()]
    mlp.intercepts_ = [b1.copy(), b2.copy()]
    mlp.partial_fit(X, [0], classes=[0, 1])
    got = [*mlp.coefs_, *mlp.intercepts_]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    # scikit-learn's worked example (test_fit) to 3 decimals
    np.testing.assert_allclose(mlp.coefs_[1], [[0.04706], [0.154089]], atol=1e-3)


def test_hand_set_weights_of_the_wrong_shape_raise():
    mlp = MLPClassifier(solver="sgd", hidden_layer_sizes=2)
    mlp.coefs_ = [np.zeros((4, 2)), np.zeros((2, 1))]
    mlp.intercepts_ = [np.zeros(2), np.zeros(1)]
    with pytest.raises(ValueError, match="coefs_"):
        mlp.partial_fit(np.ones((2, 3)), [0, 1], classes=[0, 1])


@pytest.mark.parametrize("learning_rate", ["invscaling", "constant"])
def test_optimizer_learning_rate_after_warm_start(learning_rate):
    X = [[3, 2], [1, 6], [5, 6], [-2, -4]]
    y = [1, 1, 1, 0]
    rates = []
    for cls in (MLPClassifier, sk_nn.MLPClassifier):
        mlp = cls(solver="sgd", hidden_layer_sizes=4, learning_rate=learning_rate,
                  max_iter=1, power_t=0.25, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp.fit(X, y)
            first = mlp._optimizer.learning_rate
            mlp.fit(X, y)
        rates.append((first, mlp._optimizer.learning_rate))
    assert rates[0] == rates[1]
    if learning_rate == "invscaling":  # 8 samples seen after two fits of 4
        assert rates[0][1] == 0.001 / 9**0.25


def test_adaptive_learning_rate_is_divided_until_tiny():
    clf = MLPClassifier(tol=0.5, max_iter=3000, solver="sgd", learning_rate="adaptive")
    clf.fit([[3, 2], [1, 6]], [1, 0])
    assert clf.n_iter_ < clf.max_iter
    assert clf._optimizer.learning_rate < 1e-6


def test_diverging_fit_with_early_stopping_keeps_the_best_weights():
    X, y = load_iris(return_X_y=True)
    params = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                  learning_rate_init=1, max_iter=20, early_stopping=True,
                  n_iter_no_change=10, random_state=0)
    mlp = MLPRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    assert isinstance(mlp.validation_scores_[-1], float)
    assert np.isnan(mlp.validation_scores_[-1])
    assert all(np.isfinite(c).all() for c in mlp.coefs_)
    assert np.isfinite(mlp.predict(X)).all()
    # without early stopping the divergence is still an error
    params["early_stopping"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="non-finite"):
            MLPRegressor(**params).fit(X, y)
