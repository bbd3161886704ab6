"""SAC (chapters 41-42): known answers for the squashed Gaussian, the soft Bellman target,
the temperature and the Polyak update; the SB3 surface; a CI-sized learning check."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import SAC as SB3SAC
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import SAC
from mlnotes.rl.common.continuous_policies import (
    ContinuousCritic,
    SACPolicy,
    SquashedGaussianActor,
    get_actor_critic_arch,
    optimizer_step,
    squashed_gaussian_log_prob,
)
from mlnotes.rl.common.replay_buffer import ReplayBufferSamples


class FixedSamples:
    """A replay buffer stub that always returns the same batch."""

    def __init__(self, batch):
        self.batch = batch

    def sample(self, batch_size, env=None):
        return self.batch


def batch(obs, actions, next_obs, rewards, dones):
    t = lambda x: torch.as_tensor(np.asarray(x, dtype=np.float32))  # noqa: E731
    return ReplayBufferSamples(t(obs), t(actions), t(next_obs), t(dones).reshape(-1, 1),
                               t(rewards).reshape(-1, 1))


def test_signature_and_defaults_match_sb3():
    import inspect

    ours = inspect.signature(SAC.__init__).parameters
    ref = inspect.signature(SB3SAC.__init__).parameters
    assert list(ours) == list(ref)
    for name, p in ref.items():
        assert ours[name].default == p.default, name
    policy_ref = inspect.signature(
        __import__("stable_baselines3.sac.policies", fromlist=["SACPolicy"]).SACPolicy.__init__
    ).parameters
    policy_ours = inspect.signature(SACPolicy.__init__).parameters
    for name in ("net_arch", "activation_fn", "use_sde", "log_std_init", "use_expln",
                 "clip_mean", "optimizer_class", "optimizer_kwargs", "n_critics",
                 "share_features_extractor"):
        assert policy_ours[name].default == policy_ref[name].default, name


def test_squashed_gaussian_log_prob_is_the_change_of_variables():
    torch.manual_seed(0)
    mean = torch.randn(50, 3, dtype=torch.float64) * 2
    log_std = torch.rand(50, 3, dtype=torch.float64) * 2 - 1.5
    u = mean + torch.randn_like(mean) * log_std.exp()
    ours = squashed_gaussian_log_prob(u, mean, log_std)
    # direct: density of u, minus log |det da/du| from autograd of tanh, per dimension
    base = torch.distributions.Normal(mean, log_std.exp()).log_prob(u).sum(-1)
    uu = u.clone().requires_grad_(True)
    (jac,) = torch.autograd.grad(torch.tanh(uu).sum(), uu)  # diagonal Jacobian
    direct = base - torch.log(jac).sum(-1)
    np.testing.assert_allclose(ours.numpy(), direct.numpy(), rtol=1e-10, atol=1e-10)
    # and torch's own transformed distribution agrees
    squashed = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(mean, log_std.exp()),
        [torch.distributions.TanhTransform(cache_size=1)])
    a = squashed.rsample()
    z = torch.atanh(a.clamp(-1 + 1e-12, 1 - 1e-12))
    np.testing.assert_allclose(squashed_gaussian_log_prob(z, mean, log_std).numpy(),
                               squashed.log_prob(a).sum(-1).numpy(), rtol=1e-6, atol=1e-6)
    # stable far in the tails, where 1 - tanh(u)^2 underflows
    far = squashed_gaussian_log_prob(torch.tensor([[30.0]]), torch.tensor([[30.0]]),
                                     torch.tensor([[0.0]]))
    assert torch.isfinite(far).all()
    assert far.item() == pytest.approx(-0.5 * math.log(2 * math.pi) + 2 * 30 - 2 * math.log(2))


def test_actor_sample_bounds_and_log_prob():
    env = gym.make("Pendulum-v1")
    actor = SquashedGaussianActor(env.observation_space, env.action_space, [16])
    obs = torch.as_tensor(np.stack([env.observation_space.sample() for _ in range(64)]))
    actions, log_prob = actor.action_log_prob(obs)
    assert actions.shape == (64, 1) and log_prob.shape == (64,)
    assert (actions.abs() <= 1).all()
    mean, log_std = actor.get_action_dist_params(obs)
    assert (log_std >= -20).all() and (log_std <= 2).all()
    torch.testing.assert_close(actor(obs, deterministic=True), torch.tanh(mean))
    # predict returns env-scaled actions: tanh(mean) * 2 for Pendulum's [-2, 2]
    pred, _ = actor.predict(obs.numpy(), deterministic=True)
    np.testing.assert_allclose(pred, 2 * torch.tanh(mean).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_net_arch_forms_and_critic_count():
    assert get_actor_critic_arch([64, 32]) == ([64, 32], [64, 32])
    assert get_actor_critic_arch(dict(pi=[8], qf=[16, 16])) == ([8], [16, 16])
    with pytest.raises(ValueError, match="'pi'"):
        get_actor_critic_arch(dict(pi=[8], vf=[8]))
    with pytest.raises(ValueError, match="positive integers"):
        get_actor_critic_arch([64, 0])
    env = gym.make("Pendulum-v1")
    policy = SACPolicy(env.observation_space, env.action_space, lambda _: 1e-3,
                       net_arch=dict(pi=[8], qf=[16, 16]), activation_fn=torch.nn.Tanh,
                       n_critics=3)
    assert policy.actor.latent_pi[0].out_features == 8
    assert isinstance(policy.actor.latent_pi[1], torch.nn.Tanh)
    assert policy.critic.n_critics == 3 and len(policy.critic.q_networks) == 3
    assert [m.out_features for m in policy.critic.qf0 if isinstance(m, torch.nn.Linear)] \
        == [16, 16, 1]
    obs = torch.zeros(5, 3)
    q = policy.critic(obs, torch.zeros(5, 1))
    assert isinstance(q, tuple) and len(q) == 3 and q[0].shape == (5, 1)
    torch.testing.assert_close(torch.cat(q, 1), policy.critic.q_values(obs, torch.zeros(5, 1)))
    torch.testing.assert_close(policy.critic.q1_forward(obs, torch.zeros(5, 1)), q[0])
    # target critics start equal and have no gradients
    for p, t in zip(policy.critic.parameters(), policy.critic_target.parameters()):
        assert torch.equal(p, t) and not t.requires_grad
    policy.set_training_mode(True)
    assert policy.actor.training and policy.critic.training
    assert not policy.critic_target.training


def test_fast_adam_step_equals_torch_adam():
    torch.manual_seed(0)
    a = torch.nn.Linear(5, 3)
    b = torch.nn.Linear(5, 3)
    b.load_state_dict(a.state_dict())
    opt_a = torch.optim.Adam(a.parameters(), lr=1e-2, fused=True)
    opt_b = torch.optim.Adam(b.parameters(), lr=1e-2)  # the reference for-loop Adam
    for step in range(5):
        x = torch.randn(7, 5)
        for net, opt in ((a, opt_a), (b, opt_b)):
            net(x).square().sum().backward()
            if net is a:
                optimizer_step(opt)
            else:
                opt.step()
                opt.zero_grad()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)
        assert p.grad is None
    # the optimiser state stays torch's own (save/load keeps working)
    assert int(opt_a.state_dict()["state"][0]["step"]) == 5


def make_known_sac(ent_coef=0.5, gamma=0.9, n_critics=2):
    """SAC whose critics give known constants (last layers zero), whose actor is (almost)
    deterministic (log_std = -20), trained with SGD so that one step on a single
    transition moves each critic's output bias exactly onto the target."""
    agent = SAC("MlpPolicy", "Pendulum-v1", ent_coef=ent_coef, gamma=gamma, seed=0,
                device="cpu", tau=0.25, learning_starts=0, batch_size=1,
                policy_kwargs=dict(net_arch=[8], n_critics=n_critics,
                                   optimizer_class=torch.optim.SGD))
    with torch.no_grad():
        agent.actor.log_std.weight.zero_()
        agent.actor.log_std.bias.fill_(-20.0)
        for j, (q, q_t) in enumerate(zip(agent.critic.q_networks,
                                         agent.critic_target.q_networks)):
            q[-1].weight.zero_()
            q[-1].bias.fill_(0.0)
            q_t[-1].weight.zero_()
            q_t[-1].bias.fill_(3.0 + 2.0 * j)  # target critics: 3, 5, 7, ...
    for group in agent.critic.optimizer.param_groups:
        group["lr"] = 1.0
    agent.lr_schedule = lambda _: 1.0
    return agent


