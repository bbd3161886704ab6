"""Probe one DQN run on CartPole-v1 with RL-Zoo's hyperparameters (issue 19).

    python -m benchmarks.offpolicy_dqn_probe --agent ours --seed 3 --start 5000 \\
        [--every 2500] [--extra '{"n_steps": 3, "learning_rate": ["lin", 0.0023]}']

Every ``--every`` steps from ``--start``, one JSON line on stdout with: the ``offpolicy``
suite's deterministic evaluation (``det``: 20 episodes, eval env seeded 10,000 + seed)
and how those 20 episodes end (``fail``: ``x`` the cart left the track, ``theta`` the pole
fell, ``ok`` 500 steps, ``fail_len`` the mean length of the failed ones); the Q-network
on 3,000 replay-buffer states drawn once (``qmax_mean`` against the scale
:math:`1/(1-\\gamma)=100`, ``gap_median`` the median :math:`|Q(s,0)-Q(s,1)|`, ``flips`` the
fraction of those states whose greedy action changed since the previous line); the
terminations (``term_per_1k``: per 1,000 of the last 10,000 transitions; ``n_term_buffer``);
the values at terminations, whose target is exactly 1 for the action taken
(``q_taken_at_term``, ``q_other_at_term``) and ``q_before_term``: the mean
:math:`\\max_a Q` of the states 1, 5 and 20 steps before a termination (true values at
most 1, 4.9 and 18.2); the last 10 training returns, the learning rate and epsilon.
``--extra`` adds settings as JSON (``["lin", x]``: learning rate decayed linearly from x
to 0). ``--agent sb3`` runs Stable-Baselines3's DQN (same attributes).
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback

from benchmarks.suites.offpolicy import DQN_ZOO_CARTPOLE, _resolve, evaluate


def failures(model, seed, n=20):
    """How the deterministic policy's episodes end (the suite's eval seeds)."""
    env = gym.make("CartPole-v1")
    out, lengths = {"x": 0, "theta": 0, "ok": 0}, []
    for episode in range(n):
        obs, _ = env.reset(seed=10_000 + seed if episode == 0 else None)
        for t in range(500):
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, _ = env.step(int(action))
            if terminated:
                out["x" if abs(obs[0]) > 2.4 else "theta"] += 1
                lengths.append(t + 1)
                break
            if truncated:
                out["ok"] += 1
                break
    out["fail_len"] = round(float(np.mean(lengths))) if lengths else None
    return out


class Probe(BaseCallback):
    """The measurements of the module docstring, every ``every`` steps from ``start``."""

    def __init__(self, seed, start, every, evaluate_too=True):
        super().__init__()
        self.seed, self.next, self.every, self.evaluate_too = seed, start, every, evaluate_too
        self.rng = np.random.default_rng(0)
        self.prev_greedy = self.probe_obs = None
        self.t0 = time.perf_counter()

    def q(self, obs):
        with torch.no_grad():
            return self.model.q_net(torch.as_tensor(obs, dtype=torch.float32)).numpy()

    def _on_step(self):
        n = self.model.num_timesteps
        if n < self.next:
            return True
        self.next += self.every
        buf = self.model.replay_buffer
        size = buf.buffer_size if buf.full else buf.pos
        obs = buf.observations[:size, 0].reshape(size, -1)
        timeouts = getattr(buf, "timeouts", np.zeros_like(buf.dones))
        term = buf.dones[:size, 0].astype(bool) & ~timeouts[:size, 0].astype(bool)
        recent = np.arange(buf.pos - min(10_000, size), buf.pos) % buf.buffer_size
        if self.probe_obs is None:
            self.probe_obs = obs[self.rng.choice(size, min(3000, size), replace=False)]
        q = self.q(self.probe_obs)
        greedy = q.argmax(1)
        flips = (float("nan") if self.prev_greedy is None
                 else float((greedy != self.prev_greedy).mean()))
        self.prev_greedy = greedy
        rec = dict(step=n, qmax_mean=float(q.max(1).mean()),
                   gap_median=float(np.median(np.abs(q[:, 0] - q[:, 1]))), flips=flips,
                   term_per_1k=float(1000 * term[recent].mean()),
                   n_term_buffer=int(term.sum()))
        idx = np.flatnonzero(term)
        if len(idx):
            q_term = self.q(obs[idx])
            taken = buf.actions[:size, 0].reshape(size, -1)[idx, 0].astype(int)
            rows = np.arange(len(idx))
            rec.update(q_taken_at_term=float(q_term[rows, taken].mean()),
                       q_other_at_term=float(q_term[rows, 1 - taken].mean()))
            rec["q_before_term"] = {
                k + 1: float(self.q(obs[idx[idx >= k] - k]).max(1).mean()) for k in (0, 4, 19)}
        episodes = list(getattr(self.model, "ep_info_buffer", []))[-10:]
        rec.update(train_ep_returns=[round(e["r"]) for e in episodes],
                   lr=float(self.model.policy.optimizer.param_groups[0]["lr"]),
                   eps=float(self.model.exploration_rate),
                   wall=round(time.perf_counter() - self.t0))
        if self.evaluate_too:
            rec["det"] = evaluate(self.model, "CartPole-v1", self.seed, True)
            rec["fail"] = failures(self.model, self.seed)
        print(json.dumps(rec), flush=True)
        return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agent", choices=["ours", "sb3"], default="ours")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--start", type=int, default=5_000)
    parser.add_argument("--every", type=int, default=2_500)
    parser.add_argument("--extra", default="{}", help="settings beyond RL-Zoo's, as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.agent == "ours":
        from mlnotes.rl import DQN
    else:
        from stable_baselines3 import DQN
    extra = {k: tuple(v) if isinstance(v, list) else v
             for k, v in json.loads(args.extra).items()}
    model = DQN("MlpPolicy", "CartPole-v1", seed=args.seed, device="cpu",
                **_resolve(dict(DQN_ZOO_CARTPOLE, **extra)))
    model.learn(args.steps, callback=Probe(args.seed, args.start, args.every))
    print(json.dumps(dict(final_det=evaluate(model, "CartPole-v1", args.seed, True),
                          final_stoch=evaluate(model, "CartPole-v1", args.seed, False))),
          flush=True)


if __name__ == "__main__":
    main()
