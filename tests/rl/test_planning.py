"""Planning (chapter 33): LQR and iLQR against closed forms, shooting MPC, MCTS."""

import gymnasium as gym
import numpy as np
import pytest
import scipy.linalg
import torch
from gymnasium import spaces
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import CEM, LQR, MCTS, MPPI, RandomShooting, ValueIteration, iLQR


def _random_system(rng, n=4, m=2):
    A = rng.normal(size=(n, n))
    B = rng.normal(size=(n, m))
    C = rng.normal(size=(n, n))
    Q = C @ C.T + 0.1 * np.eye(n)
    D = rng.normal(size=(m, m))
    R = D @ D.T + 0.5 * np.eye(m)
    return A, B, Q, R


def _lqr_actions(lqr, A, B, x0):
    """The finite-horizon LQR's closed-loop actions from ``x0`` (the optimal plan)."""
    x, actions = np.array(x0, dtype=float), []
    for K in lqr.K_:
        actions.append(-K @ x)
        x = A @ x + B @ actions[-1]
    return np.array(actions)


@pytest.mark.parametrize("seed", range(5))
def test_lqr_gain_equals_scipy_dare(seed):
    A, B, Q, R = _random_system(np.random.default_rng(seed))
    lqr = LQR(A, B, Q, R).fit()
    P = scipy.linalg.solve_discrete_are(A, B, Q, R)
    K = np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
    np.testing.assert_allclose(lqr.K_, K, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(lqr.P_, P, rtol=1e-8, atol=1e-10)
    # the closed loop is stable
    assert np.max(np.abs(np.linalg.eigvals(A - B @ lqr.K_))) < 1


def test_finite_horizon_lqr_cost_to_go_is_the_simulated_cost():
    A, B, Q, R = _random_system(np.random.default_rng(7), n=3, m=1)
    A = A / (1.2 * np.max(np.abs(np.linalg.eigvals(A))))
    T = 15
    lqr = LQR(A, B, Q, R, horizon=T).fit()
    x0 = np.array([1.0, -0.5, 2.0])
    x, cost, t_state = x0.copy(), 0.0, None
    for _ in range(T):
        u, t_state = lqr.predict(x, state=t_state)
        cost += x @ Q @ x + u @ R @ u
        x = A @ x + B @ u
    cost += x @ Q @ x  # Qf = Q
    assert cost == pytest.approx(x0 @ lqr.P_[0] @ x0, rel=1e-10)
    # a long horizon approaches the stationary gain
    long = LQR(A, B, Q, R, horizon=400).fit()
    np.testing.assert_allclose(long.K_[0], LQR(A, B, Q, R).fit().K_, atol=1e-8)


def test_lqr_rejects_bad_input():
    A, B, Q, R = _random_system(np.random.default_rng(0))
    with pytest.raises(ValueError, match="positive definite"):
        LQR(A, B, Q, -R).fit()
    with pytest.raises(ValueError, match="rows"):
        LQR(A, B[:2], Q, R).fit()
    with pytest.raises(ValueError, match="stabilis"):
        # an unstable mode the controls cannot reach
        LQR(np.diag([2.0, 0.5]), np.array([[0.0], [1.0]]), np.eye(2), np.eye(1)).fit()
    with pytest.raises(ValueError, match="not fitted"):
        LQR(A, B, Q, R).predict(np.zeros(4))


@pytest.mark.parametrize("derivatives", ["autograd", "finite_differences"])
def test_ilqr_solves_a_linear_quadratic_problem_in_one_iteration(derivatives):
    rng = np.random.default_rng(3)
    A, B, Q, R = _random_system(rng, n=3, m=2)
    A = A / (1.1 * np.max(np.abs(np.linalg.eigvals(A))))
    T = 12
    lqr = LQR(A, B, Q, R, horizon=T).fit()
    At, Bt, Qt, Rt = (torch.as_tensor(M) for M in (A, B, Q, R))
    solver = iLQR(lambda x, u: At @ x + Bt @ u, lambda x, u: x @ Qt @ x + u @ Rt @ u,
                  final_cost=lambda x: x @ Qt @ x, horizon=T, n_action=2,
                  derivatives=derivatives)
    x0 = rng.normal(size=3)
    X, U = solver.solve(x0)
    expected = _lqr_actions(lqr, A, B, x0)
    tol = 1e-8 if derivatives == "autograd" else 1e-5
    np.testing.assert_allclose(U, expected, atol=tol)
    # the first iteration already reaches the optimal cost x0' P0 x0
    assert solver.cost_history_[1] == pytest.approx(x0 @ lqr.P_[0] @ x0, rel=tol)


@pytest.mark.parametrize("m", [1, 2])
def test_ilqr_closed_form_derivatives_solve_a_linear_quadratic_problem(m):
    # the numpy path (a derivatives callable), with the one-control backward pass at m=1
    rng = np.random.default_rng(5)
    A, B, Q, R = _random_system(rng, n=3, m=m)
    A = A / (1.1 * np.max(np.abs(np.linalg.eigvals(A))))
    T = 10
    lqr = LQR(A, B, Q, R, horizon=T).fit()

    def derivatives(X, U):
        n_steps = len(U)
        return (np.broadcast_to(A, (n_steps, 3, 3)), np.broadcast_to(B, (n_steps, 3, m)),
                2 * X[:-1] @ Q, 2 * U @ R, np.broadcast_to(2 * Q, (n_steps, 3, 3)),
                np.broadcast_to(2 * R, (n_steps, m, m)), np.zeros((n_steps, m, 3)),
                2 * Q @ X[-1], 2 * Q)

    solver = iLQR(lambda x, u: A @ x + B @ u, lambda x, u: x @ Q @ x + u @ R @ u,
                  final_cost=lambda x: x @ Q @ x, horizon=T, n_action=m,
                  derivatives=derivatives)
    x0 = rng.normal(size=3)
    X, U = solver.solve(x0)
    expected = _lqr_actions(lqr, A, B, x0)
    np.testing.assert_allclose(U, expected, atol=1e-8)
    assert solver.cost_history_[1] == pytest.approx(x0 @ lqr.P_[0] @ x0, rel=1e-8)
    bad = iLQR(solver.dynamics, solver.cost, horizon=T, n_action=m,
               derivatives=lambda X, U: derivatives(X, U)[:8])
    with pytest.raises(ValueError, match="9 arrays"):
        bad.solve(x0)


def test_ilqr_pendulum_closed_form_derivatives_equal_autograd():
    # for_env's analytic Pendulum derivatives (through the tanh squashing of the torque
    # bounds) against torch.func on the same trajectory
    closed = iLQR.for_env("Pendulum-v1", horizon=30)
    auto = iLQR.for_env("Pendulum-v1", horizon=30, derivatives="autograd")
    closed._check(), auto._check()
    rng = np.random.default_rng(1)
    th = rng.uniform(-3.1, 3.1, 31)
    X = np.stack([np.cos(th), np.sin(th), rng.uniform(-7.5, 7.5, 31)], axis=1)
    X[5, 2] = 7.99  # near the speed clip
    V = rng.normal(size=(30, 1))
    ours = closed._derivatives(X, V)
    ref = auto._derivatives(torch.as_tensor(X), torch.as_tensor(V))
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-10)
    # and the same plans from the same state
    _, U1 = closed.solve([-1.0, 0.1, 0.0], n_iterations=5)
    _, U2 = auto.solve([-1.0, 0.1, 0.0], n_iterations=5)
    np.testing.assert_allclose(U1, U2, atol=1e-8)


