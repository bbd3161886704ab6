"""Tests of mlnotes.linear_model.Perceptron against scikit-learn and the theory."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Perceptron as SkPerceptron
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler

from mlnotes.linear_model import Perceptron


def _scaled_split(X, y, seed=0):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def _binary(n=300, n_features=6, seed=1, **kw):
    return make_classification(n, n_features, n_informative=4, random_state=seed, **kw)


def _multiclass(n=300, n_features=6, seed=1, n_classes=3):
    return make_classification(n, n_features, n_informative=4, n_classes=n_classes,
                               random_state=seed)


def _separable(n=200, n_features=5, gamma=0.1, seed=0):
    """Points in the unit ball at distance >= gamma from the hyperplane u.x = 0."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n_features)
    u /= np.linalg.norm(u)
    X = np.empty((0, n_features))
    while X.shape[0] < n:
        Z = rng.uniform(-1, 1, size=(4 * n, n_features))
        Z = Z[(np.linalg.norm(Z, axis=1) <= 1) & (np.abs(Z @ u) >= gamma)]
        X = np.vstack([X, Z])
    X = X[:n]
    y = (X @ u > 0).astype(int)
    return X, y, u


def _fit_quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


# --- parity with scikit-learn -------------------------------------------------------

# Without shuffling the algorithm is deterministic, so the whole trajectory (the
# weights after every update, the stopping epoch) must be scikit-learn's.
PARITY_PARAMS = [
    {},
    {"penalty": "l2", "alpha": 1e-3},
    {"penalty": "l1", "alpha": 1e-3},
    {"penalty": "elasticnet", "alpha": 1e-3, "l1_ratio": 0.5},
    {"early_stopping": True},
    {"fit_intercept": False, "eta0": 0.1},
    {"class_weight": "balanced"},
    {"tol": None, "max_iter": 7},
]


@pytest.mark.parametrize("params", PARITY_PARAMS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_same_trajectory_as_sklearn_without_shuffle(params, n_classes, sparse):
    X, y = _multiclass(n_classes=n_classes)
    X = StandardScaler().fit_transform(X)
    if sparse:
        X[np.abs(X) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=y.shape[0])
    ours = _fit_quiet(Perceptron(shuffle=False, **params), X, y, sample_weight=sw)
    ref = _fit_quiet(SkPerceptron(shuffle=False, **params), X, y, sample_weight=sw)
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-10)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-10)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.t_ == ref.t_
    assert_array_equal(ours.classes_, ref.classes_)


ACCURACY_DATASETS = {
    "binary separated": lambda: make_classification(2000, 10, n_informative=5, class_sep=2.0,
                                                    random_state=0),
    "binary hard": lambda: make_classification(2000, 20, n_informative=10, random_state=1),
    "3 classes": lambda: make_classification(2000, 10, n_informative=6, n_classes=3,
                                             class_sep=2.0, random_state=2),
    "5 blobs": lambda: make_blobs(2000, n_features=8, centers=5, cluster_std=2.0,
                                  random_state=3),
    "digits": lambda: load_digits(return_X_y=True),
    "breast cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
}


@pytest.mark.parametrize("name", list(ACCURACY_DATASETS))
def test_heldout_accuracy_close_to_sklearn(name):
    """Mean held-out accuracy over 10 seeds within 0.03 of scikit-learn's (shuffled fits)."""
    Xtr, Xte, ytr, yte = _scaled_split(*ACCURACY_DATASETS[name]())
    ours = [Perceptron(random_state=s).fit(Xtr, ytr).score(Xte, yte) for s in range(10)]
    ref = [SkPerceptron(random_state=s).fit(Xtr, ytr).score(Xte, yte) for s in range(10)]
    assert abs(np.mean(ours) - np.mean(ref)) <= 0.03, (np.mean(ours), np.mean(ref))


