"""mlnotes' torch thread choice against one thread and torch's default: ``python -m benchmarks.threads``.

Rows of the ``agents``, ``neural_network`` and ``density`` suites, shortened (fewer
steps or epochs: the per-step cost is what threads change), each run in a fresh process
under three settings:

``mlnotes``
    nothing set by the user: mlnotes chooses (``MLNOTES_TORCH_THREADS`` unset);
``one``
    the user called ``torch.set_num_threads(1)`` and mlnotes leaves it
    (``MLNOTES_TORCH_THREADS=torch``);
``torch``
    torch's default thread count, left alone (``MLNOTES_TORCH_THREADS=torch``).

The settings alternate within every repeat (rotated order) so that load drifting on a
shared machine hits all three; the median of the repeats is reported. Acceptance (issue
12): ``mlnotes`` within 10% of the better of ``one`` and ``torch`` on every row.

    python -m benchmarks.threads                  # every row, 3 repeats
    python -m benchmarks.threads --only A2C,MADE --repeats 2 --out /tmp/threads
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "local"
SETTINGS = ("mlnotes", "one", "torch")
TOLERANCE = 1.10

# name -> (suite, description, code run in the child; it defines `work()`; the child
# times work() after one warm-up call of `warm()` if defined)
ROWS = {
    "A2C": ("agents", "A2C MlpPolicy CartPole-v1, learn(4,000) (SB3 defaults)", """
from mlnotes.rl import A2C
agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
def warm():
    agent.learn(200)
def work():
    agent.learn(4000, reset_num_timesteps=False)
"""),
    "PPO": ("agents", "PPO MlpPolicy CartPole-v1, learn(4,096) (SB3 defaults)", """
from mlnotes.rl import PPO
agent = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
def warm():
    agent.learn(64)
def work():
    agent.learn(4096, reset_num_timesteps=False)
"""),
    "MLPClassifier": ("neural_network", "MLPClassifier adam on digits, 30 epochs", """
import warnings
from sklearn.datasets import load_digits
from mlnotes.neural_network import MLPClassifier
X, y = load_digits(return_X_y=True); X = X / 16.0
def work():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(max_iter=30, random_state=0).fit(X, y).predict(X)
"""),
    "CNNClassifier": ("neural_network", "CNNClassifier image_shape=(8, 8) on digits, 2 "
                      "epochs", """
import warnings
from sklearn.datasets import load_digits
from mlnotes.neural_network import CNNClassifier
X, y = load_digits(return_X_y=True); X = X / 16.0
def work():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CNNClassifier(image_shape=(8, 8), max_iter=2, random_state=0).fit(X, y).predict(X)
"""),
    "MADE": ("density", "MADE defaults on binarised digits, 10 epochs", """
from sklearn.datasets import load_digits
from mlnotes.density import MADE
X = (load_digits().data >= 8).astype(int)
def work():
    MADE(max_iter=10, random_state=0).fit(X).score_samples(X)
"""),
    "PixelCNN": ("density", "PixelCNN image_shape=(8, 8) on binarised digits, 1 epoch", """
from sklearn.datasets import load_digits
from mlnotes.density import PixelCNN
X = (load_digits().data >= 8).astype(int)
def work():
    PixelCNN(image_shape=(8, 8), max_iter=1, random_state=0).fit(X).score_samples(X)
"""),
    "TransformerAR": ("density", "TransformerAR defaults on binarised digits, 3 epochs",
                      """
from sklearn.datasets import load_digits
from mlnotes.density import TransformerAR
X = (load_digits().data >= 8).astype(int)
def work():
    TransformerAR(max_iter=3, random_state=0).fit(X).score_samples(X)
