r"""Spectral clustering: normalised-Laplacian embedding, then k-means (chapter 19)."""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh, lobpcg
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.metrics.pairwise import KERNEL_PARAMS
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ..utils._parallel import map_row_chunks
from ._kmeans import KMeans

__all__ = ["SpectralClustering"]

# rows of the distance blocks of the brute-force nearest-neighbour graph
_BLOCK = 1024
# up to this dimension the nearest-neighbour graph is built with a k-d tree
_KDTREE_MAX_DIM = 16
# Below this many queries per task, n_jobs > 1 does not split the k-d tree queries.
_MIN_ROWS_PER_TASK = 256
# Lanczos restarts on a dense affinity before switching to shift-invert: enough when
# the top eigenvalues are well separated, cheap when they are not
_LANCZOS_MAXITER = 2


# ---------------------------------------------------------------------------
# Affinities.
# ---------------------------------------------------------------------------


def _rbf_affinity(X, gamma):
    """``exp(-gamma ||x_i - x_j||^2)``, squared distances by one BLAS product."""
    Xc = X - X.mean(axis=0)
    sq = np.einsum("ij,ij->i", Xc, Xc)
    K = Xc @ Xc.T
    K *= -2.0
    K += sq[:, None]
    K += sq[None, :]
    np.maximum(K, 0.0, out=K)
    K *= -gamma
    return np.exp(K, out=K)


def _check_distances_finite(X):
    """Refuse data whose squared Euclidean distances overflow float64 (the
    affinities would be NaN or arbitrary and the eigensolver would fail)."""
    with np.errstate(over="ignore", invalid="ignore"):
        Xc = X - X.mean(axis=0)
        bound = 4.0 * np.max(np.einsum("ij,ij->i", Xc, Xc))
    if not np.isfinite(bound):
        raise ValueError(
            "The squared distances between samples overflow float64 (values too "
            "large in magnitude, e.g. ~1e300): the affinity matrix cannot be computed. "
            "Rescale X (e.g. with StandardScaler) before clustering."
        )


def _tree_query(tree, k, rows):
    """Indices of the ``k`` nearest points of ``tree`` to each row of ``rows``."""
    return tree.query(rows, k=k)[1].reshape(rows.shape[0], k)


