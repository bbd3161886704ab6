r"""
Multi-armed bandits: regret of epsilon-greedy, UCB1 and Thompson sampling
=========================================================================

Exploration (chapters 36 and 37) in its simplest setting: :math:`K` arms with unknown
means :math:`\mu_a`, and the regret after :math:`T` pulls
:math:`R_T = T \mu^* - \mathbb E \sum_t \mu_{a_t}`. A fixed :math:`\varepsilon` of
random pulls gives linear regret; UCB1 pulls the arm with the largest
:math:`\hat\mu_a + \sqrt{2 \log t / n_a}` and its regret grows like :math:`\log T`;
no algorithm beats the Lai-Robbins lower bound

.. math::

    \liminf_{T \to \infty} \frac{R_T}{\log T} \ge \sum_{a : \mu_a < \mu^*}
    \frac{\mu^* - \mu_a}{\mathrm{KL}(\mu_a \,\|\, \mu^*)},

which Thompson sampling (sample a mean from each arm's Beta posterior, pull the best)
matches asymptotically.
"""

import matplotlib.pyplot as plt
import numpy as np

from mlnotes.rl.bandits import (
    BernoulliBandit,
    EpsilonGreedy,
    ThompsonSampling,
    UCB1,
    lai_robbins_bound,
    simulate,
    ucb1_regret_bound,
)

means = [0.3, 0.45, 0.5, 0.6]
horizon = 2_000
bandit = BernoulliBandit(means)

# %%
# Average cumulative regret over 200 runs
# ---------------------------------------
policies = {"EpsilonGreedy(0.1)": EpsilonGreedy(0.1), "UCB1()": UCB1(),
            "ThompsonSampling()": ThompsonSampling()}
t = np.arange(1, horizon + 1)
fig, ax = plt.subplots(figsize=(7, 4.2))
for name, policy in policies.items():
    regret = simulate(bandit, policy, horizon, n_runs=200, random_state=0)
    mean = regret.mean(axis=0)
    ax.plot(t, mean, label=name)
    ax.fill_between(t, np.quantile(regret, 0.1, axis=0), np.quantile(regret, 0.9, axis=0),
                    alpha=0.15)
ax.plot(t, [lai_robbins_bound(means, n) for n in t], "k--",
        label="lai_robbins_bound (asymptotic lower bound)")
ax.plot(t, [ucb1_regret_bound(means, n) for n in t], "k:",
        label="ucb1_regret_bound (upper bound on UCB1)")
ax.set_xscale("log")
ax.set_ylim(0, 120)
ax.set_xlabel("pulls T (log scale)")
ax.set_ylabel("cumulative regret")
ax.set_title(f"Bernoulli arms {means}")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# On a log axis, UCB1's and Thompson sampling's regret become straight lines
# (logarithmic growth) while epsilon-greedy keeps paying 10% random pulls; UCB1's
# proven upper bound is far above its actual regret.
