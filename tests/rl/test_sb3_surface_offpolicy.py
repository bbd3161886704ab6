"""Stable-Baselines3 surface of PPO and the off-policy agents (issue 11, SB3's own test
files run by benchmarks/reference_tests/sb3.py): PPO's argument checks as SB3's
assertions, ReplayBuffer.extend, the replay-buffer memory and truncation warnings,
DictReplayBuffer, true final observations of Dict envs."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.envs import SimpleMultiObsEnv
from stable_baselines3.common.vec_env import DummyVecEnv

from mlnotes.rl import DQN, PPO, SAC, TD3
from mlnotes.rl.common import replay_buffer as rb_module
from mlnotes.rl.common.replay_buffer import DictReplayBuffer, ReplayBuffer

# ---------------------------------------------------------------- PPO


@pytest.mark.parametrize("kwargs, match", [
    (dict(clip_range_vf=-0.2), "clip_range_vf"),
    (dict(clip_range=0.0), "clip_range"),
    (dict(n_steps=1), r"n_steps \* n_envs"),
    (dict(batch_size=1), "batch_size"),
])
def test_ppo_bad_arguments_raise_as_sb3_asserts(kwargs, match):
    """SB3 asserts on these (its test_run expects AssertionError); ours is a ValueError
    that is also an AssertionError."""
    for error in (AssertionError, ValueError):
        with pytest.raises(error, match=match):
            PPO("MlpPolicy", "Pendulum-v1", device="cpu", **kwargs)


def test_ppo_truncated_minibatch_warns_and_trains_without_nan():
    """SB3's wording; the minibatch of one sample skips the advantage normalisation."""
    with pytest.warns(UserWarning, match="there will be a truncated mini-batch of size 1"):
        agent = PPO("MlpPolicy", "Pendulum-v1", n_steps=64, batch_size=63, n_epochs=1,
                    device="cpu", seed=0)
    agent.learn(64)
    loss = agent.logger.name_to_value["train/loss"]
    assert np.isfinite(loss)
    # one-sample rollouts are fine without normalisation (SB3's test)
    PPO("MlpPolicy", "Pendulum-v1", n_steps=1, batch_size=1, normalize_advantage=False,
        n_epochs=1, device="cpu").learn(4)


def test_ppo_recommends_cpu_for_mlp_policies():
    agent = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        agent._maybe_recommend_cpu()  # on the CPU: silent
    agent.device = torch.device("cuda")  # pretend, as SB3's test does
    with pytest.warns(UserWarning, match="You are trying to run PPO on the GPU"):
        agent._maybe_recommend_cpu()
    agent.device = torch.device("cpu")


# ---------------------------------------------------------------- replay buffers


def _filled(n_envs=2, steps=7):
    space = spaces.Box(-10, 10, (3,), np.float32)
    buf = ReplayBuffer(20, space, spaces.Discrete(4), device="cpu", n_envs=n_envs)
    rng = np.random.default_rng(0)
    for t in range(steps):
        obs = rng.normal(size=(n_envs, 3)).astype(np.float32)
        buf.add(obs, obs + 1, rng.integers(4, size=n_envs), rng.normal(size=n_envs),
                np.array([t % 3 == 2] * n_envs),
                [{"TimeLimit.truncated": t == 5} for _ in range(n_envs)])
    return buf


def test_extend_adds_every_row_as_sb3():
    """SB3's test_save_load_replay_buffer extends with the stored arrays and infos
    holding arrays of truncation flags: the rows land in order, flags included."""
    old = _filled()
    new = ReplayBuffer(20, old.observation_space, old.action_space, device="cpu", n_envs=2)
    infos = [[{"TimeLimit.truncated": flags}] for flags in old.timeouts[:old.pos]]
    new.extend(old.observations[:old.pos], old.next_observations[:old.pos],
               old.actions[:old.pos], old.rewards[:old.pos], old.dones[:old.pos], infos)
    assert new.pos == old.pos
    for name in ("observations", "next_observations", "actions", "rewards", "dones",
                 "timeouts"):
        np.testing.assert_array_equal(getattr(new, name), getattr(old, name))
    assert old.timeouts[5].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="same length"):
        new.extend(old.observations[:2], old.observations[:3], old.actions[:2],
                   old.rewards[:2], old.dones[:2], infos[:2])


