"""Tune an agent with Optuna and with Ray Tune: ``python -m benchmarks.parallel_tuning``.

An example of the agents' scikit-learn parameter protocol (issue 16): the search
builds each trial's agent as ``clone(base).set_params(**trial_values)`` (Optuna, in
this process, several trials at once with ``--n-jobs``) or rebuilds it from
``base.get_params()`` inside a Ray worker (Ray Tune, one CPU per trial), trains it for
``--steps`` steps and scores it by ``evaluate_policy``. Prints the best parameters of
each search.

    python -m benchmarks.parallel_tuning --trials 8 --steps 20000
    python -m benchmarks.parallel_tuning --only optuna --trials 3 --steps 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from sklearn.base import clone
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import PPO


def make_base(seed=0):
    """The agent every trial starts from (PPO on CartPole-v1, SB3's defaults)."""
    return PPO("MlpPolicy", "CartPole-v1", seed=seed, device="cpu")


def train_and_score(agent, steps, episodes=10):
    """Train an untrained, configured agent; its mean return over seeded episodes."""
    agent.learn(steps)
    env = agent.get_env()
    env.seed(1234)
    return float(evaluate_policy(agent, env, n_eval_episodes=episodes)[0])


def run_optuna(base, trials, steps, n_jobs=1):
    import optuna

    def objective(trial):
        agent = clone(base).set_params(
            learning_rate=trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True),
            gamma=trial.suggest_float("gamma", 0.9, 0.9999),
            ent_coef=trial.suggest_float("ent_coef", 1e-8, 0.1, log=True))
        return train_and_score(agent, steps)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=trials, n_jobs=n_jobs)
    return study.best_params, study.best_value


def _tune_trainable(config, base_params=None, steps=None):
    from ray import tune

    torch.set_num_threads(1)
    agent = PPO(**base_params).set_params(**config)  # what clone(base) does
    tune.report({"score": train_and_score(agent, steps)})


def run_ray_tune(base, trials, steps, num_cpus=None):
    import ray
    from ray import tune

    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tuner = tune.Tuner(
                tune.with_parameters(_tune_trainable, base_params=base.get_params(),
                                     steps=steps),
                param_space={"learning_rate": tune.loguniform(1e-5, 1e-2),
                             "gamma": tune.uniform(0.9, 0.9999)},
                tune_config=tune.TuneConfig(metric="score", mode="max",
                                            num_samples=trials),
                run_config=tune.RunConfig(storage_path=tmp, verbose=0),
            )
            best = tuner.fit().get_best_result()
            return best.config, best.metrics["score"]
    finally:
        ray.shutdown()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.parallel_tuning",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="optuna,ray", help="optuna, ray or both")
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--n-jobs", type=int, default=1, help="Optuna's parallel trials")
    p.add_argument("--num-cpus", type=int, default=None, help="Ray's CPUs (None: all)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    base = make_base()
    if "optuna" in args.only:
        t = time.perf_counter()
        params, value = run_optuna(base, args.trials, args.steps, args.n_jobs)
        print(f"Optuna:   best {value:.1f} with {params} "
              f"({time.perf_counter() - t:.0f} s)")
    if "ray" in args.only:
        t = time.perf_counter()
        params, value = run_ray_tune(base, args.trials, args.steps, args.num_cpus)
        print(f"Ray Tune: best {value:.1f} with {params} "
              f"({time.perf_counter() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
