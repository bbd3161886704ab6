"""AdaBoost (chapter 23) and bagging (chapter 13) against scikit-learn's ensembles.

Both sides use their library's default weak learner with the same settings: mlnotes'
trees for ours, scikit-learn's for the reference (AdaBoostClassifier: 50 stumps;
AdaBoostRegressor: 50 trees of depth 3; Bagging: 10 fully grown trees), so the ratios
measure the ensemble code and the trees together.

Acceptance (chapters 13/23 issue): on ``make_classification`` 20,000 x 20 and
``make_regression`` 20,000 x 20 (training rows), geometric mean of the fit+predict
ratios at most 1.0x, none slower than 3x, on one thread.
"""

from sklearn.datasets import make_classification, make_regression

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite
from benchmarks.suites.linear import BREAST_CANCER, DIGITS

# 25,000 rows generated, 20% held out: fit sees 20,000 (quick mode: 4,000).
CLASSIFICATION_LARGE = Dataset(
    "make_classification_20k", "classification", make_classification,
    n_samples=25_000, quick_n_samples=5_000, acceptance=True,
    kwargs=dict(n_features=20, n_informative=10, n_redundant=4, random_state=0),
)
REGRESSION_LARGE = Dataset(
    "make_regression_20k", "regression", make_regression,
    n_samples=25_000, quick_n_samples=5_000, acceptance=True,
    kwargs=dict(n_features=20, n_informative=10, noise=10.0, random_state=0),
)
CLASSIFICATION = (CLASSIFICATION_LARGE, BREAST_CANCER, DIGITS)

SUITE = EstimatorSuite(
    name="ensemble",
    description="mlnotes.ensemble (AdaBoost, Bagging) vs sklearn.ensemble, default trees",
    reference_label="sklearn",
    cases=[
        Case("AdaBoostClassifier", ours="mlnotes.ensemble:AdaBoostClassifier",
             reference="sklearn.ensemble:AdaBoostClassifier",
             params=dict(random_state=0), datasets=CLASSIFICATION),
        Case("AdaBoostRegressor", ours="mlnotes.ensemble:AdaBoostRegressor",
             reference="sklearn.ensemble:AdaBoostRegressor",
             params=dict(random_state=0), datasets=(REGRESSION_LARGE,)),
        Case("BaggingClassifier", ours="mlnotes.ensemble:BaggingClassifier",
             reference="sklearn.ensemble:BaggingClassifier",
             params=dict(random_state=0), datasets=CLASSIFICATION),
        Case("BaggingRegressor", ours="mlnotes.ensemble:BaggingRegressor",
             reference="sklearn.ensemble:BaggingRegressor",
             params=dict(random_state=0), datasets=(REGRESSION_LARGE,)),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="AdaBoost and Bagging on make_classification 20,000 x 20 and "
                    "make_regression 20,000 x 20, each at most 3x scikit-learn's "
                    "fit+predict time, geometric mean at most 1.0x",
    ),
)
