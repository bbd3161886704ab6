r"""Autoregressive transformer over the features (chapter 48 of the notes).

A row of ``d`` discrete features is read as a sequence of ``d`` tokens in
``ordering_``; a decoder-only transformer with causal self-attention predicts each
token from the ones before it, and sampling runs with a key-value cache. The shared
fitting, scoring and sampling machinery is :class:`mlnotes.density._base.
AutoregressiveDensity`; this file holds the network and the cached sampler, plus the
small pieces shared with :class:`mlnotes.density.RNNDensity` (orderings, the start
token, the sequence permutation, early stopping on tiny data).
"""

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from mlnotes.base import TorchEstimator
from mlnotes.density._base import AutoregressiveDensity, _check_ordering, _draw_categorical

__all__ = ["TransformerAR"]

# Training hyperparameters of TorchEstimator that the sequence models expose.
_SEQUENCE_TRAINING = (
    "batch_size", "learning_rate", "learning_rate_init", "max_iter", "shuffle",
    "random_state", "tol", "verbose", "warm_start", "early_stopping",
    "validation_fraction", "beta_1", "beta_2", "epsilon", "n_iter_no_change",
    "weight_decay", "gradient_clipping", "device",
)
_SEQUENCE_CONSTRAINTS = {
    **{k: TorchEstimator._training_constraints[k] for k in _SEQUENCE_TRAINING},
    "learning_rate": [StrOptions({"constant", "cosine"})],
    **AutoregressiveDensity._levels_constraints,
    "ordering": [StrOptions({"natural", "random"}), "array-like"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


class _SequenceAR(AutoregressiveDensity):
    """What the two sequence models share: orderings, the token permutation and the
    start token."""

    def _make_ordering(self, n_features):
        ordering = self.ordering
        if isinstance(ordering, str):
            if ordering == "natural":
                return np.arange(n_features)
            return check_random_state(self.random_state).permutation(n_features)
        return _check_ordering(ordering, n_features)

    def _sequence_spec(self):
        return dict(n_features=self.n_features_in_, n_levels=self.n_levels_,
                    ordering=self.ordering_.tolist())

    def _draw_step(self, logits, rng):
        """Level indices drawn from ``(n, K)`` logits, as the base sampler draws."""
        probs = torch.exp(torch.log_softmax(logits, dim=-1)).to("cpu", torch.float64)
        k = _draw_categorical(probs.numpy(), rng.random(logits.shape[0]))
        return torch.as_tensor(k, device=logits.device)


class _SequenceModule(nn.Module):
    """Feature order <-> sequence order, and the right shift by a start token."""

    def __init__(self, n_features, n_levels, ordering):
        super().__init__()
        order = torch.as_tensor(np.asarray(ordering, dtype=np.int64))
        self.register_buffer("order", order, persistent=False)
        self.register_buffer("rank", torch.argsort(order), persistent=False)
        self.n_features, self.n_levels = n_features, n_levels
        self.start = n_levels  # token id of the start symbol

    def shifted_tokens(self, x):
        """Input tokens in sequence order: the start token, then x_{sigma(1..d-1)}."""
        seq = x.index_select(1, self.order)
        start = torch.full((x.shape[0], 1), self.start, dtype=x.dtype, device=x.device)
        return torch.cat([start, seq[:, :-1]], dim=1)

    def to_features(self, logits):
        """``(n, d, K)`` logits in sequence order -> feature order."""
        return logits.index_select(1, self.rank)


class _CausalSelfAttention(nn.Module):
    """Multi-head self-attention with a causal mask and an optional key-value cache."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.n_heads = n_heads

    def _heads(self, t, n, length):
        return t.view(n, length, self.n_heads, -1).transpose(1, 2)

    def forward(self, h, cache=None, pos=0):
        n, length, width = h.shape
        q, k, v = (self._heads(t, n, length) for t in self.qkv(h).split(width, dim=2))
        if cache is None:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            # one new position: store its key and value, attend over all stored ones
            keys, values = cache
            keys[:, :, pos:pos + length] = k
            values[:, :, pos:pos + length] = v
            out = F.scaled_dot_product_attention(
                q, keys[:, :, :pos + length], values[:, :, :pos + length])
        return self.proj(out.transpose(1, 2).reshape(n, length, width))


class _Block(nn.Module):
    """Pre-LayerNorm transformer block: attention and an MLP, each residual."""

    def __init__(self, d_model, n_heads, dim_feedforward, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = _CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, dim_feedforward), nn.GELU(),
                                 nn.Linear(dim_feedforward, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, h, cache=None, pos=0):
        h = h + self.drop(self.attn(self.ln1(h), cache, pos))
        return h + self.drop(self.mlp(self.ln2(h)))


class _TransformerModule(_SequenceModule):
    """Decoder-only transformer: level tokens -> ``(n, d, K)`` conditional logits."""

    #: every dense layer runs at each of the ``n_features`` positions (read by the
    #: torch thread choice's work estimate, ``mlnotes.base._forward_work``)
    dense_per_position = True

    def __init__(self, n_features, n_levels, ordering, d_model, n_heads, n_layers,
                 dim_feedforward, dropout):
        super().__init__(n_features, n_levels, ordering)
        self.token = nn.Embedding(n_levels + 1, d_model)
        self.position = nn.Embedding(n_features, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            _Block(d_model, n_heads, dim_feedforward, dropout) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_levels)
        self.n_heads = n_heads

    def sequence_logits(self, tokens, cache=None, pos=0):
        """Logits at positions ``pos..pos+L-1`` of the ``(n, L)`` input ``tokens``."""
        positions = torch.arange(pos, pos + tokens.shape[1], device=tokens.device)
        h = self.drop(self.token(tokens) + self.position(positions))
        for i, block in enumerate(self.blocks):
            h = block(h, None if cache is None else cache[i], pos)
        return self.head(self.ln_f(h))

    def forward(self, x):
        return self.to_features(self.sequence_logits(self.shifted_tokens(x)))

    def new_cache(self, n_samples):
        """Empty key/value tensors ``(n, heads, d, d_model / heads)`` for each layer."""
        w = self.token.weight
        head_dim = w.shape[1] // self.n_heads
        shape = (n_samples, self.n_heads, self.n_features, head_dim)
        return [(w.new_zeros(shape), w.new_zeros(shape)) for _ in self.blocks]


class TransformerAR(_SequenceAR):
    r"""Autoregressive transformer density model with a key-value cache for sampling.

    The features of a row, read in ``ordering_``, are a sequence of tokens (their
    level indices); a decoder-only transformer with causal self-attention gives the
    categorical conditional of each feature given the features before it.

    Parameters
    ----------
    d_model : int, default=32
        Width of the token embeddings and of the residual stream.
    n_heads : int, default=4
        Attention heads per layer; must divide ``d_model``.
    n_layers : int, default=2
        Transformer blocks.
    dim_feedforward : int, default=64
        Hidden width of the MLP of each block.
    dropout : float, default=0.1
        Dropout rate on the embeddings and on the output of each residual branch
        (attention and MLP), training only. The attention weights themselves are not
        dropped (a mask of ``n * heads * d * d`` draws per layer would cost more than
        the attention).
    ordering : {"natural", "random"} or array-like of shape (n_features,), \
            default="natural"
        Order in which the features are generated: the natural order, a random
        permutation drawn from ``random_state``, or a given permutation.
    use_cache : bool, default=True
        Sample with the key-value cache (one new token per step); False recomputes
        the whole prefix at every step. Both give the same samples.
    n_levels : "auto" or int, default="auto"
        Levels of the features. With ``"auto"``, if every training value is an integer
        in [0, 255] (any dtype) the levels are ``0..max`` of the training data;
        otherwise each feature is quantised into 256 equal-width bins between its
        training minimum and maximum. An int ``K`` uses the levels ``0..K-1`` for
        integer data (``K`` must exceed the training maximum) and ``K`` bins otherwise.
    batch_size : int or "auto", default=64
        Mini-batch size (clipped to the number of training rows); ``"auto"`` is
        ``min(200, n_samples)``.
    learning_rate : {"constant", "cosine"}, default="constant"
        Schedule of Adam's step size: constant, or cosine annealing to 0 over
        ``max_iter`` epochs.
    learning_rate_init : float, default=0.004
        Adam's step size.
    max_iter : int, default=100
        Maximum number of epochs.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Initialisation, dropout, the early-stopping split, the shuffles and a
        ``"random"`` ordering.
    tol : float, default=1e-4
        Improvement (nats) below which an epoch counts as "no change".
    verbose : bool or int, default=False
        Print the loss at each epoch.
    warm_start : bool, default=False
        Continue from the previous fit.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, keep the weights with the best
        held-out log-likelihood and stop after ``n_iter_no_change`` epochs without
        improvement. Skipped when fewer than 2 rows would be held out.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's denominator offset.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    weight_decay : float, default=0.1
        Decoupled (AdamW) weight decay of the matrices (embeddings, projections).
    gradient_clipping : float or None, default=1.0
        Rescale each mini-batch gradient to at most this global L2 norm.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (float64, evaluation mode).
    ordering_ : ndarray of shape (n_features_in_,)
        The order in which the features are generated.
    n_levels_ : int
        Number of levels (or bins) per feature.
    levels_ : ndarray of shape (n_levels_,) or None
        The integer levels ``0..n_levels_-1`` for integer data; None for quantised
        data.
    bin_edges_ : ndarray of shape (n_features_in_, n_levels_ + 1) or None
        The bin edges of each feature for quantised data; None for integer data.
    n_iter_ : int
        Epochs run.
    loss_ : float
        Mean training negative log-likelihood (nats) at the last epoch.
    loss_curve_ : list of float
        Mean training negative log-likelihood at each epoch.
    validation_scores_ : list of float or None
        Held-out mean log-likelihood at each epoch (early stopping only).
    best_validation_score_ : float or None
        Best held-out mean log-likelihood (early stopping only).
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column names.

    See Also
    --------
    RNNDensity : The same factorisation with a recurrent network.

    Notes
    -----
    *Tokenisation.* Each feature's level index :math:`x_j \in \{0, \dots, K-1\}` is a
    token; one extra token :math:`K` is the start symbol. With the ordering
    :math:`\sigma`, the input sequence is the output sequence shifted right by the
    start token, :math:`(s, x_{\sigma(1)}, \dots, x_{\sigma(d-1)})`, and the embedding
    of position :math:`i` is :math:`h^0_i = E[t_i] + P[i]` (token embedding plus a
    learned positional embedding of the position in ``ordering_``).

    *Causal self-attention.* With :math:`Q = HW_Q`, :math:`K = HW_K`, :math:`V = HW_V`
    split into heads of width :math:`d_h`,

    .. math::

        \operatorname{Attn}(Q, K, V)_i = \sum_{l \le i}
        \frac{\exp(q_i^\top k_l / \sqrt{d_h})}
             {\sum_{l' \le i} \exp(q_i^\top k_{l'} / \sqrt{d_h})} \, v_l ,

    the causal mask :math:`l \le i` (scores :math:`-\infty` above the diagonal).
    Each block is pre-LayerNorm and residual,
    :math:`h \leftarrow h + \operatorname{Attn}(\operatorname{LN}(h))`,
    :math:`h \leftarrow h + \operatorname{MLP}(\operatorname{LN}(h))`, and the output
    at position :math:`i` gives the logits of :math:`x_{\sigma(i)}`,
    :math:`p(x_{\sigma(i)} \mid x_{\sigma(<i)}) = \operatorname{softmax}(W_o
    \operatorname{LN}(h^L_i))`. Position :math:`i` sees the inputs
    :math:`t_1, \dots, t_i`, which are the start token and
    :math:`x_{\sigma(1)}, \dots, x_{\sigma(i-1)}`: every conditional depends only on
    the features before it, so the product of the conditionals is a normalised
    distribution (chapter 48), and one forward pass gives all :math:`d` of them for
    training by maximum likelihood,

    .. math::

        \log p(x) = \sum_{i=1}^{d} \log p(x_{\sigma(i)} \mid x_{\sigma(1)}, \dots,
        x_{\sigma(i-1)}).

    *Key-value cache.* Sampling is sequential: feature :math:`\sigma(i)` is drawn
    after the previous ones. Recomputing the network on the prefix at every step
    costs :math:`O(i)` token computations (and :math:`O(i^2)` attention scores) at
    step :math:`i`, :math:`O(d^2)` (and :math:`O(d^3)`) for a row. Because of the
    causal mask the keys and values of the earlier positions do not change when a
    token is appended, so each layer stores them: a step computes the new token's
    query, key and value only and attends over the cache, :math:`O(1)` token
    computations and :math:`O(i)` scores, :math:`O(d)` (and :math:`O(d^2)`) for a row.
    The conditionals are the same up to floating-point rounding (float64); the
    levels are inverse-CDF draws from the same uniforms, so ``use_cache=True`` and
    ``False`` give the same samples for a ``random_state``.

    References
    ----------
    .. [1] A. Vaswani et al., "Attention is all you need", NeurIPS 2017.
    .. [2] A. Radford et al., "Language models are unsupervised multitask learners"
       (GPT-2), OpenAI, 2019.
    .. [3] M. Chen et al., "Generative pretraining from pixels", ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.density import TransformerAR
    >>> rng = np.random.RandomState(0)
    >>> x0 = rng.randint(0, 2, 200)
    >>> X = np.column_stack([x0, x0, 1 - x0])
    >>> est = TransformerAR(max_iter=20, random_state=0).fit(X)
    >>> est.sample(3, random_state=0).shape
    (3, 3)
    >>> bool(est.score([[0, 0, 1]]) > est.score([[0, 1, 1]]))
    True
    """

    _parameter_constraints = {
        **_SEQUENCE_CONSTRAINTS,
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dim_feedforward": [Interval(Integral, 1, None, closed="left")],
        "use_cache": ["boolean"],
    }

    # the default batch size is an int: clip it silently on small data
    _warn_batch_clipping = False

    def __init__(
        self,
        d_model=32,
        n_heads=4,
        n_layers=2,
        dim_feedforward=64,
        dropout=0.1,
        *,
        ordering="natural",
        use_cache=True,
        n_levels="auto",
        batch_size=64,
        learning_rate="constant",
        learning_rate_init=0.004,
        max_iter=100,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        early_stopping=True,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        weight_decay=0.1,
        gradient_clipping=1.0,
        device="cpu",
    ):
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.ordering = ordering
        self.use_cache = use_cache
        self.n_levels = n_levels
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.weight_decay = weight_decay
        self.gradient_clipping = gradient_clipping
        self.device = device

    def _epoch_flops(self, n_samples, n_features):
        # causal self-attention over the whole sequence (n_features squared per layer)
        # plus the per-position projections, forward and backward
        d, D, F = n_features, self.d_model, self.dim_feedforward
        per_row = self.n_layers * (4 * d * d * D + 2 * d * (4 * D * D + 2 * D * F))
        per_row += 2 * d * D * self.n_levels_
        return float(3 * n_samples * per_row)

    def _cheaper_settings(self):
        return "a smaller d_model / n_layers"

    def _module_spec(self, X, Y):
        if self.d_model % self.n_heads:
            raise ValueError(
                f"n_heads={self.n_heads} must divide d_model={self.d_model}.")
        return dict(**self._sequence_spec(), d_model=int(self.d_model),
                    n_heads=int(self.n_heads), n_layers=int(self.n_layers),
                    dim_feedforward=int(self.dim_feedforward),
                    dropout=float(self.dropout))

    def _build_module(self, **spec):
        return _TransformerModule(**spec)

    def _sample_indices(self, module, n_samples, rng):
        """Ancestral sampling, with the key-value cache or by prefix recomputation."""
        n_features = self.n_features_in_
        device = next(module.parameters()).device
        x = torch.zeros((n_samples, n_features), dtype=torch.long, device=device)
        tokens = torch.full((n_samples, n_features), module.start, dtype=torch.long,
                            device=device)  # sequence-order inputs; [:, 0] = start
        cache = module.new_cache(n_samples) if self.use_cache else None
        for pos, j in enumerate(self.ordering_):
            if cache is not None:
                logits = module.sequence_logits(tokens[:, pos:pos + 1], cache, pos)
            else:
                logits = module.sequence_logits(tokens[:, :pos + 1])
            k = self._draw_step(logits[:, -1], rng)
            x[:, j] = k
            if pos + 1 < n_features:
                tokens[:, pos + 1] = k
        return x.to("cpu").numpy()
