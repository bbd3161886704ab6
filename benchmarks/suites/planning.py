"""The ``planning`` suite: model-predictive control with the true model (chapter 33).

CEM, MPPI, random shooting and iLQR-MPC plan on Pendulum-v1 with its exact model
(`mlnotes.rl.planning`), executing the first action and replanning every step. Each
planner is judged by its mean return over seeded evaluation episodes (criterion of the
planning issue: >= -200 over 20 episodes for CEM, MPPI and iLQR-MPC) and its speed in
planned actions per second. There is no library reference: the returns of a trained
SAC (about -150 over random starts, RL-Zoo) are the context.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from benchmarks.harness import RunContext, SuiteResult, single_thread
from benchmarks.report import Column

ENV_ID = "Pendulum-v1"
EPISODES = 20
QUICK_EPISODES = 2
SEED_OFFSET = 10_000
CRITERION = -200.0


@dataclass
class PlannerCase:
    name: str
    factory: str  # attribute of mlnotes.rl
    kwargs: dict = field(default_factory=dict)
    episodes: int = EPISODES
    criterion: float | None = CRITERION


CASES = [
    PlannerCase("CEM", "CEM", {"horizon": 30}),
    PlannerCase("CEM-h50", "CEM", {"horizon": 50}),
    PlannerCase("MPPI", "MPPI", {"horizon": 30}),
    PlannerCase("MPPI-h40-t0.3", "MPPI", {"horizon": 40, "temperature": 0.3}),
    PlannerCase("RandomShooting", "RandomShooting", {"horizon": 30}, criterion=None),
    PlannerCase("iLQR-MPC", "iLQR.for_env", {"horizon": 40}),
]


def _make(case, env):
    import mlnotes.rl as rl

    obj = rl
    for part in case.factory.split("."):
        obj = getattr(obj, part)
    if case.factory == "iLQR.for_env":
        return obj(env, **case.kwargs)
    return obj(env, seed=0, **case.kwargs)


def run_episodes(planner, env, n_episodes):
    returns, steps, start = [], 0, time.perf_counter()
    for ep in range(n_episodes):
        obs, _ = env.reset(seed=SEED_OFFSET + ep)
        planner.reset()
        total, done = 0.0, False
        while not done:
            action, _ = planner.predict(obs)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            steps += 1
            done = terminated or truncated
        returns.append(total)
    return np.array(returns), steps / (time.perf_counter() - start)


def _fmt(spec):
    return lambda v: "–" if v is None else spec.format(v)


class PlanningSuite:
    """Planners with the true Pendulum model; follows ``harness.Suite``."""

    name = "planning"
    description = "mlnotes.rl.planning MPC on Pendulum-v1 with the true model"
    quick_cases = ("CEM", "MPPI")

    def __init__(self, cases=CASES):
        self.cases = list(cases)

    def case_names(self):
        return [c.name for c in self.cases]

    def describe(self):
        return [f"{c.name}: {c.factory}({c.kwargs}) on {ENV_ID}, {c.episodes} episodes "
                f"(quick {QUICK_EPISODES})" for c in self.cases]

    def run(self, ctx: RunContext, cases: Sequence[str] | None = None) -> SuiteResult:
        import gymnasium as gym

        chosen = [c for c in self.cases if cases is None or c.name in cases]
        rows, failed = [], False
        with single_thread():
            for case in chosen:
                n_ep = QUICK_EPISODES if ctx.quick else case.episodes
                ctx.log(f"planning: {case.name} ({n_ep} episodes)")
                row = {"case": case.name, "episodes": n_ep}
                try:
                    env = gym.make(ENV_ID)
                    planner = _make(case, env)
                    returns, sps = run_episodes(planner, env, n_ep)
                    row.update(mean=float(returns.mean()), std=float(returns.std()),
                               worst=float(returns.min()), actions_per_s=sps)
                    if case.criterion is not None:
                        row["verdict"] = "met" if returns.mean() >= case.criterion \
                            else "not met"
                    else:
                        row["verdict"] = "–"
                    if ctx.quick:
                        row["verdict"] += " (indicative)"
                except Exception as exc:  # a failing case is recorded, not raised
                    row.update(status=f"error: {type(exc).__name__}: {exc}")
                    failed = True
                rows.append(row)
        columns = [
            Column("case", "case"),
            Column("episodes", "episodes", _fmt("{:d}"), align="right"),
            Column("mean return", "mean", _fmt("{:.1f}"), align="right"),
            Column("std", "std", _fmt("{:.1f}"), align="right"),
            Column("worst episode", "worst", _fmt("{:.1f}"), align="right"),
            Column("planned actions/s", "actions_per_s", _fmt("{:.1f}"), align="right"),
            Column(f"mean >= {CRITERION:g}", "verdict"),
            Column("status", "status", lambda v: v or "ok"),
        ]
        method = [
            f"Env {ENV_ID}, evaluation episodes seeded {SEED_OFFSET}, {SEED_OFFSET}+1, ...; "
            "each planner replans at every step with the env's exact model (one batched "
            "model call per time step of each search); one thread.",
        ]
        return SuiteResult(self.name, rows, columns, title="Planning with the true model",
                           method=method, failed=failed, ratio_key=None)


SUITE = PlanningSuite()
