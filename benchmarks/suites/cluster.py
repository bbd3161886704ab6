"""Clustering and Gaussian mixtures (chapters 19-20) against scikit-learn's classes.

Acceptance (from the issue), at one thread: KMeans on ``make_blobs`` 100,000 x 20 (k=8)
and on digits; AgglomerativeClustering on 5,000 x 10 for each linkage; SpectralClustering
on 2,000 points (moons, circles); GaussianMixture full and diag on 20,000 x 10 (training
rows; 20% more are generated and held out). Geometric mean of the fit+predict ratios at
most 1.0x, none slower than 3x.

Scores: KMeans by the held-out k-means objective (inertia per test point, from
``score``); the transductive clusterers by the adjusted Rand index of ``fit_predict`` on
the test part against the generating labels (so their "predict" column times a second,
smaller fit); mixtures by the held-out negative log-likelihood.
"""

from functools import partial

import numpy as np
from sklearn.datasets import load_digits, make_blobs, make_circles, make_moons

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite


def correlated_blobs(n_samples, n_features=10, centers=8, cluster_std=4.0, random_state=0):
    """``make_blobs`` through a fixed random linear map: correlated, overlapping clusters."""
    X, y = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      cluster_std=cluster_std, random_state=random_state)
    A = np.random.RandomState(random_state + 1).standard_normal((n_features, n_features))
    return X @ A, y


BLOBS = Dataset(  # 100,000 training rows (quick: 20,000)
    "make_blobs_20d", "cluster", make_blobs, n_samples=125_000, quick_n_samples=25_000,
    acceptance=True, kwargs=dict(n_features=20, centers=8, random_state=0),
)
DIGITS = Dataset("digits", "cluster", partial(load_digits, return_X_y=True), scale=16.0,
                 acceptance=True)
AGGLO_BLOBS = Dataset(  # 5,000 training rows (quick: 2,000)
    "make_blobs_10d", "cluster", make_blobs, n_samples=6_250, quick_n_samples=2_500,
    acceptance=True, kwargs=dict(n_features=10, centers=6, cluster_std=2.0, random_state=0),
)
MOONS = Dataset(  # 2,000 training points
    "moons", "cluster", make_moons, n_samples=2_500, acceptance=True,
    kwargs=dict(noise=0.05, random_state=0),
)
CIRCLES = Dataset(
    "circles", "cluster", make_circles, n_samples=2_500, acceptance=True,
    kwargs=dict(noise=0.05, factor=0.5, random_state=0),
)
MIXTURE = Dataset(  # 20,000 training rows (quick: 5,000)
    "correlated_blobs_10d", "density", correlated_blobs, n_samples=25_000,
    quick_n_samples=6_250, acceptance=True,
)

_AGGLO = [
    Case(f"AgglomerativeClustering-{linkage}", ours="mlnotes.cluster:AgglomerativeClustering",
         reference="sklearn.cluster:AgglomerativeClustering",
         params=dict(n_clusters=6, linkage=linkage), datasets=(AGGLO_BLOBS,),
         metric="ari_fit_predict")
    for linkage in ("ward", "complete", "average", "single")
]
_SPECTRAL = [
    Case(f"SpectralClustering-{label}", ours="mlnotes.cluster:SpectralClustering",
         reference="sklearn.cluster:SpectralClustering",
         params=dict(n_clusters=2, random_state=0, **params), datasets=(MOONS, CIRCLES),
         metric="ari_fit_predict")
    for label, params in (("rbf", {}), ("rbf-gamma20", dict(gamma=20.0)),
                          ("nn", dict(affinity="nearest_neighbors")))
]
_MIXTURE = [
    Case(f"GaussianMixture-{ct}", ours="mlnotes.mixture:GaussianMixture",
         reference="sklearn.mixture:GaussianMixture",
         params=dict(n_components=8, covariance_type=ct, random_state=0),
         datasets=(MIXTURE,), metric="nll")
    for ct in ("full", "diag")
]

SUITE = EstimatorSuite(
    name="cluster",
    description="mlnotes.cluster / mlnotes.mixture vs sklearn.cluster / sklearn.mixture",
    reference_label="sklearn",
    cases=[
        Case("KMeans", ours="mlnotes.cluster:KMeans", reference="sklearn.cluster:KMeans",
             params=dict(n_clusters=8, random_state=0), datasets=(BLOBS,),
             metric="inertia"),
        Case("KMeans-digits", ours="mlnotes.cluster:KMeans",
             reference="sklearn.cluster:KMeans",
             params=dict(n_clusters=10, random_state=0), datasets=(DIGITS,),
             metric="inertia"),
        *_AGGLO,
        *_SPECTRAL,
        *_MIXTURE,
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="KMeans on make_blobs 100,000 x 20 (k=8) and digits, "
                    "AgglomerativeClustering on 5,000 x 10 (each linkage), SpectralClustering "
                    "on 2,000 points, GaussianMixture full/diag on 20,000 x 10: each at most 3x "
                    "scikit-learn's fit+predict time, geometric mean at most 1.0x",
    ),
)
