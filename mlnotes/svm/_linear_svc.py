"""The linear support vector machine, solved in the primal or the dual (chapter 4 of the notes).

:class:`LinearSVC` mirrors scikit-learn's liblinear-backed class: one-vs-rest,
liblinear's penalised intercept, and liblinear's solvers: dual coordinate
descent (:func:`mlnotes.svm._liblinear_fast._dual_cd`), the trust-region
Newton method on the primal for the squared hinge loss with an L2 penalty
(:func:`_primal_l2_tron`, this module; its conjugate gradient compiled in
:mod:`mlnotes.svm._tron_fast` for small dense data), and coordinate descent for
the L1 penalty (:func:`mlnotes.svm._liblinear_fast._l1r_l2_svc`).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from mlnotes.linear_model._base import SparseCoefMixin
from mlnotes.linear_model._stochastic_gradient import _SparseLinearClassifierMixin
from mlnotes.utils._random import check_random_state

from . import _liblinear_fast, _tron_fast

# dense problems with at most this many weights solve the Newton system exactly
_DIRECT_MAX_WEIGHTS = 200
_MAX_SEED = np.iinfo(np.int64).max
_CS_MAX_ITER = 100_000  # liblinear's fixed limit for the Crammer-Singer solver
_OVERFLOW_MESSAGE = (
    "LinearSVC: the primal Newton step overflowed (non-finite values): the features are "
    "too large in magnitude for the squared-hinge objective. Scale X first (e.g. "
    "StandardScaler)."
)

# (penalty, loss) -> {dual: solver}, as liblinear offers them
_SOLVERS = {
    ("l2", "hinge"): {True: "dual_hinge"},
    ("l2", "squared_hinge"): {True: "dual_squared_hinge", False: "primal_l2"},
    ("l1", "squared_hinge"): {False: "primal_l1"},
}


def _solver(penalty, loss, dual):
    """The solver for a combination, or scikit-learn's ``ValueError``."""
    options = _SOLVERS.get((penalty, loss))
    if options is None:
        reason = (f"The combination of penalty='{penalty}' and loss='{loss}' is not "
                  "supported")
    elif dual not in options:
        reason = (f"The combination of penalty='{penalty}' and loss='{loss}' are not "
                  f"supported when dual={dual}")
    else:
        return options[dual]
    raise ValueError(
        f"Unsupported set of arguments: {reason}, Parameters: penalty={penalty!r}, "
        f"loss={loss!r}, dual={dual!r}"
    )


def _resolve_dual(dual, penalty, loss, n_samples, n_features):
    """``dual='auto'``: the dual when there are fewer samples than features, if possible."""
    if dual != "auto":
        return dual
    preferred = n_samples < n_features
    options = _SOLVERS.get((penalty, loss), {})
    return preferred if preferred in options else (not preferred)


class _Design:
    """The samples with liblinear's constant feature appended: ``[X, bias]``."""

    def __init__(self, X, bias):
        self.X = X
        self.bias = bias
        self.n_weights = X.shape[1] + 1
        # dense: ``@`` directly (what safe_sparse_dot calls, without its per-call checks)
        self._dot = safe_sparse_dot if sp.issparse(X) else np.matmul

    def dot(self, w):
        return np.asarray(self._dot(self.X, w[:-1])).ravel() + self.bias * w[-1]

    def tdot(self, v):
        out = np.empty(self.n_weights)
        out[:-1] = self._dot(self.X.T, v)
        out[-1] = self.bias * v.sum()
        return out

    def rows(self, idx):
        return _Design(self.X[idx], self.bias)


def _gradient(design, w, z, y, C):
    r = C * np.minimum(z - 1.0, 0.0) * y  # zero outside the active set
    return w + 2.0 * design.tdot(r)


