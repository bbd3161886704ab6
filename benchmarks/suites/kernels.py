"""Kernel methods and random projections (chapters 14, 21) against scikit-learn.

Acceptance (chapters 14-22 issue): fit + predict/transform at one thread,
KernelRidge (rbf) on 5,000 x 20 and the Gaussian and sparse random projections on
5,000 x 10,000 training rows, each at most 3x scikit-learn, geometric mean (with the
decomposition suite) at most 1.0x.

KernelRidge is scored by the held-out R^2. A random projection has no labels: its score
is the worst distortion ``max |(|f(u) - f(v)|^2 / |u - v|^2) - 1|`` over the pairs of the
first 300 test rows (``Metric(with_inputs=True)``), which the Johnson-Lindenstrauss lemma
keeps below ``eps`` with high probability; "predict" times ``transform``.
"""

from functools import partial

import numpy as np
from sklearn.datasets import load_diabetes, make_friedman1

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite, Metric


def _distortion(_y, Z, X, _estimator, n_pairs_rows=300):
    from sklearn.metrics.pairwise import euclidean_distances

    X, Z = np.asarray(X[:n_pairs_rows]), np.asarray(Z[:n_pairs_rows])
    rows, cols = np.triu_indices(X.shape[0], 1)
    before = euclidean_distances(X, squared=True)[rows, cols]
    after = euclidean_distances(Z, squared=True)[rows, cols]
    return float(np.max(np.abs(after / before - 1.0)))


DISTORTION = Metric("max distortion", _distortion, method="transform",
                    greater_is_better=False, with_inputs=True)


def _wide(n_samples, n_features, rank, random_state):
    """Points near a ``rank``-dimensional subspace of a ``n_features``-dimensional space."""
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    X += rng.standard_normal((n_samples, rank)) @ rng.standard_normal((rank, n_features))
    return X, None


# 6,250 rows: 5,000 to fit, 1,250 to predict (quick mode: 2,000 to fit).
FRIEDMAN = Dataset(
    "make_friedman1_5k", "regression", make_friedman1, n_samples=6_250,
    quick_n_samples=2_500, acceptance=True, standardize=True,
    kwargs=dict(n_features=20, noise=0.5, random_state=0),
)
DIABETES = Dataset("diabetes", "regression", partial(load_diabetes, return_X_y=True),
                   standardize=True)
# 6,250 x 10,000 (500 MB): 5,000 to fit, 1,250 to transform (quick mode: 1,000 to fit).
WIDE = Dataset(
    "wide_5k_x_10k", "density", _wide, n_samples=6_250, quick_n_samples=1_250,
    acceptance=True, kwargs=dict(n_features=10_000, rank=20, random_state=0),
)

SUITE = EstimatorSuite(
    name="kernels",
    description="mlnotes kernel ridge and random projections vs scikit-learn",
    reference_label="sklearn",
    cases=[
        Case("KernelRidge-rbf", ours="mlnotes.kernel_ridge:KernelRidge",
             reference="sklearn.kernel_ridge:KernelRidge",
             params=dict(alpha=0.1, kernel="rbf", gamma=0.05),
             datasets=(FRIEDMAN, DIABETES)),
        Case("KernelRidge-poly", ours="mlnotes.kernel_ridge:KernelRidge",
             reference="sklearn.kernel_ridge:KernelRidge",
             params=dict(alpha=1.0, kernel="poly", degree=2),
             datasets=(DIABETES,)),
        Case("GaussianRandomProjection", ours="mlnotes.random_projection:GaussianRandomProjection",
             reference="sklearn.random_projection:GaussianRandomProjection",
             params=dict(n_components="auto", eps=0.5, random_state=0),
             datasets=(WIDE,), metric=DISTORTION),
        Case("SparseRandomProjection", ours="mlnotes.random_projection:SparseRandomProjection",
             reference="sklearn.random_projection:SparseRandomProjection",
             params=dict(n_components="auto", eps=0.5, random_state=0),
             datasets=(WIDE,), metric=DISTORTION),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="KernelRidge rbf on 5,000 x 20 and Gaussian/sparse random projections "
                    "on 5,000 x 10,000, each at most 3x scikit-learn's fit+predict time, "
                    "geometric mean at most 1.0x",
    ),
)
