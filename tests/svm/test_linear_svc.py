"""Tests of mlnotes.svm.LinearSVC: optimality conditions, scikit-learn parity, bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_digits, make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC as SkLinearSVC
from sklearn.svm._classes import _validate_dual_parameter

from mlnotes.svm import LinearSVC
from mlnotes.svm._liblinear_fast import _dual_cd
from mlnotes.svm._linear_svc import _resolve_dual

TIGHT = dict(tol=1e-10, max_iter=100_000)


def _quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _data(n_classes=3, n=240, n_features=8, seed=0, sparse=False):
    X, y = make_classification(n, n_features, n_informative=5, n_classes=n_classes,
                               flip_y=0.05, random_state=seed)
    X = StandardScaler().fit_transform(X)
    if sparse:
        X[np.abs(X) < 0.4] = 0.0
        X = sp.csr_matrix(X)
    return X, y


# --- the dual solution satisfies the KKT conditions (independent of scikit-learn) ------


def _run_dual_cd(X, y_pm, cost, bias, loss, eps=1e-10, seed=0, shrinking=True):
    n = X.shape[0]
    if loss == "hinge":
        upper, diag = cost, np.zeros(n)
    else:
        upper, diag = np.full(n, np.inf), 0.5 / cost
    w = np.zeros(X.shape[1] + 1)
    alpha = np.zeros(n)
    n_iter = _dual_cd(X, np.empty(0), np.empty(0, np.int32), np.zeros(1, np.int32), False,
                      bias, y_pm, upper, diag, w, alpha, eps, 100_000,
                      np.array([seed], dtype=np.uint64), shrinking)
    return w, alpha, n_iter


@pytest.mark.parametrize("shrinking", [True, False])
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_dual_coordinate_descent_satisfies_kkt(loss, shrinking):
    X, y = _data(n_classes=2, n=200)
    y_pm = np.where(y == 1, 1.0, -1.0)
    cost = np.random.default_rng(0).uniform(0.2, 2.0, size=y.shape[0])
    bias = 1.5
    w, alpha, n_iter = _run_dual_cd(X, y_pm, cost, bias, loss, shrinking=shrinking)
    assert 0 < n_iter < 100_000
    Xb = np.hstack([X, np.full((X.shape[0], 1), bias)])
    # w is the dual combination of the samples
    assert_allclose(w, Xb.T @ (alpha * y_pm), atol=1e-10)
    margin = y_pm * (Xb @ w)
    tol = 1e-6
    assert np.all(alpha >= 0)
    if loss == "hinge":
        assert np.all(alpha <= cost)
        free = (alpha > 1e-10) & (alpha < cost - 1e-10)
        assert np.all(margin[alpha <= 1e-10] >= 1 - tol)  # alpha = 0: outside the margin
        assert_allclose(margin[free], 1.0, atol=tol)  # on the margin
        assert np.all(margin[alpha >= cost - 1e-10] <= 1 + tol)  # alpha = C: inside
        assert free.any() and (alpha == 0).any()
        primal = 0.5 * w @ w + cost @ np.maximum(0, 1 - margin)
        dual = alpha.sum() - 0.5 * w @ w
    else:
        # stationarity of the squared hinge: margin = 1 - alpha / (2 C) wherever alpha > 0
        assert_allclose(margin[alpha > 0], 1 - alpha[alpha > 0] / (2 * cost[alpha > 0]),
                        atol=tol)
        assert np.all(margin[alpha == 0] >= 1 - tol)
        primal = 0.5 * w @ w + cost @ np.maximum(0, 1 - margin) ** 2
        dual = alpha.sum() - 0.5 * w @ w - (alpha ** 2 / (4 * cost)).sum()
    # strong duality: no gap at the optimum
    assert abs(primal - dual) <= 1e-7 * abs(primal)


def test_dual_shrinking_does_not_change_the_optimum():
    X, y = _data(n_classes=2, n=300)
    y_pm = np.where(y == 1, 1.0, -1.0)
    cost = np.ones(y.shape[0])
    w1, _, _ = _run_dual_cd(X, y_pm, cost, 1.0, "hinge", shrinking=True)
    w2, _, _ = _run_dual_cd(X, y_pm, cost, 1.0, "hinge", shrinking=False, seed=5)
    assert_allclose(w1, w2, atol=1e-7)


def test_primal_solutions_are_stationary():
    """L2 primal: gradient 0; L1 primal: 0 in the subdifferential."""
    X, y = _data(n_classes=2)
    y_pm = np.where(y == 1, 1.0, -1.0)
    Xb = np.hstack([X, np.ones((X.shape[0], 1))])
    C = 0.7
    l2 = LinearSVC(dual=False, C=C, **TIGHT).fit(X, y)
    w = np.append(l2.coef_.ravel(), l2.intercept_)
    slack = np.maximum(0, 1 - y_pm * (Xb @ w))
    grad = w - 2 * C * Xb.T @ (slack * y_pm)
    # liblinear's TRON (scikit-learn's iterates) also stops once the actual and the
    # predicted decrease are below 1e-12 |f|: here at |grad| = 5.6e-6 |w|, as
    # scikit-learn's LinearSVC
    assert np.linalg.norm(grad) <= 1e-5 * np.linalg.norm(w)
    l1 = LinearSVC(penalty="l1", dual=False, C=0.05, **TIGHT).fit(X, y)
    w = np.append(l1.coef_.ravel(), l1.intercept_)
    slack = np.maximum(0, 1 - y_pm * (Xb @ w))
    grad_loss = -2 * 0.05 * Xb.T @ (slack * y_pm)
    nonzero = w != 0
    assert nonzero.any() and (~nonzero).any()
    assert_allclose(grad_loss[nonzero], -np.sign(w[nonzero]), atol=1e-6)
    assert np.all(np.abs(grad_loss[~nonzero]) <= 1 + 1e-6)


# --- parity with scikit-learn (the optimum is unique) ------------------------------------


PARITY = [
    dict(dual=True),
    dict(dual=False),
    dict(dual=True, loss="hinge"),
    dict(dual=True, loss="hinge", C=10.0),
    dict(penalty="l1", dual=False, C=0.1),
    dict(dual=False, intercept_scaling=10.0),
    dict(dual=True, fit_intercept=False),
    dict(dual=False, class_weight="balanced", C=3.0),
    dict(dual=True, class_weight={0: 0.5, 1: 2.0, 2: 1.0}),
]


@pytest.mark.parametrize("params", PARITY)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_same_solution_as_sklearn(params, n_classes, sparse):
    X, y = _data(n_classes=n_classes, sparse=sparse)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=y.shape[0])
    if isinstance(params.get("class_weight"), dict) and n_classes == 2:
        params = {**params, "class_weight": {0: 0.5, 1: 2.0}}
    ours = LinearSVC(random_state=0, **TIGHT, **params).fit(X, y, sample_weight=sw)
    ref = SkLinearSVC(random_state=0, **TIGHT, **params).fit(X, y, sample_weight=sw)
    scale = max(1.0, np.abs(ref.coef_).max())
    assert ours.coef_.shape == ref.coef_.shape
    assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-6 * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-6 * scale)
    assert_array_equal(ours.classes_, ref.classes_)
    assert_array_equal(ours.predict(X), ref.predict(X))


def _split(X, y, seed=0):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


DATASETS = {
    "binary": lambda: make_classification(2000, 20, n_informative=10, random_state=1),
    "5 blobs": lambda: make_blobs(1500, n_features=8, centers=5, cluster_std=2.5,
                                  random_state=3),
    "digits": lambda: load_digits(return_X_y=True),
    "breast cancer": lambda: load_breast_cancer(return_X_y=True),
}


@pytest.mark.parametrize("params", [dict(), dict(dual=True), dict(loss="hinge"),
                                    dict(penalty="l1", dual=False)])
@pytest.mark.parametrize("name", list(DATASETS))
def test_heldout_accuracy_close_to_sklearn(name, params):
    """Default tolerances: held-out accuracy within 0.01 of scikit-learn's."""
    Xtr, Xte, ytr, yte = _split(*DATASETS[name]())
    ours = _quiet(LinearSVC(random_state=0, **params), Xtr, ytr).score(Xte, yte)
    ref = _quiet(SkLinearSVC(random_state=0, **params), Xtr, ytr).score(Xte, yte)
    assert abs(ours - ref) <= 0.01, (ours, ref)


