"""Offline RL side by side with d3rlpy: same dataset, gradient steps, network and seeds.

    python -m benchmarks.offline_d3rlpy --quality medium --algos IQL CQL TD3BC \\
        --seeds 0 1 2 3 4 --n-steps 20000 --out /tmp/offline

d3rlpy pins an older gymnasium (1.0) than the project, so it runs in its own virtual
environment, ``.venv-ref/d3rlpy`` (made on first use: torch's CPU build first, then
d3rlpy), driven through :mod:`benchmarks._d3rlpy_runner` with the dataset passed as an
``.npz`` file. Both sides: 256-256 networks, batch 256 (AWAC: 1,024, both libraries'
default and the paper's), learning rate 3e-4, gamma 0.99,
tau 0.005, the algorithms' shared hyperparameters (IQL expectile 0.7 / temperature 3 /
max weight 100; CQL weight 5 with 10 action samples and a fixed alpha; TD3+BC alpha 2.5;
AWAC lambda 1), observations not normalised (TD3+BC: ours standardises them, its
default), and the same evaluation: ``--episodes`` (20) deterministic Pendulum episodes
seeded 10,000, 10,001, ... (every cache keeps the per-episode returns; the first 10 are
the evaluation of earlier sessions). Beside them: the policy that made the data, remade
from the recipe's seed (:func:`mlnotes.rl.offline.make_dataset` with
``return_agent=True``; the remade data are checked equal to the cached ones) and
evaluated on the same episodes (``behaviour``), the recipe's own evaluation when it
stopped (``recipe``: selected upward by the stopping rule, on other episodes), the mean
return of the data's own noisy episodes, and :class:`mlnotes.rl.BC` with its defaults
on the same data. Fit time is the wall and the
process CPU time of the gradient steps (one thread each; CPU time is the comparison on a
loaded machine). Datasets and finished runs are cached in ``--out`` (a stopped run
resumes); ``offline-<quality>.md`` and ``offline-<quality>.png`` are written there.

One training run per dataset cannot tell the libraries apart (on one dataset the returns of
three training seeds spread by 190-380, as much as any gap between the libraries), so
``--init-seeds K`` trains each side K times per dataset, with seeds s, s + 10, ... (the
first is the single-run cache), and tabulates the mean over those runs.

``--eval-every E`` (a divisor of ``--n-steps``) also evaluates both sides after every
``E`` gradient steps of the same run (ours: ``fit`` called in pieces, which trains the
same steps as one call; d3rlpy: its epochs, with ``epoch_callback``), so one run gives
the returns of every smaller budget; the evaluations' time is left out of the fit
times. The report then adds the return after each budget and, per budget, how many
datasets meet the acceptance's bar (within 10% of the expert on expert data, above the
behaviour policy and BC otherwise).
"""

import argparse
import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.harness import episode_returns

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-ref" / "d3rlpy"
RUNNER = Path(__file__).resolve().with_name("_d3rlpy_runner.py")
OURS = {"IQL": {}, "CQL": {"cql_alpha": 5.0, "n_action_samples": 10}, "TD3BC": {},
        "AWAC": {}}


def ensure_venv(log=print):
    """Create ``.venv-ref/d3rlpy`` (torch CPU build, then d3rlpy) if it is missing."""
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    log(f"creating {VENV} (torch CPU build, then d3rlpy) ...")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + [f"torch=={torch.__version__.split('+')[0]}"], check=True)
    subprocess.run(pip + ["d3rlpy"], check=True)
    return python


EPISODES = 20


def evaluate(agent, episodes=None):
    """Mean and per-episode returns of deterministic episodes seeded 10,000, 10,001, ..."""
    returns = episode_returns(agent, "Pendulum-v1", episodes or EPISODES)
    return {"return": float(np.mean(returns)), "returns": [float(r) for r in returns]}


