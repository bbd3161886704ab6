import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import decomposition as sk_decomposition
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from mlnotes.decomposition import PCA
from mlnotes.decomposition._pca import _randomized_svd, _randomized_svd_gram


def _data(n=300, p=12, offset=3.0, decay=4.0, seed=0):
    """Correlated data with a decaying, well-separated spectrum and an offset mean."""
    rng = np.random.default_rng(seed)
    scales = np.exp(-np.arange(p) / decay) * 5
    Q, _ = np.linalg.qr(rng.normal(size=(p, p)))
    return rng.normal(size=(n, p)) * scales @ Q.T + offset


ATTRS = ["components_", "explained_variance_", "explained_variance_ratio_",
         "singular_values_", "mean_"]


def _assert_same_fit(ours, ref, atol=1e-7):
    assert ours.n_components_ == ref.n_components_
    for attr in ATTRS:
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-7,
                                   atol=atol, err_msg=attr)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-7,
                               atol=atol)


@pytest.mark.parametrize("solver", ["auto", "full", "covariance_eigh", "randomized",
                                    "arpack"])
@pytest.mark.parametrize("shape", [(300, 12), (2000, 30), (40, 90)])
@pytest.mark.parametrize("whiten", [False, True])
def test_parity_with_sklearn(solver, shape, whiten):
    X = _data(*shape)
    k = 5
    params = dict(n_components=k, svd_solver=solver, whiten=whiten, random_state=0)
    ours = PCA(**params).fit(X)
    ref = sk_decomposition.PCA(**params).fit(X)
    _assert_same_fit(ours, ref)
    X_new = _data(*shape, seed=1)[:50]
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), atol=1e-7)
    np.testing.assert_allclose(PCA(**params).fit_transform(X),
                               sk_decomposition.PCA(**params).fit_transform(X), atol=1e-7)
    Z = ref.transform(X_new)
    np.testing.assert_allclose(ours.inverse_transform(Z), ref.inverse_transform(Z),
                               atol=1e-7)
    if shape[0] > shape[1]:  # probabilistic PCA is defined with noise left over
        np.testing.assert_allclose(ours.score_samples(X_new), ref.score_samples(X_new),
                                   rtol=1e-7)
        assert ours.score(X_new) == pytest.approx(ref.score(X_new), rel=1e-7)
    np.testing.assert_allclose(ours.get_covariance(), ref.get_covariance(), atol=1e-7)


@pytest.mark.parametrize("n_components", [None, 0.5, 0.95, 0.999, "mle", 0, 12])
@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
def test_n_components_rules_as_sklearn(n_components, solver):
    X = _data(500, 12)
    ours = PCA(n_components=n_components, svd_solver=solver).fit(X)
    ref = sk_decomposition.PCA(n_components=n_components, svd_solver=solver).fit(X)
    _assert_same_fit(ours, ref)


def test_mle_finds_the_true_rank():
    rng = np.random.default_rng(3)
    signal = rng.normal(size=(1000, 3)) @ rng.normal(size=(3, 10)) * 3
    X = signal + 0.1 * rng.normal(size=(1000, 10))
    assert PCA(n_components="mle").fit(X).n_components_ == 3


@pytest.mark.parametrize("solver", ["auto", "arpack", "covariance_eigh"])
def test_sparse_input_parity(solver):
    X = sp.random(300, 25, density=0.2, format="csr", random_state=0)
    params = dict(n_components=4, svd_solver=solver, random_state=0)
    ours = PCA(**params).fit(X)
    ref = sk_decomposition.PCA(**params).fit(X)
    _assert_same_fit(ours, ref)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-10)


@pytest.mark.parametrize("solver", ["full", "randomized"])
def test_sparse_input_rejected_where_sklearn_rejects_it(solver):
    X = sp.random(30, 5, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="only support sparse inputs"):
        PCA(n_components=2, svd_solver=solver).fit(X)


def test_closed_form_eigendecomposition_of_the_covariance():
    """Components and variances are the eigenpairs of np.cov; Z = Xc V."""
    X = _data(200, 6)
    values, vectors = np.linalg.eigh(np.cov(X, rowvar=False))
    values, vectors = values[::-1], vectors[:, ::-1]
    pca = PCA(svd_solver="full").fit(X)
    np.testing.assert_allclose(pca.explained_variance_, values, rtol=1e-10)
    np.testing.assert_allclose(pca.explained_variance_ratio_, values / values.sum(),
                               rtol=1e-10)
    np.testing.assert_allclose(np.abs(pca.components_ @ vectors), np.eye(6), atol=1e-8)
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(pca.transform(X), Xc @ pca.components_.T, atol=1e-10)
    np.testing.assert_allclose(pca.singular_values_, np.linalg.svd(Xc, compute_uv=False),
                               rtol=1e-10)


def test_reconstruction_error_is_the_discarded_variance():
    X = _data(400, 8)
    for k in range(1, 8):
        pca = PCA(n_components=k, svd_solver="full").fit(X)
        residual = X - pca.inverse_transform(pca.transform(X))
        discarded = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False)))[::-1][k:]
        assert np.sum(residual**2) / (len(X) - 1) == pytest.approx(discarded.sum(),
                                                                     rel=1e-8)
        assert pca.noise_variance_ == pytest.approx(discarded.mean(), rel=1e-8)


def test_sign_convention_and_orthonormality():
    X = _data(300, 10)
    for solver in ("full", "covariance_eigh", "randomized", "arpack"):
        W = PCA(n_components=4, svd_solver=solver, random_state=0).fit(X).components_
        np.testing.assert_allclose(W @ W.T, np.eye(4), atol=1e-10)
        largest = W[np.arange(4), np.argmax(np.abs(W), axis=1)]
        assert np.all(largest > 0), solver


