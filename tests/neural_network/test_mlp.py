"""MLPClassifier / MLPRegressor (chapters 15-16): parity with scikit-learn, known answers,
the training tricks, properties and bad input.

The same ``random_state`` gives scikit-learn's initial weights and batch order, and the
optimisers apply scikit-learn's updates, so most parity tests compare the weights
themselves after a few epochs, not just scores.
"""

import inspect
import io
import pickle
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import neural_network as sk_nn
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from mlnotes.neural_network import MLPClassifier, MLPRegressor
from mlnotes.neural_network._mlp import _init_dense

EXTRA_PARAMS = {"init", "dropout", "batch_norm", "weight_decay", "gradient_clipping",
                "standardize", "device"}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def _clf_data(n=120, p=6, classes=3, seed=0):
    X, y = make_classification(n, p, n_informative=4, n_classes=classes,
                               random_state=seed)
    return X, y


def _reg_data(n=120, p=6, targets=1, seed=0):
    X, y = make_regression(n, p, n_informative=4, n_targets=targets, noise=1.0,
                           random_state=seed)
    return X, y / 50.0


def _assert_same_weights(ours, ref, rtol=1e-9, atol=1e-11):
    assert len(ours.coefs_) == len(ref.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- API = scikit-learn's


@pytest.mark.parametrize("ours, ref", [(MLPClassifier, sk_nn.MLPClassifier),
                                       (MLPRegressor, sk_nn.MLPRegressor)])
def test_signature_is_sklearns_plus_extras(ours, ref):
    sk = inspect.signature(ref).parameters
    mine = inspect.signature(ours).parameters
    for name, param in sk.items():
        assert name in mine, name
        assert mine[name].default == param.default, name
        assert mine[name].kind == param.kind, name
    assert set(mine) - set(sk) == EXTRA_PARAMS
    # the extras keep scikit-learn's behaviour by default
    defaults = {n: mine[n].default for n in EXTRA_PARAMS}
    assert defaults == dict(init="glorot", dropout=0.0, batch_norm=False,
                            weight_decay=0.0, gradient_clipping=None, standardize=False,
                            device="cpu")


# ------------------------------------------------------- trajectories = scikit-learn's


CLF_CASES = [
    dict(solver="adam"),
    dict(solver="adam", shuffle=False, batch_size=32),
    dict(solver="sgd", learning_rate_init=0.1),
    dict(solver="sgd", learning_rate_init=0.1, nesterovs_momentum=False),
    dict(solver="sgd", learning_rate_init=0.1, momentum=0.0),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5),
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.1, tol=10.0,
         n_iter_no_change=1),
    dict(solver="adam", early_stopping=True, validation_fraction=0.2),
    dict(solver="adam", activation="tanh", alpha=0.1),
    dict(solver="adam", activation="logistic", hidden_layer_sizes=(5, 4)),
    dict(solver="lbfgs"),
]


@pytest.mark.parametrize("params", CLF_CASES)
@pytest.mark.parametrize("classes", [2, 3])
def test_classifier_follows_sklearn_step_for_step(params, classes):
    X, y = _clf_data(classes=classes)
    kw = dict(hidden_layer_sizes=(7,), max_iter=6, random_state=0, batch_size=50)
    kw.update(params)
    ours = _quiet(MLPClassifier(**kw).fit, X, y)
    ref = _quiet(sk_nn.MLPClassifier(**kw).fit, X, y)
    _assert_same_weights(ours, ref)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.loss_, ref.loss_, rtol=1e-9)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert (ours.out_activation_, ours.n_outputs_, ours.n_layers_, ours.t_) == (
        ref.out_activation_, ref.n_outputs_, ref.n_layers_, ref.t_)
    if params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)
        if ref.best_loss_ is None:
            assert ours.best_loss_ is None
        else:
            np.testing.assert_allclose(ours.best_loss_, ref.best_loss_, rtol=1e-9)
        if params.get("early_stopping"):
            np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)
            assert ours.best_validation_score_ == ref.best_validation_score_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("params", [dict(solver="adam"), dict(solver="sgd"),
                                    dict(solver="lbfgs"), dict(loss="poisson")])
