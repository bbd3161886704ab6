"""RNNDensity: stateful sampling, causality, known answers, digits, bad input."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mlnotes.density import RNNDensity
from mlnotes.density._base import AutoregressiveDensity
from mlnotes.utils.estimator_checks import check_density_autoregressive_mask


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
    params = dict(hidden_size=16, random_state=0)
    params.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return RNNDensity(**params).fit(X)


@pytest.mark.parametrize("cell, n_layers", [("gru", 1), ("lstm", 2)])
def test_stateful_sampler_equals_the_generic_one(cell, n_layers):
    rng = np.random.RandomState(0)
    X = rng.randint(0, 4, size=(200, 8))
    est = _fit(X, cell=cell, n_layers=n_layers, ordering="random", max_iter=3,
               early_stopping=False)
    for seed, n in [(0, 1), (1, 9), (2, 150)]:
        a = est.sample(n, random_state=seed)
        with torch.inference_mode():
            idx = AutoregressiveDensity._sample_indices(
                est, est.module_, n, np.random.default_rng(seed))
        np.testing.assert_array_equal(a, est._level_values(idx))
        assert a.shape == (n, 8)


@pytest.mark.parametrize("cell, ordering", [("gru", "natural"), ("lstm", "random")])
def test_causality(cell, ordering):
    """Perturbing features later in the ordering leaves earlier logits unchanged,
    and perturbing an earlier feature changes a later conditional."""
    rng = np.random.RandomState(1)
    X = rng.randint(0, 3, size=(100, 6))
    est = _fit(X, cell=cell, ordering=ordering, max_iter=2, early_stopping=False)
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
    check_density_autoregressive_mask("RNNDensity", RNNDensity(
        cell=cell, hidden_size=8, ordering="random", max_iter=3, random_state=2))


def test_orderings():
    X = _chain_data(60, 0)
    assert _fit(X, max_iter=1).ordering_.tolist() == [0, 1, 2]
    assert _fit(X, max_iter=1, ordering=(1, 2, 0)).ordering_.tolist() == [1, 2, 0]
    a = _fit(X, max_iter=1, ordering="random", random_state=4).ordering_
    np.testing.assert_array_equal(
        a, _fit(X, max_iter=1, ordering="random", random_state=4).ordering_)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_learns_known_conditionals(cell):
    """Maximum likelihood on 3,000 rows: the model's joint over all 27 rows is the
    empirical one, and the mass over all rows is exactly 1."""
    X = _chain_data(3000, 0)
    est = _fit(X, cell=cell, hidden_size=32, dropout=0.0, weight_decay=0.0,
               max_iter=15, early_stopping=False, learning_rate_init=0.02,
               learning_rate="cosine", batch_size=100)
    rows = np.array([[a, b, c] for a in range(3) for b in range(3) for c in range(3)])
    counts = np.zeros((3, 3, 3))
    np.add.at(counts, (X[:, 0], X[:, 1], X[:, 2]), 1)
    empirical = counts / counts.sum()
    model = np.exp(est.score_samples(rows)).reshape(3, 3, 3)
    assert abs(model.sum() - 1.0) < 1e-10
    np.testing.assert_allclose(model, empirical, atol=0.01)
    assert np.sum(empirical * np.log(empirical / model)) < 0.003
    S = est.sample(4000, random_state=0)
    assert abs(np.mean(S[:, 0] == S[:, 1]) - 0.8) < 0.04


def test_binarized_digits_ci():
    """CI-sized acceptance: a few epochs of a small GRU beat independent pixels."""
    X = (load_digits().data >= 8).astype(np.int64)
    X_tr, X_te = train_test_split(X, test_size=0.3, random_state=0)
    est = _fit(X_tr, hidden_size=64, max_iter=8, dropout=0.0,
               learning_rate_init=0.01, learning_rate="cosine", early_stopping=False)
    p = X_tr.mean(axis=0).clip(1e-3, 1 - 1e-3)
    independent = -np.mean(X_te @ np.log(p) + (1 - X_te) @ np.log(1 - p))
    nll = -est.score(X_te)
    assert independent > 24.5
    assert nll < 21.0, nll


def test_tiny_data_fits_without_early_stopping():
    est = _fit(_chain_data(10, 1), max_iter=3)
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
        RNNDensity(max_iter=2).fit(X_bad)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.score_samples(X_bad)
    with pytest.raises(ValueError, match="features"):
        est.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


@pytest.mark.parametrize("params, match", [
    (dict(ordering=[0, 1, 3]), "permutation"),
    (dict(cell="rnn"), "cell"),
    (dict(hidden_size=0), "hidden_size"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        RNNDensity(**params, max_iter=1).fit(_chain_data(30, 0))


def test_divergence_stops_with_an_error():
    with pytest.raises(ValueError, match="diverged"):
        RNNDensity(hidden_size=8, learning_rate_init=1e30, gradient_clipping=None,
                   max_iter=20, random_state=0).fit(_chain_data(100, 5))
