"""Prediction methods shared by classifiers that compute class log-posteriors."""

import numpy as np
from scipy import special
from sklearn.base import ClassifierMixin


class PosteriorClassifierMixin(ClassifierMixin):
    """``predict``, ``predict_proba`` and ``predict_log_proba`` from log-posteriors.

    A subclass implements ``_joint_log_likelihood(X)``, returning for each sample and
    class ``log p(y = k) + log p(x | y = k)`` (validated input, columns in the order
    of ``classes_``); any term common to all classes may be dropped. The posterior
    is its softmax over classes, computed stably (log-sum-exp). Scores that are NaN,
    ``+inf``, or ``-inf`` for every class of a sample (an overflow: e.g. inputs near
    1e300) raise a ``ValueError`` instead of giving NaN probabilities.
    """

    def _checked_jll(self, X):
        jll = self._joint_log_likelihood(X)  # checks fitted state first
        bad = np.isnan(jll).any(axis=1) | (jll == np.inf).any(axis=1) | (
            jll == -np.inf).all(axis=1)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{type(self).__name__}: the class log-likelihoods of sample {i} are not "
                f"finite ({jll[i].tolist()}): its values are too far from the training "
                "data for float64 (overflow). Rescale the data (e.g. with "
                "sklearn.preprocessing.StandardScaler)."
            )
        return jll

    def predict(self, X):
        """Predict the class of largest posterior probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        jll = self._checked_jll(X)
        return self.classes_.take(jll.argmax(axis=1))

    def predict_log_proba(self, X):
        """Log posterior class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            :math:`\\log p(y = k \\mid x)`, columns in the order of ``classes_``.
        """
        return special.log_softmax(self._checked_jll(X), axis=1)

    def predict_proba(self, X):
        """Posterior class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            :math:`p(y = k \\mid x)`, columns in the order of ``classes_``.
        """
        return special.softmax(self._checked_jll(X), axis=1)
