"""GAN (mlnotes.density.GAN): no likelihood, adversarial training, samples.

check_estimator and the density checks of sampling run through tests/test_common.py.
"""

import pickle

import numpy as np
import pytest
import torch

from mlnotes.datasets import make_two_moons
from mlnotes.density import GAN


def _mmd(A, B, h=0.2):
    def k(P, Q):
        return np.exp(-((P[:, None] - Q[None]) ** 2).sum(-1) / (2 * h * h)).mean()
    return k(A, A) + k(B, B) - 2 * k(A, B)


def test_no_likelihood_methods():
    gan = GAN(max_iter=2, random_state=0).fit(make_two_moons(100, random_state=0))
    assert not hasattr(gan, "score") and not hasattr(gan, "score_samples")
    assert not hasattr(GAN(), "score")
    assert gan.sample(3, random_state=0).shape == (3, 2)


def test_wgan_gp_samples_beat_a_gaussian_in_mmd():
    """Samples much closer to held-out moons (kernel MMD) than a fitted Gaussian's
    (WGAN-GP at its defaults, 3,000 critic steps)."""
    X = make_two_moons(1000, random_state=0)
    X_test = make_two_moons(800, random_state=1)
    gan = GAN(max_iter=200, random_state=0).fit(X)
    S = gan.sample(800, random_state=0)
    G = np.random.RandomState(0).multivariate_normal(X.mean(0), np.cov(X.T), 800)
    assert _mmd(S, X_test) < 0.6 * _mmd(G, X_test), (_mmd(S, X_test), _mmd(G, X_test))


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    # fourier_features=0: a plain ReLU critic whose weights can be set by hand
    gan = GAN(max_iter=1, fourier_features=0, random_state=0).fit(
        make_two_moons(50, random_state=0))
    module = gan.module_
    with torch.no_grad():  # critic D(x) = x_0: gradient norm 1 everywhere
        for layer in module.critic:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        module.critic[0].weight[0, 0] = 1.0
        module.critic[0].bias[0] = 10.0  # stays in the ReLU's linear part
        module.critic[2].weight[0, 0] = 1.0
        module.critic[4].weight[0, 0] = 1.0
    x = torch.randn(64, 2, dtype=torch.float64)
    fake = torch.randn(64, 2, dtype=torch.float64)
    gan._generator = torch.Generator().manual_seed(0)
    loss = gan._critic_loss(module, x, fake)
    expected = float(fake[:, 0].mean() - x[:, 0].mean())
    assert abs(float(loss) - expected) < 1e-10


def test_samples_are_reproducible_and_pickle(monkeypatch):
    X = make_two_moons(200, random_state=0)
    a = GAN(max_iter=3, random_state=1).fit(X)
    b = GAN(max_iter=3, random_state=1).fit(X)
    np.testing.assert_array_equal(a.sample(10, random_state=0), b.sample(10, random_state=0))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.sample(10, random_state=0), c.sample(10, random_state=0))
    if not torch.cuda.is_available():  # a GPU-fitted pickle samples on CPU
        state = a.__getstate__()
        state["_device_"] = "cuda:0"
        gpu = GAN.__new__(GAN)
        gpu.__setstate__(pickle.loads(pickle.dumps(state)))
        np.testing.assert_array_equal(gpu.sample(4, random_state=0),
                                      a.sample(4, random_state=0))


def test_bad_input():
    X = make_two_moons(50, random_state=0)
    with pytest.raises(ValueError):
        GAN(loss="hinge").fit(X)
    with pytest.raises(ValueError):
        GAN(n_critic=0).fit(X)
    with pytest.raises(ValueError, match="n_samples"):
        GAN(max_iter=1).fit(X).sample(-1)
