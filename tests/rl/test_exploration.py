"""Exploration bonus wrappers: counts by hand, RND novelty, SB3's agents unchanged."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3 import DQN as SB3DQN
from stable_baselines3 import PPO as SB3PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from mlnotes.rl import PPO, RND, CountBonus


class Constant(gym.Env):
    """Always the same observation, reward 1."""

    observation_space = spaces.Box(-1, 1, (3,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.full(3, 0.5, dtype=np.float32), {}

    def step(self, action):
        return np.full(3, 0.5, dtype=np.float32), 1.0, False, False, {}


def test_count_bonus_is_beta_over_sqrt_count():
    env = CountBonus(DummyVecEnv([Constant]), beta=0.5, seed=0)
    env.reset()
    for n in range(1, 6):
        _, rewards, _, infos = env.step(np.array([0]))
        assert rewards[0] == pytest.approx(1.0 + 0.5 / np.sqrt(n))
        assert infos[0]["extrinsic_reward"] == 1.0
        assert infos[0]["intrinsic_reward"] == pytest.approx(1 / np.sqrt(n))
    assert sum(env.counts.values()) == 5


def test_simhash_groups_nearby_observations_and_separates_far_ones():
    env = CountBonus(make_vec_env("MountainCar-v0", n_envs=1, seed=0), n_bits=16, seed=0)
    env.reset()
    env.obs_rms.mean[:] = 0.0
    env.obs_rms.var[:] = 1.0
    a = env.hash(np.array([[0.5, 0.5], [0.5001, 0.5001], [-0.5, -0.5]]))
    assert a[0] == a[1] and a[0] != a[2]


def test_rnd_error_falls_where_it_trained_and_stays_high_elsewhere():
    env = RND(make_vec_env("MountainCar-v0", n_envs=2, seed=0), seed=0, train_freq=4)
    env.reset()
    for _ in range(200):
        env.step(np.zeros(2, dtype=int))  # push left: the car stays near the bottom
    seen = np.asarray(env.venv.reset(), dtype=np.float64)
    novel = np.array([[0.5, 0.06], [0.45, 0.05]])  # near the flag, fast
    for _ in range(50):
        env.train_predictor(4)
    assert env.prediction_error(seen).mean() < 0.2 * env.prediction_error(novel).mean()


@pytest.mark.parametrize("wrapper", [CountBonus, RND])
def test_bonus_wrappers_work_with_sb3_agents_unchanged(wrapper):
    env = wrapper(make_vec_env("MountainCar-v0", n_envs=2, seed=0), seed=0)
    SB3PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0).learn(64)
    SB3DQN("MlpPolicy", wrapper(make_vec_env("MountainCar-v0", n_envs=1, seed=0), seed=0),
           learning_starts=16, seed=0).learn(64)
    # and with ours
    PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0).learn(64)


def test_bonus_wrappers_reject_bad_input():
    with pytest.raises(ValueError, match="Box"):
        CountBonus(make_vec_env("FrozenLake-v1", n_envs=1))
    with pytest.raises(ValueError, match="beta"):
        RND(make_vec_env("MountainCar-v0", n_envs=1), beta=-1)
    with pytest.raises(ValueError, match="n_bits"):
        CountBonus(make_vec_env("MountainCar-v0", n_envs=1), n_bits=0)
