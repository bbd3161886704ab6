"""DDPM (mlnotes.density.DDPM): schedules, the variational bound, samplers.

check_estimator and the density contract run through tests/test_common.py.
"""

import pickle

import numpy as np
import pytest
import torch

from mlnotes.datasets import entropy, make_two_moons
from mlnotes.density import DDPM
from mlnotes.density._ddpm import _betas


@pytest.fixture(scope="module")
def moons_ddpm():
    X = make_two_moons(1500, random_state=0)
    return DDPM(n_steps=100, max_iter=80, random_state=0).fit(X)


def test_schedules():
    lin = _betas("linear", 1000)
    np.testing.assert_allclose(lin[[0, -1]], [1e-4, 0.02])
    cos = _betas("cosine", 1000)
    ab = np.cumprod(1 - cos)
    s = 0.008
    f = np.cos((np.arange(1001) / 1000 + s) / (1 + s) * np.pi / 2) ** 2
    np.testing.assert_allclose(ab[:500], (f / f[0])[1:501], rtol=1e-10)
    assert np.all(cos <= 0.999) and np.all(cos > 0)


def test_bound_of_a_perfect_denoiser_for_gaussian_data_is_below_the_log_density():
    """For N(0, I) data the optimal noise prediction is sqrt(1 - ab_t) x_t; with it
    the bound is at most (and close to) the exact log-density."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((4000, 2))
    model = DDPM(n_steps=100, max_iter=1, random_state=0).fit(X)
    ab = torch.as_tensor(model.alphas_cumprod_)

    class Oracle(torch.nn.Module):
        def forward(self, x, t):
            return torch.sqrt(1 - ab[t - 1]).unsqueeze(-1) * x

    model.module_ = Oracle()
    model._input_mean_, model._input_scale_ = np.zeros(2), np.ones(2)
    X_test = rng.standard_normal((500, 2))
    exact = -0.5 * (X_test**2).sum(1) - np.log(2 * np.pi)
    bound = model.score_samples(X_test)
    gap = exact.mean() - bound.mean()  # >= 0 up to the Monte-Carlo noise of the bound
    assert -0.01 < gap < 0.1, gap


def test_quality_on_two_moons(moons_ddpm):
    """CI size (80 epochs): within 1 nat of the entropy; the benchmark checks 0.4 nats
    at full size (200 epochs: 1.41 nats)."""
    X_test = make_two_moons(300, random_state=1)
    nll = -moons_ddpm.score(X_test)
    assert nll < entropy("two_moons") + 1.0, nll


def test_bound_is_deterministic_and_per_row(moons_ddpm):
    X = make_two_moons(30, random_state=2)
    a = moons_ddpm.score_samples(X)
    np.testing.assert_array_equal(a, moons_ddpm.score_samples(X))
    np.testing.assert_allclose(moons_ddpm.score_samples(X[5:8]), a[5:8], rtol=1e-12)
    other = pickle.loads(pickle.dumps(moons_ddpm))
    other._noise_seed_ = 99
    assert not np.array_equal(other.score_samples(X), a)


@pytest.mark.parametrize("params", [dict(sampler="ancestral"),
                                    dict(sampler="ddim", n_sampling_steps=20),
                                    dict(sampler="ddim", n_sampling_steps=20, eta=1.0)])
def test_samplers_reproduce_the_data(moons_ddpm, params):
    model = pickle.loads(pickle.dumps(moons_ddpm)).set_params(**params)
    S = model.sample(1000, random_state=0)
    X = make_two_moons(1000, random_state=3)
    np.testing.assert_allclose(S.mean(0), X.mean(0), atol=0.12)
    np.testing.assert_allclose(S.std(0), X.std(0), rtol=0.2)
    np.testing.assert_array_equal(S, model.sample(1000, random_state=0))


def test_ddim_eta0_is_deterministic_given_the_start(moons_ddpm):
    model = pickle.loads(pickle.dumps(moons_ddpm)).set_params(
        sampler="ddim", n_sampling_steps=10, eta=0.0)
    a = model.sample(5, random_state=np.random.default_rng(1))
    b = model.sample(5, random_state=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)


def test_bad_input():
    X = make_two_moons(40, random_state=0)
    with pytest.raises(ValueError):
        DDPM(schedule="quadratic").fit(X)
    with pytest.raises(ValueError):
        DDPM(n_steps=0).fit(X)
    with pytest.raises(ValueError):
        DDPM(max_iter=1).fit(np.array([[np.inf, 0.0], [1.0, 2.0]]))


def test_gpu_pickle_samples_on_cpu(moons_ddpm):
    if torch.cuda.is_available():
        pytest.skip("simulates a CPU-only machine")
    state = moons_ddpm.__getstate__()
    state["_device_"] = "cuda:0"
    gpu = DDPM.__new__(DDPM)
    gpu.__setstate__(pickle.loads(pickle.dumps(state)))
    np.testing.assert_array_equal(gpu.sample(5, random_state=0),
                                  moons_ddpm.sample(5, random_state=0))


def test_training_steps_are_drawn_half_uniformly_half_by_bound_weight():
    """pi(t) = 1/(2T) + w_t / (2 sum w), w_t the weight of step t's noise-prediction
    error in the bound (beta_t / (2 alpha_t (1 - alphabar_t)), 1 / (2 alpha_1) at t=1)."""
    model = DDPM(n_steps=50, max_iter=1, random_state=0).fit(
        make_two_moons(64, random_state=0))
    beta = np.linspace(20 * 1e-4, 20 * 0.02, 50)
    ab = np.cumprod(1 - beta)
    w = beta / (2 * (1 - beta) * (1 - ab))
    w[0] = 1 / (2 * (1 - beta[0]))
    p = model._step_probs("cpu").numpy()
    np.testing.assert_allclose(p, 0.5 / 50 + 0.5 * w / w.sum(), rtol=1e-12)
    assert abs(p.sum() - 1) < 1e-12 and p[0] > p[1] > p[2] > p[10]


def test_fourier_features_of_the_noisy_input():
    from mlnotes.density._fourier import _FourierFeatures

    x = torch.tensor([[0.5, -2.0]], dtype=torch.float64)
    out = _FourierFeatures(2, 3, dtype=torch.float64)(x)
    k = np.array([1.0, 2.0, 4.0])
    expected = np.concatenate([[0.5, -2.0], np.sin(0.5 * k), np.sin(-2.0 * k),
                               np.cos(0.5 * k), np.cos(-2.0 * k)])
    np.testing.assert_allclose(out.numpy()[0], expected, rtol=1e-12)
    net = DDPM(n_steps=20, max_iter=1, fourier_features=3, random_state=0).fit(
        make_two_moons(64, random_state=0)).module_
    assert net.net[0].in_features == 2 * 7 + 32
    plain = DDPM(n_steps=20, max_iter=1, fourier_features=0, random_state=0).fit(
        make_two_moons(64, random_state=0)).module_
    assert plain.features is None and plain.net[0].in_features == 2 + 32
