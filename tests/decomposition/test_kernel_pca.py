import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import decomposition as sk_decomposition
from sklearn.datasets import make_circles
from sklearn.exceptions import NotFittedError

from mlnotes.decomposition import PCA, KernelPCA


def _data(n=150, p=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, p)) * np.linspace(2.0, 0.5, p)


def _pair(params, X):
    return KernelPCA(**params).fit(X), sk_decomposition.KernelPCA(**params).fit(X)


@pytest.mark.parametrize("kernel, extra", [
    ("linear", {}), ("rbf", {}), ("rbf", dict(gamma=0.5)), ("poly", dict(degree=2)),
    ("sigmoid", dict(gamma=0.01, coef0=0.5)), ("cosine", {}),
])
@pytest.mark.parametrize("solver", ["dense", "arpack", "randomized", "auto"])
def test_parity_with_sklearn(kernel, extra, solver):
    X = _data()
    X_new = _data(seed=1)[:30]
    params = dict(n_components=4, kernel=kernel, eigen_solver=solver, random_state=0,
                  **extra)
    ours, ref = _pair(params, X)
    np.testing.assert_allclose(ours.eigenvalues_, ref.eigenvalues_, rtol=1e-7)
    np.testing.assert_allclose(ours.eigenvectors_, ref.eigenvectors_, atol=1e-7)
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), atol=1e-7)
    np.testing.assert_allclose(KernelPCA(**params).fit_transform(X),
                               sk_decomposition.KernelPCA(**params).fit_transform(X),
                               atol=1e-7)


@pytest.mark.parametrize("params", [dict(), dict(kernel="rbf"),
                                    dict(n_components=20, kernel="rbf", remove_zero_eig=True),
                                    dict(n_components=8, kernel="poly")])
def test_number_of_components_as_sklearn(params):
    X = _data(60, 4)
    ours, ref = _pair(params, X)
    assert ours.eigenvalues_.shape == ref.eigenvalues_.shape
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-7)


def test_precomputed_kernel():
    X, X_new = _data(), _data(seed=1)[:20]
    K, K_new = X @ X.T + 1.0, X_new @ X.T + 1.0
    K_orig = K.copy()
    ours, ref = _pair(dict(n_components=3, kernel="precomputed"), K)
    np.testing.assert_array_equal(K, K_orig)  # the user's kernel is left alone
    np.testing.assert_allclose(ours.transform(K_new), ref.transform(K_new), atol=1e-7)


def test_sparse_input():
    X = sp.random(80, 10, density=0.3, format="csr", random_state=0)
    ours, ref = _pair(dict(n_components=3, kernel="rbf"), X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-7)


def test_inverse_transform_parity():
    X, X_new = _data(), _data(seed=1)[:20]
    params = dict(n_components=4, kernel="rbf", fit_inverse_transform=True, alpha=0.1)
    ours, ref = _pair(params, X)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-7, atol=1e-9)
    Z = ref.transform(X_new)
    np.testing.assert_allclose(ours.inverse_transform(Z), ref.inverse_transform(Z),
                               atol=1e-7)


def test_linear_kernel_is_pca():
    """The SVD relation: the centred linear kernel is Xc Xc^T = U S^2 U^T."""
    X = _data(100, 6)
    kpca = KernelPCA(n_components=4).fit(X)
    pca = PCA(n_components=4).fit(X)
    np.testing.assert_allclose(kpca.eigenvalues_, pca.singular_values_**2, rtol=1e-9)
    np.testing.assert_allclose(np.abs(kpca.transform(X)), np.abs(pca.transform(X)),
                               atol=1e-8)


