"""Kernel support vector machines: C-SVC and epsilon-SVR (chapter 4 of the notes).

Both estimators solve their dual by SMO with second-order working-set selection
(:mod:`mlnotes.svm._smo`, compiled with numba); multi-class classification is
one-vs-one as in LIBSVM, and probabilities come from Platt scaling fitted by
internal cross-validation plus pairwise coupling (:mod:`mlnotes.svm._platt`).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import _safe_indexing, column_or_1d, deprecated
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import row_norms, safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ._platt import pairwise_coupling, sigmoid_train
from ._smo import KERNELS, PRECOMPUTED, smo_solve
from mlnotes.utils._random import check_random_state

try:  # scikit-learn's choice between sparse matrices and sparse arrays
    from sklearn.utils._sparse import _align_api_if_sparse
except ImportError:  # pragma: no cover - older scikit-learn
    def _align_api_if_sparse(X):
        return sp.csr_matrix(X)

_N_FOLDS = 5  # folds of the internal cross-validation behind Platt scaling
_BLOCK = 1 << 22  # kernel entries per block at predict time (32 MB in float64)
_DUMMY = np.zeros((1, 1))
# ``(data, indices, indptr, work)`` passed to the solver for dense points
_NO_CSR = (np.empty(0), np.empty(0, dtype=np.int32), np.zeros(1, dtype=np.int32),
           np.empty(0))


# ---------------------------------------------------------------------------
# Private computation: kernels, the binary/one-vs-one/regression duals.
# ---------------------------------------------------------------------------


def _writable(a):
    """C-contiguous, writable float64 (one numba specialisation for every input).

    Sparse input becomes CSR with sorted int32 indices (never densified).
    """
    if sp.issparse(a):
        a = sp.csr_matrix(a, dtype=np.float64)
        a.sort_indices()
        return a
    a = np.ascontiguousarray(a, dtype=np.float64)
    return a if a.flags.writeable else a.copy()


def _csr_arrays(X):
    """The solver's ``(data, indices, indptr, work)`` for a CSR matrix ``X``."""
    return (np.ascontiguousarray(X.data, dtype=np.float64),
            np.ascontiguousarray(X.indices, dtype=np.int32),
            np.ascontiguousarray(X.indptr, dtype=np.int32),
            np.zeros(X.shape[1]))


def _kernel_matrix(A, B, kernel, gamma, coef0, degree):
    """``K[s, t] = k(A[s], B[t])`` for the built-in kernels (dense or sparse rows)."""
    if sp.issparse(A) or sp.issparse(B):
        dots = np.asarray(safe_sparse_dot(A, B.T, dense_output=True), dtype=np.float64)
    else:
        dots = A @ B.T
    if kernel == "linear":
        return dots
    if kernel == "poly":
        return (gamma * dots + coef0) ** degree
    if kernel == "sigmoid":
        return np.tanh(gamma * dots + coef0)
    # rbf: ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b, clipped at 0 against rounding
    d2 = row_norms(A, squared=True)[:, None] + row_norms(B, squared=True)[None, :]
    d2 -= 2.0 * dots
    np.maximum(d2, 0.0, out=d2)
    d2 *= -gamma
    return np.exp(d2, out=d2)


def _dense_kernel(K):
    """A kernel function's output as a float64 array (sparse outputs densified)."""
    if sp.issparse(K):
        K = K.toarray()
    return np.asarray(K, dtype=np.float64)


