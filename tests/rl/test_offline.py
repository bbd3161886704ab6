"""Offline RL: dataset tools, the TD3+BC loss by hand, learning from a fixed dataset."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from mlnotes.rl import TD3BC
from mlnotes.rl.common.replay_buffer import ReplayBuffer
from mlnotes.rl.offline import check_dataset, collect_dataset
from mlnotes.rl.offline._dataset import fill_replay_buffer


class LinearController:
    """Pendulum behaviour policy: torque = clip(-3 sin(theta) - 0.5 theta_dot)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        obs = np.asarray(obs, dtype=np.float64)
        return np.clip(-3.0 * obs[..., 1:2] - 0.5 * obs[..., 2:3], -2, 2).astype(
            np.float32), state


def _load_dataset(agent, data):
    """Put ``data`` into ``agent.replay_buffer`` (a buffer of exactly its size) as
    ``fit`` does, so that a test can take batches by index."""
    agent.replay_buffer = ReplayBuffer(len(data["rewards"]), agent.observation_space,
                                       agent.action_space, device="cpu")
    fill_replay_buffer(agent.replay_buffer, check_dataset(
        data, agent.observation_space, agent.action_space), agent.policy.scale_action)


def test_collect_dataset_records_terminals_and_timeouts():
    data = collect_dataset("Pendulum-v1", LinearController(), n_steps=450, noise_std=0.1,
                           seed=0)
    assert data["observations"].shape == data["next_observations"].shape == (450, 3)
    assert data["actions"].shape == (450, 1)
    assert data["timeouts"].sum() == 2 and data["terminals"].sum() == 0
    # a timeout's next observation is the true final one, not the next reset
    i = int(np.flatnonzero(data["timeouts"])[0])
    assert not np.allclose(data["next_observations"][i], data["observations"][i + 1])
    np.testing.assert_allclose(data["next_observations"][:i], data["observations"][1:i + 1])


def test_replay_buffer_from_dataset_bootstraps_timeouts_only():
    obs_space = spaces.Box(-1, 1, (2,))
    act_space = spaces.Box(-2, 2, (1,))
    data = {"observations": np.zeros((3, 2)), "actions": np.array([[2.0], [0.0], [-2.0]]),
            "rewards": np.ones(3), "next_observations": np.ones((3, 2)),
            "terminals": np.array([1, 0, 0]), "timeouts": np.array([0, 1, 0])}
    buf = ReplayBuffer(3, obs_space, act_space, device="cpu")
    fill_replay_buffer(buf, check_dataset(data, obs_space, act_space), lambda a: a / 2)
    samples = buf._get_samples(np.arange(3), np.zeros(3, dtype=int))
    np.testing.assert_array_equal(samples.dones.numpy().ravel(), [1, 0, 0])
    np.testing.assert_array_equal(samples.actions.numpy().ravel(), [1, 0, -1])


def test_check_dataset_rejects_bad_data():
    obs_space, act_space = spaces.Box(-1, 1, (2,)), spaces.Box(-1, 1, (1,))
    good = {"observations": np.zeros((4, 2)), "actions": np.zeros((4, 1)),
            "rewards": np.zeros(4), "next_observations": np.zeros((4, 2)),
            "terminals": np.zeros(4)}
    with pytest.raises(ValueError, match="lacks"):
        check_dataset({k: v for k, v in good.items() if k != "rewards"}, obs_space, act_space)
    with pytest.raises(ValueError, match="NaN"):
        check_dataset(dict(good, rewards=np.array([0, np.nan, 0, 0])), obs_space, act_space)
    with pytest.raises(ValueError, match="bounds"):
        check_dataset(dict(good, actions=np.full((4, 1), 3.0)), obs_space, act_space)
    with pytest.raises(ValueError, match="rows"):
        check_dataset(dict(good, rewards=np.zeros(3)), obs_space, act_space)
    with pytest.raises(TypeError):
        check_dataset([1, 2], obs_space, act_space)


