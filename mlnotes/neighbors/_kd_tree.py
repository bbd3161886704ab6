"""The k-d tree: exact nearest-neighbour and radius queries (chapter 24 of the notes)."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array

from . import _neighbors_fast as _fast

__all__ = ["KDTree"]

# metric name -> (kernel code, the fixed p of that metric or None)
_TREE_METRICS = {
    "euclidean": (_fast.EUCLIDEAN, 2.0),
    "l2": (_fast.EUCLIDEAN, 2.0),
    "manhattan": (_fast.MANHATTAN, 1.0),
    "cityblock": (_fast.MANHATTAN, 1.0),
    "l1": (_fast.MANHATTAN, 1.0),
    "chebyshev": (_fast.CHEBYSHEV, np.inf),
    "infinity": (_fast.CHEBYSHEV, np.inf),
    "minkowski": (_fast.MINKOWSKI, None),
    "p": (_fast.MINKOWSKI, None),
}


def _resolve_metric(metric, kwargs, owner="KDTree"):
    """``(code, p)`` of a Minkowski-family metric name and its keyword arguments.

    ``minkowski`` (alias ``p``) takes ``p`` (default 2) and becomes the Euclidean,
    Manhattan or Chebyshev kernel for ``p`` = 2, 1, inf; the named metrics take no
    arguments. Raises ``ValueError`` for another metric, ``p <= 0`` or a weight
    vector ``w``, ``TypeError`` for unknown keyword arguments.
    """
    if not isinstance(metric, str) or metric not in _TREE_METRICS:
        raise ValueError(
            f"metric {metric!r} is not valid for {owner}; valid metrics are "
            f"{sorted(_TREE_METRICS)}."
        )
    code, p = _TREE_METRICS[metric]
    kwargs = dict(kwargs)
    if code == _fast.MINKOWSKI:
        p = kwargs.pop("p", 2)
        w = kwargs.pop("w", None)
        if w is not None:
            raise ValueError(
                f"{owner} does not support the weighted Minkowski metric (w={w!r}); "
                "use algorithm='brute'."
            )
        if not isinstance(p, Real) or isinstance(p, bool) or not p > 0:
            raise ValueError(f"p must be greater than 0, got p={p!r}.")
        p = float(p)
        if p == 1:
            code = _fast.MANHATTAN
        elif p == 2:
            code = _fast.EUCLIDEAN
        elif math.isinf(p):
            code = _fast.CHEBYSHEV
    if kwargs:
        raise TypeError(
            f"metric {metric!r} got unexpected keyword arguments {sorted(kwargs)}."
        )
    return code, float(p)


def _reduce_radius(r, code, p):
    """Radius in the units of the reduced distance (negative radii match nothing)."""
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if code == _fast.EUCLIDEAN:
            red = r * r
        elif code == _fast.MINKOWSKI:
            red = np.abs(r) ** p
        else:
            red = r.copy()
    return np.where(r >= 0, red, -1.0)


class KDTree:
    r"""k-d tree for fast exact nearest-neighbour queries (scikit-learn's ``KDTree``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The points to index. They are validated (finite, 2-D) and converted to
        float64; a permuted copy in tree order is kept, so later changes to ``X``
        do not affect the queries.
    leaf_size : int, default=40
        Number of points at which the splitting stops: leaves hold between
        ``leaf_size`` and ``2 * leaf_size`` points (fewer when ``n_samples`` is
        small). It changes the speed, never the results.
    metric : str, default="minkowski"
        ``"euclidean"`` (``"l2"``), ``"manhattan"`` (``"cityblock"``, ``"l1"``),
        ``"chebyshev"`` (``"infinity"``) or ``"minkowski"`` (``"p"``) with the
        keyword ``p``. ``KDTree.valid_metrics`` lists them.
    **kwargs : dict
        Parameters of the metric: ``p`` (float > 0, default 2) for
        ``"minkowski"``; ``p`` = 1, 2 and ``inf`` use the Manhattan, Euclidean
        and Chebyshev kernels. The weighted Minkowski metric (``w``) is not
        supported.

    Attributes
    ----------
    data : ndarray of shape (n_samples, n_features)
        The indexed points, in their original order.
    idx_array : ndarray of shape (n_samples,)
        The permutation of the points into tree order: node ``i`` owns
        ``idx_array[node_data[i]["idx_start"]:node_data[i]["idx_end"]]``.
    node_data : ndarray of shape (n_nodes,)
        Structured array with the fields ``idx_start``, ``idx_end``, ``is_leaf``
        and ``radius`` (half the diagonal of the node's bounding box in the
        metric), as in scikit-learn.
    node_bounds : ndarray of shape (2, n_nodes, n_features)
        Lower and upper corners of the bounding box of every node.
    leaf_size : int
        The ``leaf_size`` given.
    n_levels : int
        Depth of the (complete, binary) tree.
    n_nodes : int
        ``2 ** n_levels - 1``.
    valid_metrics : list of str
        The metric names this class accepts (a class attribute).

    See Also
    --------
    KNeighborsClassifier : classifier that searches its neighbours with this tree
        (``algorithm="kd_tree"``).

    Notes
    -----
    Chapter 24 of the notes (nearest-neighbour methods). *Construction*: the
    root holds all points; a node of :math:`m` points whose depth is less than
    :math:`L - 1`, with :math:`L = 1 + \lfloor \log_2 \max(1, (n-1)/\ell)
    \rfloor` levels for leaf size :math:`\ell`, splits along its widest
    dimension

    .. math::

        j^\star = \arg\max_j \Big(\max_{i \in \text{node}} x_{ij}
                                  - \min_{i \in \text{node}} x_{ij}\Big)

    at the median: the :math:`\lfloor m/2 \rfloor` points with the smallest
    :math:`x_{ij^\star}` (ties by index) go to the left child, the others to the
    right one (a linear-time selection, so the build costs
    :math:`O(n d \log n)`). Every node stores the bounding box
    :math:`[l, u] \subset \mathbb{R}^d` of its points.

    *Query and pruning test*: the :math:`k` best candidates so far sit in a
    bounded max-heap whose root :math:`r_k` is the distance of the :math:`k`-th
    best (:math:`+\infty` at first). The search descends depth-first, into the
    nearer child first, and skips a node whenever the distance from the query
    :math:`q` to the node's box already exceeds :math:`r_k`:

    .. math::

        d_{\min}(q, [l, u]) = \Big\| \big(\max(l_j - q_j,\; 0,\; q_j - u_j)\big)_{j=1}^d
        \Big\|_p > r_k \quad\Longrightarrow\quad \text{prune},

    which is exact: no point of the box can be closer than :math:`d_{\min}`.
    Distances are compared in a reduced form (:math:`\sum_j |\cdot|^p`, the
    squared distance for :math:`p = 2`) and the :math:`p`-th root is taken only
    for the returned distances. In low dimension a query costs about
    :math:`O(\log n)`; as :math:`d` grows the boxes overlap every query ball and
    the tree degrades towards brute force.

    The tree is built by the same rule as scikit-learn's, so it has the same
    nodes with the same points and bounds (``idx_array`` may order the points
    within a node differently). Differences: the queries are compiled (numba)
    and iterative, and the points are read from a copy of ``X`` in tree order;
    ``dualtree=True`` runs the single-tree search (the answer is the same).

    *Kernel density* (:meth:`kernel_density`): for bandwidth :math:`h`,

    .. math::

        \hat p(x) = C_h \sum_{i=1}^n K\big(d(x, x_i) / h\big), \qquad
        C_h = \Big(\int_{\mathbb{R}^d} K(\|u\| / h)\, du\Big)^{-1},

    with :math:`K(t) = e^{-t^2/2}` (gaussian), :math:`[t < 1]` (tophat),
    :math:`1 - t^2` (epanechnikov), :math:`e^{-t}` (exponential), :math:`1 - t`
    (linear), :math:`\cos(\pi t / 2)` (cosine), the compact ones zero for
    :math:`t \ge 1`. The normalisation is that of the Euclidean metric (as
    scikit-learn's). The sums are exact, computed in log space (log-sum-exp);
    the compact kernels sum over a radius query of the tree, the others over
    every point (compiled), so ``atol``/``rtol`` are met with margin.
    *Two-point correlation* (:meth:`two_point_correlation`): for each radius
    :math:`r`, the number of pairs :math:`\#\{(i, j) : d(x_i, y_j) \le r\}`
    between the queries and the indexed points, by radius counts on the tree.
    See the :ref:`User Guide <user-guide-neighbors>`.

    References
    ----------
    J. L. Bentley, "Multidimensional binary search trees used for associative
    searching", *Communications of the ACM* 18(9), 1975.

    J. H. Friedman, J. L. Bentley and R. A. Finkel, "An algorithm for finding
    best matches in logarithmic expected time", *ACM Transactions on
    Mathematical Software* 3(3), 1977.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.neighbors import KDTree
    >>> rng = np.random.RandomState(0)
    >>> X = rng.random_sample((10, 3))
    >>> tree = KDTree(X, leaf_size=2)
    >>> dist, ind = tree.query(X[:1], k=3)
    >>> ind
    array([[0, 3, 1]])
    >>> np.round(dist, 3)
    array([[0.   , 0.197, 0.295]])
    >>> tree.query_radius(X[:1], r=0.3, count_only=True)
    array([3])
    """

    valid_metrics = ["euclidean", "l2", "minkowski", "p", "manhattan", "cityblock", "l1",
                     "chebyshev", "infinity"]

    def __init__(self, X, leaf_size=40, metric="minkowski", **kwargs):
        data = check_array(X, dtype=np.float64, order="C")
        if data.size == 0:
            raise ValueError("X is an empty array")
        if not isinstance(leaf_size, Integral) or isinstance(leaf_size, bool):
            raise TypeError(f"leaf_size must be an integer, got {leaf_size!r}.")
        if leaf_size < 1:
            raise ValueError("leaf_size must be greater than or equal to 1")
        code, p = _resolve_metric(metric, kwargs)
        n_samples, n_features = data.shape
        self.data = data
        self.leaf_size = int(leaf_size)
        self.metric = metric
        self.n_levels = int(np.log2(max(1.0, (n_samples - 1) / self.leaf_size)) + 1)
        self.n_nodes = 2 ** self.n_levels - 1
        self._code, self._p = code, p
        idx, start, end, is_leaf, lower, upper, pdata = _fast.kd_build(data,
                                                                       self.n_levels)
        self.idx_array = idx
        self._node_start, self._node_end, self._is_leaf = start, end, is_leaf
        self.node_bounds = np.stack([lower, upper])
        self.node_data = self._node_data()
        self._pdata = pdata

    # ------------------------------------------------------------------ arrays

    def _node_data(self):
        """Node ranges, leaf flags and radii, as scikit-learn's structured array."""
        out = np.zeros(self.n_nodes, dtype=[("idx_start", np.intp), ("idx_end", np.intp),
                                            ("is_leaf", np.intp), ("radius", np.float64)])
        out["idx_start"] = self._node_start
        out["idx_end"] = self._node_end
        out["is_leaf"] = self._is_leaf
        half = 0.5 * np.abs(self.node_bounds[1] - self.node_bounds[0])
        if self._code == _fast.CHEBYSHEV:
            out["radius"] = half.max(axis=1)
        else:
            out["radius"] = (half ** self._p).sum(axis=1) ** (1.0 / self._p)
        return out

    def get_arrays(self):
        """Data and node arrays of the tree.

        Returns
        -------
        arrays : tuple of ndarray
            ``(data, idx_array, node_data, node_bounds)``, as scikit-learn's
            ``KDTree.get_arrays``.
        """
        return self.data, self.idx_array, self.node_data, self.node_bounds

    def _check_query(self, X):
        X = check_array(X, dtype=np.float64, order="C")
        if X.shape[1] != self.data.shape[1]:
            raise ValueError("query data dimension must match training data dimension")
        return X

    def _kernel_args(self):
        return (self._pdata, self.idx_array, self._node_start, self._node_end,
                self._is_leaf, self.node_bounds[0], self.node_bounds[1], self.n_levels)

    # ------------------------------------------------------------------ queries

    def query(self, X, k=1, return_distance=True, dualtree=False, breadth_first=False,
              sort_results=True):
        """Query the tree for the k nearest neighbours of every row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            The query points.
        k : int, default=1
            Number of neighbours to return, at most ``n_samples``.
        return_distance : bool, default=True
            Whether to return the distances as well as the indices.
        dualtree : bool, default=False
            Accepted for compatibility: the single-tree search runs either way
            (the neighbours found are the same).
        breadth_first : bool, default=False
            Visit the nodes in order of their distance to the query (a node
            heap) instead of depth first; the answer is the same.
        sort_results : bool, default=True
            Neighbours are always returned sorted by distance (ties by index),
            which is one valid order when this is False.

        Returns
        -------
        dist : ndarray of shape (n_queries, k)
            Distances to the neighbours, increasing; only if
            ``return_distance``.
        ind : ndarray of shape (n_queries, k)
            Indices (rows of ``data``) of the neighbours.
        """
        del dualtree, sort_results
        X = self._check_query(X)
        if not isinstance(k, Integral) or isinstance(k, bool):
            raise TypeError(f"k must be an integer, got {k!r}.")
        if k < 0:
            raise ValueError(f"k must be non-negative, got k={k}.")
        if self.data.shape[0] < k:
            raise ValueError("k must be less than or equal to the number of training points")
        dist, ind = self._query(X, int(k), bool(breadth_first))
        return (dist, ind) if return_distance else ind

    def _query(self, X, k, breadth_first=False):
        """k-NN query of validated float64 C-ordered ``X`` (no checks)."""
        n = X.shape[0]
        dist = np.empty((n, k))
        ind = np.empty((n, k), dtype=np.intp)
        if k > 0 and n > 0:
            _fast.kd_query(*self._kernel_args(), X, k, self._code, self._p, breadth_first,
                           dist, ind)
            _fast.rdist_to_dist(dist, self._code, self._p)
        return dist, ind

    def kernel_density(self, X, h, kernel="gaussian", atol=0, rtol=1e-8,
                       breadth_first=True, return_log=False):
        r"""Kernel density estimate at the query points, with the indexed points.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            The points where the density is evaluated.
        h : float
            The bandwidth of the kernel (> 0).
        kernel : {"gaussian", "tophat", "epanechnikov", "exponential", "linear", \
                "cosine"}, default="gaussian"
            The kernel (see Notes).
        atol : float, default=0
            Absolute tolerance allowed by scikit-learn's approximation; the sum
            computed here is exact, so any tolerance is met.
        rtol : float, default=1e-8
            Relative tolerance, likewise met.
        breadth_first : bool, default=True
            Accepted for compatibility (the result does not depend on it).
        return_log : bool, default=False
            Return the log of the density (finite far from the data, where the
            density itself underflows to 0).

        Returns
        -------
        density : ndarray of shape (n_queries,)
            :math:`\hat p(x)` (or its log) at every query: the kernel sum times
            the normalisation constant of the kernel in ``n_features``
            dimensions; not divided by ``n_samples``, as scikit-learn's.
        """
        del breadth_first
        from . import _kde_fast  # (its kernels are compiled only when used)

        if kernel not in _kde_fast.KERNELS:
            raise ValueError(f"kernel = '{kernel}' not recognized")
        if not isinstance(h, Real) or isinstance(h, bool) or not h > 0:
            raise ValueError(f"h must be a positive number, got h={h!r}.")
        if atol < 0 or rtol < 0:
            raise ValueError("atol and rtol must be non-negative.")
        X = self._check_query(X)
        h = float(h)
        out = np.empty(X.shape[0])
        code = _kde_fast.KERNELS[kernel]
        if X.shape[0]:
            if kernel in _kde_fast.COMPACT:
                r_red = _reduce_radius(np.full(X.shape[0], h), self._code, self._p)
                counts, _, flat_rd = _fast.kd_query_radius(
                    *self._kernel_args(), X, r_red, self._code, self._p, False, True)
                _fast.rdist_to_dist(flat_rd, self._code, self._p)
                _kde_fast.kde_from_radius(counts, flat_rd, h, code, out)
            else:
                _kde_fast.kde_brute(self._pdata, X, h, code, self._code, self._p, out)
        out += _kde_fast.log_kernel_norm(h, self.data.shape[1], kernel)
        return out if return_log else np.exp(out)

    def two_point_correlation(self, X, r, dualtree=False):
        """Number of pairs (query, indexed point) within each distance ``r``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            The query points.
        r : float or array-like of shape (n_radii,)
            The distances; a pair counts for every ``r`` at least its distance.
        dualtree : bool, default=False
            Accepted for compatibility (single-tree counts; the same answer).

        Returns
        -------
        counts : ndarray of shape (n_radii,)
            ``counts[i]`` is the number of pairs at distance at most ``r[i]``
            (scikit-learn's equal these for increasing ``r``; for unsorted ``r``
            scikit-learn returns them in the order of the sorted radii).
        """
        del dualtree
        X = self._check_query(X)
        r = np.atleast_1d(np.asarray(r, dtype=np.float64))
        if r.ndim != 1:
            raise ValueError("r must be a 1-dimensional array")
        if np.isnan(r).any():
            raise ValueError("r must not contain NaN.")
        counts = np.zeros(r.shape[0], dtype=np.intp)
        for i, radius in enumerate(r):
            r_red = _reduce_radius(np.full(X.shape[0], radius), self._code, self._p)
            c, _, _ = _fast.kd_query_radius(*self._kernel_args(), X, r_red, self._code,
                                            self._p, True, False)
            counts[i] = int(c.sum())
        return counts

    def query_radius(self, X, r, return_distance=False, count_only=False,
                     sort_results=False):
        """Query the tree for the neighbours within distance ``r`` of every row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            The query points.
        r : float or array-like of shape (n_queries,)
            The radius (points at distance exactly ``r`` are included), one for
            all queries or one per query.
        return_distance : bool, default=False
            Whether to return the distances as well.
        count_only : bool, default=False
            Return only the number of neighbours of every query.
        sort_results : bool, default=False
            Sort every query's neighbours by distance (requires
            ``return_distance=True``); otherwise their order is arbitrary.

        Returns
        -------
        count : ndarray of shape (n_queries,)
            Number of neighbours; if ``count_only``.
        ind : ndarray of shape (n_queries,), dtype=object
            One integer array of neighbour indices per query; otherwise.
        dist : ndarray of shape (n_queries,), dtype=object
            One array of the corresponding distances per query; if
            ``return_distance`` (returned as ``(ind, dist)``).
        """
        if count_only and return_distance:
            raise ValueError("count_only and return_distance cannot both be true")
        if sort_results and not return_distance:
            raise ValueError("return_distance must be True if sort_results is True")
        X = self._check_query(X)
        n = X.shape[0]
        r = np.atleast_1d(np.asarray(r, dtype=np.float64))
        if r.shape == (1,):
            r = np.full(n, r[0])
        elif r.shape != (n,):
            raise ValueError("r must be broadcastable to X.shape")
        if np.isnan(r).any():
            raise ValueError("r must not contain NaN.")
        r_red = _reduce_radius(r, self._code, self._p)
        counts, flat_ind, flat_rd = _fast.kd_query_radius(
            *self._kernel_args(), X, r_red, self._code, self._p, bool(count_only),
            bool(return_distance))
        if count_only:
            return counts.astype(np.intp, copy=False)
        splits = np.cumsum(counts)[:-1]
        ind = np.empty(n, dtype=object)
        for i, a in enumerate(np.split(flat_ind, splits)):
            ind[i] = a.astype(np.intp, copy=False)
        if not return_distance:
            return ind
        _fast.rdist_to_dist(flat_rd, self._code, self._p)
        dist = np.empty(n, dtype=object)
        for i, a in enumerate(np.split(flat_rd, splits)):
            dist[i] = a
        if sort_results:
            for i in range(n):
                order = np.argsort(dist[i], kind="stable")
                dist[i] = dist[i][order]
                ind[i] = ind[i][order]
        return ind, dist
