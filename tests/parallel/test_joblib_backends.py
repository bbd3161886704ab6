"""mlnotes estimators on a Dask cluster and a Ray instance through joblib, and a Ray
Tune search over an agent (issue 16).

One local Dask cluster (two worker processes) and one local Ray instance, each
module-scoped (Ray's start-up costs seconds); every test compares the distributed
result with the sequential one, and the last tests check that nothing is left running.
"""

import time

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, KFold

from mlnotes.ensemble import BaggingClassifier, RandomForestClassifier
from mlnotes.neighbors import KNeighborsClassifier
from mlnotes.utils._parallel import active_backend_name, is_external_backend

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")


def _children():
    """This process's descendants, less multiprocessing's resource tracker: one per
    interpreter, started by the first process pool and living until the interpreter
    exits (it owns no worker; it is not a cluster's to stop)."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if "multiprocessing.resource_tracker" not in " ".join(p.cmdline()):
                out.add(p.pid)
        except psutil.Error:
            pass
    return out


def _wait_gone(pids, timeout=30.0):
    """pids among ``pids`` still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {p for p in alive if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE}
        time.sleep(0.2)
    return alive


def _describe(pids):
    out = []
    for pid in sorted(pids):
        try:
            out.append(f"{pid}: {' '.join(psutil.Process(pid).cmdline())[:200]}")
        except psutil.Error:
            out.append(f"{pid}: (gone)")
    return "; ".join(out)


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=600, n_features=8, n_informative=5,
                               random_state=0)


class _Local:
    """A local cluster started by the tests; ``close`` stops it (once) and returns
    the processes it started that are still alive."""

    def __init__(self, name):
        self.name = name
        before = _children()
        if name == "dask":
            self.cluster = distributed.LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
            self.client = distributed.Client(self.cluster)
        else:
            import ray
            from ray.util.joblib import register_ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
            register_ray()
        self.started = _children() - before
        self.alive = None

    def close(self):
        if self.alive is None:
            if self.name == "dask":
                self.client.close()
                self.cluster.close()
            else:
                import ray

                ray.shutdown()
            self.alive = _wait_gone(self.started)
        return self.alive


@pytest.fixture(scope="module")
def dask_local():
    local = _Local("dask")
    yield local
    local.close()


@pytest.fixture(scope="module")
def dask_client(dask_local):
    return dask_local.client


@pytest.fixture(scope="module")
def ray_local():
    pytest.importorskip("ray")
    local = _Local("ray")
    yield local
    local.close()


@pytest.fixture(scope="module")
def ray_backend(ray_local):
    return ray_local


def _grid_search(X, y, n_jobs=None):
    # k-NN over a small grid; n_jobs=1 inside (with None, a Dask backend would also
    # send each candidate's query chunks to the cluster: nested parallelism)
    return GridSearchCV(KNeighborsClassifier(n_jobs=1),
                        {"n_neighbors": [1, 5, 15], "weights": ["uniform", "distance"]},
                        cv=KFold(3, shuffle=True, random_state=0), n_jobs=n_jobs).fit(X, y)


def _same_search(a, b):
    assert a.best_params_ == b.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score",
                "split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key])
    assert a.cv_results_["params"] == b.cv_results_["params"]


def _same_forest(a, b):
    assert len(a.estimators_) == len(b.estimators_)
    for ta, tb in zip(a.estimators_, b.estimators_):
        for attr in ("children_left", "children_right", "feature", "threshold", "value"):
            np.testing.assert_array_equal(getattr(ta.tree_, attr), getattr(tb.tree_, attr))


def test_backend_detection(dask_client):
    assert not is_external_backend()
    assert active_backend_name() == "loky"
    with parallel_config(backend="threading"):
        assert not is_external_backend()
    with parallel_config(backend="dask"):
        assert is_external_backend()
        assert active_backend_name() == "DaskDistributedBackend"


def test_dask_grid_search_same_as_sequential(dask_client, data):
    X, y = data
    sequential = _grid_search(X, y)
    with distributed.get_task_stream(dask_client) as tasks:
        with parallel_config(backend="dask"):
            on_dask = _grid_search(X, y, n_jobs=-1)
    assert len(tasks.data) >= 18  # 6 candidates x 3 folds ran on the cluster
    _same_search(sequential, on_dask)