"""),
}


def _child(name: str, setting: str) -> None:
    import torch

    if setting == "one":
        torch.set_num_threads(1)
    namespace: dict = {}
    exec(ROWS[name][2], namespace)  # noqa: S102 - our own fixed snippets
    if "warm" in namespace:
        namespace["warm"]()
    before = torch.get_num_threads()
    start = time.perf_counter()
    namespace["work"]()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "threads_before": before,
                      "threads_after": torch.get_num_threads()}))


def _run(name: str, setting: str, timeout: float) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(var, None)  # torch's default must be its own
    if setting == "mlnotes":
        env.pop("MLNOTES_TORCH_THREADS", None)
    else:
        env["MLNOTES_TORCH_THREADS"] = "torch"
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.threads", "--child", name,
                               setting], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:  # a lower bound, not a failure
        return {"seconds": timeout, "timeout": True, "threads_before": "?",
                "threads_after": "?"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(lines[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.threads",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--only", default="", help="comma-separated row names")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--settings", default=",".join(SETTINGS),
                   help="comma-separated subset of mlnotes,one,torch (a missing one is "
                        "shown as -)")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    from benchmarks.cli import publish_refusal
    from benchmarks.report import environment

    refusal = publish_refusal(args.out)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    names = [n for n in ROWS if not args.only or n in args.only.split(",")]
    settings = tuple(s for s in SETTINGS if s in args.settings.split(","))
    times = {n: {s: [] for s in SETTINGS} for n in names}
    timeouts = set()
    errors = {}
    for rep in range(args.repeats):
        for name in names:
            k = rep % len(settings)
            order = settings[k:] + settings[:k]
            for setting in order:
                r = _run(name, setting, args.timeout)
                if "error" in r:
                    errors[(name, setting)] = r["error"]
                    continue
                times[name][setting].append(r["seconds"])
                if r.get("timeout"):
                    timeouts.add((name, setting))
                print(f"  {name:<14} {setting:<8} {r['seconds']:7.2f} s (threads "
                      f"{r['threads_before']} -> {r['threads_after']})", file=sys.stderr,
                      flush=True)
    env = environment()
    lines = [
        "# Torch threads: mlnotes' choice vs one thread vs torch's default", "",
        f"- command: `python -m benchmarks.threads {' '.join(argv or sys.argv[1:])}`",
        f"- date: {env['date']}; git {env['git']}",
        f"- machine: {env['machine']}; torch's default here: {os.cpu_count()} threads; load "
        f"average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"- each cell: median seconds of {args.repeats} fresh processes, the three "
        "settings interleaved; *ratio*: mlnotes / the better of the other two "
        f"(criterion <= {TOLERANCE:.2f})", "",
        "| suite | row | mlnotes s | one thread s | torch default s | ratio | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    worst = 0.0
    for name in names:
        med = {s: statistics.median(v) if v else None for s, v in times[name].items()}
        if any(med[s] is None for s in settings):
            bad = {s: errors.get((name, s)) for s, v in med.items() if v is None}
            lines.append(f"| {ROWS[name][0]} | {name} | – | – | – | – | error: {bad} |")
            continue
        ratio = med["mlnotes"] / min(med[s] for s in settings if s != "mlnotes")
        worst = max(worst, ratio)

        def cell(setting):
            if med[setting] is None:
                return "-"
            over = (name, setting) in timeouts  # killed at the timeout: a lower bound
            return f"{'> ' if over else ''}{med[setting]:.2f}"

        lines.append(f"| {ROWS[name][0]} | {name}: {ROWS[name][1]} | {cell('mlnotes')} | "
                     f"{cell('one')} | {cell('torch')} | {ratio:.2f} | "
                     f"{'met' if ratio <= TOLERANCE else 'NOT met'} |")
    if timeouts:
        lines += ["", f"> x: the process was stopped at the {args.timeout:.0f} s timeout "
                  "(a lower bound)."]
    lines += ["", f"Worst ratio {worst:.2f} (criterion <= {TOLERANCE:.2f}): "
              f"**{'met' if worst <= TOLERANCE and not errors else 'NOT met'}**"]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "threads.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
