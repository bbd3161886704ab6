"""The numba pieces of the tree builder: sorting, random numbers, heap, pruning."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn import tree as sk_tree
from sklearn.datasets import make_regression

from mlnotes.tree import DecisionTreeRegressor
from mlnotes.tree._sort import gather_sorted, sort_values_and_indices
from mlnotes.tree._tree_store import _heap_pop, _heap_push
from mlnotes.tree._utils import RAND_R_MAX, _rand_int, _rand_r

FLOATS = st.floats(-1e6, 1e6, width=32, allow_subnormal=False)


def _xorshift_reference(seed, n):
    """Marsaglia's 32-bit xorshift (13, 17, 5), reduced mod 2**31, in pure Python."""
    s, out = seed, []
    for _ in range(n):
        s = s or 1
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out.append(s % (RAND_R_MAX + 1))
    return out


def test_xorshift_matches_the_reference_generator():
    for seed in [0, 1, 12345, RAND_R_MAX - 1]:
        state = np.array([seed], dtype=np.int64)
        ours = [_rand_r(state) for _ in range(50)]
        assert ours == _xorshift_reference(seed, 50)
    state = np.array([7], dtype=np.int64)
    draws = [_rand_int(3, 10, state) for _ in range(2000)]
    assert min(draws) == 3 and max(draws) == 9


@settings(max_examples=60, deadline=None)
@given(values=hnp.arrays(np.float32, st.integers(0, 700),
                         elements=st.one_of(FLOATS, st.sampled_from([0.0, -0.0, 1.0]))))
def test_sort_orders_values_and_carries_indices(values):
    n = len(values)
    pad = 3  # sort a slice inside a larger buffer
    v = np.concatenate([np.full(pad, 9.0, np.float32), values, np.zeros(pad, np.float32)])
    original = v.copy()
    idx = np.arange(len(v), dtype=np.int64)
    stack = np.empty((160, 3), dtype=np.int64)
    sort_values_and_indices(v, idx, pad, n, stack)
    np.testing.assert_array_equal(v[pad:pad + n], np.sort(values))
    np.testing.assert_array_equal(original[idx[pad:pad + n]].view(np.uint32),
                                  v[pad:pad + n].view(np.uint32))  # pairs stay together
    assert sorted(idx[pad:pad + n]) == list(range(pad, pad + n))
    assert list(idx[:pad]) == list(range(pad))  # outside the slice: untouched


@settings(max_examples=40, deadline=None)
@given(values=hnp.arrays(np.float32, st.integers(384, 1500),
                         elements=st.one_of(FLOATS, st.sampled_from([0.0, -0.0, -2.5]))))
def test_radix_path_sorts_stably(values):
    """Large nodes go through the radix sort: ascending, stable on ties."""
    n = len(values)
    X = np.asfortranarray(np.c_[np.zeros(n, np.float32), values])
    samples = np.random.default_rng(0).permutation(n).astype(np.int64)
    before = samples.copy()
    fv = np.empty(n, dtype=np.float32)
    keys, keys_tmp = np.empty(n, np.uint32), np.empty(n, np.uint32)
    idx_tmp = np.empty(n, np.int64)
    hist = np.zeros((4, 256), np.int64)
    gather_sorted(X, 1, samples, fv, 0, n, np.empty((160, 3), np.int64), keys, keys_tmp,
                  idx_tmp, hist)
    gathered = values[before]
    order = np.argsort(gathered, kind="stable")
    np.testing.assert_array_equal(fv, gathered[order])
    np.testing.assert_array_equal(values[samples], fv)
    np.testing.assert_array_equal(np.sort(samples), np.sort(before))
    if not np.any((values == 0) & np.signbit(values)):
        # stable: ties keep their order (the keys put -0.0 before 0.0, which a
        # stable sort of the floats does not)
        np.testing.assert_array_equal(samples, before[order])


def test_heap_pops_in_decreasing_key_order():
    rng = np.random.default_rng(0)
    keys = rng.normal(size=200)
    heap = np.empty(200, dtype=np.int64)
    size = 0
    for i in range(200):
        size = _heap_push(heap, size, keys, i)
    popped = []
    while size:
        top, size = _heap_pop(heap, size, keys)
        popped.append(keys[top])
    np.testing.assert_array_equal(popped, np.sort(keys)[::-1])


def test_pruning_path_and_pruned_tree_match_sklearn():
    X, y = make_regression(n_samples=200, n_features=5, noise=20.0, random_state=0)
    ours = DecisionTreeRegressor(random_state=0).cost_complexity_pruning_path(X, y)
    ref = sk_tree.DecisionTreeRegressor(random_state=0).cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(ours.ccp_alphas, ref.ccp_alphas, rtol=1e-10)
    np.testing.assert_allclose(ours.impurities, ref.impurities, rtol=1e-10)
    for alpha in ours.ccp_alphas[[5, len(ours.ccp_alphas) // 2, -3]]:
        a = DecisionTreeRegressor(random_state=0, ccp_alpha=alpha).fit(X, y)
        b = sk_tree.DecisionTreeRegressor(random_state=0, ccp_alpha=alpha).fit(X, y)
        for name in ["children_left", "children_right", "feature", "threshold", "value"]:
            np.testing.assert_array_equal(getattr(a.tree_, name), getattr(b.tree_, name))
        assert a.get_depth() == b.get_depth()
        # the pruned tree minimises R(T) + alpha |leaves| along the path
        t = a.tree_
        leaves = t.children_left == -1
        cost = (t.weighted_n_node_samples[leaves] * t.impurity[leaves]).sum() / len(y)
        k = np.searchsorted(ours.ccp_alphas, alpha, side="right") - 1
        np.testing.assert_allclose(cost, ours.impurities[k], rtol=1e-9)
