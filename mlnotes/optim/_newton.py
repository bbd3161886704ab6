"""Damped Newton's method with a backtracking (Armijo) line search (chapter 10 of the notes)."""

import numpy as np
from scipy import linalg

from ..utils._validation import check_int, check_real
from ._first_order import _counted
from ._result import OptimResult

__all__ = ["newton", "NewtonResult"]

_STATUS_MESSAGES = {
    0: "Converged: max|gradient| <= tol and half the squared Newton decrement <= tol.",
    1: "Maximum number of iterations reached.",
    2: "Line search failed to find a step that decreases the objective.",
    3: "Objective, gradient or Hessian is not finite; stopped at the last finite iterate.",
}


class NewtonResult(OptimResult):
    r"""Result of :func:`newton`.

    A dictionary with attribute access (a :class:`scipy.optimize.OptimizeResult`),
    so it can be used where SciPy's results are expected.

    Parameters
    ----------
    **kwargs
        The fields listed under Attributes, by name.

    Attributes
    ----------
    x : ndarray of shape (n,)
        The last accepted iterate (the solution when ``converged``).
    fun : float
        Objective value at ``x``.
    grad : ndarray of shape (n,)
        Gradient at ``x`` (also available as ``jac``).
    n_iter : int
        Number of Newton steps taken (also available as ``nit``).
    converged : bool
        Whether the stopping criterion was met (also available as ``success``).
    status : int
        0 converged, 1 ``max_iter`` reached, 2 line search failed, 3 non-finite
        objective, gradient or Hessian.
    message : str
        Description of ``status``.
    decrement : float
        Newton decrement :math:`\lambda = \sqrt{g^\top H^{-1} g}` at the last
        point where it was computed (``nan`` if never).
    n_fev, n_gev, n_hev : int
        Number of evaluations of the objective, the gradient and the Hessian.
    steps : dict
        How often each kind of step was taken: ``"cholesky"`` (plain Newton
        step), ``"pinv"`` (minimum-norm step on a singular positive
        semi-definite Hessian), ``"modified"`` (Hessian with its negative
        eigenvalues flipped), ``"gradient"`` (steepest descent).
    """


def _cholesky(hessian):
    """``scipy.linalg.cho_factor(hessian)``, or ``None`` when it fails."""
    try:
        return linalg.cho_factor(hessian, check_finite=False)
    except linalg.LinAlgError:
        return None


def _newton_direction(hessian, gradient, factor):
    """Solve ``H d = -g`` for a descent direction ``d``.

    The Cholesky factorisation ``factor`` (from :func:`_cholesky`, ``None`` if it
    failed) is tried first. When it fails, or the Hessian is
    numerically singular, an eigendecomposition is used: on a positive
    semi-definite Hessian the pseudo-inverse gives the minimum-norm (least
    squares) Newton step; negative eigenvalues are replaced by their absolute
    values (a modified Newton step, Nocedal and Wright section 3.4). If no
    descent direction results, the steepest-descent direction ``-g`` is used.

    Returns ``(direction, kind)`` with ``kind`` one of ``"cholesky"``,
    ``"pinv"``, ``"modified"``, ``"gradient"``.
    """
    n = gradient.shape[0]
    eps = np.finfo(np.float64).eps
    if factor is not None:
        diag = np.abs(np.diag(factor[0]))
        # (min/max diagonal of the Cholesky factor)^2 is a cheap lower bound
        # on the inverse condition number: near-singular Hessians go below.
        if diag.min() ** 2 > n * eps * diag.max() ** 2:
            direction = linalg.cho_solve(factor, -gradient, check_finite=False)
            if np.all(np.isfinite(direction)) and gradient @ direction < 0:
                return direction, "cholesky"
    try:
        eigval, eigvec = linalg.eigh(hessian, check_finite=False)
    except linalg.LinAlgError:
        return -gradient, "gradient"
    cutoff = n * eps * max(np.abs(eigval).max(), np.finfo(np.float64).tiny)
    if eigval.min() >= -cutoff:
        kind = "pinv"
        inv = np.zeros_like(eigval)
        keep = eigval > cutoff
        inv[keep] = 1.0 / eigval[keep]
    else:
        kind = "modified"
        inv = 1.0 / np.maximum(np.abs(eigval), cutoff)
    direction = -(eigvec @ (inv * (eigvec.T @ gradient)))
    if np.all(np.isfinite(direction)) and gradient @ direction < 0:
        return direction, kind
    return -gradient, "gradient"


