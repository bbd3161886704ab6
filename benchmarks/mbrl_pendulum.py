"""Model-based agents (PETS, MBPO) and SAC on Pendulum-v1: return after a step budget.

    python -m benchmarks.mbrl_pendulum --agent PETS --seeds 0 1 2 3 4 --steps 3000
    python -m benchmarks.mbrl_pendulum --agent MBPO --seeds 0 --steps 5000 --checkpoints 1000

PETS: a 64-64 ensemble of 5 members, CEM with horizon 20, 200 candidates, 20 elites,
3 iterations, 5 particles; 200 random steps, model refitted every 200 steps for 20
epochs. MBPO: its defaults (ensemble of 7, 4 x 200 hidden, 20 SAC updates per step,
rollout length 1, 10,000 rollouts every 250 steps) unless ``--gradient-steps`` is given.
SAC: its defaults. Each agent is evaluated deterministically on ``--episodes`` episodes
seeded from 10,000, after the budget and at every ``--checkpoints`` steps; one Markdown
row per evaluation. (A stop-gap until these agents have rows in a benchmark suite.)
"""

import argparse
import time

import gymnasium as gym
import torch
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import MBPO, PETS, SAC

PETS_POLICY_KWARGS = dict(net_arch=(64, 64), horizon=20, n_samples=200, n_elites=20,
                          n_iterations=3, n_particles=5)


def make(agent, seed, gradient_steps=None):
    if agent == "PETS":
        return PETS("MlpPolicy", "Pendulum-v1", seed=seed, learning_starts=200,
                    train_freq=200, n_epochs=20, policy_kwargs=PETS_POLICY_KWARGS)
    kwargs = {} if gradient_steps is None else {"gradient_steps": gradient_steps}
    cls = MBPO if agent == "MBPO" else SAC
    return cls("MlpPolicy", "Pendulum-v1", seed=seed, **kwargs)


def run(agent_name, seed, steps, episodes, checkpoints=None, gradient_steps=None):
    """Yield ``(steps, mean, std, seconds)`` at each checkpoint and at the end."""
    torch.set_num_threads(1)
    agent = make(agent_name, seed, gradient_steps)
    marks = list(range(checkpoints, steps, checkpoints)) if checkpoints else []
    start, done = time.perf_counter(), 0
    for mark in [*marks, steps]:
        agent.learn(mark - done, reset_num_timesteps=done == 0)
        done = mark
        seconds = time.perf_counter() - start
        env = gym.make("Pendulum-v1")
        env.reset(seed=10_000)
        mean, std = evaluate_policy(agent, env, n_eval_episodes=episodes, warn=False)
        yield mark, mean, std, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", choices=("PETS", "MBPO", "SAC"), default="PETS")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--checkpoints", type=int, default=None,
                        help="also evaluate every this many steps")
    parser.add_argument("--gradient-steps", type=int, default=None,
                        help="MBPO/SAC gradient steps per env step (default: the agent's)")
    args = parser.parse_args()
    print("| agent | seed | steps | mean return | std | seconds |\n"
          "|---|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        for steps, mean, std, seconds in run(args.agent, seed, args.steps, args.episodes,
                                             args.checkpoints, args.gradient_steps):
            print(f"| {args.agent} | {seed} | {steps} | {mean:.1f} | {std:.1f} | "
                  f"{seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
