r"""Shared machinery of the discrete density models of chapter 48.

:class:`DiscreteLevelsMixin` learns the levels of discrete data in ``fit`` (the rule of
CONTRIBUTING.md, "Density models") and maps values to level indices and back;
:class:`AutoregressiveDensity` is the base of the autoregressive models (MADE,
PixelCNN, the autoregressive transformer, the RNN): it owns ``fit``,
``conditional_log_likelihood``, ``score_samples`` and ``sample``, so that a model file
only says what its network is.

An autoregressive model factorises the mass of a row along an ordering
:math:`\sigma` of the features,

.. math::

    \log p(x) = \sum_{i=1}^{d} \log p\big(x_{\sigma(i)} \mid
    x_{\sigma(1)}, \dots, x_{\sigma(i-1)}\big),

and is trained by maximum likelihood: the loss of a batch is the mean of
:math:`-\log p(x)` over its rows (nats), the cross-entropy of every conditional with
the observed level. A subclass implements the :class:`~mlnotes.base.TorchEstimator`
hooks ``_module_spec`` and ``_build_module``; its network maps a
``(n, d)`` ``LongTensor`` of level indices to ``(n, d, K)`` logits whose row
:math:`j` depends only on the features before :math:`j` in ``ordering_`` (the mask).
Optional hooks: ``_conditional_log_probs`` (log-probabilities from the network, for a
network that is not a plain logit map), ``_make_ordering`` (default: natural order),
``_check_layout`` (validate the number of features, e.g. against ``image_shape``) and
``_sample_indices`` (a faster sampler, e.g. with a key-value cache).
"""

import math
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.exceptions import EfficiencyWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from mlnotes.base import DensityMixin, TorchEstimator
from mlnotes.utils._torch import inference_device

__all__ = ["AutoregressiveDensity", "DiscreteLevelsMixin", "IndependentLevelsMixin"]

# Number of equal-width bins per feature for data that are not integers in [0, 255].
_N_BINS = 256


# A fit on wide data warns when its epochs add up to more work than this (about a
# minute or more on one CPU core).
_WIDE_DATA_FLOPS = 5e11


def _sampling_rng(random_state):
    """A numpy generator: fresh entropy for ``None``, never the global RNG."""
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    return np.random.default_rng(random_state)


def _check_n_samples(n_samples):
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) \
            or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
    return int(n_samples)


def _check_ordering(ordering, n_features):
    """The permutation given as ``ordering`` (an array), validated; ``(n_features,)``."""
    order = np.asarray(ordering)
    if order.ndim != 1 or order.shape[0] != n_features or not np.issubdtype(
            order.dtype, np.integer) or not np.array_equal(
            np.sort(order), np.arange(n_features)):
        raise ValueError(
            "ordering must be 'natural', 'random' or a permutation of the "
            f"{n_features} features (0..{n_features - 1}); got {ordering!r}."
        )
    return order.astype(np.intp)


def _draw_categorical(probs, u):
    """Inverse-CDF draw of one level per row from ``probs`` (n, K) with uniforms ``u``."""
    cdf = np.cumsum(probs, axis=1)
    k = (u[:, None] * cdf[:, -1:] >= cdf).sum(axis=1)
    return np.minimum(k, probs.shape[1] - 1)


