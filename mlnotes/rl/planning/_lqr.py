r"""Linear-quadratic regulation and iterative LQR (chapter 33).

:class:`LQR` solves the discrete-time linear-quadratic problem

.. math::

    \min_{u_0, u_1, \dots} \sum_t x_t^\top Q x_t + u_t^\top R u_t, \qquad
    x_{t+1} = A x_t + B u_t,

exactly: the optimal control is linear, :math:`u_t = -K_t x_t`, with the gains from the
Riccati recursion. :class:`iLQR` applies the same backward pass to the second-order
expansion of a nonlinear problem around the current trajectory, and iterates.
"""

import math
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_scalar

from ..tabular._model import ParamsByNameMixin

__all__ = ["LQR", "iLQR"]


def _as_matrix(value, name, shape=None):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.ndim != 2 or (shape is not None and arr.shape != shape):
        want = "a 2-D array" if shape is None else f"shape {shape}"
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return arr


def _riccati_step(A, B, Q, R, P):
    """One backward step: the gain K and the new cost-to-go from P."""
    BtP = B.T @ P
    K = np.linalg.solve(R + BtP @ B, BtP @ A)
    P_new = Q + A.T @ P @ (A - B @ K)
    return K, (P_new + P_new.T) / 2


def _dare_doubling(A, B, Q, R, tol=1e-14, max_iter=100):
    """Stabilising solution of the discrete algebraic Riccati equation.

    The structured doubling algorithm: with :math:`G = B R^{-1} B^\\top`,

    .. math::

        A_{k+1} = A_k (I + G_k H_k)^{-1} A_k, \\quad
        G_{k+1} = G_k + A_k (I + G_k H_k)^{-1} G_k A_k^\\top, \\quad
        H_{k+1} = H_k + A_k^\\top H_k (I + G_k H_k)^{-1} A_k,

    from :math:`(A, G, Q)`; :math:`H_k \\to P` quadratically (each step doubles the
    horizon the Riccati recursion has covered).
    """
    n = A.shape[0]
    Ak, Gk, Hk = A.copy(), B @ np.linalg.solve(R, B.T), Q.copy()
    eye = np.eye(n)
    for _ in range(max_iter):
        W = eye + Gk @ Hk
        try:
            W_inv_A = np.linalg.solve(W, Ak)
            W_inv_G = np.linalg.solve(W, Gk)
        except np.linalg.LinAlgError:
            break
        H_new = Hk + Ak.T @ Hk @ W_inv_A
        Gk = Gk + Ak @ W_inv_G @ Ak.T
        Ak = Ak @ W_inv_A
        H_new = (H_new + H_new.T) / 2
        if not np.all(np.isfinite(H_new)):
            break
        converged = np.linalg.norm(H_new - Hk, 1) <= tol * max(1.0, np.linalg.norm(H_new, 1))
        Hk = H_new
        if converged:
            return Hk
    raise ValueError(
        "The Riccati equation has no stabilising solution that the doubling iteration "
        "could find: check that (A, B) is stabilisable and (A, Q) detectable."
    )


