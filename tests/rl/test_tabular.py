"""Tabular methods: exact DP against independent solutions, TD targets by hand, FQI."""

import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from sklearn.tree import DecisionTreeRegressor
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import SARSA, FittedQIteration, PolicyIteration, QLearning, ValueIteration


def _exact_model(env):
    """(P[s, a, s'] with termination folded out, R[s, a]) straight from env.unwrapped.P."""
    model = env.unwrapped.P
    n_s, n_a = env.observation_space.n, env.action_space.n
    P = np.zeros((n_s, n_a, n_s))
    R = np.zeros((n_s, n_a))
    for s in range(n_s):
        for a in range(n_a):
            for p, s2, r, term in model[s][a]:
                R[s, a] += p * r
                P[s, a, s2] += 0.0 if term else p
    return P, R


def _policy_value(P, R, policy, gamma):
    n = len(policy)
    idx = np.arange(n)
    return np.linalg.solve(np.eye(n) - gamma * P[idx, policy], R[idx, policy])


class TinyMDP(gym.Env):
    """A random finite MDP with a known model (P in gymnasium's toy-text format)."""

    def __init__(self, n_states=4, n_actions=2, seed=0):
        rng = np.random.default_rng(seed)
        self.observation_space = spaces.Discrete(n_states)
        self.action_space = spaces.Discrete(n_actions)
        self.P = {}
        for s in range(n_states):
            self.P[s] = {}
            for a in range(n_actions):
                probs = rng.dirichlet(np.ones(n_states + 1))
                outcomes = [(float(probs[k]), k, float(rng.normal()), False)
                            for k in range(n_states)]
                outcomes.append((float(probs[-1]), 0, float(rng.normal()), True))
                self.P[s][a] = outcomes
        self._s = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._s = 0
        return self._s, {}

    def step(self, action):
        outcomes = self.P[self._s][int(action)]
        k = self.np_random.choice(len(outcomes), p=[o[0] for o in outcomes])
        _, s2, r, term = outcomes[k]
        self._s = s2
        return s2, r, term, False, {}


@pytest.mark.parametrize("solver", [ValueIteration, PolicyIteration])
def test_frozenlake_exact_optimal_values(solver):
    env = gym.make("FrozenLake-v1", is_slippery=True)
    fitted = solver(env, gamma=0.99).fit()
    P, R = _exact_model(env)
    # the values are those of the returned policy, solved independently ...
    v_pi = _policy_value(P, R, fitted.policy_, 0.99)
    np.testing.assert_allclose(fitted.values_, v_pi, atol=1e-6)
    # ... and satisfy the Bellman optimality equation
    q = R + 0.99 * P @ v_pi
    np.testing.assert_allclose(q.max(axis=1), v_pi, atol=1e-6)
    np.testing.assert_allclose(fitted.q_values_, q, atol=1e-6)


def test_value_and_policy_iteration_agree():
    env = gym.make("FrozenLake-v1")
    vi = ValueIteration(env, gamma=0.99).fit()
    pi = PolicyIteration(env, gamma=0.99).fit()
    np.testing.assert_allclose(vi.values_, pi.values_, atol=1e-6)
    assert pi.n_iter_ < vi.n_iter_


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dp_matches_brute_force_over_all_policies(seed):
    env = TinyMDP(n_states=4, n_actions=2, seed=seed)
    P, R = _exact_model(env)
    best = max((_policy_value(P, R, np.array(p), 0.9)
                for p in itertools.product(range(2), repeat=4)), key=lambda v: v.sum())
    for solver in (ValueIteration, PolicyIteration):
        np.testing.assert_allclose(solver(env, gamma=0.9).fit().values_, best, atol=1e-8)


def test_solvers_reject_bad_input():
    with pytest.raises(ValueError, match="Discrete"):
        ValueIteration("CartPole-v1").fit()
    with pytest.raises(ValueError, match="gamma"):
        PolicyIteration("FrozenLake-v1", gamma=1.5).fit()
    with pytest.raises(ValueError, match="not fitted"):
        ValueIteration("FrozenLake-v1").predict(0)
    vi = ValueIteration("FrozenLake-v1").fit()
    with pytest.raises(ValueError, match="States must be"):
        vi.predict(99)


