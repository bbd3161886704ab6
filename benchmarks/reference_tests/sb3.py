"""Run Stable-Baselines3's own test files against mlnotes' agents.

``python -m benchmarks.reference_tests.sb3 [--algos A2C PPO] [--files test_run.py ...]
[--tests-dir DIR | --git-dir REPO.git] [--json OUT] [--timeout S] [-k EXPR]``

SB3's test files are obtained at run time, never committed here: by default
``pip download --no-deps --no-binary :all: stable-baselines3==<installed version>``
fetches the source distribution from PyPI (it ships ``tests/``), and the files are
extracted into a temporary directory; ``--tests-dir`` reads them from a folder and
``--git-dir`` from a (bare) git repository of SB3 (``git show HEAD:tests/<file>``).

In each file the imports of the algorithms, ``from stable_baselines3 import A2C, ...``,
are rewritten so that the names of :data:`SB3_TWINS` whose agent
:func:`mlnotes.utils.discovery.all_agents` returns come from :mod:`mlnotes.rl`; the
other names stay SB3's. Each file runs in its own pytest subprocess with the plugin
:mod:`benchmarks.reference_tests._sb3_plugin`, which keeps only the tests that reach
one of our agents (parametrised with our class, or naming it) and records each
outcome. The report gives, per file and per agent, the tests that pass, and lists every
other test: failures that read SB3-private internals (with the reason, from
:data:`PRIVATE_REASONS` or an ``AttributeError`` on an ``_underscored`` attribute)
apart from the rest.
"""

import argparse
import ast
import collections
import fnmatch
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

_PLUGIN = "benchmarks.reference_tests._sb3_plugin"
_REPO = Path(__file__).resolve().parents[2]

#: our agent's name (as ``all_agents()`` returns it) -> the SB3 class it replaces
SB3_TWINS = {"A2C": "A2C", "PPO": "PPO", "DQN": "DQN", "SAC": "SAC", "TD3": "TD3",
             "DDPG": "DDPG"}

#: the five files of issue 11's acceptance
DEFAULT_FILES = ("test_predict.py", "test_run.py", "test_save_load.py", "test_callbacks.py",
                 "test_deterministic.py")

#: tests (fnmatch patterns on "file::test[params]") that read SB3-private internals
#: (its save-format history and 'data' member, its schedule classes) or need SB3's
#: pickle-based format, with the reason; they are reported apart from real failures
PRIVATE_REASONS = {
    "test_save_load.py::test_save_load_env_cnn*":
        "deletes policy.pi_features_extractor to fake a file from SB3 < 1.7 and expects "
        "SB3's backward-compatibility warning when loading it (SB3's own save-format "
        "history)",
    "test_save_load.py::test_load_invalid_object*":
        "corrupts a cloudpickle entry in the 'data' member of SB3's zip format and "
        "expects SB3's warning",
    "test_save_load.py::test_save_load_backward_compatible*":
        "saves lambda schedules and loads them back, which needs pickling code; our "
        "format executes no code from a file by design (pass them in custom_objects), "
        "and it checks SB3's FloatSchedule class",
    "test_save_load.py::test_cast_lr_schedule*":
        "after the float check (which holds), loads a lambda learning rate from the "
        "file: needs pickling code, refused by design (custom_objects)",
    "test_save_load.py::test_save_load_no_target_params*":
        "fakes a DQN file from SB3 < 2.4.0 (an optimiser over the target network too) "
        "and expects SB3's backward-compatibility warning when loading it (SB3's own "
        "save-format history; a DQN of ours never saved target parameters in its "
        "optimiser, and an optimiser state that does not fit is refused)",
    "test_save_load.py::test_save_load_clip_range_portable*":
        "checks that clip_range is an instance of SB3's FloatSchedule/ConstantSchedule "
        "classes (SB3 internals; ours are mlnotes.rl.common schedules)",
}


def available_twins(algos=None):
    """``{name: our class}`` for the agents of ``all_agents()`` that have an SB3 twin."""
    from mlnotes.utils.discovery import all_agents

    ours = dict(all_agents())
    names = [n for n in SB3_TWINS if n in ours]
    if algos:
        unknown = sorted(set(algos) - set(names))
        if unknown:
            raise SystemExit(f"no mlnotes agent with an SB3 twin named {unknown}; "
                             f"available: {names}")
        names = [n for n in names if n in algos]
    return {n: ours[n] for n in names}


