"""How much of a TD3/DDPG env step is the hidden layers' matrix products (issue 19 speed).

    python -m benchmarks.offpolicy_gemm_floor TD3 DDPG [--steps 200]

At SB3's defaults (``net_arch=[400, 300]``, ``batch_size=256``) every gradient step
multiplies 256 x 400 by 400 x 300 matrices (or the transposes of the backward pass)
about a dozen times. For each algorithm, ours and SB3's, warmed up past
``learning_starts`` on Pendulum-v1 with one thread, this prints:

- the CPU time of one env step (the median of ``--rounds`` interleaved chunks);
- from ``torch.profiler`` over ``--steps`` steps: how many of those large products one
  step runs and the time they take (``addmm``/``mm`` calls with a dimension >= 256 on
  each side of the product);
- the CPU time of one env step with no training at all (``learning_starts`` beyond the
  run: random actions, the env, the replay buffer), the part of a step that no change
  to the gradient step can remove;
- the same product timed alone, hot in cache, and cycling over 8 weight matrices
  (operands coming from L3, as inside a step), in microseconds and GFLOP/s.

The *floor* printed for ours is the large products' time alone: a step cannot be
faster than that at the same arithmetic (fp32, the same products), so
``SB3 step / our floor`` bounds the speed-up any rewrite of the rest of the step can
reach. Run it pinned to an idle core (``taskset -c 0``).
"""

import argparse
import gc
import statistics
import time

BIG = 256


def _large(shapes):
    """Whether an ``addmm``/``mm`` call's input shapes are a hidden-layer product."""
    mats = [s for s in shapes if len(s) == 2]
    if len(mats) < 2:
        return False
    a, b = mats[-2], mats[-1]
    return min(a[0], a[1], b[1]) >= BIG


def isolated_product(n=300):
    """Median microseconds of 256 x 400 @ 400 x 300, hot and cycling 8 weights."""
    import torch

    x = torch.randn(256, 400)
    bias = torch.randn(300)
    weights = [torch.randn(300, 400) for _ in range(8)]
    inputs = [torch.randn(256, 400) for _ in range(8)]

    def median(call):
        for _ in range(10):
            call(0)
        times = []
        for i in range(n):
            start = time.perf_counter()
            call(i)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e6

    hot = median(lambda i: torch.addmm(bias, x, weights[0].t()))
    cold = median(lambda i: torch.addmm(bias, inputs[i % 8], weights[i % 8].t()))
    return hot, cold


def _agent(module, algo, warm):
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("Pendulum-v1", n_envs=1, seed=0)
    agent = getattr(module, algo)("MlpPolicy", env, seed=0, device="cpu")
    agent.learn(warm)
    return agent


def collection_time(module, algo, steps=2000):
    """CPU ms per env step of ``learn`` before ``learning_starts`` (no gradient step)."""
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("Pendulum-v1", n_envs=1, seed=0)
    agent = getattr(module, algo)("MlpPolicy", env, seed=0, device="cpu",
                                  learning_starts=10 * steps)
    agent.learn(200)
    start = time.thread_time()
    agent.learn(steps, reset_num_timesteps=False)
    return (time.thread_time() - start) / steps * 1e3


def step_times(agents, rounds, chunk):
    """Median CPU ms per env step of each agent, interleaved chunks."""
    cpu = {side: [] for side in agents}
    gc.disable()
    try:
        for turn in range(rounds):
            order = list(agents) if turn % 2 == 0 else list(agents)[::-1]
            for side in order:
                start = time.thread_time()
                agents[side].learn(chunk, reset_num_timesteps=False)
                cpu[side].append((time.thread_time() - start) / chunk * 1e3)
    finally:
        gc.enable()
    return {side: statistics.median(v) for side, v in cpu.items()}


def profiled_products(agent, steps):
    """(large products per step, their ms per step) from ``torch.profiler``."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        agent.learn(steps, reset_num_timesteps=False)
    count, micros = 0, 0.0
    for event in prof.key_averages(group_by_input_shape=True):
        if event.key in ("aten::addmm", "aten::mm") and _large(event.input_shapes):
            count += event.count
            micros += event.self_cpu_time_total
    return count / steps, micros / steps / 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("algos", nargs="*", default=["TD3", "DDPG"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=64)
    args = parser.parse_args(argv)

    import stable_baselines3 as sb3
    import torch

    import mlnotes.rl as ours_rl
    from benchmarks.harness import single_thread

    torch.set_num_threads(1)
    with single_thread():
        hot, cold = isolated_product()
        flop = 2 * 256 * 400 * 300
        print(f"256x400 @ 400x300 alone: {hot:.0f} us hot ({flop / hot / 1e3:.0f} GFLOP/s), "
              f"{cold:.0f} us cycling 8 weights ({flop / cold / 1e3:.0f} GFLOP/s)", flush=True)
        for algo in args.algos:
            agents = {"ours": _agent(ours_rl, algo, 300), "sb3": _agent(sb3, algo, 300)}
            per_step = step_times(agents, args.rounds, args.chunk)
            products = {side: profiled_products(a, args.steps) for side, a in agents.items()}
            collect = {"ours": collection_time(ours_rl, algo), "sb3": collection_time(sb3, algo)}
            for side in agents:
                n, ms = products[side]
                print(f"{algo} {side}: {per_step[side]:.2f} ms per env step; {n:.1f} large "
                      f"products per step taking {ms:.2f} ms in the step "
                      f"({ms / n * 1e3:.0f} us each; {n * hot / 1e3:.2f} ms at the hot speed); "
                      f"{collect[side]:.2f} ms per step with no training",
                      flush=True)
            n_ours, ms_ours = products["ours"]
            need = per_step["sb3"] / 1.5
            rest = need - ms_ours - collect["ours"]
            print(f"{algo}: SB3/ours {per_step['sb3'] / per_step['ours']:.2f}; 1.5x SB3 needs "
                  f"{need:.2f} ms per step; our products alone take {ms_ours:.2f} ms in the step "
                  f"and {n_ours * hot / 1e3:.2f} ms even at the hot speed, so SB3/our floor is "
                  f"{per_step['sb3'] / ms_ours:.2f} ({per_step['sb3'] / (n_ours * hot / 1e3):.2f} "
                  f"at the hot speed); at 1.5x, everything else of the gradient step (small products, "
                  f"activations, Adam, Polyak, Python) would have {rest:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
