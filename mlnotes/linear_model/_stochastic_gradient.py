"""Linear models trained by stochastic gradient descent (chapters 2 and 3 of the notes).

:class:`SGDClassifier` and :class:`SGDRegressor` (and :class:`Perceptron`, a fixed
configuration of the classifier) share one compiled epoch loop,
:func:`mlnotes.linear_model._sgd_fast._plain_sgd`; this module validates the
input, splits multi-class problems one-vs-rest and keeps the state of
``partial_fit``.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _sgd_fast
from ._base import LinearClassifierMixin, SparseCoefMixin
from mlnotes.utils._random import check_random_state

# Intercept updates are damped on sparse data, as in scikit-learn's SGD.
SPARSE_INTERCEPT_DECAY = 0.01
DEFAULT_EPSILON = 0.1
_MAX_SEED = np.iinfo(np.int32).max


def _shuffle_seed(random_state):
    """The shuffle seed scikit-learn's binary SGD draws from ``random_state``.

    ``make_dataset`` draws its own seed first (``randint(1, 2**31 - 1)``), then
    ``fit_binary`` draws the shuffle seed (``randint(2**31 - 1)``).
    """
    rng = check_random_state(random_state)
    rng.randint(1, np.iinfo(np.int32).max)
    return rng.randint(_MAX_SEED)

# loss name -> (kernel code, parameter); None: the parameter is ``epsilon``
_LOSSES = {
    "hinge": (_sgd_fast.HINGE, 1.0),
    "squared_hinge": (_sgd_fast.SQUARED_HINGE, 1.0),
    "perceptron": (_sgd_fast.HINGE, 0.0),
    "log_loss": (_sgd_fast.LOG, 0.0),
    "modified_huber": (_sgd_fast.MODIFIED_HUBER, 0.0),
    "squared_error": (_sgd_fast.SQUARED_ERROR, 0.0),
    "huber": (_sgd_fast.HUBER, None),
    "epsilon_insensitive": (_sgd_fast.EPSILON_INSENSITIVE, None),
    "squared_epsilon_insensitive": (_sgd_fast.SQUARED_EPSILON_INSENSITIVE, None),
}
_REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                      "squared_epsilon_insensitive")


def _validation_split(y, sample_weight, validation_fraction, random_state, stratify):
    """Train/validation split for early stopping (stratified for classifiers).

    Returns ``(train_idx, val_idx)`` sorted in increasing order.
    """
    splitter = StratifiedShuffleSplit if stratify else ShuffleSplit
    cv = splitter(test_size=validation_fraction, random_state=random_state)
    idx_train, idx_val = next(cv.split(np.zeros((y.shape[0], 1)), y))
    if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
        raise ValueError(
            f"Splitting {y.shape[0]} samples into a train set and a validation set "
            f"with validation_fraction={validation_fraction!r} led to an empty set "
            f"({idx_train.shape[0]} and {idx_val.shape[0]} samples). Please either "
            "change validation_fraction, increase number of samples, or disable "
            "early_stopping."
        )
    if not np.any(sample_weight[idx_val] > 0):
        raise ValueError(
            "The sample weights for validation set are all zero, consider using a "
            "different random state."
        )
    return np.sort(idx_train), np.sort(idx_val)


def _kernel_data(X):
    """``(X_dense, values, indices, indptr, is_sparse)`` as the kernel reads them.

    The kernel reads float64 only (float32 input is converted once): a single
    compiled specialisation serves every input, which keeps the numba
    compilation short.
    """
    if sp.issparse(X):
        return (np.empty((0, 0)), X.data.astype(np.float64, copy=False), X.indices,
                X.indptr, True)
    X = np.ascontiguousarray(X, dtype=np.float64)
    return (X, np.empty(0), np.empty(0, np.int32), np.zeros(1, np.int32), False)


class _SGDConfig:
    """Settings of one fit, shared by all its binary problems."""

    def __init__(self, *, loss, penalty, alpha, l1_ratio, learning_rate, eta0, power_t,
                 epsilon, fit_intercept, shuffle, tol, early_stopping, n_iter_no_change,
                 average, verbose, is_sparse):
        self.loss_type, param = _LOSSES[loss]
        self.loss_param = float(epsilon if param is None else param)
        self.penalty_type = _sgd_fast.PENALTY_CODES[penalty]
        if self.penalty_type == _sgd_fast.L2:
            l1_ratio = 0.0
        elif self.penalty_type == _sgd_fast.L1:
            l1_ratio = 1.0
        self.alpha = float(alpha)
        self.l1_ratio = float(0.0 if l1_ratio is None else l1_ratio)
        self.learning_rate = _sgd_fast.LEARNING_RATE_CODES[learning_rate]
        self.eta0 = float(eta0)
        self.power_t = float(power_t)
        self.optimal_init = 0.0
        if self.learning_rate == _sgd_fast.OPTIMAL:
            # Bottou's heuristic: the first step is that of a typical weight
            # magnitude 1/sqrt(sqrt(alpha)); t0 makes eta(t=1) equal to it.
            typw = np.sqrt(1.0 / np.sqrt(self.alpha))
            dloss = _sgd_fast._dloss(self.loss_type, self.loss_param, 1.0, -typw)
            initial_eta0 = typw / max(1.0, dloss)
            self.optimal_init = 1.0 / (initial_eta0 * self.alpha)
        self.fit_intercept = bool(fit_intercept)
        self.shuffle = bool(shuffle)
        self.tol = -np.inf if tol is None else float(tol)
        self.early_stopping = bool(early_stopping)
        self.n_iter_no_change = int(n_iter_no_change)
        self.average = int(average)
        self.verbose = int(verbose)
        self.intercept_decay = SPARSE_INTERCEPT_DECAY if is_sparse else 1.0


def _run_sgd(data, y, sample_weight, w, aw, *, config, seed, train_idx, val_idx, max_iter,
             weight_pos, weight_neg, intercept, average_intercept, t, classification):
    """Run the SGD epochs on one problem; ``w`` and ``aw`` (float64) are updated in place.

    Returns ``(intercept, average_intercept, n_iter)``.
    """
    X, values, indices, indptr, is_sparse = data
    c = config
    samples = _sgd_fast.SGDData(X, values, indices, indptr, is_sparse, y, sample_weight,
                                val_idx)
    params = _sgd_fast.SGDParams(
        loss_type=c.loss_type, loss_param=c.loss_param, penalty_type=c.penalty_type,
        alpha=c.alpha, l1_ratio=c.l1_ratio, learning_rate=c.learning_rate, eta0=c.eta0,
        power_t=c.power_t, optimal_init=c.optimal_init, fit_intercept=c.fit_intercept,
        shuffle=c.shuffle, tol=c.tol, early_stopping=c.early_stopping,
        classification=bool(classification), n_iter_no_change=c.n_iter_no_change,
        intercept_decay=c.intercept_decay, weight_pos=float(weight_pos),
        weight_neg=float(weight_neg), average=c.average,
        track_loss=bool(c.verbose or not c.early_stopping),
    )
    state = _sgd_fast.new_state(
        seed, train_idx, w, aw, intercept=intercept, average_intercept=average_intercept,
        t=t, eta0=c.eta0,
    )
    order, fstate, istate, stats = state.order, state.fstate, state.istate, state.stats

    def run(n_epochs):
        return _sgd_fast._plain_sgd(samples, params, state, int(n_epochs))

    n_iter = 0
    if not c.verbose:
        n_iter, status = run(max_iter)
    else:
        start = time.time()
        n_train = max(order.shape[0], 1)
        status = _sgd_fast.RAN_ALL
        while n_iter < max_iter and status == _sgd_fast.RAN_ALL:
            print(f"-- Epoch {n_iter + 1}")
            n_epochs, status = run(1)
            n_iter += n_epochs
            if status == _sgd_fast.NONFINITE:
                break
            wscale = fstate[_sgd_fast.F_WSCALE]
            line = (
                f"Norm: {np.linalg.norm(w) * wscale:.2f}, NNZs: {np.count_nonzero(w)}, "
                f"Bias: {fstate[_sgd_fast.F_INTERCEPT]:.6f}, "
                f"T: {istate[_sgd_fast.I_COUNT]}, "
                f"Avg. loss: {stats[_sgd_fast.S_SUMLOSS] / n_train:f}, "
                f"Objective: {stats[_sgd_fast.S_OBJECTIVE] / n_train:f}"
            )
            if c.early_stopping:
                line += f", Validation score: {stats[_sgd_fast.S_SCORE]:f}"
            print(line)
            print(f"Total training time: {time.time() - start:.2f} seconds.")
        if status == _sgd_fast.CONVERGED:
            print(f"Convergence after {n_iter} epochs took {time.time() - start:.2f} seconds")
    if status == _sgd_fast.NONFINITE:
        raise ValueError(
            f"Floating-point under-/overflow occurred at epoch #{n_iter}. Scaling "
            "input data with StandardScaler or MinMaxScaler might help."
        )
    _sgd_fast._finalize(w, aw, fstate, c.average > 0)
    return (float(fstate[_sgd_fast.F_INTERCEPT]), float(fstate[_sgd_fast.F_AVG_INTERCEPT]),
            int(n_iter))


class _SparseLinearClassifierMixin(LinearClassifierMixin):
    """``decision_function`` and ``predict`` of linear classifiers, for dense or CSR input."""

    def decision_function(self, X):
        """Confidence scores: signed distance to the hyperplane, times ``||coef_||``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]`` (positive means that
            class is predicted); otherwise one score per class.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        scores = np.asarray(scores)
        return scores.ravel() if scores.shape[1] == 1 else scores


