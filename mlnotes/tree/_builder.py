"""Numba kernels that grow a decision tree (chapter 13 of the notes).

The algorithm is CART as scikit-learn implements it, step for step, so that a tree
grown here is the tree scikit-learn grows from the same data and ``random_state``:

* the node's samples are sorted along each candidate feature (introsort with a
  three-way partition, the same as scikit-learn's), the thresholds are the
  midpoints between consecutive distinct values (``x_(i)/2 + x_(i+1)/2`` in
  float64 of the float32 values) and the criterion is scanned with running class
  counts (classification) or running sums (regression);
* candidate features are drawn without replacement by a Fisher-Yates walk over a
  persistent permutation of the features, with the same xorshift generator seeded
  from ``random_state.randint(0, 2**31 - 1)``, and features found constant in a
  node are skipped in its descendants;
* the tree is grown depth first from an explicit stack, or best first (when
  ``max_leaf_nodes`` is set) from a binary max-heap ordered on the weighted
  impurity decrease with the sift-up/sift-down rules of the C++ standard library;
* minimal cost-complexity pruning (``ccp_alpha``) and its path are computed on the
  grown tree.

Everything runs without the GIL (``nogil=True``), so that the trees of a forest
are grown in parallel threads. The kernels that only read and write arrays they are
given are compiled without numba's reference counting (``_nrt=False``): the atomic
increments and decrements on every array argument of every call otherwise took
about a third of the time spent on small nodes.
"""

import numpy as np
from numba import njit

GINI, ENTROPY, SQUARED_ERROR, POISSON, ABSOLUTE_ERROR = 0, 1, 2, 3, 4
BEST, RANDOM = 0, 1

TREE_LEAF = -1
TREE_UNDEFINED = -2

RAND_R_MAX = 2147483647
_FEATURE_THRESHOLD = np.float32(1e-7)
_EPSILON = np.finfo(np.float64).eps  # a node this pure is a leaf
_POISSON_EPSILON = 10 * np.finfo(np.float64).eps
_LN2 = np.log(2.0)
_INF = np.inf
_MAX_FLOAT64 = np.finfo(np.float64).max

# Node fields stored in the integer and float tables of the growing tree.
_LEFT, _RIGHT, _FEATURE, _NSAMPLES = 0, 1, 2, 3
_THRESHOLD, _IMPURITY, _WEIGHT, _MISSING_LEFT = 0, 1, 2, 3


# ----------------------------------------------------------------------------- random


@njit(cache=True, nogil=True, inline="always")
def _rand_r(state):
    """32-bit xorshift step (Marsaglia 2003); ``state`` is a length-1 int64 array."""
    s = state[0]
    if s == 0:
        s = 1
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    state[0] = s
    return s % (RAND_R_MAX + 1)


@njit(cache=True, nogil=True, inline="always")
def _rand_int(low, high, state):
    """An integer in ``[low, high)``."""
    return low + _rand_r(state) % (high - low)


@njit(cache=True, nogil=True)
def _rand_uniform(low, high, state):
    """A float in ``[low, high)``."""
    return (high - low) * np.float64(_rand_r(state)) / np.float64(RAND_R_MAX) + low


from ._mae import (
    LEFT_MED,
    RIGHT_ABS,
    RIGHT_MED,
    mae_children,
    mae_reset,
)
from ._missing import gather_missing, partition_missing, shift_missing_left
from ._sort import (  # noqa: F401  (re-exported: the builder's sorting kernels)
    _swap,
    gather_sorted,
    sort_values_and_indices,
)


# -------------------------------------------------------------------------- criterion


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


# ------------------------------------------------------------- single-output scans


@njit(cache=True, nogil=True, _nrt=False)
def _scan_classes(fv, samples, ycol, w, start, end, min_samples_leaf, min_weight_leaf,
                  criterion, n_cls, ct, cl, wnode, integral, cst, lower, upper,
                  best_proxy):
    """Scan the thresholds of one sorted feature (single-output classification).

    ``ct`` holds the node's weighted class counts, ``cl`` is a buffer for the left
    counts. With integral weights the sums of squared counts of the Gini index are
    updated in O(1) per sample (exact in float64 below 2**53); otherwise they are
    recomputed over the classes, in the same order as the reference
    implementation, so that both rank near-ties identically.

    Returns ``(best_proxy, pos, threshold, missing_go_to_left)``, ``pos = -1`` if no
    threshold beats ``best_proxy``.
    """
    for c in range(n_cls):
        cl[c] = 0.0
    w_left = 0.0
    sq_left = 0.0
    sq_right = 0.0
    fast_gini = integral and criterion == GINI
    if fast_gini:
        for c in range(n_cls):
            sq_right += ct[c] * ct[c]
    best_pos = -1
    best_threshold = 0.0
    best_missing_left = False
    pos = start
    p = start
    while p < end:
        p += 1
        while p < end and fv[p] <= fv[p - 1] + _FEATURE_THRESHOLD:
            p += 1
        if p >= end:
            break
        n_left = p - start
        n_right = end - p
        if n_left < min_samples_leaf or n_right < min_samples_leaf:
            continue
        if (p - pos) <= n_right:
            if fast_gini:
                for q in range(pos, p):
                    i = samples[q]
                    wi = w[i]
                    c = ycol[i]
                    sq_left += wi * (2.0 * cl[c] + wi)
                    sq_right += wi * (wi - 2.0 * (ct[c] - cl[c]))
                    cl[c] += wi
                    w_left += wi
            else:
                for q in range(pos, p):
                    i = samples[q]
                    wi = w[i]
                    cl[ycol[i]] += wi
                    w_left += wi
        else:
            for c in range(n_cls):
                cl[c] = ct[c]
            w_left = wnode
            for q in range(end - 1, p - 1, -1):
                i = samples[q]
                wi = w[i]
                cl[ycol[i]] -= wi
                w_left -= wi
            if fast_gini:
                sq_left = 0.0
                sq_right = 0.0
                for c in range(n_cls):
                    sq_left += cl[c] * cl[c]
                    cr = ct[c] - cl[c]
                    sq_right += cr * cr
        pos = p
        w_right = wnode - w_left
        if cst != 0:
            vl = cl[0] / w_left
            vr = (ct[0] - cl[0]) / w_right
            if not (vl >= lower and vr >= lower and vl <= upper and vr <= upper
                    and (vl - vr) * cst <= 0):
                continue
        if w_left < min_weight_leaf or w_right < min_weight_leaf:
            continue
        if criterion == GINI:
            if not fast_gini:
                sq_left = 0.0
                sq_right = 0.0
                for c in range(n_cls):
                    sq_left += cl[c] * cl[c]
                    cr = ct[c] - cl[c]
                    sq_right += cr * cr
            imp_left = 1.0 - sq_left / (w_left * w_left)
            imp_right = 1.0 - sq_right / (w_right * w_right)
        else:
            imp_left = 0.0
            imp_right = 0.0
            for c in range(n_cls):
                x = cl[c]
                if x > 0.0:
                    x /= w_left
                    imp_left -= x * (np.log(x) / _LN2)
                x = ct[c] - cl[c]
                if x > 0.0:
                    x /= w_right
                    imp_right -= x * (np.log(x) / _LN2)
        proxy = -w_right * imp_right - w_left * imp_left
        if proxy > best_proxy:
            best_proxy = proxy
            best_pos = p
            best_threshold = np.float64(fv[p - 1]) / 2.0 + np.float64(fv[p]) / 2.0
            best_missing_left = n_left > n_right
    return best_proxy, best_pos, best_threshold, best_missing_left


