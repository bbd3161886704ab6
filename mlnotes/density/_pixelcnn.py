r"""PixelCNN: masked and gated convolutional autoregressive models (chapter 48).

The rows of ``X`` are images flattened in C-order (channels, then rows, then
columns), as for :class:`mlnotes.neural_network.CNNClassifier`; ``image_shape`` says
how to fold them back. The network maps the level indices of an image to
categorical logits for every pixel value; the fitting, the likelihoods and the
sampling are those of :class:`mlnotes.density._base.AutoregressiveDensity`.
"""

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from mlnotes.base import TorchEstimator
from mlnotes.density._base import (
    AutoregressiveDensity,
    DiscreteLevelsMixin,
    _draw_categorical,
)

__all__ = ["PixelCNN"]


# ---------------------------------------------------------------------------- masks


def _groups(n_channels, n_groups):
    """Colour group of each of ``n_channels`` feature maps (contiguous blocks)."""
    return np.arange(n_channels) * n_groups // n_channels


def _channel_mask(out_groups, in_groups, strict):
    """``(out, in)`` mask of a centre tap: group ``g`` sees groups ``< g`` (type A,
    ``strict``) or ``<= g`` (type B)."""
    if strict:
        return (in_groups[None, :] < out_groups[:, None]).astype(np.float32)
    return (in_groups[None, :] <= out_groups[:, None]).astype(np.float32)


class _MaskedConv2d(nn.Module):
    """A convolution with explicit zero padding and a fixed 0/1 mask on its kernel.

    ``padding`` is ``(left, right, top, bottom)`` (the order of :func:`F.pad`), so a
    causal kernel can be padded on one side only; ``mask`` (``(out, in, kh, kw)``,
    or None for no mask) multiplies the kernel at every forward pass, so masked taps
    stay exactly zero in the output whatever the optimiser does to the weights.
    """

    def __init__(self, in_channels, out_channels, kernel, padding=(0, 0, 0, 0),
                 dilation=(1, 1), mask=None):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, dilation=dilation)
        self.padding = tuple(int(p) for p in padding)
        self.dilation = tuple(int(d) for d in dilation)
        if mask is not None and np.all(mask == 1):
            mask = None
        if mask is not None:
            self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32))
        else:
            self.mask = None

    def forward(self, x):
        weight = self.conv.weight
        if self.mask is not None:
            weight = weight * self.mask
        if any(self.padding):
            x = F.pad(x, self.padding)
        return F.conv2d(x, weight, self.conv.bias, dilation=self.dilation)


def _pointwise(in_channels, out_channels, n_groups, in_groups=None, out_groups=None):
    """A 1x1 convolution, masked by colour group (type B) when there are groups."""
    mask = None
    if n_groups > 1:
        gi = _groups(in_channels, n_groups) if in_groups is None else in_groups
        go = _groups(out_channels, n_groups) if out_groups is None else out_groups
        mask = _channel_mask(go, gi, strict=False)[:, :, None, None]
    return _MaskedConv2d(in_channels, out_channels, (1, 1), mask=mask)


def _gate_groups(n_filters, n_groups):
    """Groups of the ``2 * n_filters`` pre-activations (tanh half, sigmoid half)."""
    g = _groups(n_filters, n_groups)
    return np.concatenate([g, g])


def _masked_square(in_channels, out_channels, kernel_size, height, n_groups,
                   mask_type, dilation, in_groups=None):
    """The masked ``k x k`` convolution of the original PixelCNN (type A or B).

    Taps on rows above the centre are kept; on the centre row, taps left of the
    centre are kept; the centre tap is kept between colour groups ``g_in < g_out``
    (type A) or ``g_in <= g_out`` (type B); everything else is zero. Rows that are
    further above than the image is high are cut off (a ``1 x n`` image gets a
    ``1 x k`` kernel).
    """
    half = kernel_size // 2
    up = min(half, height - 1)
    kh, kw = up + half + 1, kernel_size
    mask = np.zeros((out_channels, in_channels, kh, kw), dtype=np.float32)
    mask[:, :, :up, :] = 1.0
    mask[:, :, up, :half] = 1.0
    gi = _groups(in_channels, n_groups) if in_groups is None else in_groups
    go = _groups(out_channels, n_groups)
    mask[:, :, up, half] = _channel_mask(go, gi, strict=(mask_type == "A"))
    # rows below the centre are all masked: drop them from the kernel
    mask = mask[:, :, :up + 1, :]
    pad_w = dilation * half
    return _MaskedConv2d(in_channels, out_channels, (up + 1, kw),
                         padding=(pad_w, pad_w, up, 0), dilation=(1, dilation),
                         mask=mask)


