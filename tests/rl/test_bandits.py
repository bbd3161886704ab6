"""Bandits: regret growth of each policy, bounds by hand, vectorised runs."""

import numpy as np
import pytest

from mlnotes.rl.bandits import (
    UCB1,
    BernoulliBandit,
    EpsilonGreedy,
    GaussianBandit,
    LinearContextualBandit,
    LinUCB,
    ThompsonSampling,
    lai_robbins_bound,
    simulate,
    ucb1_regret_bound,
)

MEANS = [0.2, 0.5, 0.7]
T = 3000


@pytest.fixture(scope="module")
def regrets():
    bandit = BernoulliBandit(MEANS)
    return {name: simulate(bandit, policy, T, n_runs=300, random_state=0).mean(axis=0)
            for name, policy in [("eps", EpsilonGreedy(0.1)), ("ucb", UCB1()),
                                 ("ts", ThompsonSampling())]}


def test_epsilon_greedy_regret_is_linear(regrets):
    r = regrets["eps"]
    slope = (r[-1] - r[T // 2]) / (T - T // 2 - 1)
    # exploring with probability 0.1 costs 0.1 * mean gap per pull: (0.5 + 0.2 + 0) / 3
    assert slope == pytest.approx(0.1 * (0.5 + 0.2) / 3, rel=0.25)


def test_ucb1_regret_is_logarithmic_and_below_its_bound(regrets):
    r = regrets["ucb"]
    assert r[-1] < ucb1_regret_bound(MEANS, T)
    # logarithmic growth: each doubling of T adds about the same regret (b ln 2);
    # linear growth would double the increment
    first = r[T // 2 - 1] - r[T // 4 - 1]
    second = r[T - 1] - r[T // 2 - 1]
    assert second < 1.4 * first
    assert (r[-1] - r[T // 2]) / (T // 2) < 0.01  # per-pull regret vanishing


def test_thompson_beats_ucb1_on_bernoulli_arms(regrets):
    assert regrets["ts"][-1] < regrets["ucb"][-1]
    assert regrets["ts"][-1] < regrets["eps"][-1]


def test_bounds_by_hand():
    # gaps 0.1: KL(0.5 || 0.6) = 0.5 ln(0.5/0.6) + 0.5 ln(0.5/0.4)
    kl = 0.5 * np.log(0.5 / 0.6) + 0.5 * np.log(0.5 / 0.4)
    assert lai_robbins_bound([0.5, 0.6], 100) == pytest.approx(np.log(100) * 0.1 / kl)
    assert lai_robbins_bound([0.0, 1.0], 10, kind="gaussian", sigma=2.0) == pytest.approx(
        np.log(10) * 1.0 / (1.0 / 8.0))
    assert ucb1_regret_bound([0.5, 0.6], 100) == pytest.approx(
        8 * np.log(100) / 0.1 + (1 + np.pi**2 / 3) * 0.1)


def test_regret_is_the_sum_of_gaps_of_the_pulled_arms():
    class Fixed(EpsilonGreedy):  # always pulls arm 0
        def select(self, rng, contexts=None):
            return np.zeros(self.counts.shape[0], dtype=int)

    r = simulate(BernoulliBandit([0.2, 0.9]), Fixed(), 10, n_runs=3, random_state=0)
    np.testing.assert_allclose(r, np.tile(0.7 * np.arange(1, 11), (3, 1)))


def test_gaussian_thompson_and_linucb_are_sublinear():
    r = simulate(GaussianBandit([0.0, 0.5, 1.0]), ThompsonSampling("gaussian"), 1500,
                 n_runs=200, random_state=0).mean(axis=0)
    assert (r[-1] - r[749]) < 0.3 * r[749]
    theta = np.random.default_rng(0).normal(size=(4, 5))
    r = simulate(LinearContextualBandit(theta, noise=0.1), LinUCB(), 1000, n_runs=50,
                 random_state=0).mean(axis=0)
    assert (r[-1] - r[499]) < 0.2 * r[499]


def test_same_seed_same_regret_and_bad_input():
    a = simulate(BernoulliBandit(MEANS), UCB1(), 50, n_runs=5, random_state=3)
    b = simulate(BernoulliBandit(MEANS), UCB1(), 50, n_runs=5, random_state=3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="means"):
        BernoulliBandit([0.5, 1.5])
    with pytest.raises(ValueError, match="means"):
        BernoulliBandit([0.5])
    with pytest.raises(ValueError, match="horizon"):
        simulate(BernoulliBandit(MEANS), UCB1(), 0)
    with pytest.raises(ValueError, match="contextual"):
        simulate(BernoulliBandit(MEANS), LinUCB(), 5)
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedy(1.5)
