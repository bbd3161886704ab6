"""Run one d3rlpy algorithm on a dataset file (inside ``.venv-ref/d3rlpy``).

    python _d3rlpy_runner.py ALGO DATASET.npz N_STEPS SEED [EPISODES [EVAL_EVERY]]

Prints one JSON line ``{"return": ..., "returns": [...], "seconds": ..., "cpu_seconds": ...}``:
the mean and per-episode returns of EPISODES (default 10) deterministic Pendulum-v1
episodes seeded 10,000, 10,001, ..., and the wall and
process CPU time of the gradient steps. With EVAL_EVERY the policy is also evaluated
every EVAL_EVERY gradient steps (d3rlpy's epochs; the evaluations' time is not counted):
``"checkpoints"`` lists ``{"steps", "return", "returns", "seconds", "cpu_seconds"}``
with the cumulative times. Hyperparameters as documented in :mod:`benchmarks.offline_d3rlpy`.
This file imports only d3rlpy, gymnasium, numpy and torch (not mlnotes).
"""

import json
import sys
import time

import d3rlpy
import gymnasium as gym
import numpy as np
import torch


def config(algo, low, high):
    # d3rlpy's policies act in [-1, 1] (tanh) unless an action scaler maps the env's
    # bounds there; without one its Pendulum policies could not exceed a torque of 1 of 2.
    # mlnotes scales by the action space's bounds, so the same fixed bounds here.
    scaler = d3rlpy.preprocessing.MinMaxActionScaler(minimum=low, maximum=high)
    common = dict(batch_size=256, gamma=0.99, tau=0.005, action_scaler=scaler)
    lr = dict(actor_learning_rate=3e-4, critic_learning_rate=3e-4)
    if algo == "IQL":
        return d3rlpy.algos.IQLConfig(**common, **lr, expectile=0.7, weight_temp=3.0,
                                      max_weight=100.0)
    if algo == "CQL":  # fixed penalty weight (no Lagrangian), as ours
        return d3rlpy.algos.CQLConfig(**common, **lr, conservative_weight=5.0,
                                      n_action_samples=10, alpha_learning_rate=0.0,
                                      temp_learning_rate=3e-4)
    if algo == "TD3BC":
        # standardised observations, as the paper and mlnotes' TD3BC default
        return d3rlpy.algos.TD3PlusBCConfig(
            **common, **lr, alpha=2.5,
            observation_scaler=d3rlpy.preprocessing.StandardObservationScaler())
    if algo == "AWAC":
        # d3rlpy's (and the paper's) AWAC default batch of 1,024; ours has the same default
        return d3rlpy.algos.AWACConfig(**dict(common, batch_size=1024), **lr, lam=1.0,
                                       n_action_samples=1)
    raise ValueError(algo)


def evaluate(agent, episodes):
    env = gym.make("Pendulum-v1")
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        done, total = False, 0.0
        while not done:
            action = agent.predict(np.asarray(obs, dtype=np.float32)[None])[0]
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        returns.append(total)
    return {"return": float(np.mean(returns)), "returns": [float(r) for r in returns]}


def main():
    algo, path, n_steps, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    episodes = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    every = int(sys.argv[6]) if len(sys.argv) > 6 else n_steps
    torch.set_num_threads(1)
    d3rlpy.seed(seed)
    data = np.load(path)
    dataset = d3rlpy.dataset.MDPDataset(
        observations=data["observations"].astype(np.float32),
        actions=data["actions"].astype(np.float32),
        rewards=data["rewards"].astype(np.float32),
        terminals=data["terminals"].astype(np.float32),
        timeouts=data["timeouts"].astype(np.float32))
    space = gym.make("Pendulum-v1").action_space
    agent = config(algo, space.low.astype(np.float32), space.high.astype(np.float32)).create(
        device="cpu:0")
    checkpoints = []
    paused = {"seconds": 0.0, "cpu": 0.0}  # evaluation time, left out of the fit's time

    def at_epoch(algo_, epoch, total_step):
        wall, cpu = time.perf_counter(), time.process_time()
        checkpoints.append({"steps": total_step, **evaluate(agent, episodes),
                            "seconds": wall - start - paused["seconds"],
                            "cpu_seconds": cpu - cpu0 - paused["cpu"]})
        paused["seconds"] += time.perf_counter() - wall
        paused["cpu"] += time.process_time() - cpu

    start, cpu0 = time.perf_counter(), time.process_time()
    agent.fit(dataset, n_steps=n_steps, n_steps_per_epoch=every, show_progress=False,
              save_interval=n_steps + 1, logger_adapter=d3rlpy.logging.NoopAdapterFactory(),
              epoch_callback=at_epoch)
    seconds = time.perf_counter() - start - paused["seconds"]
    cpu = time.process_time() - cpu0 - paused["cpu"]
    last = checkpoints[-1]
    result = {"return": last["return"], "returns": last["returns"], "seconds": seconds,
              "cpu_seconds": cpu}
    if len(checkpoints) > 1:
        result["checkpoints"] = checkpoints
    print(json.dumps(result))


if __name__ == "__main__":
    main()
