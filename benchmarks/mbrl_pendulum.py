"""Model-based agents (PETS, MBPO) beside SAC (ours and SB3's) on Pendulum-v1 (issue 17).

Learning runs, each evaluated at checkpoints (``--checkpoints``) by the mean return of
``--episodes`` deterministic episodes on an evaluation env seeded ``10_000 + seed`` (as
the off-policy suite); the evaluation time is excluded from the training wall time.
``--stop-at R`` ends a run at its first checkpoint whose mean return is >= R ("within
N steps" criteria: a run that got there need not be trained further; CPU is scarce).

    python -m benchmarks.mbrl_pendulum run --agent PETS --seeds 0 1 2 3 4 \\
        --checkpoints 1000 2000 3000 4000 5000 --stop-at -250 --cache /tmp/h4/mbrl.json
    python -m benchmarks.mbrl_pendulum run --agent MBPO --seeds 0 --gradient-steps 10 ...
    python -m benchmarks.mbrl_pendulum report --cache /tmp/h4/mbrl.json --out /tmp/h4

Every finished checkpoint is written to the JSON cache at once (keyed by agent, seed and
settings), so a stopped run keeps its curve, and ``run`` skips a run the cache already
holds to its end. ``report`` writes ``mbrl-pendulum.md`` (per-seed steps to the
threshold, return at each checkpoint, training wall time) and ``mbrl-pendulum.png``
(return vs env steps: mean and min-max over seeds) from the cache alone.

Agents and settings:

- PETS: a 64-64 ensemble of 5, CEM with horizon 20, 200 candidates, 20 elites, 3
  iterations, 5 particles (trajectory sampling); 200 random steps, model refitted every
  200 steps for 20 epochs (``PETS_KWARGS``).
- MBPO: its defaults (SAC at SB3's defaults, ensemble of 7 x 4 x 200, one-step rollouts,
  10,000 rollouts every 250 steps, 5% real data) except ``--gradient-steps``.
- SAC (ours) and SB3-SAC: SB3's defaults (the agents' defaults: ``learning_rate=3e-4``,
  ``learning_starts=100``, one gradient step per env step).
- mbrl-PETS: mbrl-lib 0.2.0's PETS with the same settings as ours, in its own virtual
  environment ``.venv-ref/mbrl`` (made on first use: torch's CPU build, then ``mbrl``;
  its pin ``hydra-core==1.0.3`` does not import on Python 3.11 — a dataclass with a
  mutable default — so hydra-core 1.3.2 / omegaconf 2.3.0 replace it, and its pinned
  gymnasium 0.26.3 runs with the env checker off, which calls ``np.bool8`` of numpy < 2);
  driven by :mod:`benchmarks._mbrl_runner`.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

THRESHOLD = -250.0
EVAL_SEED_OFFSET = 10_000

PETS_POLICY_KWARGS = dict(net_arch=(64, 64), horizon=20, n_samples=200, n_elites=20,
                          n_iterations=3, n_particles=5)
PETS_KWARGS = dict(learning_starts=200, train_freq=200, n_epochs=20,
                   policy_kwargs=PETS_POLICY_KWARGS)
AGENTS = ("PETS", "mbrl-PETS", "MBPO", "SAC", "SB3-SAC")
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-ref" / "mbrl"


def ensure_venv(log=print):
    """Create ``.venv-ref/mbrl`` (torch CPU build, mbrl, hydra 1.3) if it is missing."""
    import torch

    python = VENV / "bin" / "python"
    if python.exists():
        return python
    log(f"creating {VENV} (torch CPU build, then mbrl) ...")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + [f"torch=={torch.__version__.split('+')[0]}"], check=True)
    subprocess.run(pip + ["mbrl==0.2.0"], check=True)
    subprocess.run(pip + ["hydra-core==1.3.2", "omegaconf==2.3.0"], check=True)
    return python


def _run_mbrl_lib(seed, checkpoints, episodes, stop_at):
    """Yield the checkpoints of :mod:`benchmarks._mbrl_runner` in the reference venv."""
    cmd = [str(ensure_venv()), "-m", "benchmarks._mbrl_runner", "--seed", str(seed),
           "--episodes", str(episodes), "--checkpoints", *map(str, checkpoints)]
    if stop_at is not None:
        cmd += ["--stop-at", str(stop_at)]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            if line.startswith("{"):
                yield json.loads(line)
    if proc.returncode:
        raise RuntimeError(f"mbrl-lib runner failed (exit {proc.returncode}): {cmd}")


def make(agent, seed, gradient_steps=None):
    """The agent ``agent`` on Pendulum-v1 with the settings of the module docstring."""
    if agent == "PETS":
        from mlnotes.rl import PETS
        return PETS("MlpPolicy", "Pendulum-v1", seed=seed, **PETS_KWARGS)
    kwargs = {} if gradient_steps is None else {"gradient_steps": gradient_steps}
    if agent == "SB3-SAC":
        from stable_baselines3 import SAC as cls
    elif agent == "SAC":
        from mlnotes.rl import SAC as cls
    else:
        from mlnotes.rl import MBPO as cls
    return cls("MlpPolicy", "Pendulum-v1", seed=seed, **kwargs)


def settings(agent, gradient_steps):
    """What identifies a run's configuration in the cache."""
    out = {"agent": agent}
    if agent in ("PETS", "mbrl-PETS"):
        out["pets"] = {k: v for k, v in PETS_KWARGS.items() if k != "policy_kwargs"}
        out["pets"].update(PETS_POLICY_KWARGS)
    if agent == "MBPO":
        out["model_fit"] = "holdout early stopping"  # since MBPO's model_patience
    if gradient_steps is not None:
        out["gradient_steps"] = gradient_steps
    return out


