r"""The torch networks of the neural-network estimators (chapters 15-17 of the notes).

Kept apart from the estimators (``_mlp.py``, ``_cnn.py``) so that importing
:mod:`mlnotes.neural_network` does not import torch: the estimators import this
module when they build a network (the first ``fit``, or unpickling).
"""

import math
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlnotes import _fastpaths

_ACTIVATIONS = {
    "identity": lambda x: x,
    "logistic": torch.sigmoid_,
    "tanh": torch.tanh_,
    "relu": torch.relu_,
}


def _numpy_mm(a, b):
    """``a @ b`` of two CPU tensors by numpy's BLAS, sharing memory both ways.

    On the narrow products of a small MLP (a 10-unit output layer: 200 x 100 times
    100 x 10 in float64) torch's CPU BLAS took 36-48 us and numpy's 9-12 us, one
    thread, on the AMD EPYC hosts the benchmarks run on; on the wide ones the two
    are level (about 65 us for 200 x 64 times 64 x 100).
    """
    return torch.from_numpy(np.matmul(a.numpy(), b.numpy()))


class _MLPModule(nn.Module):
    """Fully connected network ``x -> act(x W_1 + b_1) -> ... -> x W_L + b_L``.

    Weights are stored as scikit-learn stores ``coefs_``: ``(fan_in, fan_out)``.
    Parameters are registered weights first, then biases, then batch-norm affine
    parameters, so that flattening them gives scikit-learn's packing order.
    """

    def __init__(self, layer_units, activation="relu", dropout=0.0, batch_norm=False):
        super().__init__()
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.empty(a, b, dtype=torch.float64))
             for a, b in pairwise(layer_units)])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.empty(b, dtype=torch.float64)) for b in layer_units[1:]])
        self.norms = nn.ModuleList(
            [nn.BatchNorm1d(b, dtype=torch.float64) for b in layer_units[1:-1]]
        ) if batch_norm else None
        self.activation = activation
        self.dropout = float(dropout)
        self.units = list(layer_units)
        self._cache_layers()

    def _cache_layers(self):
        # Plain lists of the registered parameters: indexing a ParameterList costs
        # more per mini-batch than the small matrix products of a typical MLP.
        norms = [None] * len(self.biases) if self.norms is None else [*self.norms, None]
        self._layers = list(zip(self.weights, self.biases, norms))

    def _apply(self, fn, *args, **kwargs):
        # nn.Module._apply is private (what .to()/.double() run): a fast path, see
        # mlnotes/_fastpaths.py; with it off, forward rebuilds the list every call
        out = super()._apply(fn, *args, **kwargs)
        self._cache_layers()  # .to() may replace the Parameter objects
        return out

    def forward(self, x):
        if not _fastpaths.enabled():
            self._cache_layers()
        act = _ACTIVATIONS[self.activation]
        dropout = self.dropout if self.training else 0.0
        if (x.device.type == "cpu" and self.norms is None and dropout == 0
                and not torch.is_grad_enabled()):
            # predictions and validation scores: the products through numpy's BLAS,
            # as in loss_and_gradients
            return self._plain_activations(x, _numpy_mm)[-1]
        *hidden, (w_out, b_out, _) = self._layers
        for w, b, norm in hidden:
            x = torch.addmm(b, x, w)
            if norm is not None:
                x = norm(x)
            x = act(x)
            if dropout > 0:
                x = F.dropout(x, dropout, training=True)
        return torch.addmm(b_out, x, w_out)

    def _plain_activations(self, x, mm):
        """Every layer's output of the plain network from input ``x`` (the last one
        without activation), the products by ``mm``; call without autograd."""
        act = _ACTIVATIONS[self.activation]
        last = len(self._layers) - 1
        acts = [x]
        for i, (w, b, _) in enumerate(self._layers):
            z = mm(acts[-1], w.detach()).add_(b)
            acts.append(act(z) if i < last else z)
        return acts

    def loss_and_gradients(self, x, output_error):
        r"""Loss and gradients of a mini-batch by back-propagation written out.

        Chapter 15: with :math:`a_0 = x` and :math:`a_l = \sigma(a_{l-1} W_l + b_l)`,
        ``output_error(z)`` returns the loss :math:`J` and
        :math:`\delta_L = \partial J / \partial z` at the output :math:`z`; then
        :math:`\nabla_{W_l} J = a_{l-1}^\top \delta_l`,
        :math:`\nabla_{b_l} J = \mathbf 1^\top \delta_l` and
        :math:`\delta_{l-1} = (\delta_l W_l^\top) \odot \sigma'(a_{l-1})`, where
        :math:`\sigma'` is read off the activation's output (ReLU: :math:`a > 0`,
        tanh: :math:`1 - a^2`, logistic: :math:`a (1 - a)`).

        The same numbers as autograd on :meth:`forward` (to rounding), without its
        graph: on the small networks of a typical MLP the graph's bookkeeping costs
        about as much as the matrix products. Only for the plain network (no batch
        norm, no dropout). Returns the loss and the gradients in the order of
        :meth:`parameters` (weights, then biases).
        """
        if self.norms is not None or self.dropout > 0:
            raise ValueError("back-propagation by hand covers the plain network only")
        if not _fastpaths.enabled():
            self._cache_layers()
        mm = _numpy_mm if x.device.type == "cpu" else torch.mm
        # a diverging fit overflows: the training loop stops it with its own error,
        # and numpy's warnings would only repeat it
        with torch.no_grad(), np.errstate(over="ignore", invalid="ignore"):
            acts = self._plain_activations(x, mm)
            loss, delta = output_error(acts.pop())
            n_layers = len(self._layers)
            grads = [None] * (2 * n_layers)
            for i in range(n_layers - 1, -1, -1):
                grads[i] = mm(acts[i].t(), delta)
                grads[n_layers + i] = delta.sum(0)
                if i == 0:
                    break
                delta = mm(delta, self._layers[i][0].detach().t())
                a = acts[i]
                if self.activation == "relu":
                    delta.mul_(a > 0)
                elif self.activation == "tanh":
                    delta.mul_(1.0 - a * a)
                elif self.activation == "logistic":
                    delta.mul_(a * (1.0 - a))
        return loss, grads


def _kernel_fit(size, extent):
    """Kernel size along an axis of ``extent`` pixels: no wider than the odd size
    covering the axis (a ``1 x n`` image gets ``1 x k`` kernels)."""
    return min(size, extent if extent % 2 else extent + 1)


def _pool_fit(size, extent):
    """Pooling window along an axis: 1 (no pooling) once the axis is that small."""
    return size if extent > size else 1


class _ConvBlock(nn.Module):
    """Convolution ("same" padding), optional batch norm, activation, optional pooling.

    Two equivalent forward paths: torch's convolution on ``(N, C, H, W)`` tensors
    (fast in float32, through oneDNN), and for float64 an im2col product on
    channels-last ``(N, H, W, C)`` tensors: the ``kh * kw`` shifted copies of the
    zero-padded input are concatenated along the channels and multiplied by the
    kernel in one matrix product, where torch's float64 convolution loops over the
    images of the batch.
    """

    def __init__(self, in_channels, out_channels, kernel, batch_norm, activation, pool,
                 window):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, padding="same",
                              dtype=torch.float64)
        self.norm = nn.BatchNorm2d(out_channels, dtype=torch.float64) \
            if batch_norm else None
        self.activation = activation
        self.pool = pool if window != (1, 1) else None
        self.window = window

    def _pool(self, x):
        if self.pool == "max":
            return F.max_pool2d(x, self.window, ceil_mode=True)
        return F.avg_pool2d(x, self.window, ceil_mode=True)

    def forward(self, x):
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        x = _ACTIVATIONS[self.activation](x)
        return self._pool(x) if self.pool is not None else x

    def forward_nhwc(self, x):
        n, h, w, c = x.shape
        weight = self.conv.weight
        out_c, _, kh, kw = weight.shape
        ph, pw = (kh - 1) // 2, (kw - 1) // 2
        if ph or pw:
            x = F.pad(x, (0, 0, pw, pw, ph, ph))
        if kh * kw > 1:
            x = torch.cat([x[:, u:u + h, v:v + w, :]
                           for u in range(kh) for v in range(kw)], dim=3)
        kernel = weight.permute(2, 3, 1, 0).reshape(kh * kw * c, out_c)
        x = torch.addmm(self.conv.bias, x.reshape(n * h * w, -1), kernel)
        x = x.view(n, h, w, out_c)
        if self.norm is not None:
            x = self.norm(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        x = _ACTIVATIONS[self.activation](x)
        if self.pool is not None:
            x = self._pool(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return x


class _CNNModule(nn.Module):
    """Convolution blocks and a dense head, on images given as flat rows.

    A ``k x k`` kernel is narrowed where the image is smaller (a ``1 x n`` image gets
    ``1 x k`` kernels), with "same" zero padding, so the convolutions keep the spatial
    size; pooling by ``p`` divides an axis longer than ``p`` by ``p`` (rounding up)
    and leaves shorter axes alone.
    """

    def __init__(self, image_shape, conv_channels, kernel_size, pooling, pool_size,
                 hidden_layer_sizes, n_outputs, activation, dropout, batch_norm):
        super().__init__()
        channels, height, width = image_shape
        self.image_shape = tuple(image_shape)
        blocks = []
        for out_channels in conv_channels:
            kernel = (_kernel_fit(kernel_size, height), _kernel_fit(kernel_size, width))
            window = (1, 1)
            if pooling is not None:
                window = (_pool_fit(pool_size, height), _pool_fit(pool_size, width))
                height = math.ceil(height / window[0])
                width = math.ceil(width / window[1])
            blocks.append(_ConvBlock(channels, out_channels, kernel, batch_norm,
                                     activation, pooling, window))
            channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.head = _MLPModule([channels * height * width, *hidden_layer_sizes, n_outputs],
                               activation=activation, dropout=dropout,
                               batch_norm=batch_norm)

    def forward(self, x):
        x = x.reshape(x.shape[0], *self.image_shape)
        if x.dtype == torch.float64:
            x = x.permute(0, 2, 3, 1)
            for block in self.blocks:
                x = block.forward_nhwc(x)
            x = x.permute(0, 3, 1, 2)
        else:
            for block in self.blocks:
                x = block(x)
        return self.head(x.flatten(1))