def _horizontal(in_channels, out_channels, kernel_size, n_groups, mask_type, dilation,
                in_groups=None, out_groups=None):
    """The horizontal stack's ``1 x (k//2 + 1)`` convolution: the pixels to the left
    and, through a colour-group mask of type A or B, the current pixel."""
    half = kernel_size // 2
    mask = np.ones((out_channels, in_channels, 1, half + 1), dtype=np.float32)
    gi = _groups(in_channels, n_groups) if in_groups is None else in_groups
    go = _groups(out_channels, n_groups) if out_groups is None else out_groups
    mask[:, :, 0, half] = _channel_mask(go, gi, strict=(mask_type == "A"))
    return _MaskedConv2d(in_channels, out_channels, (1, half + 1),
                         padding=(dilation * half, 0, 0, 0), dilation=(1, dilation),
                         mask=mask)


def _vertical(in_channels, out_channels, kernel_size):
    """The vertical stack's ``(k//2 + 1) x k`` convolution: the current row and the
    ``k//2`` rows above it, centred horizontally (no mask: the vertical stack only
    ever sees rows strictly above, the input being shifted down by one row)."""
    half = kernel_size // 2
    return _MaskedConv2d(in_channels, out_channels, (half + 1, kernel_size),
                         padding=(half, half, half, 0))


def _gate(x):
    f, g = x.chunk(2, dim=1)
    return torch.tanh(f) * torch.sigmoid(g)