def test_soft_bellman_target_equals_hand_computation():
    agent = make_known_sac()
    obs, next_obs = [[0.1, 0.2, 0.3]], [[0.5, -0.4, 1.0]]
    agent.replay_buffer = FixedSamples(batch(obs, [[0.2]], next_obs, [1.5], [0.0]))
    # by hand: a' = tanh(mu(s')) with sigma = e^-20, so u = mu exactly enough and
    # log pi(a'|s') = -log sigma - log sqrt(2 pi) - log(1 - tanh(mu)^2)
    with torch.no_grad():
        mu = agent.actor.get_action_dist_params(torch.tensor(next_obs))[0].item()
    log_pi = 20.0 - 0.5 * math.log(2 * math.pi) - math.log(1 - math.tanh(mu) ** 2)
    y = 1.5 + 0.9 * (min(3.0, 5.0) - 0.5 * log_pi)
    agent.train(gradient_steps=1, batch_size=1)
    # critic_loss = 1/2 sum_j (Q_j - y)^2 with Q_j = 0: SGD(lr=1) moves each bias to y
    for q in agent.critic.q_networks:
        assert q[-1].bias.item() == pytest.approx(y, rel=1e-5)


def test_termination_is_not_bootstrapped():
    agent = make_known_sac()
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [1.5], [1.0]))
    agent.train(gradient_steps=1, batch_size=1)
    for q in agent.critic.q_networks:
        assert q[-1].bias.item() == pytest.approx(1.5, rel=1e-6)


