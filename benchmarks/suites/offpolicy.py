"""Off-policy agents vs Stable-Baselines3 (issue 19): returns, learning curves, speed.

Table-driven: every row of ``CASES`` is one :class:`OffPolicyCase`.

- ``kind="rl"``: ours and the reference (``reference``, e.g. SB3's ``DQN``) are trained
  with the same hyperparameters ``params`` on ``env_id`` for seeds 0-4, evaluated at
  ``checkpoints`` inside one ``learn`` call (a callback; evaluation time is excluded from
  the steps per second) by the mean return of 20 seeded episodes, deterministic and
  stochastic. A seed succeeds when both reach the row's thresholds. ``ours_params``
  adds settings for ours only (a documented better setting; the defaults stay SB3's);
  the reference runs of identical ``(reference, env, params, seed)`` are shared between
  rows, so a "better setting" row is compared with the reference at the plain setting.
- ``kind="speed"``: ours and the reference with the same hyperparameters, trained in
  alternating chunks of ``SPEED_CHUNK`` steps in one process after a warm-up past
  ``learning_starts``; env steps per second, median over repeats. SBX (SB3 in JAX,
  :mod:`benchmarks.sbx_speed`) is a third side of the alternation where it has the
  algorithm, in its own process and virtual environment (``.venv-ref/sbx``).

Long learning runs can be spread over processes and sessions: ``$OFFPOLICY_CACHE`` names
a JSON file of finished runs (keyed by agent, env, seed, checkpoints and parameters),
``$OFFPOLICY_SEEDS`` (e.g. ``3`` or ``0,1,2``) runs some seeds only, and
``OFFPOLICY_CACHE_ONLY=1`` writes the report from the cache alone (a run not in it is
"not run"; the row names the seeds it has).

To add an algorithm (SAC, TD3, DDPG), append rows: the env, thresholds and budgets are
per row. Agents are imported by dotted name; a missing one is "not available".
"""

from __future__ import annotations

import copy
import gc
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import RunContext, SuiteResult, load_object, single_thread
from benchmarks.report import Column, fmt_ratio, markdown_table, output_paths

SEEDS = (0, 1, 2, 3, 4)
QUICK_SEEDS = (0,)
N_EVAL_EPISODES = 20
EVAL_SEED_OFFSET = 10_000
SPEED_CHUNK = 2_048
SPEED_TARGET = 1.5

#: RL-Zoo's CartPole-v1 hyperparameters for DQN (rl-baselines3-zoo, hyperparams/dqn.yml)
DQN_ZOO_CARTPOLE = dict(
    learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
    gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
    exploration_fraction=0.16, exploration_final_eps=0.04,
    policy_kwargs=dict(net_arch=[256, 256]),
)


def _normal_noise(std, dim=1):
    import numpy as np
    from stable_baselines3.common.noise import NormalActionNoise

    return NormalActionNoise(np.zeros(dim), std * np.ones(dim))


#: RL-Zoo's Pendulum-v1 hyperparameters (hyperparams/sac.yml: the learning rate only)
SAC_ZOO_PENDULUM = dict(learning_rate=1e-3)
#: RL-Zoo's Pendulum-v1 hyperparameters for TD3 (td3.yml; ddpg.yml has the same)
TD3_ZOO_PENDULUM = dict(
    learning_rate=1e-3, gamma=0.98, buffer_size=200_000, learning_starts=10_000,
    train_freq=(1, "episode"), gradient_steps=-1, action_noise=_normal_noise(0.1),
    policy_kwargs=dict(net_arch=[400, 300]),
)
#: RL-Zoo's Pendulum-v1 hyperparameters for DDPG (ddpg.yml: TD3's), with the one critic
#: that DDPG always has written out: SB3's DDPG adds ``n_critics=1`` to the
#: ``policy_kwargs`` dict it is given, so the run-cache keys of earlier sessions carry it
DDPG_ZOO_PENDULUM = dict(TD3_ZOO_PENDULUM,
                         policy_kwargs=dict(net_arch=[400, 300], n_critics=1))


