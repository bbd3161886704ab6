"""Lloyd's k-means and k-means++ on CSR matrices (chapter 19 of the notes).

The sparse twins of :mod:`mlnotes.cluster._k_means_fast`. A CSR matrix enters as
its three arrays (``data`` float64, ``indices`` and ``indptr`` int64). Products
``x_i . c_j`` visit the stored entries of row ``i`` only, against the centres
stored feature-major (``CT[f, j]``), so that one stored entry updates the dot
products with every centre in one contiguous loop; squared distances are
``||x_i||^2 - 2 x_i . c_j + ||c_j||^2``. The data are not centred (that would
make them dense), as in scikit-learn.
"""

import numpy as np
from numba import njit

from ._k_means_fast import _average_centers, _center_shift_sq, _row_sq_norms


@njit(cache=True, nogil=True)
def csr_row_sq_norms(data, indptr):
    """``||x_i||^2`` of every CSR row."""
    n = indptr.shape[0] - 1
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * data[p]
        out[i] = s
    return out


@njit(cache=True, nogil=True)
def csr_mean_variance(data, indices, indptr, n_features):
    """Mean of the per-feature variances of a CSR matrix (implicit zeros included)."""
    n = indptr.shape[0] - 1
    s1 = np.zeros(n_features)
    s2 = np.zeros(n_features)
    for p in range(indptr[n]):
        v = data[p]
        s1[indices[p]] += v
        s2[indices[p]] += v * v
    total = 0.0
    for f in range(n_features):
        mean = s1[f] / n
        total += max(s2[f] / n - mean * mean, 0.0)
    return total / n_features


@njit(cache=True, nogil=True)
def _row_dots(data, indices, indptr, i, CT, acc):
    """``acc[j] = x_i . c_j`` for all centres."""
    for j in range(acc.shape[0]):
        acc[j] = 0.0
    for p in range(indptr[i], indptr[i + 1]):
        v = data[p]
        col = CT[indices[p]]
        for j in range(acc.shape[0]):
            acc[j] += v * col[j]


@njit(cache=True, nogil=True)
def _row_sq_dist(data, indices, indptr, i, center, c_sq):
    """``||x_i - c||^2`` summed over the stored entries (exact there)."""
    s = c_sq
    for p in range(indptr[i], indptr[i + 1]):
        c = center[indices[p]]
        diff = data[p] - c
        s += diff * diff - c * c
    return s if s > 0.0 else 0.0


@njit(cache=True, nogil=True)
def assign_labels_csr(data, indices, indptr, centers, labels, sample_weight, sums, weights,
                      update, with_inertia):
    """Assignment step on CSR rows (and the sums of the update step if ``update``).

    Returns the weighted inertia of the new labels if ``with_inertia``, else 0.
    """
    n = indptr.shape[0] - 1
    k = centers.shape[0]
    c_sq = _row_sq_norms(centers)
    CT = np.ascontiguousarray(centers.T)
    if update:
        sums[:, :] = 0.0
        weights[:] = 0.0
    acc = np.empty(k)
    inertia = 0.0
    for i in range(n):
        _row_dots(data, indices, indptr, i, CT, acc)
        best = c_sq[0] - 2.0 * acc[0]
        lab = 0
        for j in range(1, k):
            v = c_sq[j] - 2.0 * acc[j]
            if v < best:
                best = v
                lab = j
        labels[i] = lab
        wi = sample_weight[i]
        if with_inertia:
            inertia += wi * _row_sq_dist(data, indices, indptr, i, centers[lab], c_sq[lab])
        if update:
            weights[lab] += wi
            for p in range(indptr[i], indptr[i + 1]):
                sums[lab, indices[p]] += wi * data[p]
    return inertia


@njit(cache=True, nogil=True)
def _relocate_empty_csr(data, indices, indptr, sample_weight, centers_old, sums, weights,
                        labels):
    """Re-seed empty clusters on the points farthest from their centres."""
    k = weights.shape[0]
    n_empty = 0
    for j in range(k):
        if weights[j] == 0.0:
            n_empty += 1
    if n_empty == 0:
        return
    n = indptr.shape[0] - 1
    c_sq = _row_sq_norms(centers_old)
    dist = np.empty(n)
    dmax = 0.0
    for i in range(n):
        lab = labels[i]
        dist[i] = _row_sq_dist(data, indices, indptr, i, centers_old[lab], c_sq[lab])
        if dist[i] > dmax:
            dmax = dist[i]
    if dmax == 0.0:
        return
    far = np.argsort(-dist, kind="mergesort")[:n_empty]
    idx = 0
    for j in range(k):
        if weights[j] != 0.0:
            continue
        p_row = far[idx]
        idx += 1
        w = sample_weight[p_row]
        old = labels[p_row]
        sums[j, :] = 0.0
        for p in range(indptr[p_row], indptr[p_row + 1]):
            sums[old, indices[p]] -= data[p] * w
            sums[j, indices[p]] = data[p] * w
        weights[j] = w
        weights[old] -= w


