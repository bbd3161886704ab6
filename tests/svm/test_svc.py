import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from sklearn import svm as sk_svm
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_moons
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlnotes.svm import SVC

KERNELS = ["linear", "poly", "rbf", "sigmoid"]


def _data(n=120, p=4, n_classes=2, seed=0):
    """Overlapping Gaussian classes (so that some multipliers sit at C)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    centres = rng.normal(scale=1.5, size=(n_classes, p))
    X = centres[y] + rng.normal(size=(n, p))
    return X, y


def _sk(**params):
    """scikit-learn's SVC; its `probability` is deprecated in 1.9 (FutureWarning)."""
    return sk_svm.SVC(**params)


def _fit_sk(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return est.fit(*args, **kwargs)


def _assert_same_model(ours, ref, X, rtol=1e-6, atol=1e-8):
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_allclose(ours.support_vectors_, ref.support_vectors_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X),
                               rtol=rtol, atol=1e3 * atol)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


# ------------------------------------------------------------------ parity


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("n_classes", [2, 3, 4])
@pytest.mark.parametrize("shrinking", [True, False])
def test_parity_with_sklearn(kernel, n_classes, shrinking):
    X, y = _data(n_classes=n_classes, seed=n_classes)
    params = dict(kernel=kernel, C=3.0, tol=1e-6, shrinking=shrinking, gamma=0.2,
                  coef0=0.5)
    ours = SVC(**params).fit(X, y)
    ref = _fit_sk(_sk(**params), X, y)
    _assert_same_model(ours, ref, X)
    assert ours.n_iter_.shape == ref.n_iter_.shape == (n_classes * (n_classes - 1) // 2,)
    assert ours.fit_status_ == 0


@pytest.mark.parametrize("shape", ["ovo", "ovr"])
def test_decision_function_shapes_match_sklearn(shape):
    X, y = _data(n_classes=4, seed=7)
    ours = SVC(decision_function_shape=shape, tol=1e-6).fit(X, y)
    ref = _fit_sk(_sk(decision_function_shape=shape, tol=1e-6), X, y)
    dec = ours.decision_function(X)
    assert dec.shape == (X.shape[0], 6 if shape == "ovo" else 4)
    np.testing.assert_allclose(dec, ref.decision_function(X), rtol=1e-6, atol=1e-7)


def test_gamma_options_match_sklearn():
    X, y = _data(p=6, seed=3)
    X = X * 3.0 + 1.0
    for gamma in ["scale", "auto", 0.05]:
        ours = SVC(gamma=gamma, tol=1e-6).fit(X, y)
        ref = _fit_sk(_sk(gamma=gamma, tol=1e-6), X, y)
        _assert_same_model(ours, ref, X)


def test_class_and_sample_weight_parity():
    X, y = _data(n_classes=3, seed=11)
    sw = np.random.default_rng(0).uniform(0.2, 3.0, size=y.size)
    for cw in [None, "balanced", {0: 0.5, 1: 2.0, 2: 1.0}]:
        ours = SVC(class_weight=cw, tol=1e-6).fit(X, y, sample_weight=sw)
        ref = _fit_sk(_sk(class_weight=cw, tol=1e-6), X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.class_weight_, ref.class_weight_)
        _assert_same_model(ours, ref, X)


def test_small_cache_gives_the_same_solution():
    """Two cached rows force evictions (and, with shrinking, dropped columns)."""
    X, y = _data(n=300, n_classes=2, seed=5)
    for shrinking in (True, False):
        ref = _fit_sk(_sk(tol=1e-6, shrinking=shrinking), X, y)
        tiny = SVC(cache_size=1e-4, tol=1e-6, shrinking=shrinking).fit(X, y)
        _assert_same_model(tiny, ref, X)


def test_coef_matches_sklearn_for_linear_kernel():
    X, y = _data(n_classes=3, seed=2)
    ours = SVC(kernel="linear", tol=1e-6).fit(X, y)
    ref = _fit_sk(_sk(kernel="linear", tol=1e-6), X, y)
    assert ours.coef_.shape == (3, X.shape[1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert not ours.coef_.flags.writeable
    with pytest.raises(AttributeError, match="linear kernel"):
        SVC(kernel="rbf").fit(X, y).coef_


def _datasets():
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", StandardScaler().fit_transform(X), y
    X, y = load_digits(return_X_y=True)
    yield "digits", X, y
    X, y = load_iris(return_X_y=True)
    yield "iris", X, y
    X, y = make_moons(400, noise=0.3, random_state=0)
    yield "moons", X, y


@pytest.mark.parametrize("name, X, y", list(_datasets()), ids=lambda v: v if
                         isinstance(v, str) else "")
def test_held_out_accuracy_matches_sklearn(name, X, y):
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0, stratify=y)
    ours = SVC().fit(Xtr, ytr).score(Xte, yte)
    ref = _fit_sk(_sk(), Xtr, ytr).score(Xte, yte)
    assert ours > 0.85
    assert abs(ours - ref) <= 0.01


# ------------------------------------------------------------------ probabilities


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba_close_to_sklearn(n_classes):
    X, y = load_iris(return_X_y=True)
    if n_classes == 2:
        X, y = X[50:], y[50:]
    ours = SVC(probability=True, random_state=0).fit(X, y)
    ref = _fit_sk(_sk(probability=True, random_state=0), X, y)
    proba = ours.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
    assert np.all((proba > 0) & (proba < 1))
    # the cross-validation folds differ from LIBSVM's, so only approximately equal
    np.testing.assert_allclose(proba, ref.predict_proba(X), atol=0.06)
    np.testing.assert_allclose(ours.predict_log_proba(X), np.log(proba))
    n_pairs = n_classes * (n_classes - 1) // 2
    assert ours.probA_.shape == ours.probB_.shape == (n_pairs,)
    assert np.all(ours.probA_ < 0)  # larger decision value towards class i, more P(i)
    # the model itself does not depend on the probability fit
    plain = SVC().fit(X, y)
    np.testing.assert_allclose(ours.dual_coef_, plain.dual_coef_)


def test_predict_proba_is_seeded_by_random_state():
    X, y = _data(n=150, n_classes=3, seed=4)
    a = SVC(probability=True, random_state=1).fit(X, y).predict_proba(X)
    b = SVC(probability=True, random_state=1).fit(X, y).predict_proba(X)
    c = SVC(probability=True, random_state=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_platt_sigmoid_known_answer():
    """Platt's fit on separable decision values with regularised targets."""
    from mlnotes.svm._platt import sigmoid_train

    dec = np.array([-2.0, -1.0, 1.0, 2.0])
    labels = np.array([-1, -1, 1, 1])
    A, B = sigmoid_train(dec, labels)
    t = np.array([1 / 4, 1 / 4, 3 / 4, 3 / 4])  # 1/(N-+2), (N++1)/(N++2)

    def loss(ab):
        f = dec * ab[0] + ab[1]
        p = 1.0 / (1.0 + np.exp(f))
        return -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p))

    best = optimize.minimize(loss, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose([A, B], best, atol=1e-4)
    assert abs(B) < 1e-6  # symmetric problem


def test_pairwise_coupling_recovers_consistent_probabilities():
    """If r_ij = p_i / (p_i + p_j) exactly, coupling returns p (Wu, Lin & Weng)."""
    from mlnotes.svm._platt import _couple_all

    p = np.array([0.5, 0.3, 0.15, 0.05])
    r = [p[i] / (p[i] + p[j]) for i in range(4) for j in range(i + 1, 4)]
    out = _couple_all(np.array([r]), 4)[0]
    np.testing.assert_allclose(out, p, atol=5e-3)
    assert abs(out.sum() - 1.0) < 1e-12


def test_proba_unavailable_without_probability():
    X, y = _data()
    clf = SVC().fit(X, y)
    assert not hasattr(clf, "predict_proba")
    clf.set_params(probability=True)
    with pytest.raises(NotFittedError, match="probability=False"):
        clf.predict_proba(X)


# ------------------------------------------------------------------ kernels


def test_precomputed_equals_rbf():
    X, y = _data(n=150, n_classes=3, seed=8)
    Xte = _data(n=40, n_classes=3, seed=9)[0]
    gamma = 0.3
    rbf = SVC(kernel="rbf", gamma=gamma, tol=1e-6).fit(X, y)
    pre = SVC(kernel="precomputed", tol=1e-6).fit(rbf_kernel(X, X, gamma=gamma), y)
    np.testing.assert_array_equal(pre.support_, rbf.support_)
    np.testing.assert_allclose(pre.dual_coef_, rbf.dual_coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(pre.decision_function(rbf_kernel(Xte, X, gamma=gamma)),
                               rbf.decision_function(Xte), rtol=1e-6, atol=1e-8)
    assert pre.support_vectors_.shape == (0, 0)
    # cross-validation slices a precomputed kernel on both axes (pairwise tag)
    scores = cross_val_score(SVC(kernel="precomputed"), rbf_kernel(X, X, gamma=gamma),
                             y, cv=3)
    assert scores.mean() > 0.5


def test_callable_kernel_equals_linear():
    X, y = _data(n_classes=3, seed=12)
    lin = SVC(kernel="linear", tol=1e-6).fit(X, y)
    fun = SVC(kernel=lambda A, B: np.asarray(A) @ np.asarray(B).T, tol=1e-6).fit(X, y)
    np.testing.assert_allclose(fun.dual_coef_, lin.dual_coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fun.decision_function(X), lin.decision_function(X),
                               rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ known answers


def test_two_points_closed_form():
    """Hard margin on {a: +1, c: -1}: w = 2 (a - c) / |a - c|^2, alpha = 2 / |a - c|^2."""
    a, c = np.array([3.0, 1.0]), np.array([1.0, 2.0])
    X, y = np.array([c, a]), np.array([0, 1])
    clf = SVC(kernel="linear", C=100.0, tol=1e-10).fit(X, y)
    d2 = np.sum((a - c) ** 2)
    w = 2 * (a - c) / d2
    b = -w @ (a + c) / 2
    np.testing.assert_allclose(clf.coef_[0], w, rtol=1e-9)
    np.testing.assert_allclose(clf.intercept_[0], b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.abs(clf.dual_coef_[0]), [2 / d2, 2 / d2], rtol=1e-9)
    margin = 2 / np.linalg.norm(clf.coef_[0])
    np.testing.assert_allclose(margin, np.sqrt(d2), rtol=1e-9)
    np.testing.assert_allclose(clf.decision_function(X), [-1.0, 1.0], rtol=1e-9)


def test_hard_margin_on_separable_data_solves_the_primal():
    """Large C on separable data: the primal QP solved by SLSQP gives the same w, b."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    w_true, b_true = np.array([1.5, -1.0]), 0.3
    score = X @ w_true + b_true
    keep = np.abs(score) > 0.5  # a gap between the classes
    X, y = X[keep], np.where(score[keep] > 0, 1, -1)

    cons = {"type": "ineq", "fun": lambda v: y * (X @ v[:2] + v[2]) - 1.0,
            "jac": lambda v: y[:, None] * np.hstack([X, np.ones((y.size, 1))])}
    res = optimize.minimize(lambda v: 0.5 * v[:2] @ v[:2], np.r_[w_true, b_true],
                            jac=lambda v: np.r_[v[:2], 0.0], constraints=[cons],
                            method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    assert res.success
    clf = SVC(kernel="linear", C=1e6, tol=1e-9).fit(X, y)
    np.testing.assert_allclose(clf.coef_[0], res.x[:2], rtol=1e-5)
    np.testing.assert_allclose(clf.intercept_[0], res.x[2], rtol=1e-5, atol=1e-6)
    # every training point is outside the margin, the support vectors on it
    margins = y * clf.decision_function(X)
    assert margins.min() > 1 - 1e-6
    np.testing.assert_allclose(margins[clf.support_], 1.0, atol=1e-6)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_kkt_conditions_hold(kernel):
    X, y = _data(n=200, seed=6)
    C, tol = 2.0, 1e-6
    clf = SVC(kernel=kernel, C=C, tol=tol).fit(X, y)
    y_pm = np.where(y == clf.classes_[1], 1.0, -1.0)
    yg = y_pm * clf.decision_function(X)
    alpha = np.zeros(y.size)
    alpha[clf.support_] = np.abs(clf.dual_coef_[0])
    # dual feasibility: 0 <= alpha <= C, sum_i y_i alpha_i = 0, signs match labels
    assert np.all(alpha <= C * (1 + 1e-12))
    np.testing.assert_allclose(np.sign(clf.dual_coef_[0]), y_pm[clf.support_])
    assert abs(clf.dual_coef_.sum()) < 1e-10
    lower, upper = alpha == 0, alpha >= C
    free = ~lower & ~upper
    assert free.any() and upper.any()
    assert np.all(yg[lower] >= 1 - 10 * tol)
    assert np.all(yg[upper] <= 1 + 10 * tol)
    np.testing.assert_allclose(yg[free], 1.0, atol=10 * tol)


# ------------------------------------------------------------------ weights


def test_sample_weight_scales_C():
    X, y = _data(seed=13)
    a = SVC(C=2.0, tol=1e-8).fit(X, y)
    b = SVC(C=1.0, tol=1e-8).fit(X, y, sample_weight=np.full(y.size, 2.0))
    np.testing.assert_allclose(a.dual_coef_, b.dual_coef_, rtol=1e-6, atol=1e-9)


def test_class_weight_equals_per_class_sample_weight():
    X, y = _data(n_classes=3, seed=14)
    cw = {0: 3.0, 1: 0.5, 2: 1.0}
    a = SVC(class_weight=cw, tol=1e-8).fit(X, y)
    b = SVC(tol=1e-8).fit(X, y, sample_weight=np.array([cw[c] for c in y]))
    np.testing.assert_allclose(a.dual_coef_, b.dual_coef_, rtol=1e-6, atol=1e-9)


def test_zero_weight_equals_removal_and_support_indexes_input():
    X, y = _data(n_classes=3, seed=15)
    sw = np.ones(y.size)
    sw[::5] = 0.0
    # a fixed gamma: "scale" would see the variance of all rows, weighted or not
    weighted = SVC(gamma=0.2, tol=1e-8).fit(X, y, sample_weight=sw)
    removed = SVC(gamma=0.2, tol=1e-8).fit(X[sw > 0], y[sw > 0])
    np.testing.assert_array_equal(weighted.support_, np.flatnonzero(sw > 0)[removed.support_])
    np.testing.assert_allclose(weighted.support_vectors_, X[weighted.support_])
    np.testing.assert_allclose(weighted.decision_function(X), removed.decision_function(X),
                               rtol=1e-6, atol=1e-8)


def test_upweighting_a_sample_moves_the_boundary():
    rng = np.random.default_rng(16)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] + rng.normal(size=100) > 0).astype(int)  # overlapping classes
    base = SVC(kernel="linear", C=0.1).fit(X, y)
    wrong = np.flatnonzero(base.predict(X) != y)
    assert wrong.size > 0
    i = wrong[0]
    sw = np.ones(y.size)
    sw[i] = 1000.0
    assert SVC(kernel="linear", C=0.1).fit(X, y, sample_weight=sw).predict(X[[i]])[0] == y[i]
    # class_weight favours the heavy class
    heavy = SVC(kernel="linear", C=0.1, class_weight={0: 50.0}).fit(X, y)
    assert np.mean(heavy.predict(X) == 0) > np.mean(base.predict(X) == 0)


# ------------------------------------------------------------------ behaviour


def test_max_iter_warns():
    X, y = _data(n=200, seed=17)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        clf = SVC(max_iter=3).fit(X, y)
    assert clf.fit_status_ == 1
    np.testing.assert_array_equal(clf.n_iter_, [3])


def test_break_ties():
    X, y = _data(n_classes=3, seed=18)
    clf = SVC(break_ties=True).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(
        clf.decision_function(X), axis=1)])
    with pytest.raises(ValueError, match="break_ties"):
        SVC(break_ties=True, decision_function_shape="ovo").fit(X, y).predict(X)


def test_string_labels_and_binary_sign():
    X, y = _data(seed=19)
    labels = np.array(["spam", "eggs"])[y]
    clf = SVC().fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["eggs", "spam"])
    dec = clf.decision_function(X)
    np.testing.assert_array_equal(clf.predict(X), np.where(dec > 0, "spam", "eggs"))


def test_pipeline_and_pickle():
    X, y = _data(n_classes=3, seed=20)
    pipe = make_pipeline(StandardScaler(), SVC(probability=True, random_state=0)).fit(X, y)
    clone = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(clone.predict_proba(X), pipe.predict_proba(X))


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "params, match",
    [(dict(C=0.0), "C"), (dict(C=-1.0), "C"), (dict(gamma=-1.0), "gamma"),
     (dict(kernel="cosine"), "kernel"), (dict(tol=0.0), "tol"), (dict(degree=-1), "degree"),
     (dict(cache_size=0), "cache_size"), (dict(max_iter=-2), "max_iter"),
     (dict(decision_function_shape="ovx"), "decision_function_shape")],
)
def test_bad_params(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        SVC(**params).fit(X, y)


def test_bad_input():
    X, y = _data()
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SVC().fit(bad, y)
    with pytest.raises(ValueError, match="2D array"):
        SVC().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SVC().fit(X, y[:-1])
    with pytest.raises(ValueError, match="class"):
        SVC().fit(X, np.zeros(y.size))
    with pytest.raises(ValueError, match="Unknown label type"):
        SVC().fit(X, np.linspace(0, 1, y.size))
    with pytest.raises(ValueError, match="zero or negative weights"):
        SVC().fit(X, y, sample_weight=np.zeros(y.size))
    with pytest.raises(ValueError, match="same class"):
        SVC().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="sample_weight"):
        SVC().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(NotFittedError):
        SVC().predict(X)
    clf = SVC().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        clf.decision_function(bad)


def test_bad_precomputed_kernel():
    X, y = _data()
    K = X @ X.T
    with pytest.raises(ValueError, match="square"):
        SVC(kernel="precomputed").fit(K[:, :50], y)
    clf = SVC(kernel="precomputed").fit(K, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(K[:5, :50])
    with pytest.raises(ValueError, match="square"):
        SVC(kernel=lambda A, B: np.ones((len(A), 3))).fit(X, y)


# ------------------------------------------------------------------ properties


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), n_classes=st.integers(2, 3),
       kernel=st.sampled_from(["linear", "rbf"]))
def test_row_permutation_invariance(seed, n_classes, kernel):
    X, y = _data(n=60, n_classes=n_classes, seed=seed)
    perm = np.random.default_rng(seed).permutation(y.size)
    a = SVC(kernel=kernel, tol=1e-10).fit(X, y)
    b = SVC(kernel=kernel, tol=1e-10).fit(X[perm], y[perm])
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.sort(a.support_), np.sort(perm[b.support_]))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_swapping_binary_labels_flips_the_decision(seed):
    X, y = _data(n=50, seed=seed)
    a = SVC(tol=1e-10).fit(X, y)
    b = SVC(tol=1e-10).fit(X, 1 - y)
    np.testing.assert_allclose(a.decision_function(X), -b.decision_function(X),
                               rtol=1e-5, atol=1e-6)


def test_fast_exp_matches_numpy():
    """The vectorisable exp used for rbf kernel rows is accurate to a few ulp."""
    from mlnotes.svm._smo import _exp_inplace

    rng = np.random.default_rng(0)
    x = np.concatenate([-rng.exponential(5.0, 10000), rng.uniform(-700, 0, 1000),
                        rng.uniform(0, 1e-3, 100), [0.0, -1e-300, -700.0]])
    out = x.copy()
    _exp_inplace(out, np.empty(x.size, dtype=np.int64))
    np.testing.assert_allclose(out, np.exp(x), rtol=1e-15, atol=0)


def test_global_rng_is_left_alone():
    X, y = _data(n=60, n_classes=3, seed=21)
    np.random.seed(0)
    expected = np.random.random_sample()
    np.random.seed(0)
    SVC(probability=True).fit(X, y)  # random_state=None: fresh entropy
    assert np.random.random_sample() == expected


def test_callable_kernel_sees_the_training_set_at_predict_time():
    """As scikit-learn, predict calls kernel(X, X_fit): a kernel that fills a symmetric
    matrix (valid only on the training set's order) gives scikit-learn's decisions."""
    data = ["A A", "A", "B", "B B", "A B"]
    counts = np.array([[2, 0], [1, 0], [0, 1], [0, 2], [1, 1]])
    y = np.array([1, 1, 2, 2, 1])

    def symmetric_fill(X1, X2):
        K = np.zeros((len(X1), len(X2)))
        for i in range(len(X1)):
            for j in range(i, len(X2)):
                K[i, j] = X1[i].count("A") * X2[j].count("A") + \
                    X1[i].count("B") * X2[j].count("B")
                if j < len(X1) and i < len(X2):
                    K[j, i] = K[i, j]
        return K

    ours = SVC(kernel=symmetric_fill).fit(data, y)
    ref = _fit_sk(_sk(kernel=symmetric_fill), data, y)
    linear = SVC(kernel="linear").fit(counts, y)
    np.testing.assert_allclose(ours.decision_function(data), ref.decision_function(data))
    np.testing.assert_allclose(ours.decision_function(data), linear.decision_function(counts))
    assert ours.score(data, y) == 1.0
