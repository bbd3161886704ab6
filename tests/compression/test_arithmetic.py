"""mlnotes.compression: exact round trips and code lengths at the model's NLL."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from mlnotes.compression import decode, encode
from mlnotes.compression._arithmetic import _Decoder, _Encoder, _frequency_tables
from mlnotes.density import (
    MADE,
    DiscretizedLogisticMixture,
    Histogram,
    PixelCNN,
    RNNDensity,
    TransformerAR,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X = (load_digits().data >= 8).astype(np.int64)
    return X[:400], X[1000:1200]


def _nll_bits(model, X):
    if hasattr(model, "conditional_log_likelihood"):
        return -model.conditional_log_likelihood(X).sum() / np.log(2)
    return -model.score_samples(X).sum() / np.log(2)


MODELS = {
    "Histogram": lambda: Histogram(),
    "DiscretizedLogisticMixture": lambda: DiscretizedLogisticMixture(n_components=2),
    "MADE": lambda: MADE(hidden_layer_sizes=(64,), max_iter=5, random_state=0),
    "MADE-ensemble": lambda: MADE(hidden_layer_sizes=(64,), n_masks=3, ordering="random",
                                  max_iter=3, random_state=0),
    "PixelCNN": lambda: PixelCNN(image_shape=(8, 8), n_filters=8, n_layers=2,
                                 max_iter=2, random_state=0),
    "TransformerAR": lambda: TransformerAR(d_model=16, n_heads=2, n_layers=1, max_iter=2,
                                           random_state=0),
    "RNNDensity": lambda: RNNDensity(hidden_size=16, max_iter=2, random_state=0),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_and_code_length_on_binarised_digits(name, digits):
    X_train, X_test = digits
    model = MODELS[name]().fit(X_train)
    X = X_test[:40]
    data = encode(model, X)
    np.testing.assert_array_equal(decode(model, data, len(X)), X)
    bits, nll = 8 * len(data), _nll_bits(model, X)
    assert bits <= 1.01 * nll + 16, (bits, nll)
    assert bits >= nll - 1e-3 * nll, (bits, nll)  # no code beats the model's NLL


def test_coder_alone_matches_the_information_content():
    """Skewed symbols from a known table: code length = -log2 q(sequence) + <= 2 bits."""
    rng = np.random.RandomState(0)
    p = np.array([0.9, 0.05, 0.03, 0.02])
    symbols = rng.choice(4, size=5000, p=p)
    cum = _frequency_tables(p[None])[0]
    enc = _Encoder()
    for s in symbols:
        enc.encode(int(cum[s]), int(cum[s + 1]), int(cum[-1]))
    data = enc.finish()
    q = np.diff(cum) / cum[-1]
    info = -np.log2(q[symbols]).sum()
    assert info <= 8 * len(data) <= info + 2 + 8
    dec = _Decoder(data)
    assert [dec.decode(cum) for _ in symbols] == symbols.tolist()


def test_near_deterministic_symbols_cost_almost_nothing():
    X = np.zeros((2000, 3), dtype=int)
    X[0] = 1
    model = Histogram(alpha=1e-3).fit(X)
    data = encode(model, X)
    assert len(data) <= np.ceil((_nll_bits(model, X) + 2) / 8)
    np.testing.assert_array_equal(decode(model, data, 2000), X)


def test_many_levels_round_trip():
    rng = np.random.RandomState(0)
    X = rng.binomial(255, 0.3, size=(300, 4))
    model = DiscretizedLogisticMixture(n_components=2, n_levels=256).fit(X)
    data = encode(model, X)
    np.testing.assert_array_equal(decode(model, data, 300), X)
    assert 8 * len(data) <= 1.01 * _nll_bits(model, X) + 16


def test_bad_input(digits):
    X_train, X_test = digits
    model = Histogram().fit(X_train)
    with pytest.raises(ValueError, match="levels"):
        encode(model, np.full((1, 64), 2))
    with pytest.raises(ValueError, match="n_rows"):
        decode(model, b"\x00", 0)
    with pytest.raises(TypeError, match="bytes"):
        decode(model, "abc", 1)
    with pytest.raises(TypeError, match="density model"):
        encode(object(), X_test)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        encode(MADE(), X_test)
    with pytest.raises(ValueError):
        encode(model, X_test[:, :10])  # wrong number of features
