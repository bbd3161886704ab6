r"""
Bayes decisions: losses, priors and the reject option
=====================================================

Chapter 6 separates modelling from deciding. Given class posteriors
:math:`p(k \mid x)` and a loss :math:`L(j, k)` for deciding :math:`j` when the truth is
:math:`k`, the Bayes decision minimises the expected loss

.. math::

    \hat y(x) = \arg\min_j \sum_k L(j, k) \, p(k \mid x),

and with a reject option of cost :math:`c` the classifier abstains whenever
:math:`\min_j \sum_k L(j, k) p(k \mid x) > c`. The same fitted Gaussian model
(QDA) gives different decision regions under different losses.
"""

import matplotlib.pyplot as plt
import numpy as np

from mlnotes.discriminant_analysis import (
    BayesDecisionClassifier,
    QuadraticDiscriminantAnalysis,
)

rng = np.random.default_rng(0)
X = np.vstack([rng.normal([-1, 0], 1.0, (200, 2)), rng.normal([1.2, 0.5], 0.8, (200, 2))])
y = np.repeat([0, 1], 200)

rules = {
    "0-1 loss (most probable class)": BayesDecisionClassifier(
        QuadraticDiscriminantAnalysis()),
    "missing class 1 costs 5x": BayesDecisionClassifier(
        QuadraticDiscriminantAnalysis(), loss=[[0, 5], [1, 0]]),
    "reject when the risk exceeds 0.2": BayesDecisionClassifier(
        QuadraticDiscriminantAnalysis(), reject_cost=0.2),
}

# %%
# Decision regions (grey: rejected)
# ---------------------------------
xx, yy = np.meshgrid(np.linspace(-4, 4, 200), np.linspace(-3.5, 3.5, 200))
grid = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, (name, clf) in zip(axes, rules.items()):
    clf.fit(X, y)
    zz = clf.predict(grid).reshape(xx.shape)
    ax.contourf(xx, yy, zz, levels=[-1.5, -0.5, 0.5, 1.5],
                colors=["#d9d9d9", "#9ecae1", "#fdae6b"], alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=6, edgecolors="k",
               linewidths=0.2)
    pred = clf.predict(X)
    kept = pred != -1
    ax.set_title(f"{name}\nrejected {np.mean(~kept):.0%}, error on the rest "
                 f"{np.mean(pred[kept] != y[kept]):.2f}", fontsize=9)
fig.tight_layout()
plt.show()
