"""Checks of the density-model contract of CONTRIBUTING.md ("Density models").

scikit-learn's ``check_estimator`` never calls ``sample`` and barely touches
``score_samples``; these checks cover the rest of the contract for any estimator with
the density tag (a subclass of :class:`mlnotes.base.DensityMixin`).
:func:`yield_density_checks` yields the ones that apply to an estimator, and the
common test runs them over every density estimator that ``all_estimators`` finds.
"""

import itertools
import pickle

import numpy as np
from sklearn.base import clone

__all__ = [
    "check_density_autoregressive_mask",
    "check_density_normalised_continuous",
    "check_density_normalised_discrete",
    "check_density_pickle",
    "check_density_sampling_reproducible",
    "check_density_score_is_mean",
    "check_density_shapes",
    "yield_density_checks",
]


def _integer_data(n_samples=60, n_features=2, n_levels=4, seed=0):
    """Small integer data with every level of every feature present."""
    rng = np.random.RandomState(seed)
    X = rng.randint(0, n_levels, size=(n_samples, n_features))
    X[:n_levels] = np.arange(n_levels)[:, None]
    return X


def _fitted(estimator, X):
    """A fitted clone, seeded as scikit-learn's checks seed theirs.

    ``random_state=None`` would make a check's outcome depend on what ran before
    it in the same process (a stochastic fit, a Monte-Carlo bound): like
    scikit-learn's ``check_estimator``, the checks fix ``random_state=0``.
    """
    est = clone(estimator)
    if "random_state" in est.get_params():
        est.set_params(random_state=0)
    return est.fit(X)


def _has_likelihood(estimator):
    """False for a sampler without a likelihood (a GAN hides ``score_samples``)."""
    return hasattr(estimator, "score_samples")


def _is_discrete(estimator):
    """Discrete models learn their levels (an ``n_levels`` parameter)."""
    return "n_levels" in estimator.get_params()


def check_density_shapes(name, estimator):
    """``score_samples`` gives float64 ``(n,)``; ``sample`` gives ``(n_samples, n_features)``.

    Parameters
    ----------
    name : str
        Name of the estimator, for error messages.
    estimator : estimator instance
        An unfitted density estimator.

    Returns
    -------
    None
        Raises ``AssertionError`` if the check fails.
    """
    X = _integer_data(n_features=3)
    est = _fitted(estimator, X)
    if _has_likelihood(est):
        s = est.score_samples(X[:7])
        assert isinstance(s, np.ndarray), f"{name}: score_samples must return an ndarray"
        assert s.shape == (7,), f"{name}: score_samples shape {s.shape} != (7,)"
        assert s.dtype == np.float64, f"{name}: score_samples dtype {s.dtype} != float64"
    else:  # a sampler without a likelihood (GAN) hides score and score_samples
        assert not hasattr(est, "score") and not hasattr(est, "score_samples"), (
            f"{name}: without score_samples, score must be hidden too")
    for n in (1, 5):
        S = est.sample(n, random_state=0)
        assert S.shape == (n, 3), f"{name}: sample({n}) shape {S.shape} != ({n}, 3)"
    assert est.sample(random_state=0).shape == (1, 3), f"{name}: sample() is not one row"


def check_density_score_is_mean(name, estimator):
    """``score(X)`` is ``mean(score_samples(X))`` as a Python float.

    Parameters
    ----------
    name : str
        Name of the estimator, for error messages.
    estimator : estimator instance
        An unfitted density estimator.

    Returns
    -------
    None
        Raises ``AssertionError`` if the check fails.
    """
    X = _integer_data()
    est = _fitted(estimator, X)
    score = est.score(X)
    assert type(score) is float, f"{name}: score returned {type(score).__name__}, not float"
    expected = float(np.mean(est.score_samples(X)))
    assert np.isclose(score, expected, rtol=1e-12, atol=1e-12), (
        f"{name}: score {score} != mean(score_samples) {expected}"
    )


