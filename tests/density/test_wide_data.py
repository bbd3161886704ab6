"""Autoregressive models on wide data with few rows (issue 21).

MADE, RNNDensity and TransformerAR at default parameters on 5 rows x 2,000 features
took minutes (the cost of an epoch grows with the number of features and levels, and
5 rows are memorised long before ``max_iter``): they now warn up front, before any
training, with the reason and what to change. Small or tall data do not warn.
"""

import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import EfficiencyWarning

from mlnotes.density import MADE, RNNDensity, TransformerAR

AR_MODELS = [MADE, RNNDensity, TransformerAR]


@pytest.mark.parametrize("cls", AR_MODELS)
def test_wide_tiny_data_warns_up_front(cls):
    X = np.random.default_rng(0).normal(size=(5, 2000))
    start = time.process_time()
    with warnings.catch_warnings():
        # the warning as an error stops the fit where it is issued: before training
        warnings.simplefilter("error", EfficiencyWarning)
        with pytest.raises(EfficiencyWarning, match=r"5 rows x 2000 features.*Lower max_iter"):
            cls().fit(X)
    assert time.process_time() - start < 10  # no epoch ran before the warning
    assert not hasattr(cls(), "module_")


@pytest.mark.parametrize("cls", AR_MODELS)
@pytest.mark.parametrize("shape", [(40, 3), (3, 8)])
def test_small_data_does_not_warn(cls, shape):
    X = np.random.default_rng(0).integers(0, 3, size=shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EfficiencyWarning)
        cls(max_iter=2).fit(X)


def test_lower_max_iter_silences_the_warning():
    """The warning is about the total work: a few epochs on the same data are quiet."""
    X = np.random.default_rng(0).normal(size=(5, 2000))
    with warnings.catch_warnings():
        warnings.simplefilter("error", EfficiencyWarning)
        TransformerAR(max_iter=1, d_model=8, n_layers=1, dim_feedforward=8).fit(X)
