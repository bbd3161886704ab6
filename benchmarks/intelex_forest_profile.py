"""Where a random forest's fit time goes (issue 14: the rows behind scikit-learn-intelex).

``python -m benchmarks.intelex_forest_profile [--trees 100] [--regression]``

Fits mlnotes' forest on the trees suite's 20,000 x 20 training set at one thread
(CPU time of this thread), then replays the split searches of its trees piece by piece
in compiled loops, on the real node sample sets (each tree's in-bag samples routed
through its own splits):

* **sort**: the exact splitter's per-node work for each feature it draws:
  ``mlnotes.tree._sort.gather_sorted`` (gather the node's values, radix/intro-sort
  them with the sample indices), the very function the builder calls;
* **scan**: a pass over the sorted values that updates the class counts (or the target
  sums) and evaluates the Gini (squared-error) proxy at every threshold -- what the
  builder's scan does, without its bookkeeping;
* **histogram**: what a 256-bin histogram splitter (scikit-learn-intelex's
  ``max_bins=256``) does instead for the same node and feature: one pass adding each
  sample's class (target) to its bin, then a scan over the bins the node's values
  fall in (at most 256); the binning of the data (quantile edges) is done once per
  forest and timed separately;
* **hybrid**: the exact sort + scan for nodes under ``--small`` samples, the
  histogram pass for the larger ones (a plain histogram pass loses on the many
  small nodes of fully grown trees, where the node's bins outnumber its samples).

``max_features`` features are replayed per node (the splitter draws more when it meets
constant ones, so the sort and scan shares are lower bounds). The rest of the fit
(partitioning the samples, node bookkeeping, bootstrap, Python per tree) is the
difference. Prints one table; nothing is written.
"""

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from mlnotes.tree._sort import gather_sorted  # noqa: E402


@njit(cache=False, nogil=True)
def _replay_sort(X, node_ptr, node_samples, node_feats, scan, yv, n_classes):
    """For every (node, feature): gather + sort, and optionally the threshold scan."""
    n_total = X.shape[0]
    samples = np.empty(node_samples.shape[0], dtype=np.int64)
    fv = np.empty(node_samples.shape[0], dtype=np.float32)
    keys = np.empty(node_samples.shape[0], dtype=np.uint32)
    keys_tmp = np.empty(node_samples.shape[0], dtype=np.uint32)
    idx_tmp = np.empty(node_samples.shape[0], dtype=np.int64)
    hist = np.zeros((4, 256), dtype=np.int64)
    stack = np.empty((160, 3), dtype=np.int64)
    counts = np.zeros(max(n_classes, 1))
    best = 0.0
    for j in range(node_ptr.shape[0] - 1):
        s, e = node_ptr[j], node_ptr[j + 1]
        for f in node_feats[j]:
            samples[s:e] = node_samples[s:e]
            gather_sorted(X, f, samples, fv, s, e, stack, keys, keys_tmp, idx_tmp, hist)
            if scan:
                best = max(best, _scan(fv, samples, yv, s, e, counts, n_classes))
    return best + n_total * 0


@njit(cache=False, nogil=True, inline="always")
def _scan(fv, samples, yv, s, e, counts, n_classes):
    n = e - s
    best = -np.inf
    if n_classes > 0:  # Gini proxy: sum_k nL_k^2 / nL + sum_k nR_k^2 / nR
        tot = np.zeros(n_classes)
        for p in range(s, e):
            tot[int(yv[samples[p]])] += 1.0
        counts[:] = 0.0
        for p in range(s, e - 1):
            c = int(yv[samples[p]])
            counts[c] += 1.0
            if fv[p + 1] <= fv[p] + 1e-7:
                continue
            nl = p - s + 1.0
            sl = 0.0
            sr = 0.0
            for k in range(n_classes):
                sl += counts[k] * counts[k]
                r = tot[k] - counts[k]
                sr += r * r
            v = sl / nl + sr / (n - nl)
            if v > best:
                best = v
    else:  # squared error proxy: SL^2 / nL + SR^2 / nR
        total = 0.0
        for p in range(s, e):
            total += yv[samples[p]]
        sl = 0.0
        for p in range(s, e - 1):
            sl += yv[samples[p]]
            if fv[p + 1] <= fv[p] + 1e-7:
                continue
            nl = p - s + 1.0
            v = sl * sl / nl + (total - sl) ** 2 / (n - nl)
            if v > best:
                best = v
    return best


