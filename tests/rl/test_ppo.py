"""PPO (chapter 32): the clipped loss and its gradient against a hand computation on a
hand-made batch, value clipping, the KL early stop, schedules, SB3's signature, bad input."""

import inspect
import math

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO as SB3PPO

from mlnotes.rl import PPO
from mlnotes.rl.common import LinearSchedule
from mlnotes.rl.policy_gradient import _ppo

# probability ratios pi/pi_old of the hand-made batch: inside and outside [0.8, 1.2]
RATIOS = np.array([0.5, 0.85, 0.95, 1.0, 1.05, 1.15, 1.3, 2.0])
ADVANTAGES = np.array([1.0, -1.0, 2.0, -0.5, 1.5, -2.0, 0.7, -1.2])


def make_agent(**kwargs):
    params = dict(n_steps=len(RATIOS), batch_size=len(RATIOS), n_epochs=1,
                  learning_rate=0.05, max_grad_norm=None, clip_range=0.2,
                  normalize_advantage=False, ent_coef=0.01, vf_coef=0.7, seed=0,
                  device="cpu",
                  policy_kwargs=dict(optimizer_class=torch.optim.SGD, net_arch=[8]))
    params.update(kwargs)
    return PPO("MlpPolicy", "CartPole-v1", **params)


def forward(policy, obs):
    """Logits and values by the modules (not the agent's functional fast path)."""
    h = policy.shared_net(obs)
    return (policy.action_net(policy.policy_net(h)),
            policy.value_net(policy.value_net_body(h)).squeeze(-1))


def fill_buffer(agent, ratios=RATIOS, advantages=ADVANTAGES, value_offsets=None):
    """Write a hand-made rollout whose old log-probabilities give the wanted ratios."""
    rng = np.random.default_rng(0)
    n = len(ratios)
    obs = rng.normal(size=(n, 1, 4)).astype(np.float32)
    actions = rng.integers(0, 2, size=(n, 1))
    with torch.no_grad():
        logits, values = forward(agent.policy, torch.as_tensor(obs[:, 0]))
        logp = torch.distributions.Categorical(logits=logits).log_prob(
            torch.as_tensor(actions[:, 0])).numpy()
    offsets = rng.normal(size=n) if value_offsets is None else np.asarray(value_offsets)
    old_values = values.numpy() + offsets
    buf = agent.rollout_buffer
    buf.reset()
    buf.observations[:n] = obs
    buf.actions[:n] = actions
    buf.values[:n, 0] = old_values
    buf.log_probs[:n, 0] = logp - np.log(ratios)
    buf.advantages[:n, 0] = advantages
    buf.returns[:n, 0] = advantages + old_values
    buf.pos = n
    return (torch.as_tensor(obs[:, 0]), torch.as_tensor(actions[:, 0]),
            torch.as_tensor(buf.log_probs[:n, 0].copy()),
            torch.as_tensor(buf.values[:n, 0].copy()),
            torch.as_tensor(buf.advantages[:n, 0].copy()),
            torch.as_tensor(buf.returns[:n, 0].copy()))


