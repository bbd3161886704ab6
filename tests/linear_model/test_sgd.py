"""Tests of mlnotes.linear_model.SGDClassifier and SGDRegressor against scikit-learn and theory."""

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
    load_diabetes,
    load_digits,
    make_blobs,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.linear_model import SGDRegressor as SkSGDRegressor
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlnotes.linear_model import SGDClassifier, SGDRegressor

CLASSIFICATION_LOSSES = ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
                         "squared_error", "huber", "epsilon_insensitive",
                         "squared_epsilon_insensitive"]
REGRESSION_LOSSES = ["squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive"]
PENALTIES = [None, "l2", "l1", "elasticnet"]


def _quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _classification(n_classes=3, n=300, seed=1, sparse=False):
    X, y = make_classification(n, 6, n_informative=4, n_classes=n_classes, random_state=seed)
    X = StandardScaler().fit_transform(X)
    if sparse:
        X[np.abs(X) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    return X, y


def _regression(n=300, seed=1, sparse=False):
    X, y = make_regression(n, 6, noise=1.0, random_state=seed)
    X = StandardScaler().fit_transform(X)
    if sparse:
        X[np.abs(X) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    return X, y / y.std()


def _weights(n, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, size=n)


def _assert_same_model(ours, ref, rtol=1e-8):
    scale = max(1.0, np.abs(ref.coef_).max())
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape
    assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=rtol * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=0,
                    atol=rtol * max(1.0, np.abs(ref.intercept_).max()))
    assert ours.n_iter_ == ref.n_iter_
    assert ours.t_ == ref.t_


# --- parity with scikit-learn: the same trajectory without shuffling -----------------

# The 'constant', 'invscaling' and 'adaptive' schedules with a moderate step keep every
# loss well conditioned: the weights after every step, and the stopping epoch, must be
# scikit-learn's. With 'optimal' the first steps have size alpha^(-1/4); the smooth losses
# then blow the weights up by orders of magnitude before they settle, which amplifies the
# last-bit differences of vectorised dot products into visible ones (the trajectory is
# chaotic), so 'optimal' is compared exactly for the losses with bounded gradients only
# (and by held-out score below for the rest).
SCHEDULES = [
    dict(learning_rate="constant", eta0=0.05),
    dict(learning_rate="invscaling", eta0=0.05, power_t=0.3),
    dict(learning_rate="adaptive", eta0=0.05),
]
OPTIMAL_EXACT_CLF = ["hinge", "log_loss", "perceptron", "epsilon_insensitive"]


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("loss", CLASSIFICATION_LOSSES)
def test_classifier_same_trajectory_as_sklearn(loss, penalty):
    X, y = _classification()
    sw = _weights(y.shape[0])
    schedules = SCHEDULES + ([dict(learning_rate="optimal")] if loss in OPTIMAL_EXACT_CLF
                             else [])
    for k, schedule in enumerate(schedules):
        params = dict(loss=loss, penalty=penalty, alpha=0.01, l1_ratio=0.3, shuffle=False,
                      average=bool(k % 2), **schedule)
        ours = _quiet(SGDClassifier(**params), X, y, sample_weight=sw)
        ref = _quiet(SkSGDClassifier(**params), X, y, sample_weight=sw)
        _assert_same_model(ours, ref)
        assert_array_equal(ours.classes_, ref.classes_)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_regressor_same_trajectory_as_sklearn(loss, penalty):
    X, y = _regression()
    sw = _weights(y.shape[0])
    schedules = SCHEDULES + ([dict(learning_rate="optimal")]
                             if loss == "epsilon_insensitive" else [])
    for k, schedule in enumerate(schedules):
        params = dict(loss=loss, penalty=penalty, alpha=0.01, l1_ratio=0.3, shuffle=False,
                      average=bool(k % 2), **schedule)
        ours = _quiet(SGDRegressor(**params), X, y, sample_weight=sw)
        ref = _quiet(SkSGDRegressor(**params), X, y, sample_weight=sw)
        _assert_same_model(ours, ref)


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(loss="log_loss", penalty="elasticnet"),
        dict(loss="modified_huber", learning_rate="constant", eta0=0.02, average=True),
        dict(loss="squared_hinge", learning_rate="invscaling", eta0=0.05, penalty="l1"),
        dict(fit_intercept=False, loss="log_loss", average=7),
    ],
)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_sparse_same_trajectory_as_sklearn(params, n_classes):
    """On CSR input the intercept steps are damped (x0.01) and the norms of the stopping
    rule are those of the touched coordinates, both as in scikit-learn."""
    X, y = _classification(n_classes=n_classes, sparse=True)
    sw = _weights(y.shape[0])
    ours = _quiet(SGDClassifier(shuffle=False, alpha=0.01, **params), X, y, sample_weight=sw)
    ref = _quiet(SkSGDClassifier(shuffle=False, alpha=0.01, **params), X, y, sample_weight=sw)
    _assert_same_model(ours, ref)


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(loss="huber", penalty="elasticnet", average=True),
        dict(loss="epsilon_insensitive", learning_rate="optimal", penalty="l1"),
    ],
)
def test_regressor_sparse_same_trajectory_as_sklearn(params):
    X, y = _regression(sparse=True)
    ours = _quiet(SGDRegressor(shuffle=False, alpha=0.01, **params), X, y)
    ref = _quiet(SkSGDRegressor(shuffle=False, alpha=0.01, **params), X, y)
    _assert_same_model(ours, ref)


