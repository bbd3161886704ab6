"""REINFORCE and NPG (chapter 28) side by side: the behaviour the two vanilla
policy-gradient agents share (argument checks, divergence, Dict observations, a
CI-sized CartPole run), as one parametrised test each. The estimator-specific checks
stay in test_reinforce.py and test_npg.py."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import NPG, REINFORCE

AGENTS = [REINFORCE, NPG]

BAD = {
    REINFORCE: [dict(baseline="median"), dict(n_epochs=0), dict(max_importance_weight=0.0),
                dict(n_steps=0), dict(gamma=1.5), dict(vf_coef=-1.0),
                dict(n_critic_updates=-1), dict(critic_batch_size=0)],
    NPG: [dict(target_kl=0.0), dict(cg_iters=0), dict(cg_damping=-1.0),
          dict(n_critic_updates=-1), dict(critic_batch_size=0), dict(gae_lambda=2.0)],
}


@pytest.mark.parametrize("cls, bad", [(cls, bad) for cls in AGENTS for bad in BAD[cls]],
                         ids=lambda v: v.__name__ if isinstance(v, type) else str(v))
def test_bad_hyperparameters(cls, bad):
    with pytest.raises(ValueError):
        cls("MlpPolicy", "CartPole-v1", **bad)


@pytest.mark.parametrize("cls", AGENTS, ids=lambda c: c.__name__)
def test_diverging_training_raises(cls):
    agent = cls("MlpPolicy", "CartPole-v1", n_steps=8, seed=0, device="cpu")
    with torch.no_grad():
        agent.policy.value_net.weight.fill_(float("nan"))
    with pytest.raises((FloatingPointError, ValueError), match="NaN|diverged"):
        agent.learn(16)


@pytest.mark.parametrize("cls, timesteps", [(REINFORCE, 30_000), (NPG, 20_000)],
                         ids=["REINFORCE", "NPG"])
def test_learns_cartpole(cls, timesteps):
    """CI-sized run with the default hyperparameters: >= 200 (random policy: ~20)."""
    agent = cls("MlpPolicy", "CartPole-v1", seed=0, device="cpu").learn(timesteps)
    eval_env = gym.make("CartPole-v1")
    eval_env.reset(seed=1000)
    mean, _ = evaluate_policy(agent, eval_env, n_eval_episodes=10, deterministic=True,
                              warn=False)
    assert mean >= 200


class _DictEnv(gym.Env):
    observation_space = spaces.Dict({"a": spaces.Box(-1, 1, (2,))})
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        return {"a": np.zeros(2, dtype=np.float32)}, {}

    def step(self, action):
        return {"a": np.zeros(2, dtype=np.float32)}, 0.0, True, False, {}


@pytest.mark.parametrize("cls", AGENTS, ids=lambda c: c.__name__)
def test_refuse_dict_observations_clearly(cls):
    with pytest.raises(ValueError, match="MultiInputPolicy|observation space"):
        cls("MultiInputPolicy", _DictEnv())
    with pytest.raises(ValueError, match="observation space"):
        cls("MlpPolicy", _DictEnv())
