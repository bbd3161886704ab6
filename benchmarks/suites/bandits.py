"""The ``bandits`` suite: regret of the exploration policies (chapters 36-37).

Epsilon-greedy, UCB1 and Thompson sampling on Bernoulli arms, Gaussian Thompson
sampling on Gaussian arms and LinUCB on a linear contextual bandit, each over 1,000
independent runs (quick: 100), against the Lai-Robbins asymptotic lower bound and
UCB1's finite-time upper bound. The figure plots the mean cumulative regret curves with
those bounds. Criteria of the exploration issue: UCB1 and Thompson logarithmic,
epsilon-greedy linear, Thompson below UCB1 on Bernoulli arms.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from benchmarks.harness import RunContext, SuiteResult, single_thread
from benchmarks.report import Column

MEANS = (0.3, 0.5, 0.6, 0.65)
HORIZON, QUICK_HORIZON = 10_000, 1_000
RUNS, QUICK_RUNS = 1_000, 100


def _fmt(spec):
    return lambda v: "–" if v is None else spec.format(v)


def _growth(curve):
    """Increment over the last doubling of T divided by the one before (1: log, 2: linear)."""
    T = len(curve)
    return (curve[T - 1] - curve[T // 2 - 1]) / max(curve[T // 2 - 1] - curve[T // 4 - 1],
                                                    1e-12)


class BanditsSuite:
    """Regret curves of the bandit policies; follows ``harness.Suite``."""

    name = "bandits"
    description = "mlnotes.rl.bandits regret vs the Lai-Robbins and UCB1 bounds"
    quick_cases = ("bernoulli",)

    def case_names(self):
        return ["bernoulli", "gaussian", "linear"]

    def describe(self):
        return ["bernoulli: EpsilonGreedy(0.1), UCB1, ThompsonSampling on arms "
                f"{MEANS}", "gaussian: ThompsonSampling('gaussian') on N(mu, 1) arms",
                "linear: LinUCB on a 4-arm, 5-feature linear contextual bandit"]

    def run(self, ctx: RunContext, cases: Sequence[str] | None = None) -> SuiteResult:
        from mlnotes.rl import bandits as bd

        chosen = [c for c in self.case_names() if cases is None or c in cases]
        T = QUICK_HORIZON if ctx.quick else HORIZON
        runs = QUICK_RUNS if ctx.quick else RUNS
        rows, curves = [], {}
        setups = {
            "bernoulli": (bd.BernoulliBandit(MEANS), [
                ("EpsilonGreedy(0.1)", bd.EpsilonGreedy(0.1), "linear"),
                ("UCB1", bd.UCB1(), "log"),
                ("ThompsonSampling", bd.ThompsonSampling(), "log")]),
            "gaussian": (bd.GaussianBandit(MEANS), [
                ("ThompsonSampling(gaussian)", bd.ThompsonSampling("gaussian"), "log")]),
            "linear": (bd.LinearContextualBandit(
                np.random.default_rng(0).normal(size=(4, 5)), noise=0.1), [
                ("LinUCB", bd.LinUCB(), "sublinear")]),
        }
        with single_thread():
            for case in chosen:
                bandit, policies = setups[case]
                for label, policy, expected in policies:
                    ctx.log(f"bandits: {case} {label} ({runs} runs x {T})")
                    start = time.perf_counter()
                    curve = bd.simulate(bandit, policy, T, n_runs=runs,
                                        random_state=0).mean(axis=0)
                    seconds = time.perf_counter() - start
                    curves[(case, label)] = curve
                    growth = _growth(curve)
                    ok = growth > 1.6 if expected == "linear" else growth < 1.4
                    rows.append({"case": case, "policy": label, "regret": curve[-1],
                                 "regret_per_log": curve[-1] / np.log(T),
                                 "growth": growth, "expected": expected,
                                 "verdict": "met" if ok else "not met",
                                 "pulls_per_s": runs * T / seconds})
        lai = float(bd.lai_robbins_bound(MEANS, T))
        ucb = float(bd.ucb1_regret_bound(MEANS, T))
        summary = [f"At T = {T:,}: Lai-Robbins lower bound (asymptotic, ln T x constant) "
                   f"{lai:.1f}; UCB1 upper bound {ucb:.1f}.",
                   "growth = regret added over the last doubling of T / over the previous "
                   "one: about 1 for logarithmic regret, 2 for linear."]
        bern = {r["policy"]: r["regret"] for r in rows if r["case"] == "bernoulli"}
        if "ThompsonSampling" in bern and "UCB1" in bern:
            summary.append(f"Thompson below UCB1 on Bernoulli arms: "
                           f"{'met' if bern['ThompsonSampling'] < bern['UCB1'] else 'not met'}"
                           f" ({bern['ThompsonSampling']:.1f} vs {bern['UCB1']:.1f}).")
        figures = [self._plot(curves, T, ctx)] if curves else []
        columns = [
            Column("case", "case"), Column("policy", "policy"),
            Column("regret at T", "regret", _fmt("{:.1f}"), align="right"),
            Column("regret / ln T", "regret_per_log", _fmt("{:.2f}"), align="right"),
            Column("growth", "growth", _fmt("{:.2f}"), align="right"),
            Column("expected", "expected"), Column("verdict", "verdict"),
            Column("pulls/s", "pulls_per_s", _fmt("{:,.0f}"), align="right"),
        ]
        method = [f"{runs} independent runs of {T:,} pulls each, simulated together "
                  "(vectorised over runs), seed 0; mean cumulative pseudo-regret."]
        return SuiteResult(self.name, rows, columns, title="Bandit regret", method=method,
                           summary=summary, figures=figures, ratio_key=None)

    def _plot(self, curves, T, ctx):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from mlnotes.rl import bandits as bd

        t = np.arange(1, T + 1)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for (case, label), curve in curves.items():
            ax.plot(t, curve, label=f"{label} ({case})")
        ax.plot(t, bd.lai_robbins_bound(MEANS, t), "k--", label="Lai-Robbins (Bernoulli)")
        ax.plot(t, np.minimum(bd.ucb1_regret_bound(MEANS, t), ax.get_ylim()[1]), "k:",
                label="UCB1 bound (clipped)")
        ax.set_xscale("log")
        ax.set_xlabel("pulls T (log scale)")
        ax.set_ylabel("mean cumulative regret")
        ax.legend(fontsize=7)
        ax.set_title(f"Bandit regret, arms {MEANS}")
        fig.tight_layout()
        path = ctx.out_dir / f"bandits-regret{'-quick' if ctx.quick else ''}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


SUITE = BanditsSuite()
