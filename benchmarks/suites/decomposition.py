"""PCA and kernel PCA (chapter 18) against scikit-learn's classes of the same name.

Acceptance (chapters 14-22 issue): fit + transform at one thread, PCA with the "full"
and "randomized" solvers on 20,000 x 100 and kernel PCA (rbf) on 2,000 x 20 training
rows, each at most 3x scikit-learn, geometric mean (with the kernels suite) at most 1.0x.

Transformers have no labels to score against, so each case names its own held-out score
(``Metric(with_inputs=True)`` gets the test inputs and the fitted estimator):

* PCA: reconstruction R^2 of the test set, ``1 - |X - X_hat|^2 / |X - mean|^2`` with
  ``X_hat = inverse_transform(transform(X))`` (the variance the principal subspace keeps);
* kernel PCA: the mean squared norm of the test projections (the feature-space variance
  the components capture, which kernel PCA maximises).

The "predict" columns time ``transform`` on the test set.
"""

from functools import partial

import numpy as np
from sklearn.datasets import load_digits, make_classification, make_low_rank_matrix

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite, Metric


def _reconstruction_r2(_y, Z, X, estimator):
    residual = X - estimator.inverse_transform(Z)
    centred = X - X.mean(axis=0)
    return float(1.0 - np.sum(residual**2) / np.sum(centred**2))


def _projected_variance(_y, Z):
    return float(np.mean(np.sum(np.asarray(Z) ** 2, axis=1)))


RECONSTRUCTION = Metric("reconstruction R^2", _reconstruction_r2, method="transform",
                        with_inputs=True)
PROJECTED_VARIANCE = Metric("mean |z|^2", _projected_variance, method="transform")


def _low_rank(n_samples, n_features, effective_rank, random_state):
    """A matrix with a bell-shaped spectrum (scikit-learn's generator) and an offset."""
    X = make_low_rank_matrix(n_samples, n_features, effective_rank=effective_rank,
                             tail_strength=0.3, random_state=random_state)
    return X * 100.0 + 3.0, None


# 25,000 rows: 20,000 to fit, 5,000 to transform (quick mode: 5,000 to fit).
LOW_RANK = Dataset(
    "low_rank_20k", "density", _low_rank, n_samples=25_000, quick_n_samples=6_250,
    acceptance=True, kwargs=dict(n_features=100, effective_rank=15, random_state=0),
)
DIGITS = Dataset("digits", "density", partial(load_digits, return_X_y=True), scale=16.0)
# 2,500 rows: 2,000 to fit, 500 to transform (quick mode: 800 to fit).
CLASSIF_2K = Dataset(
    "make_classification_2k", "density", make_classification, n_samples=2_500,
    quick_n_samples=1_000, acceptance=True, standardize=True,
    kwargs=dict(n_features=20, n_informative=10, n_redundant=5, random_state=0),
)

SUITE = EstimatorSuite(
    name="decomposition",
    description="mlnotes.decomposition vs sklearn.decomposition",
    reference_label="sklearn",
    cases=[
        Case("PCA-full", ours="mlnotes.decomposition:PCA",
             reference="sklearn.decomposition:PCA",
             params=dict(n_components=10, svd_solver="full"),
             datasets=(LOW_RANK, DIGITS), metric=RECONSTRUCTION),
        Case("PCA-randomized", ours="mlnotes.decomposition:PCA",
             reference="sklearn.decomposition:PCA",
             params=dict(n_components=10, svd_solver="randomized", random_state=0),
             datasets=(LOW_RANK, DIGITS), metric=RECONSTRUCTION),
        Case("PCA-auto", ours="mlnotes.decomposition:PCA",
             reference="sklearn.decomposition:PCA",
             params=dict(n_components=10), datasets=(LOW_RANK, DIGITS),
             metric=RECONSTRUCTION),
        Case("KernelPCA-rbf", ours="mlnotes.decomposition:KernelPCA",
             reference="sklearn.decomposition:KernelPCA",
             params=dict(n_components=8, kernel="rbf", random_state=0),
             datasets=(CLASSIF_2K, DIGITS), metric=PROJECTED_VARIANCE),
        # 20 components: scikit-learn's "auto" takes the dense solver, ours Lanczos
        Case("KernelPCA-rbf-20", ours="mlnotes.decomposition:KernelPCA",
             reference="sklearn.decomposition:KernelPCA",
             params=dict(n_components=20, kernel="rbf", random_state=0),
             datasets=(CLASSIF_2K, DIGITS), metric=PROJECTED_VARIANCE),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="PCA full/randomized/auto on 20,000 x 100 and KernelPCA rbf on "
                    "2,000 x 20, each at most 3x scikit-learn's fit+transform time, "
                    "geometric mean at most 1.0x",
    ),
)
