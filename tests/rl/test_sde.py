"""gSDE (generalised state-dependent exploration) in the shared actor-critic policy
(issue 11): parity with SB3's distribution, noise-resampling schedule, A2C options."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import (
    StateDependentNoiseDistribution as SB3StateDependentNoise,
)

from mlnotes.rl import A2C
from mlnotes.rl.common import ActorCriticPolicy
from mlnotes.rl.common.distributions import StateDependentNoiseDistribution


@pytest.mark.parametrize("options", [
    dict(), dict(full_std=False), dict(use_expln=True), dict(squash_output=True),
    dict(full_std=False, use_expln=True, squash_output=True)])
def test_distribution_matches_sb3(options):
    """Same mean, features, log_std and noise weights: SB3's actions, log-probabilities
    and entropies."""
    torch.manual_seed(0)
    n, latent_dim, action_dim = 7, 5, 3
    ours = StateDependentNoiseDistribution(action_dim, **options)
    theirs = SB3StateDependentNoise(action_dim, **options)
    _, log_std = ours.proba_distribution_net(latent_dim, log_std_init=-0.5)
    theirs.proba_distribution_net(latent_dim, log_std_init=-0.5)
    with torch.no_grad():
        log_std.add_(0.8 * torch.randn_like(log_std))  # some entries > 0 (expln branch)
    mean, latent = torch.randn(n, action_dim), torch.randn(n, latent_dim)
    for batch in (1, n):  # one matrix for all rows, and one per row
        ours.sample_weights(log_std, batch_size=batch)
        theirs.sample_weights(log_std, batch_size=batch)
        theirs.exploration_mat = ours.exploration_mat.clone()
        theirs.exploration_matrices = ours.exploration_matrices.clone()
        dist = theirs.proba_distribution(mean, log_std, latent)
        actions, log_prob = ours.sample((mean, latent), log_std)
        torch.testing.assert_close(actions, dist.sample())
        torch.testing.assert_close(log_prob, dist.log_prob(actions), rtol=1e-4, atol=1e-4)
        lp, entropy = ours.log_prob_entropy((mean, latent), log_std, actions)
        torch.testing.assert_close(lp, dist.log_prob(actions), rtol=1e-4, atol=1e-4)
        if options.get("squash_output"):
            assert entropy is None and dist.entropy() is None
        else:
            torch.testing.assert_close(entropy, dist.entropy())
        torch.testing.assert_close(ours.mode((mean, latent)), dist.mode())
    # the std of the noise weights, both maps
    torch.testing.assert_close(ours.get_std(log_std), theirs.get_std(log_std))


class NoiseRecorder(BaseCallback):
    def __init__(self):
        super().__init__()
        self.matrices = []

    def _on_step(self):
        self.matrices.append(self.model.policy.distribution.exploration_matrices.clone())
        return True


@pytest.mark.parametrize("freq", [-1, 2])
def test_noise_is_redrawn_at_rollout_start_and_every_freq_steps(freq):
    agent = A2C("MlpPolicy", "Pendulum-v1", use_sde=True, sde_sample_freq=freq, n_steps=4,
                seed=0, device="cpu")
    recorder = NoiseRecorder()
    agent.learn(12, callback=recorder)  # 3 rollouts of 4 steps
    m = recorder.matrices
    assert len(m) == 12 and m[0].shape == (1, 64, 1)  # one matrix per env
    same = [torch.equal(m[i], m[i + 1]) for i in range(11)]
    if freq == -1:  # constant within a rollout, new at each rollout start
        assert same == [True, True, True, False] * 2 + [True, True, True]
    else:  # also every 2 steps
        assert same == [True, False] * 5 + [True]


def test_same_state_same_action_until_noise_reset():
    """The perturbation is a function of the state while the weights are kept."""
    agent = A2C("MlpPolicy", "Pendulum-v1", use_sde=True, seed=0, device="cpu",
                policy_kwargs=dict(log_std_init=-3.0))  # inside the bounds: no clipping
    obs = agent.observation_space.sample()
    a1, _ = agent.predict(obs)
    a2, _ = agent.predict(obs)
    np.testing.assert_array_equal(a1, a2)
    mean, _ = agent.predict(obs, deterministic=True)
    assert not np.allclose(a1, mean)
    agent.policy.reset_noise()
    a3, _ = agent.predict(obs)
    assert not np.allclose(a1, a3)


def test_squashed_actions_are_rescaled_to_the_bounds(tmp_path):
    agent = A2C("MlpPolicy", "Pendulum-v1", use_sde=True, seed=0, device="cpu", n_steps=8,
                policy_kwargs=dict(squash_output=True, log_std_init=2.0))
    agent.learn(32)
    assert np.isfinite(agent.logger.name_to_value["train/entropy_loss"])
    obs = np.stack([agent.observation_space.sample() for _ in range(50)])
    actions, _ = agent.predict(obs)
    assert np.all(np.abs(actions) <= 2.0) and np.abs(actions).max() > 1.0  # [-2, 2]
    # policy alone: the gSDE options survive save/load
    agent.policy.save(tmp_path / "p.zip")
    policy = ActorCriticPolicy.load(tmp_path / "p.zip")
    assert policy.use_sde and policy.squash_output
    np.testing.assert_allclose(policy.predict(obs, deterministic=True)[0],
                               agent.predict(obs, deterministic=True)[0], rtol=1e-6)


def test_options_and_errors():
    box, disc = spaces.Box(-1, 1, (2,)), spaces.Discrete(2)
    policy = ActorCriticPolicy(box, box, lambda _: 1e-3, use_sde=True, full_std=False,
                               log_std_init=-1.0)
    assert policy.log_std.shape == (64, 1) and float(policy.log_std[0, 0].detach()) == -1.0
    with pytest.raises(ValueError, match="squash_output"):
        ActorCriticPolicy(box, box, lambda _: 1e-3, squash_output=True)
    with pytest.raises(ValueError, match="gSDE"):
        ActorCriticPolicy(box, disc, lambda _: 1e-3, use_sde=True)
    with pytest.raises(ValueError, match="gSDE"):
        A2C("MlpPolicy", "CartPole-v1", use_sde=True, device="cpu")
    with pytest.raises(ValueError, match="gSDE"):
        ActorCriticPolicy(box, box, lambda _: 1e-3).reset_noise()
    agent = A2C("MlpPolicy", "Pendulum-v1", use_sde=True, sde_sample_freq=3, device="cpu")
    clone = A2C(**agent.get_params())
    assert clone.use_sde and clone.sde_sample_freq == 3 and clone.policy.use_sde