# --- the theory ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_separable_data_fitted_exactly(seed):
    X, y, _ = _separable(seed=seed)
    clf = Perceptron(random_state=seed).fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.n_iter_ < clf.max_iter


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("eta0", [1.0, 0.01])
def test_novikoff_mistake_bound(seed, eta0):
    """Run the perceptron one sample at a time and count its updates (mistakes)."""
    X, y, u = _separable(n=150, gamma=0.15, seed=seed)
    y_pm = 2 * y - 1
    R = np.linalg.norm(X, axis=1).max()
    gamma = (y_pm * (X @ u)).min()
    clf = Perceptron(fit_intercept=False, eta0=eta0)
    mistakes = 0
    expected = np.zeros(X.shape[1])  # eta0 * sum of y_i x_i over the mistakes
    for epoch in range(200):
        epoch_mistakes = 0
        for i in range(X.shape[0]):
            before = clf.coef_.copy() if epoch or i else np.zeros((1, X.shape[1]))
            clf.partial_fit(X[i:i + 1], y[i:i + 1], classes=[0, 1])
            if np.any(clf.coef_ != before):
                epoch_mistakes += 1
                expected += eta0 * y_pm[i] * X[i]
        mistakes += epoch_mistakes
        if epoch_mistakes == 0:
            break
    assert epoch_mistakes == 0
    assert clf.score(X, y) == 1.0
    assert 0 < mistakes <= (R / gamma) ** 2
    assert_allclose(clf.coef_.ravel(), expected, rtol=1e-10, atol=1e-12)


def test_decision_function_is_linear_score():
    X, y = _multiclass()
    clf = _fit_quiet(Perceptron(), X, y)
    assert_allclose(clf.decision_function(X), X @ clf.coef_.T + clf.intercept_)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(X @ clf.coef_.T + clf.intercept_,
                                                              axis=1)])


# --- randomness -----------------------------------------------------------------------


def test_random_state_reproducible_and_global_rng_untouched():
    X, y = _multiclass(n=500)
    state = np.random.get_state()
    a = _fit_quiet(Perceptron(random_state=3), X, y)
    b = _fit_quiet(Perceptron(random_state=3), X, y)
    c = _fit_quiet(Perceptron(random_state=4), X, y)
    after = np.random.get_state()
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)
    assert a.n_iter_ == b.n_iter_
    assert not np.array_equal(a.coef_, c.coef_)
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    state = np.random.get_state()
    f = _fit_quiet(Perceptron(random_state=None), X, y)
    g = _fit_quiet(Perceptron(random_state=None, early_stopping=True), X, y)
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    assert not np.array_equal(f.coef_, _fit_quiet(Perceptron(random_state=None), X, y).coef_)
    assert g.n_iter_ >= 1
    rs = np.random.RandomState(7)
    d = _fit_quiet(Perceptron(random_state=rs), X, y)
    e = _fit_quiet(Perceptron(random_state=np.random.RandomState(7)), X, y)
    assert_array_equal(d.coef_, e.coef_)


def test_n_jobs_and_verbose_do_not_change_the_model(capsys):
    X, y = _multiclass(n=400, n_classes=4)
    ref = _fit_quiet(Perceptron(max_iter=30), X, y)
    par = _fit_quiet(Perceptron(max_iter=30, n_jobs=2), X, y)
    talk = _fit_quiet(Perceptron(max_iter=30, verbose=1), X, y)
    assert_array_equal(ref.coef_, par.coef_)
    assert_array_equal(ref.coef_, talk.coef_)
    out = capsys.readouterr().out
    assert "-- Epoch 1" in out
    assert re.search(r"Norm: [\d.]+, NNZs: \d+, Bias: -?[\d.]+, T: \d+, Avg. loss: [\d.]+", out)
    _fit_quiet(Perceptron(max_iter=3, verbose=1, early_stopping=True), X, y)
    assert "Validation score:" in capsys.readouterr().out


# --- weights -----------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_zero_sample_weight_equals_dropping_samples(n_classes):
    X, y = _multiclass(n_classes=n_classes)
    keep = np.random.default_rng(0).random(y.shape[0]) < 0.7
    params = dict(shuffle=False, tol=None, max_iter=8)
    weighted = Perceptron(**params).fit(X, y, sample_weight=keep.astype(float))
    dropped = Perceptron(**params).fit(X[keep], y[keep])
    assert_allclose(weighted.coef_, dropped.coef_, rtol=1e-12)
    assert_allclose(weighted.intercept_, dropped.intercept_, rtol=1e-12)


@pytest.mark.parametrize("class_weight", [{0: 0.0, 1: 1.0}, {0: 0.3, 1: 2.5}, "balanced"])
def test_binary_class_weight_equals_sample_weight(class_weight):
    """In a binary fit the class weight multiplies the updates of that class's samples."""
    X, y = _binary(weights=[0.8])
    if class_weight == "balanced":
        per_class = y.shape[0] / (2 * np.bincount(y))
    else:
        per_class = np.array([class_weight[0], class_weight[1]])
    params = dict(tol=None, max_iter=6, random_state=5)
    a = Perceptron(class_weight=class_weight, **params).fit(X, y)
    b = Perceptron(**params).fit(X, y, sample_weight=per_class[y])
    assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-12)