def test_td3bc_actor_loss_by_hand():
    agent = TD3BC("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs={"net_arch": [8]})
    data = collect_dataset("Pendulum-v1", n_steps=20, seed=1)
    _load_dataset(agent, data)
    batch = agent.replay_buffer.sample(8)
    with torch.no_grad():
        pi = agent.actor(batch.observations)
        q = agent.critic.q1_forward(batch.observations, pi)
        expected = -(2.5 / q.abs().mean()) * q.mean() + ((pi - batch.actions) ** 2).mean()
        assert agent._actor_loss(batch).item() == pytest.approx(expected.item(), rel=1e-6)


def test_td3bc_stays_close_to_the_behaviour_policy_and_saves_its_statistics(tmp_path):
    expert = LinearController()
    data = collect_dataset("Pendulum-v1", expert, n_steps=1000, noise_std=0.05, seed=0)
    agent = TD3BC("MlpPolicy", "Pendulum-v1", seed=0, batch_size=128,
                  policy_kwargs={"net_arch": [64, 64]})
    agent.fit(data, n_steps=1500)
    obs = data["observations"][::10]
    gap = np.abs(agent.predict(obs, deterministic=True)[0] - expert.predict(obs)[0]).mean()
    assert gap < 0.25  # actions span [-2, 2]
    np.testing.assert_allclose(agent.obs_stats.mean.numpy(), data["observations"].mean(0),
                               rtol=1e-5, atol=1e-6)
    agent.save(tmp_path / "td3bc")
    loaded = TD3BC.load(tmp_path / "td3bc")
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])
    with pytest.raises(ValueError, match="normalize_observations"):
        agent.learn(10)


