r"""Advantage-weighted actor-critic (Nair, Gupta, Dalal and Levine, 2020), chapters 38-39.

AWAC learns offline and keeps learning online with the same losses. Its twin critics
regress the ordinary Bellman target of the current policy,

.. math::

    y = r + \gamma (1 - d) \min_j \bar Q_j(s', a'), \qquad a' \sim \pi(\cdot \mid s'),

and its actor maximises the likelihood of the *dataset's* actions weighted by their
advantage, the closed-form solution of a KL-constrained policy improvement step,

.. math::

    L_\pi = -\mathbb{E}_{(s, a) \sim \mathcal{D}}\Big[w(s, a)\,
    \log \pi(a \mid s)\Big], \qquad
    w \propto \exp\big(A(s, a) / \lambda\big), \quad
    A(s, a) = \min_j Q_j(s, a) - \frac{1}{N} \sum_{k=1}^{N} \min_j Q_j(s, \tilde a_k),
    \ \tilde a_k \sim \pi(\cdot \mid s),

with the weights normalised over the minibatch (a softmax times the batch size), so
the actor never queries the critic on actions the data do not support.

The policy is the paper's (and d3rlpy's): a diagonal Gaussian
:math:`\mathcal N\big(\tanh \mu(s), \operatorname{diag}\sigma^2\big)` in the actions
scaled to :math:`[-1, 1]`, with one learned, state-independent
:math:`\log\sigma \in [-6, 0]` (IQL's actor class with AWAC's bounds); the
deterministic action is :math:`\tanh \mu(s)`. The target has no entropy term, as the
paper's code (``alpha=0``).
"""

from numbers import Integral, Real

import torch
from sklearn.utils import check_scalar

from ..actor_critic._sac import SAC
from ._base import LossListMixin, OfflineMixin, offline_doc
from ._iql import IQLCnnPolicy, IQLMultiInputPolicy, IQLPolicy

__all__ = ["AWAC"]

_LOG_STD_BOUNDS = (-6.0, 0.0)  # the paper's (rlkit's GaussianPolicy) and d3rlpy's


class AWACPolicy(IQLPolicy):
    r"""IQL's policy (SAC's critics, a Gaussian actor around :math:`\tanh\mu(s)`) with
    the AWAC paper's bounds :math:`\log\sigma \in [-6, 0]`."""

    log_std_bounds = _LOG_STD_BOUNDS


class AWACCnnPolicy(IQLCnnPolicy):
    """:class:`AWACPolicy` for image observations."""

    log_std_bounds = _LOG_STD_BOUNDS


class AWACMultiInputPolicy(IQLMultiInputPolicy):
    """:class:`AWACPolicy` for dict observations."""

    log_std_bounds = _LOG_STD_BOUNDS


