"""DQN: SB3's defaults, Bellman targets (plain, double, n-step) against hand-computed
values, one training phase equal to SB3's DQN.train on the same batch, truncation
bootstrapped and termination not (Q-values learned on a one-state env), target updates,
exploration schedule, errors."""

import inspect

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import DQN as SB3DQN
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.type_aliases import ReplayBufferSamples as SB3Samples
from stable_baselines3.common.vec_env import DummyVecEnv

from mlnotes.rl import DQN
from mlnotes.rl.common.replay_buffer import NStepReplayBuffer, ReplayBufferSamples


def test_defaults_are_sb3s():
    ours = inspect.signature(DQN.__init__).parameters
    ref = inspect.signature(SB3DQN.__init__).parameters
    for name, param in ref.items():
        assert name in ours, name
        assert ours[name].default == param.default, name
    assert list(ref)[:len(ref) - 1] == [n for n in ours if n in ref][:len(ref) - 1]
    extra = set(ours) - set(ref)
    assert extra == {"double_q"} and ours["double_q"].default is False


def test_box_actions_and_bad_arguments_raise():
    with pytest.raises(ValueError, match="action space"):
        DQN("MlpPolicy", "Pendulum-v1")
    for kwargs in (dict(target_update_interval=0), dict(exploration_fraction=1.5),
                   dict(exploration_final_eps=-0.1), dict(max_grad_norm=0)):
        with pytest.raises(ValueError):
            DQN("MlpPolicy", "CartPole-v1", **kwargs)
    with pytest.raises(ValueError, match="Unknown policy"):
        DQN("CnnPolicyX", "CartPole-v1")


def _set_constant_q(net, values):
    """Make a QNetwork output ``values`` for every input (zero weights, last bias)."""
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.bias.copy_(torch.tensor(values))


def _batch(rewards, dones, discounts=None):
    n = len(rewards)
    return ReplayBufferSamples(
        observations=torch.zeros(n, 4), actions=torch.zeros(n, 1, dtype=torch.long),
        next_observations=torch.zeros(n, 4),
        dones=torch.tensor(dones, dtype=torch.float32).reshape(-1, 1),
        rewards=torch.tensor(rewards, dtype=torch.float32).reshape(-1, 1),
        discounts=None if discounts is None
        else torch.tensor(discounts, dtype=torch.float32).reshape(-1, 1))


def test_bellman_targets_equal_hand_computed_values():
    agent = DQN("MlpPolicy", "CartPole-v1", gamma=0.9, seed=0, device="cpu")
    _set_constant_q(agent.q_net_target, [1.0, 3.0])   # max_a' Q_target = 3
    _set_constant_q(agent.q_net, [5.0, 2.0])          # online argmax = action 0
    batch = _batch([0.5, 2.0], [0.0, 1.0])
    target = agent._targets(batch)
    assert target[:, 0].tolist() == pytest.approx([0.5 + 0.9 * 3.0, 2.0])
    agent.double_q = True  # online network chooses action 0, target evaluates it: 1
    target = agent._targets(batch)
    assert target[:, 0].tolist() == pytest.approx([0.5 + 0.9 * 1.0, 2.0])
    agent.double_q = False  # n-step samples carry their own discount
    target = agent._targets(_batch([0.5, 1.0], [0.0, 0.0], discounts=[0.9**3, 0.9**2]))
    assert target[:, 0].tolist() == pytest.approx([0.5 + 0.9**3 * 3.0, 1.0 + 0.81 * 3.0])


def test_nstep_agent_targets_through_its_buffer():
    env = DummyVecEnv([lambda: gym.make("CartPole-v1")])
    agent = DQN("MlpPolicy", env, n_steps=3, gamma=0.5, seed=0, device="cpu")
    assert isinstance(agent.replay_buffer, NStepReplayBuffer)
    buf = agent.replay_buffer
    for t in range(4):
        obs = np.full((1, 4), t, dtype=np.float32)
        buf.add(obs, obs + 1, np.array([0]), np.array([1.0 + t]), np.array([False]), [{}])
    _set_constant_q(agent.q_net_target, [2.0, 4.0])
    batch = buf._get_samples(np.array([0]), np.array([0]))
    # 1 + 0.5 * 2 + 0.25 * 3 + 0.125 * max Q = 2.75 + 0.5
    assert agent._targets(batch).item() == pytest.approx(2.75 + 0.125 * 4.0)


