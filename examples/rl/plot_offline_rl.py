r"""
Offline RL: conservative Q-learning against offline DQN and the behaviour policy
================================================================================

Chapters 38-39 of the notes. An offline agent learns from a fixed dataset
:math:`\mathcal D` of transitions and never interacts. Q-learning then goes wrong in a
specific way: the target :math:`\max_{a'} Q(s', a')` queries actions the data never
tried, whose values nothing corrects, so errors upwards are picked by the max and
propagated. **Conservative Q-learning** (:class:`~mlnotes.rl.DiscreteCQL` here, and
:class:`~mlnotes.rl.CQL` for Box actions) adds a penalty that pushes every action's
value down and the data's up,

.. math::

    L(\phi) = \mathbb E_{(s, a) \sim \mathcal D} \Big[ \ell_\delta\big(Q_\phi(s, a) - y\big)
    + \alpha \Big( \log \sum_{a'} e^{Q_\phi(s, a')} - Q_\phi(s, a) \Big) \Big],

with :math:`y = r + \gamma (1 - d) \max_{a'} Q_{\bar\phi}(s', a')`; :math:`\alpha = 0`
is plain offline DQN. The data come from a CartPole controller that takes a random
action 40% of the time (:func:`~mlnotes.rl.offline.collect_dataset`). The Box-action
agents (:class:`~mlnotes.rl.IQL`, :class:`~mlnotes.rl.CQL`, :class:`~mlnotes.rl.TD3BC`,
:class:`~mlnotes.rl.AWAC`) train on :func:`~mlnotes.rl.offline.make_dataset`'s
Pendulum data, which takes minutes to make: see the :ref:`user guide <rl-offline>`
(``python -m benchmarks.offline_d3rlpy`` runs them beside d3rlpy).
"""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from mlnotes.rl import BC, DiscreteCQL
from mlnotes.rl.offline import collect_dataset

torch.set_num_threads(1)


class NoisyController:
    """A linear CartPole controller (return 500 on its own)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        w = np.array([0.5, 1.5, 20.0, 3.0])
        return (np.asarray(obs) @ w > 0).astype(np.int64), state


data = collect_dataset("CartPole-v1", NoisyController(), n_steps=5000,
                       random_fraction=0.4, seed=0)
ends = np.flatnonzero(data["terminals"] + data["timeouts"])
behaviour_return = np.diff(np.r_[-1, ends]).mean()  # reward 1 per step
print(f"{len(data['rewards'])} transitions, {len(ends)} episodes, "
      f"behaviour policy's mean return {behaviour_return:.1f}")

# %%
# Train CQL and offline DQN on the same data
# ------------------------------------------
# The same networks, learning rate and target-copy interval; only :math:`\alpha`
# differs. Each agent is evaluated in the real environment every 500 gradient steps.
agents = {}
for name, alpha in [("DiscreteCQL (alpha=1)", 1.0), ("offline DQN (alpha=0)", 0.0)]:
    agents[name] = DiscreteCQL(
        "MlpPolicy", "CartPole-v1", learning_rate=1e-3, batch_size=64,
        target_update_interval=200, cql_alpha=alpha, seed=0,
        policy_kwargs=dict(net_arch=[64, 64]),
    ).fit(data, n_steps=2000, eval_env=gym.make("CartPole-v1"), eval_freq=500,
          n_eval_episodes=1)
bc = BC("MlpPolicy", "CartPole-v1", n_epochs=5, seed=0).fit(data["observations"],
                                                             data["actions"])
bc_return, _ = evaluate_policy(bc, Monitor(gym.make("CartPole-v1")), n_eval_episodes=1)

# %%
# Which action does each Q-function prefer on the data?
# -----------------------------------------------------
# The controller's own choice at each dataset state is the action the data support
# best (60% of the recorded actions are the controller's, the rest are coin flips).
# Offline DQN's greedy action agrees with it no more often than a coin flip would
# (35% of the states with this seed and budget); CQL's penalty keeps the greedy policy
# on the supported action (94%).
expert_actions = NoisyController().predict(data["observations"])[0]
obs = torch.as_tensor(data["observations"], dtype=torch.float32)
agreement = {}
for name, agent in agents.items():
    with torch.no_grad():
        greedy = agent.q_net(obs).argmax(dim=1).numpy()
    agreement[name] = (greedy == expert_actions).mean()
    print(f"{name}: final return {agent.eval_history_[-1][1]:6.1f}, greedy action = "
          f"controller's on {agreement[name]:.0%} of the dataset states")
agreement["behavioural cloning"] = (
    bc.predict(data["observations"], deterministic=True)[0] == expert_actions).mean()
print(f"behavioural cloning: return {bc_return:.1f}, agreement "
      f"{agreement['behavioural cloning']:.0%}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for color, (name, agent) in zip(["C0", "C3"], agents.items()):
    steps, means, _ = zip(*agent.eval_history_)
    ax1.plot(steps, means, "o-", color=color, label=name)
ax1.axhline(behaviour_return, color="k", ls="--", label="behaviour policy (data)")
ax1.axhline(bc_return, color="C2", ls=":", label="behavioural cloning")
ax1.set_xlabel("gradient steps")
ax1.set_ylabel("return in the real environment")
ax1.set_title("CartPole-v1, 5,000 transitions, seed 0")
ax1.legend(fontsize=8)
names = list(agreement)
ax2.bar(range(len(names)), [100 * v for v in agreement.values()],
        color=["C0", "C3", "C2"])
ax2.set_xticks(range(len(names)), [n.replace(" (", "\n(") for n in names], fontsize=8)
ax2.set_ylabel("% of dataset states")
ax2.set_ylim(0, 100)
ax2.set_title("greedy action = the controller's action")
fig.tight_layout()
plt.show()
