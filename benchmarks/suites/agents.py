"""Agents vs Stable-Baselines3 on CartPole-v1 (issue 6): returns, learning curves, speed.

Every learning agent is trained with its default hyperparameters on the same env, seeds
and step budget as its reference (Stable-Baselines3's ``A2C`` with *its* defaults), and
each seed is judged by the mean return of 20 seeded evaluation episodes with
``deterministic=True`` and with ``deterministic=False`` (a seed succeeds with >= 450 and
>= 300). Evaluations at fixed step budgets happen inside one ``learn`` call (a callback,
so learning-rate schedules see the whole budget); their time is excluded from the
training steps per second. SB3's A2C is trained once per seed up to the largest budget
and read at each case's budget (its learning rate is constant, so the run up to 75k is
the 75k run). A separate speed case times A2C against SB3's A2C with the same
hyperparameters, interleaved in one process.

The imitation learners have no SB3 twin: BC and DAgger learn from a scripted CartPole
controller (the reference column is that expert's own return), and DAgger is also
evaluated with uniform [-1, 1] rad/s pushes of the pole's angular velocity every 25 steps.
Agents are imported by name from ``mlnotes.rl``; a missing one is "not available".
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from benchmarks.harness import RunContext, SuiteResult, load_object, single_thread
from benchmarks.report import Column, fmt_ratio, markdown_table, output_paths

ENV_ID = "CartPole-v1"
SEEDS = (0, 1, 2, 3, 4)
QUICK_SEEDS = (0, 1)
N_EVAL_EPISODES = 20
EVAL_SEED_OFFSET = 10_000
REFERENCE = "stable_baselines3:A2C"
DET_THRESHOLD, STOCH_THRESHOLD = 450.0, 300.0


@dataclass(frozen=True)
class AgentCase:
    """One agent and how it is judged.

    ``kind`` is ``"rl"`` (trained from rewards, compared with SB3's A2C at the same
    budget), ``"bc"`` or ``"dagger"`` (imitation of the scripted expert), or ``"speed"``
    (interleaved timing against ``reference`` with the same hyperparameters).
    ``min_success`` is the fraction of seeds that must succeed; ``budget`` and
    ``quick_budget`` are environment steps (summed over the envs).
    """

    name: str
    ours: str
    kind: str
    budget: int
    quick_budget: int
    n_envs: int | None = None  # None: the env id is passed (one env)
    min_success: float = 0.8
    acceptance: str = ""
    params: dict = field(default_factory=dict)

    def steps(self, quick: bool) -> int:
        return self.quick_budget if quick else self.budget


CASES = [
    # A2C at SB3's defaults (gamma=0.99: unstable on CartPole for both libraries, see
    # the user guide), and with gamma=0.98 (stable); SB3's A2C at its defaults is the
    # reference column of both
    AgentCase("A2C", "mlnotes.rl:A2C", "rl", 100_000, 25_000, n_envs=8, min_success=0.4,
              acceptance=">= 2/5 seeds succeed and no fewer than SB3's A2C minus one "
                         "(both at SB3's defaults, gamma=0.99)"),
    AgentCase("A2C-gamma0.98", "mlnotes.rl:A2C", "rl", 100_000, 25_000, n_envs=8,
              min_success=0.8, params=dict(gamma=0.98),
              acceptance=">= 4/5 seeds succeed with gamma=0.98 (SB3's A2C at gamma=0.99 "
                         "as reference)"),
    AgentCase("REINFORCE", "mlnotes.rl:REINFORCE", "rl", 100_000, 25_000,
              acceptance=">= 4/5 seeds succeed"),
    AgentCase("NPG", "mlnotes.rl:NPG", "rl", 75_000, 25_000,
              acceptance=">= 4/5 seeds succeed"),
    AgentCase("BC", "mlnotes.rl:BC", "bc", 2_000, 2_000, min_success=1.0,
              acceptance="deterministic return >= 450 from 4 expert episodes (every seed)"),
    AgentCase("DAgger", "mlnotes.rl:DAgger", "dagger", 5_000, 5_000, min_success=1.0,
              acceptance=">= 475, and >= 400 with angular-velocity pushes (every seed), "
                         "5k env steps"),
    AgentCase("A2C-speed", "mlnotes.rl:A2C", "speed", 20_000, 10_000, n_envs=8,
              acceptance="env steps/s >= 1.5x SB3's A2C (same hyperparameters, 8 envs)",
              params=dict(learning_rate=7e-4, n_steps=5, gamma=0.99, gae_lambda=1.0,
                          ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, rms_prop_eps=1e-5,
                          use_rms_prop=True, normalize_advantage=False)),
]
SPEED_TARGET = 1.5
SPEED_CHUNK = 2_000


# --------------------------------------------------------------------------- helpers


class ScriptedExpert:
    """CartPole controller: push right iff 0.5 x + 1.5 x' + 20 theta + 3 theta' > 0."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        import numpy as np

        obs = np.asarray(obs, dtype=np.float64)
        return (obs @ np.array([0.5, 1.5, 20.0, 3.0]) > 0).astype(np.int64), state


