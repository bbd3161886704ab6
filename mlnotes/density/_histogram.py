"""Per-feature histogram (independent categorical) density model (chapter 48)."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval

from mlnotes.base import DensityMixin
from mlnotes.density._base import IndependentLevelsMixin


class Histogram(IndependentLevelsMixin, DensityMixin, BaseEstimator):
    r"""Histogram density model: independent categorical distribution per feature.

    Each feature is modelled by its own categorical distribution over a set of levels
    learned in :meth:`fit`; the features are independent, so the log probability mass
    of a row is the sum of the per-feature log masses.

    Parameters
    ----------
    n_levels : "auto" or int, default="auto"
        Levels of the features. With ``"auto"``, if every training value is an integer
        in [0, 255] (any dtype) the levels are ``0..max`` of the training data;
        otherwise each feature is quantised into 256 equal-width bins between its
        training minimum and maximum. An int ``K`` uses the levels ``0..K-1`` for
        integer data (``K`` must exceed the training maximum) and ``K`` bins otherwise.
    alpha : float, default=1.0
        Additive (Laplace) smoothing: a pseudo-count added to every level of every
        feature. ``alpha=0`` is the maximum-likelihood estimate.

    Attributes
    ----------
    n_levels_ : int
        Number of levels (or bins) per feature.
    levels_ : ndarray of shape (n_levels_,) or None
        The integer levels ``0..n_levels_-1`` for integer data; None for quantised
        data.
    bin_edges_ : ndarray of shape (n_features_in_, n_levels_ + 1) or None
        The bin edges of each feature for quantised data; None for integer data.
    log_probs_ : ndarray of shape (n_features_in_, n_levels_)
        Log probability of each level of each feature.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column names.

    See Also
    --------
    sklearn.neighbors.KernelDensity : Kernel density estimation (continuous).

    Notes
    -----
    With counts :math:`n_{jk}` of level :math:`k` in feature :math:`j` among
    :math:`n` training rows, :math:`K` levels and smoothing :math:`\alpha`, the
    smoothed maximum-likelihood estimate (chapter 48 of the notes) is

    .. math::

        \hat p_j(k) = \frac{n_{jk} + \alpha}{n + \alpha K}, \qquad
        \log p(x) = \sum_{j=1}^{d} \log \hat p_j(x_j).

    With :math:`\alpha = 0` this maximises the training log-likelihood; a level never
    seen then has mass 0 (log mass :math:`-\infty`). Values that are not levels
    (non-integers, or integers above the largest level, for integer data) have mass
    0. For quantised data, values outside the training range clip to the end bins and
    the score is the log mass of the bin (not a density).

    References
    ----------
    .. [1] K. P. Murphy, "Machine Learning: A Probabilistic Perspective", MIT Press,
       2012, section 3.4 (the Dirichlet-multinomial model).

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.density import Histogram
    >>> X = np.array([[0, 1], [1, 1], [1, 2], [1, 0]])
    >>> est = Histogram(alpha=0.0).fit(X)
    >>> np.exp(est.log_probs_[0])
    array([0.25, 0.75, 0.  ])
    >>> round(float(np.exp(est.score_samples([[1, 1]])[0])), 4)
    0.375
    """

    _parameter_constraints = {
        **IndependentLevelsMixin._levels_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, n_levels="auto", alpha=1.0):
        self.n_levels = n_levels
        self.alpha = alpha

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the levels and the per-feature level probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : Histogram
            The fitted estimator.
        """
        X, counts = self._level_counts(X)
        n_samples, n_levels = X.shape[0], self.n_levels_
        probs = (counts + self.alpha) / (n_samples + self.alpha * n_levels)
        with np.errstate(divide="ignore"):
            self.log_probs_ = np.log(probs)
        return self
