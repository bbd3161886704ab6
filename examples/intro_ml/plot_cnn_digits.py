r"""
A convolutional network on the digits: learning curves, filters, mistakes
=========================================================================

Chapter 17 of the notes replaces the dense first layer of a network by a
**convolution**: each output map :math:`c'` correlates every input map with a small
learned kernel,

.. math::

    z_{c'}(i, j) = b_{c'} + \sum_{c} \sum_{u, v} K_{c' c}(u, v)\, a_c(i + u, j + v),

so the same weights detect a stroke wherever it sits in the image (weight sharing),
with :math:`C_\text{out} C_\text{in} k^2` parameters instead of one per pixel pair.
Max pooling then keeps the strongest response of each :math:`2 \times 2` block.

:class:`~mlnotes.neural_network.CNNClassifier` takes the image shape as a parameter
(``image_shape=(8, 8)`` for scikit-learn's 8 x 8 digits) and otherwise behaves like
:class:`~mlnotes.neural_network.MLPClassifier`. We compare it with a dense network of
about the same size on held-out digits, look at the learned kernels, and at the digits
it still gets wrong. The budget is small (float32 input, 40 epochs);
:ref:`benchmark-neural_network` has the full comparison with scikit-learn.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mlnotes.neural_network import CNNClassifier, MLPClassifier

torch.set_num_threads(1)
# short budgets on purpose: the optimiser's "not converged" warning is expected
warnings.filterwarnings("ignore", category=ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)  # convolutions are several times faster in float32 on CPU
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

# %%
# Train a small CNN and a dense network of similar size
# ------------------------------------------------------
# The CNN has 8 and 16 feature maps of 3 x 3 kernels and a dense layer of 64 units;
# the MLP one hidden layer of 64 units.
cnn = CNNClassifier(image_shape=(8, 8), conv_channels=(8, 16), hidden_layer_sizes=(64,),
                    max_iter=40, random_state=0).fit(X_train, y_train)
mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=40,
                    random_state=0).fit(X_train, y_train)
for name, model in [("CNN", cnn), ("MLP", mlp)]:
    n_params = sum(p.numel() for p in model.module_.parameters()) if hasattr(
        model, "module_") else sum(w.size for w in model.coefs_ + model.intercepts_)
    print(f"{name}: test accuracy {model.score(X_test, y_test):.3f}, "
          f"{n_params} parameters, {model.n_iter_} epochs")

# %%
# Training loss per epoch
# -----------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(cnn.loss_curve_, label="CNNClassifier")
ax.semilogy(mlp.loss_curve_, label="MLPClassifier")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy + L2)")
ax.legend()
fig.tight_layout()

# %%
# The first layer's kernels
# -------------------------
# Each 3 x 3 kernel of the first convolution is a small stroke detector: positive
# weights (red) where it wants ink, negative (blue) where it wants none.
conv = next(m for m in cnn.module_.modules() if isinstance(m, torch.nn.Conv2d))
kernels = conv.weight.detach().numpy()[:, 0]
fig, axes = plt.subplots(1, len(kernels), figsize=(1.2 * len(kernels), 1.6))
for ax, k in zip(axes, kernels):
    lim = np.abs(k).max()
    ax.imshow(k, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("first-layer kernels of the CNN")
fig.tight_layout()

# %%
# The test digits the CNN gets wrong
# ----------------------------------
# With the predicted label and the probability the network gives it.
proba = cnn.predict_proba(X_test)
pred = cnn.classes_[proba.argmax(axis=1)]
wrong = np.flatnonzero(pred != y_test)[:8]
fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(1.5 * max(len(wrong), 1), 2.0),
                         squeeze=False)
for ax, i in zip(axes[0], wrong):
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{y_test[i]} -> {pred[i]}\np={proba[i].max():.2f}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"{(pred != y_test).sum()} of {len(y_test)} test digits misclassified "
             "(true -> predicted)")
fig.tight_layout()
plt.show()
