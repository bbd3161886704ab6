r"""
Optimal control: the linear-quadratic regulator
===============================================

For linear dynamics :math:`x_{t+1} = A x_t + B u_t` and quadratic cost
:math:`\sum_t x_t^\top Q x_t + u_t^\top R u_t` (chapter 33), the optimal policy is
linear, :math:`u_t = -K x_t`, with :math:`K = (R + B^\top P B)^{-1} B^\top P A` and
:math:`P` the fixed point of the Riccati recursion

.. math::

    P = Q + A^\top P A - A^\top P B (R + B^\top P B)^{-1} B^\top P A.

Here a double integrator (position and velocity, pushed by a force) is driven to the
origin; a larger control cost :math:`R` gives a gentler, slower controller.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import solve_discrete_are

from mlnotes.rl import LQR

dt = 0.1
A = np.array([[1.0, dt], [0.0, 1.0]])
B = np.array([[0.0], [dt]])
Q = np.eye(2)

# %%
# The gain against SciPy's Riccati solver
# ---------------------------------------
lqr = LQR(A, B, Q, np.eye(1)).fit()
P = solve_discrete_are(A, B, Q, np.eye(1))
K_ref = np.linalg.solve(np.eye(1) + B.T @ P @ B, B.T @ P @ A)
print("LQR gain K_:", lqr.K_, " from scipy's DARE:", K_ref)

# %%
# Closed-loop trajectories for three control costs
# ------------------------------------------------
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for r in [0.01, 1.0, 100.0]:
    ctrl = LQR(A, B, Q, r * np.eye(1)).fit()
    x, xs, us = np.array([1.0, 0.0]), [], []
    for _ in range(120):
        u, _ = ctrl.predict(x)
        xs.append(x)
        us.append(u[0])
        x = A @ x + B @ np.atleast_1d(u)
    xs = np.array(xs)
    time = np.arange(len(xs)) * dt
    axes[0].plot(time, xs[:, 0], label=f"R = {r:g}")
    axes[1].plot(time, xs[:, 1])
    axes[2].plot(time, us)
for ax, title in zip(axes, ["position", "velocity", "force u = -Kx"]):
    ax.set_title(title)
    ax.set_xlabel("time (s)")
axes[0].legend()
fig.tight_layout()
plt.show()