def check_density_sampling_reproducible(name, estimator):
    """Same ``random_state``, same samples; ``None`` is fresh entropy, not the global RNG.

    Parameters
    ----------
    name : str
        Name of the estimator, for error messages.
    estimator : estimator instance
        An unfitted density estimator.

    Returns
    -------
    None
        Raises ``AssertionError`` if the check fails.
    """
    X = _integer_data()
    est = _fitted(estimator, X)
    a = est.sample(50, random_state=42)
    b = est.sample(50, random_state=42)
    np.testing.assert_array_equal(a, b, err_msg=f"{name}: same random_state, other samples")
    state = np.random.get_state()
    c = est.sample(50, random_state=None)
    d = est.sample(50, random_state=None)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and (
        state[2:] == after[2:]
    ), f"{name}: sample(random_state=None) used numpy's global RNG"
    assert not np.array_equal(c, d), f"{name}: random_state=None gave identical samples"


def check_density_pickle(name, estimator):
    """A pickle round trip keeps ``score_samples`` and ``sample`` identical.

    Parameters
    ----------
    name : str
        Name of the estimator, for error messages.
    estimator : estimator instance
        An unfitted density estimator.

    Returns
    -------
    None
        Raises ``AssertionError`` if the check fails.
    """
    X = _integer_data()
    est = _fitted(estimator, X)
    copy = pickle.loads(pickle.dumps(est))
    if _has_likelihood(est):
        np.testing.assert_array_equal(
            est.score_samples(X), copy.score_samples(X),
            err_msg=f"{name}: score_samples changed through pickling",
        )
    np.testing.assert_array_equal(
        est.sample(20, random_state=3), copy.sample(20, random_state=3),
        err_msg=f"{name}: samples changed through pickling",
    )


def check_density_normalised_discrete(name, estimator):
    """On small integer data the mass over all possible rows sums to 1 (within 1e-6).

    Parameters
    ----------
    name : str
        Name of the estimator, for error messages.
    estimator : estimator instance
        An unfitted density estimator of discrete data.

    Returns
    -------
    None
        Raises ``AssertionError`` if the check fails.
    """
    n_levels, n_features = 4, 2
    X = _integer_data(n_features=n_features, n_levels=n_levels)
    est = _fitted(estimator, X)
    rows = np.array(list(itertools.product(range(n_levels), repeat=n_features)))
    total = float(np.exp(est.score_samples(rows)).sum())
    assert abs(total - 1.0) <= 1e-6, f"{name}: total probability {total} != 1"


def check_density_normalised_continuous(name, estimator):
    """On 2-D continuous data the density integrates to 1 on a fine grid (within 1%).

    For continuous models (no ``n_levels`` parameter): fitted on 300 rows of a
    correlated 2-D Gaussian, :math:`\\int \\exp(\\mathrm{score\\_samples})` by the
    midpoint rule over the mean +- 7 standard deviations. A model whose
    ``score_samples`` is a lower bound (class attribute ``_score_is_lower_bound =
    True``: VAE, diffusion) only needs the integral to be at most 1.1, on a 20 x 20
    grid instead of 240 x 240: such a bound is a Monte-Carlo estimate, and
    :math:`\\exp` of a noisy estimate overshoots on lucky draws (the integral of an
    unbiased IWAE estimate is about 1; a diffusion bound with 8 noise draws per
    step, 0.88-1.15 depending on the fit, so a model with ``n_bound_samples`` is
    scored with at least 32 draws), while an error in the bound itself (a missing
    log-determinant, a wrong weight) moves it by far more. Like every check here,
    the fit is seeded (``random_state=0``): with 32 draws DDPM's integral is 0.93
    at that seed and 0.85-1.14 over fit seeds 0-5 (1.01 at the worst seed with
    128 draws, so the spread is Monte-Carlo overshoot, not a wrong bound).

    Parameters
    ----------
    name : str
        Name of the estimator, for error messages.
    estimator : estimator instance
        An unfitted continuous density estimator.

    Returns
    -------
    None
        Raises ``AssertionError`` if the check fails.
    """
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 2)) @ np.array([[1.0, 0.6], [0.0, 0.8]]) + [1.0, -2.0]
    est = _fitted(estimator, X)
    bound = getattr(estimator, "_score_is_lower_bound", False)
    # a bound costs many network passes per row (diffusion: steps x noise draws) and
    # is only checked from above: a coarser grid suffices (the midpoint rule on a
    # Gaussian is accurate far beyond 1% at 0.7 standard deviations per cell)
    n = 20 if bound else 240
    if bound and "n_bound_samples" in est.get_params():
        # exp of a Monte-Carlo bound overshoots by about exp(variance / 2): with 8
        # noise draws per step a well-fitted DDPM integrated to 0.88-1.15 depending
        # on the thread count it was trained with; more draws shrink the overshoot
        est.set_params(n_bound_samples=max(32, est.n_bound_samples))
    lo, hi = X.mean(axis=0) - 7 * X.std(axis=0), X.mean(axis=0) + 7 * X.std(axis=0)
    step = (hi - lo) / n
    gx, gy = (lo[j] + step[j] * (np.arange(n) + 0.5) for j in range(2))
    grid = np.array(np.meshgrid(gx, gy, indexing="ij")).reshape(2, -1).T
    total = float(np.exp(est.score_samples(grid)).sum() * step[0] * step[1])
    if bound:
        assert total <= 1.1, f"{name}: a lower bound integrates to {total} > 1.1"
    else:
        assert abs(total - 1.0) <= 0.01, f"{name}: total probability {total} != 1"


