"""Fast tests of the benchmark harness (``benchmarks/``) on tiny cases.

Suites are built here from small generated datasets and passed to ``main`` in place of the
registry, so these tests time a few milliseconds of work, not the real suites.
"""

import math
import statistics
import time
from functools import partial

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_regression
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.metrics import r2_score
from sklearn.mixture import GaussianMixture

from benchmarks.cli import main, select
from benchmarks.datasets import Dataset
from benchmarks.harness import (
    Acceptance,
    Case,
    EstimatorSuite,
    RunContext,
    geometric_mean,
    load_object,
    measure,
)
from benchmarks.report import output_paths

TINY = Dataset("tiny_regression", "regression", make_regression, n_samples=200,
               quick_n_samples=120, acceptance=True,
               kwargs=dict(n_features=5, noise=1.0, random_state=0))
OURS_LR = "mlnotes.linear_model:LinearRegression"
REF_LR = "sklearn.linear_model:LinearRegression"

ROW_KEYS = {
    "suite", "case", "ours", "reference", "params", "dataset", "n_train", "n_test",
    "n_features", "acceptance", "metric", "score_ours", "score_ref", "score_diff",
    "fit_ours", "fit_ref", "fit_ratio", "predict_ours", "predict_ref", "predict_ratio",
    "total_ratio", "fit_times_ours", "fit_times_ref", "predict_times_ours",
    "predict_times_ref", "status", "message",
}


class SlowLinearRegression(SkLinearRegression):
    """scikit-learn's LinearRegression with a fit that takes at least 50 ms more.

    (5 ms was too little on a loaded machine: the reference fit of the tiny data,
    preempted, took over 2.5 ms of wall time and the ratio came out under 2.)
    """

    def fit(self, X, y, sample_weight=None):
        time.sleep(0.05)
        return super().fit(X, y, sample_weight)


class BrokenRegressor(SkLinearRegression):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("boom in fit")


class InPlaceRegressor(SkLinearRegression):
    """Writes into its input: the harness hands out read-only arrays, so this fails."""

    def fit(self, X, y, sample_weight=None):
        X[0, 0] = 0.0
        return super().fit(X, y, sample_weight)


def _suite(*cases, name="tiny", acceptance=None):
    return EstimatorSuite(name, "tiny test suite", list(cases), acceptance=acceptance)


def _ctx(tmp_path, repeats=3, quick=True):
    return RunContext(quick=quick, repeats=repeats, out_dir=tmp_path, log=lambda msg: None)


def test_main_writes_table_and_chart(tmp_path, capsys):
    suite = _suite(Case("LinearRegression", OURS_LR, REF_LR, datasets=[TINY]))
    rc = main(["--quick", "--repeats", "2", "--out", str(tmp_path)], suites={"tiny": suite})
    assert rc == 0
    md, png = output_paths(tmp_path, "tiny", quick=True)
    assert md.name == "tiny-quick.md" and png.name == "tiny-quick.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    text = md.read_text()
    for needle in ["numpy", "scipy", "scikit-learn", "torch", "machine:", "date:",
                   "`python -m benchmarks --quick --repeats 2", "mode: quick",
                   "median of 2 repeats", "| case | dataset |", "fit ratio",
                   "predict ratio", "fit+predict ratio", "![time ratios](tiny-quick.png)"]:
        assert needle in text, needle
    table = [line for line in text.splitlines() if line.startswith("| LinearRegression")]
    assert len(table) == 1 and "tiny_regression" in table[0] and table[0].endswith("ok |")
    assert "| LinearRegression" in capsys.readouterr().out  # the table is printed


def test_full_mode_writes_plain_name(tmp_path):
    suite = _suite(Case("LinearRegression", OURS_LR, REF_LR, datasets=[TINY]))
    assert main(["--repeats", "1", "--out", str(tmp_path)], suites={"tiny": suite}) == 0
    assert (tmp_path / "tiny.md").exists() and (tmp_path / "tiny.png").exists()
    assert not (tmp_path / "tiny-quick.md").exists()
    assert "mode: full" in (tmp_path / "tiny.md").read_text()