@pytest.mark.parametrize(
    "params",
    [
        dict(class_weight="balanced"),
        dict(class_weight={0: 2.0, 1: 0.5, 2: 1.0}, loss="log_loss"),
        dict(learning_rate="pa1", eta0=0.1),
        dict(learning_rate="pa2", eta0=0.1),
        dict(early_stopping=True, penalty=None, random_state=0),
        dict(early_stopping=True, penalty=None, learning_rate="adaptive", eta0=0.1,
             n_iter_no_change=2, validation_fraction=0.2, random_state=3),
        dict(tol=None, max_iter=7, loss="squared_hinge", learning_rate="invscaling",
             eta0=0.05),
        dict(average=10, learning_rate="constant", eta0=0.01),
    ],
)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_options_same_as_sklearn(params, n_classes):
    X, y = make_classification(400, 6, n_informative=4, n_classes=n_classes, flip_y=0.1,
                               random_state=1)
    X = StandardScaler().fit_transform(X)
    sw = _weights(y.shape[0])
    ours = _quiet(SGDClassifier(shuffle=False, **params), X, y, sample_weight=sw)
    ref = _quiet(SkSGDClassifier(shuffle=False, **params), X, y, sample_weight=sw)
    _assert_same_model(ours, ref)


@pytest.mark.parametrize(
    "params",
    [
        dict(early_stopping=True, penalty=None, random_state=0),
        dict(early_stopping=True, penalty="l1", loss="huber", random_state=2),
        dict(learning_rate="pa1", loss="epsilon_insensitive", eta0=0.1),
        dict(learning_rate="pa2", loss="epsilon_insensitive", eta0=0.1),
        dict(average=50),
        dict(fit_intercept=False, learning_rate="adaptive", eta0=0.01),
    ],
)
def test_regressor_options_same_as_sklearn(params):
    X, y = make_regression(400, 6, noise=10.0, random_state=1)
    X = StandardScaler().fit_transform(X)
    y = y / y.std()
    sw = _weights(y.shape[0])
    ours = _quiet(SGDRegressor(shuffle=False, **params), X, y, sample_weight=sw)
    ref = _quiet(SkSGDRegressor(shuffle=False, **params), X, y, sample_weight=sw)
    _assert_same_model(ours, ref)


def test_partial_fit_same_as_sklearn():
    X, y = _classification()
    ours, ref = SGDClassifier(shuffle=False), SkSGDClassifier(shuffle=False)
    for epoch in range(4):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        ref.partial_fit(X, y, classes=[0, 1, 2])
    _assert_same_model(ours, ref)
    Xr, yr = _regression()
    ours, ref = SGDRegressor(shuffle=False, average=True), SkSGDRegressor(shuffle=False,
                                                                          average=True)
    for epoch in range(4):
        ours.partial_fit(Xr, yr)
        ref.partial_fit(Xr, yr)
    _assert_same_model(ours, ref)


# --- parity of the held-out scores (shuffled fits, default schedules) ------------------


