r"""
Exploration bonuses: what RND and a hashed count pay on MountainCar
===================================================================

Chapter 37 of the notes. MountainCar-v0 pays :math:`-1` per step until the car reaches
the flag at position 0.5, which it can only do by rocking back and forth to build up
momentum; an agent that dithers at random around the valley rarely gets there, and
until it does every action looks the same. An **exploration bonus** adds an intrinsic
reward for states the agent has rarely seen,

.. math::

    r_t = r^e_t + \beta\, b(s_{t+1}),

with two choices of :math:`b` here:

- :class:`~mlnotes.rl.CountBonus`, :math:`b(s) = 1/\sqrt{n(\phi(s))}`: :math:`n` counts
  the visits of the SimHash code :math:`\phi(s) = \operatorname{sign}(A \tilde s)` of
  the standardised observation :math:`\tilde s` (:math:`A` a fixed Gaussian matrix with
  ``n_bits`` rows), so nearby continuous states share one count;
- :class:`~mlnotes.rl.RND`, :math:`b(s) = \|f(\tilde s) - \hat f(\tilde s)\|^2 /
  \sigma_R`: a predictor :math:`\hat f` is trained online to imitate a fixed random
  network :math:`f`, so its error stays high on states unlike those it was trained on;
  :math:`\sigma_R` is a running standard deviation of the discounted intrinsic return.

Both are Stable-Baselines3 ``VecEnvWrapper`` s: wrap the training env and hand it to
any agent, ours or SB3's. This example trains :class:`~mlnotes.rl.DQN` for a short
budget inside each wrapper and draws what the bonuses have learnt: which states they
still pay for. Whether a bonus makes DQN reach the flag sooner is a question for many
seeds and a longer budget: the :ref:`user guide <rl-exploration>` has that benchmark
(with the RL-Zoo's DQN settings plain DQN already reaches the flag on four seeds of
five within 150,000 steps, with RND on all five).
"""

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from mlnotes.rl import DQN, RND, CountBonus

torch.set_num_threads(1)


class VisitedStates(gym.Wrapper):
    """Records every observation the car reaches."""

    def __init__(self, env):
        super().__init__(env)
        self.states = []

    def step(self, action):
        result = super().step(action)
        self.states.append(result[0])
        return result


class IntrinsicRewards(BaseCallback):
    """Reads the bonus of each step from the wrapper's ``info``."""

    def __init__(self):
        super().__init__()
        self.values = []

    def _on_step(self):
        self.values.append(self.locals["infos"][0]["intrinsic_reward"])
        return True


def train(make_bonus, n_steps=20_000, seed=0):
    """DQN (the RL-Zoo's MountainCar settings, a smaller network) inside one bonus."""
    venv = make_vec_env("MountainCar-v0", n_envs=1, seed=seed, wrapper_class=VisitedStates)
    env = make_bonus(venv)
    agent = DQN("MlpPolicy", env, learning_rate=4e-3, batch_size=128, buffer_size=10_000,
                learning_starts=1_000, gamma=0.98, target_update_interval=600,
                train_freq=16, gradient_steps=8, exploration_fraction=0.2,
                exploration_final_eps=0.07, policy_kwargs=dict(net_arch=[64, 64]),
                seed=seed)
    rewards = IntrinsicRewards()
    agent.learn(n_steps, callback=rewards)
    states = np.array(venv.envs[0].get_wrapper_attr("states"))
    return env, states, np.array(rewards.values)


# %%
# Train DQN inside each wrapper
# -----------------------------
# 20,000 environment steps each, seed 0. Each step's extrinsic and intrinsic rewards
# are in its ``info`` (``extrinsic_reward``, ``intrinsic_reward``); a ``Monitor``
# inside the vectorised env still reports the extrinsic returns.
runs = {
    "RND (beta=1)": train(lambda venv: RND(venv, beta=1.0, seed=0)),
    "CountBonus (beta=0.1)": train(lambda venv: CountBonus(venv, beta=0.1, seed=0)),
}
for name, (env, states, bonus) in runs.items():
    print(f"{name}: {len(states)} steps, positions {states[:, 0].min():.2f} to "
          f"{states[:, 0].max():.2f}, velocities {states[:, 1].min():.3f} to "
          f"{states[:, 1].max():.3f}; mean bonus first/last 1,000 steps "
          f"{bonus[:1000].mean():.4f} / {bonus[-1000:].mean():.4f}")

