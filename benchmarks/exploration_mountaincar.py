"""DQN on MountainCar-v0 with and without an exploration bonus (chapters 36-37).

    python -m benchmarks.exploration_mountaincar --bonus none rnd --seeds 0 1 2 3 4 \\
        --steps 150000 --out /tmp/explore

Every run is :class:`mlnotes.rl.DQN` with the RL-Zoo's MountainCar-v0 hyperparameters
(rl-baselines3-zoo ``hyperparams/dqn.yml``: learning rate 4e-3, batch 128, buffer 10,000,
1,000 learning starts, gamma 0.98, target copied every 600 steps, 8 gradient steps every
16 env steps, epsilon from 1 to 0.07 over the first 20% of the budget, 256-256
network), on a one-env ``make_vec_env`` seeded with the run's seed, optionally wrapped in
:class:`mlnotes.rl.RND` or :class:`mlnotes.rl.CountBonus` (``BONUS`` below; the class
defaults are not changed). ``--exploration default`` replaces the RL-Zoo's epsilon schedule
by the DQN class defaults (SB3's and ours: 1 to 0.05 over the first 10% of the budget), the
issue's "default exploration"; those runs are cached under a ``-default-eps`` name. Every ``--eval-freq`` env steps the greedy policy is evaluated
on 20 episodes of a plain MountainCar-v0 seeded 10,000 to 10,019 (the extrinsic return,
without bonus); a run "reaches the flag" at the first evaluation with mean return >= -150
(the issue's criterion) and, with ``--stop-at-goal`` (default), stops there. Each finished
run is cached as JSON in ``--out`` (a stopped benchmark resumes); the table
``exploration-mountaincar.md`` and figure ``exploration-mountaincar.png`` are written there.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from benchmarks.harness import episode_returns

ROOT = Path(__file__).resolve().parents[1]
GOAL = -150.0
#: rl-baselines3-zoo hyperparams/dqn.yml, MountainCar-v0 (its n_timesteps is 1.2e5)
ZOO = dict(learning_rate=4e-3, batch_size=128, buffer_size=10_000, learning_starts=1_000,
           gamma=0.98, target_update_interval=600, train_freq=16, gradient_steps=8,
           exploration_fraction=0.2, exploration_final_eps=0.07,
           policy_kwargs=dict(net_arch=[256, 256]))
#: epsilon schedules: the RL-Zoo's (in ``ZOO``) or the DQN class defaults (SB3's and ours:
#: 1 to 0.05 over the first 10% of the budget), the issue's "default exploration"
EXPLORATION = ("zoo", "default")
#: bonus wrappers and their arguments (beyond the seed)
BONUS = {"none": None, "rnd": ("RND", {}), "count": ("CountBonus", {"beta": 0.1})}


def evaluate(agent, episodes=20):
    """Mean and std of the extrinsic return of greedy episodes seeded 10,000, ..."""
    returns = episode_returns(agent, "MountainCar-v0", episodes)
    return float(np.mean(returns)), float(np.std(returns))


class _Evaluate(BaseCallback):
    def __init__(self, freq, episodes, stop_at_goal):
        super().__init__()
        self.freq, self.episodes, self.stop_at_goal = freq, episodes, stop_at_goal
        self.history, self.start = [], time.perf_counter()

    def _on_step(self):
        if self.num_timesteps % self.freq:
            return True
        mean, std = evaluate(self.model, self.episodes)
        self.history.append((self.num_timesteps, mean, std, time.perf_counter() - self.start))
        print(f"  {self.num_timesteps:>7} steps: {mean:.1f} +- {std:.1f}", flush=True)
        return not (self.stop_at_goal and mean >= GOAL)


def hyperparameters(exploration):
    """The DQN arguments: ``ZOO``, without its epsilon schedule for ``"default"``."""
    if exploration not in EXPLORATION:
        raise ValueError(f"exploration must be one of {EXPLORATION}, got {exploration!r}")
    kwargs = dict(ZOO)
    if exploration == "default":
        del kwargs["exploration_fraction"], kwargs["exploration_final_eps"]
    return kwargs


def cache_name(bonus, seed, steps, exploration):
    """The run cache's file name (RL-Zoo schedule: the name the first runs were cached as)."""
    tail = "" if exploration == "zoo" else f"-{exploration}-eps"
    return f"mountaincar-{bonus}-{seed}-{steps}{tail}.json"


