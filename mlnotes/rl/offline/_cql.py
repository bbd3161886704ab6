r"""Conservative Q-learning (Kumar, Zhou, Tucker and Levine, 2020), chapters 38-39.

CQL is SAC whose critics are pushed down on actions the policy or a uniform proposal
would take and up on the dataset's actions. The CQL(H) penalty of each critic,

.. math::

    \alpha_{\text{cql}}\; \mathbb{E}_s\Big[\log \sum_{a \sim \mu} \exp\big(Q(s, a) -
    \log \mu(a \mid s)\big) - \mathbb{E}_{a \sim \mathcal{D}} Q(s, a)\Big],

estimates :math:`\log \int \exp Q(s, a)\, da` by importance sampling with
``n_action_samples`` uniform actions and as many policy actions at :math:`s` and at
:math:`s'`; the learned Q is then a lower bound of the policy's value on the data's
support, which keeps the actor away from actions the data do not cover.

The critics' loss is the paper's and d3rlpy's, :math:`\sum_i \mathbb{E}(Q_i(s, a) -
y)^2` plus the penalties, halved as SB3's SAC halves its squared error (Adam does not
see the factor), so that ``cql_alpha`` weighs the penalty against the squared error as
in those implementations. The target is, by default (``soft_q_backup=False``, d3rlpy's
default; the paper's code also drops the entropy term),
:math:`y = r + \gamma (1 - d) \min_j \bar Q_j(s', \tanh \mu(s'))` at the policy's
deterministic action, without SAC's entropy term.
"""

import math
from numbers import Integral, Real

import torch
from sklearn.utils import check_scalar

from ..actor_critic._sac import SAC
from ._base import OfflineMixin, offline_doc

__all__ = ["CQL"]


@offline_doc
class CQL(OfflineMixin, SAC):
    r"""Conservative Q-learning: SAC with the CQL(H) penalty on its critics.

    Constructed like the other agents (``CQL("MlpPolicy", env)``), it learns with
    ``fit(dataset, n_steps)`` from a fixed dataset. Each gradient step is SAC's (soft
    Bellman targets, twin critics, automatic temperature) with the penalty of the
    module docstring added to the critics' loss. Chapters 38-39 of the notes; see the
    user guide, "Offline RL".

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` (SAC's policy).
    env : gymnasium.Env, VecEnv or str
        An environment with the dataset's spaces (Box actions).
    learning_rate : float or callable, default=3e-4
        Learning rate of the actor, critics and temperature.
    buffer_size : int, default=1_000_000
        Replay buffer size of online ``learn``.
    batch_size : int, default=256
        Minibatch size.
    tau : float, default=0.005
        Polyak coefficient.
    gamma : float, default=0.99
        Discount factor.
    ent_coef : str or float, default="auto"
        SAC's entropy coefficient.
    cql_alpha : float, default=5.0
        Weight of the conservative penalty.
    n_action_samples : int, default=10
        Actions sampled per proposal (uniform, policy at s, policy at s').
    soft_q_backup : bool, default=False
        Use SAC's soft target (a sampled next action and the entropy term) instead of
        the deterministic backup of the module docstring (d3rlpy's parameter).
    normalize_observations : bool, default=False
        Standardise observations by the dataset's statistics.
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Exploration noise of online ``learn`` (unused by ``fit``).
    policy_kwargs : dict, default=None
        SAC policy arguments.
    %(common_parameters)s

    Attributes
    ----------
    %(eval_history)s

    Examples
    --------
    >>> from mlnotes.rl import CQL
    >>> from mlnotes.rl.offline import collect_dataset
    >>> data = collect_dataset("Pendulum-v1", n_steps=400, seed=0)
    >>> agent = CQL("MlpPolicy", "Pendulum-v1", seed=0).fit(data, n_steps=20)
    >>> agent.predict(data["observations"][:3], deterministic=True)[0].shape
    (3, 1)
    """

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size=1_000_000, batch_size=256,
                 tau=0.005, gamma=0.99, ent_coef="auto", cql_alpha=5.0, n_action_samples=10,
                 soft_q_backup=False, normalize_observations=False, action_noise=None,
                 policy_kwargs=None, verbose=0, seed=None, device="auto",
                 _init_setup_model=True):
        check_scalar(cql_alpha, "cql_alpha", Real, min_val=0)
        check_scalar(n_action_samples, "n_action_samples", Integral, min_val=1)
        self.cql_alpha = float(cql_alpha)
        self.n_action_samples = int(n_action_samples)
        self.soft_q_backup = bool(soft_q_backup)
        self.normalize_observations = bool(normalize_observations)
        self.eval_history_ = []
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=0, batch_size=batch_size, tau=tau, gamma=gamma,
                         ent_coef=ent_coef, action_noise=action_noise,
                         policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, _init_setup_model=_init_setup_model)

    def _next_value(self, next_observations, ent_coef):
        r""":math:`\min_j \bar Q_j(s', \tanh \mu(s'))` (SAC's soft value with
        ``soft_q_backup=True``)."""
        if self.soft_q_backup:
            return super()._next_value(next_observations, ent_coef)
        actions = self.actor(next_observations, deterministic=True)
        return self.critic_target.q_values(next_observations, actions).min(
            dim=1, keepdim=True).values

    def _critic_penalty(self, data, current_q):
        """The CQL(H) penalty summed over the critics, halved as SAC's squared error.

        Parameters
        ----------
        data : ReplayBufferSamples
            The minibatch.
        current_q : torch.Tensor of shape (batch, n_critics)
            :math:`Q_i(s, a)` on the dataset's actions.

        Returns
        -------
        penalty : torch.Tensor
            A scalar: ``cql_alpha / 2`` times the sum over the critics of the
            batch mean of log-sum-exp minus :math:`Q_i(s, a)`.
        """
        n, batch = self.n_action_samples, data.observations.shape[0]
        act_dim = data.actions.shape[1]

        def repeat(x):
            return x.repeat_interleave(n, dim=0)

        obs, next_obs = repeat(data.observations), repeat(data.next_observations)
        uniform = torch.empty(batch * n, act_dim, device=obs.device).uniform_(-1, 1)
        with torch.no_grad():
            a_cur, logp_cur = self.actor.action_log_prob(obs)
            a_next, logp_next = self.actor.action_log_prob(next_obs)
        q_uniform = self.critic.q_values(obs, uniform) - act_dim * math.log(0.5)
        q_cur = self.critic.q_values(obs, a_cur) - logp_cur.reshape(-1, 1)
        q_next = self.critic.q_values(obs, a_next) - logp_next.reshape(-1, 1)
        # (batch, 3 n, n_critics): log-sum-exp over the 3 n proposals of each state
        stacked = torch.cat([q.reshape(batch, n, -1) for q in (q_uniform, q_cur, q_next)],
                            dim=1)
        logsumexp = torch.logsumexp(stacked, dim=1)
        return 0.5 * self.cql_alpha * (logsumexp - current_q).mean(dim=0).sum()
