"""The tree builders: depth first and best first (chapter 13 of the notes).

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

The tree module is laid out as scikit-learn's: :mod:`~mlnotes.tree._criterion`
(impurities and their running sums), :mod:`~mlnotes.tree._splitter` (the split
search; :mod:`~mlnotes.tree._sort`, :mod:`~mlnotes.tree._missing` and
:mod:`~mlnotes.tree._mae` hold its sorting, missing-value and absolute-error
pieces), :mod:`~mlnotes.tree._tree_store` (the node tables and the heap), this
module (the builders), :mod:`~mlnotes.tree._prune` (cost-complexity pruning),
:mod:`~mlnotes.tree._predict` (traversals and the packed layout of forests) and
:mod:`~mlnotes.tree._utils` (constants and the random generator).

Everything runs without the GIL (``nogil=True``), so that the trees of a forest
are grown in parallel threads. The kernels that only read and write arrays they are
given are compiled without numba's reference counting (``_nrt=False``): the atomic
increments and decrements on every array argument of every call otherwise took
about a third of the time spent on small nodes.
"""


import numpy as np
from mlnotes._fastpaths import njit  # numba.njit; _nrt=False is a fast path

from ._criterion import _node_impurity, _node_sums
from ._mae import RIGHT_ABS, mae_reset
from ._splitter import (
    NodeRecord,
    NodeSums,
    SplitParams,
    SplitRecord,
    TrainingSet,
    Workspace,
    _split_node,
)
from ._tree_store import (
    NODE_FEATURE,
    _add_node,
    _heap_pop,
    _heap_push,
    _make_leaf,
    _store_median,
    _store_value,
    cut,
    new_tables,
    reserve,
)
from ._utils import _EPSILON, _INF, ABSOLUTE_ERROR, TREE_UNDEFINED

# Columns of the depth-first stack: a :class:`~mlnotes.tree._splitter.NodeRecord` per
# row, its integer fields in ``st_int`` ...
_ST_START, _ST_END, _ST_DEPTH, _ST_PARENT, _ST_IS_LEFT, _ST_N_CONSTANT = 0, 1, 2, 3, 4, 5
_N_ST_INTS = 6
# ... and its float fields in ``st_flt``.
_ST_IMPURITY, _ST_LOWER, _ST_UPPER = 0, 1, 2
_N_ST_FLOATS = 3

# Columns of the best-first frontier: a grown node waiting to be expanded, its
# integer fields in ``fr_int`` (``_FR_POS``: where its split cuts its samples;
# ``_FR_IS_LEAF``: 1 when it has no valid split) ...
_FR_NODE, _FR_START, _FR_END, _FR_POS, _FR_DEPTH, _FR_IS_LEAF = 0, 1, 2, 3, 4, 5
_N_FR_INTS = 6
# ... and its float fields in ``fr_flt``; the heap is ordered on ``fr_key``, the
# improvement (0 for a leaf).
(_FR_IMPURITY, _FR_IMP_LEFT, _FR_IMP_RIGHT, _FR_IMPROVEMENT, _FR_LOWER, _FR_UPPER,
 _FR_MIDDLE) = 0, 1, 2, 3, 4, 5, 6
_N_FR_FLOATS = 7


def build_tree(X, y, w, n_classes, is_clf, criterion, splitter, max_features,
               min_samples_split, min_samples_leaf, min_weight_leaf, max_depth,
               max_leaf_nodes, min_impurity_decrease, mono, seed, missing_mask):
    """Grow a tree on ``X`` (float32, Fortran order) and ``y`` (float64, class
    indices for classification) with sample weights ``w``.

    ``max_leaf_nodes < 0`` grows depth first, otherwise best first. ``mono`` is
    an int8 array of monotonicity constraints (length 0 for none); ``seed`` the
    initial state of the xorshift generator; ``missing_mask`` a uint8 array
    flagging the features with missing values (NaN) in ``X`` (length 0: none).

    Each growth order is its own compiled entry point (:func:`_grow_depth_first`,
    :func:`_grow_best_first`), chosen here in Python, so that a fit compiles only
    the builder it runs: with one entry point calling both, the first fit of a
    default tree compiled the best-first builder too (about a fifth of the
    174 s an empty numba cache cost the first ``DecisionTreeClassifier`` fit).

    Returns ``(ints, floats, values, max_depth_seen)``: the node tables of
    :mod:`~mlnotes.tree._tree_store` (columns ``NODE_LEFT``, ``NODE_RIGHT``,
    ``NODE_FEATURE``, ``NODE_N_SAMPLES`` of ``ints``; ``NODE_THRESHOLD``,
    ``NODE_IMPURITY``, ``NODE_WEIGHT``, ``NODE_MISSING_LEFT`` of ``floats``) and
    the node values, cut to the number of nodes.
    """
    grow = _grow_depth_first if max_leaf_nodes < 0 else _grow_best_first
    return grow(X, y, w, n_classes, is_clf, criterion, splitter, max_features,
                min_samples_split, min_samples_leaf, min_weight_leaf, max_depth,
                max_leaf_nodes, min_impurity_decrease, mono, seed, missing_mask)


