r"""
Regularisation paths: ridge, lasso and the elastic net
======================================================

Chapter 12 adds a penalty to least squares (chapter 9):

.. math::

    \min_w \; \frac{1}{2n} \lVert y - Xw \rVert_2^2 + \alpha \Big( \rho \lVert w \rVert_1
    + \frac{1 - \rho}{2} \lVert w \rVert_2^2 \Big),

ridge for :math:`\rho = 0` (shrinks every weight, sets none to zero), the lasso for
:math:`\rho = 1` (sets weights exactly to zero one by one as :math:`\alpha` grows), the
elastic net in between. The paths below follow each weight as :math:`\alpha` decreases.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from mlnotes.linear_model import BayesianRidge, Ridge, enet_path, lasso_path
from mlnotes.preprocessing import PolynomialFeatures

X, y = load_diabetes(return_X_y=True)
X = (X - X.mean(axis=0)) / X.std(axis=0)
y = y - y.mean()

# %%
# Lasso, elastic net and ridge paths on the diabetes data
# -------------------------------------------------------
alphas_lasso, coefs_lasso, _ = lasso_path(X, y, alphas=100)
alphas_enet, coefs_enet, _ = enet_path(X, y, l1_ratio=0.5, alphas=100)
alphas_ridge = np.logspace(-2, 4, 60)
coefs_ridge = np.array([Ridge(alpha=a).fit(X, y).coef_ for a in alphas_ridge]).T

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, (title, alphas, coefs) in zip(axes, [
        ("lasso_path (l1_ratio=1)", alphas_lasso, coefs_lasso),
        ("enet_path (l1_ratio=0.5)", alphas_enet, coefs_enet),
        ("Ridge(alpha)", alphas_ridge, coefs_ridge)]):
    ax.semilogx(alphas, coefs.T)
    ax.invert_xaxis()
    ax.set_xlabel(r"$\alpha$ (decreasing)")
    ax.set_title(title, fontsize=10)
axes[0].set_ylabel("coefficients")
fig.tight_layout()
plt.show()

# %%
# Overfitting a polynomial, and what the penalty buys (chapters 9, 11, 12)
# ------------------------------------------------------------------------
# A degree-12 polynomial fitted to 15 noisy points of :math:`\sin(2\pi x)`: least
# squares (a tiny :math:`\alpha`) interpolates the noise, ridge with a moderate
# :math:`\alpha` follows the curve, and Bayesian ridge (chapter 11) picks its own
# penalty by maximising the evidence.
rng = np.random.default_rng(1)
x = np.sort(rng.uniform(0, 1, 15))
t = np.sin(2 * np.pi * x) + rng.normal(0, 0.2, x.size)
grid = np.linspace(0, 1, 300)
poly = PolynomialFeatures(degree=12, include_bias=False)
P, P_grid = poly.fit_transform(x[:, None]), poly.transform(grid[:, None])
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(grid, np.sin(2 * np.pi * grid), "k--", lw=1, label=r"$\sin(2\pi x)$")
for alpha in [1e-8, 1e-3]:
    model = Ridge(alpha=alpha).fit(P, t)
    ax.plot(grid, model.predict(P_grid), label=f"Ridge(alpha={alpha:g})")
bayes = BayesianRidge().fit(P, t)
ax.plot(grid, bayes.predict(P_grid), label="BayesianRidge (evidence)")
ax.scatter(x, t, c="k", s=15, zorder=3)
ax.set_ylim(-2, 2)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