def test_dask_forest_identical_to_sequential(dask_client, data):
    X, y = data
    params = dict(n_estimators=12, max_depth=6, random_state=3, oob_score=True)
    sequential = RandomForestClassifier(**params).fit(X, y)
    with distributed.get_task_stream(dask_client) as tasks:
        with parallel_config(backend="dask"):
            on_dask = RandomForestClassifier(**params, n_jobs=2).fit(X, y)
            # predictions under the Dask backend (rows split over threads that
            # write into one array: they must stay local)
            proba_dask = on_dask.predict_proba(X)
            leaves_dask = on_dask.apply(X)
    assert len(tasks.data) >= 2
    _same_forest(sequential, on_dask)
    assert on_dask.oob_score_ == sequential.oob_score_
    np.testing.assert_array_equal(proba_dask, sequential.predict_proba(X))
    np.testing.assert_array_equal(leaves_dask, sequential.apply(X))


def test_dask_bagging_and_kneighbors(dask_client, data):
    X, y = data
    bag_params = dict(n_estimators=6, max_samples=0.5, random_state=1)
    sequential = BaggingClassifier(**bag_params).fit(X, y)
    with parallel_config(backend="dask"):
        on_dask = BaggingClassifier(**bag_params, n_jobs=2).fit(X, y)
        proba_dask = on_dask.predict_proba(X)
    _same_forest(sequential, on_dask)
    np.testing.assert_array_equal(proba_dask, sequential.predict_proba(X))

    knn = KNeighborsClassifier(n_neighbors=4, n_jobs=2).fit(X, y)
    dist, ind = KNeighborsClassifier(n_neighbors=4).fit(X, y).kneighbors(X)
    with distributed.get_task_stream(dask_client) as tasks:
        with parallel_config(backend="dask"):
            dist_d, ind_d = knn.kneighbors(X)
    assert len(tasks.data) == 2  # 600 queries in two chunks, one task each
    np.testing.assert_array_equal(ind_d, ind)
    np.testing.assert_array_equal(dist_d, dist)


def test_ray_grid_search_and_forest_same_as_sequential(ray_backend, data):
    X, y = data
    sequential = _grid_search(X, y)
    params = dict(n_estimators=8, max_depth=5, random_state=7)
    forest = RandomForestClassifier(**params).fit(X, y)
    with parallel_config(backend="ray", n_jobs=2):
        assert active_backend_name() == "RayBackend"
        on_ray = _grid_search(X, y, n_jobs=2)
        forest_ray = RandomForestClassifier(**params, n_jobs=2).fit(X, y)
    _same_search(sequential, on_ray)
    _same_forest(forest, forest_ray)


def test_ray_tune_search_over_an_agent(ray_backend, tmp_path):
    pytest.importorskip("ray.tune")
    from ray import tune
    from sklearn.base import clone

    from mlnotes.rl import PPO

    # defined here, not at module level: cloudpickle then ships them by value (Ray's
    # workers cannot import this test module)
    def _agent_score(agent):
        """Train a configured agent briefly; its mean return on 3 seeded episodes."""
        from stable_baselines3.common.evaluation import evaluate_policy

        agent.learn(128)
        env = agent.get_env()
        env.seed(123)
        return float(evaluate_policy(agent, env, n_eval_episodes=3,
                                     deterministic=True)[0])

    def _ray_trainable(config, base_params=None):
        """A Ray Tune function trainable: the agent rebuilt from the base's
        parameters (what ``clone`` does) with the trial's values set, trained, scored."""
        import torch
        from ray import tune

        from mlnotes.rl import PPO

        torch.set_num_threads(1)
        agent = PPO(**base_params).set_params(**config)
        tune.report({"score": _agent_score(agent)})

    base = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=16, n_epochs=2, seed=0,
               device="cpu", policy_kwargs={"net_arch": [16]})
    grid = [3e-4, 3e-3]
    tuner = tune.Tuner(
        tune.with_parameters(_ray_trainable, base_params=base.get_params()),
        param_space={"learning_rate": tune.grid_search(grid)},
        tune_config=tune.TuneConfig(metric="score", mode="max", max_concurrent_trials=2),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
    )
    results = tuner.fit()
    assert not results.errors
    scores = {r.config["learning_rate"]: r.metrics["score"] for r in results}
    assert sorted(scores) == grid
    # each trial's score is what this process gets for the same parameters
    for lr in grid:
        assert scores[lr] == _agent_score(clone(base).set_params(learning_rate=lr))
    assert results.get_best_result().metrics["score"] == max(scores.values())


