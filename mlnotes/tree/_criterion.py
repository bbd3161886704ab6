"""Split criteria of the tree builder (chapter 13): node sums, impurities, proxies.

scikit-learn's ``_criterion.pyx`` counterpart, written as functions of the running
sums rather than as classes. For a node :math:`m` with weighted class counts
:math:`N_{mc}` (classification) or weighted target sums (regression) and total
weight :math:`N_m`:

* Gini: :math:`H(m) = 1 - \\sum_c p_{mc}^2`, entropy (log loss):
  :math:`H(m) = -\\sum_c p_{mc} \\log_2 p_{mc}`, with :math:`p_{mc} = N_{mc} / N_m`;
* squared error: :math:`H(m) = \\frac{1}{N_m}\\sum_i w_i y_i^2 - \\bar y_m^2`;
* Poisson: the half Poisson deviance around the node mean.

Every impurity is averaged over the outputs. The split search ranks the splits of
one node by a *proxy* of the impurity decrease
:math:`N_m H(m) - N_L H(L) - N_R H(R)` that drops the terms common to every split
(e.g. :math:`S_L^2/N_L + S_R^2/N_R` for the squared error), as scikit-learn does.
The absolute-error criterion lives in :mod:`mlnotes.tree._mae`.
"""

import numpy as np
from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path

from ._utils import _INF, _LN2, _POISSON_EPSILON, ENTROPY, GINI, SQUARED_ERROR


@njit(cache=True, nogil=True, _nrt=False)
def _node_sums(is_clf, y, yc, w, samples, start, end, n_outputs, sum_total):
    """Weighted class counts / target sums of ``samples[start:end]``.

    Returns the total weight and (regression) the weighted sum of squared targets.
    """
    sum_total[:, :] = 0.0
    wnode = 0.0
    sq_sum = 0.0
    if is_clf:
        for p in range(start, end):
            i = samples[p]
            wi = w[i]
            for k in range(n_outputs):
                sum_total[k, yc[i, k]] += wi
            wnode += wi
    else:
        for p in range(start, end):
            i = samples[p]
            wi = w[i]
            for k in range(n_outputs):
                yik = y[i, k]
                wy = wi * yik
                sum_total[k, 0] += wy
                sq_sum += wy * yik
            wnode += wi
    return wnode, sq_sum


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _update(is_clf, y, yc, w, samples, start, end, pos, new_pos, n_outputs, n_classes,
            sum_total, sum_left, sum_right, w_left, wnode):
    """Move the split position from ``pos`` to ``new_pos``; returns the left weight.

    The samples in between are added to the left sums, or, when fewer samples lie
    to the right of ``new_pos``, the right part is subtracted from the node totals.
    """
    if (new_pos - pos) <= (end - new_pos):
        if is_clf:
            for p in range(pos, new_pos):
                i = samples[p]
                wi = w[i]
                for k in range(n_outputs):
                    sum_left[k, yc[i, k]] += wi
                w_left += wi
        else:
            for p in range(pos, new_pos):
                i = samples[p]
                wi = w[i]
                for k in range(n_outputs):
                    sum_left[k, 0] += wi * y[i, k]
                w_left += wi
    else:
        for k in range(n_outputs):
            for c in range(n_classes[k]):
                sum_left[k, c] = sum_total[k, c]
        w_left = wnode
        if is_clf:
            for p in range(end - 1, new_pos - 1, -1):
                i = samples[p]
                wi = w[i]
                for k in range(n_outputs):
                    sum_left[k, yc[i, k]] -= wi
                w_left -= wi
        else:
            for p in range(end - 1, new_pos - 1, -1):
                i = samples[p]
                wi = w[i]
                for k in range(n_outputs):
                    sum_left[k, 0] -= wi * y[i, k]
                w_left -= wi
    for k in range(n_outputs):
        for c in range(n_classes[k]):
            sum_right[k, c] = sum_total[k, c] - sum_left[k, c]
    return w_left


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _reset(n_outputs, n_classes, sum_left):
    for k in range(n_outputs):
        for c in range(n_classes[k]):
            sum_left[k, c] = 0.0


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _class_impurity(criterion, sums, weight, n_outputs, n_classes):
    """Gini index or entropy (in bits) of weighted class counts, averaged over outputs."""
    total = 0.0
    if criterion == GINI:
        for k in range(n_outputs):
            sq = 0.0
            for c in range(n_classes[k]):
                sq += sums[k, c] * sums[k, c]
            total += 1.0 - sq / (weight * weight)
    else:
        for k in range(n_outputs):
            for c in range(n_classes[k]):
                count = sums[k, c]
                if count > 0.0:
                    count /= weight
                    total -= count * (np.log(count) / _LN2)
    return total / n_outputs


