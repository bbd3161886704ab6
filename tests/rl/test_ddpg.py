"""DDPG (chapter 41): TD3 with one critic, no delay and no target smoothing, as SB3's."""

import inspect

import numpy as np
import pytest
import torch
from stable_baselines3 import DDPG as SB3DDPG

from mlnotes.rl import DDPG, TD3
from mlnotes.rl.common.replay_buffer import ReplayBufferSamples


class FixedSamples:
    def __init__(self, batch):
        self.batch = batch

    def sample(self, batch_size, env=None):
        return self.batch


def test_signature_and_defaults_match_sb3():
    ours = inspect.signature(DDPG.__init__).parameters
    ref = inspect.signature(SB3DDPG.__init__).parameters
    assert list(ours) == list(ref)
    for name, p in ref.items():
        assert ours[name].default == p.default, name


def test_ddpg_is_td3_without_its_tricks():
    agent = DDPG("MlpPolicy", "Pendulum-v1", seed=0, device="cpu")
    assert isinstance(agent, TD3)
    assert agent.critic.n_critics == 1 and agent.critic_target.n_critics == 1
    assert agent.policy_delay == 1 and agent.target_noise_clip == 0.0
    assert agent.get_params()["policy_kwargs"] is None  # the user's arguments, untouched
    # a user's n_critics wins
    two = DDPG("MlpPolicy", "Pendulum-v1", device="cpu", policy_kwargs=dict(n_critics=2))
    assert two.critic.n_critics == 2


def test_target_is_the_plain_one_step_target():
    # no hidden layers: mu'(s') = tanh(b) = 0.5, Q'(s', a) = 3a + 1; the online critic
    # outputs its bias only, and SGD(lr=0.5) on (Q - y)^2 moves it onto y
    agent = DDPG("MlpPolicy", "Pendulum-v1", gamma=0.9, seed=0, device="cpu",
                 learning_starts=0, batch_size=1,
                 policy_kwargs=dict(net_arch=[], optimizer_class=torch.optim.SGD))
    with torch.no_grad():
        agent.actor_target.mu[0].weight.zero_()
        agent.actor_target.mu[0].bias.fill_(float(np.arctanh(0.5)))
        (q,), (q_t,) = agent.critic.q_networks, agent.critic_target.q_networks
        q[0].weight.zero_()
        q[0].bias.zero_()
        q_t[0].weight.copy_(torch.tensor([[0.0, 0.0, 0.0, 3.0]]))
        q_t[0].bias.fill_(1.0)
    agent.lr_schedule = lambda _: 0.5
    t = lambda x: torch.tensor(x, dtype=torch.float32)  # noqa: E731
    agent.replay_buffer = FixedSamples(ReplayBufferSamples(
        t([[0.1, 0.2, 0.3]]), t([[0.2]]), t([[0.5, -0.4, 1.0]]), t([[0.0]]), t([[2.0]])))
    actor_before = agent.actor.mu[0].weight.detach().clone()
    agent.train(gradient_steps=1, batch_size=1)
    # y = 2 + 0.9 * (3 * 0.5 + 1) exactly: no smoothing noise reaches the target action
    assert q[0].bias.item() == pytest.approx(2.0 + 0.9 * 2.5, rel=1e-6)
    # the actor is updated at every step (policy_delay=1)
    assert not torch.equal(actor_before, agent.actor.mu[0].weight)


def test_discrete_action_space_raises_at_construction():
    with pytest.raises(ValueError, match="DDPG does not support the action space"):
        DDPG("MlpPolicy", "CartPole-v1")


def test_learns_and_round_trips(tmp_path):
    agent = DDPG("MlpPolicy", "Pendulum-v1", seed=0, device="cpu", learning_starts=20,
                 batch_size=16, policy_kwargs=dict(net_arch=[16])).learn(60)
    agent.save(tmp_path / "ddpg")
    loaded = DDPG.load(tmp_path / "ddpg", device="cpu")
    assert loaded.critic.n_critics == 1
    obs = np.stack([agent.observation_space.sample() for _ in range(5)])
    np.testing.assert_array_equal(agent.predict(obs)[0], loaded.predict(obs)[0])
