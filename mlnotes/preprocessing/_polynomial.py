"""Polynomial feature expansion (chapter 9 of the notes: regression with basis functions)."""

from itertools import combinations, combinations_with_replacement
from math import comb
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data


def _expand(X, XP, col, max_degree, interaction_only):
    """Write all monomials of degree 1..max_degree into ``XP[:, col:]``, in place.

    Monomials of degree ``d`` whose smallest feature index is ``j`` are ``x_j``
    times the monomials of degree ``d - 1`` whose smallest index is ``>= j``
    (``> j`` for interactions only). In lexicographic order these form a
    contiguous tail of the previous degree's block, already in ``XP``, so each
    block is one broadcasted product per feature written straight into the
    output, with no Python loop over monomials and no temporary copies.
    """
    n_features = X.shape[1]
    XP[:, col:col + n_features] = X
    # starts[j]: column of the first monomial of the current degree whose smallest
    # feature index is j; starts[n_features]: one past the block's last column.
    starts = list(range(col, col + n_features + 1))
    col += n_features
    shift = 1 if interaction_only else 0
    for _ in range(2, max_degree + 1):
        new_starts = []
        end = starts[n_features]
        for j in range(n_features):
            begin = starts[min(j + shift, n_features)]
            size = end - begin
            np.multiply(XP[:, begin:end], X[:, j:j + 1], out=XP[:, col:col + size])
            new_starts.append(col)
            col += size
        new_starts.append(col)
        starts = new_starts
    return col


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    r"""Generate polynomial and interaction features.

    Maps each row :math:`x \in \mathbb R^p` to all monomials
    :math:`x_1^{k_1} \cdots x_p^{k_p}` with ``min_degree <= sum(k) <= max_degree``,
    so that a linear model on the output is a polynomial model of the input.

    Parameters
    ----------
    degree : int or tuple (min_degree, max_degree), default=2
        Maximal degree, or the range of degrees, of the monomials.
    interaction_only : bool, default=False
        Keep only products of distinct features (:math:`k_j \le 1`).
    include_bias : bool, default=True
        Include the constant column (degree 0).
    order : {"C", "F"}, default="C"
        Memory layout of the output array.

    Attributes
    ----------
    powers_ : ndarray of shape (n_output_features_, n_features_in_)
        ``powers_[i, j]`` is the exponent of input feature ``j`` in output ``i``.
    n_output_features_ : int
        Number of output features.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    Notes
    -----
    Chapter 9 of the notes: least squares on the basis functions
    :math:`\phi(x)` fits a non-linear function with a linear model,

    .. math::

        \hat y(x) = w^\top \phi(x), \qquad
        \dim \phi(x) = \binom{p + d}{d} \text{ for all monomials up to degree } d,

    so the number of features grows quickly with the degree; with
    ``interaction_only`` it is :math:`\sum_{k \le d} \binom{p}{k}`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.preprocessing import PolynomialFeatures
    >>> X = np.arange(6).reshape(3, 2)
    >>> PolynomialFeatures(2).fit_transform(X)
    array([[ 1.,  0.,  1.,  0.,  0.,  1.],
           [ 1.,  2.,  3.,  4.,  6.,  9.],
           [ 1.,  4.,  5., 16., 20., 25.]])
    >>> PolynomialFeatures(2).fit(X).get_feature_names_out()
    array(['1', 'x0', 'x1', 'x0^2', 'x0 x1', 'x1^2'], dtype=object)
    """

    _parameter_constraints = {
        "degree": [Interval(Integral, 0, None, closed="left"), "array-like"],
        "interaction_only": ["boolean"],
        "include_bias": ["boolean"],
        "order": [StrOptions({"C", "F"})],
    }

    def __init__(self, degree=2, *, interaction_only=False, include_bias=True, order="C"):
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias
        self.order = order

    def _degree_range(self):
        if isinstance(self.degree, Integral):
            lo, hi = 0, int(self.degree)
        else:
            deg = tuple(self.degree)
            if not (len(deg) == 2 and all(isinstance(d, Integral) for d in deg)
                    and 0 <= deg[0] <= deg[1]):
                raise ValueError(
                    "degree=(min_degree, max_degree) must be non-negative integers with "
                    f"min_degree <= max_degree; got {self.degree!r}."
                )
            lo, hi = int(deg[0]), int(deg[1])
        if hi == 0 and not self.include_bias:
            raise ValueError(
                "Setting degree to zero and include_bias to False would result in an "
                "empty output array."
            )
        return lo, hi

    def _n_terms(self, n_features, degree):
        if self.interaction_only:
            return comb(n_features, degree)
        return comb(n_features + degree - 1, degree)

    def fit(self, X, y=None):
        """Compute the number of output features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        X = validate_data(self, X)
        self._min_degree, self._max_degree = self._degree_range()
        n_features = X.shape[1]
        self.n_output_features_ = int(self.include_bias) + sum(
            self._n_terms(n_features, d)
            for d in range(max(1, self._min_degree), self._max_degree + 1)
        )
        return self

    @property
    def powers_(self):
        """Exponent of each input feature in each output feature."""
        check_is_fitted(self)
        n = self.n_features_in_
        pick = combinations if self.interaction_only else combinations_with_replacement
        rows = [()] if self.include_bias else []
        for d in range(max(1, self._min_degree), self._max_degree + 1):
            rows.extend(pick(range(n), d))
        powers = np.zeros((len(rows), n), dtype=np.int64)
        for i, row in enumerate(rows):
            np.add.at(powers[i], list(row), 1)
        return powers

    def get_feature_names_out(self, input_features=None):
        """Names of the output features, e.g. ``"x0^2 x1"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; ``feature_names_in_`` or ``x0, x1, ...`` if None.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Transformed feature names.
        """
        powers = self.powers_
        names = _check_feature_names_in(self, input_features)
        out = []
        for row in powers:
            idx = np.flatnonzero(row)
            terms = [names[j] if row[j] == 1 else f"{names[j]}^{row[j]}" for j in idx]
            out.append(" ".join(terms) if terms else "1")
        return np.asarray(out, dtype=object)

    def transform(self, X):
        """Map each row to its monomials.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data.

        Returns
        -------
        XP : ndarray of shape (n_samples, n_output_features_)
            The monomials, bias first, then by increasing degree.
        """
        check_is_fitted(self)
        # Fortran order: each X[:, j] multiplied below is then a contiguous column.
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32), order="F")
        n_features = X.shape[1]
        # Degrees below min_degree are still needed to build the higher ones: expand
        # all degrees, then keep the bias and the requested range (as scikit-learn).
        n_full = int(self.include_bias) + sum(
            self._n_terms(n_features, d) for d in range(1, self._max_degree + 1)
        )
        XP = np.empty((X.shape[0], n_full), dtype=X.dtype, order=self.order)
        col = 0
        if self.include_bias:
            XP[:, 0] = 1
            col = 1
        if self._max_degree >= 1:
            _expand(X, XP, col, self._max_degree, self.interaction_only)
        if self._min_degree > 1:
            n_low = sum(self._n_terms(n_features, d) for d in range(1, self._min_degree))
            keep = np.r_[np.arange(col), np.arange(col + n_low, n_full)]
            XP = np.asarray(XP[:, keep], order=self.order)
        return XP

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
