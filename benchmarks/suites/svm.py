"""Support vector machines (chapter 4) against scikit-learn's LIBSVM-based classes.

Acceptance (chapters 2-12 issue): fit + predict at one thread on tens of thousands of
rows (here the largest sets SMO handles in seconds), geometric mean at most 1.0x, none
slower than 3x.
"""

from functools import partial

from sklearn.datasets import load_diabetes, make_classification, make_friedman1

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite
from benchmarks.suites.linear import BREAST_CANCER, DIGITS

CLASSIFICATION_LARGE = Dataset(
    "make_classification_20k", "classification", make_classification,
    n_samples=25_000, quick_n_samples=5_000, acceptance=True,
    kwargs=dict(n_features=20, n_informative=10, n_redundant=4, random_state=0),
)
REGRESSION_LARGE = Dataset(  # Friedman #1: a smooth non-linear target, SVR's classic test
    "make_friedman1_10k", "regression", make_friedman1,
    n_samples=12_500, quick_n_samples=3_000, acceptance=True,
    kwargs=dict(n_features=10, noise=1.0, random_state=0),
)
DIABETES = Dataset("diabetes", "regression", partial(load_diabetes, return_X_y=True),
                   standardize=True)

SUITE = EstimatorSuite(
    name="svm",
    description="mlnotes.svm vs sklearn.svm",
    reference_label="sklearn",
    cases=[
        Case("SVC", ours="mlnotes.svm:SVC", reference="sklearn.svm:SVC",
             datasets=(CLASSIFICATION_LARGE, BREAST_CANCER, DIGITS)),
        Case("SVC-poly", ours="mlnotes.svm:SVC", reference="sklearn.svm:SVC",
             params=dict(kernel="poly", degree=3), datasets=(BREAST_CANCER, DIGITS)),
        Case("LinearSVC", ours="mlnotes.svm:LinearSVC", reference="sklearn.svm:LinearSVC",
             params=dict(random_state=0),
             datasets=(CLASSIFICATION_LARGE, BREAST_CANCER, DIGITS)),
        Case("SVR", ours="mlnotes.svm:SVR", reference="sklearn.svm:SVR",
             params=dict(C=10.0), datasets=(REGRESSION_LARGE, DIABETES)),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="SVC on 20,000 x 20 and SVR on Friedman #1 10,000 x 10 (rbf), each at most 3x "
                    "scikit-learn's fit+predict time, geometric mean at most 1.0x",
    ),
)
