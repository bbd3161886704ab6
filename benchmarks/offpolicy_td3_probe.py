"""Probe one TD3 run on Pendulum-v1 with RL-Zoo's hyperparameters (issue 19, seed 3).

    python -m benchmarks.offpolicy_td3_probe --agent ours --seed 3 --learning-starts 10000 \\
        --start 11000 --stop 20000 [--stop-at-success]

Every 1,000 steps from ``--start``: the ``offpolicy`` suite's evaluation (mean return of 20
deterministic episodes, eval env seeded 10,000 + seed) and a check of the critic, the
minimum of the twin critics' :math:`Q(s_0, \\pi(s_0))` against the discounted return
(:math:`\\gamma = 0.98`) that the greedy policy then collects from :math:`s_0`, averaged
over 5 start states (seeds 20,000-20,004). One JSON line per evaluation on stdout.
``--agent sb3`` runs Stable-Baselines3's TD3 instead (same interface).
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch

from benchmarks.suites.offpolicy import TD3_ZOO_PENDULUM, _normal_noise, evaluate


def critic_check(model, gamma, n=5):
    """Mean of min_j Q_j(s0, pi(s0)) and of the discounted return collected from s0."""
    env = gym.make("Pendulum-v1")
    qs, returns = [], []
    for episode in range(n):
        obs, _ = env.reset(seed=20_000 + episode)
        with torch.no_grad():
            o = torch.as_tensor(obs[None], dtype=torch.float32)
            qs.append(float(torch.cat(model.critic(o, model.actor(o)), 1).min()))
        total, discount, done = 0.0, 1.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += discount * reward
            discount *= gamma
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(qs)), float(np.mean(returns))


def main(argv=None):
    from stable_baselines3.common.callbacks import BaseCallback

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", choices=("ours", "sb3"), default="ours")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--learning-starts", type=int, default=10_000)
    parser.add_argument("--start", type=int, default=11_000)
    parser.add_argument("--stop", type=int, default=20_000)
    parser.add_argument("--stop-at-success", action="store_true",
                        help="stop at the first evaluation >= -250")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.agent == "ours":
        from mlnotes.rl import TD3
    else:
        from stable_baselines3 import TD3
    params = dict(TD3_ZOO_PENDULUM, learning_starts=args.learning_starts,
                  action_noise=_normal_noise(0.1))

    class Probe(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next, self.start = args.start, time.perf_counter()

        def _on_step(self):
            if self.num_timesteps < self.next:
                return True
            self.next += 1000
            det = evaluate(self.model, "Pendulum-v1", args.seed, True)
            q, ret = critic_check(self.model, params["gamma"])
            print(json.dumps(dict(agent=args.agent, seed=args.seed,
                                  learning_starts=args.learning_starts,
                                  step=self.num_timesteps, det=round(det, 1),
                                  q_s0=round(q, 1), discounted_return_s0=round(ret, 1),
                                  wall_s=round(time.perf_counter() - self.start))),
                  flush=True)
            return not (args.stop_at_success and det >= -250)

    model = TD3("MlpPolicy", "Pendulum-v1", seed=args.seed, device="cpu", **params)
    model.learn(args.stop, callback=Probe())


if __name__ == "__main__":
    main()