def run(bonus, seed, steps, eval_freq, episodes, stop_at_goal, exploration="zoo"):
    """One DQN run; returns a dict with the evaluation history and the first goal step."""
    from mlnotes import rl

    torch.set_num_threads(1)
    env = make_vec_env("MountainCar-v0", n_envs=1, seed=seed)
    if BONUS[bonus] is not None:
        name, kwargs = BONUS[bonus]
        env = getattr(rl, name)(env, seed=seed, **kwargs)
    agent = rl.DQN("MlpPolicy", env, seed=seed, **hyperparameters(exploration))
    callback = _Evaluate(eval_freq, episodes, stop_at_goal)
    agent.learn(steps, callback=callback)
    hist = callback.history
    reached = next((s for s, m, _, _ in hist if m >= GOAL), None)
    return {"bonus": bonus, "seed": seed, "steps": steps, "exploration": exploration,
            "history": hist,
            "goal_step": reached, "best": max(m for _, m, _, _ in hist),
            "last": hist[-1][1], "seconds": hist[-1][3]}


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    colours = {"none": "tab:grey", "rnd": "tab:blue", "count": "tab:orange"}
    labelled = set()
    for (exploration, bonus, seed), res in sorted(results.items()):
        steps, means = zip(*[(s, m) for s, m, _, _ in res["history"]])
        label = {"none": "DQN", "rnd": "DQN + RND", "count": "DQN + count"}[bonus]
        style = "-" if exploration == "zoo" else ":"
        if exploration != "zoo":
            label += f" ({exploration} epsilon)"
        ax.plot(steps, means, style, color=colours[bonus], alpha=0.8,
                label=None if label in labelled else label)
        labelled.add(label)
        if res["goal_step"] is not None:
            ax.plot([res["goal_step"]], [means[-1]], "o", color=colours[bonus])
    ax.axhline(GOAL, ls="--", color="k", lw=1, label="goal (-150)")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("greedy return, 20 seeded episodes")
    ax.set_title("MountainCar-v0, DQN (RL-Zoo hyperparameters), one line per seed")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bonus", nargs="+", default=["none", "rnd"], choices=list(BONUS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--exploration", nargs="+", default=["zoo"], choices=EXPLORATION,
                        help="epsilon schedule(s): the RL-Zoo's or the DQN defaults")
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--eval-freq", type=int, default=10_000)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--no-stop-at-goal", dest="stop_at_goal", action="store_false")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "local")
    parser.add_argument("--report-only", action="store_true",
                        help="only tabulate the runs already cached in --out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for exploration in args.exploration:
        for seed in args.seeds:
            for bonus in args.bonus:
                key = exploration, bonus, seed
                cache = args.out / cache_name(bonus, seed, args.steps, exploration)
                if cache.exists():
                    results[key] = json.loads(cache.read_text())
                    continue
                if args.report_only:
                    continue
                print(f"{bonus} seed {seed} ({exploration} epsilon)", flush=True)
                results[key] = run(bonus, seed, args.steps, args.eval_freq, args.episodes,
                                   args.stop_at_goal, exploration)
                cache.write_text(json.dumps(results[key]))
    lines = ["# DQN on MountainCar-v0 with and without an exploration bonus", "",
             f"- command: `python -m benchmarks.exploration_mountaincar {' '.join(sys.argv[1:])}`",
             "- DQN with the RL-Zoo's MountainCar-v0 hyperparameters; bonuses "
             + ", ".join(f"{k}: {v[0]}({v[1] or 'defaults'})" for k, v in BONUS.items()
                         if v and k in args.bonus),
             f"- greedy return over {args.episodes} episodes seeded 10,000+, every "
             f"{args.eval_freq:,} env steps; goal: mean >= {GOAL:.0f} within {args.steps:,}"
             " steps (runs stop at the goal)" if args.stop_at_goal else "",
             "- epsilon: zoo = the RL-Zoo's (1 to 0.07 over the first 20% of the budget),"
             " default = the DQN defaults, SB3's and ours (1 to 0.05 over the first 10%)", "",
             "| epsilon | bonus | seed | first step at goal | best return | last return |"
             " wall s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for (exploration, bonus, seed), res in sorted(results.items(),
                                                  key=lambda kv: (kv[0][0] != "zoo", kv[0])):
        goal = "-" if res["goal_step"] is None else f"{res['goal_step']:,}"
        lines.append(f"| {exploration} | {bonus} | {seed} | {goal} | {res['best']:.1f} |"
                     f" {res['last']:.1f} | {res['seconds']:.0f} |")
    lines.append("")
    for exploration in args.exploration:
        for bonus in args.bonus:
            runs = [r for (e, b, _), r in results.items() if (e, b) == (exploration, bonus)]
            if runs:
                hits = sum(r["goal_step"] is not None for r in runs)
                lines.append(f"- {bonus}, {exploration} epsilon: {hits}/{len(runs)} seeds"
                             " reach the goal")
    (args.out / "exploration-mountaincar.md").write_text("\n".join(lines) + "\n")
    figure(results, args.out / "exploration-mountaincar.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