@njit(cache=False, nogil=True)
def _replay_hist(B, node_ptr, node_samples, node_feats, yv, n_classes):
    """For every (node, feature): per-bin class counts (target sums) and a bin scan.

    Integer counts per (bin, class) in one flat array (classification), float target
    sums and integer counts per bin (regression); only the bins the node's values
    fall in are scanned and reset.
    """
    nc = max(n_classes, 1)
    cnt = np.zeros(256 * nc, dtype=np.int64)
    hn = np.zeros(256, dtype=np.int64)
    hs = np.zeros(256)
    yc = np.zeros(yv.shape[0], dtype=np.int64)
    if n_classes > 0:
        for i in range(yv.shape[0]):
            yc[i] = int(yv[i])
    tot = np.zeros(nc)
    left = np.zeros(nc)
    best = -np.inf
    for j in range(node_ptr.shape[0] - 1):
        s, e = node_ptr[j], node_ptr[j + 1]
        n = e - s
        for f in node_feats[j]:
            col = B[:, f]
            lo, hi = 255, 0
            if n_classes > 0:
                for p in range(s, e):
                    i = node_samples[p]
                    b = np.int64(col[i])
                    cnt[b * nc + yc[i]] += 1
                    lo = min(lo, b)
                    hi = max(hi, b)
            else:
                for p in range(s, e):
                    i = node_samples[p]
                    b = np.int64(col[i])
                    hn[b] += 1
                    hs[b] += yv[i]
                    lo = min(lo, b)
                    hi = max(hi, b)
            tot[:] = 0.0
            left[:] = 0.0
            for b in range(lo, hi + 1):
                if n_classes > 0:
                    for k in range(nc):
                        tot[k] += cnt[b * nc + k]
                else:
                    tot[0] += hs[b]
            nl = 0.0
            for b in range(lo, hi):  # only the node's range of bins
                if n_classes > 0:
                    nb = 0
                    for k in range(nc):
                        nb += cnt[b * nc + k]
                        left[k] += cnt[b * nc + k]
                else:
                    nb = hn[b]
                    left[0] += hs[b]
                if nb == 0:
                    continue
                nl += nb
                sl = 0.0
                sr = 0.0
                for k in range(nc):
                    sl += left[k] * left[k]
                    r = tot[k] - left[k]
                    sr += r * r
                v = sl / nl + sr / (n - nl)
                if v > best:
                    best = v
            for b in range(lo, hi + 1):
                hn[b] = 0
                hs[b] = 0.0
                for k in range(nc):
                    cnt[b * nc + k] = 0
    return best


def _bin(X, max_bins=256):
    """Quantile bin codes (uint8), feature-major; what a histogram forest does once."""
    B = np.empty(X.shape, dtype=np.uint8, order="F")
    for f in range(X.shape[1]):
        edges = np.unique(np.quantile(X[:, f], np.linspace(0, 1, max_bins + 1)[1:-1]))
        B[:, f] = np.searchsorted(edges, X[:, f], side="right")
    return B


def _subset(ptr, samples, feats, keep):
    """The CSR of the nodes flagged by ``keep``."""
    sizes = np.diff(ptr)[keep]
    parts = [samples[ptr[j]:ptr[j + 1]] for j in np.flatnonzero(keep)]
    sub_p = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    sub_s = (np.concatenate(parts) if parts else np.zeros(0)).astype(np.int64)
    return sub_p, sub_s, feats[keep]


