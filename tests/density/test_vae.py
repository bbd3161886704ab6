"""VAE (mlnotes.density.VAE): the importance-weighted bound, decoders, quality.

check_estimator and the density contract run through tests/test_common.py.
"""

import itertools
import pickle

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from mlnotes.datasets import entropy, make_two_moons
from mlnotes.density import VAE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def moons_vae():
    X = make_two_moons(1500, random_state=0)
    return VAE(max_iter=150, random_state=0).fit(X)


def _grid(lo, hi, n):
    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(lo[1], hi[1], n)
    G = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    return G, (xs[1] - xs[0]) * (ys[1] - ys[0])


def test_exp_bound_integrates_to_about_one(moons_vae):
    """exp(IWAE bound) is an unbiased estimate of p(x): its integral is about 1.

    This checks the importance weights and the log-determinant of the
    standardisation (a wrong scale would move the integral by its factor).
    """
    G, cell = _grid((-2.5, -1.8), (3.5, 2.3), 70)
    total = np.exp(moons_vae.score_samples(G)).sum() * cell
    assert 0.93 < total < 1.07, total


def test_bound_tightens_with_more_importance_samples(moons_vae):
    X = make_two_moons(500, random_state=1)
    vae = pickle.loads(pickle.dumps(moons_vae))

    def expected_bound(k, n_seeds):  # the bound's mean over the noise
        vae.set_params(n_importance_samples=k)
        values = []
        for seed in range(n_seeds):
            vae._noise_seed_ = seed
            values.append(vae.score(X))
        return np.mean(values)

    scores = [expected_bound(1, 30), expected_bound(10, 10), expected_bound(200, 2)]
    assert scores[0] < scores[1] < scores[2], scores
    assert scores[2] - scores[0] > 0.02


def test_quality_on_two_moons(moons_vae):
    """CI size (1,500 rows, 150 epochs): the held-out bound beats one Gaussian and
    is within 0.6 nats of the true entropy (the benchmark checks 0.4 at full size)."""
    from sklearn.mixture import GaussianMixture

    X = make_two_moons(1500, random_state=0)
    X_test = make_two_moons(2000, random_state=1)
    nll = -moons_vae.score(X_test)
    gauss = -GaussianMixture(1).fit(X).score(X_test)
    assert nll < gauss - 0.3, (nll, gauss)
    assert nll < entropy("two_moons") + 0.6, nll


def test_bound_is_deterministic_per_random_state(moons_vae):
    X = make_two_moons(50, random_state=2)
    a = moons_vae.score_samples(X)
    np.testing.assert_array_equal(a, moons_vae.score_samples(X))
    # each row's bound depends on that row only (the noise is shared by all rows)
    np.testing.assert_allclose(moons_vae.score_samples(X[7:9]), a[7:9], rtol=1e-12)
    other = pickle.loads(pickle.dumps(moons_vae))
    other._noise_seed_ = 123
    assert not np.array_equal(other.score_samples(X), a)


def test_transform_is_the_latent_mean(moons_vae):
    X = make_two_moons(20, random_state=3)
    Z = moons_vae.transform(X)
    assert Z.shape == (20, 2) and Z.dtype == np.float64
    Xs = (X - moons_vae._input_mean_) / moons_vae._input_scale_
    with torch.no_grad():
        mu, _ = moons_vae.module_.encode(torch.as_tensor(Xs))
    np.testing.assert_allclose(Z, mu.numpy(), rtol=1e-12)


def test_samples_look_like_the_data(moons_vae):
    S = moons_vae.sample(2000, random_state=0)
    X = make_two_moons(2000, random_state=4)
    np.testing.assert_allclose(S.mean(0), X.mean(0), atol=0.1)
    np.testing.assert_allclose(S.std(0), X.std(0), rtol=0.15)


def test_bernoulli_decoder_on_binary_data_is_normalised():
    rng = np.random.RandomState(0)
    a = rng.randint(0, 2, 400)
    X = np.column_stack([a, a, rng.randint(0, 2, 400)]).astype(float)
    vae = VAE(max_iter=150, batch_size=50, n_importance_samples=2000,
              random_state=0).fit(X)
    assert vae.likelihood_ == "bernoulli"
    rows = np.array(list(itertools.product([0, 1], repeat=3)), dtype=float)
    log_mass = vae.score_samples(rows)
    # unbiased mass estimates: they sum to about 1, and the copied feature is learned
    assert abs(logsumexp(log_mass) - 0.0) < 0.05
    same = rows[:, 0] == rows[:, 1]
    assert np.exp(log_mass[same]).sum() > 0.8
    assert np.all(vae.score_samples(np.array([[0.5, 0, 1.0], [2, 0, 0]])) == -np.inf)
    S = vae.sample(50, random_state=0)
    assert set(np.unique(S)) <= {0.0, 1.0}


def test_bad_input():
    X = make_two_moons(50, random_state=0)
    with pytest.raises(ValueError, match="bernoulli"):
        VAE(likelihood="bernoulli", max_iter=2).fit(X)
    with pytest.raises(ValueError):
        VAE(kl_warmup=2.0).fit(X)
    with pytest.raises(ValueError):
        VAE(max_iter=2).fit(np.array([[np.nan, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="n_samples"):
        VAE(max_iter=2, random_state=0).fit(X).sample(0)


def test_gpu_pickle_samples_on_cpu(moons_vae):
    """A model fitted on a GPU (its pickle names CUDA) scores and samples on CPU."""
    if torch.cuda.is_available():
        pytest.skip("simulates a CPU-only machine")
    X = make_two_moons(10, random_state=5)
    state = moons_vae.__getstate__()
    state["_device_"] = "cuda:0"
    gpu = VAE.__new__(VAE)
    gpu.__setstate__(pickle.loads(pickle.dumps(state)))
    np.testing.assert_array_equal(gpu.sample(5, random_state=0),
                                  moons_vae.sample(5, random_state=0))
    np.testing.assert_array_equal(gpu.score_samples(X), moons_vae.score_samples(X))


def test_iwae_training_bound_is_above_the_elbo(moons_vae):
    """The training objective with K' = 8 importance samples is a tighter bound than
    the ELBO (K' = 1) of the same model, averaged over the training noise."""
    X = torch.as_tensor((make_two_moons(400, random_state=6) - moons_vae._input_mean_)
                        / moons_vae._input_scale_)
    vae = pickle.loads(pickle.dumps(moons_vae))

    def bound(k):
        vae.set_params(n_train_importance_samples=k)
        vae._generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            return np.mean([-float(vae._neg_elbo(vae.module_, X, None, 400.0, 1.0))
                            for _ in range(20)])

    elbo, iwae = bound(1), bound(8)
    assert iwae > elbo + 0.005, (elbo, iwae)
    assert iwae <= moons_vae.set_params(n_importance_samples=100).score(
        make_two_moons(400, random_state=6)) + np.log(moons_vae._input_scale_).sum() + 0.05
