"""Action distributions of the stochastic policies (chapter 28).

Each distribution is a small stateless helper: it builds the network head that outputs
its parameters and computes sampling, log-probabilities and entropies from those
parameters directly, with no distribution object created per step (the rollout loop
calls them at every environment step).
"""

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn


_LOG_2PI = math.log(2.0 * math.pi)


class CategoricalDistribution:
    """Categorical distribution over ``n`` discrete actions, parametrised by logits.

    Parameters
    ----------
    action_dim : int
        Number of actions.

    Notes
    -----
    .. math::

        \\pi(a \\mid s) = \\operatorname{softmax}(z(s))_a,\\qquad
        H = -\\sum_a \\pi(a \\mid s) \\log \\pi(a \\mid s).
    """

    def __init__(self, action_dim):
        self.action_dim = int(action_dim)

    def proba_distribution_net(self, latent_dim):
        """Build the head mapping the policy latent to the logits.

        Parameters
        ----------
        latent_dim : int
            Size of the policy network's last hidden layer.

        Returns
        -------
        action_net : torch.nn.Module
            A linear layer with ``action_dim`` outputs.
        log_std : None
            Categorical policies have no extra parameter.
        """
        return nn.Linear(latent_dim, self.action_dim), None

    def sample(self, logits, log_std=None, deterministic=False):
        """Draw actions (or take the most likely one) and their log-probabilities.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, action_dim)
            Unnormalised log-probabilities.
        log_std : None
            Unused.
        deterministic : bool, default=False
            Take the mode instead of sampling.

        Returns
        -------
        actions : torch.Tensor of shape (n,)
            Integer actions.
        log_prob : torch.Tensor of shape (n,)
            Their log-probabilities.
        """
        log_p = torch.log_softmax(logits, dim=-1)
        if deterministic:
            actions = log_p.argmax(dim=-1, keepdim=True)
        else:
            # inverse-CDF sampling (cheaper than torch.multinomial on small batches):
            # the first action whose cumulative probability exceeds u * total. As
            # u < 1, u * total < total, so the index is valid, and an action of zero
            # probability is never drawn.
            cdf = log_p.exp().cumsum(dim=-1)
            u = torch.rand(cdf.shape[:-1] + (1,), dtype=cdf.dtype, device=cdf.device)
            actions = (cdf <= u * cdf[..., -1:]).sum(dim=-1, keepdim=True)
        return actions.squeeze(-1), log_p.gather(-1, actions).squeeze(-1)

    def log_prob_entropy(self, logits, log_std, actions):
        """Log-probabilities of given actions and the entropy of the distribution.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, action_dim)
            Unnormalised log-probabilities.
        log_std : None
            Unused.
        actions : torch.Tensor of shape (n,) or (n, 1)
            Actions taken.

        Returns
        -------
        log_prob : torch.Tensor of shape (n,)
            ``log pi(a | s)``.
        entropy : torch.Tensor of shape (n,)
            Entropy of ``pi(. | s)``.
        """
        log_p = torch.log_softmax(logits, dim=-1)
        actions = actions.reshape(-1, 1).long()
        log_prob = log_p.gather(-1, actions).squeeze(-1)
        entropy = -(log_p.exp() * log_p).sum(-1)
        return log_prob, entropy

    def mode(self, logits, log_std=None):
        """Most likely action.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, action_dim)
            Unnormalised log-probabilities.
        log_std : None
            Unused.

        Returns
        -------
        actions : torch.Tensor of shape (n,)
            ``argmax`` of the logits.
        """
        return logits.argmax(dim=-1)


