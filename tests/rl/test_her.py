"""HerReplayBuffer (hindsight experience replay) and MultiBinary observations."""

import warnings

import numpy as np
import pytest
import torch
from gymnasium import spaces

from mlnotes.rl.common import HerReplayBuffer
from mlnotes.rl.common.replay_buffer import DictReplayBuffer, ReplayBuffer
from mlnotes.rl.common.save_util import decode_space, encode_space

GOAL = 999.0  # the desired goal stored with every real transition


class GoalEnv:
    """compute_reward of a goal-conditioned env: 0 on the goal, -1 elsewhere."""

    def __init__(self):
        self.calls = 0

    def compute_reward(self, achieved_goal, desired_goal, info):
        self.calls += 1
        assert len(info) == len(achieved_goal)
        return -(np.abs(achieved_goal - desired_goal).sum(-1) > 0).astype(np.float32)


def _space():
    box = spaces.Box(-1e4, 1e4, (2,))
    goal = spaces.Box(-1e4, 1e4, (1,))
    return spaces.Dict({"observation": box, "achieved_goal": goal, "desired_goal": goal})


def _fill(buf, lengths, n_envs=1, first_episode=0, truncated=False, stop=None):
    """Episodes of the given lengths (per env); step t of episode e observes (e, t) and
    achieves the goal 100 e + t + 1 in its next observation."""
    n_steps = max(sum(ls) for ls in lengths) if stop is None else stop
    episode = [first_episode + 10 * i for i in range(n_envs)]
    t = [0] * n_envs
    left = [list(ls) for ls in lengths]
    for _ in range(n_steps):
        obs = {"observation": np.zeros((n_envs, 2), np.float32),
               "achieved_goal": np.zeros((n_envs, 1), np.float32),
               "desired_goal": np.full((n_envs, 1), GOAL, np.float32)}
        nxt = {k: v.copy() for k, v in obs.items()}
        done = np.zeros(n_envs, bool)
        infos = []
        for i in range(n_envs):
            obs["observation"][i] = (episode[i], t[i])
            obs["achieved_goal"][i] = 100 * episode[i] + t[i]
            nxt["observation"][i] = (episode[i], t[i] + 1)
            nxt["achieved_goal"][i] = 100 * episode[i] + t[i] + 1
            done[i] = bool(left[i]) and t[i] + 1 == left[i][0]
            infos.append({"TimeLimit.truncated": bool(done[i] and truncated)})
        buf.add(obs, nxt, np.zeros(n_envs, np.int64), np.full(n_envs, -1.0), done, infos)
        for i in range(n_envs):
            t[i] += 1
            if done[i]:
                left[i].pop(0)
                episode[i] += 1
                t[i] = 0


def _make(strategy="future", n_sampled_goal=4, size=100, n_envs=1, env=None):
    return HerReplayBuffer(size, _space(), spaces.Discrete(2), env or GoalEnv(),
                           device="cpu", n_envs=n_envs, n_sampled_goal=n_sampled_goal,
                           goal_selection_strategy=strategy)


def _lengths_of(buf):
    """{episode id: length} from what was stored."""
    obs = buf.observations["observation"]
    out = {}
    for (b, e) in zip(*np.nonzero(buf.ep_length > 0)):
        ep, t = obs[b, e]
        out[int(ep)] = max(out.get(int(ep), 0), int(t) + 1)
    return out