@njit(cache=True, nogil=True, _nrt=False)
def _scan_values(fv, samples, ycol, w, start, end, min_samples_leaf, min_weight_leaf,
                 criterion, s_total, wnode, cst, lower, upper, best_proxy):
    """Scan the thresholds of one sorted feature (single-output regression).

    Running weighted sums of ``y`` give the squared-error proxy
    ``S_L^2 / N_L + S_R^2 / N_R`` (or the Poisson one) in O(1) per threshold.
    Returns as :func:`_scan_classes`.
    """
    s_left = 0.0
    w_left = 0.0
    best_pos = -1
    best_threshold = 0.0
    best_missing_left = False
    pos = start
    p = start
    while p < end:
        p += 1
        while p < end and fv[p] <= fv[p - 1] + _FEATURE_THRESHOLD:
            p += 1
        if p >= end:
            break
        n_left = p - start
        n_right = end - p
        if n_left < min_samples_leaf or n_right < min_samples_leaf:
            continue
        if (p - pos) <= n_right:
            for q in range(pos, p):
                i = samples[q]
                wi = w[i]
                s_left += wi * ycol[i]
                w_left += wi
        else:
            s_left = s_total
            w_left = wnode
            for q in range(end - 1, p - 1, -1):
                i = samples[q]
                wi = w[i]
                s_left -= wi * ycol[i]
                w_left -= wi
        pos = p
        w_right = wnode - w_left
        s_right = s_total - s_left
        if cst != 0:
            vl = s_left / w_left
            vr = s_right / w_right
            if not (vl >= lower and vr >= lower and vl <= upper and vr <= upper
                    and (vl - vr) * cst <= 0):
                continue
        if w_left < min_weight_leaf or w_right < min_weight_leaf:
            continue
        if criterion == SQUARED_ERROR:
            proxy = (s_left * s_left) / w_left + (s_right * s_right) / w_right
        else:
            if s_left <= _POISSON_EPSILON or s_right <= _POISSON_EPSILON:
                proxy = -_INF
            else:
                proxy_left = 0.0 - s_left * (np.log(s_left / w_left) / _LN2)
                proxy_right = 0.0 - s_right * (np.log(s_right / w_right) / _LN2)
                proxy = -proxy_left - proxy_right
        if proxy > best_proxy:
            best_proxy = proxy
            best_pos = p
            best_threshold = np.float64(fv[p - 1]) / 2.0 + np.float64(fv[p]) / 2.0
            best_missing_left = n_left > n_right
    return best_proxy, best_pos, best_threshold, best_missing_left


# ------------------------------------------------ general scan (missing values, MAE)


@njit(cache=True, nogil=True, _nrt=False)
def _scan_general(fv, samples, y, yc, w, start, end, n_missing, min_samples_leaf,
                  min_weight_leaf, criterion, is_clf, n_outputs, n_classes, sum_total,
                  sum_left, sum_right, wnode, cst, lower, upper, best_proxy, idx_tmp,
                  fv_tmp, mf, mi, sort_stack, node_med):
    """Scan the thresholds of one feature whose non-missing values are sorted in
    ``fv[start:end - n_missing]``, the missing ones after them (any criterion and
    number of outputs).

    With missing values, two passes: the missing samples on the right (the last
    candidate, all non-missing values left and the missing ones right, has the
    threshold :math:`+\\infty`), then, moved to the front, on the left. The
    absolute-error criterion precomputes the children's errors of each pass
    (:func:`~mlnotes.tree._mae.mae_reset`). Returns as :func:`_scan_classes`.
    """
    best_pos = -1
    best_threshold = 0.0
    best_missing_left = False
    end_nm = end - n_missing
    n_searches = 2 if n_missing > 0 else 1
    for search in range(n_searches):
        missing_left = search == 1
        if missing_left:
            shift_missing_left(samples, fv, start, end, n_missing, idx_tmp, fv_tmp)
            limit = end
            p = start + n_missing
        else:
            limit = end_nm
            p = start
        if criterion == ABSOLUTE_ERROR:
            mae_reset(y, w, samples, start, end, n_outputs, mf, mi, sort_stack, node_med)
        else:
            _reset(n_outputs, n_classes, sum_left)
        w_left = 0.0
        pos = start
        while p < limit:
            p += 1
            while p < limit and fv[p] <= fv[p - 1] + _FEATURE_THRESHOLD:
                p += 1
            if p >= end:
                break
            n_left = p - start
            n_right = end - p
            if n_left < min_samples_leaf or n_right < min_samples_leaf:
                continue
            if criterion == ABSOLUTE_ERROR:
                for q in range(pos, p):
                    w_left += w[samples[q]]
            else:
                w_left = _update(is_clf, y, yc, w, samples, start, end, pos, p, n_outputs,
                                 n_classes, sum_total, sum_left, sum_right, w_left, wnode)
            pos = p
            w_right = wnode - w_left
            if cst != 0:
                if criterion == ABSOLUTE_ERROR:
                    vl = mf[LEFT_MED, p - 1]
                    vr = mf[RIGHT_MED, p]
                    if not (vl >= lower and vr >= lower and vl <= upper and vr <= upper
                            and (vl - vr) * cst <= 0):
                        continue
                elif not _monotonic_ok(cst, lower, upper, sum_left, sum_right, w_left,
                                       w_right):
                    continue
            if w_left < min_weight_leaf or w_right < min_weight_leaf:
                continue
            if criterion == ABSOLUTE_ERROR:
                imp_left, imp_right = mae_children(mf, start, p, end, w_left, w_right,
                                                   n_outputs)
                proxy = -w_right * imp_right - w_left * imp_left
            else:
                proxy = _proxy_improvement(criterion, n_outputs, n_classes, sum_left,
                                           sum_right, w_left, w_right)
            if proxy > best_proxy:
                best_proxy = proxy
                best_pos = p
                if p == end_nm and not missing_left:
                    best_threshold = _INF
                else:
                    best_threshold = (np.float64(fv[p - 1]) / 2.0
                                      + np.float64(fv[p]) / 2.0)
                if n_missing == 0:
                    best_missing_left = n_left > n_right
                else:
                    best_missing_left = missing_left
    return best_proxy, best_pos, best_threshold, best_missing_left


# -------------------------------------------------------------------------- splitters


