"""Shared machinery of the k-nearest-neighbour estimators (chapter 24 of the notes).

:class:`_KNeighborsBase` validates the parameters and the data, resolves the metric
(``effective_metric_``), chooses the search (``"brute"`` or ``"kd_tree"``) and
answers :meth:`~_KNeighborsBase.kneighbors` queries; the classifier and the regressor
add only their prediction rule. The public methods validate, the private ones
(``_query``) compute.
"""

import numbers
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy.sparse import csr_array, issparse
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, MultiOutputMixin, is_classifier
from sklearn.exceptions import DataConversionWarning, EfficiencyWarning
from sklearn.metrics import DistanceMetric, pairwise_distances
from sklearn.metrics.pairwise import PAIRWISE_DISTANCE_FUNCTIONS
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _neighbors_fast as _fast
from ._kd_tree import KDTree, _resolve_metric
from ..utils._parallel import map_row_chunks

try:  # scikit-learn >= 1.8: sparse outputs follow the "sparse_interface" config
    from sklearn.utils import _align_api_if_sparse
except ImportError:  # pragma: no cover
    def _align_api_if_sparse(X):
        return X

# Metrics computed by scipy.spatial.distance.cdist (brute force only).
_SCIPY_METRICS = (
    "braycurtis", "canberra", "correlation", "cosine", "dice", "hamming", "jaccard",
    "mahalanobis", "rogerstanimoto", "russellrao", "seuclidean", "sokalsneath",
    "sqeuclidean", "yule",
)

#: metric names each search accepts, as scikit-learn's lists (``"ball_tree"`` runs
#: the k-d tree for the Minkowski family and brute force for the others, see the
#: ``algorithm`` parameter of the estimators).
#: (Written out rather than read from ``sklearn.neighbors``, whose import costs
#: about 0.1 s; tests/neighbors/test_knn.py checks them against scikit-learn's.)
VALID_METRICS = {
    "ball_tree": list(KDTree.valid_metrics) + [
        "seuclidean", "mahalanobis", "hamming", "canberra", "braycurtis", "jaccard",
        "dice", "rogerstanimoto", "russellrao", "sokalmichener", "sokalsneath",
        "haversine", "pyfunc"],
    "kd_tree": list(KDTree.valid_metrics),
    "brute": sorted(set(PAIRWISE_DISTANCE_FUNCTIONS) | set(_SCIPY_METRICS) | {
        "chebyshev", "minkowski"}),
}

#: metric names accepted with sparse X (brute force through
#: :func:`sklearn.metrics.pairwise_distances`, as scikit-learn).
VALID_METRICS_SPARSE = {
    "kd_tree": [],
    "ball_tree": [],
    "brute": sorted(set(PAIRWISE_DISTANCE_FUNCTIONS) - {"haversine", "nan_euclidean"}),
}

# Entries of a brute-force distance block computed at once by cdist (32 MB).
_CDIST_BLOCK = 1 << 22
# Below this many queries per thread, n_jobs > 1 does not split the work.
_MIN_ROWS_PER_THREAD = 256


def _indexed_points(X):
    """The points held by a k-d tree, ball tree or fitted neighbours estimator
    passed as ``X`` to ``fit`` (scikit-learn accepts those); other ``X`` as given."""
    from sklearn.neighbors import BallTree as _SkBallTree
    from sklearn.neighbors import KDTree as _SkKDTree

    if isinstance(X, (KDTree, _SkKDTree, _SkBallTree)):
        return np.asarray(X.data)
    if isinstance(X, BaseEstimator) and hasattr(X, "_fit_X") and \
            hasattr(X, "n_samples_fit_"):
        return X._fit_X
    return X


def _encode_labels(y):
    """``(classes, codes)`` as ``np.unique(y, return_inverse=True)``.

    For numeric labels the sorted classes come from numpy's hash-based unique and the
    codes from a binary search in them: the same arrays without sorting all of ``y``
    (3-5x faster on 100,000 labels; the sort was a third of a k-d tree fit on
    100,000 x 3). Other dtypes (strings, objects) take ``np.unique`` itself.
    """
    if y.dtype.kind in "biuf":
        classes = np.unique(y)
        if y.dtype.kind != "f" or not np.isnan(classes[-1]):
            return classes, np.searchsorted(classes, y)
    return np.unique(y, return_inverse=True)


