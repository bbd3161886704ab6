import numpy as np
import pytest
from scipy.optimize import OptimizeResult, rosen, rosen_der, rosen_hess

from mlnotes.optim import NewtonResult, newton


def _quadratic(seed=0, n=5):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    A = M @ M.T + n * np.eye(n)
    b = rng.normal(size=n)
    return A, b


def test_quadratic_converges_in_one_step():
    A, b = _quadratic()
    res = newton(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(5),
                 grad=lambda x: A @ x - b, hess=lambda x: A, tol=1e-10)
    x_star = np.linalg.solve(A, b)
    assert res.converged and res.status == 0
    assert res.n_iter == 1
    np.testing.assert_allclose(res.x, x_star, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.fun, -0.5 * b @ x_star, rtol=1e-12)
    assert res.steps["cholesky"] == 1


def test_quadratic_one_step_from_any_start_without_line_search():
    A, b = _quadratic(seed=3)
    x0 = np.full(5, 100.0)
    res = newton(lambda x: 0.5 * x @ A @ x - b @ x, x0, grad=lambda x: A @ x - b,
                 hess=lambda x: A, line_search=False, tol=1e-8)
    assert res.converged and res.n_iter == 1
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), rtol=1e-10)


@pytest.mark.parametrize("x0", [[-1.2, 1.0], [0.0, 1.0], [2.0, -1.0]])
def test_rosenbrock_converges(x0):
    res = newton(rosen, x0, grad=rosen_der, hess=rosen_hess, tol=1e-10, max_iter=200)
    assert res.converged, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    assert res.fun < 1e-12
    assert res.n_iter < 100


def test_indefinite_hessian_uses_a_modified_descent_step():
    # At (0, 1) the Rosenbrock Hessian has a negative eigenvalue, so the raw
    # Newton step points uphill; the modified step must still descend.
    assert np.linalg.eigvalsh(rosen_hess(np.array([0.0, 1.0]))).min() < 0
    res = newton(rosen, [0.0, 1.0], grad=rosen_der, hess=rosen_hess, max_iter=1)
    assert res.steps["modified"] == 1
    assert res.fun < rosen(np.array([0.0, 1.0]))


def test_singular_hessian_takes_minimum_norm_step():
    # f(x) = (x0 + x1 - 2)^2 / 2 has a singular Hessian and a line of minima;
    # the pseudo-inverse step from 0 lands on the minimum-norm one, (1, 1).
    a = np.array([1.0, 1.0])
    res = newton(lambda x: 0.5 * (a @ x - 2) ** 2, np.zeros(2),
                 grad=lambda x: (a @ x - 2) * a, hess=lambda x: np.outer(a, a), tol=1e-12)
    assert res.converged
    assert res.steps["pinv"] >= 1
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-12)


def test_result_fields():
    calls = []
    res = newton(rosen, np.array([-1.2, 1.0]), grad=rosen_der, hess=rosen_hess,
                 callback=lambda x: calls.append(x.copy()))
    assert isinstance(res, NewtonResult) and isinstance(res, OptimizeResult)
    assert res.x.shape == (2,) and np.all(np.isfinite(res.x))
    assert res.fun == pytest.approx(rosen(res.x))
    np.testing.assert_allclose(res.grad, rosen_der(res.x))
    # scipy-style aliases
    assert res.nit == res.n_iter and res.success == res.converged
    np.testing.assert_array_equal(res.jac, res.grad)
    assert isinstance(res.message, str) and res.message
    assert res.decrement >= 0
    assert res.n_fev >= res.n_iter + 1 and res.n_gev >= res.n_iter + 1
    assert res.n_hev >= res.n_iter
    assert sum(res.steps.values()) == res.n_iter == len(calls)
    np.testing.assert_array_equal(calls[-1], res.x)


def test_args_are_passed():
    A, b = _quadratic(seed=1)
    res = newton(lambda x, A, b: 0.5 * x @ A @ x - b @ x, np.zeros(5),
                 grad=lambda x, A, b: A @ x - b, hess=lambda x, A, b: A, args=(A, b))
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), rtol=1e-10)


def test_non_convergence_is_flagged():
    res = newton(rosen, [-1.2, 1.0], grad=rosen_der, hess=rosen_hess, max_iter=2)
    assert not res.converged and not res.success
    assert res.status == 1 and res.n_iter == 2
    assert "Maximum number of iterations" in res.message


def test_max_iter_zero_evaluates_start_only():
    res = newton(rosen, [-1.2, 1.0], grad=rosen_der, hess=rosen_hess, max_iter=0)
    assert res.n_iter == 0 and not res.converged
    np.testing.assert_array_equal(res.x, [-1.2, 1.0])


def test_line_search_damps_divergent_newton_steps():
    # f(x) = sqrt(1 + x^2): pure Newton maps x to -x^3 and diverges for |x| > 1.
    fun = lambda x: np.sqrt(1 + x[0] ** 2)  # noqa: E731
    grad = lambda x: x / np.sqrt(1 + x[0] ** 2)  # noqa: E731
    hess = lambda x: np.array([[(1 + x[0] ** 2) ** -1.5]])  # noqa: E731
    damped = newton(fun, [1.5], grad=grad, hess=hess, tol=1e-10)
    assert damped.converged
    assert abs(damped.x[0]) < 1e-5
    with np.errstate(over="ignore", invalid="ignore"):
        pure = newton(fun, [1.5], grad=grad, hess=hess, line_search=False, max_iter=50)
    assert not pure.converged
    assert pure.status in (1, 3)
    assert np.all(np.isfinite(pure.x))  # never a non-finite iterate
    assert abs(pure.x[0]) > 1.5


def test_failed_line_search_is_reported():
    # A wrong gradient makes the Newton direction point uphill for the true f.
    res = newton(lambda x: 0.5 * x @ x, np.ones(3), grad=lambda x: -x,
                 hess=lambda x: np.eye(3))
    assert res.status == 2 and not res.converged
    np.testing.assert_array_equal(res.x, np.ones(3))


def test_nonfinite_hessian_stops_at_last_finite_iterate():
    res = newton(lambda x: 0.5 * x @ x, np.ones(2), grad=lambda x: x,
                 hess=lambda x: np.full((2, 2), np.nan))
    assert res.status == 3 and not res.converged
    np.testing.assert_array_equal(res.x, np.ones(2))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_iter=-1), "max_iter"),
        (dict(tol=-1.0), "tol"),
        (dict(armijo=1.5), "armijo"),
        (dict(shrink=0.0), "shrink"),
        (dict(x0=[np.nan, 0.0]), "x0"),
    ],
)
def test_bad_parameters(kwargs, match):
    params = dict(x0=[0.0, 0.0])
    params.update(kwargs)
    x0 = params.pop("x0")
    with pytest.raises(ValueError, match=match):
        newton(rosen, x0, grad=rosen_der, hess=rosen_hess, **params)


def test_nonfinite_objective_at_start():
    with pytest.raises(ValueError, match="not finite"):
        newton(lambda x: np.inf, [0.0], grad=lambda x: x, hess=lambda x: np.eye(1))
