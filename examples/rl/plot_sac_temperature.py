r"""
Control as inference: SAC's entropy temperature, beside Stable-Baselines3's SAC
===============================================================================

Chapters 41-42 of the notes read control as inference in a graphical model whose
"optimality" variables have likelihood :math:`e^{r(s, a)/\alpha}`; the variational
answer is the **maximum-entropy** objective

.. math::

    J(\pi) = \sum_t \mathbb E_{(s_t, a_t) \sim \pi} \big[ r(s_t, a_t)
    + \alpha \mathcal H(\pi(\cdot \mid s_t)) \big],

whose soft Q-function satisfies
:math:`Q(s, a) = r + \gamma \mathbb E_{s'} \big[ \mathbb E_{a' \sim \pi} [Q(s', a')
- \alpha \log \pi(a' \mid s')] \big]` and whose optimal policy is the Boltzmann
distribution :math:`\pi(a \mid s) \propto \exp(Q(s, a) / \alpha)`.
:class:`~mlnotes.rl.SAC` fits twin soft critics, moves a squashed-Gaussian actor
towards that distribution, and with ``ent_coef="auto"`` tunes the temperature by
gradient descent on

.. math::

    L(\alpha) = \mathbb E_{a \sim \pi} \big[ -\alpha \big( \log \pi(a \mid s)
    + \bar{\mathcal H} \big) \big], \qquad \bar{\mathcal H} = -\dim \mathcal A,

so :math:`\alpha` falls while the policy is more random than the target entropy and
rises when it becomes too sure. We first look at what the temperature does to the
Boltzmann policy of a fixed Q-function, then run ours and Stable-Baselines3's SAC with
the same seed, small networks and a budget far too short to learn Pendulum-v1 (with
RL-Zoo's settings SAC passes -250 after 3-6k steps): what shows is the temperature's
trajectory, and that the two
implementations follow the same one. The runs at full budget over several seeds are in
the :ref:`user guide <rl-ddpg-td3-sac>`, the speed comparison in
:ref:`benchmark-offpolicy-speed`.
"""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import stable_baselines3
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor

from mlnotes.rl import SAC

torch.set_num_threads(1)
BUDGET = 600
SETTINGS = dict(learning_starts=100, batch_size=32, policy_kwargs=dict(net_arch=[32, 32]))

# %%
# The Boltzmann policy of a fixed soft Q-function
# -----------------------------------------------
# A Q-function of a 1-D action with two good actions, one slightly better: at a
# small temperature the policy is nearly greedy, at a large one nearly uniform; in
# between it keeps both modes in proportion to :math:`e^{Q/\alpha}`.
a = np.linspace(-1, 1, 400)
q = np.exp(-((a - 0.5) / 0.15) ** 2) + 0.8 * np.exp(-((a + 0.5) / 0.15) ** 2)
fig, ax = plt.subplots(figsize=(7, 3.5))
for alpha in [0.05, 0.2, 1.0, 5.0]:
    p = np.exp((q - q.max()) / alpha)
    p /= p.sum() * (a[1] - a[0])
    entropy = -np.sum(p * np.log(p + 1e-300)) * (a[1] - a[0])
    ax.plot(a, p, label=rf"$\alpha = {alpha}$ (entropy {entropy:.2f} nats)")
ax.plot(a, q, "k--", lw=1, label="Q(s, a)")
ax.set_xlabel("action a")
ax.set_ylabel(r"$\pi(a \mid s) \propto e^{Q(s, a)/\alpha}$")
ax.legend(fontsize=8)
fig.tight_layout()


class Temperature(BaseCallback):
    """Record the entropy temperature every 25 steps (the same attribute in both)."""

    def __init__(self):
        super().__init__()
        self.steps, self.alphas = [], []

    def _on_step(self):
        if self.num_timesteps % 25 == 0:
            self.steps.append(self.num_timesteps)
            self.alphas.append(self.model.log_ent_coef.exp().item())
        return True


# %%
# Train both implementations
# --------------------------
# SB3's defaults (``ent_coef="auto"`` starting at 1, target entropy :math:`-1` for
# one torque) with a smaller network and minibatch.
results = {}
for library, cls in [("mlnotes", SAC), ("Stable-Baselines3", stable_baselines3.SAC)]:
    env = Monitor(gym.make("Pendulum-v1"))
    callback = Temperature()
    cls("MlpPolicy", env, seed=0, **SETTINGS).learn(BUDGET, callback=callback)
    results[library] = (env.get_episode_rewards(), callback)
    print(f"{library:18s}: episode returns {np.round(env.get_episode_rewards())}, "
          f"final alpha {callback.alphas[-1]:.3f}")

# %%
# Episode returns and the temperature
# -----------------------------------
# With the same seed the two libraries play the same episodes and their temperatures
# follow the same path, so each mlnotes curve lies under Stable-Baselines3's.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for color, (library, (rets, cb)) in zip(["C0", "C1"], results.items()):
    ax1.plot(200 * np.arange(1, len(rets) + 1), rets, "o-", color=color, label=library,
             alpha=0.7)
    ax2.semilogy(cb.steps, cb.alphas, color=color, label=library,
                 ls="-" if color == "C0" else "--")
ax1.set_xlabel("environment steps")
ax1.set_ylabel("episode return")
ax1.set_title("SAC on Pendulum-v1, seed 0")
ax1.legend()
ax2.set_xlabel("environment steps")
ax2.set_ylabel(r"entropy temperature $\alpha$")
ax2.set_title(r"automatic $\alpha$ (target entropy $-1$)")
ax2.legend()
fig.tight_layout()
plt.show()
