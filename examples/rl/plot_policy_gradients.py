r"""
Policy gradients: REINFORCE and the natural policy gradient on CartPole
=======================================================================

Chapter 28 of the notes. The policy-gradient theorem writes the gradient of the
expected return as an expectation over the policy's own trajectories,

.. math::

    \nabla_\theta J(\theta) = \mathbb E_{\pi_\theta} \Big[ \sum_t
    \nabla_\theta \log \pi_\theta(a_t \mid s_t)\,
    \big(\hat Q_t - b(s_t)\big) \Big],
    \qquad \hat Q_t = \sum_{t' \ge t} \gamma^{t' - t} r_{t'},

which :class:`~mlnotes.rl.REINFORCE` estimates from whole episodes (reward-to-go
:math:`\hat Q_t`, a learned value baseline :math:`b`). The **natural** gradient
(:class:`~mlnotes.rl.NPG`) preconditions it by the Fisher information
:math:`F = \mathbb E[\nabla \log \pi\, \nabla \log \pi^\top]` and scales the step to a
fixed KL divergence :math:`\delta` between successive policies,

.. math::

    \theta \leftarrow \theta + \sqrt{\frac{2 \delta}{g^\top F^{-1} g}}\, F^{-1} g,

with :math:`F^{-1} g` from conjugate gradient on Fisher-vector products. Both at
their defaults, on the same seed and a small budget of environment steps
(CartPole-v1's maximum return is 500). PPO (chapter 32), which reuses each batch for
several epochs of a clipped surrogate, is in
:ref:`sphx_glr_auto_examples_rl_plot_agents_vs_sb3.py`; the long runs over several
seeds are in :ref:`benchmark-agents`.
"""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from stable_baselines3.common.monitor import Monitor

from mlnotes.rl import NPG, REINFORCE

torch.set_num_threads(1)
BUDGET = 8_000

# %%
# Train both agents on the same seed and budget
# --------------------------------------------------
# A :class:`~stable_baselines3.common.monitor.Monitor` records every episode's return.
curves = {}
for cls in (REINFORCE, NPG):
    env = Monitor(gym.make("CartPole-v1"))
    cls("MlpPolicy", env, seed=0).learn(BUDGET)
    curves[cls.__name__] = (np.cumsum(env.get_episode_lengths()),
                            np.asarray(env.get_episode_rewards()))
    print(f"{cls.__name__:9s}: mean return of the last 10 episodes "
          f"{curves[cls.__name__][1][-10:].mean():6.1f}")

# %%
# Episode returns against environment steps
# -----------------------------------------
# Dots are episodes, lines a running mean over 10 episodes.
fig, ax = plt.subplots(figsize=(7, 4))
for i, (name, (steps, rets)) in enumerate(curves.items()):
    ax.plot(steps, rets, ".", color=f"C{i}", alpha=0.25, ms=4)
    if len(rets) >= 10:
        smooth = np.convolve(rets, np.ones(10) / 10, mode="valid")
        ax.plot(steps[9:], smooth, color=f"C{i}", label=name)
ax.set_xlabel("environment steps")
ax.set_ylabel("episode return")
ax.set_title("CartPole-v1, seed 0, default hyperparameters")
ax.legend()
fig.tight_layout()
plt.show()
