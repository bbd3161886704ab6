"""TD3 (chapter 41): the smoothed clipped double-Q target by hand, delayed actor and
target updates, the SB3 surface."""

import inspect

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import TD3 as SB3TD3

from mlnotes.rl import TD3
from mlnotes.rl.common.continuous_policies import DeterministicActor, TD3Policy
from mlnotes.rl.common.replay_buffer import ReplayBufferSamples


class FixedSamples:
    def __init__(self, batch):
        self.batch = batch

    def sample(self, batch_size, env=None):
        return self.batch


def batch(obs, actions, next_obs, rewards, dones):
    t = lambda x: torch.as_tensor(np.asarray(x, dtype=np.float32))  # noqa: E731
    return ReplayBufferSamples(t(obs), t(actions), t(next_obs), t(dones).reshape(-1, 1),
                               t(rewards).reshape(-1, 1))


def test_signature_and_defaults_match_sb3():
    ours = inspect.signature(TD3.__init__).parameters
    ref = inspect.signature(SB3TD3.__init__).parameters
    assert list(ours) == list(ref)
    for name, p in ref.items():
        assert ours[name].default == p.default, name
    env = gym.make("Pendulum-v1")
    policy = TD3Policy(env.observation_space, env.action_space, lambda _: 1e-3)
    sizes = [m.out_features for m in policy.actor.mu if isinstance(m, torch.nn.Linear)]
    assert sizes == [400, 300, 1]  # SB3's default net_arch for TD3
    assert isinstance(policy.actor.mu[-1], torch.nn.Tanh)


def make_linear_td3(**kwargs):
    """TD3 with no hidden layers: the target actor outputs tanh(b) and the target
    critics are linear, Q_j(s, a) = w_j . [s, a] + c_j, so the target is computable by
    hand; the online critics output their bias only (zero weights), and SGD(lr=0.5) on
    one transition moves that bias exactly onto the target (loss sum_j (Q_j - y)^2)."""
    params = dict(gamma=0.9, seed=0, device="cpu", learning_starts=0, batch_size=1,
                  tau=0.1, policy_kwargs=dict(net_arch=[], optimizer_class=torch.optim.SGD))
    params.update(kwargs)
    agent = TD3("MlpPolicy", "Pendulum-v1", **params)
    with torch.no_grad():
        agent.actor_target.mu[0].weight.zero_()
        agent.actor_target.mu[0].bias.fill_(float(np.arctanh(0.25)))  # mu'(s') = 0.25
        for q in agent.critic.q_networks:
            q[0].weight.zero_()
            q[0].bias.zero_()
        q1, q2 = agent.critic_target.q_networks
        q1[0].weight.copy_(torch.tensor([[0.0, 0.0, 0.0, 2.0]]))   # Q1' = 2a + 1
        q1[0].bias.fill_(1.0)
        q2[0].weight.copy_(torch.tensor([[0.0, 0.0, 0.0, -2.0]]))  # Q2' = -2a + 1
        q2[0].bias.fill_(1.0)
    agent.lr_schedule = lambda _: 0.5
    return agent


def test_smoothed_clipped_double_q_target_equals_hand_computation():
    # noise huge then clipped to +-0.3: a' = clip(0.25 +- 0.3, -1, 1) = 0.55 or -0.05;
    # min(2a' + 1, -2a' + 1) = 1 - 2|a'| is 1 - 1.1 = -0.1 or 1 - 0.1 = 0.9
    targets = set()
    for seed in range(8):
        agent = make_linear_td3(target_policy_noise=1e6, target_noise_clip=0.3, seed=seed)
        agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]],
                                                [[0.5, -0.4, 1.0]], [1.5], [0.0]))
        agent.train(gradient_steps=1, batch_size=1)
        b1, b2 = (q[0].bias.item() for q in agent.critic.q_networks)
        assert b1 == pytest.approx(b2)
        targets.add(round(b1, 5))
    assert targets <= {round(1.5 + 0.9 * -0.1, 5), round(1.5 + 0.9 * 0.9, 5)}
    assert len(targets) == 2  # both signs of the clipped noise occur


def test_target_without_noise_and_termination():
    agent = make_linear_td3(target_policy_noise=0.0)
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]] * 2, [[0.2], [0.2]],
                                            [[0.5, -0.4, 1.0]] * 2, [1.5, 1.5], [0.0, 1.0]))
    # two transitions: y = 1.5 + 0.9 (1 - 2 * 0.25) and y = 1.5 (terminal); the bias moves
    # to their mean under SGD(lr=0.5) on mean squared error
    agent.train(gradient_steps=1, batch_size=2)
    expected = 0.5 * ((1.5 + 0.9 * 0.5) + 1.5)
    for q in agent.critic.q_networks:
        assert q[0].bias.item() == pytest.approx(expected, rel=1e-6)


