"""A2C (chapter 29): the loss against a hand computation, options, a CI-sized learning run."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import A2C
from mlnotes.rl.common import LinearSchedule


class Snapshot(BaseCallback):
    """Keep the policy and the rollout as they are just before ``train()``."""

    def _on_step(self):
        return True

    def _on_rollout_end(self):
        buf = self.model.rollout_buffer
        self.state = {k: v.clone() for k, v in self.model.policy.state_dict().items()}
        self.arrays = {k: getattr(buf, k).copy()
                       for k in ("observations", "actions", "rewards", "dones")}
        self.last_obs = np.array(self.model._last_obs)


@pytest.mark.parametrize("ent_coef", [0.0, 0.05])
@pytest.mark.parametrize("n_steps", [1, 5])
def test_one_update_equals_hand_computed_sgd_step(ent_coef, n_steps):
    """The update is one SGD step on -A log pi + c_v (R - V)^2 - c_e H, computed here
    independently (torch.distributions, n-step returns by an explicit loop)."""
    gamma, lr, vf_coef = 0.9, 0.05, 0.7
    # episodes cut at 3 steps: the rollout holds episode ends (truncations, so the
    # stored rewards already carry the gamma * V(terminal) bootstrap)
    env = make_vec_env("CartPole-v1", n_envs=3, seed=0, env_kwargs=dict(max_episode_steps=3))
    agent = A2C("MlpPolicy", env, n_steps=n_steps, gamma=gamma, learning_rate=lr,
                ent_coef=ent_coef, vf_coef=vf_coef, max_grad_norm=None, use_rms_prop=False,
                policy_kwargs=dict(optimizer_class=torch.optim.SGD, net_arch=[8]),
                seed=0, device="cpu")
    # a few updates first so that the critic is not trivially zero
    agent.learn(3 * n_steps * 5)
    snap = Snapshot()
    agent.learn(3 * n_steps, callback=snap, reset_num_timesteps=False)
    assert snap.arrays["dones"].any()
    policy = agent.policy
    trained = {k: v.clone() for k, v in policy.state_dict().items()}
    policy.load_state_dict(snap.state)
    obs = torch.as_tensor(snap.arrays["observations"])
    acts = torch.as_tensor(snap.arrays["actions"])
    rewards, dones = snap.arrays["rewards"], snap.arrays["dones"]
    T, n = rewards.shape

    def forward(o):
        h = policy.shared_net(o.reshape(-1, 4))
        return policy.action_net(policy.policy_net(h)), policy.value_net(policy.value_net_body(h))

    with torch.no_grad():
        _, last_v = forward(torch.as_tensor(snap.last_obs))
        _, v_old = forward(obs)
    last_v, v_old = last_v.numpy().ravel(), v_old.numpy().reshape(T, n)
    # n-step returns bootstrapped at the rollout end, cut at episode ends
    returns = np.zeros((T, n))
    for e in range(n):
        acc = last_v[e]
        for t in reversed(range(T)):
            acc = rewards[t, e] + gamma * (0.0 if dones[t, e] else acc)
            returns[t, e] = acc
    advantages = torch.as_tensor((returns - v_old).ravel(), dtype=torch.float32)
    returns = torch.as_tensor(returns.ravel(), dtype=torch.float32)
    logits, values = forward(obs)
    dist = torch.distributions.Categorical(logits=logits)
    loss = (-(advantages * dist.log_prob(acts.reshape(-1))).mean()
            + vf_coef * ((returns - values.ravel()) ** 2).mean()
            - ent_coef * dist.entropy().mean())
    params = dict(policy.named_parameters())
    grads = torch.autograd.grad(loss, list(params.values()))
    for (name, p), g in zip(params.items(), grads):
        torch.testing.assert_close(trained[name], p.detach() - lr * g, rtol=1e-4, atol=1e-6)


def test_rmsprop_defaults_and_adam_option():
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    opt = agent.policy.optimizer
    assert isinstance(opt, torch.optim.RMSprop)
    group = opt.param_groups[0]
    assert (group["alpha"], group["eps"], group["weight_decay"], group["lr"]) == (
        0.99, 1e-5, 0, 7e-4)
    agent = A2C("MlpPolicy", "CartPole-v1", use_rms_prop=False, seed=0, device="cpu")
    assert isinstance(agent.policy.optimizer, torch.optim.Adam)
    assert agent.policy.optimizer.param_groups[0]["eps"] == 1e-5


def test_shared_and_separate_networks():
    separate = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu",
                   policy_kwargs=dict(net_arch=[32, 32]))
    shared = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu",
                 policy_kwargs=dict(net_arch=dict(shared=[32, 32], pi=[], vf=[])))
    n_sep = sum(p.numel() for p in separate.policy.parameters())
    n_sh = sum(p.numel() for p in shared.policy.parameters())
    trunk = 4 * 32 + 32 + 32 * 32 + 32
    assert n_sep - n_sh == trunk  # the critic's own copy of the trunk is gone
    before = [p.clone() for p in shared.policy.shared_net.parameters()]
    shared.learn(40)
    # the shared trunk is trained (by both losses)
    assert any(not torch.equal(a, b) for a, b in zip(before, shared.policy.shared_net.parameters()))
    assert len(list(shared.policy.value_net_body.parameters())) == 0
    with pytest.raises(ValueError, match="net_arch"):
        A2C("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=dict(actor=[4])))


def test_box_actions_on_pendulum():
    agent = A2C("MlpPolicy", "Pendulum-v1", seed=0, device="cpu", n_steps=8)
    assert agent.policy.log_std is not None and agent.policy.log_std.shape == (1,)
    agent.learn(200)
    actions, _ = agent.predict(np.stack([agent.observation_space.sample()] * 50))
    assert actions.shape == (50, 1) and np.all(np.abs(actions) <= 2.0)


def test_online_mode_and_options_run():
    agent = A2C("MlpPolicy", "CartPole-v1", n_steps=1, normalize_advantage=True,
                gae_lambda=0.9, ent_coef=0.01, learning_rate=LinearSchedule(1e-3, 0.0),
                seed=0, device="cpu")
    agent.learn(50)
    assert agent._n_updates == 50
    assert agent.policy.optimizer.param_groups[0]["lr"] < 1e-3
    assert agent.rollout_buffer.observations.shape == (1, 1, 4)


def test_truncated_episodes_are_bootstrapped():
    """A time limit is not a terminal state: the reward of the cut step gets gamma*V."""
    env = make_vec_env("CartPole-v1", n_envs=1, seed=0,
                       wrapper_kwargs=None, env_kwargs=dict(max_episode_steps=3))
    agent = A2C("MlpPolicy", env, n_steps=3, seed=0, device="cpu")
    snap = Snapshot()
    agent.learn(3, callback=snap)
    r = snap.arrays["rewards"][:, 0]
    assert snap.arrays["dones"][-1, 0]
    assert r[0] == 1.0 and r[1] == 1.0
    assert r[2] != 1.0  # 1 + gamma * V(terminal obs)


@pytest.mark.parametrize("bad", [dict(n_steps=0), dict(gamma=1.5), dict(gae_lambda=-0.1),
                                 dict(learning_rate=-1.0), dict(max_grad_norm=0.0),
                                 dict(ent_coef=float("nan")), dict(rms_prop_eps=0.0),
                                 dict(policy="CnnPolicy")])
def test_bad_hyperparameters(bad):
    kwargs = dict(policy="MlpPolicy", env="CartPole-v1")
    kwargs.update(bad)
    with pytest.raises(ValueError):
        A2C(**kwargs)


def test_diverging_training_raises():
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu", n_steps=4)
    with torch.no_grad():
        agent.policy.value_net.weight.fill_(float("nan"))
    with pytest.raises((FloatingPointError, ValueError), match="NaN|diverged"):
        agent.learn(40)


@pytest.mark.parametrize("seed", [0, 1])
def test_learns_cartpole(seed):
    """CI-sized learning run: 8 envs, 25k steps, default hyperparameters except
    normalised advantages; deterministic mean return >= 200 (random policy: ~20)."""
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    agent = A2C("MlpPolicy", env, normalize_advantage=True, seed=seed, device="cpu")
    agent.learn(25_000)
    eval_env = gym.make("CartPole-v1")
    eval_env.reset(seed=1000 + seed)
    mean, _ = evaluate_policy(agent, eval_env, n_eval_episodes=10, deterministic=True,
                              warn=False)
    assert mean >= 200
