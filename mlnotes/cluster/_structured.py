r"""Structured (connectivity-constrained) agglomerative clustering (chapter 19).

With a connectivity graph only clusters joined by an edge may merge. The
candidate merges sit in a binary heap keyed by their linkage distance; after a
merge the edges of the two children are redirected to the new cluster and
their distances updated (ward: from the clusters' sizes and sums; complete:
the larger of the two; average: the size-weighted mean). Single linkage is the
minimum spanning tree of the graph weighted by the distances. The heap is
driven in the order scikit-learn uses, so trees (ties included) come out the
same.
"""

import heapq
import warnings

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from sklearn.metrics import pairwise_distances
from sklearn.metrics.pairwise import paired_distances

from ._hierarchical_fast import label_mst


def _link_components(X, graph, labels, n_components, metric):
    """Join every pair of components by an edge between their two closest points.

    ``graph`` is a LIL array, changed in place and returned.
    """
    members = [np.flatnonzero(labels == c) for c in range(n_components)]
    for a in range(n_components):
        for b in range(a):
            ia, ib = members[a], members[b]
            if metric == "precomputed":
                D = X[np.ix_(ia, ib)]
            else:
                D = pairwise_distances(X[ia], X[ib], metric=metric)
            r, c = np.unravel_index(np.argmin(D), D.shape)
            graph[ia[r], ib[c]] = 1
            graph[ib[c], ia[r]] = 1
    return graph


def fix_connectivity(X, connectivity, metric):
    """Symmetric LIL copy of ``connectivity``, completed when it is disconnected.

    Returns ``(graph, n_connected_components)``; several components raise a
    ``UserWarning`` (as scikit-learn) and are linked by their closest points.
    """
    n = X.shape[0]
    if connectivity.shape[0] != n or connectivity.shape[1] != n:
        raise ValueError(
            f"Wrong shape for connectivity matrix: {connectivity.shape} when X is "
            f"{X.shape}"
        )
    graph = connectivity + connectivity.T
    graph = sparse.lil_array(graph) if not sparse.issparse(graph) else graph.tolil()
    n_components, labels = connected_components(graph)
    if n_components > 1:
        warnings.warn(
            f"the number of connected components of the connectivity matrix is "
            f"{n_components} > 1. Completing it to avoid stopping the tree early.",
            stacklevel=3,
        )
        graph = _link_components(X, graph, labels, n_components, metric)
    return graph, n_components


def _n_nodes(n_samples, n_clusters):
    if n_clusters is None:
        return 2 * n_samples - 1
    if n_clusters > n_samples:
        raise ValueError(
            f"Cannot provide more clusters than samples. {n_clusters} n_clusters was "
            f"asked, and there are {n_samples} samples."
        )
    return 2 * n_samples - n_clusters


def _heads(parent, nodes, not_visited):
    """Current roots of ``nodes`` (each once; ``not_visited`` marks the new ones)."""
    out = []
    for node in nodes:
        while parent[node] != node:
            node = parent[node]
        if not_visited[node]:
            not_visited[node] = False
            out.append(node)
    return out


def _ward_cost(size, total, rows, cols):
    """Ward merge cost :math:`n_a n_b/(n_a+n_b) \\|\\mu_a-\\mu_b\\|^2` per pair."""
    na, nb = size[rows], size[cols]
    diff = total[rows] / na[:, None] - total[cols] / nb[:, None]
    return na * nb / (na + nb) * np.einsum("ij,ij->i", diff, diff)


def structured_ward(X, graph, n_clusters):
    """Ward tree under a (fixed, symmetric LIL) connectivity graph.

    Returns ``(children, parent, distances)``; ``distances`` are
    :math:`\\sqrt{2\\,\\text{cost}}`, the Euclidean ward distance.
    """
    n, d = X.shape
    n_nodes = _n_nodes(n, n_clusters)
    neighbours = [list(row) for row in graph.rows]
    rows = np.array([i for i, row in enumerate(neighbours) for j in row if j < i],
                    dtype=np.intp)
    cols = np.array([j for i, row in enumerate(neighbours) for j in row if j < i],
                    dtype=np.intp)
    size = np.zeros(n_nodes)
    size[:n] = 1.0
    total = np.zeros((n_nodes, d))
    total[:n] = X
    cost = _ward_cost(size, total, rows, cols) if rows.size else np.empty(0)
    heap = list(zip(cost.tolist(), rows.tolist(), cols.tolist()))
    heapq.heapify(heap)
    parent = np.arange(n_nodes, dtype=np.intp)
    alive = np.ones(n_nodes, dtype=bool)
    not_visited = np.empty(n_nodes, dtype=bool)
    children = []
    heights = np.empty(n_nodes - n)
    for k in range(n, n_nodes):
        while True:
            c, i, j = heapq.heappop(heap)
            if alive[i] and alive[j]:
                break
        parent[i] = parent[j] = k
        children.append((j, i))
        alive[i] = alive[j] = False
        heights[k - n] = c
        size[k] = size[i] + size[j]
        total[k] = total[i] + total[j]
        not_visited.fill(True)
        not_visited[k] = False
        new = _heads(parent, neighbours[i], not_visited)
        new += _heads(parent, neighbours[j], not_visited)
        for col in new:
            neighbours[col].append(k)
        neighbours.append(new)
        if new:
            cols_k = np.array(new, dtype=np.intp)
            costs = _ward_cost(size, total, np.full(cols_k.size, k), cols_k)
            for c_new, col in zip(costs.tolist(), new):
                heapq.heappush(heap, (c_new, k, col))
    distances = np.sqrt(2.0 * heights)
    return np.array(children, dtype=np.intp).reshape(-1, 2), parent, distances


