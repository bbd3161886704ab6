"""The first hour of a new user (issue 12): numba cache, compile step, ``make bench``."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sklearn.datasets import make_regression

from benchmarks import cli
from benchmarks.cli import main
from benchmarks.datasets import Dataset
from benchmarks.harness import (
    Case,
    EstimatorSuite,
    RunContext,
    SuiteResult,
    quick_case_names,
)
from benchmarks.report import run_summary, suite_headline

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------- numba cache


@pytest.fixture
def world_tmp():
    """A temporary directory that another user (``nobody``) can traverse."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="mlnotes-ro-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:  # read-only copies: give write back to delete
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(sys.platform != "linux", reason="uses Linux permissions")
@pytest.mark.parametrize("home_writable", [True, False])
def test_read_only_package_still_caches(world_tmp, home_writable):
    """A read-only install caches compiled kernels per user.

    A copy of the package is made read-only for the user running it (as root: the
    child runs as ``nobody``); two fresh processes run KernelPerceptron (one small
    kernel): the first compiles and writes the cache, the second loads it, and nothing
    is written inside the package. With a writable home the cache is numba's per-user
    directory (``$XDG_CACHE_HOME/numba``); without one, numba alone would fail to
    import the package, and mlnotes points it at ``$TMPDIR/mlnotes-numba-cache-<uid>``.
    """
    tmp_path = world_tmp
    site = tmp_path / "site"
    shutil.copytree(ROOT / "mlnotes", site / "mlnotes",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    cache_home, scratch = tmp_path / "cache", tmp_path / "scratch"
    cache_home.mkdir()
    scratch.mkdir()
    prefix, uid = [], os.getuid()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop write access")
        prefix, uid = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], 65534
        probe = subprocess.run([*prefix, sys.executable, "-c", "import numpy"],
                               capture_output=True, text=True, timeout=120)
        if probe.returncode != 0:  # e.g. a clone inside a private (0700) directory
            pytest.skip("user nobody cannot run this interpreter (its folder is not "
                        "readable by other users): " + probe.stderr.strip()[-200:])
        os.chown(scratch, uid, uid)
        if home_writable:
            os.chown(cache_home, uid, uid)
    if not home_writable:
        cache_home.chmod(0o555)
    for path in [site, *site.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    code = textwrap.dedent("""
        import numpy as np, mlnotes
        from mlnotes.linear_model import KernelPerceptron
        from mlnotes.linear_model._kernel_perceptron import _perceptron_epoch
        X = np.random.RandomState(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
        KernelPerceptron(max_iter=2).fit(X, y)
        stats = _perceptron_epoch.stats
        print(mlnotes.__file__, sum(stats.cache_hits.values()),
              sum(stats.cache_misses.values()))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(cache_home),
               HOME=str(cache_home), TMPDIR=str(scratch), OMP_NUM_THREADS="1")
    outs = []
    for _ in range(2):
        proc = subprocess.run([*prefix, sys.executable, "-c", code], env=env, cwd=site,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(proc.stdout.split())
    assert outs[0][0].startswith(str(site))  # the read-only copy was imported
    assert outs[0][1:] == ["0", "1"]  # nothing cached yet: compiled
    assert outs[1][1:] == ["1", "0"]  # loaded from the cache
    where = (cache_home / "numba") if home_writable else (
        scratch / f"mlnotes-numba-cache-{uid}")
    assert list(where.rglob("*.nbi"))
    assert not list(site.rglob("*.nbi"))


def test_compile_command_runs_and_reports(capsys):
    from mlnotes import compile as mc

    assert mc.main(["--jobs", "1", "KernelPerceptron", "GaussianNB"]) == 0
    out = capsys.readouterr().out
    assert "KernelPerceptron" in out and "compiled 2 of 2 estimators" in out
    assert mc.main(["NoSuchEstimator"]) == 2


def test_compile_covers_every_numba_estimator():
    from mlnotes import compile as mc
    from mlnotes.utils.discovery import all_estimators

    listed = set(mc._selected())
    for name, cls in all_estimators():
        mc.workload(name, cls)  # constructible on the small data (not run here)
        assert (name in listed) != mc.is_torch_estimator(cls), name


def test_compile_variants_are_valid_workloads():
    from mlnotes import compile as mc
    from mlnotes.utils.discovery import all_estimators

    estimators = dict(all_estimators())
    for variant, (name, extra) in mc._VARIANTS.items():
        assert name in mc._FIRST_WAVE, variant  # its shared kernels come first
        est = estimators[name](**extra)
        assert {k: est.get_params()[k] for k in extra} == extra


def test_default_tree_fit_loads_only_the_depth_first_builder():
    # a fit compiles (or loads) only the builder it runs: the best-first entry
    # point cost tens of seconds of compile time to every default tree's first fit
    code = (
        "import numpy as np\n"
        "from mlnotes.tree import DecisionTreeClassifier\n"
        "from mlnotes.tree import _builder as b\n"
        "X = np.random.RandomState(0).normal(size=(40, 3))\n"
        "DecisionTreeClassifier(random_state=0).fit(X, X[:, 0] > 0)\n"
        "print(len(b._grow_depth_first.signatures), len(b._grow_best_first.signatures))\n"
        "DecisionTreeClassifier(max_leaf_nodes=4, random_state=0).fit(X, X[:, 0] > 0)\n"
        "print(len(b._grow_best_first.signatures))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["1", "0", "1"]


# ----------------------------------------------------------------- benchmarks


def _suite(quick_cases=None, name="tiny"):
    data = Dataset("tiny_regression", "regression", make_regression, n_samples=100,
                   quick_n_samples=80, kwargs=dict(n_features=3, random_state=0))
    cases = [Case(n, ours="sklearn.linear_model:Ridge",
                  reference="sklearn.linear_model:LinearRegression", datasets=[data])
             for n in ("Alpha", "Beta", "Gamma")]
    return EstimatorSuite(name, "a tiny suite", cases, quick_cases=quick_cases)


def test_quick_case_names_declared_fallback_first():
    assert quick_case_names(_suite(["Beta"])) == ["Beta"]
    assert quick_case_names(_suite(), ["Gamma", "Nope"]) == ["Gamma"]
    assert quick_case_names(_suite()) == ["Alpha"]
    with pytest.raises(ValueError, match="quick_cases"):
        _suite(["Nope"])


def test_subset_budget_and_summary(tmp_path, capsys):
    suites = {"tiny": _suite(["Beta", "Gamma"]), "other": _suite(name="other")}
    rc = main(["--quick", "--subset", "--brief", "--repeats", "1", "--out", str(tmp_path)],
              suites=suites)
    assert rc == 0
    out = capsys.readouterr().out
    assert "Summary (quick mode, subset" in out and "| Beta" not in out  # brief
    assert (tmp_path / "summary-quick-subset.md").exists()
    assert "| Alpha" in (tmp_path / "other-quick.md").read_text()  # first case
    text = (tmp_path / "tiny-quick.md").read_text()
    assert "| Beta" in text and "| Gamma" in text and "| Alpha" not in text
    # a spent budget: rows are skipped, not run
    ctx_deadline = RunContext(quick=True, out_dir=tmp_path, log=lambda m: None)
    ctx_deadline.deadline = 0.0  # long past
    result = _suite().run(ctx_deadline)
    assert [r["status"] for r in result.rows] == ["skipped"] * 3
    # a spent budget: suites not started are not run at all
    rc = main(["--quick", "--budget", "0", "--brief", "--repeats", "1", "--out",
               str(tmp_path / "spent")], suites={"tiny": _suite()})
    assert rc == 0
    assert "not run, time budget spent: tiny" in capsys.readouterr().out


def test_headline_of_a_throughput_suite():
    result = SuiteResult("agents", rows=[
        {"case": "A", "speed_ratio": 2.0, "status": "ok", "verdict": "met (2.00x)"},
        {"case": "B", "speed_ratio": 0.5, "status": "ok", "verdict": "NOT met (0.50x)"},
    ], columns=[])
    h = suite_headline(result)
    assert h["geomean"] == pytest.approx(1.0)
    assert h["worst"] == (2.0, "B")  # half the reference's speed: twice its time
    assert (h["met"], h["not_met"]) == (1, 1)
    text = run_summary([h], elapsed=60, ctx=RunContext(quick=True), files={})
    assert "agents" in text and "1 met, 1 NOT met" in text and len(text.splitlines()) < 10


def test_tracked_results_need_a_clean_tree(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    results = repo / "benchmarks" / "results"
    results.mkdir(parents=True)
    (repo / "code.py").write_text("x = 1\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "code.py"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "c"], check=True)
    monkeypatch.setattr(cli, "ROOT", repo)
    monkeypatch.setattr(cli, "PUBLISHED_OUT", results)
    assert cli.publish_refusal(results) is None  # clean
    assert cli.publish_refusal(tmp_path / "elsewhere") is None
    (results / "linear.md").write_text("new results\n")  # results themselves may change
    assert cli.publish_refusal(results) is None
    (repo / "code.py").write_text("x = 2\n")
    assert "uncommitted changes (code.py)" in cli.publish_refusal(results)
    assert main(["--out", str(results)], suites={"tiny": _suite()}) == 2
    (repo / "code.py").write_text("x = 1\n")
    (repo / "new.py").write_text("")
    assert "new.py" in cli.publish_refusal(results)


def test_default_output_is_git_ignored():
    assert cli.DEFAULT_OUT == cli.PUBLISHED_OUT / "local"
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT,
                            capture_output=True, text=True)
    if inside.stdout.strip() != "true":
        pytest.skip("not a git checkout (an exported copy)")
    probe = cli.DEFAULT_OUT / "x.md"
    proc = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=ROOT)
    assert proc.returncode == 0