def test_td3bc_fit_evaluates_on_an_env():
    data = collect_dataset("Pendulum-v1", n_steps=300, seed=0)
    agent = TD3BC("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs={"net_arch": [16]})
    agent.fit(data, n_steps=20, eval_env=__import__("gymnasium").make("Pendulum-v1"),
              eval_freq=10, n_eval_episodes=1)
    assert [h[0] for h in agent.eval_history_] == [10, 20]
    assert all(np.isfinite(h[1]) for h in agent.eval_history_)


def test_expectile_loss_by_hand():
    from mlnotes.rl.offline._iql import expectile_loss

    diff = torch.tensor([2.0, -1.0, 0.0])
    np.testing.assert_allclose(expectile_loss(diff, 0.7).numpy(), [0.7 * 4, 0.3 * 1, 0.0])
    # tau = 0.5: half the squared error (the mean's loss)
    np.testing.assert_allclose(expectile_loss(diff, 0.5).numpy(), 0.5 * diff.numpy() ** 2)


def test_iql_value_is_an_upper_expectile_and_policy_follows_the_data():
    from mlnotes.rl import IQL

    expert = LinearController()
    data = collect_dataset("Pendulum-v1", expert, n_steps=1000, noise_std=0.05, seed=0)
    agent = IQL("MlpPolicy", "Pendulum-v1", seed=0, batch_size=128,
                policy_kwargs={"net_arch": [64, 64]})
    agent.fit(data, n_steps=1500)
    obs = data["observations"][::10]
    gap = np.abs(agent.predict(obs, deterministic=True)[0] - expert.predict(obs)[0]).mean()
    assert gap < 0.3
    # V fits an upper expectile of Q over the dataset actions: above their mean
    batch = agent.replay_buffer.sample(512)
    with torch.no_grad():
        q = agent.critic_target.q_values(batch.observations, batch.actions).min(1).values
        v = agent._value(batch.observations).squeeze(1)
    assert float((q - v < 0).float().mean()) > 0.5  # tau = 0.7: most Q fall below V


def test_cql_penalty_by_hand():
    from mlnotes.rl import CQL

    agent = CQL("MlpPolicy", "Pendulum-v1", seed=0, n_action_samples=3, cql_alpha=2.0,
                policy_kwargs={"net_arch": [8]})
    data = collect_dataset("Pendulum-v1", n_steps=20, seed=1)
    _load_dataset(agent, data)
    batch = agent.replay_buffer.sample(4)
    with torch.no_grad():
        current = agent.critic.q_values(batch.observations, batch.actions)
        torch.manual_seed(5)
        penalty = agent._critic_penalty(batch, current).item()
        # the same draws, one state at a time
        torch.manual_seed(5)
        obs = batch.observations.repeat_interleave(3, 0)
        nxt = batch.next_observations.repeat_interleave(3, 0)
        uniform = torch.empty(12, 1).uniform_(-1, 1)
        a_cur, lp_cur = agent.actor.action_log_prob(obs)
        a_nxt, lp_nxt = agent.actor.action_log_prob(nxt)
        total = 0.0
        for c in range(2):  # the two critics
            for i in range(4):
                rows = slice(3 * i, 3 * i + 3)
                vals = torch.cat([
                    agent.critic.q_values(obs[rows], uniform[rows])[:, c] - np.log(0.5),
                    agent.critic.q_values(obs[rows], a_cur[rows])[:, c] - lp_cur[rows],
                    agent.critic.q_values(obs[rows], a_nxt[rows])[:, c] - lp_nxt[rows]])
                total += (torch.log(torch.exp(vals).sum()) - current[i, c]).item() / 4
    # cql_alpha times the mean excess, halved as SAC's squared error (the critics' loss is
    # (sum of squared errors + cql_alpha * penalty) / 2, d3rlpy's loss up to Adam's scale)
    assert penalty == pytest.approx(0.5 * 2.0 * total, rel=1e-5)


@pytest.mark.parametrize("soft", [False, True])
def test_cql_backup_by_hand(soft):
    # default (d3rlpy's): min_j Q'_j(s', tanh mu(s')), no entropy term; soft: SAC's target
    from mlnotes.rl import CQL

    agent = CQL("MlpPolicy", "Pendulum-v1", seed=0, soft_q_backup=soft,
                policy_kwargs={"net_arch": [8]})
    obs = torch.as_tensor(collect_dataset("Pendulum-v1", n_steps=5, seed=1)["observations"])
    ent_coef = torch.tensor(0.3)
    with torch.no_grad():
        torch.manual_seed(2)
        value = agent._next_value(obs, ent_coef)
        torch.manual_seed(2)
        if soft:
            actions, log_prob = agent.actor.action_log_prob(obs)
            expected = (agent.critic_target.q_values(obs, actions).min(1).values
                        - 0.3 * log_prob.reshape(-1))
        else:
            mean = agent.actor(obs, deterministic=True)
            assert float(mean.abs().max()) <= 1.0
            q = [net(torch.cat([obs, mean], dim=1)) for net in agent.critic_target.q_networks]
            expected = torch.minimum(q[0], q[1]).reshape(-1)
    assert value.shape == (5, 1)
    np.testing.assert_allclose(value.reshape(-1).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_cql_lowers_q_on_actions_outside_the_data():
    from mlnotes.rl import CQL

    expert = LinearController()
    data = collect_dataset("Pendulum-v1", expert, n_steps=600, noise_std=0.05, seed=0)
    common = dict(seed=0, batch_size=128, policy_kwargs={"net_arch": [64, 64]})
    cql = CQL("MlpPolicy", "Pendulum-v1", cql_alpha=5.0, **common).fit(data, n_steps=600)
    plain = CQL("MlpPolicy", "Pendulum-v1", cql_alpha=0.0, **common).fit(data, n_steps=600)
    obs = torch.as_tensor(data["observations"][:200])
    in_data = torch.as_tensor(cql.policy.scale_action(data["actions"][:200]))
    opposite = -in_data.sign()  # full torque against the controller's sign
    with torch.no_grad():
        gap_cql = (cql.critic.q_values(obs, in_data) - cql.critic.q_values(obs, opposite)).mean()
        gap_plain = (plain.critic.q_values(obs, in_data)
                     - plain.critic.q_values(obs, opposite)).mean()
    assert gap_cql > gap_plain


@pytest.mark.parametrize("n_action_samples", [1, 3])
def test_awac_losses_by_hand(n_action_samples):
    # the paper's / d3rlpy's AWAC: a Gaussian actor around tanh mu(s) with one
    # state-independent log sigma = -6 + 6 sigmoid(theta), the advantage against the mean
    # critic value of N policy samples, weights B softmax(A / lambda), plain target
    from mlnotes.rl import AWAC

    agent = AWAC("MlpPolicy", "Pendulum-v1", seed=0, lam=0.5,
                 n_action_samples=n_action_samples, policy_kwargs={"net_arch": [8]})
    assert agent.batch_size == 1024  # d3rlpy's and the paper's default
    data = collect_dataset("Pendulum-v1", n_steps=20, seed=1)
    data["actions"][:2] = [[2.0], [-2.0]]  # at the bounds: finite loss
    _load_dataset(agent, data)
    batch = agent.replay_buffer._get_samples(np.arange(8), np.zeros(8, dtype=int))
    actor = agent.actor
    with torch.no_grad():
        actor.log_std.fill_(-0.4)
    torch.manual_seed(3)
    critic_loss, actor_loss = agent.losses(batch)
    torch.manual_seed(3)  # the same policy samples, in the same order
    with torch.no_grad():
        a_next, _ = actor.action_log_prob(batch.next_observations)
        assert float(a_next.abs().max()) <= 1.0
        q1n, q2n = (agent.critic_target.q_values(batch.next_observations, a_next)[:, i]
                    for i in (0, 1))
        y = batch.rewards[:, 0] + (1 - batch.dones[:, 0]) * 0.99 * torch.minimum(q1n, q2n)
        q = agent.critic.q_values(batch.observations, batch.actions)
        expected_critic = ((q[:, 0] - y) ** 2).mean() + ((q[:, 1] - y) ** 2).mean()
        obs_rep = batch.observations.repeat_interleave(n_action_samples, 0)
        a_pi, _ = actor.action_log_prob(obs_rep)
        q_pi = agent.critic.q_values(obs_rep, a_pi).min(1).values
        baseline = torch.stack([q_pi[i * n_action_samples:(i + 1) * n_action_samples].mean()
                                for i in range(8)])
        adv = q.min(1).values - baseline
        w = torch.exp(adv / 0.5)
        w = 8 * w / w.sum()
        h = torch.relu(batch.observations @ actor.latent_pi[0].weight.T
                       + actor.latent_pi[0].bias)
        mean = torch.tanh(h @ actor.mu.weight.T + actor.mu.bias).ravel()
        log_std = -6.0 + 6.0 / (1.0 + np.exp(0.4))
        a = batch.actions.ravel()
        logp = -0.5 * ((a - mean) / np.exp(log_std)) ** 2 - log_std - 0.5 * np.log(2 * np.pi)
        expected_actor = -(w * logp).mean()
    assert critic_loss.item() == pytest.approx(expected_critic.item(), rel=1e-5)
    assert actor_loss.item() == pytest.approx(expected_actor.item(), rel=1e-5)
    assert w.sum().item() == pytest.approx(8.0)
    np.testing.assert_allclose(agent.predict(batch.observations.numpy(), deterministic=True)[0],
                               2.0 * mean.numpy()[:, None], rtol=1e-5)


def test_awac_follows_good_data_then_fine_tunes_online(tmp_path):
    from mlnotes.rl import AWAC

    expert = LinearController()
    data = collect_dataset("Pendulum-v1", expert, n_steps=1000, noise_std=0.05, seed=0)
    agent = AWAC("MlpPolicy", "Pendulum-v1", seed=0, batch_size=128, buffer_size=2000,
                 policy_kwargs={"net_arch": [64, 64]})
    agent.fit(data, n_steps=1500)
    obs = data["observations"][::10]
    gap = np.abs(agent.predict(obs, deterministic=True)[0] - expert.predict(obs)[0]).mean()
    assert gap < 0.3  # actions span [-2, 2]
    # online fine-tuning keeps the dataset and appends new transitions
    assert agent.replay_buffer.buffer_size == 2000 and agent.replay_buffer.pos == 1000
    agent.learn(64)
    assert agent.replay_buffer.pos == 1064 and agent.num_timesteps == 64
    agent.save(tmp_path / "awac")
    loaded = AWAC.load(tmp_path / "awac")
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])


