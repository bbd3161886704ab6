"""TRPO (chapter 32): one update against an explicit Fisher matrix and a hand-run line
search, the backtracking line search on constructed cases, the KL, sb3-contrib's
signature, bad input."""

import inspect

import numpy as np
import pytest
import torch
from sb3_contrib import TRPO as ContribTRPO

from mlnotes.rl import TRPO
from mlnotes.rl.policy_gradient._trpo import backtracking_line_search, mean_kl

N = 16


def fill_buffer(agent, advantages):
    """A hand-made rollout collected by the current policy (ratios 1)."""
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(N, 1, 4)).astype(np.float32)
    actions = rng.integers(0, 2, size=(N, 1))
    policy = agent.policy
    with torch.no_grad():
        _, logp, _ = policy.evaluate_actions(torch.as_tensor(obs[:, 0]),
                                             torch.as_tensor(actions[:, 0]))
    buf = agent.rollout_buffer
    buf.reset()
    buf.observations[:N] = obs
    buf.actions[:N] = actions
    buf.log_probs[:N, 0] = logp.numpy()
    buf.values[:N, 0] = rng.normal(size=N)
    buf.advantages[:N, 0] = advantages
    buf.returns[:N, 0] = buf.values[:N, 0] + advantages
    buf.pos = N
    return obs[:, 0].astype(np.float64), actions[:, 0]


def make_agent(**kwargs):
    params = dict(n_steps=N, batch_size=N, cg_max_steps=100, n_critic_updates=0,
                  normalize_advantage=False, seed=0, device="cpu",
                  policy_kwargs=dict(net_arch=dict(pi=[3], vf=[3])))
    params.update(kwargs)
    return TRPO("MlpPolicy", "CartPole-v1", **params)


@pytest.mark.parametrize("sub_sampling_factor", [1, 2])
def test_update_equals_explicit_natural_step_and_line_search(sub_sampling_factor):
    """The actor moves to theta + 0.8^k beta x, with x = (F + lambda I)^-1 g solved
    exactly from the Fisher matrix built here from the logits' Jacobian (float64), beta
    = sqrt(2 delta / x'(F + lambda I)x), and k the first candidate whose exact KL is
    below delta and whose surrogate improves (computed here too)."""
    delta, damping = 0.01, 0.1
    agent = make_agent(target_kl=delta, cg_damping=damping,
                       sub_sampling_factor=sub_sampling_factor)
    rng = np.random.default_rng(2)
    adv = rng.normal(size=N)
    obs, actions = fill_buffer(agent, adv)
    obs, actions = obs[::sub_sampling_factor], actions[::sub_sampling_factor]
    adv = torch.as_tensor(adv[::sub_sampling_factor])
    policy = agent.policy
    names = ["policy_net.0.weight", "policy_net.0.bias", "action_net.weight",
             "action_net.bias"]
    assert [n for n, _ in policy.named_parameters() if not n.startswith("value")] == names
    state = policy.state_dict()
    theta0 = torch.cat([state[n].double().reshape(-1) for n in names])
    obs_t, act_t = torch.as_tensor(obs), torch.as_tensor(actions)

    def logits(theta):
        w1, b1 = theta[:12].reshape(3, 4), theta[12:15]
        w2, b2 = theta[15:21].reshape(2, 3), theta[21:23]
        return torch.tanh(obs_t @ w1.T + b1) @ w2.T + b2

    old_logp_all = torch.log_softmax(logits(theta0), -1)
    old_logp = old_logp_all.gather(1, act_t[:, None]).squeeze(1)

    def surrogate(theta):
        logp = torch.log_softmax(logits(theta), -1).gather(1, act_t[:, None]).squeeze(1)
        return (torch.exp(logp - old_logp) * adv).mean()

    def kl(theta):
        p_old = old_logp_all.exp()
        return (p_old * (old_logp_all - torch.log_softmax(logits(theta), -1))).sum(1).mean()

    g = torch.autograd.functional.jacobian(surrogate, theta0)
    J = torch.autograd.functional.jacobian(logits, theta0)  # (n, 2, 23)
    p = old_logp_all.exp()
    M = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    F = torch.einsum("nap,nab,nbq->pq", J, M, J) / len(obs)
    torch.testing.assert_close(F, torch.autograd.functional.hessian(kl, theta0),
                               rtol=1e-6, atol=1e-9)  # Fisher = Hessian of the KL
    A = F + damping * torch.eye(23, dtype=torch.float64)
    x = torch.linalg.solve(A, g)
    beta = torch.sqrt(2 * delta / (x @ A @ x))
    coef, expected = 1.0, theta0
    for _ in range(10):
        cand = theta0 + coef * beta * x
        if kl(cand) < delta and surrogate(cand) > surrogate(theta0):
            expected = cand
            break
        coef *= 0.8
    assert coef == 1.0 and kl(expected) < 0.99 * delta  # the full step, clear of the edge

    agent.train()
    new = agent.policy.state_dict()
    got = torch.cat([new[n].double().reshape(-1) for n in names])
    torch.testing.assert_close(got, expected, rtol=2e-3, atol=2e-5)
    logged = agent.logger.name_to_value
    assert logged["train/is_line_search_success"] == 1.0
    assert logged["train/kl_divergence_loss"] == pytest.approx(kl(expected).item(), rel=1e-3)
    assert logged["train/step_size"] == pytest.approx(beta.item(), rel=1e-3)


