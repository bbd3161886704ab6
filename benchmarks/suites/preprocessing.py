"""Polynomial features (chapter 9) against scikit-learn's PolynomialFeatures.

A transformer has no label to score against: the held-out "score" is the mean of the
expanded test features, equal for both exactly when the expansions agree, and the
"predict" columns time ``transform`` on the test set.
"""

from functools import partial

import numpy as np
from sklearn.datasets import load_diabetes, make_friedman1

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite, Metric


def _expansion_checksum(_y, Z):
    """Mean of the expanded test features: equal iff the two expansions agree."""
    return float(np.mean(np.asarray(Z)))


CHECKSUM = Metric("mean of features", _expansion_checksum, method="transform")

FRIEDMAN = Dataset(
    "make_friedman1_100k", "density", make_friedman1, n_samples=125_000,
    quick_n_samples=25_000, acceptance=True,
    kwargs=dict(n_features=10, noise=1.0, random_state=0),
)
DIABETES = Dataset("diabetes", "density", partial(load_diabetes, return_X_y=True))

SUITE = EstimatorSuite(
    name="preprocessing",
    description="mlnotes.preprocessing vs sklearn.preprocessing",
    reference_label="sklearn",
    cases=[
        Case("PolynomialFeatures", ours="mlnotes.preprocessing:PolynomialFeatures",
             reference="sklearn.preprocessing:PolynomialFeatures",
             params=dict(degree=3), datasets=(FRIEDMAN, DIABETES), metric=CHECKSUM),
        Case("PolynomialFeatures-interaction", ours="mlnotes.preprocessing:PolynomialFeatures",
             reference="sklearn.preprocessing:PolynomialFeatures",
             params=dict(degree=2, interaction_only=True), datasets=(FRIEDMAN, DIABETES),
             metric=CHECKSUM),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="fit + transform of 100,000 x 10 rows, at most 3x scikit-learn, "
                    "geometric mean at most 1.0x",
    ),
)