def cache_key(agent, seed, gradient_steps, episodes):
    return json.dumps([settings(agent, gradient_steps), seed, episodes], sort_keys=True)


def load_cache(path):
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def store(path, key, record):
    """Write one run's record (re-reading the file: other processes add runs too)."""
    data = load_cache(path)
    data[key] = record
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)


def evaluate(agent, seed, episodes):
    """Mean and std of ``episodes`` deterministic returns, eval env seeded 10,000 + seed.

    Only the first episode is seeded; the later ones continue the env's random stream
    (as SB3's ``evaluate_policy`` on a ``VecEnv`` seeded once, which this replaced).
    """
    from benchmarks.harness import episode_returns

    returns = episode_returns(agent, "Pendulum-v1", episodes, seed=EVAL_SEED_OFFSET + seed,
                              reseed_each=False)
    return float(np.mean(returns)), float(np.std(returns))


def run(agent_name, seed, checkpoints, episodes, cache, stop_at=None, gradient_steps=None,
        log=print):
    """Train one seed through ``checkpoints``, storing each evaluation in ``cache``."""
    import torch

    torch.set_num_threads(1)
    key = cache_key(agent_name, seed, gradient_steps, episodes)
    found = load_cache(cache).get(key)
    if found and found.get("finished"):
        log(f"{agent_name} seed {seed}: cached")
        return found
    record = {"agent": agent_name, "seed": seed, "episodes": episodes,
              "gradient_steps": gradient_steps, "stop_at": stop_at,
              "checkpoints": [], "finished": False, "started": time.strftime("%H:%M:%S")}
    if agent_name == "mbrl-PETS":
        for point in _run_mbrl_lib(seed, checkpoints, episodes, stop_at):
            record["checkpoints"].append(point)
            log(f"{agent_name} seed {seed} steps {point['steps']}: {point['mean']:.1f}")
            stop = stop_at is not None and point["mean"] >= stop_at
            record["finished"] = stop or point["steps"] == checkpoints[-1]
            record["stopped_at_threshold"] = bool(stop)
            store(cache, key, record)
        return record
    agent = make(agent_name, seed, gradient_steps)
    train_seconds, train_cpu, done = 0.0, 0.0, 0
    for mark in checkpoints:
        start, start_cpu = time.perf_counter(), time.process_time()
        agent.learn(mark - done, reset_num_timesteps=done == 0)
        train_seconds += time.perf_counter() - start
        train_cpu += time.process_time() - start_cpu
        done = mark
        start, start_cpu = time.perf_counter(), time.process_time()
        mean, std = evaluate(agent, seed, episodes)
        eval_seconds = time.perf_counter() - start
        eval_cpu = time.process_time() - start_cpu
        record["checkpoints"].append({"steps": mark, "mean": mean, "std": std,
                                      "train_seconds": round(train_seconds, 1),
                                      "eval_seconds": round(eval_seconds, 1),
                                      "train_cpu_seconds": round(train_cpu, 1),
                                      "eval_cpu_seconds": round(eval_cpu, 1)})
        log(f"{agent_name} seed {seed} steps {mark}: {mean:.1f} +- {std:.1f} "
            f"(train {train_seconds:.0f} s / {train_cpu:.0f} CPU s, "
            f"eval {eval_seconds:.0f} s / {eval_cpu:.0f} CPU s)")
        stop = stop_at is not None and mean >= stop_at
        record["finished"] = stop or mark == checkpoints[-1]
        record["stopped_at_threshold"] = bool(stop)
        store(cache, key, record)
        if stop:
            break
    return record


