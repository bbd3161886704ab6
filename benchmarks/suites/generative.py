"""Generative classifiers and nearest centroids (chapters 2, 6, 7) against scikit-learn.

Acceptance (chapters 2-12 issue): fit + predict at one thread on tens of thousands of
rows, geometric mean at most 1.0x scikit-learn over the suite, none slower than 3x.
"""

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite
from benchmarks.suites.linear import BREAST_CANCER, DIGITS
from sklearn.datasets import make_classification

LARGE = Dataset(
    "make_classification_5class_large", "classification", make_classification,
    n_samples=62_500, quick_n_samples=12_500, acceptance=True,
    kwargs=dict(n_features=40, n_informative=20, n_redundant=10, n_classes=5,
                random_state=0),
)
DATASETS = (LARGE, BREAST_CANCER, DIGITS)


def _case(name, module, params=None, datasets=DATASETS):
    return Case(name, ours=f"mlnotes.{module}:{name.split('-')[0]}",
                reference=f"sklearn.{module}:{name.split('-')[0]}",
                params=params or {}, datasets=datasets)


SUITE = EstimatorSuite(
    name="generative",
    description="mlnotes discriminant_analysis / naive_bayes / NearestCentroid vs scikit-learn",
    reference_label="sklearn",
    cases=[
        _case("LinearDiscriminantAnalysis", "discriminant_analysis"),
        _case("LinearDiscriminantAnalysis-lsqr-auto", "discriminant_analysis",
              dict(solver="lsqr", shrinkage="auto")),
        # digits has constant pixels: plain QDA's class covariances are singular there
        _case("QuadraticDiscriminantAnalysis", "discriminant_analysis",
              dict(reg_param=0.1)),
        _case("GaussianNB", "naive_bayes"),
        _case("NearestCentroid", "neighbors"),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="on make_classification 50,000 x 40 (5 classes), each estimator at "
                    "most 3x scikit-learn's fit+predict time, geometric mean at most 1.0x",
    ),
)
