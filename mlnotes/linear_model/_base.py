"""Machinery shared by the linear models: centring, prediction, classifier scores."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

FLOAT_DTYPES = (np.float64, np.float32)


def _preprocess_data(X, y, *, fit_intercept, sample_weight=None, copy=True):
    """Centre ``X`` and ``y`` on their (weighted) means and scale rows by ``sqrt(w)``.

    With weights ``w``, weighted least squares on ``(X, y)`` is ordinary least
    squares on ``(sqrt(w) * (X - X_offset), sqrt(w) * (y - y_offset))``, and the
    intercept is recovered as ``y_offset - X_offset @ coef``.

    Returns
    -------
    X, y : ndarray
        Centred and rescaled data (``X`` is a copy unless ``copy=False``).
    X_offset, y_offset : ndarray
        Weighted means (zeros when ``fit_intercept=False``).
    sqrt_sw : ndarray or None
        Square roots of the sample weights, or ``None`` without weights.
    """
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
    """``predict`` for linear regressors: ``X @ coef_.T + intercept_``."""

    def _decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        return X @ self.coef_.T + self.intercept_

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

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


class LinearClassifierMixin(ClassifierMixin):
    """``decision_function`` and ``predict`` for linear classifiers.

    Fitted ``coef_`` has shape ``(1, n_features)`` for two classes (scores of the
    positive class ``classes_[1]``) and ``(n_classes, n_features)`` otherwise.
    """

    def decision_function(self, X):
        """Confidence scores: signed distance to the hyperplane, times ``||coef_||``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]`` (positive means that
            class is predicted); otherwise one score per class.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

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