def _timed(fit):
    wall, cpu = time.perf_counter(), time.process_time()
    fit()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_ours(algo, data, n_steps, seed, every=None):
    """Train and evaluate; with ``every``, also evaluate after every ``every`` steps
    (``checkpoints``, with the cumulative times of the gradient steps). Fitting in pieces
    trains the same steps as one ``fit``: the agent keeps its state between calls."""
    from mlnotes import rl

    torch.set_num_threads(1)
    agent = getattr(rl, algo)("MlpPolicy", "Pendulum-v1", seed=seed, **OURS[algo])
    every = every or n_steps
    checkpoints, wall, cpu = [], 0.0, 0.0
    for done in range(every, n_steps + 1, every):
        piece_wall, piece_cpu = _timed(lambda: agent.fit(data, n_steps=every))
        wall, cpu = wall + piece_wall, cpu + piece_cpu
        checkpoints.append({"steps": done, **evaluate(agent), "seconds": wall,
                            "cpu_seconds": cpu})
    last = checkpoints[-1]
    run = {"return": last["return"], "returns": last["returns"], "seconds": wall,
           "cpu_seconds": cpu}
    return {**run, "checkpoints": checkpoints} if len(checkpoints) > 1 else run


def run_bc(data, seed):
    from mlnotes.rl import BC

    torch.set_num_threads(1)
    agent = BC("MlpPolicy", "Pendulum-v1", seed=seed)
    wall, cpu = _timed(lambda: agent.fit(data["observations"], data["actions"]))
    return {**evaluate(agent), "seconds": wall, "cpu_seconds": cpu}


def run_behaviour(quality, data_steps, seed, data):
    """Remake the data policy from the recipe's seed and evaluate it on our episodes."""
    from mlnotes.rl.offline import make_dataset

    torch.set_num_threads(1)
    again, agent = make_dataset("Pendulum-v1", quality, n_steps=data_steps, seed=seed,
                                return_agent=True)
    same = all(np.array_equal(again[k], data[k]) for k in again if k != "metadata")
    return {**evaluate(agent), "recipe": data["metadata"]["behaviour_return"],
            "recipe_again": again["metadata"]["behaviour_return"], "reproduced": same}


