"""Command line of the benchmarks: ``python -m benchmarks [--quick] [--only NAME] ...``.

Exit status: 0 when every selected row ran (rows whose mlnotes estimator does not exist
yet count as "not available", not as failures); 1 when a fit, predict or import raised;
2 for a usage error (e.g. ``--only`` matching nothing).
"""

from __future__ import annotations

import argparse
import fnmatch
import shlex
import sys
from pathlib import Path

from benchmarks.harness import RunContext

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


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
                   help=f"output directory (default: {DEFAULT_OUT})")
    p.add_argument("--repeats", type=int, default=5, metavar="N",
                   help="timed repeats per estimator, the median is reported (default 5)")
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

    ctx = RunContext(quick=args.quick, repeats=args.repeats, out_dir=args.out,
                     command=" ".join(["python -m benchmarks", *map(shlex.quote, argv)]))
    _prepare_threads()
    from benchmarks.report import environment, write_report

    failed = False
    for sname, cases in chosen.items():
        suite = suites[sname]
        ctx.log(f"[{sname}] {len(cases)} case(s), {ctx.mode} mode, "
                f"{ctx.repeats} repeats -> {ctx.out_dir}")
        try:
            result = suite.run(ctx, cases)
        except Exception:  # a harness bug or a broken suite: report, go on, fail at the end
            import traceback

            traceback.print_exc()
            print(f"suite {sname!r} crashed", file=sys.stderr)
            failed = True
            continue
        text, md_path, png_path = write_report(result, ctx, environment())
        print(text)
        print(f"wrote {md_path}" + (f" and {png_path}" if png_path else ""))
        failed = failed or result.failed
    if failed:
        print("benchmarks: some rows failed (status 'error' above)", file=sys.stderr)
    return 1 if failed else 0


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
