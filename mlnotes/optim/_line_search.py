"""Backtracking line search with the Armijo sufficient-decrease condition (chapter 3)."""

import numpy as np

from ..utils._validation import check_int, check_real

__all__ = ["backtracking_line_search"]


def backtracking_line_search(
    fun,
    grad_x,
    x,
    direction,
    *,
    f_x=None,
    args=(),
    alpha0=1.0,
    c=1e-4,
    rho=0.5,
    max_iter=50,
):
    r"""Backtracking line search: the first step :math:`\alpha_0 \rho^m` satisfying Armijo.

    Parameters
    ----------
    fun : callable
        Objective, ``fun(x, *args) -> float``.
    grad_x : array-like of shape (n,)
        Gradient of ``fun`` at ``x``.
    x : array-like of shape (n,)
        Current point.
    direction : array-like of shape (n,)
        Search direction; must be a descent direction
        (``grad_x @ direction < 0``).
    f_x : float, default=None
        ``fun(x)`` if already known (saves one evaluation).
    args : tuple, default=()
        Extra arguments passed to ``fun``.
    alpha0 : float, default=1.0
        First step tried, > 0.
    c : float, default=1e-4
        Sufficient-decrease constant, in (0, 1).
    rho : float, default=0.5
        Factor by which the step shrinks after each rejection, in (0, 1);
        ``0.5`` halves it.
    max_iter : int, default=50
        Maximum number of shrinkings.

    Returns
    -------
    alpha : float
        The accepted step, or ``0.0`` when no step of the form
        :math:`\alpha_0\rho^m`, :math:`m \le` ``max_iter``, satisfies the
        condition.
    f_new : float
        ``fun(x + alpha * direction)`` (``f_x`` when ``alpha`` is 0).
    n_fev : int
        Number of evaluations of ``fun`` made.

    Raises
    ------
    ValueError
        If a parameter is out of range, ``f_x`` or the slope is not finite, or
        ``direction`` is not a descent direction.

    Notes
    -----
    Chapter 3 of the notes. A step :math:`\alpha` along a descent direction
    :math:`d` (:math:`\nabla f(x)^\top d < 0`) satisfies the Armijo
    (sufficient decrease) condition when

    .. math::

        f(x + \alpha d) \le f(x) + c \, \alpha \, \nabla f(x)^\top d .

    The steps :math:`\alpha_0, \rho\alpha_0, \rho^2\alpha_0, \dots` are tried in
    turn and the first that satisfies it is returned. For small enough
    :math:`\alpha` the condition always holds (Taylor), so the search ends; a
    non-finite :math:`f(x + \alpha d)` counts as a rejection. On an
    :math:`L`-smooth function with :math:`d = -\nabla f(x)` every
    :math:`\alpha \le 2(1-c)/L` is accepted, so the returned step is at least
    :math:`\min(\alpha_0, 2\rho(1-c)/L)`.

    References
    ----------
    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer,
    2006, algorithm 3.1.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.optim import backtracking_line_search
    >>> fun = lambda x: float(x @ x)
    >>> x = np.array([1.0, 2.0])
    >>> g = 2 * x
    >>> alpha, f_new, n_fev = backtracking_line_search(fun, g, x, -g)
    >>> alpha, f_new
    (0.5, 0.0)
    """
    check_real(alpha0, "alpha0", 0, low_open=True)
    check_real(c, "c", 0, 1, low_open=True, high_open=True)
    check_real(rho, "rho", 0, 1, low_open=True, high_open=True)
    check_int(max_iter, "max_iter", 0)
    x = np.asarray(x, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    slope = float(np.asarray(grad_x, dtype=np.float64).ravel() @ d.ravel())
    if not np.isfinite(slope):
        raise ValueError(f"The slope grad_x @ direction is not finite ({slope}).")
    if slope >= 0:
        raise ValueError(
            f"direction is not a descent direction (grad_x @ direction = {slope} >= 0)."
        )
    n_fev = 0
    if f_x is None:
        f_x = float(fun(x, *args))
        n_fev += 1
    if not np.isfinite(f_x):
        raise ValueError(f"The objective is not finite at x (f_x={f_x}).")
    return _backtrack(fun, args, x, d, f_x, slope, alpha0, c, rho, max_iter, n_fev)


def _backtrack(fun, args, x, d, f_x, slope, alpha0, c, rho, max_iter, n_fev=0):
    """Unchecked Armijo backtracking; ``(alpha, f_new, n_fev)``, alpha 0 on failure."""
    alpha = float(alpha0)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_iter + 1):
            f_new = float(fun(x + alpha * d, *args))
            n_fev += 1
            if f_new <= f_x + c * alpha * slope:  # False for nan
                return alpha, f_new, n_fev
            alpha *= rho
    return 0.0, f_x, n_fev