def speed(n_actions=100, repeats=2, seed=0, log=print):
    """Planned actions per second, ours and mbrl-lib's PETS alternately (one thread).

    Each side: 200 random steps, one model fit, then ``n_actions`` planned actions from
    the evaluation start state; only the planning is timed. mbrl-lib runs in its own
    process (its venv), ours in this one, one after the other, ``repeats`` times.
    """
    import torch

    torch.set_num_threads(1)
    out = {"ours": [], "mbrl-lib": []}
    for _ in range(repeats):
        agent = make("PETS", seed)
        agent.learn(200)  # the first fit happens at step 200
        env = agent.get_env()
        env.seed(EVAL_SEED_OFFSET + seed)
        obs = env.reset()
        agent.policy.planner._plans = {}
        start = time.perf_counter()
        for _ in range(n_actions):
            obs, *_ = env.step(agent.predict(obs, deterministic=True)[0])
        out["ours"].append(n_actions / (time.perf_counter() - start))
        cmd = [str(ensure_venv()), "-m", "benchmarks._mbrl_runner", "--seed", str(seed),
               "--checkpoints", "1", "--speed", str(n_actions)]
        env_vars = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        line = subprocess.run(cmd, cwd=ROOT, env=env_vars, capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[-1]
        out["mbrl-lib"].append(json.loads(line)["actions_per_s"])
        log(f"planned actions/s: ours {out['ours'][-1]:.1f}, "
            f"mbrl-lib {out['mbrl-lib'][-1]:.1f}")
    return out


# ------------------------------------------------------------------ report


def _runs(cache):
    runs = {}
    for record in load_cache(cache).values():
        if record["checkpoints"]:
            runs.setdefault(record["agent"], []).append(record)
    for records in runs.values():
        records.sort(key=lambda r: r["seed"])
    return runs


def steps_to_threshold(record, threshold=THRESHOLD):
    """First checkpoint with a mean return >= threshold, or None."""
    for point in record["checkpoints"]:
        if point["mean"] >= threshold:
            return point["steps"], point
    return None, None


def report(cache, out, commit=None, command=None):
    """Write ``mbrl-pendulum.md`` and ``mbrl-pendulum.png`` under ``out`` from the cache."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = _runs(cache)
    lines = ["# Model-based RL on Pendulum-v1: PETS, MBPO, SAC, SB3's SAC (issue 17)", ""]
    if command:
        lines.append(f"- command: `{command}`")
    if commit:
        lines.append(f"- git {commit}")
    lines += [f"- each checkpoint: mean of deterministic evaluation episodes (eval env seeded "
              f"10,000 + seed); threshold {THRESHOLD:.0f}; a run stops at its first "
              f"checkpoint over the threshold when started with `--stop-at`",
              "- train s: wall time of `learn` up to that checkpoint (evaluations excluded), "
              "one torch thread, on a shared 2-CPU machine (see the load note below); "
              "train CPU s: the process's CPU seconds over the same span "
              "(`time.process_time`, about an idle core's wall time; recorded since "
              "the seventh session, – for older runs)", ""]
    lines += summary_lines(runs)
    lines += ["| agent | seed | settings | episodes | steps to >= -250 | return there | "
              "train s there | train CPU s there | last checkpoint | return | train s |",
              "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for agent in AGENTS:
        for r in runs.get(agent, []):
            steps, point = steps_to_threshold(r)
            last = r["checkpoints"][-1]
            setting = (f"gradient_steps={r['gradient_steps']}" if r.get("gradient_steps")
                       else "PETS_KWARGS" if "PETS" in agent else "defaults")
            there = (f"{steps:,} | {point['mean']:.1f} | {point['train_seconds']:.0f} | "
                     f"{_fmt(point.get('train_cpu_seconds'))}"
                     if steps else "not reached | – | – | –")
            state = "" if r["finished"] else " (unfinished)"
            lines.append(f"| {agent} | {r['seed']} | {setting} | {r['episodes']} | {there} | "
                         f"{last['steps']:,}{state} | {last['mean']:.1f} | "
                         f"{last['train_seconds']:.0f} |")
    lines += ["", "**Per checkpoint** (mean return / cumulative train seconds):", "",
              "| agent | seed | curve |", "|---|---:|---|"]
    for agent in AGENTS:
        for r in runs.get(agent, []):
            curve = ", ".join(f"{p['steps'] // 1000 if p['steps'] % 1000 == 0 else p['steps'] / 1000}k:"
                              f" {p['mean']:.0f} / {p['train_seconds']:.0f} s"
                              + (f" ({p['train_cpu_seconds']:.0f} CPU s)"
                                 if "train_cpu_seconds" in p else "")
                              for p in r["checkpoints"])
            lines.append(f"| {agent} | {r['seed']} | {curve} |")
    (out / "mbrl-pendulum.md").write_text("\n".join(lines) + "\n")

    fig, (ax, ax_t) = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for agent, colour in zip(AGENTS, ("C0", "C4", "C1", "C2", "C3")):
        records = runs.get(agent, [])
        if not records:
            continue
        labelled = False
        for r in records:
            xs = [p["steps"] for p in r["checkpoints"]]
            ys = [p["mean"] for p in r["checkpoints"]]
            ax.plot(xs, ys, color=colour, alpha=0.35, lw=1, marker=".")
            # CPU seconds only: the older runs' wall seconds were taken at a load of ~14
            timed = [p for p in r["checkpoints"] if "train_cpu_seconds" in p]
            if timed:
                ax_t.plot([p["train_cpu_seconds"] for p in timed],
                          [p["mean"] for p in timed], color=colour, alpha=0.6, lw=1,
                          marker=".", label=None if labelled else agent)
                labelled = True
        grid = sorted({p["steps"] for r in records for p in r["checkpoints"]})
        means, lows, highs = [], [], []
        for x in grid:
            # a run stopped at the threshold keeps its last value (it solved the task)
            vals = [v for v in (_value_at(r, x) for r in records) if v is not None]
            means.append(np.mean(vals) if vals else np.nan)
            lows.append(np.min(vals) if vals else np.nan)
            highs.append(np.max(vals) if vals else np.nan)
        ax.plot(grid, means, color=colour, lw=2.2, marker="o", ms=6 if agent == "PETS" else 4,
                zorder=4 if agent == "PETS" else 3, label=f"{agent} (mean of {len(records)} seed{'s' * (len(records) > 1)})")
        ax.fill_between(grid, lows, highs, color=colour, alpha=0.12)
    for a in (ax, ax_t):
        a.axhline(THRESHOLD, color="k", ls="--", lw=0.8)
    last = max((p["steps"] for rs in runs.values() for r in rs for p in r["checkpoints"]),
               default=10_000)
    ax.set_xlim(0, 1000 * (last // 1000 + 1))
    ax.set_xlabel("environment steps")
    ax.set_ylabel("mean return, 20 evaluation episodes")
    ax.set_title("return vs env steps (band: min-max over seeds)", fontsize=10)
    ax.set_ylim(-1700, 0)
    ax.legend(loc="lower right", fontsize=8)
    ax_t.set_xscale("log")
    ax_t.set_xlabel("training CPU seconds (one thread; runs that recorded them)")
    ax_t.set_title("the same runs vs compute", fontsize=10)
    ax_t.legend(loc="lower right", fontsize=8)
    fig.suptitle("Pendulum-v1: model-based (PETS, MBPO) vs model-free (SAC)")
    fig.tight_layout()
    fig.savefig(out / "mbrl-pendulum.png", dpi=110)
    plt.close(fig)
    return out / "mbrl-pendulum.md"


def _fmt(value):
    return "–" if value is None else f"{value:.0f}"


def summary_lines(runs):
    """Per agent: seeds over the threshold, steps there, training CPU per env step vs SAC.

    CPU per env step is the mean over the seeds that reached the threshold and recorded
    CPU seconds of (train CPU seconds there) / (steps there); evaluation CPU is the mean
    per evaluation of 20 episodes (4,000 actions) over all checkpoints that recorded it.
    """
    per_step, stats = {}, {}
    for agent in AGENTS:
        records = runs.get(agent, [])
        if not records:
            continue
        reached = [(r["seed"],) + steps_to_threshold(r) for r in records]
        ok = [(seed, steps, point) for seed, steps, point in reached if steps]
        cpu = [point["train_cpu_seconds"] / steps for _, steps, point in ok
               if "train_cpu_seconds" in point]
        evals = [p["eval_cpu_seconds"] for r in records for p in r["checkpoints"]
                 if "eval_cpu_seconds" in p]
        per_step[agent] = float(np.mean(cpu)) if cpu else None
        stats[agent] = (records, ok, cpu, evals)
    base = per_step.get("SAC")
    lines = ["**Summary** (threshold -250; CPU: training CPU seconds up to the threshold "
             "per env step, mean over the seeds that recorded it; eval CPU: one 20-episode "
             "evaluation)", "",
             "| agent | seeds run | reached -250 | steps to -250 (seed: steps) | "
             "train CPU ms / env step | x SAC | eval CPU s |",
             "|---|---:|---:|---|---:|---:|---:|"]
    for agent, (records, ok, cpu, evals) in stats.items():
        where = ", ".join(f"{seed}: {steps / 1000:g}k" for seed, steps, _ in ok) or "–"
        ms = per_step[agent]
        ratio = f"{ms / base:.1f}" if ms and base else "–"
        lines.append(f"| {agent} | {len(records)} | {len(ok)} | {where} | "
                     f"{'–' if ms is None else f'{1000 * ms:.3g}'} "
                     f"(n={len(cpu)}) | {ratio} | "
                     f"{f'{np.mean(evals):.0f}' if evals else '–'} |")
    return lines + [""]


def _value_at(record, steps):
    points = record["checkpoints"]
    for p in points:
        if p["steps"] == steps:
            return p["mean"]
    if record.get("stopped_at_threshold") and steps > points[-1]["steps"]:
        return points[-1]["mean"]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--agent", choices=AGENTS, default="PETS")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--checkpoints", type=int, nargs="+", required=True)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--stop-at", type=float, default=None)
    p.add_argument("--gradient-steps", type=int, default=None,
                   help="MBPO/SAC gradient steps per env step (default: the agent's)")
    p.add_argument("--cache", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--actions", type=int, default=100)
    sp.add_argument("--repeats", type=int, default=2)
    r = sub.add_parser("report")
    r.add_argument("--cache", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--commit", default=None)
    r.add_argument("--command", default=None)
    args = parser.parse_args()
    if args.cmd == "speed":
        out = speed(args.actions, args.repeats)
        print(json.dumps(out))
        return
    if args.cmd == "report":
        print(report(args.cache, args.out, args.commit, args.command))
        return
    for seed in args.seeds:
        run(args.agent, seed, sorted(args.checkpoints), args.episodes, args.cache,
            args.stop_at, args.gradient_steps, log=lambda s: print(s, flush=True))


if __name__ == "__main__":
    main()