def test_whitened_output_has_unit_variance_and_inverts():
    X = _data(500, 6)
    pca = PCA(whiten=True).fit(X)
    Z = pca.transform(X)
    np.testing.assert_allclose(np.var(Z, axis=0, ddof=1), 1.0, rtol=1e-8)
    np.testing.assert_allclose(pca.inverse_transform(Z), X, atol=1e-8)


def test_precision_is_the_inverse_covariance():
    X = _data(300, 10)
    pca = PCA(n_components=4).fit(X)
    np.testing.assert_allclose(pca.get_precision() @ pca.get_covariance(), np.eye(10),
                               atol=1e-8)
    # score_samples is the Gaussian log-density with that covariance
    from scipy.stats import multivariate_normal

    density = multivariate_normal(mean=pca.mean_, cov=pca.get_covariance())
    np.testing.assert_allclose(pca.score_samples(X[:20]), density.logpdf(X[:20]),
                               rtol=1e-8)


def test_randomized_gram_route_matches_the_direct_route():
    """Same seed, same subspace: the two routes agree to rounding."""
    X = _data(3000, 40, offset=0.0)
    Xc = X - X.mean(axis=0)
    for normalizer in ("auto", "QR", "LU", "none"):
        U1, s1, V1 = _randomized_svd(Xc, 6, n_iter=3,
                                     power_iteration_normalizer=normalizer,
                                     random_state=7)
        U2, s2, V2, trace = _randomized_svd_gram(Xc, 6, n_oversamples=10, n_iter=3,
                                                 power_iteration_normalizer=normalizer,
                                                 random_state=7)
        np.testing.assert_allclose(s1, s2, rtol=1e-9)
        np.testing.assert_allclose(np.abs(V1 @ V2.T), np.eye(6), atol=1e-7)
        assert trace == pytest.approx(np.sum(Xc**2), rel=1e-12)


def test_float32_is_preserved():
    X = _data(200, 6).astype(np.float32)
    for solver in ("full", "covariance_eigh", "randomized", "arpack"):
        pca = PCA(n_components=3, svd_solver=solver, random_state=0).fit(X)
        assert pca.transform(X).dtype == np.float32, solver
        assert pca.components_.dtype == np.float32, solver


def test_copy_false_centres_in_place_and_fit_transform_is_right():
    X = _data(200, 50)[:40]  # wide: the "full" solver centres X in place
    expected = sk_decomposition.PCA(n_components=3).fit_transform(X)
    X_work = X.copy()
    Z = PCA(n_components=3, svd_solver="full", copy=False).fit_transform(X_work)
    np.testing.assert_allclose(Z, expected, atol=1e-8)
    np.testing.assert_allclose(X_work.mean(axis=0), 0.0, atol=1e-10)


def test_feature_names_out():
    pca = PCA(n_components=3).fit(_data(50, 5))
    assert list(pca.get_feature_names_out()) == ["pca0", "pca1", "pca2"]


def test_in_pipeline_and_grid_search():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(PCA(random_state=0), LogisticRegression(max_iter=300))
    grid = GridSearchCV(pipe, {"pca__n_components": [10, 30]}, cv=3).fit(X / 16, y)
    assert grid.best_score_ > 0.9


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("params, match", [
    (dict(n_components=13, svd_solver="full"), "must be between 0 and"),
    (dict(n_components=13, svd_solver="randomized"), "must be between 1 and"),
    (dict(n_components=12, svd_solver="arpack"), "strictly less than"),
    (dict(n_components="mle", svd_solver="randomized"), "cannot be a string"),
    (dict(n_components=-1), "n_components"),
    (dict(svd_solver="lapack"), "svd_solver"),
    (dict(n_oversamples=0), "n_oversamples"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        PCA(**params).fit(_data(100, 12))


def test_mle_needs_more_samples_than_features():
    with pytest.raises(ValueError, match="only supported if n_samples >= n_features"):
        PCA(n_components="mle", svd_solver="full").fit(_data(200, 20)[:10])


def test_bad_input_is_rejected():
    X = _data(50, 4)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PCA().fit(bad)
    pca = PCA(n_components=2).fit(X)
    with pytest.raises(ValueError, match="features"):
        pca.transform(X[:, :3])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PCA().transform(X)


# ---------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), shift=st.floats(-100, 100), scale=st.floats(0.1, 10))
def test_invariances(seed, shift, scale):
    """Row order and a translation leave PCA unchanged; a scaling scales variances."""
    X = _data(60, 5, seed=seed)
    base = PCA(svd_solver="full").fit(X)
    perm = np.random.default_rng(seed).permutation(len(X))
    moved = PCA(svd_solver="full").fit(X[perm] + shift)
    np.testing.assert_allclose(moved.components_, base.components_, atol=1e-6)
    np.testing.assert_allclose(moved.explained_variance_, base.explained_variance_,
                               rtol=1e-6)
    scaled = PCA(svd_solver="full").fit(X * scale)
    np.testing.assert_allclose(scaled.explained_variance_,
                               base.explained_variance_ * scale**2, rtol=1e-6)
    np.testing.assert_allclose(scaled.explained_variance_ratio_,
                               base.explained_variance_ratio_, rtol=1e-6, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 40), p=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_full_rank_round_trip(n, p, seed):
    X = np.random.default_rng(seed).normal(size=(n, p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pca = PCA().fit(X)
    if pca.n_components_ == p:
        np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-8)
    ref = sk_decomposition.PCA().fit(X)
    np.testing.assert_allclose(pca.explained_variance_, ref.explained_variance_,
                               rtol=1e-7, atol=1e-10)

