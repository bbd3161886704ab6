"""Policies of the continuous-control off-policy agents (SAC, TD3, DDPG; chapters 41-42).

Three networks, each as in Stable-Baselines3 (plain MLPs, PyTorch's default
initialisation, ReLU by default):

- :class:`SquashedGaussianActor`: a Gaussian whose sample is squashed by ``tanh`` into
  :math:`[-1, 1]` (SAC's actor), with the change-of-variables correction of the
  log-density;
- :class:`DeterministicActor`: :math:`\\mu(s) = \\tanh(\\mathrm{MLP}(s))` (TD3/DDPG);
- :class:`ContinuousCritic`: ``n_critics`` independent Q-networks
  :math:`Q_j(s, a) = \\mathrm{MLP}_j([s, a])`.

:class:`SACPolicy` and :class:`TD3Policy` bundle them with their target copies and one
optimiser per network (``actor.optimizer``, ``critic.optimizer``), as SB3's. Actions
inside the agents live in :math:`[-1, 1]` (``scale_action``/``unscale_action`` map to
the env's bounds); ``predict`` returns env-scaled actions.

The forward passes run the layers as plain functions (no per-module call overhead),
and Adam runs fused (one kernel per step) unless the user chose otherwise.
"""

import math

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import preprocess_obs as sb3_preprocess_obs
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, NatureCNN
from torch import nn
from torch.nn import functional as F

from ..._fastpaths import fused_adam_step
from .policies import BasePolicy, _make_extractor, _run_sequential

#: bounds of the actor's log standard deviation (as SB3's SAC)
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


def _check_arch(sizes, net_arch):
    sizes = list(sizes)
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(
                f"net_arch layer sizes must be positive integers, got {net_arch!r}.")
    return [int(s) for s in sizes]


def get_actor_critic_arch(net_arch):
    """Split ``net_arch`` into the actor's and the critic's hidden layers (SB3's rule).

    Parameters
    ----------
    net_arch : list of int or dict
        A list gives both networks that shape; ``dict(pi=[...], qf=[...])`` gives them
        different shapes (no shared layers: the target networks would drift apart).

    Returns
    -------
    actor_arch, critic_arch : list of int
        Hidden-layer sizes.
    """
    if isinstance(net_arch, dict):
        unknown = set(net_arch) - {"pi", "qf"}
        if unknown or "pi" not in net_arch or "qf" not in net_arch:
            raise ValueError(
                "net_arch as a dict needs exactly the keys 'pi' (actor) and 'qf' "
                f"(critic), got {sorted(net_arch)}.")
        return _check_arch(net_arch["pi"], net_arch), _check_arch(net_arch["qf"], net_arch)
    if isinstance(net_arch, (list, tuple)):
        arch = _check_arch(net_arch, net_arch)
        return arch, list(arch)
    raise TypeError(f"net_arch must be a list of ints or a dict, got {net_arch!r}.")


def _mlp(in_dim, sizes, activation_fn, out_dim=None, squash=False):
    layers = []
    for size in sizes:
        layers += [nn.Linear(in_dim, size), activation_fn()]
        in_dim = size
    if out_dim is not None:
        layers.append(nn.Linear(in_dim, out_dim))
        in_dim = out_dim
    if squash:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers), in_dim


def squashed_gaussian_log_prob(gaussian_actions, mean, log_std):
    """Log-density of ``tanh(u)`` for ``u ~ N(mean, exp(log_std)^2)`` (diagonal).

    Parameters
    ----------
    gaussian_actions : torch.Tensor of shape (n, action_dim)
        The pre-squash samples :math:`u`.
    mean, log_std : torch.Tensor of shape (n, action_dim)
        Parameters of the Gaussian.

    Returns
    -------
    log_prob : torch.Tensor of shape (n,)
        :math:`\\log \\pi(\\tanh u)`.

    Notes
    -----
    With :math:`a = \\tanh(u)` and :math:`da_i/du_i = 1 - \\tanh^2(u_i)`, the change of
    variables gives

    .. math::

        \\log \\pi(a) = \\sum_i \\Big[\\log \\mathcal N(u_i; \\mu_i, \\sigma_i^2)
        - \\log\\big(1 - \\tanh^2(u_i)\\big)\\Big],\\qquad
        \\log\\big(1 - \\tanh^2(u)\\big) = 2\\big(\\log 2 - u - \\operatorname{softplus}(-2u)\\big),

    the right-hand form exact and stable for large :math:`|u|` (SB3 computes
    :math:`\\log(1 - a^2 + 10^{-6})`, which differs once :math:`|a| \\to 1`).
    """
    z = (gaussian_actions - mean) * torch.exp(-log_std)
    gaussian = -(0.5 * z.square() + log_std + _HALF_LOG_2PI)
    log_det = 2.0 * (_LOG_2 - gaussian_actions - F.softplus(-2.0 * gaussian_actions))
    return (gaussian - log_det).sum(-1)


def gaussian_log_prob(actions, mean, log_std):
    """Diagonal Gaussian log-density of ``actions`` (no squashing), summed over the
    last axis: the unsquashed sibling of :func:`squashed_gaussian_log_prob`."""
    z = (actions - mean) * torch.exp(-log_std)
    return -(0.5 * z.square() + log_std + _HALF_LOG_2PI).sum(dim=-1)