@njit(cache=True, nogil=True)
def _grow_depth_first(X, y, w, n_classes, is_clf, criterion, splitter,
                      max_features, min_samples_split, min_samples_leaf,
                      min_weight_leaf, max_depth, max_leaf_nodes,
                      min_impurity_decrease, mono, seed, missing_mask):
    """:func:`build_tree` for ``max_leaf_nodes < 0`` (compiled entry point)."""
    data, params, work, tables, n_samples = _prepare(
        X, y, w, n_classes, is_clf, criterion, splitter, max_features,
        min_samples_split, min_samples_leaf, min_weight_leaf, max_depth,
        min_impurity_decrease, mono, seed, missing_mask)
    tables, node_count, max_depth_seen = _build_depth_first(
        data, params, work, tables, n_samples)
    ints, floats, values = cut(tables, node_count)
    return ints, floats, values, max_depth_seen


@njit(cache=True, nogil=True)
def _grow_best_first(X, y, w, n_classes, is_clf, criterion, splitter,
                     max_features, min_samples_split, min_samples_leaf,
                     min_weight_leaf, max_depth, max_leaf_nodes,
                     min_impurity_decrease, mono, seed, missing_mask):
    """:func:`build_tree` for ``max_leaf_nodes >= 0`` (compiled entry point)."""
    data, params, work, tables, n_samples = _prepare(
        X, y, w, n_classes, is_clf, criterion, splitter, max_features,
        min_samples_split, min_samples_leaf, min_weight_leaf, max_depth,
        min_impurity_decrease, mono, seed, missing_mask)
    tables, node_count, max_depth_seen = _build_best_first(
        data, params, work, tables, n_samples, max_leaf_nodes)
    ints, floats, values = cut(tables, node_count)
    return ints, floats, values, max_depth_seen


@njit(cache=True, nogil=True)
def _prepare(X, y, w, n_classes, is_clf, criterion, splitter, max_features,
             min_samples_split, min_samples_leaf, min_weight_leaf, max_depth,
             min_impurity_decrease, mono, seed, missing_mask):
    """The named state of a tree's growth (see :func:`build_tree`): the training set,
    the split parameters, the workspace, empty node tables and the number of
    samples with a positive weight."""
    n_total, n_features = X.shape
    n_outputs = y.shape[1]
    max_n_classes = 1
    for k in range(n_outputs):
        if n_classes[k] > max_n_classes:
            max_n_classes = n_classes[k]

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

    # integral weights (unweighted, bootstrap counts): exact O(1) Gini updates
    integral = wtotal < 67108864.0
    for i in range(n_total):
        if w[i] != np.floor(w[i]):
            integral = False
            break

    data = TrainingSet(X, y, yc, np.ascontiguousarray(y[:, 0]),
                       np.ascontiguousarray(yc[:, 0]), w, mono, missing_mask)
    params = SplitParams(splitter, criterion, is_clf, max_features, min_samples_split,
                         min_samples_leaf, min_weight_leaf, max_depth,
                         min_impurity_decrease, n_outputs, n_classes, wtotal,
                         mono.shape[0] > 0, integral)
    rng = np.empty(1, dtype=np.int64)
    rng[0] = seed
    mae = criterion == ABSOLUTE_ERROR
    work = Workspace(
        samples,
        np.arange(n_features).astype(np.int64),  # features
        np.zeros(n_features, dtype=np.int64),  # constant_features
        rng,
        np.zeros((n_outputs, max_n_classes), dtype=np.float64),  # sum_total
        np.zeros((n_outputs, max_n_classes), dtype=np.float64),  # sum_left
        np.zeros((n_outputs, max_n_classes), dtype=np.float64),  # sum_right
        np.empty(n_total, dtype=np.float32),  # fv
        np.empty((160, 3), dtype=np.int64),  # sort_stack
        np.empty(n_total, dtype=np.uint32),  # keys
        np.empty(n_total, dtype=np.uint32),  # keys_tmp
        np.empty(n_total, dtype=np.int64),  # idx_tmp
        np.zeros((4, 256), dtype=np.int64),  # hist
        # work arrays of the missing-value passes and of the absolute-error criterion
        np.empty(n_total if missing_mask.shape[0] > 0 else 1, dtype=np.float32),
        np.zeros((7, n_total + 1 if mae else 1), dtype=np.float64),  # mf
        np.zeros((2, n_total if mae else 1), dtype=np.int64),  # mi
        np.zeros(n_outputs, dtype=np.float64),  # node_med
    )
    tables = new_tables(64, n_outputs, max_n_classes)
    return data, params, work, tables, n_samples


