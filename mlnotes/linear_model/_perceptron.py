"""The perceptron (chapter 2 of the notes: linear classifiers)."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _sgd_fast
from ._base import LinearClassifierMixin

# Intercept updates are damped on sparse data, as in scikit-learn's SGD.
SPARSE_INTERCEPT_DECAY = 0.01
_MAX_SEED = np.iinfo(np.int64).max


def _check_random_state(seed):
    """``check_random_state``, except that ``None`` draws fresh OS entropy.

    The user's global NumPy generator is never advanced.
    """
    if seed is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(4))
    return check_random_state(seed)


def _validation_split(y, sample_weight, validation_fraction, random_state):
    """Stratified train/validation split for early stopping.

    Returns ``(train_idx, val_idx)`` sorted in increasing order.
    """
    cv = StratifiedShuffleSplit(test_size=validation_fraction, random_state=random_state)
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


def _fit_binary_perceptron(data, y_pm, sample_weight, w, intercept, *, seed, train_idx,
                           val_idx, max_iter, eta0, weight_pos, weight_neg, penalty,
                           alpha, l1_ratio, fit_intercept, shuffle, tol, early_stopping,
                           n_iter_no_change, verbose):
    """Run the perceptron epochs on one binary problem (labels ``y_pm`` in {-1, +1}).

    ``data`` is ``(X_dense, values, indices, indptr, is_sparse)`` as the kernel
    reads it; ``w`` (float64) is updated in place. Returns
    ``(intercept, n_iter)``.
    """
    X, values, indices, indptr, is_sparse = data
    n_features = w.shape[0]
    step = eta0 * y_pm * np.where(y_pm > 0, weight_pos, weight_neg) * sample_weight
    rng, order, q, fstate, patience = _sgd_fast.new_state(seed, train_idx, n_features)
    fstate[_sgd_fast.F_INTERCEPT] = intercept
    stats = np.zeros(_sgd_fast.N_STATS)
    penalty_type = _sgd_fast.PENALTY_CODES[penalty]
    if penalty_type == _sgd_fast.L2:
        l1_ratio = 0.0
    elif penalty_type == _sgd_fast.L1:
        l1_ratio = 1.0
    tol = -np.inf if tol is None else float(tol)
    args = (
        penalty_type, float(alpha), float(l1_ratio), float(eta0), bool(fit_intercept),
        bool(shuffle), tol, bool(early_stopping), int(n_iter_no_change),
        SPARSE_INTERCEPT_DECAY if is_sparse else 1.0,
    )

    def run(n_epochs):
        return _sgd_fast._plain_sgd(
            X, values, indices, indptr, is_sparse, y_pm, step, sample_weight, val_idx,
            w, order, rng, q, fstate, patience, stats, int(n_epochs), *args,
        )

    n_iter = 0
    if not verbose:
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
            line = (
                f"Norm: {np.linalg.norm(w):.2f}, NNZs: {np.count_nonzero(w)}, "
                f"Bias: {fstate[_sgd_fast.F_INTERCEPT]:.6f}, T: {n_iter * order.shape[0]}, "
                f"Avg. loss: {stats[_sgd_fast.S_SUMLOSS] / n_train:f}, "
                f"Objective: {stats[_sgd_fast.S_OBJECTIVE] / n_train:f}"
            )
            if early_stopping:
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
    return float(fstate[_sgd_fast.F_INTERCEPT]), int(n_iter)


class Perceptron(LinearClassifierMixin, BaseEstimator):
    r"""Linear perceptron classifier, trained by Rosenblatt's mistake-driven rule.

    The samples are visited one at a time (in a fresh random order each epoch
    when ``shuffle=True``); each misclassified sample moves the hyperplane
    towards itself. More than two classes are handled one-vs-rest: one binary
    perceptron per class, the predicted class being that of largest score.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet'}, default=None
        Regularisation applied at every sample (see Notes). ``None`` gives the
        classic perceptron.
    alpha : float, default=0.0001
        Strength of the penalty. Only used with a penalty.
    l1_ratio : float, default=0.15
        Elastic-net mixing parameter in [0, 1]: 0 is the L2 penalty, 1 the L1
        penalty. Only used with ``penalty='elasticnet'``.
    fit_intercept : bool, default=True
        Whether to learn an intercept. If False, the data are taken as centred.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data) of ``fit``;
        ``partial_fit`` always runs one epoch.
    tol : float or None, default=1e-3
        Stopping criterion: training stops after ``n_iter_no_change``
        consecutive epochs whose mean objective is not below the best so far
        minus ``tol`` (or, with ``early_stopping``, whose validation accuracy
        is not above the best so far plus ``tol``). ``None`` runs
        ``max_iter`` epochs.
    shuffle : bool, default=True
        Whether to shuffle the training data before each epoch.
    verbose : int, default=0
        Print one line per epoch when positive.
    eta0 : float, default=1.0
        Constant step :math:`\eta_0` of the updates.
    n_jobs : int, default=None
        Number of threads for the one-vs-rest problems of a multi-class fit
        (the compiled loop releases the GIL). ``None`` means 1 unless in a
        :obj:`joblib.parallel_backend` context; ``-1`` means all processors.
    random_state : int, RandomState instance or None, default=0
        Seeds the shuffling of the samples (and the validation split of
        ``early_stopping``). An int gives reproducible fits; ``None`` draws
        fresh entropy from the operating system (never from, nor advancing,
        NumPy's global generator).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data and
        stop when the validation accuracy has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs.
    validation_fraction : float, default=0.1
        Proportion of the training data held out with ``early_stopping``, in
        (0, 1).
    n_iter_no_change : int, default=5
        Number of epochs without improvement before stopping.
    class_weight : dict, 'balanced' or None, default=None
        Weight :math:`c_k` of each class, multiplying the updates of its
        samples. ``'balanced'`` uses ``n_samples / (n_classes * np.bincount(y))``.
        In a one-vs-rest problem the weight of the class multiplies the
        positive samples; the rest have weight 1.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution instead of zero.

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
        Number of weight updates performed during training plus one,
        ``n_iter_ * n_samples + 1`` after ``fit``, as in scikit-learn.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    LogisticRegression : a linear classifier with probabilistic outputs.

    Notes
    -----
    Chapter 2 of the notes (linear classifiers). With labels
    :math:`y_i \in \{-1, +1\}` (the positive class is ``classes_[1]``, or the
    class of the one-vs-rest problem), sample weights :math:`s_i` and class
    weights :math:`c_{y_i}`, every sample that the current hyperplane
    misclassifies or puts on the boundary triggers the update

    .. math::

        y_i\,(w^\top x_i + b) \le 0 \quad\Longrightarrow\quad
        w \leftarrow w + \eta_0\, s_i\, c_{y_i}\, y_i\, x_i, \qquad
        b \leftarrow b + \eta_0\, s_i\, c_{y_i}\, y_i ,

    which is a stochastic (sub)gradient step on the perceptron loss
    :math:`\ell(w, b; x, y) = \max(0, -y\,(w^\top x + b))`. With a penalty, as
    in scikit-learn's SGD, every sample first shrinks the weights,
    :math:`w \leftarrow \max(0, 1 - \eta_0 \alpha (1 - \rho))\, w` (L2 part,
    :math:`\rho` being ``l1_ratio``), and then pulls each weight towards zero
    by the L1 penalty :math:`\eta_0 \alpha \rho` accumulated so far without
    crossing zero (cumulative truncated gradient of Tsuruoka et al.). An
    epoch's objective is the mean over the training samples of the loss plus
    :math:`\alpha\,((1-\rho)\tfrac12\|w\|_2^2 + \rho\|w\|_1)`.

    **Convergence theorem** (Novikoff, 1962). Suppose that
    :math:`\|x_i\| \le R` for all :math:`i` and that some unit vector
    :math:`u` separates the data with margin :math:`\gamma > 0`, i.e.
    :math:`y_i\, u^\top x_i \ge \gamma`. Then the perceptron started at
    :math:`w = 0` (no intercept, no penalty, any :math:`\eta_0 > 0`, any order
    of the samples) makes at most

    .. math::

        M \le \left(\frac{R}{\gamma}\right)^2

    mistakes, after which it classifies every training sample correctly. After
    :math:`M` updates, :math:`u^\top w \ge M \eta_0 \gamma` (each update adds at
    least :math:`\eta_0 \gamma`) while :math:`\|w\|^2 \le M \eta_0^2 R^2`
    (each update adds :math:`2\eta_0 y_i w^\top x_i + \eta_0^2\|x_i\|^2 \le
    \eta_0^2 R^2`); Cauchy-Schwarz, :math:`u^\top w \le \|w\|`, gives
    :math:`M \eta_0 \gamma \le \sqrt{M}\, \eta_0 R`. An intercept is a weight on
    a constant feature 1, so the bound holds with :math:`R^2 + 1` in place of
    :math:`R^2` for the augmented margin. On data that are not separable the
    perceptron never settles; the ``tol`` rule stops it when the epoch
    objective stops decreasing.

    The epochs of each binary problem run in one compiled (numba) loop that
    releases the GIL; the shuffling uses a SplitMix64 generator seeded from
    ``random_state``, so equal seeds give identical models.

    References
    ----------
    F. Rosenblatt, "The perceptron: a probabilistic model for information
    storage and organization in the brain", *Psychological Review* 65(6), 1958.

    A. B. J. Novikoff, "On convergence proofs on perceptrons", *Symposium on
    the Mathematical Theory of Automata* 12, 1962.

    Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient descent
    training for L1-regularized log-linear models with cumulative penalty",
    *ACL* 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.linear_model import Perceptron
    >>> X = np.array([[-2.0, -1.0], [-1.0, -2.0], [1.0, 2.0], [2.0, 1.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = Perceptron().fit(X, y)
    >>> clf.predict(np.array([[3.0, 3.0], [-3.0, -2.0]]))
    array([1, 0])
    >>> clf.score(X, y)
    1.0
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "warm_start": ["boolean"],
    }

    def __init__(self, *, penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, verbose=0, eta0=1.0, n_jobs=None,
                 random_state=0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the perceptron, starting from zero (or the previous model with ``warm_start``).

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
            Weight of each sample, multiplying its updates (and the class
            weight).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        if hasattr(self, "classes_"):
            del self.classes_  # a new fit, not the continuation of partial_fit
        if self.warm_start and hasattr(self, "coef_"):
            if coef_init is None:
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        else:
            for attr in ("coef_", "intercept_"):
                if hasattr(self, attr):
                    delattr(self, attr)
        self.t_ = 1.0
        self._partial_fit(X, y, max_iter=self.max_iter, classes="from_y",
                          sample_weight=sample_weight, coef_init=coef_init,
                          intercept_init=intercept_init)
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider "
                "increasing max_iter to improve the fit.",
                ConvergenceWarning,
            )
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of the perceptron over the given samples.

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
            if self.early_stopping:
                raise ValueError("early_stopping should be False with partial_fit")
            if isinstance(self.class_weight, str) and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' is not supported for partial_fit: the "
                    "class frequencies of one batch are not those of the data. Pass "
                    "compute_class_weight('balanced', classes=classes, y=y_sample) "
                    "on a large enough sample as the class_weight dict instead."
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
        W, b = self._initial_parameters(n_rows, n_features, coef_init, intercept_init)
        if not hasattr(self, "t_"):
            self.t_ = 1.0

        if sp.issparse(X):
            data = (np.empty((0, 0)), X.data, X.indices, X.indptr, True)
        else:
            data = (X, np.empty(0), np.empty(0, np.int32), np.zeros(1, np.int32), False)
        rng = _check_random_state(self.random_state)
        if self.early_stopping:
            train_idx, val_idx = _validation_split(
                y, sample_weight, self.validation_fraction,
                rng if self.random_state is None else self.random_state,
            )
        else:
            train_idx, val_idx = np.arange(n_samples), np.empty(0, dtype=np.intp)
        seeds = rng.randint(_MAX_SEED, size=n_rows, dtype=np.int64)
        common = dict(
            train_idx=train_idx, val_idx=val_idx, max_iter=max_iter, eta0=self.eta0,
            penalty=self.penalty, alpha=self.alpha, l1_ratio=self.l1_ratio,
            fit_intercept=self.fit_intercept, shuffle=self.shuffle, tol=self.tol,
            early_stopping=self.early_stopping, n_iter_no_change=self.n_iter_no_change,
            verbose=self.verbose,
        )

        def fit_one(k):
            positive = self.classes_[1] if n_rows == 1 else self.classes_[k]
            y_pm = np.where(y == positive, 1.0, -1.0)
            if n_rows == 1:
                weight_pos, weight_neg = class_weight[1], class_weight[0]
            else:
                weight_pos, weight_neg = class_weight[k], 1.0
            return _fit_binary_perceptron(
                data, y_pm, sample_weight, W[k], b[k], seed=seeds[k],
                weight_pos=float(weight_pos), weight_neg=float(weight_neg), **common,
            )

        if n_rows == 1 or self.n_jobs in (None, 1):
            results = [fit_one(k) for k in range(n_rows)]
        else:
            results = Parallel(n_jobs=self.n_jobs, require="sharedmem")(
                delayed(fit_one)(k) for k in range(n_rows)
            )
        b[:] = [intercept for intercept, _ in results]
        n_iter = max(n for _, n in results)
        self.coef_ = W.astype(X.dtype, copy=False)
        self.intercept_ = b.astype(X.dtype, copy=False)
        self.n_iter_ = n_iter
        self.t_ += n_iter * n_samples
        return self

    def _initial_parameters(self, n_rows, n_features, coef_init, intercept_init):
        """Float64 work copies of the starting weights ``(n_rows, n_features)`` and intercepts."""
        if coef_init is None and hasattr(self, "coef_"):  # partial_fit continues
            coef_init, intercept_init = self.coef_, self.intercept_
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
                    f"coef_init has shape {coef_init.shape}, but the data have "
                    f"{n_features} features and {n_rows} binary problems: expected "
                    f"({n_rows}, {n_features})."
                )
            W = coef_init.reshape(n_rows, n_features).copy()
        if intercept_init is None:
            b = np.zeros(n_rows)
        else:
            b = np.array(intercept_init, dtype=np.float64).reshape(-1)
            if b.shape != (n_rows,):
                raise ValueError(
                    f"intercept_init has shape {np.shape(intercept_init)}, expected "
                    f"({n_rows},)."
                )
        return W, b

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

    def densify(self):
        """Convert ``coef_`` back to a dense array (needed to continue fitting).

        Returns
        -------
        self : object
            The estimator.
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Convert ``coef_`` to a CSR sparse array (worth it when most weights are zero).

        Returns
        -------
        self : object
            The estimator.
        """
        check_is_fitted(self)
        self.coef_ = sp.csr_array(self.coef_)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
