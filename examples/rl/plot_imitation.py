r"""
Imitation learning: behavioural cloning and DAgger against the expert
=====================================================================

Chapter 26 of the notes. **Behavioural cloning** (:class:`~mlnotes.rl.BC`) fits the
expert's actions by maximum likelihood on the states the *expert* visits,

.. math::

    \max_\theta \frac1N \sum_{i=1}^N \log \pi_\theta(a^*_i \mid s_i),
    \qquad s_i \sim d^{\pi^*},

but is then run on its own state distribution :math:`d^{\pi_\theta}`: a per-step
error :math:`\epsilon` takes it to states the expert never showed, and the loss can
grow like :math:`O(\epsilon T^2)` over a horizon :math:`T`. **DAgger**
(:class:`~mlnotes.rl.DAgger`) runs the mixture
:math:`\beta_i \pi^* + (1 - \beta_i) \hat\pi_i`, labels every state it reaches with the
expert's action and retrains on the union, which brings the bound down to
:math:`O(\epsilon T)`.

The expert here is a scripted linear controller of CartPole-v1 that always scores
500 (anything with SB3's ``predict`` works, an SB3 model included). We give both
learners the same number of labelled states and measure the return of the learned
policy (deterministic actions, 5 episodes). :ref:`benchmark-agents` has the runs
over five seeds at a larger budget.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import BC, DAgger

torch.set_num_threads(1)


class Expert:
    """Push the cart towards the side the pole falls to (return 500)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        w = np.array([0.5, 1.5, 20.0, 3.0])
        return (np.asarray(obs) @ w > 0).astype(np.int64), state


# %%
# Return against the number of expert labels
# ------------------------------------------
# DAgger spends its labels in rounds of ``steps_per_round`` states; BC takes the
# same number of states from the expert's own trajectories.
sizes = [100, 200, 400, 800]
returns = {"BC": [], "DAgger": []}
for n in sizes:
    bc = BC("MlpPolicy", "CartPole-v1", expert=Expert(), seed=0).learn(n)
    dagger = DAgger("MlpPolicy", "CartPole-v1", Expert(), steps_per_round=n // 4,
                    seed=0).learn(n)
    for name, agent in [("BC", bc), ("DAgger", dagger)]:
        mean, _ = evaluate_policy(agent, agent.get_env(), n_eval_episodes=5)
        returns[name].append(mean)
    print(f"{n:4d} labels: BC {returns['BC'][-1]:6.1f}   DAgger {returns['DAgger'][-1]:6.1f}")

expert_return, _ = evaluate_policy(Expert(), bc.get_env(), n_eval_episodes=5)

# %%
# Plot
# ----
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(sizes, returns["BC"], "o-", label="behavioural cloning")
ax.plot(sizes, returns["DAgger"], "s-", label="DAgger (4 rounds)")
ax.axhline(expert_return, color="k", ls="--", label="expert")
ax.set_xscale("log")
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.minorticks_off()
ax.set_xlabel("expert-labelled states")
ax.set_ylabel("mean return of the learned policy")
ax.set_title("CartPole-v1, seed 0")
ax.legend()
fig.tight_layout()
plt.show()