def test_rejected_step_leaves_the_actor_and_critic_moves_alone():
    """Zero advantages: no direction improves the surrogate, the line search rejects
    every candidate and the actor keeps its parameters; the critic's epochs move the
    value parameters only."""
    agent = make_agent(n_critic_updates=3, batch_size=4)
    fill_buffer(agent, np.zeros(N))
    before = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    agent.train()
    after = agent.policy.state_dict()
    for name in before:
        same = torch.equal(before[name], after[name])
        assert same != name.startswith("value_net"), name
    logged = agent.logger.name_to_value
    assert logged["train/is_line_search_success"] == 0.0
    assert logged["train/kl_divergence_loss"] == 0.0


def test_line_search_on_a_constructed_case():
    """objective t - 10 t^2, KL t^2, radius 0.25, halving: t = 1 (KL 1) and 0.5 (KL 0.25,
    not below) break the constraint, 0.25 and 0.125 lower the objective, 0.0625 is the
    first accepted; with 4 candidates only, nothing is accepted."""
    def evaluate(theta):
        t = float(theta[0])
        return t - 10 * t * t, t * t

    theta0, step = torch.zeros(1), torch.ones(1)
    theta, ok, objective, kl = backtracking_line_search(evaluate, theta0, step, 0.0, 0.25,
                                                        shrinking_factor=0.5, max_iter=10)
    assert ok and float(theta[0]) == 0.0625
    assert objective == pytest.approx(0.0625 - 10 * 0.0625 ** 2) and kl == 0.0625 ** 2
    theta, ok, objective, kl = backtracking_line_search(evaluate, theta0, step, 0.0, 0.25,
                                                        shrinking_factor=0.5, max_iter=4)
    assert not ok and theta is theta0 and objective == 0.0 and kl == 0.0


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_mean_kl_matches_torch_distributions(env_id):
    agent = TRPO("MlpPolicy", env_id, n_steps=8, batch_size=8, seed=0, device="cpu",
                 policy_kwargs=dict(log_std_init=-0.3) if env_id == "Pendulum-v1" else None)
    policy = agent.policy
    obs = torch.as_tensor(np.stack([agent.observation_space.sample() for _ in range(10)]))
    with torch.no_grad():
        old = tuple(None if t is None else t.clone() for t in policy.action_params(obs))
        for p in policy.parameters():
            p.add_(0.1 * torch.randn_like(p))
        new = policy.action_params(obs)
        if env_id == "CartPole-v1":
            d_old = torch.distributions.Categorical(logits=old[0])
            d_new = torch.distributions.Categorical(logits=new[0])
        else:
            d_old = torch.distributions.Normal(old[0], old[1].exp())
            d_new = torch.distributions.Normal(new[0], new[1].exp())
        ref = torch.distributions.kl_divergence(d_old, d_new)
        ref = ref.sum(-1) if ref.ndim == 2 else ref
        assert mean_kl(policy, obs, old).item() == pytest.approx(ref.mean().item(), rel=1e-5)


def test_signature_and_defaults_are_sb3_contribs():
    ours = inspect.signature(TRPO.__init__).parameters
    ref = inspect.signature(ContribTRPO.__init__).parameters
    assert list(ours) == list(ref)
    for name, p in ref.items():
        assert ours[name].default == p.default, name


def test_same_seed_same_result_box():
    def run(seed):
        return TRPO("MlpPolicy", "Pendulum-v1", n_steps=64, batch_size=32,
                    n_critic_updates=2, seed=seed, device="cpu").learn(128)

    a, b, c = run(1), run(1), run(2)
    sa, sb, sc = (m.policy.state_dict() for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size"),
    (dict(cg_max_steps=0), "cg_max_steps"),
    (dict(cg_damping=-1.0), "cg_damping"),
    (dict(line_search_shrinking_factor=1.0), "line_search_shrinking_factor"),
    (dict(line_search_shrinking_factor=0.0), "line_search_shrinking_factor"),
    (dict(line_search_max_iter=0), "line_search_max_iter"),
    (dict(target_kl=0.0), "target_kl"),
    (dict(sub_sampling_factor=0), "sub_sampling_factor"),
    (dict(n_critic_updates=-1), "n_critic_updates"),
    (dict(use_sde=True), "use_sde"),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TRPO("MlpPolicy", "CartPole-v1", **kwargs)