@offline_doc
class AWAC(LossListMixin, OfflineMixin, SAC):
    r"""Advantage-weighted actor-critic: offline pre-training that fine-tunes online.

    Constructed like the other agents (``AWAC("MlpPolicy", env)``: the env gives the
    spaces), it learns from a fixed dataset with ``fit(dataset, n_steps)`` and can go
    on learning from interaction with ``learn`` (same losses, its own replay buffer
    holding the dataset and the new transitions). Each gradient step updates the twin
    critics towards the policy's Bellman target and the actor, a Gaussian around
    :math:`\tanh\mu(s)` with one state-independent :math:`\log\sigma \in [-6, 0]`, by
    the advantage-weighted log-likelihood of the buffer's actions (module docstring),
    then the target critics by Polyak averaging. The defaults are d3rlpy's
    ``AWACConfig`` (batch 1,024, one policy sample per state for the advantage,
    :math:`\lambda = 1`), which are the paper's. Chapters 38-39 of the notes; see the
    user guide, "Offline RL".

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` (SAC's critics, the Gaussian actor above).
    env : gymnasium.Env, VecEnv or str
        An environment with the dataset's spaces (Box actions).
    learning_rate : float or callable, default=3e-4
        Learning rate of the actor and the critics.
    buffer_size : int, default=1_000_000
        Replay buffer size of online ``learn``.
    learning_starts : int, default=0
        Steps of online ``learn`` before the first update.
    batch_size : int, default=1024
        Minibatch size (the paper's and d3rlpy's).
    tau : float, default=0.005
        Polyak coefficient of the target critics.
    gamma : float, default=0.99
        Discount factor.
    lam : float, default=1.0
        Temperature :math:`\lambda` of the advantage weights (smaller: greedier).
    n_action_samples : int, default=1
        Policy samples :math:`N` per state whose mean critic value is the baseline of the
        advantage.
    normalize_observations : bool, default=False
        Standardise observations by the dataset's statistics (offline only).
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Extra exploration noise of online ``learn`` (the policy is stochastic).
    policy_kwargs : dict, default=None
        SAC policy arguments (default ``net_arch=[256, 256]``).
    %(common_parameters)s

    Notes
    -----
    Compared item by item with d3rlpy 2.8.1's AWAC: same policy, advantage, weights,
    critic loss and defaults, with three differences. d3rlpy's target subtracts
    :math:`\log\pi(a' \mid s')` with a fixed temperature of 1 (it reuses SAC's target
    with a log-temperature of zero); the paper's code and ours use the plain target.
    Policy samples are clipped to the action bounds before the critics see them
    (d3rlpy's are not). The actor loss is the weighted mean, d3rlpy's the weighted sum:
    the same gradient direction, which Adam's step does not see.

    Attributes
    ----------
    %(eval_history)s

    References
    ----------
    .. [1] A. Nair, A. Gupta, M. Dalal and S. Levine, "AWAC: accelerating online
       reinforcement learning with offline datasets", arXiv:2006.09359, 2020.

    Examples
    --------
    >>> from mlnotes.rl import AWAC
    >>> from mlnotes.rl.offline import collect_dataset
    >>> data = collect_dataset("Pendulum-v1", n_steps=400, seed=0)
    >>> agent = AWAC("MlpPolicy", "Pendulum-v1", seed=0).fit(data, n_steps=50)
    >>> agent.predict(data["observations"][:3], deterministic=True)[0].shape
    (3, 1)
    """

    _loss_names = ("critic_loss", "actor_loss")
    policy_aliases = {"MlpPolicy": AWACPolicy, "CnnPolicy": AWACCnnPolicy,
                      "MultiInputPolicy": AWACMultiInputPolicy}

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size=1_000_000,
                 learning_starts=0, batch_size=1024, tau=0.005, gamma=0.99, lam=1.0,
                 n_action_samples=1, normalize_observations=False, action_noise=None,
                 policy_kwargs=None, verbose=0, seed=None, device="auto",
                 _init_setup_model=True):
        check_scalar(lam, "lam", Real, min_val=0, include_boundaries="neither")
        check_scalar(n_action_samples, "n_action_samples", Integral, min_val=1)
        self.lam = float(lam)
        self.n_action_samples = int(n_action_samples)
        self.normalize_observations = bool(normalize_observations)
        self.eval_history_ = []
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=learning_starts, batch_size=batch_size, tau=tau,
                         gamma=gamma, action_noise=action_noise, policy_kwargs=policy_kwargs,
                         verbose=verbose, seed=seed, device=device,
                         _init_setup_model=_init_setup_model)

    def _fit_buffer_size(self, n_transitions):
        # online fine-tuning after fit adds to the dataset's buffer: keep room
        return max(n_transitions, self.buffer_size)

    def _loss_optimizers(self):
        return [self.critic.optimizer, self.actor.optimizer]

    def advantage_weights(self, data):
        """Normalised advantage weights :math:`B\\,\\mathrm{softmax}(A / \\lambda)`.

        Parameters
        ----------
        data : ReplayBufferSamples
            The minibatch (actions scaled to [-1, 1]).

        Returns
        -------
        weights : torch.Tensor of shape (batch,)
            Non-negative, summing to the batch size.
        """
        with torch.no_grad():
            q_data = self.critic.q_values(data.observations, data.actions).min(dim=1).values
            n = self.n_action_samples
            obs = data.observations.repeat_interleave(n, dim=0)
            actions_pi, _ = self.actor.action_log_prob(obs)
            q_pi = self.critic.q_values(obs, actions_pi).min(dim=1).values
            advantage = q_data - q_pi.reshape(len(q_data), n).mean(dim=1)
            return torch.softmax(advantage / self.lam, dim=0) * len(advantage)

    def losses(self, data):
        """The critic and actor losses of one minibatch.

        Parameters
        ----------
        data : ReplayBufferSamples
            Observations, actions (scaled to [-1, 1]), next observations, dones,
            rewards.

        Returns
        -------
        critic_loss, actor_loss : torch.Tensor
            Scalars.
        """
        with torch.no_grad():
            next_actions, _ = self.actor.action_log_prob(data.next_observations)
            next_q = self.critic_target.q_values(data.next_observations, next_actions)
            target = data.rewards + (1.0 - data.dones) * self.gamma * \
                next_q.min(dim=1, keepdim=True).values
        q = self.critic.q_values(data.observations, data.actions)
        critic_loss = (q - target).square().mean(dim=0).sum()
        weights = self.advantage_weights(data)
        actor_loss = -(weights * self.actor.log_prob(data.observations, data.actions)).mean()
        return critic_loss, actor_loss