@njit(cache=True, nogil=True, _nrt=False)
def _split_node(X, y, yc, w, samples, fv, features, constant_features, n_known_constants,
                start, end, splitter, criterion, is_clf, max_features, min_samples_leaf,
                min_weight_leaf, impurity, lower, upper, n_outputs, n_classes,
                sum_total, sum_left, sum_right, wnode, wtotal, sq_sum_total, mono,
                with_mono, rng, sort_stack, y1, yc1, integral, keys, keys_tmp, idx_tmp,
                hist, missing_mask, fv_tmp, mf, mi, node_med):
    """Best split of the node ``samples[start:end]`` over up to ``max_features`` features.

    ``splitter == BEST`` scans every threshold of each drawn feature;
    ``splitter == RANDOM`` draws one threshold per feature uniformly between its
    minimum and maximum in the node. On return ``samples[start:pos]`` go left.
    ``missing_mask`` flags the features with missing values in the training set
    (length 0: none); ``fv_tmp``, ``mf``, ``mi`` and ``node_med`` are work arrays of
    the missing-value and absolute-error searches.

    Returns ``(pos, feature, threshold, improvement, impurity_left,
    impurity_right, missing_go_to_left, n_constant_features, middle_value)``;
    ``pos == end`` means that no valid split exists.
    """
    n_features = features.shape[0]
    ycol_c = yc1
    ycol_r = y1
    ct = sum_total[0]
    cl = sum_left[0]
    best_pos = end
    best_feature = 0
    best_threshold = 0.0
    best_missing_left = False
    best_proxy = -_INF
    imp_left = _INF
    imp_right = _INF
    improvement = -_INF
    middle = 0.0

    f_i = n_features
    n_visited = 0
    n_found_constants = 0
    n_drawn_constants = 0
    n_total_constants = n_known_constants
    cur_feature = -1
    any_missing = missing_mask.shape[0] > 0
    general = criterion == ABSOLUTE_ERROR

    while f_i > n_total_constants and (
            n_visited < max_features
            or n_visited <= n_found_constants + n_drawn_constants):
        n_visited += 1
        f_j = _rand_int(n_drawn_constants, f_i - n_found_constants, rng)
        if f_j < n_known_constants:
            tmp = features[n_drawn_constants]
            features[n_drawn_constants] = features[f_j]
            features[f_j] = tmp
            n_drawn_constants += 1
            continue
        f_j += n_found_constants
        feat = features[f_j]
        cur_feature = feat

        if splitter == BEST:
            n_missing = 0
            if any_missing and missing_mask[feat]:
                n_missing = gather_missing(X, feat, samples, fv, start, end)
                sort_values_and_indices(fv, samples, start, end - start - n_missing,
                                        sort_stack)
            else:
                gather_sorted(X, feat, samples, fv, start, end, sort_stack, keys,
                              keys_tmp, idx_tmp, hist)
            end_nm = end - n_missing
            if end_nm == start or (fv[end_nm - 1] <= fv[start] + _FEATURE_THRESHOLD
                                   and n_missing == 0):
                features[f_j] = features[n_total_constants]
                features[n_total_constants] = feat
                n_found_constants += 1
                n_total_constants += 1
                continue
            f_i -= 1
            tmp = features[f_i]
            features[f_i] = features[f_j]
            features[f_j] = tmp

            if general or n_missing > 0:
                cst = mono[feat] if with_mono else 0
                proxy, pos, threshold, missing_left = _scan_general(
                    fv, samples, y, yc, w, start, end, n_missing, min_samples_leaf,
                    min_weight_leaf, criterion, is_clf, n_outputs, n_classes, sum_total,
                    sum_left, sum_right, wnode, cst, lower, upper, best_proxy, idx_tmp,
                    fv_tmp, mf, mi, sort_stack, node_med)
                if pos >= 0:
                    best_proxy = proxy
                    best_pos = pos
                    best_feature = feat
                    best_threshold = threshold
                    best_missing_left = missing_left
                continue

            if n_outputs == 1:
                cst = mono[feat] if with_mono else 0
                if is_clf:
                    proxy, pos, threshold, missing_left = _scan_classes(
                        fv, samples, ycol_c, w, start, end, min_samples_leaf,
                        min_weight_leaf, criterion, n_classes[0], ct, cl, wnode,
                        integral, cst, lower, upper, best_proxy)
                else:
                    proxy, pos, threshold, missing_left = _scan_values(
                        fv, samples, ycol_r, w, start, end, min_samples_leaf,
                        min_weight_leaf, criterion, sum_total[0, 0], wnode, cst, lower,
                        upper, best_proxy)
                if pos >= 0:
                    best_proxy = proxy
                    best_pos = pos
                    best_feature = feat
                    best_threshold = threshold
                    best_missing_left = missing_left
                continue

            _reset(n_outputs, n_classes, sum_left)
            w_left = 0.0
            pos = start
            p = start
            while p < end:
                p += 1
                while p < end and fv[p] <= fv[p - 1] + _FEATURE_THRESHOLD:
                    p += 1
                if p >= end:
                    break
                n_left = p - start
                n_right = end - p
                if n_left < min_samples_leaf or n_right < min_samples_leaf:
                    continue
                w_left = _update(is_clf, y, yc, w, samples, start, end, pos, p, n_outputs,
                                 n_classes, sum_total, sum_left, sum_right, w_left, wnode)
                pos = p
                w_right = wnode - w_left
                if with_mono and mono[feat] != 0:
                    if not _monotonic_ok(mono[feat], lower, upper, sum_left, sum_right,
                                         w_left, w_right):
                        continue
                if w_left < min_weight_leaf or w_right < min_weight_leaf:
                    continue
                proxy = _proxy_improvement(criterion, n_outputs, n_classes, sum_left,
                                           sum_right, w_left, w_right)
                if proxy > best_proxy:
                    best_proxy = proxy
                    best_pos = p
                    best_feature = feat
                    best_threshold = (np.float64(fv[p - 1]) / 2.0
                                      + np.float64(fv[p]) / 2.0)
                    best_missing_left = n_left > n_right
        else:
            vmin = np.float32(_INF)
            vmax = np.float32(-_INF)
            first = True
            n_missing = 0
            if any_missing and missing_mask[feat]:
                for p in range(start, end):
                    v = X[samples[p], feat]
                    fv[p] = v
                    if np.isnan(v):
                        n_missing += 1
                    elif first:
                        vmin = v
                        vmax = v
                        first = False
                    elif v < vmin:
                        vmin = v
                    elif v > vmax:
                        vmax = v
            else:
                for p in range(start, end):
                    v = X[samples[p], feat]
                    fv[p] = v
                    if first:
                        vmin = v
                        vmax = v
                        first = False
                    elif v < vmin:
                        vmin = v
                    elif v > vmax:
                        vmax = v
            if end - start == n_missing or (vmax <= vmin + _FEATURE_THRESHOLD
                                            and n_missing == 0):
                features[f_j] = features[n_total_constants]
                features[n_total_constants] = feat
                n_found_constants += 1
                n_total_constants += 1
                continue
            f_i -= 1
            tmp = features[f_i]
            features[f_i] = features[f_j]
            features[f_j] = tmp

            threshold = _rand_uniform(np.float64(vmin), np.float64(vmax), rng)
            random_missing_left = False
            if n_missing > 0:
                random_missing_left = _rand_int(0, 2, rng) != 0
            if threshold == vmax:
                threshold = np.float64(vmin)
            # partition samples (and their values) on the threshold
            lo = start
            hi = end
            if n_missing > 0:
                while lo < hi:
                    v = fv[lo]
                    if np.isnan(v):
                        go_left = random_missing_left
                    else:
                        go_left = v <= threshold
                    if go_left:
                        lo += 1
                    else:
                        hi -= 1
                        _swap(fv, samples, lo, hi)
            else:
                while lo < hi:
                    if fv[lo] <= threshold:
                        lo += 1
                    else:
                        hi -= 1
                        _swap(fv, samples, lo, hi)
            pos = hi
            n_left = pos - start
            n_right = end - pos
            if n_left < min_samples_leaf or n_right < min_samples_leaf:
                continue
            if general:
                mae_reset(y, w, samples, start, end, n_outputs, mf, mi, sort_stack,
                          node_med)
                w_left = 0.0
                for q in range(start, pos):
                    w_left += w[samples[q]]
            else:
                _reset(n_outputs, n_classes, sum_left)
                w_left = _update(is_clf, y, yc, w, samples, start, end, start, pos,
                                 n_outputs, n_classes, sum_total, sum_left, sum_right, 0.0,
                                 wnode)
            w_right = wnode - w_left
            if w_left < min_weight_leaf or w_right < min_weight_leaf:
                continue
            if with_mono and mono[feat] != 0:
                if general:
                    vl = mf[LEFT_MED, pos - 1]
                    vr = mf[RIGHT_MED, pos]
                    if not (vl >= lower and vr >= lower and vl <= upper and vr <= upper
                            and (vl - vr) * mono[feat] <= 0):
                        continue
                elif not _monotonic_ok(mono[feat], lower, upper, sum_left, sum_right,
                                       w_left, w_right):
                    continue
            if general:
                imp_left, imp_right = mae_children(mf, start, pos, end, w_left, w_right,
                                                   n_outputs)
                proxy = -w_right * imp_right - w_left * imp_left
            else:
                proxy = _proxy_improvement(criterion, n_outputs, n_classes, sum_left,
                                           sum_right, w_left, w_right)
            if proxy > best_proxy:
                best_proxy = proxy
                best_pos = pos
                best_feature = feat
                best_threshold = threshold
                if n_missing > 0:
                    best_missing_left = random_missing_left
                else:
                    best_missing_left = n_left > n_right

    if best_pos < end:
        if splitter == BEST or cur_feature != best_feature:
            if any_missing and missing_mask[best_feature]:
                partition_missing(X, best_feature, samples, start, end, best_threshold,
                                  best_missing_left)
            else:
                lo = start
                hi = end
                while lo < hi:
                    if X[samples[lo], best_feature] <= best_threshold:
                        lo += 1
                    else:
                        hi -= 1
                        tmp = samples[lo]
                        samples[lo] = samples[hi]
                        samples[hi] = tmp
        if general:
            mae_reset(y, w, samples, start, end, n_outputs, mf, mi, sort_stack, node_med)
            w_left = 0.0
            for q in range(start, best_pos):
                w_left += w[samples[q]]
            w_right = wnode - w_left
            imp_left, imp_right = mae_children(mf, start, best_pos, end, w_left, w_right,
                                               n_outputs)
            middle = (mf[LEFT_MED, best_pos - 1] + mf[RIGHT_MED, best_pos]) / 2
        else:
            _reset(n_outputs, n_classes, sum_left)
            w_left = _update(is_clf, y, yc, w, samples, start, end, start, best_pos,
                             n_outputs, n_classes, sum_total, sum_left, sum_right, 0.0,
                             wnode)
            w_right = wnode - w_left
            imp_left, imp_right = _children_impurity(
                criterion, y, w, samples, start, best_pos, end, n_outputs, n_classes,
                sum_left, sum_right, w_left, w_right, sq_sum_total)
            middle = sum_left[0, 0] / (2 * w_left) + sum_right[0, 0] / (2 * w_right)
        improvement = (wnode / wtotal) * (impurity - (w_right / wnode * imp_right)
                                          - (w_left / wnode * imp_left))

    # Keep the known constant features at the front in their original order and
    # record the newly found ones after them.
    for j in range(n_known_constants):
        features[j] = constant_features[j]
    for j in range(n_known_constants, n_total_constants):
        constant_features[j] = features[j]

    return (best_pos, best_feature, best_threshold, improvement, imp_left, imp_right,
            best_missing_left, n_total_constants, middle)


