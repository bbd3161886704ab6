"""Back-propagation written out for the multilayer perceptron (chapter 15).

The stochastic solvers train the plain network (no batch norm, no dropout) with
``_MLPModule.loss_and_gradients`` instead of autograd (CONTRIBUTING.md, "Speed"). These
tests hold it to autograd on :meth:`_batch_loss`: the same loss and gradients on one
batch for every activation and output/loss pair, with and without sample weights, in
float64 and float32; and the same weights after a few epochs of a whole fit.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from mlnotes.neural_network import MLPClassifier, MLPRegressor
from mlnotes.utils._torch import blas_threads


def _targets(kind, rng, n):
    X, y = make_classification(n, 6, n_informative=4, n_classes=3, random_state=0)
    if kind == "multiclass":
        return MLPClassifier, X, y, {}
    if kind == "binary":
        return MLPClassifier, X, (y > 0).astype(int), {}
    if kind == "multilabel":
        return MLPClassifier, X, rng.integers(0, 2, (n, 3)), {}
    X, y = make_regression(n, 6, n_targets=2, random_state=0)
    if kind == "poisson":
        return MLPRegressor, X / 10, rng.poisson(2.0, (n, 2)).astype(float), {
            "loss": "poisson"}
    return MLPRegressor, X, y / 100, {}


def _fitted(cls, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(max_iter=2, random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel", "squared_error",
                                  "poisson"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_gradients_equal_autograd(kind, activation, weighted, dtype):
    rng = np.random.default_rng(0)
    cls, X, y, params = _targets(kind, rng, 50)
    est = _fitted(cls, X.astype(dtype), y, hidden_layer_sizes=(7, 4),
                  activation=activation, **params)
    module = est.module_.to(dtype=torch.float32 if dtype == np.float32 else torch.float64)
    _, Y, _ = est._validate_input(X.astype(dtype), y, incremental=False, reset=False)
    Xt = torch.as_tensor(X.astype(dtype))
    Yt = est._target_tensor(Y, Xt.dtype, "cpu")
    sw = torch.as_tensor(rng.uniform(0.2, 2.0, len(X)).astype(dtype)) if weighted else None
    wsum = float(len(X) if sw is None else sw.sum()) * 1.25  # a shard of a larger batch

    params_ = list(module.parameters())
    expected_loss = est._batch_loss(module, Xt, Yt, sw, wsum)
    expected = torch.autograd.grad(expected_loss, params_)
    by_hand = est._loss_and_gradients(module)
    assert by_hand is not None
    loss, grads = by_hand(Xt, Yt, sw, wsum)

    tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10,
                                                                       atol=1e-13)
    assert not loss.requires_grad
    torch.testing.assert_close(loss, expected_loss.detach(), **tol)
    assert len(grads) == len(params_)
    for g, e, p in zip(grads, expected, params_):
        assert g.shape == p.shape and g.dtype == p.dtype
        torch.testing.assert_close(g, e, **tol)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("kind", ["multiclass", "squared_error"])
def test_fit_by_hand_equals_fit_by_autograd(solver, kind, monkeypatch):
    rng = np.random.default_rng(1)
    cls, X, y, params = _targets(kind, rng, 300)
    params.update(solver=solver, hidden_layer_sizes=(16, 8), alpha=1e-3, batch_size=64)
    by_hand = _fitted(cls, X, y, **params)
    monkeypatch.setattr(cls, "_loss_and_gradients", lambda self, module: None)
    by_autograd = _fitted(cls, X, y, **params)
    for a, b in zip(by_hand.coefs_ + by_hand.intercepts_,
                    by_autograd.coefs_ + by_autograd.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(by_hand.loss_curve_, by_autograd.loss_curve_, rtol=1e-12)


def test_batch_norm_and_dropout_keep_autograd():
    X, y = make_classification(60, 4, random_state=0)
    for params in ({"batch_norm": True}, {"dropout": 0.2}):
        est = _fitted(MLPClassifier, X, y, **params)
        assert est._loss_and_gradients(est.module_) is None
        with pytest.raises(ValueError, match="plain network"):
            est.module_.loss_and_gradients(torch.as_tensor(X), lambda z: (z.sum(), z))


def test_blas_threads_caps_and_restores():
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas():
        return [lib["num_threads"] for lib in threadpool_info()
                if lib["user_api"] == "blas"]

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas()
        with blas_threads(1):
            assert all(n == 1 for n in blas())
        assert blas() == before
        with blas_threads(64):  # never raises the caller's setting
            assert blas() == before
        assert blas() == before
