"""Learning-theory bounds: closed forms computed here, inversions, and simulations."""

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlnotes.learning_theory import (
    finite_class_bound,
    finite_class_sample_size,
    growth_function_bound,
    hoeffding_bound,
    hoeffding_epsilon,
    hoeffding_sample_size,
    sauer_lemma,
    vc_bound,
    vc_sample_size,
)

# ------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("n, eps, a, b", [(10, 0.1, 0, 1), (1000, 0.05, 0, 1),
                                          (50, 0.5, -1, 3), (7, 2.0, 0, 10)])
def test_hoeffding_closed_forms(n, eps, a, b):
    w = b - a
    assert hoeffding_bound(n, eps, lower=a, upper=b) == pytest.approx(
        2 * math.exp(-2 * n * eps**2 / w**2), rel=1e-12)
    assert hoeffding_bound(n, eps, lower=a, upper=b, two_sided=False) == pytest.approx(
        math.exp(-2 * n * eps**2 / w**2), rel=1e-12)
    delta = 0.05
    assert hoeffding_epsilon(n, delta, lower=a, upper=b) == pytest.approx(
        w * math.sqrt(math.log(2 / delta) / (2 * n)), rel=1e-12)
    assert hoeffding_sample_size(eps, delta, lower=a, upper=b) == math.ceil(
        w**2 * math.log(2 / delta) / (2 * eps**2))


@pytest.mark.parametrize("eps, delta", [(0.1, 0.05), (0.01, 0.01), (0.3, 0.5),
                                        (0.05, 1e-6)])
def test_hoeffding_inversions(eps, delta):
    n = hoeffding_sample_size(eps, delta)
    assert hoeffding_bound(n, eps) <= delta < hoeffding_bound(n - 1, eps) or n == 1
    assert hoeffding_epsilon(n, delta) <= eps
    assert hoeffding_bound(100, hoeffding_epsilon(100, delta)) == pytest.approx(delta)


def test_hoeffding_broadcasts():
    out = hoeffding_bound(np.array([10, 100, 1000]), 0.1)
    np.testing.assert_allclose(out, 2 * np.exp(-2 * np.array([10, 100, 1000]) * 0.01))
    assert isinstance(hoeffding_bound(10, 0.1), float)
    assert isinstance(hoeffding_sample_size(0.1, 0.1), int)


@pytest.mark.parametrize("k, m, delta", [(1, 100, 0.05), (1000, 10_000, 0.05),
                                         (10**6, 500, 0.01)])
def test_finite_class_closed_forms(k, m, delta):
    assert finite_class_bound(k, m, delta) == pytest.approx(
        math.sqrt(math.log(2 * k / delta) / (2 * m)), rel=1e-12)
    assert finite_class_bound(k, m, delta, realizable=True) == pytest.approx(
        (math.log(k) + math.log(1 / delta)) / m, rel=1e-12)
    gamma = 0.05
    assert finite_class_sample_size(k, gamma, delta) == math.ceil(
        math.log(2 * k / delta) / (2 * gamma**2))
    assert finite_class_sample_size(k, gamma, delta, realizable=True) == math.ceil(
        (math.log(k) + math.log(1 / delta)) / gamma)
    # the bound at the sample size reaches the target
    m_star = finite_class_sample_size(k, gamma, delta)
    assert finite_class_bound(k, m_star, delta) <= gamma
    assert finite_class_bound(k, m_star - 1, delta) > gamma
    # one hypothesis: the union bound is Hoeffding's inequality
    assert finite_class_bound(1, m, delta) == pytest.approx(hoeffding_epsilon(m, delta))


def test_sauer_lemma_closed_form():
    assert sauer_lemma(10, 2) == 1 + 10 + 45
    assert sauer_lemma(3, 5) == 8
    assert sauer_lemma(0, 0) == 1 and sauer_lemma(5, 0) == 1
    for m in range(1, 30):
        for d in range(0, 6):
            assert sauer_lemma(m, d) == sum(math.comb(m, i) for i in range(min(m, d) + 1))
            if 1 <= d <= m:
                assert sauer_lemma(m, d) <= (math.e * m / d) ** d


def _intervals_growth(m):
    """Labellings of m points on a line realised by indicators of intervals [a, b]."""
    labelings = {(0,) * m}
    for i in range(m):
        for j in range(i, m):
            labelings.add(tuple(1 if i <= t <= j else 0 for t in range(m)))
    return len(labelings)


