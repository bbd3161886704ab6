"""Behavioural cloning (chapter 26): known answers, multimodal heads, goal relabelling,
the CartPole acceptance run (4 episodes of a scripted expert) and bad input."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, LogisticRegression
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from mlnotes.rl import BC
from mlnotes.rl.common import LinearSchedule
from mlnotes.rl.imitation import hindsight_relabel

CARTPOLE_GAINS = np.array([0.5, 1.5, 20.0, 3.0])


class CartPoleExpert:
    """Scripted CartPole expert: push right iff 0.5 x + 1.5 x' + 20 theta + 3 theta' > 0.

    A linear (PD-like) controller on the cart and pole state; it scores 500 on every
    seed, also with the angular-velocity pushes of the DAgger acceptance test.
    """

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return (np.asarray(obs, dtype=np.float64) @ CARTPOLE_GAINS > 0).astype(np.int64), state


class SpacesEnv(gym.Env):
    """An env that only carries spaces (for BC.fit on a given dataset)."""

    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}


class CounterEnv(gym.Env):
    """obs = [t], t = 0..length; every action moves t by one; ends when t == length."""

    observation_space = spaces.Box(0.0, 100.0, (1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, length=5):
        self.length = length

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return (np.array([self.t], dtype=np.float32), 1.0, self.t >= self.length, False, {})


class ZeroExpert:
    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return np.zeros(len(obs), dtype=np.int64), state


def cartpole_episodes(n_episodes, seed):
    env = gym.make("CartPole-v1")
    expert = CartPoleExpert()
    obs_list, act_list = [], []
    for episode in range(n_episodes):
        obs, _ = env.reset(seed=seed + episode)
        done = False
        while not done:
            action = int(expert.predict(obs)[0])
            obs_list.append(obs)
            act_list.append(action)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    return np.array(obs_list), np.array(act_list)


def mean_return(agent, n_episodes=20, seed=10_000):
    env = gym.make("CartPole-v1")
    returns = []
    for episode in range(n_episodes):
        obs, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            action = agent.predict(obs, deterministic=True)[0]
            obs, reward, terminated, truncated, _ = env.step(int(action))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def test_scripted_expert_scores_500():
    assert mean_return(CartPoleExpert(), n_episodes=5) == 500.0


def test_bc_cartpole_from_four_expert_episodes():
    obs, actions = cartpole_episodes(4, seed=0)
    assert len(actions) == 2000
    agent = BC("MlpPolicy", "CartPole-v1", seed=0, device="cpu").fit(obs, actions)
    assert mean_return(agent) >= 450


def test_learn_collects_expert_transitions():
    calls = []

    class Count(BaseCallback):
        def _on_step(self):
            calls.append(self.locals["actions"].copy())
            return True

    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    agent = BC("MlpPolicy", env, expert=CartPoleExpert(), n_epochs=1, seed=0, device="cpu")
    agent.learn(100, callback=Count())
    demos = agent.demonstrations
    assert len(calls) == 50 and agent.num_timesteps == 100
    assert demos["observations"].shape == (100, 4)
    expected = CartPoleExpert().predict(demos["observations"])[0]
    np.testing.assert_array_equal(demos["actions"], expected)
    # the stored observations are the ones the env produced (env after env)
    per_env = np.stack([c for c in calls])  # executed actions (50, 2)
    np.testing.assert_array_equal(per_env.T.reshape(-1), demos["actions"])
    # continuing adds to the demonstrations
    agent.learn(20, reset_num_timesteps=False)
    assert agent.demonstrations["observations"].shape == (120, 4)


def test_linear_softmax_policy_is_recovered():
    # a known linear-softmax policy pi(a | s) = softmax(W s + b)
    rng = np.random.default_rng(0)
    W = np.array([[2.0, -1.0, 0.5], [-1.5, 0.5, 1.0], [0.0, 1.0, -2.0]])
    b = np.array([0.2, -0.3, 0.1])
    obs = rng.uniform(-1, 1, size=(6000, 3)).astype(np.float32)
    logits = obs @ W.T + b
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    actions = (rng.random((6000, 1)) > probs.cumsum(1)).sum(1)
    env = SpacesEnv(spaces.Box(-1, 1, (3,), dtype=np.float32), spaces.Discrete(3))
    agent = BC("MlpPolicy", env, policy_kwargs=dict(net_arch=[]), ent_weight=0.0,
               n_epochs=20, batch_size=64, learning_rate=LinearSchedule(1e-2, 0.0), seed=0,
               device="cpu")
    agent.fit(obs, actions)
    test = rng.uniform(-1, 1, size=(500, 3)).astype(np.float32)
    est = np.stack([np.exp(agent.log_prob(test, np.full(500, a))) for a in range(3)], 1)
    t_logits = test @ W.T + b
    truth = np.exp(t_logits - t_logits.max(1, keepdims=True))
    truth /= truth.sum(1, keepdims=True)
    np.testing.assert_allclose(est.sum(1), 1.0, atol=1e-5)
    assert np.abs(est - truth).max() < 0.08
    # the same maximum-likelihood problem solved by scikit-learn (no penalty)
    ref = LogisticRegression(C=1e6, max_iter=1000).fit(obs, actions).predict_proba(test)
    assert np.abs(est - ref).max() < 0.03


def test_gaussian_head_recovers_mean_and_std():
    rng = np.random.default_rng(1)
    A = np.array([[1.0, -0.5], [0.3, 0.8]])
    c = np.array([0.2, -0.1])
    sigma = np.array([0.3, 0.1])
    obs = rng.uniform(-1, 1, size=(5000, 2)).astype(np.float32)
    actions = (obs @ A.T + c + sigma * rng.standard_normal((5000, 2))).astype(np.float32)
    env = SpacesEnv(spaces.Box(-1, 1, (2,), dtype=np.float32),
                    spaces.Box(-3, 3, (2,), dtype=np.float32))
    # a learning rate decaying to 0 removes the minibatch noise of the last iterate
    agent = BC("MlpPolicy", env, ent_weight=0.0, n_epochs=10, batch_size=64,
               learning_rate=LinearSchedule(3e-3, 0.0), seed=0, device="cpu")
    agent.fit(obs, actions)
    test = rng.uniform(-0.9, 0.9, size=(300, 2)).astype(np.float32)
    mean = agent.predict(test, deterministic=True)[0]
    assert np.abs(mean - (test @ A.T + c)).mean() < 0.03
    np.testing.assert_allclose(mean, test @ A.T + c, atol=0.08)
    ols = LinearRegression().fit(obs, actions).predict(test)
    assert np.abs(mean - ols).mean() < 0.03
    with torch.no_grad():
        params = agent.policy.distribution_params(torch.as_tensor(test))
    std = params["log_std"].exp().numpy() * agent.policy.act_scale.numpy()
    np.testing.assert_allclose(std.mean(0), sigma, rtol=0.15)
    # log_prob is the Gaussian log-density of the unscaled action
    a = actions[:5]
    mu = agent.predict(obs[:5], deterministic=True)[0]
    with torch.no_grad():
        s = agent.policy.distribution_params(torch.as_tensor(obs[:5]))["log_std"].exp()
    s = s.numpy() * agent.policy.act_scale.numpy()
    ref = (-0.5 * ((a - mu) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)).sum(1)
    np.testing.assert_allclose(agent.log_prob(obs[:5], a), ref, rtol=1e-4, atol=1e-4)


def _bimodal(n=3000, seed=2):
    rng = np.random.default_rng(seed)
    obs = rng.uniform(-1, 1, size=(n, 1)).astype(np.float32)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    actions = (sign + 0.05 * rng.standard_normal(n)).astype(np.float32)[:, None]
    env = SpacesEnv(spaces.Box(-1, 1, (1,), dtype=np.float32),
                    spaces.Box(-2, 2, (1,), dtype=np.float32))
    return env, obs, actions


@pytest.mark.parametrize("head", ["mixture", "discretized"])
def test_multimodal_heads_keep_both_modes(head):
    env, obs, actions = _bimodal()
    kw = dict(ent_weight=0.0, n_epochs=15, batch_size=64, learning_rate=3e-3, seed=0,
              device="cpu")
    single = BC("MlpPolicy", env, **kw).fit(obs, actions)
    multi = BC("MlpPolicy", env, policy_head=head, n_components=2, n_bins=20, **kw)
    multi.fit(obs, actions)
    test = np.linspace(-0.9, 0.9, 200, dtype=np.float32)[:, None]
    # a single Gaussian averages the two modes
    assert np.abs(single.predict(test, deterministic=True)[0]).mean() < 0.3
    # the multimodal head acts in a mode and samples both
    assert np.all(np.abs(np.abs(multi.predict(test, deterministic=True)[0]) - 1.0) < 0.15)
    torch.manual_seed(0)
    samples = multi.predict(np.repeat(test, 10, axis=0))[0].ravel()
    near = np.abs(np.abs(samples) - 1.0) < 0.2
    assert near.mean() > 0.9
    assert 0.35 < (samples[near] > 0).mean() < 0.65
    # and explains the data better
    _, obs_t, act_t = _bimodal(500, seed=3)
    assert multi.log_prob(obs_t, act_t).mean() > single.log_prob(obs_t, act_t).mean() + 0.5


def test_discretized_density_integrates_to_one():
    env, obs, actions = _bimodal(500)
    agent = BC("MlpPolicy", env, policy_head="discretized", n_bins=8, n_epochs=2, seed=0,
               device="cpu").fit(obs, actions)
    grid = np.linspace(-2, 2, 4001)[:-1] + 0.0005  # midpoints of 4000 cells of width 1e-3
    density = np.exp(agent.log_prob(np.full((4000, 1), 0.3, np.float32), grid[:, None]))
    assert abs(density.sum() * 1e-3 - 1.0) < 1e-3


def test_hindsight_relabel_hand_made_trajectory():
    obs = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 6.0], [10.0, 7.0], [11.0, 8.0]])
    nxt = np.array([[1.0, 5.0], [2.0, 6.0], [3.0, 6.0], [11.0, 8.0], [12.0, 9.0]])
    dones = [False, False, True, False, False]  # the data ends mid-trajectory
    goals = hindsight_relabel(obs, dones)
    np.testing.assert_array_equal(goals, obs[[2, 2, 2, 4, 4]])
    goals = hindsight_relabel(obs, dones, next_observations=nxt)
    np.testing.assert_array_equal(goals, nxt[[2, 2, 2, 4, 4]])
    goals = hindsight_relabel(obs, dones, next_observations=nxt, goal_indices=[0])
    np.testing.assert_array_equal(goals, [[3.0], [3.0], [3.0], [12.0], [12.0]])
    np.testing.assert_array_equal(hindsight_relabel(obs), obs[[4] * 5])
    # BC.fit shows the policy [observation, goal]
    env = SpacesEnv(spaces.Box(-20, 20, (2,), dtype=np.float32), spaces.Discrete(2))
    agent = BC("MlpPolicy", env, goal_conditioned=True, goal_indices=[0], n_epochs=1,
               seed=0, device="cpu")
    agent.fit(obs, [0, 1, 0, 1, 1], dones=dones, next_observations=nxt)
    expected = np.concatenate([obs, [[3.0], [3.0], [3.0], [12.0], [12.0]]], axis=1)
    np.testing.assert_array_equal(agent.demonstrations["observations"], expected)
    assert agent.policy.observation_space.shape == (3,)
    # predict(obs, goal=g) is predict on the concatenation
    a1 = agent.predict(obs, goal=[4.0], deterministic=True)[0]
    a2 = agent.predict(np.concatenate([obs, np.full((5, 1), 4.0)], 1), deterministic=True)[0]
    np.testing.assert_array_equal(a1, a2)
    assert agent.predict(obs[0], goal=[4.0])[0].shape == ()


def test_goal_conditioned_learn_relabels_with_the_reached_state():
    env = make_vec_env(CounterEnv, n_envs=2, env_kwargs=dict(length=5))
    agent = BC("MlpPolicy", env, expert=ZeroExpert(), goal_conditioned=True, n_epochs=1,
               seed=0, device="cpu")
    agent.learn(24)  # per env: 2 full episodes (goal 5) and 2 steps (goal 2, reached)
    got = agent.demonstrations["observations"]
    per_env = np.array([[t, 5] for t in range(5)] * 2 + [[0, 2], [1, 2]], dtype=np.float32)
    np.testing.assert_array_equal(got, np.concatenate([per_env, per_env]))


def test_goal_conditioned_bc_learns_to_reach_goals_from_random_play():
    # random play on a line; relabelled with its final state, each step shows a way to
    # the goal: the policy must step towards any goal (the optimal action is known)
    rng = np.random.default_rng(0)
    obs, acts, dones = [], [], []
    for _ in range(600):
        s = rng.integers(0, 21)
        for t in range(8):
            a = rng.integers(0, 2)
            obs.append([s])
            acts.append(a)
            dones.append(t == 7)
            s = int(np.clip(s + (1 if a else -1), 0, 20))
    obs = np.array(obs, dtype=np.float32) / 20.0
    env = SpacesEnv(spaces.Box(0, 1, (1,), dtype=np.float32), spaces.Discrete(2))
    agent = BC("MlpPolicy", env, goal_conditioned=True, n_epochs=10, seed=0, device="cpu")
    agent.fit(obs, acts, dones=dones)
    s, g = np.meshgrid(np.arange(21), np.arange(21))
    far = np.abs(s - g) >= 2
    s, g = s[far] / 20.0, g[far] / 20.0
    actions = agent.predict(s[:, None].astype(np.float32), goal=g[:, None],
                            deterministic=True)[0]
    assert np.mean(actions == (g > s)) > 0.9


def test_save_load_keeps_the_head_and_goal_layout(tmp_path):
    env, obs, actions = _bimodal(300)
    agent = BC("MlpPolicy", env, policy_head="mixture", n_components=3, n_epochs=1,
               seed=0, device="cpu").fit(obs, actions)
    agent.save(tmp_path / "bc")
    loaded = BC.load(tmp_path / "bc")
    assert loaded.policy.head == "mixture" and loaded.expert is None
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])
    env2 = SpacesEnv(spaces.Box(-20, 20, (2,), dtype=np.float32), spaces.Discrete(2))
    gc = BC("MlpPolicy", env2, goal_conditioned=True, goal_indices=[1], seed=0, device="cpu")
    gc.save(tmp_path / "gc")
    again = BC.load(tmp_path / "gc")
    assert again.policy.observation_space.shape == (3,)
    x = np.zeros((4, 2), np.float32)
    np.testing.assert_array_equal(gc.predict(x, goal=[1.0], deterministic=True)[0],
                                  again.predict(x, goal=[1.0], deterministic=True)[0])


# ------------------------------------------------------------------ bad input


def _box_agent(**kw):
    env = SpacesEnv(spaces.Box(-1, 1, (3,), dtype=np.float32),
                    spaces.Box(-1, 1, (2,), dtype=np.float32))
    return BC("MlpPolicy", env, **dict(dict(seed=0, device="cpu", n_epochs=1), **kw))


def _discrete_agent(**kw):
    env = SpacesEnv(spaces.Box(-1, 1, (3,), dtype=np.float32), spaces.Discrete(3))
    return BC("MlpPolicy", env, **dict(dict(seed=0, device="cpu", n_epochs=1), **kw))


def test_fit_rejects_bad_demonstrations():
    obs = np.zeros((10, 3), np.float32)
    box, disc = _box_agent(), _discrete_agent()
    with pytest.raises(ValueError, match="same length"):
        box.fit(obs, np.zeros((9, 2)))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        box.fit(obs, np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3\)"):
        box.fit(np.zeros((10, 4)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        box.fit(obs, np.full((10, 2), np.nan))
    bad = obs.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        box.fit(bad, np.zeros((10, 2)))
    with pytest.raises(TypeError, match="numeric"):
        box.fit(obs, np.array([["a", "b"]] * 10))
    with pytest.raises(TypeError, match="integers"):
        disc.fit(obs, np.full(10, 0.5))
    with pytest.raises(ValueError, match=r"in \[0, 2\]"):
        disc.fit(obs, np.full(10, 3))
    with pytest.raises(ValueError, match=r"shape \(n_samples,\)"):
        disc.fit(obs, np.zeros((10, 2), int))
    with pytest.raises(ValueError, match="at least one"):
        disc.fit(np.zeros((0, 3)), np.zeros(0, int))
    with pytest.raises(ValueError, match="dones"):
        disc.fit(obs, np.zeros(10, int), dones=np.zeros(3))
    with pytest.raises(ValueError, match="only used with goal_conditioned"):
        disc.fit(obs, np.zeros(10, int), goals=np.zeros((10, 3)))
    # valid input after all that still works, integral floats are fine
    assert disc.fit(obs, np.ones(10)) is disc


def test_constructor_and_learn_reject_bad_arguments():
    with pytest.raises(ValueError, match="policy_head"):
        _box_agent(policy_head="flow")
    with pytest.raises(ValueError, match="n_epochs"):
        _box_agent(n_epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        _box_agent(batch_size=0)
    with pytest.raises(ValueError, match="ent_weight"):
        _box_agent(ent_weight=-1.0)
    with pytest.raises(ValueError, match="n_bins"):
        _box_agent(n_bins=1)
    with pytest.raises(TypeError, match="predict"):
        _box_agent(expert=object())
    with pytest.raises(ValueError, match="goal_indices"):
        _box_agent(goal_indices=[0])
    with pytest.raises(ValueError, match="goal_indices"):
        _box_agent(goal_conditioned=True, goal_indices=[7])
    unbounded = SpacesEnv(spaces.Box(-1, 1, (3,), dtype=np.float32),
                          spaces.Box(-np.inf, np.inf, (2,), dtype=np.float32))
    with pytest.raises(ValueError, match="finite bounds"):
        BC("MlpPolicy", unbounded, policy_head="discretized", device="cpu")
    with pytest.raises(ValueError, match="Box observation space"):
        BC("MlpPolicy", SpacesEnv(spaces.Discrete(4), spaces.Discrete(2)),
           goal_conditioned=True, device="cpu")
    with pytest.raises(ValueError, match="needs an expert"):
        BC("MlpPolicy", "CartPole-v1", device="cpu").learn(10)

    class WrongShape:
        def predict(self, obs, deterministic=True):
            return np.zeros((len(obs), 3)), None

    class NaNExpert:
        def predict(self, obs, deterministic=True):
            return np.full((len(obs), 1), np.nan), None

    with pytest.raises(ValueError, match="expert's predict returned actions of shape"):
        BC("MlpPolicy", "CartPole-v1", expert=WrongShape(), device="cpu").learn(10)
    with pytest.raises(ValueError, match="NaN"):
        BC("MlpPolicy", "Pendulum-v1", expert=NaNExpert(), device="cpu").learn(10)


def test_predict_goal_errors():
    env = SpacesEnv(spaces.Box(-1, 1, (2,), dtype=np.float32), spaces.Discrete(2))
    agent = BC("MlpPolicy", env, goal_conditioned=True, seed=0, device="cpu")
    with pytest.raises(ValueError, match="goal must have shape"):
        agent.predict(np.zeros(2, np.float32), goal=[1.0])
    with pytest.raises(ValueError, match="Unexpected observation shape"):
        agent.predict(np.zeros(2, np.float32))  # the goal is missing
    with pytest.raises(ValueError, match="goal=g"):
        agent.predict(np.zeros((5, 2), np.float32))
    plain = _discrete_agent()
    with pytest.raises(ValueError, match="only used with goal_conditioned"):
        plain.predict(np.zeros(3, np.float32), goal=[1.0])


def test_diverging_training_raises():
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    agent = _box_agent(learning_rate=1e30, n_epochs=5)
    with pytest.raises(FloatingPointError, match="diverged"):
        agent.fit(obs * 1e3, np.clip(obs[:, :2], -1, 1))


def test_tabular_policy_matches_empirical_frequencies():
    # Discrete observations are one-hot encoded: with no hidden layer the maximum-
    # likelihood policy of each state is the empirical action frequency of that state
    rng = np.random.default_rng(4)
    obs = rng.integers(0, 6, size=3000)
    true = rng.dirichlet(np.ones(3), size=6)
    actions = (rng.random((3000, 1)) > true[obs].cumsum(1)).sum(1)
    env = SpacesEnv(spaces.Discrete(6), spaces.Discrete(3))
    agent = BC("MlpPolicy", env, policy_kwargs=dict(net_arch=[]), ent_weight=0.0,
               n_epochs=30, batch_size=100, learning_rate=LinearSchedule(5e-2, 0.0), seed=0,
               device="cpu").fit(obs, actions)
    counts = np.zeros((6, 3))
    np.add.at(counts, (obs, actions), 1)
    freq = counts / counts.sum(1, keepdims=True)
    states = np.arange(6)
    est = np.stack([np.exp(agent.log_prob(states, np.full(6, a))) for a in range(3)], 1)
    np.testing.assert_allclose(est, freq, atol=0.02)
    np.testing.assert_array_equal(agent.predict(states, deterministic=True)[0],
                                  freq.argmax(1))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 20), extra=st.integers(1, 3), nan_at=st.integers(-1, 19),
       which=st.sampled_from(["length", "act_dim", "obs_dim", "nan_obs", "nan_act"]))
def test_bad_shapes_and_values_always_give_clear_errors(n, extra, nan_at, which):
    agent = _box_agent()
    obs = np.zeros((n, 3), np.float32)
    act = np.zeros((n, 2), np.float32)
    if which == "length":
        act = np.zeros((n + extra, 2), np.float32)
    elif which == "act_dim":
        act = np.zeros((n, 2 + extra), np.float32)
    elif which == "obs_dim":
        obs = np.zeros((n, 3 + extra), np.float32)
    elif which == "nan_obs":
        obs[nan_at % n, nan_at % 3] = np.nan
    else:
        act[nan_at % n, 0] = np.inf
    before = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    with pytest.raises(ValueError):
        agent.fit(obs, act)
    after = agent.policy.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no work done
