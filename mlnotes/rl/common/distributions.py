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


def make_proba_distribution(action_space):
    """Pick the distribution for an action space.

    Parameters
    ----------
    action_space : gymnasium.spaces.Space
        ``Discrete`` or ``Box``.

    Returns
    -------
    distribution : CategoricalDistribution or DiagGaussianDistribution
        The distribution helper.
    """
    if isinstance(action_space, spaces.Discrete):
        return CategoricalDistribution(action_space.n)
    if isinstance(action_space, spaces.Box):
        return DiagGaussianDistribution(int(np.prod(action_space.shape)))
    raise ValueError(
        f"Unsupported action space {action_space}: mlnotes policies support Discrete "
        "and Box action spaces."
    )