@njit(cache=True, nogil=True, _nrt=False)
def _poisson_loss(y, w, samples, start, end, sums, weight, n_outputs):
    """Half Poisson deviance of ``samples[start:end]`` around their mean."""
    loss = 0.0
    for k in range(n_outputs):
        if sums[k, 0] <= _POISSON_EPSILON:
            return _INF
        y_mean = sums[k, 0] / weight
        for p in range(start, end):
            i = samples[p]
            yik = y[i, k]
            if yik != 0.0:
                loss += w[i] * (yik * np.log(yik / y_mean))
    return loss / (weight * n_outputs)


@njit(cache=True, nogil=True, _nrt=False)
def _node_impurity(criterion, y, w, samples, start, end, n_outputs, n_classes, sum_total,
                   wnode, sq_sum_total):
    if criterion == GINI or criterion == ENTROPY:
        return _class_impurity(criterion, sum_total, wnode, n_outputs, n_classes)
    if criterion == SQUARED_ERROR:
        impurity = sq_sum_total / wnode
        for k in range(n_outputs):
            m = sum_total[k, 0] / wnode
            impurity -= m * m
        return impurity / n_outputs
    return _poisson_loss(y, w, samples, start, end, sum_total, wnode, n_outputs)


@njit(cache=True, nogil=True, _nrt=False)
def _children_impurity(criterion, y, w, samples, start, pos, end, n_outputs, n_classes,
                       sum_left, sum_right, w_left, w_right, sq_sum_total):
    if criterion == GINI or criterion == ENTROPY:
        return (_class_impurity(criterion, sum_left, w_left, n_outputs, n_classes),
                _class_impurity(criterion, sum_right, w_right, n_outputs, n_classes))
    if criterion == SQUARED_ERROR:
        sq_left = 0.0
        for p in range(start, pos):
            i = samples[p]
            wi = w[i]
            for k in range(n_outputs):
                yik = y[i, k]
                sq_left += wi * yik * yik
        sq_right = sq_sum_total - sq_left
        imp_left = sq_left / w_left
        imp_right = sq_right / w_right
        for k in range(n_outputs):
            ml = sum_left[k, 0] / w_left
            mr = sum_right[k, 0] / w_right
            imp_left -= ml * ml
            imp_right -= mr * mr
        return imp_left / n_outputs, imp_right / n_outputs
    return (_poisson_loss(y, w, samples, start, pos, sum_left, w_left, n_outputs),
            _poisson_loss(y, w, samples, pos, end, sum_right, w_right, n_outputs))


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _proxy_improvement(criterion, n_outputs, n_classes, sum_left, sum_right, w_left,
                       w_right):
    """A quantity that ranks the splits of one node as the impurity decrease does."""
    if criterion == GINI or criterion == ENTROPY:
        imp_left = _class_impurity(criterion, sum_left, w_left, n_outputs, n_classes)
        imp_right = _class_impurity(criterion, sum_right, w_right, n_outputs, n_classes)
        return -w_right * imp_right - w_left * imp_left
    if criterion == SQUARED_ERROR:
        proxy_left = 0.0
        proxy_right = 0.0
        for k in range(n_outputs):
            proxy_left += sum_left[k, 0] * sum_left[k, 0]
            proxy_right += sum_right[k, 0] * sum_right[k, 0]
        return proxy_left / w_left + proxy_right / w_right
    proxy_left = 0.0
    proxy_right = 0.0
    for k in range(n_outputs):
        if sum_left[k, 0] <= _POISSON_EPSILON or sum_right[k, 0] <= _POISSON_EPSILON:
            return -_INF
        mean_left = sum_left[k, 0] / w_left
        mean_right = sum_right[k, 0] / w_right
        proxy_left -= sum_left[k, 0] * (np.log(mean_left) / _LN2)
        proxy_right -= sum_right[k, 0] * (np.log(mean_right) / _LN2)
    return -proxy_left - proxy_right


@njit(cache=True, nogil=True, _nrt=False)
def _monotonic_ok(cst, lower, upper, sum_left, sum_right, w_left, w_right):
    """Children means (class-0 frequency in classification) ordered as ``cst`` asks,
    and inside the bounds inherited from the ancestors."""
    vl = sum_left[0, 0] / w_left
    vr = sum_right[0, 0] / w_right
    return (vl >= lower and vr >= lower and vl <= upper and vr <= upper
            and (vl - vr) * cst <= 0)


