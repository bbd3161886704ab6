"""Ours, SB3 and SBX at SB3's defaults on Pendulum-v1, in finer alternating chunks.

    python -m benchmarks.sbx_fine_speed SAC TD3 DDPG

A cross-check of the ``offpolicy`` suite's speed rows (chunks of 2,048 steps) for a
loaded machine: after a warm-up of 356 steps each (past ``learning_starts=100`` and
SBX's compilations), 4 rounds of 256-step chunks per library, the order rotated each
round; SBX in its own process pinned to one CPU (:mod:`benchmarks.sbx_speed`), ours and
SB3 in this one on one thread. Prints one line per algorithm.
"""

import gc
import sys
import time

CHUNK, ROUNDS, WARM = 256, 4, 356


def main(algos):
    import torch
    from stable_baselines3.common.env_util import make_vec_env

    import mlnotes.rl as ours_rl
    import stable_baselines3 as sb3
    from benchmarks import sbx_speed
    from benchmarks.harness import single_thread

    torch.set_num_threads(1)
    with single_thread():
        for algo in algos:
            models = {}
            for side, module in (("ours", ours_rl), ("ref", sb3)):
                env = make_vec_env("Pendulum-v1", n_envs=1, seed=0)
                models[side] = getattr(module, algo)("MlpPolicy", env, seed=0, device="cpu")
                models[side].learn(WARM)
            sbx, note = sbx_speed.open_agent(f"mlnotes.rl:{algo}", "Pendulum-v1", 0, {}, WARM,
                                             quick=False)
            if sbx is None:
                raise SystemExit(note)
            order = ["ours", "ref", "sbx"]
            spent = dict.fromkeys(order, 0.0)
            gc.disable()
            try:
                for turn in range(ROUNDS):
                    shift = turn % len(order)
                    for side in order[shift:] + order[:shift]:
                        if side == "sbx":
                            spent[side] += sbx.learn(CHUNK)
                            continue
                        start = time.perf_counter()
                        models[side].learn(CHUNK, reset_num_timesteps=False)
                        spent[side] += time.perf_counter() - start
            finally:
                gc.enable()
                sbx.close()
            r = {side: CHUNK * ROUNDS / seconds for side, seconds in spent.items()}
            print(f"{algo}: ours {r['ours']:.1f}, SB3 {r['ref']:.1f}, SBX {r['sbx']:.1f} "
                  f"steps/s; ours/SB3 {r['ours'] / r['ref']:.2f}, SBX/SB3 "
                  f"{r['sbx'] / r['ref']:.2f}, ours/SBX {r['ours'] / r['sbx']:.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["SAC", "TD3", "DDPG"])