def _halfplanes_through_origin_growth(m, seed=0):
    """Labellings of m points in general position by sign(w . x), counted by brute force."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 2))
    angles = np.sort(np.arctan2(X[:, 1], X[:, 0]))
    # candidate directions: between consecutive critical angles (+- pi/2)
    crit = np.sort(np.concatenate([angles + np.pi / 2, angles - np.pi / 2]) % (2 * np.pi))
    mids = (crit + np.roll(crit, -1) + 2 * np.pi * (np.arange(crit.size) == crit.size - 1)) / 2
    W = np.stack([np.cos(mids), np.sin(mids)], axis=1)
    return len({tuple((X @ w > 0).astype(int)) for w in W})


def test_sauer_lemma_is_tight_for_intervals():
    """Intervals on the line have VC dimension 2 and growth function 1 + m + m(m-1)/2."""
    for m in range(1, 12):
        assert _intervals_growth(m) == sauer_lemma(m, 2)


def test_growth_function_of_halfplanes_is_below_sauer():
    """Homogeneous half-planes in R^2: VC dimension 2, growth 2m <= Sauer's bound."""
    for m in range(1, 15):
        g = _halfplanes_through_origin_growth(m)
        assert g == 2 * m
        assert g <= sauer_lemma(m, 2)


def test_vc_bound_is_the_growth_bound_with_sauer():
    for m in (1, 5, 100, 10_000):
        for d in (0, 1, 3, 10):
            expected = math.sqrt(8 / m * (math.log(sauer_lemma(2 * m, d))
                                          + math.log(4 / 0.05)))
            assert vc_bound(m, d, 0.05) == pytest.approx(expected, rel=1e-10)
            assert growth_function_bound(m, lambda k: sauer_lemma(k, d), 0.05) == \
                pytest.approx(expected, rel=1e-10)
    # a number works as well as a callable, huge integers included
    assert growth_function_bound(10, 21, 0.1) == pytest.approx(
        math.sqrt(0.8 * (math.log(21) + math.log(40))))
    big = sauer_lemma(2 * 10**4, 50)
    assert growth_function_bound(10**4, big, 0.1) == pytest.approx(vc_bound(10**4, 50, 0.1))


@pytest.mark.parametrize("d, eps, delta", [(0, 0.5, 0.1), (1, 0.1, 0.05), (3, 0.2, 0.01),
                                           (10, 0.3, 0.05), (5, 5.0, 0.5)])
def test_vc_sample_size_is_minimal(d, eps, delta):
    m = vc_sample_size(d, eps, delta)
    assert vc_bound(m, d, delta) <= eps
    assert m == 1 or vc_bound(m - 1, d, delta) > eps


# --------------------------------------------------------------------- simulations


@pytest.mark.parametrize("p, n, eps", [(0.5, 50, 0.1), (0.1, 200, 0.05), (0.9, 20, 0.2)])
def test_hoeffding_holds_in_simulation(p, n, eps):
    rng = np.random.default_rng(0)
    trials = 20_000
    means = rng.binomial(n, p, size=trials) / n
    freq = np.mean(np.abs(means - p) >= eps)
    bound = hoeffding_bound(n, eps)
    # the frequency estimates a probability <= bound; allow 4 standard errors
    assert freq <= bound + 4 * math.sqrt(bound * (1 - min(bound, 1)) / trials + 1e-12)
    # one-sided
    freq1 = np.mean(means - p >= eps)
    b1 = hoeffding_bound(n, eps, two_sided=False)
    assert freq1 <= b1 + 4 * math.sqrt(b1 * (1 - min(b1, 1)) / trials + 1e-12)


def _threshold_risks(thresholds, noise):
    """True risk of h_t(x) = 1[x >= t] for x ~ U[0, 1], y = 1[x >= 1/2] flipped w.p. noise."""
    return noise + (1 - 2 * noise) * np.abs(thresholds - 0.5)