def _hessian_product(design, act, C):
    """``v -> (I + 2 X_A^T diag(C_A) X_A) v`` for the active set ``A``.

    Small dense problems get the matrix itself (formed by NumPy, whose ``A.T @ A``
    is a symmetric rank-k update) instead of the function.
    """
    m = design.n_weights
    if not sp.issparse(design.X) and m <= _DIRECT_MAX_WEIGHTS:
        rows = np.flatnonzero(act)
        c2 = 2.0 * C[rows]
        root = np.sqrt(c2)
        Xa = _tron_fast._scaled_rows(design.X, rows, root)  # X[act] * root[:, None]
        H = np.empty((m, m))
        H[:-1, :-1] = Xa.T @ Xa
        H[:-1, -1] = H[-1, :-1] = design.bias * (Xa.T @ root)
        H[-1, -1] = design.bias * design.bias * c2.sum()
        H.flat[:: m + 1] += 1.0
        return H
    c2 = 2.0 * C[act]
    sub = design.rows(act)
    return lambda v: v + sub.tdot(c2 * sub.dot(v))


def _trust_region_cg(hv, g, delta):
    """Conjugate gradient on ``H s = -g`` inside ``||s|| <= delta`` (Steihaug).

    Stops when the residual falls to a tenth of ``||g||`` or the step reaches the
    trust-region boundary (it is then cut at the boundary). Returns ``(s, r)``
    with ``r = -g - H s``.
    """
    s = np.zeros_like(g)
    r = -g
    d = r.copy()
    tol = 0.1 * np.linalg.norm(g)
    rr = r @ r
    while np.sqrt(rr) > tol:
        Hd = hv(d)
        a = rr / (d @ Hd)
        s_next = s + a * d
        if np.linalg.norm(s_next) > delta:
            # the root t > 0 of ||s + t d|| = delta, in the cancellation-free form
            sd, ss, dd = s @ d, s @ s, d @ d
            rad = np.sqrt(sd * sd + dd * (delta * delta - ss))
            t = (delta * delta - ss) / (sd + rad) if sd >= 0 else (rad - sd) / dd
            return s + t * d, r - t * Hd
        s = s_next
        r = r - a * Hd
        rr_new = r @ r
        d = r + (rr_new / rr) * d
        rr = rr_new
    return s, r


def _primal_l2_tron(design, y, C, eps, max_iter):
    r"""Trust-region Newton method (TRON) for the L2-penalised squared-hinge SVM.

    Minimises :math:`f(w) = \tfrac12\|w\|^2 + \sum_i C_i \max(0, 1 - y_i
    w^\top \tilde x_i)^2` as liblinear does for ``dual=False`` (Lin, Weng and
    Keerthi, 2008): each iteration solves the Newton system of the active set
    :math:`A = \{i: y_i w^\top \tilde x_i < 1\}` by conjugate gradient inside a
    trust region of radius :math:`\Delta`, accepts the step when the actual
    decrease exceeds :math:`10^{-4}` times the decrease the quadratic model
    predicts, and resizes :math:`\Delta` from their ratio. Stops when
    :math:`\|\nabla f(w)\| \le \epsilon\, \|\nabla f(0)\|`. The iterates, and
    so ``n_iter_``, are scikit-learn's (its convergence warning fires at the same
    ``max_iter``).

    Returns ``(w, n_iter)``.
    """
    eta0, eta1, eta2 = 1e-4, 0.25, 0.75
    sigma1, sigma2, sigma3 = 0.25, 0.5, 4.0

    if sp.issparse(design.X):
        def objective(w):
            z = y * design.dot(w)
            d = np.maximum(1.0 - z, 0.0)
            return 0.5 * (w @ w) + C @ (d * d), z

        def gradient(w, z):
            return _gradient(design, w, z, y, C)
    else:  # the same arithmetic, compiled (issue 14)
        X = np.ascontiguousarray(design.X)
        y, C = np.ascontiguousarray(y), np.ascontiguousarray(C)

        def objective(w):
            return _tron_fast._objective(X, float(design.bias), y, C, w)

        def gradient(w, z):
            return _tron_fast._gradient(X, float(design.bias), y, C, w, z)

    w = np.zeros(design.n_weights)
    f, z = objective(w)
    g = gradient(w, z)
    gnorm0 = delta = np.linalg.norm(g)
    accepted = 0
    search = gnorm0 > eps * gnorm0
    first = True
    while accepted < max_iter and search:
        hv = _hessian_product(design, z < 1.0, C)
        if isinstance(hv, np.ndarray):  # the explicit matrix: the compiled CG (issue 14)
            s, r = _tron_fast._trust_region_cg(hv, g, delta)
        else:
            s, r = _trust_region_cg(hv, g, delta)
        w_new = w + s
        gs = g @ s
        prered = -0.5 * (gs - s @ r)
        f_new, z_new = objective(w_new)
        actred = f - f_new
        snorm = np.linalg.norm(s)
        if not (np.isfinite(snorm) and np.isfinite(prered) and np.isfinite(f_new)):
            # a rejected non-finite step would be retried forever with the same radius
            raise ValueError(_OVERFLOW_MESSAGE)
        if first:
            delta = min(delta, snorm)
            first = False
        curvature = f_new - f - gs
        alpha = sigma3 if curvature <= 0 else max(sigma1, -0.5 * (gs / curvature))
        if actred < eta0 * prered:
            delta = min(max(alpha, sigma1) * snorm, sigma2 * delta)
        elif actred < eta1 * prered:
            delta = max(sigma1 * delta, min(alpha * snorm, sigma2 * delta))
        elif actred < eta2 * prered:
            delta = max(sigma1 * delta, min(alpha * snorm, sigma3 * delta))
        else:
            delta = max(delta, min(alpha * snorm, sigma3 * delta))
        if actred > eta0 * prered:
            accepted += 1
            w, f, z = w_new, f_new, z_new
            g = gradient(w, z)
            if np.linalg.norm(g) <= eps * gnorm0:
                break
        if f < -1.0e32 or (abs(actred) <= 0 and prered <= 0):
            break
        if abs(actred) <= 1.0e-12 * abs(f) and abs(prered) <= 1.0e-12 * abs(f):
            break
    return w, accepted


