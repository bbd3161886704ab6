"""Scaling out with 1 and 2 workers (issue 16): ``python -m benchmarks.parallel``.

Four measurements, each repeated with its settings interleaved (so that load drifting on
a shared machine hits every setting), the median reported:

``search``
    ``GridSearchCV`` over an mlnotes estimator (RandomForestClassifier, 8 candidates
    x 3 folds): sequential (``n_jobs=None``), then through joblib on a local Dask cluster
    (``LocalCluster(processes=True, threads_per_worker=1)``) of 1 and of 2 workers, and
    on a local Ray instance with ``num_cpus=1`` and ``2`` (``ray.util.joblib``).
``forest``
    ``RandomForestClassifier(n_estimators=64).fit``: sequential, local threads
    (``n_jobs=2``), Dask with 1 and 2 workers, Ray with 1 and 2 CPUs.
``ddp``
    :func:`mlnotes.parallel.fit_distributed` of an MLPClassifier with 1 and 2 gloo
    processes: training samples per second, from the difference of two fits with
    different epoch counts (so that process start-up is not counted).
``vecenv``
    Env steps per second of ``DummyVecEnv`` and ``SubprocVecEnv`` (2 envs) on a
    CPU-heavy env (CartPole whose every step also burns ``--env-cost`` ms of numpy
    work), random actions, and an A2C ``learn`` on the same envs.

    python -m benchmarks.parallel --out /tmp/parallel            # everything
    python -m benchmarks.parallel --only ddp,vecenv --repeats 2 --out /tmp/parallel
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "local"
PARTS = ("search", "forest", "ddp", "vecenv")


class BusyCartPole(gym.Wrapper):
    """CartPole-v1 whose every step also does ``cost_ms`` milliseconds of numpy work
    (a stand-in for a simulator: the env, not the learner, is the bottleneck)."""

    def __init__(self, cost_ms=2.0):
        super().__init__(gym.make("CartPole-v1"))
        self.cost = cost_ms / 1000.0

    def step(self, action):
        end = time.perf_counter() + self.cost
        a = np.ones(64)
        while time.perf_counter() < end:
            a = np.sin(a) + 1.0
        return self.env.step(action)


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _cpu_of_tree():
    """CPU seconds (user + system) used so far by this process and each descendant
    (cluster workers, Ray's daemons), by pid."""
    import psutil

    me = psutil.Process()
    out = {}
    for p in [me] + me.children(recursive=True):
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:  # the child exited between listing and reading
            continue
    return out


def _timed_cpu(fn):
    """(wall seconds, CPU seconds of this process and all its descendants). On a
    shared machine the wall time mostly measures this job's share of the cores; the
    CPU seconds measure the work, overheads included."""
    before = _cpu_of_tree()
    wall = _timed(fn)
    after = _cpu_of_tree()
    return wall, sum(max(0.0, v - before.get(pid, 0.0)) for pid, v in after.items())


def _data(n_samples, n_features, seed=0):
    from sklearn.datasets import make_classification

    return make_classification(n_samples=n_samples, n_features=n_features,
                               n_informative=n_features // 2, random_state=seed)


# ---------------------------------------------------------------- clusters (joblib)


class _Cluster:
    """A local Dask cluster or Ray instance with ``n`` workers/CPUs."""

    def __init__(self, kind, n):
        self.kind, self.n = kind, n
        if kind == "dask":
            import distributed

            self.cluster = distributed.LocalCluster(
                n_workers=n, processes=True, threads_per_worker=1, dashboard_address=None)
            self.client = distributed.Client(self.cluster)
        else:
            import ray
            from ray.util.joblib import register_ray

            ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
            register_ray()

    def config(self):
        from joblib import parallel_config

        return parallel_config(backend=self.kind, n_jobs=-1 if self.kind == "dask"
                               else self.n)

    def close(self):
        if self.kind == "dask":
            self.client.close()
            self.cluster.close()
        else:
            import ray

            ray.shutdown()


def _search_work(X, y):
    from sklearn.model_selection import GridSearchCV

    from mlnotes.ensemble import RandomForestClassifier

    grid = {"max_depth": [4, 8], "max_features": ["sqrt", 0.5],
            "min_samples_leaf": [1, 5]}
    # n_jobs=1 inside: with None, joblib's Dask backend would send each candidate's
    # trees to the cluster as tasks of their own (nested parallelism)
    return lambda n_jobs: GridSearchCV(
        RandomForestClassifier(n_estimators=20, random_state=0, n_jobs=1), grid, cv=3,
        n_jobs=n_jobs).fit(X, y)


def _forest_work(X, y):
    from mlnotes.ensemble import RandomForestClassifier

    return lambda n_jobs: RandomForestClassifier(n_estimators=64, random_state=0,
                                                 n_jobs=n_jobs).fit(X, y)


def bench_joblib(part, repeats, log):
    """Rows of ``search`` or ``forest``: seconds per setting."""
    X, y = _data(3000, 20) if part == "search" else _data(8000, 30)
    work = (_search_work if part == "search" else _forest_work)(X, y)
    work(None)  # warm-up: numba kernels loaded in this process
    times = {}

    def record(name, measured):
        wall, cpu = measured
        times.setdefault(name, []).append(wall)
        times.setdefault(f"{name} CPU", []).append(cpu)
        log(f"  {part:<7} {name:<22} {wall:7.2f} s wall {cpu:7.2f} s CPU")

    for rep in range(repeats):
        record("sequential", _timed_cpu(lambda: work(None)))
        if part == "forest":
            record("local threads, 2", _timed_cpu(lambda: work(2)))
    for kind in ("dask", "ray"):
        for n in (1, 2):
            try:
                cluster = _Cluster(kind, n)
            except Exception as exc:  # a missing extra: the row says so
                times[f"{kind}, {n} worker(s)"] = repr(exc)
                continue
            try:
                with cluster.config():
                    # warm-up: the workers import mlnotes and load the compiled kernels
                    record(f"{kind}, {n} worker(s), first call",
                           _timed_cpu(lambda: work(-1)))
                    for rep in range(repeats):
                        record(f"{kind}, {n} worker(s)", _timed_cpu(lambda: work(-1)))
            finally:
                cluster.close()
    return times


# ------------------------------------------------------------------------------ DDP


def bench_ddp(repeats, log):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from mlnotes.neural_network import MLPClassifier
    from mlnotes.parallel import fit_distributed

    X, y = _data(20000, 64, seed=1)
    epochs = (1, 4)
    rates = {}
    for rep in range(repeats):
        for n_procs in ((1, 2) if rep % 2 == 0 else (2, 1)):
            walls = []
            for e in epochs:
                est = MLPClassifier(hidden_layer_sizes=(256, 256), batch_size=512,
                                    max_iter=e, random_state=0)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    walls.append(_timed(lambda: fit_distributed(est, X, y,
                                                                n_procs=n_procs)))
            rate = X.shape[0] * (epochs[1] - epochs[0]) / max(walls[1] - walls[0], 1e-9)
            rates.setdefault(f"{n_procs} process(es)", []).append(rate)
            log(f"  ddp     {n_procs} process(es): fits {walls[0]:.2f} s / {walls[1]:.2f} s"
                f" -> {rate:,.0f} samples/s")
    return rates


# --------------------------------------------------------------------------- vec envs


def _make_busy(cost_ms):
    return lambda: BusyCartPole(cost_ms)


def bench_vecenv(repeats, cost_ms, log):
    import torch
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from mlnotes.rl import A2C

    torch.set_num_threads(1)
    n_steps = 400
    out = {}
    for rep in range(repeats):
        order = (DummyVecEnv, SubprocVecEnv) if rep % 2 == 0 else (SubprocVecEnv,
                                                                    DummyVecEnv)
        for cls in order:
            env = make_vec_env(_make_busy(cost_ms), n_envs=2, seed=0, vec_env_cls=cls)
            try:
                env.reset()
                actions = np.zeros(2, dtype=np.int64)
                env.step(actions)  # warm-up
                t = _timed(lambda: [env.step(actions) for _ in range(n_steps)])
                steps = 2 * n_steps / t
                agent = A2C("MlpPolicy", env, seed=0, device="cpu")
                agent.learn(100)  # warm-up
                ta = _timed(lambda: agent.learn(1000, reset_num_timesteps=False))
            finally:
                env.close()
            out.setdefault(f"{cls.__name__} env steps/s", []).append(steps)
            out.setdefault(f"{cls.__name__} A2C learn steps/s", []).append(1000 / ta)
            log(f"  vecenv  {cls.__name__:<13} {steps:8.0f} env steps/s, A2C "
                f"{1000 / ta:7.0f} steps/s")
    return out


# ---------------------------------------------------------------------------- report


def _med(v):
    return statistics.median(v) if isinstance(v, list) and v else None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.parallel",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--env-cost", type=float, default=2.0,
                   help="milliseconds of CPU work per env step (vecenv)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.cli import publish_refusal
    from benchmarks.report import environment

    refusal = publish_refusal(args.out)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    parts = [x for x in PARTS if x in args.only.split(",")]

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    env = environment()
    lines = ["# Scaling out: 1 and 2 workers (Dask, Ray, DDP, SubprocVecEnv)", "",
             f"- command: `python -m benchmarks.parallel {' '.join(argv or sys.argv[1:])}`",
             f"- date: {env['date']}; git {env['git']}",
             f"- machine: {env['machine']}; load average at the start "
             f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}",
             f"- each cell: median of {args.repeats} repeats, settings interleaved "
             "(clusters: repeats inside one cluster after a warm-up call)", ""]
    for part in parts:
        if part in ("search", "forest"):
            times = bench_joblib(part, args.repeats, log)
            base = _med(times.get("sequential"))
            title = ("GridSearchCV(RandomForestClassifier(n_estimators=20, n_jobs=1), 8 "
                     "candidates,"
                     " cv=3), 3,000 x 20" if part == "search" else
                     "RandomForestClassifier(n_estimators=64).fit, 8,000 x 30")
            lines += [f"## {part}: {title}", "",
                      "| setting | seconds | speed-up | CPU seconds, all processes |",
                      "|---|---:|---:|---:|"]
            for name, v in times.items():
                if name.endswith(" CPU"):
                    continue
                m = _med(v)
                if m is None:
                    lines.append(f"| {name} | error: {v} | | |")
                else:
                    cpu = _med(times[f"{name} CPU"])
                    lines.append(f"| {name} | {m:.2f} | {base / m:.2f}x | {cpu:.2f} |")
            lines += ["", "1 worker: joblib runs the calls in the caller (the Dask backend "
                      "counts 1 thread in the cluster, Ray 1 CPU: one effective job), so "
                      "these rows are sequential runs, not cluster runs.", ""]
        elif part == "ddp":
            rates = bench_ddp(args.repeats, log)
            one = _med(rates["1 process(es)"])
            lines += ["## ddp: fit_distributed(MLPClassifier((256, 256), batch_size=512)),"
                      " 20,000 x 64, gloo", "",
                      "| processes | samples/s | speed-up |", "|---|---:|---:|"]
            for name, v in rates.items():
                lines.append(f"| {name} | {_med(v):,.0f} | {_med(v) / one:.2f}x |")
            lines.append("")
        else:
            out = bench_vecenv(args.repeats, args.env_cost, log)
            lines += [f"## vecenv: 2 envs of CartPole + {args.env_cost:g} ms CPU per step",
                      "", "| vec env | rate | vs DummyVecEnv |", "|---|---:|---:|"]
            for what in ("env steps/s", "A2C learn steps/s"):
                dummy = _med(out[f"DummyVecEnv {what}"])
                for cls in ("DummyVecEnv", "SubprocVecEnv"):
                    m = _med(out[f"{cls} {what}"])
                    lines.append(f"| {cls} {what} | {m:,.0f} | {m / dummy:.2f}x |")
            lines.append("")
    lines.append(f"- load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "parallel.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
