"""scikit-learn's estimator checks over every estimator that mlnotes exposes.

New estimators are picked up automatically through ``all_estimators``. The only
expected failures and test-time parameters allowed are those that scikit-learn's
own test suite lists for its class of the same name
(``sklearn/utils/_test_common/instance_generator.py``); ``test_xfail_matches_sklearn``
keeps the two dictionaries below honest.
"""

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlnotes.utils.discovery import all_estimators

_SW_REASON = "sample_weight is not equivalent to removing/repeating samples."

# scikit-learn's PER_ESTIMATOR_XFAIL_CHECKS for the classes we mirror, reasons verbatim.
EXPECTED_FAILED_CHECKS = {
    # AdaBoostClassifier: scikit-learn lists the two sample-weight-equivalence checks, but
    # SAMME with deterministic stumps passes them (a weight of k is k repeated rows in
    # every round), so they run as ordinary checks here.
    "AdaBoostRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "BaggingClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "BaggingRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "Perceptron": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "SGDClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "SGDRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    # LinearSVC: scikit-learn also lists check_non_transformer_estimators_n_iter, but our
    # n_iter_ is always a positive int, so that check runs as an ordinary one here.
    "LinearSVC": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    # LogisticRegression: scikit-learn lists the two sample-weight-equivalence checks,
    # but ours passes them (the weighted objective is exactly the repeated one), so they
    # run as ordinary checks here.
    "Ridge": {"check_non_transformer_estimators_n_iter": "n_iter_ cannot be easily accessed."},
    # RandomForestClassifier: scikit-learn also lists
    # check_classifiers_one_label_sample_weights, which ours passes.
    "RandomForestClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "RandomForestRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "KMeans": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "SVC": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
    "SVR": {
        "check_sample_weight_equivalence_on_dense_data": _SW_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SW_REASON,
    },
}

# scikit-learn's INIT_PARAMS for the classes we mirror (speed up the checks). A list
# of dicts gives one instance per dict, as scikit-learn does (e.g. a precomputed kernel).
INIT_PARAMS = {
    "AdaBoostClassifier": dict(n_estimators=5),
    "AdaBoostRegressor": dict(n_estimators=5),
    "BaggingClassifier": dict(n_estimators=5),
    "BaggingRegressor": dict(n_estimators=5),
    "SVC": [dict(max_iter=-1), dict(kernel="precomputed")],
    "SVR": [dict(max_iter=-1), dict(kernel="precomputed")],
    "Perceptron": dict(max_iter=5),
    "SGDClassifier": dict(max_iter=5),
    "SGDRegressor": dict(max_iter=5),
    "LinearSVC": dict(max_iter=20),
    "LogisticRegression": dict(max_iter=5),
    "Lasso": dict(max_iter=5),
    "ElasticNet": dict(max_iter=5),
    "BayesianRidge": dict(max_iter=5),
    "RandomForestClassifier": dict(n_estimators=5),
    "RandomForestRegressor": dict(n_estimators=5),
    "MLPClassifier": dict(max_iter=100),
    "MLPRegressor": dict(max_iter=100),
    "GaussianRandomProjection": dict(n_components=2),
    "SparseRandomProjection": dict(n_components=2),
    "KMeans": dict(n_init=2, n_clusters=2, max_iter=5),
    "AgglomerativeClustering": dict(n_clusters=2),
    "SpectralClustering": dict(n_init=2, n_clusters=2),
    "GaussianMixture": dict(n_init=2, max_iter=5),
    # k-NN: scikit-learn's instance-dependent xfails for metric="precomputed"
    # (check_n_features_in_after_fitting, check_dataframe_column_names_consistency)
    # are not listed: ours pass those checks.
    "KNeighborsClassifier": [dict(n_neighbors=2), dict(metric="precomputed")],
    "KNeighborsRegressor": [dict(n_neighbors=2), dict(metric="precomputed")],
}


def _instances():
    for name, cls in all_estimators():
        params = INIT_PARAMS.get(name, {})
        for p in params if isinstance(params, list) else [params]:
            yield cls(**p)


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_discovery_finds_estimators():
    names = [name for name, _ in all_estimators()]
    for expected in ["LinearRegression"]:
        assert expected in names
    assert names == sorted(names)


@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _sklearn_twin(name):
    from sklearn.utils.discovery import all_estimators as sk_all

    return dict(sk_all()).get(name)


def _density_checks():
    from mlnotes.utils.estimator_checks import yield_density_checks

    for name, cls in all_estimators(type_filter="density"):
        est = cls(**INIT_PARAMS.get(name, {}))
        for check in yield_density_checks(est):
            yield pytest.param(name, est, check, id=f"{name}-{check.__name__}")


@pytest.mark.parametrize("name, estimator, check", list(_density_checks()))
def test_density_contract(name, estimator, check):
    """The density checks of CONTRIBUTING.md ("Density models") over every density estimator."""
    check(name, estimator)


@pytest.mark.parametrize("name", sorted(set(EXPECTED_FAILED_CHECKS) | set(INIT_PARAMS)))
def test_xfail_and_params_match_sklearn(name):
    """Every expected failure and test-time parameter here is scikit-learn's own."""
    from sklearn.utils._test_common.instance_generator import (
        INIT_PARAMS as SK_INIT_PARAMS,
    )
    from sklearn.utils._test_common.instance_generator import (
        PER_ESTIMATOR_XFAIL_CHECKS,
    )

    twin = _sklearn_twin(name)
    assert twin is not None, f"{name} has no scikit-learn twin: it may not list expected failures"
    ours = EXPECTED_FAILED_CHECKS.get(name, {})
    theirs = PER_ESTIMATOR_XFAIL_CHECKS.get(twin, {})
    for check, reason in ours.items():
        assert theirs.get(check) == reason, (name, check)
    if name in INIT_PARAMS:
        assert SK_INIT_PARAMS.get(twin) == INIT_PARAMS[name]


def _random_estimators():
    for name, cls in all_estimators():
        if "random_state" in cls().get_params():
            yield name, cls


@pytest.mark.parametrize("name, cls", list(_random_estimators()))
def test_random_state_none_leaves_global_rng_alone(name, cls):
    """``random_state=None`` draws fresh entropy; NumPy's global generator is untouched.

    scikit-learn's estimators draw from (and advance) the global generator; ours
    leave the user's global state as they found it (CONTRIBUTING.md, "Estimators").
    """
    import numpy as np
    from sklearn.base import is_classifier, is_regressor

    rng = np.random.RandomState(0)
    X = rng.randint(0, 4, size=(40, 3)).astype(float)  # integer data: density models too
    y = None
    if is_classifier(cls()):
        y = np.arange(40) % 2
    elif is_regressor(cls()):
        y = rng.randn(40)
    est = cls(random_state=None)
    if "max_iter" in est.get_params():
        est.set_params(max_iter=5)
    if est.get_params().get("n_components") == "auto":  # random projections
        est.set_params(n_components=2)
    before = np.random.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        if hasattr(est, "sample"):
            est.sample(3)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and \
        before[2:] == after[2:], f"{name}(random_state=None) advanced NumPy's global RNG"