def test_class_weight_shifts_predictions_towards_the_weighted_class():
    X, y = _binary(n=1000, weights=[0.85], seed=3)
    recall = []
    for w1 in (1.0, 10.0):
        clf = _fit_quiet(Perceptron(class_weight={0: 1.0, 1: w1}, random_state=0), X, y)
        recall.append(np.mean(clf.predict(X[y == 1]) == 1))
    assert recall[1] > recall[0]


# --- partial_fit, warm_start, early stopping --------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_partial_fit_epochs_equal_fit(n_classes):
    X, y = _multiclass(n_classes=n_classes)
    fitted = Perceptron(shuffle=False, tol=None, max_iter=5).fit(X, y)
    online = Perceptron(shuffle=False)
    for epoch in range(5):
        online.partial_fit(X, y, classes=np.unique(y) if epoch == 0 else None)
    assert_allclose(online.coef_, fitted.coef_, rtol=1e-12)
    assert_allclose(online.intercept_, fitted.intercept_, rtol=1e-12)
    assert online.t_ == fitted.t_ == 5 * X.shape[0] + 1
    assert online.n_iter_ == 1


def test_partial_fit_minibatches_learn_and_check_classes():
    X, y, _ = _separable(n=400, seed=3)
    y = np.array(["neg", "pos"])[y]
    clf = Perceptron()
    for epoch in range(20):
        for batch in np.array_split(np.arange(400), 8):
            clf.partial_fit(X[batch], y[batch], classes=["neg", "pos"])
    assert_array_equal(clf.classes_, ["neg", "pos"])
    assert clf.score(X, y) >= 0.97
    with pytest.raises(ValueError, match="not the same as on last call"):
        clf.partial_fit(X[:5], y[:5], classes=["neg", "pos", "zero"])
    with pytest.raises(ValueError, match="classes should include all valid labels"):
        clf.partial_fit(X[:5], np.array(["other"] * 5))
    with pytest.raises(ValueError, match="classes must be passed"):
        Perceptron().partial_fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:5, :3], y[:5])


def test_warm_start_continues_and_cold_start_restarts():
    X, y = _multiclass()
    params = dict(shuffle=False, tol=None)
    long = Perceptron(max_iter=6, **params).fit(X, y)
    warm = Perceptron(max_iter=3, warm_start=True, **params).fit(X, y)
    warm.fit(X, y)
    assert_allclose(warm.coef_, long.coef_, rtol=1e-12)
    assert_allclose(warm.intercept_, long.intercept_, rtol=1e-12)
    cold = Perceptron(max_iter=3, **params).fit(X, y)
    first = cold.coef_.copy()
    cold.fit(X, y)
    assert_array_equal(cold.coef_, first)
    init = Perceptron(max_iter=3, **params).fit(X, y, coef_init=first, intercept_init=cold.intercept_)
    assert_allclose(init.coef_, long.coef_, rtol=1e-12)


def test_early_stopping_trains_on_the_stratified_split_only():
    X, y = make_classification(600, 10, n_informative=5, flip_y=0.2, random_state=0)
    clf = _fit_quiet(Perceptron(early_stopping=True, validation_fraction=0.2, shuffle=False,
                                random_state=2), X, y)
    assert clf.n_iter_ < clf.max_iter
    split = StratifiedShuffleSplit(test_size=0.2, random_state=2)
    train, _ = next(split.split(np.zeros((600, 1)), y))
    train = np.sort(train)
    ref = Perceptron(shuffle=False, tol=None, max_iter=clf.n_iter_).fit(X[train], y[train])
    assert_allclose(clf.coef_, ref.coef_, rtol=1e-12)
    assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-12)


def test_early_stopping_patience():
    X, y = make_classification(600, 10, n_informative=5, flip_y=0.3, random_state=0)
    short = _fit_quiet(Perceptron(early_stopping=True, n_iter_no_change=2), X, y)
    long = _fit_quiet(Perceptron(early_stopping=True, n_iter_no_change=15), X, y)
    assert short.n_iter_ < long.n_iter_


