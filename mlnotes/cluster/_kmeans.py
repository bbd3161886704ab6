r"""K-means clustering: k-means++ seeding and Lloyd's algorithm (chapter 19 of the notes)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils import check_array
from sklearn.utils.extmath import row_norms
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import (
    _check_sample_weight,
    _is_arraylike_not_scalar,
    check_is_fitted,
    validate_data,
)

from ._k_means_fast import (
    assign_labels,
    center_rows,
    inertia_of,
    is_same_clustering,
    kmeans_plusplus_core,
    kmeans_single_elkan,
    kmeans_single_lloyd,
    lloyd_iter,
)
from ._k_means_sparse import (
    assign_labels_csr,
    csr_mean_variance,
    csr_row_sq_norms,
    kmeans_plusplus_core_csr,
    kmeans_single_lloyd_csr,
)

__all__ = ["KMeans", "kmeans_plusplus"]

_FLOATS = [np.float64, np.float32]


def _lloyd_verbose(X, sample_weight, centers_init, max_iter, tol):
    """:func:`kmeans_single_lloyd` driven from Python, printing every iteration's
    inertia and the stopping reason as scikit-learn's ``verbose`` output (the same
    iterations; used only when ``verbose``: one extra pass per iteration)."""
    n = X.shape[0]
    k, d = centers_init.shape
    centers = centers_init.copy()
    centers_new = np.zeros((k, d))
    weights = np.zeros(k)
    labels = np.full(n, -1, dtype=np.int32)
    labels_old = labels.copy()
    strict = False
    it = 0
    for it in range(max_iter):
        shift = lloyd_iter(X, sample_weight, centers, centers_new, weights, labels)
        print(f"Iteration {it}, inertia {inertia_of(X, sample_weight, centers, labels)}.")
        centers, centers_new = centers_new, centers
        if np.array_equal(labels, labels_old):
            print(f"Converged at iteration {it}: strict convergence.")
            strict = True
            break
        if shift <= tol:
            print(f"Converged at iteration {it}: center shift {shift} within tolerance "
                  f"{tol}.")
            break
        labels_old[:] = labels
    if strict:
        inertia = inertia_of(X, sample_weight, centers, labels)
    else:
        inertia = assign_labels(X, centers, labels, sample_weight, centers_new, weights,
                                False, True)
    return labels, inertia, centers, it + 1


def _kmeans_plusplus(X, n_clusters, x_squared_norms, sample_weight, random_state,
                     n_local_trials=None):
    """Greedy k-means++ seeding; no validation (see :func:`kmeans_plusplus`).

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    n_clusters : int
    x_squared_norms : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)
    random_state : RandomState instance
    n_local_trials : int or None
        Candidates drawn per centre; ``2 + int(log(n_clusters))`` if None.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
    """
    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    # first centre: a point drawn with probability proportional to its weight; then
    # the uniform numbers of the D^2 draws, consumed in the order scikit-learn does
    first = random_state.choice(n_samples, p=sample_weight / sample_weight.sum())
    uniforms = random_state.uniform(size=(n_clusters - 1, n_local_trials))
    if sp.issparse(X):
        data, ind, ptr = _csr_arrays(X)
        indices = kmeans_plusplus_core_csr(data, ind, ptr, X.shape[1],
                                           _as_float64(x_squared_norms),
                                           _as_float64(sample_weight), int(first), uniforms)
        indices = indices.astype(int, copy=False)
        return X[indices].toarray(), indices
    indices = kmeans_plusplus_core(_as_float64(X), _as_float64(x_squared_norms),
                                   _as_float64(sample_weight), int(first), uniforms)
    indices = indices.astype(int, copy=False)
    return X[indices].copy(), indices


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "x_squared_norms": ["array-like", None],
        "random_state": ["random_state"],
        "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def kmeans_plusplus(X, n_clusters, *, sample_weight=None, x_squared_norms=None,
                    random_state=None, n_local_trials=None):
    r"""Choose initial cluster centres by greedy k-means++ (:math:`D^2` sampling).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data to pick the seeds from.
    n_clusters : int
        Number of centres to choose.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample; equal weights if None.
    x_squared_norms : array-like of shape (n_samples,), default=None
        Squared Euclidean norm of each row of ``X``; computed if None.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampling; pass an int for reproducible output.
    n_local_trials : int, default=None
        Candidates drawn for each centre after the first, of which the one
        that lowers the potential most is kept. None gives
        ``2 + int(log(n_clusters))``; 1 is plain (non-greedy) k-means++.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        The chosen centres (rows of ``X``).
    indices : ndarray of shape (n_clusters,)
        Their row indices: ``X[indices] == centers``.

    Notes
    -----
    Chapter 19. The first centre is a sample drawn with probability
    proportional to its weight; each further centre is drawn with probability

    .. math::

        p(x_i) = \frac{w_i D(x_i)^2}{\sum_l w_l D(x_l)^2},

    :math:`D(x)` being the distance from :math:`x` to the closest centre chosen
    so far. Arthur and Vassilvitskii show that the expected k-means cost of the
    seeding alone is within :math:`8(\ln k + 2)` of the optimum, i.e.
    :math:`O(\log k)`-competitive. The greedy variant draws
    :math:`2 + \lfloor \ln k \rfloor` candidates and keeps the best one, which
    works better in practice (it is scikit-learn's default too).

    References
    ----------
    D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
    seeding", *ACM-SIAM Symposium on Discrete Algorithms*, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.cluster import kmeans_plusplus
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> centers, indices = kmeans_plusplus(X, n_clusters=2, random_state=0)
    >>> centers
    array([[10,  2],
           [ 1,  0]])
    >>> indices
    array([3, 2])
    """
    # the centres keep the input's dtype, as in scikit-learn
    X_in = check_array(X, accept_sparse="csr")
    X = check_array(X_in, accept_sparse="csr", dtype=_FLOATS)
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
    if X.shape[0] < n_clusters:
        raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}.")
    if x_squared_norms is None:
        x_squared_norms = row_norms(X, squared=True)
    else:
        x_squared_norms = check_array(x_squared_norms, dtype=X.dtype, ensure_2d=False)
    if x_squared_norms.shape[0] != X.shape[0]:
        raise ValueError(
            f"The length of x_squared_norms {x_squared_norms.shape[0]} should "
            f"be equal to the length of n_samples {X.shape[0]}."
        )
    random_state = check_random_state(random_state)
    _, indices = _kmeans_plusplus(X, n_clusters, x_squared_norms, sample_weight,
                                  random_state, n_local_trials)
    centers = X_in[indices]
    return (centers.toarray() if sp.issparse(centers) else centers.copy()), indices


def _csr_arrays(X):
    """``data`` (float64), ``indices`` and ``indptr`` (int64) of a CSR matrix: one
    numba specialisation whatever the input's dtypes."""
    X = sp.csr_matrix(X)
    return (np.ascontiguousarray(X.data, dtype=np.float64),
            np.ascontiguousarray(X.indices, dtype=np.int64),
            np.ascontiguousarray(X.indptr, dtype=np.int64))


def _as_float64(X):
    """C-contiguous, writable float64 (one numba specialisation for every input)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return X if X.flags.writeable else X.copy()


def _labels_inertia(X, centers, sample_weight=None, with_inertia=True):
    """Labels (int32) and (weighted) inertia of ``X`` (dense or CSR) for fixed ``centers``."""
    labels = np.empty(X.shape[0], dtype=np.int32)
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    k, d = centers.shape
    if sp.issparse(X):
        data, ind, ptr = _csr_arrays(X)
        inertia = assign_labels_csr(data, ind, ptr, _as_float64(centers), labels,
                                    sample_weight, np.empty((k, d)), np.empty(k), False,
                                    with_inertia)
        return labels, inertia
    X = np.ascontiguousarray(X, dtype=np.float64)  # read-only input is read as is
    inertia = assign_labels(X, _as_float64(centers), labels, sample_weight,
                            np.empty((k, d)), np.empty(k), False, with_inertia)
    return labels, inertia


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
             BaseEstimator):
    r"""K-means clustering: k-means++ seeding, then Lloyd's algorithm.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (and centres).
    init : {"k-means++", "random"}, callable or array-like of shape \
            (n_clusters, n_features), default="k-means++"
        How the centres start:

        - ``"k-means++"``: greedy :math:`D^2` sampling (see
          :func:`kmeans_plusplus`);
        - ``"random"``: ``n_clusters`` distinct rows drawn with probability
          proportional to their weight;
        - an array: the initial centres (then one run only);
        - a callable ``init(X, n_clusters, random_state=...)`` returning the
          centres (it receives ``X`` centred on its mean).
    n_init : "auto" or int, default="auto"
        Number of runs from different seeds; the run with the lowest inertia
        wins. ``"auto"``: 1 for ``"k-means++"`` and arrays, 10 for ``"random"``
        and callables.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        A run stops when the squared Frobenius norm of the centre shift is at
        most ``tol`` times the mean per-feature variance of ``X`` (or when the
        labels stop changing).
    verbose : int, default=0
        Print the inertia at each iteration when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation.
    copy_x : bool, default=True
        Kept for compatibility with scikit-learn: ``X`` is never modified (the
        computation runs on a centred float64 copy, or a float64 CSR copy).
    algorithm : {"lloyd", "elkan"}, default="lloyd"
        ``"lloyd"`` is the classical two-step iteration. ``"elkan"`` runs the
        same iterations but skips the distances that the triangle inequality
        proves useless (an upper bound per point, a lower bound per point and
        centre: ``n_samples * n_clusters`` more memory); it pays off with
        well-separated clusters and many centres. Sparse input always uses
        ``"lloyd"``.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The centres (same dtype as the training data).
    labels_ : ndarray of shape (n_samples,)
        Label of each training point (int32), consistent with ``predict``.
    inertia_ : float
        Weighted sum of squared distances of the training points to their
        centres.
    n_iter_ : int
        Lloyd iterations of the best run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    kmeans_plusplus : the seeding on its own.
    mlnotes.mixture.GaussianMixture : soft, probabilistic clustering.

    Notes
    -----
    Chapter 19 of the notes. K-means minimises the (weighted) within-cluster
    sum of squares, the *inertia*,

    .. math::

        J(c, \ell) = \sum_{i=1}^n w_i \, \| x_i - c_{\ell_i} \|^2 ,

    by alternating its two exact partial minimisations (Lloyd's algorithm):

    .. math::

        \ell_i \leftarrow \arg\min_j \| x_i - c_j \|^2 ,
        \qquad
        c_j \leftarrow \frac{\sum_{i: \ell_i = j} w_i x_i}{\sum_{i: \ell_i = j} w_i} .

    Neither step can increase :math:`J`, and there are finitely many
    partitions, so the iteration converges, but to a local minimum: hence the
    careful k-means++ seeding, whose expected cost is within
    :math:`O(\log k)` of the optimum, and the ``n_init`` restarts.

    The assignment step computes :math:`\|c_j\|^2 - 2 x_i^\top c_j` for blocks
    of 256 rows with one BLAS product per block, in a compiled (numba) loop
    that also accumulates the cluster sums of the update step; the data are
    centred first for accuracy. An empty cluster is re-seeded on the point
    farthest from its centre. The run stops as scikit-learn's does, so that for
    the same ``random_state`` the seeds, the iterations and the result are
    scikit-learn's (up to rounding).

    Sparse (CSR) data are not centred; their distances are computed over the
    stored entries in compiled loops (:mod:`mlnotes.cluster._k_means_sparse`).

    References
    ----------
    S. Lloyd, "Least squares quantization in PCM", *IEEE Transactions on
    Information Theory* 28(2), 1982.

    D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
    seeding", *ACM-SIAM Symposium on Discrete Algorithms*, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.cluster import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> km.labels_
    array([1, 1, 1, 0, 0, 0], dtype=int32)
    >>> km.predict([[0, 0], [12, 3]])
    array([1, 0], dtype=int32)
    >>> km.cluster_centers_
    array([[10.,  2.],
           [ 1.,  2.]])
    >>> float(km.inertia_)
    16.0
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"lloyd", "elkan"})],
    }

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300,
                 tol=1e-4, verbose=0, random_state=None, copy_x=True, algorithm="lloyd"):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    # -- helpers ------------------------------------------------------------------

    def _resolve_n_init(self):
        if self.n_init != "auto":
            n_init = self.n_init
        elif isinstance(self.init, str) and self.init == "k-means++":
            n_init = 1
        elif isinstance(self.init, str) or callable(self.init):
            n_init = 10
        else:
            n_init = 1
        if _is_arraylike_not_scalar(self.init) and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init "
                f"in {type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning, stacklevel=3,
            )
            n_init = 1
        return n_init

    def _check_centers(self, X, centers):
        if centers.shape[0] != self.n_clusters:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match "
                f"the number of clusters {self.n_clusters}."
            )
        if centers.shape[1] != X.shape[1]:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match "
                f"the number of features of the data {X.shape[1]}."
            )

    def _init_centroids(self, X, x_squared_norms, init, random_state, sample_weight,
                        init_size=None, n_centroids=None):
        """Initial centres (scikit-learn's signature; ``init_size`` is unused here)."""
        del init_size
        x_sq_norms = x_squared_norms
        n_centroids = self.n_clusters if n_centroids is None else n_centroids
        if isinstance(init, str) and init == "k-means++":
            centers, _ = _kmeans_plusplus(X, n_centroids, x_sq_norms, sample_weight,
                                          random_state)
        elif isinstance(init, str) and init == "random":
            seeds = random_state.choice(X.shape[0], size=n_centroids, replace=False,
                                        p=sample_weight / sample_weight.sum())
            centers = X[seeds]
        elif callable(init):
            centers = init(X, n_centroids, random_state=random_state)
            centers = check_array(centers, accept_sparse="csr", dtype=X.dtype, copy=False,
                                  order="C")
            self._check_centers(X, centers)
        else:
            centers = init
        if sp.issparse(centers):
            centers = centers.toarray()
        return np.array(centers, dtype=np.float64, order="C")

    def _check_test_data(self, X):
        return validate_data(self, X, reset=False, accept_sparse="csr", dtype=_FLOATS,
                             order="C")

    # -- fit ----------------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Compute the k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training points.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each point (equal weights if None). Not used by the
            initialisation when ``init`` is an array or a callable.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=_FLOATS, order="C")
        in_dtype = X.dtype
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}."
            )
        n_init = self._n_init = self._resolve_n_init()
        if self.algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn("algorithm='elkan' doesn't make sense for a single cluster. "
                          "Using 'lloyd' instead.", RuntimeWarning, stacklevel=2)
        random_state = check_random_state(self.random_state)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        sample_weight = _as_float64(sample_weight)

        init = self.init
        init_is_array = _is_arraylike_not_scalar(init)
        if init_is_array:
            init = check_array(init, dtype=np.float64, copy=True, order="C")
            self._check_centers(X, init)

        if sp.issparse(X):
            # sparse data stay uncentred (centring would make them dense)
            csr = _csr_arrays(X)
            X64 = sp.csr_matrix(csr, shape=X.shape)
            X_mean = np.zeros(X.shape[1])
            x_sq_norms = csr_row_sq_norms(csr[0], csr[2])
            tol = float(csr_mean_variance(*csr, X.shape[1]) * self.tol)
        else:
            # centre the data (a float64 copy) for accurate distance computations
            X64 = np.empty(X.shape)
            X_mean, x_sq_norms = center_rows(X, X64)
            if init_is_array:
                init = init - X_mean
            # tol is relative to the mean per-feature variance of X
            tol = float(x_sq_norms.sum() / X.size * self.tol)
        # squared distances between points (and to centres) are at most 4 max ||x||^2
        if x_sq_norms.size and not np.isfinite(4.0 * x_sq_norms.max()):
            raise ValueError(
                "The squared distances between samples overflow float64 (values too "
                "large in magnitude, e.g. ~1e300): k-means cannot compare them. Rescale "
                "X (e.g. with StandardScaler) before clustering."
            )

        best = None
        for _ in range(n_init):
            centers_init = self._init_centroids(X64, x_sq_norms, init, random_state,
                                                sample_weight)
            if self.verbose:
                print("Initialization complete")
            if sp.issparse(X64):
                labels, inertia, centers, n_iter = kmeans_single_lloyd_csr(
                    *csr, sample_weight, centers_init, self.max_iter, tol)
            elif self.verbose:
                # Elkan's iterations are Lloyd's (bounds only skip distances)
                labels, inertia, centers, n_iter = _lloyd_verbose(
                    X64, sample_weight, centers_init, self.max_iter, tol)
            else:
                single = (kmeans_single_elkan if self.algorithm == "elkan"
                          and self.n_clusters > 1 else kmeans_single_lloyd)
                labels, inertia, centers, n_iter = single(
                    X64, sample_weight, centers_init, self.max_iter, tol)
            # a run replaces the best one if its inertia is lower and it is not the
            # same clustering with permuted labels (rounding can do that)
            if best is None or (inertia < best[1] and not is_same_clustering(
                    labels, best[0], self.n_clusters)):
                best = (labels, inertia, centers, n_iter)
        labels, inertia, centers, n_iter = best
        centers = centers + X_mean

        distinct = np.unique(labels).size
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning, stacklevel=2,
            )
        self.cluster_centers_ = centers.astype(in_dtype, copy=False)
        self._n_features_out = self.cluster_centers_.shape[0]
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Compute the clustering and return the label of each training point.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training points.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each point.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the cluster of each point.
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Compute the clustering and the distances of the points to the centres.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training points.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each point.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            Euclidean distance of each point to each centre.
        """
        self.fit(X, sample_weight=sample_weight)
        return self._transform(self._check_test_data(X))

    # -- predict ------------------------------------------------------------------

    def predict(self, X):
        """Label of the closest centre for each point.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Points to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the closest centre (int32).
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        return _labels_inertia(X, self.cluster_centers_, with_inertia=False)[0]

    def transform(self, X):
        """Distances of the points to every centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Points to transform.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            Euclidean distance of each point to each centre.
        """
        check_is_fitted(self)
        return self._transform(self._check_test_data(X))

    def _transform(self, X):
        # scikit-learn's own distance routine: same rounding (float32 summed in
        # float64 chunks) and an exact 0 diagonal when X is the centre array itself.
        return euclidean_distances(X, self.cluster_centers_)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the k-means objective (weighted inertia) of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Points to score.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each point.

        Returns
        -------
        score : float
            ``-sum_i w_i min_j ||x_i - c_j||^2``.
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        sample_weight = _as_float64(_check_sample_weight(sample_weight, X,
                                                         dtype=np.float64))
        _, inertia = _labels_inertia(X, self.cluster_centers_, sample_weight)
        return -float(inertia)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