def test_make_dataset_recipes():
    from mlnotes.rl import SAC
    from mlnotes.rl.offline import make_dataset

    rand = make_dataset("Pendulum-v1", "random", n_steps=300, seed=0)
    assert rand["observations"].shape == (300, 3) and rand["metadata"]["train_steps"] == 0
    # a reachable target: training stops after the first chunk, then the trained agent
    # collects; medium-replay returns what it saw while training
    agent = SAC("MlpPolicy", "Pendulum-v1", learning_starts=50, batch_size=16,
                policy_kwargs={"net_arch": [16]}, seed=0)
    medium = make_dataset("Pendulum-v1", "medium", n_steps=250, agent=agent,
                          target_return=-1e9, chunk=150, eval_episodes=1)
    meta = medium["metadata"]
    assert meta["train_steps"] == 150 and meta["behaviour_return"] >= -1e9
    assert medium["actions"].shape == (250, 1)
    assert np.all(np.abs(medium["actions"]) <= 2.0)
    check_dataset(medium, agent.observation_space, agent.action_space)
    agent = SAC("MlpPolicy", "Pendulum-v1", learning_starts=50, batch_size=16,
                policy_kwargs={"net_arch": [16]}, seed=0)
    replay = make_dataset("Pendulum-v1", "medium-replay", agent=agent, target_return=1e9,
                          max_train_steps=300, chunk=150, eval_episodes=1)
    assert replay["metadata"]["train_steps"] == 300
    assert len(replay["observations"]) == 300  # every transition of the training run
    # consecutive transitions chain (next observation = following observation)
    same = np.all(replay["next_observations"][:-1] == replay["observations"][1:], axis=1)
    assert same.mean() > 0.99
    with pytest.raises(ValueError, match="quality"):
        make_dataset("Pendulum-v1", "great")
    with pytest.raises(ValueError, match="recipe"):
        make_dataset("MountainCarContinuous-v0", "medium")


