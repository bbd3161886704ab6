"""The benchmark suites of chapters 14-22 and the transformer scores they rely on.

``Metric(with_inputs=True)`` (benchmarks/harness.py) hands the test inputs and the fitted
estimator to the score, so that transformers can be scored; checked here on tiny data.
"""


import numpy as np
import pytest
from sklearn.datasets import make_low_rank_matrix

from benchmarks.datasets import Dataset
from benchmarks.harness import Case, EstimatorSuite, RunContext


def _tiny(n_samples, random_state):
    return make_low_rank_matrix(n_samples, 12, effective_rank=3,
                                random_state=random_state) * 10 + 1, None


TINY = Dataset("tiny_low_rank", "density", _tiny, n_samples=200,
               kwargs=dict(random_state=0))


def test_reconstruction_metric_gets_inputs_and_estimator(tmp_path):
    from benchmarks.suites.decomposition import RECONSTRUCTION

    suite = EstimatorSuite("tiny", "tiny", [
        Case("PCA", "mlnotes.decomposition:PCA", "sklearn.decomposition:PCA",
             params=dict(n_components=2), datasets=[TINY], metric=RECONSTRUCTION),
    ])
    ctx = RunContext(quick=True, repeats=1, out_dir=tmp_path, log=lambda msg: None)
    (row,) = suite.run(ctx, None).rows
    assert row["status"] == "ok", row["message"]
    split = TINY.split()
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2).fit(split.X_train)
    X = split.X_test
    residual = X - pca.inverse_transform(pca.transform(X))
    expected = 1 - np.sum(residual**2) / np.sum((X - X.mean(0)) ** 2)
    assert row["score_ref"] == pytest.approx(expected, rel=1e-12)
    assert row["score_ours"] == pytest.approx(expected, rel=1e-7)


def test_distortion_metric():
    from benchmarks.suites.kernels import DISTORTION

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 5))
    assert DISTORTION.func(None, X, X, None) == pytest.approx(0.0, abs=1e-12)
    assert DISTORTION.func(None, 2 * X, X, None) == pytest.approx(3.0)  # |2d|^2 = 4 d^2


def test_suites_declare_the_acceptance_sizes():
    from benchmarks.suites import available_suites

    suites = available_suites()
    sizes = {}
    for name in ("decomposition", "kernels"):
        for case in suites[name].cases:
            for d in case.datasets:
                if d.acceptance:
                    train = round(d.rows(quick=False) * (1 - d.test_size))
                    sizes[case.name] = (train, d)
    assert sizes["PCA-full"][0] == sizes["PCA-randomized"][0] == 20_000
    assert sizes["PCA-full"][1].kwargs["n_features"] == 100
    assert sizes["KernelPCA-rbf"][0] == 2_000
    assert sizes["KernelRidge-rbf"][0] == 5_000
    assert sizes["KernelRidge-rbf"][1].kwargs["n_features"] == 20
    for case in ("GaussianRandomProjection", "SparseRandomProjection"):
        assert sizes[case][0] == 5_000
        assert sizes[case][1].kwargs["n_features"] == 10_000