class LQR(ParamsByNameMixin):
    r"""Linear-quadratic regulator, finite or infinite horizon.

    For :math:`x_{t+1} = A x_t + B u_t` and the cost
    :math:`\sum_{t<T} (x_t^\top Q x_t + u_t^\top R u_t) + x_T^\top Q_f x_T`, the
    cost-to-go is quadratic, :math:`V_t(x) = x^\top P_t x`, and the Riccati recursion

    .. math::

        K_t = (R + B^\top P_{t+1} B)^{-1} B^\top P_{t+1} A, \qquad
        P_t = Q + A^\top P_{t+1} (A - B K_t), \qquad P_T = Q_f,

    gives the optimal control :math:`u_t = -K_t x_t`. With ``horizon=None`` the gain is
    the stationary one, from the stabilising solution :math:`P` of the discrete
    algebraic Riccati equation :math:`P = Q + A^\top P (A - BK)` (found here by the
    structured doubling algorithm). Chapter 33 of the notes; see the user guide,
    "Planning".

    Parameters
    ----------
    A : array-like of shape (n, n)
        State transition matrix.
    B : array-like of shape (n, m)
        Control matrix.
    Q : array-like of shape (n, n)
        State cost (symmetric positive semi-definite).
    R : array-like of shape (m, m)
        Control cost (symmetric positive definite).
    horizon : int, default=None
        Number of steps :math:`T`; ``None`` for the infinite-horizon regulator.
    Qf : array-like of shape (n, n), default=None
        Terminal cost of the finite-horizon problem (``None``: ``Q``).

    Attributes
    ----------
    K_ : numpy.ndarray of shape (m, n) or (horizon, m, n)
        The gain(s): :math:`u = -K x` (``K_[t]`` at step ``t`` for a finite horizon).
    P_ : numpy.ndarray of shape (n, n) or (horizon + 1, n, n)
        The cost-to-go matrix (matrices).

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl import LQR
    >>> A = np.array([[1.0, 0.1], [0.0, 1.0]]); B = np.array([[0.0], [0.1]])
    >>> lqr = LQR(A, B, np.eye(2), np.eye(1)).fit()
    >>> lqr.K_.shape
    (1, 2)
    >>> action, _ = lqr.predict(np.array([1.0, 0.0]))
    >>> bool(action[0] < 0)
    True
    """

    _param_names = ("A", "B", "Q", "R", "horizon", "Qf")

    def __init__(self, A, B, Q, R, horizon=None, Qf=None):
        self.A, self.B, self.Q, self.R = A, B, Q, R
        self.horizon = horizon
        self.Qf = Qf

    def fit(self):
        """Compute the gains.

        Returns
        -------
        self : LQR
            The fitted regulator.
        """
        A = _as_matrix(self.A, "A")
        n = A.shape[0]
        if A.shape != (n, n):
            raise ValueError(f"A must be square, got shape {A.shape}.")
        B = _as_matrix(self.B, "B")
        if B.shape[0] != n:
            raise ValueError(f"B must have {n} rows (A is {n} x {n}), got shape {B.shape}.")
        m = B.shape[1]
        Q = _as_matrix(self.Q, "Q", (n, n))
        R = _as_matrix(self.R, "R", (m, m))
        if not np.allclose(Q, Q.T) or np.linalg.eigvalsh(Q).min() < -1e-12 * max(
                1.0, np.abs(Q).max()):
            raise ValueError("Q must be symmetric positive semi-definite.")
        if not np.allclose(R, R.T) or np.linalg.eigvalsh(R).min() <= 0:
            raise ValueError("R must be symmetric positive definite.")
        if self.horizon is None:
            P = _dare_doubling(A, B, Q, R)
            self.P_ = P
            self.K_ = np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
            return self
        check_scalar(self.horizon, "horizon", Integral, min_val=1)
        T = int(self.horizon)
        Qf = Q if self.Qf is None else _as_matrix(self.Qf, "Qf", (n, n))
        P = np.empty((T + 1, n, n))
        K = np.empty((T, m, n))
        P[T] = Qf
        for t in range(T - 1, -1, -1):
            K[t], P[t] = _riccati_step(A, B, Q, R, P[t + 1])
        self.P_, self.K_ = P, K
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        """The optimal control :math:`-K x` (Stable-Baselines3's ``predict`` signature).

        Parameters
        ----------
        observation : array-like of shape (n,) or (n_env, n)
            State(s).
        state : int or None, default=None
            For a finite horizon, the time step ``t`` (``None``: 0); the returned state
            is ``t + 1``, so SB3's ``evaluate_policy`` steps through the gains. Beyond
            the horizon the last gain is reused.
        episode_start : numpy.ndarray, default=None
            Where true, the time step restarts at 0.
        deterministic : bool, default=True
            Unused.

        Returns
        -------
        actions : numpy.ndarray of shape (m,) or (n_env, m)
            Controls.
        state : int or None
            The next time step (finite horizon) or ``None``.
        """
        if not hasattr(self, "K_"):
            raise ValueError("This LQR is not fitted yet: call fit() first.")
        x = np.asarray(observation, dtype=np.float64)
        single = x.ndim == 1
        x = np.atleast_2d(x)
        n = self.P_.shape[-1]
        if x.shape[1] != n:
            raise ValueError(f"Observations must have {n} entries, got shape {x.shape}.")
        if self.K_.ndim == 2:
            u = -x @ self.K_.T
            return (u[0] if single else u), state
        t = 0 if state is None else int(np.max(state))
        if episode_start is not None and np.any(episode_start):
            t = 0
        K = self.K_[min(t, len(self.K_) - 1)]
        u = -x @ K.T
        return (u[0] if single else u), t + 1