def test_action_clamp_in_target():
    # noise clipped at +-0.9: a' = clip(0.25 + 0.9, -1, 1) = 1 (clamped from 1.15) or
    # 0.25 - 0.9 = -0.65, so y = 0.9 * (1 - 2|a'|) is -0.9 or -0.27 (reward 0)
    values = set()
    for seed in range(8):
        agent = make_linear_td3(target_policy_noise=1e6, target_noise_clip=0.9, seed=seed)
        agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]],
                                                [[0.5, -0.4, 1.0]], [0.0], [0.0]))
        agent.train(gradient_steps=1, batch_size=1)
        values.add(round(agent.critic.q_networks[0][0].bias.item(), 5))
    assert values == {round(0.9 * -1.0, 5), round(0.9 * -0.3, 5)}


def test_delayed_actor_and_target_updates():
    agent = make_linear_td3(policy_delay=3)
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [1.5], [0.0]))
    actor_w = agent.actor.mu[0].weight
    target_b = agent.actor_target.mu[0].bias
    history = []
    for _ in range(6):
        before = (actor_w.detach().clone(), target_b.detach().clone())
        agent.train(gradient_steps=1, batch_size=1)
        history.append((not torch.equal(before[0], actor_w), not torch.equal(before[1], target_b)))
    assert history == [(False, False), (False, False), (True, True)] * 2


def test_polyak_update_by_hand():
    agent = make_linear_td3(policy_delay=1)
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [1.5], [0.0]))
    critic_before = [p.detach().clone() for p in agent.critic_target.parameters()]
    actor_before = [p.detach().clone() for p in agent.actor_target.parameters()]
    agent.train(gradient_steps=1, batch_size=1)
    for old, online, target in zip(critic_before + actor_before,
                                   list(agent.critic.parameters()) + list(agent.actor.parameters()),
                                   list(agent.critic_target.parameters())
                                   + list(agent.actor_target.parameters())):
        torch.testing.assert_close(target, 0.9 * old + 0.1 * online.detach())


def test_actor_loss_does_not_touch_the_critic_gradients():
    agent = make_linear_td3(policy_delay=1)
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [1.5], [0.0]))
    agent.train(gradient_steps=1, batch_size=1)
    assert all(p.grad is None for p in agent.critic.parameters())
    assert all(p.grad is None for p in agent.actor.parameters())


def test_deterministic_actor_predict_scales_to_bounds():
    env = gym.make("Pendulum-v1")
    actor = DeterministicActor(env.observation_space, env.action_space, [8])
    obs = np.stack([env.observation_space.sample() for _ in range(10)])
    with torch.no_grad():
        raw = actor(torch.as_tensor(obs)).numpy()
    pred, _ = actor.predict(obs, deterministic=False)  # always deterministic
    np.testing.assert_allclose(pred, 2 * raw, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(policy_delay=0), "policy_delay"),
    (dict(target_policy_noise=-0.1), "target_policy_noise"),
    (dict(target_noise_clip=float("nan")), "target_noise_clip"),
    (dict(use_sde=True), None),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TD3("MlpPolicy", "Pendulum-v1", device="cpu", **kwargs)


def test_discrete_action_space_raises_at_construction():
    with pytest.raises(ValueError, match="TD3 does not support the action space"):
        TD3("MlpPolicy", "CartPole-v1")


def test_nan_loss_stops_training_naming_the_loss():
    agent = make_linear_td3()
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [float("inf")], [0.0]))
    with pytest.raises(FloatingPointError, match="critic_loss"):
        agent.train(gradient_steps=1, batch_size=1)


class MatrixActionEnv(gym.Env):
    """Box(2, 2) actions in [0, 3]: reward -|a - 1|^2 summed (a 2-D action shape)."""

    observation_space = gym.spaces.Box(-1, 1, (3,), dtype=np.float32)
    action_space = gym.spaces.Box(0.0, 3.0, (2, 2), dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        assert action.shape == (2, 2) and self.action_space.contains(action)
        self.t += 1
        reward = -float(np.square(action - 1.0).sum())
        return self.observation_space.sample(), reward, False, self.t >= 10, {}


@pytest.mark.parametrize("algo", ["TD3", "SAC", "DDPG"])
def test_matrix_shaped_box_actions(algo):
    import mlnotes.rl

    from stable_baselines3.common.noise import NormalActionNoise

    cls = getattr(mlnotes.rl, algo)
    noise = None if algo == "SAC" else NormalActionNoise(np.zeros((2, 2)), 0.1 * np.ones((2, 2)))
    agent = cls("MlpPolicy", MatrixActionEnv(), learning_starts=10, batch_size=8, seed=0,
                device="cpu", action_noise=noise, policy_kwargs=dict(net_arch=[8])).learn(40)
    obs = np.zeros((5, 3), dtype=np.float32)
    actions, _ = agent.predict(obs)
    assert actions.shape == (5, 2, 2)
    assert np.all(actions >= 0.0) and np.all(actions <= 3.0)
    assert np.all(np.abs(agent.replay_buffer.actions[:40]) <= 1.0)
