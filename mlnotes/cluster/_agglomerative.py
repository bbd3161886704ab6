r"""Agglomerative (hierarchical) clustering: ward, complete, average, single (chapter 19)."""

import heapq
from numbers import Integral, Real

import numpy as np
from scipy.spatial.distance import pdist, squareform
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.metrics.pairwise import _VALID_METRICS
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils import check_array
from sklearn.utils.validation import check_memory, validate_data

from ._hierarchical_fast import (
    AVERAGE,
    CITYBLOCK,
    COMPLETE,
    CONDENSED,
    SINGLE,
    SQEUCLIDEAN,
    WARD,
    condensed_cityblock,
    condensed_sqeuclidean,
    cut_labels,
    label_mst,
    nn_chain,
    nn_chain_square,
    prim_mst,
    sort_and_label,
    square_distances,
)
from ._structured import (
    fix_connectivity,
    labels_from_parents,
    structured_linkage,
    structured_ward,
)

__all__ = ["AgglomerativeClustering"]

_METHODS = {"ward": WARD, "complete": COMPLETE, "average": AVERAGE, "single": SINGLE}
_EUCLIDEAN = {"euclidean", "l2"}
_CITYBLOCK = {"l1", "manhattan", "cityblock"}
# single linkage: metrics scikit-learn computes with its own minimum spanning tree
# (the others go through scipy, which names the two merged clusters in another order)
_SKLEARN_MST_METRICS = {
    "braycurtis", "canberra", "chebyshev", "cityblock", "dice", "euclidean", "hamming",
    "jaccard", "l1", "l2", "mahalanobis", "manhattan", "matching", "minkowski",
    "rogerstanimoto", "russellrao", "seuclidean", "sokalsneath",
}
# up to this many samples the merge loop works on the full (n, n) distance matrix
# (8 n^2 bytes; rows are contiguous), above it on the condensed triangle (half that)
_SQUARE_MAX = 8192


def _pairwise_distances(X, metric, square):
    """Distance matrix, full ``(n, n)`` if ``square`` else condensed, and whether it
    holds *squared* Euclidean distances. Always a fresh, writable float64 array."""
    n = X.shape[0]
    if metric == "precomputed" or callable(metric):
        if metric == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError("Distance matrix should be square, got matrix of shape "
                                 f"{X.shape}")
            M = X
        else:
            M = np.asarray(metric(X), dtype=np.float64)
        if square:
            M = np.array(M, dtype=np.float64, order="C", copy=True)
            np.fill_diagonal(M, 0.0)
            return M, False
        i, j = np.triu_indices(n, k=1)
        return np.ascontiguousarray(M[i, j], dtype=np.float64), False
    squared = metric in _EUCLIDEAN
    if squared or metric in _CITYBLOCK:
        code = SQEUCLIDEAN if squared else CITYBLOCK
        if square:
            return square_distances(X, code), squared
        fn = condensed_sqeuclidean if squared else condensed_cityblock
        return fn(X), squared
    D = np.ascontiguousarray(pdist(X, metric=metric), dtype=np.float64)
    return (squareform(D) if square else D), False


def _surely_finite(X, metric):
    """Whether every (squared Euclidean or Manhattan) distance between rows of X is
    finite, from a bound computed in O(n d): twice the largest norm about the mean
    (squared for Euclidean distances). False means "not known": scan them."""
    if not isinstance(metric, str) or not (metric in _EUCLIDEAN or metric in _CITYBLOCK):
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        Xc = X - X.mean(axis=0)
        if metric in _EUCLIDEAN:
            bound = 4.0 * np.max(np.einsum("ij,ij->i", Xc, Xc))
        else:
            bound = 2.0 * np.max(np.abs(Xc).sum(axis=1))
    return bool(np.isfinite(bound))


