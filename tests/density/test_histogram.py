import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.exceptions import NotFittedError

from mlnotes.density import Histogram


def _counts_log_probs(X, n_levels, alpha):
    """Smoothed per-feature frequencies computed directly, feature by feature."""
    out = np.zeros((X.shape[1], n_levels))
    for j in range(X.shape[1]):
        for k in range(n_levels):
            out[j, k] = (np.sum(X[:, j] == k) + alpha) / (X.shape[0] + alpha * n_levels)
    return np.log(out)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 3.0])
def test_known_answer_counts(alpha):
    rng = np.random.RandomState(0)
    X = rng.randint(0, 6, size=(200, 3))
    X[0, 0] = 7  # levels 0..7 with 6 never seen
    est = Histogram(alpha=alpha).fit(X)
    assert est.n_levels_ == 8
    np.testing.assert_array_equal(est.levels_, np.arange(8))
    assert est.bin_edges_ is None
    with np.errstate(divide="ignore"):
        expected = _counts_log_probs(X, 8, alpha)
    np.testing.assert_allclose(est.log_probs_, expected, rtol=1e-12)


def test_exact_log_likelihood_tiny():
    X = np.array([[0, 1], [1, 1], [1, 0], [1, 1]])
    est = Histogram(alpha=0.0).fit(X)
    # feature 0: p(0)=1/4, p(1)=3/4; feature 1: p(0)=1/4, p(1)=3/4.
    expected = np.log([1 / 4 * 3 / 4, 3 / 4 * 3 / 4, 3 / 4 * 1 / 4, 3 / 4 * 3 / 4])
    np.testing.assert_allclose(est.score_samples(X), expected, rtol=1e-12)
    assert est.score(X) == pytest.approx(np.mean(expected), rel=1e-12)
    # Laplace smoothing, alpha=1: (count + 1) / (4 + 2).
    est1 = Histogram(alpha=1.0).fit(X)
    np.testing.assert_allclose(
        est1.score_samples([[0, 0]]), [np.log(2 / 6) + np.log(2 / 6)], rtol=1e-12
    )


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_normalised_integer(alpha):
    rng = np.random.RandomState(1)
    X = rng.randint(0, 5, size=(100, 3))
    est = Histogram(alpha=alpha).fit(X)
    rows = np.array(list(itertools.product(range(5), repeat=3)))
    with np.errstate(over="ignore"):
        assert np.exp(est.score_samples(rows)).sum() == pytest.approx(1.0, abs=1e-10)


def test_non_levels_have_zero_mass():
    est = Histogram().fit(np.array([[0], [2], [1]]))
    s = est.score_samples([[0.5], [3], [-1], [2]])
    assert np.all(np.isneginf(s[:3])) and np.isfinite(s[3])


def test_sampling_frequencies_converge():
    rng = np.random.RandomState(2)
    p_true = np.array([0.1, 0.4, 0.2, 0.3])
    X = np.column_stack([rng.choice(4, 500, p=p_true), rng.choice(4, 500, p=p_true[::-1])])
    est = Histogram(alpha=0.5).fit(X)
    S = est.sample(20000, random_state=0)
    assert S.dtype == np.int64
    for j in range(2):
        obs = np.bincount(S[:, j], minlength=4)
        exp = 20000 * np.exp(est.log_probs_[j])
        assert stats.chisquare(obs, exp).pvalue > 1e-4


def test_sampling_zero_mass_level_never_drawn():
    est = Histogram(alpha=0.0).fit(np.array([[0], [2], [2]]))
    S = est.sample(2000, random_state=0)
    assert set(np.unique(S)) == {0, 2}


def test_quantisation_float_data():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(300, 2)) * [1.0, 10.0] + [0.0, 5.0]
    est = Histogram(alpha=0.0).fit(X)
    assert est.n_levels_ == 256 and est.levels_ is None
    assert est.bin_edges_.shape == (2, 257)
    for j in range(2):
        np.testing.assert_allclose(
            est.bin_edges_[j], np.linspace(X[:, j].min(), X[:, j].max(), 257)
        )
        # Counts agree with numpy's own equal-width histogram (last bin closed).
        counts, _ = np.histogram(X[:, j], bins=256, range=(X[:, j].min(), X[:, j].max()))
        with np.errstate(divide="ignore"):
            np.testing.assert_allclose(est.log_probs_[j], np.log(counts / 300), rtol=1e-12)
    # Out-of-range values clip to the end bins.
    lo, hi = X.min(axis=0), X.max(axis=0)
    np.testing.assert_allclose(est.score_samples([lo - 100]), est.score_samples([lo]))
    np.testing.assert_allclose(est.score_samples([hi + 100]), est.score_samples([hi]))
    # Samples are bin centres, within the training range.
    S = est.sample(500, random_state=0)
    assert S.dtype == np.float64
    assert np.all(S >= lo) and np.all(S <= hi)
    centres = 0.5 * (est.bin_edges_[:, :-1] + est.bin_edges_[:, 1:])
    for j in range(2):
        assert np.all(np.isin(S[:, j], centres[j]))


def test_binary_floats_are_integer_data():
    X = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    est = Histogram().fit(X)
    assert est.n_levels_ == 2 and est.bin_edges_ is None


def test_explicit_n_levels():
    est = Histogram(n_levels=6).fit(np.array([[0], [3]]))
    assert est.log_probs_.shape == (1, 6)
    with pytest.raises(ValueError, match="n_levels"):
        Histogram(n_levels=2).fit(np.array([[0], [3]]))


def test_bad_input():
    X = np.array([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="NaN"):
        Histogram().fit(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="infinity"):
        Histogram().fit(np.array([[0.0, np.inf]]))
    with pytest.raises(ValueError, match="alpha"):
        Histogram(alpha=-1.0).fit(X)
    with pytest.raises(NotFittedError):
        Histogram().score_samples(X)
    est = Histogram().fit(X)
    with pytest.raises(ValueError, match="features"):
        est.score_samples(np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="NaN"):
        est.score_samples(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.integers(0, 9), min_size=2, max_size=2), min_size=n,
                     max_size=n),
            st.permutations(list(range(n))),
        )
    ),
    st.sampled_from([0.0, 1.0]),
)
def test_row_permutation_invariance(data, alpha):
    rows, perm = data
    X = np.array(rows)
    a = Histogram(alpha=alpha).fit(X)
    b = Histogram(alpha=alpha).fit(X[perm])
    np.testing.assert_array_equal(a.log_probs_, b.log_probs_)
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))


def test_1d_heldout_nll_close_to_entropy():
    """Issue 7's 1-D known answer: 20,000 samples over 100 levels, NLL within 0.02 nats."""
    rng = np.random.RandomState(4)
    k = np.arange(100)
    p = np.exp(-0.5 * ((k - 40) / 12.0) ** 2) + 0.5 * np.exp(-0.5 * ((k - 80) / 5.0) ** 2)
    p /= p.sum()
    entropy = -np.sum(p * np.log(p))
    X = rng.choice(100, size=(40000, 1), p=p)
    X[0, 0] = 99  # the levels are 0..99
    est = Histogram().fit(X[:20000])
    assert est.n_levels_ == 100
    assert abs(-est.score(X[20000:]) - entropy) < 0.02
