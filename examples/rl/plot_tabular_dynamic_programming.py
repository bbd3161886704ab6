r"""
Value iteration, policy iteration and Q-learning on FrozenLake
==============================================================

For a known MDP (chapters 27 and 30), value iteration repeats the Bellman optimality
backup

.. math::

    V_{k+1}(s) = \max_a \sum_{s'} P(s' \mid s, a) \big[ r(s, a, s') + \gamma V_k(s') \big]

until it stops changing; the greedy policy of the fixed point is optimal. Q-learning
reaches the same values from sampled transitions only, with the update
:math:`Q(s, a) \leftarrow Q(s, a) + \eta \, [r + \gamma \max_{a'} Q(s', a') - Q(s, a)]`.
"""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from mlnotes.rl import PolicyIteration, QLearning, ValueIteration

# %%
# The optimal value function and policy of the slippery 4x4 lake
# --------------------------------------------------------------
vi = ValueIteration("FrozenLake-v1", gamma=0.99).fit()
pi = PolicyIteration("FrozenLake-v1", gamma=0.99).fit()
print("value and policy iteration agree:",
      np.allclose(vi.values_, pi.values_, atol=1e-6),
      bool(np.all(vi.policy_ == pi.policy_)))

desc = gym.make("FrozenLake-v1").unwrapped.desc.astype(str)
arrows = {0: (-1, 0), 1: (0, -1), 2: (1, 0), 3: (0, 1)}  # left, down, right, up
fig, ax = plt.subplots(figsize=(4.8, 4.5))
im = ax.imshow(vi.values_.reshape(4, 4), cmap="viridis")
for s, a in enumerate(vi.policy_):
    r, c = divmod(s, 4)
    tile = desc[r, c]
    if tile in "HG":
        ax.text(c, r, tile, ha="center", va="center", color="w", fontsize=14)
    else:
        dx, dy = arrows[int(a)]
        ax.arrow(c - 0.25 * dx, r + 0.25 * dy, 0.4 * dx, -0.4 * dy, head_width=0.12,
                 color="w")
ax.set_xticks([])
ax.set_yticks([])
ax.set_title(r"ValueIteration: $V^*(s)$ and the greedy action")
fig.colorbar(im, ax=ax)
fig.tight_layout()
plt.show()

# %%
# Q-learning approaches the optimal values from samples
# -----------------------------------------------------
# The value of the start state under the greedy policy of the Q-table, estimated
# with exact policy evaluation after each chunk of training, against :math:`V^*`.
env = gym.make("FrozenLake-v1")
P = env.unwrapped.P


def evaluate(policy, gamma=0.99):
    # solve V = r_pi + gamma P_pi V for the deterministic policy
    n = len(P)
    A, b = np.eye(n), np.zeros(n)
    for s in range(n):
        for prob, s2, reward, done in P[s][int(policy[s])]:
            b[s] += prob * reward
            if not done:
                A[s, s2] -= gamma * prob
    return np.linalg.solve(A, b)


agent = QLearning("TabularPolicy", "FrozenLake-v1", learning_rate=0.1,
                  exploration_fraction=0.5, seed=0)
steps, start_values = [], []
for chunk in range(15):
    agent.learn(4_000, reset_num_timesteps=False)
    greedy = agent.policy.q_table.argmax(dim=1).numpy()
    steps.append(agent.num_timesteps)
    start_values.append(evaluate(greedy)[0])

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(steps, start_values, "o-", ms=3, label="greedy policy of QLearning")
ax.axhline(vi.values_[0], color="k", ls="--", label=r"$V^*(s_0)$ (ValueIteration)")
ax.set_xlabel("environment steps")
ax.set_ylabel("value of the start state")
ax.legend()
fig.tight_layout()
plt.show()
