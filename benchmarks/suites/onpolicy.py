"""PPO and TRPO vs Stable-Baselines3's PPO and sb3-contrib's TRPO on CartPole-v1 (issue 19).

Learning: each agent and its reference are trained with their (identical) default
hyperparameters on one CartPole-v1 env, seeds 0-4, 60k steps, and evaluated at fixed
budgets inside one ``learn`` call by 20 seeded episodes, deterministic and stochastic
(``evaluate`` / ``train_with_checkpoints`` of the ``agents`` suite). Success: PPO >= 475
deterministic and >= 300 stochastic, TRPO >= 450 deterministic. Speed: the same
hyperparameters, both sides interleaved in chunks of 2,048 steps in one process, one
thread. Quick mode (a smoke test, < 20 s of CPU): one seed, one 2,048-step rollout;
the speed rows then read the learning runs' steps/s.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from benchmarks.harness import RunContext, SuiteResult, load_object, single_thread
from benchmarks.report import Column, fmt_ratio, markdown_table, output_paths
from benchmarks.suites.agents import (
    ENV_ID,
    N_EVAL_EPISODES,
    AgentCase,
    _at,
    _fmt_return,
    _pair,
    _sps,
    train_with_checkpoints,
)

SEEDS, QUICK_SEEDS = (0, 1, 2, 3, 4), (0,)
CHECKPOINTS = (10_000, 20_000, 30_000, 45_000, 60_000)
#: environment variable naming a JSON file where finished runs are kept and reused (lets
#: the cases run as separate processes and one last run assemble the report)
CACHE_ENV = "MLNOTES_BENCH_ONPOLICY_CACHE"
SPEED_TARGET = 1.5
SPEED_CHUNK = 2_048


@dataclass(frozen=True)
class OnPolicyCase:
    """An agent against its reference: ``kind`` "rl" (learning) or "speed"."""

    name: str
    ours: str
    reference: str
    kind: str
    budget: int
    det_threshold: float = 0.0
    stoch_threshold: float | None = None
    acceptance: str = ""
    params: dict = field(default_factory=dict)


CASES = [
    OnPolicyCase("PPO", "mlnotes.rl:PPO", "stable_baselines3:PPO", "rl", 60_000, 475.0, 300.0,
                 acceptance="every seed of 0-4: >= 475 deterministic and >= 300 "
                            "stochastic within 60k steps, default hyperparameters"),
    OnPolicyCase("TRPO", "mlnotes.rl:TRPO", "sb3_contrib:TRPO", "rl", 60_000, 450.0,
                 acceptance="every seed of 0-4: >= 450 deterministic within 60k steps, "
                            "default hyperparameters"),
    OnPolicyCase("PPO-speed", "mlnotes.rl:PPO", "stable_baselines3:PPO", "speed", 8_192,
                 acceptance="env steps/s >= 1.5x SB3's PPO (same hyperparameters: the "
                            "defaults, one env)"),
    OnPolicyCase("TRPO-speed", "mlnotes.rl:TRPO", "sb3_contrib:TRPO", "speed", 8_192,
                 acceptance="env steps/s >= 1.5x sb3-contrib's TRPO (same "
                            "hyperparameters: the defaults, one env)"),
]


def _success(case, det, stoch):
    return det >= case.det_threshold and (case.stoch_threshold is None
                                          or stoch >= case.stoch_threshold)


class OnPolicySuite:
    """The ``onpolicy`` suite (see the module docstring); follows ``harness.Suite``."""

    name = "onpolicy"
    description = "PPO and TRPO vs SB3's PPO and sb3-contrib's TRPO on CartPole-v1"
    quick_cases = ["PPO", "TRPO", "PPO-speed", "TRPO-speed"]

    def __init__(self, cases=CASES):
        self.cases = list(cases)

    def case_names(self):
        return [c.name for c in self.cases]

    def describe(self):
        return [f"{c.name}: {c.ours} vs {c.reference} ({c.kind}; {c.budget:,} steps) — "
                f"{c.acceptance}" for c in self.cases]

    def run(self, ctx: RunContext, cases: Sequence[str] | None = None) -> SuiteResult:
        chosen = [c for c in self.cases if cases is None or c.name in cases]
        seeds = QUICK_SEEDS if ctx.quick else SEEDS
        rows, per_seed, curves, failed, done = [], [], {}, False, {}
        with single_thread():
            for case in chosen:
                if ctx.time_left() <= 0:
                    rows.append(dict(case=case.name, status="skipped", verdict="–",
                                     message="time budget spent"))
                    continue
                try:
                    if case.kind == "rl":
                        row = self._run_rl(case, ctx, seeds, per_seed, curves)
                    elif ctx.quick and case.name.removesuffix("-speed") in done:
                        row = _speed_from_learning(done[case.name.removesuffix("-speed")])
                    else:
                        row = self._run_speed(case, ctx)
                except Exception as exc:  # never raise: report the row
                    import traceback

                    traceback.print_exc()
                    row = dict(status="error", message=f"{type(exc).__name__}: {exc}"[:300])
                    failed = True
                row.setdefault("case", case.name)
                row.setdefault("acceptance", case.acceptance)
                rows.append(row)
                done[case.name] = row
                ctx.log(f"  {case.name}: {row.get('verdict', '')} {row.get('status')}")
        # the wall-time axis uses the interleaved rates where a speed row has them (the
        # learning runs' own rates depend on when and beside what they ran)
        for name, sides in curves.items():
            speed = done.get(f"{name}-speed") or {}
            if speed.get("status") == "ok" and not ctx.quick:
                for run in sides.values():
                    run["sps"] = speed["sps_ref"] if run["reference"] else speed["sps_ours"]
        figures = []
        if curves:
            _, png = output_paths(ctx.out_dir, self.name, ctx.quick)
            figures.append(_plot_curves(curves, png, ctx))
        method = [
            f"env: {ENV_ID} (one env); seeds {', '.join(map(str, seeds))}; each seed "
            f"judged by the mean of {N_EVAL_EPISODES} seeded "
            "evaluation episodes (eval env seed 10000 + seed), deterministic and "
            "stochastic, at " + ", ".join(f"{m // 1000}k" for m in _marks(ctx)) + " steps",
            "every agent and its reference with the same (default) hyperparameters; "
            "returns: mean [min–max] over seeds; steps/s of the learning runs exclude "
            "the evaluations",
            f"speed cases: interleaved chunks of {SPEED_CHUNK:,} steps in one process, "
            f"one thread, median over {_speed_repeats(ctx)} repeats (a fresh pair of "
            "agents per repeat, seed = repeat); SBX (sbx-rl, SB3 in JAX; PPO only, it "
            "has no TRPO) is a third side of that alternation, in its own process "
            "(.venv-ref/sbx, benchmarks/sbx_speed.py) at the same defaults, pinned to one "
            "CPU, after one warm-up chunk that compiles it; its time is that of learn "
            "inside its process",
        ]
        method.append(
            "absolute steps/s depend on the machine's load (1-minute load average "
            f"{_load():.1f} on {_cpus()} CPUs when this report was written); the learning "
            "runs' rates are not interleaved (with a run cache they may come from "
            "concurrent processes at different loads), so only the speed rows give a "
            "ratio, and the figure's wall-time axis is steps / the speed row's "
            "interleaved rate")
        if ctx.quick:
            method.append("quick mode: a smoke test (one 2,048-step rollout, one seed; the "
                          "speed rows read the steps/s of those learning runs, not "
                          "interleaved); the verdicts say nothing about the acceptance")
        return SuiteResult(suite=self.name, rows=rows, columns=_columns(), chart=None,
                           title="onpolicy (PPO, TRPO vs Stable-Baselines3 / sb3-contrib)",
                           method=method, summary=_summary(rows, per_seed),
                           figures=figures, failed=failed, ratio_key="speed_ratio",
                           ratio_higher_is_better=True)

    # ------------------------------------------------------------------ cases

    def _run_rl(self, case, ctx, seeds, per_seed, curves):
        marks = _marks(ctx)
        budget = marks[-1]
        try:
            classes = {"ours": load_object(case.ours), "ref": load_object(case.reference)}
        except ImportError as exc:
            return dict(status="not available", message=str(exc), verdict="–")
        agent_case = AgentCase(case.name, case.ours, "rl", budget, budget)
        runs = {"ours": {}, "ref": {}}
        for seed in seeds:
            for side, cls in classes.items():
                key = f"{case.name}|{side}|{seed}|{','.join(map(str, marks))}"
                cached = _cache_get(key)
                if cached is None and _cache_only():
                    continue  # not run in time: left out of the report
                if cached is None:
                    ctx.log(f"    {case.name} {side} seed {seed} ({budget:,} steps)")
                    cached = train_with_checkpoints(cls, agent_case, seed, marks)
                    _cache_put(key, cached)
                runs[side][seed] = cached
                det, stoch = cached["evals"][budget]
                ctx.log(f"    {case.name} {side} seed {seed}: det {det:.1f}, stoch "
                        f"{stoch:.1f}, {cached['steps'] / cached['train_s']:,.0f} steps/s")
        final = {side: {s: _at(r["evals"], budget) for s, r in runs[side].items()}
                 for side in runs}
        none = (None, None)
        for seed in seeds:
            o, r = final["ours"].get(seed, none), final["ref"].get(seed, none)
            per_seed.append(dict(
                case=case.name, seed=seed, det_ours=o[0], stoch_ours=o[1], det_ref=r[0],
                stoch_ref=r[1],
                success_ours=None if o[0] is None else _success(case, *o),
                success_ref=None if r[0] is None else _success(case, *r),
                first_ours=_first_success(case, runs["ours"].get(seed)),
                first_ref=_first_success(case, runs["ref"].get(seed))))
        sps = {side: _sps(runs[side].values()) if runs[side] else None for side in runs}
        for side, label in (("ours", case.name), ("ref", _ref_label(case))):
            if runs[side]:
                curves.setdefault(case.name, {})[label] = dict(
                    evals={s: r["evals"] for s, r in runs[side].items()}, sps=sps[side],
                    reference=side == "ref")
        n_ok = {side: sum(_success(case, *v) for v in final[side].values()) for side in runs}
        n_run = {side: len(final[side]) for side in runs}
        met = n_ok["ours"] == len(seeds)
        message = "" if n_run["ours"] == n_run["ref"] == len(seeds) else (
            f"runs finished in time: ours {n_run['ours']}/{len(seeds)} seeds, reference "
            f"{n_run['ref']}/{len(seeds)}")
        return dict(
            env=ENV_ID, budget=budget, n_seeds=len(seeds),
            det_ours=[v[0] for v in final["ours"].values()],
            stoch_ours=[v[1] for v in final["ours"].values()],
            det_ref=[v[0] for v in final["ref"].values()],
            stoch_ref=[v[1] for v in final["ref"].values()],
            success_ours=n_ok["ours"], success_ref=n_ok["ref"], sps_ours=sps["ours"],
            sps_ref=sps["ref"],
            speed_ratio=None,  # not interleaved: see the speed rows
            status="ok", message=message,
            verdict=f"{'met' if met else 'NOT met'} ({n_ok['ours']}/{n_run['ours']}; "
                    f"reference {n_ok['ref']}/{n_run['ref']})")

    def _run_speed(self, case, ctx):
        from stable_baselines3.common.env_util import make_vec_env

        from benchmarks import sbx_speed
        from benchmarks.suites.offpolicy import _sbx_fields

        budget = SPEED_CHUNK if ctx.quick else case.budget
        try:
            sides = {"ours": load_object(case.ours), "ref": load_object(case.reference)}
        except ImportError as exc:
            return dict(status="not available", message=str(exc), verdict="–")
        with_sbx = (sbx_speed.sbx_name(case.ours) is not None
                    and sbx_speed.wanted(ctx.quick))
        key = f"{case.name}|speed|{budget}|{_speed_repeats(ctx)}" + ("|sbx" if with_sbx
                                                                        else "")
        cached = _cache_get(key)
        if cached is not None:
            return cached
        if _cache_only():
            return dict(status="not run", message="not run in time", verdict="–")
        rates = {"ours": [], "ref": [], "sbx": []}
        sbx_cpu, sbx_note = [], ""
        for rep in range(_speed_repeats(ctx)):
            models = {side: cls("MlpPolicy", make_vec_env(ENV_ID, n_envs=1, seed=rep),
                                seed=rep, device="cpu", **case.params)
                      for side, cls in sides.items()}
            # SBX (JAX) in its own process, a third side of the alternation; its warm-up
            # (one rollout and update) compiles its jitted functions
            sbx, sbx_note = sbx_speed.open_agent(case.ours, ENV_ID, rep, case.params,
                                                 SPEED_CHUNK if with_sbx else 0, ctx.quick,
                                                 ctx.log)
            order = ["ours", "ref"] + (["sbx"] if sbx is not None else [])
            spent = dict.fromkeys(order, 0.0)
            done, turn = 0, 0
            enabled = gc.isenabled()
            gc.disable()
            try:
                while done < budget:
                    shift = turn % len(order)
                    for side in order[shift:] + order[:shift]:
                        if side == "sbx":
                            spent[side] += sbx.learn(SPEED_CHUNK)
                            continue
                        start = time.perf_counter()
                        models[side].learn(SPEED_CHUNK, reset_num_timesteps=False)
                        spent[side] += time.perf_counter() - start
                    done += SPEED_CHUNK
                    turn += 1
            finally:
                if enabled:
                    gc.enable()
                if sbx is not None:
                    sbx.close()
            for side in order:
                rates[side].append(done / spent[side])
            if sbx is not None:
                sbx_cpu.append(min(sbx.thread_shares, default=float("nan")))
            sbx_text = (f", SBX {rates['sbx'][-1]:,.0f} steps/s (busiest thread's share "
                        f"of its CPU time {sbx_cpu[-1]:.2f})" if sbx is not None
                        else f" ({sbx_note})")
            ctx.log(f"    {case.name} repeat {rep}: ours {rates['ours'][-1]:,.0f} steps/s, "
                    f"reference {rates['ref'][-1]:,.0f} steps/s{sbx_text}")
        sps_ours, sps_ref = statistics.median(rates["ours"]), statistics.median(rates["ref"])
        ratio = sps_ours / sps_ref
        per_repeat = [o / r for o, r in zip(rates["ours"], rates["ref"])]
        row = dict(env=ENV_ID, budget=budget, n_seeds=len(per_repeat), sps_ours=sps_ours,
                   sps_ref=sps_ref, speed_ratio=ratio, status="ok", message="",
                   verdict=f"{'met' if ratio >= SPEED_TARGET else 'NOT met'} "
                           f"({ratio:.2f}x; repeats "
                           f"{', '.join(f'{r:.2f}' for r in per_repeat)})")
        if rates["sbx"] and len(rates["sbx"]) == len(per_repeat):
            _sbx_fields(row, rates, sbx_cpu)
        _cache_put(key, row)
        return row


def _cache_only():
    """``MLNOTES_BENCH_ONPOLICY_CACHE_ONLY=1``: report the cached runs, run nothing."""
    import os

    return _cache_path() is not None and os.environ.get(CACHE_ENV + "_ONLY") == "1"


def _cache_path():
    import os

    path = os.environ.get(CACHE_ENV)
    return Path(path) if path else None


def _cache_load():
    import json

    path = _cache_path()
    if path is None or not path.is_file():
        return {}
    return json.loads(path.read_text())


def _cache_get(key):
    value = _cache_load().get(key)
    if value is not None and "evals" in value:  # JSON keys are strings
        value = dict(value, evals={int(m): tuple(v) for m, v in value["evals"].items()})
    return value


def _cache_put(key, value):
    import json
    import os

    path = _cache_path()
    if path is None:
        return
    data = _cache_load()  # re-read: another process may have added runs
    data[key] = value
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _speed_from_learning(row):
    if row.get("status") != "ok":
        return dict(status=row.get("status"), message=row.get("message", ""), verdict="–")
    ratio = row["sps_ours"] / row["sps_ref"]
    return dict(env=ENV_ID, budget=row["budget"], n_seeds=row["n_seeds"],
                sps_ours=row["sps_ours"], sps_ref=row["sps_ref"], speed_ratio=ratio,
                status="ok", message="",
                verdict=f"{'met' if ratio >= SPEED_TARGET else 'NOT met'} ({ratio:.2f}x, "
                        "from the learning runs)")


def _load():
    import os

    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not on every platform
        return float("nan")


def _cpus():
    import os

    return os.cpu_count()


def _marks(ctx):
    return [SPEED_CHUNK] if ctx.quick else list(CHECKPOINTS)


def _speed_repeats(ctx):
    return 1 if ctx.quick else max(1, min(ctx.repeats, 3))


def _ref_label(case):
    return "SB3 PPO" if "stable_baselines3" in case.reference else "sb3-contrib TRPO"


def _first_success(case, run):
    if run is None:
        return None
    evals = run["evals"]
    ok = [m for m in sorted(evals) if _success(case, *evals[m])]
    return ok[0] if ok else None


def _summary(rows, per_seed):
    lines = ["", "**Acceptance** (issue 19):", ""]
    for row in rows:
        lines.append(f"- {row['case']}: {row.get('acceptance', '')} — "
                     f"**{row.get('verdict', row.get('status'))}**")
    if per_seed:
        lines += ["", "**Per seed** (final budget; deterministic / stochastic return; "
                      "first checkpoint meeting the threshold):", ""]
        cols = [
            Column("case", "case"), Column("seed", "seed", align="right"),
            Column("ours det / stoch", value=lambda r: _pair(r["det_ours"], r["stoch_ours"])),
            Column("ours success", value=lambda r: _yes(r["success_ours"])),
            Column("ours first success", value=lambda r: _steps(r["first_ours"])),
            Column("ref det / stoch", value=lambda r: _pair(r["det_ref"], r["stoch_ref"])),
            Column("ref success", value=lambda r: _yes(r["success_ref"])),
            Column("ref first success", value=lambda r: _steps(r["first_ref"])),
        ]
        lines.append(markdown_table(per_seed, cols))
    return lines


def _yes(value):
    return "–" if value is None else ("yes" if value else "no")


def _steps(value):
    return "–" if value is None else f"{value // 1000}k"


def _columns():
    def fmt_int(v):
        return "–" if v is None else f"{v:,.0f}"

    return [
        Column("case", "case"),
        Column("budget", "budget", fmt_int, align="right"),
        Column("seeds / repeats", "n_seeds", align="right"),
        Column("det return ours", value=lambda r: _fmt_return(r.get("det_ours") or [])),
        Column("stoch return ours", value=lambda r: _fmt_return(r.get("stoch_ours") or [])),
        Column("det return ref", value=lambda r: _fmt_return(r.get("det_ref") or [])),
        Column("stoch return ref", value=lambda r: _fmt_return(r.get("stoch_ref") or [])),
        Column("successes ours / ref", value=lambda r: (
            "–" if r.get("success_ours") is None else
            f"{r['success_ours']} / {r['success_ref']}")),
        Column("steps/s ours", "sps_ours", fmt_int, align="right"),
        Column("steps/s ref", "sps_ref", fmt_int, align="right"),
        Column("speed ratio", "speed_ratio", fmt_ratio, align="right"),
        Column("steps/s SBX", "sps_sbx", fmt_int, align="right"),
        Column("SBX / SB3", "sbx_ratio", fmt_ratio, align="right"),
        Column("ours / SBX", "ours_vs_sbx", fmt_ratio, align="right"),
        Column("verdict", "verdict"),
        Column("status", value=lambda r: r.get("status") if not r.get("message")
               else f"{r.get('status')}: {r['message'][:80]}"),
    ]


def _plot_curves(curves, path: Path, ctx) -> Path:
    """Deterministic evaluation return vs env steps and vs training wall time."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(curves), 2, figsize=(11, 3.8 * len(curves)),
                             layout="constrained", squeeze=False)
    for row, (case, sides) in zip(axes, curves.items()):
        for label, run in sides.items():
            evals = run["evals"]
            marks = sorted(set.intersection(*(set(e) for e in evals.values())))
            ys = [[evals[s][m][0] for s in evals] for m in marks]
            mean = [statistics.mean(y) for y in ys]
            lo, hi = [min(y) for y in ys], [max(y) for y in ys]
            style = dict(ls="--", color="black") if run["reference"] else {}
            for ax, xs in ((row[0], marks), (row[1], [m / run["sps"] for m in marks])):
                (line,) = ax.plot(xs, mean, marker="o", label=f"{label} ({len(evals)} "
                                  f"seeds, {run['sps']:,.0f} steps/s)", **style)
                ax.fill_between(xs, lo, hi, alpha=0.15, color=line.get_color())
        for ax, xlabel in ((row[0], "environment steps"),
                           (row[1], "training wall time (s, one thread)")):
            ax.axhline(475 if case == "PPO" else 450, color="grey", lw=0.8, ls=":")
            ax.set_xlabel(xlabel)
            ax.set_title(f"{case} on {ENV_ID}: deterministic evaluation")
            ax.grid(alpha=0.3)
        row[0].set_ylabel("mean return (band: min–max over seeds)")
        row[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"PPO / TRPO vs SB3 / sb3-contrib, default hyperparameters ({ctx.mode} "
                 "mode)")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


SUITE = OnPolicySuite()