def _fit_binary(X, y_pm, cost, bias, solver, tol, max_iter, seed):
    """Weights ``(n_features + 1,)`` (constant feature last) and iterations of one problem."""
    n_samples, n_features = X.shape
    pos = int(np.count_nonzero(y_pm > 0))
    # liblinear scales the primal tolerance by the size of the smaller class
    eps_primal = tol * max(min(pos, n_samples - pos), 1) / n_samples
    rng = np.array([seed], dtype=np.uint64)
    w = np.zeros(n_features + 1)
    if solver == "primal_l2":
        return _primal_l2_tron(_Design(X, bias), y_pm, cost, eps_primal, max_iter)
    if solver == "primal_l1":
        if sp.issparse(X):
            Xc = sp.hstack([X, np.full((n_samples, 1), bias)], format="csc")
            Xc.sort_indices()
            cols = (np.empty((0, 0)), Xc.data.astype(np.float64, copy=False),
                    Xc.indices.astype(np.int32, copy=False),
                    Xc.indptr.astype(np.int32, copy=False), True)
        else:
            Xt = np.empty((n_features + 1, n_samples))
            Xt[:-1] = X.T
            Xt[-1] = bias
            cols = (Xt, np.empty(0), np.empty(0, np.int32), np.zeros(1, np.int32), False)
        n_iter = _liblinear_fast._l1r_l2_svc(*cols, y_pm, cost, w, eps_primal, max_iter,
                                             rng)
        return w, n_iter
    if solver == "dual_hinge":
        upper, diag = cost, np.zeros(n_samples)
    else:  # squared hinge
        upper, diag = np.full(n_samples, np.inf), 0.5 / cost
    if sp.issparse(X):
        rows = (np.empty((0, 0)), X.data, X.indices, X.indptr, True)
    else:
        rows = (X, np.empty(0), np.empty(0, np.int32), np.zeros(1, np.int32), False)
    alpha = np.zeros(n_samples)
    n_iter = _liblinear_fast._dual_cd(*rows, float(bias), y_pm, upper, diag, w, alpha,
                                      float(tol), int(max_iter), rng, True)
    return w, n_iter