@pytest.mark.parametrize("strategy", ["future", "final", "episode"])
def test_relabelled_goals_come_from_the_same_episode(strategy):
    np.random.seed(0)
    env = GoalEnv()
    buf = _make(strategy, env=env)
    _fill(buf, [[3, 5, 1, 4]])
    lengths = _lengths_of(buf)
    assert lengths == {0: 3, 1: 5, 2: 1, 3: 4}
    batch = buf.sample(500)
    n_virtual = int(0.8 * 500)
    obs = batch.observations["observation"].numpy()
    goals = batch.observations["desired_goal"].numpy().ravel()
    nxt_goals = batch.next_observations["desired_goal"].numpy().ravel()
    achieved = batch.next_observations["achieved_goal"].numpy().ravel()
    rewards = batch.rewards.numpy().ravel()
    np.testing.assert_array_equal(goals, nxt_goals)
    # the real part: as stored
    assert np.all(goals[:500 - n_virtual] == GOAL)
    assert np.all(rewards[:500 - n_virtual] == -1.0)
    # the virtual part: an achieved goal 100 e + k + 1 of the same episode e
    virt = slice(500 - n_virtual, None)
    ep, t = obs[virt, 0].astype(int), obs[virt, 1].astype(int)
    g_ep, g_k = np.divmod(goals[virt].astype(int) - 1, 100)
    np.testing.assert_array_equal(g_ep, ep)
    length = np.array([lengths[e] for e in ep])
    if strategy == "future":
        assert np.all((g_k >= t) & (g_k < length))
        assert np.any(g_k > t) and np.any(g_k == t)   # inclusive of the step itself
    elif strategy == "final":
        np.testing.assert_array_equal(g_k, length - 1)
    else:
        assert np.all((g_k >= 0) & (g_k < length))
        assert np.any(g_k < t)
    # rewards are compute_reward(next achieved goal, new goal)
    np.testing.assert_array_equal(
        rewards[virt], -(np.abs(achieved[virt] - goals[virt]) > 0).astype(np.float32))
    assert env.calls == 1
    assert np.any(rewards[virt] == 0.0) and np.any(rewards[virt] == -1.0)


@pytest.mark.parametrize("n_sampled_goal, n_real", [(4, 2), (1, 5), (0, 10)])
def test_fraction_of_relabelled_transitions(n_sampled_goal, n_real):
    np.random.seed(1)
    buf = _make("final", n_sampled_goal=n_sampled_goal)
    _fill(buf, [[4, 4]])
    assert buf.her_ratio == pytest.approx(1 - 1 / (n_sampled_goal + 1))
    for _ in range(5):
        goals = buf.sample(10).observations["desired_goal"].numpy().ravel()
        assert np.all(goals[:n_real] == GOAL) and np.all(goals[n_real:] != GOAL)


def test_only_finished_episodes_are_sampled():
    np.random.seed(2)
    buf = _make()
    with pytest.raises(RuntimeError, match="end of the first episode"):
        _fill(buf, [[6]], stop=3)           # 3 steps are not an episode end
        buf.sample(4)
    buf.reset()
    _fill(buf, [[2, 30]], stop=20)                  # the second episode is still running
    obs = buf.sample(300).observations["observation"].numpy()
    assert set(obs[:, 0].astype(int)) == {0}


def test_overwritten_episode_is_dropped_whole():
    np.random.seed(3)
    buf = _make(size=10)
    _fill(buf, [[4, 4, 4]])       # the third episode overwrites the first two steps of ep 0
    assert buf.full and buf.pos == 2
    obs = buf.sample(400).observations["observation"].numpy()
    assert set(obs[:, 0].astype(int)) == {1, 2}
    goals = buf.sample(400).observations["desired_goal"].numpy().ravel()
    assert set((goals[goals != GOAL].astype(int) - 1) // 100) == {1, 2}


def test_several_envs_keep_their_episodes_apart():
    np.random.seed(4)
    buf = _make("episode", n_envs=2, size=40)
    _fill(buf, [[3, 2, 5], [4, 6]], n_envs=2)
    batch = buf.sample(1000)
    obs = batch.observations["observation"].numpy()
    goals = batch.observations["desired_goal"].numpy().ravel()
    virt = goals != GOAL
    assert set(obs[:, 0].astype(int)) == {0, 1, 2, 10, 11}
    np.testing.assert_array_equal((goals[virt].astype(int) - 1) // 100,
                                  obs[virt, 0].astype(int))


def test_time_limit_ends_bootstrap():
    np.random.seed(5)
    buf = _make()
    _fill(buf, [[3, 3]], truncated=True)
    assert float(buf.sample(200).dones.max()) == 0.0
    buf2 = _make()
    _fill(buf2, [[3, 3]])
    assert float(buf2.sample(200).dones.max()) == 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="goal_selection_strategy"):
        _make("later")
    with pytest.raises(ValueError, match="n_sampled_goal"):
        _make(n_sampled_goal=-1)
    with pytest.raises(ValueError, match="achieved_goal"):
        HerReplayBuffer(10, spaces.Dict({"x": spaces.Box(0, 1, (1,))}), spaces.Discrete(2),
                        None)
    buf = HerReplayBuffer(10, _space(), spaces.Discrete(2), None, device="cpu")
    _fill(buf, [[2]])
    with pytest.raises(ValueError, match="set_env"):
        buf.sample(5)
    from stable_baselines3.her.goal_selection_strategy import GoalSelectionStrategy
    assert _make(GoalSelectionStrategy.FINAL).goal_selection_strategy == "final"


