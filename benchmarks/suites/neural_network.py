"""Neural networks (chapters 15-17) against scikit-learn's multi-layer perceptrons.

Acceptance (chapters 15-17 issue): the MLPs' fit time at most 1.0x scikit-learn's at
equal epochs and batch size, on one thread. Both sides get the same parameters, and the
same ``random_state`` gives both the same initial weights and batch order (mlnotes
follows scikit-learn's random stream), so they run the same number of epochs. The last
case compares the CNN (``image_shape=(8, 8)``, otherwise default) with scikit-learn's
MLPClassifier on the digits: the CNN must be at least 0.5 points more accurate.
"""

from functools import partial

from sklearn.datasets import load_digits, make_classification, make_regression

from benchmarks.datasets import Dataset
from benchmarks.harness import Acceptance, Case, EstimatorSuite

DIGITS = Dataset(  # 10 classes, 8 x 8 pixels 0..16 scaled to [0, 1]
    "digits", "classification", partial(load_digits, return_X_y=True), scale=16.0,
    acceptance=True,
)
DIGITS_IMAGES = Dataset(  # the same split, for the CNN row (not an equal-epochs row)
    "digits_8x8", "classification", partial(load_digits, return_X_y=True), scale=16.0,
)
CLASSIFICATION = Dataset(
    "make_classification_20k", "classification", make_classification,
    n_samples=25_000, quick_n_samples=6_250, acceptance=True,
    kwargs=dict(n_features=20, n_informative=10, n_redundant=4, random_state=0),
)
REGRESSION = Dataset(
    "make_regression_10k", "regression", make_regression,
    n_samples=12_500, quick_n_samples=3_125, acceptance=True, standardize=True,
    kwargs=dict(n_features=20, n_informative=10, noise=10.0, random_state=0),
)


def CNNClassifier8x8(**params):
    """mlnotes' CNNClassifier on 8 x 8 images, otherwise with the given parameters."""
    from mlnotes.neural_network import CNNClassifier

    return CNNClassifier(image_shape=(8, 8), **params)


SUITE = EstimatorSuite(
    name="neural_network",
    description="mlnotes.neural_network vs sklearn.neural_network",
    reference_label="sklearn",
    cases=[
        Case("MLPClassifier-adam", ours="mlnotes.neural_network:MLPClassifier",
             reference="sklearn.neural_network:MLPClassifier",
             params=dict(random_state=0), datasets=(DIGITS, CLASSIFICATION)),
        Case("MLPClassifier-sgd", ours="mlnotes.neural_network:MLPClassifier",
             reference="sklearn.neural_network:MLPClassifier",
             params=dict(solver="sgd", learning_rate_init=0.01, random_state=0),
             datasets=(DIGITS, CLASSIFICATION)),
        Case("MLPClassifier-lbfgs", ours="mlnotes.neural_network:MLPClassifier",
             reference="sklearn.neural_network:MLPClassifier",
             params=dict(solver="lbfgs", random_state=0),
             datasets=(DIGITS, CLASSIFICATION)),
        Case("MLPRegressor-adam", ours="mlnotes.neural_network:MLPRegressor",
             reference="sklearn.neural_network:MLPRegressor",
             params=dict(learning_rate_init=0.01, random_state=0),
             datasets=(REGRESSION,)),
        Case("CNN-vs-MLP", ours="benchmarks.suites.neural_network:CNNClassifier8x8",
             reference="sklearn.neural_network:MLPClassifier",
             params=dict(random_state=0), datasets=(DIGITS_IMAGES,)),
    ],
    acceptance=Acceptance(
        max_ratio=1.0, max_geomean=1.0,
        description="MLPClassifier (adam, sgd, lbfgs) on digits and make_classification "
                    "20,000 x 20, MLPRegressor (adam) on make_regression 10,000 x 20: "
                    "each at most 1.0x scikit-learn's fit+predict time at equal epochs "
                    "and batch size",
    ),
)