@pytest.mark.parametrize("targets", [1, 3])
def test_regressor_follows_sklearn_step_for_step(params, targets):
    X, y = _reg_data(targets=targets)
    if params.get("loss") == "poisson":
        y = np.abs(y)
    kw = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=1, batch_size=40,
              learning_rate_init=0.01)
    kw.update(params)
    ours = _quiet(MLPRegressor(**kw).fit, X, y)
    ref = _quiet(sk_nn.MLPRegressor(**kw).fit, X, y)
    _assert_same_weights(ours, ref)
    assert ours.out_activation_ == ref.out_activation_
    if params.get("solver") != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)
    elif targets == 1:  # for several targets scikit-learn's lbfgs value is not its
        # gradient's function (mean vs sum over targets); ours stays consistent
        np.testing.assert_allclose(ours.loss_, ref.loss_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8, atol=1e-10)


def test_sample_weight_follows_sklearn():
    X, y = _clf_data()
    sw = np.random.default_rng(0).uniform(0, 3, len(y))
    kw = dict(hidden_layer_sizes=(5,), max_iter=4, random_state=0, batch_size=30)
    ours = _quiet(MLPClassifier(**kw).fit, X, y, sample_weight=sw)
    ref = _quiet(sk_nn.MLPClassifier(**kw).fit, X, y, sample_weight=sw)
    _assert_same_weights(ours, ref)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sparse_input_follows_sklearn(solver):
    from scipy import sparse

    X, y = _clf_data()
    X[np.abs(X) < 1.0] = 0.0
    Xs = sparse.csr_matrix(X)
    kw = dict(hidden_layer_sizes=(5,), max_iter=4, random_state=0, batch_size=50,
              solver=solver, early_stopping=solver == "adam")
    ours = _quiet(MLPClassifier(**kw).fit, Xs, y)
    ref = _quiet(sk_nn.MLPClassifier(**kw).fit, Xs, y)
    _assert_same_weights(ours, ref)
    np.testing.assert_allclose(ours.predict_proba(Xs.tocsc()), ref.predict_proba(X),
                               rtol=1e-9, atol=1e-12)
    # standardize on sparse input scales without centring (the data stay sparse)
    std = _quiet(MLPClassifier(standardize=True, **kw).fit, Xs, y)
    np.testing.assert_array_equal(std._input_mean_, 0.0)
    np.testing.assert_allclose(std._input_scale_, X.std(0))
    np.testing.assert_allclose(std.predict_proba(Xs), std.predict_proba(X), rtol=1e-12)


def test_multilabel_follows_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5]).astype(int)
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    ours = _quiet(MLPClassifier(**kw).fit, X, Y)
    ref = _quiet(sk_nn.MLPClassifier(**kw).fit, X, Y)
    _assert_same_weights(ours, ref)
    assert ours.out_activation_ == "logistic"
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.predict_proba(X).shape == (90, 3)


def test_partial_fit_and_warm_start_follow_sklearn():
    X, y = _clf_data()
    kw = dict(hidden_layer_sizes=(6,), random_state=0, batch_size=40)
    ours, ref = MLPClassifier(**kw), sk_nn.MLPClassifier(**kw)
    for start in (0, 60):
        ours.partial_fit(X[start:start + 60], y[start:start + 60], classes=[0, 1, 2])
        ref.partial_fit(X[start:start + 60], y[start:start + 60], classes=[0, 1, 2])
    _assert_same_weights(ours, ref)
    assert ours.n_iter_ == ref.n_iter_ == 1 and ours.t_ == ref.t_

    kw = dict(hidden_layer_sizes=(6,), random_state=0, max_iter=3, warm_start=True)
    ours, ref = MLPClassifier(**kw), sk_nn.MLPClassifier(**kw)
    for _ in range(2):
        _quiet(ours.fit, X, y)
        _quiet(ref.fit, X, y)
    _assert_same_weights(ours, ref)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)


def test_partial_fit_only_for_stochastic_solvers():
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPRegressor(solver="sgd"), "partial_fit")
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(*_reg_data())


# ----------------------------------------------------------------- held-out parity


