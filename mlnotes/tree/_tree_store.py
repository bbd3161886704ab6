"""The growing tree's node tables and the best-first frontier's heap (chapter 13).

The builder's counterpart of scikit-learn's ``Tree`` structure while it grows: the
nodes live in an integer table and a float table, one row per node, whose columns
are named below, and a value table of shape (capacity, n_outputs, max_n_classes);
:class:`NodeTables` holds the three. The tables double in size when full.
:class:`~mlnotes.tree._tree.Tree` receives them, cut to the node count, after the
fit.
"""

from collections import namedtuple

import numpy as np
from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path

from ._mae import mae_reset
from ._utils import TREE_LEAF, TREE_UNDEFINED

# Columns of the integer table (``NodeTables.ints``) ...
NODE_LEFT, NODE_RIGHT, NODE_FEATURE, NODE_N_SAMPLES = 0, 1, 2, 3
N_NODE_INTS = 4
# ... and of the float table (``NodeTables.floats``); ``NODE_MISSING_LEFT`` is 1.0
# where the node sends missing values to its left child.
NODE_THRESHOLD, NODE_IMPURITY, NODE_WEIGHT, NODE_MISSING_LEFT = 0, 1, 2, 3
N_NODE_FLOATS = 4

#: The node tables of a growing tree (see the module's docstring).
NodeTables = namedtuple("NodeTables", ["ints", "floats", "values"])


@njit(cache=True, nogil=True)
def new_tables(capacity, n_outputs, max_n_classes):
    """Empty :class:`NodeTables` with room for ``capacity`` nodes."""
    return NodeTables(np.zeros((capacity, N_NODE_INTS), dtype=np.int64),
                      np.zeros((capacity, N_NODE_FLOATS), dtype=np.float64),
                      np.zeros((capacity, n_outputs, max_n_classes), dtype=np.float64))


@njit(cache=True, nogil=True)
def reserve(tables, node_count):
    """``tables`` if they have room for node ``node_count``, else a copy twice as
    large."""
    capacity = tables.ints.shape[0]
    if node_count < capacity:
        return tables
    ints, floats, values = _grow_store(tables.ints, tables.floats, tables.values,
                                       2 * capacity)
    return NodeTables(ints, floats, values)


@njit(cache=True, nogil=True)
def cut(tables, node_count):
    """Copies of the first ``node_count`` rows of each table."""
    return (tables.ints[:node_count].copy(), tables.floats[:node_count].copy(),
            tables.values[:node_count].copy())


@njit(cache=True, nogil=True)
def _grow_store(ints, floats, values, capacity):
    """The tables copied into new ones of ``capacity`` rows."""
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
    """Write node ``node_count`` and link it to its parent; returns the new count."""
    node = node_count
    floats[node, NODE_IMPURITY] = impurity
    ints[node, NODE_N_SAMPLES] = n_node_samples
    floats[node, NODE_WEIGHT] = weighted_n_node_samples
    if parent != TREE_UNDEFINED:
        if is_left:
            ints[parent, NODE_LEFT] = node
        else:
            ints[parent, NODE_RIGHT] = node
    if is_leaf:
        ints[node, NODE_LEFT] = TREE_LEAF
        ints[node, NODE_RIGHT] = TREE_LEAF
        ints[node, NODE_FEATURE] = TREE_UNDEFINED
        floats[node, NODE_THRESHOLD] = TREE_UNDEFINED
        floats[node, NODE_MISSING_LEFT] = 0.0
    else:
        ints[node, NODE_FEATURE] = feature
        floats[node, NODE_THRESHOLD] = threshold
        floats[node, NODE_MISSING_LEFT] = 1.0 if missing_left else 0.0
    return node + 1


@njit(cache=True, nogil=True, _nrt=False)
def _store_value(is_clf, values, node, n_outputs, n_classes, sum_total, wnode, with_mono,
                 lower, upper):
    """Node value: class frequencies or target means, clipped to ``[lower, upper]``
    under monotonic constraints."""
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


@njit(cache=True, nogil=True, _nrt=False)
def _make_leaf(ints, floats, node):
    """Turn the (childless) node ``node`` into a leaf: the best-first builder records
    a node's split before it knows whether it will expand it."""
    ints[node, NODE_LEFT] = TREE_LEAF
    ints[node, NODE_RIGHT] = TREE_LEAF
    ints[node, NODE_FEATURE] = TREE_UNDEFINED
    floats[node, NODE_THRESHOLD] = TREE_UNDEFINED


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
