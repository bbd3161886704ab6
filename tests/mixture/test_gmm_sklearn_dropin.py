"""GaussianMixture behaviours that scikit-learn's own test files exercise (issue 21).

scikit-learn's ``test_gaussian_mixture_precisions_init`` calls
``GaussianMixture._initialize(X, resp)`` directly: our initialisation took
``(X, random_state, inits)`` and raised a TypeError there.
"""

import numpy as np
import pytest
from sklearn import mixture as sk_mixture

from mlnotes.mixture import GaussianMixture


def _data(seed=0, n=100, d=3, k=4):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    resp = rng.rand(n, k)
    return X, resp / resp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_initialize_from_responsibilities_matches_sklearn(covariance_type):
    X, resp = _data()
    ours = GaussianMixture(n_components=4, covariance_type=covariance_type)
    ref = sk_mixture.GaussianMixture(n_components=4, covariance_type=covariance_type)
    ours._initialize(X, resp)
    ref._initialize(X, resp)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name),
                                   rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_initialize_keeps_the_given_precisions(covariance_type):
    X, resp = _data(seed=1)
    ref = sk_mixture.GaussianMixture(n_components=4, covariance_type=covariance_type)
    ref._initialize(X, resp)
    chol = ref.precisions_cholesky_  # a valid precision of the right shape from it
    if covariance_type == "full":
        precisions = np.einsum("kij,klj->kil", chol, chol)
    elif covariance_type == "tied":
        precisions = chol @ chol.T
    else:
        precisions = chol**2
    ours = GaussianMixture(n_components=4, covariance_type=covariance_type,
                           precisions_init=precisions)
    ours._initialize(X, resp)
    np.testing.assert_allclose(ours.precisions_cholesky_, ref.precisions_cholesky_,
                               rtol=1e-10)


def test_fit_with_every_initial_parameter_given_still_converges_as_sklearn():
    X, _ = _data(seed=2, k=2)
    ref = sk_mixture.GaussianMixture(n_components=2, random_state=0).fit(X)
    init = dict(weights_init=ref.weights_, means_init=ref.means_,
                precisions_init=ref.precisions_)
    ours = GaussianMixture(n_components=2, random_state=0, **init).fit(X)
    again = sk_mixture.GaussianMixture(n_components=2, random_state=0, **init).fit(X)
    np.testing.assert_allclose(ours.means_, again.means_, rtol=1e-7, atol=1e-9)
    assert ours.n_iter_ == again.n_iter_


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_initialize_takes_precisions_init_as_given(covariance_type):
    # scikit-learn's test_gaussian_mixture_precisions_init: default n_components=1,
    # precisions of 4 components; _initialize does not check them against n_components
    X, resp = _data(seed=3)
    ref = sk_mixture.GaussianMixture(n_components=4, covariance_type=covariance_type)
    ref._initialize(X, resp)
    chol = ref.precisions_cholesky_
    precisions = (np.einsum("kij,klj->kil", chol, chol) if covariance_type == "full"
                  else chol**2)
    ours = GaussianMixture(covariance_type=covariance_type, precisions_init=precisions)
    ours._initialize(X, resp)
    np.testing.assert_allclose(ours.precisions_cholesky_, chol, rtol=1e-10)