# %%
# What each bonus still pays for
# ------------------------------
# The state space of MountainCar is (position, velocity). On a grid over it, RND's
# squared prediction error (before the :math:`\sigma_R` normalisation) is small where
# the car has been and grows away from it; the count bonus a new visit would earn,
# :math:`1/\sqrt{n + 1}`, is 1 in every hash cell never entered. The hash
# :math:`\operatorname{sign}(A \tilde s)` only sees the direction of the standardised
# state from the mean, not its distance: with 32 bits in two dimensions its cells are
# 64 narrow wedges through the origin, so a state far out along a direction already met
# near the start counts as visited (the dark rays), and only the wedges the car has not
# entered pay. On high-dimensional observations, the setting SimHash was proposed for,
# the cells are much finer.
position = np.linspace(-1.2, 0.6, 121)
velocity = np.linspace(-0.07, 0.07, 121)
grid = np.stack(np.meshgrid(position, velocity), axis=-1).reshape(-1, 2)
rnd_env, rnd_states, _ = runs["RND (beta=1)"]
count_env, count_states, _ = runs["CountBonus (beta=0.1)"]
rnd_map = rnd_env.prediction_error(grid).reshape(len(velocity), len(position))
count_map = np.array([1 / np.sqrt(count_env.counts.get(code, 0) + 1)
                      for code in count_env.hash(grid).tolist()])
count_map = count_map.reshape(len(velocity), len(position))

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
extent = (position[0], position[-1], velocity[0], velocity[-1])
panels = [(axes[0], np.log10(rnd_map), rnd_states, "RND: log10 squared prediction error"),
          (axes[1], count_map, count_states, "CountBonus: 1 / sqrt(n + 1)")]
for ax, image, states, title in panels:
    shown = ax.imshow(image, origin="lower", extent=extent, aspect="auto", cmap="magma")
    ax.plot(states[::10, 0], states[::10, 1], ",", color="w", alpha=0.5)
    ax.axvline(0.5, color="C2", ls="--", lw=1)
    ax.set_xlabel("position (flag at 0.5, dashed)")
    ax.set_title(title, fontsize=10)
    fig.colorbar(shown, ax=ax)
axes[0].set_ylabel("velocity")
fig.suptitle("bonus maps after 20,000 steps of DQN, with the states visited (white)")
fig.tight_layout()
plt.show()

# %%
# The bonus fades as states become familiar
# -----------------------------------------
# The intrinsic reward per step, averaged over windows of 500 steps. The count bonus
# falls as the cells the car keeps to fill up. RND's falls within the first thousand
# steps: the predictor learns the states near the start quickly, and the bonus is
# divided by the standard deviation of the discounted intrinsic return over *all* steps
# so far, which the large errors of the untrained predictor keep high. What is left is
# small against the step cost of -1, but it is still over a hundred times larger on states
# the car has not reached than on those it has (the ratio printed below), and a
# Q-function sums it over the remaining horizon.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for ax, (name, (_, _, bonus)) in zip(axes, runs.items()):
    window = 500
    smooth = bonus[: len(bonus) // window * window].reshape(-1, window).mean(axis=1)
    ax.plot(np.arange(1, len(smooth) + 1) * window, smooth)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("mean intrinsic reward")
    ax.set_title(name, fontsize=10)
fig.tight_layout()
plt.show()

start = grid[(np.abs(grid[:, 0] + 0.5) < 0.1) & (np.abs(grid[:, 1]) < 0.005)]
far = np.array([[0.5, 0.06]])
scale = np.sqrt(rnd_env.return_rms.var + 1e-8)
print(f"RND bonus (normalised, beta=1) near the start states "
      f"{rnd_env.prediction_error(start).mean() / scale:.5f}, at the flag at full speed "
      f"{rnd_env.prediction_error(far)[0] / scale:.5f}")

# %%
# The same wrapper around Stable-Baselines3's own agents
# ------------------------------------------------------
# Nothing in the wrappers is specific to mlnotes: SB3's PPO trains inside ``RND``
# unchanged (one rollout of 2,048 steps here, only to show the plumbing).
sb3_env = RND(make_vec_env("MountainCar-v0", n_envs=1, seed=0), seed=0)
PPO("MlpPolicy", sb3_env, n_steps=2048, batch_size=256, n_epochs=2, seed=0).learn(2048)
print(f"SB3 PPO inside RND: squared prediction error "
      f"{sb3_env.prediction_error(start).mean():.4f} near the start states, "
      f"{sb3_env.prediction_error(far)[0]:.4f} at the flag at full speed")
