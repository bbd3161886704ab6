r"""Convolutional network classifier (chapter 17 of the notes).

The input stays a scikit-learn matrix: each row is an image flattened in C-order
(channels, then rows, then columns), and ``image_shape`` says how to fold it back. The
training loop is :class:`mlnotes.base.TorchEstimator`'s; the loss, targets and
predictions are those of the MLP classifier; the network is in ``_networks.py``
(imported when a network is built: importing this module does not import torch).
"""

from numbers import Integral

import numpy as np
import scipy.sparse
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from mlnotes.utils._lazy import lazy_module

from ._mlp import (
    _MLP_CONSTRAINTS,
    _BaseMLP,
    _ClassifierHead,
    _init_dense,
)

torch = lazy_module("torch", globals())


class CNNClassifier(_ClassifierHead, ClassifierMixin, _BaseMLP):
    r"""Convolutional neural network classifier for images given as flat rows.

    Each row of ``X`` is an image of shape ``image_shape`` flattened in C-order, so
    the estimator fits in scikit-learn pipelines, grid searches and
    cross-validation. The network is a stack of convolution blocks (a
    ``kernel_size x kernel_size`` convolution with "same" padding, the activation,
    then a ``pool_size x pool_size`` pooling) with ``conv_channels`` feature maps,
    followed by a fully connected head (``hidden_layer_sizes``) and a softmax (or
    logistic) output. Training options are those of :class:`MLPClassifier`.

    Parameters
    ----------
    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(channels, height, width)`` of the images. None
        treats each row as a ``1 x n_features`` image (one channel): convolutions
        then slide along the features, which suits ordered signals.
    conv_channels : tuple of int, default=(32, 64)
        Number of feature maps of each convolution block.
    kernel_size : int, default=3
        Odd side of the square convolution kernels (narrowed to the image where
        the image is smaller).
    pooling : {"max", "avg"} or None, default="max"
        Pooling after each convolution block; None keeps the spatial size.
    pool_size : int, default=2
        Side of the pooling window (and its stride).
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of the fully connected hidden layers after the convolutions.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the convolution blocks and hidden layers.
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        Optimiser (see :class:`MLPClassifier`).
    alpha : float, default=0.0001
        L2 penalty on the kernels and weight matrices, divided by the batch size.
    batch_size : int or "auto", default=64
        Mini-batch size (clipped to ``n_samples``); ``"auto"`` is
        ``min(200, n_samples)``. Smaller than the MLP's default: more updates per
        epoch suit the small image sets this class is meant for (on the digits it
        converges in fewer epochs and less time than with batches of 200).
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Step-size schedule (see :class:`MLPClassifier`).
    learning_rate_init : float, default=0.001
        Initial step size.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Maximum number of epochs (iterations for ``"lbfgs"``).
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, early-stopping split, batch order, dropout masks; the
        caller's global torch RNG is left unchanged.
    tol : float, default=1e-4
        Tolerance of the stopping rules.
    verbose : bool, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        Continue from the weights of the previous ``fit``.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum.
    early_stopping : bool, default=False
        Stop when the validation accuracy stops improving (best weights kept).
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of ``"lbfgs"``.
    init : {"glorot", "he"}, default="he"
        Initialisation of kernels and weights: He (variance :math:`2 / n_{in}`,
        :math:`n_{in}` = input channels x kernel area) suits the ReLU blocks.
    dropout : float, default=0.0
        Dropout probability of the dense hidden units during training.
    batch_norm : bool, default=False
        Batch normalisation after every convolution (per feature map) and dense
        hidden layer; running statistics at predict time.
    weight_decay : float, default=0.0
        Decoupled weight decay.
    gradient_clipping : float, default=None
        Maximum global L2 norm of a mini-batch gradient.
    standardize : bool, default=True
        Standardise each channel (one mean and one standard deviation per channel,
        over all its pixels, learned in the first ``fit``), which keeps the images
        images while putting them on a unit scale.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    image_shape_ : tuple of int
        ``(channels, height, width)`` used.
    loss_ : float
        The loss (with the L2 term) at the last epoch.
    best_loss_ : float or None
        The minimum loss reached (None with early stopping).
    loss_curve_ : list of shape (n_iter_,)
        The loss at each epoch (stochastic solvers).
    validation_scores_ : list of shape (n_iter_,) or None
        Validation accuracy at each epoch (early stopping only).
    best_validation_score_ : float or None
        Best validation accuracy (early stopping only).
    t_ : int
        Number of training samples seen by the stochastic solver.
    n_features_in_ : int
        Number of features (pixels x channels) seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Number of epochs (iterations for ``"lbfgs"``) run.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        ``"softmax"`` or ``"logistic"``.
    module_ : torch.nn.Module
        The trained network (float64, evaluation mode).

    See Also
    --------
    MLPClassifier : The fully connected network.

    Notes
    -----
    Chapter 17 of the notes (convolutional networks). A convolution layer computes
    each output map as a sum of the input maps correlated with learned kernels,

    .. math::

        z_{c'}(i, j) = b_{c'} + \sum_{c} \sum_{u, v} K_{c' c}(u, v)\,
            a_c(i + u, j + v) ,

    so a feature is detected with the same weights wherever it appears (weight
    sharing, translation equivariance) with far fewer parameters than a dense layer;
    pooling then makes the representation locally translation invariant and shrinks
    it. The network is trained like :class:`MLPClassifier` (cross-entropy plus the
    L2 term, back-propagation through the convolutions). Training runs in the dtype
    of ``X``: float32 input is several times faster on CPU than float64, whose
    convolutions have no vectorised kernels; predictions are computed in float64.

    References
    ----------
    Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied
    to document recognition", *Proc. IEEE* 86(11), 1998.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mlnotes.neural_network import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(image_shape=(8, 8), conv_channels=(8,), max_iter=20,
    ...                     random_state=0).fit(X[:500], y[:500])
    >>> clf.image_shape_
    (1, 8, 8)
    >>> clf.predict_proba(X[500:502]).shape
    (2, 10)
    """

    _warn_batch_clipping = False

    _parameter_constraints = {
        **_MLP_CONSTRAINTS,
        "image_shape": [None, tuple, list],
        "conv_channels": ["array-like", Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"max", "avg"}), None],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        image_shape=None,
        conv_channels=(32, 64),
        kernel_size=3,
        pooling="max",
        pool_size=2,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size=64,
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        init="he",
        dropout=0.0,
        batch_norm=False,
        weight_decay=0.0,
        gradient_clipping=None,
        standardize=True,
        device="cpu",
    ):
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.kernel_size = kernel_size
        self.pooling = pooling
        self.pool_size = pool_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
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
        self.max_fun = max_fun
        self.init = init
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.weight_decay = weight_decay
        self.gradient_clipping = gradient_clipping
        self.standardize = standardize
        self.device = device

    def _resolve_image_shape(self, n_features):
        shape = self.image_shape
        if shape is None:
            return (1, 1, n_features)
        shape = tuple(shape)
        if len(shape) not in (2, 3) or not all(
                isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                for s in shape):
            raise ValueError(
                "image_shape must be None, (height, width) or (channels, height, "
                f"width) of positive ints; got {self.image_shape!r}."
            )
        shape = tuple(int(s) for s in shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={self.image_shape!r} has {int(np.prod(shape))} values per "
                f"image but X has {n_features} features."
            )
        return shape

    def _fit(self, X, y, sample_weight=None, incremental=False):
        if self.kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd (same-size padding); got {self.kernel_size}.")
        channels = self.conv_channels
        channels = list(channels) if hasattr(channels, "__iter__") else [channels]
        if not all(isinstance(c, Integral) and c > 0 for c in channels):
            raise ValueError(f"conv_channels must be positive ints; got {channels}.")
        first_pass = not hasattr(self, "module_") or (
            not self.warm_start and not incremental)
        if first_pass and hasattr(X, "shape") and len(getattr(X, "shape", ())) == 2:
            self._resolve_image_shape(X.shape[1])  # fail before the validation copies
        return super()._fit(X, y, sample_weight=sample_weight, incremental=incremental)

    def _validate_input(self, X, y, incremental, reset):
        X, Y, stratify = super()._validate_input(X, y, incremental, reset)
        if len(self.classes_) < 2:
            raise ValueError(
                "CNNClassifier needs samples of at least 2 classes in the data; got 1 "
                f"class: {self.classes_[0]!r}."
            )
        return X, Y, stratify

    def _set_architecture(self, X):
        self.image_shape_ = self._resolve_image_shape(X.shape[1])

    def _module_spec(self, X, Y):
        channels = self.conv_channels
        channels = list(channels) if hasattr(channels, "__iter__") else [channels]
        return dict(image_shape=self.image_shape_, conv_channels=[int(c) for c in channels],
                    kernel_size=int(self.kernel_size), pooling=self.pooling,
                    pool_size=int(self.pool_size),
                    hidden_layer_sizes=self._hidden_sizes(), n_outputs=self.n_outputs_,
                    activation=self.activation, dropout=float(self.dropout),
                    batch_norm=bool(self.batch_norm))

    def _build_module(self, **spec):
        from ._networks import _CNNModule

        return _CNNModule(**spec)

    def _init_module(self, module, random_state):
        for block in module.blocks:
            layer = block.conv
            out_c, in_c, kh, kw = layer.weight.shape
            fan_in, fan_out = in_c * kh * kw, out_c * kh * kw
            if self.init == "he":
                bound = np.sqrt(6.0 / fan_in)
                w = random_state.uniform(-bound, bound, tuple(layer.weight.shape))
                b = np.zeros(out_c)
            else:
                factor = 2.0 if self.activation == "logistic" else 6.0
                bound = np.sqrt(factor / (fan_in + fan_out))
                w = random_state.uniform(-bound, bound, tuple(layer.weight.shape))
                b = random_state.uniform(-bound, bound, out_c)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.copy_(torch.from_numpy(b))
        for weight, bias in zip(module.head.weights, module.head.biases):
            _init_dense(weight, bias, self.init, self.activation, random_state)

    def _after_fit(self):
        """No ``coefs_``/``intercepts_``: a CNN's weights are not an MLP's layer list."""

    def _standardization(self, X, sample_weight):
        if scipy.sparse.issparse(X):
            X = X.toarray()
        channels = self.image_shape_[0]
        pixels = X.reshape(X.shape[0], channels, -1)
        w = None if sample_weight is None else sample_weight / sample_weight.sum()
        mean = np.average(pixels.mean(axis=2), axis=0, weights=w)
        var = np.average(((pixels - mean[None, :, None]) ** 2).mean(axis=2), axis=0,
                         weights=w)
        scale = np.sqrt(var)
        scale[scale < 10 * np.finfo(scale.dtype).eps * np.maximum(1.0, np.abs(mean))] = 1.0
        per_pixel = pixels.shape[2]
        return np.repeat(mean, per_pixel), np.repeat(scale, per_pixel)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Only for the stochastic solvers (``"sgd"``, ``"adam"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Flattened images.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        classes : array-like of shape (n_classes,), default=None
            All the classes of the problem, required on the first call.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return _ClassifierHead.partial_fit(self, X, y, sample_weight, classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