def _brute_blocks(Xc, sq, k, starts):
    """Indices of the ``k`` nearest points (self first) of the rows of the blocks of
    ``_BLOCK`` rows beginning at ``starts``."""
    n = Xc.shape[0]
    out = []
    for start in starts:
        stop = min(start + _BLOCK, n)
        D = sq[start:stop, None] - 2.0 * (Xc[start:stop] @ Xc.T) + sq[None, :]
        D[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # self first
        out.append(np.argpartition(D, k - 1, axis=1)[:, :k])
    return np.vstack(out)


def _knn_graph(X, n_neighbors, n_jobs=None):
    """0/1 CSR matrix: each row marks the point itself and its n_neighbors - 1
    nearest other points (``kneighbors_graph(..., include_self=True)``).

    A k-d tree (:class:`scipy.spatial.cKDTree`) in low dimension, otherwise brute
    force by blocks of rows (squared distances through one BLAS product). With
    ``n_jobs``, the queries are split by rows over joblib tasks, as scikit-learn's
    ``kneighbors_graph(..., n_jobs=n_jobs)`` splits them (local threads, or the
    workers of a Dask/Ray backend); every row's computation is the same, so the
    graph does not depend on ``n_jobs`` or the backend."""
    n, d = X.shape
    k = min(n_neighbors, n)
    if k == n:
        cols = np.tile(np.arange(n), (n, 1))
    elif d <= _KDTREE_MAX_DIM:
        cols = np.vstack(map_row_chunks(partial(_tree_query, cKDTree(X), k), X, n_jobs,
                                        _MIN_ROWS_PER_TASK))
        # with duplicated points the tree may list a twin before the point itself
        own = (cols == np.arange(n)[:, None]).any(axis=1)
        cols[~own, -1] = np.flatnonzero(~own)
    else:
        Xc = X - X.mean(axis=0)
        sq = np.einsum("ij,ij->i", Xc, Xc)
        # tasks take whole blocks, so each block's BLAS product is the sequential one
        cols = np.vstack(map_row_chunks(partial(_brute_blocks, Xc, sq, k),
                                        np.arange(0, n, _BLOCK), n_jobs, 1))
    rows = np.repeat(np.arange(n), k)
    return sparse.csr_matrix((np.ones(n * k), (rows, cols.ravel())), shape=(n, n))


def _precomputed_knn_graph(D, n_neighbors):
    """0/1 CSR matrix of the n_neighbors smallest entries of each row of distances."""
    n = D.shape[0]
    if n_neighbors > n:
        raise ValueError(f"Expected n_neighbors <= n_samples_fit, but n_neighbors = "
                         f"{n_neighbors}, n_samples_fit = {n}, n_samples = {n}")
    if sparse.issparse(D):
        D = D.tocsr()
        indptr, indices, data = D.indptr, D.indices, D.data
        cols = np.empty((n, n_neighbors), dtype=np.int64)
        for i in range(n):
            row = data[indptr[i]:indptr[i + 1]]
            if row.size < n_neighbors:
                raise ValueError(
                    f"{n_neighbors} neighbors per samples are required, but some samples "
                    f"have only {row.size} neighbors in precomputed graph matrix. "
                    "Decrease number of neighbors used or recompute the graph with more "
                    "neighbors.")
            order = np.argsort(row, kind="stable")[:n_neighbors]
            cols[i] = indices[indptr[i]:indptr[i + 1]][order]
    else:
        D = np.asarray(D)
        cols = np.argpartition(D, n_neighbors - 1, axis=1)[:, :n_neighbors] \
            if n_neighbors < n else np.tile(np.arange(n), (n, 1))
    rows = np.repeat(np.arange(n), n_neighbors)
    return sparse.csr_matrix((np.ones(n * n_neighbors), (rows, cols.ravel())),
                             shape=(n, n))


def _is_connected(A):
    """Whether the graph with adjacency ``A`` (dense or sparse) is connected."""
    if sparse.issparse(A):
        return connected_components(A, directed=False)[0] == 1
    n = A.shape[0]
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    frontier = np.array([0])
    while frontier.size:
        new = (A[frontier] != 0).any(axis=0) & ~seen
        seen |= new
        frontier = np.flatnonzero(new)
    return bool(seen.all())


# ---------------------------------------------------------------------------
# Embedding and label assignment.
# ---------------------------------------------------------------------------


def _normalised_adjacency(A):
    """``D^{-1/2} W D^{-1/2}`` with ``W`` = ``A`` without its diagonal, and ``sqrt(D)``.

    The symmetric normalised Laplacian is ``I - D^{-1/2} W D^{-1/2}`` (as
    :func:`scipy.sparse.csgraph.laplacian` with ``normed=True``: self-loops are
    ignored, an isolated node gets ``sqrt(D) = 1``).
    """
    if sparse.issparse(A):
        W = sparse.csr_matrix(A, dtype=np.float64, copy=True)
        W.setdiag(0.0)
        W.eliminate_zeros()
        deg = np.asarray(W.sum(axis=1)).ravel()
    else:
        W = np.array(A, dtype=np.float64, order="C", copy=True)
        np.fill_diagonal(W, 0.0)
        deg = W.sum(axis=1)
    dd = np.sqrt(deg)
    dd[deg == 0] = 1.0
    inv = 1.0 / dd
    if sparse.issparse(W):
        M = sparse.diags(inv) @ W @ sparse.diags(inv)
        return sparse.csr_matrix(M), dd
    W *= inv[:, None]
    W *= inv[None, :]
    return W, dd


def _top_eigenvectors(M, dd, k, solver, random_state, eigen_tol):
    """Eigenvectors of the ``k`` largest eigenvalues of ``M``, largest first.

    Draws the random starting vectors as scikit-learn does (ARPACK: uniform on
    [-1, 1]; lobpcg: standard normal with ``sqrt(D)`` first), which keeps the
    random stream aligned with scikit-learn's for the k-means that follows.
    """
    n = M.shape[0]
    if solver == "lobpcg":
        tol = None if eigen_tol == "auto" else eigen_tol
        if n < 5 * k + 1:
            Md = M.toarray() if sparse.issparse(M) else M
            w, V = linalg.eigh(Md, check_finite=False)
            return V[:, ::-1][:, :k]
        # lobpcg minimises: work on the Laplacian I - M, smallest eigenvalues
        L = sparse.identity(n, format="csr") - M if sparse.issparse(M) else np.eye(n) - M
        X0 = random_state.standard_normal(size=(n, k + 1))
        X0[:, 0] = dd
        w, V = lobpcg(L, X0, tol=tol, largest=False, maxiter=2000)
        order = np.argsort(w)[:k]
        return V[:, order]
    v0 = random_state.uniform(-1, 1, n)
    tol = 0.0 if eigen_tol == "auto" else eigen_tol
    if k >= n - 1:
        Md = M.toarray() if sparse.issparse(M) else M
        w, V = linalg.eigh(Md, check_finite=False)
        return V[:, ::-1][:, :k]
    if sparse.issparse(M):
        # sparse graph: shift-invert Lanczos on the Laplacian, near 0 (sparse LU)
        L = (sparse.identity(n, format="csc") - M).tocsc()
        w, V = eigsh(L, k=k, sigma=-1e-5, which="LM", tol=tol, v0=v0)
        order = np.argsort(w)
        return V[:, order]
    # dense affinity: plain Lanczos on the normalised adjacency (matrix-vector
    # products only); when the top eigenvalues are too close together for it to
    # converge in a few restarts, or when ARPACK breaks down on a degenerate spectrum
    # (info 3, "no shifts could be applied": e.g. every affinity equal, so M = 11'/n
    # has one eigenvalue 1 and n - 1 zeros; it depends on the random start v0),
    # shift-invert Lanczos on the Laplacian (dense Cholesky)
    try:
        w, V = eigsh(M, k=k, which="LA", tol=tol, v0=v0, maxiter=_LANCZOS_MAXITER)
        order = np.argsort(w)[::-1]
    except ArpackError:  # ArpackNoConvergence is one
        # L + 1e-5 I is positive definite: a Cholesky factorisation (half the cost of
        # the LU that eigsh would use) applies the shift-inverted operator
        sigma = -1e-5
        L = -M  # a new array: M is the caller's
        L.flat[:: n + 1] += 1.0 - sigma
        factor = linalg.cho_factor(L, lower=True, overwrite_a=True, check_finite=False)
        op = LinearOperator((n, n), matvec=lambda x: linalg.cho_solve(
            factor, x, check_finite=False), dtype=np.float64)
        # in shift-invert mode ARPACK only applies OPinv; the first operator only
        # gives the shape (L itself now holds the factor)
        shape_only = LinearOperator((n, n), matvec=lambda x: x, dtype=np.float64)
        w, V = eigsh(shape_only, k=k, sigma=sigma, which="LM", tol=tol, v0=v0, OPinv=op)
        order = np.argsort(w)
    return V[:, order]


def _sign_flip(vectors):
    """Make the entry of largest magnitude of each column positive."""
    idx = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[idx, np.arange(vectors.shape[1])])
    signs[signs == 0] = 1.0
    return vectors * signs