def test_centred_kernel_closed_form():
    """Eigenpairs of H K H (computed here with numpy) and the projection formula."""
    X, X_new = _data(40, 3), _data(40, 3, seed=2)[:7]
    gamma = 0.3

    def rbf(A, B):
        d = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
        return np.exp(-gamma * d)

    n = len(X)
    H = np.eye(n) - np.ones((n, n)) / n
    K = rbf(X, X)
    values, vectors = np.linalg.eigh(H @ K @ H)
    values, vectors = values[::-1][:3], vectors[:, ::-1][:, :3]
    kpca = KernelPCA(n_components=3, kernel="rbf", gamma=gamma).fit(X)
    np.testing.assert_allclose(kpca.eigenvalues_, values, rtol=1e-9)
    np.testing.assert_allclose(np.abs(kpca.eigenvectors_.T @ vectors), np.eye(3),
                               atol=1e-8)
    K_new = rbf(X_new, X)
    K_new_c = K_new - K_new.mean(1, keepdims=True) - K.mean(0) + K.mean()
    expected = K_new_c @ kpca.eigenvectors_ / np.sqrt(kpca.eigenvalues_)
    np.testing.assert_allclose(kpca.transform(X_new), expected, atol=1e-9)


def test_transform_of_training_data_is_fit_transform():
    X = _data()
    kpca = KernelPCA(n_components=5, kernel="rbf")
    np.testing.assert_allclose(kpca.fit_transform(X), kpca.transform(X), atol=1e-8)


def test_rbf_kernel_pca_separates_circles():
    from sklearn.linear_model import LogisticRegression

    X, y = make_circles(300, factor=0.3, noise=0.05, random_state=0)
    Z = KernelPCA(n_components=2, kernel="rbf", gamma=5).fit_transform(X)
    # no line separates the circles in the plane; one does in kernel PCA space
    assert LogisticRegression().fit(X, y).score(X, y) < 0.7
    assert LogisticRegression().fit(Z, y).score(Z, y) > 0.95


def test_float32_is_preserved():
    X = _data().astype(np.float32)
    assert KernelPCA(n_components=2, kernel="rbf").fit(X).transform(X).dtype == np.float32


def test_bad_input():
    X = _data(30, 3)
    with pytest.raises(ValueError, match="Cannot fit_inverse_transform"):
        KernelPCA(kernel="precomputed", fit_inverse_transform=True).fit(X @ X.T)
    with pytest.raises(NotFittedError, match="fit_inverse_transform"):
        KernelPCA(n_components=2).fit(X).inverse_transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="square"):
        KernelPCA(kernel="precomputed").fit(X)
    not_psd = -np.eye(30) + 0.01 * np.ones((30, 30))
    not_psd[0, 0] = 5.0
    with pytest.raises(ValueError, match="negative eigenvalues"):
        KernelPCA(n_components=3, kernel="precomputed").fit(not_psd)
    with pytest.raises(ValueError, match="kernel"):
        KernelPCA(kernel="laplace").fit(X)
    with pytest.raises(ValueError, match="NaN"):
        KernelPCA().fit(np.where(X > 1, np.nan, X))
    with pytest.raises(ValueError, match="features"):
        KernelPCA(n_components=2).fit(X).transform(X[:, :2])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_row_permutation_permutes_the_eigenvectors(seed):
    X = _data(40, 3, seed=seed)
    perm = np.random.default_rng(seed).permutation(len(X))
    a = KernelPCA(n_components=3, kernel="rbf", eigen_solver="dense").fit(X)
    b = KernelPCA(n_components=3, kernel="rbf", eigen_solver="dense").fit(X[perm])
    np.testing.assert_allclose(a.eigenvalues_, b.eigenvalues_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(a.transform(X)), np.abs(b.transform(X)), atol=1e-7)


def test_auto_solver_extension_agrees_with_sklearns_dense_choice():
    """20 components of 400 samples: scikit-learn's "auto" runs LAPACK, ours Lanczos."""
    X = _data(400, 6)
    params = dict(n_components=20, kernel="rbf")
    ours, ref = _pair(params, X)
    np.testing.assert_allclose(ours.eigenvalues_, ref.eigenvalues_, rtol=1e-9)
    np.testing.assert_allclose(ours.transform(X[:50]), ref.transform(X[:50]), atol=1e-7)