@dataclass(frozen=True)
class OffPolicyCase:
    """One row: an agent, its reference, the env, the budget and how it is judged."""

    name: str
    ours: str
    reference: str
    kind: str  # "rl" or "speed"
    env_id: str
    budget: int
    quick_budget: int
    params: dict = field(default_factory=dict)
    ours_params: dict = field(default_factory=dict)
    det_threshold: float = 0.0
    stoch_threshold: float = 0.0
    min_success: float = 1.0
    checkpoints: tuple = ()
    acceptance: str = ""

    def steps(self, quick: bool) -> int:
        return self.quick_budget if quick else self.budget


def _lin_schedule(start, end=0.0):
    from mlnotes.rl.common.schedules import LinearSchedule

    return LinearSchedule(start, end)


CASES = [
    OffPolicyCase(
        "DQN-zoo", "mlnotes.rl:DQN", "stable_baselines3:DQN", "rl", "CartPole-v1",
        50_000, 2_000, params=DQN_ZOO_CARTPOLE, det_threshold=400, stoch_threshold=400,
        checkpoints=(10_000, 20_000, 30_000, 40_000, 50_000),
        acceptance="RL-Zoo hyperparameters: det and stoch >= 400 at 50k on every seed "
                   "(SB3 itself does not)"),
    OffPolicyCase(
        "DQN-zoo-lr-decay", "mlnotes.rl:DQN", "stable_baselines3:DQN", "rl", "CartPole-v1",
        50_000, 2_000, params=DQN_ZOO_CARTPOLE,
        ours_params=dict(learning_rate=("lin", 2.3e-3)),
        det_threshold=400, stoch_threshold=400,
        checkpoints=(10_000, 20_000, 30_000, 40_000, 50_000),
        acceptance="documented better setting (learning rate decayed linearly to 0): "
                   ">= 400 det and stoch at 50k on every seed"),
    OffPolicyCase(
        "DQN-zoo-double", "mlnotes.rl:DQN", "stable_baselines3:DQN", "rl", "CartPole-v1",
        50_000, 2_000, params=DQN_ZOO_CARTPOLE, ours_params=dict(double_q=True),
        det_threshold=400, stoch_threshold=400,
        checkpoints=(10_000, 20_000, 30_000, 40_000, 50_000),
        acceptance="option beyond SB3 (double_q=True), same hyperparameters otherwise"),
    OffPolicyCase(
        "DQN-zoo-nstep3", "mlnotes.rl:DQN", "stable_baselines3:DQN", "rl", "CartPole-v1",
        50_000, 2_000, params=DQN_ZOO_CARTPOLE, ours_params=dict(n_steps=3),
        det_threshold=400, stoch_threshold=400,
        checkpoints=(10_000, 20_000, 30_000, 40_000, 50_000),
        acceptance="3-step returns (SB3's n_steps, not a default): one Bellman backup per "
                   "training phase only lifts Q to (1 - 0.99^k)/(1 - 0.99) after k phases "
                   "(79 of 100 at 40k); 3-step targets contract 3x faster"),
    OffPolicyCase(
        "DQN-zoo-nstep3-lr-decay", "mlnotes.rl:DQN", "stable_baselines3:DQN", "rl",
        "CartPole-v1", 50_000, 2_000,
        params=dict(DQN_ZOO_CARTPOLE, learning_rate=("lin", 2.3e-3), n_steps=3),
        det_threshold=400, stoch_threshold=400,
        checkpoints=(10_000, 20_000, 30_000, 40_000, 50_000),
        acceptance="documented better setting for both libraries (SB3's own n_steps=3 and "
                   "the learning rate decayed linearly to 0, RL-Zoo's otherwise): "
                   ">= 400 det and stoch at 50k on every seed"),
    OffPolicyCase(
        "DQN-speed", "mlnotes.rl:DQN", "stable_baselines3:DQN", "speed", "CartPole-v1",
        6_144, 1_024, params=DQN_ZOO_CARTPOLE,
        acceptance="env steps/s >= 1.5x SB3's DQN (same hyperparameters, one thread)"),
    # continuous control on Pendulum-v1 (chapters 41-42): RL-Zoo's hyperparameters
    OffPolicyCase(
        "SAC-zoo", "mlnotes.rl:SAC", "stable_baselines3:SAC", "rl", "Pendulum-v1",
        15_000, 2_000, params=SAC_ZOO_PENDULUM, det_threshold=-250, stoch_threshold=-250,
        checkpoints=(5_000, 10_000, 15_000),
        acceptance="RL-Zoo hyperparameters: det and stoch >= -250 at 15k on every seed"),
    OffPolicyCase(
        "TD3-zoo", "mlnotes.rl:TD3", "stable_baselines3:TD3", "rl", "Pendulum-v1",
        15_000, 2_000, params=TD3_ZOO_PENDULUM, det_threshold=-250, stoch_threshold=-250,
        checkpoints=(11_000, 13_000, 15_000),
        acceptance="RL-Zoo hyperparameters: det and stoch >= -250 at 15k on every seed"),
    OffPolicyCase(
        "TD3-zoo-ls1000", "mlnotes.rl:TD3", "stable_baselines3:TD3", "rl", "Pendulum-v1",
        15_000, 2_000, params=dict(TD3_ZOO_PENDULUM, learning_starts=1_000),
        det_threshold=-250, stoch_threshold=-250, checkpoints=(5_000, 10_000, 15_000),
        acceptance="documented better setting for both libraries (learning_starts=1_000, "
                   "RL-Zoo's otherwise): det and stoch >= -250 at 15k on every seed"),
    OffPolicyCase(
        "DDPG-zoo", "mlnotes.rl:DDPG", "stable_baselines3:DDPG", "rl", "Pendulum-v1",
        20_000, 2_000, params=DDPG_ZOO_PENDULUM, det_threshold=-300, stoch_threshold=-300,
        checkpoints=(11_000, 15_000, 20_000),
        acceptance="RL-Zoo hyperparameters: det and stoch >= -300 at 20k on every seed"),
    OffPolicyCase(
        "SAC-speed", "mlnotes.rl:SAC", "stable_baselines3:SAC", "speed", "Pendulum-v1",
        4_096, 1_024, acceptance="env steps/s >= 1.5x SB3's SAC (SB3's defaults, one thread)"),
    OffPolicyCase(
        "TD3-speed", "mlnotes.rl:TD3", "stable_baselines3:TD3", "speed", "Pendulum-v1",
        4_096, 1_024, acceptance="env steps/s >= 1.5x SB3's TD3 (SB3's defaults, one thread)"),
    OffPolicyCase(
        "DDPG-speed", "mlnotes.rl:DDPG", "stable_baselines3:DDPG", "speed", "Pendulum-v1",
        4_096, 1_024,
        acceptance="env steps/s >= 1.5x SB3's DDPG (SB3's defaults, one thread)"),
]