def _check_kernel_finite(X, kernel, gamma, coef0, degree):
    r"""Raise a ValueError when the kernel of ``X`` cannot be computed in float64.

    Every kernel entry is bounded through :math:`|x_s^\top x_t| \le \max_s
    \|x_s\|^2 = r`: the linear kernel by :math:`r`, the polynomial one by
    :math:`(\gamma r + |c_0|)^d`, and the squared distances of the rbf kernel by
    :math:`4 r`; when such a bound overflows (inputs near the float maximum) the
    solver would see NaN or infinite entries and return meaningless
    coefficients, so the fit is refused.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        r = float(np.max(row_norms(X, squared=True), initial=0.0))
        bound = 4.0 * r
        if kernel == "poly":
            bound = max(bound, (gamma * r + abs(coef0)) ** degree)
    if not (np.isfinite(bound) and np.isfinite(gamma)):
        raise ValueError(
            "The dual coefficients or intercepts are not finite: the kernel values "
            f"overflow float64 (largest squared sample norm {r:.3g}, gamma={gamma:.3g}). "
            "The input data may contain large values and need to be preprocessed "
            "(e.g. with StandardScaler)."
        )


class _Problem:
    """Training points (or kernel matrix) and the solver settings of one fit."""

    def __init__(self, X, K, kernel, gamma, coef0, degree, tol, shrinking, max_iter,
                 cache_size):
        self.X, self.K = X, K  # exactly one of them is used
        self.kernel, self.gamma, self.coef0, self.degree = kernel, gamma, coef0, degree
        self.code = PRECOMPUTED if K is not None else KERNELS[kernel]
        self.tol, self.shrinking, self.max_iter = tol, shrinking, max_iter
        self.cache_bytes = int(cache_size * (1 << 20))

    def take(self, idx):
        """The sub-problem on the samples ``idx``."""
        sub = _Problem.__new__(_Problem)
        sub.__dict__.update(self.__dict__)
        if self.K is not None:
            sub.X, sub.K = None, _writable(self.K[np.ix_(idx, idx)])
        else:
            sub.X, sub.K = _writable(self.X[idx]), None
        return sub

    def cross_kernel(self, rows, cols):
        """Kernel between the samples ``rows`` and ``cols`` of this problem."""
        if self.K is not None:
            return self.K[np.ix_(rows, cols)]
        return _kernel_matrix(self.X[rows], self.X[cols], self.kernel, self.gamma,
                              self.coef0, self.degree)

    def solve(self, y, p, C, svr=False):
        """Run SMO; returns ``alpha, rho, n_iter, timed_out``."""
        X = self.X if self.X is not None else _DUMMY
        K = self.K if self.K is not None else _DUMMY
        csr = _NO_CSR
        if sp.issparse(X):
            X, csr = _DUMMY, _csr_arrays(X)
        alpha, rho, n_iter, timed_out = smo_solve(
            X, K, csr, self.code, float(self.gamma), float(self.coef0), int(self.degree),
            bool(svr), _writable(y), _writable(p), _writable(C), float(self.tol),
            bool(self.shrinking), int(self.max_iter), self.cache_bytes,
        )
        return alpha, float(rho), int(n_iter), bool(timed_out)


def _solve_binary(prob, y_pm, C):
    """C-SVC on ``+1/-1`` labels: ``coef = y * alpha``, ``rho``, iterations, status."""
    alpha, rho, n_iter, timed_out = prob.solve(y_pm, -np.ones_like(y_pm), C)
    return y_pm * alpha, rho, n_iter, timed_out


def _platt_binary(prob, y_pm, C, rng):
    """Platt's ``(A, B)`` from 5-fold out-of-fold decision values, as LIBSVM."""
    n = y_pm.size
    perm = rng.permutation(n)
    dec = np.empty(n)
    for f in range(_N_FOLDS):
        begin, end = f * n // _N_FOLDS, (f + 1) * n // _N_FOLDS
        test = perm[begin:end]
        train = np.concatenate([perm[:begin], perm[end:]])
        n_pos = np.count_nonzero(y_pm[train] > 0)
        if train.size == 0:
            dec[test] = 0.0
        elif n_pos == train.size:
            dec[test] = 1.0
        elif n_pos == 0:
            dec[test] = -1.0
        else:
            coef, rho, _, _ = _solve_binary(prob.take(train), y_pm[train], C[train])
            sv = np.flatnonzero(coef)
            dec[test] = prob.cross_kernel(test, train[sv]) @ coef[sv] - rho
    return sigmoid_train(dec, y_pm)


def _fit_ovo(prob, codes, n_classes, C, probability, rng):
    """One-vs-one C-SVC over the classes ``0 .. n_classes - 1`` as LIBSVM lays it out.

    Samples are grouped by class (stably); pair ``(i, j)``, ``i < j``, is trained
    on the samples of classes ``i`` (``+1``) and ``j`` (``-1``). A sample is a
    support vector if its coefficient is non-zero in any pair; ``dual_coef`` row
    ``j - 1`` holds the coefficients of class-``i`` vectors in pair ``(i, j)``
    and row ``i`` those of class-``j`` vectors.
    """
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_classes)
    starts = np.concatenate([[0], np.cumsum(counts)])
    n_pairs = n_classes * (n_classes - 1) // 2
    nonzero = np.zeros(codes.size, dtype=bool)
    pairs, rho = [], np.empty(n_pairs)
    n_iter = np.empty(n_pairs, dtype=np.int32)
    probA, probB = np.empty(n_pairs), np.empty(n_pairs)
    timed_out = False
    q = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            sub = np.concatenate([order[starts[i]:starts[i + 1]],
                                  order[starts[j]:starts[j + 1]]])
            y_pm = np.where(codes[sub] == i, 1.0, -1.0)
            sub_prob = prob.take(sub)
            if probability:
                probA[q], probB[q] = _platt_binary(sub_prob, y_pm, C[sub], rng)
            coef, rho[q], n_iter[q], to = _solve_binary(sub_prob, y_pm, C[sub])
            timed_out |= to
            nonzero[sub[coef != 0]] = True
            pairs.append((i, j, sub, coef))
            q += 1

    support = order[nonzero[order]]  # grouped by class, original order within
    n_support = np.bincount(codes[support], minlength=n_classes).astype(np.int32)
    position = np.full(codes.size, -1, dtype=np.intp)
    position[support] = np.arange(support.size)
    dual_coef = np.zeros((n_classes - 1, support.size))
    for i, j, sub, coef in pairs:
        keep = nonzero[sub]
        row = np.where(codes[sub] == i, j - 1, i)
        dual_coef[row[keep], position[sub[keep]]] = coef[keep]
    if not probability:
        probA, probB = np.empty(0), np.empty(0)
    return support, n_support, dual_coef, -rho, n_iter, timed_out, probA, probB


