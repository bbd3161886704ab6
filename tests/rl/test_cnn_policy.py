"""CnnPolicy and MultiInputPolicy (issue 11): image and Dict observations in the shared
actor-critic policy, with SB3's features extractors and preprocessing."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import A2C as SB3_A2C
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.torch_layers import CombinedExtractor, NatureCNN
from stable_baselines3.common.vec_env import VecTransposeImage, is_vecenv_wrapped

from mlnotes.rl import A2C
from mlnotes.rl.common import (
    ActorCriticCnnPolicy,
    DictRolloutBuffer,
    MultiInputActorCriticPolicy,
)


class QuadrantEnv(gym.Env):
    """A 36x36 one-channel pixel image, channel-last (SB3's smallest NatureCNN input).

    Image mode: one of the four quadrants is lit; action k earns 1 when it names the
    lit quadrant. Dict mode (``{"image", "flag"}``): the image lights the row (top or
    bottom half) and the Discrete ``flag`` gives the column, so the rewarded action
    ``2 * row + column`` needs both entries. Episodes last 8 steps (return 8 at best,
    2 on average for a random policy); the target is redrawn at every step.
    """

    size = 36

    def __init__(self, dict_obs=False):
        self.dict_obs = dict_obs
        image = spaces.Box(0, 255, (self.size, self.size, 1), np.uint8)
        self.observation_space = (spaces.Dict({"image": image, "flag": spaces.Discrete(2)})
                                  if dict_obs else image)
        self.action_space = spaces.Discrete(4)

    def _obs(self):
        img = np.zeros((self.size, self.size, 1), np.uint8)
        h = self.size // 2
        row, col = divmod(self.target, 2)
        if self.dict_obs:
            img[row * h:(row + 1) * h] = 255
            return {"image": img, "flag": col}
        img[row * h:(row + 1) * h, col * h:(col + 1) * h] = 255
        return img

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.target = int(self.np_random.integers(4))
        return self._obs(), {}

    def step(self, action):
        reward = float(int(action) == self.target)
        self.t += 1
        self.target = int(self.np_random.integers(4))
        return self._obs(), reward, False, self.t >= 8, {}


def _trained(dict_obs, seed=0):
    env = make_vec_env(lambda: QuadrantEnv(dict_obs), n_envs=8, seed=seed)
    if dict_obs:
        agent = A2C("MultiInputPolicy", env, seed=seed, device="cpu", learning_rate=5e-3,
                    n_steps=4, gamma=0.0,
                    policy_kwargs=dict(features_extractor_kwargs=dict(cnn_output_dim=64),
                                       net_arch=[]))
        return agent.learn(4000)
    agent = A2C("CnnPolicy", env, seed=seed, device="cpu", learning_rate=2e-3, n_steps=4,
                gamma=0.5, policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=64),
                                              net_arch=[]))
    return agent.learn(3000)


@pytest.mark.parametrize("dict_obs", [False, True], ids=["CnnPolicy", "MultiInputPolicy"])
def test_learns_and_round_trips(dict_obs, tmp_path):
    """A2C learns the pixel task (random policy: return 2, best 8); save/load and the
    policy alone give the same actions on raw (channel-last) observations."""
    agent = _trained(dict_obs)
    policy_class = MultiInputActorCriticPolicy if dict_obs else ActorCriticCnnPolicy
    assert type(agent.policy) is policy_class
    assert is_vecenv_wrapped(agent.env, VecTransposeImage)
    image_space = agent.observation_space["image"] if dict_obs else agent.observation_space
    assert image_space.shape == (1, 36, 36)  # channel-first, as SB3
    mean, _ = evaluate_policy(agent, QuadrantEnv(dict_obs), n_eval_episodes=10,
                              deterministic=True, warn=False)
    assert mean >= 6.0
    env = QuadrantEnv(dict_obs)
    raw = [env.reset(seed=i)[0] for i in range(12)]
    batch = ({k: np.stack([o[k] for o in raw]) for k in raw[0]} if dict_obs
             else np.stack(raw))
    actions, _ = agent.predict(batch, deterministic=True)
    assert actions.shape == (12,)
    single, _ = agent.predict(raw[0], deterministic=True)
    assert single.shape == () and single == actions[0]
    agent.save(tmp_path / "agent")
    loaded = A2C.load(tmp_path / "agent", env=QuadrantEnv(dict_obs))
    np.testing.assert_array_equal(loaded.predict(batch, deterministic=True)[0], actions)
    loaded.learn(64)  # training continues on the loaded agent
    agent.policy.save(tmp_path / "policy.zip")
    policy = policy_class.load(tmp_path / "policy.zip")
    np.testing.assert_array_equal(policy.predict(batch, deterministic=True)[0], actions)


def test_cnn_policy_matches_sb3_forward():
    """Same weights, same raw observation: our CnnPolicy gives SB3's action
    probabilities and values (SB3's NatureCNN, /255 scaling, channel transposition)."""
    env = QuadrantEnv()
    kwargs = dict(policy_kwargs=dict(net_arch=[], features_extractor_kwargs=dict(
        features_dim=32)), device="cpu", seed=0)
    ours = A2C("CnnPolicy", env, **kwargs)
    theirs = SB3_A2C("CnnPolicy", QuadrantEnv(), **kwargs)
    state = {k: v for k, v in theirs.policy.state_dict().items()
             if not k.startswith(("pi_features", "vf_features"))}
    ours.policy.load_state_dict(
        {k: state[k.replace("pi_features_extractor", "features_extractor").replace(
            "vf_features_extractor", "features_extractor")]
         for k in ours.policy.state_dict()})
    obs = np.stack([env.reset(seed=i)[0] for i in range(5)])
    obs_t, _ = ours.policy.obs_to_tensor(obs)
    their_t, _ = theirs.policy.obs_to_tensor(obs)
    with torch.no_grad():
        logits, _ = ours.policy.action_params(obs_t)
        values = ours.policy.predict_values(obs_t)
        dist = theirs.policy.get_distribution(their_t)
        their_values = theirs.policy.predict_values(their_t).squeeze(-1)
    torch.testing.assert_close(torch.softmax(logits, -1), dist.distribution.probs)
    torch.testing.assert_close(values, their_values)


def test_extractor_options():
    obs_space = spaces.Box(0, 255, (1, 36, 36), np.uint8)
    policy = ActorCriticCnnPolicy(obs_space, spaces.Discrete(2), lambda _: 1e-3,
                                  features_extractor_kwargs=dict(features_dim=16),
                                  share_features_extractor=False)
    assert isinstance(policy.pi_features_extractor, NatureCNN)
    assert policy.pi_features_extractor is not policy.vf_features_extractor
    assert policy.features_dim == 16
    shared = ActorCriticCnnPolicy(obs_space, spaces.Discrete(2), lambda _: 1e-3)
    assert shared.pi_features_extractor is shared.vf_features_extractor
    assert shared.features_dim == 512  # NatureCNN's default
    # normalize_images=False: raw pixels reach the CNN (SB3's normalized_image flag)
    raw = ActorCriticCnnPolicy(spaces.Box(0.0, 1.0, (1, 36, 36), np.float32),
                               spaces.Discrete(2), lambda _: 1e-3, normalize_images=False)
    assert raw.features_extractor_kwargs["normalized_image"] is True
    # a Dict space needs MultiInputPolicy; an image extractor rejects vectors
    dict_space = spaces.Dict({"x": spaces.Box(-1, 1, (2,))})
    with pytest.raises(ValueError, match="MultiInputPolicy"):
        A2C("MlpPolicy", _SpaceEnv(dict_space), device="cpu")
    with pytest.raises(ValueError, match="NatureCNN"):
        A2C("CnnPolicy", "CartPole-v1", device="cpu")
    agent = A2C("MultiInputPolicy", _SpaceEnv(dict_space), device="cpu", n_steps=4)
    assert isinstance(agent.policy.features_extractor, CombinedExtractor)
    assert isinstance(agent.rollout_buffer, DictRolloutBuffer)
    agent.learn(16)
    with pytest.raises(ValueError, match="dict of arrays"):
        agent.predict(np.zeros(2))
    with pytest.raises(ValueError, match="misses the keys"):
        agent.predict({"y": np.zeros(2)})


def test_mlp_policy_on_images_scales_pixels():
    """MlpPolicy on image observations divides by 255, as SB3's preprocess_obs."""
    env = QuadrantEnv()
    ours = A2C("MlpPolicy", env, device="cpu", seed=0)
    obs = torch.as_tensor(np.stack([env.reset(seed=i)[0] for i in range(3)]))
    obs = obs.permute(0, 3, 1, 2)  # the agent's space is channel-first
    features = ours.policy.preprocess_obs(obs)
    assert float(features.max()) == 1.0 and features.shape == (3, 36 * 36)


class _SpaceEnv(gym.Env):
    def __init__(self, observation_space):
        self.observation_space = observation_space
        self.action_space = spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}