class _Edge:
    """Heap entry ordered by its weight only (ties keep the heap's order)."""

    __slots__ = ("weight", "a", "b")

    def __init__(self, weight, a, b):
        self.weight, self.a, self.b = weight, a, b

    def __lt__(self, other):
        return self.weight < other.weight


def _edge_distances(X, graph, metric):
    """COO graph (diagonal removed) whose data are the distances of its edges."""
    coo = graph.tocoo()
    keep = coo.row != coo.col
    row, col = coo.row[keep], coo.col[keep]
    if metric == "precomputed":
        data = np.asarray(X[row, col], dtype=np.float64)
    else:
        data = paired_distances(X[row], X[col], metric=metric)
    return sparse.coo_array((data, (row, col)), shape=graph.shape)


def structured_linkage(X, graph, n_clusters, linkage, metric):
    """Complete, average or single linkage tree under a connectivity graph.

    Returns ``(children, parent, distances)``.
    """
    n = X.shape[0]
    n_nodes = _n_nodes(n, n_clusters)
    weighted = _edge_distances(X, graph, metric)
    if linkage == "single":
        return _single(weighted, n, n_nodes, n_clusters)
    lil = weighted.tolil()
    links = [None] * n_nodes  # node -> {neighbour: linkage distance}, keys sorted
    heap = []
    for i, (data, row) in enumerate(zip(lil.data, lil.rows)):
        links[i] = dict(zip(row, data))
        heap.extend(_Edge(w, i, j) for j, w in zip(row, data) if j < i)
    heapq.heapify(heap)
    parent = np.arange(n_nodes, dtype=np.intp)
    size = np.ones(n_nodes, dtype=np.intp)
    alive = np.ones(n_nodes, dtype=bool)
    children = []
    distances = np.empty(n_nodes - n)
    average = linkage == "average"
    for k in range(n, n_nodes):
        while True:
            edge = heapq.heappop(heap)
            if alive[edge.a] and alive[edge.b]:
                break
        i, j = edge.a, edge.b
        distances[k - n] = edge.weight
        parent[i] = parent[j] = k
        children.append((j, i))
        n_i, n_j = size[i], size[j]
        size[k] = n_i + n_j
        alive[i] = alive[j] = False
        merged = {c: w for c, w in links[i].items() if alive[c]}
        for c, w in links[j].items():
            if not alive[c]:
                continue
            if c in merged:
                merged[c] = ((n_i * merged[c] + n_j * w) / (n_i + n_j) if average
                             else max(merged[c], w))
            else:
                merged[c] = w
        merged = dict(sorted(merged.items()))
        for c, w in merged.items():
            links[c][k] = w
            heapq.heappush(heap, _Edge(w, k, c))
        links[k] = merged
        links[i] = links[j] = None
    return np.array(children, dtype=np.intp).reshape(-1, 2), parent, distances


def _single(weighted, n, n_nodes, n_clusters):
    """Single linkage: minimum spanning tree of the weighted graph, then labels."""
    weighted = weighted.tocsr().astype(np.float64)
    eps = np.finfo(np.float64).eps
    weighted.data[weighted.data == 0] = eps  # a zero weight would be no edge
    mst = minimum_spanning_tree(weighted).tocoo()
    mst.data[mst.data == eps] = 0.0
    edges = np.column_stack([mst.row, mst.col, mst.data]).astype(np.float64)
    edges = edges[np.argsort(edges[:, 2], kind="mergesort")]
    Z = label_mst(np.ascontiguousarray(edges), n)
    children = Z[:, :2].astype(np.intp)
    parent = np.arange(n_nodes, dtype=np.intp)
    for k, (a, b) in enumerate(children, n):
        if n_clusters is not None and k >= n_nodes:
            break
        if a < n_nodes:
            parent[a] = k
        if b < n_nodes:
            parent[b] = k
    return children, parent, Z[:, 2].copy()


def labels_from_parents(parent, n_samples):
    """Cluster of every sample from a partial tree: its root, renumbered 0..K-1."""
    roots = parent.copy()
    while True:
        nxt = roots[roots]
        if np.array_equal(nxt, roots):
            break
        roots = nxt
    heads = roots[:n_samples]
    return np.searchsorted(np.unique(heads), heads).astype(np.intp)
