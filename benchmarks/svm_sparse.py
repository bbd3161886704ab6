"""Sparse input to the kernel SVMs: mlnotes.svm vs sklearn.svm on a CSR matrix.

``python -m benchmarks.svm_sparse [--out DIR] [--repeats 3]``

A random 4,000 x 2,000 CSR matrix with 1% non-zeros (3,000 rows to train,
1,000 held out); a linear score of it gives the SVC labels (above the median)
and, with noise, the SVR targets. Both libraries fit with their default
parameters (rbf kernel, gamma="scale") on the same sparse matrix, one BLAS
thread; fit + held-out score is timed, ours and scikit-learn's alternating in
every repeat (order swapped each repeat), after one excluded warm-up fit of ours
(numba compilation). Writes ``svm-sparse.md`` to ``--out``.
"""

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def _data(seed=0, n=4000, p=2000, density=0.01):
    rng = np.random.RandomState(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng)
    s = X @ rng.randn(p)
    y = (s > np.median(s)).astype(int)
    z = s + 0.1 * rng.randn(n)
    return X, y, z


def run(repeats=3):
    from sklearn import svm as sk_svm
    from threadpoolctl import threadpool_limits

    from mlnotes import svm as ml_svm

    X, y, z = _data()
    n_train = 3000
    rows = []
    with threadpool_limits(1):
        for name, target in [("SVC", y), ("SVR", z)]:
            ours_cls, ref_cls = getattr(ml_svm, name), getattr(sk_svm, name)
            ours_cls().fit(X[:200], target[:200])  # warm-up (compilation)
            times = {"ours": [], "ref": []}
            scores = {}
            for rep in range(repeats):
                order = [("ours", ours_cls), ("ref", ref_cls)]
                for key, cls in (order if rep % 2 == 0 else order[::-1]):
                    start = time.perf_counter()
                    est = cls().fit(X[:n_train], target[:n_train])
                    scores[key] = est.score(X[n_train:], target[n_train:])
                    times[key].append(time.perf_counter() - start)
            t_ours, t_ref = np.median(times["ours"]), np.median(times["ref"])
            rows.append((name, scores["ours"], scores["ref"], t_ours, t_ref, t_ours / t_ref))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.svm_sparse")
    parser.add_argument("--out", default="/tmp/svm-sparse")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = run(args.repeats)
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=False).stdout.strip()
    except OSError:  # pragma: no cover
        rev = "?"
    lines = [
        "# Benchmark svm-sparse: mlnotes.svm vs sklearn.svm on sparse (CSR) input",
        "",
        f"- command: `python -m benchmarks.svm_sparse --repeats {args.repeats}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; git {rev}",
        f"- machine: {platform.machine()}, Python {sys.version.split()[0]}; one BLAS "
        "thread; shared machine, so only the ratios are meaningful",
        "- data: random CSR 4,000 x 2,000, 1% non-zeros, 3,000 rows to train, 1,000 "
        "held out; defaults (rbf, gamma='scale'); time: fit + held-out score, median "
        f"of {args.repeats} alternating repeats",
        "",
        "| estimator | score ours | score sklearn | s ours | s sklearn | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, so, sr, to, tr, ratio in rows:
        metric = "accuracy" if name == "SVC" else "R^2"
        lines.append(f"| {name} ({metric}) | {so:.4f} | {sr:.4f} | {to:.2f} | {tr:.2f} | "
                     f"{ratio:.2f}x |")
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "svm-sparse.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
