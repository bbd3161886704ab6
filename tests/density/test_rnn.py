"""RNNDensity: the stateful sampler. What it shares with TransformerAR (causality, known
answers, digits, bad input) is tested in test_sequence_ar_common.py."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from mlnotes.density import RNNDensity
from mlnotes.density._base import AutoregressiveDensity


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
