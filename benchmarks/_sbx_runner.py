"""Drive SBX agents for the speed rows, one JSON command per line (inside ``.venv-ref/sbx``).

    XLA_FLAGS=... python _sbx_runner.py

Reads JSON lines on stdin and answers one JSON line each on stdout:

- ``{"op": "make", "algo": "SAC", "env_id": "Pendulum-v1", "seed": 0, "params": {...},
  "warm_up": 350}``: builds ``sbx.<algo>("MlpPolicy", make_vec_env(env_id, n_envs=1,
  seed=seed), seed=seed, **params)`` and trains it ``warm_up`` steps (past
  ``learning_starts`` and the jit compilations); answers ``{"ok": true, "seconds": ...}``.
- ``{"op": "learn", "steps": 2048}``: ``learn(steps, reset_num_timesteps=False)``; answers
  ``{"ok": true, "seconds": <wall time of learn>, "cpu_seconds": <CPU time of the
  process, all threads>, "busiest_thread_share": <its busiest thread's share of that
  CPU time>}`` (close to 1: one thread did the work).
- ``{"op": "info"}``: versions and the XLA flags in force.
- ``{"op": "quit"}``.

A failure answers ``{"ok": false, "error": "..."}``. The process pins itself to one
CPU before importing JAX (:func:`pin_to_one_cpu`). Only the time inside ``learn`` is
reported, so the pipe's latency is not counted. This file imports only sbx, jax,
stable_baselines3 and gymnasium (not mlnotes); see :mod:`benchmarks.sbx_speed`.
"""

import json
import os
import sys
import time


def _thread_ticks():
    """CPU ticks (user + system) of each thread of this process (Linux; else {})."""
    ticks = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks[tid] = int(fields[11]) + int(fields[12])
    except OSError:
        return {}
    return ticks


def pin_to_one_cpu():
    """Keep this process on one CPU (the last it may use; ``SBX_CPU`` picks another),
    before JAX starts: XLA's CPU runtime splits fused loops over an Eigen thread pool
    sized from the CPUs it may use, whatever ``--xla_cpu_multi_thread_eigen`` says
    (measured: two ``tf_XLAEigen`` threads doing 64% of SBX SAC's CPU time); on one CPU
    the pool has one thread and the process uses one core at a time, as ours and SB3."""
    allowed = sorted(os.sched_getaffinity(0))
    cpu = int(os.environ.get("SBX_CPU", allowed[-1]))
    os.sched_setaffinity(0, {cpu})
    return cpu


def main():
    cpu = pin_to_one_cpu()
    import jax
    import sbx
    import stable_baselines3
    import torch  # stable_baselines3 imports it; keep it on one thread too
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    jax.config.update("jax_platforms", "cpu")
    # XLA on CPU otherwise runs each computation on a worker thread while Python goes on
    # (async dispatch): two threads at work; inline, one thread does everything
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    out = sys.stdout
    sys.stdout = sys.stderr  # library prints must not corrupt the protocol
    model = None
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["op"] == "make":
                cls = getattr(sbx, cmd["algo"])
                env = make_vec_env(cmd["env_id"], n_envs=1, seed=cmd["seed"])
                start = time.perf_counter()
                model = cls("MlpPolicy", env, seed=cmd["seed"], **cmd.get("params", {}))
                if cmd.get("warm_up"):
                    model.learn(cmd["warm_up"])
                answer = {"ok": True, "seconds": time.perf_counter() - start}
            elif cmd["op"] == "learn":
                before = _thread_ticks()
                start, cpu = time.perf_counter(), time.process_time()
                model.learn(cmd["steps"], reset_num_timesteps=False)
                answer = {"ok": True, "seconds": time.perf_counter() - start,
                          "cpu_seconds": time.process_time() - cpu}
                after = _thread_ticks()
                spent = sorted((after[t] - before.get(t, 0) for t in after), reverse=True)
                if spent and sum(spent) > 0:
                    answer["busiest_thread_share"] = spent[0] / sum(spent)
            elif cmd["op"] == "info":
                answer = {"ok": True, "sbx": sbx.__version__, "jax": jax.__version__,
                          "stable_baselines3": stable_baselines3.__version__,
                          "devices": [str(d) for d in jax.devices()],
                          "xla_flags": os.environ.get("XLA_FLAGS", ""), "cpu": cpu}
            elif cmd["op"] == "quit":
                break
            else:
                answer = {"ok": False, "error": f"unknown op {cmd['op']!r}"}
        except Exception as exc:  # report, keep serving
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