class _ContinuousBase(BasePolicy):
    """Box-action base: checks the space and maps actions between [-1, 1] and the env's
    bounds (``scale_action`` / ``unscale_action``, as SB3's).

    ``features_extractor`` (an SB3 ``BaseFeaturesExtractor`` module, e.g. ``NatureCNN``
    or ``CombinedExtractor``) is applied to SB3's preprocessed observation; without it
    the observation is flattened (one-hot for Discrete) without a module call."""

    #: actions are squashed into [-1, 1] (SB3's attribute, read by the off-policy loop)
    squash_output = True
    #: Dict observations are checked by the owning policy (they need an extractor)
    supports_dict_observations = True
    #: MultiBinary observations are read as float features (SB3's preprocessing)
    supports_multibinary_observations = True

    def __init__(self, observation_space, action_space, features_extractor=None,
                 normalize_images=True, features_extractor_class=None,
                 features_extractor_kwargs=None):
        if not isinstance(action_space, spaces.Box):
            raise ValueError(
                f"{type(self).__name__} needs a Box action space, got {action_space!r}.")
        super().__init__(observation_space, action_space, normalize_images=normalize_images)
        if features_extractor is None and features_extractor_class not in (None,
                                                                           FlattenExtractor):
            # rebuilt from its class (a network saved alone and loaded back)
            features_extractor = _make_extractor(features_extractor_class, observation_space,
                                                 dict(features_extractor_kwargs or {}))
        if features_extractor is None and isinstance(observation_space, spaces.Dict):
            raise ValueError(
                f"{type(self).__name__} needs a features extractor for Dict observations "
                "(use \"MultiInputPolicy\").")
        self.features_extractor = features_extractor
        if features_extractor is not None:
            self.features_dim = int(features_extractor.features_dim)
        low = np.asarray(action_space.low, dtype=np.float64)
        high = np.asarray(action_space.high, dtype=np.float64)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(
                f"{type(self).__name__} needs a bounded Box action space (its actions "
                f"are squashed into the bounds), got {action_space!r}.")
        self.action_dim = int(np.prod(action_space.shape))

    def _get_constructor_parameters(self):
        params = super()._get_constructor_parameters()
        if params.get("features_extractor_class") is not None:
            params["features_extractor"] = None  # saved by class and kwargs, rebuilt on load
        return params

    def extract_features(self, obs):
        """Features of a batch of raw observations.

        Parameters
        ----------
        obs : torch.Tensor or dict of torch.Tensor
            Observations ``(n,) + obs_shape``.

        Returns
        -------
        features : torch.Tensor of shape (n, features_dim)
            The features extractor's output on SB3's preprocessed observation (images
            divided by 255 when ``normalize_images``), or the flattened observation.
        """
        if self.features_extractor is None:
            return self.preprocess_obs(obs)
        return self.features_extractor(
            sb3_preprocess_obs(obs, self.observation_space, self.normalize_images))

    def scale_action(self, action):
        """Map actions from the env's bounds to [-1, 1].

        Parameters
        ----------
        action : numpy.ndarray
            Actions within ``[low, high]``.

        Returns
        -------
        scaled : numpy.ndarray
            ``2 (action - low) / (high - low) - 1``.
        """
        low, high = self.action_space.low, self.action_space.high
        return 2.0 * ((action - low) / (high - low)) - 1.0

    def unscale_action(self, scaled_action):
        """Map actions from [-1, 1] to the env's bounds.

        Parameters
        ----------
        scaled_action : numpy.ndarray
            Actions within [-1, 1].

        Returns
        -------
        action : numpy.ndarray
            ``low + (scaled + 1) (high - low) / 2``.
        """
        low, high = self.action_space.low, self.action_space.high
        return low + 0.5 * (scaled_action + 1.0) * (high - low)