def test_buffer_larger_than_available_memory_warns(monkeypatch):
    space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    monkeypatch.setattr(rb_module, "_available_memory", lambda: 10_000_000)
    with pytest.warns(UserWarning, match="GB of memory are available"):
        ReplayBuffer(1000, space, spaces.Discrete(2), device="cpu")
    with pytest.warns(UserWarning, match="GB of memory are available"):
        DictReplayBuffer(1000, spaces.Dict({"img": space}), spaces.Discrete(2), device="cpu")
    monkeypatch.setattr(rb_module, "_available_memory", lambda: 10 ** 12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ReplayBuffer(1000, space, spaces.Discrete(2), device="cpu")


@pytest.mark.parametrize("optimize_memory_usage", [False, True])
def test_memory_optimised_buffer_warns_when_learn_restarts(optimize_memory_usage):
    """SB3's test_warn_buffer: a new learn() (reset_num_timesteps=True) cuts the last
    trajectory of a memory-optimised buffer, and says so; continuing does not."""
    agent = DQN("MlpPolicy", "CartPole-v1", buffer_size=100, learning_starts=10,
                optimize_memory_usage=optimize_memory_usage,
                replay_buffer_kwargs=dict(handle_timeout_termination=not optimize_memory_usage),
                policy_kwargs=dict(net_arch=[16]), device="cpu", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        agent.learn(30)
        agent.learn(30, reset_num_timesteps=False)
    if optimize_memory_usage:
        with pytest.warns(UserWarning, match="last trajectory in the replay buffer will be "
                                             "truncated"):
            agent.learn(30)
        last = (agent.replay_buffer.pos - 1) % agent.replay_buffer.buffer_size
        assert agent.replay_buffer.dones.reshape(-1)[last] in (0.0, 1.0)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            agent.learn(30)


def _dict_space():
    return spaces.Dict({"pos": spaces.Box(-1, 1, (2,), np.float32),
                        "cell": spaces.Discrete(5)})


def test_dict_replay_buffer_samples_saves_and_handles_time_limits(tmp_path):
    buf = DictReplayBuffer(8, _dict_space(), spaces.Box(-1, 1, (1,), np.float32),
                           device="cpu")
    for t in range(5):
        obs = {"pos": np.full((1, 2), t, np.float32), "cell": np.array([t])}
        nxt = {"pos": np.full((1, 2), t + 0.5, np.float32), "cell": np.array([t + 1])}
        buf.add(obs, nxt, np.array([[0.1 * t]]), np.array([float(t)]),
                np.array([t in (2, 4)]), [{"TimeLimit.truncated": t == 4}])
    batch = buf._get_samples(np.arange(5), np.zeros(5, dtype=np.int64))
    assert set(batch.observations) == {"pos", "cell"}
    np.testing.assert_array_equal(batch.observations["pos"][:, 0].numpy(), np.arange(5))
    np.testing.assert_array_equal(batch.next_observations["cell"][:, 0].numpy(),
                                  np.arange(1, 6))
    # termination at t=2 is terminal, the time limit at t=4 bootstraps
    assert batch.dones[:, 0].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert batch.rewards[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    buf.save(tmp_path / "dict_rb")
    loaded = ReplayBuffer.load(tmp_path / "dict_rb.npz", device="cpu")
    assert type(loaded) is DictReplayBuffer and loaded.pos == 5
    for key in ("pos", "cell"):
        np.testing.assert_array_equal(loaded.observations[key], buf.observations[key])
        np.testing.assert_array_equal(loaded.next_observations[key],
                                      buf.next_observations[key])
    with pytest.raises(ValueError, match="optimize_memory_usage"):
        DictReplayBuffer(8, _dict_space(), spaces.Discrete(2), optimize_memory_usage=True)
    with pytest.raises(ValueError, match="Dict observation space"):
        DictReplayBuffer(8, spaces.Box(-1, 1, (2,)), spaces.Discrete(2))


class _DictTimeLimitEnv(gym.Env):
    """Dict observations counting the steps; every episode is cut at 3 steps."""

    observation_space = _dict_space()
    action_space = spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def _obs(self):
        return {"pos": np.full(2, self.t / 10, np.float32), "cell": self.t}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, False, self.t >= 3, {}


@pytest.mark.parametrize("cls", [DQN, SAC])
def test_dict_envs_store_the_true_final_observation(cls):
    """The off-policy loop picks DictReplayBuffer and stores, per key, the final
    observation of a truncated episode (not the next episode's first)."""
    if cls is SAC:
        env = DummyVecEnv([lambda: _BoxActions(_DictTimeLimitEnv())])
    else:
        env = DummyVecEnv([_DictTimeLimitEnv])
    agent = cls("MultiInputPolicy", env, learning_starts=100, buffer_size=50, train_freq=1,
                policy_kwargs=dict(net_arch=[8]), device="cpu", seed=0)
    agent.learn(7)
    buf = agent.replay_buffer
    assert type(buf) is DictReplayBuffer and buf.pos == 7
    cells = buf.observations["cell"][:7, 0, 0].tolist()
    next_cells = buf.next_observations["cell"][:7, 0, 0].tolist()
    assert cells == [0, 1, 2, 0, 1, 2, 0]
    assert next_cells == [1, 2, 3, 1, 2, 3, 1]  # 3: the final observation, not 0
    assert buf.timeouts[:7, 0].tolist() == [0, 0, 1, 0, 0, 1, 0]


class _BoxActions(gym.ActionWrapper):
    def __init__(self, env):
        super().__init__(env)
        self.action_space = spaces.Box(-1, 1, (1,), np.float32)

    def action(self, action):
        return int(action[0] > 0)


def test_mlp_policy_refuses_dict_observations_and_nstep_refuses_dicts():
    for cls in (DQN, SAC, TD3):
        env = SimpleMultiObsEnv(discrete_actions=cls is DQN)
        with pytest.raises(ValueError, match="MultiInputPolicy"):
            cls("MlpPolicy", env, device="cpu")
    with pytest.raises(ValueError, match="Dict observation"):
        DQN("MultiInputPolicy", SimpleMultiObsEnv(), n_steps=3, device="cpu")


def test_replay_buffer_file_name_as_given_when_it_has_a_suffix(tmp_path):
    """SB3's CheckpointCallback saves to ``..._steps.pkl`` and checks that file."""
    buf = _filled()
    buf.save(tmp_path / "rb_200_steps.pkl")
    assert (tmp_path / "rb_200_steps.pkl").exists()
    assert not (tmp_path / "rb_200_steps.pkl.npz").exists()
    loaded = ReplayBuffer.load(tmp_path / "rb_200_steps.pkl", device="cpu")
    np.testing.assert_array_equal(loaded.observations, buf.observations)
    buf.save(tmp_path / "plain")
    assert (tmp_path / "plain.npz").exists()


def test_dqn_warns_when_envs_outnumber_the_target_update_interval():
    from stable_baselines3.common.env_util import make_vec_env

    with pytest.warns(UserWarning, match="number of environments used is greater"):
        DQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), buffer_size=100,
            target_update_interval=1, device="cpu")
