import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import OptimizeResult, minimize, rosen, rosen_der

from mlnotes.optim import OptimResult, adam, gradient_descent, sgd


def _quadratic(seed=0, n=5, cond=None):
    """f(x) = x^T A x / 2 - b^T x with its minimiser A^{-1} b and eigenvalue range."""
    rng = np.random.default_rng(seed)
    if cond is None:
        M = rng.normal(size=(n, n))
        A = M @ M.T + n * np.eye(n)
    else:
        Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        A = Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T
        A = 0.5 * (A + A.T)
    b = rng.normal(size=n)
    eig = np.linalg.eigvalsh(A)
    x_star = np.linalg.solve(A, b)
    fun = lambda x: 0.5 * x @ A @ x - b @ x  # noqa: E731
    grad = lambda x: A @ x - b  # noqa: E731
    return fun, grad, x_star, eig.min(), eig.max()


def _run(method, fun, grad, x0, mu, L):
    if method == "gd":
        return gradient_descent(fun, x0, grad=grad, learning_rate=1 / L, tol=1e-10,
                                max_iter=20000)
    if method == "armijo":
        # the Armijo test compares function values: near the minimiser their decrease
        # (~|grad|^2 x step) drops below double-precision rounding of f long before
        # |grad| reaches 1e-10 (it stalls near 3e-8 here, with x within 2e-9 of x*)
        return gradient_descent(fun, x0, grad=grad, line_search="armijo", tol=1e-7,
                                max_iter=20000)
    if method == "momentum":
        return gradient_descent(fun, x0, grad=grad, learning_rate=1 / L, momentum=0.5,
                                tol=1e-10, max_iter=20000)
    if method == "nesterov":
        beta = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
        return gradient_descent(fun, x0, grad=grad, learning_rate=1 / L, momentum=beta,
                                nesterov=True, tol=1e-10, max_iter=20000)
    if method == "adam":
        return adam(fun, x0, grad=grad, learning_rate=0.05, tol=1e-8, max_iter=50000)
    raise AssertionError(method)


@pytest.mark.parametrize("method", ["gd", "armijo", "momentum", "nesterov", "adam"])
def test_quadratic_converges_to_known_minimiser(method):
    fun, grad, x_star, mu, L = _quadratic(seed=1)
    x0 = np.full(5, 3.0)
    res = _run(method, fun, grad, x0, mu, L)
    assert res.converged, res.message
    np.testing.assert_allclose(res.x, x_star, atol=1e-7)
    assert res.fun == pytest.approx(fun(x_star), abs=1e-12)
    assert res.fun <= fun(x0)


def test_gd_linear_rate_bound():
    fun, grad, x_star, mu, L = _quadratic(seed=2, n=6, cond=50.0)
    f_star = fun(x_star)
    res = gradient_descent(fun, np.ones(6) * 4, grad=grad, learning_rate=1 / L,
                           tol=0.0, max_iter=300)
    gap = res.history - f_star
    k = np.arange(len(gap))
    bound = (1 - mu / L) ** k * gap[0]
    assert len(gap) == 301
    assert np.all(gap <= bound + 1e-12)
    # descent at every step, and real progress (the bound is not vacuous)
    assert np.all(np.diff(res.history) <= 1e-15)
    assert gap[-1] < 1e-2 * gap[0]


def _slowest_start(seed):
    fun, grad, x_star, mu, L = _quadratic(seed=seed, n=6, cond=50.0)
    A = np.array([grad(e) - grad(np.zeros(6)) for e in np.eye(6)]).T
    v = np.linalg.eigh(A)[1][:, 0]
    return fun, grad, x_star, mu, L, x_star + 3 * v


def test_gd_known_rate_along_the_slowest_eigenvector():
    # From x* + v (v the eigenvector of mu) the error is exactly
    # (1 - eta mu)^k v, so f - f* = (1 - eta mu)^{2k} (f(x0) - f*).
    fun, grad, x_star, mu, L, x0 = _slowest_start(seed=2)
    res = gradient_descent(fun, x0, grad=grad, learning_rate=1 / L, tol=0.0,
                           max_iter=100)
    gap = res.history - fun(x_star)
    expected = (1 - mu / L) ** (2 * np.arange(101)) * gap[0]
    np.testing.assert_allclose(gap, expected, rtol=1e-6, atol=1e-12)
    assert np.all(gap <= (1 - mu / L) ** np.arange(101) * gap[0] + 1e-12)