def test_ilqr_cost_never_increases_on_the_pendulum():
    solver = iLQR.for_env("Pendulum-v1", horizon=25, n_iterations=15)
    solver.solve([-1.0, 0.0, 0.0])  # hanging down, at rest
    history = np.array(solver.cost_history_)
    assert len(history) > 2
    assert np.all(np.diff(history) <= 0)
    assert history[-1] < history[0]
    assert np.all(np.abs(solver.U_) <= 2.0)  # torque bounds through the tanh squashing


class CountingLinearModel:
    """x' = x + u, reward -(x^2 + 0.1 u^2): counts its (batched) calls."""

    def __init__(self):
        self.calls = 0
        self.batch_sizes = []

    def __call__(self, obs, actions):
        self.calls += 1
        self.batch_sizes.append(len(obs))
        nxt = obs + actions
        reward = -(obs[:, 0] ** 2 + 0.1 * actions[:, 0] ** 2)
        return nxt, reward, np.zeros(len(obs), dtype=bool)


class LineEnv(gym.Env):
    observation_space = spaces.Box(-10, 10, (1,), dtype=np.float64)
    action_space = spaces.Box(-3, 3, (1,), dtype=np.float64)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = np.array([2.0])
        return self.x.copy(), {}

    def step(self, action):
        reward = -(self.x[0] ** 2 + 0.1 * float(action[0]) ** 2)
        self.x = self.x + action
        return self.x.copy(), reward, False, False, {}