class _BaseSGD(SparseCoefMixin, BaseEstimator):
    """Parameters, validation and the training state shared by the SGD estimators."""

    _parameter_constraints = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [
            StrOptions({"constant", "optimal", "invscaling", "adaptive", "pa1", "pa2"})
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }

    def _settings(self):
        """The loss and schedule of this estimator (fixed for the perceptron)."""
        return dict(loss=self.loss, learning_rate=self.learning_rate, eta0=self.eta0,
                    power_t=self.power_t, epsilon=self.epsilon, average=self.average)

    def _more_validate_params(self, for_partial_fit=False):
        s = self._settings()
        if self.early_stopping and for_partial_fit:
            raise ValueError("early_stopping should be False with partial_fit")
        if s["learning_rate"] == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used to "
                "compute the optimal learning rate."
            )
        if s["learning_rate"] in ("pa1", "pa2"):
            needed = "hinge" if self._is_classifier else "epsilon_insensitive"
            if s["loss"] != needed:
                raise ValueError(
                    f"Learning rate '{s['learning_rate']}' only works with loss "
                    f"'{needed}'."
                )
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")

    def _config(self, is_sparse):
        s = self._settings()
        return _SGDConfig(
            loss=s["loss"], penalty=self.penalty, alpha=self.alpha, l1_ratio=self.l1_ratio,
            learning_rate=s["learning_rate"], eta0=s["eta0"], power_t=s["power_t"],
            epsilon=s["epsilon"], fit_intercept=self.fit_intercept, shuffle=self.shuffle,
            tol=self.tol, early_stopping=self.early_stopping,
            n_iter_no_change=self.n_iter_no_change, average=s["average"],
            verbose=self.verbose, is_sparse=is_sparse,
        )

    def _reset_state(self):
        for attr in ("coef_", "intercept_", "_standard_coef", "_standard_intercept",
                     "_average_coef", "_average_intercept"):
            if hasattr(self, attr):
                delattr(self, attr)

    def _prepare_state(self, n_rows, n_features, coef_init, intercept_init):
        """Float64 training state: standard (and averaged) weights and intercepts.

        ``partial_fit`` continues from the stored state; ``coef_init`` (from
        ``fit``) restarts the averages.
        """
        averaging = self._settings()["average"] > 0
        if coef_init is None and hasattr(self, "_standard_coef"):
            if self._standard_coef.shape != (n_rows, n_features):
                raise ValueError(
                    f"Number of features {n_features} does not match previous data "
                    f"{self._standard_coef.shape[1]}."
                )
            if averaging and not hasattr(self, "_average_coef"):
                self._average_coef = np.zeros((n_rows, n_features))
                self._average_intercept = np.zeros(n_rows)
            return
        if coef_init is None:
            W = np.zeros((n_rows, n_features))
        else:
            if sp.issparse(coef_init):
                coef_init = coef_init.toarray()
            coef_init = np.asarray(coef_init, dtype=np.float64)
            if coef_init.size != n_rows * n_features or (
                n_rows > 1 and coef_init.shape != (n_rows, n_features)
            ):
                raise ValueError(
                    f"Provided coef_init does not match dataset: coef_init has shape "
                    f"{coef_init.shape}, but the data have "
                    f"{n_features} features and {n_rows} problem(s): expected "
                    f"({n_rows}, {n_features})."
                )
            W = coef_init.reshape(n_rows, n_features).copy()
        if intercept_init is None:
            b = np.zeros(n_rows)
        else:
            b = np.array(intercept_init, dtype=np.float64).reshape(-1)
            if b.shape != (n_rows,):
                raise ValueError(
                    "Provided intercept_init does not match dataset: intercept_init "
                    f"has shape {np.shape(intercept_init)}, expected "
                    f"({n_rows},)."
                )
        self._standard_coef, self._standard_intercept = W, b
        if averaging:
            self._average_coef = np.zeros((n_rows, n_features))
            self._average_intercept = np.zeros(n_rows)

    def _publish(self, dtype):
        """Expose the averaged weights once averaging has started, else the plain ones."""
        average = self._settings()["average"]
        if average > 0 and average <= self.t_ - 1:
            coef, intercept = self._average_coef, self._average_intercept
        else:
            coef, intercept = self._standard_coef, self._standard_intercept
        return coef.astype(dtype), intercept.astype(dtype)

    def _check_finite_scores(self, X, coef, intercept):
        """Refuse a fit whose scores on its own training data overflow float64.

        The weights stay finite (the epoch loop checks them) while ``X @ coef_`` may
        still overflow, e.g. on data of magnitude 1e300: scikit-learn then returns
        infinite or NaN decision values; we say so at fit instead.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            scores = safe_sparse_dot(X, np.atleast_2d(coef).T.astype(np.float64))
            scores = scores + intercept
        if not np.all(np.isfinite(scores)):
            largest = abs(X).max() if X.shape[0] else 0.0
            raise ValueError(
                "Floating-point overflow: the fitted model's decision function is not "
                "finite on its own training data (largest |x| "
                f"{float(largest):.3g}, largest |coef_| {float(np.abs(coef).max()):.3g}). "
                "Scaling input data with StandardScaler or MinMaxScaler might help."
            )

    def _warn_after_fit(self):
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider "
                "increasing max_iter to improve the fit.",
                ConvergenceWarning,
            )
        if self._settings()["power_t"] < 0:
            warnings.warn(
                "Negative values for `power_t` are deprecated in version 1.8 and will "
                "raise an error in 1.10. Use values in the range [0.0, inf) instead.",
                FutureWarning,
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _BaseSGDClassifier(_SparseLinearClassifierMixin, _BaseSGD):
    """One-vs-rest SGD classification (shared by SGDClassifier and Perceptron)."""

    _is_classifier = True
    _parameter_constraints = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(_LOSSES))],
        "n_jobs": [Integral, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by SGD, from zero (or the previous model with ``warm_start``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial weights (``(1, n_features)`` or ``(n_features,)`` for two
            classes).
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample, multiplying its gradient steps (and the class
            weight).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        self._more_validate_params()
        if hasattr(self, "classes_"):
            del self.classes_  # a new fit, not the continuation of partial_fit
        if self.warm_start and hasattr(self, "coef_"):
            if coef_init is None:
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        self._reset_state()
        self.t_ = 1.0
        self._partial_fit(X, y, max_iter=self.max_iter, classes="from_y",
                          sample_weight=sample_weight, coef_init=coef_init,
                          intercept_init=intercept_init)
        self._warn_after_fit()
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of SGD over the given samples, continuing the previous state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Class labels of the batch.
        classes : array-like of shape (n_classes,), default=None
            All the classes that may appear in ``y`` across calls; required on
            the first call, optional (and checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()
        if not hasattr(self, "classes_"):
            self._more_validate_params(for_partial_fit=True)
            if isinstance(self.class_weight, str) and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' is not supported for partial_fit. In "
                    "order to use 'balanced' weights, use compute_class_weight("
                    "'balanced', classes=classes, y=y). In place of y you can use a "
                    "large enough sample of the full training set target to properly "
                    "estimate the class frequency distributions. Pass the resulting "
                    "weights as the class_weight parameter."
                )
        return self._partial_fit(X, y, max_iter=1, classes=classes,
                                 sample_weight=sample_weight, coef_init=None,
                                 intercept_init=None)

    def _partial_fit(self, X, y, *, max_iter, classes, sample_weight, coef_init,
                     intercept_init):
        first_call = not hasattr(self, "classes_")
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
            accept_large_sparse=False, reset=first_call,
        )
        check_classification_targets(y)
        if isinstance(classes, str) and classes == "from_y":
            self.classes_ = unique_labels(y)
        elif first_call:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = unique_labels(classes)
        elif classes is not None and not np.array_equal(self.classes_, unique_labels(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                f"was: {self.classes_!r}"
            )
        n_samples, n_features = X.shape
        n_classes = self.classes_.shape[0]
        class_weight = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        if n_classes < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{n_classes} class"
            )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, allow_all_zero_weights=self.early_stopping
        )
        n_rows = 1 if n_classes == 2 else n_classes
        self._prepare_state(n_rows, n_features, coef_init, intercept_init)
        if not hasattr(self, "t_"):
            self.t_ = 1.0
        config = self._config(sp.issparse(X))
        data = _kernel_data(X)
        rng = check_random_state(self.random_state)
        if config.early_stopping:
            train_idx, val_idx = _validation_split(
                y, sample_weight, self.validation_fraction,
                rng if self.random_state is None else self.random_state, stratify=True,
            )
        else:
            train_idx, val_idx = np.arange(n_samples), np.empty(0, dtype=np.intp)
        if n_rows == 1:  # scikit-learn's draws: the dataset's seed, then the shuffle's
            seeds = [_shuffle_seed(rng)]
        else:  # one seed per one-vs-rest problem, each drawn as above
            seeds = [_shuffle_seed(int(s)) for s in rng.randint(_MAX_SEED, size=n_rows)]
        W, b = self._standard_coef, self._standard_intercept
        averaging = config.average > 0
        AW = self._average_coef if averaging else None
        ab = self._average_intercept if averaging else None
        log_labels = self._settings()["loss"] == "log_loss"
        empty = np.empty(0)

        def fit_one(k):
            positive = self.classes_[1] if n_rows == 1 else self.classes_[k]
            is_pos = y == positive
            y_k = is_pos.astype(np.float64) if log_labels else np.where(is_pos, 1.0, -1.0)
            if n_rows == 1:
                weight_pos, weight_neg = class_weight[1], class_weight[0]
            else:
                weight_pos, weight_neg = class_weight[k], 1.0
            return _run_sgd(
                data, y_k, sample_weight, W[k], AW[k] if averaging else empty,
                config=config, seed=seeds[k], train_idx=train_idx, val_idx=val_idx,
                max_iter=max_iter, weight_pos=weight_pos, weight_neg=weight_neg,
                intercept=b[k], average_intercept=ab[k] if averaging else 0.0,
                t=self.t_, classification=True,
            )

        if n_rows == 1 or self.n_jobs in (None, 1):
            results = [fit_one(k) for k in range(n_rows)]
        else:
            results = Parallel(n_jobs=self.n_jobs, require="sharedmem")(
                delayed(fit_one)(k) for k in range(n_rows)
            )
        for k, (intercept, average_intercept, _) in enumerate(results):
            b[k] = intercept
            if averaging:
                ab[k] = average_intercept
        self.n_iter_ = max(n for _, _, n in results)
        self.t_ += self.n_iter_ * n_samples
        self.coef_, self.intercept_ = self._publish(X.dtype)
        self._check_finite_scores(X, self.coef_, self.intercept_)
        return self


class SGDClassifier(_BaseSGDClassifier):
    r"""Linear classifier (SVM, logistic regression, ...) trained by stochastic gradient descent.

    The samples are visited one at a time (in a fresh random order each epoch
    when ``shuffle=True``), and each one moves the weights a step against the
    gradient of its own loss plus the penalty, with a step size that follows
    a schedule. The loss selects the model: ``'hinge'`` is a linear support
    vector machine, ``'log_loss'`` logistic regression. More than two classes
    are handled one-vs-rest. ``partial_fit`` learns online, one batch at a time.
    Standardise the features first (e.g. ``StandardScaler``): the default
    schedule assumes features of unit scale.

    Parameters
    ----------
    loss : str, default='hinge'
        The loss :math:`\ell(p, y)` of the prediction :math:`p = w^\top x + b`
        (see Notes): one of ``'hinge'``, ``'log_loss'``, ``'modified_huber'``,
        ``'squared_hinge'``, ``'perceptron'``, ``'squared_error'``, ``'huber'``,
        ``'epsilon_insensitive'``, ``'squared_epsilon_insensitive'``. ``'log_loss'`` and ``'modified_huber'`` give probability
        estimates; the last four are regression losses applied to the labels
        :math:`\pm 1`.
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        The regulariser :math:`R(w)`; ``'l1'`` and ``'elasticnet'`` give sparse
        weights. ``None`` adds no penalty.
    alpha : float, default=0.0001
        Strength :math:`\alpha` of the penalty; also sets the step sizes of
        the ``'optimal'`` schedule.
    l1_ratio : float or None, default=0.15
        Elastic-net mixing parameter :math:`\rho \in [0, 1]` (0: L2, 1: L1).
        Only used with ``penalty='elasticnet'``.
    fit_intercept : bool, default=True
        Whether to learn an intercept. If False, the data are taken as centred.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data) of ``fit``;
        ``partial_fit`` always runs one epoch.
    tol : float or None, default=1e-3
        Stopping criterion: training stops after ``n_iter_no_change``
        consecutive epochs whose mean objective is not below the best so far
        minus ``tol`` (or, with ``early_stopping``, whose validation accuracy
        is not above the best so far plus ``tol``). ``None`` runs ``max_iter``
        epochs.
    shuffle : bool, default=True
        Whether to shuffle the training data before each epoch.
    verbose : int, default=0
        Print one line per epoch when positive.
    epsilon : float, default=0.1
        The :math:`\epsilon` of the ``'huber'``, ``'epsilon_insensitive'`` and
        ``'squared_epsilon_insensitive'`` losses.
    n_jobs : int, default=None
        Number of threads for the one-vs-rest problems of a multi-class fit
        (the compiled loop releases the GIL). ``None`` means 1 unless in a
        :obj:`joblib.parallel_backend` context; ``-1`` means all processors.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the samples (and the validation split of
        ``early_stopping``). An int gives reproducible fits; ``None`` draws
        fresh entropy from the operating system (never from, nor advancing,
        NumPy's global generator).
    learning_rate : str, default='optimal'
        The step-size schedule :math:`\eta_t` (see Notes): ``'optimal'``,
        ``'constant'``, ``'invscaling'``, ``'adaptive'``, ``'pa1'`` or ``'pa2'``.
    eta0 : float, default=0.01
        Initial step :math:`\eta_0` of the ``'constant'``, ``'invscaling'``
        and ``'adaptive'`` schedules (the aggressiveness :math:`C` of
        ``'pa1'``/``'pa2'``); unused by ``'optimal'``.
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule (negative values are
        deprecated, as in scikit-learn).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data and
        stop when the validation accuracy has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs.
    validation_fraction : float, default=0.1
        Proportion of the training data held out with ``early_stopping``, in
        (0, 1).
    n_iter_no_change : int, default=5
        Number of epochs without improvement before stopping (or, with
        ``'adaptive'``, before dividing the step by 5).
    class_weight : dict, 'balanced' or None, default=None
        Weight :math:`c_k` of each class, multiplying the steps of its samples.
        ``'balanced'`` uses ``n_samples / (n_classes * np.bincount(y))``. In a
        one-vs-rest problem the weight of the class multiplies the positive
        samples; the rest have weight 1.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution instead of zero.
    average : bool or int, default=False
        Averaged SGD: when True, ``coef_`` is the average of the weights over
        all the steps (Polyak-Ruppert averaging); an int ``k`` starts the
        average once ``k`` samples have been seen.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) if n_classes == 2 else (n_classes, n_features)
        Weights of the features.
    intercept_ : ndarray of shape (1,) if n_classes == 2 else (n_classes,)
        Constants of the decision function.
    n_iter_ : int
        Number of epochs run; for a multi-class fit, the largest over the
        binary problems.
    t_ : float
        Number of steps taken plus one, ``n_iter_ * n_samples + 1`` after
        ``fit``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    Perceptron : the configuration ``loss='perceptron', learning_rate='constant',
        eta0=1, penalty=None``.
    mlnotes.svm.LinearSVC : the hinge-loss SVM solved exactly.
    LogisticRegression : the log loss minimised exactly.

    Notes
    -----
    Chapter 3 of the notes (gradient descent), applied to the linear
    classifiers of chapter 2. SGD minimises the regularised empirical risk

    .. math::

        \min_{w, b}\; \frac{1}{n} \sum_{i=1}^n s_i\, c_{y_i}\,
        \ell(w^\top x_i + b,\; y_i) + \alpha R(w), \qquad
        R(w) = \frac{1 - \rho}{2} \|w\|_2^2 + \rho \|w\|_1,

    with labels :math:`y_i \in \{-1, +1\}` (the positive class is
    ``classes_[1]``, or the class of the one-vs-rest problem; :math:`\{0, 1\}`
    for the log loss), sample weights :math:`s_i` and class weights
    :math:`c_k`. With :math:`p = w^\top x + b` and :math:`z = y p`, the losses
    are: hinge :math:`\max(0, 1 - z)`; perceptron :math:`\max(0, -z)`;
    squared hinge :math:`\max(0, 1 - z)^2`; log loss
    :math:`\log(1 + e^{p}) - y p`; modified Huber :math:`\max(0, 1 - z)^2`
    for :math:`z \ge -1`, :math:`-4z` otherwise; and the regression losses of
    :class:`SGDRegressor`.

    Each sample :math:`i` (at step :math:`t`) first decays the weights by the
    L2 part of the penalty, then takes a gradient step of its loss:

    .. math::

        w \leftarrow \bigl(1 - \eta_t \alpha (1 - \rho)\bigr)_+\, w
        - \eta_t\, s_i c_{y_i}\, \frac{\partial \ell}{\partial p}(p_i, y_i)\, x_i,
        \qquad
        b \leftarrow b - \eta_t\, s_i c_{y_i}\,
        \frac{\partial \ell}{\partial p}(p_i, y_i),

    and the L1 part pulls each weight towards zero by the penalty
    :math:`\eta_t \alpha \rho` accumulated so far, without crossing zero
    (cumulative truncated gradient, Tsuruoka et al.). The schedules are

    .. math::

        \text{constant: } \eta_t = \eta_0, \qquad
        \text{invscaling: } \eta_t = \frac{\eta_0}{t^{\,\mathrm{power\_t}}},
        \qquad
        \text{optimal: } \eta_t = \frac{1}{\alpha\,(t_0 + t - 1)},

    where :math:`t_0 = 1 / (\alpha\, \eta^{(0)})` and
    :math:`\eta^{(0)} = \alpha^{-1/4}` (Bottou's heuristic: the first step
    matches a typical weight size); ``'adaptive'`` keeps
    :math:`\eta_t = \eta_0` and divides it by 5 whenever ``n_iter_no_change``
    epochs bring no improvement, stopping once it falls below
    :math:`10^{-6}`. The passive-aggressive schedules replace the gradient step
    by :math:`\tau\, y_i x_i` with :math:`\tau = \min(\eta_0, \ell_i /
    \|x_i\|^2)` (``'pa1'``) or :math:`\tau = \ell_i / (\|x_i\|^2 + 1/(2\eta_0))`
    (``'pa2'``), hinge loss only. With ``average``, the model is the running
    mean :math:`\bar w_t = \bar w_{t-1} + (w_t - \bar w_{t-1}) / (t - a + 1)`
    of the iterates from step :math:`a` on. On sparse input the intercept
    steps are multiplied by 0.01.

    ``predict_proba`` is :math:`\sigma(p)` for the log loss and
    :math:`(\operatorname{clip}(p, -1, 1) + 1) / 2` for the modified Huber
    loss, normalised over the classes one-vs-rest.

    The algorithm is scikit-learn's, step for step: with ``shuffle=False``
    the two give the same weights. The epochs of each binary problem run in
    one compiled (numba) loop that releases the GIL; the shuffle seeds are
    drawn from ``random_state`` and the samples shuffled as scikit-learn does
    (xorshift draws, the same transpositions every epoch), so with an integer
    ``random_state`` the visiting order, the weights and the stopping epoch
    ``n_iter_`` are scikit-learn's. Two deliberate differences, in
    early stopping only: the validation accuracy is computed with the current
    weights (scikit-learn leaves out the pending L2 decay factor) and, for the
    log loss, against the right labels.

    References
    ----------
    L. Bottou, "Stochastic gradient descent tricks", *Neural Networks: Tricks
    of the Trade*, Springer, 2012.

    T. Zhang, "Solving large scale linear prediction problems using stochastic
    gradient descent algorithms", *ICML* 2004.

    Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient descent
    training for L1-regularized log-linear models with cumulative penalty",
    *ACL* 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import SGDClassifier
    >>> X = np.array([[-2.0, -1.0], [-1.0, -2.0], [1.0, 2.0], [2.0, 1.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    >>> clf.predict(np.array([[3.0, 3.0], [-3.0, -2.0]]))
    array([1, 0])
    >>> clf.predict_proba(np.array([[3.0, 3.0]])).round(2)
    array([[0., 1.]])
    """

    _parameter_constraints = {**_BaseSGDClassifier._parameter_constraints}

    def __init__(self, loss="hinge", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=DEFAULT_EPSILON, n_jobs=None, random_state=None,
                 learning_rate="optimal", eta0=0.01, power_t=0.5, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, class_weight=None,
                 warm_start=False, average=False):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average

    def _check_proba(self):
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError(
                f"probability estimates are not available for loss={self.loss!r}"
            )
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Probability estimates (log loss and modified Huber loss only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class (in the order of ``classes_``); each row
            sums to one.
        """
        scores = self.decision_function(X)
        binary = scores.ndim == 1
        if self.loss == "log_loss":
            prob = 0.5 * (1.0 + np.tanh(0.5 * scores))  # logistic sigmoid, stable
        else:
            prob = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
        if binary:
            return np.column_stack([1.0 - prob, prob])
        prob_sum = prob.sum(axis=1)
        all_zero = prob_sum == 0
        if np.any(all_zero):  # no class claims the sample: uniform probabilities
            prob[all_zero] = 1.0
            prob_sum[all_zero] = prob.shape[1]
        return prob / prob_sum[:, None]

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Logarithm of the probability estimates (log loss and modified Huber loss only).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class (``-inf`` where the modified Huber
            estimate is exactly zero).
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class SGDRegressor(RegressorMixin, _BaseSGD):
    r"""Linear regression trained by stochastic gradient descent.

    The samples are visited one at a time (in a fresh random order each epoch
    when ``shuffle=True``), and each one moves the weights a step against the
    gradient of its own loss plus the penalty, with a step size that follows a
    schedule. ``partial_fit`` learns online, one batch at a time. Standardise
    the features first (e.g. ``StandardScaler``).

    Parameters
    ----------
    loss : str, default='squared_error'
        The loss :math:`\ell(p, y)` of the prediction :math:`p = w^\top x + b`
        (see Notes): ``'squared_error'`` (least squares), ``'huber'`` (Huber's
        robust loss), ``'epsilon_insensitive'`` or
        ``'squared_epsilon_insensitive'`` (the losses of support vector
        regression).
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        The regulariser :math:`R(w)`; ``None`` adds no penalty.
    alpha : float, default=0.0001
        Strength :math:`\alpha` of the penalty; also sets the step sizes of
        the ``'optimal'`` schedule.
    l1_ratio : float or None, default=0.15
        Elastic-net mixing parameter :math:`\rho \in [0, 1]` (0: L2, 1: L1).
        Only used with ``penalty='elasticnet'``.
    fit_intercept : bool, default=True
        Whether to learn an intercept. If False, the data are taken as centred.
    max_iter : int, default=1000
        Maximum number of epochs of ``fit``; ``partial_fit`` runs one epoch.
    tol : float or None, default=1e-3
        Stopping criterion: training stops after ``n_iter_no_change``
        consecutive epochs whose mean objective is not below the best so far
        minus ``tol`` (or, with ``early_stopping``, whose validation
        :math:`R^2` is not above the best so far plus ``tol``). ``None`` runs
        ``max_iter`` epochs.
    shuffle : bool, default=True
        Whether to shuffle the training data before each epoch.
    verbose : int, default=0
        Print one line per epoch when positive.
    epsilon : float, default=0.1
        The :math:`\epsilon` of the Huber and :math:`\epsilon`-insensitive
        losses.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the samples (and the validation split of
        ``early_stopping``). ``None`` draws fresh entropy from the operating
        system (never from NumPy's global generator).
    learning_rate : str, default='invscaling'
        The step-size schedule :math:`\eta_t`: ``'invscaling'``, ``'constant'``,
        ``'optimal'``, ``'adaptive'``, ``'pa1'`` or ``'pa2'`` (see
        :class:`SGDClassifier`).
    eta0 : float, default=0.01
        Initial step :math:`\eta_0` (the aggressiveness of ``'pa1'``/``'pa2'``).
    power_t : float, default=0.25
        Exponent of the ``'invscaling'`` schedule.
    early_stopping : bool, default=False
        Hold out a random ``validation_fraction`` of the training data and stop
        when the validation :math:`R^2` has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs.
    validation_fraction : float, default=0.1
        Proportion of the training data held out with ``early_stopping``.
    n_iter_no_change : int, default=5
        Number of epochs without improvement before stopping.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution instead of zero.
    average : bool or int, default=False
        Averaged SGD: ``coef_`` is the average of the iterates (from the
        ``average``-th sample on when an int).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights of the features.
    intercept_ : ndarray of shape (1,)
        The intercept.
    n_iter_ : int
        Number of epochs run.
    t_ : float
        Number of steps taken plus one, ``n_iter_ * n_samples + 1`` after
        ``fit``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SGDClassifier : the same algorithm for classification, with the update
        rule and the schedules written out.
    Ridge : the squared loss with an L2 penalty solved exactly.

    Notes
    -----
    Chapter 3 of the notes (gradient descent) on the least-squares and robust
    regression losses. SGD minimises

    .. math::

        \min_{w, b}\; \frac{1}{n} \sum_{i=1}^n s_i\, \ell(w^\top x_i + b,\; y_i)
        + \alpha \Bigl(\frac{1 - \rho}{2} \|w\|_2^2 + \rho \|w\|_1\Bigr)

    with, for the residual :math:`r = y - p`: squared error
    :math:`\tfrac12 r^2`; Huber :math:`\tfrac12 r^2` for :math:`|r| \le
    \epsilon`, :math:`\epsilon (|r| - \epsilon / 2)` otherwise;
    :math:`\epsilon`-insensitive :math:`\max(0, |r| - \epsilon)`; squared
    :math:`\epsilon`-insensitive :math:`\max(0, |r| - \epsilon)^2`. Each
    sample takes the step

    .. math::

        w \leftarrow \bigl(1 - \eta_t \alpha (1 - \rho)\bigr)_+\, w
        - \eta_t\, s_i\, \frac{\partial \ell}{\partial p}(p_i, y_i)\, x_i,
        \qquad
        \eta_t = \frac{\eta_0}{t^{\,\mathrm{power\_t}}} \text{ by default},

    followed by the cumulative L1 truncation; the other schedules, averaging
    and the stopping rule are those of :class:`SGDClassifier`. The algorithm
    is scikit-learn's, step for step (identical weights with
    ``shuffle=False``), except that the validation :math:`R^2` of early
    stopping uses the current weights (scikit-learn leaves out the pending L2
    decay factor).

    References
    ----------
    L. Bottou, "Stochastic gradient descent tricks", *Neural Networks: Tricks
    of the Trade*, Springer, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import SGDRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    >>> reg = SGDRegressor(penalty=None, random_state=0).fit(X, y)
    >>> reg.coef_.round(2)
    array([ 1. , -2. ,  0.5])
    >>> reg.intercept_.round(2)
    array([3.])
    """

    _is_classifier = False
    _parameter_constraints = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(_REGRESSION_LOSSES))],
    }

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=DEFAULT_EPSILON, random_state=None, learning_rate="invscaling",
                 eta0=0.01, power_t=0.25, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, warm_start=False, average=False):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by SGD, from zero (or the previous model with ``warm_start``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target values.
        coef_init : ndarray of shape (n_features,), default=None
            Initial weights.
        intercept_init : ndarray of shape (1,), default=None
            Initial intercept.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample, multiplying its gradient steps.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        self._more_validate_params()
        if self.warm_start and hasattr(self, "coef_"):
            if coef_init is None:
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        self._reset_state()
        self.t_ = 1.0
        self._partial_fit(X, y, max_iter=self.max_iter, sample_weight=sample_weight,
                          coef_init=coef_init, intercept_init=intercept_init)
        self._warn_after_fit()
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of SGD over the given samples, continuing the previous state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Target values of the batch.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()
        if not hasattr(self, "coef_"):
            self._more_validate_params(for_partial_fit=True)
        return self._partial_fit(X, y, max_iter=1, sample_weight=sample_weight,
                                 coef_init=None, intercept_init=None)

    def _partial_fit(self, X, y, *, max_iter, sample_weight, coef_init, intercept_init):
        first_call = not hasattr(self, "coef_")
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
            accept_large_sparse=False, y_numeric=True, reset=first_call,
        )
        y = np.asarray(y, dtype=np.float64)
        n_samples, n_features = X.shape
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self._prepare_state(1, n_features, coef_init, intercept_init)
        if not hasattr(self, "t_"):
            self.t_ = 1.0
        config = self._config(sp.issparse(X))
        rng = check_random_state(self.random_state)
        if config.early_stopping:
            train_idx, val_idx = _validation_split(
                y, sample_weight, self.validation_fraction,
                rng if self.random_state is None else self.random_state, stratify=False,
            )
        else:
            train_idx, val_idx = np.arange(n_samples), np.empty(0, dtype=np.intp)
        seed = rng.randint(0, _MAX_SEED)  # scikit-learn's shuffle seed
        averaging = config.average > 0
        intercept, average_intercept, n_iter = _run_sgd(
            _kernel_data(X), y, sample_weight, self._standard_coef[0],
            self._average_coef[0] if averaging else np.empty(0), config=config, seed=seed,
            train_idx=train_idx, val_idx=val_idx, max_iter=max_iter, weight_pos=1.0,
            weight_neg=1.0, intercept=self._standard_intercept[0],
            average_intercept=self._average_intercept[0] if averaging else 0.0,
            t=self.t_, classification=False,
        )
        self._standard_intercept[0] = intercept
        if averaging:
            self._average_intercept[0] = average_intercept
        self.n_iter_ = n_iter
        self.t_ += n_iter * n_samples
        coef, self.intercept_ = self._publish(X.dtype)
        self.coef_ = coef[0]
        self._check_finite_scores(X, self.coef_, self.intercept_)
        return self

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values :math:`X w + b`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        pred = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return np.asarray(pred).ravel()
