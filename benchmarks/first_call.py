"""First call of every estimator in a fresh process: ``python -m benchmarks.first_call``.

What a new user waits for: for each estimator of ``all_estimators()``, a new Python
process imports it, then times its first ``fit`` + ``predict`` (the workload of
``mlnotes.compile``: 300 x 16 float64 features, integer labels or float targets,
binary levels for density models) and, in the same process, a second identical call
(the compute alone, everything compiled and loaded). Two settings:

``cached``
    numba's cache as the README's set-up leaves it (``make install`` runs
    ``python -m mlnotes.compile``): the first call loads compiled kernels.
``empty``
    an empty numba cache (``NUMBA_CACHE_DIR`` pointing at a new empty directory for
    each estimator): a ``pip install`` user who skipped ``python -m mlnotes.compile``,
    so the first call compiles every kernel it runs.

Usage::

    python -m benchmarks.first_call                       # both, every estimator
    python -m benchmarks.first_call --mode cached --only SVC,Lasso
    python -m benchmarks.first_call --out /tmp/first      # writes first-call.md there

The table goes to ``<out>/first-call.md`` (default ``benchmarks/results/local``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "local"
LIMIT_CACHED = 5.0  # seconds: the acceptance of issue 12 for the cached setting


class _CompileProfile:
    """numba ``numba:compile`` events: exclusive compile seconds per function."""

    def __init__(self):
        from numba.core import event

        self.stack, self.seconds, self.count = [], {}, 0

        class _Listener(event.Listener):
            def on_start(_, e):
                d = e.data["dispatcher"]
                self.stack.append([f"{d.py_func.__module__}.{d.py_func.__qualname__}",
                                   time.perf_counter(), 0.0])

            def on_end(_, e):
                name, start, children = self.stack.pop()
                total = time.perf_counter() - start
                self.seconds[name] = self.seconds.get(name, 0.0) + total - children
                self.count += 1
                if self.stack:
                    self.stack[-1][2] += total

        self.listener = _Listener()
        event.register("numba:compile", self.listener)

    def top(self, n=4):
        best = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:n]
        return [[k.removeprefix("mlnotes."), round(v, 2)] for k, v in best]


def _child(spec: str, profile: bool = False) -> None:
    module_name, name = spec.split(":")
    prof = _CompileProfile() if profile else None
    t0 = time.perf_counter()
    import importlib

    cls = getattr(importlib.import_module(module_name), name)
    t1 = time.perf_counter()
    from mlnotes.compile import workload

    run = workload(name, cls)
    t2 = time.perf_counter()
    run()
    t3 = time.perf_counter()
    run()
    t4 = time.perf_counter()
    out = {"name": name, "import_s": t1 - t0, "first_s": t3 - t2, "second_s": t4 - t3}
    if prof is not None:
        out.update(compiled=prof.count, compile_s=round(sum(prof.seconds.values()), 2),
                   top=prof.top())
    print(json.dumps(out))


def measure(name: str, spec: str, mode: str, timeout: float = 600.0) -> dict:
    """Run one estimator (``spec`` = ``"module:Class"``) in a fresh interpreter."""
    env = dict(os.environ)
    tmp = None
    if mode == "empty":
        tmp = tempfile.TemporaryDirectory(prefix="numba-empty-")
        env["NUMBA_CACHE_DIR"] = tmp.name
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.first_call", "--child",
                               spec] + (["--profile"] if mode == "empty" else []), cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": name, "error": f"timeout after {timeout:.0f} s"}
    finally:
        if tmp is not None:
            tmp.cleanup()
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"name": name, "error": tail[:200]}
    out = json.loads(lines[-1])
    out["process_s"] = wall
    return out


def _public_modules() -> dict:
    """``{class: public module}`` (``mlnotes.tree``, not ``mlnotes.tree._classes``)."""
    import importlib
    import pkgutil

    import mlnotes

    found = {}
    for _, name, _ in pkgutil.walk_packages(mlnotes.__path__, prefix="mlnotes."):
        if any(p.startswith("_") for p in name.split(".")[1:]):
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr, None)
            if isinstance(obj, type):
                found.setdefault(obj, name)
    return found


def _table(results: list[dict]) -> list[str]:
    profiled = any("compiled" in r for r in results)
    extra = " functions compiled | compile s | largest compiles (exclusive s) |" \
        if profiled else ""
    lines = ["| estimator | import s | first fit+predict s | second s | first - second s "
             "| process s |" + extra,
             "|---|---:|---:|---:|---:|---:|" + ("---:|---:|---|" if profiled else "")]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | – | – | – | – | error: {r['error']} |"
                         + (" | | |" if profiled else ""))
            continue
        row = (f"| {r['name']}{' (torch)' if r.get('torch') else ''} | "
               f"{r['import_s']:.2f} | {r['first_s']:.2f} | {r['second_s']:.3f} | "
               f"{r['first_s'] - r['second_s']:.2f} | {r['process_s']:.1f} |")
        if profiled:
            top = ", ".join(f"{n.rsplit('.', 1)[-1]} {s:.1f}" for n, s in r.get("top", []))
            row += f" {r.get('compiled', 0)} | {r.get('compile_s', 0):.1f} | {top} |"
        lines.append(row)
    return lines


def _summary(results: list[dict], mode: str) -> list[str]:
    ok = [r for r in results if "error" not in r]
    if not ok:
        return ["no measurement"]
    worst = max(ok, key=lambda r: r["first_s"])
    slow = sorted(ok, key=lambda r: -r["first_s"])[:5]
    extra = max(ok, key=lambda r: r["first_s"] - r["second_s"])
    line = (f"worst first call **{worst['first_s']:.1f} s** ({worst['name']}); median "
            f"{statistics.median(r['first_s'] for r in ok):.2f} s; slowest five: "
            + ", ".join(f"{r['name']} {r['first_s']:.1f} s" for r in slow)
            + f"; largest first-call overhead (first - second) "
            f"{extra['first_s'] - extra['second_s']:.1f} s ({extra['name']})")
    if mode == "cached":
        line += (f". Criterion worst <= {LIMIT_CACHED:g} s: "
                 f"**{'met' if worst['first_s'] <= LIMIT_CACHED else 'NOT met'}**")
    return [line]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.first_call",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=("cached", "empty", "both"), default="both")
    p.add_argument("--only", default="", help="comma-separated estimator names")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child, args.profile)
        return 0
    from benchmarks.cli import publish_refusal
    from benchmarks.report import environment

    refusal = publish_refusal(args.out)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    from mlnotes.utils.discovery import all_estimators

    from mlnotes.compile import is_torch_estimator

    classes = dict(all_estimators())
    public = _public_modules()
    names = list(classes)
    if args.only:
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        names = [n for n in names if n in wanted]
    modes = ("cached", "empty") if args.mode == "both" else (args.mode,)
    env = environment()
    text = [
        "# First call of every estimator in a fresh process",
        "",
        f"- command: `python -m benchmarks.first_call {' '.join(argv or sys.argv[1:])}`",
        f"- date: {env['date']}; git {env['git']}",
        f"- machine: {env['machine']}; Python {platform.python_version()}; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        "- workload: `mlnotes.compile.workload` (300 x 16 float64; integer labels, float "
        "targets or binary levels); default parameters except the few small data needs; "
        "default threads. *import*: importing mlnotes and the class; *first*: the first "
        "fit + predict (numba compiles or loads its kernels here); *second*: the same call "
        "again in the same process (the compute alone); *process*: the whole interpreter.",
        "",
    ]
    failed = False
    for mode in modes:
        print(f"[first_call] {mode}: {len(names)} estimators", file=sys.stderr, flush=True)
        results = []
        for name in names:
            cls = classes[name]
            r = measure(name, f"{public.get(cls, cls.__module__)}:{name}", mode)
            r["torch"] = is_torch_estimator(cls)
            results.append(r)
            failed = failed or "error" in r
            print(f"  {name:<32} " + (f"error: {r['error']}" if "error" in r else
                                       f"first {r['first_s']:6.2f} s, second "
                                       f"{r['second_s']:.3f} s"), file=sys.stderr, flush=True)
        title = ("(a) after the README's set-up (`make install`, which runs "
                 "`python -m mlnotes.compile`)" if mode == "cached" else
                 "(b) empty numba cache (a `pip install` that skipped "
                 "`python -m mlnotes.compile`)")
        text += [f"## {title}", "", *_summary(results, mode), "", *_table(results), ""]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "first-call.md"
    path.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))
    print(f"wrote {path}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
