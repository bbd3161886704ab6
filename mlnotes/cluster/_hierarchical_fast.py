"""Compiled merge loops of agglomerative clustering (chapter 19 of the notes).

- :func:`condensed_sqeuclidean` / :func:`condensed_cityblock`: the condensed
  distance matrix (``n (n - 1) / 2`` entries, row ``i`` holding the distances to
  ``i + 1, ..., n - 1``), vectorised over the columns.
- :func:`square_distances`: the same as a full symmetric matrix.
- :func:`nn_chain_square` / :func:`nn_chain`: the nearest-neighbour-chain
  algorithm on a full (faster: rows are contiguous) or condensed (half the
  memory) matrix, updated in place with the Lance-Williams formulas (ward,
  complete, average; single works too). Every reducible linkage merges the same
  pairs as the naive "merge the closest pair" loop, in ``O(n^2)`` time instead
  of ``O(n^3)``.
- :func:`prim_mst`: Prim's minimum spanning tree for single linkage, computing
  distances on the fly (``O(n)`` memory) or reading a condensed matrix.
- :func:`sort_and_label`, :func:`label_mst`: turn the merges into scipy's /
  scikit-learn's linkage format (cluster ``n + i`` is the one made at step ``i``).
- :func:`cut_labels`: leaf labels from the roots of a cut of the tree.
"""

import numpy as np
from numba import njit

WARD, COMPLETE, AVERAGE, SINGLE = 0, 1, 2, 3
SQEUCLIDEAN, CITYBLOCK, CONDENSED = 0, 1, 2


@njit(cache=True, nogil=True)
def _row_start(n, i):
    """Offset in the condensed matrix of the entry (i, i + 1)."""
    return n * i - (i * (i + 1)) // 2


@njit(cache=True, nogil=True)
def _index(n, i, j):
    if i > j:
        i, j = j, i
    return n * i - (i * (i + 1)) // 2 + j - i - 1


