"""REINFORCE (chapter 28): the estimator against closed forms on an enumerated tabular MDP,
the optimal baseline, discount placement, importance weights. The checks REINFORCE shares
with NPG (bad arguments, divergence, Dict observations, the CI-sized learning run) are in
test_reinforce_npg_common.py."""

import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from mlnotes.rl import REINFORCE

# A 2-state, 2-action MDP with a fixed horizon H: s_0 = 0, stochastic transitions.
H, GAMMA = 3, 0.8
P = np.array([[[0.7, 0.3], [0.2, 0.8]],   # P[s, a, s']
              [[0.5, 0.5], [0.9, 0.1]]])
R = np.array([[1.0, 0.0], [-0.5, 2.0]])   # R[s, a]


class TinyMDP(gym.Env):
    observation_space = spaces.Discrete(2)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s, self.t = 0, 0
        return self.s, {}

    def step(self, action):
        r = R[self.s, action]
        self.s = int(self.np_random.choice(2, p=P[self.s, action]))
        self.t += 1
        return self.s, r, self.t >= H, False, {}


def trajectories():
    """Every (states, actions, rewards, transition probability) of the MDP."""
    for acts in itertools.product((0, 1), repeat=H):
        for nxt in itertools.product((0, 1), repeat=H - 1):
            states = (0,) + nxt
            prob = np.prod([P[states[t], acts[t], states[t + 1]] for t in range(H - 1)])
            yield states, acts, [R[s, a] for s, a in zip(states, acts)], prob


def tabular_agent(**kwargs):
    """Linear softmax policy on one-hot states: logits W[:, s] + b (tabular)."""
    params = dict(n_steps=H, gamma=GAMMA, normalize_advantage=False, n_critic_updates=0,
                  policy_kwargs=dict(net_arch=dict(pi=[], vf=[])), seed=0, device="cpu")
    params.update(kwargs)
    agent = REINFORCE("MlpPolicy", TinyMDP(), **params)
    with torch.no_grad():  # a policy far from uniform, so that the test is not trivial
        agent.policy.action_net.weight.copy_(torch.tensor([[0.3, -0.4], [-0.2, 0.5]]))
        agent.policy.action_net.bias.copy_(torch.tensor([0.1, -0.1]))
    return agent


class GradRecorder:
    """Stands in for the optimiser: keeps the actor's gradient instead of stepping."""

    def __init__(self, policy):
        self.policy = policy
        self.param_groups = [{}]
        self.grads = []

    def zero_grad(self, set_to_none=True):
        self.policy.zero_grad(set_to_none=True)

    def step(self):
        net = self.policy.action_net
        self.grads.append(torch.cat([net.weight.grad.reshape(-1),
                                     net.bias.grad.reshape(-1)]).double().clone())


def fill(agent, states, acts, rewards, dones=None, episode_step=0):
    """Put one batch into the rollout buffer as the rollout loop would."""
    buf = agent.rollout_buffer
    buf.reset()
    n = len(states)
    dones = [False] * (n - 1) + [True] if dones is None else dones
    with torch.no_grad():
        obs = torch.as_tensor(np.asarray(states))
        values, log_prob, _ = agent.policy.evaluate_actions(obs, torch.as_tensor(acts))
    for t in range(n):
        buf.add(np.array([states[t]]), np.array([acts[t]]), np.array([rewards[t]]),
                np.array([dones[t]]), values[t:t + 1].numpy(), log_prob[t:t + 1].numpy())
    agent._last_obs = np.array([0])
    agent._episode_step = np.array([episode_step])


def loss_gradient(agent, states, acts, rewards):
    """The gradient of the agent's loss on a batch holding one trajectory."""
    recorder = GradRecorder(agent.policy)
    agent.policy.optimizer = recorder
    fill(agent, states, acts, rewards)
    agent.train()
    return recorder.grads[0]