def test_gd_rate_bound_fails_for_a_too_small_step():
    # Sanity check that the bound test can fail: with eta = 1/(4L) the slowest
    # direction contracts by (1 - mu/(4L))^2 > 1 - mu/L per step.
    fun, grad, x_star, mu, L, x0 = _slowest_start(seed=2)
    res = gradient_descent(fun, x0, grad=grad, learning_rate=0.25 / L, tol=0.0,
                           max_iter=100)
    gap = res.history - fun(x_star)
    bound = (1 - mu / L) ** np.arange(len(gap)) * gap[0]
    assert np.any(gap > bound)


def test_armijo_steps_satisfy_the_condition():
    c, rho, eta0 = 1e-4, 0.5, 1.0
    res = gradient_descent(rosen, [-1.2, 1.0], grad=rosen_der, line_search="armijo",
                           learning_rate=eta0, c=c, rho=rho, max_iter=200, store_x=True)
    xs, fs = res.x_history, res.history
    assert len(xs) == len(fs) == res.n_iter + 1 == 201
    for k in range(res.n_iter):
        g = rosen_der(xs[k])
        step = np.linalg.norm(xs[k] - xs[k + 1]) / np.linalg.norm(g)
        m = round(np.log(step / eta0) / np.log(rho))
        assert step == pytest.approx(eta0 * rho**m, rel=1e-8)
        assert fs[k + 1] <= fs[k] - c * step * (g @ g) + 1e-12
        assert fs[k + 1] == pytest.approx(rosen(xs[k + 1]))
        if m > 0:  # the previous, larger trial step was rejected
            big = step / rho
            assert rosen(xs[k] - big * g) > fs[k] - c * big * (g @ g)


def test_nesterov_and_heavy_ball_beat_gd_on_ill_conditioned_quadratic():
    fun, grad, x_star, mu, L = _quadratic(seed=3, n=20, cond=1e3)
    x0 = np.ones(20)
    kappa = L / mu
    gd = gradient_descent(fun, x0, grad=grad, learning_rate=1 / L, tol=1e-6,
                          max_iter=100000)
    nag = gradient_descent(fun, x0, grad=grad, learning_rate=1 / L, tol=1e-6,
                           momentum=(np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1),
                           nesterov=True, max_iter=100000)
    hb = gradient_descent(fun, x0, grad=grad, tol=1e-6, max_iter=100000,
                          learning_rate=4 / (np.sqrt(L) + np.sqrt(mu)) ** 2,
                          momentum=((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2)
    for res in (gd, nag, hb):
        assert res.converged
        np.testing.assert_allclose(res.x, x_star, atol=1e-4)
    assert nag.n_iter < gd.n_iter / 5
    assert hb.n_iter < gd.n_iter / 5
    assert nag.n_gev == nag.n_iter + 1  # one gradient per iteration


def test_nesterov_matches_the_textbook_recursion():
    # x_{k+1} = y_k - eta grad(y_k), y_{k+1} = x_{k+1} + beta (x_{k+1} - x_k):
    # the returned iterates are the y_k.
    fun, grad, _, mu, L = _quadratic(seed=4)
    eta, beta = 1 / L, 0.7
    y = x_prev = np.full(5, 2.0)
    ys = [y]
    for _ in range(15):
        x_new = y - eta * grad(y)
        y = x_new + beta * (x_new - x_prev)
        x_prev = x_new
        ys.append(y)
    res = gradient_descent(fun, np.full(5, 2.0), grad=grad, learning_rate=eta,
                           momentum=beta, nesterov=True, tol=0.0, max_iter=15,
                           store_x=True)
    np.testing.assert_allclose(res.x_history, np.array(ys), rtol=1e-12, atol=1e-12)


def test_heavy_ball_matches_the_textbook_recursion():
    # x_{k+1} = x_k - eta grad(x_k) + beta (x_k - x_{k-1})
    fun, grad, _, mu, L = _quadratic(seed=5)
    eta, beta = 1 / L, 0.6
    x = x_prev = np.full(5, -1.0)
    xs = [x]
    for _ in range(15):
        x, x_prev = x - eta * grad(x) + beta * (x - x_prev), x
        xs.append(x)
    res = gradient_descent(fun, np.full(5, -1.0), grad=grad, learning_rate=eta,
                           momentum=beta, tol=0.0, max_iter=15, store_x=True)
    np.testing.assert_allclose(res.x_history, np.array(xs), rtol=1e-12, atol=1e-12)


def test_adam_first_step_is_bias_corrected():
    # m_1 = (1-b1) g and v_1 = (1-b2) g^2; after the correction the first step is
    # lr * g / (|g| + eps): about lr in every coordinate, whatever the scale of g.
    g0 = np.array([1e-3, -5.0, 200.0])
    lr, eps = 0.1, 1e-8
    res = adam(lambda x: float(g0 @ x), np.zeros(3), grad=lambda x: g0,
               learning_rate=lr, eps=eps, max_iter=1)
    np.testing.assert_allclose(res.x, -lr * g0 / (np.abs(g0) + eps), rtol=1e-12)


def _logistic_problem():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(200, 4)), np.ones(200)]
    w_true = np.array([1.0, -2.0, 0.5, 0.0, 0.3])
    s = np.where(rng.random(200) < 1 / (1 + np.exp(-X @ w_true)), 1.0, -1.0)
    lam = 1e-2

    def f(w):
        return np.mean(np.logaddexp(0, -s * (X @ w))) + 0.5 * lam * w @ w

    def g(w):
        return X.T @ (-s / (1 + np.exp(s * (X @ w)))) / len(s) + lam * w

    return f, g