class SquashedGaussianActor(_ContinuousBase):
    """SAC's actor: a diagonal Gaussian squashed by ``tanh`` (SB3's ``sac.policies.Actor``).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space.
    action_space : gymnasium.spaces.Box
        Bounded action space.
    net_arch : list of int
        Hidden layers.
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation after every hidden layer.
    use_sde : bool, default=False
        Generalised state-dependent exploration (gSDE): the noise is
        :math:`z(s)^\\top \\Theta` with :math:`z` the last hidden layer and
        :math:`\\Theta_{ij} \\sim \\mathcal N(0, \\sigma_{ij}^2)` redrawn by
        :meth:`reset_noise`.
    log_std_init : float, default=-3
        Initial :math:`\\log\\sigma` of gSDE (unused without it).
    full_std : bool, default=True
        gSDE: one :math:`\\sigma` per (feature, action) pair, else one per feature.
    use_expln : bool, default=False
        gSDE: :math:`\\sigma = \\operatorname{expln}(\\log\\sigma)` (linear growth for
        positive values) instead of the exponential.
    clip_mean : float, default=2.0
        gSDE: the mean is clipped to ``[-clip_mean, clip_mean]`` (0: no clipping).
    features_extractor : torch.nn.Module, default=None
        SB3 features extractor applied first (``None``: flatten the observation).
    normalize_images : bool, default=True
        Divide image observations by 255 before the features extractor.
    features_extractor_class : type, default=None
        The class of ``features_extractor`` (recorded so that the network saved alone,
        ``save``/``load``, rebuilds it; also builds one when ``features_extractor`` is
        ``None``).
    features_extractor_kwargs : dict, default=None
        Its arguments.

    Attributes
    ----------
    latent_pi : torch.nn.Sequential
        Hidden layers.
    mu : torch.nn.Module
        Head giving the mean of the pre-squash Gaussian.
    log_std : torch.nn.Linear or torch.nn.Parameter
        Head giving the log standard deviation (clamped to [-20, 2]); with gSDE the
        parameter :math:`\\log\\sigma` of shape ``(latent_dim, action_dim)``.
    optimizer : torch.optim.Optimizer
        Set by the owning policy.

    Notes
    -----
    :math:`u = \\mu(s) + \\sigma(s)\\,\\epsilon`, :math:`\\epsilon \\sim \\mathcal N(0, I)`
    (reparameterised, so gradients flow through the sample), :math:`a = \\tanh(u)`; the
    log-density is :func:`squashed_gaussian_log_prob`. The deterministic action is
    :math:`\\tanh(\\mu(s))`. With gSDE, :math:`u = \\mu(s) + z(s)^\\top\\Theta`, whose
    density is Gaussian with variance :math:`\\sum_i z_i(s)^2 \\sigma_{ij}^2` (+ 1e-6),
    and gradients reach :math:`\\log\\sigma` through :math:`\\Theta = \\sigma \\odot E`,
    :math:`E` the standard normal draw of the last :meth:`reset_noise`.
    """

    def __init__(self, observation_space, action_space, net_arch, activation_fn=nn.ReLU,
                 use_sde=False, log_std_init=-3, full_std=True, use_expln=False,
                 clip_mean=2.0, features_extractor=None, normalize_images=True,
                 features_extractor_class=None, features_extractor_kwargs=None):
        super().__init__(observation_space, action_space, features_extractor, normalize_images,
                         features_extractor_class, features_extractor_kwargs)
        self.net_arch = list(net_arch)
        self.activation_fn = activation_fn
        self.use_sde = bool(use_sde)
        self.log_std_init, self.full_std = log_std_init, bool(full_std)
        self.use_expln, self.clip_mean = bool(use_expln), clip_mean
        self.latent_pi, last = _mlp(self.features_dim, self.net_arch, activation_fn)
        self.latent_dim = last
        if self.use_sde:
            mu = nn.Linear(last, self.action_dim)
            self.mu = nn.Sequential(mu, nn.Hardtanh(-clip_mean, clip_mean)) \
                if clip_mean > 0 else mu
            self.log_std = nn.Parameter(torch.full(
                (last, self.action_dim if self.full_std else 1), float(log_std_init)))
            self.reset_noise()
        else:
            self.mu = nn.Linear(last, self.action_dim)
            self.log_std = nn.Linear(last, self.action_dim)

    # ------------------------------------------------------------------ gSDE

    def get_std(self):
        """Standard deviations :math:`\\sigma` of the gSDE weights (gSDE only).

        Returns
        -------
        std : torch.Tensor of shape (latent_dim, action_dim)
            ``exp(log_std)``, or its ``expln`` map, broadcast when not ``full_std``.
        """
        if not self.use_sde:
            raise ValueError("get_std() is only available with gSDE (use_sde=True).")
        log_std = self.log_std
        if self.use_expln:
            below = torch.exp(log_std) * (log_std <= 0)
            positive = log_std > 0
            std = below + (torch.log1p(log_std * positive + 1e-6) + 1.0) * positive
        else:
            std = torch.exp(log_std)
        return std.expand(self.latent_dim, self.action_dim)

    def reset_noise(self, batch_size=1):
        """Draw new gSDE weights: one matrix, and one per environment (gSDE only).

        Parameters
        ----------
        batch_size : int, default=1
            Number of environments (a batch of that many observations gets one
            matrix per row; any other batch the single matrix).
        """
        if not self.use_sde:
            raise ValueError("reset_noise() is only available with gSDE (use_sde=True).")
        shape = (self.latent_dim, self.action_dim)
        device = self.log_std.device
        self._noise = torch.randn(shape, device=device)
        self._noise_per_env = torch.randn((int(batch_size), *shape), device=device)

    def _sde_noise(self, latent, std):
        if len(latent) != 1 and len(latent) == len(self._noise_per_env):
            weights = self._noise_per_env.to(latent.device) * std
            return torch.bmm(latent.unsqueeze(1), weights).squeeze(1)
        return latent @ (self._noise.to(latent.device) * std)

    # ------------------------------------------------------------------ passes

    def get_action_dist_params(self, obs):
        """Mean and log standard deviation of the pre-squash Gaussian.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        mean, log_std : torch.Tensor of shape (n, action_dim)
            The parameters (with gSDE, the log of the state-dependent scale).
        """
        mean, log_std, _ = self._params(obs)
        return mean, log_std

    def _params(self, obs):
        latent = _run_sequential(self.latent_pi, self.extract_features(obs))
        if self.use_sde:
            mean = _run_sequential(self.mu, latent) if isinstance(self.mu, nn.Sequential) \
                else F.linear(latent, self.mu.weight, self.mu.bias)
            std = self.get_std()
            scale = torch.sqrt(latent.square() @ std.square() + 1e-6)
            return mean, torch.log(scale), (latent, std)
        mean = F.linear(latent, self.mu.weight, self.mu.bias)
        log_std = F.linear(latent, self.log_std.weight, self.log_std.bias)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX), None

    def _gaussian_sample(self, mean, log_std, sde):
        if sde is not None:
            return mean + self._sde_noise(*sde)
        return mean + torch.randn_like(mean) * log_std.exp()

    def forward(self, obs, deterministic=False):
        """Actions in [-1, 1].

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        deterministic : bool, default=False
            ``tanh`` of the mean instead of a sample.

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            Squashed actions.
        """
        mean, log_std, sde = self._params(obs)
        if deterministic:
            return torch.tanh(mean)
        return torch.tanh(self._gaussian_sample(mean, log_std, sde))

    def action_log_prob(self, obs):
        """Reparameterised sample and its log-density (the training pass).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            Squashed actions, differentiable in the actor's parameters.
        log_prob : torch.Tensor of shape (n,)
            :math:`\\log \\pi(a \\mid s)`.
        """
        mean, log_std, sde = self._params(obs)
        u = self._gaussian_sample(mean, log_std, sde)
        return torch.tanh(u), squashed_gaussian_log_prob(u, mean, log_std)

    def _predict(self, obs, deterministic=False):
        return self(obs, deterministic)  # in [-1, 1]: predict() unscales (squash_output)