def _node_sets(tree, X_inbag, inbag):
    """CSR of the in-bag samples of every node that the builder searched."""
    path = tree.decision_path(X_inbag).tocsc()
    t = tree.tree_
    ptr, parts, nodes = [0], [], []
    for node in range(t.node_count):
        rows = path.indices[path.indptr[node]:path.indptr[node + 1]]
        internal = t.children_left[node] != -1
        if internal or t.impurity[node] > 1e-7 and rows.size > 1:
            parts.append(inbag[rows])
            ptr.append(ptr[-1] + rows.size)
            nodes.append(node)
    return np.array(ptr, dtype=np.int64), np.concatenate(parts).astype(np.int64), nodes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--regression", action="store_true")
    parser.add_argument("--small", type=int, nargs="*", default=[256, 2048],
                        help="node sizes below which the hybrid keeps the exact sort")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from mlnotes.ensemble import RandomForestClassifier, RandomForestRegressor

    if args.regression:
        X, y = make_regression(25_000, n_features=20, n_informative=10, noise=10.0,
                               random_state=0)
        X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=0)
        model, n_classes = RandomForestRegressor(args.trees, random_state=0), 0
    else:
        X, y = make_classification(25_000, n_features=20, n_informative=10,
                                   n_redundant=4, random_state=0)
        X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=0,
                                            stratify=y)
        model, n_classes = RandomForestClassifier(args.trees, random_state=0), 2
    X_tr = np.ascontiguousarray(X_tr)
    model.fit(X_tr[:2000], y_tr[:2000])  # compile
    t0 = time.thread_time()
    model.fit(X_tr, y_tr)
    t_fit = time.thread_time() - t0

    X32 = np.asfortranarray(X_tr, dtype=np.float32)
    yv = np.asarray(y_tr, dtype=np.float64)
    max_features = model.estimators_[0].max_features_
    rng = np.random.default_rng(0)
    jobs = []
    n_nodes = n_sorted = 0
    for tree, inbag in zip(model.estimators_, model.estimators_samples_):
        inbag = np.unique(inbag)
        ptr, samples, nodes = _node_sets(tree, X32[inbag], inbag)
        feats = np.array([rng.choice(X.shape[1], max_features, replace=False)
                          for _ in nodes], dtype=np.int64)
        jobs.append((ptr, samples, feats))
        n_nodes += len(nodes)
        n_sorted += int(np.diff(ptr).sum()) * max_features
    small = jobs[0][0][:3], jobs[0][1][:jobs[0][0][2]], jobs[0][2][:2]
    _replay_sort(X32, *small, True, yv, n_classes)  # compile
    B = _bin(X_tr)
    _replay_hist(B, *small, yv, n_classes)

    def run(fn):
        t = time.thread_time()
        fn()
        return time.thread_time() - t

    t_sort = sum(run(lambda: _replay_sort(X32, p, s, f, False, yv, n_classes))
                 for p, s, f in jobs)
    t_sort_scan = sum(run(lambda: _replay_sort(X32, p, s, f, True, yv, n_classes))
                      for p, s, f in jobs)
    t_hist = sum(run(lambda: _replay_hist(B, p, s, f, yv, n_classes)) for p, s, f in jobs)
    t_bin = run(lambda: _bin(X_tr))
    # hybrid: nodes under `small` samples keep the exact sort + scan, larger ones bin
    t_hybrid = {}
    for small in args.small:
        total = 0.0
        for p, s, f in jobs:
            sizes = np.diff(p)
            for keep, hist in ((sizes < small, False), (sizes >= small, True)):
                sub_p, sub_s, sub_f = _subset(p, s, f, keep)
                if sub_f.shape[0] == 0:
                    continue
                if hist:
                    total += run(lambda: _replay_hist(B, sub_p, sub_s, sub_f, yv,
                                                      n_classes))
                else:
                    total += run(lambda: _replay_sort(X32, sub_p, sub_s, sub_f, True, yv,
                                                      n_classes))
        t_hybrid[small] = total

    kind = "RandomForestRegressor" if args.regression else "RandomForestClassifier"
    print(f"{kind}({args.trees} trees) on {X_tr.shape[0]:,} x {X_tr.shape[1]}, one "
          f"thread (CPU seconds of this thread)")
    print(f"nodes searched: {n_nodes:,}; (node, feature) sorts replayed: "
          f"max_features={max_features} per node, {n_sorted:,} values")
    rows = [
        ("fit (measured)", t_fit),
        ("  gather + sort (replayed)", t_sort),
        ("  threshold scans (replayed)", t_sort_scan - t_sort),
        ("  rest: partition, bookkeeping, bootstrap, Python per tree",
         t_fit - t_sort_scan),
        ("histogram splitter: per-node binned counts + bin scans", t_hist),
        ("histogram splitter: binning the data once per forest", t_bin),
    ] + [(f"hybrid: sort + scan below {small} samples, histogram above", t)
         for small, t in t_hybrid.items()]
    for name, t in rows:
        print(f"| {name} | {t:.2f} s | {100 * t / t_fit:.0f}% |")
    est = t_fit - t_sort_scan + t_hist + t_bin
    print(f"estimated fit with a 256-bin histogram splitter: {est:.2f} s "
          f"({est / t_fit:.2f}x of the exact fit)")
    for small, t in t_hybrid.items():
        est = t_fit - t_sort_scan + t + t_bin
        print(f"estimated fit with the hybrid at {small} samples: {est:.2f} s "
              f"({est / t_fit:.2f}x of the exact fit)")


if __name__ == "__main__":
    main()
