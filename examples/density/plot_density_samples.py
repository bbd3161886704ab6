r"""
Samples of every density model beside the data
==============================================

The models of chapters 48 to 52 all learn a distribution :math:`p_\theta(x)` from
samples, and all can draw new ones. They differ in what they can compute: a histogram
or a discretised logistic mixture (chapter 48) gives exact probabilities of discrete
values; a flow (chapter 49) gives an exact log density through the change of variables

.. math::

    \log p_\theta(x) = \log p_Z\big(f_\theta(x)\big)
    + \log \left| \det \frac{\partial f_\theta(x)}{\partial x} \right|;

a VAE (chapter 50) a lower bound on it, the ELBO
:math:`\mathbb E_{q(z \mid x)}[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))`;
a diffusion model (chapter 52) a variational bound too; a GAN (chapter 51) nothing at
all, only samples. Training here is short (a few seconds per model): the flows already
follow the moons, the VAE, GAN and diffusion model only roughly.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from mlnotes.datasets import make_two_moons
from mlnotes.density import (
    DDPM,
    GAN,
    MAF,
    VAE,
    DiscretizedLogisticMixture,
    Histogram,
    RealNVP,
)

torch.set_num_threads(1)
# The budgets below are short on purpose (seconds per model): the VAE and DDPM stop
# at max_iter before their loss has settled, which they report with a
# ConvergenceWarning that this example does not print.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# One dimension, discrete values (chapter 48)
# -------------------------------------------
# Integers in :math:`\{0, \dots, 40\}` from a two-bump distribution: the histogram
# (with add-one smoothing, ``alpha=1``) puts mass on every level; the mixture of
# discretised logistics is a smooth parametric fit with 2 components.
rng = np.random.default_rng(0)
x1 = np.concatenate([rng.logistic(12, 2.0, 300), rng.logistic(28, 3.0, 200)])
x1 = np.clip(np.round(x1), 0, 40)[:, None]
hist = Histogram(n_levels=41).fit(x1)
mix = DiscretizedLogisticMixture(n_components=2, n_levels=41, random_state=0).fit(x1)
levels = np.arange(41)[:, None]
fig, ax = plt.subplots(figsize=(7, 3.5))
counts = np.bincount(x1[:, 0].astype(int), minlength=41) / len(x1)
ax.bar(levels[:, 0], counts, color="0.8", label="data frequencies")
ax.step(levels[:, 0], np.exp(hist.score_samples(levels)), where="mid",
        label="Histogram")
ax.plot(levels[:, 0], np.exp(mix.score_samples(levels)), "o-", ms=3,
        label="DiscretizedLogisticMixture(2)")
ax.set_xlabel("value")
ax.set_ylabel("probability")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Two moons, five continuous models (chapters 49 to 52)
# -----------------------------------------------------
# Each model is fitted on the same 1,000 points and draws 1,000 samples. The title
# gives the average log likelihood of the training points in nats where the model
# has one (for the VAE and DDPM, a lower bound); the true entropy of this density is
# about 1.0 nats, so a perfect model would score about -1.0.
X = make_two_moons(1000, random_state=0)
X = X[0] if isinstance(X, tuple) else X
fast = {"batch_size": 64, "random_state": 0}
models = {
    "RealNVP (ch 49)": RealNVP(max_iter=60, learning_rate_init=0.005, **fast),
    "MAF (ch 49)": MAF(max_iter=80, learning_rate_init=0.005, **fast),
    "VAE (ch 50)": VAE(max_iter=200, **fast),
    "GAN, WGAN-GP (ch 51)": GAN(max_iter=60, random_state=0),
    "DDPM (ch 52)": DDPM(max_iter=250, learning_rate_init=0.005, **fast),
}
fig, axes = plt.subplots(2, 3, figsize=(10, 6.5), sharex=True, sharey=True)
axes = axes.ravel()
axes[0].scatter(X[:, 0], X[:, 1], s=2, c="k")
axes[0].set_title("data")
for ax, (name, model) in zip(axes[1:], models.items()):
    model.fit(X)
    samples = model.sample(1000, random_state=0)
    samples = samples[0] if isinstance(samples, tuple) else samples
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="C0")
    score = "" if isinstance(model, GAN) else f"\n{model.score(X):.2f} nats"
    ax.set_title(name + score, fontsize=9)
axes[0].set_xlim(-2.5, 3.5)
axes[0].set_ylim(-2, 2.5)
fig.tight_layout()
plt.show()