class DiscreteLevelsMixin:
    """Levels of discrete data, learned in ``fit`` (CONTRIBUTING.md, "Density models").

    With ``n_levels="auto"``: if every training value is an integer in [0, 255] (any
    dtype), the levels are ``0..max`` of the training data; otherwise each feature is
    quantised into 256 equal-width bins between its training minimum and maximum
    (values outside clip to the end bins). An int ``K`` uses the levels ``0..K-1`` for
    integer data (``K`` must exceed the training maximum) and ``K`` bins otherwise.
    The estimator must have an ``n_levels`` parameter.

    Sets the fitted attributes ``n_levels_``, ``levels_`` (the integer levels, or
    None for quantised data) and ``bin_edges_`` (``(n_features, n_levels_ + 1)``, or
    None for integer data).
    """

    _levels_constraints = {
        "n_levels": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    }

    def _learn_levels(self, X):
        """Learn the levels from validated float ``X``; return the level indices."""
        is_int = bool(np.all((X >= 0) & (X <= 255) & (X == np.floor(X))))
        if is_int:
            top = int(X.max()) + 1
            if self.n_levels == "auto":
                n_levels = top
            elif self.n_levels < top:
                raise ValueError(
                    f"n_levels={self.n_levels} is smaller than the number of levels "
                    f"{top} of the training data (0..{top - 1})."
                )
            else:
                n_levels = int(self.n_levels)
            self.levels_ = np.arange(n_levels)
            self.bin_edges_ = None
            self.n_levels_ = n_levels
            return X.astype(np.intp)
        n_levels = _N_BINS if self.n_levels == "auto" else int(self.n_levels)
        lo, hi = X.min(axis=0), X.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)  # a constant feature: unit-width range
        frac = np.linspace(0.0, 1.0, n_levels + 1)
        self.bin_edges_ = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
        self.levels_ = None
        self.n_levels_ = n_levels
        return self._bin_index(X)

    def _level_counts(self, X):
        """Validate ``X``, learn its levels and count them per feature.

        Returns ``(X, counts)``: the validated float ``X`` and ``counts`` of shape
        (n_features, n_levels_), how many rows hold each level of each feature.
        """
        X = validate_data(self, X, dtype=np.float64)
        idx = self._learn_levels(X)
        counts = np.zeros((X.shape[1], self.n_levels_), dtype=np.float64)
        for j in range(X.shape[1]):
            counts[j] = np.bincount(idx[:, j], minlength=self.n_levels_)
        return X, counts

    def _bin_index(self, X):
        """Bin of every value of quantised data (values outside clip to end bins)."""
        idx = np.empty(X.shape, dtype=np.intp)
        for j in range(X.shape[1]):
            idx[:, j] = np.searchsorted(self.bin_edges_[j, 1:-1], X[:, j], side="right")
        return idx

    def _level_index(self, X):
        """``(index, valid)``: level index of each value, and where it is a level.

        For integer data a value that is not one of the levels (a non-integer, or
        outside ``0..n_levels_-1``) is invalid (mass 0) and gets index 0; quantised
        data are always valid (values outside the training range clip).
        """
        if self.bin_edges_ is not None:
            return self._bin_index(X), np.ones(X.shape, dtype=bool)
        valid = (X >= 0) & (X < self.n_levels_) & (X == np.floor(X))
        return np.where(valid, X, 0).astype(np.intp), valid

    def _level_values(self, idx):
        """Values of level indices: the levels (int64) or the bin centres (float64)."""
        if self.bin_edges_ is None:
            return self.levels_[idx].astype(np.int64)
        centres = 0.5 * (self.bin_edges_[:, :-1] + self.bin_edges_[:, 1:])
        return centres[np.arange(idx.shape[1]), idx]