def test_solver_works_with_evaluate_policy():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    vi = ValueIteration(env, gamma=0.99).fit()
    mean, _ = evaluate_policy(vi, env, n_eval_episodes=5)
    assert mean == 1.0


class OneStep(gym.Env):
    """One state; reward 1; ends after one step (terminated or, under TimeLimit, truncated)."""

    observation_space = spaces.Discrete(1)
    action_space = spaces.Discrete(2)

    def __init__(self, terminate):
        self.terminate = terminate

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 0, 1.0, self.terminate, False, {}


@pytest.mark.parametrize("cls", [QLearning, SARSA])
def test_truncation_bootstraps_and_termination_does_not(cls):
    # one update with alpha=1 from a table of q_init=2: termination -> target 1;
    # truncation (TimeLimit of 1 step) -> target 1 + gamma * Q(s, a') = 1 + 0.5 * 2
    terminated = cls("TabularPolicy", OneStep(terminate=True), learning_rate=1.0, gamma=0.5,
                     policy_kwargs={"q_init": 2.0}, seed=0).learn(1)
    truncated = cls("TabularPolicy", gym.wrappers.TimeLimit(OneStep(False), 1),
                    learning_rate=1.0, gamma=0.5, policy_kwargs={"q_init": 2.0},
                    seed=0).learn(1)
    q_term = terminated.policy.q_table.numpy()[0]
    q_trunc = truncated.policy.q_table.numpy()[0]
    assert sorted(q_term) == [1.0, 2.0]
    assert sorted(q_trunc) == [2.0, 2.0]


class Chain(gym.Env):
    """States 0..3; action 1 moves right (reward 1 on reaching 3, which terminates),
    action 0 stays with reward 0."""

    observation_space = spaces.Discrete(4)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._s = 0
        return 0, {}

    def step(self, action):
        if int(action) == 1:
            self._s += 1
        done = self._s == 3
        return self._s, float(done), done, False, {}


def test_q_learning_converges_to_q_star_on_a_chain():
    gamma = 0.9
    agent = QLearning("TabularPolicy", gym.wrappers.TimeLimit(Chain(), 50), gamma=gamma,
                      learning_rate=0.5, exploration_fraction=1.0,
                      exploration_final_eps=1.0, seed=0).learn(5_000)
    q = agent.policy.q_table.numpy()
    # Q*(s, right) = gamma^(2 - s), Q*(s, stay) = gamma^(3 - s) for s = 0, 1, 2
    for s in range(3):
        assert q[s, 1] == pytest.approx(gamma ** (2 - s), abs=1e-3)
        assert q[s, 0] == pytest.approx(gamma ** (3 - s), abs=1e-3)


def test_sarsa_target_is_the_next_action_taken():
    # SARSA with epsilon = 1 (uniform behaviour) evaluates the uniform policy: on the
    # chain, V_unif solves v(s) = 0.5 * gamma * v(s) + 0.5 * (r + gamma * v(s+1))
    gamma = 0.9
    agent = SARSA("TabularPolicy", gym.wrappers.TimeLimit(Chain(), 200), gamma=gamma,
                  learning_rate=lambda p: 0.02, exploration_fraction=1.0,
                  exploration_initial_eps=1.0, exploration_final_eps=1.0,
                  seed=0).learn(60_000)
    v = np.zeros(4)
    for _ in range(2000):
        for s in range(3):
            v[s] = 0.5 * gamma * v[s] + 0.5 * ((s == 2) + gamma * v[s + 1] * (s < 2))
    q = agent.policy.q_table.numpy()
    q_right = np.array([(s == 2) + gamma * v[s + 1] * (s < 2) for s in range(3)])
    np.testing.assert_allclose(q[:3, 1], q_right, atol=0.05)
    np.testing.assert_allclose(q[:3, 0], gamma * v[:3], atol=0.05)


def test_q_learning_solves_deterministic_frozenlake():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    agent = QLearning("TabularPolicy", env, learning_rate=0.5, exploration_fraction=0.5,
                      seed=0).learn(6_000)
    mean, _ = evaluate_policy(agent, gym.make("FrozenLake-v1", is_slippery=False),
                              n_eval_episodes=3, deterministic=True)
    assert mean == 1.0


@pytest.mark.parametrize("cls", [QLearning, SARSA])
def test_tabular_agents_reject_continuous_spaces(cls):
    with pytest.raises(ValueError, match="Discrete"):
        cls("TabularPolicy", "CartPole-v1")


