"""TransformerAR: the key-value cache. What it shares with RNNDensity (causality, known
answers, digits, bad input) is tested in test_sequence_ar_common.py."""

import copy
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from mlnotes.density import TransformerAR
from mlnotes.density._base import AutoregressiveDensity

SMALL = dict(d_model=16, n_heads=2, n_layers=2, dim_feedforward=32)


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