def _push_wrapper():
    import gymnasium as gym
    import numpy as np

    class AngularVelocityPush(gym.Wrapper):
        """Every ``period`` steps add U[-1, 1] rad/s to the pole's angular velocity."""

        def __init__(self, env, period=25, scale=1.0, seed=0):
            super().__init__(env)
            self.period, self.scale = period, scale
            self.rng = np.random.default_rng(seed)
            self.t = 0

        def reset(self, **kwargs):
            self.t = 0
            return self.env.reset(**kwargs)

        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            self.t += 1
            if self.t % self.period == 0 and not (terminated or truncated):
                state = np.array(self.env.unwrapped.state, dtype=np.float64)
                state[3] += self.rng.uniform(-self.scale, self.scale)
                self.env.unwrapped.state = state
                obs = state.astype(np.float32)
            return obs, reward, terminated, truncated, info

    return AngularVelocityPush


def evaluate(model, seed, deterministic, pushes=False, n_episodes=N_EVAL_EPISODES):
    """Mean return of ``n_episodes`` seeded episodes (SB3's ``evaluate_policy``)."""
    import gymnasium as gym
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    def make():
        env = gym.make(ENV_ID)
        if pushes:
            env = _push_wrapper()(env, seed=EVAL_SEED_OFFSET + seed)
        return Monitor(env)

    env = DummyVecEnv([make])
    env.seed(EVAL_SEED_OFFSET + seed)
    mean, _ = evaluate_policy(model, env, n_eval_episodes=n_episodes,
                              deterministic=deterministic, warn=False)
    env.close()
    return float(mean)


def _checkpoints(budget: int, quick: bool) -> list[int]:
    marks = (5_000, 10_000, 25_000) if quick else (10_000, 25_000, 50_000, 75_000, 100_000)
    return sorted({m for m in marks if m < budget} | {budget})


def _make_env(case: AgentCase, seed: int):
    if case.n_envs is None:
        return ENV_ID
    from stable_baselines3.common.env_util import make_vec_env

    return make_vec_env(ENV_ID, n_envs=case.n_envs, seed=seed)


