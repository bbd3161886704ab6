"""Checks on intermediate results: a fit that overflows says so instead of returning NaN."""

import numpy as np


def _magnitude(X):
    """Largest and smallest non-zero absolute value of X (dense or sparse), for messages."""
    data = X.data if hasattr(X, "data") and not isinstance(X, np.ndarray) else np.asarray(X)
    data = np.abs(np.asarray(data, dtype=np.float64).ravel())
    data = data[np.isfinite(data) & (data > 0)]
    if data.size == 0:
        return 0.0, 0.0
    return float(data.max()), float(data.min())


def check_finite_result(value, what, estimator, X=None, hint=None):
    """Raise a ValueError when an intermediate result of a fit or a prediction is not finite.

    Parameters
    ----------
    value : array-like or float
        The intermediate result (a Gram matrix, a covariance, coefficients...).
    what : str
        What it is, for the message ("the kernel matrix").
    estimator : object or str
        The estimator computing it (its class name starts the message), or a name.
    X : array-like, default=None
        The input it came from: its magnitude is quoted in the message.
    hint : str, default=None
        What the user can do; by default, rescaling the input.

    Returns
    -------
    value : array-like or float
        ``value`` itself, when finite.
    """
    arr = value.data if hasattr(value, "data") and not isinstance(value, np.ndarray) else value
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fc" or np.all(np.isfinite(arr)):
        return value
    kind = "NaN" if np.any(np.isnan(arr)) else "infinite"
    name = estimator if isinstance(estimator, str) else type(estimator).__name__
    msg = f"{name}: {what} has {kind} entries"
    if X is not None:
        largest, smallest = _magnitude(X)
        msg += (f" (the input's absolute values range from {smallest:.3g} to {largest:.3g}, "
                "so the computation overflowed or lost all precision)")
    msg += ". " + (hint or "Rescale the data (e.g. with sklearn.preprocessing.StandardScaler).")
    raise ValueError(msg)
