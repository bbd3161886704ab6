"""Layout of the tree module: one concern per file, kernels that take named state.

See CONTRIBUTING.md, "Layout": the tree kernels are split as scikit-learn splits its
tree module, and the split search takes its state as named tuples, so that two
arrays swapped by position fail to compile instead of growing a wrong tree.
"""

import inspect
from pathlib import Path

import numpy as np
import pytest
from numba.core.errors import TypingError

import mlnotes.tree
from mlnotes.tree import _builder, _splitter
from mlnotes.tree._splitter import (
    NodeRecord,
    NodeSums,
    SplitParams,
    TrainingSet,
    Workspace,
    _split_node,
)

TREE_DIR = Path(mlnotes.tree.__file__).parent
MAX_LINES = 900
# The two public estimators: their numpydoc docstrings (parameters, attributes,
# notes, examples) are most of the file; scikit-learn's own is twice as long.
LONGER_FILES = {"_classes.py": 1000}


def test_no_tree_file_is_longer_than_the_limit():
    too_long = {}
    for path in sorted(TREE_DIR.glob("*.py")):
        n_lines = len(path.read_text().splitlines())
        if n_lines > LONGER_FILES.get(path.name, MAX_LINES):
            too_long[path.name] = n_lines
    assert not too_long, f"split these files (limit {MAX_LINES} lines): {too_long}"


def test_each_concern_lives_in_its_own_module():
    expected = {
        "_criterion": ["_node_sums", "_node_impurity", "_children_impurity",
                       "_proxy_improvement", "_monotonic_ok"],
        "_splitter": ["_split_node", "_scan_classes", "_scan_values", "_scan_general"],
        "_tree_store": ["new_tables", "reserve", "_add_node", "_heap_push", "_heap_pop"],
        "_builder": ["build_tree", "_build_depth_first", "_build_best_first",
                     "_grow_node"],
        "_prune": ["cost_complexity_prune", "build_pruned"],
        "_predict": ["decision_path_dense", "pack_preorder", "apply_preorder",
                     "forest_accumulate"],
    }
    for module, names in expected.items():
        mod = __import__(f"mlnotes.tree.{module}", fromlist=names)
        for name in names:
            assert getattr(mod, name).__module__ == f"mlnotes.tree.{module}", name
    # the builder module holds the builders only (no split search, no pruning)
    own = {n for n, f in vars(_builder).items()
           if callable(f) and getattr(f, "__module__", "") == "mlnotes.tree._builder"}
    assert own == {"build_tree", "_grow_depth_first", "_grow_best_first", "_prepare",
                   "_build_depth_first", "_depth_first_steps",
                   "_build_best_first", "_grow_node", "_child_bounds", "_push", "_pop"}


def test_split_node_takes_named_state():
    params = list(inspect.signature(_split_node.py_func).parameters)
    assert params == ["data", "params", "work", "node", "sums"]
    for scan in (_splitter._scan_classes, _splitter._scan_values):
        assert list(inspect.signature(scan.py_func).parameters) == [
            "data", "params", "work", "node", "sums", "cst", "best_proxy"]


def _small_state():
    rng = np.random.RandomState(0)
    n, d = 20, 3
    X = np.asfortranarray(rng.normal(size=(n, d)).astype(np.float32))
    y = (rng.rand(n, 1) < 0.5).astype(np.float64)
    yc = y.astype(np.int64)
    data = TrainingSet(X, y, yc, np.ascontiguousarray(y[:, 0]),
                       np.ascontiguousarray(yc[:, 0]), np.ones(n),
                       np.zeros(0, np.int8), np.zeros(0, np.uint8))
    params = SplitParams(0, 0, True, d, 2, 1, 0.0, 10, 0.0, 1,
                         np.array([2], dtype=np.int64), float(n), False, True)
    work = Workspace(np.arange(n, dtype=np.int64), np.arange(d, dtype=np.int64),
                     np.zeros(d, np.int64), np.array([1], np.int64),
                     np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)),
                     np.empty(n, np.float32), np.empty((160, 3), np.int64),
                     np.empty(n, np.uint32), np.empty(n, np.uint32),
                     np.empty(n, np.int64), np.zeros((4, 256), np.int64),
                     np.empty(1, np.float32), np.zeros((7, 1)), np.zeros((2, 1), np.int64),
                     np.zeros(1))
    node = NodeRecord(0, n, 0, -2, False, 0, 0.5, -np.inf, np.inf)
    return data, params, work, node, NodeSums(float(n), 0.0)


def test_swapped_state_does_not_compile():
    data, params, work, node, sums = _small_state()
    with pytest.raises(TypingError):
        _split_node(params, data, work, node, sums)
    with pytest.raises(TypingError):
        _split_node(data, params, node, work, sums)


def test_stack_columns_round_trip_every_field():
    st_int = np.full((2, _builder._N_ST_INTS), -7, dtype=np.int64)
    st_flt = np.full((2, _builder._N_ST_FLOATS), np.nan)
    record = NodeRecord(3, 11, 4, 2, True, 5, 0.25, -1.5, 2.5)
    _builder._push(st_int, st_flt, 1, record)
    assert _builder._pop(st_int, st_flt, 1) == record
    # every column written once: no two fields share a column
    assert not np.any(st_int[1] == -7) and not np.any(np.isnan(st_flt[1]))
    assert sorted({int(v) for v in st_int[1]}) == [1, 2, 3, 4, 5, 11]


def test_depth_first_stack_and_tables_grow_as_scikit_learn_tree():
    # y = 2**i: every best split peels off the largest target, so the tree is a
    # chain 149 levels deep (the stack and the node tables start at 64 rows).
    from sklearn.tree import DecisionTreeRegressor as SkTree

    X = np.arange(150, dtype=np.float64).reshape(-1, 1)
    y = 2.0 ** np.arange(150)
    ours = mlnotes.tree.DecisionTreeRegressor(random_state=0).fit(X, y)
    ref = SkTree(random_state=0).fit(X, y)
    assert ref.tree_.max_depth > 64
    assert ours.tree_.max_depth == ref.tree_.max_depth
    assert ours.tree_.node_count == ref.tree_.node_count
    np.testing.assert_array_equal(ours.tree_.children_left, ref.tree_.children_left)
    np.testing.assert_array_equal(ours.tree_.threshold, ref.tree_.threshold)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