# ------------------------------------------------------------------------- tree store


@njit(cache=True, nogil=True)
def _grow_store(ints, floats, values, capacity):
    new_ints = np.zeros((capacity, ints.shape[1]), dtype=np.int64)
    new_floats = np.zeros((capacity, floats.shape[1]), dtype=np.float64)
    new_values = np.zeros((capacity, values.shape[1], values.shape[2]), dtype=np.float64)
    n = min(ints.shape[0], capacity)
    new_ints[:n] = ints[:n]
    new_floats[:n] = floats[:n]
    new_values[:n] = values[:n]
    return new_ints, new_floats, new_values


@njit(cache=True, nogil=True, _nrt=False)
def _add_node(ints, floats, node_count, parent, is_left, is_leaf, feature, threshold,
              impurity, n_node_samples, weighted_n_node_samples, missing_left):
    node = node_count
    floats[node, _IMPURITY] = impurity
    ints[node, _NSAMPLES] = n_node_samples
    floats[node, _WEIGHT] = weighted_n_node_samples
    if parent != TREE_UNDEFINED:
        if is_left:
            ints[parent, _LEFT] = node
        else:
            ints[parent, _RIGHT] = node
    if is_leaf:
        ints[node, _LEFT] = TREE_LEAF
        ints[node, _RIGHT] = TREE_LEAF
        ints[node, _FEATURE] = TREE_UNDEFINED
        floats[node, _THRESHOLD] = TREE_UNDEFINED
        floats[node, _MISSING_LEFT] = 0.0
    else:
        ints[node, _FEATURE] = feature
        floats[node, _THRESHOLD] = threshold
        floats[node, _MISSING_LEFT] = 1.0 if missing_left else 0.0
    return node + 1


@njit(cache=True, nogil=True, _nrt=False)
def _store_value(is_clf, values, node, n_outputs, n_classes, sum_total, wnode, with_mono,
                 lower, upper):
    for k in range(n_outputs):
        for c in range(n_classes[k]):
            values[node, k, c] = sum_total[k, c] / wnode
    if with_mono:
        v = values[node, 0, 0]
        if v < lower:
            v = lower
        elif v > upper:
            v = upper
        values[node, 0, 0] = v
        if is_clf:
            values[node, 0, 1] = 1.0 - v