def _spectral_embedding(A, n_components, solver, random_state, eigen_tol):
    """The ``(n, n_components)`` normalised-Laplacian embedding ``D^{-1/2} u_j``."""
    if not _is_connected(A):
        warnings.warn("Graph is not fully connected, spectral embedding may not work as "
                      "expected.", stacklevel=3)
    M, dd = _normalised_adjacency(A)
    if not (M.data.any() if sparse.issparse(M) else M.any()):
        raise ValueError(
            "The affinity matrix has no edge between distinct samples (every "
            "off-diagonal affinity is 0: e.g. an rbf gamma far too large for the scale "
            "of X, such as data of magnitude ~1e150); there is no graph to cut. Rescale "
            "X or lower gamma."
        )
    V = _top_eigenvectors(M, dd, n_components, solver, random_state, eigen_tol)
    return _sign_flip(V / dd[:, None])


def _cluster_qr(vectors):
    """Labels from a column-pivoted QR of the embedding (Damle, Minden and Ying)."""
    k = vectors.shape[1]
    _, _, piv = linalg.qr(vectors.T, pivoting=True)
    ut, _, v = linalg.svd(vectors[piv[:k], :].T)
    return np.abs(vectors @ (ut @ v.conj())).argmax(axis=1)


def _discretize(vectors, random_state, max_svd_restarts=30, n_iter_max=20):
    """Yu and Shi's discretisation: the partition matrix closest to a rotation of
    the (row-normalised) embedding, by alternating labels and Procrustes rotations."""
    vectors = np.array(vectors, dtype=np.float64, copy=True)
    n, k = vectors.shape
    eps = np.finfo(float).eps
    vectors *= np.sqrt(n) / np.linalg.norm(vectors, axis=0)
    first = np.sign(vectors[0])
    first[first == 0] = -1.0  # a zero first entry keeps the column as it is
    vectors *= -first
    vectors /= np.linalg.norm(vectors, axis=1)[:, None]
    for _ in range(max_svd_restarts):
        rotation = np.zeros((k, k))
        rotation[:, 0] = vectors[random_state.randint(n)]
        c = np.zeros(n)
        for j in range(1, k):
            c += np.abs(vectors @ rotation[:, j - 1])
            rotation[:, j] = vectors[c.argmin()]
        last = 0.0
        n_iter = 0
        while True:
            n_iter += 1
            labels = (vectors @ rotation).argmax(axis=1)
            t_svd = np.zeros((k, k))
            np.add.at(t_svd, labels, vectors)
            try:
                U, S, Vh = np.linalg.svd(t_svd)
            except np.linalg.LinAlgError:
                print("SVD did not converge, randomizing and trying again")
                break
            ncut = 2.0 * (n - S.sum())
            if abs(ncut - last) < eps or n_iter > n_iter_max:
                return labels
            last = ncut
            rotation = Vh.T @ U.T
    raise np.linalg.LinAlgError("SVD did not converge")