class _Rewriter(ast.NodeTransformer):
    """``from stable_baselines3 import A2C, X`` -> ours for the swapped names."""

    def __init__(self, swapped):
        self.swapped = swapped  # SB3 name -> "module" of our class
        self.count = 0

    def visit_ImportFrom(self, node):
        if node.level != 0 or node.module != "stable_baselines3":
            return node
        ours = [a for a in node.names if a.name in self.swapped]
        if not ours:
            return node
        self.count += len(ours)
        kept = [a for a in node.names if a.name not in self.swapped]
        new = [ast.ImportFrom(module=self.swapped[a.name], level=0,
                              names=[ast.alias(name=a.name, asname=a.asname)]) for a in ours]
        if kept:
            new.insert(0, ast.ImportFrom(module="stable_baselines3", names=kept, level=0))
        return new


def rewrite(source, swapped):
    """The test file's source with the swapped algorithm imports pointing to mlnotes.

    Parameters
    ----------
    source : str
        The test file.
    swapped : dict of str to str
        SB3 class name -> the module our class is imported from.

    Returns
    -------
    source : str
        The rewritten file.
    count : int
        Number of names redirected.
    """
    tree = ast.parse(source)
    rewriter = _Rewriter(swapped)
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    header = "# Generated by benchmarks.reference_tests.sb3 from SB3's test file.\n"
    return header + ast.unparse(tree) + "\n", rewriter.count


def fetch_tests(files, dest, tests_dir=None, git_dir=None):
    """Write SB3's test files into ``dest``; return the source description."""
    dest.mkdir(parents=True, exist_ok=True)
    if tests_dir is not None:
        for name in files:
            (dest / name).write_text((Path(tests_dir) / name).read_text())
        return f"folder {tests_dir}"
    if git_dir is not None:
        for name in files:
            text = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:tests/{name}"],
                                  check=True, capture_output=True, text=True).stdout
            (dest / name).write_text(text)
        head = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        return f"git {git_dir} at {head}"
    import stable_baselines3

    version = stable_baselines3.__version__
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        ":all:", f"stable-baselines3=={version}", "-d", tmp, "-q"],
                       check=True, capture_output=True, text=True)
        archives = list(Path(tmp).glob("*.tar.gz"))
        if not archives:
            raise SystemExit("pip download gave no source distribution; use --tests-dir "
                             "or --git-dir")
        with tarfile.open(archives[0]) as tar:
            members = {Path(m.name).name: m for m in tar.getmembers()
                       if "/tests/" in m.name and m.isfile()}
            missing = [f for f in files if f not in members]
            if missing:
                raise SystemExit(f"the sdist has no tests/{missing}; use --tests-dir or "
                                 "--git-dir")
            for name in files:
                data = tar.extractfile(members[name]).read()
                (dest / name).write_bytes(data)
    return f"PyPI sdist stable-baselines3=={version}"


def private_reason(record):
    """Why a failing test reads SB3-private internals (None: a real failure)."""
    key = f"{Path(record['nodeid'].split('::')[0]).name}::{record['nodeid'].split('::', 1)[1]}"
    for pattern, reason in PRIVATE_REASONS.items():
        if fnmatch.fnmatch(key, pattern):
            return reason
    if record.get("private"):
        return f"reads a private attribute ({record['message']})"
    return None


