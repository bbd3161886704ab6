"""Command line of the benchmarks: ``python -m benchmarks [--quick] [--only NAME] ...``.

Exit status: 0 when every selected row ran (rows whose mlnotes estimator does not exist
yet count as "not available", not as failures); 1 when a fit, predict or import raised;
2 for a usage error (e.g. ``--only`` matching nothing) or when asked to write into the
tracked ``benchmarks/results/`` from a tree with uncommitted changes.

Results go to ``benchmarks/results/local/`` (git-ignored) unless ``--out`` says
otherwise; the tracked ``benchmarks/results/`` is written only from a clean tree
(``make bench-publish``), so that every published table names the commit it measured.
"""

from __future__ import annotations

import argparse
import fnmatch
import shlex
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import RunContext, quick_case_names

ROOT = Path(__file__).resolve().parents[1]
#: the tracked results (published tables): written only from a clean tree
PUBLISHED_OUT = Path(__file__).resolve().parent / "results"
#: where runs write by default (git-ignored)
DEFAULT_OUT = PUBLISHED_OUT / "local"

#: ``--subset`` cases of suites that declare no ``quick_cases`` attribute themselves
#: (a suite's own declaration wins; see ``benchmarks.harness.quick_case_names``)
QUICK_CASES = {
    "agents": ["A2C-speed"],
    "cluster": ["KMeans", "GaussianMixture-full"],
    "decomposition": ["PCA-full", "KernelPCA-rbf"],
    "density": ["Histogram-digits", "IndependentBernoulli-digits", "MADE-digits",
                "BernoulliMixture-20-digits"],
    "ensemble": ["AdaBoostClassifier", "BaggingRegressor"],
    "generative": ["LinearDiscriminantAnalysis", "GaussianNB"],
    "kernels": ["KernelRidge-rbf", "GaussianRandomProjection"],
    "linear": ["Ridge", "Lasso", "LogisticRegression"],
    "neighbors": ["KNeighborsClassifier-kd_tree", "KNeighborsClassifier-brute"],
    "neural_network": ["MLPClassifier-adam", "CNN-vs-MLP"],
    "preprocessing": ["PolynomialFeatures"],
    "svm": ["SVC", "LinearSVC"],
    "trees": ["DecisionTreeClassifier", "RandomForestClassifier"],
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Compare mlnotes with its references (scikit-learn, ...) on one "
                    "thread; write <suite>.md and <suite>.png tables and charts.")
    p.add_argument("--quick", action="store_true",
                   help="smaller versions of the big datasets (a few minutes in all); "
                        "writes <suite>-quick.md/.png")
    p.add_argument("--only", action="append", metavar="NAME", default=[],
                   help="run only these suites or cases: a suite name, a case name, or "
                        "SUITE.CASE; shell-style wildcards allowed, case-insensitive; "
                        "repeat the option or separate names by commas")
    p.add_argument("--list", action="store_true",
                   help="list the suites and their cases, then exit")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help=f"output directory (default: {DEFAULT_OUT}, git-ignored; the "
                        f"tracked {PUBLISHED_OUT} only from a clean tree)")
    p.add_argument("--repeats", type=int, default=5, metavar="N",
                   help="timed repeats per estimator, the median is reported (default 5)")
    p.add_argument("--subset", action="store_true",
                   help="run only each suite's representative quick cases (its "
                        "quick_cases attribute; make bench)")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="time budget of the whole run: each suite gets an equal share of "
                        "what is left and skips the rows it has no time for")
    p.add_argument("--intelex", action="store_true",
                   help="estimator suites also time scikit-learn-intelex's class of the same "
                        "name (a third column; pip install scikit-learn-intelex); results go "
                        "to <suite>-intelex.md")
    p.add_argument("--threads", choices=("1", "all"), default="1",
                   help="'1' (default): one thread for every library; 'all': every core for "
                        "BLAS, numba, torch and oneDAL, n_jobs=-1 where an estimator has it "
                        "(results to <suite>-allcores.md)")
    p.add_argument("--brief", action="store_true",
                   help="print only the one-screen summary (the tables still go to files)")
    return p


def _match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower(), name.lower()
    return pattern == name or fnmatch.fnmatchcase(name, pattern)


def select(suites: dict, only: list[str]):
    """``{suite name: [case names]}`` selected by ``only`` patterns, and unmatched ones."""
    patterns = [p.strip() for item in only for p in item.split(",") if p.strip()]
    chosen, used = {}, set()
    for sname, suite in suites.items():
        cases = list(suite.case_names())
        if not patterns:
            chosen[sname] = cases
            continue
        picked = []
        for case in cases:
            for pat in patterns:
                if (_match(pat, sname) or _match(pat, case)
                        or _match(pat, f"{sname}.{case}")):
                    used.add(pat)
                    picked.append(case)
                    break
        if picked:
            chosen[sname] = picked
    unmatched = [p for p in patterns if p not in used]
    return chosen, unmatched


