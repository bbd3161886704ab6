"""k-nearest-neighbour regression (chapter 24 of the notes)."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._base import _check_weights_not_all_zero, _get_weights, _KNeighborsBase


class KNeighborsRegressor(RegressorMixin, _KNeighborsBase):
    r"""Regression by (weighted) averaging of the targets of the k nearest points.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours :math:`k` averaged (and the default of
        :meth:`kneighbors`).
    weights : {"uniform", "distance"}, callable or None, default="uniform"
        Weight of each neighbour: ``"uniform"`` (or None) 1; ``"distance"``
        :math:`1/d(x, x_i)` (neighbours at distance 0 then share all the weight);
        a callable maps the array of distances (n_queries, n_neighbors) to an
        array of weights of the same shape.
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        Search of the neighbours, as in :class:`KNeighborsClassifier`
        (``"ball_tree"`` runs the k-d tree for Minkowski metrics and brute force
        for the others).
    leaf_size : int, default=30
        Leaf size of the k-d tree: speed only, never the result.
    p : float, default=2
        Power of the Minkowski metric (1 Manhattan, 2 Euclidean, ``inf``
        Chebyshev; ``0 < p < 1`` with brute force only).
    metric : str, callable or DistanceMetric, default="minkowski"
        The distance. Minkowski-family names (``"minkowski"``, ``"euclidean"``,
        ``"manhattan"``, ``"chebyshev"`` and their aliases) run compiled kernels;
        the other names of ``VALID_METRICS`` (scikit-learn's lists: ``"cosine"``,
        ``"sqeuclidean"``, ``"haversine"``, ``"nan_euclidean"`` (NaN allowed in
        ``X``), ...), callables taking two 1-D arrays and
        :class:`sklearn.metrics.DistanceMetric` objects are brute force (scipy's
        ``cdist`` or scikit-learn's pairwise distances). With
        ``"precomputed"``, ``X`` is a matrix of distances: (n_samples, n_samples)
        in ``fit``, (n_queries, n_samples) in ``predict``.
    metric_params : dict, default=None
        Keyword arguments of the metric.
    n_jobs : int, default=None
        Threads that share the queries (``None``: 1, ``-1``: all processors).

    Attributes
    ----------
    effective_metric_ : str or callable
        The distance used (``"minkowski"`` becomes ``"manhattan"``,
        ``"euclidean"`` or ``"chebyshev"`` for ``p`` = 1, 2, ``inf``).
    effective_metric_params_ : dict
        Keyword arguments of ``effective_metric_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    n_samples_fit_ : int
        Number of training points.

    See Also
    --------
    KNeighborsClassifier : the same neighbours, voting for a class.
    KDTree : the tree behind ``algorithm="kd_tree"``.

    Notes
    -----
    Chapter 24 of the notes (nearest-neighbour methods). The prediction is the
    weighted mean of the neighbours' targets, a local-constant estimate of
    :math:`\mathbb E[y \mid x]`:

    .. math::

        \hat f(x) = \frac{\sum_{i \in N_k(x)} w_i\, y_i}{\sum_{i \in N_k(x)} w_i},
        \qquad w_i \in \{1,\; 1/d(x, x_i)\}.

    Small :math:`k` gives low bias and high variance (with :math:`k = 1` the
    training error is 0), large :math:`k` the reverse; with :math:`k \to \infty`
    and :math:`k/n \to 0` the estimate is consistent (Stone 1977).

    Sparse input (CSR, CSC, COO; fit data or queries) is accepted: it always
    uses brute force (a warning if ``algorithm`` asked for a tree), with the
    distances of :func:`sklearn.metrics.pairwise_distances` computed in blocks
    on the sparse rows (never densified), for the metrics of
    ``VALID_METRICS_SPARSE["brute"]`` or a callable, as scikit-learn; with
    ``metric="precomputed"`` a sparse matrix is a graph of candidate neighbours
    (the stored entries of each row).

    Differences from scikit-learn: there is no ball tree, and weights that are
    all zero for some query raise a
    ``ValueError`` (scikit-learn returns NaN there).

    See the :ref:`User Guide <user-guide-neighbors>`.

    References
    ----------
    C. J. Stone, "Consistent nonparametric regression", *The Annals of
    Statistics* 5(4), 1977.

    Examples
    --------
    >>> from mlnotes.neighbors import KNeighborsRegressor
    >>> X = [[0], [1], [2], [3]]
    >>> y = [0, 0, 1, 1]
    >>> neigh = KNeighborsRegressor(n_neighbors=2).fit(X, y)
    >>> neigh.predict([[1.5]])
    array([0.5])
    """

    def __init__(self, n_neighbors=5, *, weights="uniform", algorithm="auto",
                 leaf_size=30, p=2, metric="minkowski", metric_params=None, n_jobs=None):
        super().__init__(n_neighbors=n_neighbors, weights=weights, algorithm=algorithm,
                         leaf_size=leaf_size, p=p, metric=metric,
                         metric_params=metric_params, n_jobs=n_jobs)

    def fit(self, X, y):
        """Fit the k-nearest-neighbour regressor: store the data, build the search.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
                (n_samples, n_samples) if metric == "precomputed"
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        Returns
        -------
        self : KNeighborsRegressor
            The fitted regressor.
        """
        return self._fit(X, y)

    def predict(self, X):
        """Predict the target of every query: the weighted mean of its neighbours'.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features), or \
                (n_queries, n_samples) if metric == "precomputed", or None
            Query points. ``None`` predicts every training point from its
            neighbours other than itself (leave-one-out).

        Returns
        -------
        y : ndarray of shape (n_queries,) or (n_queries, n_outputs)
            Predicted targets.
        """
        check_is_fitted(self, "_fit_method")
        dist, ind = self._neighbors_for_predict(X)
        weights = _get_weights(dist, self.weights)
        _check_weights_not_all_zero(weights)
        y = self._y.reshape(-1, 1) if self._y.ndim == 1 else self._y
        if weights is None:
            y_pred = np.mean(y[ind], axis=1)
        else:
            y_pred = np.empty((ind.shape[0], y.shape[1]), dtype=np.float64)
            denom = np.sum(weights, axis=1)
            for j in range(y.shape[1]):
                y_pred[:, j] = np.sum(y[ind, j] * weights, axis=1) / denom
        return y_pred.ravel() if self._y.ndim == 1 else y_pred
