r"""Implicit Q-learning (Kostrikov, Nair and Levine, 2022), chapters 38-39.

IQL never evaluates the critic on actions outside the dataset. A value network fits an
upper expectile of the target critics over the dataset's actions,

.. math::

    L_V = \mathbb{E}_{(s,a)}\big[L_2^\tau\big(\min_i \bar Q_i(s, a) - V(s)\big)\big],
    \qquad L_2^\tau(u) = |\tau - \mathbb{1}(u < 0)|\, u^2,

which approaches :math:`\max_a Q` over the supported actions as :math:`\tau \to 1`;
the critics regress :math:`r + \gamma (1 - d) V(s')`; and the policy is extracted by
advantage-weighted regression on the dataset's actions,

.. math::

    L_\pi = -\mathbb{E}_{(s,a)}\big[\min(e^{\beta (\min_i \bar Q_i(s,a) - V(s))},
    w_{\max})\, \log \pi(a \mid s)\big].

The policy is the paper's (and d3rlpy's): a diagonal Gaussian
:math:`\pi(a \mid s) = \mathcal N\big(a;\ \tanh \mu(s),\ \operatorname{diag}\sigma^2\big)`
in the actions scaled to :math:`[-1, 1]`, with one learned, state-independent
:math:`\log\sigma \in [-5, 2]`; its log-density is taken at the raw dataset action (no
change of variables, so actions at the bounds cost nothing extra), and the
deterministic action is :math:`\tanh \mu(s)`.
"""

from numbers import Real

import torch
from sklearn.utils import check_scalar
from torch import nn
from torch.nn import functional as F

from ..actor_critic._sac import SAC
from ..common.continuous_policies import (
    SACCnnPolicy,
    SACMultiInputPolicy,
    SACPolicy,
    SquashedGaussianActor,
    _make_optimizer,
    gaussian_log_prob,
)
from ..common.policies import _run_sequential
from ._base import LossListMixin, OfflineMixin, offline_doc

__all__ = ["IQL", "expectile_loss"]


def expectile_loss(diff, expectile):
    """:math:`|\\tau - \\mathbb{1}(u < 0)|\\, u^2`, elementwise.

    Parameters
    ----------
    diff : torch.Tensor
        :math:`u = \\bar Q - V`.
    expectile : float
        :math:`\\tau`.

    Returns
    -------
    loss : torch.Tensor
        Same shape as ``diff``.
    """
    weight = torch.where(diff < 0, 1.0 - expectile, expectile)
    return weight * diff.square()


class TanhMeanGaussianActor(SquashedGaussianActor):
    r"""IQL's actor: :math:`\mathcal N(\tanh\mu(s), \operatorname{diag}\sigma^2)`, one
    state-independent :math:`\log\sigma`.

    The hidden layers and the mean head are SAC's; ``log_std`` is a parameter of shape
    ``(1, action_dim)`` mapped into ``[log_std_min, log_std_max]`` by
    :math:`\log\sigma = l_{\min} + (l_{\max} - l_{\min})\,\mathrm{sigmoid}(\theta)`
    (d3rlpy's map; :math:`\theta = 0` at the start, :math:`\log\sigma = -1.5`). Samples are
    clipped to :math:`[-1, 1]`; the deterministic action is :math:`\tanh\mu(s)`.
    """

    def __init__(self, observation_space, action_space, net_arch, activation_fn=nn.ReLU,
                 log_std_min=-5.0, log_std_max=2.0, features_extractor=None,
                 normalize_images=True, features_extractor_class=None,
                 features_extractor_kwargs=None):
        super().__init__(observation_space, action_space, net_arch, activation_fn,
                         features_extractor=features_extractor,
                         normalize_images=normalize_images,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs)
        self.log_std_min, self.log_std_max = float(log_std_min), float(log_std_max)
        self.log_std = nn.Parameter(torch.zeros(1, self.action_dim))

    def _params(self, obs):
        latent = _run_sequential(self.latent_pi, self.extract_features(obs))
        mean = torch.tanh(F.linear(latent, self.mu.weight, self.mu.bias))
        log_std = self.log_std_min + (self.log_std_max - self.log_std_min) * \
            torch.sigmoid(self.log_std)
        return mean, log_std.expand_as(mean), None

    def forward(self, obs, deterministic=False):
        mean, log_std, _ = self._params(obs)
        if deterministic:
            return mean
        return (mean + torch.randn_like(mean) * log_std.exp()).clamp(-1.0, 1.0)

    def log_prob(self, obs, actions):
        """:math:`\\log\\pi(a \\mid s)`, summed over the action dimensions."""
        mean, log_std, _ = self._params(obs)
        return gaussian_log_prob(actions, mean, log_std)

    def action_log_prob(self, obs):
        mean, log_std, _ = self._params(obs)
        actions = (mean + torch.randn_like(mean) * log_std.exp()).clamp(-1.0, 1.0)
        return actions, gaussian_log_prob(actions, mean, log_std)