@pytest.mark.parametrize("penalty, loss", [("l2", "squared_hinge"), ("l2", "hinge"),
                                           ("l1", "squared_hinge"), ("l1", "hinge")])
@pytest.mark.parametrize("shape", [(50, 10), (10, 50)])
def test_dual_auto_as_sklearn(penalty, loss, shape):
    X = np.zeros(shape)
    assert _resolve_dual("auto", penalty, loss, *shape) == _validate_dual_parameter(
        "auto", loss, penalty, "ovr", X)


# --- weights, options ----------------------------------------------------------------------


@pytest.mark.parametrize("dual", [True, False])
def test_class_weight_equals_sample_weight(dual):
    X, y = _data(n_classes=2)
    a = _quiet(LinearSVC(dual=dual, class_weight={0: 0.3, 1: 3.0}, random_state=0), X, y)
    b = _quiet(LinearSVC(dual=dual, random_state=0), X, y,
               sample_weight=np.where(y, 3.0, 0.3))
    assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-12)


@pytest.mark.parametrize("dual", [True, False])
def test_zero_weight_equals_dropping(dual):
    X, y = _data()
    keep = np.random.default_rng(0).random(y.shape[0]) < 0.7
    a = LinearSVC(dual=dual, **TIGHT).fit(X, y, sample_weight=keep.astype(float))
    b = LinearSVC(dual=dual, **TIGHT).fit(X[keep], y[keep])
    assert_allclose(a.coef_, b.coef_, atol=1e-7)


