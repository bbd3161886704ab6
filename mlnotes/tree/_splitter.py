"""Split search of the tree builder (chapter 13): the splitter and its scans.

scikit-learn's ``_splitter.pyx`` and ``_partitioner.pyx`` counterpart. For a node, up
to ``max_features`` features are drawn (Fisher-Yates over a persistent permutation,
features found constant are skipped in the node's descendants); for each, the
``"best"`` splitter sorts the node's values and scans every threshold, the ``"random"``
splitter draws one threshold uniformly between the node's minimum and maximum. The
split maximising the criterion's proxy of the impurity decrease wins, and the node's
samples are partitioned on it. Its weighted impurity decrease is

.. math::

    \\frac{N_m}{N} \\left(H(m) - \\frac{N_R}{N_m} H(R) - \\frac{N_L}{N_m} H(L)\\right).

The state a split reads and writes is grouped into named tuples, so that two
arrays cannot be swapped by position. A numba call flattens them into some 250
scalar arguments, so the scans called once per feature (:func:`_scan_classes`,
:func:`_scan_values`, and :func:`_scan_general` for features with missing values and
the absolute error) are inlined into :func:`_split_node` (``inline="always"``):
called, they made fully grown regression trees 1.2x slower (1.13x with NaN for the
general scan).

* :class:`TrainingSet`: the training data, read only;
* :class:`SplitParams`: the fit's settings;
* :class:`Workspace`: the sample permutation, the feature permutation and every
  buffer the search writes into;
* :class:`NodeRecord`: the node to split; :class:`SplitRecord`: the split found.
"""

from collections import namedtuple

import numpy as np
from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path

from ._criterion import (
    _children_impurity,
    _monotonic_ok,
    _proxy_improvement,
    _reset,
    _update,
)
from ._mae import LEFT_MED, RIGHT_MED, mae_children, mae_reset
from ._missing import gather_missing, partition_missing, shift_missing_left
from ._sort import _swap, gather_sorted, sort_values_and_indices
from ._utils import (
    _FEATURE_THRESHOLD,
    _INF,
    _LN2,
    _POISSON_EPSILON,
    ABSOLUTE_ERROR,
    BEST,
    GINI,
    SQUARED_ERROR,
    _rand_int,
    _rand_uniform,
)

#: The training data (read only). ``X`` float32 in Fortran order; ``y`` float64 of
#: shape (n_samples, n_outputs) and ``yc`` its int64 class indices (classification);
#: ``y1``/``yc1`` their first columns, contiguous; ``w`` the sample weights; ``mono``
#: the int8 monotonicity constraints (length 0: none); ``missing_mask`` the uint8
#: flags of the features with missing values (length 0: none).
TrainingSet = namedtuple("TrainingSet", ["X", "y", "yc", "y1", "yc1", "w", "mono",
                                         "missing_mask"])

#: The fit's settings: splitter and criterion codes of :mod:`mlnotes.tree._utils`,
#: the stopping rules, ``n_classes`` (int64 per output, 1 in regression), the total
#: weight ``wtotal``, ``with_mono`` (constraints given) and ``integral`` (every
#: weight an integer: exact O(1) Gini updates).
SplitParams = namedtuple("SplitParams", [
    "splitter", "criterion", "is_clf", "max_features", "min_samples_split",
    "min_samples_leaf", "min_weight_leaf", "max_depth", "min_impurity_decrease",
    "n_outputs", "n_classes", "wtotal", "with_mono", "integral"])

#: Everything the search writes: ``samples`` (the node's samples are
#: ``samples[start:end]``), the feature permutation ``features`` and the
#: ``constant_features`` found so far, the generator state ``rng`` (length 1), the
#: criterion's sums (``sum_total``, ``sum_left``, ``sum_right``: (n_outputs,
#: max_n_classes)), the feature values ``fv`` and the buffers of the sorts
#: (``sort_stack``, ``keys``, ``keys_tmp``, ``idx_tmp``, ``hist``), of the
#: missing-value passes (``fv_tmp``) and of the absolute-error criterion (``mf``,
#: ``mi``, ``node_med``).
Workspace = namedtuple("Workspace", [
    "samples", "features", "constant_features", "rng", "sum_total", "sum_left",
    "sum_right", "fv", "sort_stack", "keys", "keys_tmp", "idx_tmp", "hist", "fv_tmp",
    "mf", "mi", "node_med"])

#: A node waiting to be split: its samples ``samples[start:end]``, depth, parent id
#: and side, the number of constant features known at its parent, its impurity and
#: the bounds ``lower``/``upper`` its value must respect (monotonic constraints).
NodeRecord = namedtuple("NodeRecord", ["start", "end", "depth", "parent", "is_left",
                                       "n_constant", "impurity", "lower", "upper"])

#: The split found for a node: ``samples[start:pos]`` go left (``pos == end``: no
#: valid split), on ``feature`` at ``threshold``; the weighted impurity decrease
#: ``improvement``, the children's impurities, where missing values go, the number
#: of constant features known now and ``middle``, the value between the children's
#: (monotonic constraints).
SplitRecord = namedtuple("SplitRecord", [
    "pos", "feature", "threshold", "improvement", "impurity_left", "impurity_right",
    "missing_left", "n_constant", "middle"])

#: The node's total weight and (regression) weighted sum of squared targets, as
#: :func:`~mlnotes.tree._criterion._node_sums` returns them.
NodeSums = namedtuple("NodeSums", ["weight", "sq_sum"])

