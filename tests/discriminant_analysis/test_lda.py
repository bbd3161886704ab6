import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from sklearn import discriminant_analysis as skda
from sklearn.covariance import OAS, ledoit_wolf
from sklearn.datasets import load_digits, make_classification

from mlnotes.discriminant_analysis import LinearDiscriminantAnalysis


def _data(n=400, p=6, n_classes=3, seed=0, offset=5.0):
    X, y = make_classification(n, p, n_informative=min(p, 4), n_redundant=0,
                               n_classes=n_classes, n_clusters_per_class=1,
                               random_state=seed)
    rng = np.random.default_rng(seed)
    X = X * rng.uniform(0.3, 4.0, size=p) + offset  # unequal scales, off-centre
    return X, y


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300)


SOLVER_SHRINKAGE = [("svd", None), ("lsqr", None), ("lsqr", 0.0), ("lsqr", 0.3),
                    ("lsqr", 1.0), ("lsqr", "auto"), ("eigen", None), ("eigen", 0.3),
                    ("eigen", "auto")]


@pytest.mark.parametrize("solver, shrinkage", SOLVER_SHRINKAGE)
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("priors", [None, "given"])
def test_parity_with_sklearn(solver, shrinkage, n_classes, priors):
    X, y = _data(n_classes=n_classes)
    Xte, _ = _data(n=100, n_classes=n_classes, seed=1)
    priors = None if priors is None else np.linspace(1, 2, n_classes) / np.linspace(
        1, 2, n_classes).sum()
    params = dict(solver=solver, shrinkage=shrinkage, priors=priors, store_covariance=True)
    ours = LinearDiscriminantAnalysis(**params).fit(X, y)
    ref = skda.LinearDiscriminantAnalysis(**params).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte),
                               rtol=1e-4, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape
    assert _rel(ours.coef_, ref.coef_) < 1e-6
    assert _rel(ours.intercept_, ref.intercept_) < 1e-6
    assert _rel(ours.decision_function(Xte), ref.decision_function(Xte)) < 1e-6
    for name in ("means_", "priors_", "covariance_"):
        assert _rel(getattr(ours, name), getattr(ref, name)) < 1e-8, name
    if solver != "lsqr":
        np.testing.assert_allclose(ours.explained_variance_ratio_,
                                   ref.explained_variance_ratio_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.predict_log_proba(Xte), ref.predict_log_proba(Xte),
                               rtol=1e-4, atol=1e-10)


@pytest.mark.parametrize("solver", ["svd", "eigen"])
@pytest.mark.parametrize("n_components", [None, 1])
def test_transform_equals_sklearn_up_to_sign(solver, n_components):
    X, y = _data(n_classes=4)
    ours = LinearDiscriminantAnalysis(solver=solver, n_components=n_components).fit(X, y)
    ref = skda.LinearDiscriminantAnalysis(solver=solver, n_components=n_components).fit(X, y)
    A, B = ours.transform(X), ref.transform(X)
    assert A.shape == B.shape == (X.shape[0], n_components or 3)
    signs = np.sign(np.sum(A * B, axis=0))
    np.testing.assert_allclose(A * signs, B, rtol=1e-6, atol=1e-8 * np.abs(B).max())
    assert ours.get_feature_names_out().tolist() == [
        f"lineardiscriminantanalysis{i}" for i in range(A.shape[1])]


def test_digits_rank_deficient_parity():
    """Digits has constant pixels: the svd solver drops them exactly as scikit-learn."""
    X, y = load_digits(return_X_y=True)
    for solver, shrinkage in [("svd", None), ("lsqr", None), ("lsqr", "auto"),
                              ("eigen", "auto")]:
        ours = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage).fit(X, y)
        ref = skda.LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage).fit(X, y)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                                   rtol=1e-4, atol=1e-10)
    A = LinearDiscriminantAnalysis().fit(X, y).transform(X)
    B = skda.LinearDiscriminantAnalysis().fit(X, y).transform(X)
    np.testing.assert_allclose(np.abs(A), np.abs(B), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("smallest", [0.7, 1e-2, 3e-4, 1e-4, 1e-7, 0.0])
def test_gram_shortcut_matches_the_svd(smallest):
    """The singular values/vectors from the Gram matrix (or the SVD fallback near the
    cut-off) are those of the SVD, on the directions kept by ``tol``. (The singular
    values must be distinct: with a repeated one the vectors are not unique, so
    ``smallest`` avoids 2, 1, 0.5 and 0.1.)"""
    from mlnotes.discriminant_analysis._lda import _sqrt_eig_of_gram

    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.normal(size=(2000, 5)))[0]
    R = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    A = (Q * [2.0, 1.0, 0.5, 0.1, smallest]) @ R.T
    s, V = _sqrt_eig_of_gram(A, tol=1e-4)
    _, s_ref, Vt = linalg.svd(A, full_matrices=False)
    keep = s_ref > 1e-4
    np.testing.assert_allclose(s[keep], s_ref[keep], rtol=1e-8)
    assert np.sum(s > 1e-4) == np.sum(keep)
    V, W = V[:, keep], Vt.T[:, keep]
    np.testing.assert_allclose(V * np.sign(np.sum(V * W, axis=0)), W, atol=1e-7)