def newton(
    fun,
    x0,
    *,
    grad,
    hess,
    args=(),
    tol=1e-4,
    max_iter=100,
    line_search=True,
    armijo=1e-4,
    shrink=0.5,
    max_backtrack=30,
    final_step=True,
    callback=None,
    hessian_check=None,
    verbose=0,
):
    r"""Minimise a smooth function with the damped Newton method.

    Each iteration solves the Newton system :math:`H_k d_k = -g_k` by a
    Cholesky factorisation and moves along :math:`d_k` with a step chosen by
    backtracking from :math:`t = 1`.

    Parameters
    ----------
    fun : callable
        Objective ``fun(x, *args) -> float``.
    x0 : array-like of shape (n,)
        Starting point.
    grad : callable
        Gradient ``grad(x, *args) -> ndarray of shape (n,)``.
    hess : callable
        Hessian ``hess(x, *args) -> ndarray of shape (n, n)``. It is always
        called at a point where ``fun`` and ``grad`` were just evaluated, so an
        objective may cache shared work (e.g. ``X @ w``) between the three.
    args : tuple, default=()
        Extra arguments passed to ``fun``, ``grad`` and ``hess``.
    tol : float, default=1e-4
        Stop when both :math:`\max_i |g_i| \le` ``tol`` and half the squared
        Newton decrement :math:`\lambda^2 / 2 = -g^\top d / 2 \le` ``tol``
        (an estimate of :math:`f(x) - \min f` for self-concordant functions).
    max_iter : int, default=100
        Maximum number of Newton steps.
    line_search : bool, default=True
        Backtrack until the Armijo condition holds. If False, take full Newton
        steps (pure Newton), still stopping if the objective becomes non-finite.
    armijo : float, default=1e-4
        Sufficient-decrease constant :math:`c_1` of the Armijo condition.
    shrink : float, default=0.5
        Factor :math:`\beta` by which the step is shrunk while backtracking.
    max_backtrack : int, default=30
        Maximum number of step shrinkings per iteration.
    final_step : bool, default=True
        Once the stopping criterion holds, still take the full Newton step
        just computed if it changes the objective by more than rounding and
        does not increase it (counted in ``n_iter``). Near the minimum this
        squares the error for one more evaluation of the objective and the
        gradient (scikit-learn's Newton solver gets the same effect by testing
        the decrement of the step it has just taken).
    callback : callable, default=None
        Called as ``callback(x)`` after every accepted step.
    hessian_check : callable, default=None
        Called as ``hessian_check(H, factor)`` with every finite Hessian and its
        Cholesky factorisation (the ``(c, lower)`` pair of
        :func:`scipy.linalg.cho_factor`, ``None`` when it fails), before the step
        is computed from that same factorisation. It may raise to stop the
        iterations: :class:`~mlnotes.linear_model.LogisticRegression`'s
        ``newton-cholesky`` solver hands over to L-BFGS this way on a singular or
        ill-conditioned Hessian, as scikit-learn's does.
    verbose : int, default=0
        Print one line per iteration if positive.

    Returns
    -------
    result : NewtonResult
        ``x``, ``fun``, ``grad``, ``n_iter``, ``converged``, ``status``,
        ``message``, ``decrement``, evaluation counts and the kinds of steps
        taken. The returned ``x`` is always finite: a step that makes the
        objective non-finite is never accepted.

    See Also
    --------
    scipy.optimize.minimize : with ``method="Newton-CG"`` or ``"trust-exact"``.

    Notes
    -----
    Chapter 10 of the notes. From the second-order Taylor model
    :math:`f(x + d) \approx f(x) + g^\top d + \tfrac12 d^\top H d`, minimised
    by :math:`d = -H^{-1} g`, the damped Newton update is

    .. math::

        x_{k+1} = x_k - t_k \, H(x_k)^{-1} \nabla f(x_k),

    where :math:`t_k = \beta^m` is the first of :math:`1, \beta, \beta^2, \dots`
    satisfying the Armijo condition

    .. math::

        f(x_k + t_k d_k) \le f(x_k) + c_1 \, t_k \, \nabla f(x_k)^\top d_k .

    Near a minimum with positive definite Hessian the full step :math:`t_k = 1`
    is accepted and convergence is quadratic; on a quadratic function one step
    reaches the minimum. The iteration stops at a point where both stopping
    quantities are within ``tol``, or right after a full step taken from such
    a point by its decrement (as scikit-learn's Newton solver does) if the
    gradient there is within ``tol`` too. When the change in the objective is at the level of
    rounding errors, a step is also accepted if it reduces
    :math:`\|\nabla f\|_1` (as in scikit-learn's Newton solver), so that tight
    tolerances can be met.

    When the Cholesky factorisation fails or the Hessian is numerically
    singular, the step is computed from an eigendecomposition instead: the
    minimum-norm least-squares step :math:`-H^{+} g` on a positive
    semi-definite Hessian, or the step with the negative eigenvalues of
    :math:`H` replaced by their absolute values otherwise (Nocedal and Wright,
    section 3.4); failing that, steepest descent.

    References
    ----------
    S. Boyd and L. Vandenberghe, *Convex Optimization*, Cambridge University
    Press, 2004, section 9.5.

    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer,
    2006, chapters 3 (line search, Hessian modification).

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.optim import newton
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> b = np.array([1.0, 1.0])
    >>> res = newton(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(2),
    ...              grad=lambda x: A @ x - b, hess=lambda x: A)
    >>> res.converged, res.n_iter
    (True, 1)
    >>> np.allclose(res.x, np.linalg.solve(A, b))
    True
    """
    check_int(max_iter, "max_iter", 0)
    check_real(tol, "tol", 0)
    check_real(armijo, "armijo", 0, 1, low_open=True, high_open=True)
    check_real(shrink, "shrink", 0, 1, low_open=True, high_open=True)
    check_int(max_backtrack, "max_backtrack", 0)
    x = np.array(x0, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("x0 must be finite.")

    f_, g_, counts = _counted(fun, grad, args)
    counts["n_hev"] = 0
    steps = {"cholesky": 0, "pinv": 0, "modified": 0, "gradient": 0}

    f = f_(x)
    if not np.isfinite(f):
        raise ValueError(f"The objective is not finite at x0 (fun={f}).")
    g = g_(x)
    eps_f = 16 * np.finfo(np.float64).eps
    n_iter, status, dec2 = 0, 1, np.nan

    while True:
        if not np.all(np.isfinite(g)):
            status = 3
            break
        g_max = np.max(np.abs(g)) if g.size else 0.0
        if n_iter >= max_iter and g_max > tol:
            status = 1
            break
        counts["n_hev"] += 1
        H = np.asarray(hess(x, *args), dtype=np.float64)
        if not np.all(np.isfinite(H)):
            status = 3
            break
        factor = _cholesky(H)
        if hessian_check is not None:
            hessian_check(H, factor)
        d, kind = _newton_direction(H, g, factor)
        slope = float(g @ d)  # -lambda^2 for a Newton step
        dec2 = -slope
        if verbose:
            print(f"Newton iter {n_iter}: f={f:.10g} max|g|={g_max:.3g} "
                  f"decrement^2/2={dec2 / 2:.3g} step={kind}")
        if g_max <= tol and dec2 / 2 <= tol:
            status = 0
            if final_step and n_iter < max_iter and dec2 > eps_f * max(abs(f), 1.0):
                # The step is computed already: near the minimum it squares the
                # error, for one evaluation of the objective and the gradient.
                x_new = x + d
                f_new = f_(x_new)
                if f_new <= f:
                    steps[kind] += 1
                    x, f, g = x_new, f_new, g_(x_new)
                    n_iter += 1
                    if callback is not None:
                        callback(x)
            break
        if n_iter >= max_iter:
            status = 1
            break

        t = 1.0
        accepted = False
        g_new = None
        for _ in range(max_backtrack + 1 if line_search else 1):
            x_new = x + t * d
            f_new = f_(x_new)
            if not line_search:
                accepted = np.isfinite(f_new)
                break
            if f_new <= f + armijo * t * slope:
                accepted = True
                break
            if np.isfinite(f_new) and abs(f_new - f) <= eps_f * abs(f):
                # Objective flat to rounding: accept if the gradient shrinks.
                g_new = g_(x_new)
                if np.abs(g_new).sum() < np.abs(g).sum():
                    accepted = True
                    break
                g_new = None
            t *= shrink
        if not accepted:
            status = 2 if line_search else 3
            break
        steps[kind] += 1
        x, f = x_new, f_new
        g = g_new if g_new is not None else g_(x)
        n_iter += 1
        if callback is not None:
            callback(x)
        if t == 1.0 and dec2 / 2 <= tol and np.all(np.isfinite(g)) and np.max(np.abs(g)) <= tol:
            # A full step from a point already within tol of the minimum (by
            # its decrement): the new point is closer still, no need for
            # another Hessian to confirm it.
            status = 0
            break

    return NewtonResult(
        x=x,
        fun=f,
        grad=g,
        n_iter=n_iter,
        converged=status == 0,
        status=status,
        message=_STATUS_MESSAGES[status],
        decrement=float(np.sqrt(max(dec2, 0.0))) if np.isfinite(dec2) else np.nan,
        steps=steps,
        **counts,
    )