def test_adam_matches_scipy_on_logistic_loss():
    f, g = _logistic_problem()
    ref = minimize(f, np.zeros(5), jac=g, method="BFGS", options={"gtol": 1e-10})
    res = adam(f, np.zeros(5), grad=g, learning_rate=0.05, tol=1e-7, max_iter=20000)
    assert res.converged, res.message
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5)
    assert res.fun == pytest.approx(ref.fun, abs=1e-10)


def test_adam_solves_rosenbrock():
    res = adam(rosen, [-1.2, 1.0], grad=rosen_der, learning_rate=0.02, tol=1e-6,
               max_iter=50000)
    assert res.converged, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-4)


# ------------------------------------------------------------------------------ SGD


def _least_squares(seed=0, n=300, d=4):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d))
    y = A @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    x_star = np.linalg.lstsq(A, y, rcond=None)[0]
    grad_i = lambda x, i: A[i].T @ (A[i] @ x - y[i]) / len(i)  # noqa: E731
    fun = lambda x: 0.5 * np.mean((A @ x - y) ** 2)  # noqa: E731
    return A, y, x_star, grad_i, fun


@pytest.mark.parametrize("schedule", ["invscaling", lambda t: 0.2 / (1 + t / 300)])
def test_sgd_reaches_lstsq_solution(schedule):
    A, y, x_star, grad_i, fun = _least_squares()
    res = sgd(grad_i, np.zeros(4), len(y), fun=fun, batch_size=10, learning_rate=schedule,
              eta0=0.1, power_t=0.5, n_epochs=100, random_state=1)
    np.testing.assert_allclose(res.x, x_star, atol=1e-2)
    assert res.n_iter == 100 * 30 and res.n_epochs == 100
    assert len(res.history) == 101
    assert res.fun == pytest.approx(fun(res.x))
    np.testing.assert_allclose(res.grad, A.T @ (A @ res.x - y) / len(y))
    assert res.history[-1] < res.history[0]


def test_sgd_constant_step_stalls_at_noise_level():
    # With a large constant step the iterate keeps moving around x*, further
    # than with a decaying schedule (Robbins-Monro).
    A, y, x_star, grad_i, fun = _least_squares()
    const = sgd(grad_i, np.zeros(4), len(y), batch_size=1, learning_rate="constant",
                eta0=0.05, n_epochs=20, random_state=0)
    decay = sgd(grad_i, np.zeros(4), len(y), batch_size=1,
                learning_rate=lambda t: 0.05 / (1 + t / 300), n_epochs=20,
                random_state=0)
    assert np.linalg.norm(decay.x - x_star) < np.linalg.norm(const.x - x_star)