def run_d3rlpy(python, algo, npz, n_steps, seed, every=None):
    out = subprocess.run([str(python), str(RUNNER), algo, str(npz), str(n_steps), str(seed),
                          str(EPISODES), str(every or n_steps)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_dataset(out, quality, data_steps, seed, metadata_only=False):
    """``make_dataset`` once per (quality, size, seed); cached as ``.npz`` in ``out``.

    The dataset's metadata (the recipe's return, the data's mean episode return) is also
    kept in a small ``dataset-<quality>-<size>-<seed>.json`` beside the run caches, so
    that ``--report-only`` can tabulate committed caches without the (uncommitted)
    ``.npz``; with ``metadata_only`` that file is enough, and the data are remade only
    when neither exists. Returns the data (``{"metadata": ...}`` alone when read from
    that file), the ``.npz`` path and the behaviour agent when it was made here (``None``
    otherwise: :func:`run_behaviour` remakes it)."""
    from mlnotes.rl.offline import make_dataset

    npz = out / f"pendulum-{quality}-{data_steps}-{seed}.npz"
    meta_file = out / f"dataset-{quality}-{data_steps}-{seed}.json"
    if metadata_only and meta_file.exists() and not npz.exists():
        return {"metadata": json.loads(meta_file.read_text())}, npz, None
    agent = None
    if npz.exists():
        with np.load(npz) as f:
            data = {k: f[k] for k in f.files if k != "metadata"}
            data["metadata"] = ast.literal_eval(str(f["metadata"]))
    else:
        torch.set_num_threads(1)
        data, agent = make_dataset("Pendulum-v1", quality, n_steps=data_steps, seed=seed,
                                   return_agent=True)
        np.savez(npz, **{k: v for k, v in data.items() if k != "metadata"},
                 metadata=np.array(repr(data["metadata"])))
    if not meta_file.exists():
        meta_file.write_text(json.dumps(data["metadata"], default=repr, indent=1) + "\n")
    return data, npz, agent


def cached(path, compute):
    """The run cached in ``path``; computed (again) when missing or evaluated on fewer
    than ``EPISODES`` episodes (caches of earlier sessions kept only a 10-episode mean)."""
    if path.exists():
        result = json.loads(path.read_text())
        if len(result.get("returns", [])) >= EPISODES:
            return result
    result = compute()
    path.write_text(json.dumps(result))
    return result


def init_seeds(seed, k):
    """The training seeds of dataset ``seed``: ``seed, seed + 10, ...`` (``k`` of them;
    the first is the seed of the single-run tables)."""
    return [seed + 10 * j for j in range(k)]


def aggregate(runs):
    """One row from the runs of several training seeds on one dataset: the mean return
    and CPU time over the runs, and each run's return (``run_returns``); ``None`` when
    there is no run, the run itself when there is one."""
    if len(runs) <= 1:
        return runs[0] if runs else None
    row = {"return": float(np.mean([r["return"] for r in runs])),
           "returns": [x for r in runs for x in r["returns"]],
           "run_returns": [r["return"] for r in runs],
           "seconds": float(np.mean([r["seconds"] for r in runs])),
           "cpu_seconds": float(np.mean([r["cpu_seconds"] for r in runs]))}
    if all("checkpoints" in r for r in runs):
        row["checkpoints"] = [
            {"steps": points[0]["steps"],
             "return": float(np.mean([c["return"] for c in points])),
             "cpu_seconds": float(np.mean([c["cpu_seconds"] for c in points]))}
            for points in zip(*(r["checkpoints"] for r in runs))]
    return row


def meets_target(quality, row, value):
    """The acceptance's bar for one return: within 10% of the expert's (the behaviour
    policy's) return on expert data, above both the behaviour policy and BC otherwise."""
    if quality == "expert":
        return value >= row["behaviour"] - 0.1 * abs(row["behaviour"])
    return value > max(row["behaviour"], row["bc"])


def _secs(value):
    """Seconds to the unit, ``-`` where a run did not record them."""
    return "-" if value is None or not np.isfinite(value) else f"{value:.0f}"


def _mean_std(values):
    return f"{np.mean(values):.0f} ± {np.std(values):.0f}" if values else "-"


def _mean_se(run):
    """``mean ± standard error`` over a run's episodes (``-`` for a missing run)."""
    if not run:
        return "-"
    if "run_returns" in run:  # several training seeds: the mean, then each run
        return f"{run['return']:.0f} ({' / '.join(f'{r:.0f}' for r in run['run_returns'])})"
    returns = run.get("returns") or [run["return"]]
    se = np.std(returns, ddof=1) / np.sqrt(len(returns)) if len(returns) > 1 else np.nan
    return f"{run['return']:.0f} ± {se:.0f}"


def report(args, rows):
    """The Markdown table (per seed, then mean ± std over seeds) and the figure."""
    lines = [f"# Offline RL vs d3rlpy on Pendulum-v1 ({args.quality} data)", "",
             f"- command: `python -m benchmarks.offline_d3rlpy {' '.join(sys.argv[1:])}`",
             f"- {args.n_steps:,} gradient steps; {args.data_steps:,} transitions per dataset; "
             f"returns: mean ± standard error of {args.episodes} deterministic episodes "
             "seeded 10,000+, the same episodes for every policy; times: one thread, "
             "CPU seconds of the gradient steps (wall in brackets)",
             "- behaviour: the policy that made the data, remade from the recipe's seed and "
             "evaluated on those episodes; recipe: its own evaluation when the recipe "
             "stopped (10 other episodes, the first to reach the target: selected upward); "
             "data: mean return of the dataset's own (noisy) episodes; "
             "BC: `mlnotes.rl.BC` with its defaults on the same data"
             + ("" if args.init_seeds == 1 else
                f"; ours and d3rlpy: {args.init_seeds} training seeds per dataset (s, s + 10, "
                "...), the mean return over them with each run's return in brackets, "
                "CPU the mean per run"), "",
             "| seed | recipe | behaviour | data | BC | algo | ours | d3rlpy | CPU s ours | "
             "CPU s d3rlpy | CPU ratio |",
             "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        ref = r["ref"] or {}
        ratio = r["ours"]["cpu_seconds"] / ref["cpu_seconds"] if ref else float("nan")
        lines.append(
            f"| {r['seed']} | {r['recipe']:.0f} | {_mean_se(r['behaviour_run'])} | "
            f"{r['data']:.0f} | {_mean_se(r['bc_run'])} | "
            f"{r['algo']} | {_mean_se(r['ours'])} | {_mean_se(r['ref'])} | "
            f"{_secs(r['ours'].get('cpu_seconds'))} ({_secs(r['ours'].get('seconds'))}) | "
            f"{_secs(ref.get('cpu_seconds'))} ({_secs(ref.get('seconds'))}) | "
            f"{ratio:.2f} |")
    lines += ["", "Mean ± std over the seeds that finished:", "",
              "| algo | seeds | ours | d3rlpy | behaviour | BC | ours > behaviour and BC "
              "(seeds) | ours >= d3rlpy (seeds) | CPU ratio (mean) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for algo in args.algos:
        rs = [r for r in rows if r["algo"] == algo]
        if not rs:
            continue
        beat = sum(meets_target(args.quality, r, r["ours"]["return"]) for r in rs)
        both = [r for r in rs if r["ref"]]
        ge = f"{sum(r['ours']['return'] >= r['ref']['return'] for r in both)}/{len(both)}"
        ratio = np.mean([r["ours"]["cpu_seconds"] / r["ref"]["cpu_seconds"] for r in both]) \
            if both else float("nan")
        lines.append(
            f"| {algo} | {len(rs)} | {_mean_std([r['ours']['return'] for r in rs])} | "
            f"{_mean_std([r['ref']['return'] for r in both])} | "
            f"{_mean_std([r['behaviour'] for r in rs])} | "
            f"{_mean_std([r['bc'] for r in rs])} | {beat}/{len(rs)} | {ge} | "
            f"{ratio:.2f} |")
    if args.quality == "expert":
        lines.append("")
        lines.append("(expert data: the 'ours > behaviour and BC' column counts the seeds "
                     "within 10% of the expert's return instead)")
    lines += budget_table(args, rows)
    (args.out / f"offline-{args.quality}.md").write_text("\n".join(lines) + "\n")
    figure(args, rows)
    return lines


def budget_table(args, rows):
    """With ``--eval-every``: the return of both sides after each budget, and per budget
    how many datasets meet the acceptance's bar (:func:`meets_target`)."""
    rows = [r for r in rows if "checkpoints" in r["ours"]]
    if not rows:
        return []
    steps = [c["steps"] for c in rows[0]["ours"]["checkpoints"]]
    bar = ("within 10% of the expert" if args.quality == "expert"
           else "above the behaviour policy and BC")
    lines = ["", f"Return after each budget (ours / d3rlpy; one run to {args.n_steps:,} "
             f"steps evaluated every {args.eval_every:,}, on the same episodes):", "",
             "| seed | algo | " + " | ".join(f"{n:,}" for n in steps) + " |",
             "|---:|---|" + "---:|" * len(steps)]
    for r in rows:
        ours, ref = r["ours"]["checkpoints"], (r["ref"] or {}).get("checkpoints")
        cells = [f"{o['return']:.0f} / " + (f"{d['return']:.0f}" if ref else "-")
                 for o, d in zip(ours, ref or ours)]
        lines.append(f"| {r['seed']} | {r['algo']} | " + " | ".join(cells) + " |")
    lines += ["", f"Datasets {bar} after each budget (ours, d3rlpy) and ours >= d3rlpy:", "",
              "| algo | " + " | ".join(f"{n:,}" for n in steps) + " |",
              "|---|" + "---:|" * len(steps)]
    for algo in args.algos:
        rs = [r for r in rows if r["algo"] == algo]
        if not rs:
            continue
        both = [r for r in rs if (r["ref"] or {}).get("checkpoints")]
        cells = []
        for i in range(len(steps)):
            ours = sum(meets_target(args.quality, r, r["ours"]["checkpoints"][i]["return"])
                       for r in rs)
            ref = sum(meets_target(args.quality, r, r["ref"]["checkpoints"][i]["return"])
                      for r in both)
            ge = sum(r["ours"]["checkpoints"][i]["return"]
                     >= r["ref"]["checkpoints"][i]["return"] for r in both)
            cells.append(f"{ours}/{len(rs)}, {ref}/{len(both)}; {ge}/{len(both)}")
        lines.append(f"| {algo} | " + " | ".join(cells) + " |")
    return lines


def figure(args, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    algos = [a for a in args.algos if any(r["algo"] == a for r in rows)]
    if not algos:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(algos))
    for offset, key, label, colour in ((-0.2, "ours", "mlnotes", "tab:blue"),
                                       (0.2, "ref", "d3rlpy 2.8.1", "tab:orange")):
        vals = [[r[key]["return"] for r in rows if r["algo"] == a and r[key]] for a in algos]
        ax.bar(x + offset, [np.mean(v) if v else 0 for v in vals], 0.35,
               yerr=[np.std(v) if v else 0 for v in vals], color=colour, label=label,
               capsize=3)
        for i, v in enumerate(vals):
            ax.plot([x[i] + offset] * len(v), v, "k.", ms=4)
    seeds = sorted({r["seed"] for r in rows})
    by_seed = {r["seed"]: r for r in rows}
    for key, label, style in (("behaviour", "behaviour policy", "--"), ("bc", "BC", ":"),
                              ("data", "data episodes", "-.")):
        ax.axhline(np.mean([by_seed[s][key] for s in seeds]), color="k", ls=style, lw=1,
                   label=label)
    ax.set_xticks(x, algos)
    ax.set_ylabel(f"return ({args.episodes} seeded episodes)")
    ax.set_title(f"Pendulum-v1, {args.quality} data, {args.n_steps:,} gradient steps, "
                 f"seeds {', '.join(map(str, seeds))}")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / f"offline-{args.quality}.png", dpi=110)


def main():
    global EPISODES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="medium",
                        choices=("random", "medium", "medium-replay", "expert"))
    parser.add_argument("--algos", nargs="+", default=["IQL", "CQL", "TD3BC"],
                        choices=list(OURS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-steps", type=int, default=20_000)
    parser.add_argument("--data-steps", type=int, default=20_000)
    parser.add_argument("--init-seeds", type=int, default=1,
                        help="training seeds per dataset (s, s + 10, ...): one seed's run "
                             "spread is as large as the gaps between libraries")
    parser.add_argument("--eval-every", type=int, default=None,
                        help="also evaluate both sides every this many gradient steps (a "
                             "divisor of --n-steps): one run gives the returns of every "
                             "smaller budget")
    parser.add_argument("--episodes", type=int, default=EPISODES,
                        help="evaluation episodes (seeded 10,000+) of every policy")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "local")
    parser.add_argument("--report-only", action="store_true",
                        help="only tabulate the runs already cached in --out (a dataset "
                             "whose metadata file is missing there is remade)")
    args = parser.parse_args()
    if args.eval_every is not None and (args.eval_every < 1
                                        or args.n_steps % args.eval_every):
        parser.error("--eval-every must divide --n-steps")
    if args.eval_every == args.n_steps:
        args.eval_every = None
    EPISODES = args.episodes
    args.out.mkdir(parents=True, exist_ok=True)
    python = ensure_venv()
    rows = []
    for seed in args.seeds:
        tag = f"{args.quality}-{args.data_steps}-{seed}"
        if args.report_only and not (args.out / f"run-BC-{tag}.json").exists():
            continue
        data, npz, agent = load_dataset(args.out, args.quality, args.data_steps, seed,
                                        metadata_only=args.report_only)
        meta = data["metadata"]
        bc = cached(args.out / f"run-BC-{tag}.json", lambda: run_bc(data, seed))
        behaviour = None
        if meta.get("behaviour_return") is not None and (
                not args.report_only or (args.out / f"run-behaviour-{tag}.json").exists()):
            behaviour = cached(
                args.out / f"run-behaviour-{tag}.json",
                lambda: run_behaviour(args.quality, args.data_steps, seed, data) if agent is None
                else {**evaluate(agent), "recipe": data["metadata"]["behaviour_return"]})
        for algo in args.algos:
            stem = f"{algo}-{tag}-{args.n_steps}" + (
                f"-every{args.eval_every}" if args.eval_every else "")
            ours_runs, ref_runs = [], []
            for run_seed in init_seeds(seed, args.init_seeds):
                suffix = "" if run_seed == seed else f"-i{run_seed}"
                ours_file = args.out / f"run-ours-{stem}{suffix}.json"
                ref_file = args.out / f"run-d3rlpy-{stem}{suffix}.json"
                if args.report_only and not ours_file.exists():
                    continue
                ours_runs.append(cached(
                    ours_file, lambda: run_ours(algo, data, args.n_steps, run_seed,
                                                args.eval_every)))
                # report-only: a run whose d3rlpy side did not finish is left out ("-")
                if not args.report_only or ref_file.exists():
                    ref_runs.append(cached(
                        ref_file, lambda: run_d3rlpy(python, algo, npz, args.n_steps,
                                                     run_seed, args.eval_every)))
            if not ours_runs:
                continue
            ours, ref = aggregate(ours_runs), aggregate(ref_runs)
            nan = float("nan")
            rows.append({"seed": seed, "algo": algo, "ours": ours, "ref": ref,
                         "behaviour": behaviour["return"] if behaviour else nan,
                         "behaviour_run": behaviour,
                         "recipe": meta.get("behaviour_return") or nan,
                         "data": meta.get("dataset_return") or nan, "bc": bc["return"],
                         "bc_run": bc})
            print(report(args, rows)[len(rows) + 7], flush=True)
    print("\n".join(report(args, rows)))


if __name__ == "__main__":
    main()
