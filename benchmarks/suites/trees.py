"""Decision trees and random forests (chapter 13) against scikit-learn's Cython trees.

Both sides grow the same trees (same ``random_state``: mlnotes reproduces scikit-learn's
split search and random draws), so the scores agree and the ratios compare the builders.

Acceptance (chapter 13 issue): on ``make_classification`` 20,000 x 20 and
``make_regression`` 20,000 x 20 (training rows), single trees and forests of 100 trees,
geometric mean of the fit+predict ratios at most 1.0x, none slower than 3x, on one
thread.
"""

from functools import partial

from sklearn.datasets import load_diabetes, make_classification, make_regression

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
DIABETES = Dataset("diabetes", "regression", partial(load_diabetes, return_X_y=True))
CLASSIFICATION = (CLASSIFICATION_LARGE, BREAST_CANCER, DIGITS)
REGRESSION = (REGRESSION_LARGE, DIABETES)


def _case(name, cls, module, datasets, **params):
    return Case(name, ours=f"mlnotes.{module}:{cls}", reference=f"sklearn.{module}:{cls}",
                params=dict(random_state=0, **params), datasets=datasets)


SUITE = EstimatorSuite(
    name="trees",
    description="mlnotes.tree / mlnotes.ensemble random forests vs scikit-learn",
    reference_label="sklearn",
    cases=[
        _case("DecisionTreeClassifier", "DecisionTreeClassifier", "tree", CLASSIFICATION),
        _case("DecisionTreeClassifier-entropy", "DecisionTreeClassifier", "tree",
              CLASSIFICATION, criterion="entropy"),
        _case("DecisionTreeClassifier-best-first", "DecisionTreeClassifier", "tree",
              CLASSIFICATION, max_leaf_nodes=100),
        _case("DecisionTreeRegressor", "DecisionTreeRegressor", "tree", REGRESSION),
        _case("DecisionTreeRegressor-depth8", "DecisionTreeRegressor", "tree", REGRESSION,
              max_depth=8),
        _case("RandomForestClassifier", "RandomForestClassifier", "ensemble",
              CLASSIFICATION, n_estimators=100),
        _case("RandomForestRegressor", "RandomForestRegressor", "ensemble", REGRESSION,
              n_estimators=100),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="trees and 100-tree forests on make_classification 20,000 x 20 and "
                    "make_regression 20,000 x 20, each at most 3x scikit-learn's "
                    "fit+predict time, geometric mean at most 1.0x",
    ),
)
