r"""Eigendecomposition tools (chapter 8 of the notes).

Power iteration, the Rayleigh quotient and a symmetric eigensolver wrapper with
deterministic signs, used by PCA and spectral methods.
"""

import numpy as np
from scipy import linalg
from mlnotes.utils._random import check_random_state

__all__ = ["power_iteration", "rayleigh_quotient", "eigh_sorted", "deterministic_sign"]


def _check_square(A, name="A"):
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square 2-D array; got shape {A.shape}.")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return A


def rayleigh_quotient(A, x):
    r"""Rayleigh quotient :math:`R(A, x) = x^\top A x / x^\top x`.

    For symmetric ``A`` it lies in :math:`[\lambda_{\min}, \lambda_{\max}]` and
    equals an eigenvalue exactly when ``x`` is its eigenvector.

    Parameters
    ----------
    A : array-like of shape (n, n)
        Square matrix.
    x : array-like of shape (n,)
        Non-zero vector.

    Returns
    -------
    r : float
        The Rayleigh quotient.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.utils.linalg import rayleigh_quotient
    >>> rayleigh_quotient(np.diag([3.0, 1.0]), np.array([1.0, 0.0]))
    3.0
    """
    A = _check_square(A)
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (A.shape[0],):
        raise ValueError(f"x must have shape ({A.shape[0]},); got {x.shape}.")
    xx = x @ x
    if xx == 0:
        raise ValueError("x must be non-zero.")
    return float(x @ A @ x / xx)


def deterministic_sign(vectors):
    """Flip each column so that its entry of largest magnitude is positive.

    Eigenvectors and singular vectors are defined up to sign; this makes the
    output of a decomposition reproducible across solvers and platforms (the
    convention of :func:`sklearn.utils.extmath.svd_flip` for ``u``).

    Parameters
    ----------
    vectors : ndarray of shape (n, k)
        Vectors in columns.

    Returns
    -------
    vectors : ndarray of shape (n, k)
        A copy with signs flipped.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.utils.linalg import deterministic_sign
    >>> deterministic_sign(np.array([[0.6, 0.1], [-0.8, -0.9]]))
    array([[-0.6, -0.1],
           [ 0.8,  0.9]])
    """
    vectors = np.array(vectors, dtype=np.float64)
    idx = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[idx, np.arange(vectors.shape[1])])
    signs[signs == 0] = 1.0
    return vectors * signs


def eigh_sorted(A, n_components=None, *, largest=True):
    r"""Eigenpairs of a symmetric matrix, sorted, with deterministic signs.

    A wrapper around LAPACK's symmetric eigensolver (:func:`scipy.linalg.eigh`)
    that computes only the ``n_components`` wanted eigenpairs (``subset_by_index``),
    sorts them by decreasing (``largest=True``) or increasing eigenvalue, and
    fixes the sign of each eigenvector with :func:`deterministic_sign`.

    Parameters
    ----------
    A : array-like of shape (n, n)
        Symmetric matrix (only its lower triangle is read).
    n_components : int, default=None
        Number of eigenpairs; all of them if None.
    largest : bool, default=True
        Return the largest eigenvalues first; otherwise the smallest first.

    Returns
    -------
    eigenvalues : ndarray of shape (n_components,)
    eigenvectors : ndarray of shape (n, n_components)
        Orthonormal eigenvectors in columns: ``A @ V = V * eigenvalues``.

    Notes
    -----
    Chapter 8: a real symmetric matrix has the spectral decomposition
    :math:`A = V \Lambda V^\top` with orthonormal :math:`V`, and its largest
    eigenvalue is :math:`\max_{x \neq 0} x^\top A x / x^\top x`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.utils.linalg import eigh_sorted
    >>> w, V = eigh_sorted(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> w
    array([3., 1.])
    """
    A = _check_square(A)
    n = A.shape[0]
    k = n if n_components is None else int(n_components)
    if not 1 <= k <= n:
        raise ValueError(f"n_components must be in [1, {n}]; got {n_components!r}.")
    subset = (n - k, n - 1) if largest else (0, k - 1)
    w, V = linalg.eigh(A, subset_by_index=subset, check_finite=False)
    if largest:
        w, V = w[::-1], V[:, ::-1]
    return w, deterministic_sign(V)


def power_iteration(A, *, n_iter=1000, tol=1e-10, random_state=None):
    r"""Dominant eigenpair of a square matrix by power iteration.

    Parameters
    ----------
    A : array-like of shape (n, n)
        Square matrix whose eigenvalue of largest magnitude is simple.
    n_iter : int, default=1000
        Maximum number of iterations.
    tol : float, default=1e-10
        Stop when the eigenvector changes by less than ``tol`` (2-norm, up to
        sign) between iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the random start vector.

    Returns
    -------
    eigenvalue : float
        Rayleigh quotient of the final vector.
    eigenvector : ndarray of shape (n,)
        Unit eigenvector, sign fixed by :func:`deterministic_sign`.
    n_iter : int
        Iterations run.

    Notes
    -----
    Chapter 8. The iteration

    .. math::

        x_{t+1} = \frac{A x_t}{\|A x_t\|}

    converges to the dominant eigenvector at the linear rate
    :math:`|\lambda_2 / \lambda_1|` whenever the start has a component along it.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.utils.linalg import power_iteration
    >>> value, vector, _ = power_iteration(np.diag([1.0, 4.0, 2.0]), random_state=0)
    >>> round(value, 6), np.round(vector, 6)
    (4.0, array([0., 1., 0.]))
    """
    A = _check_square(A)
    rng = check_random_state(random_state)
    x = rng.standard_normal(A.shape[0])
    x /= np.linalg.norm(x)
    for it in range(1, n_iter + 1):
        y = A @ x
        norm = np.linalg.norm(y)
        if norm == 0:
            return 0.0, deterministic_sign(x[:, None])[:, 0], it
        y /= norm
        change = min(np.linalg.norm(y - x), np.linalg.norm(y + x))
        x = y
        if change < tol:
            break
    x = deterministic_sign(x[:, None])[:, 0] + 0.0  # + 0.0 turns -0.0 into 0.0
    return rayleigh_quotient(A, x), x, it