def _split(X, y, seed=0, stratify=True):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed,
                                          stratify=y if stratify else None)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


CLF_DATASETS = {
    "binary": lambda: make_classification(2000, 20, n_informative=10, random_state=1),
    "5 blobs": lambda: make_blobs(2000, n_features=8, centers=5, cluster_std=2.5,
                                  random_state=3),
    "digits": lambda: load_digits(return_X_y=True),
    "breast cancer": lambda: load_breast_cancer(return_X_y=True),
}


@pytest.mark.parametrize(
    "name, loss",
    [(name, loss) for name in ["binary", "5 blobs", "breast cancer"]
     for loss in ["hinge", "log_loss", "modified_huber", "squared_hinge"]]
    + [("digits", "hinge"), ("digits", "log_loss")],
)
def test_classifier_heldout_accuracy_close_to_sklearn(name, loss):
    """Mean held-out accuracy over 5 seeds within 0.03 of scikit-learn's (at most 100
    epochs each: the squared hinge with the 'optimal' schedule never meets ``tol``)."""
    Xtr, Xte, ytr, yte = _split(*CLF_DATASETS[name]())
    ours, ref = [], []
    for seed in range(5):
        params = dict(loss=loss, random_state=seed, max_iter=100)
        ours.append(_quiet(SGDClassifier(**params), Xtr, ytr).score(Xte, yte))
        ref.append(_quiet(SkSGDClassifier(**params), Xtr, ytr).score(Xte, yte))
    assert abs(np.mean(ours) - np.mean(ref)) <= 0.03, (np.mean(ours), np.mean(ref))


REG_DATASETS = {
    "friedman-like": lambda: make_regression(2000, 20, n_informative=10, noise=20.0,
                                             random_state=0),
    "diabetes": lambda: load_diabetes(return_X_y=True),
}


@pytest.mark.parametrize("params", [dict(), dict(loss="huber", epsilon=1.0),
                                    dict(average=True), dict(learning_rate="adaptive")])
@pytest.mark.parametrize("name", list(REG_DATASETS))
def test_regressor_heldout_r2_close_to_sklearn(name, params):
    X, y = REG_DATASETS[name]()
    Xtr, Xte, ytr, yte = _split(X, (y - y.mean()) / y.std(), stratify=False)
    ours, ref = [], []
    for seed in range(5):
        ours.append(_quiet(SGDRegressor(random_state=seed, **params), Xtr, ytr)
                    .score(Xte, yte))
        ref.append(_quiet(SkSGDRegressor(random_state=seed, **params), Xtr, ytr)
                   .score(Xte, yte))
    assert abs(np.mean(ours) - np.mean(ref)) <= 0.03, (np.mean(ours), np.mean(ref))


# --- the theory (chapter 3): SGD minimises the regularised empirical risk ----------------