def test_held_out_accuracy_on_digits_within_002_of_sklearn():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0,
                                                        stratify=y)
    kw = dict(hidden_layer_sizes=(64,), max_iter=60, random_state=0)
    ours = _quiet(MLPClassifier(**kw).fit, X_train, y_train).score(X_test, y_test)
    ref = _quiet(sk_nn.MLPClassifier(**kw).fit, X_train, y_train).score(X_test, y_test)
    assert ours > 0.9
    assert abs(ours - ref) <= 0.02


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_held_out_r2_within_002_of_sklearn(solver):
    X, y = make_regression(600, 8, n_informative=5, noise=5.0, random_state=3)
    y = y / y.std()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    kw = dict(hidden_layer_sizes=(32,), max_iter=80, random_state=0, solver=solver,
              learning_rate_init=0.01)
    ours = _quiet(MLPRegressor(**kw).fit, X_train, y_train).score(X_test, y_test)
    ref = _quiet(sk_nn.MLPRegressor(**kw).fit, X_train, y_train).score(X_test, y_test)
    assert ours > 0.8
    assert abs(ours - ref) <= 0.02


# ---------------------------------------------------------------------- known answers


def test_loss_is_cross_entropy_plus_l2_term():
    """loss_ recomputed from coefs_ in numpy: mean CE + alpha / (2n) sum ||W||^2."""
    X, y = _clf_data(n=80)
    alpha = 0.3
    clf = _quiet(MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", alpha=alpha,
                               max_iter=30, random_state=0).fit, X, y)
    h = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0)
    z = h @ clf.coefs_[1] + clf.intercepts_[1]
    z -= z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    ce = -logp[np.arange(len(y)), y].mean()
    l2 = alpha / (2 * len(y)) * sum((w**2).sum() for w in clf.coefs_)
    np.testing.assert_allclose(clf.loss_, ce + l2, rtol=1e-10)
    np.testing.assert_allclose(clf.predict_proba(X), np.exp(logp), rtol=1e-10)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("kind", ["softmax", "logistic", "squared_error", "poisson"])
@pytest.mark.parametrize("weighted", [False, True])
def test_hand_written_backprop_equals_autograd(activation, kind, weighted):
    """The numpy objective used by lbfgs: same value and gradient as autograd."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    sw = rng.uniform(0.5, 2, 30) if weighted else None
    if kind == "softmax":
        est, Y = MLPClassifier(activation=activation, alpha=0.3), rng.integers(0, 3, 30)
    elif kind == "logistic":
        est = MLPClassifier(activation=activation, alpha=0.3)
        Y = rng.integers(0, 2, (30, 2)).astype(float)
    else:
        est = MLPRegressor(loss=kind, activation=activation, alpha=0.3)
        Y = np.abs(rng.normal(size=(30, 2)))
    _quiet(est.set_params(hidden_layer_sizes=(5, 3), max_iter=1).fit,
           X, Y if kind != "softmax" else Y, sample_weight=sw)
    module = est.module_.train()
    Yn = Y if kind == "softmax" else Y.astype(float)
    wsum = 30.0 if sw is None else sw.sum()
    objective = est._lbfgs_objective(module, X, Yn, sw, wsum, 0.3)
    params = list(module.parameters())
    theta = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
    value, grad, reported = objective(theta)
    Yt = est._target_tensor(Yn, torch.float64, "cpu")
    swt = None if sw is None else torch.from_numpy(sw)
    loss = est._batch_loss(module, torch.from_numpy(X), Yt, swt, wsum)
    reg = sum((w * w).sum() for w in est._penalized_parameters(module))
    total = loss + 0.15 / wsum * reg
    ref_grad = torch.cat([g.reshape(-1) for g in torch.autograd.grad(total, params)])
    np.testing.assert_allclose(value, total.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad.numpy(), rtol=1e-10, atol=1e-13)
    expected_report = loss.item() * est._loss_report_scale() + (total - loss).item()
    np.testing.assert_allclose(reported, expected_report, rtol=1e-12)


def test_convergence_warning_at_max_iter():
    X, y = _clf_data()
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier(max_iter=2, random_state=0).fit(X, y)


def test_verbose_prints_one_line_per_epoch():
    X, y = _clf_data()
    out = io.StringIO()
    with redirect_stdout(out):
        _quiet(MLPClassifier(max_iter=3, verbose=True, random_state=0).fit, X, y)
    lines = [ln for ln in out.getvalue().splitlines() if ln.startswith("Iteration")]
    assert len(lines) == 3 and "loss = " in lines[0]


# --------------------------------------------------------------------- ch. 16 tricks


def test_he_init_has_variance_two_over_fan_in():
    rng = np.random.RandomState(0)
    w, b = torch.empty(400, 300, dtype=torch.float64), torch.empty(300, dtype=torch.float64)
    _init_dense(w, b, "he", "relu", rng)
    np.testing.assert_allclose(w.var().item(), 2 / 400, rtol=0.02)
    assert torch.all(b == 0)
    _init_dense(w, b, "glorot", "relu", rng)  # uniform on +-sqrt(6 / (in + out))
    np.testing.assert_allclose(w.var().item(), 2 / 700, rtol=0.02)


def test_he_init_keeps_deep_relu_activations_alive():
    """Through 8 ReLU layers He's scale keeps the signal; a too small one shrinks it."""
    X = np.random.default_rng(0).normal(size=(200, 50))
    scales = {}
    for init in ("he", "glorot"):
        net = MLPRegressor(hidden_layer_sizes=(50,) * 8, init=init, max_iter=1,
                           learning_rate_init=1e-12, random_state=0)
        _quiet(net.fit, X, np.zeros(200))
        h = X
        for w, b in zip(net.coefs_[:-1], net.intercepts_[:-1]):
            h = np.maximum(h @ w + b, 0)
        scales[init] = h.std()
    assert scales["he"] > 2 * scales["glorot"]