class DeterministicActor(_ContinuousBase):
    """TD3/DDPG's actor :math:`\\mu(s) = \\tanh(\\mathrm{MLP}(s))` (SB3's ``td3.policies.Actor``).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space.
    action_space : gymnasium.spaces.Box
        Bounded action space.
    net_arch : list of int
        Hidden layers.
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation after every hidden layer.
    features_extractor : torch.nn.Module, default=None
        SB3 features extractor applied first (``None``: flatten the observation).
    normalize_images : bool, default=True
        Divide image observations by 255 before the features extractor.
    features_extractor_class : type, default=None
        The class of ``features_extractor`` (recorded so that the network saved alone,
        ``save``/``load``, rebuilds it; also builds one when ``features_extractor`` is
        ``None``).
    features_extractor_kwargs : dict, default=None
        Its arguments.

    Attributes
    ----------
    mu : torch.nn.Sequential
        Hidden layers, the output layer and ``tanh``.
    optimizer : torch.optim.Optimizer
        Set by the owning policy.
    """

    def __init__(self, observation_space, action_space, net_arch, activation_fn=nn.ReLU,
                 features_extractor=None, normalize_images=True, features_extractor_class=None,
                 features_extractor_kwargs=None):
        super().__init__(observation_space, action_space, features_extractor, normalize_images,
                         features_extractor_class, features_extractor_kwargs)
        self.net_arch = list(net_arch)
        self.activation_fn = activation_fn
        self.mu, _ = _mlp(self.features_dim, self.net_arch, activation_fn,
                          out_dim=self.action_dim, squash=True)

    def forward(self, obs):
        """Deterministic actions in [-1, 1].

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            :math:`\\mu(s)`.
        """
        return _run_sequential(self.mu, self.extract_features(obs))

    def _predict(self, obs, deterministic=False):
        # exploration comes from action noise in the loop: predict is always deterministic;
        # actions in [-1, 1], which predict() unscales (squash_output)
        return self(obs)


class ContinuousCritic(_ContinuousBase):
    """``n_critics`` Q-networks :math:`Q_j(s, a)` on ``[s, a]`` (SB3's ``ContinuousCritic``).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space.
    action_space : gymnasium.spaces.Box
        Bounded action space.
    net_arch : list of int
        Hidden layers of every Q-network.
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation after every hidden layer.
    n_critics : int, default=2
        Number of Q-networks (2 for the clipped double-Q of TD3/SAC, 1 for DDPG).
    share_features_extractor : bool, default=True
        Whether ``features_extractor`` is the actor's: its features are then computed
        without gradient here (the actor's loss trains it, as in SB3). Without a
        features extractor there is nothing to share.
    features_extractor : torch.nn.Module, default=None
        SB3 features extractor applied to the observation (``None``: flatten it).
    normalize_images : bool, default=True
        Divide image observations by 255 before the features extractor.
    features_extractor_class : type, default=None
        The class of ``features_extractor`` (recorded so that the network saved alone,
        ``save``/``load``, rebuilds it; also builds one when ``features_extractor`` is
        ``None``).
    features_extractor_kwargs : dict, default=None
        Its arguments.

    Attributes
    ----------
    q_networks : list of torch.nn.Sequential
        The Q-networks (also registered as ``qf0``, ``qf1``, ...).
    optimizer : torch.optim.Optimizer
        Set by the owning policy.
    """

    def __init__(self, observation_space, action_space, net_arch, activation_fn=nn.ReLU,
                 n_critics=2, share_features_extractor=True, features_extractor=None,
                 normalize_images=True, features_extractor_class=None,
                 features_extractor_kwargs=None):
        super().__init__(observation_space, action_space, features_extractor, normalize_images,
                         features_extractor_class, features_extractor_kwargs)
        if isinstance(n_critics, bool) or not isinstance(n_critics, (int, np.integer)) \
                or n_critics < 1:
            raise ValueError(f"n_critics must be a positive int, got {n_critics!r}.")
        self.net_arch = list(net_arch)
        self.activation_fn = activation_fn
        self.n_critics = int(n_critics)
        self.share_features_extractor = bool(share_features_extractor)
        self.q_networks = []
        for idx in range(self.n_critics):
            q_net, _ = _mlp(self.features_dim + self.action_dim, self.net_arch, activation_fn,
                            out_dim=1)
            self.add_module(f"qf{idx}", q_net)
            self.q_networks.append(q_net)

    def q_values(self, obs, actions):
        """All Q-values side by side.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        actions : torch.Tensor of shape (n, action_dim)
            Actions in [-1, 1].

        Returns
        -------
        q : torch.Tensor of shape (n, n_critics)
            :math:`Q_j(s, a)`.
        """
        x = torch.cat([self._features(obs), actions.reshape(actions.shape[0], -1)], dim=1)
        return torch.cat([_run_sequential(q, x) for q in self.q_networks], dim=1)

    def forward(self, obs, actions):
        """Q-values of every network, as SB3's (a tuple of ``(n, 1)`` tensors).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        actions : torch.Tensor of shape (n, action_dim)
            Actions in [-1, 1].

        Returns
        -------
        q : tuple of torch.Tensor of shape (n, 1)
            One per network.
        """
        return tuple(self.q_values(obs, actions).split(1, dim=1))

    def q1_forward(self, obs, actions):
        """Q-value of the first network only (TD3's actor loss).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        actions : torch.Tensor of shape (n, action_dim)
            Actions in [-1, 1].

        Returns
        -------
        q : torch.Tensor of shape (n, 1)
            :math:`Q_1(s, a)`.
        """
        x = torch.cat([self._features(obs), actions.reshape(actions.shape[0], -1)], dim=1)
        return _run_sequential(self.q_networks[0], x)

    def _features(self, obs):
        if self.features_extractor is not None and self.share_features_extractor:
            with torch.no_grad():  # the actor's extractor: trained by the actor's loss
                return self.extract_features(obs)
        return self.extract_features(obs)