def test_singular_value_near_tol_parity():
    """A direction whose standardised singular value is just above tol: kept by both."""
    X, y = _data(p=4)
    rng = np.random.default_rng(3)
    X = np.c_[X, X[:, 0] + 3e-4 * X[:, 0].std() * rng.normal(size=len(X))]
    ours = LinearDiscriminantAnalysis().fit(X, y)
    ref = skda.LinearDiscriminantAnalysis().fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-4,
                               atol=1e-10)
    assert ours.scalings_.shape == ref.scalings_.shape


def test_covariance_estimator_parity_and_not_fitted_in_place():
    X, y = _data()
    oas = OAS()
    ours = LinearDiscriminantAnalysis(solver="lsqr", covariance_estimator=oas).fit(X, y)
    ref = skda.LinearDiscriminantAnalysis(solver="lsqr", covariance_estimator=OAS()).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-4)
    assert not hasattr(oas, "covariance_")  # a clone was fitted


def test_closed_form_two_gaussians():
    """coef = Sigma^-1 (mu1 - mu0), intercept from the sample statistics, computed here."""
    rng = np.random.default_rng(0)
    A = np.array([[1.0, 0.4], [0.0, 0.7]])
    X = np.r_[rng.normal(size=(300, 2)) @ A, rng.normal(size=(100, 2)) @ A + [2.0, -1.0]]
    y = np.r_[np.zeros(300), np.ones(100)]
    mu0, mu1 = X[y == 0].mean(0), X[y == 1].mean(0)
    pi = np.array([0.75, 0.25])
    S = (pi[0] * np.cov(X[y == 0].T, bias=True) + pi[1] * np.cov(X[y == 1].T, bias=True))
    w = np.linalg.solve(S, mu1 - mu0)
    b = -0.5 * (mu1 @ np.linalg.solve(S, mu1) - mu0 @ np.linalg.solve(S, mu0)) + np.log(
        pi[1] / pi[0])
    for solver in ("svd", "lsqr", "eigen"):
        clf = LinearDiscriminantAnalysis(solver=solver, store_covariance=True).fit(X, y)
        np.testing.assert_allclose(clf.coef_, w[None, :], rtol=1e-9)
        np.testing.assert_allclose(clf.intercept_, [b], rtol=1e-9)
        np.testing.assert_allclose(clf.covariance_, S, rtol=1e-10)
        np.testing.assert_allclose(clf.priors_, pi)


def test_boundary_at_the_analytic_point():
    """N(-1, 2^2) vs N(3, 2^2), priors 0.3/0.7: boundary at 1 + 4 log(3/7) / 4."""
    rng = np.random.default_rng(1)
    n = 200_000
    y = (rng.random(n) < 0.7).astype(int)
    X = np.where(y == 1, 3.0, -1.0)[:, None] + 2.0 * rng.normal(size=(n, 1))
    clf = LinearDiscriminantAnalysis().fit(X, y)
    boundary = -clf.intercept_[0] / clf.coef_[0, 0]
    analytic = 1.0 + 2.0**2 * np.log(0.3 / 0.7) / 4.0
    assert abs(boundary - analytic) < 0.03
    assert clf.predict([[analytic - 0.1]])[0] == 0 and clf.predict([[analytic + 0.1]])[0] == 1
    # the posterior at the boundary is one half
    np.testing.assert_allclose(clf.predict_proba([[boundary]]), [[0.5, 0.5]], atol=1e-12)


def test_float_shrinkage_closed_form():
    X, y = _data(p=5)
    alpha = 0.4
    pi = np.bincount(y) / len(y)
    S = sum(pi[k] * np.cov(X[y == k].T, bias=True) for k in range(3))
    expected = (1 - alpha) * S + alpha * np.trace(S) / 5 * np.eye(5)
    clf = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=alpha).fit(X, y)
    np.testing.assert_allclose(clf.covariance_, expected, rtol=1e-10)


