"""TransformerAR: key-value cache, causality, known answers, digits, bad input."""

import copy
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mlnotes.density import TransformerAR
from mlnotes.density._base import AutoregressiveDensity
from mlnotes.utils.estimator_checks import check_density_autoregressive_mask

SMALL = dict(d_model=16, n_heads=2, n_layers=2, dim_feedforward=32)


def _chain_data(n, seed):
    """x0 uniform on 3 levels; x1 = x0 w.p. 0.8, else one of the two others;
    x2 = (x0 + x1) mod 3 w.p. 0.9, else uniform."""
    rng = np.random.RandomState(seed)
    x0 = rng.randint(0, 3, n)
    keep = rng.rand(n) < 0.8
    x1 = np.where(keep, x0, (x0 + rng.randint(1, 3, n)) % 3)
    x2 = np.where(rng.rand(n) < 0.9, (x0 + x1) % 3, rng.randint(0, 3, n))
    return np.column_stack([x0, x1, x2])


def _fit(X, **kw):
    params = dict(SMALL, random_state=0)
    params.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TransformerAR(**params).fit(X)


@pytest.fixture(scope="module")
def random_data():
    rng = np.random.RandomState(0)
    return rng.randint(0, 4, size=(300, 9))


@pytest.fixture(scope="module")
def fitted_random_order(random_data):
    return _fit(random_data, ordering="random", max_iter=3, early_stopping=False)


def _generic_samples(est, n, seed):
    module = est.module_
    with torch.inference_mode():
        idx = AutoregressiveDensity._sample_indices(est, module, n,
                                                    np.random.default_rng(seed))
    return est._level_values(idx)


@pytest.mark.parametrize("seed, n", [(0, 1), (1, 7), (2, 64), (3, 200)])
def test_cache_gives_the_same_samples(fitted_random_order, seed, n):
    est = fitted_random_order
    cached = copy.copy(est).set_params(use_cache=True)  # same fitted network
    plain = copy.copy(est).set_params(use_cache=False)
    a = cached.sample(n, random_state=seed)
    b = plain.sample(n, random_state=seed)
    c = _generic_samples(est, n, seed)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert a.shape == (n, 9)