def test_truncation_is_bootstrapped_from_the_true_final_observation():
    # Pendulum never terminates: its 200-step episodes end by truncation only
    agent = SAC("MlpPolicy", "Pendulum-v1", seed=0, device="cpu", learning_starts=1000,
                policy_kwargs=dict(net_arch=[8]))
    agent.learn(201)
    buf = agent.replay_buffer
    assert buf.pos == 201
    sample = buf._get_samples(np.arange(201), np.zeros(201, dtype=np.int64))
    assert float(sample.dones.sum()) == 0.0  # no transition is treated as terminal
    # the last step of the episode stores the final observation, not the reset one
    last_next = buf.next_observations[199, 0]
    first_of_next_episode = buf.observations[200, 0]
    assert not np.allclose(last_next, first_of_next_episode)
    np.testing.assert_allclose(buf.observations[199, 0], buf.next_observations[198, 0])


def test_polyak_update_by_hand():
    agent = make_known_sac()
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [1.5], [0.0]))
    before = [p.detach().clone() for p in agent.critic_target.parameters()]
    agent.train(gradient_steps=1, batch_size=1)
    for old, online, target in zip(before, agent.critic.parameters(),
                                   agent.critic_target.parameters()):
        torch.testing.assert_close(target, 0.75 * old + 0.25 * online.detach())


def test_target_update_interval_counts_gradient_steps():
    agent = make_known_sac()
    agent.target_update_interval = 3
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [1.5], [0.0]))
    target = agent.critic_target.q_networks[0][-1].bias
    seen = []
    for _ in range(6):
        agent.train(gradient_steps=1, batch_size=1)
        seen.append(target.item())
    changed = [not math.isclose(a, b) for a, b in zip([3.0] + seen, seen)]
    assert changed == [False, False, True, False, False, True]


def test_entropy_temperature_gradient_step():
    # ent_coef="auto_0.1": log alpha starts at log 0.1, and Adam's first step moves it by
    # -lr * sign(grad), grad = -(E[log pi] + target_entropy) (lr = 1 here, see above)
    agent = make_known_sac(ent_coef="auto_0.1")
    assert agent.log_ent_coef.item() == pytest.approx(math.log(0.1))
    assert agent.target_entropy == -1.0
    obs = [[0.1, 0.2, 0.3]]
    agent.replay_buffer = FixedSamples(batch(obs, [[0.2]], [[0.5, -0.4, 1.0]], [1.5], [0.0]))
    with torch.no_grad():
        _, log_pi = agent.actor.action_log_prob(torch.tensor(obs))
    grad = -(log_pi.item() + agent.target_entropy)
    agent.train(gradient_steps=1, batch_size=1)
    expected = math.log(0.1) - 1.0 * math.copysign(1.0, grad)
    assert agent.log_ent_coef.item() == pytest.approx(expected, abs=1e-6)
    assert agent.logger.name_to_value["train/ent_coef"] == pytest.approx(0.1)


def test_fixed_ent_coef_and_target_entropy_values():
    agent = SAC("MlpPolicy", "Pendulum-v1", ent_coef=0.2, target_entropy=-3.5, seed=0,
                device="cpu", policy_kwargs=dict(net_arch=[8]))
    assert agent.log_ent_coef is None and agent.ent_coef_optimizer is None
    assert agent.ent_coef_tensor.item() == pytest.approx(0.2)
    assert agent.target_entropy == -3.5
    assert "ent_coef_optimizer" not in agent.get_parameters()


@pytest.mark.parametrize("kwargs, match", [
    (dict(ent_coef="auto_-1"), "auto_"),
    (dict(ent_coef="often"), "ent_coef"),
    (dict(ent_coef=-0.1), "ent_coef"),
    (dict(target_entropy="high"), "target_entropy"),
    (dict(target_update_interval=0), "target_update_interval"),
    (dict(policy_kwargs=dict(net_arch=dict(pi=[8]))), "net_arch"),
    (dict(policy_kwargs=dict(n_critics=0)), "n_critics"),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SAC("MlpPolicy", "Pendulum-v1", device="cpu", **kwargs)


def test_discrete_and_unbounded_action_spaces_raise_at_construction():
    with pytest.raises(ValueError, match="SAC does not support the action space"):
        SAC("MlpPolicy", "CartPole-v1")

    class Unbounded(gym.Env):
        observation_space = gym.spaces.Box(-1, 1, (2,))
        action_space = gym.spaces.Box(-np.inf, np.inf, (1,))

        def reset(self, *, seed=None, options=None):
            return np.zeros(2, dtype=np.float32), {}

        def step(self, action):
            return np.zeros(2, dtype=np.float32), 0.0, False, False, {}

    with pytest.raises(ValueError, match="bounded Box"):
        SAC("MlpPolicy", Unbounded())


def test_nan_loss_stops_training_naming_the_loss():
    agent = make_known_sac()
    agent.replay_buffer = FixedSamples(batch([[0.1, 0.2, 0.3]], [[0.2]], [[0.5, -0.4, 1.0]],
                                            [float("nan")], [0.0]))
    with pytest.raises(FloatingPointError, match="critic_loss"):
        agent.train(gradient_steps=1, batch_size=1)


def test_save_load_keeps_temperature_and_optimisers(tmp_path):
    agent = SAC("MlpPolicy", "Pendulum-v1", seed=0, device="cpu", learning_starts=20,
                batch_size=16, policy_kwargs=dict(net_arch=[16])).learn(60)
    assert set(agent.get_parameters()) == {"policy", "actor.optimizer", "critic.optimizer",
                                           "log_ent_coef", "ent_coef_optimizer"}
    agent.save(tmp_path / "sac")
    loaded = SAC.load(tmp_path / "sac", env="Pendulum-v1", device="cpu")
    assert loaded.log_ent_coef.item() == agent.log_ent_coef.item()
    assert loaded.log_ent_coef.requires_grad
    for name in ("actor.optimizer", "critic.optimizer", "ent_coef_optimizer"):
        sa, sb = agent.get_parameters()[name]["state"], loaded.get_parameters()[name]["state"]
        assert sa.keys() == sb.keys()
        for k in sa:
            torch.testing.assert_close(sa[k]["exp_avg"], sb[k]["exp_avg"])
    for p, q in zip(agent.critic_target.parameters(), loaded.critic_target.parameters()):
        assert torch.equal(p, q)
    loaded.learn(20, reset_num_timesteps=False)  # continues with the fast optimiser path


def test_multi_env_and_action_noise():
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.noise import NormalActionNoise

    env = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    agent = SAC("MlpPolicy", env, seed=0, device="cpu", learning_starts=10, batch_size=8,
                action_noise=NormalActionNoise(np.zeros(1), 0.1 * np.ones(1)),
                policy_kwargs=dict(net_arch=[8])).learn(40)
    assert agent.num_timesteps == 40 and agent._n_updates > 0
    assert np.all(np.abs(agent.replay_buffer.actions[:20]) <= 1)


def test_sac_learns_pendulum_quickly():
    # CI-sized: a random policy scores about -1200 to -1800 on Pendulum; after 4k steps
    # with small networks, SAC (RL-Zoo's learning rate) swings up (seed 0: about -200)
    torch.set_num_threads(1)
    agent = SAC("MlpPolicy", "Pendulum-v1", learning_rate=1e-3, batch_size=64, seed=0,
                device="cpu", policy_kwargs=dict(net_arch=[64, 64])).learn(4000)
    env = gym.make("Pendulum-v1")
    env.reset(seed=123)
    mean, _ = evaluate_policy(agent, env, n_eval_episodes=5, deterministic=True)
    assert mean > -600


def test_gsde_log_prob_noise_and_gradients():
    env = gym.make("Pendulum-v1")
    actor = SquashedGaussianActor(env.observation_space, env.action_space, [16],
                                  use_sde=True, log_std_init=-1.0)
    ref = SB3SAC("MlpPolicy", "Pendulum-v1", use_sde=True, device="cpu",
                 policy_kwargs=dict(net_arch=[16]))
    assert actor.log_std.shape == ref.actor.log_std.shape == (16, 1)
    assert isinstance(actor.mu[1], torch.nn.Hardtanh)  # clip_mean=2.0
    obs = torch.as_tensor(np.stack([env.observation_space.sample() for _ in range(32)]))
    actor.reset_noise()
    actions, log_prob = actor.action_log_prob(obs)
    # by hand: z = last hidden layer, u = mu + z @ (E * sigma), scale^2 = z^2 @ sigma^2
    with torch.no_grad():
        z = actor.latent_pi(obs)
        mean = actor.mu(z)
        sigma = actor.log_std.exp()
        u = mean + z @ (actor._noise * sigma)
        scale = torch.sqrt(z.square() @ sigma.square() + 1e-6)
        direct = (torch.distributions.Normal(mean, scale).log_prob(u).sum(-1)
                  - torch.log(1 - torch.tanh(u) ** 2).sum(-1))
    torch.testing.assert_close(actions.detach(), torch.tanh(u))
    torch.testing.assert_close(log_prob.detach(), direct, rtol=1e-4, atol=1e-4)
    # the noise is fixed until reset_noise, and gradients reach log_std through it
    torch.testing.assert_close(actor(obs).detach(), actions.detach())
    actions.sum().backward()
    assert actor.log_std.grad is not None and actor.log_std.grad.abs().sum() > 0
    actor.reset_noise(batch_size=4)  # one matrix per env for a batch of 4
    per_env = actor(obs[:4]).detach()
    single = actor(obs[:1]).detach()
    assert not torch.allclose(per_env[0], single[0])


def test_sac_with_gsde_trains_and_round_trips(tmp_path):
    agent = SAC("MlpPolicy", "Pendulum-v1", use_sde=True, sde_sample_freq=4, seed=0,
                device="cpu", learning_starts=20, batch_size=16,
                policy_kwargs=dict(net_arch=[16])).learn(60)
    assert agent.actor.use_sde and agent._n_updates > 0
    before = agent.actor.log_std.detach().clone()
    agent.learn(20, reset_num_timesteps=False)
    assert not torch.equal(before, agent.actor.log_std)
    agent.save(tmp_path / "sde")
    loaded = SAC.load(tmp_path / "sde", device="cpu")
    assert torch.equal(loaded.actor.log_std, agent.actor.log_std)


def test_set_parameters_partial_temperature_state():
    # SB3's test_save_load drops the last tensor of every group with exact_match=False
    agent = SAC("MlpPolicy", "Pendulum-v1", seed=0, device="cpu",
                policy_kwargs=dict(net_arch=[8]))
    before = agent.log_ent_coef.item()
    agent.set_parameters({"log_ent_coef": {}}, exact_match=False)
    assert agent.log_ent_coef.item() == before
    agent.set_parameters({"log_ent_coef": {"log_ent_coef": torch.tensor([0.5])}},
                         exact_match=False)
    assert agent.log_ent_coef.item() == 0.5 and agent.log_ent_coef.requires_grad
    with pytest.raises(RuntimeError, match="Unexpected"):
        agent.set_parameters({"log_ent_coef": {"alpha": torch.tensor([0.5])}},
                             exact_match=False)