def test_training_phase_matches_sb3_on_the_same_batches():
    kwargs = dict(learning_rate=1e-2, batch_size=8, gamma=0.95, max_grad_norm=0.5,
                  policy_kwargs=dict(net_arch=[16, 16]), seed=0, device="cpu")
    ours = DQN("MlpPolicy", "CartPole-v1", **kwargs)
    ref = SB3DQN("MlpPolicy", "CartPole-v1", **kwargs)
    ours.policy.load_state_dict(ref.policy.state_dict())
    ours._setup_learn(1000)  # logger
    ref._setup_learn(1000)
    gen = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(4):
        obs, nxt = torch.randn(8, 4, generator=gen), torch.randn(8, 4, generator=gen)
        act = torch.randint(0, 2, (8, 1), generator=gen)
        rew = torch.randn(8, 1, generator=gen)
        done = (torch.rand(8, 1, generator=gen) < 0.3).float()
        batches.append((obs, act, nxt, done, 10 * rew))
    it_ours, it_ref = iter(batches), iter(batches)

    def sample_ours(n, env=None):  # ours draws a whole phase at once: n = steps * 8
        parts = [next(it_ours) for _ in range(n // 8)]
        return ReplayBufferSamples(*(torch.cat(column) for column in zip(*parts)))

    ours.replay_buffer.sample = sample_ours
    ref.replay_buffer.sample = lambda *a, **k: SB3Samples(*next(it_ref))
    ours.train(gradient_steps=4, batch_size=8)
    ref.train(gradient_steps=4, batch_size=8)
    for (name, a), b in zip(ours.policy.state_dict().items(), ref.policy.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    assert ours._n_updates == ref._n_updates == 4


class OneStateEnv(gym.Env):
    """A single state, reward 1 at every step; terminates after one step if asked."""

    observation_space = spaces.Box(0.0, 1.0, (1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, terminate=False):
        self.terminate = terminate

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1, dtype=np.float32), {}

    def step(self, action):
        return np.ones(1, dtype=np.float32), 1.0, self.terminate, False, {}


@pytest.mark.parametrize("terminate", [False, True])
def test_truncation_is_bootstrapped_and_termination_is_not(terminate):
    # gamma = 0.5: Q = 1 / (1 - 0.5) = 2 when the 5-step time limit is bootstrapped (a
    # learner that treated it as terminal would find 1 / (1 - 0.5 * 4/5) = 1.67);
    # Q = 1 when every episode really ends after one step.
    env = DummyVecEnv([lambda: gym.wrappers.TimeLimit(OneStateEnv(terminate), 5)])
    agent = DQN("MlpPolicy", env, learning_rate=3e-3, learning_starts=0, batch_size=32,
                gamma=0.5, train_freq=1, target_update_interval=25, buffer_size=500,
                policy_kwargs=dict(net_arch=[8]), seed=0, device="cpu")
    agent.learn(1500)
    with torch.no_grad():
        q = agent.q_net(torch.ones(1, 1))[0]
    expected = 1.0 if terminate else 2.0
    np.testing.assert_allclose(q.numpy(), expected, atol=0.08)


def test_target_update_interval_and_tau():
    agent = DQN("MlpPolicy", "CartPole-v1", target_update_interval=10, seed=0, device="cpu")
    agent._setup_learn(100)
    with torch.no_grad():
        for p in agent.q_net.parameters():
            p.add_(1.0)
    agent._n_calls = 8
    agent._on_step()  # 9th call: no update
    assert not torch.equal(agent.q_net[0].weight if False else agent._q_params[0],
                           agent._target_params[0])
    agent._on_step()  # 10th call: hard copy (tau = 1)
    assert all(torch.equal(a, b) for a, b in zip(agent._q_params, agent._target_params))
    soft = DQN("MlpPolicy", "CartPole-v1", target_update_interval=1, tau=0.1, seed=0,
               device="cpu")
    soft._setup_learn(100)
    before = [t.clone() for t in soft._target_params]
    with torch.no_grad():
        for p in soft.q_net.parameters():
            p.add_(1.0)
    soft._on_step()
    for b, t, p in zip(before, soft._target_params, soft._q_params):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * p)
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0)  # every 10 // 4 = 2 calls
    vec = DQN("MlpPolicy", env, target_update_interval=10, seed=0, device="cpu")
    vec._setup_learn(100)
    with torch.no_grad():
        vec._q_params[0].add_(1.0)
    vec._on_step()
    assert not torch.equal(vec._q_params[0], vec._target_params[0])
    vec._on_step()
    assert torch.equal(vec._q_params[0], vec._target_params[0])


def test_exploration_schedule_and_epsilon_greedy_predict():
    agent = DQN("MlpPolicy", "CartPole-v1", exploration_fraction=0.5,
                exploration_initial_eps=1.0, exploration_final_eps=0.1, learning_starts=1000,
                seed=0, device="cpu")
    seen = []
    agent.learn(400, callback=lambda l, g: seen.append(
        (l["self"].num_timesteps, l["self"].exploration_rate)) or True)
    # the callback sees the rate set after the previous step: 1 - 0.9 * (t - 1) / 200
    for t, eps in seen[1:]:
        assert eps == pytest.approx(max(0.1, 1.0 - 0.9 * (t - 1) / 200.0))
    assert agent.exploration_rate == pytest.approx(0.1)
    agent.exploration_rate = 1.0
    obs = np.zeros((200, 4), dtype=np.float32)
    greedy = agent.predict(obs, deterministic=True)[0]
    random = agent.predict(obs)[0]
    assert len(set(greedy.tolist())) == 1 and len(set(random.tolist())) == 2
    with pytest.raises(ValueError, match="NaN"):
        agent.predict(np.full(4, np.nan, dtype=np.float32))


def test_options_beyond_sb3_learn_with_several_envs():
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    agent = DQN("MlpPolicy", env, learning_starts=32, n_steps=3, double_q=True,
                policy_kwargs=dict(dueling=True, net_arch=[16]), seed=0, device="cpu")
    agent.learn(200)
    assert agent._n_updates > 0 and agent.policy.q_net.dueling
    q = agent.q_net(torch.zeros(3, 4))
    assert q.shape == (3, 2)


def test_nan_loss_raises_naming_the_loss(monkeypatch):
    agent = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, seed=0, device="cpu")
    monkeypatch.setattr(agent, "_targets", lambda batch: torch.full_like(batch.rewards,
                                                                         float("nan")))
    with pytest.raises(FloatingPointError, match="Huber loss"):
        agent.learn(100)