@njit(cache=True, nogil=True, _nrt=False)
def _store_median(y, w, samples, start, end, values, node, n_outputs, mf, mi, sort_stack,
                  node_med, with_mono, lower, upper):
    """Leaf value of the absolute-error criterion: the weighted median of each output
    (computed as the criterion's backward pass over the node's samples does)."""
    mae_reset(y, w, samples, start, end, n_outputs, mf, mi, sort_stack, node_med)
    for k in range(n_outputs):
        values[node, k, 0] = node_med[k]
    if with_mono:
        v = values[node, 0, 0]
        if v < lower:
            v = lower
        elif v > upper:
            v = upper
        values[node, 0, 0] = v


# ------------------------------------------------------------------------ heap (C++)


@njit(cache=True, nogil=True)
def _heap_push(heap, size, key, value):
    """``std::push_heap`` on a max-heap of record ids ordered by ``key[id]``;
    ``heap[size]`` receives ``value``. Returns the new size."""
    hole = size
    parent = (hole - 1) // 2
    while hole > 0 and key[heap[parent]] < key[value]:
        heap[hole] = heap[parent]
        hole = parent
        parent = (hole - 1) // 2
    heap[hole] = value
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(heap, size, key):
    """``std::pop_heap`` then ``back()``/``pop_back()``: the id with the largest key."""
    if size > 1:
        last = size - 1
        value = heap[last]
        heap[last] = heap[0]
        # __adjust_heap(first, 0, last, value)
        length = last
        hole = 0
        second = 0
        while second < (length - 1) // 2:
            second = 2 * (second + 1)
            if key[heap[second]] < key[heap[second - 1]]:
                second -= 1
            heap[hole] = heap[second]
            hole = second
        if (length & 1) == 0 and second == (length - 2) // 2:
            second = 2 * (second + 1)
            heap[hole] = heap[second - 1]
            hole = second - 1
        parent = (hole - 1) // 2
        while hole > 0 and key[heap[parent]] < key[value]:
            heap[hole] = heap[parent]
            hole = parent
            parent = (hole - 1) // 2
        heap[hole] = value
    return heap[size - 1], size - 1


# ---------------------------------------------------------------------------- builder


