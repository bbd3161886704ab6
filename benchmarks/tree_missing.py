"""Missing values and the absolute-error criterion in the trees: mlnotes vs scikit-learn.

``python -m benchmarks.tree_missing [--out DIR] [--repeats 3]``

make_classification / make_regression 10,000 x 20 (8 informative features), with
10% of the entries of X set to NaN at random where the case says so; the
absolute-error tree on the first 2,000 rows. Both libraries fit with
``random_state=0`` and otherwise default parameters, one thread; fit + predict
on the training set is timed, ours and scikit-learn's alternating in every
repeat (order swapped each repeat), after one excluded warm-up fit of each
(numba compilation). The predictions are checked to be identical. Writes
``tree-missing.md`` to ``--out``.
"""

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from sklearn import ensemble as sk_ensemble
from sklearn import tree as sk_tree
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_limits

from mlnotes import ensemble, tree


def _cases():
    rng = np.random.default_rng(0)
    Xc, yc = make_classification(n_samples=10000, n_features=20, n_informative=8,
                                 random_state=0)
    Xr, yr = make_regression(n_samples=10000, n_features=20, n_informative=8,
                             noise=10.0, random_state=0)

    def nan(X, frac=0.1):
        X = X.copy()
        X[rng.random(X.shape) < frac] = np.nan
        return X

    Xcn, Xrn = nan(Xc), nan(Xr)
    return [
        ("DecisionTreeClassifier, no NaN", tree.DecisionTreeClassifier,
         sk_tree.DecisionTreeClassifier, {}, Xc, yc),
        ("DecisionTreeClassifier, 10% NaN", tree.DecisionTreeClassifier,
         sk_tree.DecisionTreeClassifier, {}, Xcn, yc),
        ("DecisionTreeClassifier random splitter, 10% NaN", tree.DecisionTreeClassifier,
         sk_tree.DecisionTreeClassifier, {"splitter": "random"}, Xcn, yc),
        ("DecisionTreeRegressor, 10% NaN", tree.DecisionTreeRegressor,
         sk_tree.DecisionTreeRegressor, {}, Xrn, yr),
        ("DecisionTreeRegressor absolute_error (2,000 rows)", tree.DecisionTreeRegressor,
         sk_tree.DecisionTreeRegressor, {"criterion": "absolute_error"}, Xr[:2000],
         yr[:2000]),
        ("RandomForestClassifier 20 trees, 10% NaN", ensemble.RandomForestClassifier,
         sk_ensemble.RandomForestClassifier, {"n_estimators": 20}, Xcn, yc),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/local")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with threadpool_limits(1):
        for name, ours_cls, ref_cls, params, X, y in _cases():
            ours = ours_cls(random_state=0, **params)
            ref = ref_cls(random_state=0, **params)
            for est in (ours, ref):
                est.fit(X, y).predict(X)
            t_ours, t_ref = [], []
            for r in range(args.repeats):
                pairs = [(ours, t_ours), (ref, t_ref)]
                for est, acc in (pairs if r % 2 == 0 else pairs[::-1]):
                    t0 = time.perf_counter()
                    est.fit(X, y).predict(X)
                    acc.append(time.perf_counter() - t0)
            same = bool(np.array_equal(ours.predict(X), ref.predict(X)))
            a, b = np.median(t_ours), np.median(t_ref)
            row = (f"| {name} | {X.shape[0]:,} x {X.shape[1]} | {1e3 * a:,.0f} | "
                   f"{1e3 * b:,.0f} | {a / b:.2f}x | {same} |")
            print(row, flush=True)
            rows.append(row)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = "\n".join([
        "# Trees with missing values and the absolute-error criterion vs scikit-learn",
        "",
        "- command: `python -m benchmarks.tree_missing`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"machine: {platform.machine()}, Python {platform.python_version()}",
        f"- one thread; fit + predict time, median of {args.repeats} alternating "
        "repeats after a warm-up; same predictions checked",
        "",
        "| case | data | ms ours | ms sklearn | ratio | same predictions |",
        "|---|---:|---:|---:|---:|---|",
        *rows, ""])
    (out / "tree-missing.md").write_text(text)
    print(f"written {out / 'tree-missing.md'}")


if __name__ == "__main__":
    main()
