r"""Discretised logistic mixture (PixelCNN++'s likelihood), one per feature (chapter 48).

The mass of level :math:`k` of a discretised logistic with location :math:`\mu` and
scale :math:`s` (levels on the index scale, bins of unit width) is a difference of
two logistic CDFs. It is computed in log space from the factorisation

.. math::

    \sigma(a) - \sigma(b) = \sigma(a)\,\sigma(-b)\,\bigl(1 - e^{-(a - b)}\bigr),
    \qquad a > b,

so that no difference of two nearly equal numbers is ever formed: every term is a
log-sigmoid (a softplus) or :math:`\log(1 - e^{-\delta})` with :math:`\delta = 1/s`,
each evaluated stably.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from threadpoolctl import threadpool_limits

from mlnotes.base import DensityMixin, TorchEstimator
from mlnotes.density._base import IndependentLevelsMixin

__all__ = ["DiscretizedLogisticMixture"]

# Range of the log-scales (index units): below exp(-7) a component already puts all
# its mass on one level (as PixelCNN++'s clamp); the top keeps 1/s a normal float.
_LOG_SCALE_MIN, _LOG_SCALE_MAX = -7.0, 12.0


def _log1mexp(delta):
    """``log(1 - exp(-delta))`` for ``delta > 0``, accurate for small and large delta."""
    return torch.where(delta < math.log(2.0), torch.log(-torch.expm1(-delta)),
                       torch.log1p(-torch.exp(-delta)))


def _discretized_logistic_log_mass(means, log_scales, n_levels):
    r"""Log mass of every level under discretised logistics.

    Parameters
    ----------
    means, log_scales : torch.Tensor of shape (...,)
        Locations and log-scales on the index scale (level ``k`` is the bin
        ``[k - 1/2, k + 1/2]``).
    n_levels : int
        Number of levels ``K``; level 0 takes all the mass below 1/2 and level
        ``K - 1`` all the mass above ``K - 3/2``.

    Returns
    -------
    log_mass : torch.Tensor of shape (..., n_levels)
        ``log P(level = k)``; ``logsumexp`` over the last axis is 0 to rounding.
    """
    log_scales = log_scales.clamp(_LOG_SCALE_MIN, _LOG_SCALE_MAX)
    inv_s = torch.exp(-log_scales)[..., None]
    k = torch.arange(n_levels, dtype=means.dtype, device=means.device)
    centred = k - means[..., None]
    upper = (centred + 0.5) * inv_s  # a: standardised upper edge of the bin
    lower = (centred - 0.5) * inv_s  # b: standardised lower edge
    log_cdf_upper = -torch.nn.functional.softplus(-upper)  # log sigma(a)
    log_sf_lower = -torch.nn.functional.softplus(lower)  # log sigma(-b) = log(1-sigma(b))
    interior = log_cdf_upper + log_sf_lower + _log1mexp(inv_s)
    first = k == 0
    last = k == n_levels - 1
    out = torch.where(last, log_sf_lower, interior)
    out = torch.where(first, log_cdf_upper, out)
    return torch.where(first & last, torch.zeros_like(out), out)


def _mixture_log_probs(logits, means, log_scales, n_levels):
    """``(d, K)`` log mass of every level of every feature under its mixture."""
    log_mass = _discretized_logistic_log_mass(means, log_scales, n_levels)  # (d, C, K)
    log_weights = torch.log_softmax(logits, dim=-1)[..., None]
    return torch.logsumexp(log_weights + log_mass, dim=-2)


def _mixture_objective(params, freq, n_components):
    """Negative log-likelihood and its gradient in numpy (the L-BFGS objective).

    ``params`` is the flat vector ``[logits, means, log_scales]`` (each ``(d, C)``,
    C order, as ``module.parameters()``); ``freq`` the ``(d, K)`` level frequencies.
    Returns ``(loss, grad)`` with ``loss = -sum_jk f_jk log p_j(k)``, the negative
    log-likelihood per row (what ``_batch_loss`` computes with torch), so that the
    gradient of a feature's parameters does not depend on the number of features.
    """
    n_features, n_levels = freq.shape
    logits, means, rho = params.reshape(3, n_features, n_components)
    inside = (rho >= _LOG_SCALE_MIN) & (rho <= _LOG_SCALE_MAX)
    inv_s = np.exp(-np.clip(rho, _LOG_SCALE_MIN, _LOG_SCALE_MAX))[:, :, None]
    # standardised bin edges t - 1/2, t = 0..K: level k lies between edges k and k+1
    e = (np.arange(n_levels + 1, dtype=np.float64) - 0.5 - means[:, :, None]) * inv_s
    log_cdf = -(np.maximum(-e, 0.0) + np.log1p(np.exp(-np.abs(e))))  # log sigma(e)
    log_sf = log_cdf - e  # log sigma(-e)
    cdf, sf = np.exp(log_cdf), np.exp(log_sf)
    a, b = e[:, :, 1:], e[:, :, :-1]
    tail = np.exp(-inv_s)
    log_mass = log_cdf[:, :, 1:] + log_sf[:, :, :-1] + np.log(-np.expm1(-inv_s))
    d_mu = sf[:, :, 1:] - cdf[:, :, :-1]  # times -1/s: d log_mass / d mean
    d_rho = -a * sf[:, :, 1:] + b * cdf[:, :, :-1] - inv_s * tail / -np.expm1(-inv_s)
    # the edge levels take the tails: level 0 is log sigma(a), level K-1 log sigma(-b)
    log_mass[:, :, 0] = log_cdf[:, :, 1]
    d_mu[:, :, 0] = sf[:, :, 1]
    d_rho[:, :, 0] = -a[:, :, 0] * sf[:, :, 1]
    log_mass[:, :, -1] = log_sf[:, :, -2]
    d_mu[:, :, -1] = -cdf[:, :, -2]
    d_rho[:, :, -1] = b[:, :, -1] * cdf[:, :, -2]
    if n_levels == 1:
        log_mass[:] = 0.0
        d_mu[:] = 0.0
        d_rho[:] = 0.0
    log_w = logits - logits.max(axis=1, keepdims=True)
    log_w -= np.log(np.exp(log_w).sum(axis=1, keepdims=True))
    joint = log_w[:, :, None] + log_mass
    top = joint.max(axis=1, keepdims=True)
    resp = np.exp(joint - top)
    total_mass = resp.sum(axis=1, keepdims=True)
    log_p = (top + np.log(total_mass))[:, 0, :]  # (d, K)
    resp /= total_mass
    loss = -np.sum(freq * log_p)
    g = resp * freq[:, None, :]  # -d loss / d log_mass
    total = freq.sum(axis=1, keepdims=True)
    grad_logits = -(g.sum(axis=2) - np.exp(log_w) * total)
    grad_means = np.einsum("jck,jck->jc", g, d_mu) * inv_s[:, :, 0]
    grad_rho = -np.einsum("jck,jck->jc", g, d_rho) * inside
    return loss, np.concatenate([grad_logits.ravel(), grad_means.ravel(),
                                 grad_rho.ravel()])


class _LogisticMixtureModule(torch.nn.Module):
    """Per-feature mixture parameters; ``forward(features)`` gives their level table."""

    def __init__(self, n_features, n_levels, n_components):
        super().__init__()
        self.n_levels = int(n_levels)
        shape = (n_features, n_components)
        self.logits = torch.nn.Parameter(torch.zeros(shape))
        self.means = torch.nn.Parameter(torch.zeros(shape))
        self.log_scales = torch.nn.Parameter(torch.zeros(shape))

    def forward(self, features=None):
        if features is None:
            return _mixture_log_probs(self.logits, self.means, self.log_scales,
                                      self.n_levels)
        return _mixture_log_probs(self.logits[features], self.means[features],
                                  self.log_scales[features], self.n_levels)


def _initial_parameters(freq, n_components):
    """Means at the quantiles of each feature, a common scale from its spread.

    ``freq`` is the ``(d, K)`` table of level frequencies. Component ``c`` starts at
    the ``(c + 1/2) / C`` quantile (nudged apart by 0.05 levels so that components
    on the same quantile of a spiky feature still separate), with the scale of a
    logistic whose standard deviation is that of the feature divided by ``C``
    (at least 0.3 levels) and equal weights.
    """
    n_features, n_levels = freq.shape
    k = np.arange(n_levels, dtype=np.float64)
    cdf = np.cumsum(freq, axis=1)
    q = (np.arange(n_components) + 0.5) / n_components
    means = np.empty((n_features, n_components))
    for j in range(n_features):
        means[j] = np.minimum(np.searchsorted(cdf[j], q * cdf[j, -1]), n_levels - 1)
    means += 0.05 * (np.arange(n_components) - (n_components - 1) / 2.0)
    mean = freq @ k
    std = np.sqrt(np.maximum(freq @ k**2 - mean**2, 0.0))
    scale = np.maximum(std * math.sqrt(3.0) / math.pi / n_components, 0.3)
    log_scales = np.repeat(np.log(scale)[:, None], n_components, axis=1)
    logits = np.zeros((n_features, n_components))
    return logits, means, log_scales


class DiscretizedLogisticMixture(IndependentLevelsMixin, DensityMixin, TorchEstimator):
    r"""Mixture of discretised logistics per feature (PixelCNN++'s likelihood).

    Each feature is modelled, independently of the others, by a mixture of
    ``n_components`` logistic distributions discretised onto its levels: the
    likelihood that PixelCNN++ puts on pixel intensities, here as a density model of
    its own. A handful of parameters per feature describe a smooth distribution over
    many levels, so it generalises where a histogram needs a count for every level.

    Parameters
    ----------
    n_components : int, default=5
        Number of logistic components per feature.
    n_levels : "auto" or int, default="auto"
        Levels of the features. With ``"auto"``, if every training value is an integer
        in [0, 255] (any dtype) the levels are ``0..max`` of the training data;
        otherwise each feature is quantised into 256 equal-width bins between its
        training minimum and maximum. An int ``K`` uses the levels ``0..K-1`` for
        integer data (``K`` must exceed the training maximum) and ``K`` bins otherwise.
    solver : {"lbfgs", "adam"}, default="lbfgs"
        Optimiser of the log-likelihood. The objective depends on the data only
        through the level counts of each feature, so every iteration costs
        ``O(n_features * n_levels * n_components)`` whatever the number of rows:
        ``"lbfgs"`` (scipy's L-BFGS-B, float64) minimises it in full batch;
        ``"adam"`` takes gradient steps on mini-batches of features.
    max_iter : int, default=500
        Iterations of L-BFGS, or epochs of Adam.
    tol : float, default=1e-4
        L-BFGS: tolerance on the projected gradient. Adam: improvement of the
        training loss below which an epoch counts as no change (10 such epochs
        stop the fit).
    learning_rate_init : float, default=0.05
        Adam's step size (unused by L-BFGS).
    verbose : bool or int, default=False
        Print the progress of the optimiser.
    random_state : int, RandomState instance or None, default=None
        The order of the feature batches of Adam. The initialisation is
        deterministic (quantiles of the data), so L-BFGS fits do not depend on it.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    n_levels_ : int
        Number of levels (or bins) per feature.
    levels_ : ndarray of shape (n_levels_,) or None
        The integer levels ``0..n_levels_-1`` for integer data; None for quantised
        data.
    bin_edges_ : ndarray of shape (n_features_in_, n_levels_ + 1) or None
        The bin edges of each feature for quantised data; None for integer data.
    weights_ : ndarray of shape (n_features_in_, n_components)
        Mixture weights of each feature.
    means_ : ndarray of shape (n_features_in_, n_components)
        Locations of the components, on the level-index scale (level ``k`` is the
        bin ``[k - 1/2, k + 1/2]``).
    scales_ : ndarray of shape (n_features_in_, n_components)
        Scales of the components, on the level-index scale.
    log_probs_ : ndarray of shape (n_features_in_, n_levels_)
        Log probability of each level of each feature (float64).
    module_ : torch.nn.Module
        The fitted parameters as a torch module (float64).
    n_iter_ : int
        Iterations (L-BFGS) or epochs (Adam) run.
    loss_ : float
        Training negative log-likelihood per row at the end of the fit, in nats.
    loss_curve_ : list of float
        Training loss after each epoch (Adam only).
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column names.

    See Also
    --------
    Histogram : One free probability per level of each feature.
    sklearn.mixture.GaussianMixture : Mixture of Gaussians (a continuous density).

    Notes
    -----
    With the logistic CDF :math:`\sigma(t) = 1/(1 + e^{-t})`, a component with
    location :math:`\mu` and scale :math:`s` gives level :math:`k \in \{0, \dots,
    K-1\}` the mass of the bin :math:`[k - \tfrac12, k + \tfrac12]`, the edge levels
    taking the tails (chapter 48 of the notes; Salimans et al., 2017):

    .. math::

        P(k \mid \mu, s) =
        \begin{cases}
        \sigma\!\left(\frac{k + 1/2 - \mu}{s}\right) & k = 0, \\
        \sigma\!\left(\frac{k + 1/2 - \mu}{s}\right)
            - \sigma\!\left(\frac{k - 1/2 - \mu}{s}\right) & 0 < k < K - 1, \\
        1 - \sigma\!\left(\frac{k - 1/2 - \mu}{s}\right) & k = K - 1,
        \end{cases}

    so that the masses telescope to exactly 1. Feature :math:`j` is a mixture
    :math:`p_j(k) = \sum_c \pi_{jc} P(k \mid \mu_{jc}, s_{jc})` with
    :math:`\pi_{j\cdot} = \operatorname{softmax}(\text{logits}_{j\cdot})`, and a
    row's log mass is :math:`\log p(x) = \sum_j \log p_j(x_j)`. The parameters
    maximise the training log-likelihood, which depends on the data only through
    the frequencies :math:`f_{jk}` of the levels:
    :math:`\frac1n\sum_i \log p(x_i) = \sum_j \sum_k f_{jk} \log p_j(k)`.

    The interior masses are computed in log space as
    :math:`\log\sigma(a) + \log\sigma(-b) + \log(1 - e^{-1/s})` with
    :math:`a = (k + \tfrac12 - \mu)/s`, :math:`b = (k - \tfrac12 - \mu)/s`, which is
    exact (:math:`\sigma(a) - \sigma(b) = \sigma(a)\sigma(-b)(1 - e^{-(a-b)})`) and
    never forms the difference of two CDFs. PixelCNN++ computes the difference and,
    where it underflows (a bin far in a tail, or a very small scale), falls back to
    the density at the bin centre times the bin width; the factorised form needs no
    such fallback. Scales are kept in :math:`[e^{-7}, e^{12}]` levels.

    References
    ----------
    .. [1] T. Salimans, A. Karpathy, X. Chen and D. P. Kingma, "PixelCNN++: Improving
       the PixelCNN with discretized logistic mixture likelihood and other
       modifications", ICLR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.density import DiscretizedLogisticMixture
    >>> rng = np.random.RandomState(0)
    >>> X = np.clip(np.round(rng.logistic(20, 3, size=(500, 1))), 0, 40)
    >>> est = DiscretizedLogisticMixture(n_components=1).fit(X)
    >>> est.n_levels_
    41
    >>> round(float(np.exp(est.log_probs_).sum()), 6)
    1.0
    >>> est.sample(3, random_state=0).shape
    (3, 1)
    """

    _parameter_constraints = {
        **IndependentLevelsMixin._levels_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "max_iter": TorchEstimator._training_constraints["max_iter"],
        "tol": TorchEstimator._training_constraints["tol"],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "verbose": TorchEstimator._training_constraints["verbose"],
        "random_state": TorchEstimator._training_constraints["random_state"],
        "device": TorchEstimator._training_constraints["device"],
    }

    def __init__(self, n_components=5, *, n_levels="auto", solver="lbfgs", max_iter=500,
                 tol=1e-4, learning_rate_init=0.05, verbose=False, random_state=None,
                 device="cpu"):
        self.n_components = n_components
        self.n_levels = n_levels
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate_init = learning_rate_init
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    # -- TorchEstimator hooks ---------------------------------------------------------
    #
    # The training "rows" are the features: row j is [j, f_j0, ..., f_j(K-1)], the
    # index of feature j followed by the frequencies of its levels. The loss of a
    # batch of features is the sum of their NLLs scaled by n_features / batch size,
    # so the loss of all features is the NLL per data row (and an unbiased estimate
    # of it on a mini-batch of features).

    def _module_spec(self, X, Y):
        return dict(n_features=self.n_features_in_, n_levels=self.n_levels_,
                    n_components=self.n_components)

    def _build_module(self, n_features, n_levels, n_components):
        return _LogisticMixtureModule(n_features, n_levels, n_components)

    def _init_module(self, module, random_state):
        with torch.no_grad():
            for name, value in zip(("logits", "means", "log_scales"), self._init_values):
                getattr(module, name).copy_(torch.as_tensor(value))

    def _penalized_parameters(self, module):
        return []

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        features = X[:, 0].long()
        log_probs = module(features)
        return -(X[:, 1:] * log_probs).sum() * (self.n_features_in_ / weight_sum)

    def _lbfgs_objective(self, module, X, Y, sample_weight, weight_sum, alpha):
        freq = np.asarray(X[:, 1:], dtype=np.float64)
        n_components = self.n_components

        def objective(theta):
            loss, grad = _mixture_objective(theta, freq, n_components)
            return loss, grad, loss

        return objective

    def _after_fit(self):
        module = self.module_
        with torch.no_grad():
            log_probs = module().to("cpu", torch.float64).numpy()
            self.weights_ = torch.softmax(module.logits, -1).to(
                "cpu", torch.float64).numpy()
            self.means_ = module.means.to("cpu", torch.float64).numpy().copy()
            self.scales_ = torch.exp(module.log_scales.clamp(
                _LOG_SCALE_MIN, _LOG_SCALE_MAX)).to("cpu", torch.float64).numpy()
        self.log_probs_ = log_probs

    # -- public API -------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the levels and the mixture of each feature by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (see ``n_levels`` for how values become levels).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : DiscretizedLogisticMixture
            The fitted estimator.
        """
        X, counts = self._level_counts(X)
        n_samples, n_features = X.shape
        freq = counts / n_samples
        self._init_values = _initial_parameters(freq, self.n_components)
        rows = np.column_stack([np.arange(n_features, dtype=np.float64), freq])
        dtype = np.float64 if self.solver == "lbfgs" else np.float32
        try:
            # a few dozen parameters per feature: BLAS threads in scipy's L-BFGS-B only
            # add synchronisation (milliseconds per iteration on a busy machine)
            with threadpool_limits(limits=1, user_api="blas"):
                self._fit_torch(rows.astype(dtype), None)
        finally:
            del self._init_values
        return self