def _build_tree(X, linkage, metric):
    """Full merge tree: ``children`` (n - 1, 2) int and ``distances`` (n - 1,)."""
    n = X.shape[0]
    X = np.ascontiguousarray(X, dtype=np.float64)
    named = isinstance(metric, str)
    finite = _surely_finite(X, metric)
    if linkage == "single" and named and (metric in _EUCLIDEAN or metric in _CITYBLOCK):
        # Prim's tree with distances computed on the fly: O(n) memory
        code = SQEUCLIDEAN if metric in _EUCLIDEAN else CITYBLOCK
        mst = prim_mst(X, np.empty(0), n, code)
        squared = code == SQEUCLIDEAN
    else:
        square = n <= _SQUARE_MAX and linkage != "single"
        D, squared = _pairwise_distances(X, metric, square)
        if linkage == "average" and squared:
            D = np.sqrt(D, out=D)  # average linkage averages distances, not squares
            squared = False
        if not finite:
            # the compiled merge loops must never see inf/NaN (they would index
            # out of bounds): refuse overflowing distances here
            _check_finite_distances(D)
        if linkage == "single":
            mst = prim_mst(np.empty((1, 1)), D, n, CONDENSED)
        else:
            # ward on squared Euclidean distances: its Lance-Williams update is linear
            # there; complete linkage is unchanged by squaring (a monotone map)
            method = _METHODS[linkage]
            Z = nn_chain_square(D, method) if square else nn_chain(D, n, method)
            Z = sort_and_label(Z, n)
    if linkage == "single":
        mst = mst[np.argsort(mst[:, 2], kind="mergesort")]
        if named and metric in _SKLEARN_MST_METRICS:
            Z = label_mst(mst, n)  # scikit-learn's own single linkage
        else:
            # scikit-learn hands these metrics to scipy, which orders each pair
            Z = sort_and_label(np.column_stack([mst, np.zeros(n - 1)]), n)
    distances = Z[:, 2]
    if squared:
        distances = np.sqrt(np.maximum(distances, 0.0))
    return Z[:, :2].astype(np.intp), np.ascontiguousarray(distances)


