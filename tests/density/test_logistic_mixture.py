"""DiscretizedLogisticMixture: exact masses, gradients, fitting, sampling, bad input."""

import itertools
import math
import pickle
import warnings

import mpmath
import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.exceptions import NotFittedError

from mlnotes.density import DiscretizedLogisticMixture
from mlnotes.density._logistic_mixture import (
    _discretized_logistic_log_mass,
    _mixture_log_probs,
    _mixture_objective,
)


def _logistic_cdf(t):
    return 1.0 / (1.0 + math.exp(-t))


def _analytic_masses(mu, s, n_levels):
    """Masses from the definition (CDF differences, tails to the edge levels)."""
    cdf = [_logistic_cdf((k + 0.5 - mu) / s) for k in range(n_levels - 1)]
    edges = [0.0] + cdf + [1.0]
    return np.diff(edges)


def _log_mass(mu, log_s, n_levels, dtype=torch.float64):
    return _discretized_logistic_log_mass(
        torch.tensor([mu], dtype=dtype), torch.tensor([log_s], dtype=dtype), n_levels
    )[0].numpy()


@pytest.mark.parametrize("mu, s", [(3.2, 1.5), (0.0, 0.7), (9.0, 4.0), (-2.0, 2.0),
                                   (5.5, 0.1)])