# ------------------------------------------------- every n_jobs estimator, one cluster
#
# Every mlnotes estimator whose scikit-learn twin has ``n_jobs`` (the table in the user
# guide's "Scaling out" page): its result with ``n_jobs=2`` under the Dask backend equals
# the sequential one, and its parallel work goes where scikit-learn's goes: to the
# cluster ("cluster": joblib calls that prefer threads, a hint a backend overrides) or to
# local threads ("local": calls that require shared memory, or pin the threading backend
# as scikit-learn's pairwise_kernels does, or have nothing to split).


def _reg_target(data):
    X, y = data
    return X @ np.linspace(-1.0, 1.0, X.shape[1]) + 0.1 * y


def _multiclass(data):
    X, _ = data
    return X, np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.7])  # 3 classes


def _n_jobs_cases():
    from scipy import sparse

    from mlnotes.cluster import SpectralClustering
    from mlnotes.decomposition import KernelPCA
    from mlnotes.ensemble import BaggingRegressor, RandomForestRegressor
    from mlnotes.linear_model import (
        LinearRegression,
        LogisticRegression,
        Perceptron,
        SGDClassifier,
    )
    from mlnotes.neighbors import KNeighborsRegressor

    def fit_predict(method):
        return lambda est, X, y: getattr(est.fit(X, y), method)(X)

    def sparse_multi(data):
        X, y = data
        Xs = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
        return Xs, np.c_[_reg_target(data), y, X[:, 0] - X[:, 2]]

    # name: (factory(**n_jobs), data(data), run(est, X, y) -> arrays, where it runs)
    return {
        "RandomForestClassifier": (
            lambda **kw: RandomForestClassifier(n_estimators=6, max_depth=5,
                                                random_state=0, **kw),
            lambda d: d, fit_predict("predict_proba"), "cluster"),
        "RandomForestRegressor": (
            lambda **kw: RandomForestRegressor(n_estimators=6, max_depth=5,
                                               random_state=0, **kw),
            lambda d: (d[0], _reg_target(d)), fit_predict("predict"), "cluster"),
        "BaggingClassifier": (
            lambda **kw: BaggingClassifier(n_estimators=4, random_state=0, **kw),
            lambda d: d, fit_predict("predict_proba"), "cluster"),
        "BaggingRegressor": (
            lambda **kw: BaggingRegressor(n_estimators=4, random_state=0, **kw),
            lambda d: (d[0], _reg_target(d)), fit_predict("predict"), "cluster"),
        "KNeighborsClassifier": (
            lambda **kw: KNeighborsClassifier(n_neighbors=5, **kw),
            lambda d: d, fit_predict("predict_proba"), "cluster"),
        "KNeighborsRegressor": (
            lambda **kw: KNeighborsRegressor(n_neighbors=5, weights="distance", **kw),
            lambda d: (d[0], _reg_target(d)), fit_predict("predict"), "cluster"),
        "SpectralClustering": (
            lambda **kw: SpectralClustering(n_clusters=2, affinity="nearest_neighbors",
                                            random_state=0, **kw),
            lambda d: d, lambda est, X, y: est.fit(X).affinity_matrix_.toarray(),
            "cluster"),
        "LinearRegression": (
            lambda **kw: LinearRegression(**kw),
            sparse_multi, lambda est, X, y: est.fit(X, y).coef_, "cluster"),
        "KernelPCA": (
            lambda **kw: KernelPCA(n_components=3, kernel="rbf", random_state=0, **kw),
            lambda d: d, lambda est, X, y: est.fit(X).transform(X), "local"),
        "SGDClassifier": (
            lambda **kw: SGDClassifier(max_iter=20, tol=None, random_state=0, **kw),
            _multiclass, lambda est, X, y: est.fit(X, y).coef_, "local"),
        "Perceptron": (
            lambda **kw: Perceptron(max_iter=20, tol=None, random_state=0, **kw),
            _multiclass, lambda est, X, y: est.fit(X, y).coef_, "local"),
        "LogisticRegression": (
            lambda **kw: LogisticRegression(**kw),
            _multiclass, lambda est, X, y: est.fit(X, y).coef_, "local"),
    }