def test_save_load_round_trip(tmp_path):
    np.random.seed(6)
    buf = _make("future", n_sampled_goal=2, size=12, n_envs=2)
    _fill(buf, [[3, 4, 5], [2, 7, 4]], n_envs=2)
    buf.save(tmp_path / "her")
    with np.load(tmp_path / "her.npz", allow_pickle=False) as data:   # no pickle inside
        assert "ep_length" in data.files
    loaded = ReplayBuffer.load(tmp_path / "her", device="cpu")
    assert type(loaded) is HerReplayBuffer and loaded.env is None
    assert (loaded.n_sampled_goal, loaded.goal_selection_strategy) == (2, "future")
    for name in ("ep_start", "ep_length", "current_ep_start", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(buf, name))
    loaded.set_env(GoalEnv())
    np.random.seed(7)
    a = buf.sample(64)
    np.random.seed(7)
    b = loaded.sample(64)
    for key in a.observations:
        torch.testing.assert_close(a.observations[key], b.observations[key])
    torch.testing.assert_close(a.rewards, b.rewards)
    # tampered bookkeeping is refused
    arrays = dict(np.load(tmp_path / "her.npz", allow_pickle=False))
    arrays["ep_length"] = arrays["ep_length"] + 100
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="Corrupted"):
        ReplayBuffer.load(tmp_path / "bad.npz")


def test_truncate_last_trajectory():
    buf = _make()
    _fill(buf, [[3, 10]], stop=10)   # 7 steps of the second episode are still running
    assert buf.ep_length[3:10].max() == 0
    with pytest.warns(UserWarning, match="truncated"):
        buf.truncate_last_trajectory()
    assert np.all(buf.ep_length[3:10] == 7) and buf.timeouts[9] == 1 and buf.dones[9] == 1


# ---------------------------------------------------------------------- MultiBinary


def test_multibinary_spaces_stored_as_float32():
    space = spaces.Dict({"bits": spaces.MultiBinary(3), "x": spaces.Box(-1, 1, (2,))})
    assert decode_space(encode_space(space)) == space
    assert decode_space(encode_space(spaces.MultiBinary([2, 3]))) == spaces.MultiBinary([2, 3])
    buf = DictReplayBuffer(10, space, spaces.Discrete(2), device="cpu")
    assert buf.observations["bits"].dtype == np.float32
    plain = ReplayBuffer(10, spaces.MultiBinary(4), spaces.Discrete(2), device="cpu")
    assert plain.observations.dtype == np.float32 and plain.obs_shape == (4,)


