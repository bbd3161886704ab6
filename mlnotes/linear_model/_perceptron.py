"""The perceptron (chapter 2 of the notes: linear classifiers)."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._stochastic_gradient import DEFAULT_EPSILON, _BaseSGDClassifier


class Perceptron(_BaseSGDClassifier):
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
    SGDClassifier : the general stochastic gradient classifier; ``Perceptron()``
        is ``SGDClassifier(loss='perceptron', learning_rate='constant', eta0=1,
        penalty=None)``.
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

    def _settings(self):
        """The perceptron is SGD on the perceptron loss with a constant step."""
        return dict(loss="perceptron", learning_rate="constant", eta0=self.eta0,
                    power_t=0.5, epsilon=DEFAULT_EPSILON, average=False)
