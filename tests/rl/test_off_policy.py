"""OffPolicyAlgorithm: the loop (train_freq, gradient_steps, learning_starts), Box-action
scaling and action noise, true final observations at time limits, target updates,
NaN-loss errors, replay-buffer save/load."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import (
    NormalActionNoise,
    OrnsteinUhlenbeckActionNoise,
    VectorizedActionNoise,
)
from stable_baselines3.common.vec_env import DummyVecEnv

from mlnotes.rl.common.off_policy_algorithm import (
    OffPolicyAlgorithm,
    convert_train_freq,
    hard_update,
    polyak_update,
)
from mlnotes.rl.common.policies import BasePolicy
from mlnotes.rl.common.replay_buffer import NStepReplayBuffer, ReplayBuffer


class ConstantPolicy(BasePolicy):
    """Always proposes ``value`` (Box) or action 1 (Discrete); one trainable weight."""

    value = 1.0

    def __init__(self, observation_space, action_space, lr_schedule):
        super().__init__(observation_space, action_space)
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.optimizer = torch.optim.SGD(self.parameters(), lr=lr_schedule(1))

    def _predict(self, obs, deterministic=False):
        n = obs.shape[0]
        if isinstance(self.action_space, spaces.Box):
            return torch.full((n, *self.action_space.shape), self.value)
        return torch.ones(n, dtype=torch.long)


class Recorder(OffPolicyAlgorithm):
    """Records the training calls; ``loss_value`` is what its 'loss' evaluates to."""

    policy_aliases = {"MlpPolicy": ConstantPolicy}
    loss_value = 0.0

    def __init__(self, policy, env, learning_rate=1e-3, _init_setup_model=True, **kwargs):
        super().__init__(policy, env, learning_rate, support_multi_env=True, **kwargs)
        self.calls = []
        if _init_setup_model:
            self._setup_model()

    def train(self, gradient_steps, batch_size):
        self.calls.append((self.num_timesteps, gradient_steps))
        batch = self.replay_buffer.sample(batch_size)
        assert batch.observations.shape[0] == batch_size
        self._n_updates += gradient_steps
        self._check_finite_loss(torch.tensor(self.loss_value), "critic_loss")


class CounterEnv(gym.Env):
    """obs = [t]; reward 1; terminates at t == terminate_at (if set)."""

    observation_space = spaces.Box(-np.inf, np.inf, (1,), dtype=np.float32)

    def __init__(self, action_space=None, terminate_at=None):
        self.action_space = action_space or spaces.Discrete(2)
        self.terminate_at = terminate_at
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.array([self.t], dtype=np.float32), 1.0, terminated, False, {}


def test_polyak_and_hard_update():
    params = [torch.tensor([1.0, 2.0]), torch.tensor([[4.0]])]
    targets = [torch.zeros(2), torch.ones(1, 1)]
    polyak_update(params, targets, 0.1)
    assert targets[0].tolist() == pytest.approx([0.1, 0.2])
    assert targets[1].item() == pytest.approx(0.1 * 4 + 0.9 * 1)
    hard_update(params, targets)
    assert all(torch.equal(p, t) for p, t in zip(params, targets))
    with pytest.raises(ValueError, match="targets"):
        polyak_update(params, targets[:1], 0.5)


def test_train_freq_conversion():
    assert convert_train_freq(4) == convert_train_freq((4, "step"))
    assert convert_train_freq((2, "episode")).frequency == 2
    for bad in (0, (1, "minute"), (1, 2, 3), 1.5):
        with pytest.raises(ValueError):
            convert_train_freq(bad)


def test_loop_respects_learning_starts_train_freq_and_gradient_steps():
    agent = Recorder("MlpPolicy", "CartPole-v1", learning_starts=10, train_freq=4,
                     gradient_steps=3, batch_size=8, seed=0)
    agent.learn(30)
    # rollouts of 4 steps: training after 12, 16, ... steps (> learning_starts); the last
    # rollout is collected whole, so 32 steps are taken (as SB3)
    assert [c[0] for c in agent.calls] == [12, 16, 20, 24, 28, 32]
    assert agent.num_timesteps == 32
    assert agent.calls[0] == (12, 3) and all(g == 3 for _, g in agent.calls)
    agent = Recorder("MlpPolicy", "CartPole-v1", learning_starts=0, train_freq=(5, "step"),
                     gradient_steps=-1, batch_size=4, seed=0)
    agent.learn(20)
    assert agent.calls == [(5, 5), (10, 5), (15, 5), (20, 5)]
    env = make_vec_env("CartPole-v1", n_envs=3, seed=0)
    agent = Recorder("MlpPolicy", env, learning_starts=0, train_freq=2, gradient_steps=-1,
                     batch_size=4, seed=0)
    agent.learn(12)
    assert agent.calls == [(6, 6), (12, 6)]  # -1: one gradient step per env step collected
    assert agent.replay_buffer.n_envs == 3 and agent.replay_buffer.pos == 4


def test_train_freq_in_episodes():
    env = DummyVecEnv([lambda: CounterEnv(terminate_at=3)])
    agent = Recorder("MlpPolicy", env, learning_starts=0, train_freq=(2, "episode"),
                     batch_size=2, seed=0)
    agent.learn(14)
    assert [c[0] for c in agent.calls] == [6, 12, 18]  # whole rollouts of 2 episodes
    with pytest.raises(ValueError, match="single environment"):
        Recorder("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), learning_starts=0,
                 train_freq=(1, "episode")).learn(10)


def test_box_actions_are_scaled_with_noise_in_buffer():
    env = DummyVecEnv([lambda: CounterEnv(spaces.Box(-2.0, 2.0, (1,), dtype=np.float32))])
    noise = NormalActionNoise(mean=np.array([0.3]), sigma=np.array([0.0]))
    agent = Recorder("MlpPolicy", env, learning_starts=0, action_noise=noise, seed=0)
    agent._last_obs = env.reset()
    action, buffer_action = agent._sample_action(0, noise, 1)
    # policy proposes 1.0 in [-2, 2] -> 0.5 scaled, + 0.3 noise = 0.8 stored, 1.6 sent
    np.testing.assert_allclose(buffer_action, [[0.8]], rtol=1e-6)
    np.testing.assert_allclose(action, [[1.6]], rtol=1e-6)
    big = NormalActionNoise(mean=np.array([5.0]), sigma=np.array([0.0]))
    action, buffer_action = agent._sample_action(0, big, 1)
    assert buffer_action.tolist() == [[1.0]] and action.tolist() == [[2.0]]
    agent.learn(5)
    assert agent.replay_buffer.actions[:5, 0, 0].tolist() == pytest.approx([0.8] * 5)
    # warm-up: uniform actions, stored scaled into [-1, 1]
    agent = Recorder("MlpPolicy", env, learning_starts=100, seed=0)
    agent.learn(50)
    stored = agent.replay_buffer.actions[:50, 0, 0]
    assert stored.min() >= -1 and stored.max() <= 1 and stored.std() > 0.3


def test_noise_classes_vectorised_for_several_envs():
    env = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    noise = OrnsteinUhlenbeckActionNoise(mean=np.zeros(1), sigma=0.1 * np.ones(1))
    agent = Recorder("MlpPolicy", env, learning_starts=0, action_noise=noise, seed=0)
    agent.learn(10)
    assert isinstance(agent.action_noise, VectorizedActionNoise)
    with pytest.raises(TypeError, match="action_noise"):
        Recorder("MlpPolicy", env, action_noise=0.1)


def test_time_limit_stores_true_final_observation():
    env = DummyVecEnv([lambda: gym.wrappers.TimeLimit(CounterEnv(), max_episode_steps=3)])
    agent = Recorder("MlpPolicy", env, learning_starts=100, seed=0)
    agent.learn(7)
    buf = agent.replay_buffer
    assert buf.observations[:7, 0, 0].tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert buf.next_observations[:7, 0, 0].tolist() == [1, 2, 3, 1, 2, 3, 1]
    assert buf.dones[:7, 0].tolist() == [0, 0, 1, 0, 0, 1, 0]
    assert buf.timeouts[:7, 0].tolist() == [0, 0, 1, 0, 0, 1, 0]
    sample = buf._get_samples(np.arange(7), np.zeros(7, dtype=np.int64))
    assert sample.dones.sum().item() == 0  # truncation: bootstrapped
    env = DummyVecEnv([lambda: CounterEnv(terminate_at=3)])
    agent = Recorder("MlpPolicy", env, learning_starts=100, seed=0)
    agent.learn(4)
    sample = agent.replay_buffer._get_samples(np.arange(4), np.zeros(4, dtype=np.int64))
    assert sample.dones[:, 0].tolist() == [0, 0, 1, 0]  # termination: not bootstrapped
    assert sample.next_observations[2, 0].item() == 3


def test_nan_loss_names_the_loss():
    agent = Recorder("MlpPolicy", "CartPole-v1", learning_starts=0, batch_size=2, seed=0)
    agent.loss_value = float("nan")
    with pytest.raises(FloatingPointError, match="critic_loss is nan"):
        agent.learn(10)


def test_nstep_buffer_chosen_and_custom_class():
    agent = Recorder("MlpPolicy", "CartPole-v1", n_steps=3, gamma=0.9, seed=0)
    assert isinstance(agent.replay_buffer, NStepReplayBuffer)
    assert (agent.replay_buffer.n_steps, agent.replay_buffer.gamma) == (3, 0.9)
    agent = Recorder("MlpPolicy", "CartPole-v1", replay_buffer_class=ReplayBuffer,
                     replay_buffer_kwargs=dict(handle_timeout_termination=False))
    assert not agent.replay_buffer.handle_timeout_termination
    with pytest.raises(TypeError, match="replay_buffer_class"):
        Recorder("MlpPolicy", "CartPole-v1", replay_buffer_class=dict)


def test_bad_hyperparameters_raise():
    for kwargs in (dict(buffer_size=0), dict(batch_size=0), dict(tau=1.5), dict(gamma=-0.1),
                   dict(gradient_steps=-2), dict(learning_starts=-1), dict(n_steps=0)):
        with pytest.raises(ValueError):
            Recorder("MlpPolicy", "CartPole-v1", **kwargs)


def test_replay_buffer_save_load(tmp_path):
    agent = Recorder("MlpPolicy", "CartPole-v1", learning_starts=100, seed=0).learn(30)
    agent.save_replay_buffer(tmp_path / "sub" / "buffer")
    other = Recorder("MlpPolicy", "CartPole-v1", seed=1)
    other.load_replay_buffer(tmp_path / "sub" / "buffer.npz")
    assert other.replay_buffer.pos == 30
    np.testing.assert_array_equal(other.replay_buffer.observations,
                                  agent.replay_buffer.observations)
    wrong = Recorder("MlpPolicy", "Pendulum-v1", seed=0)
    with pytest.raises(ValueError, match="space"):
        wrong.load_replay_buffer(tmp_path / "sub" / "buffer.npz")


class NoisyRecorder(Recorder):
    """A saveable subclass whose constructor takes ``action_noise`` (like TD3)."""

    def __init__(self, policy, env, learning_rate=1e-3, action_noise=None, seed=None,
                 device="auto", _init_setup_model=True):
        super().__init__(policy, env, learning_rate, action_noise=action_noise, seed=seed,
                         device=device, _init_setup_model=_init_setup_model)


def test_sb3_action_noise_survives_save_load(tmp_path):
    noise = OrnsteinUhlenbeckActionNoise(mean=np.zeros(1), sigma=0.2 * np.ones(1), theta=0.3,
                                         dt=0.05)
    agent = NoisyRecorder("MlpPolicy", "Pendulum-v1", action_noise=noise, seed=0)
    agent.save(tmp_path / "agent")
    assert agent.get_params()["action_noise"] is noise
    loaded = NoisyRecorder.load(tmp_path / "agent")
    restored = loaded.get_params()["action_noise"]
    assert type(restored) is OrnsteinUhlenbeckActionNoise and loaded.action_noise is restored
    assert (restored._theta, restored._dt) == (0.3, 0.05)
    np.testing.assert_array_equal(restored._sigma, noise._sigma)
    normal = VectorizedActionNoise(NormalActionNoise(np.zeros(1), np.ones(1)), 2)
    NoisyRecorder("MlpPolicy", "Pendulum-v1", action_noise=normal).save(tmp_path / "vec")
    again = NoisyRecorder.load(tmp_path / "vec").action_noise
    assert type(again) is VectorizedActionNoise and again.n_envs == 2
    assert type(again.base_noise) is NormalActionNoise
