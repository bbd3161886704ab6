"""k-nearest neighbours (chapter 24) against scikit-learn's classes of the same name.

Acceptance (chapter 24 issue): at one thread, fit + predict of KNeighborsClassifier on
make_classification 20,000 x 10 and 100,000 x 3 training rows (5,000 and 25,000 held
out for predict), with ``algorithm="kd_tree"`` and ``"brute"``, and KDTree build +
5-NN query on the same sets: geometric mean of the ratios at most 1.0x, none above 3x.
Digits (brute force, 64 features), a regression set and a sparse (CSR) TF-IDF-like set
(brute force through sparse distances) are reported outside it.
"""

from functools import partial

from sklearn.datasets import load_digits, make_classification, make_friedman1

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite, Metric, load_object
from benchmarks.suites.linear import SparseDataset, _sparse_text_classification

CLASSIFICATION_10D = Dataset(
    "make_classification_20k_10d", "classification", make_classification,
    n_samples=25_000, quick_n_samples=6_250, acceptance=True,
    kwargs=dict(n_features=10, n_informative=6, n_redundant=2, random_state=0),
)
CLASSIFICATION_3D = Dataset(
    "make_classification_100k_3d", "classification", make_classification,
    n_samples=125_000, quick_n_samples=25_000, acceptance=True,
    kwargs=dict(n_features=3, n_informative=3, n_redundant=0, n_clusters_per_class=2,
                random_state=0),
)
DIGITS = Dataset(  # 10 classes; pixels 0..16 scaled to [0, 1]
    "digits", "classification", partial(load_digits, return_X_y=True), scale=16.0,
)
FRIEDMAN = Dataset(
    "make_friedman1_10k", "regression", make_friedman1,
    n_samples=12_500, quick_n_samples=3_000,
    kwargs=dict(n_features=10, noise=1.0, random_state=0),
)
SPARSE_TEXT = SparseDataset(  # 5,000 x 2,000 training rows, 1% density, CSR
    "sparse_text_5k_2k", "classification", _sparse_text_classification,
    n_samples=6_250, kwargs=dict(n_features=2_000, density=0.01, random_state=0),
)


class KDTreeQuery:
    """Benchmark adapter: ``fit`` builds a ``KDTree``, ``predict`` returns the distances
    to the ``k`` nearest training points of every query (``tree.query``)."""

    tree = "mlnotes.neighbors:KDTree"

    def __init__(self, k=5, leaf_size=40):
        self.k = k
        self.leaf_size = leaf_size

    def fit(self, X, y=None):
        self.tree_ = load_object(self.tree)(X, leaf_size=self.leaf_size)
        return self

    def predict(self, X):
        return self.tree_.query(X, k=self.k)[0]


class SklearnKDTreeQuery(KDTreeQuery):
    """The same adapter around scikit-learn's ``KDTree``."""

    tree = "sklearn.neighbors:KDTree"


def _mean_distance(_y, dist):
    return float(dist.mean())


MEAN_KNN_DISTANCE = Metric("mean 5-NN distance", _mean_distance, greater_is_better=False)

LARGE = (CLASSIFICATION_10D, CLASSIFICATION_3D)

SUITE = EstimatorSuite(
    name="neighbors",
    description="mlnotes.neighbors vs sklearn.neighbors",
    reference_label="sklearn",
    cases=[
        Case("KNeighborsClassifier-kd_tree", ours="mlnotes.neighbors:KNeighborsClassifier",
             reference="sklearn.neighbors:KNeighborsClassifier",
             params=dict(algorithm="kd_tree"), datasets=LARGE),
        Case("KNeighborsClassifier-brute", ours="mlnotes.neighbors:KNeighborsClassifier",
             reference="sklearn.neighbors:KNeighborsClassifier",
             params=dict(algorithm="brute"), datasets=LARGE + (DIGITS,)),
        Case("KDTree-build+query", ours="benchmarks.suites.neighbors:KDTreeQuery",
             reference="benchmarks.suites.neighbors:SklearnKDTreeQuery",
             params=dict(k=5), datasets=LARGE, metric=MEAN_KNN_DISTANCE),
        Case("KNeighborsClassifier-distance",
             ours="mlnotes.neighbors:KNeighborsClassifier",
             reference="sklearn.neighbors:KNeighborsClassifier",
             params=dict(weights="distance", p=1), datasets=(DIGITS,)),
        Case("KNeighborsRegressor", ours="mlnotes.neighbors:KNeighborsRegressor",
             reference="sklearn.neighbors:KNeighborsRegressor",
             params=dict(n_neighbors=10, weights="distance"), datasets=(FRIEDMAN,)),
        Case("KNeighborsClassifier-sparse", ours="mlnotes.neighbors:KNeighborsClassifier",
             reference="sklearn.neighbors:KNeighborsClassifier",
             datasets=(SPARSE_TEXT,)),
        Case("KNeighborsClassifier-sparse-cosine",
             ours="mlnotes.neighbors:KNeighborsClassifier",
             reference="sklearn.neighbors:KNeighborsClassifier",
             params=dict(metric="cosine", weights="distance"), datasets=(SPARSE_TEXT,)),
    ],
    acceptance=Acceptance(
        max_ratio=3.0, max_geomean=1.0,
        description="KNeighborsClassifier (kd_tree and brute) and KDTree build + 5-NN "
                    "query on make_classification 20,000 x 10 and 100,000 x 3, each at "
                    "most 3x scikit-learn's fit+predict time, geometric mean at most 1.0x",
    ),
)
