import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from mlnotes.optim import backtracking_line_search


def _armijo_holds(fun, x, g, d, alpha, c):
    return fun(x + alpha * d) <= fun(x) + c * alpha * (g @ d)


@pytest.mark.parametrize("x", [[-1.2, 1.0], [0.0, 0.0], [2.0, 2.0], [0.5, -0.3]])
@pytest.mark.parametrize("rho", [0.5, 0.3])
@pytest.mark.parametrize("c", [1e-4, 0.5, 0.9])
def test_armijo_holds_and_previous_step_fails(x, rho, c):
    x = np.asarray(x)
    g = rosen_der(x)
    d = -g
    alpha, f_new, n_fev = backtracking_line_search(rosen, g, x, d, c=c, rho=rho)
    if c == 0.9:  # on this quadratic-like valley a large c forces backtracking
        assert alpha < 1
    assert alpha > 0
    assert _armijo_holds(rosen, x, g, d, alpha, c)
    assert f_new == pytest.approx(rosen(x + alpha * d))
    # alpha = rho^m exactly, and m is the first exponent that works
    m = round(np.log(alpha) / np.log(rho))
    assert alpha == pytest.approx(rho**m, rel=1e-12)
    for k in range(m):
        assert not _armijo_holds(rosen, x, g, d, rho**k, c)
    # one evaluation of f(x) plus one per trial step
    assert n_fev == 1 + m + 1


def test_trial_steps_halve():
    tried = []
    A = np.diag([1.0, 100.0])

    def fun(z):
        return 0.5 * z @ A @ z

    x = np.array([1.0, 1.0])
    g = A @ x
    f_x = fun(x)

    def recording(z):
        tried.append(z.copy())
        return fun(z)

    alpha, _, n_fev = backtracking_line_search(recording, g, x, -g, f_x=f_x, alpha0=1.0)
    steps = [float((x - z) @ g / (g @ g)) for z in tried]
    np.testing.assert_allclose(steps, 0.5 ** np.arange(len(steps)), rtol=1e-12)
    assert steps[-1] == pytest.approx(alpha)
    assert n_fev == len(tried)  # f_x given: no evaluation at x
    # On an L-smooth function, every step <= 2(1-c)/L is accepted, so the
    # returned step is at least rho * 2(1-c)/L.
    L = 100.0
    assert alpha >= 0.5 * 2 * (1 - 1e-4) / L
    assert alpha <= 2 / L


def test_full_step_accepted_when_it_satisfies_armijo():
    # f = |x|^2 / 2 with d = -g: the unit step lands at the minimum.
    x = np.array([3.0, -4.0])
    alpha, f_new, _ = backtracking_line_search(lambda z: 0.5 * z @ z, x, x, -x)
    assert alpha == 1.0 and f_new == 0.0


def test_nonfinite_trial_is_rejected():
    fun = lambda z: np.inf if z[0] < -0.5 else float(z @ z)  # noqa: E731
    x = np.array([1.0])
    alpha, f_new, _ = backtracking_line_search(fun, 2 * x, x, -2 * x, alpha0=1.0)
    assert np.isfinite(f_new) and 0 < alpha < 1
    assert x[0] - 2 * alpha >= -0.5


def test_failure_returns_zero():
    # An ascent direction of the true function passed with a wrong gradient.
    x = np.array([1.0])
    alpha, f_new, n_fev = backtracking_line_search(
        lambda z: float(z @ z), -x, x, x, max_iter=5
    )
    assert alpha == 0.0 and f_new == 1.0 and n_fev == 1 + 6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(alpha0=0.0), "alpha0"),
        (dict(alpha0=-1.0), "alpha0"),
        (dict(c=1.0), "c must"),
        (dict(rho=1.5), "rho"),
        (dict(max_iter=-1), "max_iter"),
    ],
)
def test_bad_parameters(kwargs, match):
    x = np.ones(2)
    with pytest.raises(ValueError, match=match):
        backtracking_line_search(lambda z: z @ z, 2 * x, x, -2 * x, **kwargs)


def test_ascent_direction_is_rejected():
    x = np.ones(2)
    with pytest.raises(ValueError, match="descent direction"):
        backtracking_line_search(lambda z: z @ z, 2 * x, x, 2 * x)


def test_large_c_demands_more_decrease():
    # f = x^2 from x = 1 along -f'(1) = -2: the decrease at step a is 4a - 4a^2
    # and Armijo asks for 4 c a, so a step a is accepted iff a <= 1 - c.
    for c, expected in [(1e-4, 0.5), (0.6, 0.25), (0.8, 0.125)]:
        alpha, _, _ = backtracking_line_search(lambda z: float(z @ z), [2.0], [1.0],
                                               [-2.0], c=c)
        assert alpha == expected
