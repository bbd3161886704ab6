import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import LinAlgWarning
from scipy.optimize import approx_fprime
from sklearn import linear_model as sk_linear_model
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from mlnotes.linear_model import LogisticRegression
from mlnotes.linear_model._logistic import _LogisticLoss

SOLVERS = ["lbfgs", "newton-cholesky"]


def _data(n=300, p=5, n_classes=2, seed=0):
    """Features of different scales and offsets; labels from a noisy softmax model."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 2.0, size=p) + rng.normal(size=p)
    W = rng.normal(size=(p, n_classes))
    scores = X @ W + rng.gumbel(size=(n, n_classes))
    y = scores.argmax(axis=1)
    y[:n_classes] = np.arange(n_classes)  # every class present
    return X, y, rng.uniform(0.2, 3.0, size=n)


def _fit_both(X, y, sample_weight=None, **params):
    ours = LogisticRegression(**params).fit(X, y, sample_weight=sample_weight)
    with warnings.catch_warnings():
        # scikit-learn's Newton solver may fall back to lbfgs with a warning.
        warnings.simplefilter("ignore")
        ref = sk_linear_model.LogisticRegression(**params).fit(
            X, y, sample_weight=sample_weight)
    return ours, ref


def _assert_close(a, b, tol=1e-4):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [None, "sample", "class", "balanced"])
def test_parity_with_sklearn(solver, n_classes, fit_intercept, weights):
    X, y, sw = _data(n_classes=n_classes, seed=n_classes)
    params = dict(solver=solver, fit_intercept=fit_intercept, tol=1e-8, max_iter=1000,
                  C=0.5)
    sample_weight = sw if weights in ("sample", "balanced") else None
    if weights == "class":
        params["class_weight"] = {0: 3.0, 1: 0.5}
    elif weights == "balanced":
        params["class_weight"] = "balanced"
    ours, ref = _fit_both(X, y, sample_weight=sample_weight, **params)
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape
    _assert_close(ours.coef_, ref.coef_)
    _assert_close(ours.intercept_, ref.intercept_)
    _assert_close(ours.predict_proba(X), ref.predict_proba(X), tol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.n_iter_.shape == (1,) and ours.n_iter_.dtype == ref.n_iter_.dtype
    assert 1 <= ours.n_iter_[0] <= 1000


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_parity_without_penalty(solver, n_classes):
    X, y, _ = _data(n=400, n_classes=n_classes, seed=7)
    ours, ref = _fit_both(X, y, solver=solver, C=np.inf, tol=1e-8, max_iter=1000)
    _assert_close(ours.coef_, ref.coef_)
    _assert_close(ours.intercept_, ref.intercept_)


@pytest.mark.parametrize("solver", SOLVERS)
def test_multinomial_parametrisation_is_centred(solver):
    X, y, _ = _data(n_classes=4, seed=3)
    clf = LogisticRegression(solver=solver, tol=1e-8).fit(X, y)
    assert clf.coef_.shape == (4, X.shape[1]) and clf.intercept_.shape == (4,)
    assert abs(clf.intercept_.sum()) < 1e-10
    free = LogisticRegression(solver=solver, C=np.inf, tol=1e-8, max_iter=500).fit(X, y)
    np.testing.assert_allclose(free.coef_.sum(axis=0), 0, atol=1e-10)


def test_solvers_agree_and_proba_is_softmax_of_scores():
    X, y, _ = _data(n_classes=3, seed=11)
    a = LogisticRegression(solver="lbfgs", tol=1e-10, max_iter=1000).fit(X, y)
    b = LogisticRegression(solver="newton-cholesky", tol=1e-10).fit(X, y)
    _assert_close(a.coef_, b.coef_, tol=1e-6)
    scores = X @ b.coef_.T + b.intercept_
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(b.predict_proba(X), expected, rtol=1e-12)
    np.testing.assert_allclose(b.decision_function(X), scores, rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_log_proba_is_stable(n_classes):
    X, y, _ = _data(n_classes=n_classes, seed=5)
    clf = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)),
                               rtol=1e-10, atol=1e-12)
    far = X * 1e4  # probabilities underflow to 0: their logs must stay finite
    log_proba = clf.predict_log_proba(far)
    assert np.all(np.isfinite(log_proba))
    assert np.any(clf.predict_proba(far) == 0)
    np.testing.assert_allclose(np.exp(log_proba).sum(axis=1), 1.0)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_objective_is_minimised(solver, n_classes):
    """The gradient of the documented objective, written out here, vanishes."""
    X, y, sw = _data(n_classes=n_classes, seed=2)
    C = 0.3
    clf = LogisticRegression(solver=solver, C=C, tol=1e-10, max_iter=1000).fit(
        X, y, sample_weight=sw)
    scores = X @ clf.coef_.T + clf.intercept_
    if n_classes == 2:
        P = 1 / (1 + np.exp(-scores))
        R = sw[:, None] * (P - (y == 1)[:, None])
    else:
        P = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        R = sw[:, None] * (P - np.eye(n_classes)[y])
    # Gradient of sum_i s_i loss_i / S + ||W||^2 / (2 C S), S = sum_i s_i.
    S = sw.sum()
    np.testing.assert_allclose(R.T @ X / S + clf.coef_ / (C * S), 0, atol=1e-7)
    np.testing.assert_allclose(R.sum(axis=0) / S, 0, atol=1e-7)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loss_derivatives_match_finite_differences(n_classes, fit_intercept):
    X, y, sw = _data(n=40, p=3, n_classes=n_classes, seed=4)
    loss = _LogisticLoss(X, y, n_classes, sample_weight=sw, l2_reg_strength=0.1,
                         fit_intercept=fit_intercept)
    x = np.random.default_rng(0).normal(size=loss.size)
    g = loss.grad(x)
    np.testing.assert_allclose(g, approx_fprime(x, loss.fun, 1e-7), atol=1e-5)
    H = loss.hess(x)
    H_fd = np.array([approx_fprime(x, lambda v, i=i: loss.grad(v)[i], 1e-7)
                     for i in range(loss.size)])
    np.testing.assert_allclose(H, H_fd, atol=1e-5)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    # Chunked and one-shot Hessians agree.
    np.testing.assert_allclose(loss.hess(x, chunk_size=7), H, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("solver", SOLVERS)
def test_convergence_warning_at_max_iter(solver):
    X, y, _ = _data(n_classes=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        clf = LogisticRegression(solver=solver, max_iter=1, tol=1e-12).fit(X, y)
    assert clf.n_iter_[0] == 1
    assert np.all(np.isfinite(clf.coef_))


@pytest.mark.parametrize("solver", SOLVERS)
def test_never_returns_nan(solver):
    X, y, _ = _data(n=60, p=3)
    # Features so large that the Hessian overflows; the fit must warn and keep
    # finite coefficients.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(ConvergenceWarning):
            clf = LogisticRegression(solver=solver).fit(X * 1e200, y)
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    # Separable data without penalty: coefficients grow but stay finite.
    sep = (X[:, 0] > X[:, 0].mean()).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegression(solver=solver, C=np.inf).fit(X, sep)
    assert np.all(np.isfinite(clf.coef_))
    assert clf.score(X, sep) == 1.0


def test_newton_singular_hessian_falls_back():
    """A duplicated feature without penalty makes the Hessian singular."""
    X, y, _ = _data(n=200, p=3, seed=9)
    X_dup = np.column_stack([X, X[:, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.warns(LinAlgWarning, match="resort to lbfgs"):
            clf = LogisticRegression(solver="newton-cholesky", C=np.inf,
                                     tol=1e-8).fit(X_dup, y)
    ref = sk_linear_model.LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    # The predictions are identifiable even though the coefficients are not; as
    # scikit-learn's, the singular Hessian hands over to L-BFGS, whose iterates
    # from zero keep the weight split equally between the copies.
    _assert_close(clf.predict_proba(X_dup), ref.predict_proba(X), tol=1e-6)
    _assert_close(clf.coef_[0, 0] + clf.coef_[0, 3], ref.coef_[0, 0])
    _assert_close(clf.coef_[0, 0], clf.coef_[0, 3])


def test_hessian_trouble_matches_the_symmetric_solve():
    """The LAPACK steps of ``_hessian_trouble`` decide as scikit-learn's test,
    ``scipy.linalg.solve(H, ..., assume_a="sym")`` raising or warning, on
    well-posed, singular and ill-conditioned Gram matrices (rcond around eps),
    with and without the Cholesky shortcut."""
    from scipy import linalg

    from mlnotes.linear_model._logistic import _hessian_trouble
    from mlnotes.optim._newton import _cholesky

    def by_solve(H):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", LinAlgWarning)
                linalg.solve(H, np.ones(len(H)), assume_a="sym", check_finite=False)
        except (np.linalg.LinAlgError, LinAlgWarning) as exc:
            return str(exc)
        return None

    rng = np.random.RandomState(0)
    kinds = {"fine": 0, "singular": 0, "ill": 0}
    for trial in range(600):
        n = rng.randint(2, 10)
        A = rng.randn(n + 3, n)
        if trial % 4 == 1:  # duplicate column: singular or ill-conditioned by rounding
            A[:, -1] = A[:, 0]
        elif trial % 4 == 2:  # zero column: an exact zero pivot
            A[:, rng.randint(n)] = 0.0
        elif trial % 4 == 3:  # near-duplicate column: rcond from 1e-24 to 1e-10
            A[:, -1] = A[:, 0] + 10.0 ** rng.uniform(-12, -5) * rng.randn(n + 3)
        H = A.T @ A
        ref = by_solve(H)
        ours = _hessian_trouble(H)
        # with the Cholesky factor Newton's method passes (None when it fails)
        assert _hessian_trouble(H, _cholesky(H)) == ours
        assert (ours is None) == (ref is None), (ours, ref)
        if ref is not None:
            kind = "singular" if "singular" in ref else "ill"
            assert kind in ours
            kinds[kind] += 1
        else:
            kinds["fine"] += 1
    assert min(kinds.values()) > 20, kinds


@pytest.mark.parametrize("solver", SOLVERS)
def test_class_weight_is_sample_weight(solver):
    X, y, sw = _data(n_classes=3, seed=8)
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    a = LogisticRegression(solver=solver, class_weight=cw, tol=1e-10, max_iter=1000).fit(
        X, y, sample_weight=sw)
    b = LogisticRegression(solver=solver, tol=1e-10, max_iter=1000).fit(
        X, y, sample_weight=sw * np.array([2.0, 0.5, 1.0])[y])
    _assert_close(a.coef_, b.coef_, tol=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start(solver):
    X, y, _ = _data(n_classes=3, seed=6)
    cold = LogisticRegression(solver=solver, tol=1e-10, max_iter=1000).fit(X, y)
    clf = LogisticRegression(solver=solver, tol=1e-10, max_iter=2, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    first = clf.coef_.copy()
    clf.set_params(max_iter=1000)
    clf.fit(X, y)  # continues from the partial solution
    _assert_close(clf.coef_, cold.coef_, tol=1e-6)
    assert not np.allclose(first, cold.coef_, atol=1e-4)
    # Restarting from the solution converges at once.
    clf.fit(X, y)
    assert clf.n_iter_[0] <= 2
    _assert_close(clf.coef_, cold.coef_, tol=1e-6)
    # Without warm_start the previous fit is ignored.
    again = LogisticRegression(solver=solver, tol=1e-10, max_iter=1000)
    again.coef_ = np.full_like(cold.coef_, 50.0)
    again.intercept_ = np.zeros_like(cold.intercept_)
    assert again.fit(X, y).n_iter_[0] == cold.n_iter_[0]


def test_warm_start_with_other_classes_raises():
    X, y, _ = _data(n_classes=3)
    clf = LogisticRegression(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, y % 2)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_string_labels(solver, n_classes):
    X, y, _ = _data(n_classes=n_classes, seed=12)
    names = np.array(["spam", "eggs", "ham"])[:n_classes]
    labels = names[y]
    ours, ref = _fit_both(X, labels, solver=solver, tol=1e-8)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    _assert_close(ours.coef_, ref.coef_)
    pred = ours.predict(X)
    assert pred.dtype == labels.dtype and set(pred) <= set(names)
    np.testing.assert_array_equal(pred, ref.predict(X))


def test_binary_coef_is_for_the_second_class():
    X, y, _ = _data(seed=13)
    a = LogisticRegression(tol=1e-10).fit(X, y)
    b = LogisticRegression(tol=1e-10).fit(X, 1 - y)  # same model, labels swapped
    _assert_close(a.coef_, -b.coef_, tol=1e-6)
    _assert_close(a.intercept_, -b.intercept_, tol=1e-6)


def test_float32_input():
    X, y, _ = _data(n_classes=3, seed=14)
    a = LogisticRegression(solver="newton-cholesky").fit(X.astype(np.float32), y)
    b = LogisticRegression(solver="newton-cholesky").fit(X, y)
    assert a.coef_.dtype == np.float32 and a.intercept_.dtype == np.float32
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-3, atol=1e-3)


def test_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, _ = _data()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = LogisticRegression().fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    assert clf.n_features_in_ == X.shape[1]


# -- parameters and bad input ---------------------------------------------------------

def _bad_inputs():
    X, y, _ = _data(n=30, p=3)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    return {
        "nan": (dict(), X_nan, y),
        "inf": (dict(), X_inf, y),
        "1d X": (dict(), X[:, 0], y),
        "3d X": (dict(), X[:, :, None], y),
        "one class": (dict(), X, np.zeros_like(y)),
        "continuous y": (dict(), X, X[:, 0]),
        "length mismatch": (dict(), X, y[:-1]),
        "C=0": (dict(C=0.0), X, y),
        "C<0": (dict(C=-1.0), X, y),
        "tol<0": (dict(tol=-1.0), X, y),
        "max_iter<0": (dict(max_iter=-1), X, y),
        "l1 with lbfgs": (dict(l1_ratio=1.0), X, y),
        "elasticnet with lbfgs": (dict(l1_ratio=0.5), X, y),
        "elasticnet with liblinear": (dict(l1_ratio=0.5, solver="liblinear"), X, y),
        "liblinear multiclass": (dict(solver="liblinear"), X, np.arange(len(y)) % 3),
        "liblinear without penalty": (dict(solver="liblinear", C=np.inf), X, y),
        "dual": (dict(dual=True), X, y),
        "bad solver": (dict(solver="bogus"), X, y),
        "bad class_weight": (dict(class_weight="unbalanced"), X, y),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
def test_bad_input_raises_like_sklearn(case):
    params, X, y = _bad_inputs()[case]
    with pytest.raises(Exception) as ref_info:
        sk_linear_model.LogisticRegression(**params).fit(X, y)
    with pytest.raises(ref_info.type):
        LogisticRegression(**params).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(C=0.0), "C"),
        (dict(l1_ratio=0.5), "elasticnet penalty"),
        (dict(l1_ratio=1.0), "supports only 'l2' or None penalties, got l1"),
        (dict(dual=True), "dual"),
        (dict(solver="bogus"), "solver"),
    ],
)
def test_errors_name_the_parameter(params, match):
    X, y, _ = _data(n=30, p=3)
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(X, y)


def test_one_class_message():
    X, y, _ = _data(n=30, p=3)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X, np.ones_like(y))


def test_sample_weight_shape_is_checked():
    X, y, sw = _data(n=30, p=3)
    with pytest.raises(ValueError):
        LogisticRegression().fit(X, y, sample_weight=sw[:-1])


def test_predict_checks():
    X, y, _ = _data(n=30, p=3)
    with pytest.raises(NotFittedError):
        LogisticRegression().predict_proba(X)
    clf = LogisticRegression().fit(X, y)
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba,
                   clf.decision_function):
        with pytest.raises(ValueError, match="features"):
            method(X[:, :2])


def test_deprecated_penalty():
    X, y, _ = _data(n_classes=3)
    default = LogisticRegression(tol=1e-10).fit(X, y)
    with pytest.warns(FutureWarning, match="penalty"):
        l2 = LogisticRegression(penalty="l2", tol=1e-10).fit(X, y)
    _assert_close(l2.coef_, default.coef_, tol=1e-8)
    unpenalised = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    with pytest.warns(FutureWarning, match="penalty"):
        none = LogisticRegression(penalty=None, tol=1e-10, max_iter=1000).fit(X, y)
    _assert_close(none.coef_, unpenalised.coef_, tol=1e-8)
    with pytest.warns(FutureWarning), pytest.warns(UserWarning, match="ignore the C"):
        LogisticRegression(penalty=None, C=2.0).fit(X, y)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="got l1 penalty"):
        LogisticRegression(penalty="l1").fit(X, y)
    with pytest.warns(FutureWarning, match="n_jobs"):
        LogisticRegression(n_jobs=2).fit(X, y)


def test_signature_matches_sklearn():
    ours = LogisticRegression().get_params()
    ref = sk_linear_model.LogisticRegression().get_params()
    assert ours == ref


# -- properties ----------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), n_classes=st.integers(2, 4), data=st.data())
def test_row_permutation_and_relabelling_invariance(seed, n_classes, data):
    X, y, _ = _data(n=80, p=3, n_classes=n_classes, seed=seed)
    perm = np.array(data.draw(st.permutations(range(80)), label="rows"))
    relabel = np.array(data.draw(st.permutations(range(n_classes)), label="labels"))
    names = np.array([10, 20, 30, 40])[:n_classes]
    params = dict(solver="newton-cholesky", tol=1e-10)
    base = LogisticRegression(**params).fit(X, names[y])
    moved = LogisticRegression(**params).fit(X[perm], names[relabel[y]][perm])
    # Class names[k] became names[relabel[k]]: its probability column moves there.
    proba = base.predict_proba(X)
    expected = np.empty_like(proba)
    expected[:, relabel] = proba
    np.testing.assert_allclose(moved.predict_proba(X), expected, atol=1e-7)
    np.testing.assert_array_equal(moved.predict(X), names[relabel[np.searchsorted(
        names, base.predict(X))]])


def test_newton_cholesky_falls_back_to_lbfgs_as_sklearn():
    # scikit-learn's test_newton_cholesky_fallback_to_lbfgs (issue 21): wide data,
    # no effective penalty; the first Hessian is singular, so newton-cholesky is
    # L-BFGS from the start: same n_iter_ and coefficients as scikit-learn's.
    X, y = make_classification(n_samples=10, n_features=20, random_state=42)
    for max_iter in (100, 12):
        fits = []
        for cls in (LogisticRegression, sk_linear_model.LogisticRegression):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fits.append(cls(solver="newton-cholesky", C=1e30,
                                max_iter=max_iter).fit(X, y))
            assert any(w.category is LinAlgWarning for w in caught)
            assert any(w.category is ConvergenceWarning for w in caught) == (max_iter == 12)
        ours, ref = fits
        assert ours.n_iter_[0] == ref.n_iter_[0]
        _assert_close(ours.coef_, ref.coef_, tol=1e-8)
        _assert_close(ours.intercept_, ref.intercept_, tol=1e-8)


class _Recorder:
    """A minimal sklearn.callback.FitCallback that records its hooks."""

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", None, None))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        self.calls.append(("begin", context.task_name, fitted_estimator))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.calls.append(("end", context.task_name, fitted_estimator))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", None, None))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_callbacks_as_sklearn(n_classes):
    # scikit-learn 1.9's experimental callback API (set_callbacks): the same hooks
    # as scikit-learn's on the same fit, and each L-BFGS iteration's fitted_estimator
    # is the fit stopped at that iteration (issue 21).
    X, y = make_classification(n_features=4, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=0)
    records = []
    for cls in (LogisticRegression, sk_linear_model.LogisticRegression):
        rec = _Recorder()
        fitted = cls(solver="lbfgs").set_callbacks(rec).fit(X, y)
        records.append((rec.calls, fitted))
    (ours, fitted), (ref, ref_fitted) = records
    assert fitted.n_iter_[0] == ref_fitted.n_iter_[0]
    assert [c[:2] for c in ours] == [c[:2] for c in ref]
    assert [c[:2] for c in ours].count(("begin", "lbfgs-iter")) == fitted.n_iter_[0] + 1
    iter_begins = [c[2] for c in ours if c[:2] == ("begin", "lbfgs-iter")]
    for i in (1, 3):
        stopped = LogisticRegression(solver="lbfgs", max_iter=i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            stopped.fit(X, y)
        np.testing.assert_allclose(iter_begins[i].coef_, stopped.coef_)
        np.testing.assert_allclose(iter_begins[i].intercept_, stopped.intercept_)
        np.testing.assert_array_equal(iter_begins[i].predict(X), stopped.predict(X))
    with pytest.warns(UserWarning, match="only supported .* for solver='lbfgs'"):
        LogisticRegression(solver="liblinear").set_callbacks(_Recorder())