def _squash(v, low, high):
    if isinstance(v, np.ndarray):
        return low + (high - low) * (np.tanh(v) + 1) / 2
    return low + (high - low) * (torch.tanh(v) + 1) / 2


def _unsquash(u, low, high):
    z = np.clip(2 * (u - low) / (high - low) - 1, -0.999999, 0.999999)
    return np.arctanh(z)


class _PendulumDerivatives:
    r"""Pendulum-v1's model, cost and their closed-form derivatives, in numpy.

    With :math:`\theta = \operatorname{atan2}(x_1, x_0)`, :math:`\omega = x_2`:
    :math:`\omega' = \operatorname{clip}(\omega + (a \sin\theta + b u) dt)`,
    :math:`\theta' = \theta + \omega' dt`, :math:`x' = (\cos\theta', \sin\theta',
    \omega')`, with :math:`a = 3g / 2l`, :math:`b = 3 / m l^2`; cost
    :math:`\theta^2 + 0.1 \omega^2 + 0.001 u^2` (minus the env's reward). The clip has
    zero derivative where it is active, as autograd's.
    """

    def __init__(self, g, m, l, dt, max_speed):
        self.a, self.b = 3 * g / (2 * l), 3.0 / (m * l**2)
        self.dt, self.max_speed = dt, max_speed

    def dynamics(self, x, u):
        th = math.atan2(x[1], x[0])
        w = x[2] + (self.a * math.sin(th) + self.b * u[0]) * self.dt
        w = min(max(w, -self.max_speed), self.max_speed)
        th = th + w * self.dt
        return (math.cos(th), math.sin(th), w)

    def cost(self, x, u):
        th = math.atan2(x[1], x[0])
        return th * th + 0.1 * x[2] * x[2] + 0.001 * u[0] * u[0]

    def __call__(self, X, U):
        Xt, u = X[:-1], U[:, 0]
        c, s, w = Xt[:, 0], Xt[:, 1], Xt[:, 2]
        T = len(Xt)
        r2 = c**2 + s**2
        th = np.arctan2(s, c)
        dth = np.stack([-s / r2, c / r2, np.zeros(T)], axis=1)  # d theta / dx
        w_raw = w + (self.a * np.sin(th) + self.b * u) * self.dt
        free = (np.abs(w_raw) < self.max_speed).astype(float)  # clip inactive
        w_new = np.clip(w_raw, -self.max_speed, self.max_speed)
        th_new = th + w_new * self.dt
        dw_dx = free[:, None] * (self.a * np.cos(th)[:, None] * self.dt * dth
                                 + np.array([0.0, 0.0, 1.0]))
        dw_du = free * self.b * self.dt
        dthn_dx = dth + self.dt * dw_dx
        dthn_du = self.dt * dw_du
        fx = np.stack([-np.sin(th_new)[:, None] * dthn_dx,
                       np.cos(th_new)[:, None] * dthn_dx, dw_dx], axis=1)
        fu = np.stack([-np.sin(th_new) * dthn_du, np.cos(th_new) * dthn_du, dw_du],
                      axis=1)[:, :, None]
        lx = 2 * th[:, None] * dth + np.stack([np.zeros(T), np.zeros(T), 0.2 * w], axis=1)
        r4 = r2**2
        hess_th = np.zeros((T, 3, 3))  # second derivatives of atan2(s, c)
        hess_th[:, 0, 0] = 2 * c * s / r4
        hess_th[:, 1, 1] = -2 * c * s / r4
        hess_th[:, 0, 1] = hess_th[:, 1, 0] = (s**2 - c**2) / r4
        lxx = 2 * dth[:, :, None] * dth[:, None, :] + 2 * th[:, None, None] * hess_th
        lxx[:, 2, 2] += 0.2
        lu = (0.002 * u)[:, None]
        luu = np.full((T, 1, 1), 0.002)
        lux = np.zeros((T, 1, 3))
        return fx, fu, lx, lu, lxx, luu, lux, np.zeros(3), np.zeros((3, 3))


