r"""Recurrent autoregressive density model (chapter 48 of the notes).

A GRU or LSTM reads the features of a row in ``ordering_``, one token per step after a
start token; its hidden state after reading :math:`x_{\sigma(<i)}` gives the
conditional of :math:`x_{\sigma(i)}`. Sampling carries the hidden state forward, one
step per feature. The fitting, scoring and generic sampling machinery is
:class:`mlnotes.density._base.AutoregressiveDensity`'s.
"""

import math
from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from mlnotes.density._transformer import (
    _SEQUENCE_CONSTRAINTS,
    _SequenceAR,
    _SequenceModule,
)

__all__ = ["RNNDensity"]


class _RNNModule(_SequenceModule):
    """Embedding of (previous token, position) -> GRU/LSTM -> logits of the level."""

    def __init__(self, n_features, n_levels, ordering, cell, hidden_size, n_layers,
                 dropout):
        super().__init__(n_features, n_levels, ordering)
        self.token = nn.Embedding(n_levels + 1, hidden_size)
        self.position = nn.Embedding(n_features, hidden_size)
        recurrent = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = recurrent(hidden_size, hidden_size, n_layers, batch_first=True,
                             dropout=dropout if n_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_levels)

    def sequence_logits(self, tokens, state=None, pos=0):
        """Logits at positions ``pos..pos+L-1`` of ``tokens`` (n, L), and the state."""
        positions = torch.arange(pos, pos + tokens.shape[1], device=tokens.device)
        h = self.drop(self.token(tokens) + self.position(positions))
        out, state = self.rnn(h, state)
        return self.head(self.drop(out)), state

    def forward(self, x):
        logits, _ = self.sequence_logits(self.shifted_tokens(x))
        return self.to_features(logits)