@njit(cache=True, nogil=True, inline="always")
def _grow_node(data, params, work, tables, node_count, node, is_root):
    """Add the node ``node`` (a :class:`~mlnotes.tree._splitter.NodeRecord`) to the
    tree as node ``node_count``, and find its split unless it is a leaf.

    The root's impurity is computed here (``is_root``); every other node's was
    computed with its parent's split. A node is a leaf when it is at ``max_depth``,
    too small to split (``min_samples_split``, twice ``min_samples_leaf`` or
    ``min_weight_leaf``), pure, or when its best split decreases the impurity by
    less than ``min_impurity_decrease``.

    ``tables`` must have room for the node (:func:`~mlnotes.tree._tree_store.reserve`).
    Returns ``(node_id, is_leaf, impurity, split)``: the node's id, whether it is a
    leaf, its impurity and its :class:`~mlnotes.tree._splitter.SplitRecord`.
    """
    start = node.start
    end = node.end
    n_node = end - start
    wnode, sq_sum = _node_sums(params.is_clf, data.y, data.yc, data.w, work.samples,
                               start, end, params.n_outputs, work.sum_total)
    sums = NodeSums(wnode, sq_sum)
    impurity = node.impurity
    if is_root:
        if params.criterion == ABSOLUTE_ERROR:
            mae_reset(data.y, data.w, work.samples, start, end, params.n_outputs,
                      work.mf, work.mi, work.sort_stack, work.node_med)
            impurity = work.mf[RIGHT_ABS, start] / (wnode * params.n_outputs)
        else:
            impurity = _node_impurity(params.criterion, data.y, data.w, work.samples,
                                      start, end, params.n_outputs, params.n_classes,
                                      work.sum_total, wnode, sq_sum)
        node = NodeRecord(start, end, node.depth, node.parent, node.is_left,
                          node.n_constant, impurity, node.lower, node.upper)
    is_leaf = (node.depth >= params.max_depth or n_node < params.min_samples_split
               or n_node < 2 * params.min_samples_leaf
               or wnode < 2 * params.min_weight_leaf or impurity <= _EPSILON)
    if is_leaf:
        split = SplitRecord(end, np.int64(0), 0.0, -_INF, _INF, _INF, False,
                            node.n_constant, 0.0)
    else:
        split = _split_node(data, params, work, node, sums)
        is_leaf = (split.pos >= end
                   or split.improvement + _EPSILON < params.min_impurity_decrease)

    node_id = node_count
    _add_node(tables.ints, tables.floats, node_id, node.parent, node.is_left, is_leaf,
              split.feature, split.threshold, impurity, n_node, wnode,
              split.missing_left)
    if params.criterion == ABSOLUTE_ERROR:
        _store_median(data.y, data.w, work.samples, start, end, tables.values, node_id,
                      params.n_outputs, work.mf, work.mi, work.sort_stack,
                      work.node_med, params.with_mono, node.lower, node.upper)
    else:
        _store_value(params.is_clf, tables.values, node_id, params.n_outputs,
                     params.n_classes, work.sum_total, wnode, params.with_mono,
                     node.lower, node.upper)
    return node_id, is_leaf, impurity, split


@njit(cache=True, nogil=True, inline="always")
def _child_bounds(data, params, feature, lower, upper, middle):
    """Bounds ``(left_lower, left_upper, right_lower, right_upper)`` of the children's
    values under the monotonic constraint of the split feature: the children of an
    increasing (decreasing) split are separated at ``middle``."""
    left_min = lower
    right_min = lower
    left_max = upper
    right_max = upper
    if params.with_mono and data.mono[feature] == 1:
        right_min = middle
        left_max = middle
    elif params.with_mono and data.mono[feature] == -1:
        left_min = middle
        right_max = middle
    return left_min, left_max, right_min, right_max