class DiagGaussianDistribution:
    """Diagonal Gaussian with a state-independent, learned ``log_std`` (as SB3).

    Parameters
    ----------
    action_dim : int
        Dimension of the action vector.

    Notes
    -----
    .. math::

        \\pi(a \\mid s) = \\mathcal N(a; \\mu(s), \\operatorname{diag}(\\sigma^2)),\\qquad
        \\log \\pi = -\\sum_i \\Big(\\frac{(a_i - \\mu_i)^2}{2\\sigma_i^2}
        + \\log\\sigma_i + \\tfrac12 \\log 2\\pi\\Big).
    """

    def __init__(self, action_dim):
        self.action_dim = int(action_dim)

    def proba_distribution_net(self, latent_dim, log_std_init=0.0):
        """Build the mean head and the ``log_std`` parameter.

        Parameters
        ----------
        latent_dim : int
            Size of the policy network's last hidden layer.
        log_std_init : float, default=0.0
            Initial value of every ``log_std`` entry.

        Returns
        -------
        action_net : torch.nn.Module
            A linear layer giving the mean.
        log_std : torch.nn.Parameter of shape (action_dim,)
            The log standard deviations.
        """
        log_std = nn.Parameter(torch.full((self.action_dim,), float(log_std_init)))
        return nn.Linear(latent_dim, self.action_dim), log_std

    def sample(self, mean, log_std, deterministic=False):
        """Draw actions (or take the mean) and their log-probabilities.

        Parameters
        ----------
        mean : torch.Tensor of shape (n, action_dim)
            Means.
        log_std : torch.Tensor of shape (action_dim,)
            Log standard deviations.
        deterministic : bool, default=False
            Return the mean instead of a sample.

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            Actions (unclipped).
        log_prob : torch.Tensor of shape (n,)
            Their log-probabilities.
        """
        if deterministic:
            noise = torch.zeros_like(mean)
        else:
            noise = torch.randn_like(mean)
        actions = mean + noise * log_std.exp()
        log_prob = -(0.5 * noise.square() + log_std + 0.5 * _LOG_2PI).sum(-1)
        return actions, log_prob

    def log_prob_entropy(self, mean, log_std, actions):
        """Log-probabilities of given actions and the entropy of the distribution.

        Parameters
        ----------
        mean : torch.Tensor of shape (n, action_dim)
            Means.
        log_std : torch.Tensor of shape (action_dim,)
            Log standard deviations.
        actions : torch.Tensor of shape (n, action_dim)
            Actions taken (as sampled, before clipping to the bounds).

        Returns
        -------
        log_prob : torch.Tensor of shape (n,)
            ``log pi(a | s)``.
        entropy : torch.Tensor of shape (n,)
            Entropy of ``pi(. | s)``.
        """
        z = (actions - mean) * torch.exp(-log_std)
        log_prob = -(0.5 * z.square() + log_std + 0.5 * _LOG_2PI).sum(-1)
        entropy = (log_std + 0.5 * (1.0 + _LOG_2PI)).sum(-1).expand(mean.shape[0])
        return log_prob, entropy

    def mode(self, mean, log_std=None):
        """Mean action.

        Parameters
        ----------
        mean : torch.Tensor of shape (n, action_dim)
            Means.
        log_std : torch.Tensor, default=None
            Unused.

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            The means.
        """
        return mean