class _PixelCNNModule(nn.Module):
    """Level indices ``(n, C*H*W)`` -> logits ``(n, C*H*W, K)``.

    ``gated=False``: the masked stack of the PixelRNN paper (a type-A ``k x k``
    convolution, then type-B ones, ReLU, optional residual connections).
    ``gated=True``: the vertical and horizontal stacks of the gated PixelCNN, with
    gated activations and the vertical-to-horizontal connection. Both end in a
    ReLU, 1x1, ReLU, 1x1 head giving ``K`` logits per pixel value.
    """

    def __init__(self, image_shape, n_levels, n_filters, n_layers, kernel_size, gated,
                 residual, dilations, dropout):
        super().__init__()
        C, H, W = image_shape
        self.image_shape = (C, H, W)
        self.n_levels = n_levels
        self.gated = gated
        self.residual = residual
        self.scale = 2.0 / (n_levels - 1) if n_levels > 1 else 0.0
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        in_groups = np.arange(C)
        self.use_vertical = gated and H > 1
        if gated:
            h2 = 2 * n_filters
            gate_groups = _gate_groups(n_filters, C)
            self.hconv = nn.ModuleList()
            self.hout = nn.ModuleList()
            self.vconv = nn.ModuleList()
            self.v2h = nn.ModuleList()
            for layer in range(n_layers):
                first = layer == 0
                cin = C if first else n_filters
                self.hconv.append(_horizontal(
                    cin, h2, kernel_size, C, "A" if first else "B", dilations[layer],
                    in_groups=in_groups if first else None, out_groups=gate_groups))
                self.hout.append(_pointwise(n_filters, n_filters, C))
                if self.use_vertical:
                    self.vconv.append(_vertical(cin, h2, kernel_size))
                    self.v2h.append(_MaskedConv2d(h2, h2, (1, 1)))
        else:
            self.convs = nn.ModuleList()
            for layer in range(n_layers):
                first = layer == 0
                self.convs.append(_masked_square(
                    C if first else n_filters, n_filters, kernel_size, H, C,
                    "A" if first else "B", dilations[layer],
                    in_groups=in_groups if first else None))
        out_groups = np.repeat(np.arange(C), n_levels)
        self.head1 = _pointwise(n_filters, n_filters, C)
        self.head2 = _pointwise(n_filters, C * n_levels, C, out_groups=out_groups)

    def features(self, img):
        """Hidden feature maps ``(n, n_filters, H, W)`` of images ``(n, C, H, W)``."""
        if not self.gated:
            h = self.convs[0](img)
            for conv in self.convs[1:]:
                out = self.dropout(conv(torch.relu(h)))
                h = h + out if self.residual else out
            return h
        # the vertical stack sees the image shifted down by one row
        v = F.pad(img, (0, 0, 1, 0))[:, :, :-1, :] if self.use_vertical else None
        h = img
        for layer, (hconv, hout) in enumerate(zip(self.hconv, self.hout)):
            pre = hconv(h)
            if self.use_vertical:
                v_pre = self.vconv[layer](v)
                pre = pre + self.v2h[layer](v_pre)
                v = _gate(v_pre)
            out = hout(_gate(pre))
            if layer == 0:
                h = out
            else:
                out = self.dropout(out)
                h = h + out if self.residual else out
        return h

    def image_logits(self, levels):
        """Logits ``(n, C, K, h, W)`` of level-index images ``(n, C, h, W)``.

        ``h`` may be smaller than the image height: the output rows only depend on
        the rows above them, so the first ``h`` rows of the image give the logits
        of the first ``h`` rows exactly (the sampler uses this).
        """
        n, C, h, W = levels.shape
        dtype = self.head2.conv.weight.dtype
        img = levels.to(dtype) * self.scale - 1.0
        hidden = self.head1(torch.relu(self.features(img)))
        logits = self.head2(self.dropout(torch.relu(hidden)))
        return logits.reshape(n, C, self.n_levels, h, W)

    def forward(self, x):
        C, H, W = self.image_shape
        n = x.shape[0]
        logits = self.image_logits(x.reshape(n, C, H, W))
        # (n, C, K, H, W) -> (n, C, H, W, K) -> (n, C*H*W, K): C-order of the features
        return logits.permute(0, 1, 3, 4, 2).reshape(n, C * H * W, self.n_levels)


def _wavenet_dilations(n_layers, width):
    """WaveNet rates: 1 for the first (type A) layer, then 1, 2, 4, ... doubling per
    layer and restarting at 1 once the rate would reach the image width (wider rates
    would only see padding). With ``k = 3`` the left context is then contiguous and
    ``1 + sum(rates[1:])`` pixels wide."""
    rates, rate = [1], 1
    for _ in range(n_layers - 1):
        rates.append(rate)
        rate *= 2
        if rate >= max(width, 2):
            rate = 1
    return rates