def test_dropout_narrows_the_generalisation_gap():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, (40, 5))
    y = np.sin(X[:, 0]) + 0.5 * rng.randn(40)
    X_test = rng.uniform(-3, 3, (500, 5))
    y_test = np.sin(X_test[:, 0]) + 0.5 * rng.randn(500)
    gaps = {}
    for p in (0.0, 0.5):
        reg = MLPRegressor(hidden_layer_sizes=(128, 128), dropout=p, alpha=0,
                           learning_rate_init=0.003, max_iter=200, tol=0,
                           n_iter_no_change=1000, random_state=0)
        _quiet(reg.fit, X, y)
        gaps[p] = (mean_squared_error(y_test, reg.predict(X_test))
                   - mean_squared_error(y, reg.predict(X)))
    assert gaps[0.5] < 0.85 * gaps[0.0]


def test_dropout_is_reproducible_and_off_at_predict_time():
    X, y = _clf_data()
    kw = dict(dropout=0.3, max_iter=5, random_state=3)
    a = _quiet(MLPClassifier(**kw).fit, X, y)
    b = _quiet(MLPClassifier(**kw).fit, X, y)
    _assert_same_weights(a, b, rtol=0, atol=0)
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))
    c = _quiet(MLPClassifier(dropout=0.3, max_iter=5, random_state=4).fit, X, y)
    assert not np.allclose(a.coefs_[0], c.coefs_[0])


def test_batch_norm_uses_running_statistics_at_predict_time():
    X, y = _clf_data(n=200)
    clf = _quiet(MLPClassifier(hidden_layer_sizes=(16, 16), batch_norm=True,
                               max_iter=30, batch_size=20, learning_rate_init=0.01,
                               random_state=0).fit, X, y)
    assert not clf.module_.training
    norm = clf.module_.norms[0]
    assert norm.num_batches_tracked.item() > 0
    proba = clf.predict_proba(X)
    singles = np.vstack([clf.predict_proba(X[i:i + 1]) for i in range(0, 200, 37)])
    np.testing.assert_allclose(proba[::37], singles, rtol=1e-12, atol=1e-15)
    perm = np.random.default_rng(0).permutation(200)
    np.testing.assert_allclose(clf.predict_proba(X[perm]), proba[perm], rtol=1e-12)
    # batch statistics would differ from the running ones on a skewed batch
    skewed = X[y == 0][:5]
    np.testing.assert_allclose(clf.predict_proba(skewed), proba[y == 0][:5], rtol=1e-12)
    assert clf.score(X, y) > 0.8


