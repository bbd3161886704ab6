"""PETS: trajectory sampling through the ensemble, learning on a small control task."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import PETS
from mlnotes.rl.model_based._pets import PETSPolicy

SMALL = dict(net_arch=(32, 32), horizon=8, n_samples=100, n_elites=10, n_iterations=3,
             n_particles=4)


def test_sample_step_uses_member_i_mod_e_and_samples_its_gaussian():
    obs_space = spaces.Box(-1, 1, (2,))
    act_space = spaces.Box(-1, 1, (1,))
    policy = PETSPolicy(obs_space, act_space, lambda _: 1e-3, n_members=3, net_arch=(8,))
    with torch.no_grad():  # near-deterministic members
        policy.dynamics.model.min_logvar.fill_(-30.0)
        policy.dynamics.model.max_logvar.fill_(-29.0)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(7, 2))
    actions = rng.uniform(-1, 1, (7, 1))
    next_obs, rewards, terminated = policy.sample_step(obs, actions)
    x = torch.as_tensor(np.hstack([obs, actions]), dtype=torch.float32)
    with torch.no_grad():
        mean, _ = policy.dynamics.model(x)  # every member on every row: (3, 7, 3)
    for i in range(7):
        expected = mean[i % 3, i].double().numpy()
        np.testing.assert_allclose(next_obs[i] - obs[i], expected[:2], atol=1e-5)
        assert rewards[i] == pytest.approx(expected[2], abs=1e-5)
    assert not terminated.any()


def test_cyclic_members_fast_path_equals_explicit_indices():
    # members=None reshapes rows into the (E, N / E) layout: same means and same noise
    # as the general scatter through explicit indices i % E
    policy = PETSPolicy(spaces.Box(-1, 1, (3,)), spaces.Box(-1, 1, (1,)), lambda _: 1e-3,
                        n_members=5, net_arch=(16,))
    model = policy.dynamics
    rng = np.random.default_rng(1)
    obs, actions = rng.normal(size=(40, 3)), rng.uniform(-1, 1, (40, 1))
    for n in (40, 37):  # divisible by E (fast path) and not
        fast = model.sample_step(obs[:n], actions[:n], None, torch.Generator().manual_seed(3))
        slow = model.sample_step(obs[:n], actions[:n], torch.arange(n) % 5,
                                 torch.Generator().manual_seed(3))
        np.testing.assert_array_equal(fast[0], slow[0])
        np.testing.assert_array_equal(fast[1], slow[1])


class PointEnv(gym.Env):
    """x' = x + 0.5 a, reward -x^2; 30-step episodes from x = 2."""

    observation_space = spaces.Box(-10, 10, (1,), dtype=np.float32)
    action_space = spaces.Box(-1, 1, (1,), dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.t = 2.0, 0
        return np.array([self.x], dtype=np.float32), {}

    def step(self, action):
        reward = -self.x**2
        self.x = float(np.clip(self.x + 0.5 * float(action[0]), -10, 10))
        self.t += 1
        return np.array([self.x], dtype=np.float32), reward, False, self.t >= 30, {}


def test_pets_learns_to_drive_a_point_to_the_origin():
    agent = PETS("MlpPolicy", PointEnv(), learning_starts=60, train_freq=30, n_epochs=30,
                 batch_size=64, seed=0, policy_kwargs=SMALL)
    agent.learn(150)
    mean, _ = evaluate_policy(agent, PointEnv(), n_eval_episodes=2, warn=False)
    # doing nothing: 30 * 4 = -120; the best policy (full speed to 0): about -11
    assert mean > -25
    assert agent.model_loss_[-1] < agent.model_loss_[0]


def test_pets_rejects_discrete_spaces_and_several_envs():
    with pytest.raises(ValueError, match="Box"):
        PETS("MlpPolicy", "CartPole-v1")
    from stable_baselines3.common.env_util import make_vec_env

    with pytest.raises(ValueError):
        PETS("MlpPolicy", make_vec_env("Pendulum-v1", n_envs=2))
