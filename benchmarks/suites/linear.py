"""Linear models (chapters 2, 9-12) against scikit-learn's classes of the same name.

Acceptance (from the issue): on ``make_classification`` 100,000 x 40 and ``make_regression``
100,000 x 100 (training rows; 25,000 more are held out for the score and predict time),
each estimator at most 1.5x scikit-learn's fit+predict time, and the geometric mean of
those ratios at most 1.0x, on one thread.
"""

from functools import partial

from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
    make_regression,
)

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite

# The acceptance sizes are those of the training set: 125,000 rows are generated and 20%
# (Dataset's default test_size) held out, so fit sees 100,000 rows and predict 25,000.
# Quick mode: 20,000 training rows.
FULL_ROWS, QUICK_ROWS = 125_000, 25_000

# -- classification ------------------------------------------------------------------

BINARY_LARGE = Dataset(
    "make_classification", "classification", make_classification,
    n_samples=FULL_ROWS, quick_n_samples=QUICK_ROWS, acceptance=True,
    kwargs=dict(n_features=40, n_informative=20, n_redundant=10, n_classes=2,
                random_state=0),
)
BREAST_CANCER = Dataset(
    "breast_cancer", "classification", partial(load_breast_cancer, return_X_y=True),
    standardize=True,
)
DIGITS = Dataset(  # 10 classes; pixels 0..16 scaled to [0, 1]
    "digits", "classification", partial(load_digits, return_X_y=True), scale=16.0,
)
MULTICLASS = Dataset(
    "make_classification_5class", "classification", make_classification,
    n_samples=20_000, quick_n_samples=5_000,
    kwargs=dict(n_features=20, n_informative=10, n_redundant=4, n_classes=5,
                random_state=0),
)
CLASSIFICATION = (BINARY_LARGE, BREAST_CANCER, DIGITS, MULTICLASS)

# -- regression ------------------------------------------------------------------------

REGRESSION_LARGE = Dataset(
    "make_regression", "regression", make_regression,
    n_samples=FULL_ROWS, quick_n_samples=QUICK_ROWS, acceptance=True,
    kwargs=dict(n_features=100, n_informative=30, noise=10.0, random_state=0),
)
DIABETES = Dataset("diabetes", "regression", partial(load_diabetes, return_X_y=True))
WIDE = Dataset(  # n_features > n_samples: minimum-norm least squares, ridge's dual side
    "make_regression_wide", "regression", make_regression, n_samples=250,
    kwargs=dict(n_features=1000, n_informative=20, noise=5.0, random_state=0),
)
REGRESSION = (REGRESSION_LARGE, DIABETES, WIDE)

# -- cases -----------------------------------------------------------------------------

SUITE = EstimatorSuite(
    name="linear",
    description="mlnotes.linear_model vs sklearn.linear_model",
    reference_label="sklearn",
    cases=[
        Case("LinearRegression", ours="mlnotes.linear_model:LinearRegression",
             reference="sklearn.linear_model:LinearRegression", datasets=REGRESSION),
        Case("Ridge", ours="mlnotes.linear_model:Ridge",
             reference="sklearn.linear_model:Ridge", params=dict(alpha=1.0),
             datasets=REGRESSION),
        Case("Lasso", ours="mlnotes.linear_model:Lasso",
             reference="sklearn.linear_model:Lasso", params=dict(alpha=1.0),
             datasets=REGRESSION),
        Case("ElasticNet", ours="mlnotes.linear_model:ElasticNet",
             reference="sklearn.linear_model:ElasticNet",
             params=dict(alpha=1.0, l1_ratio=0.5), datasets=REGRESSION),
        Case("BayesianRidge", ours="mlnotes.linear_model:BayesianRidge",
             reference="sklearn.linear_model:BayesianRidge", datasets=REGRESSION),
        Case("LogisticRegression", ours="mlnotes.linear_model:LogisticRegression",
             reference="sklearn.linear_model:LogisticRegression",
             params=dict(solver="lbfgs"), datasets=CLASSIFICATION),
        Case("LogisticRegression-newton-cholesky",
             ours="mlnotes.linear_model:LogisticRegression",
             reference="sklearn.linear_model:LogisticRegression",
             params=dict(solver="newton-cholesky"), datasets=CLASSIFICATION),
        Case("SGDClassifier", ours="mlnotes.linear_model:SGDClassifier",
             reference="sklearn.linear_model:SGDClassifier", params=dict(random_state=0),
             datasets=CLASSIFICATION),
        Case("SGDClassifier-log_loss", ours="mlnotes.linear_model:SGDClassifier",
             reference="sklearn.linear_model:SGDClassifier",
             params=dict(loss="log_loss", random_state=0), datasets=CLASSIFICATION),
        Case("SGDRegressor", ours="mlnotes.linear_model:SGDRegressor",
             reference="sklearn.linear_model:SGDRegressor", params=dict(random_state=0),
             datasets=REGRESSION),
        Case("Perceptron", ours="mlnotes.linear_model:Perceptron",
             reference="sklearn.linear_model:Perceptron", params=dict(random_state=0),
             datasets=CLASSIFICATION),
    ],
    acceptance=Acceptance(
        max_ratio=1.5, max_geomean=1.0,
        description="on make_classification 100,000 x 40 and make_regression "
                    "100,000 x 100, each estimator at most 1.5x scikit-learn's fit+predict "
                    "time, geometric mean at most 1.0x",
    ),
)
