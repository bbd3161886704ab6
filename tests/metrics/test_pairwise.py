import numpy as np
import pytest
import sklearn.metrics.pairwise as sk_pairwise

import mlnotes.metrics as metrics
from mlnotes.metrics import pairwise


def test_reexports_are_sklearns_functions():
    for name in pairwise.__all__:
        assert getattr(pairwise, name) is getattr(sk_pairwise, name)
    assert metrics.pairwise_kernels is sk_pairwise.pairwise_kernels


def _X(seed=0):
    return np.random.default_rng(seed).normal(size=(40, 3))


def test_closed_forms():
    X, Y = _X(), _X(1)[:7]
    d2 = ((X[:, None] - Y[None]) ** 2).sum(-1)
    d1 = np.abs(X[:, None] - Y[None]).sum(-1)
    np.testing.assert_allclose(pairwise.rbf_kernel(X, Y, gamma=0.4), np.exp(-0.4 * d2))
    np.testing.assert_allclose(pairwise.laplacian_kernel(X, Y, gamma=0.4),
                               np.exp(-0.4 * d1))
    np.testing.assert_allclose(pairwise.polynomial_kernel(X, Y, degree=2, gamma=1.0,
                                                          coef0=1.0), (X @ Y.T + 1) ** 2)
    np.testing.assert_allclose(pairwise.sigmoid_kernel(X, Y, gamma=0.1, coef0=0.2),
                               np.tanh(0.1 * X @ Y.T + 0.2))
    np.testing.assert_allclose(pairwise.linear_kernel(X, Y), X @ Y.T)
    np.testing.assert_allclose(pairwise.euclidean_distances(X, Y), np.sqrt(d2))


def test_polynomial_kernel_is_an_explicit_feature_map():
    """(x.z + 1)^2 = phi(x).phi(z) with the degree-2 feature map of the chapter."""
    X = _X()

    def phi(x):
        n = len(x)
        quad = [x[i] * x[j] * (1 if i == j else np.sqrt(2)) for i in range(n)
                for j in range(i, n)]
        return np.concatenate([[1.0], np.sqrt(2) * x, quad])

    F = np.array([phi(x) for x in X])
    np.testing.assert_allclose(pairwise.polynomial_kernel(X, degree=2, gamma=1, coef0=1),
                               F @ F.T, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("metric", ["linear", "poly", "rbf", "laplacian", "cosine"])
def test_mercer_kernels_give_psd_gram_matrices(metric):
    K = pairwise.pairwise_kernels(_X(), metric=metric)
    np.testing.assert_allclose(K, K.T, atol=1e-12)
    assert np.linalg.eigvalsh(K).min() > -1e-9 * np.abs(K).max()