def test_weight_decay_is_decoupled():
    """One full-batch SGD step: W1 = W0 - lr grad - lr wd W0 on the weights only."""
    X, y = _clf_data(n=50)
    lr, wd = 0.1, 0.5
    kw = dict(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, alpha=0.0,
              learning_rate_init=lr, max_iter=1, batch_size=50, shuffle=False,
              random_state=0)
    plain = _quiet(MLPClassifier(**kw).fit, X, y)
    decayed = _quiet(MLPClassifier(weight_decay=wd, **kw).fit, X, y)
    rng = np.random.RandomState(0)
    w0, b0 = torch.empty(6, 4, dtype=torch.float64), torch.empty(4, dtype=torch.float64)
    _init_dense(w0, b0, "glorot", "relu", rng)
    np.testing.assert_allclose(decayed.coefs_[0], plain.coefs_[0] - lr * wd * w0.numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(decayed.intercepts_[0], plain.intercepts_[0], rtol=1e-12)


def test_gradient_clipping_bounds_the_step():
    """One full-batch SGD step of a clipped gradient moves the weights by lr * c."""
    X, y = _clf_data(n=50)
    lr, c = 0.1, 1e-3
    kw = dict(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, learning_rate_init=lr,
              max_iter=1, batch_size=50, shuffle=False, random_state=0)
    ref = _quiet(sk_nn.MLPClassifier(**kw).fit, X, y)
    clipped = _quiet(MLPClassifier(gradient_clipping=c, **kw).fit, X, y)
    rng = np.random.RandomState(0)
    init = []
    for fan_in, fan_out in [(6, 4), (4, 3)]:
        w = torch.empty(fan_in, fan_out, dtype=torch.float64)
        b = torch.empty(fan_out, dtype=torch.float64)
        _init_dense(w, b, "glorot", "relu", rng)
        init += [w.numpy().ravel(), b.numpy()]
    theta0 = np.concatenate([init[0], init[2], init[1], init[3]])
    def pack(m):
        return np.concatenate([a.ravel() for a in m.coefs_ + m.intercepts_])

    step = pack(clipped) - theta0
    np.testing.assert_allclose(np.linalg.norm(step), lr * c, rtol=1e-5)
    ref_step = pack(ref) - theta0  # same direction as the unclipped step
    np.testing.assert_allclose(step / np.linalg.norm(step),
                               ref_step / np.linalg.norm(ref_step), rtol=1e-6, atol=1e-12)


def test_standardize_makes_the_fit_invariant_to_feature_scales():
    X, y = _clf_data(n=150)
    scale, shift = np.array([1e3, 1e-3, 1.0, 50.0, 1e4, 2.0]), np.arange(6) * 100.0
    kw = dict(standardize=True, max_iter=20, random_state=0)
    a = _quiet(MLPClassifier(**kw).fit, X, y)
    b = _quiet(MLPClassifier(**kw).fit, X * scale + shift, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X * scale + shift),
                               rtol=1e-6, atol=1e-9)
    raw = _quiet(MLPClassifier(max_iter=20, random_state=0).fit, X * scale + shift, y)
    assert b.score(X * scale + shift, y) > raw.score(X * scale + shift, y)


def test_cosine_schedule():
    X, y = _clf_data()
    clf = MLPClassifier(learning_rate="cosine", learning_rate_init=0.01, max_iter=4,
                        random_state=0)
    lrs = []
    for _ in range(4):
        clf.partial_fit(X, y, classes=[0, 1, 2])
        lrs.append(clf._optimizer[0].learning_rate)
    expected = [0.005 * (1 + np.cos(np.pi * e / 4)) for e in range(1, 5)]
    np.testing.assert_allclose(lrs, expected, atol=1e-15)


def test_schedules_apply_to_sgd_only_as_in_sklearn():
    X, y = _clf_data()
    clf = _quiet(MLPClassifier(solver="adam", learning_rate="invscaling", max_iter=3,
                               random_state=0).fit, X, y)
    assert clf._optimizer[0].learning_rate == clf.learning_rate_init


