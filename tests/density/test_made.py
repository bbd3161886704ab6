"""MADE (mlnotes.density.MADE): masks, heads, ensembles, known answers, digits.

The density contract (shapes, normalisation, pickling, the autoregressive mask check
on the default single-mask model) runs through tests/test_common.py; this file checks
what is specific to MADE.
"""

import itertools
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split

from mlnotes.density import MADE
from mlnotes.density._made import _hidden_degrees, _input_degrees, _made_masks
from mlnotes.utils.estimator_checks import (
    check_density_autoregressive_mask,
    check_density_normalised_discrete,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _all_rows(n_features, n_levels):
    return np.array(list(itertools.product(range(n_levels), repeat=n_features)))


def _rank(ordering):
    rank = np.empty(len(ordering), dtype=int)
    rank[np.asarray(ordering)] = np.arange(len(ordering))
    return rank


# ------------------------------------------------------------------------ the masks


@pytest.mark.parametrize("sizes", [(), (7,), (5, 9), (3, 3, 3)])
@pytest.mark.parametrize("connectivity", ["random", "deterministic"])
def test_mask_product_is_strictly_lower_triangular_in_the_ordering(sizes, connectivity):
    """Paths from input i to output j exist only if i comes before j."""
    d = 6
    rng = np.random.RandomState(0)
    for _ in range(5):
        order = rng.permutation(d)
        masks = _made_masks(_input_degrees(order),
                            _hidden_degrees(sizes, d, connectivity, rng))
        paths = np.eye(d, dtype=np.int64)
        for m in masks:
            paths = m.astype(np.int64) @ paths  # (out, in): number of paths
        rank = _rank(order)
        allowed = rank[:, None] > rank[None, :]  # output j may see input i
        assert not np.any(paths[~allowed]), "a path from a later feature"
        if connectivity == "deterministic" and all(s >= d - 1 for s in sizes):
            # with enough units every allowed connection is realised
            assert np.all(paths[allowed] > 0)


def test_hidden_degrees_ranges():
    rng = np.random.RandomState(0)
    degs = _hidden_degrees((50, 50), 8, "random", rng)
    for deg in degs:
        assert deg.min() >= 1 and deg.max() <= 7
    assert degs[1].min() >= degs[0].min()
    det = _hidden_degrees((10,), 8, "deterministic", rng)[0]
    np.testing.assert_array_equal(det, 1 + np.arange(10) % 7)
    # one feature: nothing to condition on
    assert set(_hidden_degrees((4,), 1, "random", rng)[0]) == {1}


@pytest.mark.parametrize("n_levels", [2, 3])
@pytest.mark.parametrize("n_masks", [1, 3])
def test_jacobian_of_each_mask_set_respects_its_ordering(n_levels, n_masks):
    """Changing x_i changes the logits of feature j only if i precedes j."""
    d = 5
    X = np.random.RandomState(0).randint(0, n_levels, size=(80, d))
    est = MADE(hidden_layer_sizes=(12, 12), n_masks=n_masks, ordering="random",
               activation="tanh", dropout=0.0, max_iter=5, early_stopping=False,
               random_state=0).fit(X)
    module = est.module_
    x = torch.as_tensor(X[:10])
    for m in range(n_masks):
        rank = _rank(est.orderings_[m])
        base = module(x, m).detach()
        seen = 0
        for i in range(d):
            changed = x.clone()
            changed[:, i] = (changed[:, i] + 1) % n_levels
            diff = (module(changed, m).detach() - base).abs()
            diff = diff.reshape(10, d, -1).amax(dim=(0, 2)).numpy()
            later = rank > rank[i]
            assert np.all(diff[~later] == 0), f"mask {m}: feature {i} leaks"
            seen += int(np.sum(diff[later] > 0))
        assert seen > 0  # the network is not constant: conditioning happens


@pytest.mark.parametrize("sizes", [(), (8, 8)])
@pytest.mark.parametrize("ordering", ["random", [3, 0, 2, 1]])
def test_density_checks_other_architectures(sizes, ordering):
    """Fully visible and two-layer networks, other orderings: the mask check holds."""
    est = MADE(hidden_layer_sizes=sizes, ordering=ordering, max_iter=20, random_state=0)
    check_density_autoregressive_mask("MADE", est)
    check_density_normalised_discrete("MADE", est.set_params(ordering="random"))
    X = _joint_data(100, 8)  # binary: the Bernoulli head
    fitted = MADE(hidden_layer_sizes=sizes, max_iter=20, random_state=0).fit(X)
    assert abs(np.exp(fitted.score_samples(_all_rows(3, 2))).sum() - 1.0) < 1e-9


def test_orderings():
    X = np.random.RandomState(1).randint(0, 2, size=(60, 5))
    est = MADE(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    np.testing.assert_array_equal(est.ordering_, np.arange(5))
    est = MADE(hidden_layer_sizes=(8,), ordering=[3, 1, 4, 0, 2], max_iter=2,
               n_masks=2, random_state=0).fit(X)
    np.testing.assert_array_equal(est.ordering_, [3, 1, 4, 0, 2])
    np.testing.assert_array_equal(est.orderings_, [[3, 1, 4, 0, 2]] * 2)
    est = MADE(hidden_layer_sizes=(8,), ordering="random", n_masks=4, max_iter=2,
               random_state=0).fit(X)
    assert est.orderings_.shape == (4, 5)
    for order in est.orderings_:
        assert sorted(order) == list(range(5))
    np.testing.assert_array_equal(est.ordering_, est.orderings_[0])
    assert len({tuple(o) for o in est.orderings_}) > 1
    again = MADE(hidden_layer_sizes=(8,), ordering="random", n_masks=4, max_iter=2,
                 random_state=0).fit(X)
    np.testing.assert_array_equal(again.orderings_, est.orderings_)


# ------------------------------------------------------------- heads and ensembles


def _joint_data(n, seed):
    """3 binary features with a known joint (x2 = x0 xor x1 with prob 0.9)."""
    rng = np.random.RandomState(seed)
    x0 = (rng.rand(n) < 0.3).astype(int)
    x1 = np.where(rng.rand(n) < 0.75, x0, 1 - x0)
    x2 = np.where(rng.rand(n) < 0.9, x0 ^ x1, 1 - (x0 ^ x1))
    return np.column_stack([x0, x1, x2])


@pytest.mark.parametrize("n_levels", ["auto", 3])
def test_learns_a_known_joint(n_levels):
    """Maximum likelihood on 3 binary features: the empirical joint (both heads)."""
    X = _joint_data(4000, 0)
    est = MADE(hidden_layer_sizes=(32,), n_levels=n_levels, dropout=0.0,
               early_stopping=False, learning_rate_init=0.01, max_iter=60,
               learning_rate="cosine",
               random_state=0).fit(X)
    assert est.n_levels_ == (2 if n_levels == "auto" else 3)
    rows = _all_rows(3, 2)
    empirical = np.array([np.mean(np.all(X == r, axis=1)) for r in rows])
    model = np.exp(est.score_samples(rows))
    np.testing.assert_allclose(model, empirical, atol=0.01)
    # the unused level 2 of the categorical head gets almost no mass
    assert model.sum() > (0.98 if n_levels == 3 else 1 - 1e-9)


@pytest.mark.parametrize("n_levels", ["auto", 3])
def test_bernoulli_and_categorical_heads_normalise(n_levels):
    X = _joint_data(100, 1)
    est = MADE(hidden_layer_sizes=(10,), n_levels=n_levels, max_iter=10,
               random_state=0).fit(X)
    k = est.n_levels_
    total = np.exp(est.score_samples(_all_rows(3, k))).sum()
    assert abs(total - 1.0) < 1e-9
    # the Bernoulli head is a two-level softmax
    if k == 2:
        lp = est.module_.log_probs(torch.as_tensor(X[:5])).detach()
        np.testing.assert_allclose(torch.logsumexp(lp, -1).numpy(), 0.0, atol=1e-12)


@pytest.mark.parametrize("n_levels, d", [(2, 4), (3, 3)])
def test_ensemble_is_normalised_and_is_the_mixture(n_levels, d):
    X = np.random.RandomState(2).randint(0, n_levels, size=(100, d))
    est = MADE(hidden_layer_sizes=(16,), n_masks=4, ordering="random", max_iter=20,
               random_state=0).fit(X)
    rows = _all_rows(d, n_levels)
    ss = est.score_samples(rows)
    assert abs(np.exp(ss).sum() - 1.0) < 1e-9
    # log-mean-exp of the members' masses, each member normalised on its own
    module = est.module_
    with torch.no_grad():
        members = np.stack([module.row_log_likelihood(torch.as_tensor(rows), m).numpy()
                            for m in range(4)], axis=1)
    np.testing.assert_allclose(np.exp(members).sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(ss, logsumexp(members, axis=1) - np.log(4), atol=1e-12)
    # conditionals are those of the first mask set
    np.testing.assert_allclose(est.conditional_log_likelihood(rows).sum(axis=1),
                               members[:, 0], atol=1e-10)
    assert est.score(rows) == pytest.approx(ss.mean(), abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(d=st.integers(1, 4), n_levels=st.integers(1, 4), n_masks=st.integers(1, 3),
       sizes=st.lists(st.integers(1, 6), max_size=2), seed=st.integers(0, 10**6))
def test_normalised_for_any_shape(d, n_levels, n_masks, sizes, seed):
    """Edge cases included (one feature, one level, no hidden layer): mass sums to 1."""
    rng = np.random.RandomState(seed)
    X = rng.randint(0, n_levels, size=(30, d))
    X[0] = n_levels - 1  # every level up to n_levels - 1 is a level
    est = MADE(hidden_layer_sizes=tuple(sizes), n_masks=n_masks, ordering="random",
               max_iter=3, random_state=seed).fit(X)
    assert est.n_levels_ == n_levels
    rows = _all_rows(d, n_levels)
    assert abs(np.exp(est.score_samples(rows)).sum() - 1.0) < 1e-9
    S = est.sample(5, random_state=0)
    assert S.shape == (5, d) and S.min() >= 0 and S.max() < n_levels


def test_ensemble_sampling_follows_the_mixture():
    X = _joint_data(600, 3)
    est = MADE(hidden_layer_sizes=(16,), n_masks=3, ordering="random", max_iter=30,
               learning_rate_init=0.01, random_state=0).fit(X)
    S = est.sample(20000, random_state=0)
    rows = _all_rows(3, 2)
    freq = np.array([np.mean(np.all(S == r, axis=1)) for r in rows])
    np.testing.assert_allclose(freq, np.exp(est.score_samples(rows)), atol=0.015)
    np.testing.assert_array_equal(est.sample(7, random_state=5),
                                  est.sample(7, random_state=5))


def test_ensemble_pickle_and_reproducible_fit():
    X = np.random.RandomState(3).randint(0, 3, size=(80, 4))
    kw = dict(hidden_layer_sizes=(12,), n_masks=3, ordering="random", max_iter=10,
              random_state=7)
    est = MADE(**kw).fit(X)
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est.score_samples(X), copy.score_samples(X))
    np.testing.assert_array_equal(est.sample(9, random_state=1),
                                  copy.sample(9, random_state=1))
    state = torch.random.get_rng_state()
    again = MADE(**kw).fit(X)
    assert torch.equal(state, torch.random.get_rng_state())
    np.testing.assert_array_equal(est.score_samples(X), again.score_samples(X))


def test_tiny_data_train_without_early_stopping():
    X = np.array([[0, 1], [1, 1], [1, 0], [0, 0], [1, 1]])
    est = MADE(hidden_layer_sizes=(4,), max_iter=5).fit(X)
    assert est.validation_scores_ is None
    big = MADE(hidden_layer_sizes=(4,), max_iter=5).fit(np.tile(X, (10, 1)))
    assert len(big.validation_scores_) == big.n_iter_


def test_quantised_data_use_the_categorical_head():
    X = np.random.RandomState(0).randn(120, 3)
    est = MADE(hidden_layer_sizes=(8,), n_levels=5, max_iter=5, random_state=0).fit(X)
    assert est.n_levels_ == 5 and est.levels_ is None
    centres = 0.5 * (est.bin_edges_[:, :-1] + est.bin_edges_[:, 1:])
    grid = np.array([[centres[j, k] for j, k in enumerate(idx)]
                     for idx in itertools.product(range(5), repeat=3)])
    assert abs(np.exp(est.score_samples(grid)).sum() - 1.0) < 1e-9


# ---------------------------------------------------------------- binarized digits


def test_digits_held_out_nll_ci_sized():
    """Binarized digits, default parameters cut to 80 epochs (the benchmark runs the
    full default fit, about 17.5 nats): below the 18.5 nats of the best-model criterion
    and of an 80-component Bernoulli mixture (independent pixels: about 25.2)."""
    X = (load_digits().data >= 8).astype(np.int64)
    X_tr, X_te = train_test_split(X, test_size=0.3, random_state=0)
    est = MADE(max_iter=80, random_state=0).fit(X_tr)
    nll = -est.score(X_te)
    assert nll < 18.2, nll


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_inf_rejected(bad):
    X = _joint_data(50, 4).astype(float)
    est = MADE(hidden_layer_sizes=(4,), max_iter=2).fit(X)
    X_bad = X.copy()
    X_bad[2, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        MADE(max_iter=2).fit(X_bad)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.score_samples(X_bad)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.conditional_log_likelihood(X_bad)


def test_bad_shapes_and_parameters():
    X = _joint_data(50, 5)
    with pytest.raises(NotFittedError):
        MADE().score_samples(X)
    with pytest.raises(NotFittedError):
        MADE().sample(2)
    est = MADE(hidden_layer_sizes=(4,), max_iter=2, n_masks=2).fit(X)
    for Xw in (X[:, :2], np.hstack([X, X])):
        with pytest.raises(ValueError, match="features"):
            est.score_samples(Xw)
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)
    with pytest.raises(ValueError, match="permutation"):
        MADE(ordering=[0, 1, 1], max_iter=2).fit(X)
    with pytest.raises(ValueError, match="permutation"):
        MADE(ordering=[0, 1], max_iter=2).fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MADE(hidden_layer_sizes=(4, 0), max_iter=2).fit(X)
    with pytest.raises(ValueError, match="n_masks"):
        MADE(n_masks=0).fit(X)
    with pytest.raises(ValueError, match="n_levels"):
        MADE(n_levels=1, max_iter=2).fit(X)
    with pytest.raises(ValueError, match="dropout"):
        MADE(dropout=1.0).fit(X)


def test_values_outside_the_levels_have_zero_mass():
    X = _joint_data(60, 6)
    for n_masks in (1, 2):
        est = MADE(hidden_layer_sizes=(4,), max_iter=2, n_masks=n_masks).fit(X)
        out = est.score_samples([[0, 1, 0], [0, 2, 0], [0.5, 1, 1], [-1, 0, 0]])
        assert np.isfinite(out[0]) and np.all(np.isneginf(out[1:]))


def test_divergence_stops_with_an_error():
    X = _joint_data(100, 7)
    with pytest.raises(ValueError, match="diverged"):
        MADE(hidden_layer_sizes=(8,), learning_rate_init=1e38, early_stopping=False,
             max_iter=20, random_state=0).fit(X)
