"""Lean critic passes for the actor losses of SAC/TD3/DDPG (private helpers).

The actor's loss needs :math:`\\min_j Q_j(s, a)` and its gradient with respect to the
action only (the critics' weights are constants there). Autograd back-propagates
through every Q-network on every row, although the gradient of the minimum is zero on
the networks that are not the row's minimum; :func:`min_q_action_grad` runs each
network's backward pass on its own rows only (half the work with two critics), with no
weight gradients and no graph bookkeeping. The result equals autograd's up to the
rounding of the matrix products.

The actors' training passes (:func:`squashed_action_log_prob` for SAC,
:func:`deterministic_actions` for TD3/DDPG) are likewise one autograd node each, with
the backward pass written out: the squashed Gaussian's log-density has the closed-form
derivatives :math:`\partial(-\log(1 - \tanh^2 u))/\partial u = 2\tanh u` and, for
the reparameterised :math:`u = \mu + \sigma\epsilon`, a Gaussian term
:math:`-\tfrac12\epsilon^2 - \log\sigma` whose only dependence on the parameters is
:math:`-\log\sigma`.
"""

import torch
from torch import nn
from torch.nn import functional as F

from ..common.continuous_policies import LOG_STD_MAX, LOG_STD_MIN, squashed_gaussian_log_prob


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


def _hidden_relu_layers(seq):
    """``[(weight, bias), ...]`` of an ``nn.Sequential`` of (Linear, ReLU) pairs (an
    actor's hidden layers, ending with a ReLU; empty for no hidden layer), else ``None``."""
    modules = list(seq._modules.values())
    if len(modules) % 2:
        return None
    layers = []
    for k in range(0, len(modules), 2):
        linear, act = modules[k], modules[k + 1]
        if type(linear) is not nn.Linear or linear.bias is None or type(act) is not nn.ReLU:
            return None
        layers.append((linear.weight, linear.bias))
    return layers


def actor_layers(actor):
    """The layers of a plain ReLU MLP actor on flattened observations, else ``None``.

    A squashed Gaussian actor without gSDE gives ``(hidden, mu, log_std)``, a
    deterministic actor (``Linear``/``ReLU`` layers then ``Tanh``) ``(hidden, out)``;
    each entry a ``(weight, bias)`` pair, ``hidden`` a list of them.
    """
    if getattr(actor, "features_extractor", None) is not None:
        return None
    if hasattr(actor, "latent_pi"):  # squashed Gaussian
        if getattr(actor, "use_sde", False):
            return None
        hidden = _hidden_relu_layers(actor.latent_pi)
        heads = (actor.mu, actor.log_std)
        if hidden is None or any(type(h) is not nn.Linear or h.bias is None for h in heads):
            return None
        return hidden, (actor.mu.weight, actor.mu.bias), (actor.log_std.weight,
                                                          actor.log_std.bias)
    modules = list(getattr(actor, "mu", nn.Sequential())._modules.values())
    if len(modules) < 2 or type(modules[-1]) is not nn.Tanh:
        return None
    hidden = _hidden_relu_layers(nn.Sequential(*modules[:-2]))
    out = modules[-2]
    if hidden is None or type(out) is not nn.Linear or out.bias is None:
        return None
    return hidden, (out.weight, out.bias)


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


def _mlp_forward(x, hidden):
    """Hidden ReLU layers; returns the list ``[x, h_1, ..., h_L]``."""
    outs = [x]
    for weight, bias in hidden:
        outs.append(F.linear(outs[-1], weight, bias).relu_())
    return outs


def _mlp_backward(d, hidden, outs):
    """Weight and bias gradients of the hidden ReLU layers, ``d`` the gradient at
    ``outs[-1]``; returns them in parameter order (no gradient for the input)."""
    grads = []
    for k in range(len(hidden) - 1, -1, -1):
        d = _relu_backward(d, outs[k + 1], 0)
        grads.append(d.sum(0))
        grads.append(_weight_grad(d, outs[k]))
        if k > 0:
            d = d.mm(hidden[k][0])
    grads.reverse()
    return grads