def test_sgd_reproducible_and_leaves_global_rng_alone():
    _, y, _, grad_i, _ = _least_squares()
    np.random.seed(123)
    before = np.random.get_state()
    a = sgd(grad_i, np.zeros(4), len(y), batch_size=7, n_epochs=3, random_state=42)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1])
    assert before[2:] == after[2:]
    b = sgd(grad_i, np.zeros(4), len(y), batch_size=7, n_epochs=3, random_state=42)
    c = sgd(grad_i, np.zeros(4), len(y), batch_size=7, n_epochs=3,
            random_state=np.random.default_rng(42))
    d = sgd(grad_i, np.zeros(4), len(y), batch_size=7, n_epochs=3, random_state=43)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.x, c.x)
    assert not np.array_equal(a.x, d.x)


def test_full_batch_sgd_is_gradient_descent():
    _, y, _, grad_i, fun = _least_squares(seed=2)
    n = len(y)
    s = sgd(grad_i, np.zeros(4), n, fun=fun, batch_size=n, learning_rate="constant",
            eta0=0.3, n_epochs=25, random_state=0, momentum=0.5, nesterov=True)
    full = lambda x: grad_i(x, np.arange(n))  # noqa: E731
    g = gradient_descent(fun, np.zeros(4), grad=full, learning_rate=0.3, momentum=0.5,
                         nesterov=True, tol=0.0, max_iter=25)
    np.testing.assert_allclose(s.x, g.x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.history, g.history, rtol=1e-10)


def test_sgd_tol_stops_early():
    _, y, x_star, grad_i, _ = _least_squares(seed=3)
    res = sgd(grad_i, np.zeros(4), len(y), batch_size=len(y), learning_rate="constant",
              eta0=0.5, n_epochs=1000, tol=1e-8, shuffle=False)
    assert res.converged and res.status == 0 and res.n_epochs < 1000
    assert np.max(np.abs(res.grad)) <= 1e-8
    np.testing.assert_allclose(res.x, x_star, atol=1e-6)


# ---------------------------------------------------------------------- divergence


def test_gd_too_large_step_raises():
    fun, grad, _, mu, L = _quadratic(seed=0)
    with pytest.raises(FloatingPointError, match=r"diverged.*smaller learning_rate"):
        gradient_descent(fun, np.ones(5), grad=grad, learning_rate=10 / L,
                         max_iter=100000)


def test_adam_nonfinite_objective_raises():
    fun = lambda x: np.nan if x[0] < 0.5 else float(x @ x)  # noqa: E731
    with pytest.raises(FloatingPointError, match="diverged"):
        adam(fun, [1.0], grad=lambda x: 2 * x, learning_rate=0.1)


def test_sgd_too_large_step_raises():
    _, y, _, grad_i, fun = _least_squares()
    with pytest.raises(FloatingPointError, match=r"diverged.*smaller eta0"):
        sgd(grad_i, np.zeros(4), len(y), fun=fun, learning_rate="constant", eta0=10.0,
            n_epochs=50, random_state=0)


def test_nonfinite_at_start_raises():
    with pytest.raises(ValueError, match="not finite at x0"):
        gradient_descent(lambda x: np.inf, [0.0], grad=lambda x: x)


# -------------------------------------------------------------------------- results


def test_result_fields_and_callback():
    fun, grad, _, mu, L = _quadratic(seed=6)
    calls = []
    res = gradient_descent(fun, np.zeros(5), grad=grad, learning_rate=1 / L,
                           max_iter=7, tol=0.0, callback=lambda x: calls.append(x.copy()))
    assert isinstance(res, OptimResult) and isinstance(res, OptimizeResult)
    assert not res.converged and res.status == 1 and "Maximum" in res.message
    assert res.nit == res.n_iter == 7 == len(calls)
    assert res.success is False
    np.testing.assert_array_equal(calls[-1], res.x)
    np.testing.assert_array_equal(res.jac, res.grad)
    np.testing.assert_allclose(res.grad, grad(res.x))
    assert res.fun == pytest.approx(fun(res.x)) and res.history[-1] == res.fun
    assert res.n_fev == res.n_gev == 8
    assert "x_history" not in res


def test_max_iter_zero_returns_start():
    res = adam(rosen, [0.0, 0.0], grad=rosen_der, max_iter=0)
    assert res.n_iter == 0 and not res.converged
    np.testing.assert_array_equal(res.x, [0.0, 0.0])


