"""CPU-time three-way of benchmark rows: mlnotes, scikit-learn and scikit-learn-intelex.

``python -m benchmarks.intelex_cpu SUITE.CASE[:DATASET] ... [--repeats 7]``

The main harness (``python -m benchmarks --intelex``) times wall clock; on a machine
whose load average is several times its core count, a single preemption inflates one
side's wall time by tens of milliseconds, and the median of three repeats of a
sub-second call can be off by 2-10x. This script times the same rows (the suite's
``Case``, its datasets and split, the same constructor parameters) by the CPU time of
the calling thread (``time.thread_time``: what the one-thread computation costs,
whatever else runs), one thread everywhere (:func:`benchmarks.harness.single_thread`,
oneDAL included). Each repeat is one fit + predict per side, the three sides in a
rotated order; one warm-up per side is excluded. Prints a Markdown table of the
median fit + predict CPU milliseconds and the ratios.
"""

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402


def _cpu(fn):
    start = time.thread_time()
    out = fn()
    return time.thread_time() - start, out


def _row(case, dataset, repeats, single_thread, load_object, intelex_spec):
    split = dataset.split(False)
    classes = {"ours": load_object(case.ours), "sklearn": load_object(case.reference)}
    spec = intelex_spec(case.reference)
    if spec is not None:
        try:
            classes["sklearnex"] = load_object(spec)
        except Exception:  # noqa: BLE001 - not accelerated: two columns only
            pass
    predict = "transform" if split.y_train is None else "predict"

    def once(cls):
        model = cls(**case.params)
        t_fit, _ = _cpu(lambda: model.fit(split.X_train, split.y_train))
        t_pred, _ = _cpu(lambda: getattr(model, predict)(split.X_test))
        return t_fit + t_pred

    times = {name: [] for name in classes}
    names = list(classes)
    with single_thread():
        for name in names:
            once(classes[name])  # warm-up: JIT, caches
        for r in range(repeats):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                times[name].append(once(classes[name]))
    med = {name: 1e3 * float(np.median(t)) for name, t in times.items()}
    return split, med


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="+", help="SUITE.CASE or SUITE.CASE:DATASET")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    from benchmarks.cli import _prepare_threads
    from benchmarks.harness import intelex_spec, load_object, single_thread
    from benchmarks.suites import available_suites

    _prepare_threads()
    suites = available_suites()
    print(f"one thread, CPU time of the calling thread, median of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    print()
    print("| case | dataset | n_train x d | ours ms | sklearn ms | sklearnex ms "
          "| ours / sklearn | sklearnex / sklearn | ours / sklearnex |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for item in args.rows:
        target, _, only = item.partition(":")
        suite_name, _, case_name = target.partition(".")
        suite = suites[suite_name]
        case = next(c for c in suite.cases if c.name == case_name)
        for dataset in case.datasets:
            if only and dataset.name != only:
                continue
            split, med = _row(case, dataset, args.repeats, single_thread, load_object,
                              intelex_spec)
            ix = med.get("sklearnex")
            cells = [case.name, dataset.name,
                     f"{split.n_train:,} x {split.n_features}",
                     f"{med['ours']:.1f}", f"{med['sklearn']:.1f}",
                     "-" if ix is None else f"{ix:.1f}",
                     f"{med['ours'] / med['sklearn']:.2f}",
                     "-" if ix is None else f"{ix / med['sklearn']:.2f}",
                     "-" if ix is None else f"{med['ours'] / ix:.2f}"]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
