r"""
Deep Q-learning: mlnotes' DQN beside Stable-Baselines3's on CartPole
====================================================================

Chapter 31 of the notes. DQN fits :math:`Q_\phi(s, a)` to the one-step Bellman target
computed with a slowly updated copy :math:`\phi^-` of the weights, on minibatches drawn
from a replay buffer :math:`\mathcal D` of past transitions,

.. math::

    L(\phi) = \mathbb E_{(s, a, r, s', d) \sim \mathcal D} \Big[ \ell_\delta\Big(
    Q_\phi(s, a) - \big(r + \gamma (1 - d) \max_{a'} Q_{\phi^-}(s', a')\big)
    \Big) \Big],

with the Huber loss :math:`\ell_\delta` and an :math:`\varepsilon`-greedy behaviour
policy whose :math:`\varepsilon` decays linearly. :class:`~mlnotes.rl.DQN` has SB3's
signature and defaults; the defaults are tuned for Atari, so both libraries get the
RL-Zoo hyperparameters for CartPole-v1 here (a smaller network, to stay cheap), the
same seed and the same budget. The runs over several seeds and longer budgets, and
why the value estimates keep climbing late in training, are in :ref:`benchmark-offpolicy`
and the :ref:`user guide <rl-dqn>`.
"""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import stable_baselines3
import torch
from stable_baselines3.common.monitor import Monitor

from mlnotes.rl import DQN

torch.set_num_threads(1)
BUDGET = 6_000
ZOO = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
           learning_starts=1000, gamma=0.99, target_update_interval=10, train_freq=256,
           gradient_steps=128, exploration_fraction=0.16, exploration_final_eps=0.04,
           policy_kwargs=dict(net_arch=[64, 64]))

# %%
# Train both implementations on the same seed and budget
# ------------------------------------------------------
curves, q_values = {}, {}
probe = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.1, 0.0]], dtype=np.float32)
for library, cls in [("mlnotes", DQN), ("Stable-Baselines3", stable_baselines3.DQN)]:
    env = Monitor(gym.make("CartPole-v1"))
    agent = cls("MlpPolicy", env, seed=0, **ZOO).learn(BUDGET)
    curves[library] = (np.cumsum(env.get_episode_lengths()),
                       np.asarray(env.get_episode_rewards()))
    with torch.no_grad():
        q_values[library] = agent.q_net(torch.as_tensor(probe)).numpy()
    print(f"{library:18s}: last 10 episodes {curves[library][1][-10:].mean():6.1f}, "
          f"Q(upright state) = {q_values[library][0].round(1)}")

# %%
# The Q-values of an upright pole approach :math:`1 / (1 - \gamma) = 100` as the
# agent learns to balance it forever (the return is 1 per step).
#
# Episode returns against environment steps
# -----------------------------------------
# Dots are episodes, lines a running mean over 10 episodes. With the same seed and
# hyperparameters the two libraries play the same episodes here (the printed returns
# and Q-values agree), so the mlnotes curve lies under Stable-Baselines3's.
fig, ax = plt.subplots(figsize=(7, 4))
for color, (library, (steps, rets)) in zip(["C0", "C1"], curves.items()):
    ax.plot(steps, rets, ".", color=color, alpha=0.3, ms=4)
    smooth = np.convolve(rets, np.ones(10) / 10, mode="valid")
    ax.plot(steps[9:], smooth, color=color, label=f"{library} DQN")
ax.set_xlabel("environment steps")
ax.set_ylabel("episode return")
ax.set_title("DQN on CartPole-v1, seed 0, RL-Zoo hyperparameters")
ax.legend()
fig.tight_layout()
plt.show()
