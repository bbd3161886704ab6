"""SBX (Stable-Baselines3 in JAX, ``sbx-rl``) as a third side of the RL speed rows.

SBX needs JAX, flax, optax and tfp-nightly, and pins its own versions, so it runs in its
own virtual environment, ``.venv-ref/sbx`` (git-ignored; made on first use: torch's CPU
build first, since ``stable_baselines3`` imports it, then ``sbx-rl`` with the project's
``stable-baselines3``, ``gymnasium`` and ``numpy`` versions). One
:class:`SbxAgent` is one long-lived :mod:`benchmarks._sbx_runner` process holding one
model, so a speed row can alternate chunks of ``learn`` between ours, SB3 (in the suite's
process) and SBX (in its process, idle while the others run): the three are interleaved
chunk by chunk, as ours and SB3 are.

One thread: the runner starts with ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1``, ``JAX_PLATFORMS=cpu`` and the usual OMP/BLAS variables
at 1, and turns JAX's CPU async dispatch off (``jax_cpu_enable_async_dispatch=False``:
otherwise XLA computes on a worker thread while the Python thread goes on, measured here
as 21% of SBX PPO's CPU time on a second thread), and pins itself to one CPU before
JAX starts (XLA's CPU runtime still splits fused loops over an Eigen pool sized from
the usable CPUs: unpinned, two ``tf_XLAEigen`` threads did 64% of SBX SAC's CPU
time), so it uses one core at a time, as ours and SB3. Each ``learn`` answer carries the
process's CPU time and the share of it spent by its busiest thread (read from
``/proc``); pinned, the Python thread and one pool thread alternate, so that share is
no longer 1 and the pinning is what bounds SBX to one core.

    python -m benchmarks.sbx_speed --install     # make the venv (a few minutes)
    python -m benchmarks.sbx_speed --check       # versions, devices and XLA flags

The suites use SBX when ``.venv-ref/sbx`` exists, or in full (not ``--quick``) runs after
making it; ``BENCH_SBX=0`` leaves SBX out, ``BENCH_SBX=1`` makes the venv in quick runs too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-ref" / "sbx"
RUNNER = Path(__file__).resolve().with_name("_sbx_runner.py")
#: SBX's class for each of our algorithms (SBX has no TRPO)
SBX_ALGOS = {"PPO": "PPO", "DQN": "DQN", "SAC": "SAC", "TD3": "TD3", "DDPG": "DDPG"}
ONE_THREAD_ENV = {
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
}


#: SBX arguments that give SB3's defaults where SBX's own differ in compute (the network
#: sizes of TD3/DDPG, [400, 300] in SB3, [256, 256] in SBX) or in values (DDPG's learning
#: rates, 1e-3 for both networks in SB3); PPO's ``ortho_init`` and DQN's gradient clipping
#: (SB3 only) are left as SBX has them
SB3_DEFAULTS = {
    "TD3": {"policy_kwargs": {"net_arch": [400, 300]}},
    "DDPG": {"learning_rate": 1e-3, "qf_learning_rate": 1e-3,
             "policy_kwargs": {"net_arch": [400, 300]}},
}


def sbx_params(algo: str, params: dict) -> dict | None:
    """SB3 hyperparameters ``params`` as SBX arguments, or None if one cannot be sent
    (an object such as an action-noise instance or a schedule)."""
    out = json.loads(json.dumps(SB3_DEFAULTS.get(algo, {})))
    for key, value in params.items():
        try:
            value = json.loads(json.dumps(value))
        except TypeError:
            return None
        if key == "policy_kwargs":
            out.setdefault(key, {}).update(value)
        else:
            out[key] = value
    return out


def open_agent(ours: str, env_id: str, seed: int, params: dict, warm_up: int, quick: bool,
               log=print):
    """``(SbxAgent or None, reason)``: SBX's twin of ``ours`` (a dotted name) trained
    ``warm_up`` steps, or None with the reason it is left out."""
    algo = sbx_name(ours)
    if algo is None:
        return None, "SBX has no such algorithm"
    if not wanted(quick):
        return None, "SBX left out (quick run without .venv-ref/sbx, or BENCH_SBX=0)"
    sent = sbx_params(algo, params)
    if sent is None:
        return None, "hyperparameters not expressible for SBX"
    try:
        return SbxAgent(algo, env_id, seed, sent, warm_up=warm_up,
                        python=ensure_venv(log)), ""
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        return None, f"SBX unavailable: {exc}"[:200]


def _pinned_versions():
    from importlib.metadata import version

    return {name: version(name) for name in ("stable-baselines3", "gymnasium", "numpy")}


def ensure_venv(log=print):
    """Path of ``.venv-ref/sbx``'s python, making the venv first if it is missing."""
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    import torch

    log(f"creating {VENV} (torch CPU build, then sbx-rl) ...")
    VENV.parent.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + [f"torch=={torch.__version__.split('+')[0]}"], check=True)
    subprocess.run(pip + [f"{k}=={v}" for k, v in _pinned_versions().items()] + ["sbx-rl"],
                   check=True)
    return python


def wanted(quick: bool) -> bool:
    """Whether the speed rows should include SBX (see the module docstring)."""
    flag = os.environ.get("BENCH_SBX", "")
    if flag == "0":
        return False
    return flag == "1" or not quick or (VENV / "bin" / "python").exists()


def sbx_name(dotted: str) -> str | None:
    """SBX's class name for one of ours (``"mlnotes.rl:SAC"`` -> ``"SAC"``), or None."""
    return SBX_ALGOS.get(dotted.rsplit(":", 1)[-1].rsplit(".", 1)[-1])


class SbxAgent:
    """One SBX model in its own process; :meth:`learn` returns the seconds it took.

    Parameters are those of the SBX class (JSON-serialisable: ``policy_kwargs`` with
    ``net_arch`` lists is fine; action-noise objects are not).
    """

    def __init__(self, algo, env_id, seed, params=None, warm_up=0, python=None):
        python = python or ensure_venv()
        env = dict(os.environ, **ONE_THREAD_ENV)
        env.pop("PYTHONPATH", None)
        # -I: neither this checkout's benchmarks/ nor PYTHON* variables on its path
        self.proc = subprocess.Popen([str(python), "-I", str(RUNNER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.cpu_seconds = 0.0
        self.thread_shares = []
        self.call("make", algo=algo, env_id=env_id, seed=seed, params=params or {},
                  warm_up=warm_up)

    def call(self, op, **kwargs):
        self.proc.stdin.write(json.dumps(dict(op=op, **kwargs)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the SBX runner exited (code {self.proc.wait()})")
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise RuntimeError(f"SBX {op}: {answer['error']}")
        return answer

    def learn(self, steps: int) -> float:
        answer = self.call("learn", steps=steps)
        self.cpu_seconds += answer["cpu_seconds"]
        if "busiest_thread_share" in answer:
            self.thread_shares.append(answer["busiest_thread_share"])
        return answer["seconds"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="make .venv-ref/sbx")
    parser.add_argument("--check", action="store_true",
                        help="print SBX's versions, devices and XLA flags")
    args = parser.parse_args(argv)
    python = ensure_venv()
    if args.check:
        with SbxAgent("SAC", "Pendulum-v1", 0, python=python) as agent:
            print(json.dumps(agent.call("info")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
