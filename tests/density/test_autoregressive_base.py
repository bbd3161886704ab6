"""The autoregressive base (mlnotes.density._base) on a tiny fully visible model.

The toy model has one logit table per ordered pair of features: the conditional of
feature j is a softmax of ``b_j + sum_{i before j} W[j, i, x_i]``. It is small enough
to check fitting, the mask, sampling and the density contract in seconds, and a
mask bug in the base (wrong ordering, a leak of later features) shows up here first.
"""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from mlnotes.density._base import AutoregressiveDensity
from mlnotes.utils.estimator_checks import (
    check_density_autoregressive_mask,
    yield_density_checks,
)


class _PairTable(torch.nn.Module):
    def __init__(self, n_features, n_levels, ordering):
        super().__init__()
        rank = np.empty(n_features, dtype=np.int64)
        rank[np.asarray(ordering)] = np.arange(n_features)
        mask = torch.as_tensor(rank[None, :] < rank[:, None], dtype=torch.float32)
        self.register_buffer("mask", mask)  # mask[j, i]: i is generated before j
        self.weight = torch.nn.Parameter(torch.zeros(n_features, n_features, n_levels,
                                                     n_levels))
        self.bias = torch.nn.Parameter(torch.zeros(n_features, n_levels))
        self.n_levels = n_levels

    def forward(self, x):
        onehot = torch.nn.functional.one_hot(x, self.n_levels).to(self.bias.dtype)
        w = self.weight * self.mask.to(self.bias.dtype)[:, :, None, None]
        return self.bias + torch.einsum("nik,jikl->njl", onehot, w)


class ToyAR(AutoregressiveDensity):
    """Fully visible pairwise autoregressive model (test double)."""

    _parameter_constraints = {
        **AutoregressiveDensity._levels_constraints,
        "reverse": ["boolean"],
        "max_iter": [int],
        "random_state": ["random_state"],
    }

    def __init__(self, n_levels="auto", reverse=True, max_iter=150, random_state=0):
        self.n_levels = n_levels
        self.reverse = reverse
        self.max_iter = max_iter
        self.random_state = random_state

    def _make_ordering(self, n_features):
        order = np.arange(n_features)
        return order[::-1] if self.reverse else order

    def _module_spec(self, X, Y):
        return dict(n_features=X.shape[1], n_levels=self.n_levels_,
                    ordering=self.ordering_.tolist())

    def _build_module(self, n_features, n_levels, ordering):
        return _PairTable(n_features, n_levels, ordering)

    @property
    def learning_rate_init(self):
        return 0.05


def _chain_data(n, seed):
    """x0 uniform on 3 levels; x1 = x0 with prob 0.8, else uniform over the others."""
    rng = np.random.RandomState(seed)
    x0 = rng.randint(0, 3, n)
    keep = rng.rand(n) < 0.8
    x1 = np.where(keep, x0, (x0 + rng.randint(1, 3, n)) % 3)
    return np.column_stack([x0, x1])


def test_learns_the_chain_conditionals():
    X = _chain_data(3000, 0)
    est = ToyAR(reverse=False).fit(X)
    # p(x1 | x0) for all 9 pairs against the generating distribution
    rows = np.array([[a, b] for a in range(3) for b in range(3)])
    cond = np.exp(est.conditional_log_likelihood(rows))
    # maximum likelihood = the empirical conditional frequencies
    counts = np.zeros((3, 3))
    np.add.at(counts, (X[:, 0], X[:, 1]), 1)
    empirical_x1 = (counts / counts.sum(axis=1, keepdims=True))[rows[:, 0], rows[:, 1]]
    empirical_x0 = (counts.sum(axis=1) / len(X))[rows[:, 0]]
    np.testing.assert_allclose(cond[:, 1], empirical_x1, atol=0.025)
    np.testing.assert_allclose(cond[:, 0], empirical_x0, atol=0.025)
    # the joint of the model sums to one over all rows
    assert np.isclose(np.exp(est.score_samples(rows)).sum(), 1.0, atol=1e-9)


def test_sampling_follows_the_model():
    est = ToyAR(reverse=True).fit(_chain_data(3000, 1))
    S = est.sample(20000, random_state=0)
    assert S.dtype == np.int64 and S.min() >= 0 and S.max() <= 2
    agree = np.mean(S[:, 0] == S[:, 1])
    assert abs(agree - 0.8) < 0.02
    # reproducible and not the global RNG's
    np.testing.assert_array_equal(est.sample(5, random_state=3),
                                  est.sample(5, random_state=3))


def test_ordering_and_mask():
    est = ToyAR(reverse=True)
    check_density_autoregressive_mask("ToyAR", est)
    fitted = clone(est).fit(_chain_data(200, 2))
    np.testing.assert_array_equal(fitted.ordering_, [1, 0])


def test_mask_check_catches_a_leak():
    class Leaky(ToyAR):
        def _build_module(self, n_features, n_levels, ordering):
            module = super()._build_module(n_features, n_levels, ordering)
            module.mask.fill_(1.0)  # every feature sees every other: not autoregressive
            return module

    with pytest.raises(AssertionError, match="depends on features generated after"):
        check_density_autoregressive_mask("Leaky", Leaky(max_iter=30))


@pytest.mark.parametrize("check", list(yield_density_checks(ToyAR())),
                         ids=lambda c: c.__name__)
def test_density_contract(check):
    check("ToyAR", ToyAR(max_iter=30))


def test_quantised_data_and_values_outside_levels():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3)
    est = ToyAR(max_iter=20).fit(X)
    assert est.n_levels_ == 256 and est.levels_ is None
    S = est.sample(10, random_state=0)
    assert S.dtype == np.float64 and S.shape == (10, 3)
    Xi = _chain_data(100, 3)
    est = ToyAR(max_iter=20).fit(Xi)
    out = est.score_samples([[0, 1], [0.5, 1], [3, 0], [-1, 0]])
    assert np.isfinite(out[0]) and np.all(np.isneginf(out[1:]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_input(bad):
    X = _chain_data(50, 4).astype(float)
    est = ToyAR(max_iter=5).fit(X)
    X_bad = X.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        ToyAR(max_iter=5).fit(X_bad)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.score_samples(X_bad)
    with pytest.raises(ValueError, match="features"):
        est.score_samples(X[:, :1])
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


def test_divergence_stops_with_an_error():
    class Exploding(ToyAR):
        @property
        def learning_rate_init(self):
            return 1e38  # float32 weights overflow: inf logits, NaN loss

    with pytest.raises(ValueError, match="diverged"):
        Exploding(max_iter=50).fit(_chain_data(100, 5))