class _IQLPolicyMixin:
    r"""SAC's policy with IQL's actor (:class:`TanhMeanGaussianActor`) in place of SAC's.

    ``log_std_bounds`` is the range of the actor's :math:`\log\sigma` (IQL's; AWAC's
    policies subclass with the paper's ``(-6, 0)``)."""

    log_std_bounds = (-5.0, 2.0)

    def __init__(self, observation_space, action_space, lr_schedule, *args, **kwargs):
        super().__init__(observation_space, action_space, lr_schedule, *args, **kwargs)
        if self.use_sde:
            raise ValueError("This actor has a state-independent standard deviation; "
                             "use_sde is not supported.")
        old = self.actor
        self.actor = TanhMeanGaussianActor(
            observation_space, action_space, old.net_arch, old.activation_fn,
            log_std_min=self.log_std_bounds[0], log_std_max=self.log_std_bounds[1],
            features_extractor=old.features_extractor,  # shared with the critic if asked
            normalize_images=old.normalize_images, **self._extractor_spec())
        self.actor.optimizer = _make_optimizer(self.optimizer_class, self.actor.parameters(),
                                               lr_schedule(1), self.optimizer_kwargs)


class IQLPolicy(_IQLPolicyMixin, SACPolicy):
    """:class:`~mlnotes.rl.common.continuous_policies.SACPolicy` (same arguments) with
    IQL's actor, :class:`TanhMeanGaussianActor`."""


class IQLCnnPolicy(_IQLPolicyMixin, SACCnnPolicy):
    """:class:`~mlnotes.rl.common.continuous_policies.SACCnnPolicy` (same arguments) with
    IQL's actor, :class:`TanhMeanGaussianActor`."""


class IQLMultiInputPolicy(_IQLPolicyMixin, SACMultiInputPolicy):
    """:class:`~mlnotes.rl.common.continuous_policies.SACMultiInputPolicy` (same arguments) with
    IQL's actor, :class:`TanhMeanGaussianActor`."""