def _make_optimizer(optimizer_class, params, lr, optimizer_kwargs):
    kwargs = dict(optimizer_kwargs)
    if optimizer_class is torch.optim.Adam and not {"foreach", "fused"} & set(kwargs):
        # one fused kernel per step instead of a Python loop over the tensors
        kwargs["fused"] = True
    return optimizer_class(params, lr=lr, **kwargs)


def optimizer_step(optimizer):
    """``optimizer.step()`` then drop the gradients; for a fused ``torch.optim.Adam`` (our
    default) the same fused kernel called directly, without the per-call dispatch
    (hooks, profiler records, grouping by device) that costs more than the arithmetic
    on small networks (:func:`mlnotes._fastpaths.fused_adam_step`). Any other optimiser
    or setting takes the ordinary path.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimiser; every parameter's ``.grad`` is set to ``None`` afterwards.
    """
    if not fused_adam_step(optimizer, drop_grads=True):
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)


def _optimizer_check(optimizer_class, optimizer_kwargs):
    if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)):
        raise TypeError(f"optimizer_class must be a torch optimizer class, got {optimizer_class!r}.")
    if optimizer_kwargs is not None and not isinstance(optimizer_kwargs, dict):
        raise TypeError("optimizer_kwargs must be a dict or None.")
    return dict(optimizer_kwargs or {})


class _OffPolicyPolicy(BasePolicy):
    #: actions are squashed into [-1, 1]; predict() maps them to the bounds
    squash_output = True
    #: MultiBinary observations are read as float features (SB3's preprocessing)
    supports_multibinary_observations = True

    def _init_extractor(self, features_extractor_class, features_extractor_kwargs):
        """Record the features extractor choice (SB3's arguments, checked)."""
        if not (isinstance(features_extractor_class, type)
                and issubclass(features_extractor_class, nn.Module)):
            raise TypeError("features_extractor_class must be a torch.nn.Module subclass "
                            f"(an SB3 features extractor), got {features_extractor_class!r}.")
        if features_extractor_kwargs is not None and not isinstance(features_extractor_kwargs,
                                                                    dict):
            raise TypeError("features_extractor_kwargs must be a dict or None.")
        kwargs = dict(features_extractor_kwargs or {})
        if not self.normalize_images and issubclass(features_extractor_class,
                                                    (NatureCNN, CombinedExtractor)):
            kwargs.setdefault("normalized_image", True)  # as SB3
        self.features_extractor_class = features_extractor_class
        self.features_extractor_kwargs = kwargs
        if features_extractor_class is FlattenExtractor \
                and isinstance(self.observation_space, spaces.Dict):
            raise ValueError(
                "Dict observation spaces need a Dict features extractor: use "
                "\"MultiInputPolicy\" (CombinedExtractor), not MlpPolicy.")

    def _extractor_spec(self):
        if self.features_extractor_class is FlattenExtractor:
            return {}
        return {"features_extractor_class": self.features_extractor_class,
                "features_extractor_kwargs": dict(self.features_extractor_kwargs)}

    def make_features_extractor(self):
        """A new features extractor (``None`` for SB3's ``FlattenExtractor``, which the
        networks compute without a module).

        Returns
        -------
        extractor : torch.nn.Module or None
            ``features_extractor_class(observation_space, **features_extractor_kwargs)``.
        """
        if self.features_extractor_class is FlattenExtractor:
            return None
        return _make_extractor(self.features_extractor_class, self.observation_space,
                               self.features_extractor_kwargs)

    def _critic_and_parameters(self, make_critic, actor):
        """The critic (sharing the actor's extractor when asked, as SB3) and the
        parameters its optimiser updates (never the shared extractor's)."""
        shared = actor.features_extractor if self.share_features_extractor else None
        critic = make_critic(shared if shared is not None
                             else self.make_features_extractor())
        if shared is None:
            return critic, list(critic.parameters())
        return critic, [p for name, p in critic.named_parameters()
                        if not name.startswith("features_extractor.")]

    def set_training_mode(self, mode):
        """Switch train/eval mode (the target networks always stay in eval mode).

        Parameters
        ----------
        mode : bool
            ``True`` for training mode.
        """
        mode = bool(mode)
        cache = self.__dict__.get("_mode_split")
        if cache is None:
            targets = [getattr(self, n) for n in ("actor_target", "critic_target")
                       if getattr(self, n, None) is not None]
            frozen = {id(m) for t in targets for m in t.modules()}
            online = [m for m in self.modules() if id(m) not in frozen]
            plain = all(type(m).train is nn.Module.train for m in self.modules())
            cache = self.__dict__["_mode_split"] = (plain, online, targets)
        plain, online, targets = cache
        if not plain:
            self.train(mode)
            for target in targets:
                target.train(False)
            return
        for module in online:
            module.__dict__["training"] = mode

    def scale_action(self, action):
        """Map actions from the env's bounds to [-1, 1] (see the actor's method).

        Parameters
        ----------
        action : numpy.ndarray
            Actions within ``[low, high]``.

        Returns
        -------
        scaled : numpy.ndarray
            Actions within [-1, 1].
        """
        return self.actor.scale_action(action)

    def unscale_action(self, scaled_action):
        """Map actions from [-1, 1] to the env's bounds (see the actor's method).

        Parameters
        ----------
        scaled_action : numpy.ndarray
            Actions within [-1, 1].

        Returns
        -------
        action : numpy.ndarray
            Actions within ``[low, high]``.
        """
        return self.actor.unscale_action(scaled_action)

    def _predict(self, obs, deterministic=False):
        return self.actor._predict(obs, deterministic)