class StateDependentNoiseDistribution:
    """Generalised state-dependent exploration (gSDE, Raffin et al. 2022), as SB3's.

    The exploration noise is a linear function of the policy's latent features
    :math:`z(s)` (detached: the features are not trained through the noise), with a
    weight matrix :math:`\\theta_\\epsilon` drawn from :math:`\\mathcal N(0, \\sigma^2)`
    and kept for several steps (``reset_noise``), so exploration is smooth in time and
    the same state gives the same perturbation until the next draw.

    Parameters
    ----------
    action_dim : int
        Dimension of the action vector.
    full_std : bool, default=True
        One standard deviation per (feature, action) pair, or one per feature.
    use_expln : bool, default=False
        Keep the standard deviation positive with :math:`\\exp` below 0 and
        :math:`\\log(1 + x) + 1` above, instead of :math:`\\exp` (avoids large values).
    squash_output : bool, default=False
        Squash the Gaussian action with ``tanh`` (bounded actions, log-probabilities
        corrected by the Jacobian; the entropy then has no closed form: ``None``).
    learn_features : bool, default=False
        Let the noise's gradient reach the features.
    epsilon : float, default=1e-6
        Added to the variance and inside the ``tanh`` Jacobian's log.

    Attributes
    ----------
    exploration_mat : torch.Tensor of shape (latent_sde_dim, action_dim)
        The noise weights for a single observation.
    exploration_matrices : torch.Tensor of shape (n_envs, latent_sde_dim, action_dim)
        One noise matrix per environment (the rollout's batch).

    Notes
    -----
    With :math:`\\sigma_{ij} = \\exp(\\log\\sigma_{ij})` (``log_std`` of shape
    ``(latent_sde_dim, action_dim)``), the action is

    .. math::

        a = \\mu(s) + z(s)^\\top \\theta_\\epsilon,\\qquad
        \\theta_{\\epsilon, ij} \\sim \\mathcal N(0, \\sigma_{ij}^2),

    so given the state :math:`a \\sim \\mathcal N\\big(\\mu(s),
    \\operatorname{diag}(\\textstyle\\sum_i z_i(s)^2 \\sigma_{ij}^2 + \\epsilon)\\big)`,
    the density used for log-probabilities and the entropy.
    """

    def __init__(self, action_dim, full_std=True, use_expln=False, squash_output=False,
                 learn_features=False, epsilon=1e-6):
        self.action_dim = int(action_dim)
        self.full_std = bool(full_std)
        self.use_expln = bool(use_expln)
        self.squash_output = bool(squash_output)
        self.learn_features = bool(learn_features)
        self.epsilon = float(epsilon)
        self.latent_sde_dim = None
        self.exploration_mat = None
        self.exploration_matrices = None

    def proba_distribution_net(self, latent_dim, log_std_init=-2.0, latent_sde_dim=None):
        """Build the mean head and the ``log_std`` matrix; draw the first noise.

        Parameters
        ----------
        latent_dim : int
            Size of the policy network's last hidden layer.
        log_std_init : float, default=-2.0
            Initial value of every ``log_std`` entry (the policy passes its own
            ``log_std_init``, 0 by default as SB3's actor-critic policy).
        latent_sde_dim : int, default=None
            Size of the features the noise is computed from (``latent_dim``).

        Returns
        -------
        action_net : torch.nn.Linear
            The mean head.
        log_std : torch.nn.Parameter of shape (latent_sde_dim, action_dim or 1)
            The log standard deviations of the noise weights.
        """
        self.latent_sde_dim = int(latent_dim if latent_sde_dim is None else latent_sde_dim)
        columns = self.action_dim if self.full_std else 1
        log_std = nn.Parameter(torch.full((self.latent_sde_dim, columns), float(log_std_init)))
        self.sample_weights(log_std)
        return nn.Linear(latent_dim, self.action_dim), log_std

    def get_std(self, log_std):
        """Standard deviations of the noise weights, ``(latent_sde_dim, action_dim)``.

        Parameters
        ----------
        log_std : torch.Tensor
            The ``log_std`` parameter.

        Returns
        -------
        std : torch.Tensor of shape (latent_sde_dim, action_dim)
            ``exp(log_std)`` (or the ``expln`` map), broadcast when not ``full_std``.
        """
        if self.use_expln:
            below = torch.exp(log_std) * (log_std <= 0)
            positive = log_std > 0
            above = (torch.log1p(log_std * positive + self.epsilon) + 1.0) * positive
            std = below + above
        else:
            std = torch.exp(log_std)
        if self.full_std:
            return std
        return std.expand(self.latent_sde_dim, self.action_dim)

    def sample_weights(self, log_std, batch_size=1):
        """Draw new noise weights (one matrix, and one per environment).

        Parameters
        ----------
        log_std : torch.Tensor
            The ``log_std`` parameter.
        batch_size : int, default=1
            Number of environments.
        """
        with torch.no_grad():
            std = self.get_std(log_std)
            self.exploration_mat = torch.randn_like(std) * std
            self.exploration_matrices = torch.randn(
                (int(batch_size), *std.shape), dtype=std.dtype, device=std.device) * std

    def _scale(self, latent, log_std):
        if not self.learn_features:
            latent = latent.detach()
        variance = torch.mm(latent.square(), self.get_std(log_std).square())
        return torch.sqrt(variance + self.epsilon)

    def get_noise(self, latent):
        """The noise ``z(s)^T theta`` for a batch of latent features.

        Parameters
        ----------
        latent : torch.Tensor of shape (n, latent_sde_dim)
            Policy features.

        Returns
        -------
        noise : torch.Tensor of shape (n, action_dim)
            One matrix per row when ``n`` equals the number of matrices drawn, the
            single matrix otherwise (as SB3).
        """
        if not self.learn_features:
            latent = latent.detach()
        if self.exploration_mat.device != latent.device:
            self.exploration_mat = self.exploration_mat.to(latent.device)
            self.exploration_matrices = self.exploration_matrices.to(latent.device)
        if len(latent) == 1 or len(latent) != len(self.exploration_matrices):
            return torch.mm(latent, self.exploration_mat.to(latent.dtype))
        noise = torch.bmm(latent.unsqueeze(1), self.exploration_matrices.to(latent.dtype))
        return noise.squeeze(1)

    def _log_prob(self, gaussian, mean, scale):
        z = (gaussian - mean) / scale
        return -(0.5 * z.square() + torch.log(scale) + 0.5 * _LOG_2PI).sum(-1)

    def _squash_correction(self, gaussian):
        return torch.log(1.0 - torch.tanh(gaussian).square() + self.epsilon).sum(-1)

    def sample(self, params, log_std, deterministic=False):
        """Draw actions with the current noise weights (or take the mean).

        Parameters
        ----------
        params : tuple of torch.Tensor
            ``(mean, latent)``: means ``(n, action_dim)`` and policy features
            ``(n, latent_sde_dim)``.
        log_std : torch.Tensor
            The ``log_std`` parameter.
        deterministic : bool, default=False
            Return the mean (squashed if ``squash_output``).

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            Actions (in [-1, 1] when squashed).
        log_prob : torch.Tensor of shape (n,)
            Their log-probabilities.
        """
        mean, latent = params
        gaussian = mean if deterministic else mean + self.get_noise(latent)
        if self.squash_output:
            # the log-probability of the stored (squashed) action, computed as in the
            # training pass (through atanh), so that both passes agree exactly
            actions = torch.tanh(gaussian)
            return actions, self.log_prob_entropy(params, log_std, actions)[0]
        return gaussian, self._log_prob(gaussian, mean, self._scale(latent, log_std))

    def log_prob_entropy(self, params, log_std, actions):
        """Log-probabilities of given actions and the entropy (``None`` when squashed).

        Parameters
        ----------
        params : tuple of torch.Tensor
            ``(mean, latent)``.
        log_std : torch.Tensor
            The ``log_std`` parameter.
        actions : torch.Tensor of shape (n, action_dim)
            Actions taken (squashed ones are mapped back with ``atanh``).

        Returns
        -------
        log_prob : torch.Tensor of shape (n,)
            ``log pi(a | s)``.
        entropy : torch.Tensor of shape (n,) or None
            Entropy of the Gaussian; ``None`` with ``squash_output`` (no closed form).
        """
        mean, latent = params
        scale = self._scale(latent, log_std)
        if self.squash_output:
            eps = torch.finfo(actions.dtype).eps
            gaussian = torch.atanh(actions.clamp(-1.0 + eps, 1.0 - eps))
            log_prob = self._log_prob(gaussian, mean, scale) - self._squash_correction(gaussian)
            return log_prob, None
        log_prob = self._log_prob(actions, mean, scale)
        entropy = (torch.log(scale) + 0.5 * (1.0 + _LOG_2PI)).sum(-1)
        return log_prob, entropy

    def mode(self, params, log_std=None):
        """Mean action (squashed if ``squash_output``).

        Parameters
        ----------
        params : tuple of torch.Tensor
            ``(mean, latent)``.
        log_std : torch.Tensor, default=None
            Unused.

        Returns
        -------
        actions : torch.Tensor of shape (n, action_dim)
            The mean.
        """
        mean = params[0]
        return torch.tanh(mean) if self.squash_output else mean


