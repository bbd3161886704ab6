r"""MADE: masked autoencoder for distribution estimation (chapter 48 of the notes).

An autoencoder whose weight matrices are multiplied by binary masks so that output
:math:`j` only sees the inputs generated before :math:`j` in an ordering: one forward
pass gives every conditional of the autoregressive factorisation. The training loop,
levels, likelihoods and generic sampling are :class:`AutoregressiveDensity`'s; this
file holds the masks, the masked network and the ensemble over masks.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from mlnotes.base import TorchEstimator

from ._base import AutoregressiveDensity, _check_ordering, _draw_categorical

__all__ = ["MADE"]

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "logistic": torch.sigmoid}


# ----------------------------------------------------------------------------- masks


def _input_degrees(ordering):
    """Degree of each input: its rank (1..d) in the ordering."""
    degrees = np.empty(len(ordering), dtype=np.int64)
    degrees[np.asarray(ordering)] = np.arange(1, len(ordering) + 1)
    return degrees


def _hidden_degrees(hidden_layer_sizes, n_features, connectivity, rng):
    r"""Degrees of the hidden units of every layer (Germain et al., section 4).

    ``"random"``: unit :math:`k` of layer :math:`l` draws
    :math:`m^l(k) \sim U\{\min_{k'} m^{l-1}(k'), \dots, d-1\}`; ``"deterministic"``:
    :math:`m^l(k) = 1 + (k \bmod (d-1))`, which spreads the units evenly over the
    degrees. With one feature (no conditioning at all) every degree is 1.
    """
    top = max(n_features - 1, 1)
    degrees, low = [], 1
    for size in hidden_layer_sizes:
        if connectivity == "random":
            deg = rng.randint(low, top + 1, size=size)
        else:
            deg = 1 + np.arange(size) % top
        degrees.append(deg.astype(np.int64))
        low = int(deg.min()) if size else low
    return degrees


def _made_masks(input_degrees, hidden_degrees):
    """The masks of one network: ``[M^1, ..., M^L, M^V]`` as boolean arrays.

    ``M^l[k, k'] = m^l(k) >= m^{l-1}(k')`` between consecutive layers (input degrees
    for :math:`l = 1`) and ``M^V[j, k] = m^0(j) > m^L(k)`` for the output layer, so
    output :math:`j` depends only on inputs of smaller degree: the features before
    :math:`j` in the ordering.
    """
    masks, prev = [], input_degrees
    for deg in hidden_degrees:
        masks.append(deg[:, None] >= prev[None, :])
        prev = deg
    masks.append(input_degrees[:, None] > prev[None, :])
    return masks


class _MADEModule(nn.Module):
    """Masked network of MADE, with one set of masks per ensemble member.

    ``forward(x, mask=m)`` maps ``(n, d)`` level indices to ``(n, d)`` Bernoulli
    logits (``n_levels == 2``) or ``(n, d, K)`` categorical logits, under mask set
    ``m``. Binary inputs enter as their value. With ``K != 2`` levels each feature is
    one-hot encoded: the first layer is then a lookup of one row of weights per
    feature (``(d K, H)`` table, masked per feature before the sum) and the output
    layer a batched product with one ``(H, K)`` block per feature, so that no
    ``d K``-wide masked matrix is formed at each step.
    """

    def __init__(self, n_features, n_levels, hidden_layer_sizes, orderings,
                 hidden_degrees, activation, dropout):
        super().__init__()
        d, K = int(n_features), int(n_levels)
        self.n_features, self.n_levels = d, K
        self.binary = K == 2
        self.activation = activation
        self.dropout = float(dropout)
        self.n_masks = len(orderings)
        sizes = [int(s) for s in hidden_layer_sizes]
        per_mask = [_made_masks(_input_degrees(o), [np.asarray(h, dtype=np.int64)
                                                    for h in hd])
                    for o, hd in zip(orderings, hidden_degrees)]
        self.n_layers = len(sizes) + 1
        for layer in range(self.n_layers):
            stacked = np.stack([m[layer] for m in per_mask]).astype(np.float32)
            self.register_buffer(f"mask{layer}", torch.from_numpy(stacked))
        self.register_buffer("offsets", torch.arange(d) * K, persistent=False)
        f64 = dict(dtype=torch.float64)
        self.hidden = nn.ModuleList(
            nn.Linear(a, b, **f64) for a, b in zip(sizes[:-1], sizes[1:]))
        if not sizes:  # fully visible: one masked layer from inputs to outputs
            width = d if self.binary else d * K
            self.direct = nn.Linear(width, width, **f64)
        elif self.binary:
            self.first = nn.Linear(d, sizes[0], **f64)
            self.last = nn.Linear(sizes[-1], d, **f64)
        else:
            # uniform(+-1/sqrt(fan-in)) as torch's Linear, with the fan-in of the
            # layer as it acts: d active one-hot inputs, H hidden units
            b_in, b_out = 1.0 / math.sqrt(d), 1.0 / math.sqrt(sizes[-1])
            self.in_weight = nn.Parameter(
                torch.empty(d * K, sizes[0], **f64).uniform_(-b_in, b_in))
            self.in_bias = nn.Parameter(
                torch.empty(sizes[0], **f64).uniform_(-b_in, b_in))
            self.out_weight = nn.Parameter(
                torch.empty(d, sizes[-1], K, **f64).uniform_(-b_out, b_out))
            self.out_bias = nn.Parameter(
                torch.empty(d * K, **f64).uniform_(-b_out, b_out))

    def _mask(self, layer, mask):
        return getattr(self, f"mask{layer}")[mask]

    def _hidden_activation(self, h):
        h = _ACTIVATIONS[self.activation](h)
        if self.dropout > 0:
            h = F.dropout(h, self.dropout, self.training)
        return h

    def _direct(self, x, mask):
        m = self._mask(0, mask)
        lin = self.direct
        if self.binary:
            return F.linear(x.to(lin.weight.dtype), lin.weight * m, lin.bias)
        K = self.n_levels
        m = m.repeat_interleave(K, dim=0).repeat_interleave(K, dim=1)
        onehot = F.one_hot(x, K).flatten(1).to(lin.weight.dtype)
        return F.linear(onehot, lin.weight * m, lin.bias)

    def forward(self, x, mask=0):
        if self.n_layers == 1:
            out = self._direct(x, mask)
        else:
            m = self._mask(0, mask)
            if self.binary:
                h = F.linear(x.to(self.first.weight.dtype), self.first.weight * m,
                             self.first.bias)
            else:  # one weight row per feature, masked per feature, summed
                rows = F.embedding(x + self.offsets.to(x.device), self.in_weight)
                h = (rows * m.t()).sum(dim=1) + self.in_bias
            for layer, lin in enumerate(self.hidden, start=1):
                h = F.linear(self._hidden_activation(h), lin.weight * self._mask(
                    layer, mask), lin.bias)
            h = self._hidden_activation(h)
            m = self._mask(self.n_layers - 1, mask)
            if self.binary:
                return F.linear(h, self.last.weight * m, self.last.bias)
            # (d, n, H) @ (d, H, K): the weight's layout makes its gradient contiguous
            out = torch.einsum("ndh,dhk->ndk", h[:, None, :] * m, self.out_weight)
            return out + self.out_bias.view(self.n_features, self.n_levels)
        if self.binary:
            return out
        return out.view(x.shape[0], self.n_features, self.n_levels)

    def log_probs(self, x, mask=0):
        """``(n, d, K)`` log-probabilities of every level under mask set ``mask``."""
        out = self(x, mask)
        if self.binary:
            return torch.stack([F.logsigmoid(-out), F.logsigmoid(out)], dim=-1)
        return torch.log_softmax(out, dim=-1)

    def row_log_likelihood(self, x, mask=0):
        """``(n,)`` log-probability of each row under mask set ``mask``."""
        out = self(x, mask)
        if self.binary:
            return -F.binary_cross_entropy_with_logits(
                out, x.to(out.dtype), reduction="none").sum(dim=1)
        logp = torch.log_softmax(out, dim=-1)
        return logp.gather(2, x.unsqueeze(-1)).squeeze(-1).sum(dim=1)

    def ensemble_log_likelihood(self, x):
        """``(n,)`` log of the mean probability over the mask sets (log-mean-exp)."""
        lls = torch.stack([self.row_log_likelihood(x, m) for m in range(self.n_masks)],
                          dim=1)
        return torch.logsumexp(lls, dim=1) - math.log(self.n_masks)


# ------------------------------------------------------------------------- estimator


class MADE(AutoregressiveDensity):
    r"""Masked autoencoder for distribution estimation (MADE) of discrete data.

    A feed-forward network whose weights are masked so that the output for feature
    :math:`j` depends only on the features before :math:`j` in an ordering: a single
    forward pass gives all the conditionals of the autoregressive factorisation,
    hence an exactly normalised probability mass. Binary data (two levels) get one
    Bernoulli logit per feature; data with more levels get a categorical (softmax
    over the levels) per feature. With ``n_masks > 1`` the model is an ensemble of
    networks sharing their weights but not their masks (other orderings and/or
    connectivities), trained by drawing one mask set per mini-batch and averaged in
    probability space.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(500,)
        Units of the masked hidden layers. An empty tuple gives a fully visible
        logistic (or softmax) autoregressive model.
    n_masks : int, default=1
        Number of mask sets. ``1`` is a single MADE; more is an order- and/or
        connectivity-agnostic ensemble (see Notes).
    ordering : {"natural", "random"} or array-like of shape (n_features,), \
            default="natural"
        Order in which the features are generated. ``"natural"``: feature 0 first;
        ``"random"``: each mask set draws its own random permutation (from
        ``random_state``); an array: that permutation (``ordering[i]`` is the
        feature generated at step ``i``), shared by all mask sets.
    connectivity : {"random", "deterministic"}, default="random"
        Degrees of the hidden units. ``"random"`` draws them per mask set as in
        Germain et al.; ``"deterministic"`` cycles through ``1..d-1`` (every mask set
        then has the same connectivity, and ensembles differ only by ordering).
    n_levels : "auto" or int, default="auto"
        Levels of the features. With ``"auto"``, if every training value is an
        integer in [0, 255] (any dtype) the levels are ``0..max`` of the training
        data; otherwise each feature is quantised into 256 equal-width bins between
        its training minimum and maximum. An int ``K`` uses the levels ``0..K-1``
        for integer data (``K`` must exceed the training maximum) and ``K`` bins
        otherwise. Exactly two levels give Bernoulli outputs, any other number
        categorical outputs.
    activation : {"relu", "tanh", "logistic"}, default="relu"
        Activation of the hidden units.
    dropout : float, default=0.5
        Dropout probability of the hidden units during training.
    solver : {"adam", "sgd"}, default="adam"
        Optimiser.
    alpha : float, default=0.0
        L2 penalty on the weight matrices, divided by the batch size (as in
        scikit-learn's MLP).
    weight_decay : float, default=0.0
        Decoupled weight decay of the weight matrices (AdamW).
    batch_size : int or "auto", default=100
        Mini-batch size (clipped to the number of training rows); ``"auto"`` is
        ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, \
            default="constant"
        Step-size schedule (``"invscaling"`` and ``"adaptive"`` act on SGD only).
    learning_rate_init : float, default=0.003
        Initial step size, larger than the MLP's 0.001 (why: :ref:`density-made`
        in the user guide).
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Masks (random orderings, hidden degrees), initial weights, early-stopping
        split, batch order, dropout masks and the mask set of each batch; the
        caller's global torch RNG is left unchanged.
    tol : float, default=1e-4
        Improvement (nats per row) below which an epoch counts as no change.
    verbose : bool, default=False
        Print the loss after every epoch.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows and stop when their
        log-likelihood (of the ensemble, for ``n_masks > 1``) stops improving; the
        best weights are kept. When the held-out part would have fewer than two rows
        (tiny data), all rows are used for training instead and the training loss
        decides when to stop.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=20
        Epochs without improvement before stopping.
    gradient_clipping : float, default=None
        Maximum global L2 norm of a mini-batch gradient.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    ordering_ : ndarray of shape (n_features_in_,)
        Order of the first mask set: ``ordering_[i]`` is the feature generated at
        step ``i``; :meth:`conditional_log_likelihood` and single-mask sampling
        follow it.
    orderings_ : ndarray of shape (n_masks, n_features_in_)
        Order of every mask set.
    n_levels_ : int
        Number of levels (or bins) per feature.
    levels_ : ndarray of shape (n_levels_,) or None
        The integer levels ``0..n_levels_-1`` for integer data; None for quantised
        data.
    bin_edges_ : ndarray of shape (n_features_in_, n_levels_ + 1) or None
        The bin edges of each feature for quantised data; None for integer data.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.
    module_ : torch.nn.Module
        The trained masked network (float64, evaluation mode); its buffers
        ``mask0, mask1, ...`` hold the masks of every mask set.
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training rows seen.
    loss_ : float
        Mean negative log-likelihood of the training rows (nats, under the mask set
        of each batch, with the L2 term) at the last epoch.
    loss_curve_ : list of float
        ``loss_`` at every epoch.
    best_loss_ : float or None
        Smallest ``loss_`` (None with early stopping).
    validation_scores_ : list of float or None
        Mean held-out log-likelihood at every epoch (early stopping only).
    best_validation_score_ : float or None
        Best held-out log-likelihood (early stopping only).

    See Also
    --------
    Histogram : Independent categorical model of each feature.

    Notes
    -----
    Chapter 48 of the notes (autoregressive models). The mass of a row factorises
    along an ordering :math:`\sigma`,

    .. math::

        \log p(x) = \sum_{i=1}^{d} \log p\big(x_{\sigma(i)} \mid x_{\sigma(1)},
        \dots, x_{\sigma(i-1)}\big),

    and MADE computes all :math:`d` conditionals with one masked network. Every
    input gets the degree :math:`m^0(j)` = its rank in :math:`\sigma` (1 to
    :math:`d`), every hidden unit :math:`k` of layer :math:`l` a degree
    :math:`m^l(k) \in \{1, \dots, d-1\}`: the largest rank it may depend on. The
    masks

    .. math::

        M^l_{k k'} = \mathbb 1\big[m^l(k) \ge m^{l-1}(k')\big], \qquad
        M^V_{j k} = \mathbb 1\big[m^0(j) > m^L(k)\big],

    multiply the weights, :math:`h^l = g\big(b^l + (W^l \odot M^l)\,h^{l-1}\big)`
    with :math:`h^0 = x`, and the outputs are
    :math:`a = c + (V \odot M^V) h^L`. Output :math:`j` then depends only on inputs
    of degree below :math:`m^0(j)` (the strict inequality removes :math:`x_j`
    itself). Binary data: :math:`p(x_j = 1 \mid x_{<j}) = \operatorname{sigmoid}(a_j)`
    and the loss is the binary cross-entropy; more levels: each feature is one-hot
    encoded on input and gets :math:`K` outputs with a softmax. Training minimises
    the mean negative log-likelihood (nats per row) with Adam, dropout on the hidden
    units and early stopping.

    With ``n_masks`` :math:`= M > 1`, :math:`M` mask sets (orderings and/or hidden
    degrees) share one set of weights; each mini-batch is trained under a mask set
    drawn uniformly (order-/connectivity-agnostic training), and the model is the
    mixture

    .. math::

        p(x) = \frac{1}{M} \sum_{m=1}^{M} p_m(x), \qquad
        \log p(x) = \operatorname{logsumexp}_m \log p_m(x) - \log M,

    which is normalised because every :math:`p_m` is. Order-agnostic training is
    itself a regulariser: an ensemble wants less dropout and more epochs than a
    single network (settings measured on binarised digits: :ref:`density-made` in
    the user guide). For an ensemble,
    :meth:`score_samples` is this mixture, while :meth:`conditional_log_likelihood`
    returns the conditionals of the first mask set (the mixture has no per-feature
    factorisation along one ordering), so its rows sum to :math:`\log p_1(x)`, not
    to :meth:`score_samples`; :meth:`sample` draws a mask set uniformly for each row
    and then samples ancestrally under it, which is exactly sampling the mixture.

    References
    ----------
    .. [1] M. Germain, K. Gregor, I. Murray and H. Larochelle, "MADE: Masked
       Autoencoder for Distribution Estimation", ICML 2015.
    .. [2] B. Uria, I. Murray and H. Larochelle, "A Deep and Tractable Density
       Estimator", ICML 2014 (order-agnostic training).

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.density import MADE
    >>> rng = np.random.RandomState(0)
    >>> x0 = rng.randint(0, 2, 300)
    >>> X = np.column_stack([x0, x0, rng.randint(0, 2, 300)])
    >>> est = MADE(hidden_layer_sizes=(16,), dropout=0.0, max_iter=50,
    ...            random_state=0).fit(X)
    >>> est.ordering_
    array([0, 1, 2])
    >>> est.conditional_log_likelihood(X[:2]).shape
    (2, 3)
    >>> est.sample(4, random_state=0).shape
    (4, 3)
    """

    _parameter_constraints = {
        **{k: TorchEstimator._training_constraints[k] for k in (
            "alpha", "weight_decay", "batch_size", "learning_rate",
            "learning_rate_init", "power_t", "max_iter", "shuffle", "random_state",
            "tol", "verbose", "momentum", "nesterovs_momentum", "early_stopping",
            "validation_fraction", "beta_1", "beta_2", "epsilon", "n_iter_no_change",
            "gradient_clipping", "device")},
        **AutoregressiveDensity._levels_constraints,
        "hidden_layer_sizes": ["array-like"],
        "n_masks": [Interval(Integral, 1, None, closed="left")],
        "ordering": [StrOptions({"natural", "random"}), "array-like"],
        "connectivity": [StrOptions({"random", "deterministic"})],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "solver": [StrOptions({"adam", "sgd"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(500,),
        *,
        n_masks=1,
        ordering="natural",
        connectivity="random",
        n_levels="auto",
        activation="relu",
        dropout=0.5,
        solver="adam",
        alpha=0.0,
        weight_decay=0.0,
        batch_size=100,
        learning_rate="constant",
        learning_rate_init=0.003,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=True,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=20,
        gradient_clipping=None,
        device="cpu",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_masks = n_masks
        self.ordering = ordering
        self.connectivity = connectivity
        self.n_levels = n_levels
        self.activation = activation
        self.dropout = dropout
        self.solver = solver
        self.alpha = alpha
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.gradient_clipping = gradient_clipping
        self.device = device

    _warn_batch_clipping = False

    # -- masks ----------------------------------------------------------------------

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                   for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive ints; got "
                f"{self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _make_ordering(self, n_features):
        """Draw every mask set's ordering and hidden degrees; return the first order."""
        sizes = self._hidden_sizes()
        rng = check_random_state(self.random_state)
        if isinstance(self.ordering, str):
            base = np.arange(n_features)
        else:
            base = _check_ordering(self.ordering, n_features)
        orderings, degrees = [], []
        for _ in range(self.n_masks):
            random = isinstance(self.ordering, str) and self.ordering == "random"
            order = rng.permutation(n_features) if random else base
            orderings.append(np.asarray(order, dtype=np.intp))
            degrees.append(_hidden_degrees(sizes, n_features, self.connectivity, rng))
        self.orderings_ = np.stack(orderings)
        self._mask_degrees = [[d.tolist() for d in hd] for hd in degrees]
        return self.orderings_[0]

    # -- TorchEstimator / AutoregressiveDensity hooks --------------------------------

    def _epoch_flops(self, n_samples, n_features):
        # every masked weight is multiplied by its mask, used forward and backward for
        # each row, and updated by the optimiser: the one-hot input and the output
        # layers hold n_features * n_levels * width weights each
        K = self.n_levels_
        width = n_features if K == 2 else n_features * K
        sizes = self._hidden_sizes()
        if not sizes:
            n_weights = width * width
        else:
            n_weights = width * sizes[0] + sum(
                a * b for a, b in zip(sizes[:-1], sizes[1:])) + sizes[-1] * width
        return float((6 * n_samples + 12) * n_weights)

    def _cheaper_settings(self):
        return "smaller hidden_layer_sizes (or fewer n_levels)"

    def _module_spec(self, X, Y):
        return dict(
            n_features=self.n_features_in_, n_levels=self.n_levels_,
            hidden_layer_sizes=self._hidden_sizes(),
            orderings=self.orderings_.tolist(), hidden_degrees=self._mask_degrees,
            activation=self.activation, dropout=float(self.dropout),
        )

    def _build_module(self, **spec):
        return _MADEModule(**spec)

    def _fit_torch(self, X, Y, sample_weight=None, **kwargs):
        try:
            return super()._fit_torch(X, Y, sample_weight, **kwargs)
        finally:
            self.__dict__.pop("_mask_degrees", None)

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        x = X.long()
        mask = 0
        if module.n_masks > 1:
            mask = int(torch.randint(module.n_masks, (1,), generator=self._generator,
                                     device=self._generator.device))
        ll = module.row_log_likelihood(x, mask)
        if sample_weight is None:
            return -ll.sum() / weight_sum
        return -(sample_weight * ll).sum() / weight_sum

    def _validation_score(self, module, X, Y, sample_weight):
        ll = module.ensemble_log_likelihood(X.long())
        if sample_weight is None:
            return float(ll.mean())
        return float((sample_weight * ll).sum() / sample_weight.sum())

    def _conditional_log_probs(self, module, x):
        return module.log_probs(x, 0)

    def _sample_indices(self, module, n_samples, rng):
        """Ancestral sampling; an ensemble first draws a mask set for every row."""
        if module.n_masks == 1:
            return super()._sample_indices(module, n_samples, rng)
        member = np.minimum((rng.random(n_samples) * module.n_masks).astype(np.intp),
                            module.n_masks - 1)
        device = next(module.parameters()).device
        out = np.zeros((n_samples, self.n_features_in_), dtype=np.intp)
        for m in range(module.n_masks):
            rows = np.flatnonzero(member == m)
            if rows.size == 0:
                continue
            x = torch.zeros((rows.size, self.n_features_in_), dtype=torch.long,
                            device=device)
            for j in self.orderings_[m]:
                probs = torch.exp(module.log_probs(x, m)[:, j]).to(
                    "cpu", torch.float64).numpy()
                k = _draw_categorical(probs, rng.random(rows.size))
                x[:, j] = torch.as_tensor(k, device=device)
            out[rows] = x.to("cpu").numpy()
        return out

    # -- public API -------------------------------------------------------------------

    def score_samples(self, X):
        """Log probability mass of each row, in nats.

        For ``n_masks > 1`` this is the ensemble's mass, the log of the mean of the
        mask sets' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_mass : ndarray of shape (n_samples,)
            ``log p(x)`` of each row (float64); ``-inf`` for a row with a value that
            is not one of the levels.
        """
        check_is_fitted(self, "module_")
        if self.module_.n_masks == 1:
            return super().score_samples(X)
        idx, valid = self._validated_index(X)
        out = self._predict_torch(
            idx.astype(np.float64),
            forward=lambda module, x: module.ensemble_log_likelihood(x.long()))
        out[~valid.all(axis=1)] = -np.inf
        return out

    def conditional_log_likelihood(self, X):
        """Log-probability of each feature given the features before it.

        For ``n_masks > 1``: the conditionals of the first mask set (ordering
        ``ordering_``), whose rows sum to that member's log-mass, not to the
        ensemble's :meth:`score_samples`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_cond : ndarray of shape (n_samples, n_features)
            ``log p(x_j | x_{features before j in ordering_})`` for every feature
            ``j`` (float64, nats); ``-inf`` where a value is not one of the levels.
        """
        return super().conditional_log_likelihood(X)