class iLQR:  # noqa: N801 - the algorithm's name
    r"""Iterative LQR: trajectory optimisation by repeated local LQ approximations.

    Around the current trajectory :math:`(\bar x_t, \bar u_t)` the dynamics are
    linearised, :math:`\delta x_{t+1} = f_x \delta x_t + f_u \delta u_t`, and the cost
    expanded to second order; the LQR backward pass of the expansion,

    .. math::

        Q_u &= \ell_u + f_u^\top V_x', \quad Q_x = \ell_x + f_x^\top V_x', \\
        Q_{uu} &= \ell_{uu} + f_u^\top V_{xx}' f_u + \mu I, \quad
        Q_{ux} = \ell_{ux} + f_u^\top V_{xx}' f_x, \\
        k_t &= -Q_{uu}^{-1} Q_u, \qquad K_t = -Q_{uu}^{-1} Q_{ux},

    gives the update :math:`u_t = \bar u_t + \alpha k_t + K_t (x_t - \bar x_t)`, rolled
    out through the true dynamics with a backtracking line search on :math:`\alpha`: a
    step is accepted only if it lowers the total cost, so the cost never increases. The
    regularisation :math:`\mu` grows when :math:`Q_{uu}` is not positive definite or no
    step is accepted, and shrinks after a success (Tassa et al., 2012). On a
    linear-quadratic problem the first iteration already gives LQR's solution. Bounded
    controls are optimised through :math:`u = \text{low} + (\text{high} - \text{low})
    (\tanh v + 1) / 2`. As a policy, ``predict`` re-solves from each observation,
    warm-started by the previous plan (MPC). Chapter 33; see the user guide,
    "Planning".

    Parameters
    ----------
    dynamics : callable
        ``dynamics(x, u) -> x_next`` on single torch tensors (shapes ``(n,)``,
        ``(m,)``); differentiable by autograd unless ``derivatives="finite_differences"``
        (then it may be any numeric function of numpy-convertible tensors).
    cost : callable
        ``cost(x, u) -> scalar`` running cost (same conventions).
    final_cost : callable, default=None
        ``final_cost(x) -> scalar`` (``None``: 0).
    horizon : int, default=50
        Steps :math:`T`.
    n_action : int, default=1
        Control dimension :math:`m`.
    action_low, action_high : array-like, default=None
        Control bounds (both or neither).
    n_iterations : int, default=50
        Maximum iterations per solve.
    tol : float, default=1e-6
        Stop when the relative cost decrease falls below this.
    derivatives : {"autograd", "finite_differences"} or callable, default="autograd"
        How :math:`f_x, f_u, \ell_x, \ell_u, \ell_{xx}, \ell_{uu}, \ell_{ux}` are found.
        A callable ``derivatives(X, U)`` gives them in closed form for a whole
        trajectory (``X`` of shape ``(T + 1, n)``, ``U`` of shape ``(T, m)``, numpy):
        it returns ``(fx, fu, lx, lu, lxx, luu, lux, lfx, lfxx)`` of shapes
        ``(T, n, n), (T, n, m), (T, n), (T, m), (T, n, n), (T, m, m), (T, m, n), (n,),
        (n, n)``, the derivatives with respect to the control ``u`` (the chain rule
        through the tanh squashing of bounded controls is applied by iLQR). Then
        ``dynamics``, ``cost`` and ``final_cost`` are called with numpy arrays and the
        whole solve runs in numpy: 50-100 times faster than autograd on small
        problems (``for_env`` does this for Pendulum).
    reg_init : float, default=0.0
        Initial regularisation :math:`\mu`.
    mpc_iterations : int, default=5
        Iterations per ``predict`` call (warm-started).

    Attributes
    ----------
    X_ : numpy.ndarray of shape (horizon + 1, n)
        The last optimised state trajectory.
    U_ : numpy.ndarray of shape (horizon, m)
        Its controls.
    K_ : numpy.ndarray of shape (horizon, m, n)
        Feedback gains of the last backward pass (in the squashed coordinates when
        bounds are given).
    cost_history_ : list of float
        Total cost after each iteration of the last solve (non-increasing).
    n_iter_ : int
        Iterations of the last solve.

    Examples
    --------
    >>> import torch
    >>> from mlnotes.rl import iLQR
    >>> solver = iLQR(lambda x, u: x + 0.1 * u, lambda x, u: (x ** 2).sum() + (u ** 2).sum(),
    ...               horizon=5, n_action=1)
    >>> X, U = solver.solve([1.0])
    >>> X.shape, U.shape, bool(abs(X[-1, 0]) < 1.0)
    ((6, 1), (5, 1), True)
    """

    def __init__(self, dynamics, cost, final_cost=None, horizon=50, n_action=1,
                 action_low=None, action_high=None, n_iterations=50, tol=1e-6,
                 derivatives="autograd", reg_init=0.0, mpc_iterations=5):
        self.dynamics = dynamics
        self.cost = cost
        self.final_cost = final_cost
        self.horizon = horizon
        self.n_action = n_action
        self.action_low = action_low
        self.action_high = action_high
        self.n_iterations = n_iterations
        self.tol = tol
        self.derivatives = derivatives
        self.reg_init = reg_init
        self.mpc_iterations = mpc_iterations
        self._warm = None

    @classmethod
    def for_env(cls, env, **kwargs):
        """An iLQR with the exact differentiable model and reward of ``env``.

        Parameters
        ----------
        env : gymnasium.Env or str
            ``Pendulum-v1`` (observations ``[cos, sin, theta_dot]``).
        **kwargs : dict
            Other iLQR parameters (``horizon``, ...). ``derivatives`` defaults to
            ``"analytic"``: the model, cost and their derivatives in closed form, in
            numpy (about 30 planned actions per second instead of about 1 with
            ``"autograd"``, which differentiates the same model written in torch).

        Returns
        -------
        solver : iLQR
            Minimising minus the env's reward, with its torque bounds.
        """
        from ..tabular._model import make_env

        env = make_env(env)
        u = env.unwrapped
        if type(u).__name__ != "PendulumEnv":
            raise ValueError(f"iLQR.for_env knows the model of Pendulum only, not "
                             f"{type(u).__name__}; pass dynamics and cost instead.")
        g, m, l, dt, max_speed = u.g, u.m, u.l, u.dt, u.max_speed

        def dynamics(x, a):
            th = torch.atan2(x[1], x[0])
            thdot = x[2] + (3 * g / (2 * l) * torch.sin(th) + 3.0 / (m * l**2) * a[0]) * dt
            thdot = torch.clamp(thdot, -max_speed, max_speed)
            th = th + thdot * dt
            return torch.stack([torch.cos(th), torch.sin(th), thdot])

        def cost(x, a):
            th = torch.atan2(x[1], x[0])
            return th**2 + 0.1 * x[2] ** 2 + 0.001 * a[0] ** 2

        kwargs.setdefault("horizon", 40)
        if kwargs.get("derivatives", "analytic") == "analytic":
            kwargs["derivatives"] = _PendulumDerivatives(g, m, l, dt, max_speed)
            dynamics, cost = kwargs["derivatives"].dynamics, kwargs["derivatives"].cost
        return cls(dynamics, cost, n_action=1, action_low=-u.max_torque,
                   action_high=u.max_torque, **kwargs)

    # ------------------------------------------------------------- helpers

    def _check(self):
        for name in ("horizon", "n_action", "n_iterations", "mpc_iterations"):
            check_scalar(getattr(self, name), name, Integral, min_val=1)
        self._numpy = callable(self.derivatives)
        if not self._numpy and self.derivatives not in ("autograd", "finite_differences"):
            raise ValueError("derivatives must be 'autograd', 'finite_differences' or a "
                             f"callable, got {self.derivatives!r}.")
        if (self.action_low is None) != (self.action_high is None):
            raise ValueError("Give both action_low and action_high, or neither.")
        if not callable(self.dynamics) or not callable(self.cost):
            raise TypeError("dynamics and cost must be callables.")
        if self.action_low is not None:
            low = np.broadcast_to(np.asarray(self.action_low, float), (self.n_action,))
            high = np.broadcast_to(np.asarray(self.action_high, float), (self.n_action,))
            if not np.all(low < high):
                raise ValueError("action_low must be below action_high.")
            self._bounds = ((low.copy(), high.copy()) if self._numpy else
                            (torch.as_tensor(low.copy(), dtype=torch.float64),
                             torch.as_tensor(high.copy(), dtype=torch.float64)))
        else:
            self._bounds = None

    def _control(self, v):
        return v if self._bounds is None else _squash(v, *self._bounds)

    def _f(self, x, v):
        return self.dynamics(x, self._control(v))

    def _l(self, x, v):
        return self.cost(x, self._control(v))

    def _lf(self, x):
        if self.final_cost is None:
            return np.zeros(()) if self._numpy else torch.zeros((), dtype=torch.float64)
        return self.final_cost(x)

    def _rollout(self, x0, V):
        if self._numpy:
            return self._forward(x0, None, V, None, None, 0.0)[::2]
        X = [x0]
        total = 0.0
        with torch.no_grad():
            for t in range(len(V)):
                total += float(self._l(X[-1], V[t]))
                X.append(torch.as_tensor(self._f(X[-1], V[t]), dtype=torch.float64))
            total += float(self._lf(X[-1]))
        return torch.stack(X), total

    def _derivatives(self, X, V):
        if self._numpy:
            return self._closed_form(X, V)
        if self.derivatives == "autograd":
            from torch.func import hessian, jacrev, vmap

            fx, fu = vmap(jacrev(self._f, argnums=(0, 1)))(X[:-1], V)
            lx, lu = vmap(jacrev(self._l, argnums=(0, 1)))(X[:-1], V)
            (lxx, lxu), (_, luu) = vmap(hessian(self._l, argnums=(0, 1)))(X[:-1], V)
            lfx = jacrev(self._lf)(X[-1])
            lfxx = hessian(self._lf)(X[-1])
            return fx, fu, lx, lu, lxx, luu, lxu.transpose(1, 2), lfx, lfxx
        return self._finite_differences(X, V)

    def _closed_form(self, X, V):
        """The user's closed-form derivatives, carried through the tanh squashing."""
        U = self._control(V)
        T, n, m = len(V), X.shape[1], V.shape[1]
        out = tuple(np.asarray(d, dtype=np.float64)
                    for d in self.derivatives(X, U))
        if len(out) != 9:
            raise ValueError(f"derivatives(X, U) must return 9 arrays, got {len(out)}.")
        fx, fu, lx, lu, lxx, luu, lux, lfx, lfxx = out
        for name, arr, shape in (("fx", fx, (T, n, n)), ("fu", fu, (T, n, m)),
                                 ("lx", lx, (T, n)), ("lu", lu, (T, m)),
                                 ("lxx", lxx, (T, n, n)), ("luu", luu, (T, m, m)),
                                 ("lux", lux, (T, m, n)), ("lfx", lfx, (n,)),
                                 ("lfxx", lfxx, (n, n))):
            if arr.shape != shape:
                raise ValueError(f"derivatives(X, U) returned {name} of shape "
                                 f"{arr.shape}; expected {shape}.")
        if self._bounds is not None:
            low, high = self._bounds
            th = np.tanh(V)
            s1 = (high - low) / 2 * (1 - th**2)  # du/dv
            s2 = -2 * th * s1  # d2u/dv2
            fu = fu * s1[:, None, :]
            luu = luu * s1[:, :, None] * s1[:, None, :] + np.einsum(
                "tm,mk->tmk", lu * s2, np.eye(m))
            lu = lu * s1
            lux = lux * s1[:, :, None]
        return fx, fu, lx, lu, lxx, luu, lux, lfx, lfxx

    def _finite_differences(self, X, V, eps=1e-5):
        def jac(fn, z):
            z = z.detach().clone()
            base = torch.as_tensor(fn(z), dtype=torch.float64)
            out = torch.zeros(base.shape + z.shape, dtype=torch.float64)
            for i in range(z.numel()):
                dz = torch.zeros_like(z)
                dz[i] = eps
                out[..., i] = (torch.as_tensor(fn(z + dz), dtype=torch.float64)
                               - torch.as_tensor(fn(z - dz), dtype=torch.float64)) / (2 * eps)
            return out

        n, m = X.shape[1], V.shape[1]
        T = len(V)
        fx = torch.zeros(T, n, n, dtype=torch.float64)
        fu = torch.zeros(T, n, m, dtype=torch.float64)
        lx, lu = torch.zeros(T, n, dtype=torch.float64), torch.zeros(T, m, dtype=torch.float64)
        lxx = torch.zeros(T, n, n, dtype=torch.float64)
        luu = torch.zeros(T, m, m, dtype=torch.float64)
        lux = torch.zeros(T, m, n, dtype=torch.float64)
        for t in range(T):
            x, v = X[t], V[t]
            fx[t] = jac(lambda z: self._f(z, v), x)
            fu[t] = jac(lambda z: self._f(x, z), v)
            lx[t] = jac(lambda z: self._l(z, v), x)
            lu[t] = jac(lambda z: self._l(x, z), v)
            lxx[t] = jac(lambda z: jac(lambda w: self._l(w, v), z), x)
            luu[t] = jac(lambda z: jac(lambda w: self._l(x, w), z), v)
            lux[t] = jac(lambda z: jac(lambda w: self._l(x, w), v), x)
        lfx = jac(self._lf, X[-1])
        lfxx = jac(lambda z: jac(self._lf, z), X[-1])
        return fx, fu, lx, lu, lxx, luu, lux, lfx, lfxx

    def _backward(self, derivs, mu):
        fx, fu, lx, lu, lxx, luu, lux, Vx, Vxx = (np.asarray(d) for d in derivs)
        T, m = lu.shape
        if m == 1:
            return self._backward_scalar(fx, fu, lx, lu, lxx, luu, lux, Vx, Vxx, mu)
        k = np.zeros((T, m))
        K = np.zeros((T, m, fx.shape[1]))
        expected = 0.0
        for t in range(T - 1, -1, -1):
            Qx = lx[t] + fx[t].T @ Vx
            Qu = lu[t] + fu[t].T @ Vx
            Qxx = lxx[t] + fx[t].T @ Vxx @ fx[t]
            Quu = luu[t] + fu[t].T @ Vxx @ fu[t]
            Qux = lux[t] + fu[t].T @ Vxx @ fx[t]
            Quu_reg = Quu + mu * np.eye(m)
            try:
                L = np.linalg.cholesky((Quu_reg + Quu_reg.T) / 2)
            except np.linalg.LinAlgError:
                return None
            k[t] = -np.linalg.solve(L.T, np.linalg.solve(L, Qu))
            K[t] = -np.linalg.solve(L.T, np.linalg.solve(L, Qux))
            Vx = Qx + K[t].T @ Quu @ k[t] + K[t].T @ Qu + Qux.T @ k[t]
            Vxx = Qxx + K[t].T @ Quu @ K[t] + K[t].T @ Qux + Qux.T @ K[t]
            Vxx = (Vxx + Vxx.T) / 2
            expected += k[t] @ Qu + 0.5 * k[t] @ Quu @ k[t]
        return k, K, expected

    @staticmethod
    def _backward_scalar(fx, fu, lx, lu, lxx, luu, lux, Vx, Vxx, mu):
        """The backward pass for one control: Q_uu is a number (no factorisations)."""
        T = len(lu)
        k = np.zeros((T, 1))
        K = np.zeros((T, 1, fx.shape[1]))
        expected = 0.0
        for t in range(T - 1, -1, -1):
            A, b = fx[t], fu[t][:, 0]
            VxxA, Vxxb = Vxx @ A, Vxx @ b
            Qx = lx[t] + A.T @ Vx
            qu = lu[t, 0] + b @ Vx
            Qxx = lxx[t] + A.T @ VxxA
            quu = luu[t, 0, 0] + b @ Vxxb
            qux = lux[t, 0] + b @ VxxA
            if not quu + mu > 0:
                return None
            kt = -qu / (quu + mu)
            Kt = -qux / (quu + mu)
            k[t, 0], K[t, 0] = kt, Kt
            Vx = Qx + Kt * quu * kt + Kt * qu + qux * kt
            Vxx = Qxx + quu * np.outer(Kt, Kt) + np.outer(Kt, qux) + np.outer(qux, Kt)
            Vxx = (Vxx + Vxx.T) / 2
            expected += kt * qu + 0.5 * kt * quu * kt
        return k, K, expected

    # ------------------------------------------------------------- solving

    def solve(self, x0, U_init=None, n_iterations=None):
        """Optimise the controls from ``x0``.

        Parameters
        ----------
        x0 : array-like of shape (n,)
            Initial state.
        U_init : array-like of shape (horizon, m), default=None
            Initial controls (``None``: zeros, or mid-range when bounded).
        n_iterations : int, default=None
            Override of ``n_iterations`` for this call.

        Returns
        -------
        X : numpy.ndarray of shape (horizon + 1, n)
            Optimised states.
        U : numpy.ndarray of shape (horizon, m)
            Optimised controls.
        """
        self._check()
        x0 = np.asarray(x0, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(x0)):
            raise ValueError("x0 contains NaN or infinity.")
        x0 = x0 if self._numpy else torch.as_tensor(x0)
        T, m = int(self.horizon), int(self.n_action)
        if U_init is None:
            V = np.zeros((T, m))
        else:
            V = np.asarray(U_init, dtype=np.float64).reshape(T, m)
            if self._bounds is not None:
                V = _unsquash(V, *(np.asarray(b) for b in self._bounds))
        V = V if self._numpy else torch.as_tensor(V)
        X, cost = self._rollout(x0, V)
        if not np.isfinite(cost):
            raise ValueError(f"The initial trajectory's cost is {cost}: check the dynamics "
                             "and the cost.")
        history = [cost]
        mu = float(self.reg_init)
        K = np.zeros((T, m, len(x0)))
        iterations = int(self.n_iterations if n_iterations is None else n_iterations)
        it = 0
        for it in range(1, iterations + 1):
            derivs = self._derivatives(X, V)
            accepted = False
            while not accepted:
                back = self._backward(derivs, mu)
                if back is None:
                    mu = max(mu * 10, 1e-6)
                    if mu > 1e10:
                        break
                    continue
                k, K, expected = back
                for alpha in (1.0, 0.5, 0.25, 0.1, 0.05, 0.01):
                    Xn, Vn, new_cost = self._forward(x0, X, V, k, K, alpha)
                    if np.isfinite(new_cost) and new_cost < cost:
                        accepted = True
                        break
                if accepted:
                    break
                mu = max(mu * 10, 1e-6)
                if mu > 1e10:
                    break
            if not accepted:
                break  # no descent step: a local minimum (to the regularised model)
            improvement = cost - new_cost
            X, V, cost = Xn, Vn, new_cost
            history.append(cost)
            mu = mu / 10 if mu > 1e-6 else 0.0
            if improvement <= self.tol * max(1.0, abs(cost)):
                break
        self.X_ = np.asarray(X)
        self.U_ = np.asarray(self._control(V))
        self.K_ = K
        self.cost_history_ = history
        self.n_iter_ = it
        self._V = V
        return self.X_, self.U_

    def _forward(self, x0, X, V, k, K, alpha):
        if self._numpy:
            T = len(V)
            Xn = np.empty((T + 1, len(x0)))
            Vn = np.empty_like(V)
            Xn[0] = x0
            total = 0.0
            f, cost = self.dynamics, self.cost
            for t in range(T):
                v = V[t] if k is None else V[t] + alpha * k[t] + K[t] @ (Xn[t] - X[t])
                Vn[t] = v
                u = self._control(v)
                total += float(cost(Xn[t], u))
                Xn[t + 1] = f(Xn[t], u)
            total += float(self._lf(Xn[-1]))
            return Xn, Vn, total
        Xn = [x0]
        Vn = []
        total = 0.0
        k_t = torch.as_tensor(k)
        K_t = torch.as_tensor(K)
        with torch.no_grad():
            for t in range(len(V)):
                v = V[t] + alpha * k_t[t] + K_t[t] @ (Xn[-1] - X[t])
                Vn.append(v)
                total += float(self._l(Xn[-1], v))
                Xn.append(torch.as_tensor(self._f(Xn[-1], v), dtype=torch.float64))
            total += float(self._lf(Xn[-1]))
        return torch.stack(Xn), torch.stack(Vn), total

    def reset(self):
        """Forget the warm start (a new episode)."""
        self._warm = None

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        """MPC: re-solve from the observation, return the first control.

        Parameters
        ----------
        observation : array-like of shape (n,)
            The current state (one environment).
        state : None
            Recurrent state (unused; returned unchanged).
        episode_start : numpy.ndarray, default=None
            Where true, the warm start is dropped.
        deterministic : bool, default=True
            Unused.

        Returns
        -------
        action : numpy.ndarray of shape (m,)
            The first optimised control.
        state : None
            The recurrent state.
        """
        obs = np.asarray(observation, dtype=np.float64)
        if obs.ndim == 2:
            if obs.shape[0] != 1:
                raise ValueError("iLQR.predict plans for one environment at a time.")
            return self.predict(obs[0], state, episode_start, deterministic)[0][None], state
        if episode_start is not None and np.any(episode_start):
            self._warm = None
        first = self._warm is None
        U_init = None if first else self._warm
        iterations = int(self.n_iterations) if first else int(self.mpc_iterations)
        _, U = self.solve(obs, U_init=U_init, n_iterations=iterations)
        self._warm = np.concatenate([U[1:], U[-1:]], axis=0)
        return U[0].astype(np.float32), state