def test_union_bound_agnostic_in_simulation():
    """A finite class of k thresholds: sup_h |train error - risk| <= gamma w.p. >= 1 - delta."""
    rng = np.random.default_rng(1)
    thresholds = np.linspace(0, 1, 51)
    noise, m, delta, trials = 0.2, 200, 0.1, 1000
    risk = _threshold_risks(thresholds, noise)
    gamma = finite_class_bound(thresholds.size, m, delta)
    worst = np.empty(trials)
    excess = np.empty(trials)
    for t in range(trials):
        x = rng.uniform(size=m)
        y = (x >= 0.5) ^ (rng.uniform(size=m) < noise)
        train_err = np.mean((x[:, None] >= thresholds[None, :]) != y[:, None], axis=0)
        worst[t] = np.max(np.abs(train_err - risk))
        excess[t] = risk[np.argmin(train_err)] - risk.min()
    assert np.mean(worst > gamma) <= delta
    assert np.mean(excess > 2 * gamma) <= delta  # ERM is within 2 gamma of the best


def test_union_bound_realizable_in_simulation():
    """Realizable thresholds: every hypothesis consistent with m examples has risk
    <= (ln k + ln 1/delta) / m with probability >= 1 - delta."""
    rng = np.random.default_rng(2)
    thresholds = np.linspace(0, 1, 101)
    m, delta, trials = 60, 0.1, 2000
    risk = np.abs(thresholds - 0.5)
    eps = finite_class_bound(thresholds.size, m, delta, realizable=True)
    failures = 0
    for _ in range(trials):
        x = rng.uniform(size=m)
        y = x >= 0.5
        consistent = np.all((x[:, None] >= thresholds[None, :]) == y[:, None], axis=0)
        failures += np.max(risk[consistent]) > eps
    assert failures / trials <= delta


def test_vc_bound_in_simulation():
    """Thresholds on the real line (VC dimension 1): the uniform deviation over the
    infinite class stays below the VC bound."""
    rng = np.random.default_rng(3)
    m, delta, noise, trials = 500, 0.1, 0.1, 300
    gamma = vc_bound(m, 1, delta)
    failures = 0
    for _ in range(trials):
        x = rng.uniform(size=m)
        y = (x >= 0.5) ^ (rng.uniform(size=m) < noise)
        # the sup over the class, over the sample points, a fine grid and the kink at 1/2
        t = np.concatenate([x, np.linspace(0, 1, 1001)])
        train_err = np.mean((x[:, None] >= t[None, :]) != y[:, None], axis=0)
        failures += np.max(np.abs(train_err - _threshold_risks(t, noise))) > gamma
    assert failures / trials <= delta


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, match", [
    (lambda: hoeffding_bound(0, 0.1), "n_samples"),
    (lambda: hoeffding_bound(10, 0.0), "epsilon"),
    (lambda: hoeffding_bound(10, 0.1, lower=1, upper=1), "upper must be greater"),
    (lambda: hoeffding_sample_size(0.1, 1.0), "delta"),
    (lambda: hoeffding_epsilon(10, np.nan), "delta"),
    (lambda: finite_class_bound(0, 10, 0.1), "n_hypotheses"),
    (lambda: finite_class_sample_size(10, -0.1, 0.1), "epsilon"),
    (lambda: sauer_lemma(-1, 2), "n_samples"),
    (lambda: vc_bound(10, -1, 0.1), "vc_dim"),
    (lambda: vc_bound(10, 1, 0.0), "delta"),
    (lambda: growth_function_bound(10, 0.5, 0.1), "growth"),
    (lambda: vc_sample_size(1, 0.0, 0.1), "epsilon"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_integer_counts_are_rejected():
    with pytest.raises(TypeError, match="vc_dim"):
        vc_bound(10, 1.5, 0.1)
    with pytest.raises(ValueError, match="integer"):
        hoeffding_bound(10.5, 0.1)
    with pytest.raises(ValueError, match="integer"):
        finite_class_bound(2.5, 10, 0.1)
    with pytest.raises(TypeError, match="n_samples"):
        hoeffding_bound("x", 0.1)


# ---------------------------------------------------------------------- properties


@settings(max_examples=50, deadline=None)
@given(m=st.integers(1, 10**6), d=st.integers(0, 50),
       delta=st.floats(1e-9, 0.99), factor=st.integers(2, 10))
def test_bounds_shrink_with_more_data(m, d, delta, factor):
    assert vc_bound(m * factor, d, delta) < vc_bound(m, d, delta)
    assert vc_bound(m, d, delta) <= vc_bound(m, d + 1, delta)
    assert hoeffding_epsilon(m * factor, delta) < hoeffding_epsilon(m, delta)
    assert finite_class_bound(10, m * factor, delta) < finite_class_bound(10, m, delta)
    assert vc_bound(m, d, delta) >= vc_bound(m, d, min(0.995, delta * 1.01))
