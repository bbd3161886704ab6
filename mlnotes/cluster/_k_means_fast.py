"""Compiled kernels of Lloyd's k-means iteration (chapter 19 of the notes).

One call of :func:`lloyd_iter` runs both steps of an iteration over the whole
data set: the assignment step computes, block by block (``CHUNK`` rows), the
squared distances ``||c_j||^2 - 2 x_i . c_j`` to every centre through one BLAS
matrix product per block (``||x_i||^2`` is the same for every centre and does
not change the arg-min), and the update step accumulates the weighted sums
``sum_{i: l_i = j} w_i x_i`` and weights of each cluster in the same pass.
Empty clusters are re-seeded on the points farthest from their centres, as
scikit-learn does. Everything is float64; callers convert once.
"""

import numpy as np
from numba import njit

#: rows per block of the distance computation: the ``(CHUNK, n_clusters)``
#: block of distances and the block of ``X`` stay in cache.
CHUNK = 256


@njit(cache=True, nogil=True)
def _row_sq_norms(A):
    n, d = A.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for f in range(d):
            s += A[i, f] * A[i, f]
        out[i] = s
    return out


@njit(cache=True, nogil=True)
def _average_centers(centers_new, weights):
    """Update step's end: the weighted sums in ``centers_new`` become the means.

    A cluster without weight (after relocation, only when there are fewer distinct
    points than clusters) is put on the heaviest cluster's centre. Shared by the dense
    Lloyd and Elkan kernels and the CSR kernel of :mod:`mlnotes.cluster._k_means_sparse`.
    """
    k, d = centers_new.shape
    heaviest = 0
    for j in range(1, k):
        if weights[j] > weights[heaviest]:
            heaviest = j
    for j in range(k):
        if weights[j] > 0.0:
            inv = 1.0 / weights[j]
            for f in range(d):
                centers_new[j, f] *= inv
    for j in range(k):
        if not weights[j] > 0.0:
            for f in range(d):
                centers_new[j, f] = centers_new[heaviest, f]


@njit(cache=True, nogil=True)
def _center_shift_sq(centers_new, centers_old):
    """Squared Frobenius norm ``sum_j ||c_j^new - c_j^old||^2`` of the centre shift."""
    k, d = centers_new.shape
    shift = 0.0
    for j in range(k):
        for f in range(d):
            diff = centers_new[j, f] - centers_old[j, f]
            shift += diff * diff
    return shift


@njit(cache=True, nogil=True)
def assign_labels(X, centers, labels, sample_weight, sums, weights, update, with_inertia):
    """Assignment step (and, if ``update``, the sums of the update step).

    Parameters
    ----------
    X : float64 array (n, d), C-contiguous
    centers : float64 array (k, d)
    labels : int32 array (n,), output
    sample_weight : float64 array (n,)
    sums, weights : float64 arrays (k, d) and (k,), output when ``update``
    update : bool
    with_inertia : bool

    Returns
    -------
    inertia : float
        ``sum_i w_i ||x_i - c_{l_i}||^2`` for the new labels and the given centres
        (exact differences), if ``with_inertia``; else 0.
    """
    n, d = X.shape
    k = centers.shape[0]
    c_sq = _row_sq_norms(centers)
    CT = np.ascontiguousarray(centers.T)
    if update:
        sums[:, :] = 0.0
        weights[:] = 0.0
    block = np.empty((CHUNK, k))
    inertia = 0.0
    for start in range(0, n, CHUNK):
        end = min(start + CHUNK, n)
        m = end - start
        if m == CHUNK:
            np.dot(X[start:end], CT, block)
            G = block
        else:
            G = np.dot(X[start:end], CT)
        for i in range(m):
            best = c_sq[0] - 2.0 * G[i, 0]
            lab = 0
            for j in range(1, k):
                v = c_sq[j] - 2.0 * G[i, j]
                if v < best:
                    best = v
                    lab = j
            row = start + i
            labels[row] = lab
            wi = sample_weight[row]
            if with_inertia:
                dist = 0.0
                for f in range(d):
                    diff = X[row, f] - centers[lab, f]
                    dist += diff * diff
                inertia += wi * dist
            if update:
                weights[lab] += wi
                for f in range(d):
                    sums[lab, f] += wi * X[row, f]
    return inertia