# ------------------------------------------------------------ properties, pickling, RNG


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(5, 60))
def test_predict_proba_rows_sum_to_one_and_ignore_the_batch(seed, n):
    X, y = _clf_data(n=60, classes=3, seed=seed % 7)
    clf = _quiet(MLPClassifier(max_iter=3, random_state=seed).fit, X, y)
    X_new = np.random.default_rng(seed).normal(size=(n, 6)) * 3
    proba = clf.predict_proba(X_new)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-14)
    perm = np.random.default_rng(seed + 1).permutation(n)
    np.testing.assert_allclose(clf.predict_proba(X_new[perm]), proba[perm], rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(clf.predict_proba(X_new[:1]), proba[:1], rtol=1e-12,
                               atol=1e-15)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_full_batch_fit_ignores_row_order(seed):
    """With one batch per epoch the order of the rows changes only rounding."""
    X, y = _clf_data(n=40, seed=seed % 5)
    perm = np.random.default_rng(seed).permutation(40)
    kw = dict(hidden_layer_sizes=(5,), max_iter=10, batch_size=40, random_state=0)
    a = _quiet(MLPClassifier(**kw).fit, X, y)
    b = _quiet(MLPClassifier(**kw).fit, X[perm], y[perm])
    _assert_same_weights(a, b, rtol=1e-8, atol=1e-10)


@settings(max_examples=8, deadline=None)
@given(weights=st.lists(st.integers(0, 3), min_size=12, max_size=12).filter(
    lambda w: sum(w) > 2))
def test_integer_weights_equal_repeated_rows(weights):
    X, y = _reg_data(n=12, p=3)
    sw = np.array(weights)
    kw = dict(hidden_layer_sizes=(4,), max_iter=8, random_state=0)  # one batch
    a = _quiet(MLPRegressor(**kw).fit, X, y, sample_weight=sw)
    b = _quiet(MLPRegressor(**kw).fit, np.repeat(X, sw, 0), np.repeat(y, sw))
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cls, data", [(MLPClassifier, _clf_data),
                                       (MLPRegressor, _reg_data)])
def test_pickle_round_trip_gives_identical_predictions(cls, data):
    X, y = data()
    est = _quiet(cls(max_iter=5, batch_norm=True, random_state=0).fit, X, y)
    state = est.__getstate__()
    assert "module_" not in state
    assert all(isinstance(v, np.ndarray) for v in state["_module_state_"].values())
    rng_before = torch.get_rng_state()
    clone = pickle.loads(pickle.dumps(est))
    assert torch.equal(torch.get_rng_state(), rng_before)
    method = "predict_proba" if cls is MLPClassifier else "predict"
    np.testing.assert_array_equal(getattr(clone, method)(X), getattr(est, method)(X))
    for a, b in zip(clone.coefs_, est.coefs_):
        np.testing.assert_array_equal(a, b)
    # training continues from the unpickled state, as from the original
    _quiet(clone.partial_fit, X, y)
    _quiet(est.partial_fit, X, y)
    np.testing.assert_array_equal(getattr(clone, method)(X), getattr(est, method)(X))


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_global_rng_states_are_left_alone(dropout):
    X, y = _clf_data()
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    _quiet(MLPClassifier(max_iter=3, dropout=dropout, random_state=0).fit, X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])


def test_float32_input_trains_in_float32_and_predicts_in_float64():
    X, y = _clf_data()
    clf = _quiet(MLPClassifier(max_iter=5, random_state=0).fit, X.astype(np.float32), y)
    proba = clf.predict_proba(X.astype(np.float32))
    assert proba.dtype == np.float64
    assert clf.coefs_[0].dtype == np.float32  # as scikit-learn's (issue 21)
    ref = _quiet(sk_nn.MLPClassifier(max_iter=5, random_state=0).fit,
                 X.astype(np.float32), y)
    np.testing.assert_allclose(clf.coefs_[0], ref.coefs_[0], rtol=1e-4, atol=1e-5)


# -------------------------------------------------------------------------- bad input


def test_divergence_raises_a_clear_error():
    X, y = _reg_data()
    reg = MLPRegressor(solver="sgd", learning_rate_init=1e6, max_iter=20, random_state=0)
    with pytest.raises(ValueError, match="diverged.*learning_rate_init"):
        _quiet(reg.fit, X, y * 1e6)
    assert not hasattr(reg, "module_")  # no half-trained model left behind


