"""DAgger (chapter 26): the aggregate-and-retrain loop on a hand-made scripted env, the
beta schedules, a predict-only recording expert on CartPole (acceptance, CI-sized) and
bad input."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from mlnotes.rl import DAgger

CARTPOLE_GAINS = np.array([0.5, 1.5, 20.0, 3.0])


class RecordingExpert:
    """A predict-only expert that records every observation it is asked to label.

    ``policy`` maps a batch of observations to actions; the CartPole default is the
    scripted linear controller (push right iff 0.5 x + 1.5 x' + 20 theta + 3 theta' > 0),
    which scores 500 on every seed, pushes included.
    """

    def __init__(self, policy=None):
        self.policy = policy or (lambda o: (o @ CARTPOLE_GAINS > 0).astype(np.int64))
        self.queries = []

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        obs = np.array(obs, copy=True)
        self.queries.append(obs)
        return self.policy(obs), state


class ChainEnv(gym.Env):
    """Position 0..10 on a line; action 1 steps right, 0 left; 10 steps per episode.

    Records what it emits and receives, so tests can compare with what DAgger stored.
    """

    observation_space = spaces.Box(0.0, 10.0, (1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self):
        self.acted_on, self.received = [], []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = int(self.np_random.integers(0, 11)), 0
        return self._obs(), {}

    def _obs(self):
        return np.array([self.pos], dtype=np.float32)

    def step(self, action):
        self.acted_on.append(self._obs())
        self.received.append(int(action))
        self.pos = int(np.clip(self.pos + (1 if action == 1 else -1), 0, 10))
        self.t += 1
        return self._obs(), 0.0, False, self.t >= 10, {}


def toward_five(obs):
    return (np.asarray(obs)[:, 0] < 5).astype(np.int64)


class PushWrapper(gym.Wrapper):
    """Every ``every`` steps, add a uniform [-scale, scale] rad/s push to the pole's
    angular velocity (seeded)."""

    def __init__(self, env, every=25, scale=1.0, seed=0):
        super().__init__(env)
        self.every, self.scale = every, scale
        self.rng = np.random.default_rng(seed)
        self.t = 0

    def reset(self, **kwargs):
        self.t = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.t % self.every == 0 and not (terminated or truncated):
            state = np.array(self.env.unwrapped.state, dtype=np.float64)
            state[3] += self.rng.uniform(-self.scale, self.scale)
            self.env.unwrapped.state = state
            obs = state.astype(np.float32)
        return obs, reward, terminated, truncated, info


def mean_return(agent, push=False, n_episodes=20, seed=10_000):
    returns = []
    for episode in range(n_episodes):
        env = gym.make("CartPole-v1")
        if push:
            env = PushWrapper(env, seed=seed + episode)
        obs, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            action = agent.predict(obs, deterministic=True)[0]
            obs, reward, terminated, truncated, _ = env.step(int(action))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


class StepLog(BaseCallback):
    """Keeps the locals DAgger exposes at each step."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def _on_step(self):
        loc = self.locals
        self.steps.append({
            "obs": np.array(loc["obs"], copy=True),
            "actions": np.array(loc["actions"], copy=True),
            "expert_actions": np.array(loc["expert_actions"], copy=True),
            "use_expert": np.array(loc["use_expert"], copy=True),
            "learner_actions": (np.array(loc["learner_actions"], copy=True)
                                if loc["beta"] < 1 else None),
            "beta": loc["beta"],
        })
        return True


def test_dagger_cartpole_acceptance_with_recording_expert():
    expert = RecordingExpert()
    agent = DAgger("MlpPolicy", "CartPole-v1", expert, seed=0, device="cpu")
    log = StepLog()
    agent.learn(5000, callback=log)
    assert agent.num_timesteps == 5000
    # the expert labelled exactly the states visited, every one of them
    asked = np.concatenate(expert.queries)
    np.testing.assert_array_equal(asked, np.concatenate([s["obs"] for s in log.steps]))
    np.testing.assert_array_equal(asked, agent.dataset["observations"])
    np.testing.assert_array_equal(agent.dataset["actions"], expert.policy(asked))
    # round 0: the expert drives; then the beta-mixture, the learner more and more
    used = agent.dataset["expert_acted"]
    rounds = agent.dataset["round"]
    assert used[rounds == 0].all()
    fractions = [used[rounds == i].mean() for i in range(1, 4)]
    for i, fraction in enumerate(fractions, start=1):
        assert abs(fraction - 0.5 ** i) < 0.1
    assert (~used[rounds >= 1]).mean() > 0.75
    for step in log.steps:
        if step["beta"] < 1:
            expected = np.where(step["use_expert"], step["expert_actions"],
                                step["learner_actions"])
            np.testing.assert_array_equal(step["actions"], expected)
    assert mean_return(agent) >= 475
    assert mean_return(agent, push=True) >= 400