def exact_gradient(agent):
    """grad of J = E[sum_t gamma^t r_t] by autograd through the enumerated expectation."""
    net = agent.policy.action_net
    W = net.weight.detach().double().clone().requires_grad_(True)
    b = net.bias.detach().double().clone().requires_grad_(True)
    logp = torch.log_softmax(W.T + b, dim=-1)  # logp[s, a]
    J = 0.0
    for states, acts, rewards, prob in trajectories():
        p_pi = torch.exp(sum(logp[s, a] for s, a in zip(states, acts)))
        J = J + prob * p_pi * sum(GAMMA ** t * r for t, r in enumerate(rewards))
    J.backward()
    return torch.cat([W.grad.reshape(-1), b.grad.reshape(-1)])


def expected_loss_gradient(agent):
    """E_tau[grad loss(tau)] and the estimator's variance, by enumeration."""
    net = agent.policy.action_net
    with torch.no_grad():
        logp = torch.log_softmax(net.weight.T.double() + net.bias.double(), -1).numpy()
    grads, probs = [], []
    for states, acts, rewards, prob in trajectories():
        probs.append(prob * np.exp(sum(logp[s, a] for s, a in zip(states, acts))))
        grads.append(loss_gradient(agent, states, acts, rewards))
    probs = torch.tensor(probs, dtype=torch.float64)
    grads = torch.stack(grads)
    assert abs(probs.sum().item() - 1) < 1e-9
    mean = (probs[:, None] * grads).sum(0)
    var = (probs[:, None] * (grads - mean).square()).sum()
    return mean, var.item()


@pytest.mark.parametrize("kwargs", [
    dict(reward_to_go=True, discount_gradient=True, baseline=None),
    dict(reward_to_go=False, baseline=None),
    dict(reward_to_go=True, discount_gradient=True, baseline="value"),
])
def test_expected_gradient_equals_policy_gradient(kwargs):
    """Over all trajectories, the loss gradient averages to -grad J / H (the loss is a
    mean over the H steps of the batch): the estimator is unbiased, also with a critic
    baseline (any function of the state)."""
    agent = tabular_agent(**kwargs)
    if kwargs["baseline"] == "value":
        with torch.no_grad():  # a baseline that is far from zero and state dependent
            agent.policy.value_net.weight.copy_(torch.tensor([[3.0, -2.0]]))
    mean, _ = expected_loss_gradient(agent)
    exact = exact_gradient(agent)
    assert exact.abs().max() > 0.05
    np.testing.assert_allclose(mean.numpy(), -exact.numpy() / H, rtol=1e-5, atol=1e-7)


def test_undiscounted_placement_is_biased_for_the_discounted_objective():
    agent = tabular_agent(reward_to_go=True, discount_gradient=False, baseline=None)
    mean, _ = expected_loss_gradient(agent)
    exact = exact_gradient(agent)
    assert np.abs(mean.numpy() + exact.numpy() / H).max() > 1e-3


def test_reward_to_go_same_mean_lower_variance():
    """Exact mean and variance over the enumerated trajectories: the causality trick
    keeps the expectation and lowers the variance."""
    mean_rtg, var_rtg = expected_loss_gradient(
        tabular_agent(reward_to_go=True, discount_gradient=True, baseline=None))
    mean_full, var_full = expected_loss_gradient(
        tabular_agent(reward_to_go=False, baseline=None))
    np.testing.assert_allclose(mean_rtg.numpy(), mean_full.numpy(), rtol=1e-5, atol=1e-7)
    assert var_rtg < 0.9 * var_full