@njit(cache=True, nogil=True, inline="always")
def _push(st_int, st_flt, top, node):
    st_int[top, _ST_START] = node.start
    st_int[top, _ST_END] = node.end
    st_int[top, _ST_DEPTH] = node.depth
    st_int[top, _ST_PARENT] = node.parent
    st_int[top, _ST_IS_LEFT] = 1 if node.is_left else 0
    st_int[top, _ST_N_CONSTANT] = node.n_constant
    st_flt[top, _ST_IMPURITY] = node.impurity
    st_flt[top, _ST_LOWER] = node.lower
    st_flt[top, _ST_UPPER] = node.upper


@njit(cache=True, nogil=True, inline="always")
def _pop(st_int, st_flt, top):
    return NodeRecord(st_int[top, _ST_START], st_int[top, _ST_END],
                      st_int[top, _ST_DEPTH], st_int[top, _ST_PARENT],
                      st_int[top, _ST_IS_LEFT] == 1, st_int[top, _ST_N_CONSTANT],
                      st_flt[top, _ST_IMPURITY], st_flt[top, _ST_LOWER],
                      st_flt[top, _ST_UPPER])


@njit(cache=True, nogil=True)
def _build_depth_first(data, params, work, tables, n_samples):
    """Grow the tree depth first from an explicit stack (the left child first).

    The nodes are grown by :func:`_depth_first_steps`, compiled without reference
    counting; this loop only enlarges the node tables and the stack when they are
    full. Returns ``(tables, node_count, max_depth_seen)``.
    """
    st_int = np.empty((64, _N_ST_INTS), dtype=np.int64)
    st_flt = np.empty((64, _N_ST_FLOATS), dtype=np.float64)
    _push(st_int, st_flt, 0, NodeRecord(0, n_samples, 0, TREE_UNDEFINED, False, 0,
                                        _INF, -_INF, _INF))
    top = 1
    node_count = 0
    max_depth_seen = -1
    while top > 0:
        if node_count >= tables.ints.shape[0]:
            tables = reserve(tables, node_count)
        if top + 1 > st_int.shape[0]:
            st_cap = 2 * st_int.shape[0]
            new_int = np.empty((st_cap, _N_ST_INTS), dtype=np.int64)
            new_flt = np.empty((st_cap, _N_ST_FLOATS), dtype=np.float64)
            new_int[:top] = st_int[:top]
            new_flt[:top] = st_flt[:top]
            st_int = new_int
            st_flt = new_flt
        top, node_count, max_depth_seen = _depth_first_steps(
            data, params, work, tables, st_int, st_flt, top, node_count, max_depth_seen)
    return tables, node_count, max_depth_seen


@njit(cache=True, nogil=True, _nrt=False)
def _depth_first_steps(data, params, work, tables, st_int, st_flt, top, node_count,
                       max_depth_seen):
    """Grow the nodes of the stack ``st_int``/``st_flt`` (``top`` rows) until it is
    empty, the node tables are full, or it has no room for a node's two children.

    Compiled without reference counting: in a function compiled with it, every
    array of the named state was reference-counted at each node (inlined
    :func:`_grow_node`), about 10% of the time of a fully grown regression tree.
    Returns ``(top, node_count, max_depth_seen)``.
    """
    capacity = tables.ints.shape[0]
    st_cap = st_int.shape[0]
    while top > 0 and node_count < capacity and top + 1 <= st_cap:
        top -= 1
        node = _pop(st_int, st_flt, top)
        node_id, is_leaf, impurity, split = _grow_node(
            data, params, work, tables, node_count, node, node_count == 0)
        node_count += 1
        if not is_leaf:
            left_min, left_max, right_min, right_max = _child_bounds(
                data, params, split.feature, node.lower, node.upper, split.middle)
            # right child first, so that the left one is grown first
            _push(st_int, st_flt, top, NodeRecord(
                split.pos, node.end, node.depth + 1, node_id, False, split.n_constant,
                split.impurity_right, right_min, right_max))
            top += 1
            _push(st_int, st_flt, top, NodeRecord(
                node.start, split.pos, node.depth + 1, node_id, True, split.n_constant,
                split.impurity_left, left_min, left_max))
            top += 1
        if node.depth > max_depth_seen:
            max_depth_seen = node.depth
    return top, node_count, max_depth_seen


