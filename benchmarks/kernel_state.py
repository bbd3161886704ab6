"""Before/after timing of a kernel refactor: an older mlnotes commit against the working tree.

``python -m benchmarks.kernel_state --old REV [--rows sgd-svm|tree-missing] [--only NAME]
[--repeats 9] [--out DIR]``

Issue 20 grouped the arguments of the SGD epoch loop and of the SVM solver's kernel
cache into named tuples; behaviour and speed were to stay as they were. This script
times the estimators on those kernels -- SGDClassifier (hinge and log loss),
SGDRegressor, Perceptron, SVC (rbf and poly) and SVR -- on every dataset of their rows
in ``benchmarks/suites/linear.py`` and ``svm.py`` (full sizes), the old code and the new
one interleaved in one process: the commit ``REV`` is checked out with ``git worktree``
and imported as a second package, ``mlnotes_old`` (its ``mlnotes`` imports renamed),
beside the working tree's ``mlnotes``. After one excluded warm-up fit of each (numba
compilation), every repeat times both, order swapped each repeat; a timing covers
enough fits to last about 50 ms. Reported: medians of process CPU time (one thread,
so the machine's load moves it less than wall time) and their ratio new/old, and
whether both fitted exactly the same model. Writes ``kernel-state.md`` to ``--out``.

``--rows tree-missing`` times the trees of ``benchmarks/tree_missing.py`` instead
(NaN in 10% of the entries, the tree module split of issue 20; the same model means
the same predictions on the training set).

``--calls`` times one call of the SGD kernel alone instead (Perceptron on
breast_cancer, or the ``--only`` dataset of the Perceptron rows): the arguments
of a fit are captured, and each timing calls the kernel once on a fresh copy of
its state, through numba's dispatcher (which types the arguments) and through the
compiled entry point of the overload it picked (no typing); the difference is
the per-call cost of the dispatch.
"""

import argparse
import importlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
ESTIMATORS = ("SGDClassifier", "SGDRegressor", "Perceptron", "SVC", "SVR")


def _old_package(rev, workdir):
    """Check ``rev`` out under ``workdir`` and make it importable as ``mlnotes_old``."""
    tree = Path(workdir) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                   check=True, capture_output=True)
    pkg = Path(workdir) / "pkg" / "mlnotes_old"
    pkg.parent.mkdir(parents=True)
    subprocess.run(["cp", "-r", str(tree / "mlnotes"), str(pkg)], check=True)
    pattern = re.compile(r"\b(from|import) mlnotes\b|(?<=[\"'])mlnotes\.")
    for path in pkg.rglob("*.py"):
        text = path.read_text()
        new = pattern.sub(lambda m: (f"{m.group(1)} mlnotes_old" if m.group(1)
                                     else "mlnotes_old."), text)
        if new != text:
            path.write_text(new)
    sys.path.insert(0, str(pkg.parent))
    return tree


def _estimator(package, path, params):
    module, name = path.split(":")
    module = module.replace("mlnotes", package, 1)
    return getattr(importlib.import_module(module), name)(**params)


def _same_model(a, b, X):
    for attr in ("coef_", "dual_coef_", "intercept_", "support_"):
        if hasattr(a, attr) and not np.array_equal(np.asarray(getattr(a, attr)),
                                                   np.asarray(getattr(b, attr))):
            return False
    if hasattr(a, "tree_") or hasattr(a, "estimators_"):
        return np.array_equal(a.predict(X), b.predict(X))
    return True


def _rows(only, which="sgd-svm"):
    """``(case name, dataset name, estimator path, params, X, y)`` of each row."""
    if which == "tree-missing":
        from benchmarks.tree_missing import _cases

        for name, ours, _, params, X, y in _cases():
            if only and not any(o.lower() in name.lower() for o in only):
                continue
            case, _, dataset = name.partition(", ")
            yield (case, dataset, f"{ours.__module__}:{ours.__name__}",
                   dict(params, random_state=0), X, y)
        return
    from benchmarks.suites import linear, svm

    for suite in (linear.SUITE, svm.SUITE):
        for case in suite.cases:
            if case.name.split("-")[0] not in ESTIMATORS:
                continue
            if only and not any(o.lower() in case.name.lower() for o in only):
                continue
            for dataset in case.datasets:
                split = dataset.split(quick=False)
                yield (case.name, dataset.name, case.ours, case.params,
                       split.X_train, split.y_train)


def run(old_rev, only, repeats, which="sgd-svm"):
    rows = []
    for case_name, dataset_name, path, params, X, y in _rows(only, which):
        new = _estimator("mlnotes", path, params)
        old = _estimator("mlnotes_old", path, params)
        new.fit(X, y)
        old.fit(X, y)
        start = time.process_time()
        new.fit(X, y)
        inner = max(1, int(0.05 / max(time.process_time() - start, 1e-4)))
        t_new, t_old = [], []
        for r in range(repeats):
            pair = ((new, t_new), (old, t_old))
            for est, times in (pair if r % 2 == 0 else pair[::-1]):
                start = time.process_time()
                for _ in range(inner):
                    est.fit(X, y)
                times.append((time.process_time() - start) / inner)
        row = dict(case=case_name, dataset=dataset_name, n_train=X.shape[0],
                   old=statistics.median(t_old), new=statistics.median(t_new),
                   inner=inner, same=_same_model(new, old, X))
        row["ratio"] = row["new"] / row["old"]
        rows.append(row)
        print(f"{row['case']:24s} {row['dataset']:28s} old {row['old'] * 1e3:9.2f} ms "
              f"new {row['new'] * 1e3:9.2f} ms ratio {row['ratio']:.3f} "
              f"same model: {row['same']}", flush=True)
    return rows