def test_rows_hold_measured_times_and_ratios(tmp_path):
    suite = _suite(Case("LinearRegression", OURS_LR, REF_LR, datasets=[TINY]),
                   Case("Slow", SlowLinearRegression, REF_LR, datasets=[TINY]))
    result = suite.run(_ctx(tmp_path, repeats=3), None)
    assert [r["case"] for r in result.rows] == ["LinearRegression", "Slow"]
    for row in result.rows:
        assert ROW_KEYS <= set(row)
        assert row["status"] == "ok", row["message"]
        assert row["n_train"] + row["n_test"] == 120  # quick size of the dataset
        for side in ("ours", "ref"):
            assert len(row[f"fit_times_{side}"]) == 3
            assert row[f"fit_{side}"] == statistics.median(row[f"fit_times_{side}"])
            assert row[f"predict_{side}"] == statistics.median(
                row[f"predict_times_{side}"])
        assert row["fit_ratio"] == pytest.approx(row["fit_ours"] / row["fit_ref"])
        assert row["predict_ratio"] == pytest.approx(
            row["predict_ours"] / row["predict_ref"])
        assert row["total_ratio"] == pytest.approx(
            (row["fit_ours"] + row["predict_ours"]) / (row["fit_ref"] + row["predict_ref"]))
    # the ratio is ours / reference: a fit that sleeps 50 ms is much slower
    slow = result.rows[1]
    assert slow["fit_ours"] >= 0.05
    assert slow["fit_ratio"] > 2
    # the score is the held-out R^2 of the same split, computed independently here
    split = TINY.split(quick=True)
    expected = r2_score(split.y_test,
                        SkLinearRegression().fit(split.X_train, split.y_train)
                        .predict(split.X_test))
    for row in result.rows:
        assert row["score_ref"] == pytest.approx(expected, rel=1e-12)
        assert row["score_ours"] == pytest.approx(expected, rel=1e-6)


def test_missing_estimator_is_not_available(tmp_path):
    suite = _suite(
        Case("Missing", "mlnotes.linear_model:NoSuchEstimator", REF_LR, datasets=[TINY]),
        Case("MissingModule", "mlnotes.no_such_module:Thing", REF_LR, datasets=[TINY]),
    )
    rc = main(["--quick", "--repeats", "1", "--out", str(tmp_path)], suites={"tiny": suite})
    assert rc == 0  # not available is not a failure
    result = suite.run(_ctx(tmp_path, repeats=1), None)
    missing, no_module = result.rows
    assert missing["status"] == no_module["status"] == "not available"
    assert "NoSuchEstimator" in missing["message"]
    assert "no_such_module" in no_module["message"]
    for row in result.rows:
        assert row["fit_ours"] is None and row["fit_ratio"] is None
        assert row["total_ratio"] is None
        assert row["fit_ref"] is not None and row["score_ref"] is not None
    text = (tmp_path / "tiny-quick.md").read_text()
    assert "not available" in text and "NoSuchEstimator" in text


@pytest.mark.parametrize("cls, needle", [(BrokenRegressor, "boom in fit"),
                                         (InPlaceRegressor, "read-only")])
def test_failing_fit_is_an_error_and_exit_is_nonzero(tmp_path, cls, needle):
    suite = _suite(Case("Broken", cls, REF_LR, datasets=[TINY]),
                   Case("LinearRegression", OURS_LR, REF_LR, datasets=[TINY]))
    rc = main(["--quick", "--repeats", "1", "--out", str(tmp_path)], suites={"tiny": suite})
    assert rc == 1
    result = suite.run(_ctx(tmp_path, repeats=1), None)
    broken, fine = result.rows
    assert broken["status"] == "error" and needle in broken["message"]
    assert broken["fit_ratio"] is None
    assert fine["status"] == "ok"  # the run goes on after an error
    assert result.failed
    text = (tmp_path / "tiny-quick.md").read_text()
    assert "error" in text and needle in text


def test_only_filters_cases_and_suites(tmp_path):
    a = Case("Alpha", OURS_LR, REF_LR, datasets=[TINY])
    b = Case("Beta", REF_LR, REF_LR, datasets=[TINY])
    suites = {"tiny": _suite(a, b), "other": _suite(a, name="other")}
    assert select(suites, [])[0] == {"tiny": ["Alpha", "Beta"], "other": ["Alpha"]}
    assert select(suites, ["tiny.beta"]) == ({"tiny": ["Beta"]}, [])
    assert select(suites, ["other"]) == ({"other": ["Alpha"]}, [])
    assert select(suites, ["b*,nothing"]) == ({"tiny": ["Beta"]}, ["nothing"])

    rc = main(["--quick", "--repeats", "1", "--only", "tiny.Beta", "--out", str(tmp_path)],
              suites=suites)
    assert rc == 0
    text = (tmp_path / "tiny-quick.md").read_text()
    assert "| Beta |" in text and "| Alpha |" not in text
    assert not (tmp_path / "other-quick.md").exists()
    assert main(["--only", "nothing", "--out", str(tmp_path)], suites=suites) == 2


