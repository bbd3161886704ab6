"""ReplayBuffer / NStepReplayBuffer: storage, wrap-around, time limits, n-step returns
(hand-computed), save/load in a safe format."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from mlnotes.rl.common.replay_buffer import (
    NStepReplayBuffer,
    ReplayBuffer,
    ReplayBufferSamples,
)

OBS = spaces.Box(-np.inf, np.inf, (2,), dtype=np.float32)
DISC = spaces.Discrete(3)
BOX = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)


def fill(buf, n, dones=(), truncs=(), n_envs=1):
    """Step t stores obs=t, next_obs=t+0.5, action t%3, reward t (per env: + 100*env)."""
    for t in range(n):
        offset = 100 * np.arange(n_envs)[:, None]
        obs = (np.full((n_envs, 2), t, dtype=np.float32) + offset).astype(np.float32)
        done = np.array([t in dones or t in truncs] * n_envs)
        infos = [{"TimeLimit.truncated": t in truncs} for _ in range(n_envs)]
        buf.add(obs, obs + 0.5, np.full(n_envs, t % 3), np.full(n_envs, float(t)) +
                100 * np.arange(n_envs), done, infos)


def test_samples_are_typed_tensors_with_sb3_shapes():
    buf = ReplayBuffer(50, OBS, DISC, device="cpu")
    fill(buf, 10)
    batch = buf.sample(7)
    assert isinstance(batch, ReplayBufferSamples) and batch.discounts is None
    assert batch.observations.shape == (7, 2) and batch.next_observations.shape == (7, 2)
    assert batch.actions.shape == (7, 1) and batch.actions.dtype == torch.int64
    assert batch.rewards.shape == (7, 1) and batch.dones.shape == (7, 1)
    # every sample is a consistent stored transition
    t = batch.observations[:, 0]
    assert torch.equal(batch.next_observations[:, 0], t + 0.5)
    assert torch.equal(batch.rewards[:, 0], t)
    assert torch.equal(batch.actions[:, 0], t.long() % 3)
    box = ReplayBuffer(50, OBS, spaces.Box(-2, 2, (2,), dtype=np.float64), device="cpu")
    box.add(np.zeros((1, 2)), np.zeros((1, 2)), np.array([[0.5, -0.5]]), np.zeros(1),
            np.zeros(1), [{}])
    sample = box.sample(3)
    assert sample.actions.shape == (3, 2) and sample.actions.dtype == torch.float32


def test_wrap_around_overwrites_the_oldest():
    buf = ReplayBuffer(5, OBS, DISC, device="cpu")
    fill(buf, 7)
    assert buf.full and buf.pos == 2 and buf.size() == 5
    assert buf.observations[:, 0, 0].tolist() == [5, 6, 2, 3, 4]
    np.random.seed(0)
    seen = set(buf.sample(500).observations[:, 0].tolist())
    assert seen == {2.0, 3.0, 4.0, 5.0, 6.0}


def test_time_limit_truncation_is_not_terminal():
    buf = ReplayBuffer(10, OBS, DISC, device="cpu")
    fill(buf, 4, dones=(1,), truncs=(3,))
    batch = buf._get_samples(np.arange(4), np.zeros(4, dtype=np.int64))
    assert batch.dones[:, 0].tolist() == [0.0, 1.0, 0.0, 0.0]
    plain = ReplayBuffer(10, OBS, DISC, device="cpu", handle_timeout_termination=False)
    fill(plain, 4, dones=(1,), truncs=(3,))
    batch = plain._get_samples(np.arange(4), np.zeros(4, dtype=np.int64))
    assert batch.dones[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_several_envs_share_the_size():
    buf = ReplayBuffer(10, OBS, DISC, device="cpu", n_envs=2)
    assert buf.buffer_size == 5 and buf.observations.shape == (5, 2, 2)
    fill(buf, 3, n_envs=2)
    np.random.seed(1)
    batch = buf.sample(200)
    assert set(batch.observations[:, 0].tolist()) == {0, 1, 2, 100, 101, 102}
    assert torch.equal(batch.rewards[:, 0], batch.observations[:, 0])


def test_optimize_memory_usage_reads_next_slot():
    with pytest.raises(ValueError, match="handle_timeout_termination"):
        ReplayBuffer(4, OBS, DISC, optimize_memory_usage=True)
    buf = ReplayBuffer(4, OBS, DISC, device="cpu", optimize_memory_usage=True,
                       handle_timeout_termination=False)
    assert buf.next_observations is None
    for t in range(6):  # obs t, next obs t + 1 (continuing episode)
        obs = np.full((1, 2), t, dtype=np.float32)
        buf.add(obs, obs + 1, np.array([0]), np.array([t]), np.array([False]), [{}])
    np.random.seed(2)
    batch = buf.sample(300)
    assert torch.equal(batch.next_observations, batch.observations + 1)
    # the slot at pos holds only a next observation: never sampled as a state
    assert 6.0 not in set(batch.observations[:, 0].tolist())


def test_nstep_returns_equal_hand_computed_values():
    gamma = 0.5
    buf = NStepReplayBuffer(20, OBS, DISC, device="cpu", n_steps=3, gamma=gamma)
    # steps 0..7, rewards 0..7; termination at 4, truncation at 6
    fill(buf, 8, dones=(4,), truncs=(6,))
    batch = buf._get_samples(np.arange(8), np.zeros(8, dtype=np.int64))
    r = np.arange(8.0)
    expected = [
        # (return, discount, next obs, done)
        (r[0] + gamma * r[1] + gamma**2 * r[2], gamma**3, 2.5, 0.0),
        (r[1] + gamma * r[2] + gamma**2 * r[3], gamma**3, 3.5, 0.0),
        (r[2] + gamma * r[3] + gamma**2 * r[4], gamma**3, 4.5, 1.0),  # ends at termination
        (r[3] + gamma * r[4], gamma**2, 4.5, 1.0),
        (r[4], gamma, 4.5, 1.0),
        (r[5] + gamma * r[6], gamma**2, 6.5, 0.0),                   # truncation: bootstrap
        (r[6], gamma, 6.5, 0.0),
        (r[7], gamma, 7.5, 0.0),                                      # newest step
    ]
    for i, (ret, disc, nxt, done) in enumerate(expected):
        assert batch.rewards[i, 0].item() == pytest.approx(ret)
        assert batch.discounts[i, 0].item() == pytest.approx(disc)
        assert batch.next_observations[i, 0].item() == nxt
        assert batch.dones[i, 0].item() == done
        assert batch.observations[i, 0].item() == i


def test_nstep_window_stops_at_the_write_position_after_wrap():
    buf = NStepReplayBuffer(4, OBS, DISC, device="cpu", n_steps=3, gamma=0.5)
    fill(buf, 6)  # slots hold steps [4, 5, 2, 3]; pos = 2; newest step 5 at slot 1
    batch = buf._get_samples(np.array([3, 0, 1]), np.zeros(3, dtype=np.int64))
    # slot 3 (step 3) -> steps 3, 4, 5; slot 1 (step 5) stops: the next slot is older data
    assert batch.rewards[:, 0].tolist() == pytest.approx([3 + 0.5 * 4 + 0.25 * 5,
                                                          4 + 0.5 * 5, 5.0])
    assert batch.next_observations[:, 0].tolist() == [5.5, 5.5, 5.5]


def test_save_load_round_trip_and_tampering(tmp_path):
    buf = NStepReplayBuffer(6, OBS, BOX, device="cpu", n_steps=2, gamma=0.9, n_envs=2)
    for t in range(5):
        obs = np.full((2, 2), t, dtype=np.float32)
        buf.add(obs, obs + 1, np.full((2, 2), 0.1 * t), np.full(2, t), np.array([t == 3] * 2),
                [{}, {"TimeLimit.truncated": True}])
    buf.save(tmp_path / "rb")
    loaded = ReplayBuffer.load(tmp_path / "rb", device="cpu")
    assert type(loaded) is NStepReplayBuffer and loaded.n_steps == 2 and loaded.gamma == 0.9
    assert (loaded.pos, loaded.full) == (buf.pos, buf.full)
    for name in ("observations", "next_observations", "actions", "rewards", "dones",
                 "timeouts"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(buf, name))
    (tmp_path / "junk.npz").write_bytes(b"not a numpy file")
    with pytest.raises(ValueError):
        ReplayBuffer.load(tmp_path / "junk.npz")
    # an object array needs pickle to load: refused
    np.savez(tmp_path / "evil.npz", header=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ValueError):
        ReplayBuffer.load(tmp_path / "evil.npz")
    data = dict(np.load(tmp_path / "rb.npz"))
    data["rewards"] = data["rewards"][:1]
    np.savez(tmp_path / "short.npz", **data)
    with pytest.raises(ValueError, match="Corrupted"):
        ReplayBuffer.load(tmp_path / "short.npz")


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="buffer_size"):
        ReplayBuffer(0, OBS, DISC)
    with pytest.raises(ValueError, match="observation"):
        ReplayBuffer(5, spaces.MultiDiscrete([2, 2]), DISC)  # MultiBinary is stored (SB3)
    with pytest.raises(ValueError, match="n_steps"):
        NStepReplayBuffer(5, OBS, DISC, n_steps=0)
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(5, OBS, DISC, device="cpu").sample(2)
