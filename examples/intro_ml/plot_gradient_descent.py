r"""
Gradient descent, momentum, Adam and Newton's method
====================================================

Chapter 3 minimises a differentiable :math:`f` by steps against the gradient,
:math:`x_{k+1} = x_k - \eta \nabla f(x_k)`; momentum adds a fraction of the previous
step, Adam rescales each coordinate by a running estimate of the gradient's magnitude,
and a backtracking line search picks :math:`\eta` by halving it until the Armijo
condition :math:`f(x - \eta \nabla f) \le f(x) - c \, \eta \lVert \nabla f \rVert^2`
holds. Newton's method (chapter 10) uses the curvature too,
:math:`x_{k+1} = x_k - [\nabla^2 f(x_k)]^{-1} \nabla f(x_k)`, and on a quadratic it
lands on the minimum in one step.
"""

import matplotlib.pyplot as plt
import numpy as np

from mlnotes.optim import adam, gradient_descent, newton

# %%
# An ill-conditioned quadratic and the Rosenbrock valley
# ------------------------------------------------------
H = np.array([[10.0, 0.0], [0.0, 1.0]])


def quad(x):
    return 0.5 * x @ H @ x


def quad_grad(x):
    return H @ x


def rosen(x):
    return (1 - x[0]) ** 2 + 10 * (x[1] - x[0] ** 2) ** 2


def rosen_grad(x):
    return np.array([-2 * (1 - x[0]) - 40 * x[0] * (x[1] - x[0] ** 2),
                     20 * (x[1] - x[0] ** 2)])


def rosen_hess(x):
    return np.array([[2 - 40 * (x[1] - x[0] ** 2) + 80 * x[0] ** 2, -40 * x[0]],
                     [-40 * x[0], 20.0]])


def newton_path(fun, grad, hess, x0):
    points = [np.array(x0, dtype=float)]
    newton(fun, x0, grad=grad, hess=hess, tol=1e-10,
           callback=lambda xk, *args: points.append(np.array(xk, dtype=float)))
    return np.array(points)


problems = {
    "quadratic, condition number 10": (quad, quad_grad, lambda x: H, [-1.8, 1.6],
                                       (-2, 2, -2, 2), 0.15),
    "Rosenbrock (a=1, b=10)": (rosen, rosen_grad, rosen_hess, [-1.5, 1.5],
                               (-2, 2, -1, 3), 0.02),
}

# %%
# Paths of five methods
# ---------------------
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
for ax, (title, (f, g, h, x0, box, lr)) in zip(axes, problems.items()):
    xx, yy = np.meshgrid(np.linspace(*box[:2], 200), np.linspace(*box[2:], 200))
    zz = np.array([f(p) for p in np.c_[xx.ravel(), yy.ravel()]]).reshape(xx.shape)
    ax.contour(xx, yy, np.log1p(zz), levels=25, cmap="Greys", linewidths=0.6)
    runs = {
        f"gradient descent, lr={lr}": gradient_descent(f, x0, grad=g, learning_rate=lr,
                                                       max_iter=300, store_x=True),
        "momentum 0.9": gradient_descent(f, x0, grad=g, learning_rate=lr / 5,
                                         momentum=0.9, max_iter=300, store_x=True),
        "backtracking line search": gradient_descent(f, x0, grad=g,
                                                     line_search="armijo",
                                                     max_iter=300, store_x=True),
        "adam, lr=0.1": adam(f, x0, grad=g, learning_rate=0.1, max_iter=300,
                             store_x=True),
    }
    for name, res in runs.items():
        path = np.asarray(res.x_history)
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1,
                label=f"{name} ({res.n_iter} it.)")
    path = newton_path(f, g, h, x0)
    ax.plot(path[:, 0], path[:, 1], "o-", color="k", ms=4, lw=1.5,
            label=f"Newton ({len(path) - 1} it.)")
    ax.plot(1.0 if "Rosen" in title else 0.0, 1.0 if "Rosen" in title else 0.0,
            "r*", ms=14)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()
