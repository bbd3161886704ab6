r"""
Scaling out: subprocess environments, a search on a joblib backend, data-parallel training
===========================================================================================

Chapter 59 of the notes splits work three ways, and mlnotes uses the standard tool for
each: environment steps run beside the learner (Stable-Baselines3's
``SubprocVecEnv``), independent fits run anywhere (joblib backends: Dask, Ray), and one
model's gradient is computed by several processes on shards of each batch
(:func:`mlnotes.parallel.fit_distributed`, ``torch.distributed``). Data-parallel
training sums the shards' gradients: with a global batch :math:`B` of total weight
:math:`W` cut into shards :math:`B_p`,

.. math::

    \sum_{p=1}^{P} \nabla_\theta \frac{1}{W} \sum_{i \in B_p} w_i \ell_i(\theta)
    = \nabla_\theta \frac{1}{W} \sum_{i \in B} w_i \ell_i(\theta),

so two processes train exactly the model one process trains, up to rounding.
The timings below come from whatever machine builds these docs; the user guide's
"Scaling out" page explains what to expect on a cluster.
"""

import time
import warnings

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

torch.set_num_threads(1)
warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")


class BusyCartPole(gym.Wrapper):
    """CartPole whose every step also burns ``cost_ms`` of CPU (a stand-in for a
    simulator: the env, not the learner, costs the time)."""

    def __init__(self, cost_ms=3.0):
        super().__init__(gym.make("CartPole-v1"))
        self.cost = cost_ms / 1000.0

    def step(self, action):
        end = time.process_time() + self.cost
        while time.process_time() < end:
            pass
        return self.env.step(action)


# %%
# Environment steps per second: one process against one per env
# -------------------------------------------------------------
# ``DummyVecEnv`` steps its envs one after the other in this process;
# ``SubprocVecEnv`` steps each in its own process, so on idle cores two envs step
# in about the time of one. The actions and observations travel through pipes
# (tens of microseconds), small next to a 3 ms step. The processes started here
# import this file again, so the work that starts them sits under the usual
# ``if __name__ == "__main__":`` guard (true when the file runs as a script).
if __name__ == "__main__":
    rates = {}
    for cls in (DummyVecEnv, SubprocVecEnv):
        env = make_vec_env(BusyCartPole, n_envs=2, seed=0, vec_env_cls=cls)
        env.reset()
        actions = np.zeros(2, dtype=np.int64)
        env.step(actions)
        start = time.perf_counter()
        for _ in range(150):
            env.step(actions)
        rates[cls.__name__] = 2 * 150 / (time.perf_counter() - start)
        env.close()
        print(f"{cls.__name__:>13}: {rates[cls.__name__]:6.0f} env steps/s")

# %%
# A grid search on a Dask cluster, with the sequential result
# -----------------------------------------------------------
# Any joblib backend runs scikit-learn's ``GridSearchCV`` over an mlnotes estimator
# unchanged: here a Dask cluster in this process (``processes=False``, quick to start;
# a real cluster is a scheduler's address). Each candidate is fitted on the same folds,
# so the scores are those of the sequential search, to the bit.
import distributed  # noqa: E402
from joblib import parallel_config  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from mlnotes.neighbors import KNeighborsClassifier  # noqa: E402

X, y = make_classification(n_samples=400, n_features=8, n_informative=5, random_state=0)
grid = {"n_neighbors": [1, 5, 15, 30], "weights": ["uniform", "distance"]}
if __name__ == "__main__":
    sequential = GridSearchCV(KNeighborsClassifier(n_jobs=1), grid, cv=3).fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with parallel_config(backend="dask"):
            on_dask = GridSearchCV(KNeighborsClassifier(n_jobs=1), grid, cv=3,
                                   n_jobs=-1).fit(X, y)
    same = np.array_equal(on_dask.cv_results_["mean_test_score"],
                          sequential.cv_results_["mean_test_score"])
    print("best parameters:", on_dask.best_params_, "| same scores as sequential:", same)

# %%
# Data-parallel training: two processes, the weights of one
# ---------------------------------------------------------
# :func:`~mlnotes.parallel.fit_distributed` starts two processes (gloo backend on
# CPUs; ``torchrun`` scripts and GPUs with nccl work too). Each computes the gradient
# of half of every mini-batch and one all-reduce per step sums them, so the two
# processes follow the single-process loss curve.
from mlnotes.neural_network import MLPClassifier  # noqa: E402
from mlnotes.parallel import fit_distributed  # noqa: E402

params = dict(hidden_layer_sizes=(32,), batch_size=64, max_iter=12,
              learning_rate_init=0.01, random_state=0)
if __name__ == "__main__":
    one = MLPClassifier(**params).fit(X, y)
    two = fit_distributed(MLPClassifier(**params), X, y, n_procs=2)
    gap = max((a - b).abs().max().item() for a, b in
              zip(one.module_.parameters(), two.module_.parameters()))
    print(f"largest weight difference, 2 processes vs 1: {gap:.1e}")

# %%
# The two measurements side by side.
if __name__ == "__main__":
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax0.bar(list(rates), list(rates.values()), color=["tab:gray", "tab:blue"])
    ax0.set_ylabel("env steps / s")
    ax0.set_title("2 envs, 3 ms of CPU per step")
    ax1.plot(one.loss_curve_, "o-", label="fit (1 process)")
    ax1.plot(two.loss_curve_, "x--", label="fit_distributed (2 processes)")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax1.set_title(f"same weights (max difference {gap:.0e})")
    ax1.legend()
    fig.tight_layout()
    plt.show()