@njit(cache=True, nogil=True)
def inertia_of(X, sample_weight, centers, labels):
    """``sum_i w_i ||x_i - c_{l_i}||^2``, with exact differences."""
    n, d = X.shape
    total = 0.0
    for i in range(n):
        lab = labels[i]
        dist = 0.0
        for f in range(d):
            diff = X[i, f] - centers[lab, f]
            dist += diff * diff
        total += sample_weight[i] * dist
    return total


@njit(cache=True, nogil=True)
def _relocate_empty(X, sample_weight, centers_old, sums, weights, labels):
    """Re-seed empty clusters on the points farthest from their (old) centres.

    The farthest point moves (with its weight) from its cluster's sums to the
    empty cluster's. Nothing happens when every point sits on its centre (fewer
    distinct points than clusters): moving one would not help.
    """
    k = weights.shape[0]
    n_empty = 0
    for j in range(k):
        if weights[j] == 0.0:
            n_empty += 1
    if n_empty == 0:
        return
    n, d = X.shape
    dist = np.empty(n)
    dmax = 0.0
    for i in range(n):
        lab = labels[i]
        s = 0.0
        for f in range(d):
            diff = X[i, f] - centers_old[lab, f]
            s += diff * diff
        dist[i] = s
        if s > dmax:
            dmax = s
    if dmax == 0.0:
        return
    far = np.argsort(-dist, kind="mergesort")[:n_empty]
    idx = 0
    for j in range(k):
        if weights[j] != 0.0:
            continue
        p = far[idx]
        idx += 1
        w = sample_weight[p]
        old = labels[p]
        for f in range(d):
            sums[old, f] -= X[p, f] * w
            sums[j, f] = X[p, f] * w
        weights[j] = w
        weights[old] -= w


@njit(cache=True, nogil=True)
def lloyd_iter(X, sample_weight, centers_old, centers_new, weights, labels):
    """One Lloyd iteration; returns the squared Frobenius norm of the centre shift.

    ``centers_new`` receives the weighted means of the clusters given by the new
    ``labels``; an empty cluster (after relocation, only when there are fewer
    distinct points than clusters) is put on the heaviest cluster's centre.
    """
    assign_labels(X, centers_old, labels, sample_weight, centers_new, weights, True, False)
    _relocate_empty(X, sample_weight, centers_old, centers_new, weights, labels)
    _average_centers(centers_new, weights)
    return _center_shift_sq(centers_new, centers_old)


@njit(cache=True, nogil=True)
def kmeans_single_lloyd(X, sample_weight, centers_init, max_iter, tol):
    """A whole run of Lloyd's algorithm from ``centers_init``.

    Stops when the labels no longer change ("strict convergence") or when the
    squared centre shift is at most ``tol``. Without strict convergence the
    labels are recomputed from the final centres, so that they agree with
    ``predict``.

    Returns
    -------
    labels : int32 array (n,)
    inertia : float
    centers : float64 array (k, d)
    n_iter : int
    """
    n = X.shape[0]
    k, d = centers_init.shape
    centers = centers_init.copy()
    centers_new = np.zeros((k, d))
    weights = np.zeros(k)
    labels = np.full(n, -1, dtype=np.int32)
    labels_old = labels.copy()
    strict = False
    it = 0
    for it in range(max_iter):
        shift = lloyd_iter(X, sample_weight, centers, centers_new, weights, labels)
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
        inertia = inertia_of(X, sample_weight, centers, labels)
    else:
        inertia = assign_labels(X, centers, labels, sample_weight, centers_new, weights,
                                False, True)
    return labels, inertia, centers, it + 1