def train_with_checkpoints(cls, case: AgentCase, seed: int, checkpoints: Sequence[int],
                           params=None):
    """One ``learn`` up to the last checkpoint, evaluating (det. and stoch.) at each.

    Returns ``{"evals": {step: (det, stoch)}, "train_s": seconds without evaluations}``.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class Checkpoints(BaseCallback):
        def __init__(self):
            super().__init__()
            self.todo = list(checkpoints)
            self.evals = {}
            self.eval_s = 0.0

        def _on_step(self):
            while self.todo and self.num_timesteps >= self.todo[0]:
                mark = self.todo.pop(0)
                start = time.perf_counter()
                self.evals[mark] = (evaluate(self.model, seed, True),
                                    evaluate(self.model, seed, False))
                self.eval_s += time.perf_counter() - start
            return True

    model = cls("MlpPolicy", _make_env(case, seed), seed=seed, device="cpu",
                **dict(params or {}))
    callback = Checkpoints()
    start = time.perf_counter()
    model.learn(checkpoints[-1], callback=callback)
    elapsed = time.perf_counter() - start - callback.eval_s
    for mark in callback.todo:  # a budget not reached exactly (steps come in n_envs)
        callback.evals[mark] = (evaluate(model, seed, True), evaluate(model, seed, False))
    return {"evals": callback.evals, "train_s": elapsed, "steps": model.num_timesteps}


def _success(det, stoch):
    return det >= DET_THRESHOLD and stoch >= STOCH_THRESHOLD


def _fmt_return(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    return f"{statistics.mean(values):.0f} [{min(values):.0f}–{max(values):.0f}]"


def _fmt_int(value):
    return "–" if value is None else f"{value:,.0f}"


# --------------------------------------------------------------------------- the suite


class AgentsSuite:
    """The ``agents`` suite (see the module docstring); follows ``harness.Suite``."""

    name = "agents"
    description = "mlnotes.rl agents vs Stable-Baselines3's A2C on CartPole-v1"

    def __init__(self, cases=CASES):
        self.cases = list(cases)

    def case_names(self):
        return [c.name for c in self.cases]

    def describe(self):
        return [f"{c.name}: {c.ours} ({c.kind}; {c.budget:,} steps; quick "
                f"{c.quick_budget:,}) — {c.acceptance}" for c in self.cases]

    # ------------------------------------------------------------------ running

    def run(self, ctx: RunContext, cases: Sequence[str] | None = None) -> SuiteResult:
        chosen = [c for c in self.cases if cases is None or c.name in cases]
        seeds = QUICK_SEEDS if ctx.quick else SEEDS
        rows, per_seed, curves, failed = [], [], {}, False
        reference_runs = {}  # seed -> SB3 A2C run up to the largest rl budget
        with single_thread():
            rl_budget = max([c.steps(ctx.quick) for c in chosen if c.kind == "rl"],
                            default=0)
            for case in chosen:
                if ctx.time_left() <= 0:  # --budget spent: report, do not run
                    rows.append(dict(case=case.name, acceptance=case.acceptance,
                                     status="skipped", verdict="–",
                                     message="time budget (--budget) spent before this case"))
                    continue
                try:
                    if case.kind == "rl":
                        row = self._run_rl(case, ctx, seeds, rl_budget, reference_runs,
                                           per_seed, curves)
                    elif case.kind in ("bc", "dagger"):
                        row = self._run_imitation(case, ctx, seeds, per_seed)
                    else:
                        row = self._run_speed(case, ctx)
                except Exception as exc:  # never raise: report the row
                    import traceback

                    traceback.print_exc()
                    row = dict(case=case.name, status="error",
                               message=f"{type(exc).__name__}: {exc}"[:300])
                    failed = True
                row.setdefault("case", case.name)
                row.setdefault("acceptance", case.acceptance)
                rows.append(row)
                ctx.log(f"  {case.name}: {row.get('verdict', '')} {row.get('status')}")
        figures = []
        if curves:
            _, png = output_paths(ctx.out_dir, self.name, ctx.quick)
            figures.append(_plot_curves(curves, png, ctx))
        summary = self._summary(rows, per_seed, ctx, seeds)
        method = [
            f"env: {ENV_ID}; seeds {', '.join(map(str, seeds))}; each seed judged by "
            f"the mean of {N_EVAL_EPISODES} seeded evaluation episodes (eval env seed "
            f"{EVAL_SEED_OFFSET} + seed), deterministic and stochastic; success = "
            f">= {DET_THRESHOLD:.0f} deterministic and >= {STOCH_THRESHOLD:.0f} stochastic",
            "every agent with its default hyperparameters; reference: Stable-Baselines3 "
            "A2C with its defaults (8 envs), same seeds and budget",
            "returns: mean [min–max] over seeds; steps/s of the learning runs exclude "
            "the evaluations; the speed case runs both with the same hyperparameters, "
            f"interleaved in chunks of {SPEED_CHUNK:,} steps, median of {ctx.repeats} "
            "repeats",
        ]
        if ctx.quick:
            method.append("quick mode: 2 seeds and 25k-step budgets; verdicts indicative "
                          "only")
        return SuiteResult(suite=self.name, rows=rows, columns=_columns(), chart=None,
                           title="agents (mlnotes.rl vs Stable-Baselines3)",
                           method=method, summary=summary, figures=figures, failed=failed)

    def _reference(self, seed, case, ctx, budget, cache):
        if seed not in cache:
            ctx.log(f"    SB3 A2C seed {seed} ({budget:,} steps)")
            ref_case = AgentCase("SB3-A2C", REFERENCE, "rl", budget, budget, n_envs=8)
            cache[seed] = train_with_checkpoints(load_object(REFERENCE), ref_case, seed,
                                                 _checkpoints(budget, ctx.quick))
        return cache[seed]

    def _run_rl(self, case, ctx, seeds, rl_budget, cache, per_seed, curves):
        budget = case.steps(ctx.quick)
        marks = _checkpoints(budget, ctx.quick)
        try:
            cls = load_object(case.ours)
            message = ""
        except ImportError as exc:
            cls, message = None, f"{exc}"
        ours, refs = {}, {}
        for seed in seeds:
            refs[seed] = self._reference(seed, case, ctx, rl_budget, cache)
            if cls is not None:
                ctx.log(f"    {case.name} seed {seed} ({budget:,} steps)")
                ours[seed] = train_with_checkpoints(cls, case, seed, marks, case.params)
        ref_at = {s: _at(r["evals"], budget) for s, r in refs.items()}
        ours_at = {s: r["evals"][budget] for s, r in ours.items()}
        for seed in seeds:
            o = ours_at.get(seed)
            per_seed.append(dict(case=case.name, seed=seed, budget=budget,
                                 det_ours=o and o[0], stoch_ours=o and o[1],
                                 det_ref=ref_at[seed][0], stoch_ref=ref_at[seed][1],
                                 success_ours=None if o is None else _success(*o),
                                 success_ref=_success(*ref_at[seed]),
                                 curve_ours={m: ours[seed]["evals"][m] for m in marks}
                                 if o else None,
                                 curve_ref={m: _at(refs[seed]["evals"], m) for m in marks}))
        curves.setdefault("SB3 A2C", {s: r["evals"] for s, r in refs.items()})
        if ours:
            curves[case.name] = {s: r["evals"] for s, r in ours.items()}
        n_ok_ref = sum(_success(*v) for v in ref_at.values())
        row = dict(case=case.name, env=ENV_ID, budget=budget, n_seeds=len(seeds),
                   det_ref=[v[0] for v in ref_at.values()],
                   stoch_ref=[v[1] for v in ref_at.values()], success_ref=n_ok_ref,
                   sps_ref=_sps(refs.values()))
        if cls is None:
            row.update(status="not available", message=message, verdict="–")
            return row
        n_ok = sum(_success(*v) for v in ours_at.values())
        need = math.ceil(case.min_success * len(seeds) - 1e-9)
        met = n_ok >= need and (not case.name.startswith("A2C") or n_ok >= n_ok_ref - 1)
        row.update(det_ours=[v[0] for v in ours_at.values()],
                   stoch_ours=[v[1] for v in ours_at.values()], success_ours=n_ok,
                   sps_ours=_sps(ours.values()), status="ok", message="",
                   verdict=f"{'met' if met else 'NOT met'} ({n_ok}/{len(seeds)}, "
                           f"SB3 {n_ok_ref}/{len(seeds)})")
        row["speed_ratio"] = row["sps_ours"] / row["sps_ref"]
        return row

    def _run_imitation(self, case, ctx, seeds, per_seed):
        budget = case.steps(ctx.quick)
        expert = ScriptedExpert()
        expert_return = statistics.mean(evaluate(expert, s, True) for s in seeds)
        row = dict(case=case.name, env=ENV_ID, budget=budget, n_seeds=len(seeds),
                   det_ref=[expert_return], success_ref=None)
        try:
            cls = load_object(case.ours)
        except ImportError as exc:
            row.update(status="not available", message=f"{exc}", verdict="–")
            return row
        dets, stochs, pushed, n_ok, times = [], [], [], 0, []
        for seed in seeds:
            ctx.log(f"    {case.name} seed {seed} ({budget:,} expert-labelled steps)")
            model = cls("MlpPolicy", ENV_ID, expert=expert, seed=seed, device="cpu",
                        **case.params)
            start = time.perf_counter()
            model.learn(budget)
            times.append(time.perf_counter() - start)
            det, stoch = evaluate(model, seed, True), evaluate(model, seed, False)
            push = evaluate(model, seed, True, pushes=True) if case.kind == "dagger" else None
            ok = det >= 450 if case.kind == "bc" else (det >= 475 and push >= 400)
            n_ok += ok
            dets.append(det), stochs.append(stoch), pushed.append(push)
            per_seed.append(dict(case=case.name, seed=seed, budget=budget, det_ours=det,
                                 stoch_ours=stoch, push_ours=push, success_ours=ok,
                                 det_ref=expert_return))
        need = math.ceil(case.min_success * len(seeds) - 1e-9)
        row.update(det_ours=dets, stoch_ours=stochs, success_ours=n_ok, status="ok",
                   message="", sps_ours=budget * len(seeds) / sum(times),
                   verdict=f"{'met' if n_ok >= need else 'NOT met'} ({n_ok}/{len(seeds)})")
        if case.kind == "dagger":
            row["push_ours"] = pushed
        return row

    def _run_speed(self, case, ctx):
        import gc

        from stable_baselines3.common.env_util import make_vec_env

        budget = case.steps(ctx.quick)
        ref_cls = load_object(REFERENCE)
        try:
            cls = load_object(case.ours)
        except ImportError as exc:
            return dict(case=case.name, status="not available", message=str(exc),
                        verdict="–")
        sides = {"ours": cls, "ref": ref_cls}
        rates = {"ours": [], "ref": []}
        for rep in range(ctx.repeats):
            models = {}
            for side, klass in sides.items():
                models[side] = klass("MlpPolicy", make_vec_env(ENV_ID, n_envs=case.n_envs,
                                                               seed=rep),
                                     seed=rep, device="cpu", **case.params)
                models[side].learn(400)  # warm-up: lazy imports, first allocations
            spent = {"ours": 0.0, "ref": 0.0}
            done, turn = 0, 0
            enabled = gc.isenabled()
            gc.disable()
            try:
                while done < budget:
                    order = ("ours", "ref") if turn % 2 == 0 else ("ref", "ours")
                    for side in order:
                        start = time.perf_counter()
                        models[side].learn(SPEED_CHUNK, reset_num_timesteps=False)
                        spent[side] += time.perf_counter() - start
                    done += SPEED_CHUNK
                    turn += 1
            finally:
                if enabled:
                    gc.enable()
            for side in sides:
                rates[side].append(done / spent[side])
            ctx.log(f"    speed repeat {rep}: ours {rates['ours'][-1]:,.0f} steps/s, "
                    f"SB3 {rates['ref'][-1]:,.0f} steps/s")
            if ctx.time_left() <= 0:  # --budget: keep the repeats done so far
                ctx.log(f"    time budget spent after {rep + 1} repeat(s)")
                break
        sps_ours, sps_ref = statistics.median(rates["ours"]), statistics.median(rates["ref"])
        ratio = sps_ours / sps_ref
        per_repeat = [o / r for o, r in zip(rates["ours"], rates["ref"])]
        return dict(case=case.name, env=ENV_ID, budget=budget, n_seeds=len(per_repeat),
                    sps_ours=sps_ours, sps_ref=sps_ref, speed_ratio=ratio,
                    rates=rates, per_repeat=per_repeat, status="ok", message="",
                    verdict=f"{'met' if ratio >= SPEED_TARGET else 'NOT met'} "
                            f"({ratio:.2f}x; repeats "
                            f"{', '.join(f'{r:.2f}' for r in per_repeat)})")

    # ------------------------------------------------------------------ report

    def _summary(self, rows, per_seed, ctx, seeds):
        lines = ["", "**Acceptance** (issue 6):", ""]
        for row in rows:
            lines.append(f"- {row['case']}: {row.get('acceptance', '')} — "
                         f"**{row.get('verdict', row.get('status'))}**")
        if per_seed:
            lines += ["", "**Per seed** (final budget; returns deterministic / "
                          f"stochastic, {N_EVAL_EPISODES} episodes each):", ""]
            cols = [
                Column("case", "case"), Column("seed", "seed", align="right"),
                Column("budget", "budget", _fmt_int, align="right"),
                Column("ours det / stoch", value=lambda r: _pair(r.get("det_ours"),
                                                                 r.get("stoch_ours"))),
                Column("ours success", value=lambda r: _yes(r.get("success_ours"))),
                Column("ref det / stoch", value=lambda r: _pair(r.get("det_ref"),
                                                                r.get("stoch_ref"))),
                Column("ref success", value=lambda r: _yes(r.get("success_ref"))),
                Column("ours det at budgets", value=lambda r: _curve(r.get("curve_ours"))),
                Column("SB3 det at budgets", value=lambda r: _curve(r.get("curve_ref"))),
                Column("pushed det", value=lambda r: _num(r.get("push_ours"))),
            ]
            lines.append(markdown_table(per_seed, cols))
        lines += ["", "Reference for BC/DAgger: the scripted expert's own deterministic "
                      "return (no SB3 twin). DAgger's pushes: the wrapper of "
                      "`tests/rl/test_dagger.py` (U[-1, 1] rad/s every 25 steps)."]
        if ctx.quick:
            lines += ["", "Quick mode: the learning budgets (25k steps) are below the "
                          "acceptance budgets (A2C and REINFORCE 100k, NPG 75k); A2C's "
                          "default critic catches up only after ~40k steps, so its quick "
                          "verdict says nothing about the acceptance."]
        return lines


def _at(evals, budget):
    """The evaluation at ``budget`` (the closest checkpoint at or below it)."""
    if budget in evals:
        return evals[budget]
    below = [m for m in evals if m <= budget]
    return evals[max(below)] if below else evals[min(evals)]


def _sps(runs):
    runs = list(runs)
    return sum(r["steps"] for r in runs) / sum(r["train_s"] for r in runs)


def _pair(a, b):
    if a is None:
        return "–"
    return f"{a:.0f} / {b:.0f}" if b is not None else f"{a:.0f}"


def _yes(v):
    return "–" if v is None else ("yes" if v else "no")


def _num(v):
    return "–" if v is None else f"{v:.0f}"


def _curve(curve):
    if not curve:
        return "–"
    return ", ".join(f"{m // 1000}k: {v[0]:.0f}" for m, v in sorted(curve.items()))


def _status_text(row):
    if row.get("status") == "ok":
        return "ok"
    msg = (row.get("message") or "").removeprefix("ImportError: ")
    return f"{row.get('status')}: {msg[:80]}"


def _columns():
    return [
        Column("case", "case"),
        Column("budget", "budget", _fmt_int, align="right"),
        Column("seeds", "n_seeds", align="right"),
        Column("det return ours", value=lambda r: _fmt_return(r.get("det_ours") or [])),
        Column("stoch return ours",
               value=lambda r: _fmt_return(r.get("stoch_ours") or [])),
        Column("det return ref", value=lambda r: _fmt_return(r.get("det_ref") or [])),
        Column("stoch return ref", value=lambda r: _fmt_return(r.get("stoch_ref") or [])),
        Column("successes ours / ref", value=lambda r: (
            "–" if r.get("success_ours") is None and r.get("success_ref") is None else
            f"{_num(r.get('success_ours'))} / {_num(r.get('success_ref'))}")),
        Column("steps/s ours", "sps_ours", _fmt_int, align="right"),
        Column("steps/s ref", "sps_ref", _fmt_int, align="right"),
        Column("speed ratio", "speed_ratio", fmt_ratio, align="right"),
        Column("verdict", "verdict"),
        Column("status", value=_status_text),
    ]


def _plot_curves(curves, path: Path, ctx) -> Path:
    """Mean deterministic evaluation return vs env steps, min–max band over seeds."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained", sharey=True)
    for ax, k, title in ((axes[0], 0, "deterministic"), (axes[1], 1, "stochastic")):
        for label, runs in curves.items():
            marks = sorted(set.intersection(*(set(r) for r in runs.values())))
            ys = [[runs[s][m][k] for s in runs] for m in marks]
            mean = [statistics.mean(y) for y in ys]
            style = dict(ls="--", color="black") if label.startswith("SB3") else {}
            (line,) = ax.plot(marks, mean, marker="o", label=f"{label} ({len(runs)} seeds)",
                              **style)
            ax.fill_between(marks, [min(y) for y in ys], [max(y) for y in ys],
                            alpha=0.15, color=line.get_color())
        ax.axhline(DET_THRESHOLD if k == 0 else STOCH_THRESHOLD, color="grey", lw=0.8,
                   ls=":")
        ax.set_title(f"{ENV_ID}: {title} evaluation ({N_EVAL_EPISODES} episodes)")
        ax.set_xlabel("environment steps")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean return (line: mean over seeds; band: min–max)")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"mlnotes agents vs SB3 A2C, default hyperparameters ({ctx.mode} mode)")
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # a new --out folder
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


SUITE = AgentsSuite()