@njit(cache=True, nogil=True)
def _build_best_first(data, params, work, tables, n_samples, max_leaf_nodes):
    """Grow the tree best first: expand, among the grown nodes, the one whose split
    decreases the weighted impurity most (a binary max-heap on the improvement),
    until ``max_leaf_nodes`` leaves.

    Both children of an expanded node are grown (their splits found) before
    either enters the frontier, as in scikit-learn. Returns ``(tables, node_count,
    max_depth_seen)``.
    """
    fr_cap = 2 * max_leaf_nodes + 2
    fr_int = np.empty((fr_cap, _N_FR_INTS), dtype=np.int64)
    fr_flt = np.empty((fr_cap, _N_FR_FLOATS), dtype=np.float64)
    fr_key = np.empty(fr_cap, dtype=np.float64)
    heap = np.empty(fr_cap, dtype=np.int64)
    heap_size = 0
    n_records = 0
    max_split_nodes = max_leaf_nodes - 1
    node_count = 0
    max_depth_seen = -1

    rec = 0
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
            rec_depth = fr_int[rec, _FR_DEPTH]
            if fr_int[rec, _FR_IS_LEAF] == 1 or max_split_nodes <= 0:
                _make_leaf(tables.ints, tables.floats, fr_int[rec, _FR_NODE])
                if rec_depth > max_depth_seen:
                    max_depth_seen = rec_depth
                continue
            n_pending = 2
            max_split_nodes -= 1
        for child in range(n_pending):
            if step == 0:
                node = NodeRecord(0, n_samples, 0, TREE_UNDEFINED, True, 0, _INF, -_INF,
                                  _INF)
            else:
                parent = fr_int[rec, _FR_NODE]
                left_min, left_max, right_min, right_max = _child_bounds(
                    data, params, tables.ints[parent, NODE_FEATURE], fr_flt[rec, _FR_LOWER],
                    fr_flt[rec, _FR_UPPER], fr_flt[rec, _FR_MIDDLE])
                if child == 0:
                    node = NodeRecord(fr_int[rec, _FR_START], fr_int[rec, _FR_POS],
                                      rec_depth + 1, parent, True, 0,
                                      fr_flt[rec, _FR_IMP_LEFT], left_min, left_max)
                else:
                    node = NodeRecord(fr_int[rec, _FR_POS], fr_int[rec, _FR_END],
                                      rec_depth + 1, parent, False, 0,
                                      fr_flt[rec, _FR_IMP_RIGHT], right_min, right_max)
            if node_count >= tables.ints.shape[0]:
                tables = reserve(tables, node_count)
            node_id, is_leaf, impurity, split = _grow_node(
                data, params, work, tables, node_count, node, step == 0)
            node_count += 1

            if n_records >= fr_cap:
                fr_cap *= 2
                new_int = np.empty((fr_cap, _N_FR_INTS), dtype=np.int64)
                new_flt = np.empty((fr_cap, _N_FR_FLOATS), dtype=np.float64)
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
            fr_int[r, _FR_NODE] = node_id
            fr_int[r, _FR_START] = node.start
            fr_int[r, _FR_END] = node.end
            fr_int[r, _FR_DEPTH] = node.depth
            fr_flt[r, _FR_IMPURITY] = impurity
            fr_flt[r, _FR_LOWER] = node.lower
            fr_flt[r, _FR_UPPER] = node.upper
            fr_flt[r, _FR_MIDDLE] = split.middle
            if not is_leaf:
                fr_int[r, _FR_POS] = split.pos
                fr_int[r, _FR_IS_LEAF] = 0
                fr_key[r] = split.improvement
                fr_flt[r, _FR_IMP_LEFT] = split.impurity_left
                fr_flt[r, _FR_IMP_RIGHT] = split.impurity_right
                fr_flt[r, _FR_IMPROVEMENT] = split.improvement
            else:
                fr_int[r, _FR_POS] = node.end
                fr_int[r, _FR_IS_LEAF] = 1
                fr_key[r] = 0.0
                fr_flt[r, _FR_IMP_LEFT] = impurity
                fr_flt[r, _FR_IMP_RIGHT] = impurity
                fr_flt[r, _FR_IMPROVEMENT] = 0.0
        # both children are computed before either enters the frontier
        for child in range(n_pending):
            heap_size = _heap_push(heap, heap_size, fr_key, n_records - n_pending + child)
        if step > 0 and rec_depth > max_depth_seen:
            max_depth_seen = rec_depth
    return tables, node_count, max_depth_seen