@njit(cache=True, nogil=True)
def is_same_clustering(labels1, labels2, n_clusters):
    """True when the two labelings are equal up to a permutation of the labels."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    for i in range(labels1.shape[0]):
        a = labels1[i]
        if mapping[a] == -1:
            mapping[a] = labels2[i]
        elif mapping[a] != labels2[i]:
            return False
    return True


@njit(cache=True, nogil=True)
def center_rows(X, out):
    """``out = X - mean(X, axis=0)`` in float64; returns ``(mean, ||out_i||^2)``."""
    n, d = X.shape
    mean = np.zeros(d)
    for i in range(n):
        for f in range(d):
            mean[f] += X[i, f]
    for f in range(d):
        mean[f] /= n
    sq = np.empty(n)
    for i in range(n):
        s = 0.0
        for f in range(d):
            v = X[i, f] - mean[f]
            out[i, f] = v
            s += v * v
        sq[i] = s
    return mean, sq


@njit(cache=True, nogil=True)
def kmeans_plusplus_core(X, x_sq_norms, sample_weight, first, uniforms):
    """Greedy k-means++ after the first centre, given the uniform draws.

    ``uniforms[c - 1]`` holds the ``n_local_trials`` uniform numbers used to
    draw the candidates of centre ``c``: candidate ``t`` is the first point
    whose cumulative weighted squared distance ``sum_{l <= i} w_l D(x_l)^2``
    reaches ``uniforms[c - 1, t]`` times the potential (:math:`D^2` sampling).
    Of the candidates, the one giving the lowest potential is kept. Squared
    distances are expanded as ``||x||^2 - 2 x.c + ||c||^2`` (one BLAS product
    per block of rows) and clipped at zero.

    Returns the row indices of the ``1 + len(uniforms)`` centres.
    """
    n, d = X.shape
    n_centers = uniforms.shape[0] + 1
    n_trials = uniforms.shape[1]
    indices = np.empty(n_centers, dtype=np.int64)
    indices[0] = first
    closest = np.empty(n)
    potential = 0.0
    for i in range(n):
        s = 0.0
        for f in range(d):
            diff = X[i, f] - X[first, f]
            s += diff * diff
        closest[i] = s
        potential += sample_weight[i] * s
    cum = np.empty(n)
    cand = np.empty(n_trials, dtype=np.int64)
    CT = np.empty((d, n_trials))
    c_sq = np.empty(n_trials)
    dist = np.empty((n, n_trials))
    pots = np.empty(n_trials)
    block = np.empty((CHUNK, n_trials))
    for c in range(1, n_centers):
        running = 0.0
        for i in range(n):
            running += sample_weight[i] * closest[i]
            cum[i] = running
        for t in range(n_trials):
            p = np.searchsorted(cum, uniforms[c - 1, t] * potential)
            cand[t] = min(p, n - 1)
            c_sq[t] = x_sq_norms[cand[t]]
            for f in range(d):
                CT[f, t] = X[cand[t], f]
            pots[t] = 0.0
        for start in range(0, n, CHUNK):
            end = min(start + CHUNK, n)
            m = end - start
            if m == CHUNK:
                np.dot(X[start:end], CT, block)
                G = block
            else:
                G = np.dot(X[start:end], CT)
            for i in range(m):
                row = start + i
                wi = sample_weight[row]
                ci = closest[row]
                xi = x_sq_norms[row]
                for t in range(n_trials):
                    v = max(xi - 2.0 * G[i, t] + c_sq[t], 0.0)
                    v = min(v, ci)
                    dist[row, t] = v
                    pots[t] += wi * v
        best = 0
        for t in range(1, n_trials):
            if pots[t] < pots[best]:
                best = t
        potential = pots[best]
        for i in range(n):
            closest[i] = dist[i, best]
        indices[c] = cand[best]
    return indices


@njit(cache=True, nogil=True)
def _dist(X, i, centers, j):
    d = X.shape[1]
    s = 0.0
    for f in range(d):
        diff = X[i, f] - centers[j, f]
        s += diff * diff
    return np.sqrt(s)


@njit(cache=True, nogil=True)
def _center_geometry(centers, half, next_half):
    """``half[a, b] = ||c_a - c_b|| / 2`` and ``next_half[a] = min_{b != a} half[a, b]``."""
    k = centers.shape[0]
    for a in range(k):
        half[a, a] = 0.0
        for b in range(a + 1, k):
            h = 0.5 * _dist(centers, a, centers, b)
            half[a, b] = h
            half[b, a] = h
    for a in range(k):
        m = np.inf
        for b in range(k):
            if b != a and half[a, b] < m:
                m = half[a, b]
        next_half[a] = m


@njit(cache=True, nogil=True)
def _elkan_assign(X, centers, half, next_half, labels, upper, lower):
    """Elkan's assignment step: the exact nearest centre of every point, skipping
    every distance that the triangle inequality proves cannot win.

    ``upper[i] >= ||x_i - c_{l_i}||`` and ``lower[i, j] <= ||x_i - c_j||``; a
    centre ``j`` cannot be closer than ``l_i`` if ``upper[i] <= lower[i, j]`` or
    ``upper[i] <= ||c_{l_i} - c_j|| / 2``.
    """
    n = X.shape[0]
    k = centers.shape[0]
    for i in range(n):
        u = upper[i]
        lab = labels[i]
        if next_half[lab] >= u:
            continue  # no centre is within reach
        tight = False
        for j in range(k):
            if j == lab or u <= lower[i, j] or u <= half[lab, j]:
                continue
            if not tight:
                u = _dist(X, i, centers, lab)
                lower[i, lab] = u
                tight = True
                if u <= lower[i, j] or u <= half[lab, j]:
                    continue
            dist = _dist(X, i, centers, j)
            lower[i, j] = dist
            if dist < u:
                lab = j
                u = dist
        labels[i] = lab
        upper[i] = u


@njit(cache=True, nogil=True)
def kmeans_single_elkan(X, sample_weight, centers_init, max_iter, tol):
    """A run of Elkan's accelerated k-means: the same iterations, stopping rule and
    outputs as :func:`kmeans_single_lloyd`, with most distances pruned by bounds
    (memory: one lower bound per point and centre)."""
    n, d = X.shape
    k = centers_init.shape[0]
    centers = centers_init.copy()
    centers_new = np.zeros((k, d))
    weights = np.zeros(k)
    half = np.zeros((k, k))
    next_half = np.zeros(k)
    _center_geometry(centers, half, next_half)
    labels = np.zeros(n, dtype=np.int32)
    upper = np.empty(n)
    lower = np.empty((n, k))
    # initial bounds: every distance, exactly (skipping those proven useless)
    for i in range(n):
        best = _dist(X, i, centers, 0)
        lower[i, 0] = best
        lab = 0
        for j in range(1, k):
            if best > half[lab, j]:
                dist = _dist(X, i, centers, j)
                lower[i, j] = dist
                if dist < best:
                    best = dist
                    lab = j
            else:
                lower[i, j] = 0.0
        labels[i] = lab
        upper[i] = best
    labels_old = labels.copy()
    shift_c = np.empty(k)
    strict = False
    it = 0
    for it in range(max_iter):
        # update step from the current labels (the first one from the bounds' init)
        if it > 0:
            _elkan_assign(X, centers, half, next_half, labels, upper, lower)
        weights[:] = 0.0
        centers_new[:, :] = 0.0
        for i in range(n):
            lab = labels[i]
            wi = sample_weight[i]
            weights[lab] += wi
            for f in range(d):
                centers_new[lab, f] += wi * X[i, f]
        _relocate_empty(X, sample_weight, centers, centers_new, weights, labels)
        _average_centers(centers_new, weights)
        shift = 0.0
        for j in range(k):
            shift_c[j] = _dist(centers_new, j, centers, j)
            shift += shift_c[j] * shift_c[j]
        # the bounds follow the centres
        for i in range(n):
            upper[i] += shift_c[labels[i]]
            for j in range(k):
                v = lower[i, j] - shift_c[j]
                lower[i, j] = v if v > 0.0 else 0.0
        centers, centers_new = centers_new, centers
        _center_geometry(centers, half, next_half)
        if it > 0:
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
    if not strict:
        _elkan_assign(X, centers, half, next_half, labels, upper, lower)
    inertia = inertia_of(X, sample_weight, centers, labels)
    return labels, inertia, centers, it + 1