def test_auto_shrinkage_is_ledoit_wolf_on_standardised_classes():
    X, y = _data(n=60, p=8)
    pi = np.bincount(y) / len(y)
    expected = np.zeros((8, 8))
    for k in range(3):
        Xk = X[y == k]
        sd = Xk.std(0)
        expected += pi[k] * sd[:, None] * ledoit_wolf((Xk - Xk.mean(0)) / sd)[0] * sd
    clf = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(X, y)
    np.testing.assert_allclose(clf.covariance_, expected, rtol=1e-9)


def test_float32_preserved():
    X, y = _data()
    clf = LinearDiscriminantAnalysis().fit(X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32
    assert clf.transform(X.astype(np.float32)).dtype == np.float32
    ref = LinearDiscriminantAnalysis().fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def test_collinear_features_as_sklearn():
    """A duplicated feature: svd and lsqr still fit (as scikit-learn), eigen raises."""
    X, y = _data(p=4)
    X = np.c_[X, X[:, 0] * 2.0]
    for solver in ("svd", "lsqr"):
        ours = LinearDiscriminantAnalysis(solver=solver).fit(X, y)
        ref = skda.LinearDiscriminantAnalysis(solver=solver).fit(X, y)
        np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                                   rtol=1e-4, atol=1e-8)
    with pytest.raises(linalg.LinAlgError):
        skda.LinearDiscriminantAnalysis(solver="eigen").fit(X, y)
    with pytest.raises(linalg.LinAlgError, match="singular.*shrinkage"):
        LinearDiscriminantAnalysis(solver="eigen").fit(X, y)
    # shrinkage makes it well posed
    LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(X, y)


@pytest.mark.parametrize("params, error, match", [
    (dict(solver="newton"), ValueError, "solver"),
    (dict(shrinkage=1.5, solver="lsqr"), ValueError, "shrinkage"),
    (dict(shrinkage="fixed", solver="lsqr"), ValueError, "shrinkage"),
    (dict(shrinkage=0.5), NotImplementedError, "shrinkage not supported"),
    (dict(covariance_estimator=OAS()), ValueError, "covariance_estimator"),
    (dict(solver="lsqr", shrinkage=0.5, covariance_estimator=OAS()), ValueError,
     "Only one of the two can be set"),
    (dict(n_components=0), ValueError, "n_components"),
    (dict(n_components=3), ValueError, "n_components"),
    (dict(tol=-1.0), ValueError, "tol"),
    (dict(priors=[0.5, 0.7, -0.2]), ValueError, "non-negative"),
    (dict(priors=[0.5, 0.5]), ValueError, "number of priors"),
])
def test_bad_params(params, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        LinearDiscriminantAnalysis(**params).fit(X, y)


def test_bad_input():
    X, y = _data()
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LinearDiscriminantAnalysis().fit(bad, y)
    for solver in ("svd", "lsqr", "eigen"):  # scikit-learn raises IndexError for lsqr/eigen
        with pytest.raises(ValueError, match="class"):
            LinearDiscriminantAnalysis(solver=solver).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="more than the number of classes"):
        LinearDiscriminantAnalysis().fit(X[:3], [0, 1, 2])
    clf = LinearDiscriminantAnalysis().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="Unknown label type"):
        LinearDiscriminantAnalysis().fit(X, X[:, 0])
    with pytest.raises(NotImplementedError, match="lsqr"):
        LinearDiscriminantAnalysis(solver="lsqr").fit(X, y).transform(X)


def test_priors_renormalised_with_warning():
    X, y = _data()
    with pytest.warns(UserWarning, match="do not sum to 1"):
        clf = LinearDiscriminantAnalysis(priors=[1.0, 1.0, 2.0]).fit(X, y)
    np.testing.assert_allclose(clf.priors_, [0.25, 0.25, 0.5])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), solver=st.sampled_from(["svd", "lsqr", "eigen"]))
def test_row_permutation_invariance(seed, solver):
    X, y = _data(n=80, p=4, seed=seed % 50)
    perm = np.random.default_rng(seed).permutation(len(y))
    a = LinearDiscriminantAnalysis(solver=solver).fit(X, y)
    b = LinearDiscriminantAnalysis(solver=solver).fit(X[perm], y[perm])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), solver=st.sampled_from(["svd", "lsqr", "eigen"]),
       names=st.permutations(["cat", "dog", "emu"]))
