r"""
Learning curves: mlnotes' A2C and PPO beside Stable-Baselines3's
================================================================

A2C (chapter 29) follows the policy gradient with a learned baseline, using the
generalised advantage estimate
:math:`\hat A_t = \sum_{l \ge 0} (\gamma \lambda)^l \delta_{t+l}` with
:math:`\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)`; PPO (chapter 32) takes several
epochs of minibatch steps on the clipped surrogate

.. math::

    L(\theta) = \mathbb E_t \big[ \min\big( \rho_t \hat A_t,
    \operatorname{clip}(\rho_t, 1 - \epsilon, 1 + \epsilon) \hat A_t \big) \big],
    \qquad \rho_t = \frac{\pi_\theta(a_t \mid s_t)}{\pi_{\theta_\text{old}}(a_t \mid s_t)}.

Both use the same defaults as Stable-Baselines3, so the same seed and budget should
give curves of the same shape. The budget here is tiny (a few thousand steps of
CartPole-v1, where 500 is the maximum return); :doc:`../../benchmarks` has the long
runs over several seeds.
"""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import stable_baselines3
import torch
from stable_baselines3.common.monitor import Monitor

from mlnotes.rl import A2C, PPO

torch.set_num_threads(1)
BUDGET = 5_000

# %%
# Train both implementations on the same seed and budget
# ------------------------------------------------------
# A :class:`~stable_baselines3.common.monitor.Monitor` around the environment records
# every episode's return for either library.
curves = {}
for name, ours, theirs in [("A2C", A2C, stable_baselines3.A2C),
                           ("PPO", PPO, stable_baselines3.PPO)]:
    for library, cls in [("mlnotes", ours), ("Stable-Baselines3", theirs)]:
        env = Monitor(gym.make("CartPole-v1"))
        cls("MlpPolicy", env, seed=0).learn(BUDGET)
        curves[name, library] = (np.cumsum(env.get_episode_lengths()),
                                 np.asarray(env.get_episode_rewards()))

# %%
# Episode returns against environment steps
# -----------------------------------------
# Dots are episodes, lines a running mean over 10 episodes.
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, name in zip(axes, ["A2C", "PPO"]):
    for library, color in [("mlnotes", "C0"), ("Stable-Baselines3", "C1")]:
        steps, returns = curves[name, library]
        ax.plot(steps, returns, ".", color=color, alpha=0.3, ms=4)
        smooth = np.convolve(returns, np.ones(10) / 10, mode="valid")
        ax.plot(steps[9:], smooth, color=color, label=f"{library} {name}")
    ax.set_title(f"{name} on CartPole-v1, seed 0")
    ax.set_xlabel("environment steps")
    ax.legend()
axes[0].set_ylabel("episode return")
fig.tight_layout()
plt.show()