def test_convergence_warning():
    X, y = _binary(flip_y=0.3)
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        Perceptron(max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Perceptron(max_iter=2, tol=None).fit(X, y)
        Xs, ys, _ = _separable()
        Perceptron().fit(Xs, ys)


# --- input types --------------------------------------------------------------------------


def test_sparse_equals_dense_without_intercept():
    X, y = _multiclass()
    X[np.abs(X) < 0.7] = 0.0
    dense = Perceptron(fit_intercept=False, random_state=1).fit(X, y)
    sparse = Perceptron(fit_intercept=False, random_state=1).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-12)
    assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_float32_input():
    Xtr, Xte, ytr, yte = _scaled_split(*make_classification(1000, 10, n_informative=5,
                                                            class_sep=2.0, random_state=0))
    a = Perceptron().fit(Xtr.astype(np.float32), ytr)
    b = Perceptron().fit(Xtr, ytr)
    assert a.coef_.dtype == np.float32
    assert a.intercept_.dtype == np.float32
    assert abs(a.score(Xte.astype(np.float32), yte) - b.score(Xte, yte)) <= 0.05


def test_sparsify_keeps_predictions():
    X, y = _multiclass()
    clf = _fit_quiet(Perceptron(penalty="l1", alpha=0.01), X, y)
    pred = clf.predict(X)
    assert np.any(clf.coef_ == 0)
    clf.sparsify()
    assert sp.issparse(clf.coef_)
    assert_array_equal(clf.predict(X), pred)
    clf.densify()
    assert isinstance(clf.coef_, np.ndarray)


def test_fitted_attributes():
    X, y = _multiclass(n_classes=4)
    clf = _fit_quiet(Perceptron(), X, y)
    assert clf.coef_.shape == (4, X.shape[1])
    assert clf.intercept_.shape == (4,)
    assert clf.t_ == clf.n_iter_ * X.shape[0] + 1
    assert clf.n_features_in_ == X.shape[1]
    Xb, yb = _binary()
    clf = _fit_quiet(Perceptron(), Xb, yb)
    assert clf.coef_.shape == (1, Xb.shape[1])
    assert clf.intercept_.shape == (1,)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_rejects_non_finite_input(value):
    X, y = _binary()
    X[3, 2] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        Perceptron().fit(X, y)
    clf = _fit_quiet(Perceptron(), *_binary())
    with pytest.raises(ValueError, match="NaN|infinity"):
        clf.predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"eta0": -1.0}, "eta0"),
        ({"eta0": 0.0}, "eta0"),
        ({"alpha": -0.1}, "alpha"),
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"penalty": "l3"}, "penalty"),
        ({"max_iter": 0}, "max_iter"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"class_weight": "auto"}, "class_weight"),
    ],
)
def test_rejects_bad_parameters(params, match):
    X, y = _binary()
    with pytest.raises(ValueError, match=match):
        Perceptron(**params).fit(X, y)


def test_rejects_bad_data():
    X, y = _binary()
    with pytest.raises(ValueError, match="class"):
        Perceptron().fit(X, np.zeros_like(y))
    with pytest.raises(ValueError, match="Unknown label type"):
        Perceptron().fit(X, X[:, 0])
    with pytest.raises(NotFittedError):
        Perceptron().predict(X)
    clf = _fit_quiet(Perceptron(), X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])
    with pytest.raises(ValueError, match="sample_weight|shape"):
        Perceptron().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="early_stopping should be False"):
        Perceptron(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="balanced"):
        Perceptron(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="coef_init"):
        Perceptron().fit(X, y, coef_init=np.zeros((3, X.shape[1])))


def test_overflow_is_an_error():
    X = np.array([[1e300], [-1e300]])
    y = np.array([1, 0])
    with pytest.raises(ValueError, match="overflow"):
        Perceptron(eta0=1e10).fit(X, y)


# --- invariance -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n_classes=st.integers(2, 4),
    permutation_seed=st.integers(0, 2**16),
    data_seed=st.integers(0, 2**16),
    as_strings=st.booleans(),
)
def test_label_relabelling_relabels_predictions(n_classes, permutation_seed, data_seed,
                                                as_strings):
    """Renaming the classes by a bijection renames the predictions the same way."""
    X, y = make_blobs(120, n_features=3, centers=n_classes, cluster_std=3.0,
                      random_state=data_seed)
    perm = np.random.default_rng(permutation_seed).permutation(n_classes) + 10
    new_names = np.array([f"c{p}" for p in perm]) if as_strings else perm
    params = dict(max_iter=20, tol=None, shuffle=n_classes == 2)
    original = Perceptron(**params).fit(X, y)
    renamed = Perceptron(**params).fit(X, new_names[y])
    assert_array_equal(renamed.predict(X), new_names[original.predict(X)])


def test_iris_multiclass_learns():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = _fit_quiet(Perceptron(), X, y)
    assert clf.score(X, y) > 0.7
