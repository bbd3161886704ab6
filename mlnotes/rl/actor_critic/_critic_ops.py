"""Lean critic passes for the actor losses of SAC/TD3/DDPG (private helpers).

The actor's loss needs :math:`\\min_j Q_j(s, a)` and its gradient with respect to the
action only (the critics' weights are constants there). Autograd back-propagates
through every Q-network on every row, although the gradient of the minimum is zero on
the networks that are not the row's minimum; :func:`min_q_action_grad` runs each
network's backward pass on its own rows only (half the work with two critics), with no
weight gradients and no graph bookkeeping. The result equals autograd's up to the
rounding of the matrix products.
"""

import torch
from torch import nn
from torch.nn import functional as F


def relu_mlp_layers(seq):
    """``[(weight, bias), ...]`` of an ``nn.Sequential`` of Linear layers with ReLU
    between them (the critics' default), or ``None`` for any other structure."""
    modules = list(seq._modules.values())
    if not modules or len(modules) % 2 == 0:
        return None
    layers = []
    for k, module in enumerate(modules):
        if k % 2 == 0:
            if type(module) is not nn.Linear or module.bias is None:
                return None
            layers.append((module.weight, module.bias))
        elif type(module) is not nn.ReLU:
            return None
    return layers


def critic_layers(critic):
    """Per Q-network layer lists when ``critic`` is a plain ReLU MLP on flattened
    observations (no features-extractor module), else ``None``."""
    if getattr(critic, "features_extractor", None) is not None:
        return None
    nets = [relu_mlp_layers(q) for q in getattr(critic, "q_networks", ())]
    if not nets or any(n is None for n in nets):
        return None
    return nets


_relu_backward = torch.ops.aten.threshold_backward.default  # grad * (h > 0), one pass


def _weight_grad(d, inputs):
    """``d.T @ inputs``; for a narrow input (the observation layer) as ``(inputs.T @ d).T``,
    the same sums, which the BLAS computes several times faster in that layout."""
    if 4 * inputs.shape[1] <= d.shape[1]:
        return inputs.t().mm(d).t().contiguous()
    return d.t().mm(inputs)


class _MinQ(torch.autograd.Function):
    """:math:`\\min_j Q_j([x, a])` with a gradient for ``a`` only (see the module)."""

    @staticmethod
    def forward(ctx, actions, features, nets):
        x = torch.cat([features, actions], dim=1)
        hidden, outputs = [], []
        for layers in nets:
            h, saved = x, []
            for k, (weight, bias) in enumerate(layers):
                h = F.linear(h, weight, bias)
                if k < len(layers) - 1:
                    h.relu_()
                    saved.append(h)
            hidden.append(saved)
            outputs.append(h)
        values, index = torch.cat(outputs, dim=1).min(dim=1, keepdim=True)
        ctx.nets, ctx.hidden, ctx.index = nets, hidden, index.reshape(-1)
        ctx.obs_dim = features.shape[1]
        return values

    @staticmethod
    def backward(ctx, grad):
        nets, hidden, index, obs_dim = ctx.nets, ctx.hidden, ctx.index, ctx.obs_dim
        grad_actions = None
        for j, layers in enumerate(nets):
            rows = (index == j).nonzero().reshape(-1) if len(nets) > 1 else None
            if rows is not None and rows.numel() == 0:
                continue
            d = grad if rows is None else grad.index_select(0, rows)
            for k in range(len(layers) - 1, 0, -1):
                h = hidden[j][k - 1]
                if rows is not None:
                    h = h.index_select(0, rows)
                d = _relu_backward(d.mm(layers[k][0]), h, 0)
            d = d.mm(layers[0][0][:, obs_dim:])
            if rows is None:
                grad_actions = d
            else:
                if grad_actions is None:
                    grad_actions = grad.new_zeros((len(index), d.shape[1]))
                grad_actions.index_copy_(0, rows, d)
        return grad_actions, None, None


class _QValues(torch.autograd.Function):
    """All :math:`Q_j([x, a])` side by side, with the weights' gradients (the critics'
    loss); the inputs get no gradient. The same products as autograd's, without its
    graph: in-place ReLU, fused ReLU backward."""

    @staticmethod
    def forward(ctx, x, depth, *params):
        hidden, outputs = [], []
        for start in range(0, len(params), 2 * depth):
            h, saved = x, [x]
            for k in range(depth):
                weight, bias = params[start + 2 * k], params[start + 2 * k + 1]
                h = F.linear(h, weight, bias)
                if k < depth - 1:
                    h.relu_()
                    saved.append(h)
            hidden.append(saved)
            outputs.append(h)
        ctx.hidden, ctx.depth, ctx.params = hidden, depth, params
        return torch.cat(outputs, dim=1)

    @staticmethod
    def backward(ctx, grad):
        hidden, depth, params = ctx.hidden, ctx.depth, ctx.params
        grads = []
        for j, saved in enumerate(hidden):
            d = grad[:, j:j + 1]
            net_grads = []
            for k in range(depth - 1, -1, -1):
                weight = params[2 * depth * j + 2 * k]
                net_grads.append(d.sum(0))
                net_grads.append(_weight_grad(d, saved[k]))
                if k > 0:
                    d = _relu_backward(d.mm(weight), saved[k], 0)
            grads.extend(reversed(net_grads))
        return (None, None, *grads)


def q_values(critic, obs, actions, nets=None):
    """``critic.q_values(obs, actions)`` through :class:`_QValues` when the critic is a
    plain ReLU MLP (``nets = critic_layers(critic)``), else the module's own pass.

    Parameters
    ----------
    critic : ContinuousCritic
        The critics.
    obs : torch.Tensor
        Observations.
    actions : torch.Tensor of shape (n, action_dim)
        Actions (no gradient flows back to them).
    nets : list, default=None
        ``critic_layers(critic)`` when already known.

    Returns
    -------
    q : torch.Tensor of shape (n, n_critics)
        The Q-values, differentiable in the critics' weights.
    """
    if nets is None:
        nets = critic_layers(critic)
    if nets is None or not torch.is_grad_enabled() \
            or any(len(layers) != len(nets[0]) for layers in nets):
        return critic.q_values(obs, actions)
    x = torch.cat([critic.preprocess_obs(obs), actions.reshape(actions.shape[0], -1)], dim=1)
    params = [t for layers in nets for layer in layers for t in layer]
    return _QValues.apply(x.detach(), len(nets[0]), *params)


def min_q_action_grad(critic, obs, actions, nets=None):
    """:math:`\\min_j Q_j(s, a)`, differentiable in ``actions`` only.

    Parameters
    ----------
    critic : ContinuousCritic
        The critics (their weights get no gradient from this value).
    obs : torch.Tensor
        Observations.
    actions : torch.Tensor of shape (n, action_dim)
        Actions (typically the actor's, requiring grad).
    nets : list, default=None
        ``critic_layers(critic)`` when already known; ``None`` computes it.

    Returns
    -------
    min_q : torch.Tensor of shape (n, 1)
        The minimum over the Q-networks.
    """
    if nets is None:
        nets = critic_layers(critic)
    if nets is None:  # any other critic: plain autograd (weights excluded by the caller)
        return critic.q_values(obs, actions).min(dim=1, keepdim=True).values
    features = critic.preprocess_obs(obs)
    return _MinQ.apply(actions.reshape(actions.shape[0], -1), features, nets)