def test_make_dataset_returns_the_behaviour_agent_and_remakes_it():
    from mlnotes.rl.offline import make_dataset

    kwargs = dict(n_steps=120, seed=3, target_return=-1e9, max_train_steps=100, chunk=100,
                  eval_episodes=1)
    data, agent = make_dataset("Pendulum-v1", "medium", return_agent=True, **kwargs)
    assert agent.num_timesteps == data["metadata"]["train_steps"] == 100
    # the returned agent is the policy that made the data: collecting again with it, with
    # the recipe's noise and collection seed (seed + 1), gives the same transitions
    again = collect_dataset("Pendulum-v1", agent, n_steps=120, noise_std=0.1, seed=4)
    np.testing.assert_array_equal(again["actions"], data["actions"])
    # the same call remakes the same data and agent (what the benchmark's behaviour
    # evaluation relies on)
    data2, agent2 = make_dataset("Pendulum-v1", "medium", return_agent=True, **kwargs)
    for key in ("observations", "actions", "rewards"):
        np.testing.assert_array_equal(data2[key], data[key])
    obs = data["observations"][:5]
    np.testing.assert_array_equal(agent2.predict(obs, deterministic=True)[0],
                                  agent.predict(obs, deterministic=True)[0])
    rand, none = make_dataset("Pendulum-v1", "random", n_steps=50, return_agent=True)
    assert none is None and len(rand["actions"]) == 50


def test_dataset_return_is_the_mean_over_complete_episodes():
    from mlnotes.rl.offline._dataset import _episode_return

    data = {"rewards": np.array([1.0, 2, 3, 4, 5, 6]), "terminals": np.array([0, 0, 0, 1, 0, 0]),
            "timeouts": np.array([0, 1, 0, 0, 0, 0])}
    assert _episode_return(data) == pytest.approx((1 + 2 + 3 + 4) / 2)  # [1, 2] and [3, 4]
    assert _episode_return(dict(data, terminals=np.zeros(6), timeouts=np.zeros(6))) is None


class _CartPoleController:
    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return (np.asarray(obs) @ np.array([0.5, 1.5, 20.0, 3.0]) > 0).astype(np.int64), state