@njit(cache=True, nogil=True)
def build_tree(X, y, w, n_classes, is_clf, criterion, splitter, max_features,
               min_samples_split, min_samples_leaf, min_weight_leaf, max_depth,
               max_leaf_nodes, min_impurity_decrease, mono, seed, missing_mask):
    """Grow a tree on ``X`` (float32, Fortran order) and ``y`` (float64, class
    indices for classification) with sample weights ``w``.

    ``max_leaf_nodes < 0`` grows depth first, otherwise best first. ``mono`` is
    an int8 array of monotonicity constraints (length 0 for none); ``seed`` the
    initial state of the xorshift generator; ``missing_mask`` a uint8 array
    flagging the features with missing values (NaN) in ``X`` (length 0: none).

    Returns ``(ints, floats, values, max_depth_seen)``: ``ints[:, 0:4]`` hold left
    child, right child, feature and number of samples of each node;
    ``floats[:, 0:4]`` threshold, impurity, weighted number of samples and
    missing-go-to-left; ``values`` the node values.
    """
    n_total, n_features = X.shape
    n_outputs = y.shape[1]
    max_n_classes = 1
    for k in range(n_outputs):
        if n_classes[k] > max_n_classes:
            max_n_classes = n_classes[k]
    with_mono = mono.shape[0] > 0

    yc = np.zeros((n_total, n_outputs), dtype=np.int64)
    if is_clf:
        for i in range(n_total):
            for k in range(n_outputs):
                yc[i, k] = np.int64(y[i, k])

    # samples with a positive weight; the total weight counts them all
    samples = np.empty(n_total, dtype=np.int64)
    n_samples = 0
    wtotal = 0.0
    for i in range(n_total):
        if w[i] != 0.0:
            samples[n_samples] = i
            n_samples += 1
        wtotal += w[i]

    y1 = np.ascontiguousarray(y[:, 0])
    yc1 = np.ascontiguousarray(yc[:, 0])
    # integral weights (unweighted, bootstrap counts): exact O(1) Gini updates
    integral = wtotal < 67108864.0
    for i in range(n_total):
        if w[i] != np.floor(w[i]):
            integral = False
            break

    keys = np.empty(n_total, dtype=np.uint32)
    keys_tmp = np.empty(n_total, dtype=np.uint32)
    idx_tmp = np.empty(n_total, dtype=np.int64)
    hist = np.zeros((4, 256), dtype=np.int64)
    rng = np.empty(1, dtype=np.int64)
    rng[0] = seed
    features = np.arange(n_features).astype(np.int64)
    constant_features = np.zeros(n_features, dtype=np.int64)
    fv = np.empty(n_total, dtype=np.float32)
    sort_stack = np.empty((160, 3), dtype=np.int64)
    sum_total = np.zeros((n_outputs, max_n_classes), dtype=np.float64)
    sum_left = np.zeros((n_outputs, max_n_classes), dtype=np.float64)
    sum_right = np.zeros((n_outputs, max_n_classes), dtype=np.float64)
    # work arrays of the missing-value passes and of the absolute-error criterion
    fv_tmp = np.empty(n_total if missing_mask.shape[0] > 0 else 1, dtype=np.float32)
    mae = criterion == ABSOLUTE_ERROR
    mf = np.zeros((7, n_total + 1 if mae else 1), dtype=np.float64)
    mi = np.zeros((2, n_total if mae else 1), dtype=np.int64)
    node_med = np.zeros(n_outputs, dtype=np.float64)

    capacity = 64
    ints = np.zeros((capacity, 4), dtype=np.int64)
    floats = np.zeros((capacity, 4), dtype=np.float64)
    values = np.zeros((capacity, n_outputs, max_n_classes), dtype=np.float64)
    node_count = 0
    max_depth_seen = -1

    if max_leaf_nodes < 0:
        # ------------------------------------------------------------ depth first
        st_cap = 64
        # stack records: start, end, depth, parent, is_left, n_constant_features and
        # impurity, lower bound, upper bound
        st_int = np.empty((st_cap, 6), dtype=np.int64)
        st_flt = np.empty((st_cap, 3), dtype=np.float64)
        st_int[0, 0] = 0
        st_int[0, 1] = n_samples
        st_int[0, 2] = 0
        st_int[0, 3] = TREE_UNDEFINED
        st_int[0, 4] = 0
        st_int[0, 5] = 0
        st_flt[0, 0] = _INF
        st_flt[0, 1] = -_INF
        st_flt[0, 2] = _INF
        top = 1
        first = True
        while top > 0:
            top -= 1
            start = st_int[top, 0]
            end = st_int[top, 1]
            depth = st_int[top, 2]
            parent = st_int[top, 3]
            is_left = st_int[top, 4] == 1
            n_constant = st_int[top, 5]
            impurity = st_flt[top, 0]
            lower = st_flt[top, 1]
            upper = st_flt[top, 2]
            n_node = end - start

            wnode, sq_sum_total = _node_sums(is_clf, y, yc, w, samples, start, end,
                                             n_outputs, sum_total)
            is_leaf = (depth >= max_depth or n_node < min_samples_split
                       or n_node < 2 * min_samples_leaf or wnode < 2 * min_weight_leaf)
            if first:
                if mae:
                    mae_reset(y, w, samples, start, end, n_outputs, mf, mi, sort_stack,
                              node_med)
                    impurity = mf[RIGHT_ABS, start] / (wnode * n_outputs)
                else:
                    impurity = _node_impurity(criterion, y, w, samples, start, end,
                                              n_outputs, n_classes, sum_total, wnode,
                                              sq_sum_total)
                first = False
            is_leaf = is_leaf or impurity <= _EPSILON

            pos = end
            feature = 0
            threshold = 0.0
            improvement = -_INF
            imp_left = _INF
            imp_right = _INF
            missing_left = False
            middle = 0.0
            if not is_leaf:
                (pos, feature, threshold, improvement, imp_left, imp_right, missing_left,
                 n_constant, middle) = _split_node(
                    X, y, yc, w, samples, fv, features, constant_features, n_constant,
                    start, end, splitter, criterion, is_clf, max_features,
                    min_samples_leaf, min_weight_leaf, impurity, lower, upper, n_outputs,
                    n_classes, sum_total, sum_left, sum_right, wnode, wtotal,
                    sq_sum_total, mono, with_mono, rng, sort_stack, y1, yc1, integral,
                    keys, keys_tmp, idx_tmp, hist, missing_mask, fv_tmp, mf, mi, node_med)
                is_leaf = pos >= end or improvement + _EPSILON < min_impurity_decrease

            if node_count >= capacity:
                capacity *= 2
                ints, floats, values = _grow_store(ints, floats, values, capacity)
            node_id = node_count
            node_count = _add_node(ints, floats, node_count, parent, is_left, is_leaf,
                                   feature, threshold, impurity, n_node, wnode,
                                   missing_left)
            if mae:
                _store_median(y, w, samples, start, end, values, node_id, n_outputs, mf,
                              mi, sort_stack, node_med, with_mono, lower, upper)
            else:
                _store_value(is_clf, values, node_id, n_outputs, n_classes, sum_total,
                             wnode, with_mono, lower, upper)

            if not is_leaf:
                left_min = lower
                right_min = lower
                left_max = upper
                right_max = upper
                if with_mono and mono[feature] == 1:
                    right_min = middle
                    left_max = middle
                elif with_mono and mono[feature] == -1:
                    left_min = middle
                    right_max = middle
                if top + 2 > st_cap:
                    st_cap *= 2
                    new_int = np.empty((st_cap, 6), dtype=np.int64)
                    new_flt = np.empty((st_cap, 3), dtype=np.float64)
                    new_int[:top] = st_int[:top]
                    new_flt[:top] = st_flt[:top]
                    st_int = new_int
                    st_flt = new_flt
                # right child first, so that the left one is grown first
                st_int[top, 0] = pos
                st_int[top, 1] = end
                st_int[top, 2] = depth + 1
                st_int[top, 3] = node_id
                st_int[top, 4] = 0
                st_int[top, 5] = n_constant
                st_flt[top, 0] = imp_right
                st_flt[top, 1] = right_min
                st_flt[top, 2] = right_max
                top += 1
                st_int[top, 0] = start
                st_int[top, 1] = pos
                st_int[top, 2] = depth + 1
                st_int[top, 3] = node_id
                st_int[top, 4] = 1
                st_int[top, 5] = n_constant
                st_flt[top, 0] = imp_left
                st_flt[top, 1] = left_min
                st_flt[top, 2] = left_max
                top += 1
            if depth > max_depth_seen:
                max_depth_seen = depth
    else:
        # ------------------------------------------------------------- best first
        # frontier records: ints (node_id start end pos depth is_leaf),
        # floats (impurity imp_left imp_right improvement lower upper middle)
        fr_cap = 2 * max_leaf_nodes + 2
        fr_int = np.empty((fr_cap, 6), dtype=np.int64)
        fr_flt = np.empty((fr_cap, 7), dtype=np.float64)
        fr_key = np.empty(fr_cap, dtype=np.float64)
        heap = np.empty(fr_cap, dtype=np.int64)
        heap_size = 0
        n_records = 0
        max_split_nodes = max_leaf_nodes - 1

        # pending children of the node being expanded: (start, end, depth, parent,
        # is_left, impurity, lower, upper)
        rec = 0
        node = 0
        rec_depth = 0
        step = -1
        while True:
            step += 1
            if step == 0:
                n_pending = 1
            else:
                if heap_size == 0:
                    break
                rec, heap_size = _heap_pop(heap, heap_size, fr_key)
                node = fr_int[rec, 0]
                rec_depth = fr_int[rec, 4]
                if fr_int[rec, 5] == 1 or max_split_nodes <= 0:
                    ints[node, _LEFT] = TREE_LEAF
                    ints[node, _RIGHT] = TREE_LEAF
                    ints[node, _FEATURE] = TREE_UNDEFINED
                    floats[node, _THRESHOLD] = TREE_UNDEFINED
                    if rec_depth > max_depth_seen:
                        max_depth_seen = rec_depth
                    continue
                n_pending = 2
                max_split_nodes -= 1
            for child in range(n_pending):
                if step == 0:
                    start = 0
                    end = n_samples
                    depth = 0
                    parent = TREE_UNDEFINED
                    is_left = True
                    lower = -_INF
                    upper = _INF
                    impurity = _INF
                else:
                    feat_parent = ints[node, _FEATURE]
                    rlow = fr_flt[rec, 4]
                    rup = fr_flt[rec, 5]
                    rmid = fr_flt[rec, 6]
                    left_min = rlow
                    right_min = rlow
                    left_max = rup
                    right_max = rup
                    if with_mono and mono[feat_parent] == 1:
                        right_min = rmid
                        left_max = rmid
                    elif with_mono and mono[feat_parent] == -1:
                        left_min = rmid
                        right_max = rmid
                    depth = rec_depth + 1
                    parent = node
                    if child == 0:
                        start = fr_int[rec, 1]
                        end = fr_int[rec, 3]
                        is_left = True
                        lower = left_min
                        upper = left_max
                        impurity = fr_flt[rec, 1]
                    else:
                        start = fr_int[rec, 3]
                        end = fr_int[rec, 2]
                        is_left = False
                        lower = right_min
                        upper = right_max
                        impurity = fr_flt[rec, 2]

                wnode, sq_sum_total = _node_sums(is_clf, y, yc, w, samples, start, end,
                                                 n_outputs, sum_total)
                if step == 0:
                    if mae:
                        mae_reset(y, w, samples, start, end, n_outputs, mf, mi,
                                  sort_stack, node_med)
                        impurity = mf[RIGHT_ABS, start] / (wnode * n_outputs)
                    else:
                        impurity = _node_impurity(criterion, y, w, samples, start, end,
                                                  n_outputs, n_classes, sum_total, wnode,
                                                  sq_sum_total)
                n_node = end - start
                is_leaf = (depth >= max_depth or n_node < min_samples_split
                           or n_node < 2 * min_samples_leaf
                           or wnode < 2 * min_weight_leaf or impurity <= _EPSILON)
                pos = end
                feature = 0
                threshold = 0.0
                improvement = -_INF
                imp_left = _INF
                imp_right = _INF
                missing_left = False
                middle = 0.0
                if not is_leaf:
                    (pos, feature, threshold, improvement, imp_left, imp_right,
                     missing_left, n_constant, middle) = _split_node(
                        X, y, yc, w, samples, fv, features, constant_features, 0,
                        start, end, splitter, criterion, is_clf, max_features,
                        min_samples_leaf, min_weight_leaf, impurity, lower, upper,
                        n_outputs, n_classes, sum_total, sum_left, sum_right, wnode,
                        wtotal, sq_sum_total, mono, with_mono, rng, sort_stack, y1, yc1,
                        integral, keys, keys_tmp, idx_tmp, hist, missing_mask, fv_tmp, mf,
                        mi, node_med)
                    is_leaf = pos >= end or improvement + _EPSILON < min_impurity_decrease
                else:
                    # scikit-learn reads the criterion's stale midpoint here; it is
                    # never used for a leaf
                    middle = 0.0

                if node_count >= capacity:
                    capacity *= 2
                    ints, floats, values = _grow_store(ints, floats, values, capacity)
                node_id = node_count
                node_count = _add_node(ints, floats, node_count, parent, is_left, is_leaf,
                                       feature, threshold, impurity, n_node, wnode,
                                       missing_left)
                if mae:
                    _store_median(y, w, samples, start, end, values, node_id, n_outputs,
                                  mf, mi, sort_stack, node_med, with_mono, lower, upper)
                else:
                    _store_value(is_clf, values, node_id, n_outputs, n_classes,
                                 sum_total, wnode, with_mono, lower, upper)
                if n_records >= fr_cap:
                    fr_cap *= 2
                    new_int = np.empty((fr_cap, 6), dtype=np.int64)
                    new_flt = np.empty((fr_cap, 7), dtype=np.float64)
                    new_key = np.empty(fr_cap, dtype=np.float64)
                    new_heap = np.empty(fr_cap, dtype=np.int64)
                    new_int[:n_records] = fr_int[:n_records]
                    new_flt[:n_records] = fr_flt[:n_records]
                    new_key[:n_records] = fr_key[:n_records]
                    new_heap[:heap_size] = heap[:heap_size]
                    fr_int = new_int
                    fr_flt = new_flt
                    fr_key = new_key
                    heap = new_heap
                r = n_records
                n_records += 1
                fr_int[r, 0] = node_id
                fr_int[r, 1] = start
                fr_int[r, 2] = end
                fr_int[r, 4] = depth
                fr_flt[r, 0] = impurity
                fr_flt[r, 4] = lower
                fr_flt[r, 5] = upper
                fr_flt[r, 6] = middle
                if not is_leaf:
                    fr_int[r, 3] = pos
                    fr_int[r, 5] = 0
                    fr_key[r] = improvement
                    fr_flt[r, 1] = imp_left
                    fr_flt[r, 2] = imp_right
                    fr_flt[r, 3] = improvement
                else:
                    fr_int[r, 3] = end
                    fr_int[r, 5] = 1
                    fr_key[r] = 0.0
                    fr_flt[r, 1] = impurity
                    fr_flt[r, 2] = impurity
                    fr_flt[r, 3] = 0.0
            # both children are computed before either enters the frontier
            for child in range(n_pending):
                heap_size = _heap_push(heap, heap_size, fr_key,
                                       n_records - n_pending + child)
            if step > 0 and rec_depth > max_depth_seen:
                max_depth_seen = rec_depth

    return ints[:node_count].copy(), floats[:node_count].copy(), \
        values[:node_count].copy(), max_depth_seen


