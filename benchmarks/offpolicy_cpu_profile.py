"""Where one SAC/TD3/DDPG step spends its CPU time, ours beside SB3 (issue 19 speed).

    python -m benchmarks.offpolicy_cpu_profile SAC TD3 DDPG [--rounds 8 --chunk 64]

On a shared machine wall time mixes in the other processes; this script reads the
thread's CPU time (``time.thread_time``) instead. For each algorithm, at SB3's defaults
on Pendulum-v1, one thread: ours and SB3 warmed up past ``learning_starts``, then
``--rounds`` alternating chunks of ``--chunk`` steps (order swapped every round); prints
CPU ms per env step (median chunk) and SB3/ours. ``--phases`` adds, for SAC, the CPU
time of each part of one of our gradient steps (the same calls as ``SAC.train``), next
to the time of the large matrix products alone (256 x 256 x 256, measured hot).
"""

import argparse
import gc
import statistics
import time


def _agents(algo, warm=300):
    import mlnotes.rl as ours_rl
    import stable_baselines3 as sb3
    from stable_baselines3.common.env_util import make_vec_env

    agents = {}
    for side, module in (("ours", ours_rl), ("sb3", sb3)):
        env = make_vec_env("Pendulum-v1", n_envs=1, seed=0)
        agents[side] = getattr(module, algo)("MlpPolicy", env, seed=0, device="cpu")
        agents[side].learn(warm)
    return agents


def interleaved(algo, rounds, chunk):
    agents = _agents(algo)
    cpu = {side: [] for side in agents}
    gc.disable()
    try:
        for turn in range(rounds):
            for side in (("ours", "sb3") if turn % 2 == 0 else ("sb3", "ours")):
                start = time.thread_time()
                agents[side].learn(chunk, reset_num_timesteps=False)
                cpu[side].append((time.thread_time() - start) / chunk * 1e3)
    finally:
        gc.enable()
    ours, ref = statistics.median(cpu["ours"]), statistics.median(cpu["sb3"])
    print(f"{algo}: CPU ms per env step ours {ours:.2f}, SB3 {ref:.2f}; SB3/ours "
          f"{ref / ours:.2f} ({rounds} x {chunk} steps each)", flush=True)


def sac_phases(n=200):
    import torch

    from mlnotes.rl.actor_critic._critic_ops import critic_layers, min_q_action_grad, q_values
    from mlnotes.rl.common.continuous_policies import optimizer_step
    from mlnotes.rl.common.off_policy_algorithm import polyak_update

    agent = _agents("SAC")["ours"]
    actor, critic, target = agent.actor, agent.critic, agent.critic_target
    nets = critic_layers(critic)
    spent = {}
    clock = time.thread_time

    def mark(name, t0):
        t = clock()
        spent[name] = spent.get(name, 0.0) + t - t0
        return t

    for _ in range(n):
        t = clock()
        data = agent.replay_buffer.sample(256)
        t = mark("replay sample", t)
        actions_pi, log_prob = actor.action_log_prob(data.observations)
        log_prob = log_prob.reshape(-1, 1)
        t = mark("actor pass on s (1 large product)", t)
        ent_coef = agent.log_ent_coef.detach().exp()
        agent.log_ent_coef.grad = -(log_prob.detach() + agent.target_entropy).mean().reshape(1)
        optimizer_step(agent.ent_coef_optimizer)
        t = mark("temperature step", t)
        with torch.no_grad():
            next_actions, next_log_prob = actor.action_log_prob(data.next_observations)
            t = mark("actor pass on s' (1)", t)
            next_q = target.q_values(data.next_observations, next_actions)
            target_q = data.rewards + (1.0 - data.dones) * agent.gamma * (
                next_q.min(dim=1, keepdim=True).values - ent_coef * next_log_prob.reshape(-1, 1))
            t = mark("target critics (2)", t)
        current_q = q_values(critic, data.observations, data.actions, nets)
        critic_loss = 0.5 * (current_q - target_q).square().mean(dim=0).sum()
        t = mark("critics forward (2)", t)
        critic_loss.backward()
        t = mark("critics backward (4)", t)
        optimizer_step(critic.optimizer)
        t = mark("critics Adam", t)
        min_q = min_q_action_grad(critic, data.observations, actions_pi, nets)
        actor_loss = (ent_coef * log_prob - min_q).mean()
        t = mark("min-Q forward (2)", t)
        actor_loss.backward(inputs=list(actor.parameters()))
        t = mark("min-Q + actor backward (3)", t)
        optimizer_step(actor.optimizer)
        polyak_update(agent._critic_params, agent._critic_target_params, agent.tau)
        t = mark("actor Adam + Polyak", t)
    a, w = torch.randn(256, 256), torch.randn(256, 256)
    a.mm(w)
    start = clock()
    for _ in range(100):
        a.mm(w)
    product = (clock() - start) / 100 * 1e3
    total = sum(spent.values()) / n * 1e3
    print(f"SAC gradient step, ours: {total:.2f} ms CPU; one 256x256x256 product "
          f"{product:.3f} ms hot (x15 = {15 * product:.2f} ms)")
    for name, seconds in spent.items():
        print(f"  {name:36s} {seconds / n * 1e3:6.3f} ms")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("algos", nargs="*", default=["SAC", "TD3", "DDPG"])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--phases", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.phases:
        sac_phases()
    for algo in args.algos:
        interleaved(algo, args.rounds, args.chunk)


if __name__ == "__main__":
    main()