def test_averaged_sgd_reaches_the_least_squares_solution():
    """Noiseless linear data: SGD averaged over its last 20 epochs recovers the exact
    coefficients (averaging from step 1 would keep the transient of the first epochs)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    coef = np.array([1.5, -2.0, 0.0, 0.5, 3.0])
    y = X @ coef + 0.7
    reg = SGDRegressor(penalty=None, average=10 * 2000, tol=None, max_iter=30,
                       random_state=0).fit(X, y)
    assert_allclose(reg.coef_, coef, atol=1e-3)
    assert_allclose(reg.intercept_, [0.7], atol=1e-3)


def test_log_loss_sgd_approaches_regularised_logistic_regression():
    """(1/n) sum log-loss + alpha/2 ||w||^2 is logistic regression with C = 1/(n alpha)."""
    X, y = make_classification(1000, 5, n_informative=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 0.01
    sgd = SGDClassifier(loss="log_loss", alpha=alpha, average=True, tol=None, max_iter=200,
                        random_state=0).fit(X, y)
    exact = SkLogisticRegression(C=1.0 / (X.shape[0] * alpha), tol=1e-10).fit(X, y)
    assert_allclose(sgd.coef_, exact.coef_, atol=2e-2)
    assert_allclose(sgd.intercept_, exact.intercept_, atol=2e-2)


def test_optimal_schedule_first_step():
    """eta_1 = alpha^(-1/4) (Bottou's t0): one hinge step from zero on one sample."""
    alpha = 1e-2
    X = np.array([[1.0, 2.0]])
    reg = SGDClassifier(alpha=alpha, penalty=None, max_iter=1, tol=None, shuffle=False)
    reg.partial_fit(X, [1], classes=[0, 1])
    eta1 = alpha ** -0.25
    assert_allclose(reg.coef_, eta1 * X)
    assert_allclose(reg.intercept_, [eta1])


def test_invscaling_steps_by_hand():
    """Two constant-gradient (epsilon-insensitive) steps of size eta0 / t^power_t."""
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([10.0, 10.0])
    eta0, power_t = 0.1, 0.5
    reg = SGDRegressor(loss="epsilon_insensitive", epsilon=0.0, penalty=None, eta0=eta0,
                       power_t=power_t, shuffle=False, max_iter=1, tol=None).fit(X, y)
    steps = eta0 / np.arange(1, 3) ** power_t
    assert_allclose(reg.coef_, steps)
    assert_allclose(reg.intercept_, [steps.sum()])


def test_l2_decay_and_l1_truncation_by_hand():
    """Zero gradient (target inside the epsilon tube): only the penalty acts."""
    X = np.array([[1.0, -1.0]])
    y = np.array([0.0])
    eta0, alpha = 0.1, 0.5
    w0 = np.array([1.0, -0.01])
    l2 = SGDRegressor(loss="epsilon_insensitive", epsilon=10.0, penalty="l2", alpha=alpha,
                      learning_rate="constant", eta0=eta0, fit_intercept=False,
                      max_iter=1, tol=None).fit(X, y, coef_init=w0)
    assert_allclose(l2.coef_, (1 - eta0 * alpha) * w0)
    l1 = SGDRegressor(loss="epsilon_insensitive", epsilon=10.0, penalty="l1", alpha=alpha,
                      learning_rate="constant", eta0=eta0, fit_intercept=False,
                      max_iter=1, tol=None).fit(X, y, coef_init=w0)
    # the weight moves towards zero by eta0 * alpha, and stops at zero
    assert_allclose(l1.coef_, [1.0 - eta0 * alpha, 0.0])


# --- probabilities ---------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_predict_proba(loss, n_classes):
    X, y = make_blobs(400, n_features=4, centers=n_classes, cluster_std=3.0, random_state=0)
    clf = _quiet(SGDClassifier(loss=loss, random_state=0), X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    assert_allclose(proba.sum(axis=1), 1.0)
    scores = clf.decision_function(X)
    if n_classes == 2:
        expected = (1 / (1 + np.exp(-scores)) if loss == "log_loss"
                    else (np.clip(scores, -1, 1) + 1) / 2)
        assert_allclose(proba[:, 1], expected, atol=1e-12)
        assert_array_equal(clf.classes_[np.argmax(proba, axis=1)][proba.max(axis=1) > 0.5],
                           clf.predict(X)[proba.max(axis=1) > 0.5])
    elif loss == "log_loss":  # normalised sigmoids keep the order of the scores
        # (rows where two sigmoids saturate to the same float are ties)
        top2 = np.sort(proba, axis=1)[:, -2:]
        distinct = top2[:, 1] > top2[:, 0]
        assert distinct.mean() > 0.9
        assert_array_equal(np.argmax(proba, axis=1)[distinct],
                           np.argmax(scores, axis=1)[distinct])
    else:  # clipped scores: the best class has the largest (possibly tied) probability
        best = np.argmax(scores, axis=1)
        assert_allclose(proba[np.arange(len(best)), best], proba.max(axis=1))
    with np.errstate(divide="ignore"):
        assert_allclose(clf.predict_log_proba(X), np.log(proba))
    Xs = StandardScaler().fit_transform(X)
    params = dict(loss=loss, alpha=0.01, learning_rate="constant", eta0=0.01, shuffle=False)
    ref = _quiet(SkSGDClassifier(**params), Xs, y)
    ours = _quiet(SGDClassifier(**params), Xs, y)
    assert_allclose(ours.predict_proba(Xs), ref.predict_proba(Xs), atol=1e-10)


def test_no_predict_proba_for_other_losses():
    X, y = _classification()
    clf = _quiet(SGDClassifier(loss="hinge"), X, y)
    assert not hasattr(clf, "predict_proba")
    with pytest.raises(AttributeError, match="predict_proba"):
        clf.predict_proba(X)


def test_modified_huber_uniform_when_no_class_claims_a_sample():
    X, y = make_blobs(300, n_features=2, centers=3, random_state=0)
    clf = _quiet(SGDClassifier(loss="modified_huber", random_state=0), X, y)
    clf.coef_ = np.zeros_like(clf.coef_)
    clf.intercept_ = np.full_like(clf.intercept_, -5.0)
    assert_allclose(clf.predict_proba(X[:3]), 1 / 3)


# --- partial_fit, warm start, early stopping -------------------------------------------


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_partial_fit_epochs_equal_fit(n_classes, average):
    X, y = _classification(n_classes=n_classes)
    fitted = SGDClassifier(shuffle=False, tol=None, max_iter=5, average=average).fit(X, y)
    online = SGDClassifier(shuffle=False, average=average)
    for epoch in range(5):
        online.partial_fit(X, y, classes=np.unique(y) if epoch == 0 else None)
    assert_allclose(online.coef_, fitted.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(online.intercept_, fitted.intercept_, rtol=1e-10, atol=1e-12)
    assert online.t_ == fitted.t_ == 5 * X.shape[0] + 1
    assert online.n_iter_ == 1


@pytest.mark.parametrize("average", [False, True])
def test_regressor_partial_fit_epochs_equal_fit(average):
    X, y = _regression()
    fitted = SGDRegressor(shuffle=False, tol=None, max_iter=4, average=average).fit(X, y)
    online = SGDRegressor(shuffle=False, average=average)
    for _ in range(4):
        online.partial_fit(X, y)
    assert_allclose(online.coef_, fitted.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(online.intercept_, fitted.intercept_, rtol=1e-10, atol=1e-12)
    assert online.t_ == fitted.t_


def test_partial_fit_minibatches_learn_online():
    X, y = make_classification(3000, 10, n_informative=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    from sklearn.linear_model import SGDClassifier as SkSGDClassifier

    clf = SGDClassifier(loss="log_loss", random_state=0)
    ref = SkSGDClassifier(loss="log_loss", random_state=0)
    for epoch in range(3):
        for batch in np.array_split(np.arange(3000), 30):
            clf.partial_fit(X[batch], y[batch], classes=[0, 1])
            ref.partial_fit(X[batch], y[batch], classes=[0, 1])
    batch_fit = _quiet(SGDClassifier(loss="log_loss", random_state=0), X, y)
    # online learning gets close to the batch fit, as scikit-learn's does
    assert clf.score(X, y) >= ref.score(X, y) - 0.01
    assert clf.score(X, y) >= batch_fit.score(X, y) - 0.05
    with pytest.raises(ValueError, match="not the same as on last call"):
        clf.partial_fit(X[:5], y[:5], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:5, :3], y[:5])


def test_warm_start_continues_and_cold_start_restarts():
    X, y = _regression()
    params = dict(shuffle=False, tol=None, learning_rate="constant", eta0=0.01)
    long = SGDRegressor(max_iter=6, **params).fit(X, y)
    warm = SGDRegressor(max_iter=3, warm_start=True, **params).fit(X, y)
    warm.fit(X, y)
    assert_allclose(warm.coef_, long.coef_, rtol=1e-12)
    cold = SGDRegressor(max_iter=3, **params).fit(X, y)
    first = cold.coef_.copy()
    cold.fit(X, y)
    assert_array_equal(cold.coef_, first)
    init = SGDRegressor(max_iter=3, **params).fit(X, y, coef_init=first,
                                                  intercept_init=cold.intercept_)
    assert_allclose(init.coef_, long.coef_, rtol=1e-12)


def test_early_stopping_and_adaptive_schedule_stop():
    X, y = make_classification(2000, 10, n_informative=5, flip_y=0.2, random_state=0)
    X = StandardScaler().fit_transform(X)
    short = _quiet(SGDClassifier(early_stopping=True, n_iter_no_change=2, random_state=0),
                   X, y)
    long = _quiet(SGDClassifier(early_stopping=True, n_iter_no_change=20, random_state=0),
                  X, y)
    assert short.n_iter_ < long.n_iter_
    # 'adaptive' divides the step by 5 at each plateau until it is below 1e-6: it runs
    # past the first plateau that stops 'constant'
    constant = _quiet(SGDRegressor(learning_rate="constant", eta0=0.01, random_state=0),
                      *_regression(n=1000))
    adaptive = _quiet(SGDRegressor(learning_rate="adaptive", eta0=0.01, random_state=0),
                      *_regression(n=1000))
    assert adaptive.n_iter_ > constant.n_iter_


def test_convergence_and_deprecation_warnings():
    X, y = _classification()
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        SGDClassifier(max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SGDClassifier(max_iter=2, tol=None).fit(X, y)
    with pytest.warns(FutureWarning, match="power_t"):
        _quiet(SGDRegressor(power_t=-0.1, max_iter=2), *_regression())


# --- randomness, threads, verbose ----------------------------------------------------------


def test_random_state_reproducible_and_global_rng_untouched():
    X, y = _classification(n=500)
    state = np.random.get_state()
    a = _quiet(SGDClassifier(random_state=3), X, y)
    b = _quiet(SGDClassifier(random_state=3), X, y)
    c = _quiet(SGDClassifier(random_state=4), X, y)
    _quiet(SGDClassifier(random_state=None, early_stopping=True), X, y)
    _quiet(SGDRegressor(random_state=None, early_stopping=True), *_regression())
    after = np.random.get_state()
    assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_n_jobs_and_verbose_do_not_change_the_model(capsys):
    X, y = _classification(n=400, n_classes=4)
    ref = _quiet(SGDClassifier(max_iter=20, random_state=0), X, y)
    par = _quiet(SGDClassifier(max_iter=20, random_state=0, n_jobs=2), X, y)
    talk = _quiet(SGDClassifier(max_iter=20, random_state=0, verbose=1), X, y)
    assert_array_equal(ref.coef_, par.coef_)
    assert_array_equal(ref.coef_, talk.coef_)
    out = capsys.readouterr().out
    assert "-- Epoch 1" in out
    assert re.search(r"Norm: [\d.]+, NNZs: \d+, Bias: -?[\d.]+, T: \d+, Avg. loss: [\d.]+, "
                     r"Objective: [\d.]+", out)
    _quiet(SGDRegressor(max_iter=3, verbose=1, early_stopping=True), *_regression())
    assert "Validation score:" in capsys.readouterr().out


# --- weights, input types --------------------------------------------------------------------


@pytest.mark.parametrize("class_weight", [{0: 0.3, 1: 2.5}, "balanced"])
def test_binary_class_weight_equals_sample_weight(class_weight):
    X, y = make_classification(300, 6, n_informative=4, weights=[0.8], random_state=1)
    per_class = (y.shape[0] / (2 * np.bincount(y)) if class_weight == "balanced"
                 else np.array([class_weight[0], class_weight[1]]))
    params = dict(loss="log_loss", tol=None, max_iter=6, random_state=5)
    a = SGDClassifier(class_weight=class_weight, **params).fit(X, y)
    b = SGDClassifier(**params).fit(X, y, sample_weight=per_class[y])
    assert_allclose(a.coef_, b.coef_, rtol=1e-12)


def test_sparse_equals_dense_without_intercept():
    """Same updates (the stopping rule differs: as in scikit-learn, its penalty term
    only sees the coordinates a sparse sample touches, so fix the number of epochs)."""
    X, y = _classification()
    X[np.abs(X) < 0.7] = 0.0
    for est in (SGDClassifier(fit_intercept=False, random_state=1, loss="log_loss",
                              alpha=0.01, tol=None, max_iter=10),
                SGDRegressor(fit_intercept=False, random_state=1, tol=None, max_iter=10)):
        target = y if isinstance(est, SGDClassifier) else X @ np.arange(6.0)
        dense = _quiet(est, X, target).coef_.copy()
        sparse = _quiet(est, sp.csr_matrix(X), target).coef_
        assert_allclose(sparse, dense, rtol=1e-10, atol=1e-12)


def test_float32_input_gives_float32_model():
    X, y = _classification()
    a = _quiet(SGDClassifier(random_state=0), X.astype(np.float32), y)
    b = _quiet(SGDClassifier(random_state=0), X.astype(np.float32).astype(np.float64), y)
    assert a.coef_.dtype == np.float32 and a.intercept_.dtype == np.float32
    assert_allclose(a.coef_, b.coef_, rtol=1e-6)
    r = _quiet(SGDRegressor(random_state=0), *(_regression()[0].astype(np.float32),
                                               _regression()[1]))
    assert r.coef_.dtype == np.float32


def test_sparsify_keeps_predictions():
    X, y = _regression()
    reg = _quiet(SGDRegressor(penalty="l1", alpha=0.05, random_state=0), X, y)
    pred = reg.predict(X)
    reg.sparsify()
    assert sp.issparse(reg.coef_)
    assert_allclose(reg.predict(X), pred)
    clf = _quiet(SGDClassifier(penalty="l1", alpha=0.05, random_state=0), *_classification())
    before = clf.decision_function(X)
    clf.sparsify()
    assert_allclose(clf.decision_function(X), before)
    clf.densify()
    assert isinstance(clf.coef_, np.ndarray)


def test_fitted_attributes():
    X, y = _classification(n_classes=4)
    clf = _quiet(SGDClassifier(), X, y)
    assert clf.coef_.shape == (4, X.shape[1]) and clf.intercept_.shape == (4,)
    assert clf.t_ == clf.n_iter_ * X.shape[0] + 1
    Xr, yr = _regression()
    reg = _quiet(SGDRegressor(), Xr, yr)
    assert reg.coef_.shape == (Xr.shape[1],) and reg.intercept_.shape == (1,)
    assert reg.t_ == reg.n_iter_ * Xr.shape[0] + 1
    assert reg.predict(Xr).shape == (Xr.shape[0],)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_rejects_non_finite_input(value):
    X, y = _classification()
    X[3, 2] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        SGDClassifier().fit(X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        SGDRegressor().fit(X, y.astype(float))
    Xr, yr = _regression()
    yr[0] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        SGDRegressor().fit(Xr, yr)


@pytest.mark.parametrize(
    "est, match",
    [
        (SGDClassifier(loss="hingee"), "loss"),
        (SGDRegressor(loss="hinge"), "loss"),
        (SGDClassifier(learning_rate="fast"), "learning_rate"),
        (SGDClassifier(eta0=0.0), "eta0"),
        (SGDClassifier(alpha=-1.0), "alpha"),
        (SGDClassifier(l1_ratio=2.0), "l1_ratio"),
        (SGDClassifier(epsilon=-0.1), "epsilon"),
        (SGDClassifier(average=-1), "average"),
        (SGDClassifier(alpha=0.0), "alpha must be > 0 since learning_rate is 'optimal'"),
        (SGDClassifier(learning_rate="pa1", loss="log_loss"), "only works with loss 'hinge'"),
        (SGDRegressor(learning_rate="pa2"), "only works with loss 'epsilon_insensitive'"),
        (SGDClassifier(penalty="elasticnet", l1_ratio=None), "l1_ratio must be set"),
        (SGDRegressor(validation_fraction=1.0), "validation_fraction"),
    ],
)
def test_rejects_bad_parameters(est, match):
    X, y = _classification(n_classes=2)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


def test_rejects_bad_data():
    X, y = _classification(n_classes=2)
    with pytest.raises(ValueError, match="class"):
        SGDClassifier().fit(X, np.zeros_like(y))
    with pytest.raises(ValueError, match="Unknown label type"):
        SGDClassifier().fit(X, X[:, 0])
    with pytest.raises(NotFittedError):
        SGDClassifier().predict(X)
    with pytest.raises(NotFittedError):
        SGDRegressor().predict(X)
    clf = _quiet(SGDClassifier(), X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])
    with pytest.raises(ValueError, match="sample_weight|shape"):
        SGDRegressor().fit(X, y.astype(float), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="early_stopping should be False"):
        SGDClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="early_stopping should be False"):
        SGDRegressor(early_stopping=True).partial_fit(X, y.astype(float))
    with pytest.raises(ValueError, match="balanced"):
        SGDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="classes must be passed"):
        SGDClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="coef_init"):
        SGDClassifier().fit(X, y, coef_init=np.zeros((3, X.shape[1])))
    with pytest.raises(ValueError, match="intercept_init"):
        SGDRegressor().fit(X, y.astype(float), intercept_init=np.zeros(2))
    with pytest.raises(ValueError, match="test_size"):  # 1 validation sample, 2 classes
        SGDClassifier(early_stopping=True, validation_fraction=0.01).fit(X[:20], y[:20])


def test_divergence_is_an_error():
    X = np.array([[1e300, 1.0], [-1e300, 1.0]])
    with pytest.raises(ValueError, match="overflow"):
        SGDRegressor(learning_rate="constant", eta0=1e10).fit(X, np.array([1.0, -1.0]))


# --- invariances ---------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    n_classes=st.integers(2, 4),
    permutation_seed=st.integers(0, 2**16),
    data_seed=st.integers(0, 2**16),
    loss=st.sampled_from(["hinge", "log_loss", "modified_huber"]),
)
def test_label_relabelling_relabels_predictions(n_classes, permutation_seed, data_seed, loss):
    """Renaming the classes by a bijection renames the predictions the same way."""
    X, y = make_blobs(120, n_features=3, centers=n_classes, cluster_std=3.0,
                      random_state=data_seed)
    perm = np.random.default_rng(permutation_seed).permutation(n_classes) + 10
    names = np.array([f"c{p}" for p in perm])
    # each one-vs-rest problem draws its own shuffling seed, in the order of the
    # classes: shuffle only the single problem of a binary fit (the losses are odd in
    # the label, so swapping the positive class just flips the sign of the model)
    params = dict(loss=loss, max_iter=5, tol=None, random_state=0,
                  shuffle=n_classes == 2)
    original = SGDClassifier(**params).fit(X, y)
    renamed = SGDClassifier(**params).fit(X, names[y])
    assert_array_equal(renamed.predict(X), names[original.predict(X)])


@settings(max_examples=20, deadline=None)
@given(data_seed=st.integers(0, 2**16), keep_fraction=st.floats(0.3, 0.9),
       loss=st.sampled_from(REGRESSION_LOSSES))
def test_zero_weight_equals_dropping_samples(data_seed, keep_fraction, loss):
    """Without penalty, with a constant step, a sample of weight 0 takes no step."""
    X, y = _regression(n=60, seed=data_seed % 1000)
    keep = np.random.default_rng(data_seed).random(60) < keep_fraction
    keep[:2] = True
    params = dict(loss=loss, penalty=None, learning_rate="constant", eta0=0.01,
                  shuffle=False, tol=None, max_iter=5)
    weighted = SGDRegressor(**params).fit(X, y, sample_weight=keep.astype(float))
    dropped = SGDRegressor(**params).fit(X[keep], y[keep])
    assert_allclose(weighted.coef_, dropped.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(weighted.intercept_, dropped.intercept_, rtol=1e-12, atol=1e-14)


def test_tol_stopping_rule_and_shuffle_match_sklearn():
    # issue 21: n_iter_ was 24/24 for tol 0/0.1 where scikit-learn gives 30/17;
    # the rule was right but the shuffled order differed. With scikit-learn's
    # seeds and shuffle the stopping epoch and the weights are its own.
    from sklearn import linear_model as sk
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    iris = load_iris()
    X = StandardScaler().fit_transform(iris.data)
    y = iris.target == 1
    n_iters = []
    for tol in (0.0, 0.1):
        ours = SGDClassifier(tol=tol, random_state=0, max_iter=2000).fit(X, y)
        ref = sk.SGDClassifier(tol=tol, random_state=0, max_iter=2000).fit(X, y)
        assert ours.n_iter_ == ref.n_iter_
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
        n_iters.append(ours.n_iter_)
    assert n_iters[0] > n_iters[1] > 3
    ours = SGDClassifier(loss="log_loss", random_state=3).fit(X, iris.target)
    ref = sk.SGDClassifier(loss="log_loss", random_state=3).fit(X, iris.target)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    target = X @ np.array([1.0, 2.0, 3.0, 4.0])
    ours = SGDRegressor(random_state=5).fit(X, target)
    ref = sk.SGDRegressor(random_state=5).fit(X, target)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