@pytest.mark.parametrize("clip_range_vf", [None, 0.1])
@pytest.mark.parametrize("normalize_advantage", [False, True])
def test_one_step_equals_hand_computed_clipped_loss(clip_range_vf, normalize_advantage):
    """One full-batch SGD step of PPO = p - lr * grad of the clipped loss written here
    with torch.distributions (ratios inside and outside the clip range, both signs of
    the advantage; value clipping with old values on both sides of the prediction)."""
    lr, clip, vf_coef, ent_coef = 0.05, 0.2, 0.7, 0.01
    agent = make_agent(clip_range_vf=clip_range_vf, normalize_advantage=normalize_advantage)
    offsets = [-0.3, -0.05, 0.02, 0.2, 0.5, -0.15, 0.08, -1.0]
    obs, actions, old_logp, old_values, adv, returns = fill_buffer(agent,
                                                                   value_offsets=offsets)
    policy = agent.policy
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    agent.train()
    after = {k: v.clone() for k, v in policy.state_dict().items()}
    policy.load_state_dict(before)

    logits, values = forward(policy, obs)
    dist = torch.distributions.Categorical(logits=logits)
    ratio = torch.exp(dist.log_prob(actions) - old_logp)
    np.testing.assert_allclose(ratio.detach().numpy(), RATIOS, rtol=1e-5)
    if normalize_advantage:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)
    if clip_range_vf is not None:
        values = old_values + torch.clamp(values - old_values, -clip_range_vf, clip_range_vf)
    loss = (-surrogate.mean() + vf_coef * ((returns - values) ** 2).mean()
            - ent_coef * dist.entropy().mean())
    named = dict(policy.named_parameters())
    grads = torch.autograd.grad(loss, list(named.values()))
    for (name, p), g in zip(named.items(), grads):
        torch.testing.assert_close(after[name], p.detach() - lr * g, rtol=1e-5, atol=1e-7)
    logged = agent.logger.name_to_value
    assert logged["train/clip_fraction"] == pytest.approx(3 / 8)  # 0.5, 1.3, 2.0
    kl = np.mean((RATIOS - 1) - np.log(RATIOS))
    assert logged["train/approx_kl"] == pytest.approx(kl, rel=1e-4)
    assert logged["train/loss"] == pytest.approx(loss.item(), rel=1e-5)
    assert logged["train/clip_range"] == 0.2 and agent._n_updates == 1
    assert ("train/clip_range_vf" in logged) == (clip_range_vf is not None)


@pytest.mark.parametrize("ratio, advantage", [(1.5, 1.0), (0.5, -1.0)])
def test_clipped_terms_have_zero_gradient(ratio, advantage):
    """Past the clip range in the direction the advantage favours the surrogate is flat:
    with no value and entropy terms the policy does not move; on the other side of the
    range (the min picks the unclipped term) it does."""
    n = len(RATIOS)
    agent = make_agent(vf_coef=0.0, ent_coef=0.0)
    fill_buffer(agent, ratios=np.full(n, ratio), advantages=np.full(n, advantage))
    before = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    agent.train()
    assert all(torch.equal(before[k], v) for k, v in agent.policy.state_dict().items())
    assert agent.logger.name_to_value["train/clip_fraction"] == 1.0
    fill_buffer(agent, ratios=np.full(n, ratio), advantages=np.full(n, -advantage))
    agent.train()
    assert not torch.equal(before["action_net.weight"],
                           agent.policy.state_dict()["action_net.weight"])


def test_kl_early_stop():
    """A minibatch whose approximate KL exceeds 1.5 * target_kl is not applied and ends
    the update; below the threshold every epoch runs."""
    n = len(RATIOS)
    kl = (2.0 - 1) - math.log(2.0)  # ratios of 2: approx KL 0.307
    agent = make_agent(n_epochs=3, target_kl=0.2)  # threshold 0.3 < 0.307
    fill_buffer(agent, ratios=np.full(n, 2.0))
    before = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    agent.train()
    assert all(torch.equal(before[k], v) for k, v in agent.policy.state_dict().items())
    assert agent._n_updates == 1
    assert agent.logger.name_to_value["train/approx_kl"] == pytest.approx(kl, rel=1e-5)
    agent = make_agent(n_epochs=3, target_kl=0.21, learning_rate=1e-4)  # threshold 0.315
    fill_buffer(agent, ratios=np.full(n, 2.0))
    agent.train()
    assert agent._n_updates == 3
    # in a real run: the first minibatch (ratios 1, KL 0) is applied, the next stops
    agent = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=16, target_kl=1e-6,
                seed=0, device="cpu").learn(64)
    assert agent._n_updates == 1
    assert agent.logger.name_to_value["train/approx_kl"] > 1.5e-6
    agent = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=16, n_epochs=4, seed=0,
                device="cpu").learn(64)
    assert agent._n_updates == 4


