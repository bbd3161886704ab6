"""First-order optimisers from chapter 3 of the notes: gradient descent (fixed step or
Armijo backtracking), heavy-ball and Nesterov momentum, Adam, mini-batch SGD."""

import numpy as np

from ..utils._validation import check_int, check_real
from ._line_search import _backtrack
from ._result import OptimResult

__all__ = ["gradient_descent", "adam", "sgd"]

_MESSAGES = {
    0: "Converged: max|gradient| <= tol.",
    1: "Maximum number of iterations reached.",
    2: "Line search failed to find a step that decreases the objective.",
}


# ----------------------------------------------------------------------- validation


def _check_x0(x0):
    x = np.array(x0, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("x0 must have at least one element.")
    if not np.all(np.isfinite(x)):
        raise ValueError("x0 must be finite (it contains NaN or inf).")
    return x


def _check_tol(tol, allow_none=False):
    if not (tol is None and allow_none):
        check_real(tol, "tol", 0)


def _check_momentum(momentum, nesterov):
    check_real(momentum, "momentum", 0, 1, high_open=True)
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs a momentum > 0.")


def _record(method, n_iter, x, f, g, history, xs, callback):
    """End of an iteration of :func:`gradient_descent` and :func:`adam`: stop on a
    non-finite value, record ``f`` (and ``x`` when ``xs`` is a list), call back."""
    if not np.isfinite(f):
        raise _diverged(method, n_iter, "objective", f, "learning_rate")
    if not np.all(np.isfinite(g)) or not np.all(np.isfinite(x)):
        raise _diverged(method, n_iter, "gradient", "NaN or inf", "learning_rate")
    history.append(f)
    if xs is not None:
        xs.append(x.copy())
    if callback is not None:
        callback(x)


def _result(x, f, g, n_iter, status, history, xs, counts):
    """The :class:`OptimResult` of :func:`gradient_descent` and :func:`adam`."""
    extra = {"x_history": np.array(xs)} if xs is not None else {}
    return OptimResult(
        x=x, fun=f, grad=g, n_iter=n_iter, converged=status == 0, status=status,
        message=_MESSAGES[status], history=np.array(history), **counts, **extra,
    )


def _diverged(method, n_iter, what, value, knob):
    return FloatingPointError(
        f"{method} diverged at iteration {n_iter}: the {what} is not finite "
        f"({value}). The step is probably too large; try a smaller {knob}."
    )


def _counted(fun, grad, args):
    """``fun`` and ``grad`` bound to ``args``, counting their calls in ``counts``
    (``n_fev``, ``n_gev``); shared by the first-order methods and Newton."""
    counts = {"n_fev": 0, "n_gev": 0}

    def f_(z):
        counts["n_fev"] += 1
        return float(fun(z, *args))

    def g_(z):
        counts["n_gev"] += 1
        return np.asarray(grad(z, *args), dtype=np.float64).ravel()

    return f_, g_, counts


def _start(f_, g_, x):
    with np.errstate(over="ignore", invalid="ignore"):
        f, g = f_(x), g_(x)
    if not np.isfinite(f):
        raise ValueError(f"The objective is not finite at x0 (fun={f}).")
    if not np.all(np.isfinite(g)):
        raise ValueError("The gradient is not finite at x0.")
    return f, g


def _momentum_direction(g, buf, momentum, nesterov):
    """``(step direction, new buffer)``: b <- mu b + g; d = g + mu b (Nesterov) or b."""
    if momentum == 0:
        return g, buf
    buf = momentum * buf + g
    return (g + momentum * buf if nesterov else buf), buf


def _gmax(g):
    return float(np.max(np.abs(g)))


# -------------------------------------------------------------------- gradient descent


def gradient_descent(
    fun,
    x0,
    *,
    grad,
    args=(),
    learning_rate=None,
    line_search=None,
    momentum=0.0,
    nesterov=False,
    tol=1e-6,
    max_iter=1000,
    c=1e-4,
    rho=0.5,
    callback=None,
    store_x=False,
):
    r"""Minimise a differentiable function by (batch) gradient descent.

    With a fixed step, an Armijo backtracking line search, or (fixed step only)
    heavy-ball or Nesterov momentum.

    Parameters
    ----------
    fun : callable
        Objective, ``fun(x, *args) -> float``.
    x0 : array-like of shape (n,)
        Starting point; must be finite.
    grad : callable
        Gradient, ``grad(x, *args) -> ndarray of shape (n,)``.
    args : tuple, default=()
        Extra arguments passed to ``fun`` and ``grad``.
    learning_rate : float, default=None
        The step :math:`\eta > 0`. With ``line_search=None`` it is used at every
        iteration (default ``1e-2``; ``1/L`` on an :math:`L`-smooth function
        guarantees descent); with ``line_search="armijo"`` it is the first step
        tried by each search (default ``1.0``).
    line_search : {None, "armijo"}, default=None
        ``None``: fixed step. ``"armijo"``: each step is chosen by
        :func:`backtracking_line_search` along :math:`-\nabla f(x_k)`.
    momentum : float, default=0.0
        Momentum coefficient :math:`\beta \in [0, 1)`; 0 is plain gradient
        descent. Only with ``line_search=None``.
    nesterov : bool, default=False
        Use Nesterov's accelerated gradient instead of the heavy ball (needs
        ``momentum > 0``).
    tol : float, default=1e-6
        Stop when :math:`\max_i |\nabla f(x_k)_i| \le` ``tol``.
    max_iter : int, default=1000
        Maximum number of iterations.
    c : float, default=1e-4
        Armijo sufficient-decrease constant, in (0, 1) (line search only).
    rho : float, default=0.5
        Backtracking shrink factor, in (0, 1) (line search only).
    callback : callable, default=None
        Called as ``callback(x)`` after each iteration.
    store_x : bool, default=False
        Also record the iterates in ``x_history``.

    Returns
    -------
    result : OptimResult
        ``x``, ``fun``, ``grad``, ``n_iter``, ``converged``, ``status``,
        ``message``, ``history`` (objective at ``x0`` and after each
        iteration), ``n_fev``, ``n_gev``, and ``x_history`` if ``store_x``.

    Raises
    ------
    ValueError
        For a bad parameter, a non-finite ``x0``, or a non-finite objective or
        gradient at ``x0``.
    FloatingPointError
        If the iteration diverges (the objective or the gradient becomes NaN or
        infinite); the message suggests a smaller ``learning_rate``.

    See Also
    --------
    adam : adaptive per-coordinate steps.
    sgd : stochastic (mini-batch) gradient descent on a finite sum.
    newton : second-order method, quadratic convergence near the minimum.

    Notes
    -----
    Chapter 3 of the notes. Gradient descent steps against the gradient,

    .. math::

        x_{k+1} = x_k - \eta \, \nabla f(x_k).

    If :math:`f` is :math:`L`-smooth (:math:`\nabla f` is
    :math:`L`-Lipschitz) and :math:`\mu`-strongly convex, the step
    :math:`\eta = 1/L` gives the linear rate

    .. math::

        f(x_k) - f^\star \le \left(1 - \frac{\mu}{L}\right)^k
        \left(f(x_0) - f^\star\right),

    so about :math:`\kappa \log(1/\varepsilon)` iterations are needed,
    :math:`\kappa = L/\mu`; any :math:`\eta \in (0, 2/L)` converges on a
    quadratic, larger steps diverge.

    The heavy ball (Polyak) adds a velocity,

    .. math::

        v_{k+1} = \beta v_k + \nabla f(x_k), \qquad
        x_{k+1} = x_k - \eta \, v_{k+1},

    i.e. :math:`x_{k+1} = x_k - \eta\nabla f(x_k) + \beta (x_k - x_{k-1})`.
    Nesterov's accelerated gradient evaluates the gradient at the
    extrapolated point,

    .. math::

        x_{k+1} = y_k - \eta \, \nabla f(y_k), \qquad
        y_{k+1} = x_{k+1} + \beta (x_{k+1} - x_k),

    which, with :math:`\eta = 1/L` and
    :math:`\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`, needs only about
    :math:`\sqrt\kappa \log(1/\varepsilon)` iterations. It is implemented in
    the equivalent form used by PyTorch,
    :math:`v_{k+1} = \beta v_k + \nabla f(y_k)`,
    :math:`y_{k+1} = y_k - \eta(\nabla f(y_k) + \beta v_{k+1})`, so the
    iterates returned (``x``, ``history``) are the points :math:`y_k` where the
    gradient is evaluated: one gradient per iteration.

    With ``line_search="armijo"`` the step :math:`\eta_k` is the first of
    ``learning_rate`` :math:`\cdot\,\rho^m`, :math:`m = 0, 1, \dots` that
    satisfies the Armijo condition
    :math:`f(x_k - \eta_k \nabla f(x_k)) \le f(x_k) - c\,\eta_k\|\nabla f(x_k)\|^2`;
    no knowledge of :math:`L` is needed and the rate above holds with
    :math:`1/L` replaced by :math:`\min(\eta_0, 2\rho(1-c)/L)`.

    References
    ----------
    S. Boyd and L. Vandenberghe, *Convex Optimization*, Cambridge University
    Press, 2004, section 9.3.

    Y. Nesterov, *Lectures on Convex Optimization*, 2nd ed., Springer, 2018,
    section 2.2.

    I. Sutskever, J. Martens, G. Dahl and G. Hinton, "On the importance of
    initialization and momentum in deep learning", ICML 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.optim import gradient_descent
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> b = np.array([1.0, 1.0])
    >>> L = np.linalg.eigvalsh(A).max()
    >>> res = gradient_descent(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(2),
    ...                        grad=lambda x: A @ x - b, learning_rate=1 / L,
    ...                        tol=1e-10)
    >>> res.converged
    True
    >>> np.allclose(res.x, np.linalg.solve(A, b))
    True
    """
    if line_search not in (None, "armijo"):
        raise ValueError(f"line_search must be None or 'armijo'; got {line_search!r}.")
    if learning_rate is None:
        learning_rate = 1.0 if line_search == "armijo" else 1e-2
    check_real(learning_rate, "learning_rate", 0, low_open=True)
    _check_momentum(momentum, nesterov)
    if line_search is not None and momentum != 0:
        raise ValueError("momentum is only supported with line_search=None.")
    _check_tol(tol)
    check_int(max_iter, "max_iter", 0)
    check_real(c, "c", 0, 1, low_open=True, high_open=True)
    check_real(rho, "rho", 0, 1, low_open=True, high_open=True)
    x = _check_x0(x0)

    f_, g_, counts = _counted(fun, grad, args)
    f, g = _start(f_, g_, x)
    history, xs = [f], [x.copy()]
    buf = np.zeros_like(x)
    n_iter = 0
    name = "nesterov" if nesterov else ("momentum" if momentum else "gradient_descent")
    while True:
        if _gmax(g) <= tol:
            status = 0
            break
        if n_iter >= max_iter:
            status = 1
            break
        with np.errstate(over="ignore", invalid="ignore"):
            if line_search == "armijo":
                step, f_new, n_fev = _backtrack(
                    f_, (), x, -g, f, -float(g @ g), learning_rate, c, rho, 60
                )
                if step == 0.0:
                    status = 2
                    break
                x, f = x - step * g, f_new
            else:
                d, buf = _momentum_direction(g, buf, momentum, nesterov)
                x = x - learning_rate * d
                f = f_(x)
            g = g_(x)
        n_iter += 1
        _record(name, n_iter, x, f, g, history, xs if store_x else None, callback)

    return _result(x, f, g, n_iter, status, history, xs if store_x else None, counts)


# ------------------------------------------------------------------------------ Adam


def adam(
    fun,
    x0,
    *,
    grad,
    args=(),
    learning_rate=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    tol=1e-6,
    max_iter=10000,
    callback=None,
    store_x=False,
):
    r"""Minimise a differentiable function with Adam (adaptive moment estimation).

    Parameters
    ----------
    fun : callable
        Objective, ``fun(x, *args) -> float`` (for the history and to detect
        divergence; the update uses only the gradient).
    x0 : array-like of shape (n,)
        Starting point; must be finite.
    grad : callable
        Gradient, ``grad(x, *args) -> ndarray of shape (n,)``.
    args : tuple, default=()
        Extra arguments passed to ``fun`` and ``grad``.
    learning_rate : float, default=1e-3
        Step size :math:`\eta > 0`.
    beta1 : float, default=0.9
        Decay rate of the first-moment estimate, in [0, 1).
    beta2 : float, default=0.999
        Decay rate of the second-moment estimate, in [0, 1).
    eps : float, default=1e-8
        Positive constant added to the denominator.
    tol : float, default=1e-6
        Stop when :math:`\max_i |\nabla f(x_k)_i| \le` ``tol``.
    max_iter : int, default=10000
        Maximum number of iterations.
    callback : callable, default=None
        Called as ``callback(x)`` after each iteration.
    store_x : bool, default=False
        Also record the iterates in ``x_history``.

    Returns
    -------
    result : OptimResult
        As for :func:`gradient_descent`.

    Raises
    ------
    ValueError
        For a bad parameter, a non-finite ``x0``, or a non-finite objective or
        gradient at ``x0``.
    FloatingPointError
        If the iteration diverges (the objective or the gradient becomes NaN or
        infinite); the message suggests a smaller ``learning_rate``.

    See Also
    --------
    gradient_descent : fixed-step, line-search and momentum variants.

    Notes
    -----
    Chapter 3 of the notes. With :math:`g_t = \nabla f(x_{t-1})`,
    :math:`m_0 = v_0 = 0` and :math:`t = 1, 2, \dots`,

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

    .. math::

        \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad
        \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
        x_t = x_{t-1} - \eta \, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},

    squares and square roots taken elementwise. The bias corrections
    :math:`1 - \beta^t` undo the pull of the zero initialisation towards 0,
    so the first step has size about :math:`\eta` in every coordinate.

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization",
    ICLR 2015, algorithm 1.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.optim import adam
    >>> res = adam(lambda x: float(np.sum((x - 3.0) ** 2)), np.zeros(2),
    ...            grad=lambda x: 2 * (x - 3.0), learning_rate=0.1, tol=1e-8)
    >>> res.converged
    True
    >>> np.allclose(res.x, 3.0)
    True
    """
    check_real(learning_rate, "learning_rate", 0, low_open=True)
    check_real(beta1, "beta1", 0, 1, high_open=True)
    check_real(beta2, "beta2", 0, 1, high_open=True)
    check_real(eps, "eps", 0, low_open=True)
    _check_tol(tol)
    check_int(max_iter, "max_iter", 0)
    x = _check_x0(x0)

    f_, g_, counts = _counted(fun, grad, args)
    f, g = _start(f_, g_, x)
    history, xs = [f], [x.copy()]
    m, v = np.zeros_like(x), np.zeros_like(x)
    n_iter = 0
    while True:
        if _gmax(g) <= tol:
            status = 0
            break
        if n_iter >= max_iter:
            status = 1
            break
        t = n_iter + 1
        with np.errstate(over="ignore", invalid="ignore"):
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            x = x - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
            f, g = f_(x), g_(x)
        n_iter = t
        _record("adam", n_iter, x, f, g, history, xs if store_x else None, callback)

    return _result(x, f, g, n_iter, status, history, xs if store_x else None, counts)


# ------------------------------------------------------------------------------- SGD


def sgd(
    grad_i,
    x0,
    n_samples,
    *,
    fun=None,
    args=(),
    batch_size=1,
    learning_rate="invscaling",
    eta0=0.01,
    power_t=0.25,
    momentum=0.0,
    nesterov=False,
    n_epochs=10,
    shuffle=True,
    tol=None,
    random_state=None,
    callback=None,
    store_x=False,
):
    r"""Minimise a finite sum by stochastic (mini-batch) gradient descent.

    The objective is :math:`f(x) = \frac1n \sum_{i=1}^n f_i(x)`; each update
    uses the mean gradient over a random mini-batch of the ``n_samples`` terms.

    Parameters
    ----------
    grad_i : callable
        ``grad_i(x, idx, *args) -> ndarray of shape (n,)``: the **mean**
        gradient :math:`\frac{1}{|B|}\sum_{i \in B} \nabla f_i(x)` over the
        sample indices ``idx`` (an integer array), so the step size does not
        depend on ``batch_size``.
    x0 : array-like of shape (n,)
        Starting point; must be finite.
    n_samples : int
        Number of terms :math:`n` of the sum.
    fun : callable, default=None
        Full objective ``fun(x, *args) -> float``; if given, it is evaluated at
        ``x0`` and after each epoch for ``history``.
    args : tuple, default=()
        Extra arguments passed to ``grad_i`` and ``fun``.
    batch_size : int, default=1
        Mini-batch size (the last batch of an epoch may be smaller).
    learning_rate : {"constant", "invscaling"} or callable, default="invscaling"
        Step-size schedule, with :math:`t = 0, 1, \dots` the number of updates
        made so far: ``"constant"``: :math:`\eta_t = \eta_0`;
        ``"invscaling"``: :math:`\eta_t = \eta_0 / (t + 1)^{p}` (as
        scikit-learn's ``SGDRegressor``, which counts :math:`t` from 1); a
        callable: :math:`\eta_t` = ``learning_rate(t)``.
    eta0 : float, default=0.01
        Initial step :math:`\eta_0 > 0` of the named schedules.
    power_t : float, default=0.25
        Exponent :math:`p \ge 0` of ``"invscaling"``.
    momentum : float, default=0.0
        Momentum coefficient in [0, 1), as in :func:`gradient_descent`.
    nesterov : bool, default=False
        Nesterov momentum (needs ``momentum > 0``).
    n_epochs : int, default=10
        Number of passes over the data.
    shuffle : bool, default=True
        Draw a new random permutation of the samples each epoch; otherwise
        take them in order.
    tol : float, default=None
        If given, stop after an epoch at whose end the full gradient
        (``grad_i`` on all samples, one extra pass) has
        :math:`\max_i |\nabla f(x)_i| \le` ``tol``. ``None``: run all epochs.
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator, default=None
        Source of the permutations, through :func:`numpy.random.default_rng`.
        The global NumPy random state is never used or changed.
    callback : callable, default=None
        Called as ``callback(x)`` after each epoch.
    store_x : bool, default=False
        Also record the iterate after each epoch in ``x_history``.

    Returns
    -------
    result : OptimResult
        ``x``, ``fun`` (``None`` without ``fun``), ``grad`` (full gradient at
        ``x``), ``n_iter`` (number of updates), ``n_epochs``, ``converged``,
        ``status``, ``message``, ``history`` (full objective at ``x0`` and after
        each epoch; empty without ``fun``), ``n_fev``, ``n_gev`` (calls of
        ``grad_i``), and ``x_history`` if ``store_x``.

    Raises
    ------
    ValueError
        For a bad parameter or a non-finite ``x0``.
    FloatingPointError
        If the iteration diverges (a gradient or the objective becomes NaN or
        infinite); the message suggests a smaller ``eta0``.

    See Also
    --------
    gradient_descent : full-batch version.

    Notes
    -----
    Chapter 3 of the notes. Each update draws a mini-batch :math:`B_t` (the
    next slice of the epoch's permutation) and steps along the unbiased
    estimate of the gradient,

    .. math::

        x_{t+1} = x_t - \eta_t \, \frac{1}{|B_t|}\sum_{i \in B_t}\nabla f_i(x_t).

    The gradient noise does not vanish at the minimum, so with a constant
    step SGD only reaches a neighbourhood of it of size :math:`O(\eta)`;
    convergence needs :math:`\sum_t \eta_t = \infty` and
    :math:`\sum_t \eta_t^2 < \infty` (Robbins and Monro), e.g.
    :math:`\eta_t \propto 1/t`.

    References
    ----------
    H. Robbins and S. Monro, "A stochastic approximation method", *Annals of
    Mathematical Statistics* 22(3), 1951.

    L. Bottou, F. E. Curtis and J. Nocedal, "Optimization methods for
    large-scale machine learning", *SIAM Review* 60(2), 2018.

    Examples
    --------
    Least squares, :math:`f_i(x) = \frac12 (a_i^\top x - y_i)^2`:

    >>> import numpy as np
    >>> from mlnotes.optim import sgd
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 3))
    >>> y = A @ np.array([1.0, -2.0, 0.5])
    >>> res = sgd(lambda x, i: A[i].T @ (A[i] @ x - y[i]) / len(i), np.zeros(3), 200,
    ...           batch_size=10, learning_rate="constant", eta0=0.1, n_epochs=50,
    ...           random_state=0)
    >>> np.round(res.x, 3)
    array([ 1. , -2. ,  0.5])
    """
    check_int(n_samples, "n_samples", 1)
    check_int(batch_size, "batch_size", 1)
    check_int(n_epochs, "n_epochs", 0)
    _check_tol(tol, allow_none=True)
    _check_momentum(momentum, nesterov)
    if callable(learning_rate):
        schedule = learning_rate
    elif learning_rate == "constant":
        check_real(eta0, "eta0", 0, low_open=True)
        schedule = lambda t: eta0  # noqa: E731
    elif learning_rate == "invscaling":
        check_real(eta0, "eta0", 0, low_open=True)
        check_real(power_t, "power_t", 0)
        schedule = lambda t: eta0 / (t + 1) ** power_t  # noqa: E731
    else:
        raise ValueError(
            "learning_rate must be 'constant', 'invscaling' or a callable; "
            f"got {learning_rate!r}."
        )
    x = _check_x0(x0)
    rng = np.random.default_rng(random_state)

    counts = {"n_fev": 0, "n_gev": 0}

    def f_(z):
        counts["n_fev"] += 1
        return float(fun(z, *args))

    def g_(z, idx):
        counts["n_gev"] += 1
        return np.asarray(grad_i(z, idx, *args), dtype=np.float64).ravel()

    knob = "eta0" if isinstance(learning_rate, str) else "learning rate"
    history, xs = [], [x.copy()]
    if fun is not None:
        f = f_(x)
        if not np.isfinite(f):
            raise ValueError(f"The objective is not finite at x0 (fun={f}).")
        history.append(f)
    all_idx = np.arange(n_samples)
    buf = np.zeros_like(x)
    t, status, g_full, epoch = 0, 1, None, 0
    for epoch in range(1, n_epochs + 1):
        order = rng.permutation(n_samples) if shuffle else all_idx
        for start in range(0, n_samples, batch_size):
            idx = order[start:start + batch_size]
            with np.errstate(over="ignore", invalid="ignore"):
                g = g_(x, idx)
                if not np.all(np.isfinite(g)):
                    raise _diverged("sgd", t, "gradient", "NaN or inf", knob)
                eta = float(schedule(t))
                if not (np.isfinite(eta) and eta > 0):
                    raise ValueError(
                        f"The learning-rate schedule gave {eta!r} at step {t}; "
                        "it must be positive and finite."
                    )
                d, buf = _momentum_direction(g, buf, momentum, nesterov)
                x = x - eta * d
            t += 1
            if not np.all(np.isfinite(x)):
                raise _diverged("sgd", t, "iterate", "NaN or inf", knob)
        if fun is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                f = f_(x)
            if not np.isfinite(f):
                raise _diverged("sgd", t, "objective", f, knob)
            history.append(f)
        if store_x:
            xs.append(x.copy())
        if callback is not None:
            callback(x)
        if tol is not None:
            g_full = g_(x, all_idx)
            if _gmax(g_full) <= tol:
                status = 0
                break
    if g_full is None:  # tol=None (or n_epochs=0): one full pass for grad
        with np.errstate(over="ignore", invalid="ignore"):
            g_full = g_(x, all_idx)
    if not np.all(np.isfinite(g_full)):
        raise _diverged("sgd", t, "gradient", "NaN or inf", knob)
    message = {
        0: "Converged: max|full gradient| <= tol.",
        1: ("Ran n_epochs epochs (no convergence test: tol=None)." if tol is None
            else "Maximum number of epochs reached."),
    }[status]
    extra = {"x_history": np.array(xs)} if store_x else {}
    return OptimResult(
        x=x, fun=history[-1] if fun is not None else None, grad=g_full, n_iter=t,
        n_epochs=epoch, converged=status == 0, status=status, message=message,
        history=np.array(history), **counts, **extra,
    )