class IndependentLevelsMixin(DiscreteLevelsMixin):
    """Scoring and sampling of independent features from a table of level masses.

    For the 1-D models (histogram, discretised logistic mixture): each feature has its
    own categorical distribution over the levels, ``log_probs_`` of shape
    ``(n_features_in_, n_levels_)``, set by the model's ``fit``; the mass of a row is
    the product over the features.
    """

    def score_samples(self, X):
        """Log probability mass of each row, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_mass : ndarray of shape (n_samples,)
            ``log p(x)`` of each row (float64); ``-inf`` for a row with a value of
            zero mass (a value that is not one of the levels, or a level of mass 0).
        """
        check_is_fitted(self, "log_probs_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        idx, valid = self._level_index(X)
        logp = np.where(valid, self.log_probs_[np.arange(X.shape[1]), idx], -np.inf)
        return logp.sum(axis=1)

    def sample(self, n_samples=1, random_state=None):
        """Draw rows, every feature independently from its level masses.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, numpy Generator, RandomState or None, default=None
            Source of randomness. None means fresh entropy
            (``np.random.default_rng()``), never numpy's global RNG.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The level values (int64) for integer data, the bin centres (float64) for
            quantised data.
        """
        check_is_fitted(self, "log_probs_")
        n_samples = _check_n_samples(n_samples)
        rng = _sampling_rng(random_state)
        u = rng.random((n_samples, self.n_features_in_))
        cdf = np.cumsum(np.exp(self.log_probs_), axis=1)
        idx = np.empty(u.shape, dtype=np.intp)
        for j in range(self.n_features_in_):
            # inverse CDF, as _draw_categorical: the first level whose CDF exceeds u
            idx[:, j] = np.searchsorted(cdf[j], u[:, j] * cdf[j, -1], side="right")
        np.clip(idx, 0, self.n_levels_ - 1, out=idx)
        return self._level_values(idx)


class AutoregressiveDensity(DiscreteLevelsMixin, DensityMixin, TorchEstimator):
    """Base of the autoregressive density models: fit, likelihoods and sampling.

    Not used directly: see :class:`mlnotes.density.MADE` and the other models of
    chapter 48. A subclass declares ``n_levels`` and the training hyperparameters of
    :class:`~mlnotes.base.TorchEstimator` in its ``__init__`` and implements the hooks
    listed in the module docstring. Training runs in float32 on level indices;
    likelihoods are computed in float64.
    """

    # -- hooks ----------------------------------------------------------------------

    def _check_layout(self, n_features):
        """Validate the number of features (e.g. against ``image_shape``)."""

    def _make_ordering(self, n_features):
        """The order in which features are generated (default: natural order)."""
        return np.arange(n_features)

    def _conditional_log_probs(self, module, x):
        """``(n, d, K)`` log-probabilities of every level of every feature.

        Row ``j`` is the conditional of feature ``j`` given the features before it in
        ``ordering_``; ``x`` is a ``(n, d)`` LongTensor of level indices.
        """
        return torch.log_softmax(module(x), dim=-1)

    def _sample_indices(self, module, n_samples, rng):
        """Draw ``(n_samples, d)`` level indices, one feature at a time.

        Generic ancestral sampling: one forward pass per feature, in ``ordering_``;
        the level of each feature is an inverse-CDF draw from ``rng.random``
        (float64), so a faster sampler that computes the same conditionals (a
        key-value cache) gives the same samples for the same ``rng``.
        """
        n_features = self.n_features_in_
        device = next(module.parameters()).device
        x = torch.zeros((n_samples, n_features), dtype=torch.long, device=device)
        for j in self.ordering_:
            logp = self._conditional_log_probs(module, x)[:, j]
            probs = torch.exp(logp).to("cpu", torch.float64).numpy()
            k = _draw_categorical(probs, rng.random(n_samples))
            x[:, j] = torch.as_tensor(k, device=device)
        return x.to("cpu").numpy()

    def _epoch_flops(self, n_samples, n_features):
        """Rough floating-point operations of one training epoch (None: not estimated).

        Used only to warn before a fit on wide data (fewer rows than features) that
        would take minutes; sequential steps count as the work they cost on a CPU.
        """
        return None

    def _cheaper_settings(self):
        """What the wide-data warning suggests (model-specific parameters)."""
        return "a smaller network"

    def _warn_if_wide(self, n_samples, n_features):
        """Warn up front when few rows of many features would still cost minutes.

        The cost of an epoch grows with the number of features (and levels), not only
        with the number of rows; on wide data (fewer rows than features) the network
        memorises the rows long before ``max_iter``, and early stopping has too few
        rows to hold out, so a default fit would run for minutes to learn little.
        """
        if n_samples >= n_features:
            return
        flops = self._epoch_flops(n_samples, n_features)
        if flops is None:
            return
        total = flops * self._hp("max_iter")
        if total < _WIDE_DATA_FLOPS:
            return
        warnings.warn(
            f"{type(self).__name__} on {n_samples} rows x {n_features} features (fewer "
            f"rows than features, {self.n_levels_} levels): one epoch costs about "
            f"{flops:.1e} floating-point operations and max_iter={self._hp('max_iter')} "
            f"epochs about {total:.1e}, minutes on a CPU core, because the cost grows "
            f"with the number of features and levels; with so few rows the model "
            f"memorises them long before that and early stopping cannot hold out enough "
            f"rows to stop it. Lower max_iter or use {self._cheaper_settings()}.",
            EfficiencyWarning, stacklevel=3,
        )

    # -- TorchEstimator hooks ---------------------------------------------------------

    def _fit_torch(self, X, Y, sample_weight=None, **kwargs):
        # Early stopping holds out ceil(validation_fraction * n) rows; with fewer than
        # two held-out rows (or no training row left) there is nothing to stop on, so
        # tiny data train on every row without it.
        n_val = math.ceil(float(self._hp("validation_fraction")) * X.shape[0])
        self._tiny_fit = bool(self._hp("early_stopping")) and (
            n_val < 2 or X.shape[0] - n_val < 1)
        try:
            return super()._fit_torch(X, Y, sample_weight, **kwargs)
        finally:
            del self._tiny_fit

    def _hp(self, name):
        if name == "early_stopping" and getattr(self, "_tiny_fit", False):
            return False
        return super()._hp(name)

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        x = X.long()
        logp = self._conditional_log_probs(module, x)
        ll = logp.gather(2, x.unsqueeze(-1)).squeeze(-1).sum(dim=1)
        if sample_weight is None:
            return -ll.sum() / weight_sum
        return -(sample_weight * ll).sum() / weight_sum

    # -- public API -------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the levels, the ordering and the network by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (see ``n_levels`` for how values become levels).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = validate_data(self, X, dtype=np.float64)
        self._check_layout(X.shape[1])
        idx = self._learn_levels(X)
        self._warn_if_wide(*X.shape)
        self.ordering_ = np.asarray(self._make_ordering(X.shape[1]), dtype=np.intp)
        return self._fit_torch(idx.astype(np.float32), None)

    def _validated_index(self, X):
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._level_index(X)

    def conditional_log_likelihood(self, X):
        """Log-probability of each feature given the features before it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_cond : ndarray of shape (n_samples, n_features)
            ``log p(x_j | x_{features before j in ordering_})`` for every feature
            ``j`` (float64, nats); the rows sum to :meth:`score_samples`. ``-inf``
            where a value is not one of the levels.
        """
        idx, valid = self._validated_index(X)

        def forward(module, x):
            x = x.long()
            logp = self._conditional_log_probs(module, x)
            return logp.gather(2, x.unsqueeze(-1)).squeeze(-1)

        out = self._predict_torch(idx.astype(np.float64), forward=forward)
        out[~valid] = -np.inf
        return out

    def conditional_distribution(self, X):
        """Probability of every level of each feature given the features before it.

        The distribution an arithmetic coder (:mod:`mlnotes.compression`) or a
        sampler needs: row ``j`` of a sample's output depends only on the features
        generated before ``j`` in ``ordering_`` (the values of ``j`` and of later
        features are ignored).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (a value that is not one of the levels is read as level 0).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_features, n_levels_)
            ``p(x_j = level k | x_{features before j in ordering_})`` (float64);
            for ``n_masks > 1`` (MADE), the conditionals of the first mask set.
        """
        idx, _ = self._validated_index(X)
        log_probs = self._predict_torch(
            idx.astype(np.float64),
            forward=lambda module, x: self._conditional_log_probs(module, x.long()))
        return np.exp(log_probs)

    def score_samples(self, X):
        """Log probability mass of each row, in nats.

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
        return self.conditional_log_likelihood(X).sum(axis=1)

    def sample(self, n_samples=1, random_state=None):
        """Draw rows by ancestral sampling, one feature at a time in ``ordering_``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, numpy Generator, RandomState or None, default=None
            Source of randomness. None means fresh entropy
            (``np.random.default_rng()``), never numpy's global RNG.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The level values (int64) for integer data, the bin centres (float64) for
            quantised data.
        """
        check_is_fitted(self, "module_")
        n_samples = _check_n_samples(n_samples)
        rng = _sampling_rng(random_state)
        module = self.module_
        device = inference_device(getattr(self, "_device_", "cpu"))
        module.to(device)
        module.eval()
        with torch.inference_mode():
            idx = self._sample_indices(module, n_samples, rng)
        return self._level_values(idx)