class _SquashedActor(torch.autograd.Function):
    """SAC's reparameterised pass: ``a = tanh(mu + sigma * noise)`` and
    :math:`\log\pi(a \mid s)`, differentiable in the actor's parameters only."""

    @staticmethod
    def forward(ctx, noise, features, n_hidden, *params):
        hidden = [(params[2 * k], params[2 * k + 1]) for k in range(n_hidden)]
        w_mu, b_mu, w_ls, b_ls = params[2 * n_hidden:]
        outs = _mlp_forward(features, hidden)
        mean = F.linear(outs[-1], w_mu, b_mu)
        raw = F.linear(outs[-1], w_ls, b_ls)
        log_std = raw.clamp(LOG_STD_MIN, LOG_STD_MAX)
        std = log_std.exp()
        u = mean + noise * std
        actions = torch.tanh(u)
        log_prob = squashed_gaussian_log_prob(u, mean, log_std)
        if any(ctx.needs_input_grad[3:]):
            ctx.hidden, ctx.heads, ctx.outs = hidden, (w_mu, w_ls), outs
            ctx.inside = (raw >= LOG_STD_MIN) & (raw <= LOG_STD_MAX)
            ctx.noise_std, ctx.actions = noise * std, actions
        return actions, log_prob

    @staticmethod
    def backward(ctx, grad_actions, grad_log_prob):
        actions = ctx.actions
        # d log pi / du = 2 tanh(u) (the squashing term); d log pi / d log sigma = -1
        grad_u = actions.new_zeros(actions.shape) if grad_actions is None \
            else grad_actions * (1.0 - actions.square())
        if grad_log_prob is not None:
            g = grad_log_prob.reshape(-1, 1)
            grad_u = grad_u + 2.0 * g * actions
            grad_ls = grad_u * ctx.noise_std - g
        else:
            grad_ls = grad_u * ctx.noise_std
        grad_ls = grad_ls * ctx.inside
        w_mu, w_ls = ctx.heads
        last = ctx.outs[-1]
        grads = [_weight_grad(grad_u, last), grad_u.sum(0),
                 _weight_grad(grad_ls, last), grad_ls.sum(0)]
        if ctx.hidden:
            d = grad_u.mm(w_mu) + grad_ls.mm(w_ls)
            grads = _mlp_backward(d, ctx.hidden, ctx.outs) + grads
        return (None, None, None, *grads)


def squashed_action_log_prob(actor, obs, layers):
    """``actor.action_log_prob(obs)`` as one autograd node (``layers = actor_layers(actor)``).

    Parameters
    ----------
    actor : SquashedGaussianActor
        A ReLU MLP actor without gSDE.
    obs : torch.Tensor
        Observations.
    layers : tuple
        ``actor_layers(actor)``.

    Returns
    -------
    actions : torch.Tensor of shape (n, action_dim)
        Squashed actions (the noise drawn as ``torch.randn`` after the pass, as the
        module's own pass draws it).
    log_prob : torch.Tensor of shape (n,)
        Their log-density.
    """
    hidden, mu, log_std = layers
    features = actor.extract_features(obs)
    noise = torch.randn((features.shape[0], mu[0].shape[0]), device=features.device,
                        dtype=mu[0].dtype)
    params = [t for layer in hidden for t in layer] + [*mu, *log_std]
    return _SquashedActor.apply(noise, features, len(hidden), *params)


class _DeterministicActor(torch.autograd.Function):
    """TD3/DDPG's :math:`\mu(s) = \tanh(\mathrm{MLP}(s))` with a written-out backward."""

    @staticmethod
    def forward(ctx, features, n_hidden, *params):
        hidden = [(params[2 * k], params[2 * k + 1]) for k in range(n_hidden)]
        weight, bias = params[2 * n_hidden:]
        outs = _mlp_forward(features, hidden)
        actions = torch.tanh(F.linear(outs[-1], weight, bias))
        ctx.hidden, ctx.weight, ctx.outs, ctx.actions = hidden, weight, outs, actions
        return actions

    @staticmethod
    def backward(ctx, grad):
        d = grad * (1.0 - ctx.actions.square())
        last = ctx.outs[-1]
        grads = [_weight_grad(d, last), d.sum(0)]
        if ctx.hidden:
            grads = _mlp_backward(d.mm(ctx.weight), ctx.hidden, ctx.outs) + grads
        return (None, None, *grads)


def deterministic_actions(actor, obs, layers):
    """``actor(obs)`` as one autograd node (``layers = actor_layers(actor)``).

    Parameters
    ----------
    actor : DeterministicActor
        A ReLU MLP actor.
    obs : torch.Tensor
        Observations.
    layers : tuple
        ``actor_layers(actor)``.

    Returns
    -------
    actions : torch.Tensor of shape (n, action_dim)
        The actions, differentiable in the actor's parameters.
    """
    hidden, out = layers
    params = [t for layer in hidden for t in layer] + list(out)
    return _DeterministicActor.apply(actor.extract_features(obs), len(hidden), *params)


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
