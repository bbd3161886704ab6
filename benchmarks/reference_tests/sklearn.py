"""Run scikit-learn's own test files against mlnotes' classes.

``python -m benchmarks.reference_tests.sklearn linear_model [svm ...] [options]``

For each scikit-learn sub-package named (``linear_model``, ``svm``,
``neighbors``...), every ``sklearn/<module>/tests/test_*.py`` of the *installed*
scikit-learn is copied at run time into a temporary directory (scikit-learn's
code is never committed here) and its imports are rewritten so that the names
mlnotes mirrors come from mlnotes:

- ``from sklearn.<module> import A, B`` and ``from sklearn import <module>`` are
  redirected to a generated shim module that exports mlnotes' class or function
  for every name both packages define and falls back to scikit-learn for the rest
  (PEP 562 ``__getattr__``);
- imports from private modules (``sklearn.<module>._ridge``) are left alone: those
  tests read scikit-learn's internals (as do those importing a private name from the
  package, ``from sklearn.<module> import _sgd_fast``: redirected, but flagged).

The mirrored names come from :func:`mlnotes.utils.discovery.all_estimators` (the
classes) plus the public functions in the ``__all__`` of ``mlnotes.<module>``,
kept where ``sklearn.<module>`` has the same name. Each file runs in its own
pytest subprocess (scikit-learn's ``conftest`` loaded as a plugin for its
fixtures), each test under a time limit (see ``_plugin.py``). The report gives,
per file, the tests that reach one of the swapped names, how many pass, and the
failures split into "reads scikit-learn-private internals" and the rest, with
the most common failure messages.

Options: ``--files PATTERN`` (glob on the test file names, default ``test_*.py``),
``--timeout S`` (per test, default 60), ``--file-timeout S`` (per file, default
1800), ``--json PATH`` (write every test's record), ``--top N`` (failure messages
listed per file), ``-k EXPR`` (passed to pytest), ``--skip-unnamed`` (do not run a
file whose source names none of the module's mirrored names: none of its tests can
reach an mlnotes class, so it would report 0 reached; it is listed as not run).
"""

import argparse
import ast
import collections
import fnmatch
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PLUGIN = "benchmarks.reference_tests._plugin"
_REPO = Path(__file__).resolve().parents[2]


def mirrored_names(module):
    """``{name: "mlnotes.<module>"}`` for every name mlnotes and sklearn share there."""
    from mlnotes.utils.discovery import all_estimators

    sk_module = importlib.import_module(f"sklearn.{module}")
    names = {}
    for name, cls in all_estimators():
        parts = cls.__module__.split(".")
        if len(parts) > 1 and parts[1] == module and hasattr(sk_module, name):
            names[name] = f"mlnotes.{module}"
    try:
        ml_module = importlib.import_module(f"mlnotes.{module}")
    except ImportError:
        return names
    for name in getattr(ml_module, "__all__", ()):
        obj = getattr(ml_module, name, None)
        if inspect.isfunction(obj) and hasattr(sk_module, name):
            names[name] = f"mlnotes.{module}"
    return names


def _shim_source(module, names):
    lines = [
        f'"""Generated: sklearn.{module} with mlnotes\' classes swapped in."""',
        f"import sklearn.{module} as _reference",
    ]
    for name, source in sorted(names.items()):
        lines.append(f"from {source} import {name}")
    lines += [
        "",
        "",
        "def __getattr__(name):",
        "    return getattr(_reference, name)",
        "",
    ]
    return "\n".join(lines)


def _shim_name(module):
    return f"_mlnotes_shim_{module}"


class _Rewriter(ast.NodeTransformer):
    """Redirect public imports of the mirrored sklearn modules to the shims."""

    def __init__(self, modules):
        self.modules = set(modules)
        self.private_names = set()

    def visit_ImportFrom(self, node):
        mod = node.module or ""
        if node.level == 0 and mod.startswith("sklearn."):
            parts = mod.split(".")
            if parts[1] in self.modules and len(parts) > 2 and any(
                    p.startswith("_") for p in parts[2:]):
                self.private_names.update(a.asname or a.name for a in node.names)
                return node
            if len(parts) == 2 and parts[1] in self.modules:
                # ``from sklearn.linear_model import _stochastic_gradient``: a
                # private module reached through the package, read by the test
                self.private_names.update(a.asname or a.name for a in node.names
                                          if a.name.startswith("_"))
                node.module = _shim_name(parts[1])
                return node
        if node.level == 0 and mod == "sklearn":
            swapped = [a for a in node.names if a.name in self.modules]
            if not swapped:
                return node
            kept = [a for a in node.names if a.name not in self.modules]
            new = [ast.Import(names=[ast.alias(name=_shim_name(a.name),
                                               asname=a.asname or a.name)])
                   for a in swapped]
            if kept:
                new.insert(0, ast.ImportFrom(module="sklearn", names=kept, level=0))
            return new
        return node


def rewrite(source, modules):
    """Return ``(new_source, private_names)`` for a test file's source."""
    tree = ast.parse(source)
    rewriter = _Rewriter(modules)
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    return ast.unparse(tree), rewriter.private_names