def test_sb3_her_class_is_mapped_and_dqn_saves(tmp_path):
    from stable_baselines3 import HerReplayBuffer as SB3Her
    from stable_baselines3.common.envs import BitFlippingEnv
    from stable_baselines3.her.goal_selection_strategy import GoalSelectionStrategy

    from mlnotes.rl import DQN

    env = BitFlippingEnv(n_bits=3)
    model = DQN("MultiInputPolicy", env, replay_buffer_class=SB3Her, learning_starts=20,
                replay_buffer_kwargs=dict(goal_selection_strategy=GoalSelectionStrategy.FINAL),
                buffer_size=500, seed=0)
    assert type(model.replay_buffer) is HerReplayBuffer
    assert model.replay_buffer.goal_selection_strategy == "final"
    assert model.replay_buffer.observations["observation"].dtype == np.float32
    model.learn(60)
    model.save(tmp_path / "dqn")
    model.save_replay_buffer(tmp_path / "buf")
    loaded = DQN.load(tmp_path / "dqn", env=BitFlippingEnv(n_bits=3))
    assert loaded.observation_space == model.observation_space
    assert loaded.replay_buffer_class is HerReplayBuffer
    with warnings.catch_warnings():   # the running episode is closed (as SB3)
        warnings.simplefilter("ignore", UserWarning)
        loaded.load_replay_buffer(tmp_path / "buf")
    assert loaded.replay_buffer.env is loaded.env and loaded.replay_buffer.size() == 60
    obs = env.reset(seed=0)[0]
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])
    loaded.learn(30, reset_num_timesteps=False)


@pytest.mark.parametrize("algo", ["SAC", "TD3", "DDPG"])
def test_multibinary_dict_observations_continuous_agents(algo):
    from stable_baselines3.common.envs import BitFlippingEnv

    import mlnotes.rl as rl

    env = BitFlippingEnv(n_bits=3, continuous=True)
    model = getattr(rl, algo)("MultiInputPolicy", env, replay_buffer_class=HerReplayBuffer,
                              learning_starts=10, buffer_size=200, batch_size=16, seed=0,
                              policy_kwargs=dict(net_arch=[16]))
    model.learn(30)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert action.shape == (3,)


def test_plain_multibinary_observations_dqn():
    import gymnasium as gym

    from mlnotes.rl import DQN

    class Bits(gym.Env):
        observation_space = spaces.MultiBinary(3)
        action_space = spaces.Discrete(2)

        def reset(self, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return self.np_random.integers(0, 2, 3).astype(np.int8), {}

        def step(self, action):
            self.t += 1
            obs = self.np_random.integers(0, 2, 3).astype(np.int8)
            return obs, float(action), False, self.t >= 5, {}

    model = DQN("MlpPolicy", Bits(), learning_starts=10, buffer_size=100, seed=0,
                policy_kwargs=dict(net_arch=[8]))
    model.learn(30)
    q = model.q_net(torch.ones(1, 3))
    assert q.shape == (1, 2)


def _success_rate(model, env, episodes=50):
    wins = 0
    for ep in range(episodes):
        obs, _ = env.reset(seed=1000 + ep)
        done = False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        wins += bool(info["is_success"])
    return wins / episodes


def test_dqn_with_her_solves_bit_flipping_where_plain_dqn_does_not():
    # 8 bits, 8 steps per episode: random flips almost never reach the goal, so plain
    # DQN sees (nearly) no reward; relabelled goals make every episode informative.
    # (With 4-6 bits plain DQN solves the task within 2,000 steps too.)
    from stable_baselines3.common.envs import BitFlippingEnv

    from mlnotes.rl import DQN

    torch.set_num_threads(1)
    rates = {}
    for her in (True, False):
        extra = dict(replay_buffer_class=HerReplayBuffer) if her else {}
        model = DQN("MultiInputPolicy", BitFlippingEnv(n_bits=8), learning_starts=100,
                    learning_rate=1e-3, exploration_fraction=0.5, target_update_interval=200,
                    train_freq=1, batch_size=64, policy_kwargs=dict(net_arch=[64]), seed=0,
                    **extra)
        model.learn(1000)
        rates[her] = _success_rate(model, BitFlippingEnv(n_bits=8))
    assert rates[True] >= 0.9 and rates[False] <= 0.2, rates
