"""The lean critic passes of SAC/TD3/DDPG (``actor_critic/_critic_ops``) against plain
autograd: the same Q-values, the same weight gradients, the same action gradient of the
minimum over critics, and training steps that end at the same parameters."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from mlnotes.rl import DDPG, SAC, TD3
from mlnotes.rl.actor_critic import _critic_ops, _sac, _td3
from mlnotes.rl.common.continuous_policies import ContinuousCritic
from mlnotes.rl.common.replay_buffer import ReplayBufferSamples


def _critic(n_critics, activation_fn=nn.ReLU, net_arch=(32, 24), obs_dim=3, act_dim=2):
    torch.manual_seed(0)
    obs_space = gym.spaces.Box(-1, 1, (obs_dim,), np.float32)
    act_space = gym.spaces.Box(-1, 1, (act_dim,), np.float32)
    return ContinuousCritic(obs_space, act_space, list(net_arch), activation_fn, n_critics)


@pytest.mark.parametrize("n_critics", [1, 2, 3])
def test_q_values_and_weight_gradients_equal_autograd(n_critics):
    critic = _critic(n_critics)
    gen = torch.Generator().manual_seed(1)
    obs, actions = torch.randn(64, 3, generator=gen), torch.rand(64, 2, generator=gen) * 2 - 1
    weights = torch.randn(64, n_critics, generator=gen)
    params = list(critic.parameters())
    plain = critic.q_values(obs, actions)
    grads_plain = torch.autograd.grad((plain * weights).sum(), params)
    lean = _critic_ops.q_values(critic, obs, actions)
    grads_lean = torch.autograd.grad((lean * weights).sum(), params)
    torch.testing.assert_close(lean, plain, rtol=1e-6, atol=1e-6)
    for g_lean, g_plain in zip(grads_lean, grads_plain):
        torch.testing.assert_close(g_lean, g_plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_critics", [1, 2, 3])
def test_min_q_action_gradient_equals_autograd(n_critics):
    critic = _critic(n_critics)
    gen = torch.Generator().manual_seed(2)
    obs = torch.randn(128, 3, generator=gen)
    base = torch.rand(128, 2, generator=gen) * 2 - 1
    weights = torch.randn(128, 1, generator=gen)
    a_plain, a_lean = base.clone().requires_grad_(), base.clone().requires_grad_()
    lean = _critic_ops.min_q_action_grad(critic, obs, a_lean)
    (lean * weights).sum().backward()
    # the critics' weights get nothing from the actor's value
    assert all(p.grad is None for p in critic.parameters())
    plain = critic.q_values(obs, a_plain).min(dim=1, keepdim=True).values
    (plain * weights).sum().backward()
    torch.testing.assert_close(lean, plain, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(a_lean.grad, a_plain.grad, rtol=1e-5, atol=1e-6)
    assert a_lean.grad.abs().sum() > 0
    # by hand for one row: the gradient of the row's minimum network only
    row = 5
    q_each = critic.q_values(obs[row:row + 1], base[row:row + 1]).reshape(-1)
    j = int(q_each.argmin())
    x = base[row:row + 1].clone().requires_grad_()
    inp = torch.cat([obs[row:row + 1], x], dim=1)
    critic.q_networks[j](inp).sum().backward()
    torch.testing.assert_close(a_lean.grad[row], weights[row, 0] * x.grad[0],
                               rtol=1e-5, atol=1e-6)


def test_other_critics_take_the_plain_path():
    critic = _critic(2, activation_fn=nn.Tanh)
    assert _critic_ops.critic_layers(critic) is None
    obs, actions = torch.randn(8, 3), torch.rand(8, 2)
    torch.testing.assert_close(_critic_ops.q_values(critic, obs, actions),
                               critic.q_values(obs, actions))
    torch.testing.assert_close(_critic_ops.min_q_action_grad(critic, obs, actions),
                               critic.q_values(obs, actions).min(dim=1, keepdim=True).values)


class FixedSamples:
    def __init__(self, batch):
        self.batch = batch

    def sample(self, batch_size, env=None):
        return self.batch


@pytest.mark.parametrize("cls", [SAC, TD3, DDPG])
def test_training_steps_equal_the_plain_computation(cls, monkeypatch):
    """Four gradient steps with the lean passes end where plain autograd ends."""
    def make():
        return cls("MlpPolicy", "Pendulum-v1", batch_size=64, seed=0, device="cpu",
                   policy_kwargs=dict(net_arch=[32, 32]))

    agent, plain = make(), make()
    gen = torch.Generator().manual_seed(3)
    batch = ReplayBufferSamples(torch.randn(64, 3, generator=gen),
                                torch.rand(64, 1, generator=gen) * 2 - 1,
                                torch.randn(64, 3, generator=gen),
                                (torch.rand(64, 1, generator=gen) < 0.1).float(),
                                torch.randn(64, 1, generator=gen))
    agent.replay_buffer = plain.replay_buffer = FixedSamples(batch)
    before = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    torch.manual_seed(4)
    agent.train(gradient_steps=4, batch_size=64)
    module = _sac if cls is SAC else _td3
    monkeypatch.setattr(module, "critic_layers", lambda critic: None)
    torch.manual_seed(4)
    plain.train(gradient_steps=4, batch_size=64)
    lean_state, plain_state = agent.policy.state_dict(), plain.policy.state_dict()
    for name in lean_state:
        torch.testing.assert_close(lean_state[name], plain_state[name], rtol=1e-5,
                                   atol=1e-6, msg=name)
    # training changed the critics and the actor
    assert not torch.equal(lean_state["critic.qf0.2.weight"], before["critic.qf0.2.weight"])
    actor_key = "actor.mu.2.weight" if cls is not SAC else "actor.latent_pi.2.weight"
    assert not torch.equal(lean_state[actor_key], before[actor_key])