def run_file(path, names, out, timeout, per_test_timeout, k=None, m=None):
    """Run one rewritten test file in a pytest subprocess; return its records."""
    env = dict(os.environ, MLNOTES_SB3TEST_OUT=str(out),
               MLNOTES_SB3TEST_TIMEOUT=str(per_test_timeout),
               MLNOTES_SB3TEST_NAMES=",".join(names),
               PYTHONPATH=os.pathsep.join([str(_REPO), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", _PLUGIN,
           "--rootdir", str(path.parent), str(path), "-W", "ignore::DeprecationWarning"]
    if k:
        cmd += ["-k", k]
    if m:
        cmd += ["-m", m]
    started = time.time()
    try:
        proc = subprocess.run(cmd, cwd=path.parent, env=env, capture_output=True, text=True,
                              timeout=timeout)
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
        status = tail[0]
    except subprocess.TimeoutExpired:
        status = f"file timed out after {timeout} s"
    records = []
    if out.exists():
        records = [json.loads(line) for line in out.read_text().splitlines() if line]
    return records, status, time.time() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algos", nargs="*", help="our agents to swap in (default: all "
                        "with an SB3 twin)")
    parser.add_argument("--files", nargs="*", default=list(DEFAULT_FILES))
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--tests-dir", help="folder holding SB3's test files")
    source.add_argument("--git-dir", help="git repository of SB3 (bare is fine)")
    parser.add_argument("--json", help="write every record to this JSON file")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per file")
    parser.add_argument("--test-timeout", type=int, default=180, help="seconds per test")
    parser.add_argument("-k", help="pytest -k expression")
    parser.add_argument("-m", default="not expensive",
                        help="pytest -m expression (default: SB3's 'expensive' tests, e.g. "
                             "a 2 GB model, are left out)")
    args = parser.parse_args(argv)

    twins = available_twins(args.algos)
    if not twins:
        raise SystemExit("no mlnotes agent with an SB3 twin is available")
    swapped = {SB3_TWINS[n]: "mlnotes.rl" for n in twins}
    all_records = []
    with tempfile.TemporaryDirectory(prefix="mlnotes_sb3tests_") as tmp:
        tests = Path(tmp) / "tests"
        origin = fetch_tests(args.files, tests, args.tests_dir, args.git_dir)
        print(f"SB3 tests from {origin}; swapped: {', '.join(sorted(swapped))}")
        for name in args.files:
            path = tests / name
            text, count = rewrite(path.read_text(), swapped)
            path.write_text(text)
            out = Path(tmp) / f"{name}.jsonl"
            records, status, seconds = run_file(path, sorted(swapped), out, args.timeout,
                                                args.test_timeout, args.k, args.m)
            for r in records:
                r["file"] = name
                r["private_reason"] = (private_reason(r)
                                       if r["outcome"] in ("failed", "error", "timeout")
                                       else None)
            all_records += records
            print(f"\n== {name}: {count} import(s) swapped, {seconds:.0f} s ({status})")
            _print_file(records)
    _print_summary(all_records)
    if args.json:
        Path(args.json).write_text(json.dumps(all_records, indent=1))
    return 0


def _print_file(records):
    by_agent = collections.defaultdict(list)
    for r in records:
        by_agent[r["agent"]].append(r)
    for agent, recs in sorted(by_agent.items()):
        counts = collections.Counter(r["outcome"] for r in recs)
        private = [r for r in recs if r["private_reason"]]
        ran = len(recs) - counts["skipped"]
        print(f"  {agent}: {counts['passed']}/{ran} passed"
              f" ({len(private)} SB3-private, {counts['skipped']} skipped)")
        for r in recs:
            test = r["nodeid"].split("::", 1)[1]
            if r["outcome"] == "passed":
                print(f"    PASS {test}")
            elif r["outcome"] == "skipped":
                print(f"    SKIP {test}: {r['message']}")
            elif r["private_reason"]:
                print(f"    PRIV {test}: {r['private_reason']} [error: {r['message']}]")
            else:
                print(f"    FAIL {test}: {r['message']}")


def _print_summary(records):
    print("\n== summary (per agent: passed / run excluding SB3-private tests)")
    by_agent = collections.defaultdict(list)
    for r in records:
        by_agent[r["agent"]].append(r)
    for agent, recs in sorted(by_agent.items()):
        run = [r for r in recs if r["outcome"] != "skipped" and not r["private_reason"]]
        passed = sum(r["outcome"] == "passed" for r in run)
        private = sum(bool(r["private_reason"]) for r in recs)
        per_file = collections.defaultdict(lambda: [0, 0])
        for r in run:
            per_file[r["file"]][1] += 1
            per_file[r["file"]][0] += r["outcome"] == "passed"
        files = ", ".join(f"{f} {p}/{n}" for f, (p, n) in per_file.items())
        print(f"  {agent}: {passed}/{len(run)} ({files}); {private} SB3-private listed")


if __name__ == "__main__":
    sys.exit(main())