def test_discrete_cql_penalty_by_hand_and_target_copies():
    from mlnotes.rl import DiscreteCQL

    agent = DiscreteCQL("MlpPolicy", "CartPole-v1", seed=0, cql_alpha=0.5,
                        target_update_interval=7, policy_kwargs={"net_arch": [8]})
    q = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    current = torch.tensor([[1.0], [-1.0]])
    expected = 0.5 * np.mean([np.log(np.exp(1) + np.exp(2)) - 1.0,
                              np.log(1 + np.exp(-1)) + 1.0])
    assert agent._q_penalty(q, current).item() == pytest.approx(expected, rel=1e-6)
    data = collect_dataset("CartPole-v1", n_steps=200, seed=0)
    agent.fit(data, n_steps=10)  # one copy after 7 gradient steps, none after 10
    online = [p.detach().clone() for p in agent._q_params]
    target = [p.detach().clone() for p in agent._target_params]
    assert agent._n_updates == 10
    assert not all(torch.equal(a, b) for a, b in zip(online, target))
    agent.train(4, 16)  # 14: a copy at step 14 exactly
    assert all(torch.equal(a, b) for a, b in zip(agent._q_params, agent._target_params))


def test_discrete_cql_follows_the_data_more_than_plain_offline_dqn():
    from mlnotes.rl import DiscreteCQL

    data = collect_dataset("CartPole-v1", _CartPoleController(), n_steps=2000,
                           random_fraction=0.1, seed=0)
    common = dict(seed=0, learning_rate=1e-3, batch_size=64, target_update_interval=200,
                  policy_kwargs={"net_arch": [64, 64]})
    cql = DiscreteCQL("MlpPolicy", "CartPole-v1", **common).fit(data, n_steps=2000)
    obs = data["observations"][::5]
    agree = np.mean(cql.predict(obs, deterministic=True)[0]
                    == _CartPoleController().predict(obs)[0])
    assert agree > 0.85, agree
    plain = DiscreteCQL("MlpPolicy", "CartPole-v1", cql_alpha=0.0, **common).fit(
        data, n_steps=2000)
    batch = cql.replay_buffer.sample(512)

    def gap(agent):  # Q of the dataset's action minus the other one
        with torch.no_grad():
            q = agent.q_net(agent.policy.prepare_obs(batch.observations))
        taken = q.gather(1, batch.actions.long())[:, 0]
        return float((taken - q.gather(1, 1 - batch.actions.long())[:, 0]).mean())

    assert gap(cql) > gap(plain)  # conservative: the data's actions are preferred more


def test_iql_actor_loss_by_hand():
    # the paper's / d3rlpy's actor: N(tanh mu(s), sigma^2), one state-independent
    # log sigma = -5 + 7 sigmoid(theta); the log-density of the raw (scaled) dataset action
    from mlnotes.rl import IQL

    agent = IQL("MlpPolicy", "Pendulum-v1", seed=0, beta=2.0, max_weight=3.0,
                policy_kwargs={"net_arch": [8]})
    data = collect_dataset("Pendulum-v1", n_steps=20, seed=1)
    data["actions"][:4] = [[2.0], [-2.0], [2.0], [-2.0]]  # at the bounds: finite loss
    _load_dataset(agent, data)
    batch = agent.replay_buffer._get_samples(np.arange(20), np.zeros(20, dtype=int))
    actor = agent.actor
    with torch.no_grad():
        actor.log_std.fill_(0.3)
        q1, q2 = (net(torch.cat([batch.observations, batch.actions], 1))
                  for net in agent.critic_target.q_networks)
        v = agent.value_net(batch.observations)
        weight = torch.exp(2.0 * (torch.minimum(q1, q2) - v)).clamp(max=3.0).ravel()
        h = torch.relu(batch.observations @ actor.latent_pi[0].weight.T
                       + actor.latent_pi[0].bias)
        mean = torch.tanh(h @ actor.mu.weight.T + actor.mu.bias).ravel()
        log_std = -5.0 + 7.0 / (1.0 + np.exp(-0.3))
        a = batch.actions.ravel()
        log_prob = -0.5 * ((a - mean) / np.exp(log_std)) ** 2 - log_std \
            - 0.5 * np.log(2 * np.pi)
        expected = -(weight * log_prob).mean()
        assert list(agent.losses(batch))[2].item() == pytest.approx(expected.item(), rel=1e-5)
        np.testing.assert_allclose(agent.predict(batch.observations.numpy(),
                                                 deterministic=True)[0].ravel(),
                                   2.0 * mean.numpy(), rtol=1e-5, atol=1e-6)
    assert torch.isfinite(list(agent.losses(batch))[2])


