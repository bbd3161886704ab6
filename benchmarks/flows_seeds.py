"""Our NeuralSplineFlow and MAF against zuko's NSF and MAF over several training seeds.

``python -m benchmarks.flows_seeds [--seeds 0 1 2] [--datasets two_moons eight_gaussians]
[--models NeuralSplineFlow MAF] [--params JSON] [--out DIR]``

The ``flows`` suite compares ours and zuko's at one seed; its differences in held-out NLL
(hundredths of a nat) are of the size of the seed-to-seed spread, so this script repeats
the comparison over training seeds ``s`` (the initial weights and batch order of both:
``random_state=s`` for ours, ``torch.manual_seed(s)`` and ``RandomState(s)`` batches for
zuko's, trained by :class:`benchmarks.suites.flows.ZukoFlow` exactly as in the suite) on
the suite's data (10,000 training rows drawn with seed 0, 20,000 held-out rows with seed
1). Per (dataset, model, seed) it records both held-out NLLs, their difference (ours
minus zuko, negative = ours better) and the ratio of the fits' CPU times (one thread, the
two fits run back to back in this process); the summary gives the mean and the sample
standard deviation of the difference and of the ratio over the seeds. Results go to
``DIR/flows-seeds.md`` (and ``.json``), one line per finished fit pair, so that a
stopped run keeps what it finished. ``--reuse-zuko`` takes zuko's NLL and CPU time from
a finished row of the same dataset, model and seed instead of refitting it (zuko's fit
is deterministic at one thread; its CPU ratio then compares fits run at different
times, marked in the table). ``--params`` (a JSON object, e.g.
``'{"n_bins": 24, "tail_bound": 5.0}'``) sets parameters of our flows other than their
defaults, to compare candidate defaults with zuko's at its defaults; rows record them
and the cache tells them apart.
"""

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

ZUKO_KIND = {"NeuralSplineFlow": "NSF", "MAF": "MAF"}


def _pair(model, dataset, seed, params=None, zuko_row=None):
    import torch

    import mlnotes.density as density
    from benchmarks.suites.flows import N_TEST, N_TRAIN, ZukoFlow
    from mlnotes.datasets import entropy, make_density

    X, X_test = (make_density(dataset, N_TRAIN, random_state=0),
                 make_density(dataset, N_TEST, random_state=1))
    torch.set_num_threads(1)
    params = params or {}
    ours = getattr(density, model)(random_state=seed, **{
        k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
    theirs = ZukoFlow(ZUKO_KIND[model], epochs=ours.max_iter, batch_size=ours.batch_size,
                      learning_rate_init=ours.learning_rate_init,
                      gradient_clipping=ours.gradient_clipping, random_state=seed)
    row = dict(dataset=dataset, model=model, seed=seed, entropy=entropy(dataset),
               params=params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, est in (("ours", ours), ("zuko", theirs)):
            if name == "zuko" and zuko_row is not None:
                row.update(zuko_nll=zuko_row["zuko_nll"], zuko_cpu=zuko_row["zuko_cpu"],
                           zuko_reused=True)
                continue
            c0 = time.thread_time()
            est.fit(X)
            row[f"{name}_cpu"] = time.thread_time() - c0
            row[f"{name}_nll"] = float(-np.mean(est.score_samples(X_test)))
    row["diff"] = row["ours_nll"] - row["zuko_nll"]
    row["cpu_ratio"] = row["ours_cpu"] / row["zuko_cpu"]
    return row


def _mean_std(values):
    return (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


def _params_text(row):
    params = row.get("params") or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "defaults"


def _write(rows, out, argv):
    lines = [
        "# Flows over training seeds: our NeuralSplineFlow and MAF vs zuko's NSF and MAF",
        "",
        f"- command: `python -m benchmarks.flows_seeds {' '.join(argv)}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; one thread; "
        "fits back to back in one process (CPU time = `time.thread_time`)",
        "- data: 10,000 training rows (seed 0), 20,000 held-out rows (seed 1), as the "
        "`flows` suite; the seed is the training seed of both flows (weights, batches).",
        "- diff = our held-out NLL minus zuko's (nats; negative: ours better); "
        "CPU ratio = our fit's CPU time over zuko's (below 1: ours faster).",
        "",
        "| dataset | model | ours' params | seed | NLL − H ours | NLL − H zuko | diff | "
        "CPU s ours | CPU s zuko | CPU ratio |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['model']} | {_params_text(r)} | {r['seed']} | "
            f"{r['ours_nll'] - r['entropy']:.4f} | {r['zuko_nll'] - r['entropy']:.4f} | "
            f"{r['diff']:+.4f} | {r['ours_cpu']:.1f} | {r['zuko_cpu']:.1f}"
            f"{' (reused)' if r.get('zuko_reused') else ''} | "
            f"{r['cpu_ratio']:.3f} |")
    lines += ["", "| dataset | model | ours' params | seeds | NLL − H ours (mean) | "
              "diff mean ± std | CPU ratio mean ± std |",
              "|---|---|---|---:|---:|---:|---:|"]
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["model"], _params_text(r)), []).append(r)
    for (dataset, model, params), rs in groups.items():
        d = _mean_std([r["diff"] for r in rs])
        c = _mean_std([r["cpu_ratio"] for r in rs])
        gap = statistics.fmean([r["ours_nll"] - r["entropy"] for r in rs])
        lines.append(f"| {dataset} | {model} | {params} | {len(rs)} | {gap:.4f} | "
                     f"{d[0]:+.4f} ± {d[1]:.4f} | {c[0]:.3f} ± {c[1]:.3f} |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "flows-seeds.md").write_text("\n".join(lines) + "\n")
    (out / "flows-seeds.json").write_text(json.dumps(rows, indent=1))


def main(argv=None):
    import sys

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=["two_moons", "eight_gaussians"])
    parser.add_argument("--models", nargs="+", default=["NeuralSplineFlow", "MAF"])
    parser.add_argument("--params", type=json.loads, default={},
                        help="JSON object of parameters of our flows (default: none)")
    parser.add_argument("--reuse-zuko", action="store_true",
                        help="reuse zuko's fit of a finished row (same dataset, model, "
                        "seed) instead of refitting it")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    out = Path(args.out)
    cache = out / "flows-seeds.json"
    rows = json.loads(cache.read_text()) if cache.exists() else []
    done = {(r["dataset"], r["model"], r["seed"], _params_text(r)) for r in rows}
    tag = _params_text({"params": args.params})
    for dataset in args.datasets:
        for model in args.models:
            for seed in args.seeds:
                if (dataset, model, seed, tag) in done:
                    continue
                zuko_row = next((r for r in rows if args.reuse_zuko
                                 and not r.get("zuko_reused")
                                 and (r["dataset"], r["model"], r["seed"])
                                 == (dataset, model, seed)), None)
                row = _pair(model, dataset, seed, args.params, zuko_row)
                rows.append(row)
                print(f"{dataset} {model} [{tag}] seed {seed}: diff {row['diff']:+.4f}, "
                      f"CPU ratio {row['cpu_ratio']:.3f}", flush=True)
                _write(rows, out, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