# ---------------------------------------------------------------------------- pruning


@njit(cache=True, nogil=True)
def cost_complexity_prune(left, right, weighted_n_node_samples, impurity, ccp_alpha,
                          record_path):
    """Minimal cost-complexity pruning (Breiman et al. 1984, ch. 3).

    Repeatedly collapses the internal node ``t`` with the smallest effective
    alpha ``(R(t) - R(T_t)) / (|leaves(T_t)| - 1)``, where ``R`` is the weighted
    impurity, while that alpha does not exceed ``ccp_alpha``. Returns the mask
    of the nodes that are leaves of the pruned tree, the mask of the nodes kept,
    and (``record_path``) the effective alphas and total leaf impurities of the
    sequence of subtrees.
    """
    n_nodes = left.shape[0]
    total = weighted_n_node_samples[0]
    r_node = np.empty(n_nodes)
    for i in range(n_nodes):
        r_node[i] = weighted_n_node_samples[i] * impurity[i] / total
    parent = np.zeros(n_nodes, dtype=np.int64)
    leaves = np.zeros(n_nodes, dtype=np.uint8)
    stack = np.empty(n_nodes + 1, dtype=np.int64)
    stack_parent = np.empty(n_nodes + 1, dtype=np.int64)
    top = 0
    stack[0] = 0
    stack_parent[0] = TREE_UNDEFINED
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        parent[node] = stack_parent[top]
        if left[node] == TREE_LEAF:
            leaves[node] = 1
        else:
            stack[top] = left[node]
            stack_parent[top] = node
            top += 1
            stack[top] = right[node]
            stack_parent[top] = node
            top += 1

    n_leaves = np.zeros(n_nodes, dtype=np.int64)
    r_branch = np.zeros(n_nodes)
    for leaf in range(n_nodes):
        if not leaves[leaf]:
            continue
        r_branch[leaf] = r_node[leaf]
        current_r = r_node[leaf]
        idx = leaf
        while idx != 0:
            p = parent[idx]
            r_branch[p] += current_r
            n_leaves[p] += 1
            idx = p

    candidate = np.zeros(n_nodes, dtype=np.uint8)
    for i in range(n_nodes):
        candidate[i] = 1 - leaves[i]
    in_subtree = np.ones(n_nodes, dtype=np.uint8)
    path_alpha = np.zeros(n_nodes + 1)
    path_impurity = np.zeros(n_nodes + 1)
    n_path = 0
    if record_path:
        path_alpha[0] = 0.0
        path_impurity[0] = r_branch[0]
        n_path = 1

    while candidate[0]:
        effective = _MAX_FLOAT64
        pruned = 0
        for i in range(n_nodes):
            if not candidate[i]:
                continue
            alpha = (r_node[i] - r_branch[i]) / (n_leaves[i] - 1)
            if alpha < effective:
                effective = alpha
                pruned = i
        if not record_path and ccp_alpha < effective:
            break
        top = 0
        stack[0] = pruned
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            if not in_subtree[node]:
                continue
            candidate[node] = 0
            leaves[node] = 0
            in_subtree[node] = 0
            if left[node] != TREE_LEAF:
                stack[top] = left[node]
                top += 1
                stack[top] = right[node]
                top += 1
        leaves[pruned] = 1
        in_subtree[pruned] = 1
        n_pruned_leaves = n_leaves[pruned] - 1
        n_leaves[pruned] = 0
        r_diff = r_node[pruned] - r_branch[pruned]
        r_branch[pruned] = r_node[pruned]
        idx = parent[pruned]
        while idx != TREE_UNDEFINED:
            n_leaves[idx] -= n_pruned_leaves
            r_branch[idx] += r_diff
            idx = parent[idx]
        if record_path:
            path_alpha[n_path] = effective
            path_impurity[n_path] = r_branch[0]
            n_path += 1
    return leaves, in_subtree, path_alpha[:n_path].copy(), path_impurity[:n_path].copy()


