"""Polynomial features (chapter 9) against scikit-learn's PolynomialFeatures.

A transformer has no label to score against: the held-out "score" is the mean of the
expanded test features, equal for both exactly when the expansions agree, and the
"predict" columns time ``transform`` on the test set.
"""

from dataclasses import replace
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, make_friedman1

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite, Metric
from benchmarks.suites.linear import SparseDataset, _sparse_text_regression


def _expansion_checksum(_y, Z):
    """Mean of the expanded test features: equal iff the two expansions agree.

    For sparse output, the mean over rows of ``sum_j z_j cos(j)``: it also sees
    entries stored at the wrong column.
    """
    if sp.issparse(Z):
        Z = sp.csr_array(Z)
        return float(np.sum(Z.data * np.cos(Z.indices)) / Z.shape[0])
    return float(np.mean(np.asarray(Z)))


CHECKSUM = Metric("mean of features", _expansion_checksum, method="transform")

FRIEDMAN = Dataset(
    "make_friedman1_100k", "density", make_friedman1, n_samples=125_000,
    quick_n_samples=25_000, acceptance=True,
    kwargs=dict(n_features=10, noise=1.0, random_state=0),
)
DIABETES = Dataset("diabetes", "density", partial(load_diabetes, return_X_y=True))


class WritableSparseDataset(SparseDataset):
    """A :class:`SparseDataset` with writable, canonical CSR buffers: scikit-learn's
    Cython CSR expansion rejects read-only ones ("buffer source array is read-only")
    and assumes sorted column indices (on unsorted rows it places monomials at wrong
    columns; ours sorts a copy)."""

    def split(self, quick=False):
        split = super().split(quick)
        X_train, X_test = split.X_train.copy(), split.X_test.copy()
        X_train.sum_duplicates()
        X_test.sum_duplicates()
        return replace(split, X_train=X_train, X_test=X_test)


SPARSE_TEXT = WritableSparseDataset(  # CSR, 20,000 x 1,000 training rows, 1% density
    "sparse_text_20k_1k", "density", _sparse_text_regression, n_samples=25_000,
    kwargs=dict(n_features=1_000, density=0.01, random_state=0),
)

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
        Case("PolynomialFeatures-sparse", ours="mlnotes.preprocessing:PolynomialFeatures",
             reference="sklearn.preprocessing:PolynomialFeatures",
             params=dict(degree=3), datasets=(SPARSE_TEXT,), metric=CHECKSUM),
        Case("PolynomialFeatures-sparse-interaction",
             ours="mlnotes.preprocessing:PolynomialFeatures",
             reference="sklearn.preprocessing:PolynomialFeatures",
             params=dict(degree=2, interaction_only=True), datasets=(SPARSE_TEXT,),
             metric=CHECKSUM),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="fit + transform of 100,000 x 10 rows, at most 3x scikit-learn, "
                    "geometric mean at most 1.0x",
    ),
)