def test_cached_conditionals_equal_the_full_forward(fitted_random_order):
    """Step-by-step logits with the cache equal the full causal forward (float64)."""
    est = fitted_random_order
    module = est.module_
    x = torch.as_tensor(np.random.RandomState(5).randint(0, 4, (11, 9)))
    with torch.inference_mode():
        tokens = module.shifted_tokens(x)
        full = module.sequence_logits(tokens)
        cache = module.new_cache(11)
        steps = [module.sequence_logits(tokens[:, i:i + 1], cache, i)
                 for i in range(9)]
    np.testing.assert_allclose(torch.cat(steps, dim=1).numpy(), full.numpy(),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("ordering", ["natural", "random"])
def test_causality(ordering):
    """Perturbing features later in the ordering leaves earlier logits unchanged,
    and perturbing an earlier feature changes a later conditional."""
    rng = np.random.RandomState(1)
    X = rng.randint(0, 3, size=(100, 6))
    est = _fit(X, ordering=ordering, max_iter=2, early_stopping=False)
    module, order = est.module_, est.ordering_
    x = torch.as_tensor(rng.randint(0, 3, (20, 6)))
    with torch.inference_mode():
        base = module(x)
        for pos in range(5):
            later = order[pos + 1:]
            y = x.clone()
            y[:, later] = (y[:, later] + 1) % 3
            out = module(y)
            seen = order[:pos + 1]
            np.testing.assert_array_equal(out[:, seen].numpy(), base[:, seen].numpy())
            if pos + 2 < 6:  # its conditional sees the changed feature order[pos + 1]
                assert not torch.equal(out[:, order[pos + 2]], base[:, order[pos + 2]])
    check_density_autoregressive_mask("TransformerAR", TransformerAR(
        **SMALL, ordering="random", max_iter=3, random_state=2))


def test_orderings():
    X = _chain_data(60, 0)
    assert _fit(X, max_iter=1).ordering_.tolist() == [0, 1, 2]
    assert _fit(X, max_iter=1, ordering=[2, 0, 1]).ordering_.tolist() == [2, 0, 1]
    a = _fit(X, max_iter=1, ordering="random", random_state=3).ordering_
    b = _fit(X, max_iter=1, ordering="random", random_state=3).ordering_
    np.testing.assert_array_equal(a, b)
    assert sorted(a.tolist()) == [0, 1, 2]


def test_learns_known_conditionals():
    """Maximum likelihood on 3,000 rows: the model's joint over all 27 rows is the
    empirical one (the maximum-likelihood answer), its conditionals the empirical
    conditional frequencies, and the mass over all rows is exactly 1."""
    X = _chain_data(3000, 0)
    est = _fit(X, dropout=0.0, weight_decay=0.0, max_iter=15, early_stopping=False,
               learning_rate_init=0.01, learning_rate="cosine", batch_size=100)
    rows = np.array([[a, b, c] for a in range(3) for b in range(3) for c in range(3)])
    counts = np.zeros((3, 3, 3))
    np.add.at(counts, (X[:, 0], X[:, 1], X[:, 2]), 1)
    empirical = counts / counts.sum()
    model = np.exp(est.score_samples(rows)).reshape(3, 3, 3)
    assert abs(model.sum() - 1.0) < 1e-10
    np.testing.assert_allclose(model, empirical, atol=0.01)
    assert np.sum(empirical * np.log(empirical / model)) < 0.003
    cond = np.exp(est.conditional_log_likelihood(rows))
    emp2 = (counts / counts.sum(2, keepdims=True))[rows[:, 0], rows[:, 1], rows[:, 2]]
    np.testing.assert_allclose(cond[:, 2], emp2, atol=0.03)
    # samples follow the learned chain
    S = est.sample(4000, random_state=0)
    assert abs(np.mean(S[:, 0] == S[:, 1]) - 0.8) < 0.04


def test_binarized_digits_ci():
    """CI-sized acceptance: a few epochs of a small model beat independent pixels."""
    X = (load_digits().data >= 8).astype(np.int64)
    X_tr, X_te = train_test_split(X, test_size=0.3, random_state=0)
    est = _fit(X_tr, d_model=32, n_heads=4, dim_feedforward=64, max_iter=8,
               dropout=0.0, learning_rate_init=0.01, learning_rate="cosine",
               early_stopping=False)
    p = X_tr.mean(axis=0).clip(1e-3, 1 - 1e-3)
    independent = -np.mean(X_te @ np.log(p) + (1 - X_te) @ np.log(1 - p))
    nll = -est.score(X_te)
    assert independent > 24.5
    assert nll < 21.0, nll  # about 19.7 after 8 epochs


def test_tiny_data_fits_without_early_stopping():
    X = _chain_data(10, 1)
    est = _fit(X, max_iter=3)
    assert est.early_stopping and est.validation_scores_ is None
    est = _fit(_chain_data(40, 1), max_iter=3)
    assert len(est.validation_scores_) == 3


def test_quantised_data():
    X = np.random.RandomState(0).randn(80, 3)
    est = _fit(X, max_iter=2)
    assert est.n_levels_ == 256
    S = est.sample(4, random_state=0)
    assert S.dtype == np.float64 and S.shape == (4, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_input(bad):
    X = _chain_data(50, 4).astype(float)
    est = _fit(X, max_iter=2)
    X_bad = X.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        TransformerAR(**SMALL, max_iter=2).fit(X_bad)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.score_samples(X_bad)
    with pytest.raises(ValueError, match="features"):
        est.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


@pytest.mark.parametrize("params, match", [
    (dict(ordering=[0, 1]), "permutation"),
    (dict(ordering=[0, 0, 1]), "permutation"),
    (dict(ordering="sorted"), "ordering"),
    (dict(d_model=10, n_heads=4), "n_heads=4 must divide d_model=10"),
    (dict(dropout=1.0), "dropout"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        TransformerAR(**{**SMALL, **params}, max_iter=1).fit(_chain_data(30, 0))


def test_divergence_stops_with_an_error():
    with pytest.raises(ValueError, match="diverged"):
        TransformerAR(**SMALL, learning_rate_init=1e30, gradient_clipping=None,
                      max_iter=20, random_state=0).fit(_chain_data(100, 5))
