"""MBPO (chapter 35): mixed minibatches, model rollouts, termination, save/load."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from mlnotes.rl import MBPO
from mlnotes.rl.model_based._mbpo import _MixedBuffer, _ModelBuffer


class DriftEnv(gym.Env):
    """s' = 0.9 s + 0.5 a, r = s_0 - 0.5 a_1: linear, so the model can learn it exactly."""

    observation_space = spaces.Box(-10.0, 10.0, (2,), np.float32)
    action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        self.t = 0
        return self.s.copy(), {}

    def step(self, action):
        reward = float(self.s[0] - 0.5 * action[1])
        self.s = (0.9 * self.s + 0.5 * np.asarray(action)).astype(np.float32)
        self.t += 1
        return self.s.copy(), reward, False, self.t >= 50, {}


def small_mbpo(env, **kwargs):
    params = dict(learning_starts=100, model_train_freq=100, gradient_steps=1, batch_size=32,
                  model_n_epochs=100, model_batch_size=64, n_members=3, model_net_arch=(32, 32),
                  rollout_batch_size=200, policy_kwargs=dict(net_arch=[16]), seed=0)
    params.update(kwargs)
    return MBPO("MlpPolicy", env, **params)


def test_mixed_minibatch_takes_real_ratio_from_the_real_buffer():
    model = _ModelBuffer(50, 2, 1, torch.device("cpu"))
    model.add(np.full((50, 2), 7.0), np.zeros((50, 1)), np.zeros((50, 2)),
              np.zeros(50), np.zeros(50))

    class Real:
        def sample(self, n, env=None):
            from mlnotes.rl.common.replay_buffer import ReplayBufferSamples
            t = torch.full((n, 2), -3.0)
            return ReplayBufferSamples(t, torch.zeros(n, 1), t, torch.zeros(n, 1),
                                       torch.zeros(n, 1))

    batch = _MixedBuffer(Real(), model, 0.25).sample(20)
    assert batch.observations.shape == (20, 2)
    assert int((batch.observations[:, 0] == -3.0).sum()) == 5
    assert int((batch.observations[:, 0] == 7.0).sum()) == 15
    only_model = _MixedBuffer(Real(), model, 0.0).sample(8)
    assert torch.all(only_model.observations == 7.0)


def test_model_rollouts_follow_the_learned_dynamics():
    agent = small_mbpo(DriftEnv(), rollout_length=2).learn(400)
    assert len(agent.model_loss_) == 3  # refits at 100, 200, 300 steps
    assert agent.model_loss_[-1] < agent.model_loss_[0]
    buf = agent.model_buffer
    # rollouts of length 2: twice as many transitions as start states per refit
    assert buf.size == 2 * 200 * len(agent.model_loss_)
    last = slice(buf.size - 400, buf.size)  # the rollouts of the last refit
    obs, act, nxt = (x[last].numpy() for x in (buf.obs, buf.actions, buf.next_obs))
    rew = buf.rewards[last, 0].numpy()
    # actions are stored in [-1, 1], the env's own bounds here
    err = np.abs(nxt - (0.9 * obs + 0.5 * act)).mean()
    spread = np.abs(nxt - obs).mean()
    assert err < 0.1 * spread, (err, spread)
    true_rew = obs[:, 0] - 0.5 * act[:, 1]
    assert np.abs(rew - true_rew).mean() < 0.1 * np.abs(true_rew).mean()


def test_model_refit_stops_early_on_the_holdout_and_fits_better_than_a_few_epochs():
    # the paper's early stopping: each refit trains until the held-out MSE stalls
    stopped = small_mbpo(DriftEnv(), model_n_epochs=300).learn(101)
    fixed = small_mbpo(DriftEnv(), model_n_epochs=3, model_patience=None).learn(101)
    assert fixed.model_epochs_ == [3]
    assert 5 < stopped.model_epochs_[0] < 300  # stopped by patience, not by the cap
    obs, actions, next_obs, rewards = stopped._real_transitions()
    data = [a.astype(np.float64) for a in (obs, actions, next_obs, rewards)]
    # both measured in their own standardised units of the same data (same statistics)
    assert stopped.dynamics.holdout_mse(*data) < 0.5 * fixed.dynamics.holdout_mse(*data)


def test_termination_fn_marks_model_transitions_done():
    calls = []

    def terminate(obs, actions, next_obs):
        calls.append(len(obs))
        return np.abs(next_obs[:, 0]) > 0.2

    agent = small_mbpo(DriftEnv(), termination_fn=terminate, rollout_length=3).learn(150)
    buf = agent.model_buffer
    dones = buf.dones[:buf.size, 0].numpy().astype(bool)
    nxt = buf.next_obs[:buf.size, 0].numpy()
    assert calls and np.array_equal(dones, np.abs(nxt) > 0.2)
    # terminated rollouts stop: later steps branch from fewer states
    assert calls[0] == 200 and all(b <= a for a, b in zip(calls, calls[1:3]))


def test_save_load_keeps_the_model(tmp_path):
    agent = small_mbpo(DriftEnv()).learn(150)
    agent.save(tmp_path / "mbpo")
    loaded = MBPO.load(tmp_path / "mbpo", env=DriftEnv())
    for key, value in agent.dynamics.state_dict().items():
        assert torch.equal(value, loaded.dynamics.state_dict()[key]), key
    obs = np.zeros((4, 2), dtype=np.float32)
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])
    loaded.learn(120)  # trains on: a refit on the new buffer, then SAC steps


@pytest.mark.parametrize("bad", [dict(real_ratio=1.5), dict(rollout_length=0),
                                 dict(model_learning_rate=0.0), dict(termination_fn=3),
                                 dict(model_patience=0), dict(model_holdout_ratio=1.0)])
def test_bad_parameters_raise(bad):
    with pytest.raises((ValueError, TypeError)):
        small_mbpo(DriftEnv(), **bad)


def test_discrete_actions_raise():
    with pytest.raises(ValueError, match="action space"):
        MBPO("MlpPolicy", "CartPole-v1")