def test_list_lists_the_registry(capsys, tmp_path):
    assert main(["--list", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\nlinear:" in "\n" + out  # suites are listed by name
    for case in ["LinearRegression", "Ridge", "LogisticRegression",
                 "LogisticRegression-newton-cholesky", "Perceptron"]:
        assert f"  {case}: " in out
    assert "sklearn.linear_model:Ridge" in out
    assert list(tmp_path.iterdir()) == []  # listing runs nothing
    assert main(["--list", "--only", "Ridge"]) == 0
    out = capsys.readouterr().out
    assert "  Ridge: " in out and "Perceptron" not in out


def test_linear_suite_declares_the_acceptance_sizes():
    from benchmarks.suites import available_suites

    suite = available_suites()["linear"]
    acceptance = {d.name: d for c in suite.cases for d in c.datasets if d.acceptance}
    assert set(acceptance) == {"make_classification", "make_regression"}
    assert acceptance["make_classification"].kwargs["n_features"] == 40
    assert acceptance["make_regression"].kwargs["n_features"] == 100
    for d in acceptance.values():  # 100,000 training rows; quick mode 20,000
        assert round(d.rows(quick=False) * (1 - d.test_size)) == 100_000
        assert round(d.rows(quick=True) * (1 - d.test_size)) == 20_000
    for case in suite.cases:
        # dense cases run on at least three datasets (the extra-solver variants, which
        # repeat an estimator already covered, on at least two); the sparse cases on the
        # sparse ones (every dataset of a "-sparse" case is sparse, and no other case's is)
        sparse = case.name.endswith("-sparse")
        variant = any(f"-{s}" in case.name for s in ("sag", "saga", "newton-cg", "liblinear"))
        assert all(type(d).__name__ == "SparseDataset" for d in case.datasets) == sparse
        assert len(case.datasets) >= (1 if sparse else 2 if variant else 3)
        assert load_object(case.reference).__module__.startswith("sklearn.")
    solvers = {c.params.get("solver") for c in suite.cases if "Logistic" in c.name}
    assert {"lbfgs", "newton-cholesky", "sag", "saga", "newton-cg", "liblinear"} <= solvers


def test_acceptance_summary_uses_geometric_mean(tmp_path):
    assert geometric_mean([1.0, 4.0]) == pytest.approx(2.0)
    assert geometric_mean([None, 2.0]) == pytest.approx(2.0)
    assert math.isnan(geometric_mean([]))
    median, times, number = measure(lambda: time.sleep(0.002), repeats=3, warmup=1)
    assert len(times) == 3 and median == statistics.median(times) and median >= 0.002
    assert number >= 1
    suite = _suite(Case("LinearRegression", OURS_LR, REF_LR, datasets=[TINY]),
                   Case("Slow", SlowLinearRegression, REF_LR, datasets=[TINY]),
                   acceptance=Acceptance(max_ratio=1.5, max_geomean=1.0))
    result = suite.run(_ctx(tmp_path, repeats=1), None)
    gm = geometric_mean(r["total_ratio"] for r in result.rows)
    text = "\n".join(result.summary)
    assert f"**{gm:.2f}x**" in text
    assert "NOT met" in text  # the slow case is far over 1.5x


def test_density_metric_is_held_out_nll(tmp_path):
    blobs = Dataset("blobs", "density", partial(make_blobs, centers=3, n_features=2,
                                                random_state=0), n_samples=300)
    gm = "sklearn.mixture:GaussianMixture"
    suite = _suite(Case("GMM", gm, gm, params=dict(n_components=3, random_state=0),
                        datasets=[blobs], metric="nll"))
    (row,) = suite.run(_ctx(tmp_path, repeats=1), None).rows
    assert row["status"] == "ok" and row["metric"].startswith("NLL")
    split = blobs.split()
    model = GaussianMixture(n_components=3, random_state=0).fit(split.X_train)
    expected = -np.mean(model.score_samples(split.X_test))
    assert row["score_ours"] == pytest.approx(expected)
    assert row["score_ref"] == pytest.approx(expected)


def test_intelex_column(tmp_path):
    """``--intelex`` adds scikit-learn-intelex's class of the same name as a third,
    interleaved side; a class sklearnex does not have is "not accelerated"."""
    from benchmarks.harness import intelex_spec

    assert intelex_spec(REF_LR) == "sklearnex.linear_model:LinearRegression"
    assert intelex_spec("sklearn.tree:DecisionTreeRegressor") == (
        "sklearnex.tree:DecisionTreeRegressor")
    assert intelex_spec(OURS_LR) is None and intelex_spec(SlowLinearRegression) is None
    suite = _suite(Case("LinearRegression", OURS_LR, REF_LR, datasets=[TINY]),
                   Case("NoTwin", OURS_LR, SlowLinearRegression, datasets=[TINY]))
    ctx = _ctx(tmp_path, repeats=2)
    ctx.intelex = True
    rows = suite.run(ctx, None).rows
    assert all(r["status"] == "ok" for r in rows), [r["message"] for r in rows]
    assert rows[1]["fit_ix"] is None and rows[1]["intelex_status"] == "not accelerated"
    pytest.importorskip("sklearnex")  # bench extra
    row = rows[0]
    assert row["intelex_status"] == "ok" and len(row["fit_times_ix"]) == 2
    assert row["score_ix"] == pytest.approx(row["score_ref"], abs=1e-9)
    total = row["fit_ours"] + row["predict_ours"]
    assert row["total_ratio_ix"] == pytest.approx(total / (row["fit_ix"] + row["predict_ix"]))
    rc = main(["--quick", "--repeats", "1", "--intelex", "--out", str(tmp_path)],
              suites={"tiny": suite})
    assert rc == 0
    text = (tmp_path / "tiny-quick-intelex.md").read_text()
    assert "ours / sklearnex" in text and "Against scikit-learn-intelex" in text
    assert "daal4py.daalinit(1)" in text


def test_all_cores_variant(tmp_path):
    suite = _suite(Case("LinearRegression", OURS_LR, REF_LR, datasets=[TINY]))
    assert main(["--quick", "--repeats", "1", "--threads", "all", "--out", str(tmp_path)],
                suites={"tiny": suite}) == 0
    text = (tmp_path / "tiny-quick-allcores.md").read_text()
    assert "threads: all" in text and not (tmp_path / "tiny-quick.md").exists()


def test_imports_suite_times_fresh_interpreters(tmp_path, monkeypatch):
    from benchmarks.suites import imports

    monkeypatch.setattr(imports, "PAIRS", {"tiny": ("json", "csv"),
                                           "broken": ("no_such_module_xyz", "csv")})
    result = imports.ImportsSuite().run(_ctx(tmp_path, repeats=3), None)
    ok, broken = result.rows
    assert ok["status"] == "ok" and ok["ours"] > 0 and ok["ref"] > 0
    assert ok["total_ratio"] == pytest.approx(ok["ours"] / ok["ref"])
    assert broken["status"].startswith("error") and result.failed
    assert any("Acceptance" in line for line in result.summary)


def test_git_revision_ties_a_dirty_tree_to_its_diff(tmp_path):
    """A clean tree records HEAD; a dirty one adds the SHA-1 of ``git diff HEAD``."""
    import hashlib
    import subprocess

    from benchmarks.report import _git_revision

    def git(*args):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                              cwd=tmp_path, capture_output=True, check=True).stdout

    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("commit", "-q", "-m", "one")
    head = git("rev-parse", "--short", "HEAD").decode().strip()
    assert _git_revision(tmp_path) == head
    (tmp_path / "a.py").write_text("x = 2\n")
    diff = git("diff", "HEAD", "--binary")
    first = _git_revision(tmp_path)
    assert first == f"{head} + diff sha1 {hashlib.sha1(diff).hexdigest()[:12]}"
    (tmp_path / "a.py").write_text("x = 3\n")
    assert _git_revision(tmp_path) not in (head, first)
    (tmp_path / "b.py").write_text("y = 1\n")
    assert _git_revision(tmp_path).endswith(" + 1 untracked")
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").unlink()
    assert _git_revision(tmp_path) == head