def test_sparse_equals_dense():
    X, y = _data(sparse=True)
    for params in [dict(dual=True), dict(dual=False), dict(penalty="l1", dual=False)]:
        dense = LinearSVC(random_state=0, **TIGHT, **params).fit(X.toarray(), y)
        sparse = LinearSVC(random_state=0, **TIGHT, **params).fit(X, y)
        assert_allclose(sparse.coef_, dense.coef_, atol=1e-7)
        assert_array_equal(sparse.predict(X), dense.predict(X.toarray()))


def test_intercept_and_attributes():
    X, y = _data(n_classes=4)
    clf = LinearSVC().fit(X, y)
    assert clf.coef_.shape == (4, X.shape[1]) and clf.intercept_.shape == (4,)
    assert isinstance(clf.n_iter_, int) and clf.n_iter_ > 0
    assert_allclose(clf.decision_function(X), X @ clf.coef_.T + clf.intercept_)
    no_icpt = LinearSVC(fit_intercept=False).fit(X, y)
    assert no_icpt.intercept_ == 0.0
    Xb, yb = _data(n_classes=2)
    binary = LinearSVC().fit(Xb, yb)
    assert binary.coef_.shape == (1, Xb.shape[1]) and binary.decision_function(Xb).ndim == 1
    l1 = LinearSVC(penalty="l1", dual=False, C=0.02).fit(X, y).sparsify()
    assert sp.issparse(l1.coef_)
    assert_array_equal(l1.predict(X), l1.densify().predict(X))


