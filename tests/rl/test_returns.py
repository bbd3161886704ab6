"""Returns, reward-to-go, n-step targets, GAE and the optimal baseline (chapters 28-29).

Known answers are written out by hand (the arithmetic is in the comments); GAE is
compared with Stable-Baselines3's ``RolloutBuffer.compute_returns_and_advantage``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlnotes.rl.common.returns import (
    compute_gae,
    discounted_returns,
    episode_starts_to_dones,
    n_step_returns,
    optimal_baseline,
    reward_to_go,
)

F, T = False, True


def _random_rollout(rng, n_steps=16, n_envs=4, p_done=0.2):
    rewards = rng.normal(size=(n_steps, n_envs))
    values = rng.normal(size=(n_steps, n_envs))
    dones = rng.random((n_steps, n_envs)) < p_done
    last_values = rng.normal(size=n_envs)
    return rewards, values, dones, last_values


def _mc_returns_bruteforce(rewards, dones, last_values, gamma):
    """Discounted return from each step by an explicit forward sum (no recursion)."""
    n_steps, n_envs = rewards.shape
    out = np.zeros_like(rewards)
    for e in range(n_envs):
        for t in range(n_steps):
            total, disc = 0.0, 1.0
            for k in range(t, n_steps):
                total += disc * rewards[k, e]
                disc *= gamma
                if dones[k, e]:
                    break
            else:
                total += disc * last_values[e]
            out[t, e] = total
    return out


# ------------------------------------------------------------------ reward-to-go


def test_reward_to_go_hand_computed():
    # gamma = 0.5: [1 + 0.5*2 + 0.25*3, 2 + 0.5*3, 3] = [2.75, 3.5, 3]
    out = reward_to_go([1.0, 2.0, 3.0], [F, F, F], gamma=0.5)
    np.testing.assert_allclose(out, [1 + 1 + 0.75, 2 + 1.5, 3])
    # a bootstrap value 8 after the last step adds 0.5^3*8, 0.5^2*8, 0.5*8
    out = reward_to_go([1.0, 2.0, 3.0], [F, F, F], gamma=0.5, last_values=[8.0])
    np.testing.assert_allclose(out, [2.75 + 1, 3.5 + 2, 3 + 4])
    # a done at step 1 cuts the sum: [1 + 0.5*2, 2, 3 + 0.5*8]
    out = reward_to_go([1.0, 2.0, 3.0], [F, T, F], gamma=0.5, last_values=[8.0])
    np.testing.assert_allclose(out, [2.0, 2.0, 7.0])
    # a done on the last step: no bootstrap
    out = reward_to_go([1.0, 2.0, 3.0], [F, F, T], gamma=0.5, last_values=[8.0])
    np.testing.assert_allclose(out, [2.75, 3.5, 3.0])


def test_reward_to_go_several_envs():
    rewards = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    dones = np.array([[F, T], [T, F], [F, F]])
    # env 0, gamma 1: episode {0, 1} -> [3, 2]; step 2 open -> 3 + 100
    # env 1: episode {0} -> 10; episode {1, 2} open -> [20 + 30 + 200, 30 + 200]
    out = reward_to_go(rewards, dones, gamma=1.0, last_values=[100.0, 200.0])
    np.testing.assert_allclose(out, [[3.0, 10.0], [2.0, 250.0], [103.0, 230.0]])


def test_reward_to_go_matches_bruteforce():
    rng = np.random.default_rng(0)
    r, _, d, lv = _random_rollout(rng)
    np.testing.assert_allclose(
        reward_to_go(r, d, gamma=0.9, last_values=lv),
        _mc_returns_bruteforce(r, d, lv, 0.9), rtol=1e-12,
    )
    np.testing.assert_allclose(
        reward_to_go(r, d, gamma=0.9),
        _mc_returns_bruteforce(r, d, np.zeros(r.shape[1]), 0.9), rtol=1e-12,
    )


# ------------------------------------------------------------ discounted returns


def test_discounted_returns_hand_computed():
    # episode {0, 1, 2}: 1 + 0.5*2 + 0.25*3 = 2.75 on each of its steps;
    # episode {3, 4} cut by the rollout's end: 4 + 0.5*5 = 6.5
    out = discounted_returns([1.0, 2.0, 3.0, 4.0, 5.0], [F, F, T, F, F], gamma=0.5)
    np.testing.assert_allclose(out, [2.75, 2.75, 2.75, 6.5, 6.5])


def test_discounted_returns_several_envs():
    rewards = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [1.0, 4.0]])
    dones = np.array([[T, F], [F, F], [T, T], [F, F]])
    # env 0: {0} -> 1; {1, 2} -> 2; {3} -> 1.  env 1: {0,1,2} -> 6; {3} -> 4.
    out = discounted_returns(rewards, dones)
    np.testing.assert_allclose(out, [[1, 6], [2, 6], [2, 6], [1, 4]])


def test_discounted_returns_equal_reward_to_go_at_episode_starts():
    rng = np.random.default_rng(1)
    r, _, d, _ = _random_rollout(rng)
    whole = discounted_returns(r, d, gamma=0.95)
    rtg = reward_to_go(r, d, gamma=0.95)
    starts = np.vstack([np.ones((1, r.shape[1]), bool), d[:-1]])
    np.testing.assert_allclose(whole[starts], rtg[starts], rtol=1e-12)
    # constant within each episode
    same_episode = ~d[:-1]
    np.testing.assert_array_equal(whole[1:][same_episode], whole[:-1][same_episode])


# --------------------------------------------------------------------------- GAE


def test_gae_hand_computed():
    # gamma = 0.5, lambda = 0.5, one env, no done, last value 4
    # deltas: t2: 3 + 0.5*4 - 2 = 3;  t1: 2 + 0.5*2 - 1 = 2;  t0: 1 + 0.5*1 - 0 = 1.5
    # A2 = 3;  A1 = 2 + 0.25*3 = 2.75;  A0 = 1.5 + 0.25*2.75 = 2.1875
    adv, ret = compute_gae([1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [F, F, F], [4.0],
                           gamma=0.5, gae_lambda=0.5)
    np.testing.assert_allclose(adv, [2.1875, 2.75, 3.0])
    np.testing.assert_allclose(ret, [2.1875, 3.75, 5.0])
    # a done at t1: delta1 = 2 - 1 = 1, A1 = 1 (nothing from t2); A0 = 1.5 + 0.25
    adv, _ = compute_gae([1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [F, T, F], [4.0],
                         gamma=0.5, gae_lambda=0.5)
    np.testing.assert_allclose(adv, [1.75, 1.0, 3.0])


@pytest.mark.parametrize("gamma", [0.9, 1.0])
def test_gae_lambda_one_is_monte_carlo_minus_values(gamma):
    rng = np.random.default_rng(2)
    r, v, d, lv = _random_rollout(rng)
    adv, ret = compute_gae(r, v, d, lv, gamma=gamma, gae_lambda=1.0)
    mc = _mc_returns_bruteforce(r, d, lv, gamma)
    np.testing.assert_allclose(ret, mc, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(adv, mc - v, rtol=1e-10, atol=1e-12)


def test_gae_lambda_zero_is_td_error():
    rng = np.random.default_rng(3)
    r, v, d, lv = _random_rollout(rng)
    adv, _ = compute_gae(r, v, d, lv, gamma=0.9, gae_lambda=0.0)
    next_v = np.vstack([v[1:], lv[None]])
    np.testing.assert_allclose(adv, r + 0.9 * (1 - d) * next_v - v, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_matches_sb3_rollout_buffer(seed):
    th = pytest.importorskip("torch")
    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    n_steps, n_envs, gamma, lam = 12, 3, 0.97, 0.9
    rng = np.random.default_rng(seed)
    r, v, d, lv = _random_rollout(rng, n_steps, n_envs, p_done=0.25)
    buf = RolloutBuffer(n_steps, spaces.Box(-1, 1, (2,)), spaces.Discrete(2),
                        device="cpu", gae_lambda=lam, gamma=gamma, n_envs=n_envs)
    buf.reset()
    # float64 copies, so the comparison is not limited by SB3's float32 storage
    buf.rewards, buf.values = r.copy(), v.copy()
    buf.advantages = np.zeros_like(r)
    # SB3 layout: episode_starts[t + 1] == dones[t]; step 0's flag is never read
    buf.episode_starts = np.vstack([rng.random((1, n_envs)) < 0.5, d[:-1]]).astype(float)
    buf.compute_returns_and_advantage(th.as_tensor(lv), d[-1])
    adv, ret = compute_gae(r, v, d, lv, gamma=gamma, gae_lambda=lam)
    np.testing.assert_allclose(adv, buf.advantages, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, buf.returns, rtol=1e-12, atol=1e-12)
    # the SB3-layout conversion gives the same dones
    np.testing.assert_array_equal(episode_starts_to_dones(buf.episode_starts, d[-1]), d)
    # last_dones: OR-ed with dones[-1]; repeating it changes nothing
    adv2, _ = compute_gae(r, v, d, lv, last_dones=d[-1], gamma=gamma, gae_lambda=lam)
    np.testing.assert_array_equal(adv2, adv)


def test_gae_last_dones_is_ored_with_last_row():
    r = np.array([[1.0, 1.0]])
    v = np.zeros((1, 2))
    lv = np.array([5.0, 5.0])
    # only env 1 flagged through last_dones: its bootstrap is dropped
    adv, _ = compute_gae(r, v, [[F, F]], lv, last_dones=[F, T], gamma=1.0, gae_lambda=1.0)
    np.testing.assert_allclose(adv, [[6.0, 1.0]])


def test_float32_in_float32_out():
    r = np.ones((4, 2), np.float32)
    adv, ret = compute_gae(r, np.zeros_like(r), np.zeros((4, 2), bool),
                           np.zeros(2, np.float32))
    assert adv.dtype == ret.dtype == np.float32
    assert reward_to_go(r, np.zeros((4, 2), bool)).dtype == np.float32
    assert reward_to_go(r.astype(int), np.zeros((4, 2), bool)).dtype == np.float64


# ------------------------------------------------------------------- n-step returns


def test_n_step_hand_computed():
    r = [1.0, 2.0, 3.0, 4.0]
    v = [10.0, 20.0, 30.0, 40.0]
    # gamma 0.5, n 2, no done, last value 50:
    # t0: 1 + 0.5*2 + 0.25*30 = 9.5;  t1: 2 + 1.5 + 0.25*40 = 13.5
    # t2: 3 + 2 + 0.25*50 = 17.5;     t3 (rollout end): 4 + 0.5*50 = 29
    out = n_step_returns(r, v, [F, F, F, F], [50.0], gamma=0.5, n_steps=2)
    np.testing.assert_allclose(out, [9.5, 13.5, 17.5, 29.0])
    # done at t1: t0: 1 + 0.5*2 = 2 (no bootstrap); t1: 2
    out = n_step_returns(r, v, [F, T, F, F], [50.0], gamma=0.5, n_steps=2)
    np.testing.assert_allclose(out, [2.0, 2.0, 17.5, 29.0])


def test_n_step_one_is_td_target():
    rng = np.random.default_rng(4)
    r, v, d, lv = _random_rollout(rng)
    next_v = np.vstack([v[1:], lv[None]])
    np.testing.assert_allclose(
        n_step_returns(r, v, d, lv, gamma=0.9, n_steps=1), r + 0.9 * (1 - d) * next_v,
        rtol=1e-12,
    )


@pytest.mark.parametrize("n", [16, 17, 100])
def test_n_step_long_equals_gae_lambda_one(n):
    rng = np.random.default_rng(5)
    r, v, d, lv = _random_rollout(rng, n_steps=16)
    _, ret = compute_gae(r, v, d, lv, gamma=0.95, gae_lambda=1.0)
    np.testing.assert_allclose(n_step_returns(r, v, d, lv, gamma=0.95, n_steps=n), ret,
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_n_step_matches_bruteforce(n):
    rng = np.random.default_rng(6)
    r, v, d, lv = _random_rollout(rng, n_steps=9, n_envs=3, p_done=0.3)
    gamma, (T_, E) = 0.8, r.shape
    expected = np.zeros_like(r)
    for e in range(E):
        for t in range(T_):
            total = 0.0
            for k in range(n):
                total += gamma**k * r[t + k, e]
                if d[t + k, e]:
                    break
                if t + k == T_ - 1:  # rollout end inside the episode
                    total += gamma ** (k + 1) * lv[e]
                    break
                if k == n - 1:
                    total += gamma**n * v[t + n, e]
            expected[t, e] = total
    np.testing.assert_allclose(n_step_returns(r, v, d, lv, gamma=gamma, n_steps=n),
                               expected, rtol=1e-12)


# ------------------------------------------------------------------ properties




_floats = st.floats(-10, 10)
_pairs = st.integers(1, 8).flatmap(lambda n: st.tuples(
    arrays(np.float64, (2, n, 3), elements=_floats),  # two reward arrays
    arrays(np.float64, (2, n, 3), elements=_floats),  # two value arrays
    arrays(bool, (n, 3)),
    arrays(np.float64, (2, 3), elements=_floats),  # two last_values
))


@settings(max_examples=40, deadline=None)
@given(_pairs, st.floats(0, 1), st.floats(0, 1), st.floats(-3, 3))
def test_returns_are_linear_in_rewards_and_values(pair, gamma, lam, c):
    (r1, r2), (v1, v2), d, (lv1, lv2) = pair
    for fn in (
        lambda r, v, lv: compute_gae(r, v, d, lv, gamma=gamma, gae_lambda=lam)[0],
        lambda r, v, lv: n_step_returns(r, v, d, lv, gamma=gamma, n_steps=3),
        lambda r, v, lv: reward_to_go(r, d, gamma=gamma, last_values=lv),
        lambda r, v, lv: discounted_returns(r, d, gamma=gamma),
    ):
        lhs = fn(r1 + c * r2, v1 + c * v2, lv1 + c * lv2)
        rhs = fn(r1, v1, lv1) + c * fn(r2, v2, lv2)
        np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 10), st.integers(1, 3)),
              elements=st.floats(-100, 100)))
def test_undiscounted_reward_to_go_is_reversed_cumsum(r):
    out = reward_to_go(r, np.zeros(r.shape, bool), gamma=1.0)
    np.testing.assert_allclose(out, np.cumsum(r[::-1], axis=0)[::-1], rtol=1e-9, atol=1e-9)


_rollouts = st.integers(1, 8).flatmap(lambda n: st.tuples(
    arrays(np.float64, (n, 3), elements=_floats),
    arrays(np.float64, (n, 3), elements=_floats),
    arrays(bool, (n, 3)),
    arrays(np.float64, (3,), elements=_floats),
))


@settings(max_examples=30, deadline=None)
@given(_rollouts, st.floats(0, 1))
def test_one_dim_equals_single_env_column(a, gamma):
    r, v, d, lv = a
    adv2, ret2 = compute_gae(r[:, :1], v[:, :1], d[:, :1], lv[:1], gamma=gamma)
    adv1, ret1 = compute_gae(r[:, 0], v[:, 0], d[:, 0], lv[0], gamma=gamma)
    np.testing.assert_array_equal(adv1, adv2[:, 0])
    np.testing.assert_array_equal(ret1, ret2[:, 0])
    np.testing.assert_array_equal(n_step_returns(r[:, 0], v[:, 0], d[:, 0], lv[:1]),
                                  n_step_returns(r[:, :1], v[:, :1], d[:, :1], lv[:1])[:, 0])


# ------------------------------------------------------------- optimal baseline


def _policy_gradient_components(theta):
    """Exact enumeration for a softmax bandit: per action the score and probability."""
    p = np.exp(theta - theta.max())
    p /= p.sum()
    # d log pi(a) / d theta_j = 1[a = j] - p_j
    scores = np.eye(len(theta)) - p[None, :]
    return p, scores


def test_optimal_baseline_closed_form_on_discrete_example():
    theta = np.array([0.3, -0.2, 0.5])
    R = np.array([1.0, 4.0, -2.0])
    p, scores = _policy_gradient_components(theta)
    # closed form per parameter: b_j = sum_a p_a s_aj^2 R_a / sum_a p_a s_aj^2
    sq = scores**2
    closed = (p[:, None] * sq * R[:, None]).sum(0) / (p[:, None] * sq).sum(0)
    # brute force: minimise the exact variance of g_j(b) = s_aj (R_a - b) over a grid
    grid = np.linspace(-5, 5, 200001)
    for j in range(3):
        g = scores[:, j][:, None] * (R[:, None] - grid[None, :])
        var = (p[:, None] * g**2).sum(0) - ((p[:, None] * g).sum(0)) ** 2
        assert abs(grid[var.argmin()] - closed[j]) < 1e-4
    # the function, fed the exact distribution as a weighted sample (repeat by p)
    counts = np.array([3000, 5000, 2000])  # any sample: compare with its own average
    g_rep = np.repeat(sq, counts, axis=0)
    R_rep = np.repeat(R, counts)
    w = counts / counts.sum()
    expected = (w[:, None] * sq * R[:, None]).sum(0) / (w[:, None] * sq).sum(0)
    np.testing.assert_allclose(optimal_baseline(g_rep, R_rep), expected, rtol=1e-12)
    # scalar version: weights are the squared score norms
    norms = sq.sum(1)
    expected_scalar = (w * norms * R).sum() / (w * norms).sum()
    out = optimal_baseline(np.repeat(norms, counts), R_rep)
    assert out.shape == ()
    np.testing.assert_allclose(out, expected_scalar, rtol=1e-12)
    # and it minimises the exact total variance over all parameters
    total = sum(
        (p[:, None] * (scores[:, [j]] * (R[:, None] - grid))**2).sum(0)
        - ((p[:, None] * scores[:, [j]] * (R[:, None] - grid)).sum(0))**2
        for j in range(3)
    )
    exact_scalar = (p * norms * R).sum() / (p * norms).sum()
    assert abs(grid[total.argmin()] - exact_scalar) < 1e-4


def test_optimal_baseline_lowers_gradient_variance_on_a_bandit():
    rng = np.random.default_rng(0)
    theta = np.array([2.0, 0.0, -1.0])
    p, scores = _policy_gradient_components(theta)
    mean_reward = np.array([1.0, 5.0, 0.0])
    n_batches, batch = 2000, 16
    est = {"mean": [], "optimal": []}
    for _ in range(n_batches):
        a = rng.choice(3, size=batch, p=p)
        R = mean_reward[a] + rng.normal(size=batch)
        s = scores[a]
        for name, b in (("mean", R.mean()),
                        ("optimal", optimal_baseline((s**2).sum(1), R))):
            est[name].append((s * (R - b)[:, None]).mean(0))
    var = {k: np.var(np.array(v), axis=0).sum() for k, v in est.items()}
    assert var["optimal"] < 0.9 * var["mean"], var
    # both stay unbiased-ish (same mean gradient within noise)
    np.testing.assert_allclose(np.mean(est["optimal"], 0), np.mean(est["mean"], 0),
                               atol=0.05)


def test_optimal_baseline_zero_weights_fall_back_to_mean():
    np.testing.assert_allclose(optimal_baseline([0.0, 0.0], [1.0, 3.0]), 2.0)


# -------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, match", [
    (lambda: reward_to_go([1.0, np.nan], [F, F]), "rewards contains NaN"),
    (lambda: reward_to_go([1.0, 2.0], [F, F, F]), "dones must have the shape"),
    (lambda: reward_to_go([1.0, 2.0], [0, 2]), "dones must be booleans"),
    (lambda: reward_to_go(np.ones((2, 2, 2)), np.zeros((2, 2, 2))), "rewards must have"),
    (lambda: reward_to_go([], []), "at least one step"),
    (lambda: reward_to_go([1.0], [F], gamma=1.5), "gamma must be"),
    (lambda: reward_to_go([[1.0, 2.0]], [[F, F]], last_values=[1.0]), "last_values"),
    (lambda: compute_gae([1.0], [np.inf], [F], [0.0]), "values contains NaN"),
    (lambda: compute_gae([1.0], [0.0], [F], [0.0], gae_lambda=-0.1), "gae_lambda"),
    (lambda: compute_gae([1.0], [0.0], [F], None), "last_values is required"),
    (lambda: compute_gae([1.0], [0.0, 1.0], [F], [0.0]), "values must have"),
    (lambda: n_step_returns([1.0], [0.0], [F], [0.0], n_steps=0), "n_steps"),
    (lambda: optimal_baseline([1.0, -1.0], [1.0, 1.0]), "non-negative"),
    (lambda: optimal_baseline([1.0, 1.0], [1.0]), "returns must have"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="rewards must be a numeric"):
        reward_to_go(["a", "b"], [F, F])
