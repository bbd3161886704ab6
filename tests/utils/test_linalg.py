import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlnotes.utils.linalg import deterministic_sign, eigh_sorted, power_iteration, rayleigh_quotient


def _sym(n, seed):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, n))
    return B + B.T


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_eigh_sorted_matches_numpy(n, seed):
    A = _sym(n, seed)
    w, V = eigh_sorted(A)
    w_ref, V_ref = np.linalg.eigh(A)
    np.testing.assert_allclose(w, w_ref[::-1], atol=1e-10)
    np.testing.assert_allclose(A @ V, V * w, atol=1e-9)
    np.testing.assert_allclose(V.T @ V, np.eye(n), atol=1e-10)
    # deterministic sign: the entry of largest magnitude of each vector is positive
    assert np.all(V[np.argmax(np.abs(V), axis=0), np.arange(n)] > 0)


def test_eigh_sorted_subset_and_smallest():
    A = _sym(8, 0)
    w_ref = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(eigh_sorted(A, 3)[0], w_ref[::-1][:3], atol=1e-10)
    np.testing.assert_allclose(eigh_sorted(A, 2, largest=False)[0], w_ref[:2], atol=1e-10)


def test_sign_is_invariant_to_input_sign():
    V = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(deterministic_sign(V), deterministic_sign(-V))


@pytest.mark.parametrize("seed", range(5))
def test_power_iteration_finds_dominant_eigenpair(seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    eig = np.array([5.0, 3.0, 2.0, 1.0, 0.5, -1.0])
    A = Q @ np.diag(eig) @ Q.T
    value, vector, n_iter = power_iteration(A, random_state=seed)
    assert abs(value - 5.0) < 1e-8
    assert abs(abs(vector @ Q[:, 0]) - 1) < 1e-8
    # linear rate |l2/l1| = 0.6: 1e-10 needs about log(1e-10)/log(0.6) = 45 steps
    assert n_iter < 80


def test_power_iteration_is_reproducible():
    A = _sym(5, 3) + 20 * np.eye(5)
    assert power_iteration(A, random_state=1)[1].tolist() == power_iteration(
        A, random_state=1)[1].tolist()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_rayleigh_quotient_bounds(n, seed):
    A = _sym(n, seed)
    x = np.random.default_rng(seed + 1).normal(size=n)
    w = np.linalg.eigvalsh(A)
    r = rayleigh_quotient(A, x)
    assert w[0] - 1e-9 <= r <= w[-1] + 1e-9


@pytest.mark.parametrize("A", [np.ones((2, 3)), np.array([[1.0, np.nan], [0, 1]]), np.ones(3)])
def test_bad_matrices(A):
    with pytest.raises(ValueError):
        eigh_sorted(A)
    with pytest.raises(ValueError):
        power_iteration(A)


def test_rayleigh_rejects_zero_vector():
    with pytest.raises(ValueError, match="non-zero"):
        rayleigh_quotient(np.eye(2), np.zeros(2))
