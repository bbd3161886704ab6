"""k-nearest-neighbour classification (chapter 24 of the notes)."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._base import _check_weights_not_all_zero, _get_weights, _KNeighborsBase


def _weighted_votes(labels, n_classes, weights):
    """Per-query sums of the neighbours' weights for each class.

    ``labels`` (n_queries, k) holds class indices; the weights are added in
    neighbour order (as scikit-learn's vote), one ``bincount`` for all queries.
    """
    n_queries, k = labels.shape
    keys = (np.arange(n_queries)[:, None] * n_classes + labels).ravel()
    w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    votes = np.bincount(keys, weights=w, minlength=n_queries * n_classes)
    return votes.reshape(n_queries, n_classes).astype(np.float64, copy=False)


class KNeighborsClassifier(ClassifierMixin, _KNeighborsBase):
    r"""Classifier voting among the k nearest training points.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours :math:`k` that vote (and the default of
        :meth:`kneighbors`).
    weights : {"uniform", "distance"}, callable or None, default="uniform"
        Weight of each neighbour's vote: ``"uniform"`` (or None) gives every
        neighbour weight 1; ``"distance"`` weight :math:`1/d(x, x_i)` (a
        neighbour at distance 0 then takes the whole vote, shared with the other
        neighbours at distance 0); a callable maps the array of distances
        (n_queries, n_neighbors) to an array of weights of the same shape.
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        How the neighbours are searched (all searches are exact and give the same
        neighbours, ties aside):

        - ``"brute"``: every distance is computed, in blocks (BLAS for the
          Euclidean metric), and the :math:`k` smallest kept in a heap;
        - ``"kd_tree"``: a :class:`KDTree` built in ``fit`` (Minkowski metrics);
        - ``"ball_tree"``: there is no ball tree in mlnotes: the k-d tree is used
          for Minkowski metrics, brute force for the others;
        - ``"auto"``: as scikit-learn, brute force for ``metric="precomputed"``,
          more than 15 features, ``n_neighbors >= n_samples // 2`` or metrics
          the k-d tree does not support, the k-d tree otherwise.
    leaf_size : int, default=30
        Leaf size of the k-d tree: speed only, never the result.
    p : float, default=2
        Power of the Minkowski metric: 1 is the Manhattan distance, 2 the
        Euclidean one, ``inf`` the Chebyshev one; ``0 < p < 1`` (not a metric)
        is allowed with brute force only.
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
        Keyword arguments of the metric (``p`` overrides the parameter ``p``,
        with a warning; ``w`` gives the weighted Minkowski metric, brute force).
    n_jobs : int, default=None
        Threads that share the queries (``None``: 1, ``-1``: all processors);
        ``fit`` is not parallel.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of such arrays
        Class labels (one array per output when ``y`` has several columns).
    effective_metric_ : str or callable
        The distance used: ``metric``, except that ``"minkowski"`` becomes
        ``"manhattan"``, ``"euclidean"`` or ``"chebyshev"`` for ``p`` = 1, 2,
        ``inf`` (as scikit-learn).
    effective_metric_params_ : dict
        Keyword arguments of ``effective_metric_`` (``p`` and ``w`` for a general
        Minkowski metric).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    n_samples_fit_ : int
        Number of training points.
    outputs_2d_ : bool
        False when ``y`` had shape (n_samples,) or (n_samples, 1) during fit.

    See Also
    --------
    KNeighborsRegressor : the same neighbours, averaging the targets.
    KDTree : the tree behind ``algorithm="kd_tree"``.
    NearestCentroid : one prototype per class instead of all training points.

    Notes
    -----
    Chapter 24 of the notes (nearest-neighbour methods). With :math:`N_k(x)` the
    :math:`k` training points nearest to :math:`x` and weights :math:`w_i`
    (1, or :math:`1/d(x, x_i)`), the k-NN rule estimates the class posterior by
    the weighted share of the votes and predicts its mode:

    .. math::

        \hat p(c \mid x) = \frac{\sum_{i \in N_k(x)} w_i\, [y_i = c]}
                                {\sum_{i \in N_k(x)} w_i},
        \qquad
        \hat y(x) = \arg\max_c \hat p(c \mid x)

    (ties go to the first class in ``classes_``, as in scikit-learn). There is
    no training beyond storing the data (and building the tree); the cost is at
    prediction time.

    Cover and Hart's bound: as :math:`n \to \infty`, the risk of the 1-NN rule
    on :math:`C` classes lies between the Bayes risk :math:`R^*` and about twice
    it,

    .. math::

        R^* \le R_{1\mathrm{NN}} \le R^* \Big(2 - \frac{C}{C-1} R^*\Big) \le 2 R^*,

    so half of the information needed for the optimal decision is in the single
    nearest neighbour; letting :math:`k \to \infty` with :math:`k/n \to 0`
    makes the rule consistent (:math:`R_{k\mathrm{NN}} \to R^*`, Stone 1977).

    Sparse input (CSR, CSC, COO; fit data or queries) is accepted: it always
    uses brute force (a warning if ``algorithm`` asked for a tree), with the
    distances of :func:`sklearn.metrics.pairwise_distances` computed in blocks
    on the sparse rows (never densified), for the metrics of
    ``VALID_METRICS_SPARSE["brute"]`` or a callable, as scikit-learn; with
    ``metric="precomputed"`` a sparse matrix is a graph of candidate neighbours
    (the stored entries of each row).

    Differences from scikit-learn: there is no ball tree; distances are
    computed in float64 (the Euclidean ones exactly,
    not through :math:`\|x\|^2 - 2x^\top y + \|y\|^2`). When two neighbours are at
    exactly the same distance, which one is kept may differ from scikit-learn
    (as it differs between scikit-learn's own algorithms).

    See the :ref:`User Guide <user-guide-neighbors>`.

    References
    ----------
    T. M. Cover and P. E. Hart, "Nearest neighbor pattern classification",
    *IEEE Transactions on Information Theory* 13(1), 1967.

    C. J. Stone, "Consistent nonparametric regression", *The Annals of
    Statistics* 5(4), 1977.

    Examples
    --------
    >>> from mlnotes.neighbors import KNeighborsClassifier
    >>> X = [[0], [1], [2], [3]]
    >>> y = [0, 0, 1, 1]
    >>> neigh = KNeighborsClassifier(n_neighbors=3).fit(X, y)
    >>> neigh.predict([[1.1]])
    array([0])
    >>> neigh.predict_proba([[0.9]]).round(3)
    array([[0.667, 0.333]])
    """

    def __init__(self, n_neighbors=5, *, weights="uniform", algorithm="auto",
                 leaf_size=30, p=2, metric="minkowski", metric_params=None, n_jobs=None):
        super().__init__(n_neighbors=n_neighbors, weights=weights, algorithm=algorithm,
                         leaf_size=leaf_size, p=p, metric=metric,
                         metric_params=metric_params, n_jobs=n_jobs)

    def fit(self, X, y):
        """Fit the k-nearest-neighbour classifier: store the data, build the search.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
                (n_samples, n_samples) if metric == "precomputed"
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels.

        Returns
        -------
        self : KNeighborsClassifier
            The fitted classifier.
        """
        return self._fit(X, y)

    def _votes(self, X):
        """Weighted votes, one (n_queries, n_classes) array per output."""
        dist, ind = self._neighbors_for_predict(X)
        weights = _get_weights(dist, self.weights)
        _check_weights_not_all_zero(weights)
        if self.outputs_2d_:
            y, classes = self._y, self.classes_
        else:
            y, classes = self._y.reshape(-1, 1), [self.classes_]
        return [_weighted_votes(y[:, j][ind], len(c), weights)
                for j, c in enumerate(classes)]

    def predict(self, X):
        """Predict the class of every query: the weighted mode of its neighbours.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features), or \
                (n_queries, n_samples) if metric == "precomputed", or None
            Query points. ``None`` predicts every training point from its
            neighbours other than itself (leave-one-out).

        Returns
        -------
        y : ndarray of shape (n_queries,) or (n_queries, n_outputs)
            Predicted class labels.
        """
        check_is_fitted(self, "_fit_method")
        votes = self._votes(X)
        classes = self.classes_ if self.outputs_2d_ else [self.classes_]
        y_pred = np.empty((votes[0].shape[0], len(classes)), dtype=classes[0].dtype)
        for j, (v, c) in enumerate(zip(votes, classes)):
            y_pred[:, j] = c[np.argmax(v, axis=1)]
        return y_pred if self.outputs_2d_ else y_pred.ravel()

    def predict_proba(self, X):
        """Class probabilities: the weighted share of each class among the neighbours.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features), or \
                (n_queries, n_samples) if metric == "precomputed", or None
            Query points. ``None`` uses the training points, each without itself.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes) or list of n_outputs such arrays
            Probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self, "_fit_method")
        probabilities = []
        for v in self._votes(X):
            probabilities.append(v / v.sum(axis=1)[:, np.newaxis])
        return probabilities if self.outputs_2d_ else probabilities[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