def _build_structured_tree(X, connectivity, n_clusters, linkage, metric):
    """Merge tree under a connectivity graph: ``(children, parents, distances,
    n_connected_components)``; the tree stops at ``n_clusters`` unless None."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    fix_metric = "euclidean" if linkage == "ward" else metric
    graph, n_components = fix_connectivity(X, connectivity, fix_metric)
    if linkage == "ward":
        children, parents, distances = structured_ward(X, graph, n_clusters)
    else:
        if n_clusters is not None and n_clusters > X.shape[0]:
            raise ValueError(
                f"Cannot provide more clusters than samples. {n_clusters} n_clusters "
                f"was asked, and there are {X.shape[0]} samples.")
        children, parents, distances = structured_linkage(X, graph, n_clusters,
                                                          linkage, metric)
    return children, parents, distances, n_components


def _check_finite_distances(distances):
    """A merge distance that overflowed (inf) or became NaN makes the tree
    meaningless: refuse instead of returning arbitrary labels."""
    if distances.size and not np.all(np.isfinite(distances)):
        raise ValueError(
            "The merge distances are not finite: the distances between samples "
            "overflow float64 (values too large in magnitude, e.g. ~1e300) or are "
            "infinite. Rescale X (e.g. with StandardScaler) before clustering."
        )


def _hc_cut(n_clusters, children, n_leaves):
    """Labels of the leaves when the tree is cut into ``n_clusters`` clusters.

    Starting from the root, the most recent merge is undone ``n_clusters - 1``
    times (a heap keeps the largest node id on top); the remaining roots are
    numbered in heap order, as scikit-learn does.
    """
    if n_clusters > n_leaves:
        raise ValueError("Cannot extract more clusters than samples: "
                         f"{n_clusters} clusters were given for a tree with "
                         f"{n_leaves} leaves.")
    nodes = [-(int(max(children[-1])) + 1)]
    for _ in range(n_clusters - 1):
        left, right = children[-nodes[0] - n_leaves]
        heapq.heappush(nodes, -int(left))
        heapq.heappushpop(nodes, -int(right))
    roots = np.array([-node for node in nodes], dtype=np.int64)
    return cut_labels(np.ascontiguousarray(children, dtype=np.int64), n_leaves, roots)


class AgglomerativeClustering(ClusterMixin, BaseEstimator):
    r"""Agglomerative clustering: merge the two closest clusters until one is left.

    Parameters
    ----------
    n_clusters : int or None, default=2
        Number of clusters to return; must be None if ``distance_threshold``
        is set.
    metric : str or callable, default="euclidean"
        Distance between samples: ``"euclidean"`` (``"l2"``), ``"manhattan"``
        (``"l1"``, ``"cityblock"``), ``"cosine"``, any metric of
        :func:`scipy.spatial.distance.pdist`, ``"precomputed"`` (``X`` is a
        distance matrix) or a callable returning the distance matrix of ``X``.
        Ward linkage needs Euclidean distances.
    memory : str or object with the joblib.Memory interface, default=None
        Where to cache the tree (no caching if None).
    connectivity : array-like, sparse matrix or callable, default=None
        Connectivity graph of shape (n_samples, n_samples) (e.g. from
        :func:`sklearn.neighbors.kneighbors_graph`), or a callable mapping ``X``
        to one: only clusters joined by an edge may merge (structured
        clustering). The graph is made symmetric; if it has several connected
        components a ``UserWarning`` is raised and they are joined by an edge
        between their closest points, as in scikit-learn. None: unstructured.
    compute_full_tree : "auto" or bool, default="auto"
        With a connectivity graph, False stops building the tree at
        ``n_clusters`` clusters (faster for many clusters); "auto" does so when
        ``n_clusters >= max(100, 0.02 * n_samples)``. Without connectivity the
        full tree is always built. Must not be False with
        ``distance_threshold``.
    linkage : {"ward", "complete", "average", "single"}, default="ward"
        Distance between clusters: the increase of within-cluster variance
        (ward), the largest, mean or smallest distance between their points.
    distance_threshold : float, default=None
        Cut the tree where merge distances reach this value instead of at
        ``n_clusters`` clusters.
    compute_distances : bool, default=False
        Store the merge distances in ``distances_`` even without
        ``distance_threshold``.

    Attributes
    ----------
    n_clusters_ : int
        Number of clusters found.
    labels_ : ndarray of shape (n_samples,)
        Cluster label of each point.
    n_leaves_ : int
        Number of leaves of the tree (``n_samples``).
    n_connected_components_ : int
        Connected components of the connectivity graph before it was completed
        (1 without connectivity).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    children_ : ndarray of shape (n_samples - 1, 2)
        The two nodes merged at step ``i``, forming node ``n_samples + i``;
        nodes below ``n_samples`` are the samples (fewer rows when the
        structured tree stops early, ``compute_full_tree=False``).
    distances_ : ndarray of shape (n_samples - 1,)
        Merge distances (with ``distance_threshold`` or ``compute_distances``).

    See Also
    --------
    KMeans : flat clustering minimising the same within-cluster variance that
        ward linkage greedily increases least.

    Notes
    -----
    Chapter 19 of the notes. Starting from singletons, the two clusters
    :math:`A, B` at the smallest linkage distance are merged, and the distance
    from the union to every other cluster :math:`C` follows from the old ones by
    the Lance-Williams update (:math:`n_\cdot` are cluster sizes):

    .. math::

        d(A \cup B, C) =
        \begin{cases}
        \min(d(A, C), d(B, C)) & \text{single} \\
        \max(d(A, C), d(B, C)) & \text{complete} \\
        \dfrac{n_A d(A, C) + n_B d(B, C)}{n_A + n_B} & \text{average} \\
        \sqrt{\dfrac{(n_A + n_C) d(A, C)^2 + (n_B + n_C) d(B, C)^2
                    - n_C d(A, B)^2}{n_A + n_B + n_C}} & \text{ward}
        \end{cases}

    where the ward distance :math:`d(A, B)^2 = \frac{2 n_A n_B}{n_A + n_B}
    \|\mu_A - \mu_B\|^2` is twice the increase of the within-cluster sum of
    squares caused by the merge.

    These four linkages are *reducible*, so the merges can be found with the
    nearest-neighbour-chain algorithm: follow nearest neighbours until two
    clusters are each other's nearest neighbour, merge them, continue from the
    rest of the chain. With a condensed distance matrix updated in place this
    is :math:`O(n^2)` time and memory, compiled with numba (ward works on
    squared distances, where its update is linear, and takes square roots at
    the end). Single linkage uses Prim's minimum spanning tree instead, with
    distances computed on the fly for Euclidean and Manhattan metrics
    (:math:`O(n)` memory). The merges are then sorted by distance and named as
    in scipy and scikit-learn, so ``children_``, ``distances_`` and
    ``labels_`` are scikit-learn's on data without ties.

    *Structured clustering* (``connectivity``): only clusters joined by an edge
    of the graph may merge, so the greedy search cannot use the chain
    algorithm; the candidate merges sit in a binary heap keyed by their linkage
    distance (ward: :math:`\frac{n_A n_B}{n_A + n_B}\|\mu_A - \mu_B\|^2`,
    from the clusters' sizes and sums; complete and average: the
    Lance-Williams update above over the edges of the two children, a
    neighbour linked to only one child keeping that child's distance, as in
    scikit-learn), popped until both ends are still clusters. Single linkage
    with a graph is the minimum spanning tree of the graph weighted by the
    distances. The heap is driven in scikit-learn's order, so the trees (ties
    included) are scikit-learn's. A merge distance that overflows (inf or NaN,
    e.g. data of magnitude ~1e300) raises a ``ValueError``.

    See the :ref:`User Guide <user-guide-cluster>`.

    References
    ----------
    D. Müllner, "Modern hierarchical, agglomerative clustering algorithms",
    arXiv:1109.2378, 2011.

    G. N. Lance and W. T. Williams, "A general theory of classificatory sorting
    strategies: 1. hierarchical systems", *The Computer Journal* 9(4), 1967.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.cluster import AgglomerativeClustering
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 4], [4, 0]])
    >>> clustering = AgglomerativeClustering().fit(X)
    >>> clustering.labels_
    array([1, 1, 1, 0, 0, 0])
    >>> clustering.children_
    array([[0, 1],
           [3, 5],
           [2, 6],
           [4, 7],
           [8, 9]])
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
        "memory": [str, HasMethods("cache"), None],
        "connectivity": ["array-like", "sparse matrix", callable, None],
        "compute_full_tree": [StrOptions({"auto"}), "boolean"],
        "linkage": [StrOptions(set(_METHODS))],
        "distance_threshold": [Interval(Real, 0, None, closed="left"), None],
        "compute_distances": ["boolean"],
    }

    def __init__(self, n_clusters=2, *, metric="euclidean", memory=None, connectivity=None,
                 compute_full_tree="auto", linkage="ward", distance_threshold=None,
                 compute_distances=False):
        self.n_clusters = n_clusters
        self.metric = metric
        self.memory = memory
        self.connectivity = connectivity
        self.compute_full_tree = compute_full_tree
        self.linkage = linkage
        self.distance_threshold = distance_threshold
        self.compute_distances = compute_distances

    def fit(self, X, y=None):
        """Build the merge tree and cut it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Training points, or distances between them with
            ``metric="precomputed"``.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X = validate_data(self, X, ensure_min_samples=2)
        if not ((self.n_clusters is None) ^ (self.distance_threshold is None)):
            raise ValueError("Exactly one of n_clusters and distance_threshold has to be "
                             "set, and the other needs to be None.")
        if self.distance_threshold is not None and not self.compute_full_tree:
            raise ValueError("compute_full_tree must be True if distance_threshold is set.")
        if self.linkage == "ward" and self.metric not in _EUCLIDEAN:
            raise ValueError(f"{self.metric} was provided as metric. Ward can only work "
                             "with euclidean distances (i.e. 'euclidean' and 'l2').")
        if self.metric == "cosine" and np.any(~np.any(X, axis=1)):
            raise ValueError("Cosine affinity cannot be used when X contains zero vectors")

        memory = check_memory(self.memory)
        n_samples = X.shape[0]
        connectivity = self.connectivity
        if connectivity is not None:
            if callable(connectivity):
                connectivity = connectivity(X)
            connectivity = check_array(connectivity, accept_sparse=["csr", "coo", "lil"])
        compute_full_tree = self.compute_full_tree
        if connectivity is None:
            compute_full_tree = True
        if compute_full_tree == "auto":
            if self.distance_threshold is not None:
                compute_full_tree = True
            else:  # stopping early pays off only for many clusters (scikit-learn's rule)
                compute_full_tree = self.n_clusters < max(100, 0.02 * n_samples)
        n_stop = None if compute_full_tree else self.n_clusters
        if connectivity is None:
            children, distances = memory.cache(_build_tree)(X, self.linkage, self.metric)
            parents = None
            self.n_connected_components_ = 1
        else:
            children, parents, distances, self.n_connected_components_ = memory.cache(
                _build_structured_tree)(X, connectivity, n_stop, self.linkage, self.metric)
        _check_finite_distances(distances)
        self.children_ = children
        self.n_leaves_ = n_samples
        if self.distance_threshold is not None or self.compute_distances:
            self.distances_ = distances
        if self.distance_threshold is not None:
            self.n_clusters_ = int(np.count_nonzero(distances >= self.distance_threshold)) + 1
        else:
            self.n_clusters_ = self.n_clusters
        if compute_full_tree:
            self.labels_ = _hc_cut(self.n_clusters_, children, n_samples).astype(np.intp)
        else:
            self.labels_ = labels_from_parents(parents, n_samples)
        return self

    def fit_predict(self, X, y=None):
        """Fit the hierarchical clustering and return the cluster labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Training points, or distances with ``metric="precomputed"``.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster labels.
        """
        return self.fit(X).labels_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags
