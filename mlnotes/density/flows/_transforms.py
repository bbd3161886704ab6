r"""The invertible transforms the four flows of chapter 49 are built from.

Every transform maps the data side :math:`x` towards the base side :math:`z`
(the *normalising* direction) and exposes

``forward(x) -> z``
    The transform.
``inverse(z) -> x``
    Its inverse (the generative direction, used by ``sample``).
``log_abs_det_jacobian(x, z=None) -> (n,)``
    :math:`\log\lvert\det \partial z / \partial x\rvert` of each row.
``forward_and_log_det(x) -> (z, log_det)``
    Both at once (one pass of the conditioner network), which the flow uses.

A flow :math:`f = f_K \circ \dots \circ f_1` over a standard normal base then has the
exact log-density (change of variables)

.. math::

    \log p(x) = \log \mathcal N\big(f(x); 0, I\big) + \sum_{k=1}^{K}
    \log\Big\lvert\det \frac{\partial f_k}{\partial h_{k-1}}\Big\rvert,
    \qquad h_0 = x,\; h_k = f_k(h_{k-1}).

Conditioner networks end with a zero-initialised layer, so every coupling and
autoregressive transform starts as the identity.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._fourier import _FourierFeatures
from .._made import _hidden_degrees, _input_degrees, _made_masks

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "InvertibleLinearLU",
    "MaskedAffineAutoregressive",
    "Permutation",
    "RationalQuadraticCoupling",
    "Transform",
]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU}


class Transform(nn.Module):
    """Base of the transforms: ``forward``, ``inverse`` and the log-determinant.

    A subclass implements ``_forward(x) -> (z, log_det)`` and ``_inverse(z) -> x``
    on ``(n, d)`` tensors; the public methods below call them.
    """

    def __init__(self):
        super().__init__()

    def forward_and_log_det(self, x):
        """The transform and its log-determinant in one pass.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Points on the data side.

        Returns
        -------
        z : torch.Tensor of shape (n, d)
            The transformed points.
        log_det : torch.Tensor of shape (n,)
            :math:`\\log\\lvert\\det \\partial z / \\partial x\\rvert` of each row.
        """
        return self._forward(x)

    def forward(self, x):
        """The transform, data side to base side.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Points on the data side.

        Returns
        -------
        z : torch.Tensor of shape (n, d)
            The transformed points.
        """
        return self._forward(x)[0]

    def inverse(self, z):
        """The inverse transform, base side to data side.

        Parameters
        ----------
        z : torch.Tensor of shape (n, d)
            Points on the base side.

        Returns
        -------
        x : torch.Tensor of shape (n, d)
            The points ``x`` with ``forward(x) == z``.
        """
        return self._inverse(z)

    def log_abs_det_jacobian(self, x, z=None):
        """Log absolute determinant of the Jacobian of :meth:`forward` at ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Points on the data side.
        z : torch.Tensor of shape (n, d), default=None
            ``forward(x)``; accepted for the interface of
            :class:`torch.distributions.Transform` and not needed.

        Returns
        -------
        log_det : torch.Tensor of shape (n,)
            The log-determinant of each row.
        """
        return self._forward(x)[1]


def _soft_clamp(s, bound):
    """``bound * tanh(s / bound)``: the identity near 0, bounded by ``bound``."""
    return bound * torch.tanh(s / bound)


def _mlp(n_in, n_out, hidden, activation, fourier_features=0):
    """A conditioner: Linear/activation stack whose last layer starts at zero.

    With ``fourier_features > 0`` the input first goes through
    :class:`_FourierFeatures` of that many frequencies.
    """
    layers, width = [], n_in
    if fourier_features:
        features = _FourierFeatures(n_in, fourier_features)
        layers, width = [features], features.n_out
    for h in hidden:
        layers += [nn.Linear(width, h), _ACTIVATIONS[activation]()]
        width = h
    last = nn.Linear(width, n_out)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    layers.append(last)
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------ simple parts


class Permutation(Transform):
    """Reorder the features: ``z = x[:, perm]`` (log-determinant 0).

    Parameters
    ----------
    perm : sequence of int
        A permutation of ``range(n_features)``.
    """

    def __init__(self, perm):
        super().__init__()
        perm = torch.as_tensor(np.asarray(perm, dtype=np.int64))
        self.register_buffer("perm", perm)
        self.register_buffer("inv_perm", torch.argsort(perm))

    def _forward(self, x):
        return x[:, self.perm], x.new_zeros(x.shape[0])

    def _inverse(self, z):
        return z[:, self.inv_perm]


class ActNorm(Transform):
    r"""Per-feature affine map :math:`z = (x + b) \odot e^{s}` (Glow's actnorm).

    Data-dependent initialisation: the first call in training mode sets :math:`b` to
    minus the batch mean and :math:`e^{s}` to one over the batch standard deviation
    (floored at 1e-3), so the first batch leaves with zero mean and unit variance;
    the flag is a buffer, so a pickled or warm-started model keeps its parameters.
    Log-determinant :math:`\sum_j s_j`.

    Parameters
    ----------
    n_features : int
        Number of features.
    """

    def __init__(self, n_features):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(n_features))
        self.log_scale = nn.Parameter(torch.zeros(n_features))
        self.register_buffer("initialized", torch.zeros(()))

    def _initialize(self, x):
        with torch.no_grad():
            mean = x.mean(dim=0)
            std = x.std(dim=0, unbiased=False).clamp_min(1e-3) if x.shape[0] > 1 \
                else torch.ones_like(mean)
            self.loc.copy_(-mean)
            self.log_scale.copy_(-torch.log(std))
            self.initialized.fill_(1.0)

    def _forward(self, x):
        if self.training and not bool(self.initialized):
            self._initialize(x)
        z = (x + self.loc) * torch.exp(self.log_scale)
        return z, self.log_scale.sum().expand(x.shape[0])

    def _inverse(self, z):
        return z * torch.exp(-self.log_scale) - self.loc


class InvertibleLinearLU(Transform):
    r"""Invertible linear mixing :math:`z = W x` with :math:`W = P L (U + \operatorname{diag}(\sigma e^{s}))`.

    Glow's invertible 1x1 convolution for vectors: :math:`P` a fixed permutation,
    :math:`L` unit lower triangular, :math:`U` strictly upper triangular,
    :math:`\sigma` fixed signs; so :math:`\log\lvert\det W\rvert = \sum_j s_j` costs
    :math:`O(d)` and the inverse is two triangular solves. Initialised at a random
    rotation (the LU factors of the Q of a Gaussian matrix, drawn from torch's RNG).

    Parameters
    ----------
    n_features : int
        Number of features.
    """

    def __init__(self, n_features):
        super().__init__()
        d = int(n_features)
        q, _ = torch.linalg.qr(torch.randn(d, d, dtype=torch.float64))
        P, L, U = torch.linalg.lu(q)
        diag = torch.diagonal(U)
        self.register_buffer("P", P.float())
        self.register_buffer("sign", torch.sign(diag).float())
        self.register_buffer("lower_mask", torch.tril(torch.ones(d, d), -1))
        self.register_buffer("eye", torch.eye(d))
        self.lower = nn.Parameter(torch.tril(L, -1).float())
        self.upper = nn.Parameter(torch.triu(U, 1).float())
        self.log_diag = nn.Parameter(torch.log(torch.abs(diag)).float())

    def _factors(self):
        L = self.lower * self.lower_mask + self.eye
        U = self.upper * self.lower_mask.t() + torch.diag(self.sign * torch.exp(
            self.log_diag))
        return L, U

    def _weight(self):
        L, U = self._factors()
        return self.P @ L @ U

    def _forward(self, x):
        z = x @ self._weight().t()
        return z, self.log_diag.sum().expand(x.shape[0])

    def _inverse(self, z):
        L, U = self._factors()
        # x^T = U^{-1} L^{-1} P^T z^T
        b = (z @ self.P).t()  # P^T z^T
        b = torch.linalg.solve_triangular(L, b, upper=False, unitriangular=True)
        b = torch.linalg.solve_triangular(U, b, upper=True)
        return b.t()


# ------------------------------------------------------------------------ couplings


class _Coupling(Transform):
    """Coupling: the features with ``mask`` True condition the others' transform."""

    def __init__(self, mask, n_params, hidden, activation, fourier_features=0):
        super().__init__()
        mask = torch.as_tensor(np.asarray(mask, dtype=bool))
        d = mask.numel()
        self.register_buffer("cond", mask.float())
        self.register_buffer("cond_idx", torch.nonzero(mask).flatten())
        self.register_buffer("trans_idx", torch.nonzero(~mask).flatten())
        self.n_params = n_params
        self.fourier_features = int(fourier_features)
        # nothing to transform (a one-feature coupling with this mask): the identity
        n_out = n_params * int((~mask).sum())
        # with Fourier features the network sees the conditioning features only (the
        # masked ones would add constant sin 0 / cos 0 inputs); without, the masked x
        n_in = int(mask.sum()) if self.fourier_features else d
        self.net = _mlp(n_in, n_out, hidden, activation, self.fourier_features) \
            if n_out else None

    def _params(self, x):
        out = self.net(x[:, self.cond_idx] if self.fourier_features else x * self.cond)
        return out.view(x.shape[0], self.trans_idx.numel(), self.n_params)

    def _forward(self, x):
        if self.trans_idx.numel() == 0:
            return x, x.new_zeros(x.shape[0])
        params = self._params(x)
        xa = x[:, self.trans_idx]
        za, ld = self._elementwise(xa, params)
        z = x.index_copy(1, self.trans_idx, za)
        return z, ld.sum(dim=1)

    def _inverse(self, z):
        if self.trans_idx.numel() == 0:
            return z
        params = self._params(z)  # the conditioning features are unchanged
        xa = self._elementwise_inverse(z[:, self.trans_idx], params)
        return z.index_copy(1, self.trans_idx, xa)


class AffineCoupling(_Coupling):
    r"""Affine coupling (RealNVP): :math:`z_a = x_a \odot e^{s(x_b)} + t(x_b)`, :math:`z_b = x_b`.

    :math:`x_b` are the features where ``mask`` is True (passed through), :math:`x_a`
    the others; :math:`s, t` come from one MLP of :math:`x_b` (the masked input
    :math:`x \odot m`), with :math:`s` soft-clamped to :math:`\pm` ``scale_bound``
    for stability. The Jacobian is triangular: log-determinant :math:`\sum_a s_a`.

    Parameters
    ----------
    mask : array-like of bool, shape (n_features,)
        Conditioning features.
    hidden : tuple of int
        Hidden layer sizes of the conditioner.
    activation : str, default="relu"
        Conditioner activation.
    scale_bound : float, default=3.0
        Bound of the log-scale.
    fourier_features : int, default=0
        Number :math:`L` of frequencies of the conditioner's Fourier features: with
        :math:`L > 0` the network sees :math:`(x_b, \sin 2^k x_b, \cos 2^k x_b)`,
        :math:`k < L`, instead of :math:`x_b`.
    """

    def __init__(self, mask, hidden, activation="relu", scale_bound=3.0,
                 fourier_features=0):
        super().__init__(mask, 2, hidden, activation, fourier_features)
        self.scale_bound = float(scale_bound)

    def _elementwise(self, xa, params):
        s = _soft_clamp(params[..., 0], self.scale_bound)
        return xa * torch.exp(s) + params[..., 1], s

    def _elementwise_inverse(self, za, params):
        s = _soft_clamp(params[..., 0], self.scale_bound)
        return (za - params[..., 1]) * torch.exp(-s)


def _rq_spline(x, params, bound, min_width=1e-3, min_height=1e-3, min_derivative=1e-3,
               inverse=False):
    r"""Monotone rational-quadratic spline on :math:`[-B, B]`, identity outside.

    ``params`` has ``3K - 1`` entries per element: ``K`` unnormalised bin widths,
    ``K`` heights and ``K - 1`` interior knot derivatives (the end derivatives are 1
    so the spline joins the identity tails smoothly). Returns ``(y, log|dy/dx|)``
    for the forward map, or ``(x, -log|dy/dx|)`` at the solution for the inverse.
    """
    K = (params.shape[-1] + 1) // 3
    w_raw, h_raw, d_raw = params[..., :K], params[..., K:2 * K], params[..., 2 * K:]
    widths = min_width + (1 - min_width * K) * torch.softmax(w_raw, dim=-1)
    heights = min_height + (1 - min_height * K) * torch.softmax(h_raw, dim=-1)
    # softplus shifted so that a zero output is a slope of exactly 1 (identity start)
    shift = math.log(math.expm1(1.0 - min_derivative))
    # end derivatives exactly 1
    derivs = F.pad(min_derivative + F.softplus(d_raw + shift), (1, 1), value=1.0)

    def knots(sizes):
        # cumulative sizes with the ends exactly 0 and 1, mapped onto [-B, B]
        cum = F.pad(torch.cumsum(sizes[..., :-1], dim=-1), (1, 0), value=0.0)
        return F.pad(2 * bound * cum - bound, (0, 1), value=bound)

    xk, yk = knots(widths), knots(heights)
    inside = x.abs() <= bound
    v = x.clamp(-bound, bound)
    ref = yk if inverse else xk
    k = torch.searchsorted(ref[..., 1:-1].contiguous(), v[..., None].contiguous())
    k = k.clamp(0, K - 1)

    def g(t):
        return t.gather(-1, k).squeeze(-1)

    x0, w = g(xk), g(xk[..., 1:] - xk[..., :-1])
    y0, h = g(yk), g(yk[..., 1:] - yk[..., :-1])
    d0, d1 = g(derivs[..., :-1]), g(derivs[..., 1:])
    s = h / w
    c2 = d1 + d0 - 2 * s
    if inverse:
        dy = v - y0
        a = h * (s - d0) + dy * c2
        b = h * d0 - dy * c2
        c = -s * dy
        disc = (b * b - 4 * a * c).clamp_min(0.0)
        xi = (2 * c) / (-b - torch.sqrt(disc))
        xi = xi.clamp(0.0, 1.0)
        out = x0 + xi * w
    else:
        xi = ((v - x0) / w).clamp(0.0, 1.0)
    omx = 1 - xi
    t = xi * omx
    xi2 = xi * xi
    denom = s + c2 * t
    if not inverse:
        out = y0 + h * (s * xi2 + d0 * t) / denom
    num = s * s * (d1 * xi2 + 2 * s * t + d0 * omx * omx)
    logd = torch.log(num / (denom * denom))
    out = torch.where(inside, out, x)
    logd = torch.where(inside, logd, 0.0)
    return out, (-logd if inverse else logd)


class RationalQuadraticCoupling(_Coupling):
    r"""Rational-quadratic spline coupling (neural spline flow).

    :math:`z_a = g_{\theta(x_b)}(x_a)` elementwise, :math:`g` a monotone
    rational-quadratic spline with ``n_bins`` bins on :math:`[-B, B]` and the
    identity outside; :math:`\theta(x_b)` (widths, heights, knot derivatives) from
    an MLP of the conditioning features. In bin :math:`k` with
    :math:`\xi = (x - x_k)/w_k`, :math:`s_k = h_k / w_k`:

    .. math::

        g(x) = y_k + \frac{h_k\,[s_k \xi^2 + \delta_k \xi(1-\xi)]}
        {s_k + (\delta_{k+1} + \delta_k - 2 s_k)\,\xi(1-\xi)},

    whose derivative is available in closed form and whose inverse solves a
    quadratic (Durkan et al., 2019).

    Parameters
    ----------
    mask : array-like of bool, shape (n_features,)
        Conditioning features.
    hidden : tuple of int
        Hidden layer sizes of the conditioner.
    n_bins : int, default=8
        Number of spline bins.
    bound : float, default=4.0
        Half-width :math:`B` of the spline's interval.
    activation : str, default="relu"
        Conditioner activation.
    fourier_features : int, default=0
        Number :math:`L` of frequencies of the conditioner's Fourier features (as in
        :class:`AffineCoupling`).
    """

    def __init__(self, mask, hidden, n_bins=8, bound=4.0, activation="relu",
                 fourier_features=0):
        super().__init__(mask, 3 * int(n_bins) - 1, hidden, activation, fourier_features)
        self.bound = float(bound)

    def _elementwise(self, xa, params):
        return _rq_spline(xa, params, self.bound)

    def _elementwise_inverse(self, za, params):
        return _rq_spline(za, params, self.bound, inverse=True)[0]


# -------------------------------------------------------------------- autoregressive


class _MaskedLinear(nn.Linear):
    def __init__(self, n_in, n_out, mask):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MaskedAffineAutoregressive(Transform):
    r"""Masked autoregressive affine transform (MAF layer).

    A MADE network (masks of :mod:`mlnotes.density._made`, deterministic degrees)
    gives, in one pass, :math:`\mu_i(x_{<i})` and :math:`\alpha_i(x_{<i})` for every
    feature, :math:`x_{<i}` being the features before :math:`i` in ``ordering``, and

    .. math::

        z_i = (x_i - \mu_i)\, e^{-\alpha_i}, \qquad
        \log\lvert\det J\rvert = -\sum_i \alpha_i,

    with :math:`\alpha` soft-clamped to :math:`\pm` ``scale_bound``. The density
    needs one pass; the inverse (sampling) needs :math:`d` passes, one feature at a
    time.

    Parameters
    ----------
    n_features : int
        Number of features.
    hidden : tuple of int
        Hidden layer sizes of the MADE.
    activation : str, default="relu"
        Activation.
    scale_bound : float, default=3.0
        Bound of the log-scale.
    ordering : sequence of int or None, default=None
        The autoregressive order of the features (a permutation of
        ``range(n_features)``); None is the natural order. A flow alternates orders
        this way instead of permuting the features between layers.
    fourier_features : int, default=0
        Number :math:`L` of frequencies of Fourier features of the inputs,
        :math:`(x_j, \sin 2^k x_j, \cos 2^k x_j)`, :math:`k < L`. Each feature of
        :math:`x_j` gets the degree of :math:`x_j` in the first mask, so it reaches
        only the outputs after :math:`j` in ``ordering``.
    """

    def __init__(self, n_features, hidden, activation="relu", scale_bound=3.0,
                 ordering=None, fourier_features=0):
        super().__init__()
        d = int(n_features)
        hidden = [int(h) for h in hidden]
        ordering = np.arange(d) if ordering is None else np.asarray(ordering)
        if sorted(ordering.tolist()) != list(range(d)):
            raise ValueError(f"ordering must be a permutation of range({d}); got "
                             f"{ordering.tolist()!r}.")
        degrees = _hidden_degrees(hidden, d, "deterministic", None)
        in_degrees = _input_degrees(ordering)
        masks = _made_masks(in_degrees, degrees)
        layers, width = [], d
        self.fourier_features = int(fourier_features)
        if self.fourier_features:
            features = _FourierFeatures(d, self.fourier_features)
            # the features are laid out [x, sin(x_0 2^k) for k, ..., cos(...)]: every
            # column inherits the degree of the input it is computed from
            feature_degrees = np.concatenate(
                [in_degrees, np.repeat(in_degrees, self.fourier_features),
                 np.repeat(in_degrees, self.fourier_features)])
            masks[0] = degrees[0][:, None] >= feature_degrees[None, :]
            layers, width = [features], features.n_out
        for h, m in zip(hidden, masks[:-1]):
            layers += [_MaskedLinear(width, h, m), _ACTIVATIONS[activation]()]
            width = h
        out = _MaskedLinear(width, 2 * d, np.concatenate([masks[-1], masks[-1]]))
        nn.init.zeros_(out.weight)
        nn.init.zeros_(out.bias)
        layers.append(out)
        self.net = nn.Sequential(*layers)
        self.n_features = d
        self.scale_bound = float(scale_bound)

    def _params(self, x):
        out = self.net(x)
        mu, alpha = out[:, :self.n_features], out[:, self.n_features:]
        return mu, _soft_clamp(alpha, self.scale_bound)

    def _forward(self, x):
        out = self.net(x)
        mu, raw = out[:, :self.n_features], out[:, self.n_features:]
        # -alpha = -B tanh(raw / B) in three operations (the density's hot path)
        neg_alpha = torch.tanh(raw * (1.0 / self.scale_bound)) * -self.scale_bound
        return (x - mu) * torch.exp(neg_alpha), neg_alpha.sum(dim=1)

    def _inverse(self, z):
        x = torch.zeros_like(z)
        for _ in range(self.n_features):
            mu, alpha = self._params(x)
            x = z * torch.exp(alpha) + mu
        return x