def _captured_call(package, X, y):
    """The kernel, its compiled entry point and a function giving fresh arguments."""
    sgd = importlib.import_module(f"{package}.linear_model._sgd_fast")
    kernel = sgd._plain_sgd
    state_type = getattr(sgd, "SGDState", None)
    captured = []

    def copy(a):
        if isinstance(a, np.ndarray):
            return np.copy(a)
        if state_type is not None and isinstance(a, state_type):
            return state_type(*[np.copy(v) for v in a])
        return a

    def spy(*args):
        captured.append([copy(a) for a in args])  # before the call updates the state
        return kernel(*args)

    sgd._plain_sgd = spy
    try:
        _estimator(package, "mlnotes.linear_model:Perceptron", dict(random_state=0)).fit(X, y)
    finally:
        sgd._plain_sgd = kernel
    args = captured[0]

    def fresh():
        return [copy(a) for a in args]

    entry = kernel.overloads[kernel.signatures[0]].entry_point
    return kernel, entry, fresh


def run_calls(only, repeats):
    """Per-call timing of the SGD kernel, old and new, dispatcher vs entry point."""
    from benchmarks.suites import linear

    name = only[0] if only else "breast_cancer"
    dataset = next(d for c in linear.SUITE.cases if c.name == "Perceptron"
                   for d in c.datasets if d.name == name)
    split = dataset.split(quick=False)
    X, y = split.X_train, split.y_train
    calls = {}
    for side, package in (("new", "mlnotes"), ("old", "mlnotes_old")):
        kernel, entry, fresh = _captured_call(package, X, y)
        calls[f"{side} dispatcher"] = (kernel, fresh)
        calls[f"{side} entry point"] = (entry, fresh)
    times = {key: [] for key in calls}
    keys = list(calls)
    for r in range(repeats * 25):
        for key in (keys if r % 2 == 0 else keys[::-1]):
            fn, fresh = calls[key]
            args = fresh()
            start = time.process_time()
            fn(*args)
            times[key].append(time.process_time() - start)
    rows = [dict(call=key, us=statistics.median(t) * 1e6) for key, t in times.items()]
    for row in rows:
        print(f"{row['call']:20s} {row['us']:8.1f} us", flush=True)
    return name, X.shape[0], rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="the commit before the refactor")
    parser.add_argument("--only", action="append", default=[],
                        help="case names containing this text (repeatable)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--rows", choices=("sgd-svm", "tree-missing"), default="sgd-svm",
                        help="the SGD/SVM rows (default) or the missing-value trees")
    parser.add_argument("--calls", action="store_true",
                        help="time one SGD kernel call: dispatcher vs compiled entry point")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "local"))
    args = parser.parse_args(argv)
    import warnings

    warnings.simplefilter("ignore")
    workdir = tempfile.mkdtemp(prefix="mlnotes-kernel-state-")
    tree = _old_package(args.old, workdir)
    try:
        with threadpool_limits(1):
            if args.calls:
                dataset, n_train, calls = run_calls(args.only, args.repeats)
            else:
                rows = run(args.old, args.only, args.repeats, args.rows)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    if args.calls:
        lines = [
            "# One SGD kernel call: dispatcher vs compiled entry point", "",
            f"- command: `python -m benchmarks.kernel_state --old {args.old} --calls "
            f"--repeats {args.repeats}`",
            f"- new: working tree at {head}; old: {args.old}; Perceptron's kernel call "
            f"on {dataset} ({n_train:,} rows), fresh state each call",
            f"- timing: process CPU time of one call, median of {args.repeats * 25}, "
            "the four interleaved", "",
            "| call | us |", "|---|---:|",
        ] + [f"| {c['call']} | {c['us']:.1f} |" for c in calls]
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "kernel-calls.md").write_text("\n".join(lines) + "\n")
        print(f"wrote {out / 'kernel-calls.md'}")
        return
    lines = [
        "# Named kernel state: before/after (issue 20)", "",
        f"- command: `python -m benchmarks.kernel_state --old {args.old} "
        f"--rows {args.rows} --repeats {args.repeats}`",
        f"- new: working tree at {head}; old: {args.old}",
        f"- machine: {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}; one thread",
        "- timing: process CPU time, median of the repeats, old and new interleaved "
        "(order swapped each repeat) after one warm-up fit each", "",
        "| estimator | dataset | rows | old ms | new ms | new/old | same model |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['dataset']} | {r['n_train']:,} | "
                     f"{r['old'] * 1e3:.2f} | {r['new'] * 1e3:.2f} | {r['ratio']:.3f} | "
                     f"{'yes' if r['same'] else 'NO'} |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kernel-state.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'kernel-state.md'}")


if __name__ == "__main__":
    main()
