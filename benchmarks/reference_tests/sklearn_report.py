"""Write the Markdown report of :mod:`benchmarks.reference_tests.sklearn` runs.

``python -m benchmarks.reference_tests.sklearn_report OUT.md RUN.json[:RUN.txt][@LABEL] ...``

Each ``RUN.json`` is the ``--json`` output of one harness run (every test's record);
the optional ``RUN.txt`` beside it is that run's printed table, read for the files
``--skip-unnamed`` left out; the optional ``LABEL`` says which run (commit, time) the
rows come from, shown in the table. A file present in several runs is taken from the
last one given. The report has, per test file, the tests that reach an
mlnotes class, how many pass, the failures that read scikit-learn-private internals,
the other failures grouped by message, and the aggregate pass rate over the tests
that do not read private internals.
"""

import collections
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

import sklearn

_REPO = Path(__file__).resolve().parents[2]


def _norm(message):
    message = re.sub(r"0x[0-9a-f]+", "0x..", message)
    return message.replace("|", "\\|").strip()[:140] or "(no message)"


def load(specs):
    by_file, not_run = {}, []
    for spec in specs:
        spec, _, label = spec.partition("@")
        json_path, _, txt_path = spec.partition(":")
        runs = collections.defaultdict(list)
        for r in json.loads(Path(json_path).read_text()):
            r["run"] = label or Path(json_path).stem
            runs[r["file"]].append(r)
        by_file.update(runs)
        if txt_path:
            for line in Path(txt_path).read_text().splitlines():
                if "not run: names no mirrored class" in line:
                    not_run.append(line.split()[0])
    records = [r for recs in by_file.values() for r in recs]
    return records, sorted(set(not_run) - set(by_file))


def write(out, records, not_run, command, notes=()):
    by_file = collections.OrderedDict()
    for r in sorted(records, key=lambda r: r["file"]):
        by_file.setdefault(r["file"], []).append(r)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_REPO,
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# scikit-learn's own test files against mlnotes' classes",
        "",
        f"scikit-learn {sklearn.__version__}; mlnotes commit {commit}; written "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "Command (one module at a time, niced):",
        "",
        "```",
        command,
        "```",
        "",
        "*reached*: tests that can touch an mlnotes class (skips and scikit-learn's "
        "own xfails left out); *private*: failures that read scikit-learn-private "
        "internals (a name imported from a private module, or an AttributeError on an "
        "`_underscored` attribute); *rate\\**: passed / (reached - private).",
        "",
        "| file | reached | passed | private | other | rate* | run |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    totals = collections.Counter()
    failures = collections.OrderedDict()
    privates = []
    for name, recs in by_file.items():
        ran = [r for r in recs if r["reached"] and r["outcome"] not in ("skipped", "xfailed")]
        if not ran:
            continue
        passed = sum(r["outcome"] in ("passed", "xpassed") for r in ran)
        failed = [r for r in ran if r["outcome"] not in ("passed", "xpassed")]
        private = [r for r in failed if r["private"]]
        other = [r for r in failed if not r["private"]]
        denom = len(ran) - len(private)
        totals.update(reached=len(ran), passed=passed, private=len(private),
                      other=len(other))
        rate = f"{100 * passed / denom:.1f}%" if denom else "-"
        lines.append(f"| {name} | {len(ran)} | {passed} | {len(private)} | "
                     f"{len(other)} | {rate} | {recs[0]['run']} |")
        privates += [(name, r) for r in private]
        if other:
            failures[name] = other
    denom = totals["reached"] - totals["private"]
    lines.append(f"| **all mirrored modules** | **{totals['reached']}** | "
                 f"**{totals['passed']}** | **{totals['private']}** | "
                 f"**{totals['other']}** | **{100 * totals['passed'] / denom:.1f}%** | |")
    zero = sorted({r["file"] for r in records} - set(
        n for n, recs in by_file.items()
        if any(r["reached"] and r["outcome"] not in ("skipped", "xfailed") for r in recs)))
    lines += ["", f"Aggregate: **{totals['passed']} / {denom} = "
              f"{100 * totals['passed'] / denom:.1f}%** of the tests that do not read "
              f"scikit-learn-private internals ({totals['passed']} / "
              f"{totals['reached']} = {100 * totals['passed'] / totals['reached']:.1f}% "
              "of all reached tests).", ""]
    if zero or not_run:
        lines += ["Files run with no test reaching an mlnotes class: "
                  + (", ".join(zero) if zero else "none") + ".", "",
                  "Files not run (`--skip-unnamed`: their source names none of the "
                  "module's mirrored classes or functions): "
                  + (", ".join(sorted(not_run)) if not_run else "none") + ".", ""]
    lines += ["## Failures that read scikit-learn-private internals", ""]
    for name, r in privates:
        lines.append(f"- `{r['test'].split('::', 1)[-1]}` ({name}): {_norm(r['message'])}")
    lines += ["", "## Remaining failures, by file and message", ""]
    for name, recs in failures.items():
        lines.append(f"### {name}")
        lines.append("")
        groups = collections.Counter(_norm(r["message"]) for r in recs)
        for message, count in groups.most_common():
            tests = [r["test"].split("::", 1)[-1] for r in recs
                     if _norm(r["message"]) == message]
            shown = ", ".join(f"`{t}`" for t in tests[:4]) + (
                f" and {len(tests) - 4} more" if len(tests) > 4 else "")
            lines.append(f"- {count} x {message}  \n  {shown}")
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + list(notes) + [""]
    Path(out).write_text("\n".join(lines))
    return totals


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out, specs = argv[0], argv[1:]
    records, not_run = load(specs)
    command = ("OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python -m "
               "benchmarks.reference_tests.sklearn <module> [--files test_<module>.py] "
               "--skip-unnamed --timeout 300 --json <module>.json")
    totals = write(out, records, not_run, command)
    print(dict(totals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
