"""Traversals of fitted trees (chapter 13 of the notes): decision paths, and the
packed preorder layout that forests predict with.

A forest's trees are renumbered in depth-first preorder and packed into 16-byte
records (:data:`NODE_DTYPE`: threshold, right child, feature), so that going left
is moving to the next record, which is usually in the same cache line. Rows with
missing values take the variants of :mod:`mlnotes.tree._missing`.
"""

import numpy as np
from numba import njit

from ._utils import TREE_LEAF


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