@offline_doc
class IQL(LossListMixin, OfflineMixin, SAC):
    r"""Implicit Q-learning: offline RL without querying out-of-dataset actions.

    Constructed like the other agents (``IQL("MlpPolicy", env)``: the env gives the
    spaces), it learns with ``fit(dataset, n_steps)``; each gradient step updates the
    value network by the expectile loss, the twin critics towards
    :math:`r + \gamma (1 - d) V(s')`, and the actor, a Gaussian around
    :math:`\tanh\mu(s)` with one state-independent :math:`\log\sigma \in [-5, 2]` (the
    paper's and d3rlpy's), by advantage-weighted log-likelihood of the dataset's actions
    (see the module docstring), in this order, as in the paper's code: the critics'
    target and the actor's advantage use the value network just stepped.
    ``predict(deterministic=True)`` returns :math:`\tanh\mu(s)`.
    Chapters 38-39 of the notes; see the user guide, "Offline RL".

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` (SAC's critics, the Gaussian actor above).
    env : gymnasium.Env, VecEnv or str
        An environment with the dataset's spaces (Box actions).
    learning_rate : float or callable, default=3e-4
        Learning rate of the actor, critics and value network (constant, as d3rlpy's
        default; the paper decays the actor's by a cosine schedule).
    buffer_size : int, default=1_000_000
        Replay buffer size of online ``learn``.
    batch_size : int, default=256
        Minibatch size.
    tau : float, default=0.005
        Polyak coefficient of the target critics.
    gamma : float, default=0.99
        Discount factor.
    expectile : float, default=0.7
        :math:`\tau` of the value loss, in (0, 1).
    beta : float, default=3.0
        Inverse temperature of the advantage weights.
    max_weight : float, default=100.0
        Clip of the advantage weights.
    normalize_observations : bool, default=False
        Standardise observations by the dataset's statistics.
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Exploration noise of online ``learn`` (unused by ``fit``).
    policy_kwargs : dict, default=None
        SAC policy arguments (default ``net_arch=[256, 256]``).
    %(common_parameters)s

    Attributes
    ----------
    value_net : torch.nn.Module
        :math:`V(s)`, with ``value_net.optimizer``.
    %(eval_history)s

    Examples
    --------
    >>> from mlnotes.rl import IQL
    >>> from mlnotes.rl.offline import collect_dataset
    >>> data = collect_dataset("Pendulum-v1", n_steps=400, seed=0)
    >>> agent = IQL("MlpPolicy", "Pendulum-v1", seed=0).fit(data, n_steps=50)
    >>> agent.predict(data["observations"][:3], deterministic=True)[0].shape
    (3, 1)
    """

    policy_aliases = {"MlpPolicy": IQLPolicy, "CnnPolicy": IQLCnnPolicy,
                      "MultiInputPolicy": IQLMultiInputPolicy}

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size=1_000_000, batch_size=256,
                 tau=0.005, gamma=0.99, expectile=0.7, beta=3.0, max_weight=100.0,
                 normalize_observations=False, action_noise=None, policy_kwargs=None,
                 verbose=0, seed=None, device="auto", _init_setup_model=True):
        check_scalar(expectile, "expectile", Real, min_val=0, max_val=1,
                     include_boundaries="neither")
        check_scalar(beta, "beta", Real, min_val=0)
        check_scalar(max_weight, "max_weight", Real, min_val=0, include_boundaries="neither")
        self.expectile, self.beta, self.max_weight = float(expectile), float(beta), \
            float(max_weight)
        self.normalize_observations = bool(normalize_observations)
        self.eval_history_ = []
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=0, batch_size=batch_size, tau=tau, gamma=gamma,
                         action_noise=action_noise, policy_kwargs=policy_kwargs,
                         verbose=verbose, seed=seed, device=device,
                         _init_setup_model=_init_setup_model)

    def _setup_model(self):
        super()._setup_model()   # OfflineMixin's: the agent's networks and obs_stats
        sizes = self.policy.net_arch if isinstance(self.policy.net_arch, list) else \
            self.policy.net_arch.get("qf", [256, 256])
        layers, width = [], self.policy.actor.features_dim
        for h in sizes:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.value_net = nn.Sequential(*layers, nn.Linear(width, 1)).to(self.device)
        self.value_net.optimizer = torch.optim.Adam(self.value_net.parameters(),
                                                    lr=self.lr_schedule(1))

    def _state_dict_names(self):
        return super()._state_dict_names() + ["value_net", "value_net.optimizer"]

    def _value(self, obs):
        return self.value_net(self.policy.actor.preprocess_obs(obs))

    def losses(self, data):
        """The three IQL losses on one minibatch, yielded in update order.

        As in the paper's code: the value network is stepped first, and the critics'
        target :math:`r + \\gamma (1 - d) V(s')` and the actor's advantage
        :math:`\\min_i \\bar Q_i(s, a) - V(s)` use the value network after that step
        (:class:`~mlnotes.rl.offline._base.LossListMixin` steps each optimiser as soon as
        its loss is yielded). ``list(agent.losses(data))`` computes all three with the
        present networks.

        Parameters
        ----------
        data : ReplayBufferSamples
            Observations, actions (scaled to [-1, 1]), next observations, dones,
            rewards.

        Yields
        ------
        value_loss, critic_loss, actor_loss : torch.Tensor
            Scalars.
        """
        with torch.no_grad():
            q_target = self.critic_target.q_values(data.observations, data.actions)
            q_target = q_target.min(dim=1, keepdim=True).values
        yield expectile_loss(q_target - self._value(data.observations),
                             self.expectile).mean()
        with torch.no_grad():  # the value network after its step
            v, next_v = self._value(data.observations), self._value(data.next_observations)
            target = data.rewards + (1.0 - data.dones) * self.gamma * next_v
        q = self.critic.q_values(data.observations, data.actions)
        yield (q - target).square().mean(dim=0).sum()
        weight = torch.exp(self.beta * (q_target - v)).clamp(max=self.max_weight).squeeze(1)
        log_prob = self.actor.log_prob(data.observations, data.actions)
        yield -(weight * log_prob).mean()

    _loss_names = ("value_loss", "critic_loss", "actor_loss")

    def _loss_optimizers(self):
        return [self.value_net.optimizer, self.critic.optimizer, self.actor.optimizer]
