"""Fisher-vector products, conjugate gradient and the KL step (chapters 28 and 32).

A small categorical policy network in float64: the Fisher matrix built column by column
from the Fisher-vector product must equal the exact Fisher information
``E_s sum_a pi(a|s) grad log pi(a|s) grad log pi(a|s)^T`` computed by enumerating the
actions, and conjugate gradient must agree with ``torch.linalg.solve``.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mlnotes.rl.common._natural import (  # noqa: E402
    conjugate_gradient,
    fisher_vector_product,
    flat_grad,
    get_flat_params,
    natural_step_size,
    set_flat_params,
)

N_STATES, OBS_DIM, N_ACTIONS = 6, 3, 3


@pytest.fixture
def policy():
    gen = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(OBS_DIM, 4), torch.nn.Tanh(), torch.nn.Linear(4, N_ACTIONS)
        ).double()
    obs = torch.randn(N_STATES, OBS_DIM, generator=gen, dtype=torch.float64)
    return net, obs


def _mean_kl_fn(net, obs):
    """KL(pi_old || pi_theta) averaged over the states, pi_old a detached copy."""
    with torch.no_grad():
        old_logp = torch.log_softmax(net(obs), dim=-1)

    def kl():
        logp = torch.log_softmax(net(obs), dim=-1)
        return (old_logp.exp() * (old_logp - logp)).sum(-1).mean()

    return kl


def _exact_fisher(net, obs):
    """E_s sum_a pi(a|s) g g^T with g = grad log pi(a|s), by enumeration."""
    params = list(net.parameters())
    n = sum(p.numel() for p in params)
    F = torch.zeros(n, n, dtype=torch.float64)
    logp = torch.log_softmax(net(obs), dim=-1)
    for s in range(obs.shape[0]):
        for a in range(N_ACTIONS):
            g = flat_grad(logp[s, a], params, retain_graph=True)
            F += logp[s, a].exp().detach() * torch.outer(g, g)
    return F / obs.shape[0]


def _fisher_from_products(fvp, n):
    return torch.stack([fvp(torch.eye(n, dtype=torch.float64)[i]) for i in range(n)], 1)


def test_flat_params_round_trip(policy):
    net, _ = policy
    params = list(net.parameters())
    flat = get_flat_params(params)
    assert flat.shape == (sum(p.numel() for p in params),)
    new = torch.arange(flat.numel(), dtype=torch.float64)
    set_flat_params(params, new)
    torch.testing.assert_close(get_flat_params(params), new)
    torch.testing.assert_close(params[0].detach().reshape(-1)[:3], new[:3])
    with pytest.raises(ValueError, match="flat must be"):
        set_flat_params(params, new[:-1])


def test_flat_grad_matches_autograd_and_zero_for_unused(policy):
    net, obs = policy
    extra = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    params = list(net.parameters()) + [extra]
    loss = net(obs).pow(2).sum()
    g = flat_grad(loss, params, retain_graph=True)
    loss.backward()
    expected = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    torch.testing.assert_close(g[:-2], expected)
    torch.testing.assert_close(g[-2:], torch.zeros(2, dtype=torch.float64))


def test_fisher_vector_product_equals_exact_fisher(policy):
    net, obs = policy
    params = list(net.parameters())
    n = sum(p.numel() for p in params)
    fvp = fisher_vector_product(_mean_kl_fn(net, obs), params)
    F_products = _fisher_from_products(fvp, n)
    F_exact = _exact_fisher(net, obs)
    torch.testing.assert_close(F_products, F_exact, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(F_products, F_products.T, rtol=1e-9, atol=1e-12)
    # damping adds damping * v
    fvp_d = fisher_vector_product(_mean_kl_fn(net, obs), params, damping=0.1)
    v = torch.linspace(-1, 1, n, dtype=torch.float64)
    torch.testing.assert_close(fvp_d(v), F_exact @ v + 0.1 * v, rtol=1e-9, atol=1e-12)


def test_conjugate_gradient_solves_damped_fisher_system(policy):
    net, obs = policy
    params = list(net.parameters())
    n = sum(p.numel() for p in params)
    damping = 1e-2
    fvp = fisher_vector_product(_mean_kl_fn(net, obs), params, damping=damping)
    # g: a policy-gradient-like vector (gradient of a surrogate on the same states)
    logp = torch.log_softmax(net(obs), dim=-1)
    adv = torch.linspace(-1, 1, N_STATES * N_ACTIONS, dtype=torch.float64)
    g = flat_grad((logp.exp().detach() * logp * adv.view(N_STATES, N_ACTIONS)).sum(),
                  params)
    A = _exact_fisher(net, obs) + damping * torch.eye(n, dtype=torch.float64)
    x_direct = torch.linalg.solve(A, g)
    x_cg = conjugate_gradient(fvp, g, n_iters=10 * n, residual_tol=1e-24)
    torch.testing.assert_close(x_cg, x_direct, rtol=1e-6, atol=1e-8)
    # the default 10 iterations already give a good descent direction
    x10 = conjugate_gradient(fvp, g)
    assert torch.dot(x10, g) > 0
    assert torch.linalg.norm(A @ x10 - g) < torch.linalg.norm(g)


def test_conjugate_gradient_on_explicit_spd_matrix():
    gen = torch.Generator().manual_seed(1)
    M = torch.randn(8, 8, generator=gen, dtype=torch.float64)
    A = M @ M.T + 0.5 * torch.eye(8, dtype=torch.float64)
    b = torch.randn(8, generator=gen, dtype=torch.float64)
    x = conjugate_gradient(lambda p: A @ p, b, n_iters=50, residual_tol=1e-28)
    torch.testing.assert_close(x, torch.linalg.solve(A, b), rtol=1e-9, atol=1e-11)
    # a zero right-hand side stops at once with x = 0
    torch.testing.assert_close(conjugate_gradient(lambda p: A @ p, 0 * b), 0 * b)


@pytest.mark.parametrize("max_kl", [1e-4, 1e-3])
def test_natural_step_reaches_the_kl_radius(policy, max_kl):
    net, obs = policy
    params = list(net.parameters())
    fvp = fisher_vector_product(_mean_kl_fn(net, obs), params)
    kl_fn = _mean_kl_fn(net, obs)  # frozen at theta_old
    x = torch.linspace(-1, 1, sum(p.numel() for p in params), dtype=torch.float64)
    beta = natural_step_size(x, fvp(x), max_kl)
    # closed form of the quadratic model: 1/2 beta^2 x^T F x = max_kl
    assert 0.5 * beta**2 * float(x @ fvp(x)) == pytest.approx(max_kl, rel=1e-12)
    theta_old = get_flat_params(params)
    set_flat_params(params, theta_old + beta * x)
    with torch.no_grad():
        kl = float(kl_fn())
    assert kl == pytest.approx(max_kl, rel=0.05)


def test_natural_step_size_edge_cases():
    z = torch.zeros(3, dtype=torch.float64)
    assert natural_step_size(z, z, 0.01) == 0.0
    x = torch.ones(3, dtype=torch.float64)
    assert natural_step_size(x, 2 * x, 0.03) == pytest.approx(np.sqrt(2 * 0.03 / 6))
    with pytest.raises(ValueError, match="max_kl"):
        natural_step_size(x, x, 0.0)
