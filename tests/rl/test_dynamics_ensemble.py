"""DynamicsEnsemble: a probabilistic, bootstrapped MLP ensemble (scikit-learn regressor)."""

import numpy as np
import pytest
import torch

from mlnotes.rl import DynamicsEnsemble
from mlnotes.rl.model_based._dynamics import EnsembleLinear, gaussian_nll


def test_ensemble_linear_equals_separate_linear_layers():
    torch.manual_seed(0)
    layer = EnsembleLinear(3, 4, 2)
    x = torch.randn(3, 5, 4)
    out = layer(x)
    for e in range(3):
        expected = x[e] @ layer.weight[e] + layer.bias[e]
        torch.testing.assert_close(out[e], expected)


def test_gaussian_nll_by_hand():
    mean = torch.tensor([[[1.0, 0.0]]])
    logvar = torch.tensor([[[0.0, np.log(4.0)]]])
    target = torch.tensor([[3.0, 2.0]])
    # 0.5 * [(2^2)/1 + 0 + (2^2)/4 + log 4]
    expected = 0.5 * (4.0 + 1.0 + np.log(4.0))
    assert gaussian_nll(mean, logvar, target).item() == pytest.approx(expected)


def test_recovers_mean_and_noise_of_a_known_gaussian():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (2000, 2))
    y = 3.0 + 0.5 * rng.normal(size=2000)  # independent of X
    model = DynamicsEnsemble(hidden_layer_sizes=(16,), max_iter=60, random_state=0).fit(X, y)
    mean, std = model.predict(X[:200], return_std=True)
    assert mean.shape == std.shape == (200,)
    assert np.mean(mean) == pytest.approx(3.0, abs=0.05)
    assert np.mean(std) == pytest.approx(0.5, abs=0.05)


def test_epistemic_uncertainty_grows_away_from_the_data():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (600, 1))
    y = np.sin(X[:, 0]) + 0.05 * rng.normal(size=600)
    model = DynamicsEnsemble(hidden_layer_sizes=(32, 32), max_iter=150,
                             random_state=0).fit(X, y)
    mean, std = model.predict(np.array([[0.0], [1.0], [6.0]]), return_std=True)
    np.testing.assert_allclose(mean[:2], np.sin([0.0, 1.0]), atol=0.1)
    assert std[2] > 3 * max(std[0], std[1])
    means, variances = model.predict_members(np.array([[6.0]]))
    assert means.shape == variances.shape == (5, 1, 1)
    assert means[:, 0, 0].std() > 0.05  # the members disagree off the data
    assert np.all(variances > 0)


def test_multi_output_shapes_and_loss_decreases():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3))
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] ** 2])
    model = DynamicsEnsemble(n_members=3, hidden_layer_sizes=(32,), max_iter=300,
                             random_state=0).fit(X, Y)
    pred, std = model.predict(X, return_std=True)
    assert pred.shape == std.shape == (300, 2)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.score(X, Y) > 0.8


def test_bootstrap_members_see_different_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 1))
    y = X[:, 0] + 0.1 * rng.normal(size=50)
    with_boot = DynamicsEnsemble(n_members=2, hidden_layer_sizes=(8,), max_iter=5,
                                 random_state=0)
    with_boot.fit(X, y)
    same = DynamicsEnsemble(n_members=2, hidden_layer_sizes=(8,), max_iter=5,
                            random_state=0, bootstrap=False).fit(X, y)
    a = with_boot.predict_members(X)[0]
    b = same.predict_members(X)[0]
    assert not np.allclose(a, b)
    # same seed, same fit
    again = DynamicsEnsemble(n_members=2, hidden_layer_sizes=(8,), max_iter=5,
                             random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), with_boot.predict(X))


def test_bad_input():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        DynamicsEnsemble(hidden_layer_sizes=(0,)).fit(X, np.zeros(10))
    with pytest.raises(ValueError):
        DynamicsEnsemble().fit(np.full((10, 2), np.nan), np.zeros(10))
    model = DynamicsEnsemble(hidden_layer_sizes=(4,), max_iter=2).fit(X, np.zeros(10))
    with pytest.raises(ValueError):
        model.predict(np.zeros((3, 5)))