def test_single_component_analytic_masses(mu, s):
    n_levels = 10
    got = np.exp(_log_mass(mu, math.log(s), n_levels))
    np.testing.assert_allclose(got, _analytic_masses(mu, s, n_levels), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("mu", [-500.0, -3.0, 0.0, 37.3, 99.0, 150.0, 1e4])
@pytest.mark.parametrize("log_s", [-7.0, -2.0, 0.0, 3.0, 9.0, 12.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_masses_sum_to_one_for_extreme_parameters(mu, log_s, dtype):
    log_mass = _log_mass(mu, log_s, 100, dtype)
    assert np.all(np.isfinite(log_mass)) and np.all(log_mass <= 1e-6)
    total = np.exp(log_mass.astype(np.float64)).sum()
    assert total == pytest.approx(1.0, abs=1e-12 if dtype == torch.float64 else 2e-5)


def test_tail_masses_do_not_underflow():
    """Far-tail bins: exact to high precision where sigma(a) - sigma(b) underflows."""
    mu, s, n_levels = 2.0, 0.5, 200
    log_mass = _log_mass(mu, math.log(s), n_levels)
    mpmath.mp.dps = 400  # 1 - CDF ~ exp(-(k - mu)/s) goes down to 1e-171 here
    for k in (30, 100, 150, 198):
        a = mpmath.mpf(k + 0.5 - mu) / s
        b = mpmath.mpf(k - 0.5 - mu) / s
        exact = mpmath.log(1 / (1 + mpmath.exp(-a)) - 1 / (1 + mpmath.exp(-b)))
        assert log_mass[k] == pytest.approx(float(exact), rel=1e-12)
    # the naive difference of CDFs is 0 there (log = -inf); ours stays finite
    with np.errstate(over="ignore"):
        naive = (1 / (1 + np.exp(-(150.5 - mu) / s))) - (1 / (1 + np.exp(-(149.5 - mu) / s)))
    assert naive == 0.0 and np.isfinite(log_mass[150])
    # the last level takes the upper tail, level 0 almost everything below mu + 1/2
    assert log_mass[-1] == pytest.approx(-(n_levels - 1.5 - mu) / s, rel=1e-12)


def test_one_and_two_levels():
    assert _log_mass(0.3, 0.0, 1) == pytest.approx([0.0])
    got = np.exp(_log_mass(0.3, math.log(0.8), 2))
    p0 = _logistic_cdf((0.5 - 0.3) / 0.8)
    np.testing.assert_allclose(got, [p0, 1 - p0], rtol=1e-12)


def test_mixture_table_is_the_weighted_sum():
    logits = torch.tensor([[0.3, -1.0, 0.5]], dtype=torch.float64)
    means = torch.tensor([[2.0, 7.5, 11.0]], dtype=torch.float64)
    log_scales = torch.tensor([[0.2, -0.5, 0.9]], dtype=torch.float64)
    table = np.exp(_mixture_log_probs(logits, means, log_scales, 15)[0].numpy())
    w = np.exp(logits[0].numpy()) / np.exp(logits[0].numpy()).sum()
    expected = sum(w[c] * _analytic_masses(float(means[0, c]),
                                           math.exp(float(log_scales[0, c])), 15)
                   for c in range(3))
    np.testing.assert_allclose(table, expected, rtol=1e-12)


@pytest.mark.parametrize("n_levels", [1, 2, 7, 40])
def test_numpy_objective_matches_torch_autograd(n_levels):
    rng = np.random.RandomState(n_levels)
    d, C = 3, 4
    theta = rng.normal(size=3 * d * C)
    theta[2 * d * C:] *= 2.5
    theta[2 * d * C] = -9.0  # a log-scale below the clamp: zero gradient
    freq = rng.dirichlet(np.ones(n_levels), size=d)
    loss, grad = _mixture_objective(theta, freq, C)
    t = torch.tensor(theta, requires_grad=True)
    logits, means, log_scales = t.reshape(3, d, C)
    torch_loss = -(torch.tensor(freq) * _mixture_log_probs(
        logits, means, log_scales, n_levels)).sum()
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-10)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert grad[2 * d * C] == 0.0


def _two_gaussians():
    k = np.arange(100)
    p = np.exp(-0.5 * ((k - 30) / 9.0) ** 2) + 0.7 * np.exp(-0.5 * ((k - 70) / 6.0) ** 2)
    return p / p.sum()


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_1d_heldout_nll_close_to_entropy(solver):
    """Issue 7's 1-D known answer: 20,000 samples over 100 levels, within 0.05 nats."""
    p = _two_gaussians()
    entropy = -np.sum(p * np.log(p))
    rng = np.random.RandomState(7)
    X = rng.choice(100, size=(40000, 1), p=p)
    X[0, 0] = 99  # the levels are 0..99
    est = DiscretizedLogisticMixture(solver=solver, random_state=0).fit(X[:20000])
    assert est.n_levels_ == 100
    assert abs(-est.score(X[20000:]) - entropy) < 0.05
    # the fitted table is close to the true masses (total variation)
    assert 0.5 * np.abs(np.exp(est.log_probs_[0]) - p).sum() < 0.03


def test_recovers_a_discretized_logistic_mixture():
    """Data from the model itself: the fitted table matches the true one."""
    rng = np.random.RandomState(0)
    n, K = 50000, 60
    comp = rng.rand(n) < 0.3
    x = np.where(comp, rng.logistic(12.0, 2.0, n), rng.logistic(40.0, 4.0, n))
    X = np.clip(np.round(x), 0, K - 1)[:, None]
    X[0, 0] = K - 1
    est = DiscretizedLogisticMixture(n_components=2).fit(X)
    true = 0.3 * _analytic_masses(12.0, 2.0, K) + 0.7 * _analytic_masses(40.0, 4.0, K)
    np.testing.assert_allclose(np.exp(est.log_probs_[0]), true, atol=4e-3)
    order = np.argsort(est.means_[0])
    np.testing.assert_allclose(est.means_[0][order], [12.0, 40.0], atol=0.3)
    np.testing.assert_allclose(est.scales_[0][order], [2.0, 4.0], rtol=0.05)
    np.testing.assert_allclose(est.weights_[0][order], [0.3, 0.7], atol=0.02)


def test_fit_maximises_the_likelihood():
    """The fitted parameters are a stationary point: no small move improves the loss."""
    rng = np.random.RandomState(1)
    X = rng.binomial(20, 0.3, size=(3000, 2))
    X[0] = 20
    est = DiscretizedLogisticMixture(n_components=2, tol=1e-6, max_iter=2000).fit(X)
    module = est.module_
    theta = torch.cat([module.logits.reshape(-1), module.means.reshape(-1),
                       module.log_scales.reshape(-1)]).detach().numpy()
    freq = np.stack([np.bincount(X[:, j], minlength=21) / len(X) for j in range(2)])
    loss, grad = _mixture_objective(theta, freq, 2)
    # L-BFGS-B also stops on a relative decrease of 2e-9 of the loss (scipy's ftol)
    assert np.abs(grad).max() < 1e-4
    assert est.loss_ == pytest.approx(loss, rel=1e-10)
    assert -est.score(X) == pytest.approx(est.loss_, rel=1e-10)


def test_normalised_over_all_rows():
    rng = np.random.RandomState(2)
    X = rng.randint(0, 6, size=(200, 3))
    est = DiscretizedLogisticMixture(n_components=2).fit(X)
    rows = np.array(list(itertools.product(range(6), repeat=3)))
    assert np.exp(est.score_samples(rows)).sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(np.exp(est.log_probs_).sum(axis=1), 1.0, atol=1e-13)


def test_features_are_independent():
    rng = np.random.RandomState(3)
    X = rng.randint(0, 9, size=(400, 2))
    # a joint fit is the fits of each feature, up to the optimiser's stopping point
    params = dict(n_components=2, tol=1e-6, max_iter=5000)
    both = DiscretizedLogisticMixture(**params).fit(X)
    first = DiscretizedLogisticMixture(**params).fit(X[:, :1])
    second = DiscretizedLogisticMixture(**params).fit(X[:, 1:])
    np.testing.assert_allclose(
        both.score_samples(X),
        first.score_samples(X[:, :1]) + second.score_samples(X[:, 1:]), atol=2e-3)


def test_non_levels_have_zero_mass():
    est = DiscretizedLogisticMixture(n_components=1).fit(np.array([[0], [2], [1], [2]]))
    s = est.score_samples([[0.5], [3], [-1], [2]])
    assert np.all(np.isneginf(s[:3])) and np.isfinite(s[3])


def test_sampling_follows_the_table():
    rng = np.random.RandomState(4)
    X = rng.binomial(12, 0.4, size=(2000, 2))
    X[0] = 12
    est = DiscretizedLogisticMixture(n_components=2).fit(X)
    S = est.sample(30000, random_state=0)
    assert S.dtype == np.int64 and S.shape == (30000, 2)
    for j in range(2):
        obs = np.bincount(S[:, j], minlength=13)
        expected = 30000 * np.exp(est.log_probs_[j])
        keep = expected > 5  # pool the rare levels into one cell
        obs_k = np.append(obs[keep], obs[~keep].sum())
        exp_k = np.append(expected[keep], expected[~keep].sum())
        if exp_k[-1] == 0:
            obs_k, exp_k = obs_k[:-1], exp_k[:-1]
        assert stats.chisquare(obs_k, exp_k).pvalue > 1e-4
    np.testing.assert_array_equal(est.sample(7, random_state=3),
                                  est.sample(7, random_state=3))


def test_quantised_float_data():
    rng = np.random.RandomState(5)
    X = rng.normal(size=(2000, 2)) * [1.0, 10.0] + [0.0, 5.0]
    est = DiscretizedLogisticMixture().fit(X)
    assert est.n_levels_ == 256 and est.levels_ is None
    # a Gaussian's bins: close to the exact bin masses of the generating density
    for j, (m, sd) in enumerate([(0.0, 1.0), (5.0, 10.0)]):
        edges = est.bin_edges_[j].copy()
        edges[0], edges[-1] = -np.inf, np.inf
        true = np.diff(stats.norm.cdf(edges, m, sd))
        tv = 0.5 * np.abs(np.exp(est.log_probs_[j]) - true).sum()
        assert tv < 0.06
    lo, hi = X.min(axis=0), X.max(axis=0)
    np.testing.assert_allclose(est.score_samples([lo - 100]), est.score_samples([lo]))
    S = est.sample(100, random_state=0)
    assert S.dtype == np.float64 and np.all(S >= lo) and np.all(S <= hi)


def test_lbfgs_is_deterministic_and_pickles():
    rng = np.random.RandomState(6)
    X = rng.poisson(6.0, size=(500, 3))
    a = DiscretizedLogisticMixture(random_state=0).fit(X)
    b = DiscretizedLogisticMixture(random_state=1).fit(X)
    np.testing.assert_array_equal(a.log_probs_, b.log_probs_)
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.score_samples(X), c.score_samples(X))
    np.testing.assert_array_equal(a.means_, c.means_)


def test_bad_input():
    X = np.array([[0, 1], [1, 2], [2, 2]])
    with pytest.raises(ValueError, match="NaN"):
        DiscretizedLogisticMixture().fit(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="infinity"):
        DiscretizedLogisticMixture().fit(np.array([[0.0, np.inf]]))
    with pytest.raises(ValueError, match="n_components"):
        DiscretizedLogisticMixture(n_components=0).fit(X)
    with pytest.raises(ValueError, match="solver"):
        DiscretizedLogisticMixture(solver="newton").fit(X)
    with pytest.raises(ValueError, match="n_levels"):
        DiscretizedLogisticMixture(n_levels=2).fit(X)
    with pytest.raises(NotFittedError):
        DiscretizedLogisticMixture().score_samples(X)
    with pytest.raises(NotFittedError):
        DiscretizedLogisticMixture().sample(2)
    est = DiscretizedLogisticMixture(n_components=1).fit(X)
    with pytest.raises(ValueError, match="features"):
        est.score_samples(np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="NaN"):
        est.score_samples(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


def test_diverging_adam_fit_raises():
    """The likelihood is bounded, so only an absurd step overflows the parameters."""
    X = np.random.RandomState(0).randint(0, 50, size=(300, 2))
    est = DiscretizedLogisticMixture(solver="adam", learning_rate_init=1e38, max_iter=20,
                                     random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="diverged"):
            est.fit(X)
    assert not hasattr(est, "module_")