def make_proba_distribution(action_space, use_sde=False, dist_kwargs=None):
    """Pick the distribution for an action space.

    Parameters
    ----------
    action_space : gymnasium.spaces.Space
        ``Discrete`` or ``Box``.
    use_sde : bool, default=False
        gSDE for Box actions (:class:`StateDependentNoiseDistribution`).
    dist_kwargs : dict, default=None
        Arguments of the gSDE distribution (``full_std``, ``use_expln``,
        ``squash_output``, ``learn_features``).

    Returns
    -------
    distribution : CategoricalDistribution, DiagGaussianDistribution or StateDependentNoiseDistribution
        The distribution helper.
    """
    if use_sde and not isinstance(action_space, spaces.Box):
        raise ValueError(
            "generalized State-Dependent Exploration (gSDE) can only be used with "
            f"continuous (Box) actions, not {action_space}.")
    if isinstance(action_space, spaces.Discrete):
        return CategoricalDistribution(action_space.n)
    if isinstance(action_space, spaces.Box):
        if use_sde:
            return StateDependentNoiseDistribution(int(np.prod(action_space.shape)),
                                                   **dict(dist_kwargs or {}))
        return DiagGaussianDistribution(int(np.prod(action_space.shape)))
    raise ValueError(
        f"Unsupported action space {action_space}: mlnotes policies support Discrete "
        "and Box action spaces."
    )
