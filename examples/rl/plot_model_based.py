r"""
Model-based RL: an ensemble of dynamics models and its uncertainty
==================================================================

Chapters 34-35 of the notes. A model-based agent learns the dynamics
:math:`s_{t+1} = f(s_t, a_t)` and plans with the model. With little data the model is
wrong away from it, and a planner will exploit exactly those errors; a **bootstrapped
ensemble of probabilistic networks** says where it does not know. Each member
:math:`e` predicts a Gaussian :math:`\mathcal N(\mu_e(x), \sigma_e^2(x))` and is fitted
by the negative log-likelihood on its own bootstrap sample; the ensemble's predictive
distribution is their mixture, whose variance splits into noise and disagreement,

.. math::

    \operatorname{Var}[y \mid x] = \underbrace{\frac1E \sum_e \sigma_e^2(x)}_{\text{aleatoric}}
    + \underbrace{\frac1E \sum_e \big(\mu_e(x) - \bar\mu(x)\big)^2}_{\text{epistemic}}.

:class:`~mlnotes.rl.DynamicsEnsemble` is that model as a scikit-learn regressor;
:class:`~mlnotes.rl.PETS` plans through it with the cross-entropy method, scoring each
candidate action sequence by the mean return of sampled model rollouts, and
:class:`~mlnotes.rl.MBPO` uses short model rollouts to feed SAC. The runs at full
budget are in the
:ref:`user guide <rl-planning>`.
"""

import gymnasium as gym
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from mlnotes.rl import DynamicsEnsemble

torch.set_num_threads(1)
# short budgets on purpose: the optimiser's "not converged" warning is expected
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# Uncertainty of an ensemble on 1-D data with a gap
# -------------------------------------------------
# Noisy samples of :math:`\sin 2x` on two intervals; between and beyond them only
# the members' disagreement tells the model it is guessing.
rng = np.random.default_rng(0)
X = np.concatenate([rng.uniform(-3, -1, 150), rng.uniform(1, 3, 150)])[:, None]
y = np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=len(X))
model = DynamicsEnsemble(hidden_layer_sizes=(64, 64), max_iter=300, batch_size=64,
                         learning_rate_init=5e-3, random_state=0).fit(X, y)
grid = np.linspace(-5, 5, 300)[:, None]
mean, std = model.predict(grid, return_std=True)
members = model.predict_members(grid)

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.fill_between(grid[:, 0], mean - 2 * std, mean + 2 * std, color="C0", alpha=0.2,
                label="ensemble mean ± 2 std")
for m in members[0][:, :, 0]:  # the members' means
    ax.plot(grid[:, 0], m, color="C0", lw=0.7, alpha=0.6)
ax.plot(grid[:, 0], mean, color="C0", lw=2, label="ensemble mean")
ax.plot(X[:, 0], y, "k.", ms=3, label="training data")
ax.plot(grid[:, 0], np.sin(2 * grid[:, 0]), "k--", lw=1, label=r"$\sin 2x$")
ax.set_ylim(-3, 3)
ax.set_xlabel("x")
ax.legend(loc="lower left", fontsize=8)
ax.set_title("DynamicsEnsemble: 5 members (thin lines), bootstrap + Gaussian NLL")
fig.tight_layout()

# %%
# A learned Pendulum model, rolled out open loop
# ----------------------------------------------
# The same ensemble learns Pendulum-v1's dynamics from 300 transitions of random
# actions: inputs :math:`[s, a]` with :math:`s = (\cos\theta, \sin\theta,
# \dot\theta)`, targets :math:`s' - s` (what :class:`~mlnotes.rl.PETS` fits, with the
# reward). Fed its own predictions, each member drifts from the true trajectory of a
# new episode, and the members drift apart: the spread is the warning a planner
# needs (PETS averages its candidates' returns over particles tied to members).
env = gym.make("Pendulum-v1")
env.action_space.seed(0)
inputs, targets = [], []
obs, _ = env.reset(seed=0)
for t in range(300):
    action = env.action_space.sample()
    nxt, _, terminated, truncated, _ = env.step(action)
    inputs.append(np.concatenate([obs, action]))
    targets.append(nxt - obs)
    obs = nxt if not (terminated or truncated) else env.reset()[0]
dynamics = DynamicsEnsemble(hidden_layer_sizes=(64, 64), max_iter=100, batch_size=64,
                            random_state=0).fit(np.array(inputs), np.array(targets))

# a new episode, its actions replayed through the model by every member
obs, _ = env.reset(seed=123)
true_states, actions = [obs], []
for t in range(80):
    actions.append(env.action_space.sample())
    obs = env.step(actions[-1])[0]
    true_states.append(obs)
true_states = np.array(true_states)
states = np.repeat(true_states[:1], dynamics.n_members, axis=0)
rollouts = [states]
for a in actions:
    rows = np.hstack([states, np.repeat(a[None], dynamics.n_members, axis=0)])
    member_means = dynamics.predict_members(rows)[0]  # (members, rows, outputs)
    states = states + member_means[np.arange(dynamics.n_members),
                                   np.arange(dynamics.n_members)]
    rollouts.append(states)
rollouts = np.array(rollouts)  # (time, members, 3)

fig, ax = plt.subplots(figsize=(7, 3.8))
theta = np.arctan2(true_states[:, 1], true_states[:, 0])
ax.plot(np.unwrap(theta), "k", lw=2, label="true angle")
for e in range(dynamics.n_members):
    pred = np.unwrap(np.arctan2(rollouts[:, e, 1], rollouts[:, e, 0]))
    ax.plot(pred, color="C0", lw=1, alpha=0.8, label="members' rollouts" if e == 0
            else None)
ax.set_xlabel("steps ahead (open loop)")
ax.set_ylabel(r"$\theta$ (rad)")
ax.set_title("Pendulum-v1: 5 members rolled out on their own predictions")
ax.legend()
fig.tight_layout()
plt.show()
print(f"mean angle error of the members after 10 / 80 steps: "
      f"{np.abs(np.unwrap(np.arctan2(rollouts[:, :, 1], rollouts[:, :, 0]), axis=0)[[10, 80]] - np.unwrap(theta)[[10, 80], None]).mean(axis=1).round(3)} rad")

# %%
# With a planner on top (CEM over horizon-20 action sequences, 5 particles), PETS
# reaches a return of about -124 on Pendulum-v1 after 3,000 environment steps, where
# model-free SAC needs 15-20k; a run costs minutes of CPU, too long for this page
# (``python -m benchmarks.mbrl_pendulum --agent PETS``, see the user guide).
