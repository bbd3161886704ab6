"""LinearSVC's primal solver (``dual=False``, L2 penalty) is liblinear's TRON (issue 21).

scikit-learn's ``test_linear_svm_convergence_warnings`` expects ``n_iter_ == 2`` and
a ConvergenceWarning at ``max_iter=2`` on its 6-point data set: that needs the
iterates of liblinear's trust-region Newton method, not just its optimum.
"""

import warnings

import numpy as np
import pytest
from sklearn import svm as sk_svm
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning

from mlnotes.svm import LinearSVC

X6 = np.array([[-2, -1], [-1, -1], [-1, -2], [1, 1], [1, 2], [2, 1]], dtype=float)
Y6 = np.array([1, 1, 1, 2, 2, 2])


def test_convergence_warning_and_n_iter_as_sklearn_on_the_toy_data():
    with pytest.warns(ConvergenceWarning, match="Liblinear failed to converge"):
        est = LinearSVC(random_state=0, max_iter=2).fit(X6, Y6)
    assert isinstance(est.n_iter_, int)
    assert est.n_iter_ == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert LinearSVC(random_state=0, max_iter=3).fit(X6, Y6).n_iter_ == 2


@pytest.mark.parametrize("kw", [{}, {"tol": 1e-8}, {"max_iter": 3}, {"C": 100.0},
                                {"class_weight": "balanced"}, {"fit_intercept": False}])
def test_primal_iterates_equal_sklearn(kw):
    datasets = [load_iris(return_X_y=True),
                make_classification(200, 10, weights=[0.3], random_state=0)]
    for X, y in datasets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ref = sk_svm.LinearSVC(dual=False, **kw).fit(X, y)
            ours = LinearSVC(dual=False, **kw).fit(X, y)
        assert ours.n_iter_ == ref.n_iter_
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9)


def test_primal_with_sample_weight_and_sparse_input_equals_sklearn():
    import scipy.sparse as sp

    X, y = make_classification(150, 8, random_state=1)
    w = np.random.default_rng(0).uniform(0.2, 3.0, size=y.shape[0])
    ref = sk_svm.LinearSVC(dual=False).fit(X, y, sample_weight=w)
    for data in (X, sp.csr_matrix(X)):
        ours = LinearSVC(dual=False).fit(data, y, sample_weight=w)
        assert ours.n_iter_ == ref.n_iter_
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-9)


def test_tron_overflow_raises_instead_of_looping():
    # features around 1e150: every Newton step is non-finite; a rejected step used to
    # be retried forever with the same trust-region radius (a hang in CI)
    rng = np.random.default_rng(351)
    X = rng.normal(size=(30, 3)) * 1e150
    y = np.arange(30) % 2
    with pytest.raises(ValueError, match="overflowed"):
        LinearSVC(dual=False, max_iter=50).fit(X, y)


@pytest.mark.parametrize("delta", [1e-3, 0.5, 1e9])
def test_compiled_cg_equals_the_python_cg_bit_for_bit(delta):
    # small dense problems run the Steihaug CG compiled (issue 14); its steps must be
    # the Python loop's exactly: TRON's iterates are sensitive to the last bit
    from mlnotes.svm import _linear_svc, _tron_fast

    rng = np.random.default_rng(14)
    for m in (2, 31, 65):
        A = rng.normal(size=(3 * m, m))
        H = np.eye(m) + 2.0 * A.T @ A
        g = rng.normal(size=m) * 10.0
        s_py, r_py = _linear_svc._trust_region_cg(H.__matmul__, g, delta)
        s_nb, r_nb = _tron_fast._trust_region_cg(H, g, delta)
        np.testing.assert_array_equal(s_nb, s_py)
        np.testing.assert_array_equal(r_nb, r_py)
        assert np.linalg.norm(s_nb) <= delta * (1.0 + 1e-12)
        if delta == 1e-3:  # far inside the Newton step: cut at the trust-region boundary
            assert np.linalg.norm(s_nb) == pytest.approx(delta, rel=1e-12)


def test_dense_fit_equals_the_sparse_python_path_on_small_data():
    # dense input with few features goes through the compiled CG, CSR input through the
    # Python matrix-free path: the same iterates up to rounding, the same n_iter_
    import scipy.sparse as sp
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    dense = LinearSVC(dual=False).fit(X, y)
    sparse = LinearSVC(dual=False).fit(sp.csr_matrix(X), y)
    ref = sk_svm.LinearSVC(dual=False).fit(X, y)
    assert dense.n_iter_ == sparse.n_iter_ == ref.n_iter_
    # TRON's iterates move ~1e-7 under one-ulp changes of X on this data, so the
    # two paths (and scikit-learn) agree to the solver's tolerance, not bitwise
    np.testing.assert_allclose(dense.coef_, sparse.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


def test_compiled_sum_is_numpys_pairwise_sum_bit_for_bit():
    # the compiled gradient's bias entry sums in NumPy's order (issue 14)
    from mlnotes.svm._tron_fast import _pairwise_sum

    rng = np.random.default_rng(3)
    for n in [0, 1, 7, 8, 9, 127, 128, 129, 136, 255, 256, 1000, 1437, 4099, 20000]:
        a = rng.normal(size=n) * 10.0 ** rng.uniform(-8, 8, size=n)
        assert _pairwise_sum(a) == a.sum()