def main(argv=None, suites: dict | None = None) -> int:
    """Run the benchmarks; ``suites`` replaces the registry (used by the tests)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.repeats < 1:
        print("--repeats must be at least 1", file=sys.stderr)
        return 2
    if suites is None:
        from benchmarks.suites import available_suites

        suites = available_suites()
    chosen, unmatched = select(suites, args.only)
    if args.subset and not args.only:
        chosen = {name: quick_case_names(suites[name], QUICK_CASES.get(name))
                  for name in chosen}
    if unmatched:
        names = [f"{s}.{c}" for s, suite in suites.items() for c in suite.case_names()]
        print(f"--only: nothing matches {', '.join(map(repr, unmatched))}; known: "
              f"{', '.join(suites)} and {', '.join(names)}", file=sys.stderr)
        return 2

    if args.list:
        for sname, cases in chosen.items():
            suite = suites[sname]
            print(f"{sname}: {suite.description}")
            for case, line in zip(suite.case_names(), suite.describe()):
                if case in cases:
                    print(f"  {line}")
        return 0

    refusal = publish_refusal(args.out)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2

    ctx = RunContext(quick=args.quick, repeats=args.repeats, out_dir=args.out,
                     command=" ".join(["python -m benchmarks", *map(shlex.quote, argv)]),
                     subset=args.subset, intelex=args.intelex,
                     all_cores=args.threads == "all")
    _prepare_threads()
    from benchmarks.report import environment, run_summary, suite_headline, write_report

    start = time.monotonic()
    failed = False
    headlines, crashed, skipped, files = [], [], [], {}
    names = list(chosen)
    for i, sname in enumerate(names):
        cases = chosen[sname]
        suite = suites[sname]
        if args.budget is not None:  # an equal share of what is left
            left = args.budget - (time.monotonic() - start)
            if left <= 0:  # not even started: a suite may not check its deadline
                ctx.log(f"[{sname}] skipped: the --budget of {args.budget:g} s is spent")
                skipped.append(sname)
                continue
            ctx.deadline = time.monotonic() + left / (len(names) - i)
        ctx.log(f"[{sname}] {len(cases)} case(s), {ctx.mode} mode, "
                f"{ctx.repeats} repeats -> {ctx.out_dir}"
                + (f", {ctx.time_left():.0f} s budget" if ctx.deadline else ""))
        suite_start = time.monotonic()
        try:
            result = suite.run(ctx, cases)
        except Exception:  # a harness bug or a broken suite: report, go on, fail at the end
            import traceback

            traceback.print_exc()
            print(f"suite {sname!r} crashed", file=sys.stderr)
            failed = True
            crashed.append(sname)
            continue
        text, md_path, png_path = write_report(result, ctx, environment())
        files[sname] = md_path
        headlines.append(suite_headline(result))
        headlines[-1]["seconds"] = time.monotonic() - suite_start
        if not args.brief:
            print(text)
        print(f"wrote {md_path}" + (f" and {png_path}" if png_path else ""),
              file=sys.stderr if args.brief else sys.stdout)
        failed = failed or result.failed
    if len(names) > 1 or args.brief:
        summary = run_summary(headlines, elapsed=time.monotonic() - start, ctx=ctx,
                              files=files, crashed=crashed, skipped=skipped)
        print(summary)
        if files:
            stem = "summary-quick" if ctx.quick else "summary"
            Path(args.out, f"{stem}{'-subset' if ctx.subset else ''}.md").write_text(
                "```\n" + summary + "```\n", encoding="utf-8")
    if failed:
        print("benchmarks: some rows failed (status 'error' above)", file=sys.stderr)
    return 1 if failed else 0


def publish_refusal(out_dir: Path) -> str | None:
    """Why results may not be written to ``out_dir`` now (None: they may).

    Only the tracked ``benchmarks/results/`` is guarded: it is written from a clean
    tree (no modified tracked file, no untracked file outside ``results/``), so that the
    commit named in every table is the code that was measured.
    """
    try:
        if Path(out_dir).resolve() != PUBLISHED_OUT.resolve():
            return None
    except OSError:
        return None
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":(exclude)benchmarks/results"],
            cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot check that the tree is clean ({exc}); not writing to {out_dir}"
    if status.returncode != 0:
        return None  # not a git checkout (an unpacked copy): nothing to compare with
    dirty = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5
                                        else "")
        return (f"refusing to write into the tracked {PUBLISHED_OUT}: the tree has "
                f"uncommitted changes ({shown}). Commit or remove them first (make "
                f"bench-publish), or write elsewhere with --out (default "
                f"{DEFAULT_OUT}, git-ignored).")
    return None


def _prepare_threads():
    """Import torch (and numba) before threadpoolctl limits are applied, one thread each."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # pragma: no cover - numba absent or NUMBA_NUM_THREADS lower
        pass
