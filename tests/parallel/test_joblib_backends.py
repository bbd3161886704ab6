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


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_clean_shutdown(name, request):
    """The processes a cluster started are gone once it is closed (kept last in the
    file: it closes the module's cluster)."""
    local = request.getfixturevalue(f"{name}_local")
    assert local.started, f"{name} started no process: the check would be empty"
    alive = local.close()
    assert not alive, f"{name} left processes running: {_describe(alive)}"
