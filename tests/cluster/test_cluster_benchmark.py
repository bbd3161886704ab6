"""The benchmark harness scores clusterers (task "cluster") as documented.

Tiny suites built here, not the real ``benchmarks/suites/cluster.py`` (whose sizes are
for ``python -m benchmarks``); the expected scores are recomputed independently.
"""


import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering as SkAgglomerative
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from benchmarks.datasets import Dataset
from benchmarks.harness import Case, EstimatorSuite, RunContext

BLOBS = Dataset("tiny_blobs", "cluster", make_blobs, n_samples=300,
                kwargs=dict(n_features=3, centers=4, random_state=0))


def _run(case, tmp_path):
    suite = EstimatorSuite("tiny", "tiny cluster suite", [case])
    ctx = RunContext(quick=True, repeats=1, out_dir=tmp_path, log=lambda msg: None)
    (row,) = suite.run(ctx, None).rows
    assert row["status"] == "ok", row["message"]
    return row, BLOBS.split(quick=True)


def test_cluster_split_keeps_the_labels():
    split = BLOBS.split()
    assert split.task == "cluster" and split.y_test is not None
    assert split.n_train == 240 and split.n_test == 60


def test_inertia_metric(tmp_path):
    case = Case("KMeans", "mlnotes.cluster:KMeans", "sklearn.cluster:KMeans",
                params=dict(n_clusters=4, random_state=0), datasets=[BLOBS],
                metric="inertia")
    row, split = _run(case, tmp_path)
    km = SkKMeans(4, random_state=0).fit(split.X_train)
    d = ((split.X_test[:, None] - km.cluster_centers_[None]) ** 2).sum(-1).min(1)
    assert row["metric"] == "inertia / sample" and not row["greater_is_better"]
    assert row["score_ref"] == pytest.approx(d.mean(), rel=1e-10)
    assert row["score_ours"] == pytest.approx(d.mean(), rel=1e-6)


def test_default_metric_is_ari_of_predict(tmp_path):
    case = Case("KMeans", "mlnotes.cluster:KMeans", "sklearn.cluster:KMeans",
                params=dict(n_clusters=4, random_state=0), datasets=[BLOBS])
    row, split = _run(case, tmp_path)
    km = SkKMeans(4, random_state=0).fit(split.X_train)
    assert row["metric"] == "ARI"
    assert row["score_ref"] == pytest.approx(
        adjusted_rand_score(split.y_test, km.predict(split.X_test)))


def test_fit_predict_ari(tmp_path):
    case = Case("Agglomerative", "mlnotes.cluster:AgglomerativeClustering",
                "sklearn.cluster:AgglomerativeClustering", params=dict(n_clusters=4),
                datasets=[BLOBS], metric="ari_fit_predict")
    row, split = _run(case, tmp_path)
    expected = adjusted_rand_score(split.y_test,
                                   SkAgglomerative(4).fit_predict(split.X_test))
    assert row["score_ref"] == pytest.approx(expected)
    assert row["score_ours"] == pytest.approx(expected)
    assert np.isfinite(row["predict_ours"]) and row["predict_ours"] > 0


def test_cluster_suite_declares_the_acceptance_sizes():
    from benchmarks.suites import available_suites

    suite = available_suites()["cluster"]
    sizes = {d.name: d for c in suite.cases for d in c.datasets}
    assert round(sizes["make_blobs_20d"].rows(quick=False) * 0.8) == 100_000
    assert sizes["make_blobs_20d"].kwargs["n_features"] == 20
    assert round(sizes["make_blobs_10d"].rows(quick=False) * 0.8) == 5_000
    assert round(sizes["moons"].rows(quick=False) * 0.8) == 2_000
    assert round(sizes["correlated_blobs_10d"].rows(quick=False) * 0.8) == 20_000
    linkages = {c.params.get("linkage") for c in suite.cases if "Agglomerative" in c.name}
    assert linkages == {"ward", "complete", "average", "single"}
    assert all(d.acceptance for d in sizes.values())


class _KMeansWithoutLabels(SkKMeans):
    """scikit-learn's KMeans that fails if the harness hands it the labels."""

    def fit(self, X, y=None, sample_weight=None):
        if y is not None:
            raise AssertionError("a clusterer was given the generating labels")
        return super().fit(X, sample_weight=sample_weight)


def test_clusterers_are_fitted_without_labels(tmp_path):
    case = Case("KMeans", _KMeansWithoutLabels, "sklearn.cluster:KMeans",
                params=dict(n_clusters=4, random_state=0), datasets=[BLOBS])
    row, _ = _run(case, tmp_path)
    assert row["score_ours"] == pytest.approx(row["score_ref"])