class PixelCNN(AutoregressiveDensity):
    r"""PixelCNN: an autoregressive density model of images with masked convolutions.

    Each row of ``X`` is an image of shape ``image_shape`` flattened in C-order
    (channels, then rows, then columns). The model factorises the probability mass
    of an image over its pixels in raster order (row by row, left to right) and,
    within a pixel, over its channels in order (R before G before B); every
    conditional is a categorical distribution over the levels, whose logits a stack
    of masked convolutions computes for all pixels at once. ``gated=False`` is the
    masked-convolution stack of the PixelRNN paper (it has a blind spot);
    ``gated=True`` (default) the gated PixelCNN with vertical and horizontal stacks,
    which has none.

    Parameters
    ----------
    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(channels, height, width)`` of the images; its
        product must be ``n_features``. None treats each row as a ``1 x n_features``
        image: the model is then a causal 1-D convolution over the features (the
        vertical stack is dropped), as in WaveNet.
    n_filters : int, default=16
        Feature maps of every hidden layer (at least the number of channels: the
        maps are split into one block per colour channel).
    n_layers : int, default=4
        Convolution layers (the first one of mask type A, the others of type B).
    kernel_size : int, default=5
        Odd side ``k`` of the masked ``k x k`` kernels; the gated stacks use
        ``(k//2 + 1) x k`` (vertical) and ``1 x (k//2 + 1)`` (horizontal) kernels,
        the same causal neighbourhood.
    gated : bool, default=True
        The gated PixelCNN (vertical and horizontal stacks, gated activations
        :math:`\tanh(W_f * x) \odot \sigma(W_g * x)`, vertical-to-horizontal
        connection) rather than the masked ReLU stack.
    residual : bool, default=True
        Residual connections around every layer but the first (the horizontal stack
        of the gated model, every layer of the masked stack).
    dilation : {"wavenet"} or None, default=None
        Dilation of the horizontal (along-the-row) convolutions. ``"wavenet"``:
        the first layer uses rate 1 and layer ``l >= 2`` rate :math:`2^{l-2}`
        (restarting at 1 once the rate would reach the image width), so the
        receptive field along a row grows exponentially with depth; on a
        ``1 x n`` image this is WaveNet's stack of dilated causal convolutions.
        On images it widens the left context of the horizontal stack (gated) or
        the column reach of the masked kernels (ungated); the vertical stack is
        not dilated. None: rate 1 everywhere.
    dropout : float, default=0.2
        Dropout rate on the output of every residual branch and before the last
        1x1 convolution (training only).
    n_levels : "auto" or int, default="auto"
        Levels of the pixel values. With ``"auto"``, if every training value is an
        integer in [0, 255] (any dtype) the levels are ``0..max`` of the training
        data; otherwise each feature is quantised into 256 equal-width bins between
        its training minimum and maximum. An int ``K`` uses the levels ``0..K-1``
        for integer data (``K`` must exceed the training maximum) and ``K`` bins
        otherwise.
    solver : {"adam", "sgd"}, default="adam"
        Optimiser of the mini-batch training loop.
    alpha : float, default=0.0
        L2 penalty on the kernels, divided by the batch size.
    batch_size : int or "auto", default=64
        Mini-batch size (clipped to the number of training rows); ``"auto"`` is
        ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Step-size schedule (see :class:`mlnotes.neural_network.MLPClassifier`).
    learning_rate_init : float, default=0.003
        Initial step size.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, early-stopping split, batch order and dropout masks; the
        caller's global torch and numpy RNGs are left unchanged.
    tol : float, default=1e-4
        Improvement (nats per row) below which an epoch counts as no improvement.
    verbose : bool, default=False
        Print the loss (and validation score) after every epoch.
    warm_start : bool, default=False
        Continue from the weights of the previous ``fit``.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for ``"sgd"``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, stop when their mean
        log-likelihood has not improved by ``tol`` for ``n_iter_no_change`` epochs,
        and keep the best weights. With few training rows this decides how well
        the model generalises. When the held-out part would have fewer than two
        rows (tiny data), every row is used for training and the training loss
        decides when to stop.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1 : float, default=0.9
        Adam's first-moment decay rate.
    beta_2 : float, default=0.999
        Adam's second-moment decay rate.
    epsilon : float, default=1e-8
        Adam's denominator offset.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    weight_decay : float, default=0.0
        Decoupled (AdamW) weight decay on the kernels.
    gradient_clipping : float or None, default=None
        Rescale each mini-batch gradient to at most this global L2 norm.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the images.
    ordering_ : ndarray of shape (n_features_in_,)
        The order in which the features (columns of ``X``) are generated: pixels in
        raster order and, within a pixel, its channels in order; as column indices
        of the C-order flattening, ``ordering_[p * C + c] = c * H * W + p`` for pixel
        ``p = i * W + j``. For one channel this is ``0, 1, ..., n_features - 1``.
    n_levels_ : int
        Number of levels (or bins) per feature.
    levels_ : ndarray of shape (n_levels_,) or None
        The integer levels ``0..n_levels_-1`` for integer data; None for quantised
        data.
    bin_edges_ : ndarray of shape (n_features_in_, n_levels_ + 1) or None
        The bin edges of each feature for quantised data; None for integer data.
    dilations_ : list of int
        The dilation rate of every layer.
    module_ : torch.nn.Module
        The trained network (float64, evaluation mode).
    n_iter_ : int
        Epochs run.
    loss_ : float
        Mean negative log-likelihood (nats per row) at the last epoch.
    loss_curve_ : list of float
        Mean training negative log-likelihood at each epoch.
    best_loss_ : float or None
        Smallest training loss (None with early stopping).
    validation_scores_ : list of float or None
        Mean validation log-likelihood at each epoch (early stopping only).
    best_validation_score_ : float or None
        Best validation score (early stopping only).
    t_ : int
        Training rows seen.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column names.

    See Also
    --------
    mlnotes.neural_network.CNNClassifier : Convolutional classifier on flat rows.

    Notes
    -----
    With the pixels :math:`x_1, \dots, x_{HW}` in raster order and channels
    :math:`x_{p,1}, \dots, x_{p,C}` within pixel :math:`p` (chapter 48 of the notes),

    .. math::

        \log p(x) = \sum_{p=1}^{HW} \sum_{c=1}^{C}
        \log p\big(x_{p,c} \mid x_{<p}, x_{p,<c}\big),

    each conditional a softmax over the ``n_levels_`` levels. A convolution whose
    kernel taps at and after the centre in raster order are zeroed (mask **A**,
    the first layer) makes output :math:`p` depend on :math:`x_{<p}` only; the later
    layers may include the centre (mask **B**), since their input at :math:`p`
    already excludes :math:`x_p`. With ``C > 1`` channels, the feature maps are split
    into ``C`` groups and the centre tap connects group :math:`g` to input groups
    :math:`g' < g` (A) or :math:`g' \le g` (B), so that R is predicted from the
    pixels before, G also from R, B also from R and G. Stacking :math:`k \times k`
    masked convolutions grows the receptive field to the left and up but misses a
    wedge of pixels above and to the right (the *blind spot*).

    The gated PixelCNN removes it with two stacks: the vertical stack
    :math:`v` sees the rows strictly above (a :math:`(\lfloor k/2\rfloor + 1)
    \times k` convolution on the input shifted down by one row), the horizontal
    stack :math:`h` the pixels to the left in the current row; the vertical
    pre-activations feed the horizontal stack through a :math:`1\times 1`
    convolution, and both use gated activations:

    .. math::

        v' = \tanh(W_{v,f} * v) \odot \sigma(W_{v,g} * v), \qquad
        h' = h + W_o \big[\tanh(W_{h,f} * h + U_f\,(W_{v} * v)) \odot
        \sigma(W_{h,g} * h + U_g\,(W_{v} * v))\big].

    Every pixel before :math:`p` in raster order is then in the receptive field once
    the stack is deep enough (for ``kernel_size=5`` and 4 layers, the whole of an
    8 x 8 image). Training minimises the mean negative log-likelihood (nats per
    image) with the shared torch loop; ``score_samples`` is the exact log mass.
    Sampling is ancestral, one forward pass per feature.

    How the defaults were chosen, and what they reach on binarised digits:
    :ref:`density-pixelcnn` in the user guide.

    References
    ----------
    .. [1] A. van den Oord, N. Kalchbrenner, K. Kavukcuoglu, "Pixel Recurrent Neural
       Networks", ICML 2016.
    .. [2] A. van den Oord, N. Kalchbrenner, O. Vinyals, L. Espeholt, A. Graves,
       K. Kavukcuoglu, "Conditional Image Generation with PixelCNN Decoders",
       NeurIPS 2016.
    .. [3] A. van den Oord, S. Dieleman, H. Zen et al., "WaveNet: A Generative
       Model for Raw Audio", arXiv:1609.03499, 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.density import PixelCNN
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(200, 16) < 0.3).astype(int)
    >>> model = PixelCNN((4, 4), n_filters=8, n_layers=2, max_iter=5,
    ...                  random_state=0).fit(X)
    >>> model.score_samples(X[:3]).shape
    (3,)
    >>> model.sample(2, random_state=0).shape
    (2, 16)
    """

    _parameter_constraints = {
        **{k: TorchEstimator._training_constraints[k] for k in (
            "alpha", "batch_size", "learning_rate", "learning_rate_init", "max_iter",
            "shuffle", "random_state", "tol", "verbose", "warm_start", "momentum",
            "nesterovs_momentum", "early_stopping", "validation_fraction", "beta_1",
            "beta_2", "epsilon", "n_iter_no_change", "weight_decay",
            "gradient_clipping", "device")},
        **DiscreteLevelsMixin._levels_constraints,
        "image_shape": [None, tuple, list],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "gated": ["boolean"],
        "residual": ["boolean"],
        "dilation": [StrOptions({"wavenet"}), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "solver": [StrOptions({"adam", "sgd"})],
    }

    _warn_batch_clipping = False

    def __init__(
        self,
        image_shape=None,
        *,
        n_filters=16,
        n_layers=4,
        kernel_size=5,
        gated=True,
        residual=True,
        dilation=None,
        dropout=0.2,
        n_levels="auto",
        solver="adam",
        alpha=0.0,
        batch_size=64,
        learning_rate="constant",
        learning_rate_init=0.003,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=True,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        weight_decay=0.0,
        gradient_clipping=None,
        device="cpu",
    ):
        self.image_shape = image_shape
        self.n_filters = n_filters
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.gated = gated
        self.residual = residual
        self.dilation = dilation
        self.dropout = dropout
        self.n_levels = n_levels
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.weight_decay = weight_decay
        self.gradient_clipping = gradient_clipping
        self.device = device

    # -- AutoregressiveDensity hooks ------------------------------------------------

    def _check_layout(self, n_features):
        shape = self.image_shape
        if shape is None:
            shape = (1, 1, n_features)
        else:
            shape = tuple(shape)
            if len(shape) not in (2, 3) or not all(
                    isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
                    for s in shape):
                raise ValueError(
                    "image_shape must be None, (height, width) or (channels, height, "
                    f"width) with positive integer sizes; got {self.image_shape!r}."
                )
            if len(shape) == 2:
                shape = (1,) + shape
        shape = tuple(int(s) for s in shape)
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={self.image_shape!r} holds {int(np.prod(shape))} values "
                f"per image but X has {n_features} features."
            )
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd; got {self.kernel_size}.")
        if self.n_filters < shape[0]:
            raise ValueError(
                f"n_filters={self.n_filters} must be at least the number of channels "
                f"{shape[0]} (the feature maps are split into one group per channel)."
            )
        self.image_shape_ = shape
        width = shape[2]
        if self.dilation == "wavenet":
            self.dilations_ = _wavenet_dilations(self.n_layers, width)
        else:
            self.dilations_ = [1] * self.n_layers

    def _make_ordering(self, n_features):
        C, H, W = self.image_shape_
        pixels = np.arange(H * W)
        return (pixels[:, None] + H * W * np.arange(C)[None, :]).ravel()

    def _sample_indices(self, module, n_samples, rng):
        """Ancestral sampling in ``ordering_``, running the network on the rows up
        to the current one only (the rows below cannot change its conditionals):
        the same draws as the generic sampler, in about half the time."""
        C, H, W = self.image_shape_
        device = next(module.parameters()).device
        img = torch.zeros((n_samples, C, H, W), dtype=torch.long, device=device)
        for i in range(H):
            for j in range(W):
                for c in range(C):
                    logits = module.image_logits(img[:, :, :i + 1])[:, c, :, i, j]
                    probs = torch.exp(torch.log_softmax(logits, dim=1))
                    probs = probs.to("cpu", torch.float64)
                    k = _draw_categorical(probs.numpy(), rng.random(n_samples))
                    img[:, c, i, j] = torch.as_tensor(k, device=device)
        return img.reshape(n_samples, C * H * W).to("cpu").numpy()

    # -- TorchEstimator hooks -------------------------------------------------------

    def _module_spec(self, X, Y):
        return dict(
            image_shape=tuple(self.image_shape_), n_levels=int(self.n_levels_),
            n_filters=int(self.n_filters), n_layers=int(self.n_layers),
            kernel_size=int(self.kernel_size), gated=bool(self.gated),
            residual=bool(self.residual), dilations=list(self.dilations_),
            dropout=float(self.dropout),
        )

    def _build_module(self, **spec):
        return _PixelCNNModule(**spec)