class RNNDensity(_SequenceAR):
    r"""Recurrent (GRU or LSTM) autoregressive density model of discrete data.

    The features of a row, read in ``ordering_``, are a sequence of tokens (their
    level indices); a recurrent network reads them one at a time and its hidden
    state after the features before :math:`j` gives the categorical conditional of
    feature :math:`j`.

    Parameters
    ----------
    cell : {"gru", "lstm"}, default="gru"
        Recurrent cell.
    hidden_size : int, default=128
        Width of the hidden state (and of the token and position embeddings).
    n_layers : int, default=1
        Stacked recurrent layers.
    dropout : float, default=0.2
        Dropout rate on the input embeddings, between stacked layers and on the
        hidden states before the output layer (training only).
    ordering : {"natural", "random"} or array-like of shape (n_features,), \
            default="natural"
        Order in which the features are read and generated: the natural order, a
        random permutation drawn from ``random_state``, or a given permutation.
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
    learning_rate_init : float, default=0.003
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
        Decoupled (AdamW) weight decay of the matrices (embeddings, recurrent and
        output weights).
    gradient_clipping : float or None, default=1.0
        Rescale each mini-batch gradient to at most this global L2 norm.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (float64, evaluation mode).
    ordering_ : ndarray of shape (n_features_in_,)
        The order in which the features are read and generated.
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
    TransformerAR : The same factorisation with causal self-attention.

    Notes
    -----
    With the ordering :math:`\sigma`, the input at step :math:`i` is the token read
    before it, :math:`t_1 = s` (a start token, level index :math:`K`) and
    :math:`t_i = x_{\sigma(i-1)}`, embedded with its position,
    :math:`e_i = E[t_i] + P[i]`. The recurrent state summarises the prefix,

    .. math::

        h_i = f_\theta(h_{i-1}, e_i), \qquad h_0 = 0, \qquad
        p(x_{\sigma(i)} \mid x_{\sigma(1)}, \dots, x_{\sigma(i-1)})
        = \operatorname{softmax}(W h_i + b),

    with :math:`f_\theta` a GRU cell (update gate :math:`z`, reset gate :math:`r`:
    :math:`h_i = (1 - z) \odot n + z \odot h_{i-1}`, :math:`n = \tanh(W_n e_i +
    r \odot (U_n h_{i-1}))`) or an LSTM cell. :math:`h_i` has read only
    :math:`x_{\sigma(<i)}`, so the product of the conditionals is a normalised
    distribution over rows (chapter 48), trained by maximum likelihood
    :math:`\log p(x) = \sum_i \log p(x_{\sigma(i)} \mid x_{\sigma(<i)})`. Unlike a
    MADE or a transformer, the parameters are shared across positions and the
    context is carried in a fixed-size state: sampling carries :math:`h_i` forward,
    one :math:`O(1)` step per feature (:math:`O(d)` per row), and draws each level by
    inverse CDF from the same uniforms as the generic sampler, so the samples are the
    same.

    References
    ----------
    .. [1] K. Cho et al., "Learning phrase representations using RNN encoder-decoder
       for statistical machine translation", EMNLP 2014 (the GRU).
    .. [2] S. Hochreiter and J. Schmidhuber, "Long short-term memory", Neural
       Computation 9(8), 1997.
    .. [3] A. van den Oord, N. Kalchbrenner and K. Kavukcuoglu, "Pixel recurrent
       neural networks", ICML 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.density import RNNDensity
    >>> rng = np.random.RandomState(0)
    >>> x0 = rng.randint(0, 2, 200)
    >>> X = np.column_stack([x0, x0, 1 - x0])
    >>> est = RNNDensity(hidden_size=16, max_iter=30, random_state=0).fit(X)
    >>> est.sample(3, random_state=0).shape
    (3, 3)
    >>> bool(est.score([[0, 0, 1]]) > est.score([[0, 1, 1]]))
    True
    """

    _parameter_constraints = {
        **_SEQUENCE_CONSTRAINTS,
        "cell": [StrOptions({"gru", "lstm"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
    }

    # the default batch size is an int: clip it silently on small data
    _warn_batch_clipping = False

    def __init__(
        self,
        cell="gru",
        hidden_size=128,
        n_layers=1,
        dropout=0.2,
        *,
        ordering="natural",
        n_levels="auto",
        batch_size=64,
        learning_rate="constant",
        learning_rate_init=0.003,
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
        self.cell = cell
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.ordering = ordering
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
        # a recurrent step per feature, forward and backward, for every mini-batch;
        # each step costs at least ~1e6 flops' worth of CPU time (launch overhead)
        # besides its gate products (3 gates for a GRU, 4 for an LSTM)
        H, gates = self.hidden_size, 3 if self.cell == "gru" else 4
        per_row_step = 2 * gates * 2 * H * H * self.n_layers + 2 * H * self.n_levels_
        batch = 200 if self.batch_size == "auto" else self.batch_size
        n_batches = math.ceil(n_samples / max(1, min(batch, n_samples)))
        return float(3 * n_samples * n_features * per_row_step
                     + 2 * n_batches * n_features * 1e6)

    def _cheaper_settings(self):
        return "a smaller hidden_size"

    def _module_spec(self, X, Y):
        return dict(**self._sequence_spec(), cell=self.cell,
                    hidden_size=int(self.hidden_size), n_layers=int(self.n_layers),
                    dropout=float(self.dropout))

    def _build_module(self, **spec):
        return _RNNModule(**spec)

    def _sample_indices(self, module, n_samples, rng):
        """Ancestral sampling that carries the hidden state: one step per feature."""
        n_features = self.n_features_in_
        device = next(module.parameters()).device
        x = torch.zeros((n_samples, n_features), dtype=torch.long, device=device)
        token = torch.full((n_samples, 1), module.start, dtype=torch.long,
                           device=device)
        state = None
        for pos, j in enumerate(self.ordering_):
            logits, state = module.sequence_logits(token, state, pos)
            k = self._draw_step(logits[:, -1], rng)
            x[:, j] = k
            token = k[:, None]
        return x.to("cpu").numpy()