def test_clip_range_schedule_and_logged_keys():
    agent = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=16, n_epochs=2,
                clip_range=LinearSchedule(0.3, 0.1), clip_range_vf=0.5, seed=0,
                device="cpu").learn(64)
    logged = agent.logger.name_to_value
    # the last update happens at progress_remaining = 0 (64 of 64 steps): 0.1
    assert logged["train/clip_range"] == pytest.approx(0.1)
    assert logged["train/clip_range_vf"] == pytest.approx(0.5)
    assert agent.clip_range(1.0) == pytest.approx(0.3)
    assert {"train/entropy_loss", "train/policy_gradient_loss", "train/value_loss",
            "train/approx_kl", "train/clip_fraction", "train/loss",
            "train/explained_variance", "train/n_updates"} <= set(logged)
    assert agent.get_params()["clip_range"] == LinearSchedule(0.3, 0.1)


def test_box_actions_same_seed_same_result():
    def run(seed):
        return PPO("MlpPolicy", "Pendulum-v1", n_steps=64, batch_size=32, n_epochs=2,
                   clip_range_vf=0.2, target_kl=0.05, seed=seed, device="cpu").learn(128)

    a, b, c = run(1), run(1), run(2)
    sa, sb, sc = (m.policy.state_dict() for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert "train/std" in a.logger.name_to_value


def test_signature_and_defaults_are_sb3s():
    ours = inspect.signature(PPO.__init__).parameters
    ref = inspect.signature(SB3PPO.__init__).parameters
    assert list(ours) == list(ref)
    for name, p in ref.items():
        assert ours[name].default == p.default, name
    learn = inspect.signature(PPO.learn).parameters
    ref_learn = inspect.signature(SB3PPO.learn).parameters
    assert {k: v.default for k, v in learn.items()} == \
        {k: v.default for k, v in ref_learn.items()}


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=1), "batch_size must be greater than 1"),
    (dict(batch_size=0, normalize_advantage=False), "batch_size"),
    (dict(n_epochs=0), "n_epochs"),
    (dict(clip_range=-0.1), "clip_range"),
    (dict(clip_range="0.2"), "clip_range"),
    (dict(clip_range_vf=0.0), "clip_range_vf"),
    (dict(target_kl=-1.0), "target_kl"),
    (dict(n_steps=1, batch_size=2), "n_steps \\* n_envs must be greater than 1"),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PPO("MlpPolicy", "CartPole-v1", **kwargs)


def test_minibatch_size_not_dividing_the_rollout_warns():
    with pytest.warns(UserWarning, match="does not divide"):
        PPO("MlpPolicy", "CartPole-v1", n_steps=100, batch_size=64)


@pytest.mark.skipif("use_sde" in _ppo._BASE_PARAMS, reason="the shared base has gSDE")
def test_use_sde_without_shared_support_raises():
    with pytest.raises(ValueError, match="gSDE"):
        PPO("MlpPolicy", "Pendulum-v1", use_sde=True)


def test_rollout_buffer_class_is_used():
    from mlnotes.rl.common import RolloutBuffer

    class MyBuffer(RolloutBuffer):
        def __init__(self, *args, marker=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.marker = marker

    agent = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=16,
                rollout_buffer_class=MyBuffer, rollout_buffer_kwargs=dict(marker=7),
                seed=0, device="cpu").learn(32)
    assert type(agent.rollout_buffer) is MyBuffer and agent.rollout_buffer.marker == 7


def test_nan_loss_raises_naming_the_loss():
    agent = make_agent()
    fill_buffer(agent, advantages=np.full(len(RATIOS), np.nan))
    with pytest.raises(FloatingPointError, match="loss"):
        agent.train()