def test_iql_critic_and_actor_use_the_stepped_value_network():
    # the paper's order: V is stepped first; the critics' target r + g (1 - d) V(s') and
    # the actor's advantage min Q_target(s, a) - V(s) then use the new V
    from mlnotes.rl import IQL

    agent = IQL("MlpPolicy", "Pendulum-v1", seed=0, learning_rate=0.05,
                policy_kwargs={"net_arch": [8]})
    data = collect_dataset("Pendulum-v1", n_steps=32, seed=2)
    _load_dataset(agent, data)
    batch = agent.replay_buffer._get_samples(np.arange(32), np.zeros(32, dtype=int))
    old_v = agent.value_net(batch.observations).detach()
    steps = agent.losses(batch)
    value_loss = next(steps)
    agent.value_net.optimizer.zero_grad()
    value_loss.backward()
    agent.value_net.optimizer.step()
    critic_loss, actor_loss = next(steps), next(steps)
    with torch.no_grad():
        new_v = agent.value_net(batch.observations)
        assert float((new_v - old_v).abs().max()) > 1e-3  # the step moved V
        y = batch.rewards + (1 - batch.dones) * 0.99 * agent.value_net(
            batch.next_observations)
        q = agent.critic.q_values(batch.observations, batch.actions)
        expected_critic = ((q - y) ** 2).mean(dim=0).sum()
        q_t = agent.critic_target.q_values(batch.observations, batch.actions).min(dim=1)
        weight = torch.exp(3.0 * (q_t.values - new_v[:, 0])).clamp(max=100.0)
        expected_actor = -(weight * agent.actor.log_prob(batch.observations,
                                                          batch.actions)).mean()
    assert critic_loss.item() == pytest.approx(expected_critic.item(), rel=1e-6)
    assert actor_loss.item() == pytest.approx(expected_actor.item(), rel=1e-6)


@pytest.mark.parametrize("name", ["TD3BC", "IQL", "CQL", "AWAC", "DiscreteCQL"])
def test_progress_bar_trains_the_same_steps(name):
    # the bar splits fit into pieces of train(); the agent must come out the same
    import gymnasium as gym

    from mlnotes import rl

    env_id = "CartPole-v1" if name == "DiscreteCQL" else "Pendulum-v1"
    data = collect_dataset(env_id, n_steps=200, seed=0)
    agents = []
    for bar in (False, True):
        agent = getattr(rl, name)("MlpPolicy", env_id, seed=0, batch_size=32,
                                  policy_kwargs={"net_arch": [8]})
        eval_env = gym.make(env_id)
        eval_env.reset(seed=0)  # the same evaluation episodes for both
        agent.fit(data, n_steps=23, eval_env=eval_env, eval_freq=10, n_eval_episodes=1,
                  progress_bar=bar)
        agents.append(agent)
    plain, with_bar = agents
    assert [h[0] for h in with_bar.eval_history_] == [10, 20, 23]
    assert with_bar.eval_history_ == plain.eval_history_
    assert with_bar._n_updates == plain._n_updates == 23
    for key, value in plain.policy.state_dict().items():
        torch.testing.assert_close(with_bar.policy.state_dict()[key], value, rtol=0, atol=0)


def test_fit_logs_a_table_every_eval_freq_steps_when_verbose(capsys):
    # as learn(): SB3's logger prints the losses (and the evaluation) with verbose=1
    import gymnasium as gym

    data = collect_dataset("Pendulum-v1", n_steps=200, seed=0)
    kwargs = dict(seed=0, batch_size=32, policy_kwargs={"net_arch": [8]})
    TD3BC("MlpPolicy", "Pendulum-v1", verbose=1, **kwargs).fit(
        data, n_steps=20, eval_env=gym.make("Pendulum-v1"), eval_freq=10,
        n_eval_episodes=1)
    out = capsys.readouterr().out
    assert out.count("mean_reward") == 2 and out.count("gradient_steps") == 2
    assert "critic_loss" in out and "actor_loss" in out
    TD3BC("MlpPolicy", "Pendulum-v1", verbose=0, **kwargs).fit(data, n_steps=20,
                                                                  eval_freq=10)
    assert capsys.readouterr().out == ""
