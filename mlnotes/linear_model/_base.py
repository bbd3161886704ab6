"""Machinery shared by the linear models: centring, prediction, classifier scores."""

import numpy as np
from scipy import sparse, special
from scipy.sparse import linalg as sp_linalg
from sklearn.base import ClassifierMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

FLOAT_DTYPES = (np.float64, np.float32)

# Sparse formats a fit accepts without conversion (others are converted to CSR).
SPARSE_FIT_FORMATS = ("csr", "csc")
# Sparse formats a predict-time method accepts (COO products are as fast as CSR's).
SPARSE_PREDICT_FORMATS = ("csr", "csc", "coo")


def _preprocess_sparse(X, y, *, fit_intercept, sample_weight=None):
    """The sparse counterpart of :func:`_preprocess_data`: ``X`` is never centred.

    Centring would fill in the zeros of ``X``, so ``X`` is returned unchanged and
    its (weighted) column means ``X_offset`` are returned for the solvers, which
    work with the centred, weighted matrix ``S^{1/2} (X - 1 X_offset^T)``
    implicitly (:func:`_centered_operator`). ``y`` is centred and scaled by
    ``sqrt(w)`` as in the dense case.
    """
    dtype = X.dtype
    if fit_intercept:
        if sample_weight is None:
            X_offset = np.asarray(X.mean(axis=0), dtype=dtype).ravel()
        else:
            X_offset = np.asarray(safe_sparse_dot(X.T, sample_weight.astype(dtype)),
                                  dtype=dtype).ravel() / sample_weight.sum()
            X_offset = X_offset.astype(dtype, copy=False)
        y_offset = np.average(y, axis=0, weights=sample_weight)
        y = y - y_offset
    else:
        X_offset = np.zeros(X.shape[1], dtype=dtype)
        y_offset = np.zeros(y.shape[1:], dtype=dtype) if y.ndim > 1 else dtype.type(0)
    sqrt_sw = None
    if sample_weight is not None:
        sqrt_sw = np.sqrt(sample_weight)
        y = y * (sqrt_sw[:, None] if y.ndim > 1 else sqrt_sw)
    return X, y, X_offset, y_offset, sqrt_sw


def _centered_operator(X, X_offset, sqrt_sw):
    """``S^{1/2} (X - 1 X_offset^T)`` as a :class:`~scipy.sparse.linalg.LinearOperator`.

    Products with the operator and its transpose cost one sparse product each
    plus O(n_samples + n_features): the centred matrix is never formed.
    ``sqrt_sw=None`` means unit weights.
    """
    n_samples, n_features = X.shape
    s = np.ones(n_samples, dtype=X.dtype) if sqrt_sw is None else sqrt_sw
    has_offset = np.any(X_offset != 0)

    def matvec(b):
        b = np.ravel(b)
        out = X @ b
        if has_offset:
            out = out - X_offset @ b
        return out * s if sqrt_sw is not None else out

    def rmatvec(b):
        b = np.ravel(b)
        sb = b * s if sqrt_sw is not None else b
        out = X.T @ sb
        if has_offset:
            out = out - X_offset * sb.sum()
        return out

    return sp_linalg.LinearOperator((n_samples, n_features), matvec=matvec,
                                    rmatvec=rmatvec, dtype=X.dtype)


def _preprocess_data(X, y, *, fit_intercept, sample_weight=None, copy=True):
    """Centre ``X`` and ``y`` on their (weighted) means and scale rows by ``sqrt(w)``.

    With weights ``w``, weighted least squares on ``(X, y)`` is ordinary least
    squares on ``(sqrt(w) * (X - X_offset), sqrt(w) * (y - y_offset))``, and the
    intercept is recovered as ``y_offset - X_offset @ coef``.

    Sparse ``X`` is not centred (see :func:`_preprocess_sparse`).

    Returns
    -------
    X, y : ndarray
        Centred and rescaled data (``X`` is a copy unless ``copy=False``).
    X_offset, y_offset : ndarray
        Weighted means (zeros when ``fit_intercept=False``).
    sqrt_sw : ndarray or None
        Square roots of the sample weights, or ``None`` without weights.
    """
    if sparse.issparse(X):
        return _preprocess_sparse(X, y, fit_intercept=fit_intercept,
                                  sample_weight=sample_weight)
    X = np.array(X, copy=True) if copy else X
    if fit_intercept:
        X_offset = np.average(X, axis=0, weights=sample_weight)
        y_offset = np.average(y, axis=0, weights=sample_weight)
        X -= X_offset.astype(X.dtype, copy=False)
        y = y - y_offset
    else:
        X_offset = np.zeros(X.shape[1], dtype=X.dtype)
        y_offset = np.zeros(y.shape[1:], dtype=X.dtype) if y.ndim > 1 else X.dtype.type(0)
    sqrt_sw = None
    if sample_weight is not None:
        sqrt_sw = np.sqrt(sample_weight)
        X *= sqrt_sw[:, None]
        y = y * (sqrt_sw[:, None] if y.ndim > 1 else sqrt_sw)
    return X, y, X_offset, y_offset, sqrt_sw