@njit(cache=True, nogil=True)
def condensed_sqeuclidean(X):
    """Squared Euclidean distances, condensed; exact differences, no cancellation."""
    n, d = X.shape
    XT = np.ascontiguousarray(X.T)
    D = np.zeros(n * (n - 1) // 2)
    for i in range(n - 1):
        start = _row_start(n, i)
        m = n - i - 1
        for f in range(d):
            xi = XT[f, i]
            row = XT[f, i + 1:]
            for t in range(m):
                diff = row[t] - xi
                D[start + t] += diff * diff
    return D


@njit(cache=True, nogil=True)
def condensed_cityblock(X):
    """Manhattan (L1) distances, condensed."""
    n, d = X.shape
    XT = np.ascontiguousarray(X.T)
    D = np.zeros(n * (n - 1) // 2)
    for i in range(n - 1):
        start = _row_start(n, i)
        m = n - i - 1
        for f in range(d):
            xi = XT[f, i]
            row = XT[f, i + 1:]
            for t in range(m):
                D[start + t] += abs(row[t] - xi)
    return D


@njit(cache=True, nogil=True)
def square_distances(X, metric):
    """Full symmetric ``(n, n)`` matrix of squared Euclidean (``SQEUCLIDEAN``) or
    Manhattan (``CITYBLOCK``) distances, row by row (contiguous, vectorised)."""
    n, d = X.shape
    XT = np.ascontiguousarray(X.T)
    D = np.zeros((n, n))
    for i in range(n):
        r = D[i]
        for f in range(d):
            xi = XT[f, i]
            xf = XT[f]
            if metric == SQEUCLIDEAN:
                for j in range(n):
                    diff = xf[j] - xi
                    r[j] += diff * diff
            else:
                for j in range(n):
                    r[j] += abs(xf[j] - xi)
    return D


@njit(cache=True, nogil=True)
def _lance_williams(method, d_xi, d_yi, d_xy, nx, ny, ni):
    """Distance from the merge of x and y to cluster i.

    For ward the distances are *squared* Ward distances, for which the update is
    linear: ``((ni + nx) d_xi + (ni + ny) d_yi - ni d_xy) / (nx + ny + ni)``.
    """
    if method == WARD:
        return ((ni + nx) * d_xi + (ni + ny) * d_yi - ni * d_xy) / (nx + ny + ni)
    if method == COMPLETE:
        return max(d_xi, d_yi)
    if method == AVERAGE:
        return (nx * d_xi + ny * d_yi) / (nx + ny)
    return min(d_xi, d_yi)


@njit(cache=True, nogil=True)
def nn_chain(D, n, method):
    """Nearest-neighbour chain on the condensed matrix ``D`` (overwritten).

    Returns ``Z`` (n - 1, 4) of ``(x, y, distance, size)`` rows in merge order
    (not sorted), ``x < y`` being *slots*: the merged cluster takes slot ``y``.
    Ties are broken towards the previous element of the chain, then the lowest
    index, as in scipy.
    """
    Z = np.empty((n - 1, 4))
    size = np.ones(n, dtype=np.int64)
    active = np.arange(n)  # active slots, increasing
    n_active = n
    chain = np.empty(n, dtype=np.int64)
    chain_len = 0
    for k in range(n - 1):
        if chain_len == 0:
            chain[0] = active[0]
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            if chain_len > 1:
                y = chain[chain_len - 2]
                current = D[_index(n, x, y)]
            else:
                y = -1
                current = np.inf
            base_x = _row_start(n, x) - x - 1
            for a in range(n_active):
                i = active[a]
                if i < x:
                    dist = D[_row_start(n, i) + x - i - 1]
                elif i > x:
                    dist = D[base_x + i]
                else:
                    continue
                if dist < current:
                    current = dist
                    y = i
            if chain_len > 1 and y == chain[chain_len - 2]:
                break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        if x > y:
            x, y = y, x
        nx = size[x]
        ny = size[y]
        Z[k, 0] = x
        Z[k, 1] = y
        Z[k, 2] = current
        Z[k, 3] = nx + ny
        size[x] = 0
        size[y] = nx + ny
        # drop slot x from the active list (kept sorted)
        pos = 0
        while active[pos] != x:
            pos += 1
        for a in range(pos, n_active - 1):
            active[a] = active[a + 1]
        n_active -= 1
        # Lance-Williams update of the distances to the merged cluster (slot y)
        for a in range(n_active):
            i = active[a]
            if i == y:
                continue
            ixy = _index(n, i, y)
            D[ixy] = _lance_williams(method, D[_index(n, i, x)], D[ixy], current,
                                     nx, ny, size[i])
    return Z


@njit(cache=True, nogil=True)
def nn_chain_square(D, method):
    """:func:`nn_chain` on a full symmetric ``(n, n)`` matrix (overwritten).

    Twice the memory of the condensed form, but the nearest-neighbour searches
    read one contiguous row instead of a column of the condensed triangle.
    """
    n = D.shape[0]
    Z = np.empty((n - 1, 4))
    size = np.ones(n, dtype=np.int64)
    active = np.arange(n)
    n_active = n
    chain = np.empty(n, dtype=np.int64)
    chain_len = 0
    for k in range(n - 1):
        if chain_len == 0:
            chain[0] = active[0]
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            if chain_len > 1:
                y = chain[chain_len - 2]
                current = D[x, y]
            else:
                y = -1
                current = np.inf
            row = D[x]
            for a in range(n_active):
                i = active[a]
                if i == x:
                    continue
                dist = row[i]
                if dist < current:
                    current = dist
                    y = i
            if chain_len > 1 and y == chain[chain_len - 2]:
                break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        if x > y:
            x, y = y, x
        nx = size[x]
        ny = size[y]
        Z[k, 0] = x
        Z[k, 1] = y
        Z[k, 2] = current
        Z[k, 3] = nx + ny
        size[x] = 0
        size[y] = nx + ny
        pos = 0
        while active[pos] != x:
            pos += 1
        for a in range(pos, n_active - 1):
            active[a] = active[a + 1]
        n_active -= 1
        rx = D[x]
        ry = D[y]
        for a in range(n_active):
            i = active[a]
            if i == y:
                continue
            v = _lance_williams(method, rx[i], ry[i], current, nx, ny, size[i])
            ry[i] = v
            D[i, y] = v
    return Z


@njit(cache=True, nogil=True)
def _find(parent, x):
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:  # path compression
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@njit(cache=True, nogil=True)
def sort_and_label(Z, n):
    """Stable-sort merges by distance, then name clusters as scipy's ``label``.

    Slot numbers become cluster ids: the cluster made at (sorted) step ``i`` is
    ``n + i``; each row lists the smaller id first.
    """
    order = np.argsort(Z[:, 2], kind="mergesort")
    Z = Z[order]
    parent = np.arange(2 * n - 1)
    for i in range(n - 1):
        a = _find(parent, int(Z[i, 0]))
        b = _find(parent, int(Z[i, 1]))
        if a < b:
            Z[i, 0], Z[i, 1] = a, b
        else:
            Z[i, 0], Z[i, 1] = b, a
        parent[a] = n + i
        parent[b] = n + i
    return Z


@njit(cache=True, nogil=True)
def prim_mst(X, D, n, metric):
    """Prim's minimum spanning tree, grown from point 0.

    ``metric``: ``SQEUCLIDEAN`` or ``CITYBLOCK`` compute distances from ``X`` on
    the fly; ``CONDENSED`` reads the condensed matrix ``D``. Row ``i`` of the
    result is ``(last added node, new node, distance)``: as in scikit-learn's
    ``mst_linkage_core`` the first column is the node added just before, which
    (after a stable sort by distance) yields the same single-linkage clusters
    as the true tree edge.
    """
    d = X.shape[1]
    out = np.empty((n - 1, 3))
    in_tree = np.zeros(n, dtype=np.bool_)
    best = np.full(n, np.inf)
    current = 0
    for step in range(n - 1):
        in_tree[current] = True
        new_dist = np.inf
        new_node = 0
        for j in range(n):
            if in_tree[j]:
                continue
            if metric == SQEUCLIDEAN:
                s = 0.0
                for f in range(d):
                    diff = X[current, f] - X[j, f]
                    s += diff * diff
            elif metric == CITYBLOCK:
                s = 0.0
                for f in range(d):
                    s += abs(X[current, f] - X[j, f])
            else:
                s = D[_index(n, current, j)]
            if s < best[j]:
                best[j] = s
            if best[j] < new_dist:
                new_dist = best[j]
                new_node = j
        out[step, 0] = current
        out[step, 1] = new_node
        out[step, 2] = new_dist
        current = new_node
    return out


@njit(cache=True, nogil=True)
def label_mst(mst, n):
    """Single-linkage tree from MST edges sorted by distance (union-find).

    Each row is ``(cluster of one end, cluster of the other end, distance,
    size)``, in scikit-learn's order (no swap).
    """
    Z = np.empty((n - 1, 4))
    parent = np.arange(2 * n - 1)
    size = np.zeros(2 * n - 1, dtype=np.int64)
    size[:n] = 1
    for i in range(n - 1):
        a = _find(parent, int(mst[i, 0]))
        b = _find(parent, int(mst[i, 1]))
        Z[i, 0] = a
        Z[i, 1] = b
        Z[i, 2] = mst[i, 2]
        size[n + i] = size[a] + size[b]
        Z[i, 3] = size[n + i]
        parent[a] = n + i
        parent[b] = n + i
    return Z


@njit(cache=True, nogil=True)
def cut_labels(children, n_leaves, roots):
    """Label ``l`` for every leaf below ``roots[l]`` (nodes of the tree)."""
    n_nodes = n_leaves + children.shape[0]
    label = np.full(n_nodes, -1, dtype=np.int64)
    for l in range(roots.shape[0]):
        label[roots[l]] = l
    for node in range(n_nodes - 1, n_leaves - 1, -1):
        lab = label[node]
        if lab >= 0:
            label[children[node - n_leaves, 0]] = lab
            label[children[node - n_leaves, 1]] = lab
    return label[:n_leaves]
