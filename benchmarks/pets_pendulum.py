"""PETS on Pendulum-v1: return after a fixed step budget, one process per seed.

    python -m benchmarks.pets_pendulum --seeds 0 1 2 3 4 --steps 3000 --episodes 10

Settings: a 64-64 ensemble of 5 members, CEM with horizon 20, 200 candidates, 20 elites,
3 iterations, 5 particles; 200 random steps, model refitted every 200 steps for 20
epochs. Each seed's agent is evaluated deterministically on ``--episodes`` episodes
seeded from 10,000. (A stop-gap until PETS has a row in a benchmark suite.)
"""

import argparse
import time

import gymnasium as gym
import torch
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import PETS

POLICY_KWARGS = dict(net_arch=(64, 64), horizon=20, n_samples=200, n_elites=20,
                     n_iterations=3, n_particles=5)


def run(seed, steps, episodes):
    torch.set_num_threads(1)
    agent = PETS("MlpPolicy", "Pendulum-v1", seed=seed, learning_starts=200, train_freq=200,
                 n_epochs=20, policy_kwargs=POLICY_KWARGS)
    start = time.perf_counter()
    agent.learn(steps)
    env = gym.make("Pendulum-v1")
    env.reset(seed=10_000)
    mean, std = evaluate_policy(agent, env, n_eval_episodes=episodes, warn=False)
    return mean, std, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--episodes", type=int, default=10)
    args = parser.parse_args()
    print("| seed | steps | mean return | std | seconds |\n|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        mean, std, seconds = run(seed, args.steps, args.episodes)
        print(f"| {seed} | {args.steps} | {mean:.1f} | {std:.1f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