_GOOD = {
    "gd": lambda **kw: gradient_descent(rosen, kw.pop("x0", [0.0, 0.0]), grad=rosen_der,
                                        **kw),
    "adam": lambda **kw: adam(rosen, kw.pop("x0", [0.0, 0.0]), grad=rosen_der, **kw),
    "sgd": lambda **kw: sgd(lambda x, i: rosen_der(x), kw.pop("x0", [0.0, 0.0]),
                            kw.pop("n_samples", 5), **kw),
}


@pytest.mark.parametrize(
    "method, kwargs, match",
    [
        ("gd", dict(learning_rate=-0.1), "learning_rate"),
        ("gd", dict(learning_rate=0.0), "learning_rate"),
        ("gd", dict(learning_rate=np.inf), "learning_rate"),
        ("gd", dict(x0=[np.nan, 0.0]), "x0"),
        ("gd", dict(x0=[np.inf, 0.0]), "x0"),
        ("gd", dict(momentum=1.0), "momentum"),
        ("gd", dict(momentum=-0.1), "momentum"),
        ("gd", dict(nesterov=True), "nesterov"),
        ("gd", dict(line_search="wolfe"), "line_search"),
        ("gd", dict(line_search="armijo", momentum=0.9), "momentum"),
        ("gd", dict(tol=-1.0), "tol"),
        ("gd", dict(max_iter=-1), "max_iter"),
        ("gd", dict(max_iter=2.5), "max_iter"),
        ("gd", dict(line_search="armijo", rho=1.0), "rho"),
        ("gd", dict(line_search="armijo", c=0.0), "c must"),
        ("adam", dict(beta1=1.0), "beta1"),
        ("adam", dict(beta1=-0.5), "beta1"),
        ("adam", dict(beta2=1.5), "beta2"),
        ("adam", dict(eps=0.0), "eps"),
        ("adam", dict(learning_rate=-1e-3), "learning_rate"),
        ("adam", dict(x0=[np.nan, 1.0]), "x0"),
        ("sgd", dict(batch_size=0), "batch_size"),
        ("sgd", dict(n_samples=0), "n_samples"),
        ("sgd", dict(n_epochs=-1), "n_epochs"),
        ("sgd", dict(learning_rate="optimal"), "learning_rate"),
        ("sgd", dict(eta0=-1.0), "eta0"),
        ("sgd", dict(power_t=-1.0), "power_t"),
        ("sgd", dict(momentum=1.2), "momentum"),
        ("sgd", dict(tol=-1.0), "tol"),
        ("sgd", dict(x0=[0.0, np.nan]), "x0"),
        ("sgd", dict(learning_rate=lambda t: -1.0), "schedule"),
    ],
)
def test_bad_parameters(method, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _GOOD[method](**kwargs)


# ----------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(2, 6),
    variant=st.sampled_from([(0.0, False), (0.8, False), (0.8, True)]),
)
def test_gd_iterates_equivariant_to_coordinate_permutation(seed, n, variant):
    # Minimising f(Px) from P x0 gives the iterates P x_k: gradient descent
    # treats all coordinates alike.
    fun, grad, _, mu, L = _quadratic(seed=seed, n=n)
    perm = np.random.default_rng(seed).permutation(n)
    P = np.eye(n)[perm]
    x0 = np.random.default_rng(seed + 1).normal(size=n)
    momentum, nesterov = variant
    kw = dict(learning_rate=0.5 / L, momentum=momentum, nesterov=nesterov, tol=0.0,
              max_iter=20, store_x=True)
    a = gradient_descent(fun, x0, grad=grad, **kw)
    b = gradient_descent(lambda z: fun(P.T @ z), P @ x0, grad=lambda z: P @ grad(P.T @ z),
                         **kw)
    np.testing.assert_allclose(b.x_history, a.x_history[:, perm], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.history, a.history, rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), shift=st.floats(-5, 5))
def test_adam_equivariant_to_translation(seed, shift):
    # Adam on f(x - s) from x0 + s follows the iterates of f from x0, shifted.
    fun, grad, _, _, _ = _quadratic(seed=seed, n=3)
    x0 = np.random.default_rng(seed).normal(size=3)
    kw = dict(learning_rate=0.05, tol=0.0, max_iter=20, store_x=True)
    a = adam(fun, x0, grad=grad, **kw)
    b = adam(lambda z: fun(z - shift), x0 + shift, grad=lambda z: grad(z - shift), **kw)
    np.testing.assert_allclose(b.x_history - shift, a.x_history, rtol=1e-8, atol=1e-8)