def names_a_mirrored_name(source, names):
    """Whether a test file's source contains one of ``names`` as a word."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source))
    return bool(words & set(names))


def _test_files(module, pattern):
    sk_module = importlib.import_module(f"sklearn.{module}")
    test_dir = Path(sk_module.__file__).parent / "tests"
    return sorted(p for p in test_dir.glob("test_*.py") if fnmatch.fnmatch(p.name, pattern))


def run_file(path, module, all_modules, names, workdir, *, timeout, file_timeout,
             keyword=None):
    """Run one rewritten test file; return its list of per-test records."""
    source, private_names = rewrite(path.read_text(), all_modules)
    target = workdir / f"{module}__{path.name}"
    target.write_text(source)
    out = workdir / f"{target.stem}.jsonl"
    out.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update({
        "MLNOTES_REFTEST_OUT": str(out),
        "MLNOTES_REFTEST_TIMEOUT": str(timeout),
        "MLNOTES_REFTEST_NAMES": ",".join(names),
        "MLNOTES_REFTEST_PRIVATE": ",".join(sorted(private_names)),
        "PYTHONPATH": os.pathsep.join([str(workdir), str(_REPO),
                                       env.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
    })
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "-p", "sklearn.conftest", "-p", _PLUGIN, "--rootdir", str(workdir),
           "-o", "addopts=", "--tb=short", "-W", "ignore", str(target)]
    if keyword:
        cmd += ["-k", keyword]
    try:
        subprocess.run(cmd, cwd=workdir, env=env, timeout=file_timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    records = []
    if out.exists():
        records = [json.loads(line) for line in out.read_text().splitlines() if line]
    if timed_out:
        records.append({"test": f"{path.name}::<file timeout>", "outcome": "timeout",
                        "reached": True, "private": False,
                        "message": f"the file ran longer than {file_timeout} s"})
    return records


def summarise(records):
    """Counts over the tests that reach a swapped name (skips left out)."""
    ran = [r for r in records if r["reached"] and r["outcome"] not in ("skipped", "xfailed")]
    passed = sum(r["outcome"] in ("passed", "xpassed") for r in ran)
    failed = [r for r in ran if r["outcome"] not in ("passed", "xpassed")]
    private = [r for r in failed if r["private"]]
    public = [r for r in failed if not r["private"]]
    return {"reached": len(ran), "passed": passed, "failed_private": len(private),
            "failed_other": len(public), "failures": public}


def _rate(num, den):
    return f"{100.0 * num / den:5.1f}%" if den else "    -"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reference_tests.sklearn",
        description="Run scikit-learn's test files against mlnotes' classes.")
    parser.add_argument("modules", nargs="+", help="sklearn sub-packages, e.g. linear_model")
    parser.add_argument("--files", default="test_*.py")
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--file-timeout", type=int, default=1800)
    parser.add_argument("--json", default=None)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("-k", dest="keyword", default=None)
    parser.add_argument("--skip-unnamed", action="store_true")
    args = parser.parse_args(argv)

    all_records = []
    totals = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="mlnotes-reftests-") as tmp:
        workdir = Path(tmp)
        names_by_module = {m: mirrored_names(m) for m in args.modules}
        for module, names in names_by_module.items():
            (workdir / f"{_shim_name(module)}.py").write_text(_shim_source(module, names))
        print(f"{'file':45s} {'reached':>7s} {'passed':>6s} {'rate':>6s} "
              f"{'private':>7s} {'other':>5s} {'rate*':>6s} {'time':>6s}")
        for module, names in names_by_module.items():
            for path in _test_files(module, args.files):
                if args.skip_unnamed and not names_a_mirrored_name(path.read_text(), names):
                    print(f"{module + '/' + path.name:45s} {'not run: names no mirrored class'}",
                          flush=True)
                    continue
                start = time.perf_counter()
                records = run_file(path, module, args.modules, names, workdir,
                                   timeout=args.timeout, file_timeout=args.file_timeout,
                                   keyword=args.keyword)
                elapsed = time.perf_counter() - start
                for r in records:
                    r["file"] = f"{module}/{path.name}"
                all_records += records
                s = summarise(records)
                totals.update({k: s[k] for k in ("reached", "passed", "failed_private",
                                                 "failed_other")})
                not_private = s["reached"] - s["failed_private"]
                print(f"{module + '/' + path.name:45s} {s['reached']:7d} {s['passed']:6d} "
                      f"{_rate(s['passed'], s['reached']):>6s} {s['failed_private']:7d} "
                      f"{s['failed_other']:5d} {_rate(s['passed'], not_private):>6s} "
                      f"{elapsed:5.0f}s", flush=True)
                messages = collections.Counter(
                    re.sub(r"0x[0-9a-f]+", "0x..", r["message"])[:160]
                    for r in s["failures"])
                for message, count in messages.most_common(args.top):
                    print(f"    {count:4d} x {message}")
    not_private = totals["reached"] - totals["failed_private"]
    print(f"{'TOTAL':45s} {totals['reached']:7d} {totals['passed']:6d} "
          f"{_rate(totals['passed'], totals['reached']):>6s} {totals['failed_private']:7d} "
          f"{totals['failed_other']:5d} {_rate(totals['passed'], not_private):>6s}")
    print("rate: passed / tests reaching an mlnotes name (skips left out); rate*: the "
          "same without the failures that read scikit-learn-private internals.")
    if args.json:
        Path(args.json).write_text(json.dumps(all_records, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