@njit(cache=True, nogil=True)
def kmeans_single_lloyd_csr(data, indices, indptr, sample_weight, centers_init, max_iter,
                            tol):
    """A run of Lloyd's algorithm on CSR rows; same stopping rule and outputs as
    :func:`mlnotes.cluster._k_means_fast.kmeans_single_lloyd`."""
    n = indptr.shape[0] - 1
    k, d = centers_init.shape
    centers = centers_init.copy()
    centers_new = np.zeros((k, d))
    weights = np.zeros(k)
    labels = np.full(n, -1, dtype=np.int32)
    labels_old = labels.copy()
    strict = False
    it = 0
    for it in range(max_iter):
        assign_labels_csr(data, indices, indptr, centers, labels, sample_weight,
                          centers_new, weights, True, False)
        _relocate_empty_csr(data, indices, indptr, sample_weight, centers, centers_new,
                            weights, labels)
        _average_centers(centers_new, weights)
        shift = _center_shift_sq(centers_new, centers)
        centers, centers_new = centers_new, centers
        same = True
        for i in range(n):
            if labels[i] != labels_old[i]:
                same = False
                break
        if same:
            strict = True
            break
        if shift <= tol:
            break
        labels_old[:] = labels
    if strict:
        c_sq = _row_sq_norms(centers)
        inertia = 0.0
        for i in range(n):
            lab = labels[i]
            inertia += sample_weight[i] * _row_sq_dist(data, indices, indptr, i,
                                                       centers[lab], c_sq[lab])
    else:
        inertia = assign_labels_csr(data, indices, indptr, centers, labels,
                                    sample_weight, centers_new, weights, False, True)
    return labels, inertia, centers, it + 1


@njit(cache=True, nogil=True)
def kmeans_plusplus_core_csr(data, indices, indptr, n_features, x_sq, sample_weight,
                             first, uniforms):
    """Greedy k-means++ on CSR rows after the first centre (see the dense twin)."""
    n = indptr.shape[0] - 1
    n_centers = uniforms.shape[0] + 1
    n_trials = uniforms.shape[1]
    indices_out = np.empty(n_centers, dtype=np.int64)
    indices_out[0] = first
    # dense copy of the first centre
    CT = np.zeros((n_features, n_trials))
    for p in range(indptr[first], indptr[first + 1]):
        CT[indices[p], 0] = data[p]
    closest = np.empty(n)
    potential = 0.0
    acc = np.empty(n_trials)
    for i in range(n):
        _row_dots(data, indices, indptr, i, CT, acc)
        v = max(x_sq[i] - 2.0 * acc[0] + x_sq[first], 0.0)
        closest[i] = v
        potential += sample_weight[i] * v
    cum = np.empty(n)
    cand = np.empty(n_trials, dtype=np.int64)
    dist = np.empty((n, n_trials))
    pots = np.empty(n_trials)
    for c in range(1, n_centers):
        running = 0.0
        for i in range(n):
            running += sample_weight[i] * closest[i]
            cum[i] = running
        CT[:, :] = 0.0
        for t in range(n_trials):
            p = np.searchsorted(cum, uniforms[c - 1, t] * potential)
            cand[t] = min(p, n - 1)
            for q in range(indptr[cand[t]], indptr[cand[t] + 1]):
                CT[indices[q], t] = data[q]
            pots[t] = 0.0
        for i in range(n):
            _row_dots(data, indices, indptr, i, CT, acc)
            wi = sample_weight[i]
            ci = closest[i]
            for t in range(n_trials):
                v = max(x_sq[i] - 2.0 * acc[t] + x_sq[cand[t]], 0.0)
                v = min(v, ci)
                dist[i, t] = v
                pots[t] += wi * v
        best = 0
        for t in range(1, n_trials):
            if pots[t] < pots[best]:
                best = t
        potential = pots[best]
        for i in range(n):
            closest[i] = dist[i, best]
        indices_out[c] = cand[best]
    return indices_out
