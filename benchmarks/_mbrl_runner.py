"""PETS of mbrl-lib on Pendulum-v1, run inside ``.venv-ref/mbrl`` (issue 17).

Called by :mod:`benchmarks.mbrl_pendulum` (agent ``mbrl-PETS``); prints one JSON line per
checkpoint: ``{"steps", "mean", "std", "train_seconds", "eval_seconds",
"train_cpu_seconds", "eval_cpu_seconds"}`` (wall and process CPU seconds). The settings
mirror ours (``PETS_KWARGS`` there): an ensemble of 5 Gaussian MLPs with two hidden
layers of 64 (SiLU; mbrl-lib's ``num_layers`` counts the hidden layers, so 2 — it was 3,
one more than ours, until the seventh session, also in the planning-speed comparison),
learned rewards, targets as deltas, normalised inputs; 200 random
steps; the model retrained every 200 steps for 20 epochs (batch 256, Adam 1e-3, weight
decay 5e-5, no validation split); CEM with horizon 20, 200 candidates, 20 elites
(elite ratio 0.1), 3 iterations, smoothing 0.1, 5 particles with TS-infinity
("fixed_model" propagation). mbrl-lib's CEM samples a truncated normal whose initial
standard deviation is a quarter of the action range (ours: half the range, clipped).
Evaluation: deterministic planning, ``episodes`` episodes from an env seeded
``10_000 + seed`` (the same start states as the SB3 evaluation of our agents).
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import omegaconf
import torch

import mbrl.env.termination_fns as termination_fns
import mbrl.models
import mbrl.planning
import mbrl.util.common


def build(env, seed):
    obs_shape, act_shape = env.observation_space.shape, env.action_space.shape
    cfg = omegaconf.OmegaConf.create({
        "dynamics_model": {
            # hydra 1.3 (see mbrl_pendulum.ensure_venv) would build the activation
            # before GaussianMLP sees its config: build it non-recursively, as 1.0 did
            "_target_": "mbrl.models.GaussianMLP", "_recursive_": False,
            "device": "cpu", "num_layers": 2,  # hidden layers: 64-64 as ours
            "ensemble_size": 5, "hid_size": 64, "in_size": "???", "out_size": "???",
            "deterministic": False, "propagation_method": "fixed_model",
            "learn_logvar_bounds": False,
            "activation_fn_cfg": {"_target_": "torch.nn.SiLU"}},
        "algorithm": {"learned_rewards": True, "target_is_delta": True, "normalize": True,
                      "dataset_size": 100_000},
        "overrides": {"trial_length": 200, "num_steps": 100_000, "model_batch_size": 256,
                      "validation_ratio": 0.0},
    })
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    model = mbrl.util.common.create_one_dim_tr_model(cfg, obs_shape, act_shape)
    model_env = mbrl.models.ModelEnv(env, model, termination_fns.no_termination,
                                     reward_fn=None, generator=generator)
    buffer = mbrl.util.common.create_replay_buffer(cfg, obs_shape, act_shape, rng=rng)
    agent_cfg = omegaconf.OmegaConf.create({
        "_target_": "mbrl.planning.TrajectoryOptimizerAgent", "_recursive_": False,
        "planning_horizon": 20, "replan_freq": 1, "verbose": False,
        "action_lb": "???", "action_ub": "???",
        "optimizer_cfg": {
            "_target_": "mbrl.planning.CEMOptimizer", "num_iterations": 3,
            "elite_ratio": 0.1, "population_size": 200, "alpha": 0.1, "device": "cpu",
            "lower_bound": "???", "upper_bound": "???", "return_mean_elites": True,
            "clipped_normal": False}})
    agent = mbrl.planning.create_trajectory_optim_agent_for_model(
        model_env, agent_cfg, num_particles=5)
    trainer = mbrl.models.ModelTrainer(model, optim_lr=1e-3, weight_decay=5e-5)
    return cfg, model, buffer, agent, trainer


def train_model(cfg, model, buffer, trainer):
    model.update_normalizer(buffer.get_all())
    train_it, _ = mbrl.util.common.get_basic_buffer_iterators(
        buffer, 256, 0.0, ensemble_size=5, shuffle_each_epoch=True,
        bootstrap_permutes=False)
    trainer.train(train_it, dataset_val=None, num_epochs=20, patience=50, evaluate=False,
                  silent=True)


def evaluate(agent, seed, episodes):
    env = gym.make("Pendulum-v1", disable_env_checker=True)
    returns = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=10_000 + seed) if ep == 0 else env.reset()
        agent.reset()
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns)), float(np.std(returns))


def speed(env, seed, n_actions, cfg, model, buffer, agent, trainer):
    """Planned actions per second after 200 random steps and one model fit."""
    obs, _ = env.reset(seed=seed)
    for _ in range(200):
        action = env.action_space.sample()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, next_obs, reward, terminated, truncated)
        obs = next_obs
    train_model(cfg, model, buffer, trainer)
    obs, _ = env.reset(seed=10_000 + seed)
    agent.reset()
    start = time.perf_counter()
    for _ in range(n_actions):
        obs, *_ = env.step(agent.act(obs))
    return n_actions / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoints", type=int, nargs="+", required=True)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--stop-at", type=float, default=None)
    parser.add_argument("--speed", type=int, default=0,
                        help="only time this many planned actions after 200 random steps "
                             "and one fit; prints {'actions_per_s'}")
    args = parser.parse_args()
    torch.set_num_threads(1)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    env = gym.make("Pendulum-v1", disable_env_checker=True)
    env.action_space.seed(args.seed)
    cfg, model, buffer, agent, trainer = build(env, args.seed)
    if args.speed:
        print(json.dumps({"actions_per_s": speed(env, args.seed, args.speed, cfg, model,
                                                 buffer, agent, trainer)}), flush=True)
        return
    train_seconds, train_cpu, steps = 0.0, 0.0, 0
    obs, _ = env.reset(seed=args.seed)
    for mark in sorted(args.checkpoints):
        start, start_cpu = time.perf_counter(), time.process_time()
        while steps < mark:
            if steps >= 200 and steps % 200 == 0:
                train_model(cfg, model, buffer, trainer)
            if steps < 200:
                action = env.action_space.sample()
            else:
                if steps == 200:
                    agent.reset()
                action = agent.act(obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            buffer.add(obs, action, next_obs, reward, terminated, truncated)
            obs = next_obs
            steps += 1
            if terminated or truncated:
                obs, _ = env.reset()
                agent.reset()
        train_seconds += time.perf_counter() - start
        train_cpu += time.process_time() - start_cpu
        start, start_cpu = time.perf_counter(), time.process_time()
        mean, std = evaluate(agent, args.seed, args.episodes)
        print(json.dumps({"steps": mark, "mean": mean, "std": std,
                          "train_seconds": round(train_seconds, 1),
                          "eval_seconds": round(time.perf_counter() - start, 1),
                          "train_cpu_seconds": round(train_cpu, 1),
                          "eval_cpu_seconds": round(time.process_time() - start_cpu, 1)}),
              flush=True)
        if args.stop_at is not None and mean >= args.stop_at:
            break


if __name__ == "__main__":
    main()