class SACPolicy(_OffPolicyPolicy):
    """Actor, twin critics and target critics of SAC (``MlpPolicy``; SB3's ``SACPolicy``).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space (Discrete observations are one-hot encoded).
    action_space : gymnasium.spaces.Box
        Bounded action space.
    lr_schedule : callable
        Learning-rate schedule; ``lr_schedule(1)`` is the optimisers' initial rate.
    net_arch : list of int or dict, default=None
        Hidden layers: a list for both actor and critics, ``dict(pi=[...], qf=[...])``
        for different ones; ``None`` means ``[256, 256]`` as SB3.
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation after every hidden layer.
    use_sde : bool, default=False
        Generalised state-dependent exploration (see :class:`SquashedGaussianActor`).
    log_std_init : float, default=-3
        Initial log standard deviation for gSDE (unused without it), as SB3.
    use_expln : bool, default=False
        gSDE option (unused without it).
    clip_mean : float, default=2.0
        gSDE option (unused without it).
    features_extractor_class : type, default=FlattenExtractor
        SB3 features extractor (``stable_baselines3.common.torch_layers``): the default
        flattens (no module), ``NatureCNN`` for images (``CnnPolicy``),
        ``CombinedExtractor`` for Dict observations (``MultiInputPolicy``). The actor,
        the critic and the target critic each have their own unless shared.
    features_extractor_kwargs : dict, default=None
        Arguments of the features extractor (e.g. ``features_dim=256``).
    normalize_images : bool, default=True
        Divide image observations by 255 (SB3's ``preprocess_obs``).
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser of the actor and of the critics (Adam runs fused unless
        ``optimizer_kwargs`` sets ``foreach`` or ``fused``).
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments.
    n_critics : int, default=2
        Number of Q-networks.
    share_features_extractor : bool, default=False
        The critic uses the actor's features extractor (trained by the actor's loss
        only, as SB3); without a features extractor there is nothing to share.

    Attributes
    ----------
    actor : SquashedGaussianActor
        The policy network, with ``actor.optimizer``.
    critic : ContinuousCritic
        The Q-networks, with ``critic.optimizer``.
    critic_target : ContinuousCritic
        Their Polyak-averaged copy.

    Examples
    --------
    >>> import gymnasium as gym
    >>> from mlnotes.rl.common.continuous_policies import SACPolicy
    >>> env = gym.make("Pendulum-v1")
    >>> policy = SACPolicy(env.observation_space, env.action_space, lambda _: 3e-4)
    >>> policy.predict(env.observation_space.sample())[0].shape
    (1,)
    """

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, use_sde=False, log_std_init=-3, use_expln=False,
                 clip_mean=2.0, features_extractor_class=FlattenExtractor,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, n_critics=2,
                 share_features_extractor=False):
        super().__init__(observation_space, action_space, normalize_images=normalize_images)
        self._init_extractor(features_extractor_class, features_extractor_kwargs)
        if net_arch is None:
            net_arch = [256, 256]
        actor_arch, critic_arch = get_actor_critic_arch(net_arch)
        self.optimizer_kwargs = _optimizer_check(optimizer_class, optimizer_kwargs)
        self.optimizer_class = optimizer_class
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.use_sde, self.log_std_init = use_sde, log_std_init
        self.use_expln, self.clip_mean = use_expln, clip_mean
        self.n_critics = n_critics
        self.share_features_extractor = share_features_extractor
        self.actor = SquashedGaussianActor(observation_space, action_space, actor_arch,
                                           activation_fn, use_sde=use_sde,
                                           log_std_init=log_std_init, use_expln=use_expln,
                                           clip_mean=clip_mean,
                                           features_extractor=self.make_features_extractor(),
                                           normalize_images=normalize_images,
                                           **self._extractor_spec())

        def make_critic(extractor):
            return ContinuousCritic(observation_space, action_space, critic_arch,
                                    activation_fn, n_critics, share_features_extractor,
                                    features_extractor=extractor,
                                    normalize_images=normalize_images,
                                    **self._extractor_spec())

        self.critic, critic_parameters = self._critic_and_parameters(make_critic, self.actor)
        self.critic_target = ContinuousCritic(
            observation_space, action_space, critic_arch, activation_fn, n_critics,
            share_features_extractor=False, features_extractor=self.make_features_extractor(),
            normalize_images=normalize_images, **self._extractor_spec())
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        lr = lr_schedule(1)
        self.actor.optimizer = _make_optimizer(optimizer_class, self.actor.parameters(), lr,
                                               self.optimizer_kwargs)
        self.critic.optimizer = _make_optimizer(optimizer_class, critic_parameters, lr,
                                                self.optimizer_kwargs)
        self.critic_target.set_training_mode(False)

    def reset_noise(self, batch_size=1):
        """Draw new gSDE weights for the actor (gSDE only).

        Parameters
        ----------
        batch_size : int, default=1
            Number of environments.
        """
        self.actor.reset_noise(batch_size)

    def forward(self, obs, deterministic=False):
        """Actions in [-1, 1] (the actor's).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        deterministic : bool, default=False
            ``tanh`` of the mean instead of a sample.

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            Squashed actions.
        """
        return self.actor(obs, deterministic)


