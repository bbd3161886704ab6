"""Checks on intermediate results (a fit that overflows says so instead of returning NaN)
and on the scalar arguments of plain functions and agents."""

from numbers import Integral, Real

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


# ------------------------------------------------------------ scalar hyper-parameters
# The one place for the checks of plain-function and agent arguments (estimators use
# scikit-learn's ``_parameter_constraints`` instead). Each returns the value as a Python
# int/float and raises naming the parameter.


def check_int(value, name, low=0, *, integral_float=False, type_error=ValueError):
    """An integer (not a bool) ``>= low``, returned as ``int``.

    ``integral_float=True`` also accepts a float with an integer value (``10.0``);
    ``type_error`` is the exception for a value that is not an integer at all.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        if integral_float and isinstance(value, Real) and not isinstance(value, bool) \
                and float(value).is_integer():
            value = int(value)
        else:
            raise type_error(f"{name} must be an integer >= {low}, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def check_real(value, name, low=None, high=None, *, low_open=False, high_open=False):
    """A finite real number (not a bool) in the interval from ``low`` to ``high``.

    A bound that is None is not checked; ``low_open``/``high_open`` exclude the bound.
    Returns the value as ``float``; anything else is a ValueError whose message states
    the interval, e.g. ``"gamma must be a finite number in [0, 1], got 2."``.
    """
    ok = (isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
          and (low is None or (value > low if low_open else value >= low))
          and (high is None or (value < high if high_open else value <= high)))
    if not ok:
        if low is not None and high is not None:
            where = (f" in {'(' if low_open else '['}{low}, {high}"
                     f"{')' if high_open else ']'}")
        elif low is not None:
            where = f" {'>' if low_open else '>='} {low}"
        elif high is not None:
            where = f" {'<' if high_open else '<='} {high}"
        else:
            where = ""
        raise ValueError(f"{name} must be a finite number{where}, got {value!r}.")
    return float(value)
