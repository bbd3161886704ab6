"""RNNDensity and TransformerAR (chapter 34) side by side: what the two sequence models
share (causality, orderings, known conditionals, digits, tiny and quantised data, bad
input and parameters, divergence), one parametrised test each. The RNN's stateful
sampler and the Transformer's key-value cache are tested in test_rnn.py and
test_transformer.py."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mlnotes.density import RNNDensity, TransformerAR
from mlnotes.utils.estimator_checks import check_density_autoregressive_mask

#: the small networks of the tests
SMALL = {RNNDensity: dict(hidden_size=16),
         TransformerAR: dict(d_model=16, n_heads=2, n_layers=2, dim_feedforward=32)}
#: the smaller networks of the mask check
TINY = {RNNDensity: dict(hidden_size=8), TransformerAR: SMALL[TransformerAR]}
MODELS = [RNNDensity, TransformerAR]


def _id(value):
    return value.__name__ if isinstance(value, type) else None


def chain_data(n, seed):
    """x0 uniform on 3 levels; x1 = x0 w.p. 0.8, else one of the two others;
    x2 = (x0 + x1) mod 3 w.p. 0.9, else uniform."""
    rng = np.random.RandomState(seed)
    x0 = rng.randint(0, 3, n)
    keep = rng.rand(n) < 0.8
    x1 = np.where(keep, x0, (x0 + rng.randint(1, 3, n)) % 3)
    x2 = np.where(rng.rand(n) < 0.9, (x0 + x1) % 3, rng.randint(0, 3, n))
    return np.column_stack([x0, x1, x2])


def fit(cls, X, **kw):
    params = dict(SMALL[cls], random_state=0)
    params.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**params).fit(X)


@pytest.mark.parametrize("cls, extra, ordering", [
    (RNNDensity, dict(cell="gru"), "natural"),
    (RNNDensity, dict(cell="lstm"), "random"),
    (TransformerAR, {}, "natural"),
    (TransformerAR, {}, "random"),
], ids=_id)
def test_causality(cls, extra, ordering):
    """Perturbing features later in the ordering leaves earlier logits unchanged,
    and perturbing an earlier feature changes a later conditional."""
    rng = np.random.RandomState(1)
    X = rng.randint(0, 3, size=(100, 6))
    est = fit(cls, X, **extra, ordering=ordering, max_iter=2, early_stopping=False)
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
    check_density_autoregressive_mask(cls.__name__, cls(
        **TINY[cls], **extra, ordering="random", max_iter=3, random_state=2))


@pytest.mark.parametrize("cls, given, seed", [
    (RNNDensity, (1, 2, 0), 4),
    (TransformerAR, [2, 0, 1], 3),
], ids=_id)
def test_orderings(cls, given, seed):
    X = chain_data(60, 0)
    assert fit(cls, X, max_iter=1).ordering_.tolist() == [0, 1, 2]
    assert fit(cls, X, max_iter=1, ordering=given).ordering_.tolist() == list(given)
    a = fit(cls, X, max_iter=1, ordering="random", random_state=seed).ordering_
    b = fit(cls, X, max_iter=1, ordering="random", random_state=seed).ordering_
    np.testing.assert_array_equal(a, b)
    assert sorted(a.tolist()) == [0, 1, 2]


@pytest.mark.parametrize("cls, params", [
    (RNNDensity, dict(cell="gru", hidden_size=32, learning_rate_init=0.02)),
    (RNNDensity, dict(cell="lstm", hidden_size=32, learning_rate_init=0.02)),
    (TransformerAR, dict(learning_rate_init=0.01)),
], ids=_id)
def test_learns_known_conditionals(cls, params):
    """Maximum likelihood on 3,000 rows: the model's joint over all 27 rows is the
    empirical one (the maximum-likelihood answer), its conditionals the empirical
    conditional frequencies, and the mass over all rows is exactly 1."""
    X = chain_data(3000, 0)
    est = fit(cls, X, **params, dropout=0.0, weight_decay=0.0, max_iter=15,
              early_stopping=False, learning_rate="cosine", batch_size=100)
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


@pytest.mark.parametrize("cls, params", [
    (RNNDensity, dict(hidden_size=64)),
    (TransformerAR, dict(d_model=32, n_heads=4, dim_feedforward=64)),
], ids=_id)
def test_binarized_digits_ci(cls, params):
    """CI-sized acceptance: a few epochs of a small model beat independent pixels."""
    X = (load_digits().data >= 8).astype(np.int64)
    X_tr, X_te = train_test_split(X, test_size=0.3, random_state=0)
    est = fit(cls, X_tr, **params, max_iter=8, dropout=0.0, learning_rate_init=0.01,
              learning_rate="cosine", early_stopping=False)
    p = X_tr.mean(axis=0).clip(1e-3, 1 - 1e-3)
    independent = -np.mean(X_te @ np.log(p) + (1 - X_te) @ np.log(1 - p))
    nll = -est.score(X_te)
    assert independent > 24.5
    assert nll < 21.0, nll  # the Transformer: about 19.7 after 8 epochs


@pytest.mark.parametrize("cls", MODELS, ids=_id)
def test_tiny_data_fits_without_early_stopping(cls):
    est = fit(cls, chain_data(10, 1), max_iter=3)
    assert est.early_stopping and est.validation_scores_ is None
    est = fit(cls, chain_data(40, 1), max_iter=3)
    assert len(est.validation_scores_) == 3


@pytest.mark.parametrize("cls", MODELS, ids=_id)
def test_quantised_data(cls):
    X = np.random.RandomState(0).randn(80, 3)
    est = fit(cls, X, max_iter=2)
    assert est.n_levels_ == 256
    S = est.sample(4, random_state=0)
    assert S.dtype == np.float64 and S.shape == (4, 3)


@pytest.mark.parametrize("cls", MODELS, ids=_id)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_input(cls, bad):
    X = chain_data(50, 4).astype(float)
    est = fit(cls, X, max_iter=2)
    X_bad = X.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        cls(**SMALL[cls], max_iter=2).fit(X_bad)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.score_samples(X_bad)
    with pytest.raises(ValueError, match="features"):
        est.score_samples(X[:, :2])
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


@pytest.mark.parametrize("cls, params, match", [
    (RNNDensity, dict(ordering=[0, 1, 3]), "permutation"),
    (RNNDensity, dict(cell="rnn"), "cell"),
    (RNNDensity, dict(hidden_size=0), "hidden_size"),
    (TransformerAR, dict(ordering=[0, 1]), "permutation"),
    (TransformerAR, dict(ordering=[0, 0, 1]), "permutation"),
    (TransformerAR, dict(ordering="sorted"), "ordering"),
    (TransformerAR, dict(d_model=10, n_heads=4), "n_heads=4 must divide d_model=10"),
    (TransformerAR, dict(dropout=1.0), "dropout"),
], ids=_id)
def test_bad_parameters(cls, params, match):
    # the RNN's defaults, the Transformer's small network (as before the merge)
    base = SMALL[cls] if cls is TransformerAR else {}
    with pytest.raises(ValueError, match=match):
        cls(**{**base, **params}, max_iter=1).fit(chain_data(30, 0))


@pytest.mark.parametrize("cls", MODELS, ids=_id)
def test_divergence_stops_with_an_error(cls):
    params = dict(TINY[cls])
    with pytest.raises(ValueError, match="diverged"):
        cls(**params, learning_rate_init=1e30, gradient_clipping=None, max_iter=20,
            random_state=0).fit(chain_data(100, 5))