def check_density_autoregressive_mask(name, estimator):
    """The conditional of feature j ignores the features after j in ``ordering_``.

    For an autoregressive model (one with ``conditional_log_likelihood``): the
    conditionals sum to ``score_samples``; ``ordering_`` is a permutation of the
    features; and for every position, redrawing the features generated after it
    leaves the conditional of that feature unchanged (within 1e-10), while the
    conditionals of the features before it may change.

    Parameters
    ----------
    name : str
        Name of the estimator, for error messages.
    estimator : estimator instance
        An unfitted autoregressive density estimator.

    Returns
    -------
    None
        Raises ``AssertionError`` if the check fails.
    """
    n_levels, n_features = 3, 4
    X = _integer_data(n_features=n_features, n_levels=n_levels)
    est = _fitted(estimator, X)
    order = np.asarray(est.ordering_)
    assert sorted(order.tolist()) == list(range(n_features)), (
        f"{name}: ordering_ {order} is not a permutation of the features"
    )
    rows = X[:12]
    cond = est.conditional_log_likelihood(rows)
    assert cond.shape == rows.shape, f"{name}: conditional_log_likelihood shape"
    np.testing.assert_allclose(
        cond.sum(axis=1), est.score_samples(rows), rtol=1e-10, atol=1e-10,
        err_msg=f"{name}: conditionals do not sum to score_samples",
    )
    rng = np.random.RandomState(0)
    for pos, j in enumerate(order):
        later = order[pos + 1:]
        if later.size == 0:
            continue
        changed = rows.copy()
        changed[:, later] = (rows[:, later] + rng.randint(1, n_levels, size=(
            rows.shape[0], later.size))) % n_levels
        np.testing.assert_allclose(
            est.conditional_log_likelihood(changed)[:, j], cond[:, j],
            rtol=0, atol=1e-10,
            err_msg=f"{name}: the conditional of feature {j} depends on features "
                    f"generated after it ({later.tolist()})",
        )


def yield_density_checks(estimator):
    """Yield the density checks that apply to ``estimator``.

    A sampler without a likelihood (no ``score_samples``, e.g. a GAN) gets the
    checks of ``sample`` only; the total-probability check runs for discrete models
    (those with an ``n_levels`` parameter).

    Parameters
    ----------
    estimator : estimator instance
        An unfitted density estimator.

    Yields
    ------
    check : callable
        A function ``check(name, estimator)`` that raises ``AssertionError`` on
        failure.
    """
    yield check_density_shapes
    if _has_likelihood(estimator):
        yield check_density_score_is_mean
    yield check_density_sampling_reproducible
    yield check_density_pickle
    if _has_likelihood(estimator) and _is_discrete(estimator):
        yield check_density_normalised_discrete
    elif _has_likelihood(estimator):
        yield check_density_normalised_continuous
    if hasattr(estimator, "conditional_log_likelihood"):
        yield check_density_autoregressive_mask