class TinyImageEnv(gym.Env):
    """36x36 greyscale images (channel last, as Atari wrappers give); reward for action 1."""

    observation_space = spaces.Box(0, 255, (36, 36, 1), dtype=np.uint8)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return (self.observation_space.sample(), float(action), False, self.t >= 8, {})


def test_cnn_policy_learns_saves_and_loads(tmp_path):
    agent = DQN("CnnPolicy", TinyImageEnv(), buffer_size=200, learning_starts=16,
                batch_size=8, train_freq=4, policy_kwargs=dict(
                    features_extractor_kwargs=dict(features_dim=32)), seed=0, device="cpu")
    agent.learn(64)
    assert agent._n_updates > 0
    assert agent.replay_buffer.observations.dtype == np.uint8
    obs = np.stack([agent.observation_space.sample() for _ in range(3)])
    actions, _ = agent.predict(obs, deterministic=True)
    assert actions.shape == (3,)
    agent.save(tmp_path / "cnn")
    loaded = DQN.load(tmp_path / "cnn")
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)


def test_mlp_policy_on_images_scales_like_the_torch_path():
    agent = DQN("MlpPolicy", TinyImageEnv(), buffer_size=100, seed=0, device="cpu")
    obs = np.stack([agent.observation_space.sample() for _ in range(5)])
    agent.exploration_rate = 0.0
    with torch.no_grad():
        q = agent.policy.q_values(torch.as_tensor(obs))
    np.testing.assert_array_equal(agent._policy_actions(obs), q.argmax(1).numpy())
