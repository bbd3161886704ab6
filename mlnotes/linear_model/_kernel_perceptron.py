r"""The kernel (dual) perceptron (chapter 14 of the notes: the kernel trick)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from numba import njit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import pairwise_kernels
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

_KERNELS = {"linear", "poly", "rbf", "sigmoid", "precomputed"}


@njit(cache=True)
def _perceptron_epoch(K, y, order, f, alpha, bias, fit_intercept):
    """One pass of the dual perceptron over ``order``; returns the number of mistakes.

    ``f[j]`` holds :math:`\\sum_i \\alpha_i y_i K_{ij}` for every training point, so
    checking a point costs O(1) and a mistake on point ``i`` costs one O(n) update
    of ``f`` by row ``i`` of the symmetric Gram matrix. ``bias[0]`` is the
    intercept (the kernel's constant feature).
    """
    n = K.shape[0]
    mistakes = 0
    for t in range(order.shape[0]):
        i = order[t]
        yi = y[i]
        if yi * (f[i] + bias[0]) <= 0.0:
            alpha[i] += 1.0
            row = K[i]
            for j in range(n):
                f[j] += yi * row[j]
            if fit_intercept:
                bias[0] += yi
            mistakes += 1
    return mistakes


def _fit_binary(K, y_pm, *, max_iter, shuffle, fit_intercept, rng):
    r"""Dual perceptron on one binary problem (labels in :math:`\{-1, +1\}`).

    Returns ``(alpha, bias, n_epochs, converged)``: :math:`\alpha_i` counts the
    mistakes made on point :math:`i`.
    """
    n = K.shape[0]
    f = np.zeros(n)
    alpha = np.zeros(n)
    bias = np.zeros(1)
    order = np.arange(n)
    converged = False
    epoch = 0
    for epoch in range(1, max_iter + 1):
        if shuffle:
            rng.shuffle(order)
        if _perceptron_epoch(K, y_pm, order, f, alpha, bias, fit_intercept) == 0:
            converged = True
            break
    return alpha, bias[0], epoch, converged


class KernelPerceptron(ClassifierMixin, BaseEstimator):
    r"""The kernel perceptron: the perceptron in the feature space of a kernel.

    The dual form of the perceptron, with one mistake counter per training
    point; multi-class problems are solved one class against the rest.

    Parameters
    ----------
    kernel : {"linear", "poly", "rbf", "sigmoid", "precomputed"} or callable, \
            default="rbf"
        The kernel :math:`k`, as in :class:`~mlnotes.svm.SVC`: linear
        :math:`x^\top z`, poly :math:`(\gamma x^\top z + c_0)^d`, rbf
        :math:`\exp(-\gamma\|x - z\|^2)`, sigmoid :math:`\tanh(\gamma x^\top z +
        c_0)`; "precomputed" takes the Gram matrix as ``X``; a callable
        ``kernel(X, Y)`` returns the ``(n_X, n_Y)`` Gram matrix.
    degree : int, default=3
        Degree :math:`d` of the polynomial kernel.
    gamma : {"scale", "auto"} or float, default="scale"
        :math:`\gamma` of the rbf, poly and sigmoid kernels: "scale" is
        :math:`1 / (n_\text{features} \operatorname{Var}(X))`, "auto" is
        :math:`1 / n_\text{features}`.
    coef0 : float, default=0.0
        :math:`c_0` of the polynomial and sigmoid kernels.
    fit_intercept : bool, default=True
        Learn a bias :math:`b` (the perceptron update of a constant feature 1).
    max_iter : int, default=100
        Maximum number of epochs (passes over the training data). Training stops
        earlier after an epoch without mistakes.
    shuffle : bool, default=True
        Visit the points in a new random order at each epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling (None: fresh entropy; NumPy's global generator is
        never used).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    support_ : ndarray of shape (n_SV,)
        Indices of the training points on which a mistake was made (in any of the
        one-vs-rest problems): the only points the decision function uses.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        Those training points (empty for precomputed and callable kernels).
    dual_coef_ : ndarray of shape (n_classifiers, n_SV)
        :math:`\alpha_i y_i`: signed mistake counts of each support point, one row
        per binary problem (1 for two classes, ``n_classes`` otherwise).
    intercept_ : ndarray of shape (n_classifiers,)
        Bias :math:`b` of each binary problem.
    n_iter_ : int
        Largest number of epochs run by a binary problem.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    Perceptron : the primal, linear perceptron.
    mlnotes.svm.SVC : the maximum-margin classifier with the same kernels.

    Notes
    -----
    Chapter 14 of the notes (the kernel trick). The perceptron started at
    :math:`w = 0` only ever adds misclassified points,
    :math:`w \leftarrow w + y_i \phi(x_i)`, so its weight vector is always
    :math:`w = \sum_i \alpha_i y_i \phi(x_i)` with :math:`\alpha_i` the number of
    mistakes made on point :math:`i` (the **representer theorem** in its simplest
    form). Its predictions need only inner products, which the **kernel trick**
    replaces by :math:`k(x_i, x) = \langle\phi(x_i), \phi(x)\rangle`:

    .. math::

        f(x) = \sum_{i=1}^n \alpha_i y_i\, k(x_i, x) + b , \qquad
        \text{if } y_i f(x_i) \le 0 : \quad \alpha_i \leftarrow \alpha_i + 1 , \quad
        b \leftarrow b + y_i .

    The dual update costs one row of the Gram matrix per mistake. When the data
    are separable with margin :math:`\gamma` in feature space and
    :math:`k(x, x) \le R^2`, Novikoff's theorem bounds the number of mistakes by
    :math:`(R / \gamma)^2`, so training stops after an epoch without mistakes;
    otherwise it runs ``max_iter`` epochs and warns. With :math:`K` classes,
    class :math:`c` against the rest gives :math:`f_c`, and the prediction is
    :math:`\arg\max_c f_c(x)`.

    References
    ----------
    M. A. Aizerman, E. M. Braverman and L. I. Rozonoer, "Theoretical foundations of
    the potential function method in pattern recognition learning", *Automation
    and Remote Control* 25, 1964.

    Y. Freund and R. E. Schapire, "Large margin classification using the
    perceptron algorithm", *Machine Learning* 37(3), 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import KernelPerceptron
    >>> X = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=float)
    >>> y = np.array([0, 0, 1, 1])  # XOR: no linear separator exists
    >>> clf = KernelPerceptron(kernel="poly", degree=2, gamma=1.0, coef0=1.0,
    ...                        random_state=0).fit(X, y)
    >>> clf.predict(X)
    array([0, 0, 1, 1])
    """

    _parameter_constraints = {
        "kernel": [StrOptions(_KERNELS), callable],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0.0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, kernel="rbf", degree=3, gamma="scale", coef0=0.0,
                 fit_intercept=True, max_iter=100, shuffle=True, random_state=None):
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state

    # -- kernels -------------------------------------------------------------------------

    def _resolve_gamma(self, X):
        if self.gamma == "scale":
            if sp.issparse(X):
                var = X.multiply(X).mean() - X.mean() ** 2
            else:
                var = X.var()
            return 1.0 / (X.shape[1] * var) if var != 0 else 1.0
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        return float(self.gamma)

    def _gram(self, X, Y):
        """The kernel matrix between the rows of ``X`` and of ``Y`` (float64)."""
        if callable(self.kernel):
            K = np.asarray(self.kernel(X, Y), dtype=np.float64)
            expected = (_num_samples(X), _num_samples(Y))
            if K.shape != expected:
                raise ValueError(
                    f"The kernel function must return a matrix of shape {expected}; "
                    f"got {K.shape}."
                )
            if not np.all(np.isfinite(K)):
                raise ValueError("The kernel function returned NaN or infinity.")
            return K
        params = {"gamma": self._gamma, "degree": self.degree, "coef0": self.coef0}
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            K = np.asarray(pairwise_kernels(X, Y, metric=self.kernel, filter_params=True,
                                            **params), dtype=np.float64)
        if not np.all(np.isfinite(K)):
            largest = max(abs(X).max() if X.size else 0.0, abs(Y).max() if Y.size else 0.0)
            raise ValueError(
                f"Floating-point overflow in the {self.kernel!r} kernel: its matrix has "
                f"NaN or infinite entries (the largest |x| is {largest:.3g}). Scale the "
                "input, e.g. with StandardScaler."
            )
        return K

    # -- fitting -------------------------------------------------------------------------

    def fit(self, X, y):
        """Run the dual perceptron (one vs rest for more than two classes).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; the ``(n_samples, n_samples)`` Gram matrix when
            ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        precomputed = self.kernel == "precomputed"
        X, y = validate_data(self, X, y, accept_sparse=False if precomputed else "csr",
                             dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "The kernel perceptron needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {self.classes_[0]!r}."
            )
        if precomputed:
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "Precomputed matrix must be a square matrix. Input is a "
                    f"{X.shape[0]}x{X.shape[1]} matrix."
                )
            self._gamma = 0.0
            K = np.ascontiguousarray(X, dtype=np.float64)
        else:
            self._gamma = 0.0 if callable(self.kernel) else self._resolve_gamma(X)
            K = np.ascontiguousarray(self._gram(X, X))
        if callable(self.kernel):
            self._X_fit = X

        rng = check_random_state(self.random_state)
        n_classes = self.classes_.shape[0]
        problems = [1] if n_classes == 2 else list(range(n_classes))
        alphas, intercepts, n_iter, converged = [], [], 0, True
        for c in problems:
            y_pm = np.where(y_idx == c, 1.0, -1.0)
            alpha, bias, epochs, ok = _fit_binary(
                K, y_pm, max_iter=self.max_iter, shuffle=self.shuffle,
                fit_intercept=self.fit_intercept, rng=rng,
            )
            alphas.append(alpha * y_pm)
            intercepts.append(bias)
            n_iter = max(n_iter, epochs)
            converged &= ok
        dual = np.vstack(alphas)
        with np.errstate(over="ignore", invalid="ignore"):
            train_scores = K @ dual.T + np.asarray(intercepts)
        if not np.all(np.isfinite(train_scores)):
            raise ValueError(
                "Floating-point overflow: the decision function of the fitted kernel "
                "perceptron is not finite on its own training data (kernel values up to "
                f"{np.abs(K).max():.3g}). Scale the input, e.g. with StandardScaler."
            )
        support = np.flatnonzero(np.any(dual != 0, axis=0))
        self.support_ = support.astype(np.int32)
        self.dual_coef_ = dual[:, support]
        self.intercept_ = np.asarray(intercepts, dtype=np.float64)
        self.n_iter_ = n_iter
        if precomputed or callable(self.kernel):
            self.support_vectors_ = np.empty((0, 0))
        else:
            self.support_vectors_ = X[support]
        self._n_fit = X.shape[0]
        if not converged:
            warnings.warn(
                f"The kernel perceptron made mistakes in every one of its "
                f"max_iter={self.max_iter} epochs: the data are not separable with this "
                "kernel, or need more epochs.",
                ConvergenceWarning,
            )
        return self

    # -- predicting ----------------------------------------------------------------------

    def decision_function(self, X):
        """Kernel expansion :math:`f(x) = \\sum_i \\alpha_i y_i k(x_i, x) + b`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples; the ``(n_samples, n_samples_fitted)`` kernel against the
            training samples when ``kernel="precomputed"``.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Positive scores favour ``classes_[1]`` for two classes; one column per
            class otherwise.
        """
        check_is_fitted(self)
        precomputed = self.kernel == "precomputed"
        X = validate_data(self, X, accept_sparse=False if precomputed else "csr",
                          dtype=np.float64, reset=False)
        if precomputed:
            if X.shape[1] != self._n_fit:
                raise ValueError(
                    f"X.shape[1] = {X.shape[1]} should be equal to {self._n_fit}, the "
                    "number of samples at training time"
                )
            K = X[:, self.support_]
        elif callable(self.kernel):
            K = self._gram(X, self._X_fit[self.support_])
        else:
            K = self._gram(X, self.support_vectors_)
        scores = K @ self.dual_coef_.T + self.intercept_
        return scores.ravel() if self.classes_.shape[0] == 2 else scores

    def predict(self, X):
        """Predict class labels: the sign of the score, or the class of largest score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (the kernel against the training samples for "precomputed").

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