@pytest.mark.parametrize("cls", [QLearning, SARSA])
def test_non_finite_reward_names_the_env(cls):
    class NaNReward(OneStep):
        def step(self, action):
            return 0, float("nan"), True, False, {}

    with pytest.raises(ValueError, match="environment|env"):
        cls("TabularPolicy", NaNReward(True), seed=0).learn(5)


def test_fqi_equals_value_iteration_on_the_empirical_mdp():
    # deterministic random MDP, every (s, a) once in the dataset, one-hot states and a
    # full-depth tree (a lookup table): FQI is value iteration on that MDP
    rng = np.random.default_rng(0)
    n_s, n_a, gamma = 5, 3, 0.8
    nxt = rng.integers(0, n_s, (n_s, n_a))
    rew = rng.normal(size=(n_s, n_a))
    term = rng.random((n_s, n_a)) < 0.2
    s, a = np.meshgrid(np.arange(n_s), np.arange(n_a), indexing="ij")
    s, a = s.ravel(), a.ravel()
    eye = np.eye(n_s)
    data = {"observations": eye[s], "actions": a, "rewards": rew[s, a],
            "next_observations": eye[nxt[s, a]], "terminals": term[s, a].astype(float)}
    fqi = FittedQIteration(DecisionTreeRegressor(), gamma=gamma, n_iterations=200).fit(data)
    q = np.zeros((n_s, n_a))
    for _ in range(200):
        q = rew + gamma * (~term) * q.max(axis=1)[nxt]
    np.testing.assert_allclose(fqi.q_values(eye), q, atol=1e-8)
    np.testing.assert_array_equal(fqi.predict(eye)[0], q.argmax(axis=1))


def test_fqi_rejects_bad_datasets():
    good = {"observations": np.zeros((3, 2)), "actions": np.array([0, 1, 0]),
            "rewards": np.zeros(3), "next_observations": np.zeros((3, 2)),
            "terminals": np.zeros(3)}
    with pytest.raises(ValueError, match="lacks"):
        FittedQIteration().fit({k: v for k, v in good.items() if k != "rewards"})
    with pytest.raises(ValueError, match="discrete"):
        FittedQIteration().fit(dict(good, actions=np.array([0.5, 1, 0])))
    with pytest.raises(ValueError, match="NaN"):
        FittedQIteration().fit(dict(good, rewards=np.array([0, np.nan, 0])))
    with pytest.raises(TypeError):
        FittedQIteration().fit([1, 2, 3])


def test_q_table_is_saved_and_loaded(tmp_path):
    agent = QLearning("TabularPolicy", "FrozenLake-v1", seed=0).learn(500)
    agent.save(tmp_path / "q.zip")
    loaded = QLearning.load(tmp_path / "q.zip")
    assert torch.equal(agent.policy.q_table, loaded.policy.q_table)
    obs = np.arange(16)
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])


def test_dyna_q_reuses_experience_to_converge_with_fewer_steps():
    from mlnotes.rl import DynaQ

    gamma = 0.9
    common = dict(gamma=gamma, learning_rate=0.5, exploration_fraction=1.0,
                  exploration_final_eps=1.0, seed=0)
    env = gym.wrappers.TimeLimit(Chain(), 50)
    dyna = DynaQ("TabularPolicy", env, n_planning_steps=20, **common).learn(60)
    plain = QLearning("TabularPolicy", gym.wrappers.TimeLimit(Chain(), 50), **common).learn(60)
    q_star = np.array([[gamma ** (3 - s), gamma ** (2 - s)] for s in range(3)])
    dyna_err = np.abs(dyna.policy.q_table.numpy()[:3] - q_star).max()
    plain_err = np.abs(plain.policy.q_table.numpy()[:3] - q_star).max()
    assert dyna_err < 1e-3 < plain_err
    assert len(dyna.model_) == 6  # every non-terminal (state, action) of the chain
    # no planning: exactly Q-learning
    same = DynaQ("TabularPolicy", gym.wrappers.TimeLimit(Chain(), 50), n_planning_steps=0,
                 **common).learn(60)
    np.testing.assert_array_equal(same.policy.q_table.numpy(), plain.policy.q_table.numpy())
