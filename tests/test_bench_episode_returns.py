"""``benchmarks.harness.episode_returns``: the seeded evaluation of the RL benchmark scripts."""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from benchmarks.harness import episode_returns


class _Pump:
    """MountainCar: push along the velocity (the return depends on the start state)."""

    def __init__(self):
        self.starts = []

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        assert deterministic and np.shape(obs) == (2,)
        self.starts.append(bool(np.asarray(episode_start).item()))
        return np.array(2 if obs[1] >= 0 else 0), state


class _Damp:
    """Pendulum: a torque against the angular velocity plus a bias (not the whole range)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        obs = np.asarray(obs)
        return np.clip(-0.5 * obs[..., 2:3] + 0.3 * obs[..., 1:2], -2, 2), state


def _one_episode(agent, env_id, seed):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(int(agent.predict(obs, None, None,
                                                                            True)[0]))
        total += float(reward)
        done = terminated or truncated
    return total


def test_episode_i_is_seeded_seed_plus_i_and_flags_its_first_step():
    agent = _Pump()
    returns = episode_returns(agent, "MountainCar-v0", 4, seed=123)
    # returns differ between start states, so a wrong seed would show
    assert len(set(returns.tolist())) > 1
    lengths = -returns.astype(int)  # reward -1 a step
    assert agent.starts == sum(([True] + [False] * (n - 1) for n in lengths), [])
    expected = [_one_episode(_Pump(), "MountainCar-v0", 123 + i) for i in range(4)]
    np.testing.assert_array_equal(returns, expected)


def test_seeded_once_matches_sb3_evaluate_policy_on_a_vecenv_seeded_once():
    env = make_vec_env("Pendulum-v1", n_envs=1)
    env.seed(10_007)
    ref = evaluate_policy(_Damp(), env, n_eval_episodes=3, deterministic=True,
                          return_episode_rewards=True, warn=False)[0]
    ours = episode_returns(_Damp(), "Pendulum-v1", 3, seed=10_007, reseed_each=False)
    assert len(set(np.round(ours, 3))) == 3
    # SB3's Monitor rounds each return to 1e-6
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)
    reseeded = episode_returns(_Damp(), "Pendulum-v1", 3, seed=10_007)
    assert reseeded[0] == pytest.approx(ours[0], abs=1e-12)
    assert not np.allclose(reseeded[1:], ours[1:])