@pytest.mark.parametrize("planner, calls", [
    (lambda m: CEM(LineEnv(), m, horizon=8, n_samples=500, n_iterations=8, n_elites=25,
                   seed=0), 8 * 8),
    (lambda m: MPPI(LineEnv(), m, horizon=8, n_samples=2000, noise_sigma=0.1,
                    temperature=1.0, n_iterations=10, seed=0), 8 * 10),
])
def test_shooting_planners_find_the_lq_optimum_with_batched_calls(planner, calls):
    model = CountingLinearModel()
    p = planner(model)
    action, _ = p.predict(np.array([2.0]))
    # one batched model call per time step and iteration, whatever the sample count
    assert model.calls == calls and set(model.batch_sizes) == {p.n_samples}
    # the optimum of the horizon-8 problem: finite-horizon LQR with no terminal cost
    lqr = LQR(np.eye(1), np.eye(1), np.eye(1), 0.1 * np.eye(1), horizon=8,
              Qf=np.zeros((1, 1))).fit()
    assert action[0] == pytest.approx(-lqr.K_[0][0, 0] * 2.0, abs=0.1)


def test_random_shooting_and_evaluate_policy():
    env = gym.wrappers.TimeLimit(LineEnv(), 10)
    planner = RandomShooting(env, CountingLinearModel(), horizon=5, n_samples=500, seed=0)
    mean, _ = evaluate_policy(planner, env, n_eval_episodes=1, warn=False)
    # doing nothing costs 10 * 4 = 40; a decent plan drives x to 0 quickly
    assert mean > -12


@pytest.mark.parametrize("cls", [CEM, MPPI])
def test_shooting_planners_balance_the_pendulum_with_the_true_model(cls):
    env = gym.make("Pendulum-v1")
    env.reset(seed=0)
    env.unwrapped.state = np.array([0.3, 0.0])  # tilted, at rest
    obs = env.unwrapped._get_obs()
    planner = cls(env, horizon=15, n_samples=200, seed=0)
    total = 0.0
    for _ in range(60):
        action, _ = planner.predict(obs)
        obs, reward, *_ = env.step(action)
        total += reward
    assert abs(np.arctan2(obs[1], obs[0])) < 0.1
    assert total > -3  # the starting cost is 0.09 per step; held up it falls to ~0


def test_shooting_planners_reject_bad_input():
    with pytest.raises(ValueError, match="Box"):
        CEM("CartPole-v1").predict(np.zeros(4))
    with pytest.raises(ValueError, match="no true model"):
        CEM(LineEnv()).predict([0.0])
    with pytest.raises(ValueError, match="n_elites"):
        CEM("Pendulum-v1", n_samples=10, n_elites=20).predict([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        MPPI("Pendulum-v1").predict([np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match="Unexpected observation shape"):
        MPPI("Pendulum-v1").predict([1.0, 0.0])


def _deterministic_mdp(seed, n_states=6, n_actions=3):
    rng = np.random.default_rng(seed)

    class DetMDP(gym.Env):
        observation_space = spaces.Discrete(n_states)
        action_space = spaces.Discrete(n_actions)

        def __init__(self):
            self.P = {s: {a: [(1.0, int(rng.integers(n_states)), float(rng.normal()),
                               bool(rng.random() < 0.15))] for a in range(n_actions)}
                      for s in range(n_states)}

        def reset(self, *, seed=None, options=None):
            return 0, {}

        def step(self, action):
            raise NotImplementedError  # the planner only uses P

    return DetMDP()


@pytest.mark.parametrize("seed", range(3))
def test_mcts_finds_the_optimal_first_action(seed):
    env = _deterministic_mdp(seed)
    q = ValueIteration(env, gamma=0.5).fit().q_values_
    for s in range(env.observation_space.n):
        best = np.flatnonzero(np.isclose(q[s], q[s].max(), atol=1e-6))
        if q[s].max() - np.sort(q[s])[-2] < 0.05:
            continue  # nearly tied actions: any of them is fine, skip
        action = int(MCTS(env, n_simulations=2000, gamma=0.5, max_depth=20,
                          exploration_constant=2.0, seed=0).predict(s)[0])
        assert action in best, (s, action, q[s])


def test_mcts_on_deterministic_frozenlake():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    q = ValueIteration(env, gamma=0.9).fit().q_values_
    planner = MCTS(env, n_simulations=1000, gamma=0.9, seed=0)
    for s in range(16):
        if q[s].max() == 0:
            continue  # holes and the goal
        best = np.flatnonzero(np.isclose(q[s], q[s].max()))
        assert int(planner.predict(s)[0]) in best
    with pytest.raises(ValueError, match="Discrete"):
        MCTS("Pendulum-v1").predict(0)
    with pytest.raises(ValueError, match="simulator"):
        MCTS("CartPole-v1").predict(0)
