"""Optimiser helpers of the agents' update steps (private)."""

import numpy as np

from mlnotes._fastpaths import rmsprop_step


def optimizer_step(optimizer):
    """``optimizer.step()``; for a plain ``torch.optim.RMSprop`` (SB3's A2C setting) the
    same foreach operations called directly, without the per-call dispatch that costs
    more than the arithmetic on A2C's small networks (a fast path:
    :func:`mlnotes._fastpaths.rmsprop_step`)."""
    if not rmsprop_step(optimizer):
        optimizer.step()


def explained_variance(y_pred, y_true):
    """``1 - Var[y_true - y_pred] / Var[y_true]`` (NaN when ``Var[y_true] == 0``), as SB3."""
    n = y_true.size
    if n == 0:
        return float("nan")
    y = y_true.astype(np.float64)
    r = y - y_pred
    dy = y - y.sum() / n
    dr = r - r.sum() / n
    var_y = float(dy @ dy)
    return float("nan") if var_y == 0 else 1.0 - float(dr @ dr) / var_y