def _ovo_weights(dual_coef, n_support):
    """``(n_SV, n_pairs)`` matrix ``W`` with ``decision = K(X, SV) @ W + intercept``."""
    n_classes = n_support.size
    starts = np.concatenate([[0], np.cumsum(n_support)])
    W = np.zeros((dual_coef.shape[1], n_classes * (n_classes - 1) // 2))
    q = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            si, sj = slice(starts[i], starts[i + 1]), slice(starts[j], starts[j + 1])
            W[si, q] = dual_coef[j - 1, si]
            W[sj, q] = dual_coef[i, sj]
            q += 1
    return W


def _ovr_from_ovo(dec, n_classes):
    """One-vs-rest scores from one-vs-one values: votes plus a confidence in (-1/3, 1/3).

    ``dec[:, q] > 0`` (ties included) votes for the first class of pair ``q``.
    """
    votes = np.zeros((dec.shape[0], n_classes))
    conf = np.zeros((dec.shape[0], n_classes))
    q = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            wins_i = dec[:, q] >= 0
            votes[:, i] += wins_i
            votes[:, j] += ~wins_i
            conf[:, i] += dec[:, q]
            conf[:, j] -= dec[:, q]
            q += 1
    return votes + conf / (3.0 * (np.abs(conf) + 1.0))


# ---------------------------------------------------------------------------
# Shared estimator machinery.
# ---------------------------------------------------------------------------


class _BaseSVM(BaseEstimator):
    """Kernel handling, validation and decision values shared by SVC and SVR."""

    _parameter_constraints = {
        "kernel": [StrOptions({"linear", "poly", "rbf", "sigmoid", "precomputed"}),
                   callable],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0.0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "C": [Interval(Real, 0.0, None, closed="right")],
        "shrinking": ["boolean"],
        "cache_size": [Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
        "max_iter": [Interval(Integral, -1, None, closed="left")],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.kernel == "precomputed"
        tags.input_tags.sparse = self.kernel != "precomputed"
        return tags

    def _validate_X_y(self, X, y, sample_weight, y_numeric=False):
        sparse = sp.issparse(X)
        if sparse and self.kernel == "precomputed":
            raise TypeError("Sparse precomputed kernels are not supported.")
        self._sparse = sparse and not callable(self.kernel)
        if callable(self.kernel):
            # the kernel function defines what a sample is (strings, graphs, ...)
            check_consistent_length(X, y)
        else:
            X, y = validate_data(self, X, y, dtype=np.float64, order="C",
                                 accept_sparse="csr", accept_large_sparse=False,
                                 y_numeric=y_numeric)
            if self._sparse:
                X = _writable(X)
            if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
                raise ValueError(
                    "Precomputed matrix must be a square matrix. Input is a "
                    f"{X.shape[0]}x{X.shape[1]} matrix."
                )
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             allow_all_zero_weights=True)
        return X, y, sample_weight

    def _problem(self, X):
        """The :class:`_Problem` of ``X``; sets ``_gamma`` (and the callable's data)."""
        K = None
        if callable(self.kernel):
            self._X_fit = X
            K = _dense_kernel(self.kernel(X, X))
            if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] != _num_samples(X):
                raise ValueError(
                    f"The kernel function must return a square matrix of shape "
                    f"(n_samples, n_samples); got {K.shape}."
                )
            if not np.all(np.isfinite(K)):
                raise ValueError("The kernel function returned NaN or infinity.")
            K = _writable(K)
        elif self.kernel == "precomputed":
            K = _writable(X)
        if K is not None:
            self._gamma = 0.0
        elif self.gamma == "scale":
            # E[X^2] - E[X]^2 without densifying sparse X
            var = (X.multiply(X).mean() - X.mean() ** 2) if sp.issparse(X) else X.var()
            self._gamma = 1.0 / (X.shape[1] * var) if var != 0 else 1.0
        elif self.gamma == "auto":
            self._gamma = 1.0 / X.shape[1]
        else:
            self._gamma = float(self.gamma)
        if K is None:
            _check_kernel_finite(X, self.kernel, self._gamma, self.coef0, self.degree)
        return _Problem(None if K is not None else _writable(X), K,
                        "precomputed" if K is not None else self.kernel, self._gamma,
                        self.coef0, self.degree, self.tol, self.shrinking,
                        self.max_iter, self.cache_size)

    def _store_support_vectors(self, X, support):
        self.support_ = support.astype(np.int32)
        if callable(self.kernel) or self.kernel == "precomputed":
            self.support_vectors_ = np.empty((0, 0))
        elif sp.issparse(X):
            self.support_vectors_ = _align_api_if_sparse(sp.csr_array(X[support]))
        else:
            self.support_vectors_ = X[support]
        self.shape_fit_ = X.shape if hasattr(X, "shape") else (_num_samples(X),)

    def _finish_fit(self, timed_out, n_iter):
        self.fit_status_ = int(timed_out)
        if not (np.all(np.isfinite(self._dual_coef_))
                and np.all(np.isfinite(self._intercept_))):
            raise ValueError(
                "The dual coefficients or intercepts are not finite. The input data "
                "may contain large values and need to be preprocessed (or a class "
                "weight of 0 left a one-vs-one problem without free multipliers)."
            )
        if self._sparse:  # scikit-learn's dual_coef_ is sparse after a sparse fit
            self.dual_coef_ = _align_api_if_sparse(sp.csr_array(self.dual_coef_))
        if timed_out:
            warnings.warn(
                f"Solver terminated early (max_iter={self.max_iter}).  Consider "
                "pre-processing your data with StandardScaler or MinMaxScaler.",
                ConvergenceWarning, stacklevel=3,
            )
        if self.verbose:
            print(f"[mlnotes SMO] optimization finished, #iter = {n_iter}")

    def _validate_for_predict(self, X):
        check_is_fitted(self)
        if not callable(self.kernel):
            X = validate_data(self, X, dtype=np.float64, order="C", accept_sparse="csr",
                              accept_large_sparse=False, reset=False)
        sparse_fit = getattr(self, "_sparse", False)
        if sparse_fit and not sp.issparse(X):
            X = sp.csr_matrix(X)
        if sp.issparse(X):
            if not sparse_fit and not callable(self.kernel):
                raise ValueError(
                    f"cannot use sparse input in {type(self).__name__!r} trained on "
                    "dense data"
                )
            if not callable(self.kernel):
                X = _writable(X)
        if (not callable(self.kernel) and self.kernel != "precomputed"
                and self.support_vectors_.shape[0] != self.n_support_.sum()):
            raise ValueError(
                f"The internal representation of {type(self).__name__} was altered"
            )
        return X

    def _support_kernel(self, X):
        """Kernel between the rows of ``X`` and the support vectors."""
        if callable(self.kernel):
            # as scikit-learn: the kernel against every training sample, then the
            # support columns (a kernel function may assume its two arguments
            # come from the same ordered set, e.g. a symmetric fill)
            K = _dense_kernel(self.kernel(X, self._X_fit))
            if K.ndim != 2 or K.shape[1] != _num_samples(self._X_fit):
                raise ValueError(
                    "The kernel function must return a matrix of shape (n_samples, "
                    f"n_samples_fit); got {K.shape}."
                )
            return K[:, self.support_]
        if self.kernel == "precomputed":
            if X.shape[1] != self.shape_fit_[0]:
                raise ValueError(
                    f"X.shape[1] = {X.shape[1]} should be equal to {self.shape_fit_[0]}, "
                    "the number of samples at training time"
                )
            return X[:, self.support_]
        return _kernel_matrix(X, self.support_vectors_, self.kernel, self._gamma,
                              self.coef0, self.degree)

    def _raw_decision(self, X, W):
        """``K(X, SV) @ W + _intercept_``, by blocks of rows."""
        n = _num_samples(X)
        out = np.empty((n, W.shape[1]))
        # a kernel function is evaluated against every training sample
        width = _num_samples(self._X_fit) if callable(self.kernel) else W.shape[0]
        step = max(1, _BLOCK // max(1, width))
        for start in range(0, n, step):
            rows = slice(start, min(n, start + step))
            Xb = _safe_indexing(X, np.arange(rows.start, rows.stop)) \
                if callable(self.kernel) else X[rows]
            out[rows] = self._support_kernel(Xb) @ W
        out += self._intercept_
        return out

    def _get_coef(self):
        return safe_sparse_dot(self.dual_coef_, self.support_vectors_)

    @property
    def coef_(self):
        """Primal weights ``w = sum_i coef_i x_i``; only for ``kernel="linear"``.

        ndarray of shape (n_classes * (n_classes - 1) / 2, n_features) for SVC
        (one row per pair), (1, n_features) for SVR.
        """
        if self.kernel != "linear":
            raise AttributeError("coef_ is only available when using a linear kernel")
        coef = self._get_coef()
        if sp.issparse(coef):
            coef.data.flags.writeable = False
        else:
            coef.flags.writeable = False
        return coef


# ---------------------------------------------------------------------------
# SVC
# ---------------------------------------------------------------------------


class SVC(ClassifierMixin, _BaseSVM):
    r"""C-support vector classification with a kernel, trained by SMO.

    Binary problems are solved in the dual by sequential minimal optimisation
    (two multipliers at a time, chosen with second-order information), with
    shrinking and a cache of kernel rows; several classes are handled one
    versus one, as in LIBSVM, on which scikit-learn's ``SVC`` is built.
    Dense or sparse ``X``. See the :ref:`User Guide <user-guide-svm>`.

    Parameters
    ----------
    C : float, default=1.0
        Inverse strength of the regularisation, strictly positive: the cost of
        each unit of margin violation. Multiplied per sample by ``class_weight``
        and ``sample_weight``.
    kernel : {"linear", "poly", "rbf", "sigmoid", "precomputed"} or callable, \
            default="rbf"
        Kernel :math:`k(x, x')`: ``"linear"`` :math:`x^\top x'`, ``"poly"``
        :math:`(\gamma x^\top x' + c_0)^d`, ``"rbf"``
        :math:`\exp(-\gamma \|x - x'\|^2)`, ``"sigmoid"``
        :math:`\tanh(\gamma x^\top x' + c_0)`. ``"precomputed"`` takes the Gram
        matrix as ``X`` (``(n_samples, n_samples)`` in ``fit``,
        ``(n_test, n_samples)`` afterwards). A callable ``kernel(A, B)`` returns
        the ``(len(A), len(B))`` kernel matrix.
    degree : int, default=3
        Degree :math:`d` of the polynomial kernel, non-negative.
    gamma : {"scale", "auto"} or float, default="scale"
        :math:`\gamma` of the rbf, poly and sigmoid kernels: ``"scale"`` is
        ``1 / (n_features * X.var())``, ``"auto"`` is ``1 / n_features``.
    coef0 : float, default=0.0
        Independent term :math:`c_0` of the poly and sigmoid kernels.
    shrinking : bool, default=True
        Whether to use the shrinking heuristic (temporarily fix multipliers
        that sit at a bound and are unlikely to move).
    probability : bool, default="deprecated"
        Whether to fit Platt's sigmoid (5-fold internal cross-validation, which
        makes ``fit`` about 5 times slower) to enable ``predict_proba``.
        Probabilities can disagree with ``predict`` on borderline points. The
        default, ``"deprecated"``, means False. As in scikit-learn 1.9, setting
        it (to True or False) warns with a ``FutureWarning``: scikit-learn
        deprecates it for ``CalibratedClassifierCV(SVC(), ensemble=False)``.
    tol : float, default=1e-3
        Stopping tolerance on the maximal KKT violation.
    cache_size : float, default=200
        Size of the kernel-row cache, in MB.
    class_weight : dict or "balanced", default=None
        Multiplies ``C`` for the samples of each class; ``"balanced"`` uses
        ``n_samples / (n_classes * np.bincount(y))``.
    verbose : bool, default=False
        Print the number of iterations of each solve.
    max_iter : int, default=-1
        Limit on the SMO iterations of each binary problem, -1 for none; hitting
        it raises a :class:`~sklearn.exceptions.ConvergenceWarning`.
    decision_function_shape : {"ovo", "ovr"}, default="ovr"
        Shape of ``decision_function`` with more than two classes: the one-vs-one
        values ``(n_samples, n_classes * (n_classes - 1) / 2)`` or one-vs-rest
        scores ``(n_samples, n_classes)`` built from them (votes plus a
        confidence). Training is always one-vs-one.
    break_ties : bool, default=False
        With ``decision_function_shape="ovr"`` and more than two classes,
        ``predict`` returns the argmax of ``decision_function`` instead of the
        first class among those with most votes.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the internal cross-validation when
        ``probability=True``; unused otherwise. ``None`` draws fresh entropy
        (numpy's global generator is never advanced).

    Attributes
    ----------
    class_weight_ : ndarray of shape (n_classes,)
        Multiplier of ``C`` for each class.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (n_classes * (n_classes - 1) / 2, n_features)
        Primal weights, only with ``kernel="linear"`` (read-only property).
    dual_coef_ : {ndarray, sparse matrix} of shape (n_classes - 1, n_SV)
        :math:`y_i \alpha_i` of the support vectors in each one-vs-one problem,
        in LIBSVM's layout (see Notes).
    fit_status_ : int
        0 if every problem converged, 1 if one stopped at ``max_iter``.
    intercept_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Intercepts :math:`b = -\rho` of the one-vs-one problems.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    n_iter_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        SMO iterations of each problem.
    support_ : ndarray of shape (n_SV,)
        Indices of the support vectors, grouped by class.
    support_vectors_ : {ndarray, sparse matrix} of shape (n_SV, n_features)
        The support vectors (empty for a precomputed or callable kernel).
    n_support_ : ndarray of shape (n_classes,), dtype=int32
        Number of support vectors of each class.
    probA_, probB_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Platt's sigmoid :math:`1 / (1 + \exp(A f + B))` of each pair (empty
        unless ``probability=True``). Reading them warns with a
        ``FutureWarning``, as in scikit-learn 1.9.
    shape_fit_ : tuple of int
        Shape of the training ``X``.

    See Also
    --------
    SVR : epsilon-support vector regression.

    Notes
    -----
    Chapter 4 of the notes (support vector machines). With labels
    :math:`y_i \in \{-1, +1\}`, a feature map :math:`\phi` with
    :math:`k(x, x') = \phi(x)^\top \phi(x')` and per-sample costs
    :math:`C_i = C \cdot \mathrm{class\_weight}_{y_i} \cdot s_i`, the soft-margin
    primal problem is

    .. math::

        \min_{w, b, \xi} \tfrac12 \|w\|^2 + \sum_{i=1}^n C_i \xi_i
        \quad\text{s.t.}\quad y_i (w^\top \phi(x_i) + b) \ge 1 - \xi_i,\;
        \xi_i \ge 0,

    and its Lagrange dual, with :math:`Q_{ij} = y_i y_j k(x_i, x_j)`,

    .. math::

        \min_\alpha f(\alpha) = \tfrac12 \alpha^\top Q \alpha - e^\top \alpha
        \quad\text{s.t.}\quad y^\top \alpha = 0,\; 0 \le \alpha_i \le C_i,

    whose solution gives :math:`w = \sum_i y_i \alpha_i \phi(x_i)` and the
    decision function :math:`g(x) = \sum_i y_i \alpha_i k(x_i, x) + b`; the
    support vectors are the :math:`x_i` with :math:`\alpha_i > 0`. The KKT
    conditions read

    .. math::

        \alpha_i = 0 \Rightarrow y_i g(x_i) \ge 1, \qquad
        0 < \alpha_i < C_i \Rightarrow y_i g(x_i) = 1, \qquad
        \alpha_i = C_i \Rightarrow y_i g(x_i) \le 1,

    equivalently :math:`m(\alpha) \le M(\alpha)` with
    :math:`m(\alpha) = \max_{t \in I_{up}} -y_t \nabla_t f`,
    :math:`M(\alpha) = \min_{t \in I_{low}} -y_t \nabla_t f`, where
    :math:`I_{up} = \{t : \alpha_t < C_t, y_t = 1 \text{ or } \alpha_t > 0, y_t = -1\}`
    and :math:`I_{low}` the mirror set; SMO stops when
    :math:`m(\alpha) - M(\alpha) < \mathrm{tol}`, and :math:`b` is the mean of
    :math:`-y_t \nabla_t f` over the free multipliers. Each iteration picks
    :math:`i \in \arg\max_{t \in I_{up}} -y_t \nabla_t f` and, with
    :math:`a_{it} = K_{ii} + K_{tt} - 2 K_{it}` and
    :math:`b_{it} = -y_i \nabla_i f + y_t \nabla_t f > 0`,
    :math:`j \in \arg\min_{t \in I_{low}} -b_{it}^2 / a_{it}` (the largest
    decrease of :math:`f` along the pair, second-order selection), then
    solves the two-variable problem in closed form,

    .. math::

        \alpha_i \leftarrow \alpha_i + y_i \frac{b_{ij}}{a_{ij}}, \qquad
        \alpha_j \leftarrow \alpha_j - y_j \frac{b_{ij}}{a_{ij}},

    clipped to the box along :math:`y_i \alpha_i + y_j \alpha_j = \text{const}`,
    and updates :math:`\nabla f \mathrel{+}= Q_{:i} \Delta\alpha_i + Q_{:j}
    \Delta\alpha_j` from two cached kernel rows.

    With :math:`k` classes, :math:`k(k-1)/2` such problems are trained, one per
    pair :math:`(i, j)`, on the samples of the two classes (class :math:`i` as
    :math:`+1`); ``predict`` takes a vote. ``dual_coef_[j - 1]`` holds the
    coefficients of the class-:math:`i` support vectors in problem
    :math:`(i, j)` and ``dual_coef_[i]`` those of the class-:math:`j` ones.
    For two classes the signs are flipped so that a positive decision means
    ``classes_[1]``, as in scikit-learn.

    Sparse input (CSR; other formats are converted) is used as it is: kernel
    rows are computed from the CSR arrays (a row is scattered into a dense
    buffer of length ``n_features`` and dotted with the non-zeros of the
    others) into the same kernel cache, so ``X`` is never densified; then, as
    in scikit-learn, ``support_vectors_``, ``dual_coef_`` and ``coef_`` are
    sparse matrices and prediction takes sparse or dense rows.

    Differences from scikit-learn: samples with a zero weight are left out of
    training but ``support_`` still indexes the rows of the ``X`` given to
    ``fit`` (scikit-learn's indexes the rows left); ``probability``
    (deprecated in scikit-learn 1.9 in favour of ``CalibratedClassifierCV``)
    is kept, without a warning, since Platt
    scaling is part of the chapter, and ``probA_``/``probB_`` are plain
    attributes.

    References
    ----------
    R.-E. Fan, P.-H. Chen and C.-J. Lin, "Working set selection using second
    order information for training support vector machines", *JMLR* 6, 2005.

    C.-C. Chang and C.-J. Lin, "LIBSVM: a library for support vector machines",
    *ACM TIST* 2(3), 2011.

    J. Platt, "Probabilistic outputs for support vector machines and
    comparisons to regularized likelihood methods", 1999; H.-T. Lin, C.-J. Lin
    and R. C. Weng, "A note on Platt's probabilistic outputs for support vector
    machines", *Machine Learning* 68, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.svm import SVC
    >>> X = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 2.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = SVC(kernel="linear", C=10.0).fit(X, y)
    >>> clf.coef_, clf.intercept_
    (array([[1., 0.]]), array([-1.]))
    >>> clf.predict([[0.5, 1.0], [1.5, -3.0]])
    array([0, 1])
    """

    _parameter_constraints = {
        **_BaseSVM._parameter_constraints,
        "probability": ["boolean", Hidden(StrOptions({"deprecated"}))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "decision_function_shape": [StrOptions({"ovr", "ovo"})],
        "break_ties": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, C=1.0, kernel="rbf", degree=3, gamma="scale", coef0=0.0,
                 shrinking=True, probability="deprecated", tol=1e-3, cache_size=200,
                 class_weight=None, verbose=False, max_iter=-1,
                 decision_function_shape="ovr", break_ties=False, random_state=None):
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.shrinking = shrinking
        self.probability = probability
        self.tol = tol
        self.cache_size = cache_size
        self.class_weight = class_weight
        self.verbose = verbose
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Fit the one-vs-one SVMs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
                (n_samples, n_samples)
            Training vectors; the Gram matrix for ``kernel="precomputed"``
            (dense only).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample multipliers of ``C``; samples with a weight <= 0 are left
            out.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        rng = check_random_state(self.random_state)  # never numpy's global generator
        probability = self.probability
        if probability == "deprecated":
            probability = False
        else:  # scikit-learn 1.9 warns whenever the parameter is set
            warnings.warn(
                "The `probability` parameter was deprecated in scikit-learn 1.9 and "
                "will be removed there in version 1.11. Use "
                "`CalibratedClassifierCV(SVC(), ensemble=False)` instead of "
                "`SVC(probability=True)`",
                FutureWarning,
            )
        X, y, sample_weight = self._validate_X_y(X, y, sample_weight)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{classes.size} class"
            )
        self.classes_ = classes
        self.class_weight_ = compute_class_weight(self.class_weight, classes=classes,
                                                  y=y)

        keep = np.flatnonzero(sample_weight > 0)
        if keep.size == 0:
            raise ValueError("Invalid input - all samples have zero or negative weights.")
        present = np.unique(codes[keep])
        if present.size < 2:
            raise ValueError(
                "Invalid input - all samples with positive weights belong to the same "
                "class."
            )
        if present.size < classes.size:
            missing = classes[np.setdiff1d(np.arange(classes.size), present)]
            raise ValueError(
                f"Invalid input - class(es) {list(missing)} have no sample with a "
                "positive weight."
            )

        prob = self._problem(X)
        if keep.size < codes.size:
            prob = prob.take(keep)
        C = self.C * self.class_weight_[codes[keep]] * sample_weight[keep]
        (support, n_support, dual_coef, intercept, n_iter, timed_out, probA,
         probB) = _fit_ovo(prob, codes[keep], classes.size, C, bool(probability), rng)
        support = keep[support]

        self._store_support_vectors(X, support)
        self.n_support_ = n_support
        self._dual_coef_ = dual_coef
        self._intercept_ = intercept
        self._probA, self._probB = probA, probB
        self.n_iter_ = n_iter
        if classes.size == 2:  # positive decision means classes_[1]
            self.dual_coef_, self.intercept_ = -dual_coef, -intercept
        else:
            self.dual_coef_, self.intercept_ = dual_coef, intercept.copy()
        self._finish_fit(timed_out, n_iter)
        return self

    def _get_coef(self):
        if self.dual_coef_.shape[0] == 1:
            return safe_sparse_dot(self.dual_coef_, self.support_vectors_)
        W = _ovo_weights(self._dual_coef_, self.n_support_)
        if sp.issparse(self.support_vectors_):
            return _align_api_if_sparse(sp.csr_array(W.T) @ self.support_vectors_)
        return W.T @ self.support_vectors_

    def _decision_ovo(self, X):
        """LIBSVM's one-vs-one values, positive towards the first class of a pair."""
        X = self._validate_for_predict(X)
        return self._raw_decision(X, _ovo_weights(self._dual_coef_, self.n_support_))

    def decision_function(self, X):
        """Signed decision values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            For ``kernel="precomputed"``, the kernel between the test and the
            training samples, ``(n_samples, n_samples_fit)``.

        Returns
        -------
        dec : ndarray of shape (n_samples,), (n_samples, n_classes) or \
                (n_samples, n_classes * (n_classes - 1) / 2)
            Binary: positive towards ``classes_[1]``. Otherwise one-vs-rest
            scores or one-vs-one values, as ``decision_function_shape`` says.
        """
        dec = self._decision_ovo(X)
        n_classes = self.classes_.size
        if n_classes == 2:
            return -dec.ravel()
        if self.decision_function_shape == "ovr":
            return _ovr_from_ovo(dec, n_classes)
        return dec

    def predict(self, X):
        """Predict class labels by one-vs-one voting.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            For ``kernel="precomputed"``, ``(n_samples, n_samples_fit)``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        n_classes = self.classes_.size
        if self.break_ties and self.decision_function_shape == "ovo":
            raise ValueError(
                "break_ties must be False when decision_function_shape is 'ovo'"
            )
        if self.break_ties and self.decision_function_shape == "ovr" and n_classes > 2:
            return self.classes_[np.argmax(self.decision_function(X), axis=1)]
        dec = self._decision_ovo(X)
        votes = np.zeros((dec.shape[0], n_classes), dtype=np.intp)
        q = 0
        for i in range(n_classes):
            for j in range(i + 1, n_classes):
                wins_i = dec[:, q] > 0
                votes[:, i] += wins_i
                votes[:, j] += ~wins_i
                q += 1
        return self.classes_[np.argmax(votes, axis=1)]

    @deprecated(
        "Attribute `probA_` was deprecated in version 1.9 and will be removed in "
        "1.11 as the `probability=True` option for SVC was deprecated in scikit-learn "
        "and will be removed in 1.11."
    )
    @property
    def probA_(self):
        """Slopes :math:`A` of Platt's sigmoids, one per pair of classes.

        Returns
        -------
        ndarray of shape (n_classes * (n_classes - 1) / 2,)
            Empty unless fitted with ``probability=True``.
        """
        return self._probA

    @deprecated(
        "Attribute `probB_` was deprecated in version 1.9 and will be removed in "
        "1.11 as the `probability=True` option for SVC was deprecated in scikit-learn "
        "and will be removed in 1.11."
    )
    @property
    def probB_(self):
        """Offsets :math:`B` of Platt's sigmoids, one per pair of classes.

        Returns
        -------
        ndarray of shape (n_classes * (n_classes - 1) / 2,)
            Empty unless fitted with ``probability=True``.
        """
        return self._probB

    def _check_proba(self):
        if self.probability == "deprecated" or not self.probability:
            raise AttributeError("predict_proba is not available when probability=False")
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Class probabilities from Platt scaling and pairwise coupling.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            For ``kernel="precomputed"``, ``(n_samples, n_samples_fit)``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self)
        if self._probA.size == 0:
            raise NotFittedError(
                "predict_proba is not available when fitted with probability=False"
            )
        dec = self._decision_ovo(X)
        return pairwise_coupling(dec, self._probA, self._probB, self.classes_.size)

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            For ``kernel="precomputed"``, ``(n_samples, n_samples_fit)``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))


# ---------------------------------------------------------------------------
# SVR
# ---------------------------------------------------------------------------


class SVR(RegressorMixin, _BaseSVM):
    r"""Epsilon-support vector regression with a kernel, trained by SMO.

    Dense or sparse ``X``. See the :ref:`User Guide <user-guide-svm>`.

    Parameters
    ----------
    kernel : {"linear", "poly", "rbf", "sigmoid", "precomputed"} or callable, \
            default="rbf"
        Kernel, as in :class:`SVC`.
    degree : int, default=3
        Degree of the polynomial kernel, non-negative.
    gamma : {"scale", "auto"} or float, default="scale"
        :math:`\gamma` of the rbf, poly and sigmoid kernels, as in :class:`SVC`.
    coef0 : float, default=0.0
        Independent term of the poly and sigmoid kernels.
    tol : float, default=1e-3
        Stopping tolerance on the maximal KKT violation.
    C : float, default=1.0
        Inverse strength of the regularisation, strictly positive; multiplied
        per sample by ``sample_weight``.
    epsilon : float, default=0.1
        Half-width of the tube inside which errors cost nothing, non-negative.
    shrinking : bool, default=True
        Whether to use the shrinking heuristic.
    cache_size : float, default=200
        Size of the kernel-row cache, in MB.
    verbose : bool, default=False
        Print the number of iterations.
    max_iter : int, default=-1
        Limit on the SMO iterations, -1 for none; hitting it raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        Primal weights, only with ``kernel="linear"`` (read-only property).
    dual_coef_ : {ndarray, sparse matrix} of shape (1, n_SV)
        :math:`\alpha_i - \alpha_i^*` of the support vectors.
    fit_status_ : int
        0 if converged, 1 if stopped at ``max_iter``.
    intercept_ : ndarray of shape (1,)
        Intercept :math:`b`.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    n_iter_ : int
        SMO iterations.
    n_support_ : ndarray of shape (1,), dtype=int32
        Number of support vectors.
    shape_fit_ : tuple of int
        Shape of the training ``X``.
    support_ : ndarray of shape (n_SV,)
        Indices of the support vectors.
    support_vectors_ : {ndarray, sparse matrix} of shape (n_SV, n_features)
        The support vectors (empty for a precomputed or callable kernel).

    See Also
    --------
    SVC : C-support vector classification.

    Notes
    -----
    Chapter 4 of the notes (support vector machines). With per-sample costs
    :math:`C_i = C s_i`, epsilon-SVR solves the primal problem

    .. math::

        \min_{w, b, \xi, \xi^*} \tfrac12 \|w\|^2 + \sum_i C_i (\xi_i + \xi_i^*)
        \quad\text{s.t.}\quad
        -\epsilon - \xi_i^* \le w^\top \phi(x_i) + b - z_i \le \epsilon + \xi_i,\;
        \xi_i, \xi_i^* \ge 0,

    whose dual, with :math:`K_{ij} = k(x_i, x_j)`, is

    .. math::

        \min_{\alpha, \alpha^*} \tfrac12 (\alpha - \alpha^*)^\top K
        (\alpha - \alpha^*) + \epsilon \sum_i (\alpha_i + \alpha_i^*)
        - \sum_i z_i (\alpha_i - \alpha_i^*)
        \quad\text{s.t.}\quad e^\top (\alpha - \alpha^*) = 0,\;
        0 \le \alpha_i, \alpha_i^* \le C_i ,

    and the prediction is :math:`g(x) = \sum_i (\alpha_i - \alpha_i^*) k(x_i, x) + b`.
    Stacking :math:`\bar\alpha = (\alpha, \alpha^*)` with signs
    :math:`y = (e, -e)` turns it into the form of :class:`SVC`'s dual,
    :math:`\min \tfrac12 \bar\alpha^\top Q \bar\alpha + p^\top \bar\alpha`,
    :math:`Q_{tu} = y_t y_u K_{tu}`, :math:`p = (\epsilon e - z, \epsilon e + z)`,
    solved by the same SMO (second-order working-set selection, shrinking,
    kernel cache; see :class:`SVC` for the update). The KKT conditions say that
    points strictly inside the tube have :math:`\alpha_i = \alpha_i^* = 0`,
    points on its boundary have a free multiplier, and points outside it have
    a multiplier at :math:`C_i`; at most one of :math:`\alpha_i, \alpha_i^*`
    is non-zero.

    References
    ----------
    A. J. Smola and B. Schölkopf, "A tutorial on support vector regression",
    *Statistics and Computing* 14, 2004.

    R.-E. Fan, P.-H. Chen and C.-J. Lin, "Working set selection using second
    order information for training support vector machines", *JMLR* 6, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.svm import SVR
    >>> X = np.arange(6, dtype=float).reshape(-1, 1)
    >>> y = 2.0 * X.ravel() + 1.0
    >>> reg = SVR(kernel="linear", C=100.0, epsilon=0.1).fit(X, y)

    The flattest line within 0.1 of every point passes 0.1 above the first
    point and 0.1 below the last: slope ``2 - 2 * 0.1 / 5``.

    >>> np.round(reg.coef_, 4), np.round(reg.intercept_, 4)
    (array([[1.96]]), array([1.1]))
    >>> reg.support_
    array([0, 5], dtype=int32)
    """

    _parameter_constraints = {
        **_BaseSVM._parameter_constraints,
        "epsilon": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(self, *, kernel="rbf", degree=3, gamma="scale", coef0=0.0, tol=1e-3,
                 C=1.0, epsilon=0.1, shrinking=True, cache_size=200, verbose=False,
                 max_iter=-1):
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.C = C
        self.epsilon = epsilon
        self.shrinking = shrinking
        self.cache_size = cache_size
        self.verbose = verbose
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit the regression.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
                (n_samples, n_samples)
            Training vectors; the Gram matrix for ``kernel="precomputed"``
            (dense only).
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample multipliers of ``C``; samples with a weight <= 0 are left
            out.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y, sample_weight = self._validate_X_y(X, y, sample_weight, y_numeric=True)
        z = column_or_1d(y, warn=True).astype(np.float64)
        if not np.all(np.isfinite(z)):
            raise ValueError("Input y contains NaN or infinity.")
        keep = np.flatnonzero(sample_weight > 0)
        if keep.size == 0:
            raise ValueError("Invalid input - all samples have zero or negative weights.")

        prob = self._problem(X)
        if keep.size < z.size:
            prob = prob.take(keep)
        support, coef, rho, n_iter, timed_out = _fit_epsilon_svr(
            prob, z[keep], self.C * sample_weight[keep], self.epsilon)

        self._store_support_vectors(X, keep[support])
        self.n_support_ = np.array([support.size], dtype=np.int32)
        self._dual_coef_ = self.dual_coef_ = coef[None, :]
        self._intercept_ = self.intercept_ = np.array([-rho])
        self.n_iter_ = n_iter
        self._finish_fit(timed_out, n_iter)
        return self

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            For ``kernel="precomputed"``, ``(n_samples, n_samples_fit)``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._validate_for_predict(X)
        return self._raw_decision(X, self._dual_coef_.T).ravel()


def _fit_epsilon_svr(prob, z, C, epsilon):
    """Epsilon-SVR dual on ``2 m`` variables; returns the support and its coefficients."""
    m = z.size
    y = np.concatenate([np.ones(m), -np.ones(m)])
    p = np.concatenate([epsilon - z, epsilon + z])
    alpha, rho, n_iter, timed_out = prob.solve(y, p, np.concatenate([C, C]), svr=True)
    coef = alpha[:m] - alpha[m:]
    support = np.flatnonzero(coef)
    return support, coef[support], rho, n_iter, timed_out