class LinearSVC(_SparseLinearClassifierMixin, SparseCoefMixin, BaseEstimator):
    r"""Linear support vector classifier, solved in the primal or in the dual.

    Fits a maximum-margin hyperplane with the hinge or the squared hinge loss
    and an L2 (or L1) penalty, one binary problem per class (one-vs-rest), as
    scikit-learn's ``LinearSVC`` does with liblinear. Unlike :class:`SVC` it
    never forms a kernel matrix, so it scales to many samples.
    ``multi_class='crammer_singer'`` solves one joint multi-class problem
    instead. See the :ref:`User Guide <user-guide-svm>`.

    Parameters
    ----------
    penalty : {'l2', 'l1'}, default='l2'
        Norm of the penalty. ``'l1'`` gives sparse ``coef_`` (squared hinge
        loss and ``dual=False`` only).
    loss : {'squared_hinge', 'hinge'}, default='squared_hinge'
        The loss of the margin violations: ``'hinge'`` is the standard SVM
        (dual only), ``'squared_hinge'`` its square.
    dual : 'auto' or bool, default='auto'
        Solve the dual (True) or the primal (False) problem. ``'auto'`` picks
        the dual when ``n_samples < n_features`` and the combination allows it,
        otherwise the primal when it is available, as scikit-learn does.
    tol : float, default=1e-4
        Stopping tolerance: the spread of the projected gradient in the dual,
        the norm of the gradient relative to its initial value (scaled by the
        fraction of samples in the smaller class, as liblinear does) in the
        primal.
    C : float, default=1.0
        Cost of the margin violations (inverse strength of the penalty),
        positive.
    multi_class : {'ovr', 'crammer_singer'}, default='ovr'
        ``'ovr'`` trains one binary problem per class (one-vs-rest);
        ``'crammer_singer'`` optimises the joint multi-class objective of
        Crammer and Singer (see Notes), for which ``penalty``, ``loss`` and
        ``dual`` are ignored.
    fit_intercept : bool, default=True
        Whether to learn an intercept. As in liblinear, the intercept is the
        weight of an extra constant feature and is penalised with the others.
    intercept_scaling : float, default=1.0
        Value :math:`s` of the constant feature; ``intercept_`` is :math:`s`
        times its weight, so a larger :math:`s` weakens the penalty on the
        intercept.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies ``C`` for the samples of each class; ``'balanced'`` uses
        ``n_samples / (n_classes * np.bincount(y))`` (weighted counts with
        ``sample_weight``).
    verbose : int, default=0
        Print the iterations of each binary problem when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the random order of the coordinates (dual coordinate descent and
        the L1 primal); the L2 primal trust-region Newton method is deterministic. ``None``
        draws fresh entropy (never from NumPy's global generator).
    max_iter : int, default=1000
        Maximum number of iterations: passes over the coordinates for the
        coordinate-descent solvers, Newton steps for the L2 primal.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) if n_classes == 2 else (n_classes, n_features)
        Weights of the features.
    intercept_ : ndarray of shape (1,) if n_classes == 2 else (n_classes,)
        Constants of the decision function (0.0 when ``fit_intercept=False``).
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_iter_ : int
        Largest number of iterations over the binary problems.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SVC : kernel SVM solved by SMO (the same model with ``kernel='linear'``,
        but an unpenalised intercept and one-vs-one).
    mlnotes.linear_model.SGDClassifier : the hinge-loss SVM trained by SGD.

    Notes
    -----
    Chapter 4 of the notes (support vector machines). With labels
    :math:`y_i \in \{-1, +1\}` (``classes_[1]``, or the class of the
    one-vs-rest problem, is positive), the augmented samples
    :math:`\tilde x_i = (x_i, s)` and per-sample costs
    :math:`C_i = C \cdot c_{y_i} \cdot \text{sample\_weight}_i`, the primal
    problems are

    .. math::

        \min_{w}\; \tfrac12 \|w\|_2^2 + \sum_i C_i\, \xi_i^p, \qquad
        \xi_i = \max(0,\, 1 - y_i w^\top \tilde x_i),

    with :math:`p = 1` (hinge) or :math:`p = 2` (squared hinge); with
    ``penalty='l1'`` the regulariser is :math:`\|w\|_1`. Their duals are

    .. math::

        \min_{\alpha}\; \tfrac12 \sum_{i,j} \alpha_i \alpha_j y_i y_j
        \tilde x_i^\top \tilde x_j + \sum_i \frac{\alpha_i^2}{4 C_i}[p = 2]
        - \sum_i \alpha_i
        \quad \text{s.t.}\quad 0 \le \alpha_i \le C_i \ (p = 1),\
        \alpha_i \ge 0 \ (p = 2),

    and :math:`w = \sum_i \alpha_i y_i \tilde x_i`; at the optimum
    :math:`\alpha_i = 0` for the samples beyond the margin
    (:math:`y_i w^\top \tilde x_i > 1`) and, for the hinge loss,
    :math:`\alpha_i = C_i` inside it (complementary slackness).

    Solvers (the algorithms of liblinear):

    - ``dual=True``: coordinate descent on the dual (Hsieh et al. 2008):
      each :math:`\alpha_i` in turn, in a random order every pass, moves to
      the minimiser of the dual along its coordinate, clipped to the box; the
      samples whose bound is firmly active are set aside (shrinking) and
      checked again before stopping.
    - ``dual=False``, L2 penalty (squared hinge): liblinear's trust-region
      Newton method (TRON; Lin, Weng and Keerthi 2008): conjugate gradient
      on :math:`(I + 2 \tilde X_A^\top \mathrm{diag}(C_A) \tilde X_A) d =
      -\nabla f(w)` for the current active set :math:`A`, cut at the trust
      region's radius, which grows or shrinks with the ratio of the actual to
      the predicted decrease. Its iterates and ``n_iter_`` are
      scikit-learn's.
    - ``dual=False``, L1 penalty: coordinate descent with one-dimensional
      Newton steps and a backtracking line search (Yuan et al. 2010).

    With ``multi_class='crammer_singer'`` one joint problem replaces the
    one-vs-rest ones (Crammer and Singer 2001): with one weight vector
    :math:`w_m` per class,

    .. math::

        \min_{W}\; \tfrac12 \sum_m \|w_m\|_2^2 + \sum_i C_i \max_m
        \big([m \ne y_i] + w_m^\top \tilde x_i - w_{y_i}^\top \tilde x_i\big),

    solved in the dual, one sample's :math:`k` multipliers at a time (each
    sub-problem in closed form after a sort), with shrinking (Keerthi et al.
    2008; liblinear's solver, also for the stopping rule: up to 100,000
    passes, ``max_iter`` only decides the ``ConvergenceWarning``, as in
    scikit-learn). With two classes ``coef_`` is :math:`w_1 - w_0`.

    All problems are strictly convex (L2) so the solution is unique and
    equals scikit-learn's up to the solvers' tolerances. The coordinate
    orders come from a SplitMix64 generator seeded by ``random_state``, so
    the coordinate-descent iterates (not the optimum) differ from liblinear's.

    References
    ----------
    C.-J. Hsieh, K.-W. Chang, C.-J. Lin, S. S. Keerthi and S. Sundararajan,
    "A dual coordinate descent method for large-scale linear SVM", *ICML* 2008.

    C.-J. Lin, R. C. Weng and S. S. Keerthi, "Trust region Newton method for
    large-scale logistic regression", *JMLR* 9, 2008.

    G.-X. Yuan, K.-W. Chang, C.-J. Hsieh and C.-J. Lin, "A comparison of
    optimization methods and software for large-scale L1-regularized linear
    classification", *JMLR* 11, 2010.

    K. Crammer and Y. Singer, "On the algorithmic implementation of multiclass
    kernel-based vector machines", *JMLR* 2, 2001; S. S. Keerthi, S.
    Sundararajan, K.-W. Chang, C.-J. Hsieh and C.-J. Lin, "A sequential dual
    method for large scale multi-class linear SVMs", *KDD* 2008.

    R.-E. Fan, K.-W. Chang, C.-J. Hsieh, X.-R. Wang and C.-J. Lin, "LIBLINEAR:
    a library for large linear classification", *JMLR* 9, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.svm import LinearSVC
    >>> X = np.array([[-2.0, -1.0], [-1.0, -2.0], [1.0, 2.0], [2.0, 1.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = LinearSVC().fit(X, y)
    >>> clf.predict(np.array([[3.0, 3.0], [-3.0, -2.0]]))
    array([1, 0])
    >>> clf.coef_.round(3)
    array([[0.324, 0.324]])
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l1", "l2"})],
        "loss": [StrOptions({"hinge", "squared_hinge"})],
        "dual": ["boolean", StrOptions({"auto"})],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "multi_class": [StrOptions({"ovr", "crammer_singer"})],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, penalty="l2", loss="squared_hinge", *, dual="auto", tol=1e-4, C=1.0,
                 multi_class="ovr", fit_intercept=True, intercept_scaling=1,
                 class_weight=None, verbose=0, random_state=None, max_iter=1000):
        self.penalty = penalty
        self.loss = loss
        self.dual = dual
        self.tol = tol
        self.C = C
        self.multi_class = multi_class
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.verbose = verbose
        self.random_state = random_state
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit one linear SVM per class (one-vs-rest; a single one for two classes).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample, multiplying its cost ``C``; samples of zero
            weight are left out.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float64, order="C",
            accept_large_sparse=False,
        )
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {self.classes_[0]!r}"
            )
        crammer_singer = self.multi_class == "crammer_singer"
        if crammer_singer:  # penalty, loss and dual are ignored, as in scikit-learn
            solver = "crammer_singer"
        else:
            dual = _resolve_dual(self.dual, self.penalty, self.loss, *X.shape)
            solver = _solver(self.penalty, self.loss, dual)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        class_weight = compute_class_weight(self.class_weight, classes=self.classes_, y=y,
                                            sample_weight=sample_weight)
        keep = sample_weight > 0  # liblinear drops the samples of zero weight
        if not np.all(keep):
            X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0
        y_index = np.searchsorted(self.classes_, y)
        rng = check_random_state(self.random_state)
        if crammer_singer:
            self._fit_crammer_singer(X, y_index, sample_weight, class_weight, bias, rng)
            return self
        n_rows = 1 if n_classes == 2 else n_classes
        seeds = rng.randint(_MAX_SEED, size=n_rows, dtype=np.int64)
        W = np.empty((n_rows, X.shape[1] + 1))
        n_iter = np.empty(n_rows, dtype=np.int64)
        for k in range(n_rows):
            positive = 1 if n_rows == 1 else k
            is_pos = y_index == positive
            y_pm = np.where(is_pos, 1.0, -1.0)
            if n_rows == 1:
                c_pos, c_neg = class_weight[1], class_weight[0]
            else:
                c_pos, c_neg = class_weight[k], 1.0
            cost = self.C * sample_weight * np.where(is_pos, c_pos, c_neg)
            W[k], n_iter[k] = _fit_binary(X, y_pm, cost, bias, solver, self.tol,
                                          self.max_iter, seeds[k])
            if self.verbose:
                print(f"[LinearSVC] problem {k + 1}/{n_rows} ({solver}): "
                      f"{n_iter[k]} iterations")
        self.n_iter_ = int(n_iter.max())
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                "Liblinear failed to converge, increase the number of iterations.",
                ConvergenceWarning,
            )
        self.coef_ = W[:, :-1].copy()
        self.intercept_ = bias * W[:, -1] if self.fit_intercept else 0.0
        return self

    def _fit_crammer_singer(self, X, y_index, sample_weight, class_weight, bias, rng):
        """One joint multi-class problem (liblinear's sequential dual method)."""
        n_classes = self.classes_.shape[0]
        cost = self.C * sample_weight * class_weight[y_index]
        seed = rng.randint(_MAX_SEED, dtype=np.int64)
        state = np.array([seed], dtype=np.uint64)
        if sp.issparse(X):
            rows = (np.empty((0, 0)), X.data, X.indices, X.indptr, True)
        else:
            rows = (X, np.empty(0), np.empty(0, np.int32), np.zeros(1, np.int32), False)
        W = np.empty((X.shape[1] + 1, n_classes))
        # as in scikit-learn, the solver runs up to liblinear's own limit and
        # ``max_iter`` only decides the ConvergenceWarning
        self.n_iter_ = int(_liblinear_fast._mcsvm_cs(
            *rows, float(bias), y_index.astype(np.intp), cost, W, float(self.tol),
            _CS_MAX_ITER, state))
        if self.verbose:
            print(f"[LinearSVC] crammer_singer: {self.n_iter_} iterations")
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                "Liblinear failed to converge, increase the number of iterations.",
                ConvergenceWarning,
            )
        W = W.T
        coef, intercept = W[:, :-1].copy(), bias * W[:, -1]
        if n_classes == 2:  # scikit-learn keeps the difference of the two rows
            coef = (coef[1] - coef[0]).reshape(1, -1)
            intercept = np.array([intercept[1] - intercept[0]])
        self.coef_ = coef
        self.intercept_ = intercept if self.fit_intercept else 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
