"""The result object shared by the optimisers of :mod:`mlnotes.optim`."""

from scipy.optimize import OptimizeResult

__all__ = ["OptimResult"]


class OptimResult(OptimizeResult):
    r"""Result of the first-order optimisers of :mod:`mlnotes.optim`.

    A dictionary with attribute access (a :class:`scipy.optimize.OptimizeResult`),
    so it can be used where SciPy's results are expected. The SciPy names
    ``jac``, ``nit`` and ``success`` are set as aliases of ``grad``, ``n_iter``
    and ``converged``.

    Parameters
    ----------
    **kwargs
        The fields listed under Attributes, by name.

    Attributes
    ----------
    x : ndarray of shape (n,)
        The last iterate (the solution when ``converged``).
    fun : float or None
        Objective value at ``x`` (``None`` for :func:`sgd` without ``fun``).
    grad : ndarray of shape (n,)
        Gradient at ``x`` (also available as ``jac``); for :func:`sgd`, the
        full-batch gradient.
    n_iter : int
        Number of updates of ``x`` (also available as ``nit``).
    converged : bool
        Whether the stopping criterion was met (also available as ``success``).
    status : int
        0 converged, 1 ``max_iter`` (or ``n_epochs``) reached, 2 line search
        failed to decrease the objective.
    message : str
        Description of ``status``.
    history : ndarray
        Objective values: at ``x0`` and after each iteration (after each epoch
        for :func:`sgd`), so ``history[k] - f*`` is the error after ``k`` steps.
    x_history : ndarray of shape (len(history), n)
        The iterates matching ``history``; only when ``store_x=True``.
    n_fev, n_gev : int
        Number of evaluations of the objective and of the gradient.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.jac = self.get("grad")
        self.nit = self.get("n_iter")
        self.success = self.get("converged")