def test_random_state_only_matters_for_the_iterates():
    X, y = _data()
    a = LinearSVC(dual=True, random_state=0).fit(X, y)
    b = LinearSVC(dual=True, random_state=0).fit(X, y)
    c = LinearSVC(dual=True, random_state=1).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)
    assert_allclose(a.coef_, c.coef_, atol=1e-2)  # same optimum, loose default tol
    state = np.random.get_state()
    LinearSVC(dual=True).fit(X, y)
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_convergence_warning():
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        LinearSVC(dual=True, max_iter=2).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        zero = LinearSVC(max_iter=0).fit(X, y)
    assert zero.n_iter_ == 0 and np.all(zero.coef_ == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LinearSVC(dual=False).fit(X, y)


def test_verbose(capsys):
    X, y = _data()
    LinearSVC(verbose=1).fit(X, y)
    assert "[LinearSVC] problem 1/3" in capsys.readouterr().out


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(penalty="l1", loss="hinge"), "penalty='l1' and loss='hinge' is not supported"),
        (dict(penalty="l1", dual=True), "are not supported when dual=True"),
        (dict(loss="hinge", dual=False), "are not supported when dual=False"),
        (dict(C=0.0), "C"),
        (dict(tol=-1.0), "tol"),
        (dict(penalty="l3"), "penalty"),
        (dict(intercept_scaling=0.0), "intercept_scaling"),
        (dict(max_iter=-1), "max_iter"),
        (dict(dual="yes"), "dual"),
    ],
)
def test_rejects_bad_parameters(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        LinearSVC(**params).fit(X, y)


def test_rejects_bad_data():
    X, y = _data()
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LinearSVC().fit(Xn, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LinearSVC().fit(X, np.zeros_like(y))
    with pytest.raises(ValueError, match="Unknown label type"):
        LinearSVC().fit(X, X[:, 0])
    with pytest.raises(NotFittedError):
        LinearSVC().predict(X)
    clf = LinearSVC().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(Xn)
    with pytest.raises(ValueError, match="sample_weight|shape"):
        LinearSVC().fit(X, y, sample_weight=np.ones(3))


# --- invariances -----------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(data_seed=st.integers(0, 2**16), perm_seed=st.integers(0, 2**16),
       n_classes=st.integers(2, 4), rename=st.booleans())
def test_primal_solution_invariant_to_row_order_and_label_names(data_seed, perm_seed,
                                                                  n_classes, rename):
    """The L2 primal optimum is unique: it ignores the order of the rows and the names of
    the classes (up to the sign of a binary model when the positive class changes)."""
    X, y = make_blobs(80, n_features=3, centers=n_classes, cluster_std=3.0,
                      random_state=data_seed)
    order = np.random.default_rng(perm_seed).permutation(80)
    names = (np.random.default_rng(perm_seed).permutation(n_classes) + 10 if rename
             else np.arange(n_classes))
    ref = LinearSVC(dual=False, **TIGHT).fit(X, y)
    other = LinearSVC(dual=False, **TIGHT).fit(X[order], names[y][order])
    assert_array_equal(other.predict(X), names[ref.predict(X)])
    if n_classes > 2:
        rows = np.argsort(np.argsort(names))  # row of each original class in `other`
        assert_allclose(other.coef_[rows], ref.coef_, rtol=1e-6, atol=1e-8)


# --- Crammer-Singer -------------------------------------------------------------------------


@pytest.mark.parametrize("params", [dict(), dict(C=3.0), dict(fit_intercept=False),
                                    dict(class_weight="balanced", intercept_scaling=2.0)])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_crammer_singer_same_solution_as_sklearn(params, n_classes, sparse):
    X, y = _data(n_classes=n_classes, sparse=sparse)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=y.shape[0])
    kw = dict(multi_class="crammer_singer", random_state=0, tol=1e-6, **params)
    ours = _quiet(LinearSVC(**kw), X, y, sample_weight=sw)
    ref = _quiet(SkLinearSVC(**kw), X, y, sample_weight=sw)
    assert ours.coef_.shape == ref.coef_.shape == (1 if n_classes == 2 else 3, 8)
    scale = max(1.0, np.abs(ref.coef_).max())
    assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-4 * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-4 * scale)
    dec, dec_ref = ours.decision_function(X), ref.decision_function(X)
    assert_allclose(dec, dec_ref, rtol=0, atol=1e-3 * scale)
    # labels agree except at near-ties of the reference's scores
    if n_classes > 2:
        top2 = np.sort(dec_ref, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 2e-3 * scale
    else:
        clear = np.abs(dec_ref) > 2e-3 * scale
    assert_array_equal(ours.predict(X)[clear], ref.predict(X)[clear])


def test_crammer_singer_optimality_on_iris():
    """KKT of the joint problem: the margins of the multi-class hinge are met."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    cs = _quiet(LinearSVC(multi_class="crammer_singer", random_state=0, tol=1e-8), X, y)
    ovr = _quiet(LinearSVC(random_state=0), X, y)
    # a different model from one-vs-rest, with similar predictions
    assert (ovr.predict(X) == cs.predict(X)).mean() > 0.9
    assert np.all(ovr.coef_ != cs.coef_)
    dec = cs.decision_function(X)
    assert_allclose(dec, X @ cs.coef_.T + cs.intercept_)
    assert_array_equal(cs.predict(X), np.argmax(dec, axis=1))
    # primal objective is minimal: no random perturbation of (W, b) lowers it
    W = np.column_stack([cs.coef_, cs.intercept_])
    Xb = np.column_stack([X, np.ones(len(X))])

    def objective(W):
        s = Xb @ W.T
        margin = s + (np.arange(3)[None, :] != y[:, None]) - s[np.arange(len(y)), y][:, None]
        return 0.5 * np.sum(W ** 2) + margin.max(axis=1).sum()

    f0 = objective(W)
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert objective(W + 1e-3 * rng.normal(size=W.shape)) >= f0 - 1e-6


def test_crammer_singer_ignores_loss_penalty_dual_and_warns_as_sklearn():
    X, y = _data()
    a = _quiet(LinearSVC(multi_class="crammer_singer", random_state=0), X, y)
    b = _quiet(LinearSVC(multi_class="crammer_singer", penalty="l1", loss="hinge",
                         dual=False, random_state=0), X, y)
    assert_allclose(a.coef_, b.coef_)
    # as in scikit-learn, max_iter only decides the warning (liblinear runs on)
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        c = LinearSVC(multi_class="crammer_singer", max_iter=2, random_state=0).fit(X, y)
    assert c.n_iter_ > 2
    assert_allclose(c.coef_, a.coef_)
