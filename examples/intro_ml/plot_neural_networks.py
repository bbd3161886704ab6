r"""
Neural networks: decision boundaries and training curves
========================================================

A multilayer perceptron (chapter 15) composes affine maps and non-linearities,
:math:`h_{l} = \sigma(W_l h_{l-1} + b_l)`, and is trained by backpropagation on the
cross-entropy :math:`-\frac{1}{n}\sum_i \log p_\theta(y_i \mid x_i)` plus an L2 penalty
:math:`\frac{\alpha}{2n} \lVert W \rVert^2`. Chapter 16's heuristics (the optimiser,
dropout, batch normalisation, early stopping) change how fast and how smoothly it
gets there; they are all options of :class:`~mlnotes.neural_network.MLPClassifier`.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from mlnotes.neural_network import MLPClassifier

torch.set_num_threads(1)
X, y = make_moons(n_samples=300, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0)

models = {
    "adam, alpha=1e-4": MLPClassifier((32, 32), max_iter=300, random_state=0),
    "adam, alpha=1.0 (strong L2)": MLPClassifier((32, 32), alpha=1.0, max_iter=300,
                                                 random_state=0),
    "sgd + momentum 0.9": MLPClassifier((32, 32), solver="sgd", learning_rate_init=0.05,
                                        max_iter=300, random_state=0),
    "adam + dropout 0.2 + batch norm": MLPClassifier((32, 32), dropout=0.2,
                                                     batch_norm=True, max_iter=300,
                                                     random_state=0),
}

# %%
# Decision boundaries (probability of class 1)
# --------------------------------------------
xx, yy = np.meshgrid(np.linspace(-2, 3, 120), np.linspace(-1.6, 2.0, 120))
grid = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), sharey=True)
for ax, (name, model) in zip(axes, models.items()):
    model.fit(X_train, y_train)
    proba = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.7)
    ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap="coolwarm", s=8,
               edgecolors="k", linewidths=0.2)
    ax.set_title(f"{name}\ntest accuracy {model.score(X_test, y_test):.2f}",
                 fontsize=9)
fig.tight_layout()
plt.show()

# %%
# Training loss per epoch
# -----------------------
# ``loss_curve_`` holds the training objective after each epoch, as in scikit-learn.
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, model in models.items():
    ax.plot(model.loss_curve_, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