# ------------------------------------------------------------- single-output scans


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _scan_classes(data, params, work, node, sums, cst, best_proxy):
    """Scan the thresholds of one sorted feature (single-output classification).

    The feature's values are sorted in ``work.fv[node.start:node.end]``; ``cst`` is
    the feature's monotonicity constraint (0: none). ``ct`` (``work.sum_total[0]``)
    holds the node's weighted class counts, ``cl`` (``work.sum_left[0]``) receives
    the left counts. With integral weights the sums of squared counts of the Gini index are
    updated in O(1) per sample (exact in float64 below 2**53); otherwise they are
    recomputed over the classes, in the same order as the reference
    implementation, so that both rank near-ties identically.

    Returns ``(best_proxy, pos, threshold, missing_go_to_left)``, ``pos = -1`` if no
    threshold beats ``best_proxy``.
    """
    fv = work.fv
    samples = work.samples
    ct = work.sum_total[0]
    cl = work.sum_left[0]
    ycol = data.yc1
    w = data.w
    start = node.start
    end = node.end
    lower = node.lower
    upper = node.upper
    wnode = sums.weight
    criterion = params.criterion
    min_samples_leaf = params.min_samples_leaf
    min_weight_leaf = params.min_weight_leaf
    n_cls = params.n_classes[0]
    integral = params.integral
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


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _scan_values(data, params, work, node, sums, cst, best_proxy):
    """Scan the thresholds of one sorted feature (single-output regression).

    Running weighted sums of ``y`` give the squared-error proxy
    ``S_L^2 / N_L + S_R^2 / N_R`` (or the Poisson one) in O(1) per threshold.
    Returns as :func:`_scan_classes`.
    """
    fv = work.fv
    samples = work.samples
    s_total = work.sum_total[0, 0]
    ycol = data.y1
    w = data.w
    start = node.start
    end = node.end
    lower = node.lower
    upper = node.upper
    wnode = sums.weight
    criterion = params.criterion
    min_samples_leaf = params.min_samples_leaf
    min_weight_leaf = params.min_weight_leaf
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


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _scan_general(data, params, work, node, sums, n_missing, cst, best_proxy):
    """Scan the thresholds of one feature whose non-missing values are sorted in
    ``fv[start:end - n_missing]``, the missing ones after them (any criterion and
    number of outputs).

    With missing values, two passes: the missing samples on the right (the last
    candidate, all non-missing values left and the missing ones right, has the
    threshold :math:`+\\infty`), then, moved to the front, on the left. The
    absolute-error criterion precomputes the children's errors of each pass
    (:func:`~mlnotes.tree._mae.mae_reset`). Returns as :func:`_scan_classes`.
    """
    y = data.y
    yc = data.yc
    w = data.w
    fv = work.fv
    samples = work.samples
    sum_total = work.sum_total
    sum_left = work.sum_left
    sum_right = work.sum_right
    idx_tmp = work.idx_tmp
    fv_tmp = work.fv_tmp
    mf = work.mf
    mi = work.mi
    sort_stack = work.sort_stack
    node_med = work.node_med
    start = node.start
    end = node.end
    lower = node.lower
    upper = node.upper
    wnode = sums.weight
    criterion = params.criterion
    is_clf = params.is_clf
    n_outputs = params.n_outputs
    n_classes = params.n_classes
    min_samples_leaf = params.min_samples_leaf
    min_weight_leaf = params.min_weight_leaf
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
def _split_node(data, params, work, node, sums):
    """Best split of the node ``work.samples[node.start:node.end]`` over up to
    ``params.max_features`` features; ``sums`` are the node's :class:`NodeSums`, and
    ``work.sum_total`` holds its class counts or target sums on entry.

    ``splitter == BEST`` scans every threshold of each drawn feature;
    ``splitter == RANDOM`` draws one threshold per feature uniformly between its
    minimum and maximum in the node. On return ``samples[start:pos]`` go left.

    Returns a :class:`SplitRecord`; ``pos == end`` means that no valid split exists.
    """
    X = data.X
    y = data.y
    yc = data.yc
    w = data.w
    mono = data.mono
    missing_mask = data.missing_mask
    samples = work.samples
    features = work.features
    constant_features = work.constant_features
    rng = work.rng
    fv = work.fv
    sum_total = work.sum_total
    sum_left = work.sum_left
    sum_right = work.sum_right
    sort_stack = work.sort_stack
    mf = work.mf
    mi = work.mi
    node_med = work.node_med
    start = node.start
    end = node.end
    n_known_constants = node.n_constant
    impurity = node.impurity
    lower = node.lower
    upper = node.upper
    wnode = sums.weight
    sq_sum_total = sums.sq_sum
    splitter = params.splitter
    criterion = params.criterion
    is_clf = params.is_clf
    max_features = params.max_features
    min_samples_leaf = params.min_samples_leaf
    min_weight_leaf = params.min_weight_leaf
    n_outputs = params.n_outputs
    n_classes = params.n_classes
    with_mono = params.with_mono

    n_features = features.shape[0]
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
                gather_sorted(X, feat, samples, fv, start, end, sort_stack, work.keys,
                              work.keys_tmp, work.idx_tmp, work.hist)
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
                    data, params, work, node, sums, n_missing, cst, best_proxy)
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
                        data, params, work, node, sums, cst, best_proxy)
                else:
                    proxy, pos, threshold, missing_left = _scan_values(
                        data, params, work, node, sums, cst, best_proxy)
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
        improvement = (wnode / params.wtotal) * (impurity - (w_right / wnode * imp_right)
                                          - (w_left / wnode * imp_left))

    # Keep the known constant features at the front in their original order and
    # record the newly found ones after them.
    for j in range(n_known_constants):
        features[j] = constant_features[j]
    for j in range(n_known_constants, n_total_constants):
        constant_features[j] = features[j]

    return SplitRecord(best_pos, best_feature, best_threshold, improvement, imp_left,
                       imp_right, best_missing_left, n_total_constants, middle)