@pytest.mark.parametrize("params, match", [
    (dict(hidden_layer_sizes=(5, 0)), "hidden_layer_sizes must be > 0"),
    (dict(dropout=0.2, solver="lbfgs"), "dropout"),
    (dict(device="tpu"), "device"),
    (dict(dropout=1.0), "dropout"),
    (dict(init="lecun"), "init"),
    (dict(learning_rate="cyclic"), "learning_rate"),
    (dict(gradient_clipping=0.0), "gradient_clipping"),
])
def test_bad_parameters_are_rejected(params, match):
    X, y = _clf_data()
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_a_clear_error():
    X, y = _clf_data()
    with pytest.raises(ValueError, match="CUDA is not available"):
        MLPClassifier(device="cuda").fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_cuda_fit_predict_and_cpu_unpickle():  # pragma: no cover - needs a GPU
    X, y = _clf_data()
    gpu = _quiet(MLPClassifier(max_iter=5, random_state=0, device="cuda").fit, X, y)
    cpu = _quiet(MLPClassifier(max_iter=5, random_state=0).fit, X, y)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), rtol=1e-6)
    state = gpu.__getstate__()
    assert all(isinstance(v, np.ndarray) for v in state["_module_state_"].values())


def test_poisson_needs_non_negative_targets():
    X, y = _reg_data()
    with pytest.raises(ValueError, match="non-negative"):
        MLPRegressor(loss="poisson").fit(X, y - 10)


def test_warm_start_with_new_classes_is_rejected():
    X, y = _clf_data()
    clf = _quiet(MLPClassifier(max_iter=2, warm_start=True).fit, X, y)
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, np.where(y == 2, 5, y))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("est", ["classifier", "regressor"])
def test_negative_sample_weight_follows_sklearn(solver, est):
    """Issue 21: negative sample_weight is accepted as scikit-learn accepts it, with
    scikit-learn's weights (it was refused)."""
    if est == "classifier":
        X, y = _clf_data()
        ours_cls, ref_cls = MLPClassifier, sk_nn.MLPClassifier
    else:
        X, y = _reg_data()
        ours_cls, ref_cls = MLPRegressor, sk_nn.MLPRegressor
    sw = np.random.default_rng(1).uniform(0, 3, len(y))
    sw[[3, 17, 40]] = [-0.5, -1.0, -0.2]
    kw = dict(hidden_layer_sizes=(5,), max_iter=4, random_state=0, batch_size=30,
              solver=solver)
    ours = _quiet(ours_cls(**kw).fit, X, y, sample_weight=sw)
    ref = _quiet(ref_cls(**kw).fit, X, y, sample_weight=sw)
    _assert_same_weights(ours, ref, rtol=1e-8, atol=1e-10)


def test_sample_weight_with_non_positive_sum_is_refused():
    X, y = _reg_data()
    sw = np.full(len(y), -1.0)
    with pytest.raises(ValueError, match="positive sum"):
        MLPRegressor(max_iter=2).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_float32_input_gives_sklearns_coef_dtype(solver):
    """Issue 21: fitted on float32, the stochastic solvers keep float32 coefs_ as
    scikit-learn's do (L-BFGS gives float64 in both), and the weights agree."""
    X, y = _clf_data()
    X = X.astype(np.float32)
    kw = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0, batch_size=30,
              solver=solver)
    ours = _quiet(MLPClassifier(**kw).fit, X, y)
    ref = _quiet(sk_nn.MLPClassifier(**kw).fit, X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    again = pickle.loads(pickle.dumps(ours))
    assert all(a.dtype == b.dtype for a, b in zip(again.coefs_, ours.coefs_))


def test_regressor_float32_predictions_as_sklearn():
    """scikit-learn's test_mlp_param_dtypes: float32 weights give float32 predictions."""
    X, y = _reg_data()
    X = X.astype(np.float32)
    kw = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    ours = _quiet(MLPRegressor(**kw).fit, X, y)
    ref = _quiet(sk_nn.MLPRegressor(**kw).fit, X, y)
    assert ours.predict(X).dtype == ref.predict(X).dtype == np.float32
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-4, atol=1e-5)
