"""PCA(svd_solver="full") on tall data: the Gram-matrix route and its fallback.

Well-conditioned float64 data take the eigendecomposition of the centred Gram matrix;
rank-deficient, badly conditioned or nearly repeated spectra (and float32) take the
QR route. Either way the fitted attributes equal scikit-learn's to 1e-8 (relative for
the spectrum, absolute for the unit-norm components).
"""

import numpy as np
import pytest
from sklearn.datasets import make_low_rank_matrix
from sklearn.decomposition import PCA as SkPCA

from mlnotes.decomposition import PCA
from mlnotes.decomposition import _pca


def _count_qr(monkeypatch):
    calls = []
    original = _pca._svd_tall

    def counting(Xc):
        calls.append(Xc.shape)
        return original(Xc)

    monkeypatch.setattr(_pca, "_svd_tall", counting)
    return calls


def _assert_same_as_sklearn(ours, ref, rtol=1e-8):
    assert ours.n_components_ == ref.n_components_
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=rtol)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_,
                               rtol=rtol)
    np.testing.assert_allclose(ours.explained_variance_ratio_,
                               ref.explained_variance_ratio_, rtol=rtol)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=rtol,
                               atol=1e-300)
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=0, atol=rtol)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)


def _low_rank(n=3000, p=40, seed=0):
    # bell-shaped spectrum with a tail (singular values within a factor ~10)
    X = make_low_rank_matrix(n, p, effective_rank=8, tail_strength=0.3,
                             random_state=seed)
    return X * 100.0 + 3.0


def _distinct_variances(n=2000, p=25, seed=1):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    scales = np.geomspace(10.0, 0.1, p)  # singular values 100x apart
    return (rng.standard_normal((n, p)) * scales) @ Q.T - 7.0


@pytest.mark.parametrize("make", [_low_rank, _distinct_variances])
@pytest.mark.parametrize("n_components", [5, None, 0.9, "mle"])
def test_gram_route_matches_sklearn(monkeypatch, make, n_components):
    X = make()
    calls = _count_qr(monkeypatch)
    ours = PCA(n_components=n_components, svd_solver="full").fit(X)
    assert calls == []  # well conditioned: the Gram matrix was used
    ref = SkPCA(n_components=n_components, svd_solver="full").fit(X)
    _assert_same_as_sklearn(ours, ref)
    np.testing.assert_allclose(ours.transform(X[:50]), ref.transform(X[:50]),
                               rtol=1e-8, atol=1e-8 * np.abs(ref.transform(X)).max())


def _rank_deficient(n=1000, p=20, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, -1] = X[:, 0] + X[:, 1]  # exactly rank p - 1
    return X


def _badly_scaled(n=1000, p=20, seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, p)) * np.geomspace(1.0, 1e-5, p)  # cond 1e5


def _near_repeated(n=1000, p=10, seed=4):
    # two leading directions with variances 1e-9 apart: their components are
    # ill-determined from the Gram matrix
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    Z -= Z.mean(axis=0)
    Q, _ = np.linalg.qr(Z)  # orthonormal columns: every direction has variance 1/n
    return Q * np.sqrt(n) * np.r_[10.0, 10.0 * (1 - 1e-9), np.linspace(5, 1, p - 2)]


@pytest.mark.parametrize("make", [_rank_deficient, _badly_scaled, _near_repeated])
def test_unsafe_spectra_fall_back_to_qr(monkeypatch, make):
    X = make()
    calls = _count_qr(monkeypatch)
    ours = PCA(n_components=3, svd_solver="full").fit(X)
    assert calls == [X.shape]
    ref = SkPCA(n_components=3, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-8)
    if make is not _near_repeated:  # there the two first axes are arbitrary
        np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-8)


def test_float32_takes_qr(monkeypatch):
    X = _low_rank(500, 10).astype(np.float32)
    calls = _count_qr(monkeypatch)
    ours = PCA(n_components=3, svd_solver="full").fit(X)
    assert calls == [X.shape] and ours.components_.dtype == np.float32
    ref = SkPCA(n_components=3, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-4)


def test_gram_is_safe_thresholds():
    lam = np.array([4.0, 2.0, 1.0])
    assert _pca._gram_is_safe(lam, 3)
    assert not _pca._gram_is_safe(np.array([4.0, 2.0, 1e-7]), 1)  # condition
    assert not _pca._gram_is_safe(np.array([4.0, 4.0 - 1e-8, 1.0]), 1)  # kept gap
    assert _pca._gram_is_safe(np.array([4.0, 2.0, 1.0, 1.0]), 2)  # tail ties allowed
    assert not _pca._gram_is_safe(np.array([0.0, 0.0]), 1)