@njit(cache=True, nogil=True)
def build_pruned(left, right, leaves):
    """Depth-first renumbering of the nodes kept by pruning.

    Returns ``(old_ids, new_left, new_right, max_depth)``: the original id of each
    new node and the children in the new numbering.
    """
    n_nodes = left.shape[0]
    old_ids = np.empty(n_nodes, dtype=np.int64)
    new_left = np.empty(n_nodes, dtype=np.int64)
    new_right = np.empty(n_nodes, dtype=np.int64)
    stack_node = np.empty(n_nodes + 1, dtype=np.int64)
    stack_depth = np.empty(n_nodes + 1, dtype=np.int64)
    stack_parent = np.empty(n_nodes + 1, dtype=np.int64)
    stack_left = np.empty(n_nodes + 1, dtype=np.int64)
    stack_node[0] = 0
    stack_depth[0] = 0
    stack_parent[0] = TREE_UNDEFINED
    stack_left[0] = 0
    top = 1
    count = 0
    max_depth = -1
    while top > 0:
        top -= 1
        orig = stack_node[top]
        depth = stack_depth[top]
        parent = stack_parent[top]
        is_left = stack_left[top]
        node = count
        count += 1
        old_ids[node] = orig
        if parent != TREE_UNDEFINED:
            if is_left:
                new_left[parent] = node
            else:
                new_right[parent] = node
        if leaves[orig]:
            new_left[node] = TREE_LEAF
            new_right[node] = TREE_LEAF
        else:
            stack_node[top] = right[orig]
            stack_depth[top] = depth + 1
            stack_parent[top] = node
            stack_left[top] = 0
            top += 1
            stack_node[top] = left[orig]
            stack_depth[top] = depth + 1
            stack_parent[top] = node
            stack_left[top] = 1
            top += 1
        if depth > max_depth:
            max_depth = depth
    return (old_ids[:count].copy(), new_left[:count].copy(), new_right[:count].copy(),
            max_depth)


# ------------------------------------------------------------------------- prediction


@njit(cache=True, nogil=True)
def decision_path_dense(X, left, right, feature, threshold, max_depth, missing_left):
    """CSR ``indptr`` and ``indices`` of the nodes each row of ``X`` traverses
    (a missing value goes left where ``missing_left``)."""
    n = X.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(n * (max_depth + 1), dtype=np.int64)
    count = 0
    for i in range(n):
        node = 0
        while left[node] != TREE_LEAF:
            indices[count] = node
            count += 1
            v = X[i, feature[node]]
            if v <= threshold[node] or (missing_left[node] and np.isnan(v)):
                node = left[node]
            else:
                node = right[node]
        indices[count] = node
        count += 1
        indptr[i + 1] = count
    return indptr, indices[:count].copy()


NODE_DTYPE = np.dtype([("threshold", np.float64), ("right", np.int32),
                       ("feature", np.int32)], align=True)


@njit(cache=True, nogil=True)
def pack_preorder(roots, left, right, feature, threshold, values):
    """Renumber the nodes of every tree in depth-first preorder (the left child of
    an inner node is the next node) and pack them into 16-byte records.

    ``roots``/``left``/``right`` index the concatenated node arrays of the trees.
    Returns the new roots, the records (``feature = -1`` at a leaf), the value
    rows in the new order and the old index of each new node.
    """
    n_nodes = left.shape[0]
    nodes = np.empty(n_nodes, dtype=NODE_DTYPE)
    new_values = np.empty_like(values)
    new_roots = np.empty_like(roots)
    old_ids = np.empty(n_nodes, dtype=np.int64)
    stack = np.empty(n_nodes + 1, dtype=np.int64)
    parent_slot = np.empty(n_nodes + 1, dtype=np.int64)
    count = 0
    for t in range(roots.shape[0]):
        new_roots[t] = count
        top = 0
        stack[0] = roots[t]
        parent_slot[0] = -1
        top = 1
        while top > 0:
            top -= 1
            old = stack[top]
            slot = parent_slot[top]
            new = count
            count += 1
            if slot >= 0:
                nodes[slot].right = new  # only right children are pushed with a slot
            new_values[new] = values[old]
            old_ids[new] = old
            nodes[new].threshold = threshold[old]
            if left[old] == TREE_LEAF:
                nodes[new].feature = -1
                nodes[new].right = -1
            else:
                nodes[new].feature = feature[old]
                stack[top] = right[old]
                parent_slot[top] = new
                top += 1
                stack[top] = left[old]
                parent_slot[top] = -1
                top += 1
    return new_roots, nodes, new_values, old_ids


@njit(cache=True, nogil=True)
def apply_preorder(X, nodes, old_ids):
    """Leaf (in the original numbering) of each row of ``X`` in one packed tree."""
    n = X.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        node = 0
        while True:
            f = nodes[node].feature
            if f < 0:
                break
            if X[i, f] <= nodes[node].threshold:
                node += 1
            else:
                node = nodes[node].right
        out[i] = old_ids[node]
    return out


@njit(cache=True, nogil=True)
def forest_accumulate(X, roots, nodes, values, out):
    """``out[i] += values[leaf_t(x_i)]`` for every tree ``t``, trees in order.

    ``nodes`` are the preorder records of :func:`pack_preorder`: going left is
    moving to the next record, which is usually in the same cache line. Each
    element of ``out`` receives the trees' contributions in the order of the
    trees, as when the per-tree predictions are added one after the other.
    """
    n = X.shape[0]
    n_cols = values.shape[1]
    for t in range(roots.shape[0]):
        root = roots[t]
        for i in range(n):
            node = root
            while True:
                f = nodes[node].feature
                if f < 0:
                    break
                if X[i, f] <= nodes[node].threshold:
                    node += 1
                else:
                    node = nodes[node].right
            for c in range(n_cols):
                out[i, c] += values[node, c]