def test_aggregation_on_a_scripted_env():
    chain = ChainEnv()
    env = DummyVecEnv([lambda: chain])
    expert = RecordingExpert(toward_five)
    agent = DAgger("MlpPolicy", env, expert, steps_per_round=30, beta=0.5, n_epochs=2,
                   seed=0, device="cpu")
    log = StepLog()
    agent.learn(100, callback=log)
    # rounds of 30, 30, 30 and the last 10 steps; the dataset grows by aggregation
    history = agent.round_history
    assert [r["n_steps"] for r in history] == [30, 30, 30, 10]
    assert [r["dataset_size"] for r in history] == [30, 60, 90, 100]
    assert [r["beta"] for r in history] == [1.0, 0.5, 0.25, 0.125]
    assert history[0]["n_expert_actions"] == 30
    assert agent.round == 4
    # every visited state (where the env received an action) labelled by the expert
    visited = np.stack(chain.acted_on)
    np.testing.assert_array_equal(agent.dataset["observations"], visited)
    np.testing.assert_array_equal(np.concatenate(expert.queries), visited)
    np.testing.assert_array_equal(agent.dataset["actions"], toward_five(visited))
    # the env executed the mixture's actions: expert's where use_expert, learner's else
    executed = np.array(chain.received)
    np.testing.assert_array_equal(executed, np.concatenate([s["actions"] for s in log.steps]))
    mask = agent.dataset["expert_acted"]
    np.testing.assert_array_equal(mask, np.concatenate([s["use_expert"] for s in log.steps]))
    learner_steps = [s for s in log.steps if s["learner_actions"] is not None]
    assert learner_steps and not all(s["use_expert"].all() for s in learner_steps)
    np.testing.assert_array_equal(agent.dataset["round"], np.repeat([0, 1, 2, 3], [30, 30, 30, 10]))


def test_learner_drives_after_round_zero():
    # an expert that always says "right" and a learner forced to say "left" after
    # round 0 (beta = 0): the visited states must follow the learner, not the expert
    chain = ChainEnv()
    env = DummyVecEnv([lambda: chain])
    expert = RecordingExpert(lambda o: np.ones(len(o), dtype=np.int64))
    agent = DAgger("MlpPolicy", env, expert, steps_per_round=20, beta=0.0, n_epochs=1,
                   seed=0, device="cpu")
    def left(obs, deterministic=False):
        return torch.zeros(len(obs), dtype=torch.int64)

    agent.policy._predict = left  # the learner's action (as the rollouts query it)
    agent.learn(60)
    del agent.policy._predict
    executed = np.array(chain.received)
    assert (executed[:20] == 1).all()  # round 0: the expert drives
    assert (executed[20:] == 0).all()  # then only the learner (beta_i = 0)
    assert (agent.dataset["actions"] == 1).all()  # but the expert labels everything
    assert not agent.dataset["expert_acted"][20:].any()


@pytest.mark.parametrize("schedule, expected", [
    ("exponential", [1.0, 0.6, 0.36, 0.216]),
    ("linear", [1.0, 0.6, 0.2, 0.0]),
    ("constant", [1.0, 0.6, 0.6, 0.6]),
    (lambda i: 1.0 / (i + 1), [1.0, 0.5, 1 / 3, 0.25]),
])
def test_beta_schedules(schedule, expected):
    agent = DAgger("MlpPolicy", DummyVecEnv([ChainEnv]), RecordingExpert(toward_five),
                   beta=0.6, beta_schedule=schedule, steps_per_round=10, n_epochs=1,
                   seed=0, device="cpu")
    np.testing.assert_allclose([agent.beta_at(i) for i in range(4)], expected)
    agent.learn(40)
    np.testing.assert_allclose([r["beta"] for r in agent.round_history], expected)


