r"""
Kernels: SVMs, kernel ridge and the kernel perceptron
=====================================================

A kernel :math:`k(x, x') = \langle \phi(x), \phi(x') \rangle` lets a linear method
work in the feature space :math:`\phi` without computing it (chapter 14). The soft-margin
SVM of chapter 4 solves the dual

.. math::

    \max_{\alpha} \sum_i \alpha_i - \frac{1}{2} \sum_{i,j} \alpha_i \alpha_j y_i y_j
    k(x_i, x_j) \quad \text{s.t. } 0 \le \alpha_i \le C, \; \sum_i \alpha_i y_i = 0,

and predicts :math:`\operatorname{sign}(\sum_i \alpha_i y_i k(x_i, x) + b)`: only the
support vectors (:math:`\alpha_i > 0`, circled below) matter.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

from mlnotes.kernel_ridge import KernelRidge
from mlnotes.linear_model import KernelPerceptron
from mlnotes.svm import SVC

X, y = make_moons(n_samples=200, noise=0.2, random_state=0)
xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 150), np.linspace(-1.2, 1.7, 150))
grid = np.c_[xx.ravel(), yy.ravel()]

# %%
# SVC with four kernels
# ---------------------
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), sharey=True)
for ax, kernel in zip(axes, ["linear", "poly", "rbf", "sigmoid"]):
    params = {"gamma": 0.5, "coef0": -1.0} if kernel == "sigmoid" else {}
    clf = SVC(kernel=kernel, C=1.0, **params).fit(X, y)
    zz = clf.decision_function(grid).reshape(xx.shape)
    ax.contourf(xx, yy, zz, levels=20, cmap="RdBu_r", alpha=0.7)
    ax.contour(xx, yy, zz, levels=[-1, 0, 1], colors="k",
               linestyles=["--", "-", "--"], linewidths=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=10, edgecolors="k",
               linewidths=0.2)
    sv = clf.support_vectors_
    ax.scatter(sv[:, 0], sv[:, 1], s=40, facecolors="none", edgecolors="k",
               linewidths=0.6)
    ax.set_title(f"SVC(kernel={kernel!r})\n{len(sv)} support vectors, "
                 f"accuracy {clf.score(X, y):.2f}", fontsize=9)
fig.tight_layout()
plt.show()

# %%
# The same RBF kernel in three methods
# ------------------------------------
# Kernel ridge regression on the labels :math:`\pm 1` (closed form
# :math:`\alpha = (K + \lambda I)^{-1} y`), the kernel perceptron (mistake-driven)
# and the SVM (margin) give similar boundaries from very different objectives.
models = {
    "KernelRidge(rbf), sign of f(x)": KernelRidge(kernel="rbf", gamma=2.0, alpha=0.1),
    "KernelPerceptron(rbf)": KernelPerceptron(kernel="rbf", gamma=2.0, random_state=0),
    "SVC(rbf, gamma=2)": SVC(kernel="rbf", gamma=2.0),
}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharey=True)
for ax, (name, model) in zip(axes, models.items()):
    target = 2.0 * y - 1.0 if isinstance(model, KernelRidge) else y
    model.fit(X, target)
    zz = model.predict(grid).reshape(xx.shape)
    zz = zz > 0 if isinstance(model, KernelRidge) else zz
    ax.contourf(xx, yy, zz, levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fdae6b"],
                alpha=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=10, edgecolors="k",
               linewidths=0.2)
    ax.set_title(name, fontsize=9)
fig.tight_layout()
plt.show()