def _resolve(params):
    """Turn ``("lin", start)`` markers into schedules (kept as data in the table)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "lin":
            value = _lin_schedule(value[1])
        out[key] = value
    return out


# --------------------------------------------------------------------------- helpers


def evaluate(model, env_id, seed, deterministic, n_episodes=N_EVAL_EPISODES):
    """Mean return of ``n_episodes`` seeded episodes (SB3's ``evaluate_policy``)."""
    import gymnasium as gym
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = DummyVecEnv([lambda: Monitor(gym.make(env_id))])
    env.seed(EVAL_SEED_OFFSET + seed)
    mean, _ = evaluate_policy(model, env, n_eval_episodes=n_episodes,
                              deterministic=deterministic, warn=False)
    env.close()
    return float(mean)


def train_with_checkpoints(cls, env_id, seed, checkpoints, params):
    """One ``learn`` up to the last checkpoint, evaluating (det. and stoch.) at each.

    Returns ``{"evals": {step: (det, stoch)}, "wall": {step: train seconds},
    "train_s": seconds without evaluations, "steps": steps taken}``.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class Checkpoints(BaseCallback):
        def __init__(self):
            super().__init__()
            self.todo = list(checkpoints)
            self.evals, self.wall = {}, {}
            self.eval_s = 0.0
            self.start = time.perf_counter()

        def _on_step(self):
            while self.todo and self.num_timesteps >= self.todo[0]:
                mark = self.todo.pop(0)
                start = time.perf_counter()
                self.wall[mark] = start - self.start - self.eval_s
                self.evals[mark] = (evaluate(self.model, env_id, seed, True),
                                    evaluate(self.model, env_id, seed, False))
                self.eval_s += time.perf_counter() - start
                _progress(dict(agent=label, env=env_id, seed=seed, step=mark,
                               det=self.evals[mark][0], stoch=self.evals[mark][1],
                               train_s=self.wall[mark]))
            return True

    label = cls if isinstance(cls, str) else f"{cls.__module__}:{cls.__name__}"
    label = f"{label} {sorted(params.items())!r}"[:300]
    if isinstance(cls, str):
        import torch

        torch.set_num_threads(1)
        cls = load_object(cls)
    # a copy: SB3's DDPG writes into the policy_kwargs it is given (the table's data)
    model = cls("MlpPolicy", env_id, seed=seed, device="cpu",
                **_resolve(copy.deepcopy(params)))
    callback = Checkpoints()
    callback.start = time.perf_counter()
    model.learn(checkpoints[-1], callback=callback)
    elapsed = time.perf_counter() - callback.start - callback.eval_s
    for mark in callback.todo:  # a budget not reached exactly
        callback.wall[mark] = elapsed
        callback.evals[mark] = (evaluate(model, env_id, seed, True),
                                evaluate(model, env_id, seed, False))
    return {"evals": callback.evals, "wall": callback.wall, "train_s": elapsed,
            "steps": model.num_timesteps}


def _progress(record):
    """Append one evaluation to ``$OFFPOLICY_PROGRESS`` (JSON lines) when it is set, so
    that long runs leave their checkpoints behind as they go."""
    import json
    import os

    path = os.environ.get("OFFPOLICY_PROGRESS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def _seeds():
    """``SEEDS``, or the comma-separated ``$OFFPOLICY_SEEDS`` (a part of a long run)."""
    import os

    value = os.environ.get("OFFPOLICY_SEEDS")
    return tuple(int(v) for v in value.split(",")) if value else SEEDS


def _marks(case, quick):
    budget = case.steps(quick)
    if quick:
        return [budget]
    return sorted({m for m in case.checkpoints if m < budget} | {budget})


def _fmt_return(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    return f"{statistics.mean(values):.0f} [{min(values):.0f}–{max(values):.0f}]"


def _fmt_int(value):
    return "–" if value is None else f"{value:,.0f}"


def _sps(runs):
    runs = list(runs)
    return sum(r["steps"] for r in runs) / sum(r["train_s"] for r in runs)


def _seed_list(runs):
    return ", ".join(map(str, sorted(runs))) or "none"


# --------------------------------------------------------------------------- run cache


class NotRun(Exception):
    """A learning run absent from the cache of a cache-only report."""


def _cache_path():
    """``$OFFPOLICY_CACHE``: a JSON file of finished learning runs, shared by processes
    (so that long runs can be spread over separate invocations, e.g. one per seed with
    ``OFFPOLICY_SEEDS``, and the report assembled by one more with
    ``OFFPOLICY_CACHE_ONLY=1``)."""
    import os

    path = os.environ.get("OFFPOLICY_CACHE")
    return Path(path) if path else None


def _cache_key(cls, env_id, seed, checkpoints, params):
    return f"{cls}|{env_id}|{seed}|{list(checkpoints)}|{sorted(params.items())!r}"


def _cache_load():
    import json

    path = _cache_path()
    if path is None or not path.is_file():
        return {}
    return json.loads(path.read_text())


def _cache_get(key):
    value = _cache_load().get(key)
    if value is not None:  # JSON object keys are strings
        value = dict(value, evals={int(m): tuple(v) for m, v in value["evals"].items()},
                     wall={int(m): v for m, v in value["wall"].items()})
    return value


def _cache_put(key, value):
    import fcntl
    import json
    import os

    path = _cache_path()
    if path is None:
        return
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = _cache_load()  # re-read: another process may have added runs
        data[key] = value
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)


def cached_train(cls, env_id, seed, checkpoints, params):
    """:func:`train_with_checkpoints` through the run cache (``$OFFPOLICY_CACHE``)."""
    import os

    key = _cache_key(cls, env_id, seed, checkpoints, params)
    found = _cache_get(key)
    if found is not None:
        return found
    if os.environ.get("OFFPOLICY_CACHE_ONLY") == "1":
        raise NotRun(key)
    result = train_with_checkpoints(cls, env_id, seed, checkpoints, params)
    _cache_put(key, result)
    return result


# --------------------------------------------------------------------------- the suite


class OffPolicySuite:
    """The ``offpolicy`` suite (see the module docstring); follows ``harness.Suite``."""

    name = "offpolicy"
    description = "mlnotes.rl off-policy agents vs Stable-Baselines3 (DQN, ...)"

    def __init__(self, cases=CASES):
        self.cases = list(cases)

    def case_names(self):
        return [c.name for c in self.cases]

    def describe(self):
        return [f"{c.name}: {c.ours} vs {c.reference} on {c.env_id} ({c.kind}; "
                f"{c.budget:,} steps; quick {c.quick_budget:,}) — {c.acceptance}"
                for c in self.cases]

    def run(self, ctx: RunContext, cases=None) -> SuiteResult:
        chosen = [c for c in self.cases if cases is None or c.name in cases]
        seeds = QUICK_SEEDS if ctx.quick else _seeds()
        rows, per_seed, curves, failed = {}, [], {}, False
        with single_thread():
            runs = self._start_learning_runs(chosen, ctx, seeds)
            for case in chosen:  # speed rows meanwhile (interleaved: fair under load)
                if case.kind != "rl":
                    rows[case.name] = self._guarded(case, ctx, lambda c: self._run_speed(c, ctx))
            for case in chosen:
                if case.kind == "rl":
                    rows[case.name] = self._guarded(
                        case, ctx, lambda c: self._rl_row(c, ctx, seeds, runs, per_seed,
                                                          curves))
            if runs.get("pool") is not None:
                runs["pool"].shutdown()
        rows = [rows[c.name] for c in chosen]
        failed = any(r.get("status") == "error" for r in rows)
        figures = []
        if curves:
            _, png = output_paths(ctx.out_dir, self.name, ctx.quick)
            Path(png).parent.mkdir(parents=True, exist_ok=True)
            figures.append(_plot_curves(curves, png))
        method = [
            f"seeds {', '.join(map(str, seeds))}; each seed judged by the mean of "
            f"{N_EVAL_EPISODES} seeded evaluation episodes (eval env seed "
            f"{EVAL_SEED_OFFSET} + seed), deterministic and stochastic",
            "ours and the reference get the same hyperparameters (a row's extra setting "
            "for ours is named in its acceptance); returns: mean [min–max] over seeds; "
            "steps/s of the learning runs exclude the evaluations",
            f"speed rows: interleaved chunks of {SPEED_CHUNK:,} steps after a warm-up "
            f"past learning_starts, one thread, median of the repeats",
            "SBX (sbx-rl, SB3 in JAX; benchmarks/sbx_speed.py) is a third side of the speed "
            "rows' alternation, in its own process (.venv-ref/sbx) at SB3's defaults "
            "(TD3/DDPG given SB3's [400, 300] networks and DDPG SB3's learning rates), "
            "pinned to one CPU (XLA otherwise uses several); its time is that of learn "
            "inside its process; SBX / SB3 and ours / SBX are medians of per-repeat "
            "ratios",
            "the learning runs are spread over a process pool (OFFPOLICY_WORKERS) while "
            "the speed rows run: their steps/s are indicative only, the speed rows are "
            "the measurement",
        ]
        if ctx.quick:
            method.append(f"quick mode: seed {QUICK_SEEDS[0]}, a few thousand steps, one "
                          "speed repeat: a smoke test, verdicts say nothing")
        return SuiteResult(suite=self.name, rows=rows, columns=_columns(), chart=None,
                           title="off-policy agents (mlnotes.rl vs Stable-Baselines3)",
                           method=method, summary=_summary(rows, per_seed), figures=figures,
                           failed=failed, ratio_key="speed_ratio",
                           ratio_higher_is_better=True)

    def _guarded(self, case, ctx, fn):
        try:
            row = fn(case)
        except Exception as exc:  # never raise: report the row
            import traceback

            traceback.print_exc()
            row = dict(case=case.name, status="error",
                       message=f"{type(exc).__name__}: {exc}"[:300])
        row.setdefault("case", case.name)
        row.setdefault("acceptance", case.acceptance)
        ctx.log(f"  {case.name}: {row.get('verdict', '')} {row.get('status')}")
        return row

    @staticmethod
    def _ref_key(case, seed, marks):
        return (case.reference, case.env_id, repr(sorted(case.params.items())), seed,
                tuple(marks))

    def _start_learning_runs(self, chosen, ctx, seeds):
        """Submit every learning run (reference runs deduplicated) to a process pool of
        ``OFFPOLICY_WORKERS`` workers (default ``min(4, cpu_count)``; 1 runs inline)."""
        import os
        from concurrent.futures import Future, ProcessPoolExecutor

        workers = int(os.environ.get("OFFPOLICY_WORKERS", min(4, os.cpu_count() or 1)))
        pool = ProcessPoolExecutor(workers) if workers > 1 else None
        runs = {"pool": pool, "workers": workers}

        def submit(key, *args):
            if key in runs:
                return
            if pool is None:
                future = Future()
                try:
                    future.set_result(cached_train(*args))
                except Exception as exc:  # reported by the row
                    future.set_exception(exc)
            else:
                future = pool.submit(cached_train, *args)
            runs[key] = future

        for case in chosen:
            if case.kind != "rl":
                continue
            try:
                load_object(case.ours)
            except ImportError:
                continue
            marks = _marks(case, ctx.quick)
            for seed in seeds:
                submit(self._ref_key(case, seed, marks), case.reference, case.env_id, seed,
                       marks, case.params)
                submit((case.name, seed), case.ours, case.env_id, seed, marks,
                       dict(case.params, **case.ours_params))
        ctx.log(f"    {len(runs) - 2} learning runs on {workers} worker(s)")
        return runs

    def _rl_row(self, case, ctx, seeds, runs, per_seed, curves):
        marks = _marks(case, ctx.quick)
        budget = marks[-1]
        success = lambda ev: ev[0] >= case.det_threshold and ev[1] >= case.stoch_threshold
        try:
            load_object(case.ours)
        except ImportError as exc:
            return dict(case=case.name, status="not available", message=str(exc),
                        verdict="–")
        ours, refs = {}, {}
        for seed in seeds:  # a run not cached in a cache-only report is left out
            for side, key in ((refs, self._ref_key(case, seed, marks)),
                              (ours, (case.name, seed))):
                try:
                    side[seed] = runs[key].result()
                except NotRun:
                    pass
            ctx.log(f"    {case.name} seed {seed}: "
                    f"ours {ours[seed]['evals'][budget] if seed in ours else 'not run'}, "
                    f"reference {refs[seed]['evals'][budget] if seed in refs else 'not run'}")
        final = lambda side, seed: side[seed]["evals"][budget] if seed in side else None
        for seed in seeds:
            o, r = final(ours, seed), final(refs, seed)
            if o is None and r is None:
                continue
            per_seed.append(dict(case=case.name, seed=seed, budget=budget,
                                 det_ours=o and o[0], stoch_ours=o and o[1],
                                 det_ref=r and r[0], stoch_ref=r and r[1],
                                 success_ours=o and success(o), success_ref=r and success(r),
                                 curve_ours=ours[seed]["evals"] if o else {},
                                 curve_ref=refs[seed]["evals"] if r else {}))
        ref_label = f"SB3 {case.reference.rsplit(':', 1)[-1]} ({case.env_id})"
        if refs:
            curves.setdefault(ref_label, refs)
        if ours:
            curves[f"{case.name} ({case.env_id})"] = ours
        n_ok = sum(success(ours[s]["evals"][budget]) for s in ours)
        n_ok_ref = sum(success(refs[s]["evals"][budget]) for s in refs)
        need = math.ceil(case.min_success * len(seeds) - 1e-9)
        missing = "" if len(ours) == len(refs) == len(seeds) else (
            f"; run: ours seeds {_seed_list(ours)}, SB3 seeds {_seed_list(refs)}")
        row = dict(case=case.name, env=case.env_id, budget=budget, n_seeds=len(seeds),
                   det_ours=[v[0] for v in map(lambda s: final(ours, s), ours)],
                   stoch_ours=[v[1] for v in map(lambda s: final(ours, s), ours)],
                   det_ref=[v[0] for v in map(lambda s: final(refs, s), refs)],
                   stoch_ref=[v[1] for v in map(lambda s: final(refs, s), refs)],
                   success_ours=n_ok, success_ref=n_ok_ref,
                   sps_ours=_sps(ours.values()) if ours else None,
                   sps_ref=_sps(refs.values()) if refs else None, status="ok",
                   message="" if not missing else "not every seed run (see the verdict)",
                   verdict=f"{'met' if n_ok >= need else 'NOT met'} ({n_ok}/{len(seeds)}, "
                           f"SB3 {n_ok_ref}/{len(seeds)}{missing})")
        if ours and refs:
            row["speed_ratio"] = row["sps_ours"] / row["sps_ref"]
        return row

    def _run_speed(self, case, ctx):
        from stable_baselines3.common.env_util import make_vec_env

        from benchmarks import sbx_speed

        budget = case.steps(ctx.quick)
        try:
            cls = load_object(case.ours)
        except ImportError as exc:
            return dict(case=case.name, status="not available", message=str(exc),
                        verdict="–")
        sides = {"ours": cls, "ref": load_object(case.reference)}
        rates = {"ours": [], "ref": [], "sbx": []}
        sbx_cpu, sbx_note = [], ""
        repeats = 1 if ctx.quick else ctx.repeats
        chunk = min(SPEED_CHUNK, budget)
        warm_up = int(case.params.get("learning_starts", 100)) + chunk // 4
        for rep in range(repeats):
            models = {}
            for side, klass in sides.items():
                models[side] = klass("MlpPolicy", make_vec_env(case.env_id, n_envs=1,
                                                               seed=rep),
                                     seed=rep, device="cpu", **_resolve(case.params))
                models[side].learn(warm_up)
            # SBX (JAX) in its own process, a third side of the same alternation
            sbx, sbx_note = sbx_speed.open_agent(case.ours, case.env_id, rep, case.params,
                                                 warm_up, ctx.quick, ctx.log)
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
                            spent[side] += sbx.learn(chunk)
                            continue
                        start = time.perf_counter()
                        models[side].learn(chunk, reset_num_timesteps=False)
                        spent[side] += time.perf_counter() - start
                    done += chunk
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
            ctx.log(f"    speed repeat {rep}: ours {rates['ours'][-1]:,.0f} steps/s, "
                    f"reference {rates['ref'][-1]:,.0f} steps/s{sbx_text}")
        sps_ours, sps_ref = statistics.median(rates["ours"]), statistics.median(rates["ref"])
        ratio = sps_ours / sps_ref
        per_repeat = [o / r for o, r in zip(rates["ours"], rates["ref"])]
        row = dict(case=case.name, env=case.env_id, budget=budget, n_seeds=repeats,
                   sps_ours=sps_ours, sps_ref=sps_ref, speed_ratio=ratio, status="ok",
                   message="", verdict=f"{'met' if ratio >= SPEED_TARGET else 'NOT met'} "
                                       f"({ratio:.2f}x; repeats "
                                       f"{', '.join(f'{r:.2f}' for r in per_repeat)})")
        if len(rates["sbx"]) == repeats:
            _sbx_fields(row, rates, sbx_cpu)
        else:
            row["sbx_note"] = sbx_note
        return row


def _sbx_fields(row, rates, sbx_cpu):
    """Add the SBX side to a speed row: its median steps/s, SBX / SB3 and ours / SBX (the
    medians of the per-repeat ratios), and in the verdict the smallest share of its
    process's CPU time that its busiest thread took in a chunk (1: one thread did the
    work)."""
    per = lambda a, b: statistics.median(x / y for x, y in zip(rates[a], rates[b]))
    row.update(sps_sbx=statistics.median(rates["sbx"]), sbx_ratio=per("sbx", "ref"),
               ours_vs_sbx=per("ours", "sbx"), sbx_one_thread=min(sbx_cpu))
    row["verdict"] = (row["verdict"].rstrip(")") + f"; SBX {row['sbx_ratio']:.2f}x SB3, "
                      f"its busiest thread {row['sbx_one_thread']:.2f} of its CPU)")
    return row


def _summary(rows, per_seed):
    lines = ["", "**Acceptance** (issue 19):", ""]
    for row in rows:
        lines.append(f"- {row['case']}: {row.get('acceptance', '')} — "
                     f"**{row.get('verdict', row.get('status'))}**")
    if per_seed:
        lines += ["", f"**Per seed** (returns deterministic / stochastic, {N_EVAL_EPISODES} "
                      "episodes each; then the deterministic return at each checkpoint):", ""]
        pair = lambda a, b: "not run" if a is None else f"{a:.0f} / {b:.0f}"
        yes = lambda v: "–" if v is None else ("yes" if v else "no")
        curve = lambda c: ", ".join(f"{m // 1000}k: {v[0]:.0f}" for m, v in sorted(c.items()))
        cols = [
            Column("case", "case"), Column("seed", "seed", align="right"),
            Column("budget", "budget", _fmt_int, align="right"),
            Column("ours det / stoch", value=lambda r: pair(r["det_ours"], r["stoch_ours"])),
            Column("ours success", value=lambda r: yes(r["success_ours"])),
            Column("ref det / stoch", value=lambda r: pair(r["det_ref"], r["stoch_ref"])),
            Column("ref success", value=lambda r: yes(r["success_ref"])),
            Column("ours det at checkpoints", value=lambda r: curve(r["curve_ours"])),
            Column("ref det at checkpoints", value=lambda r: curve(r["curve_ref"])),
        ]
        lines.append(markdown_table(per_seed, cols))
    return lines


def _status_text(row):
    if row.get("status") == "ok":
        return "ok"
    return f"{row.get('status')}: {(row.get('message') or '')[:80]}"


def _columns():
    return [
        Column("case", "case"),
        Column("env", "env"),
        Column("budget", "budget", _fmt_int, align="right"),
        Column("seeds", "n_seeds", align="right"),
        Column("det return ours", value=lambda r: _fmt_return(r.get("det_ours") or [])),
        Column("stoch return ours", value=lambda r: _fmt_return(r.get("stoch_ours") or [])),
        Column("det return ref", value=lambda r: _fmt_return(r.get("det_ref") or [])),
        Column("stoch return ref", value=lambda r: _fmt_return(r.get("stoch_ref") or [])),
        Column("successes ours / ref", value=lambda r: (
            "–" if r.get("success_ours") is None else
            f"{r.get('success_ours')} / {r.get('success_ref')}")),
        Column("steps/s ours", "sps_ours", _fmt_int, align="right"),
        Column("steps/s ref", "sps_ref", _fmt_int, align="right"),
        Column("speed ratio", "speed_ratio", fmt_ratio, align="right"),
        Column("steps/s SBX", "sps_sbx", _fmt_int, align="right"),
        Column("SBX / SB3", "sbx_ratio", fmt_ratio, align="right"),
        Column("ours / SBX", "ours_vs_sbx", fmt_ratio, align="right"),
        Column("verdict", "verdict"),
        Column("status", value=_status_text),
    ]


def _plot_curves(curves, path: Path) -> Path:
    """Mean deterministic return vs env steps and vs training wall time, per curve."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained", sharey=True)
    for label, runs in curves.items():
        marks = sorted(set.intersection(*(set(r["evals"]) for r in runs.values())))
        ys = [[runs[s]["evals"][m][0] for s in runs] for m in marks]
        mean = [statistics.mean(y) for y in ys]
        wall = [statistics.mean(runs[s]["wall"][m] for s in runs) for m in marks]
        style = dict(ls="--", color="black") if label.startswith("SB3") else {}
        (line,) = axes[0].plot(marks, mean, marker="o", label=f"{label} ({len(runs)} seeds)",
                               **style)
        axes[0].fill_between(marks, [min(y) for y in ys], [max(y) for y in ys], alpha=0.12,
                             color=line.get_color())
        axes[1].plot(wall, mean, marker="o", color=line.get_color(),
                     **({"ls": "--"} if style else {}))
    axes[0].set_xlabel("environment steps")
    axes[1].set_xlabel("training wall time [s] (one thread, evaluations excluded)")
    axes[0].set_ylabel(f"mean deterministic return ({N_EVAL_EPISODES} episodes)")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("off-policy agents: line mean over seeds, band min–max")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


SUITE = OffPolicySuite()
