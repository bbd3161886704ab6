"""Minimal cost-complexity pruning of a grown tree (chapter 13 of the notes).

For a subtree :math:`T_t` rooted at node :math:`t`, with :math:`R` the weighted
impurity (the node's impurity times its share of the training weight), the
effective alpha of :math:`t` is

.. math::

    \\alpha_{\\text{eff}}(t) = \\frac{R(t) - R(T_t)}{|\\text{leaves}(T_t)| - 1},

and pruning collapses the node of smallest effective alpha while it does not exceed
``ccp_alpha`` (Breiman et al. 1984, ch. 3), as scikit-learn's ``_prune_tree`` does.
"""

import numpy as np
from numba import njit

from ._utils import _MAX_FLOAT64, TREE_LEAF, TREE_UNDEFINED


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