_N_JOBS_ESTIMATORS = ("RandomForestClassifier", "RandomForestRegressor",
                      "BaggingClassifier", "BaggingRegressor", "KNeighborsClassifier",
                      "KNeighborsRegressor", "SpectralClustering", "LinearRegression",
                      "KernelPCA", "SGDClassifier", "Perceptron", "LogisticRegression")


def test_the_list_is_every_n_jobs_estimator():
    """The parametrisation below covers every mlnotes estimator with ``n_jobs``, and
    every one whose scikit-learn twin has it."""
    import inspect

    from sklearn.utils import all_estimators as sklearn_estimators

    from mlnotes.utils.discovery import all_estimators

    theirs = dict(sklearn_estimators())
    expected = {name for name, cls in all_estimators()
                if "n_jobs" in inspect.signature(cls).parameters
                or (name in theirs
                    and "n_jobs" in inspect.signature(theirs[name]).parameters)}
    assert expected == set(_N_JOBS_ESTIMATORS) == set(_n_jobs_cases())


def _run_case(name, data, **n_jobs):
    import warnings

    factory, make_data, run, _ = _n_jobs_cases()[name]
    X, y = make_data(data)
    with warnings.catch_warnings():
        # LogisticRegression: scikit-learn's "'n_jobs' has no effect" FutureWarning
        warnings.simplefilter("ignore", FutureWarning)
        return run(factory(**n_jobs), X, y)


@pytest.mark.parametrize("name", _N_JOBS_ESTIMATORS)
def test_n_jobs_estimator_under_dask_same_as_sequential(name, dask_client, data):
    where = _n_jobs_cases()[name][3]
    sequential = _run_case(name, data)
    threads = _run_case(name, data, n_jobs=2)
    with distributed.get_task_stream(dask_client) as tasks:
        with parallel_config(backend="dask"):
            on_dask = _run_case(name, data, n_jobs=2)
    # n_jobs=1 stays in this process although joblib's Dask backend ignores n_jobs
    # (else an estimator inside a search on Dask sends its own tasks: nested)
    with distributed.get_task_stream(dask_client) as tasks_one:
        with parallel_config(backend="dask"):
            one_job = _run_case(name, data, n_jobs=1)
    assert len(tasks_one.data) == 0, f"{name}: n_jobs=1 ran {len(tasks_one.data)} tasks"
    np.testing.assert_array_equal(one_job, sequential)
    # the backend never changes the result; n_jobs may, in the last bits, where the
    # parallel unit splits a sum (bagging averages per chunk of learners, as
    # scikit-learn does) or a BLAS product (KernelPCA's kernel by column blocks)
    np.testing.assert_array_equal(on_dask, threads)
    np.testing.assert_allclose(threads, sequential, rtol=1e-12, atol=1e-12)
    if where == "cluster":
        assert len(tasks.data) >= 2, f"{name}: n_jobs=2 sent nothing to the cluster"
    else:
        assert len(tasks.data) == 0, f"{name}: ran {len(tasks.data)} cluster tasks"


def test_n_jobs_estimators_under_ray_same_as_sequential(ray_backend, data):
    """Spectral clustering's and LinearRegression's tasks on Ray's joblib backend (the
    forests and k-NN run on Ray in the test above). Only two: Ray's backend starts a
    new pool of worker processes for every parallel call, about 3.5 s of CPU per
    worker (imports, kernel cache)."""
    names = ["SpectralClustering", "LinearRegression"]
    assert all(_n_jobs_cases()[n][3] == "cluster" for n in names)
    sequential = {n: _run_case(n, data) for n in names}
    with parallel_config(backend="ray", n_jobs=2):
        assert active_backend_name() == "RayBackend"
        on_ray = {n: _run_case(n, data, n_jobs=2) for n in names}
    threads = {n: _run_case(n, data, n_jobs=2) for n in names}
    for n in names:
        np.testing.assert_array_equal(on_ray[n], threads[n], err_msg=n)
        np.testing.assert_allclose(on_ray[n], sequential[n], rtol=1e-12, atol=1e-12,
                                   err_msg=n)


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_clean_shutdown(name, request):
    """The processes a cluster started are gone once it is closed (kept last in the
    file: it closes the module's cluster)."""
    local = request.getfixturevalue(f"{name}_local")
    assert local.started, f"{name} started no process: the check would be empty"
    alive = local.close()
    assert not alive, f"{name} left processes running: {_describe(alive)}"
