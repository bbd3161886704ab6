"""NPG (chapter 28): the natural direction against a direct solve with the exact Fisher
matrix, the KL of a step against the radius, the update rule. The checks NPG shares with
REINFORCE (bad arguments, divergence, Dict observations, the CI-sized learning run) are
in test_reinforce_npg_common.py."""

import numpy as np
import pytest
import torch

from mlnotes.rl import NPG
from mlnotes.rl.common._natural import get_flat_params


def collected(agent):
    """Fill the agent's rollout buffer with one batch (no update)."""
    _, callback = agent._setup_learn(agent.n_steps * agent.n_envs)
    assert agent.collect_rollouts(agent.env, callback, agent.rollout_buffer, agent.n_steps)
    batch = next(agent.rollout_buffer.get())
    adv = batch.advantages
    return batch, (adv - adv.mean()) / (adv.std() + 1e-8)


def exact_fisher(policy, obs, params):
    """E_s sum_a pi(a|s) grad log pi(a|s) grad log pi(a|s)^T by enumerating actions."""
    n = sum(p.numel() for p in params)
    F = torch.zeros(n, n, dtype=torch.float64)
    logits, _ = policy.action_params(obs)
    logp = torch.log_softmax(logits, -1)
    for s in range(obs.shape[0]):
        for a in range(logp.shape[1]):
            g = torch.autograd.grad(logp[s, a], params, retain_graph=True)
            g = torch.cat([x.reshape(-1) for x in g]).double()
            F += logp[s, a].exp().item() * torch.outer(g, g)
    return F / obs.shape[0]


def test_cg_direction_matches_direct_solve():
    agent = NPG("MlpPolicy", "CartPole-v1", n_steps=64, cg_iters=60, cg_damping=0.1,
                policy_kwargs=dict(net_arch=[4]), seed=0, device="cpu")
    batch, adv = collected(agent)
    params = agent.actor_parameters()
    assert sum(p.numel() for p in params) == 30
    g, x, beta = agent.natural_direction(batch.observations, batch.actions, adv)
    # independent gradient and Fisher matrix
    _, log_prob, _ = agent.policy.evaluate_actions(batch.observations, batch.actions)
    g_ref = torch.cat([t.reshape(-1) for t in torch.autograd.grad(
        (log_prob * adv).mean(), params)]).double()
    F = exact_fisher(agent.policy, batch.observations, params)
    A = F + 0.1 * torch.eye(F.shape[0], dtype=torch.float64)
    x_ref = torch.linalg.solve(A, g_ref)
    np.testing.assert_allclose(g.double().numpy(), g_ref.numpy(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(x.double().numpy(), x_ref.numpy(), rtol=2e-3,
                               atol=2e-3 * x_ref.abs().max().item())
    beta_ref = np.sqrt(2 * agent.target_kl / (x_ref @ A @ x_ref).item())
    np.testing.assert_allclose(beta, beta_ref, rtol=2e-3)
    # the natural direction is not the plain gradient direction
    cos = torch.nn.functional.cosine_similarity(x_ref, g_ref, dim=0).item()
    assert cos < 0.99


@pytest.mark.parametrize("target_kl", [0.005, 0.02])
def test_kl_of_a_step_is_close_to_the_radius(target_kl):
    """KL(pi_old || pi_new) measured on the batch after the update (torch.distributions)
    is the radius to second order: within a factor of 1.5 (little damping)."""
    agent = NPG("MlpPolicy", "CartPole-v1", n_steps=256, target_kl=target_kl,
                cg_damping=1e-3, cg_iters=20, seed=0, device="cpu")
    batch, _ = collected(agent)
    with torch.no_grad():
        old = torch.distributions.Categorical(
            logits=agent.policy.action_params(batch.observations)[0])
    agent.train()
    with torch.no_grad():
        new = torch.distributions.Categorical(
            logits=agent.policy.action_params(batch.observations)[0])
    kl = torch.distributions.kl_divergence(old, new).mean().item()
    assert target_kl / 1.5 < kl < 1.5 * target_kl


def test_update_is_the_natural_step_and_the_critic_fits():
    """train() moves the actor by exactly beta * x; the critic's epochs move only the
    critic and lower its error."""
    agent = NPG("MlpPolicy", "CartPole-v1", n_steps=128, seed=0, device="cpu")
    batch, adv = collected(agent)
    params = agent.actor_parameters()
    before = get_flat_params(params)
    _, x, beta = agent.natural_direction(batch.observations, batch.actions, adv)
    with torch.no_grad():
        err_before = (agent.policy.predict_values(batch.observations)
                      - batch.returns).square().mean().item()
    agent.train()
    np.testing.assert_allclose(get_flat_params(params).numpy(), (before + beta * x).numpy(),
                               rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        err_after = (agent.policy.predict_values(batch.observations)
                     - batch.returns).square().mean().item()
    assert err_after < 0.95 * err_before


def test_gaussian_kl_matches_torch_distributions():
    agent = NPG("MlpPolicy", "Pendulum-v1", n_steps=32, seed=0, device="cpu")
    batch, _ = collected(agent)
    obs = batch.observations
    with torch.no_grad():
        mean, log_std = agent.policy.action_params(obs)
        old = (mean.clone(), log_std.clone())
        agent.policy.action_net.bias.add_(0.3)
        agent.policy.log_std.add_(-0.2)
        mean2, log_std2 = agent.policy.action_params(obs)
        ours = agent.mean_kl(obs, old).item()
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(old[0], old[1].exp()),
        torch.distributions.Normal(mean2, log_std2.exp())).sum(-1).mean().item()
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_box_actions_and_shared_trunk_run():
    agent = NPG("MlpPolicy", "Pendulum-v1", n_steps=64, seed=0, device="cpu",
                policy_kwargs=dict(net_arch=dict(shared=[16], pi=[], vf=[])))
    agent.learn(128)
    assert agent.num_timesteps == 128