class TD3Policy(_OffPolicyPolicy):
    """Actor, critics and their targets for TD3/DDPG (``MlpPolicy``; SB3's ``TD3Policy``).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space (Discrete observations are one-hot encoded).
    action_space : gymnasium.spaces.Box
        Bounded action space.
    lr_schedule : callable
        Learning-rate schedule; ``lr_schedule(1)`` is the optimisers' initial rate.
    net_arch : list of int or dict, default=None
        Hidden layers: a list for both actor and critics, ``dict(pi=[...], qf=[...])``
        for different ones; ``None`` means ``[400, 300]`` (the TD3 paper's, as SB3),
        ``[256, 256]`` with ``NatureCNN`` (as SB3).
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation after every hidden layer.
    features_extractor_class : type, default=FlattenExtractor
        SB3 features extractor: the default flattens (no module), ``NatureCNN`` for
        images (``CnnPolicy``), ``CombinedExtractor`` for Dict observations
        (``MultiInputPolicy``). Each network and target has its own unless shared.
    features_extractor_kwargs : dict, default=None
        Arguments of the features extractor.
    normalize_images : bool, default=True
        Divide image observations by 255 (SB3's ``preprocess_obs``).
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser of the actor and of the critics (Adam runs fused unless
        ``optimizer_kwargs`` sets ``foreach`` or ``fused``).
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments.
    n_critics : int, default=2
        Number of Q-networks (DDPG sets 1).
    share_features_extractor : bool, default=False
        The critic uses the actor's features extractor (trained by the actor's loss
        only, as SB3); without a features extractor there is nothing to share.

    Attributes
    ----------
    actor, actor_target : DeterministicActor
        The policy network (with ``actor.optimizer``) and its Polyak-averaged copy.
    critic, critic_target : ContinuousCritic
        The Q-networks (with ``critic.optimizer``) and their copy.

    Examples
    --------
    >>> import gymnasium as gym
    >>> from mlnotes.rl.common.continuous_policies import TD3Policy
    >>> env = gym.make("Pendulum-v1")
    >>> policy = TD3Policy(env.observation_space, env.action_space, lambda _: 1e-3)
    >>> policy.predict(env.observation_space.sample())[0].shape
    (1,)
    """

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, features_extractor_class=FlattenExtractor,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, n_critics=2,
                 share_features_extractor=False):
        super().__init__(observation_space, action_space, normalize_images=normalize_images)
        self._init_extractor(features_extractor_class, features_extractor_kwargs)
        if net_arch is None:
            net_arch = [256, 256] if features_extractor_class is NatureCNN else [400, 300]
        actor_arch, critic_arch = get_actor_critic_arch(net_arch)
        self.optimizer_kwargs = _optimizer_check(optimizer_class, optimizer_kwargs)
        self.optimizer_class = optimizer_class
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.n_critics = n_critics
        self.share_features_extractor = share_features_extractor
        def make_actor(extractor):
            return DeterministicActor(observation_space, action_space, actor_arch,
                                      activation_fn, features_extractor=extractor,
                                      normalize_images=normalize_images,
                                      **self._extractor_spec())

        def make_critic(extractor, share=share_features_extractor):
            return ContinuousCritic(observation_space, action_space, critic_arch,
                                    activation_fn, n_critics, share,
                                    features_extractor=extractor,
                                    normalize_images=normalize_images,
                                    **self._extractor_spec())

        self.actor = make_actor(self.make_features_extractor())
        self.actor_target = make_actor(self.make_features_extractor())
        self.actor_target.load_state_dict(self.actor.state_dict())
        self.critic, critic_parameters = self._critic_and_parameters(make_critic, self.actor)
        self.critic_target = make_critic(self.make_features_extractor(), share=False)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.actor_target.requires_grad_(False)
        self.critic_target.requires_grad_(False)
        lr = lr_schedule(1)
        self.actor.optimizer = _make_optimizer(optimizer_class, self.actor.parameters(), lr,
                                               self.optimizer_kwargs)
        self.critic.optimizer = _make_optimizer(optimizer_class, critic_parameters, lr,
                                                self.optimizer_kwargs)
        self.actor_target.set_training_mode(False)
        self.critic_target.set_training_mode(False)

    def forward(self, obs, deterministic=False):
        """Deterministic actions in [-1, 1] (the actor's).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        deterministic : bool, default=False
            Ignored: the actor is deterministic (exploration is action noise).

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            :math:`\\mu(s)`.
        """
        return self.actor(obs)


