r"""
Learning-theory bounds against simulation
==========================================

Chapter 22's bounds hold for every distribution, so they are loose for any particular
one. Hoeffding's inequality bounds the deviation of a mean of :math:`n` independent
variables in :math:`[0, 1]` from its expectation,

.. math::

    P\big(|\hat\mu_n - \mu| > \varepsilon\big) \le 2 \exp(-2 n \varepsilon^2),

and the union bound over a finite class of :math:`|H|` hypotheses, or the VC bound for
an infinite one, turns it into a guarantee on the gap between training and true error.
Here both sides are computed: the bound by :mod:`mlnotes.learning_theory`, the
probability by simulating coin flips.
"""

import matplotlib.pyplot as plt
import numpy as np

from mlnotes.learning_theory import finite_class_bound, hoeffding_bound, vc_bound

rng = np.random.default_rng(0)

# %%
# Hoeffding's bound vs the simulated tail probability
# ---------------------------------------------------
# 20,000 repeated experiments of :math:`n` Bernoulli(0.5) flips each; the empirical
# frequency of :math:`|\hat\mu_n - 0.5| > \varepsilon` never exceeds the bound.
eps = 0.1
ns = np.arange(10, 401, 10)
means = [rng.binomial(n, 0.5, size=20_000) / n for n in ns]
simulated = [np.mean(np.abs(m - 0.5) > eps) for m in means]
bound = [hoeffding_bound(n, eps) for n in ns]
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.semilogy(ns, bound, label=r"hoeffding_bound: $2e^{-2n\varepsilon^2}$")
ax.semilogy(ns, np.maximum(simulated, 1e-5), "o", ms=3,
            label="simulated frequency (20,000 runs)")
ax.set_xlabel("n samples")
ax.set_ylabel(r"$P(|\hat\mu_n - \mu| > 0.1)$")
ax.set_ylim(1e-5, 2)
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Generalisation gap of threshold classifiers
# -------------------------------------------
# Hypotheses :math:`h_t(x) = 1[x > t]` on :math:`x \sim U(0, 1)` with labels
# :math:`1[x > 0.3]` flipped with probability 0.1. Over a grid of 100 thresholds (a
# finite class) the worst gap :math:`\max_t |\hat R(h_t) - R(h_t)|` over 200 repeated
# training sets is compared with its 95% bounds: the union bound over :math:`|H| = 100`
# and the VC bound with VC dimension 1.
thresholds = np.linspace(0, 1, 100)
noise, delta = 0.1, 0.05


def true_risk(t):
    # error of 1[x > t] against 1[x > 0.3] with 10% label noise
    disagree = np.abs(t - 0.3)
    return disagree * (1 - noise) + (1 - disagree) * noise


ns = np.array([50, 100, 200, 400, 800, 1600])
worst_gap = []
for n in ns:
    gaps = []
    for _ in range(200):
        x = rng.uniform(size=n)
        labels = (x > 0.3) ^ (rng.uniform(size=n) < noise)
        emp = np.mean((x[None, :] > thresholds[:, None]) != labels[None, :], axis=1)
        gaps.append(np.max(np.abs(emp - true_risk(thresholds))))
    worst_gap.append(np.quantile(gaps, 1 - delta))

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.loglog(ns, [finite_class_bound(100, n, delta) for n in ns], label="finite_class_bound")
ax.loglog(ns, [vc_bound(n, 1, delta) for n in ns], label="vc_bound (VC dim 1)")
ax.loglog(ns, worst_gap, "o-", label="simulated 95% quantile of the worst gap")
ax.set_xlabel("n samples")
ax.set_ylabel("generalisation gap")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Both bounds decay as :math:`1/\sqrt{n}`, like the simulated gap, but sit several
# times above it: they must hold for the worst distribution, not this one.
