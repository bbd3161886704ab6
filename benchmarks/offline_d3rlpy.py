"""Offline RL side by side with d3rlpy: same dataset, gradient steps, network and seeds.

    python -m benchmarks.offline_d3rlpy --quality medium --algos IQL CQL TD3BC AWAC \\
        --seeds 0 1 2 3 4 --n-steps 20000 --out /tmp/offline

d3rlpy pins an older gymnasium (1.0) than the project, so it runs in its own virtual
environment, ``.venv-ref/d3rlpy`` (made on first use: torch's CPU build first, then
d3rlpy), driven through :mod:`benchmarks._d3rlpy_runner` with the dataset passed as an
``.npz`` file. Both sides: 256-256 networks, batch 256, learning rate 3e-4, gamma 0.99,
tau 0.005, the algorithms' shared hyperparameters (IQL expectile 0.7 / temperature 3 /
max weight 100; CQL weight 5 with 10 action samples and a fixed alpha; TD3+BC alpha 2.5;
AWAC lambda 1), observations not normalised, and the same evaluation: 10 deterministic
Pendulum episodes seeded 10,000 to 10,009. Fit time is the wall time of the gradient steps
(one thread each). Writes ``offline-d3rlpy.md`` to ``--out``.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

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


def evaluate(agent, episodes=10):
    """Mean return of deterministic episodes seeded 10,000, 10,001, ... (as the runner)."""
    env = gym.make("Pendulum-v1")
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        done, total = False, 0.0
        while not done:
            action = agent.predict(obs, deterministic=True)[0]
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def run_ours(algo, data, n_steps, seed):
    from mlnotes import rl

    torch.set_num_threads(1)
    agent = getattr(rl, algo)("MlpPolicy", "Pendulum-v1", seed=seed, **OURS[algo])
    start = time.perf_counter()
    agent.fit(data, n_steps=n_steps)
    return evaluate(agent), time.perf_counter() - start


def run_d3rlpy(python, algo, npz, n_steps, seed):
    out = subprocess.run([str(python), str(RUNNER), algo, str(npz), str(n_steps), str(seed)],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["return"], result["seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="medium",
                        choices=("random", "medium", "medium-replay", "expert"))
    parser.add_argument("--algos", nargs="+", default=list(OURS), choices=list(OURS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-steps", type=int, default=20_000)
    parser.add_argument("--data-steps", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "local")
    args = parser.parse_args()
    from mlnotes.rl.offline import make_dataset

    args.out.mkdir(parents=True, exist_ok=True)
    python = ensure_venv()
    lines = [f"# Offline RL vs d3rlpy on Pendulum-v1 ({args.quality} data)", "",
             f"- command: `python -m benchmarks.offline_d3rlpy {' '.join(sys.argv[1:])}`",
             f"- {args.n_steps:,} gradient steps; {args.data_steps:,} transitions; "
             "returns: 10 deterministic episodes", "",
             "| algo | seed | behaviour return | ours | d3rlpy | fit s ours | fit s d3rlpy |"
             " time ratio |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for seed in args.seeds:
        data = make_dataset("Pendulum-v1", args.quality, n_steps=args.data_steps, seed=seed)
        behaviour = data["metadata"]["behaviour_return"]
        npz = args.out / f"pendulum-{args.quality}-{seed}.npz"
        np.savez(npz, **{k: v for k, v in data.items() if k != "metadata"})
        for algo in args.algos:
            ours, t_ours = run_ours(algo, data, args.n_steps, seed)
            ref, t_ref = run_d3rlpy(python, algo, npz, args.n_steps, seed)
            b = "-" if behaviour is None else f"{behaviour:.1f}"
            lines.append(f"| {algo} | {seed} | {b} | {ours:.1f} | {ref:.1f} | {t_ours:.0f} |"
                         f" {t_ref:.0f} | {t_ours / t_ref:.2f}x |")
            print(lines[-1], flush=True)
    (args.out / "offline-d3rlpy.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