def test_reward_to_go_lower_variance_by_simulation():
    """Same comparison by sampling (fixed seed), as in the notes' experiment."""
    rng = np.random.default_rng(0)
    agents = {rtg: tabular_agent(reward_to_go=rtg, discount_gradient=rtg, baseline=None)
              for rtg in (True, False)}
    net = agents[True].policy.action_net
    with torch.no_grad():
        pi = torch.softmax(net.weight.T + net.bias, -1).numpy()
    samples = {True: [], False: []}
    for _ in range(300):
        s, states, acts, rewards = 0, [], [], []
        for t in range(H):
            a = rng.choice(2, p=pi[s])
            states.append(s), acts.append(a), rewards.append(R[s, a])
            s = rng.choice(2, p=P[s, a])
        for rtg, agent in agents.items():
            samples[rtg].append(loss_gradient(agent, states, acts, rewards).numpy())
    var = {k: np.var(np.stack(v), axis=0).sum() for k, v in samples.items()}
    assert var[True] < var[False]


def test_optimal_baseline_closed_form():
    """b = sum_i |g_i|^2 R_i / sum_i |g_i|^2 with per-step scores computed by autograd
    one sample at a time (independently of the agent's vmap)."""
    env = gym.make("CartPole-v1")
    agent = REINFORCE("MlpPolicy", env, n_steps=60, baseline="optimal",
                      normalize_advantage=False, policy_kwargs=dict(net_arch=[8]),
                      seed=0, device="cpu")
    agent.learn(60)  # fills the buffer (and trains once)
    buf = agent.rollout_buffer
    agent._episode_step = np.zeros(1, dtype=np.int64)
    w = agent._batch_weights()
    obs, acts = torch.as_tensor(buf.observations[:, 0]), torch.as_tensor(buf.actions[:, 0])
    adv = agent._advantages(w, obs, acts).numpy()
    policy = agent.policy
    actor = [p for n, p in policy.named_parameters() if not n.startswith("value_net")]
    sq = []
    for i in range(len(obs)):
        _, lp, _ = policy.evaluate_actions(obs[i:i + 1], acts[i:i + 1])
        g = torch.autograd.grad(lp.sum(), actor, allow_unused=True)
        sq.append(sum(0.0 if x is None else x.double().square().sum().item() for x in g))
    sq, ret = np.array(sq), w["returns"][:, 0].astype(np.float64)
    b = (sq * ret).sum() / sq.sum()
    assert abs(b - ret.mean()) > 1e-3  # differs from the mean baseline
    np.testing.assert_allclose(float(agent._last_baseline), b, rtol=1e-4)
    np.testing.assert_allclose(adv, ret - b, rtol=1e-4, atol=1e-4)


def test_optimal_baseline_whole_episode_runs():
    agent = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, baseline="optimal",
                      reward_to_go=False, seed=0, device="cpu").learn(128)
    assert np.isfinite(float(agent._last_baseline))


def test_discount_placement_hand_computed():
    """rewards (1, 2, 3), gamma 0.5, one episode: reward-to-go (2.75, 3.5, 3);
    discount_gradient=True multiplies by gamma^t: (2.75, 1.75, 0.75)."""
    for discount, expected in ((False, [2.75, 3.5, 3.0]), (True, [2.75, 1.75, 0.75])):
        agent = tabular_agent(gamma=0.5, baseline=None, discount_gradient=discount)
        fill(agent, [0, 1, 0], [0, 1, 1], [1.0, 2.0, 3.0])
        w = agent._batch_weights()
        obs = torch.as_tensor(agent.rollout_buffer.observations[:3, 0])
        adv = agent._advantages(w, obs, torch.as_tensor([0, 1, 1]))
        np.testing.assert_allclose(adv.numpy(), expected, rtol=1e-6)
    # whole-episode return: every step weighted by 1 + 0.5 * 2 + 0.25 * 3 = 2.75
    agent = tabular_agent(gamma=0.5, baseline=None, reward_to_go=False)
    fill(agent, [0, 1, 0], [0, 1, 1], [1.0, 2.0, 3.0])
    adv = agent._advantages(agent._batch_weights(), None, None)
    np.testing.assert_allclose(adv.numpy(), [2.75] * 3, rtol=1e-6)


