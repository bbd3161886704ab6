"""Sparse input to the kernel SVMs: scikit-learn's results, without densifying X."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import svm as sk_svm

from mlnotes.svm import SVC, SVR

KERNELS = ["linear", "poly", "rbf", "sigmoid"]


def _data(n=90, p=12, n_classes=3, seed=0, density=0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[rng.random((n, p)) > density] = 0.0
    y = np.arange(n) % n_classes
    X[:, 0] += 1.5 * y  # make the classes learnable
    z = X @ rng.normal(size=p) + 0.1 * rng.normal(size=n)
    return X, y, z


def _assert_same(ours, ref, X):
    assert sp.issparse(ours.support_vectors_) and sp.issparse(ours.dual_coef_)
    assert type(ours.support_vectors_) is type(ref.support_vectors_)
    assert_array_equal(ours.support_, ref.support_)
    assert_allclose(ours.support_vectors_.toarray(), ref.support_vectors_.toarray())
    assert_allclose(ours.dual_coef_.toarray(), ref.dual_coef_.toarray(), rtol=1e-6,
                    atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_svc_sparse_parity_with_sklearn(kernel, n_classes):
    X, y, _ = _data(n_classes=n_classes)
    Xs = sp.csr_matrix(X)
    params = dict(kernel=kernel, C=2.0, tol=1e-6, gamma=0.1, coef0=0.5)
    ours = SVC(**params).fit(Xs, y)
    ref = sk_svm.SVC(**params).fit(Xs, y)
    _assert_same(ours, ref, Xs)
    assert_allclose(ours.decision_function(Xs), ref.decision_function(Xs), rtol=1e-6,
                    atol=1e-6)
    # the same model as the dense fit, which may predict on dense rows too
    dense = SVC(**params).fit(X, y)
    assert_allclose(ours.dual_coef_.toarray(), dense.dual_coef_, atol=1e-10)
    assert_allclose(ours.decision_function(X), dense.decision_function(X), atol=1e-8)


@pytest.mark.parametrize("kernel", KERNELS)
def test_svr_sparse_parity_with_sklearn(kernel):
    X, _, z = _data()
    Xs = sp.csr_matrix(X)
    params = dict(kernel=kernel, C=2.0, tol=1e-6, gamma=0.1, coef0=0.5, epsilon=0.2)
    ours = SVR(**params).fit(Xs, z)
    ref = sk_svm.SVR(**params).fit(Xs, z)
    _assert_same(ours, ref, Xs)


def test_gamma_scale_and_coef_match_sklearn_on_sparse_input():
    X, y, z = _data(n_classes=2)
    Xs = sp.csr_matrix(X)
    ours, ref = SVC().fit(Xs, y), sk_svm.SVC().fit(Xs, y)
    assert ours._gamma == pytest.approx(ref._gamma, rel=1e-12)
    _assert_same(ours, ref, Xs)
    pairs = [(SVC(kernel="linear").fit(Xs, y), sk_svm.SVC(kernel="linear").fit(Xs, y)),
             (SVR(kernel="linear").fit(Xs, z), sk_svm.SVR(kernel="linear").fit(Xs, z))]
    for ours, ref in pairs:
        assert sp.issparse(ours.coef_)
        assert_allclose(ours.coef_.toarray(), ref.coef_.toarray(), atol=1e-8)


@pytest.mark.parametrize("fmt", ["csc", "coo", "lil"])
def test_other_sparse_formats_are_converted(fmt):
    X, y, _ = _data()
    ref = SVC(kernel="rbf").fit(sp.csr_matrix(X), y)
    ours = SVC(kernel="rbf").fit(sp.csr_matrix(X).asformat(fmt), y)
    assert_allclose(ours.dual_coef_.toarray(), ref.dual_coef_.toarray())
    assert_array_equal(ours.predict(sp.csr_matrix(X).asformat(fmt)), ref.predict(X))


def test_sample_weight_and_probability_on_sparse_input():
    X, y, _ = _data()
    Xs = sp.csr_matrix(X)
    w = np.linspace(0.5, 2.0, y.size)
    w[:5] = 0.0
    ours = SVC(C=3.0).fit(Xs, y, sample_weight=w)
    dense = SVC(C=3.0).fit(X, y, sample_weight=w)
    assert_array_equal(ours.support_, dense.support_)
    assert_allclose(ours.dual_coef_.toarray(), dense.dual_coef_, atol=1e-10)
    p_sparse = SVC(probability=True, random_state=0).fit(Xs, y).predict_proba(Xs)
    p_dense = SVC(probability=True, random_state=0).fit(X, y).predict_proba(X)
    assert_allclose(p_sparse, p_dense, atol=1e-8)


def test_sparse_errors_match_sklearn():
    X, y, _ = _data()
    with pytest.raises(TypeError, match="Sparse precomputed"):
        SVC(kernel="precomputed").fit(sp.csr_matrix(X @ X.T), y)
    dense = SVC().fit(X, y)
    with pytest.raises(ValueError, match="cannot use sparse input"):
        dense.predict(sp.csr_matrix(X))
    bad = sp.csr_matrix(X)
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SVC().fit(bad, y)


def test_sparse_x_is_never_densified():
    """A 120 x 100,000 CSR matrix (96 MB dense) trains in a few MB."""
    rng = np.random.default_rng(0)
    n, p = 120, 100_000
    X = sp.random(n, p, density=2e-4, format="csr", random_state=1)
    y = np.arange(n) % 2
    X = X + sp.csr_matrix((y + 1.0, (np.arange(n), np.zeros(n, int))), shape=(n, p))
    z = rng.normal(size=n)
    for est, target in [(SVC(), y), (SVR(), z)]:
        tracemalloc.start()
        try:
            est.fit(X, target)
            est.predict(X)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 16e6, peak


@pytest.mark.parametrize("Est", [SVC, SVR])
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("sparse", [False, True])
def test_inputs_near_the_float_maximum_raise(Est, kernel, sparse):
    """scikit-learn raises here; the solver used to return an empty dual_coef_."""
    rng = np.random.RandomState(42)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.randint(0, 2, size=10)
    if sparse:
        X = sp.csr_matrix(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="dual coefficients or intercepts are not "
                                             "finite.*large values"):
            Est(kernel=kernel).fit(X, y)
    # large but representable inputs still fit (the bound only refuses overflow)
    Xok = 1e100 * rng.uniform(size=(10, 2))
    assert np.all(np.isfinite(Est(kernel="rbf", gamma=1e-200).fit(Xok, y).dual_coef_))


@pytest.mark.parametrize("fmt", ["csr", "lil"])
def test_callable_kernel_returning_sparse_matrices(fmt):
    """A kernel function given sparse rows may return a sparse Gram matrix."""
    X, y, _ = _data(n_classes=2)
    Xs = sp.csr_matrix(X).asformat(fmt)
    ours = SVC(kernel=lambda A, B: A @ B.T, probability=True, random_state=0).fit(Xs, y)
    linear = SVC(kernel="linear").fit(X, y)
    assert_array_equal(ours.support_, linear.support_)
    assert_allclose(ours.decision_function(Xs), linear.decision_function(X), atol=1e-8)
    assert ours.predict_proba(Xs).shape == (y.size, 2)