def _get_weights(dist, weights):
    """Weights of the neighbours from their distances (None for uniform weights).

    ``"distance"`` weighs by ``1 / d``; in a row where some neighbour is at
    distance 0 those neighbours get weight 1 and the others 0, as scikit-learn.
    """
    if weights in (None, "uniform"):
        return None
    if weights == "distance":
        with np.errstate(divide="ignore"):
            w = 1.0 / dist
        inf_mask = np.isinf(w)
        inf_row = np.any(inf_mask, axis=1)
        w[inf_row] = inf_mask[inf_row]
        return w
    return weights(dist)


def _int32_indices(X):
    """CSR ``X`` with 32-bit indices when they fit (scikit-learn's sparse
    Manhattan kernel accepts only those); the data are not copied."""
    if X.indices.dtype == np.int32 and X.indptr.dtype == np.int32:
        return X
    if X.nnz >= np.iinfo(np.int32).max or max(X.shape) >= np.iinfo(np.int32).max:
        return X
    return type(X)((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                   shape=X.shape)


def _check_sparse_graph_format(X):
    """Sparse precomputed distances: formats whose explicit zeros are reliable."""
    if issparse(X) and X.format not in ("csr", "csc", "coo", "lil"):
        raise TypeError(
            f"Sparse matrix in {X.format!r} format is not supported due to its "
            "handling of explicit zeros"
        )


def _sort_graph_rows(graph):
    """Copy of a CSR distance graph with each row's stored entries sorted by
    distance (stable, so ties keep their stored order, as scikit-learn)."""
    if graph.nnz and np.any(graph.data < 0):
        raise ValueError("Negative values in data passed to precomputed distance "
                         "matrix.")
    graph = graph.copy()
    indptr = graph.indptr
    row = np.repeat(np.arange(graph.shape[0]), np.diff(indptr))
    if np.all((np.diff(graph.data) >= 0) | (np.diff(row) != 0)):
        return graph
    warnings.warn(
        "Precomputed sparse input was not sorted by row values. Use the function "
        "sklearn.neighbors.sort_graph_by_row_values to sort the input by row values, "
        "with warn_when_not_sorted=False to remove this warning.",
        EfficiencyWarning, stacklevel=4,
    )
    order = np.lexsort((graph.data, row))
    graph.data = graph.data[order]
    graph.indices = graph.indices[order]
    return graph


def _check_weights_not_all_zero(weights):
    if weights is not None and np.any(np.all(weights == 0, axis=1)):
        raise ValueError(
            "All neighbors of some sample is getting zero weights. Please modify "
            "'weights' to avoid this case if you are using a user-defined function."
        )


class _KNeighborsBase(MultiOutputMixin, BaseEstimator):
    """Parameters, fit and k-neighbour queries shared by the k-NN estimators."""

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "weights": [StrOptions({"uniform", "distance"}), callable, None],
        "algorithm": [StrOptions({"auto", "ball_tree", "kd_tree", "brute"})],
        "leaf_size": [Interval(Integral, 1, None, closed="left")],
        "p": [Interval(Real, 0, None, closed="right"), None],
        "metric": [StrOptions(set().union(*VALID_METRICS.values())), callable,
                   DistanceMetric],
        "metric_params": [dict, None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, n_neighbors=5, *, weights="uniform", algorithm="auto",
                 leaf_size=30, p=2, metric="minkowski", metric_params=None, n_jobs=None):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit

    def _check_algorithm_metric(self):
        """Errors and warnings of scikit-learn for the metric/algorithm pair (the
        list checked for ``algorithm="auto"`` is ball_tree's for a metric it
        knows, brute's otherwise)."""
        metric_object = isinstance(self.metric, DistanceMetric)
        if self.algorithm == "auto":
            if self.metric == "precomputed":
                check = "brute"
            elif callable(self.metric) or metric_object or \
                    self.metric in VALID_METRICS["ball_tree"]:
                check = "ball_tree"
            else:
                check = "brute"
        else:
            check = self.algorithm
        if callable(self.metric):
            if self.algorithm == "kd_tree":
                raise ValueError(
                    f"kd_tree does not support callable metric '{self.metric}'. "
                    "Function call overhead will result in very poor performance."
                )
        elif not metric_object and self.metric not in VALID_METRICS[check]:
            raise ValueError(
                f"Metric '{self.metric}' not valid. Use "
                f"sorted(mlnotes.neighbors.VALID_METRICS['{check}']) to get "
                "valid options. Metric can also be a callable function."
            )
        if self.metric_params is not None and "p" in self.metric_params \
                and self.p is not None:
            warnings.warn(
                "Parameter p is found in metric_params. The corresponding parameter "
                "from __init__ is ignored.", SyntaxWarning, stacklevel=3,
            )

    def _resolve_effective_metric(self):
        params = {} if self.metric_params is None else dict(self.metric_params)
        effective_p = params.get("p", self.p)
        if self.metric == "minkowski":
            params["p"] = effective_p
        metric = self.metric
        if metric == "minkowski":
            p = params.pop("p", 2)
            w = params.pop("w", None)
            if p == 1 and w is None:
                metric = "manhattan"
            elif p == 2 and w is None:
                metric = "euclidean"
            elif p == np.inf and w is None:
                metric = "chebyshev"
            else:
                params["p"] = p
                params["w"] = w
        self.effective_metric_ = metric
        self.effective_metric_params_ = params

    def _kernel_metric(self):
        """``(code, p)`` of the compiled kernels for the effective metric, or None
        (a metric outside the Minkowski family, or the weighted Minkowski one)."""
        metric, params = self.effective_metric_, dict(self.effective_metric_params_)
        if not isinstance(metric, str) or metric not in KDTree.valid_metrics:
            return None
        if params.pop("w", None) is not None:
            return None
        return _resolve_metric(metric, params, owner=type(self).__name__)

    def _finite(self):
        """``ensure_all_finite`` of the input checks: NaN allowed with nan_euclidean."""
        return "allow-nan" if self._allows_nan() else True

    def _allows_nan(self):
        return isinstance(self.metric, str) and self.metric == "nan_euclidean"

    def _fit(self, X, y):
        self._validate_params()
        X = _indexed_points(X)
        if self.metric == "precomputed":
            _check_sparse_graph_format(X)
        classifier = is_classifier(self)
        X, y = validate_data(self, X, y, multi_output=True, order="C", dtype=np.float64,
                             y_numeric=not classifier, accept_sparse="csr",
                             ensure_all_finite=self._finite())
        if classifier:
            if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
                if y.ndim != 1:
                    warnings.warn(
                        "A column-vector y was passed when a 1d array was expected. "
                        "Please change the shape of y to (n_samples,), for example "
                        "using ravel().", DataConversionWarning, stacklevel=3,
                    )
                self.outputs_2d_ = False
                y = y.reshape((-1, 1))
            else:
                self.outputs_2d_ = True
            check_classification_targets(y)
            classes = []
            self._y = np.empty(y.shape, dtype=np.intp)
            for k in range(y.shape[1]):
                cls_k, self._y[:, k] = _encode_labels(y[:, k])
                classes.append(cls_k)
            self.classes_ = classes if self.outputs_2d_ else classes[0]
            if not self.outputs_2d_:
                self._y = self._y.ravel()
        else:
            self._y = y

        self._check_algorithm_metric()
        self._resolve_effective_metric()

        if issparse(X):
            if self.metric == "precomputed" and X.shape[0] != X.shape[1]:
                raise ValueError(
                    "Precomputed matrix must be square. Input is a "
                    f"{X.shape[0]}x{X.shape[1]} matrix."
                )
            return self._fit_sparse(X)

        if self.metric == "precomputed":
            if np.any(X < 0):
                raise ValueError("Negative values in data passed to X.")
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "Precomputed matrix must be square. Input is a "
                    f"{X.shape[0]}x{X.shape[1]} matrix."
                )

        n_samples, n_features = X.shape
        self._fit_X = X
        self.n_samples_fit_ = n_samples
        self._kernel = None if self.metric == "precomputed" else self._kernel_metric()

        method = "kd_tree" if self.algorithm == "ball_tree" else self.algorithm
        if method == "auto":
            if self.metric == "precomputed" or n_features > 15 or (
                self.n_neighbors is not None and self.n_neighbors >= n_samples // 2
            ):
                method = "brute"
            elif self._kernel is not None and self.effective_metric_params_.get("p", 1) >= 1:
                method = "kd_tree"
            else:
                method = "brute"
        elif method == "kd_tree" and self._kernel is None:
            if self.algorithm == "kd_tree" and \
                    self.effective_metric_params_.get("w") is not None:
                raise ValueError(
                    "algorithm='kd_tree' is not valid for metric='minkowski' with a "
                    "weight parameter 'w': try algorithm='ball_tree' or algorithm='brute' "
                    "instead."
                )
            method = "brute"  # ball_tree with a metric the k-d tree does not know

        p_eff = self.effective_metric_params_.get("p")
        if self.effective_metric_ == "minkowski" and p_eff is not None and p_eff < 1:
            if method == "brute":
                warnings.warn(
                    "Mind that for 0 < p < 1, Minkowski metrics are not distance metrics."
                    " Continuing the execution with `algorithm='brute'`.", stacklevel=3,
                )
            else:
                raise ValueError(
                    f'algorithm="{self.algorithm}" does not support 0 < p < 1 for the '
                    "Minkowski metric. To resolve this problem either set p >= 1 or "
                    'algorithm="brute".'
                )

        self._fit_method = method
        self._tree = None
        self._fit_norms = self._fit_Xt = None
        if method == "kd_tree":
            code, p = self._kernel
            self._tree = KDTree(X, self.leaf_size, metric="minkowski", p=p)
        elif self._kernel is not None:
            code, _ = self._kernel
            if code == _fast.EUCLIDEAN:
                self._fit_norms = np.einsum("ij,ij->i", X, X)
            if code != _fast.EUCLIDEAN or n_features <= 3:
                self._fit_Xt = np.ascontiguousarray(X.T)
        return self

    def _check_sparse_metric(self):
        metric = self.effective_metric_
        if not callable(metric) and metric not in VALID_METRICS_SPARSE["brute"]:
            raise ValueError(
                f"Metric '{metric}' not valid for sparse input. Use "
                "sorted(mlnotes.neighbors.VALID_METRICS_SPARSE['brute']) to get valid "
                "options. Metric can also be a callable function."
            )

    def _fit_sparse(self, X):
        """Sparse X: brute force on a CSR copy, never densified."""
        if self.algorithm not in ("auto", "brute"):
            warnings.warn("cannot use tree with sparse input: using brute force",
                          stacklevel=3)
        self._check_sparse_metric()
        if self.metric == "precomputed":
            self._fit_X = _sort_graph_rows(X)
        else:
            self._fit_X = _int32_indices(X.copy())
        self.n_samples_fit_ = X.shape[0]
        self._kernel = None
        self._fit_method = "brute"
        self._tree = None
        self._fit_norms = self._fit_Xt = None
        return self

    # ------------------------------------------------------------------ queries

    def _validate_query(self, X):
        if self.metric != "precomputed":
            X = validate_data(self, X, reset=False, order="C", dtype=np.float64,
                              accept_sparse="csr", ensure_all_finite=self._finite())
            if issparse(X) and self._fit_method != "brute":
                tree = self.algorithm if self.algorithm == "ball_tree" else "kd_tree"
                raise ValueError(
                    f"{tree} does not work with sparse matrices. Densify the data, or "
                    "set algorithm='brute'"
                )
            if issparse(X):
                self._check_sparse_metric()
                X = _int32_indices(X)
            return X
        _check_sparse_graph_format(X)
        try:
            X = validate_data(self, X, reset=False, order="C", dtype=np.float64,
                              accept_sparse="csr")
        except ValueError as exc:
            shape = getattr(X, "shape", None) or np.shape(X)
            if len(shape) == 2 and shape[1] != self.n_samples_fit_:
                raise ValueError(
                    "Precomputed metric requires shape (n_queries, n_indexed). Got "
                    f"{tuple(shape)} for {self.n_samples_fit_} indexed. {exc}"
                ) from None
            raise
        if issparse(X):
            return _sort_graph_rows(X)
        if np.any(X < 0):
            raise ValueError("Negative values in data passed to X.")
        return X

    def _query_block(self, X, k):
        """``(dist, ind)`` of the ``k`` nearest fitted points of every row of ``X``."""
        n = X.shape[0]
        if self._fit_method == "kd_tree":
            return self._tree._query(X, k)
        dist = np.empty((n, k))
        ind = np.empty((n, k), dtype=np.intp)
        if n == 0:
            return dist, ind
        if self.metric == "precomputed" and issparse(X):
            self._query_graph(X, k, dist, ind)
        elif issparse(X) or issparse(self._fit_X):
            self._query_sparse(X, k, dist, ind)
        elif self.metric == "precomputed":
            _fast.select_k_smallest(X, k, dist, ind)
        elif self._kernel is not None:
            code, p = self._kernel
            if code == _fast.EUCLIDEAN:
                if self._fit_Xt is not None:
                    _fast.brute_euclidean_loop(X, self._fit_X, self._fit_Xt,
                                               self._fit_norms, k, dist, ind)
                else:
                    _fast.brute_euclidean_blas(X, self._fit_X, self._fit_norms, k,
                                               dist, ind)
            else:
                _fast.brute_minkowski(X, self._fit_Xt, k, code, p, dist, ind)
            _fast.rdist_to_dist(dist, code, p)
        else:
            distances = self._distance_function()
            step = max(1, _CDIST_BLOCK // max(1, self.n_samples_fit_))
            for start in range(0, n, step):
                stop = min(n, start + step)
                D = np.ascontiguousarray(distances(X[start:stop], self._fit_X),
                                         dtype=np.float64)
                _fast.select_k_smallest(D, k, dist[start:stop], ind[start:stop])
        return dist, ind

    def _distance_function(self):
        """``f(A, B)`` -> distance matrix for a metric outside the compiled kernels:
        scipy's ``cdist`` for its metrics, a ``DistanceMetric``'s own ``pairwise``,
        :func:`sklearn.metrics.pairwise_distances` for the rest (``haversine``,
        ``nan_euclidean``, callables) and :class:`sklearn.metrics.DistanceMetric`
        for the names only it knows (``sokalmichener``, ``pyfunc``)."""
        metric, params = self.effective_metric_, dict(self.effective_metric_params_)
        if isinstance(metric, DistanceMetric):
            return metric.pairwise
        if metric in ("minkowski", "p"):
            metric = "minkowski"
            if params.get("w") is None:
                params.pop("w", None)
        if isinstance(metric, str) and (metric in _SCIPY_METRICS or metric in (
                "minkowski", "euclidean", "l2", "cityblock", "manhattan", "l1",
                "chebyshev", "infinity")):
            name = {"l2": "euclidean", "manhattan": "cityblock", "l1": "cityblock",
                    "infinity": "chebyshev"}.get(metric, metric)
            return lambda A, B: cdist(A, B, metric=name, **params)
        if callable(metric) or metric in PAIRWISE_DISTANCE_FUNCTIONS:
            return lambda A, B: pairwise_distances(A, B, metric=metric, n_jobs=1,
                                                   **params)
        dm = DistanceMetric.get_metric(metric, **params)
        return dm.pairwise

    @staticmethod
    def _query_graph(graph, k, dist, ind):
        """Sparse precomputed distances (rows sorted by distance): the first ``k``
        stored entries of each row are the neighbours; the missing entries are
        not neighbours."""
        row_nnz = np.diff(graph.indptr)
        if row_nnz.min() < k:
            raise ValueError(
                f"{k} neighbors per samples are required, but some samples have only "
                f"{row_nnz.min()} neighbors in precomputed graph matrix. Decrease "
                "number of neighbors used or recompute the graph with more neighbors."
            )
        take = graph.indptr[:-1, None] + np.arange(k)
        dist[:] = graph.data[take]
        ind[:] = graph.indices[take]

    def _query_sparse(self, X, k, dist, ind):
        """Brute force when the query or the fitted data is sparse: distance blocks
        by :func:`sklearn.metrics.pairwise_distances` (sparse-aware, X never
        densified), the ``k`` smallest of each row by the compiled selection."""
        metric, params = self.effective_metric_, dict(self.effective_metric_params_)
        squared = metric in ("euclidean", "l2") and not params
        if squared:
            params["squared"] = True
        step = max(1, _CDIST_BLOCK // max(1, self.n_samples_fit_))
        n = X.shape[0]
        for start in range(0, n, step):
            stop = min(n, start + step)
            D = pairwise_distances(X[start:stop], self._fit_X, metric=metric,
                                   n_jobs=1, **params)
            D = np.ascontiguousarray(D, dtype=np.float64)
            _fast.select_k_smallest(D, k, dist[start:stop], ind[start:stop])
        if squared:
            np.sqrt(dist, out=dist)

    def _query(self, X, k):
        """:meth:`_query_block` over row slices, through joblib when ``n_jobs`` asks
        for it: threads locally (the kernels release the GIL), the caller's backend
        (Dask, Ray) when one is active."""
        parts = map_row_chunks(partial(self._query_block, k=k), X, self.n_jobs,
                               _MIN_ROWS_PER_THREAD)
        if len(parts) == 1:
            return parts[0]
        return np.vstack([d for d, _ in parts]), np.vstack([i for _, i in parts])

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the k nearest neighbours of points.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features), or \
                (n_queries, n_indexed) if metric == "precomputed", default=None
            The query points. ``None`` queries the fitted points themselves, each
            point not being its own neighbour.
        n_neighbors : int, default=None
            Number of neighbours to find; ``None`` uses the constructor's
            ``n_neighbors``.
        return_distance : bool, default=True
            Whether to return the distances.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors)
            Distances to the neighbours, increasing along each row; only if
            ``return_distance=True``.
        neigh_ind : ndarray of shape (n_queries, n_neighbors)
            Indices of the neighbours in the fitted data.
        """
        check_is_fitted(self)
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        elif n_neighbors <= 0:
            raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors}")
        elif not isinstance(n_neighbors, numbers.Integral):
            raise TypeError(
                f"n_neighbors does not take {type(n_neighbors)} value, enter integer value"
            )
        query_is_train = X is None
        if query_is_train:
            X = self._fit_X
            n_neighbors += 1  # the point itself is found and removed below
        else:
            X = self._validate_query(X)
        if n_neighbors > self.n_samples_fit_:
            if query_is_train:
                n_neighbors -= 1
                inequality = "n_neighbors < n_samples_fit"
            else:
                inequality = "n_neighbors <= n_samples_fit"
            raise ValueError(
                f"Expected {inequality}, but n_neighbors = {n_neighbors}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {X.shape[0]}"
            )
        dist, ind = self._query(X, int(n_neighbors))
        if query_is_train:
            n_queries = X.shape[0]
            mask = ind != np.arange(n_queries)[:, None]
            # more duplicates than neighbours: the point itself may be missing, then
            # the first neighbour (a duplicate) is dropped instead
            mask[np.all(mask, axis=1), 0] = False
            ind = ind[mask].reshape(n_queries, n_neighbors - 1)
            dist = dist[mask].reshape(n_queries, n_neighbors - 1)
        return (dist, ind) if return_distance else ind

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        """Compute the (weighted) graph of the k nearest neighbours of points.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features), or \
                (n_queries, n_indexed) if metric == "precomputed", default=None
            The query points; ``None`` queries the fitted points, each point not
            being its own neighbour.
        n_neighbors : int, default=None
            Number of neighbours of each query; ``None`` uses ``n_neighbors``.
        mode : {"connectivity", "distance"}, default="connectivity"
            Entries of the graph: ones, or the distances to the neighbours.

        Returns
        -------
        A : sparse array of shape (n_queries, n_samples_fit)
            CSR graph; ``A[i, j]`` is the weight of the edge from query ``i`` to
            fitted point ``j``.
        """
        check_is_fitted(self)
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        if mode == "connectivity":
            A_ind = self.kneighbors(X, n_neighbors, return_distance=False)
            A_data = np.ones(A_ind.shape[0] * n_neighbors)
        elif mode == "distance":
            A_data, A_ind = self.kneighbors(X, n_neighbors, return_distance=True)
            A_data = np.ravel(A_data)
        else:
            raise ValueError(
                'Unsupported mode, must be one of "connectivity", or "distance" but got '
                f'"{mode}" instead'
            )
        n_queries = A_ind.shape[0]
        indptr = np.arange(0, n_queries * n_neighbors + 1, n_neighbors)
        graph = csr_array((A_data, A_ind.ravel(), indptr),
                          shape=(n_queries, self.n_samples_fit_))
        return _align_api_if_sparse(graph)

    def _neighbors_for_predict(self, X):
        """``(dist or None, ind)`` for a prediction: distances only when weighted."""
        if self.weights == "uniform" or self.weights is None:
            return None, self.kneighbors(X, return_distance=False)
        return self.kneighbors(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.positive_only = tags.input_tags.pairwise
        tags.input_tags.allow_nan = self._allows_nan()
        return tags
