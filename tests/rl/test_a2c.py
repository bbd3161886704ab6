"""A2C (chapter 29): the loss against a hand computation, options, a CI-sized learning run."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import A2C
from mlnotes.rl.common import LinearSchedule


class Snapshot(BaseCallback):
    """Keep the policy and the rollout as they are just before ``train()``."""

    def _on_step(self):
        return True

    def _on_rollout_end(self):
        buf = self.model.rollout_buffer
        self.state = {k: v.clone() for k, v in self.model.policy.state_dict().items()}
        self.arrays = {k: getattr(buf, k).copy()
                       for k in ("observations", "actions", "rewards", "dones")}
        self.last_obs = np.array(self.model._last_obs)


@pytest.mark.parametrize("ent_coef", [0.0, 0.05])
@pytest.mark.parametrize("n_steps", [1, 5])
def test_one_update_equals_hand_computed_sgd_step(ent_coef, n_steps):
    """The update is one SGD step on -A log pi + c_v (R - V)^2 - c_e H, computed here
    independently (torch.distributions, n-step returns by an explicit loop)."""
    gamma, lr, vf_coef = 0.9, 0.05, 0.7
    # episodes cut at 3 steps: the rollout holds episode ends (truncations, so the
    # stored rewards already carry the gamma * V(terminal) bootstrap)
    env = make_vec_env("CartPole-v1", n_envs=3, seed=0, env_kwargs=dict(max_episode_steps=3))
    agent = A2C("MlpPolicy", env, n_steps=n_steps, gamma=gamma, learning_rate=lr,
                ent_coef=ent_coef, vf_coef=vf_coef, max_grad_norm=None, use_rms_prop=False,
                policy_kwargs=dict(optimizer_class=torch.optim.SGD, net_arch=[8]),
                seed=0, device="cpu")
    # a few updates first so that the critic is not trivially zero
    agent.learn(3 * n_steps * 5)
    snap = Snapshot()
    agent.learn(3 * n_steps, callback=snap, reset_num_timesteps=False)
    assert snap.arrays["dones"].any()
    policy = agent.policy
    trained = {k: v.clone() for k, v in policy.state_dict().items()}
    policy.load_state_dict(snap.state)
    obs = torch.as_tensor(snap.arrays["observations"])
    acts = torch.as_tensor(snap.arrays["actions"])
    rewards, dones = snap.arrays["rewards"], snap.arrays["dones"]
    T, n = rewards.shape

    def forward(o):
        h = policy.shared_net(o.reshape(-1, 4))
        return policy.action_net(policy.policy_net(h)), policy.value_net(policy.value_net_body(h))

    with torch.no_grad():
        _, last_v = forward(torch.as_tensor(snap.last_obs))
        _, v_old = forward(obs)
    last_v, v_old = last_v.numpy().ravel(), v_old.numpy().reshape(T, n)
    # n-step returns bootstrapped at the rollout end, cut at episode ends
    returns = np.zeros((T, n))
    for e in range(n):
        acc = last_v[e]
        for t in reversed(range(T)):
            acc = rewards[t, e] + gamma * (0.0 if dones[t, e] else acc)
            returns[t, e] = acc
    advantages = torch.as_tensor((returns - v_old).ravel(), dtype=torch.float32)
    returns = torch.as_tensor(returns.ravel(), dtype=torch.float32)
    logits, values = forward(obs)
    dist = torch.distributions.Categorical(logits=logits)
    loss = (-(advantages * dist.log_prob(acts.reshape(-1))).mean()
            + vf_coef * ((returns - values.ravel()) ** 2).mean()
            - ent_coef * dist.entropy().mean())
    params = dict(policy.named_parameters())
    grads = torch.autograd.grad(loss, list(params.values()))
    for (name, p), g in zip(params.items(), grads):
        torch.testing.assert_close(trained[name], p.detach() - lr * g, rtol=1e-4, atol=1e-6)


def test_rmsprop_defaults_and_adam_option():
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    opt = agent.policy.optimizer
    assert isinstance(opt, torch.optim.RMSprop)
    group = opt.param_groups[0]
    assert (group["alpha"], group["eps"], group["weight_decay"], group["lr"]) == (
        0.99, 1e-5, 0, 7e-4)
    agent = A2C("MlpPolicy", "CartPole-v1", use_rms_prop=False, seed=0, device="cpu")
    assert isinstance(agent.policy.optimizer, torch.optim.Adam)
    assert agent.policy.optimizer.param_groups[0]["eps"] == 1e-5


def test_shared_and_separate_networks():
    separate = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu",
                   policy_kwargs=dict(net_arch=[32, 32]))
    shared = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu",
                 policy_kwargs=dict(net_arch=dict(shared=[32, 32], pi=[], vf=[])))
    n_sep = sum(p.numel() for p in separate.policy.parameters())
    n_sh = sum(p.numel() for p in shared.policy.parameters())
    trunk = 4 * 32 + 32 + 32 * 32 + 32
    assert n_sep - n_sh == trunk  # the critic's own copy of the trunk is gone
    before = [p.clone() for p in shared.policy.shared_net.parameters()]
    shared.learn(40)
    # the shared trunk is trained (by both losses)
    assert any(not torch.equal(a, b) for a, b in zip(before, shared.policy.shared_net.parameters()))
    assert len(list(shared.policy.value_net_body.parameters())) == 0
    with pytest.raises(ValueError, match="net_arch"):
        A2C("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=dict(actor=[4])))


def test_box_actions_on_pendulum():
    agent = A2C("MlpPolicy", "Pendulum-v1", seed=0, device="cpu", n_steps=8)
    assert agent.policy.log_std is not None and agent.policy.log_std.shape == (1,)
    agent.learn(200)
    actions, _ = agent.predict(np.stack([agent.observation_space.sample()] * 50))
    assert actions.shape == (50, 1) and np.all(np.abs(actions) <= 2.0)


def test_online_mode_and_options_run():
    agent = A2C("MlpPolicy", "CartPole-v1", n_steps=1, normalize_advantage=True,
                gae_lambda=0.9, ent_coef=0.01, learning_rate=LinearSchedule(1e-3, 0.0),
                seed=0, device="cpu")
    agent.learn(50)
    assert agent._n_updates == 50
    assert agent.policy.optimizer.param_groups[0]["lr"] < 1e-3
    assert agent.rollout_buffer.observations.shape == (1, 1, 4)


def test_truncated_episodes_are_bootstrapped():
    """A time limit is not a terminal state: the reward of the cut step gets gamma*V."""
    env = make_vec_env("CartPole-v1", n_envs=1, seed=0,
                       wrapper_kwargs=None, env_kwargs=dict(max_episode_steps=3))
    agent = A2C("MlpPolicy", env, n_steps=3, seed=0, device="cpu")
    snap = Snapshot()
    agent.learn(3, callback=snap)
    r = snap.arrays["rewards"][:, 0]
    assert snap.arrays["dones"][-1, 0]
    assert r[0] == 1.0 and r[1] == 1.0
    assert r[2] != 1.0  # 1 + gamma * V(terminal obs)


@pytest.mark.parametrize("bad", [dict(n_steps=0), dict(gamma=1.5), dict(gae_lambda=-0.1),
                                 dict(learning_rate=-1.0), dict(max_grad_norm=0.0),
                                 dict(ent_coef=float("nan")), dict(rms_prop_eps=0.0),
                                 dict(policy="CnnPolicy")])
def test_bad_hyperparameters(bad):
    kwargs = dict(policy="MlpPolicy", env="CartPole-v1")
    kwargs.update(bad)
    with pytest.raises(ValueError):
        A2C(**kwargs)


def test_diverging_training_raises():
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu", n_steps=4)
    with torch.no_grad():
        agent.policy.value_net.weight.fill_(float("nan"))
    with pytest.raises((FloatingPointError, ValueError), match="NaN|diverged"):
        agent.learn(40)


@pytest.mark.parametrize("seed", [0, 1])
def test_learns_cartpole(seed):
    """CI-sized learning run: 8 envs, 25k steps, default hyperparameters except
    gamma=0.98 (stable on CartPole, see the user guide); deterministic mean return
    >= 200 (random policy: ~20)."""
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    agent = A2C("MlpPolicy", env, seed=seed, device="cpu", gamma=0.98)
    agent.learn(25_000)
    eval_env = gym.make("CartPole-v1")
    eval_env.reset(seed=1000 + seed)
    mean, _ = evaluate_policy(agent, eval_env, n_eval_episodes=10, deterministic=True,
                              warn=False)
    assert mean >= 200


# ---------------------------------------------------------------- hot-path rewrites


def _module_forward(policy, obs):
    """The policy computed by calling its modules (the reference for the fast path)."""
    h = policy.shared_net(policy.preprocess_obs(obs))
    params = policy.action_net(policy.policy_net(h))
    values = policy.value_net(policy.value_net_body(h)).squeeze(-1)
    return params, values


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("policy_kwargs", [
    {}, dict(net_arch=dict(shared=[16], pi=[8], vf=[]), activation_fn=torch.nn.ReLU),
    dict(net_arch=dict(shared=[], pi=[], vf=[12]))])
def test_fast_forward_equals_module_calls(env_id, policy_kwargs):
    """The rollout/training forward (functional, in place under inference mode) gives
    what calling the modules gives, with and without a graph."""
    agent = A2C("MlpPolicy", env_id, seed=0, device="cpu", policy_kwargs=policy_kwargs)
    policy = agent.policy
    obs = torch.as_tensor(np.stack([agent.observation_space.sample() for _ in range(7)]))
    ref_params, ref_values = _module_forward(policy, obs)
    actions = torch.as_tensor(np.stack([agent.action_space.sample() for _ in range(7)]))
    ref_log_prob, ref_entropy = policy.distribution.log_prob_entropy(
        ref_params, policy.log_std, actions)
    values, log_prob, entropy = policy.evaluate_actions(obs, actions)
    torch.testing.assert_close(values, ref_values)
    torch.testing.assert_close(log_prob, ref_log_prob)
    torch.testing.assert_close(entropy, ref_entropy)
    assert values.requires_grad and log_prob.requires_grad
    torch.testing.assert_close(policy.predict_values(obs), ref_values)
    torch.testing.assert_close(policy.action_params(obs)[0], ref_params)
    with torch.inference_mode():
        act, v, lp = policy(obs, deterministic=True)
        torch.testing.assert_close(v, ref_values.detach())
        torch.testing.assert_close(act, policy.distribution.mode(ref_params.detach()))
        torch.testing.assert_close(
            lp, policy.distribution.log_prob_entropy(ref_params.detach(), policy.log_std,
                                                     act)[0])
        # the observations are not modified by the in-place activations
        before = obs.clone()
        policy(obs)
        torch.testing.assert_close(obs, before)


def test_set_training_mode_reaches_every_module():
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    policy = agent.policy
    policy.policy_net.append(torch.nn.Dropout(0.5))  # added after the first switch
    for mode in (True, False, True):
        policy.set_training_mode(mode)
        assert all(m.training is mode for m in policy.modules())

    class Custom(torch.nn.Module):  # overrides train(): the generic switch is used
        def train(self, mode=True):
            self.seen = mode
            return super().train(mode)

        def forward(self, x):
            return x

    policy.value_net_body.append(Custom())
    policy.set_training_mode(False)
    assert policy.value_net_body[-1].seen is False
    assert all(not m.training for m in policy.modules())


def test_categorical_sampling_frequencies():
    """Inverse-CDF sampling draws each action with its softmax probability, never one
    of probability zero, and reports the matching log-probabilities."""
    from mlnotes.rl.common.distributions import CategoricalDistribution
    dist = CategoricalDistribution(4)
    logits = torch.tensor([[0.3, -1.0, 2.0, 0.0], [0.0, -200.0, 1.0, -200.0]])
    n = 200_000
    torch.manual_seed(0)
    actions, log_prob = dist.sample(logits.repeat_interleave(n, 0))
    probs = torch.softmax(logits.double(), -1)
    for row in range(2):
        a = actions[row * n:(row + 1) * n]
        freq = torch.bincount(a, minlength=4).double() / n
        se = torch.sqrt(probs[row] * (1 - probs[row]) / n)
        assert torch.all((freq - probs[row]).abs() <= 5 * se + 1e-12), (freq, probs[row])
    assert torch.isfinite(log_prob).all()
    torch.testing.assert_close(
        log_prob, torch.log_softmax(logits, -1).repeat_interleave(n, 0).gather(
            -1, actions[:, None]).squeeze(-1))


def test_clip_and_explained_variance_helpers():
    from stable_baselines3.common.utils import explained_variance

    from mlnotes.rl.common._optim import explained_variance as _explained_variance
    from mlnotes.utils._torch import clip_gradients

    rng = np.random.default_rng(0)
    for max_norm in (0.1, 100.0):
        a = [torch.nn.Parameter(torch.zeros(s)) for s in ((3, 4), (5,), (2, 2))]
        b = [torch.nn.Parameter(torch.zeros(s)) for s in ((3, 4), (5,), (2, 2))]
        for p, q in zip(a, b):
            p.grad = torch.as_tensor(rng.normal(size=p.shape), dtype=torch.float32)
            q.grad = p.grad.clone()
        clip_gradients([p.grad for p in a], max_norm)
        torch.nn.utils.clip_grad_norm_(b, max_norm)
        for p, q in zip(a, b):
            torch.testing.assert_close(p.grad, q.grad)
    y_true = rng.normal(size=40).astype(np.float32)
    y_pred = (y_true + rng.normal(size=40)).astype(np.float32)
    assert _explained_variance(y_pred, y_true) == pytest.approx(
        explained_variance(y_pred, y_true), rel=1e-5)
    assert np.isnan(_explained_variance(y_pred, np.ones(40, np.float32)))


@pytest.mark.parametrize("options", [{}, dict(momentum=0.9), dict(centered=True)])
def test_rmsprop_fast_step_equals_torch_step(options):
    """The direct foreach RMSprop step gives torch's RMSprop's numbers exactly (and
    falls back to ``optimizer.step()`` for options it does not handle)."""
    from mlnotes.rl.common._optim import optimizer_step as _optimizer_step
    torch.manual_seed(0)
    nets = [torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
            for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    opts = [torch.optim.RMSprop(net.parameters(), lr=1e-2, alpha=0.99, eps=1e-5,
                                foreach=True, **options) for net in nets]
    for step in range(4):
        x = torch.randn(16, 4)
        for net, opt, fast in zip(nets, opts, (False, True)):
            opt.zero_grad()
            net(x).square().mean().backward()
            _optimizer_step(opt) if fast else opt.step()
        for a, b in zip(*(net.parameters() for net in nets)):
            assert torch.equal(a, b)
    for a, b in zip(*(opt.state_dict()["state"].values() for opt in opts)):
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_buffer_advantages_equal_compute_gae():
    from gymnasium import spaces

    from mlnotes.rl.common.buffers import RolloutBuffer
    from mlnotes.rl.common.returns import compute_gae
    rng = np.random.default_rng(1)
    buf = RolloutBuffer(6, spaces.Box(-1, 1, (3,)), spaces.Discrete(2), gamma=0.9,
                        gae_lambda=0.8, n_envs=4)
    dones = rng.random((6, 4)) < 0.3
    for t in range(6):
        buf.add(rng.normal(size=(4, 3)), rng.integers(0, 2, 4), rng.normal(size=4), dones[t],
                rng.normal(size=4), rng.normal(size=4))
    last_v, last_d = rng.normal(size=4), rng.random(4) < 0.5
    buf.compute_returns_and_advantage(torch.as_tensor(last_v), dones=last_d)
    adv, ret = compute_gae(buf.rewards, buf.values, buf.dones, last_v.astype(np.float32),
                           last_dones=last_d, gamma=0.9, gae_lambda=0.8)
    np.testing.assert_allclose(buf.advantages, adv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(buf.returns, ret, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- VecNormalize


def test_vec_normalize_save_load_and_eval_sync(tmp_path):
    """Trained on a VecNormalize env, saved (agent zip + VecNormalize.save), loaded
    (VecNormalize.load + A2C.load): identical predictions; EvalCallback syncs the
    normalisation statistics into its eval env (SB3's sync_envs_normalization)."""
    from stable_baselines3.common.callbacks import EvalCallback
    from stable_baselines3.common.vec_env import VecNormalize

    n_envs, n_steps, n_updates = 4, 5, 6
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=n_envs, seed=0))
    eval_env = VecNormalize(make_vec_env("CartPole-v1", n_envs=1, seed=1), training=False,
                            norm_reward=False)
    agent = A2C("MlpPolicy", env, n_steps=n_steps, seed=0, device="cpu")
    assert agent.get_vec_normalize_env() is env
    # the last evaluation happens at the last step: the statistics are synced then
    callback = EvalCallback(eval_env, eval_freq=n_steps * n_updates, n_eval_episodes=2,
                            warn=False, verbose=0)
    agent.learn(n_envs * n_steps * n_updates, callback=callback)
    assert callback.n_calls == n_steps * n_updates and callback.last_mean_reward > 0
    assert np.any(env.obs_rms.mean != 0)
    np.testing.assert_array_equal(eval_env.obs_rms.mean, env.obs_rms.mean)
    np.testing.assert_array_equal(eval_env.obs_rms.var, env.obs_rms.var)

    agent.save(tmp_path / "agent")
    env.save(tmp_path / "vecnormalize.pkl")
    new_env = VecNormalize.load(tmp_path / "vecnormalize.pkl",
                                make_vec_env("CartPole-v1", n_envs=n_envs, seed=5))
    new_env.training, new_env.norm_reward = False, False
    loaded = A2C.load(tmp_path / "agent", env=new_env, device="cpu")
    assert loaded.get_vec_normalize_env() is new_env
    np.testing.assert_array_equal(new_env.obs_rms.mean, env.obs_rms.mean)
    raw = np.stack([env.observation_space.sample() for _ in range(32)])
    raw = np.clip(raw, -3, 3)
    expected = agent.predict(env.normalize_obs(raw), deterministic=True)[0]
    np.testing.assert_array_equal(
        loaded.predict(new_env.normalize_obs(raw), deterministic=True)[0], expected)
    # and it keeps learning with the restored statistics
    new_env.training = True
    loaded.learn(n_envs * n_steps, reset_num_timesteps=False)