_CNN_DOC = """

    Parameters
    ----------
    observation_space : gymnasium.spaces.{space}
        {obs}
    action_space : gymnasium.spaces.Box
        Bounded action space.
    lr_schedule : callable
        Learning-rate schedule.
    net_arch : list of int or dict, default=None
        Hidden layers after the features extractor (see :class:`{base}`).
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation after every hidden layer.{sde}
    features_extractor_class : type, default={extractor}
        The features extractor.
    features_extractor_kwargs : dict, default=None
        Its arguments (e.g. ``{kwarg}``).
    normalize_images : bool, default=True
        Divide image observations by 255.
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Optimiser arguments.
    n_critics : int, default=2
        Number of Q-networks.
    share_features_extractor : bool, default=False
        The critic uses the actor's features extractor.
"""

_SDE_DOC = """
    use_sde : bool, default=False
        gSDE exploration (see :class:`SquashedGaussianActor`).
    log_std_init : float, default=-3
        Initial log standard deviation of gSDE.
    use_expln : bool, default=False
        gSDE option.
    clip_mean : float, default=2.0
        gSDE option."""


class SACCnnPolicy(SACPolicy):
    __doc__ = ("SAC's ``CnnPolicy``: :class:`SACPolicy` with SB3's ``NatureCNN`` on images "
               "(channel-first ``uint8`` after SB3's ``VecTransposeImage``, divided by 255)."
               + _CNN_DOC.format(space="Box", obs="Image observation space.", base="SACPolicy",
                                 sde=_SDE_DOC, extractor="NatureCNN", kwarg="features_dim=256"))

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, use_sde=False, log_std_init=-3, use_expln=False,
                 clip_mean=2.0, features_extractor_class=NatureCNN,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, n_critics=2,
                 share_features_extractor=False):
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch,
                         activation_fn=activation_fn, use_sde=use_sde,
                         log_std_init=log_std_init, use_expln=use_expln, clip_mean=clip_mean,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, n_critics=n_critics,
                         share_features_extractor=share_features_extractor)


class SACMultiInputPolicy(SACPolicy):
    __doc__ = ("SAC's ``MultiInputPolicy``: :class:`SACPolicy` on Dict observations with "
               "SB3's ``CombinedExtractor`` (a ``NatureCNN`` per image entry, the other "
               "entries flattened, concatenated)."
               + _CNN_DOC.format(space="Dict", obs="Dict of Box/Discrete spaces.",
                                 base="SACPolicy", sde=_SDE_DOC, extractor="CombinedExtractor",
                                 kwarg="cnn_output_dim=256"))

    supports_dict_observations = True

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, use_sde=False, log_std_init=-3, use_expln=False,
                 clip_mean=2.0, features_extractor_class=CombinedExtractor,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, n_critics=2,
                 share_features_extractor=False):
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch,
                         activation_fn=activation_fn, use_sde=use_sde,
                         log_std_init=log_std_init, use_expln=use_expln, clip_mean=clip_mean,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, n_critics=n_critics,
                         share_features_extractor=share_features_extractor)


class TD3CnnPolicy(TD3Policy):
    __doc__ = ("TD3/DDPG's ``CnnPolicy``: :class:`TD3Policy` with SB3's ``NatureCNN`` on "
               "images (``net_arch`` ``[256, 256]`` by default, as SB3)."
               + _CNN_DOC.format(space="Box", obs="Image observation space.", base="TD3Policy",
                                 sde="", extractor="NatureCNN", kwarg="features_dim=256"))

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, features_extractor_class=NatureCNN,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, n_critics=2,
                 share_features_extractor=False):
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch,
                         activation_fn=activation_fn,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, n_critics=n_critics,
                         share_features_extractor=share_features_extractor)


class TD3MultiInputPolicy(TD3Policy):
    __doc__ = ("TD3/DDPG's ``MultiInputPolicy``: :class:`TD3Policy` on Dict observations "
               "with SB3's ``CombinedExtractor``."
               + _CNN_DOC.format(space="Dict", obs="Dict of Box/Discrete spaces.",
                                 base="TD3Policy", sde="", extractor="CombinedExtractor",
                                 kwarg="cnn_output_dim=256"))

    supports_dict_observations = True

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, features_extractor_class=CombinedExtractor,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, n_critics=2,
                 share_features_extractor=False):
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch,
                         activation_fn=activation_fn,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, n_critics=n_critics,
                         share_features_extractor=share_features_extractor)
