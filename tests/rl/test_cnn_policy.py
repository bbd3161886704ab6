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

from mlnotes.rl import A2C, DQN, SAC, TD3
from mlnotes.rl.common import (
    ActorCriticCnnPolicy,
    DictRolloutBuffer,
    MultiInputActorCriticPolicy,
)
from mlnotes.rl.common.continuous_policies import (
    SACCnnPolicy,
    SACMultiInputPolicy,
    SquashedGaussianActor,
    TD3CnnPolicy,
)
from mlnotes.rl.common.replay_buffer import DictReplayBuffer, ReplayBuffer
from mlnotes.rl.value_based import CnnPolicy as DQNCnnPolicy
from mlnotes.rl.value_based import MultiInputPolicy as DQNMultiInputPolicy
from mlnotes.rl.value_based import QNetwork


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


class BoxQuadrantEnv(QuadrantEnv):
    """:class:`QuadrantEnv` with one Box action in [-1, 1]: the reward is
    ``1 - |a - t|`` with ``t = 0.75`` when the lit target is in the top half, -0.75 in
    the bottom half (return 8 at best, about 1.75 for uniform actions)."""

    def __init__(self, dict_obs=False):
        super().__init__(dict_obs)
        self.action_space = spaces.Box(-1, 1, (1,), np.float32)

    def step(self, action):
        goal = 0.75 if self.target < 2 else -0.75
        reward = 1.0 - abs(float(np.asarray(action).reshape(-1)[0]) - goal)
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


# ---------------------------------------------------------------- off-policy agents


def _off_policy_agent(cls, dict_obs, seed=0):
    policy = "MultiInputPolicy" if dict_obs else "CnnPolicy"
    extractor = dict(cnn_output_dim=32) if dict_obs else dict(features_dim=32)
    common = dict(learning_starts=100, buffer_size=1000, gamma=0.0, learning_rate=1e-3,
                  batch_size=32, seed=seed, device="cpu")
    if cls is DQN:
        return DQN(policy, QuadrantEnv(dict_obs), train_freq=1, exploration_fraction=0.5,
                   target_update_interval=50,
                   policy_kwargs=dict(features_extractor_kwargs=extractor, net_arch=[]),
                   **common)
    return cls(policy, BoxQuadrantEnv(dict_obs),
               policy_kwargs=dict(features_extractor_kwargs=extractor, net_arch=[32]),
               **common)


@pytest.mark.parametrize("dict_obs", [False, True], ids=["CnnPolicy", "MultiInputPolicy"])
@pytest.mark.parametrize("cls", [DQN, SAC])
def test_off_policy_agents_learn_on_pixels_and_round_trip(cls, dict_obs, tmp_path):
    """400 steps on the pixel task (gamma 0: a contextual bandit seen through NatureCNN):
    DQN reaches the best return 8 (random: 2), SAC at least 4 of 8 (uniform actions:
    about 1.75); the agent, its policy alone and its actor (or Q-network) alone give
    the same actions after save/load on raw channel-last observations."""
    agent = _off_policy_agent(cls, dict_obs).learn(400)
    policy_class = {(DQN, False): DQNCnnPolicy, (DQN, True): DQNMultiInputPolicy,
                    (SAC, False): SACCnnPolicy, (SAC, True): SACMultiInputPolicy}[cls, dict_obs]
    assert type(agent.policy) is policy_class
    assert type(agent.replay_buffer) is (DictReplayBuffer if dict_obs else ReplayBuffer)
    assert is_vecenv_wrapped(agent.env, VecTransposeImage)
    env_class = QuadrantEnv if cls is DQN else BoxQuadrantEnv
    mean, _ = evaluate_policy(agent, env_class(dict_obs), n_eval_episodes=10,
                              deterministic=True, warn=False)
    assert mean >= (7.5 if cls is DQN else 4.0)
    env = env_class(dict_obs)
    raw = [env.reset(seed=i)[0] for i in range(6)]
    batch = ({k: np.stack([o[k] for o in raw]) for k in raw[0]} if dict_obs
             else np.stack(raw))
    actions, _ = agent.predict(batch, deterministic=True)
    agent.save(tmp_path / "agent")
    loaded = cls.load(tmp_path / "agent", env=env_class(dict_obs))
    np.testing.assert_allclose(loaded.predict(batch, deterministic=True)[0], actions,
                               atol=1e-5)
    loaded.learn(16)  # training continues on the loaded agent
    agent.policy.save(tmp_path / "policy.zip")
    policy = policy_class.load(tmp_path / "policy.zip")
    np.testing.assert_allclose(policy.predict(batch, deterministic=True)[0], actions,
                               atol=1e-5)
    # the network alone (SB3's test_save_load_policy / test_save_load_q_net)
    net = agent.q_net if cls is DQN else agent.actor
    net.save(tmp_path / "net.zip")
    net = (QNetwork if cls is DQN else SquashedGaussianActor).load(tmp_path / "net.zip")
    np.testing.assert_allclose(net.predict(batch, deterministic=True)[0], actions, atol=1e-5)


@pytest.mark.parametrize("share", [False, True])
def test_off_policy_features_extractors_as_sb3(share):
    """SB3's layout: actor, critic and their targets each own an extractor; with
    share_features_extractor the critic uses the actor's, which the critic's optimiser
    leaves alone and its loss does not train."""
    agent = TD3("CnnPolicy", BoxQuadrantEnv(), buffer_size=100, device="cpu", seed=0,
                policy_kwargs=dict(share_features_extractor=share,
                                   features_extractor_kwargs=dict(features_dim=16)))
    policy = agent.policy
    assert type(policy) is TD3CnnPolicy and policy.net_arch == [256, 256]  # SB3's CNN default
    extractors = [policy.actor.features_extractor, policy.actor_target.features_extractor,
                  policy.critic.features_extractor, policy.critic_target.features_extractor]
    assert all(isinstance(e, NatureCNN) for e in extractors)
    assert (extractors[2] is extractors[0]) == share
    assert len({id(e) for e in extractors}) == (3 if share else 4)
    optimised = {id(p) for g in policy.critic.optimizer.param_groups for p in g["params"]}
    critic_extractor = {id(p) for p in policy.critic.features_extractor.parameters()}
    assert bool(optimised & critic_extractor) == (not share)
    obs = torch.as_tensor(np.stack([BoxQuadrantEnv().reset(seed=i)[0] for i in range(4)]))
    obs = obs.permute(0, 3, 1, 2)
    q = policy.critic.q_values(obs, torch.zeros(4, 1)).sum()
    q.backward()
    grads = [p.grad for p in policy.critic.features_extractor.parameters()]
    assert all(g is None for g in grads) == share  # the shared one: no gradient here
    with pytest.raises(ValueError, match="MultiInputPolicy"):
        SAC("MlpPolicy", BoxQuadrantEnv(dict_obs=True), device="cpu")