def test_label_relabelling(seed, solver, names):
    """Renaming the classes renames the predictions and permutes the proba columns."""
    X, y = _data(n=90, p=4, seed=seed % 50)
    names = np.array(names)
    a = LinearDiscriminantAnalysis(solver=solver).fit(X, y)
    b = LinearDiscriminantAnalysis(solver=solver).fit(X, names[y])
    np.testing.assert_array_equal(b.predict(X), names[a.predict(X)])
    cols = np.searchsorted(b.classes_, names)  # column of original class k in b
    np.testing.assert_allclose(b.predict_proba(X)[:, cols], a.predict_proba(X),
                               rtol=1e-7, atol=1e-10)


def test_pipeline_and_grid_search():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search = GridSearchCV(make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(
            solver="lsqr")), {"lineardiscriminantanalysis__shrinkage": [None, 0.1, "auto"]},
            cv=3).fit(X, y)
    assert search.best_score_ > 0.7


def test_priors_not_shared_with_user_array():
    """Issue 21: priors_ is a copy, not a view of the user's priors."""
    X, y = _data(n_classes=2)
    priors = np.array([0.3, 0.7])
    clf = LinearDiscriminantAnalysis(priors=priors).fit(X, y)
    assert not np.shares_memory(clf.priors_, priors)
    priors[0] = 0.9
    np.testing.assert_array_equal(clf.priors_, [0.3, 0.7])


class _PlainCovariance:
    """An object with fit and covariance_, neither an estimator nor clonable (issue 21)."""

    def __init__(self, shrinkage):
        self._shrinkage = shrinkage  # no get_params: sklearn.base.clone refuses it

    def fit(self, X):
        from sklearn.covariance import ShrunkCovariance
        self.covariance_ = ShrunkCovariance(shrinkage=self._shrinkage).fit(X).covariance_
        return self


@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
def test_non_estimator_covariance_estimator_as_sklearn(solver):
    X, y = _data()
    plain = _PlainCovariance(0.3)
    ours = LinearDiscriminantAnalysis(solver=solver, covariance_estimator=plain,
                                      store_covariance=True).fit(X, y)
    ref = skda.LinearDiscriminantAnalysis(
        solver=solver, covariance_estimator=_PlainCovariance(0.3), store_covariance=True
    ).fit(X, y)
    np.testing.assert_allclose(ours.covariance_, ref.covariance_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-6,
                               atol=1e-12)
    assert not hasattr(plain, "covariance_")  # a copy was fitted


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e150])
def test_svd_solver_is_scale_invariant_at_extreme_magnitudes(scale):
    """Issue 21: data scaled by 1e300 or 1e-300 (squares overflow / underflow) fits and
    predicts as the unscaled data does (scikit-learn raises IndexError there)."""
    X, y = _data(n=120, p=4, n_classes=3)
    X = X - X.mean(axis=0)  # values near `scale` itself, not scale * offset
    ref = LinearDiscriminantAnalysis().fit(X, y)
    lda = LinearDiscriminantAnalysis().fit(X * scale, y)
    np.testing.assert_array_equal(lda.predict(X * scale), ref.predict(X))
    np.testing.assert_allclose(lda.predict_proba(X * scale), ref.predict_proba(X),
                               rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(lda.explained_variance_ratio_, ref.explained_variance_ratio_,
                               rtol=1e-8)


@pytest.mark.parametrize("solver", ["svd", "eigen"])
def test_all_constant_features_raise_a_clear_error(solver):
    """Issue 21: all-constant features give a ValueError naming the problem (scikit-learn's
    svd solver raises IndexError). (lsqr's least-squares solution is then coef_ = 0: it
    predicts by the priors, as scikit-learn's lsqr does.)"""
    X = np.full((20, 3), 2.5)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="constant|singular|non-finite|NaN|infinite"):
        LinearDiscriminantAnalysis(solver=solver).fit(X, y)


def test_overflowing_covariance_raises_a_clear_error():
    """lsqr on values near 1e300: the covariance overflows; a ValueError says so."""
    X, y = _data(n=60, p=3, n_classes=2)
    with pytest.raises(ValueError, match="(NaN|infinite) entries.*Rescale"):
        LinearDiscriminantAnalysis(solver="lsqr").fit(X * 1e300, y)


def test_svd_with_covariance_estimator_message_as_sklearn():
    # scikit-learn's test_lda_predict matches this phrase (issue 21)
    X, y = _data()
    match = "covariance estimator is not supported with svd"
    with pytest.raises(ValueError, match=match):
        skda.LinearDiscriminantAnalysis(covariance_estimator=OAS()).fit(X, y)
    with pytest.raises(ValueError, match=match):
        LinearDiscriminantAnalysis(covariance_estimator=OAS()).fit(X, y)