def test_discount_counts_steps_from_the_episode_start_across_batches():
    """An episode begun 2 steps before the batch: its steps are t = 2, 3; after its end
    the next episode starts at t = 0; the count carries to the next batch."""
    agent = tabular_agent(gamma=0.5, baseline=None, discount_gradient=True, n_steps=3)
    fill(agent, [0, 1, 0], [0, 1, 1], [1.0, 1.0, 1.0], dones=[False, True, False],
         episode_step=2)
    w = agent._batch_weights()
    np.testing.assert_array_equal(w["t_index"][:, 0], [2, 3, 0])
    np.testing.assert_array_equal(agent._episode_step, [1])
    adv = agent._advantages(w, None, None).numpy()
    # reward-to-go (1.5, 1, 1) (last episode cut, no critic) times gamma^t
    np.testing.assert_allclose(adv, [1.5 * 0.25, 1.0 * 0.125, 1.0], rtol=1e-6)


def test_importance_weights_products_up_to_t():
    agent = tabular_agent()
    # two envs, 4 steps; env 0: episode ends at t=1; env 1: one episode
    ratios = np.array([[2.0, 0.5], [3.0, 2.0], [0.5, 1.0], [4.0, 3.0]])
    first = np.array([[0, 0], [0, 0], [2, 0], [2, 0]])
    old = torch.zeros(8)
    weights = agent.importance_weights(torch.log(torch.tensor(ratios.reshape(-1))).float(),
                                       old, first).numpy().reshape(4, 2)
    expected = np.array([[2.0, 0.5], [6.0, 1.0], [0.5, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
    agent.max_importance_weight = 2.5
    clipped = agent.importance_weights(torch.log(torch.tensor(ratios.reshape(-1))).float(),
                                       old, first).numpy().reshape(4, 2)
    np.testing.assert_allclose(clipped, np.minimum(expected, 2.5), rtol=1e-6)


def test_importance_weights_are_one_in_the_first_epoch():
    seen = []

    class Recording(REINFORCE):
        def importance_weights(self, log_prob, old_log_prob, first):
            w = super().importance_weights(log_prob, old_log_prob, first)
            seen.append(w.clone())
            return w

    agent = Recording("MlpPolicy", "CartPole-v1", n_steps=100, n_epochs=3, seed=0,
                      learning_rate=3e-3, device="cpu")
    agent.learn(100)
    assert len(seen) == 3
    np.testing.assert_allclose(seen[0].numpy(), 1.0, atol=1e-5)
    assert (seen[1] - 1).abs().max() > 1e-3
    assert (seen[2] - 1).abs().max() > (seen[1] - 1).abs().max() * 0.5


@pytest.mark.parametrize("baseline", [None, "mean", "optimal", "value"])
def test_options_run_on_box_actions(baseline):
    agent = REINFORCE("MlpPolicy", "Pendulum-v1", n_steps=50, baseline=baseline,
                      n_epochs=2, max_importance_weight=5.0, n_critic_updates=2,
                      seed=0, device="cpu")
    agent.learn(100)
    assert agent.num_timesteps == 100


def test_critic_epochs_move_only_the_critic():
    """The extra critic epochs leave the actor where the policy step put it and lower
    the critic's error on the batch."""
    def run(n_critic_updates):
        agent = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=200, seed=0, device="cpu",
                          learning_rate=3e-3, n_critic_updates=n_critic_updates)
        agent.learn(200)
        buf = agent.rollout_buffer
        obs = torch.as_tensor(buf.observations[:, 0])
        agent._episode_step = np.zeros(1, dtype=np.int64)
        targets = agent._batch_weights()["targets"][:, 0]
        with torch.no_grad():
            err = (agent.policy.predict_values(obs).numpy() - targets) ** 2
        actor = {k: v for k, v in agent.policy.state_dict().items()
                 if not k.startswith("value_net")}
        return actor, err.mean()

    actor0, err0 = run(0)
    actor5, err5 = run(5)
    assert all(torch.equal(actor0[k], actor5[k]) for k in actor0)
    assert err5 < 0.8 * err0