class SpectralClustering(ClusterMixin, BaseEstimator):
    r"""Spectral clustering: k-means on the eigenvectors of the normalised graph Laplacian.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    eigen_solver : {"arpack", "lobpcg", "amg"}, default=None
        Eigensolver; None means ``"arpack"`` (Lanczos, see Notes). ``"amg"``
        needs pyamg, which mlnotes does not use: it raises a ``ValueError``.
    n_components : int, default=None
        Number of eigenvectors of the embedding; ``n_clusters`` if None.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolver's starting vector and the k-means runs.
    n_init : int, default=10
        Number of k-means runs on the embedding (``assign_labels="kmeans"``).
    gamma : float, default=1.0
        Kernel coefficient of the rbf, poly, sigmoid, laplacian and chi2
        affinities.
    affinity : str or callable, default="rbf"
        How the affinity (similarity) matrix is built:

        - ``"rbf"``: :math:`\exp(-\gamma \|x_i - x_j\|^2)`;
        - ``"nearest_neighbors"``: the symmetrised 0/1 graph of the
          ``n_neighbors`` nearest neighbours (the point itself included);
        - ``"precomputed"``: ``X`` is the affinity matrix (dense or sparse);
        - ``"precomputed_nearest_neighbors"``: ``X`` holds distances (dense, or
          sparse with at least ``n_neighbors`` entries per row) and the
          affinity is their nearest-neighbour graph;
        - any other kernel name of :func:`mlnotes.metrics.pairwise.pairwise_kernels`,
          or a callable kernel.
    n_neighbors : int, default=10
        Neighbours per point of the nearest-neighbour graphs.
    eigen_tol : float or "auto", default="auto"
        Tolerance of the eigensolver; "auto" is 0 (machine precision) for
        ARPACK and lobpcg's own default for lobpcg.
    assign_labels : {"kmeans", "discretize", "cluster_qr"}, default="kmeans"
        How labels are read from the embedding: k-means (``n_init`` runs of
        :class:`KMeans`), Yu and Shi's discretisation, or the column-pivoted
        QR of Damle, Minden and Ying.
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        Constant of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Parameters of a callable kernel.
    n_jobs : int, default=None
        Parallel jobs of the nearest-neighbour queries of
        ``affinity="nearest_neighbors"`` (row chunks through joblib: local threads,
        or the workers of a Dask or Ray joblib backend), as in scikit-learn. The
        other affinities and the embedding run on one thread (plus BLAS threads).
    verbose : bool, default=False
        Verbosity of the label assignment.

    Attributes
    ----------
    affinity_matrix_ : ndarray or sparse matrix of shape (n_samples, n_samples)
        The affinity matrix (sparse for the nearest-neighbour graphs).
    labels_ : ndarray of shape (n_samples,)
        Cluster label of each point.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    KMeans : the clustering run on the embedding.
    AgglomerativeClustering : hierarchical clustering.

    Notes
    -----
    Chapter 19 of the notes. With the affinity matrix :math:`W` (zero
    diagonal) and the degrees :math:`D = \mathrm{diag}(W \mathbf 1)`, the
    graph Laplacian is :math:`L = D - W` and its symmetric normalisation

    .. math::

        L_{\mathrm{sym}} = I - D^{-1/2} W D^{-1/2} .

    For a partition :math:`A_1, \dots, A_k` of the graph, the normalised cut
    :math:`\mathrm{Ncut} = \sum_j \mathrm{cut}(A_j, \bar A_j) /
    \mathrm{vol}(A_j)` equals :math:`\mathrm{tr}(H^\top L H)` for the scaled
    indicator matrix :math:`H_{ij} = \mathbb 1[i \in A_j] /
    \sqrt{\mathrm{vol}(A_j)}`, which satisfies :math:`H^\top D H = I`.
    Relaxing :math:`H` to any real matrix with that constraint and writing
    :math:`H = D^{-1/2} U`:

    .. math::

        \min_{U^\top U = I} \mathrm{tr}(U^\top L_{\mathrm{sym}} U) ,

    solved by the eigenvectors :math:`u_1, \dots, u_k` of the :math:`k`
    smallest eigenvalues of :math:`L_{\mathrm{sym}}` (Rayleigh-Ritz). The rows
    of the embedding :math:`D^{-1/2} [u_1, \dots, u_k]` are then clustered
    (k-means, or a discretisation) to recover a partition.

    The smallest eigenvalues of :math:`L_{\mathrm{sym}}` are the largest of
    :math:`D^{-1/2} W D^{-1/2}`. For a dense affinity they are found by a few
    restarts of Lanczos iterations on that matrix (matrix-vector products
    only), where scikit-learn always factorises the dense Laplacian for
    shift-invert iterations; when the top eigenvalues are too close for
    Lanczos to converge quickly (nearly disconnected graphs), shift-invert
    Lanczos takes over, with a Cholesky factor of :math:`L_{\mathrm{sym}} +
    10^{-5} I`. For a sparse (nearest-neighbour) graph: shift-invert Lanczos
    with a sparse LU, as in scikit-learn. The eigenvectors are the same up to
    rounding, the starting vector and the k-means seeds are drawn from
    ``random_state`` as in scikit-learn, so with distinct eigenvalues the labels
    are scikit-learn's. The nearest-neighbour graph comes from a k-d tree
    (:class:`scipy.spatial.cKDTree`) up to 16 features, by brute force in blocks
    above.

    References
    ----------
    J. Shi and J. Malik, "Normalized cuts and image segmentation", *IEEE
    Transactions on Pattern Analysis and Machine Intelligence* 22(8), 2000.

    A. Y. Ng, M. I. Jordan and Y. Weiss, "On spectral clustering: analysis and
    an algorithm", *NIPS* 14, 2001.

    U. von Luxburg, "A tutorial on spectral clustering", *Statistics and
    Computing* 17(4), 2007.

    S. X. Yu and J. Shi, "Multiclass spectral clustering", *ICCV*, 2003.

    A. Damle, V. Minden and L. Ying, "Simple, direct and efficient multi-way
    spectral clustering", *Information and Inference* 8(1), 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.cluster import SpectralClustering
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]])
    >>> clustering = SpectralClustering(n_clusters=2, random_state=0).fit(X)
    >>> clustering.labels_.tolist() in ([1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1])
    True
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "eigen_solver": [StrOptions({"arpack", "lobpcg", "amg"}), None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "affinity": [callable, StrOptions(set(KERNEL_PARAMS) | {
            "nearest_neighbors", "precomputed", "precomputed_nearest_neighbors"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "eigen_tol": [Interval(Real, 0.0, None, closed="left"), StrOptions({"auto"})],
        "assign_labels": [StrOptions({"kmeans", "discretize", "cluster_qr"})],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "kernel_params": [dict, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, n_clusters=8, *, eigen_solver=None, n_components=None,
                 random_state=None, n_init=10, gamma=1.0, affinity="rbf", n_neighbors=10,
                 eigen_tol="auto", assign_labels="kmeans", degree=3, coef0=1,
                 kernel_params=None, n_jobs=None, verbose=False):
        self.n_clusters = n_clusters
        self.eigen_solver = eigen_solver
        self.n_components = n_components
        self.random_state = random_state
        self.n_init = n_init
        self.gamma = gamma
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.eigen_tol = eigen_tol
        self.assign_labels = assign_labels
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _affinity(self, X):
        if self.affinity == "precomputed":
            return X
        if self.affinity == "precomputed_nearest_neighbors":
            C = _precomputed_knn_graph(X, self.n_neighbors)
            return 0.5 * (C + C.T)
        dense = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
        if self.affinity in ("nearest_neighbors", "rbf"):
            _check_distances_finite(dense)
        if self.affinity == "nearest_neighbors":
            C = _knn_graph(dense, self.n_neighbors, self.n_jobs)
            return 0.5 * (C + C.T)
        if self.affinity == "rbf":
            return _rbf_affinity(dense, self.gamma)
        from mlnotes.metrics.pairwise import pairwise_kernels

        params = dict(self.kernel_params or {})
        if not callable(self.affinity):
            params.update(gamma=self.gamma, degree=self.degree, coef0=self.coef0)
        return pairwise_kernels(X, metric=self.affinity, filter_params=True, **params)

    def fit(self, X, y=None):
        """Build the affinity matrix, embed the points and cluster the embedding.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
                (n_samples, n_samples)
            Training points, or the affinity or distance matrix with the
            ``"precomputed"`` affinities.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], dtype=np.float64,
                          ensure_min_samples=2)
        pairwise = self.affinity in ("precomputed", "precomputed_nearest_neighbors")
        if X.shape[0] == X.shape[1] and not pairwise:
            warnings.warn("The spectral clustering API has changed. ``fit``now constructs "
                          "an affinity matrix from data. To use a custom affinity matrix, "
                          "set ``affinity=precomputed``.", stacklevel=2)
        if self.eigen_solver == "amg":
            raise ValueError("The eigen_solver was set to 'amg', but pyamg is not "
                             "available.")
        self.affinity_matrix_ = self._affinity(X)
        values = (self.affinity_matrix_.data if sparse.issparse(self.affinity_matrix_)
                  else self.affinity_matrix_)
        if not np.all(np.isfinite(values)):
            raise ValueError(
                "The affinity matrix contains NaN or infinite values (overflow in the "
                "kernel or distances computed from X, or a precomputed matrix that is "
                "not finite); rescale X or fix the affinity."
            )
        random_state = check_random_state(self.random_state)
        n_components = self.n_clusters if self.n_components is None else self.n_components
        n_components = min(n_components, X.shape[0])
        maps = _spectral_embedding(self.affinity_matrix_, n_components,
                                   self.eigen_solver or "arpack", random_state,
                                   self.eigen_tol)
        if self.verbose:
            print(f"Computing label assignment using {self.assign_labels}")
        if self.assign_labels == "kmeans":
            self.labels_ = KMeans(self.n_clusters, random_state=random_state,
                                  n_init=self.n_init, verbose=self.verbose).fit(maps).labels_
        elif self.assign_labels == "cluster_qr":
            self.labels_ = _cluster_qr(maps)
        else:
            self.labels_ = _discretize(maps, random_state)
        return self

    def fit_predict(self, X, y=None):
        """Fit the spectral clustering and return the cluster labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
                (n_samples, n_samples)
            Training points, or the affinity or distance matrix with the
            ``"precomputed"`` affinities.
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
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.affinity in ("precomputed",
                                                     "precomputed_nearest_neighbors")
        return tags
