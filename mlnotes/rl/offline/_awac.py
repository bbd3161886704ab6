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
    A(s, a) = \min_j Q_j(s, a) - \min_j Q_j(s, \tilde a), \ \tilde a \sim \pi(\cdot \mid s),

with the weights normalised over the minibatch (a softmax times the batch size), so
the actor never queries the critic on actions the data do not support.
"""

from numbers import Real

import torch
from sklearn.utils import check_scalar

from ..actor_critic._sac import SAC
from ..common.continuous_policies import squashed_gaussian_log_prob
from ._base import LossListMixin, OfflineMixin, offline_doc

__all__ = ["AWAC"]


@offline_doc
class AWAC(LossListMixin, OfflineMixin, SAC):
    r"""Advantage-weighted actor-critic: offline pre-training that fine-tunes online.

    Constructed like the other agents (``AWAC("MlpPolicy", env)``: the env gives the
    spaces), it learns from a fixed dataset with ``fit(dataset, n_steps)`` and can go
    on learning from interaction with ``learn`` (same losses, its own replay buffer
    holding the dataset and the new transitions). Each gradient step updates the twin
    critics towards the policy's Bellman target and the squashed-Gaussian actor by the
    advantage-weighted log-likelihood of the buffer's actions (module docstring), then
    the target critics by Polyak averaging. Chapters 38-39 of the notes; see the user
    guide, "Offline RL".

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` (SAC's actor and critics).
    env : gymnasium.Env, VecEnv or str
        An environment with the dataset's spaces (Box actions).
    learning_rate : float or callable, default=3e-4
        Learning rate of the actor and the critics.
    buffer_size : int, default=1_000_000
        Replay buffer size of online ``learn``.
    learning_starts : int, default=0
        Steps of online ``learn`` before the first update.
    batch_size : int, default=256
        Minibatch size.
    tau : float, default=0.005
        Polyak coefficient of the target critics.
    gamma : float, default=0.99
        Discount factor.
    lam : float, default=1.0
        Temperature :math:`\lambda` of the advantage weights (smaller: greedier).
    normalize_observations : bool, default=False
        Standardise observations by the dataset's statistics (offline only).
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Extra exploration noise of online ``learn`` (the policy is stochastic).
    policy_kwargs : dict, default=None
        SAC policy arguments (default ``net_arch=[256, 256]``).
    %(common_parameters)s

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

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size=1_000_000,
                 learning_starts=0, batch_size=256, tau=0.005, gamma=0.99, lam=1.0,
                 normalize_observations=False, action_noise=None, policy_kwargs=None,
                 verbose=0, seed=None, device="auto", _init_setup_model=True):
        check_scalar(lam, "lam", Real, min_val=0, include_boundaries="neither")
        self.lam = float(lam)
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
            actions_pi, _ = self.actor.action_log_prob(data.observations)
            q_pi = self.critic.q_values(data.observations, actions_pi).min(dim=1).values
            advantage = q_data - q_pi
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
        mean, log_std = self.actor.get_action_dist_params(data.observations)
        a = data.actions.clamp(-1 + 1e-6, 1 - 1e-6)
        log_prob = squashed_gaussian_log_prob(torch.atanh(a), mean, log_std)
        actor_loss = -(weights * log_prob).mean()
        return critic_loss, actor_loss