class LinearModelMixin:
    """``predict`` for linear regressors: ``X @ coef_.T + intercept_``.

    ``_sparse_formats``: sparse formats the predict-time methods accept (``False``:
    dense only); a subclass that fits sparse input sets it.
    """

    _sparse_formats = False

    def _decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False,
                          accept_sparse=self._sparse_formats)
        if sparse.issparse(X):
            return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return X @ self.coef_.T + self.intercept_

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples; sparse matrices where the estimator accepts them.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        return self._decision_function(X)

    def _set_intercept(self, X_offset, y_offset):
        if self.fit_intercept:
            self.intercept_ = y_offset - X_offset @ self.coef_.T
        else:
            self.intercept_ = 0.0 if np.ndim(y_offset) == 0 else np.zeros_like(y_offset)


class SparseCoefMixin:
    """``sparsify()`` / ``densify()``: store ``coef_`` as a sparse matrix or back.

    With many zero coefficients (an L1 penalty) a sparse ``coef_`` saves memory
    and makes ``decision_function`` faster; predictions are unchanged.
    """

    def densify(self):
        """Convert ``coef_`` to a dense array (the default after ``fit``).

        Returns
        -------
        self : object
            The estimator, with a dense ``coef_``.
        """
        check_is_fitted(self)
        if sparse.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Convert ``coef_`` to a ``scipy.sparse`` CSR matrix.

        Returns
        -------
        self : object
            The estimator, with a sparse ``coef_``; ``fit`` makes it dense again.
        """
        check_is_fitted(self)
        self.coef_ = sparse.csr_matrix(self.coef_)
        return self


def proba_from_scores(scores, log=False):
    """Class probabilities (or their logarithms) from linear decision scores.

    One column of scores (two classes) is the log-odds of the second class: the
    probabilities are ``expit(-s), expit(s)``; several columns are normalised by a
    softmax. Shared by :class:`LogisticRegression` and
    :class:`~mlnotes.discriminant_analysis.LinearDiscriminantAnalysis`.
    """
    if scores.ndim == 1:
        if log:
            return np.column_stack([special.log_expit(-scores), special.log_expit(scores)])
        return np.column_stack([special.expit(-scores), special.expit(scores)])
    return special.log_softmax(scores, axis=1) if log else special.softmax(scores, axis=1)


class LinearClassifierMixin(ClassifierMixin):
    """``decision_function`` and ``predict`` for linear classifiers.

    Fitted ``coef_`` has shape ``(1, n_features)`` for two classes (scores of the
    positive class ``classes_[1]``) and ``(n_classes, n_features)`` otherwise.
    ``_sparse_formats`` as in :class:`LinearModelMixin`.
    """

    _sparse_formats = False

    def decision_function(self, X):
        """Confidence scores: signed distance to the hyperplane, times ``||coef_||``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples; sparse matrices where the estimator accepts them.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]`` (positive means that
            class is predicted); otherwise one score per class.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False,
                          accept_sparse=self._sparse_formats)
        if sparse.issparse(X) or sparse.issparse(self.coef_):
            scores = np.asarray(safe_sparse_dot(X, self.coef_.T, dense_output=True))
            scores = scores + self.intercept_
        else:
            scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples; sparse matrices where the estimator accepts them.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class of largest score.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            indices = (scores > 0).astype(np.intp)
        else:
            indices = scores.argmax(axis=1)
        return self.classes_.take(indices)