def test_warm_start_false_retrains_from_scratch():
    agent = DAgger("MlpPolicy", DummyVecEnv([ChainEnv]), RecordingExpert(toward_five),
                   steps_per_round=10, n_epochs=1, warm_start=False, seed=0, device="cpu")
    policies = []

    class Keep(BaseCallback):
        def _on_step(self):
            if not policies or policies[-1] is not self.model.policy:
                policies.append(self.model.policy)
            return True

    agent.learn(30, callback=Keep())
    # round 0 and 1 collect with the first network, round 2 with the one retrained
    # from scratch after round 1; the final one was retrained after round 2
    assert len(policies) == 2 and all(agent.policy is not p for p in policies)
    warm = DAgger("MlpPolicy", DummyVecEnv([ChainEnv]), RecordingExpert(toward_five),
                  steps_per_round=10, n_epochs=1, seed=0, device="cpu")
    first = warm.policy
    warm.learn(30)
    assert warm.policy is first


def test_continuous_actions_and_save_load_with_callable_schedule(tmp_path):
    def expert_policy(obs):
        return np.clip(-2.0 * obs[:, 1:2] - 0.5 * obs[:, 2:3], -2, 2).astype(np.float32)

    agent = DAgger("MlpPolicy", "Pendulum-v1", RecordingExpert(expert_policy),
                   beta_schedule=lambda i: 0.5, steps_per_round=200, n_epochs=3, seed=0,
                   device="cpu").learn(600)
    obs = agent.dataset["observations"]
    assert agent.dataset["actions"].shape == (600, 1)
    assert np.abs(agent.predict(obs, deterministic=True)[0] - expert_policy(obs)).mean() < 0.3
    agent.save(tmp_path / "dagger")
    with pytest.raises(ValueError, match="custom_objects"):
        DAgger.load(tmp_path / "dagger")
    loaded = DAgger.load(tmp_path / "dagger", custom_objects={"beta_schedule": lambda i: 0.5})
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])
    assert loaded.expert is None and loaded.round == 0


def test_bad_arguments():
    env = DummyVecEnv([ChainEnv])
    expert = RecordingExpert(toward_five)
    with pytest.raises(ValueError, match="beta must be"):
        DAgger("MlpPolicy", env, expert, beta=1.5, device="cpu")
    with pytest.raises(ValueError, match="beta_schedule"):
        DAgger("MlpPolicy", env, expert, beta_schedule="cosine", device="cpu")
    with pytest.raises(ValueError, match="steps_per_round"):
        DAgger("MlpPolicy", env, expert, steps_per_round=0, device="cpu")
    with pytest.raises(TypeError, match="predict"):
        DAgger("MlpPolicy", env, lambda obs: obs, device="cpu")
    with pytest.raises(ValueError, match="needs an expert"):
        DAgger("MlpPolicy", env, device="cpu").learn(10)
    bad = DAgger("MlpPolicy", env, expert, beta_schedule=lambda i: 2.0, steps_per_round=5,
                 n_epochs=1, device="cpu")
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        bad.learn(20)
    nan_expert = RecordingExpert(lambda o: np.full(len(o), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        DAgger("MlpPolicy", env, nan_expert, device="cpu").learn(5)


@pytest.mark.parametrize("kind", ["sb3", "mlnotes"])
def test_agents_as_experts(kind):
    # an SB3 model or one of our agents is a valid expert (only predict is used)
    if kind == "sb3":
        from stable_baselines3 import PPO

        expert = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    else:
        from mlnotes.rl import A2C

        expert = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    agent = DAgger("MlpPolicy", "CartPole-v1", expert, steps_per_round=32, n_epochs=1,
                   seed=0, device="cpu").learn(64)
    obs = agent.dataset["observations"]
    np.testing.assert_array_equal(agent.dataset["actions"],
                                  expert.predict(obs, deterministic=True)[0])
