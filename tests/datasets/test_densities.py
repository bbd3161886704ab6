"""The 2-D densities of mlnotes.datasets: samples follow log_density, known entropies."""

import math

import numpy as np
import pytest
from sklearn.datasets import make_moons

from mlnotes.datasets import (
    DENSITIES,
    entropy,
    log_density,
    make_checkerboard,
    make_density,
    make_two_moons,
)


@pytest.mark.parametrize("name", DENSITIES)
def test_shapes_reproducible_and_global_rng_untouched(name):
    state = np.random.get_state()
    a = make_density(name, 301, random_state=3)
    b = make_density(name, 301, random_state=3)
    c = make_density(name, 301)
    after = np.random.get_state()
    assert a.shape == (301, 2) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


@pytest.mark.parametrize("name", DENSITIES)
def test_log_density_integrates_to_one(name):
    # a coarser grid than entropy() uses (h = 0.4 sigma still resolves the Gaussians)
    step = 0.04
    g = np.arange(-5 + step / 2, 5, step)
    gx, gy = np.meshgrid(g, g, indexing="ij")
    p = np.exp(log_density(name, np.column_stack([gx.ravel(), gy.ravel()])))
    assert abs(p.sum() * step**2 - 1.0) < 2e-3


@pytest.mark.parametrize("name", DENSITIES)
def test_entropy_matches_monte_carlo_of_the_samples(name):
    # -mean log p over samples of the generator estimates the entropy of the density
    # the generator actually draws from: ties log_density to the samplers.
    X = make_density(name, 20000, random_state=0)
    lp = log_density(name, X)
    assert np.all(np.isfinite(lp))
    se = lp.std() / math.sqrt(lp.size)
    assert abs(-lp.mean() - entropy(name)) < 4 * se + 2e-3


def test_known_values():
    assert entropy("checkerboard") == pytest.approx(math.log(32.0), abs=1e-15)
    # well-separated equal mixture: log 8 + entropy of N(0, s^2 I_2), s = 0.5/sqrt(2),
    # minus a small overlap correction
    sep = math.log(8) + 1 + math.log(2 * math.pi * 0.125)
    assert sep - 0.02 < entropy("eight_gaussians") < sep
    assert entropy("two_moons") == pytest.approx(1.007, abs=2e-3)
    # the twist preserves area, so the pinwheel has the entropy of its untwisted
    # mixture of five well-separated Gaussians (std 0.5 x 0.12), minus a small overlap
    sep = math.log(5) + 1 + math.log(2 * math.pi * 0.5 * 0.12)
    assert sep - 0.005 < entropy("pinwheel") < sep


def test_pinwheel_twist_keeps_the_radius_and_inverts():
    # points of one untwisted arm: the log-density of the twisted points equals the
    # mixture's log-density of the untwisted ones (area-preserving warp)
    from mlnotes.datasets._densities import _rotate

    rng = np.random.RandomState(0)
    u = rng.standard_normal((50, 2)) * 2
    r = np.sqrt((u**2).sum(axis=1))
    x = _rotate(u, 0.6 * r)
    np.testing.assert_allclose(np.sqrt((x**2).sum(axis=1)), r, rtol=1e-12)
    np.testing.assert_allclose(_rotate(x, -0.6 * r), u, atol=1e-12)


def test_two_moons_is_sklearn_make_moons():
    X = make_two_moons(100, random_state=5)
    Y, _ = make_moons(100, noise=0.1, random_state=5)
    np.testing.assert_array_equal(X, Y)


def test_checkerboard_support():
    X = make_checkerboard(5000, random_state=1)
    cells = np.floor(X).astype(int)
    assert np.all((cells >= -4) & (cells < 4))
    assert np.all((cells.sum(axis=1) % 2) == 0)
    assert len({tuple(c) for c in cells}) == 32
    assert np.isneginf(log_density("checkerboard", [[0.5, -0.5], [5.0, 0.0]])).all()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_n_samples(bad):
    with pytest.raises(ValueError, match="n_samples"):
        make_density("rings", bad)


def test_bad_name_and_shape():
    with pytest.raises(ValueError, match="Unknown density"):
        make_density("spiral", 10)
    with pytest.raises(ValueError, match="Unknown density"):
        entropy("spiral")
    with pytest.raises(ValueError, match="shape"):
        log_density("rings", np.zeros((4, 3)))
    with pytest.raises(ValueError, match="noise"):
        make_two_moons(10, noise=-1.0)
