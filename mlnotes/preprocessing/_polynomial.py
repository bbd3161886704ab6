"""Polynomial feature expansion (chapter 9 of the notes: regression with basis functions)."""

from itertools import combinations, combinations_with_replacement
from math import comb
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data


def _degree_blocks(X, max_degree, interaction_only):
    """Yield ``(degree, block)``: all monomials of each degree, in scikit-learn's order.

    Monomials of degree ``d`` whose smallest feature index is ``j`` are ``x_j``
    times the monomials of degree ``d - 1`` whose smallest index is ``>= j``
    (``> j`` for interactions only). In lexicographic order these form a
    contiguous tail of the previous block, so each block is built with one
    broadcasted product per feature and no Python loop over monomials.
    """
    n_samples, n_features = X.shape
    block, starts = X, np.arange(n_features + 1)
    yield 1, block
    for degree in range(2, max_degree + 1):
        shift = 1 if interaction_only else 0
        sizes = [starts[-1] - starts[min(j + shift, n_features)] for j in range(n_features)]
        new = np.empty((n_samples, sum(sizes)), dtype=X.dtype, order="F")
        new_starts = np.zeros(n_features + 1, dtype=np.intp)
        col = 0
        for j in range(n_features):
            tail = block[:, starts[min(j + shift, n_features)]:]
            np.multiply(tail, X[:, j:j + 1], out=new[:, col:col + sizes[j]])
            new_starts[j] = col
            col += sizes[j]
        new_starts[n_features] = col
        block, starts = new, new_starts
        yield degree, block


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
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        XP = np.empty((X.shape[0], self.n_output_features_), dtype=X.dtype,
                      order=self.order)
        col = 0
        if self.include_bias:
            XP[:, 0] = 1
            col = 1
        if self._max_degree >= 1:
            for degree, block in _degree_blocks(X, self._max_degree, self.interaction_only):
                if degree >= self._min_degree:
                    XP[:, col:col + block.shape[1]] = block
                    col += block.shape[1]
        return XP

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
