r"""Multi-layer perceptrons (chapter 15 of the notes) and their training tricks (ch. 16).

The training loop is :class:`mlnotes.base.TorchEstimator`'s; this file holds the
estimators, the network's initialisation and the losses. The network
(``_MLPModule``) is in ``_networks.py``, imported when a network is built: importing
this module does not import torch (mlnotes/utils/_lazy.py).
"""

from itertools import pairwise
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from scipy import special
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from mlnotes.base import TorchEstimator
from mlnotes.utils._lazy import lazy_module

torch = lazy_module("torch", globals())
F = lazy_module("torch.nn.functional", globals(), "F")


def __getattr__(name):
    """The network classes, importing torch (``_mlp._MLPModule`` for old imports)."""
    if name in ("_MLPModule", "_ACTIVATIONS"):
        from . import _networks

        return getattr(_networks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _OptimizerPair(tuple):
    """``(optimizer, schedule)``, with the current step size as ``learning_rate``.

    scikit-learn's own tests read ``mlp._optimizer.learning_rate`` (its private
    optimiser object) to check the ``invscaling``/``adaptive`` schedules.
    """

    __slots__ = ()

    @property
    def learning_rate(self):
        """The optimiser's current step size."""
        return self[0].learning_rate


def _init_dense(weight, bias, init, activation, rng):
    """Fill ``(fan_in, fan_out)`` ``weight`` and ``bias`` from the numpy ``rng``.

    ``"glorot"`` is scikit-learn's draw, in its order: weights then biases,
    uniform in :math:`\\pm\\sqrt{6 / (n_{in} + n_{out})}` (:math:`\\sqrt 2` instead of
    :math:`\\sqrt 6` for the logistic activation). ``"he"``: weights uniform in
    :math:`\\pm\\sqrt{6 / n_{in}}`, biases zero.
    """
    fan_in, fan_out = weight.shape[0], weight.shape[1]
    if init == "he":
        bound = np.sqrt(6.0 / fan_in)
        w = rng.uniform(-bound, bound, (fan_in, fan_out))
        b = np.zeros(fan_out)
    else:
        factor = 2.0 if activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        w = rng.uniform(-bound, bound, (fan_in, fan_out))
        b = rng.uniform(-bound, bound, fan_out)
    with torch.no_grad():
        weight.copy_(torch.from_numpy(w))
        bias.copy_(torch.from_numpy(b))


def _full_batch_objective(X, Y, sample_weight, weight_sum, units, activation,
                          out_activation, alpha, report_scale):
    r"""Objective and gradient of a plain MLP on the whole data set, by hand.

    Back-propagation written out (chapter 15): with :math:`a_0 = X`,
    :math:`a_l = \sigma(a_{l-1} W_l + b_l)` and output :math:`z`, the error at the
    output is :math:`\delta_L = \partial J / \partial z = (p - y) / s` (each row
    scaled by its weight) for the canonical output/loss pairs (softmax and
    cross-entropy, sigmoid and binary cross-entropy, identity and squared error,
    exp and Poisson deviance); then :math:`\nabla_{W_l} J = a_{l-1}^\top \delta_l +
    \frac{\alpha}{s} W_l`, :math:`\nabla_{b_l} J = \mathbf 1^\top \delta_l` and
    :math:`\delta_{l-1} = (\delta_l W_l^\top) \odot \sigma'(a_{l-1})`.

    ``"lbfgs"`` evaluates this function hundreds of times on the full data; numpy's
    BLAS and no autograd bookkeeping make it cheaper than the autograd graph there.
    Returns ``f(theta) -> (objective, gradient, reported loss)`` over the parameters
    packed as scikit-learn packs them (weights, then biases).
    """
    shapes = [(a, b) for a, b in pairwise(units)]
    offsets, start = [], 0
    for shape in shapes:
        offsets.append((start, start + shape[0] * shape[1], shape))
        start += shape[0] * shape[1]
    bias_offsets = []
    for _, b in shapes:
        bias_offsets.append((start, start + b))
        start += b
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    scale = (np.full(n, 1.0 / weight_sum) if sample_weight is None
             else np.asarray(sample_weight, dtype=np.float64) / weight_sum)
    rows = np.arange(n)
    n_layers = len(shapes)
    poisson_const = (special.xlogy(Y, Y) - Y).sum(1) if out_activation == "exp" else None
    # Work arrays allocated once: a fresh (n, units) array per call would be
    # mmap-ed and faulted in again at every evaluation, which costs as much as the
    # matrix products themselves.
    acts_buf = [np.empty((n, b)) for _, b in shapes]
    delta_buf = [np.empty((n, b)) for _, b in shapes]
    deriv_buf = [np.empty((n, b)) for _, b in shapes[:-1]]

    def objective(theta):
        Ws = [theta[a:b].reshape(shape) for a, b, shape in offsets]
        bs = [theta[a:b] for a, b in bias_offsets]
        acts = [X]
        for i in range(n_layers):
            z = acts_buf[i]
            np.matmul(acts[-1], Ws[i], out=z)
            z += bs[i]
            if i < n_layers - 1:
                if activation == "relu":
                    np.maximum(z, 0, out=z)
                elif activation == "tanh":
                    np.tanh(z, out=z)
                elif activation == "logistic":
                    special.expit(z, out=z)
            acts.append(z)
        z = acts.pop()
        delta = delta_buf[-1]
        if out_activation == "softmax":
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=delta)
            total = delta.sum(axis=1)
            per_sample = np.log(total) - z[rows, Y]
            delta /= total[:, None]
            delta[rows, Y] -= 1.0
        elif out_activation == "logistic":
            per_sample = (np.logaddexp(0.0, z) - Y * z).sum(axis=1)
            special.expit(z, out=delta)
            delta -= Y
        elif out_activation == "exp":
            np.exp(z, out=delta)
            per_sample = (delta - Y * z).sum(axis=1) + poisson_const
            delta -= Y
        else:
            np.subtract(z, Y, out=delta)
            per_sample = 0.5 * np.einsum("ij,ij->i", delta, delta)
        data = float(per_sample @ scale)
        delta *= scale[:, None]
        grad = np.empty_like(theta)
        reg = 0.0
        for i in range(n_layers - 1, -1, -1):
            a, b, shape = offsets[i]
            g_w = grad[a:b].reshape(shape)
            np.matmul(acts[i].T, delta, out=g_w)
            if alpha > 0:
                g_w += (alpha / weight_sum) * Ws[i]
                reg += float(np.einsum("ij,ij->", Ws[i], Ws[i]))
            c, d = bias_offsets[i]
            np.sum(delta, axis=0, out=grad[c:d])
            if i > 0:
                previous = delta_buf[i - 1]
                if shape[1] == 1:  # an outer product: broadcasting beats a k=1 GEMM
                    np.multiply(delta, Ws[i][:, 0], out=previous)
                else:
                    np.matmul(delta, Ws[i].T, out=previous)
                h, deriv = acts[i], deriv_buf[i - 1]
                if activation == "relu":
                    np.greater(h, 0, out=deriv)
                    previous *= deriv
                elif activation == "tanh":
                    np.multiply(h, h, out=deriv)
                    np.subtract(1.0, deriv, out=deriv)
                    previous *= deriv
                elif activation == "logistic":
                    np.subtract(1.0, h, out=deriv)
                    deriv *= h
                    previous *= deriv
                delta = previous
        reg *= 0.5 * alpha / weight_sum
        return data + reg, grad, data * report_scale + reg

    return objective


def _scaled_rows(delta, sample_weight, weight_sum):
    """``delta`` with row i times ``sample_weight[i] / weight_sum`` (in place)."""
    if sample_weight is None:
        return delta.div_(weight_sum)
    return delta.mul_((sample_weight / weight_sum)[:, None])


_MLP_CONSTRAINTS = {
    **TorchEstimator._training_constraints,
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
    "init": [StrOptions({"glorot", "he"})],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
    "standardize": ["boolean"],
}


class _BaseMLP(TorchEstimator):
    """What MLPClassifier and MLPRegressor share: the network, its init, fit."""

    _parameter_constraints = dict(_MLP_CONSTRAINTS)

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _module_spec(self, X, Y):
        units = [X.shape[1]] + self._hidden_sizes() + [self.n_outputs_]
        return dict(layer_units=units, activation=self.activation,
                    dropout=float(self.dropout), batch_norm=bool(self.batch_norm))

    def _build_module(self, **spec):
        from ._networks import _MLPModule

        return _MLPModule(**spec)

    def _init_module(self, module, random_state):
        start = self.__dict__.get("_start_weights")
        if start is not None:  # continue from coefs_/intercepts_ the user set
            coefs, intercepts = start
            expected = [tuple(w.shape) for w in module.weights]
            given = [np.shape(c) for c in coefs]
            if given != expected or [np.shape(b) for b in intercepts] != [
                    (w[1],) for w in expected]:
                raise ValueError(
                    f"coefs_/intercepts_ set on the estimator have shapes {given} "
                    f"and {[np.shape(b) for b in intercepts]}; the network "
                    f"{module.units} needs coefs_ of shapes {expected}."
                )
            with torch.no_grad():
                for weight, bias, c, b in zip(module.weights, module.biases,
                                              coefs, intercepts):
                    weight.copy_(torch.as_tensor(np.asarray(c, dtype=np.float64)))
                    bias.copy_(torch.as_tensor(np.asarray(b, dtype=np.float64)))
            return
        for weight, bias in zip(module.weights, module.biases):
            _init_dense(weight, bias, self.init, self.activation, random_state)

    def _make_optimizer(self, params):
        return _OptimizerPair(super()._make_optimizer(params))

    def _lbfgs_objective(self, module, X, Y, sample_weight, weight_sum, alpha):
        from ._networks import _MLPModule

        if type(module) is not _MLPModule or module.norms is not None:
            return None  # batch norm (or another network): autograd
        if scipy.sparse.issparse(X):
            X = X.toarray()
        return _full_batch_objective(
            X, Y, sample_weight, weight_sum, module.units, self.activation,
            self.out_activation_, alpha, self._loss_report_scale())

    def _loss_and_gradients(self, module):
        """Back-propagation by hand (:meth:`_MLPModule.loss_and_gradients`) for the
        plain network; batch norm and dropout keep autograd.

        Each output/loss pair is canonical (softmax and cross-entropy, sigmoid and
        binary cross-entropy, identity and squared error, exp and Poisson deviance),
        so :math:`\\partial J / \\partial z` is the mean prediction minus the target,
        row by row, times the row's weight over the batch's weight sum: the heads'
        ``_output_error`` returns it with :meth:`_batch_loss`'s loss.
        """
        from ._networks import _MLPModule

        if (type(module) is not _MLPModule or module.norms is not None
                or module.dropout > 0
                or not all(p.requires_grad for p in module.parameters())):
            return None
        output_error = self._output_error

        def loss_and_gradients(X, Y, sample_weight, weight_sum):
            return module.loss_and_gradients(
                X, lambda z: output_error(z, Y, sample_weight, weight_sum))

        return loss_and_gradients

    def _after_fit(self):
        module = self.module_
        dtype = getattr(self, "_coef_dtype", np.float64)
        self.coefs_ = [w.detach().cpu().numpy().astype(dtype, copy=False)
                       for w in module.weights]
        self.intercepts_ = [b.detach().cpu().numpy().astype(dtype, copy=False)
                            for b in module.biases]

    def _set_architecture(self, X):
        self.n_layers_ = len(self._hidden_sizes()) + 2

    def _fit(self, X, y, sample_weight=None, incremental=False):
        self._hidden_sizes()  # validates hidden_layer_sizes
        first_pass = not hasattr(self, "module_") or (
            not self.warm_start and not incremental)
        if self.solver == "lbfgs" and self.dropout > 0:
            raise ValueError(
                "dropout > 0 makes the objective random, which L-BFGS cannot "
                "minimise; use solver='adam' or 'sgd', or dropout=0."
            )
        X, Y, stratify = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            # negative weights are accepted, as scikit-learn does; the loss is divided
            # by their sum, which must therefore be positive
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
            if not sample_weight.sum() > 0:
                raise ValueError(
                    f"sample_weight must have a positive sum (the loss is the weighted "
                    f"mean); got sum {sample_weight.sum()!r}."
                )
        # scikit-learn keeps the stochastic solvers' weights in the input's dtype
        # (float32 coefs_ for float32 X); its L-BFGS returns float64 weights
        self._coef_dtype = np.float64 if self.solver == "lbfgs" else X.dtype
        n_outputs = self._n_outputs(Y)
        if first_pass:
            self.n_outputs_ = n_outputs
            self.out_activation_ = self._out_activation()
            self._set_architecture(X)
        elif n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} outputs but the network was fitted with "
                f"{self.n_outputs_}; refit with warm_start=False."
            )
        # scikit-learn continues from coefs_/intercepts_ whenever they exist and the
        # fit is warm or incremental, also when a user set them by hand (its
        # test_fit): without a torch module yet, build it from them
        if ((incremental or self.warm_start) and "module_" not in self.__dict__
                and hasattr(self, "coefs_") and hasattr(self, "intercepts_")
                and not self.batch_norm):
            self._start_weights = (list(self.coefs_), list(self.intercepts_))
        try:
            self._fit_torch(X, Y, sample_weight, incremental=incremental,
                            stratify=stratify)
        finally:
            self.__dict__.pop("_start_weights", None)
        if not all(torch.isfinite(p).all() for p in self.module_.parameters()):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed. (The fit diverged: use a "
                "smaller learning_rate_init or standardise the input.)"
            )
        return self

    def _diverged(self, loss):
        if self.early_stopping and self.solver != "lbfgs":
            # as scikit-learn: training goes on (the validation scores become NaN)
            # and the best weights seen on the validation set are restored at the end
            return
        # scikit-learn's message first (its tests match it), then the remedies
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may contain "
            f"large values and need to be preprocessed. (The fit diverged: the training "
            f"loss became {loss} at epoch {self.n_iter_ + 1}; use a smaller "
            f"learning_rate_init (now {self.learning_rate_init!r}), standardise the "
            "input, or clip the gradients (gradient_clipping).)"
        )

    def _check_solver(self):
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets (class labels, or a label-indicator matrix for multi-label
            classification; real numbers in regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights: the loss of each batch is their weighted mean. Negative
            weights are accepted, as in scikit-learn; their sum must be positive.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# ----------------------------------------------------------------------- classifier


class _ClassifierHead:
    """Targets, loss and predictions of a neural-network classifier.

    Labels are binarised as scikit-learn's MLP does (:class:`LabelBinarizer`): more
    than two classes give a softmax output trained with the cross-entropy, two
    classes a single logistic unit, a label-indicator matrix one logistic unit per
    label (multi-label); the losses are computed from the logits
    (``cross_entropy``, ``binary_cross_entropy_with_logits``), the probabilities in
    float64 at predict time.
    """

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True,
                             accept_sparse=["csr", "csc"],
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as "
                        f"in the previous call to fit. Previously got {self.classes_}, "
                        f"`y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        Yb = self._label_binarizer.transform(y).astype(bool)
        stratify = Yb if Yb.shape[1] == 1 else None
        if self._label_binarizer.y_type_ == "multiclass":
            Y = Yb.argmax(axis=1).astype(np.int64)
        else:
            Y = Yb.astype(X.dtype)
        return X, Y, stratify

    def _n_outputs(self, Y):
        return len(self.classes_) if Y.ndim == 1 else Y.shape[1]

    def _out_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _target_tensor(self, Y, dtype, device):
        if Y is None:
            return None
        if Y.ndim == 1:
            return torch.as_tensor(Y, dtype=torch.int64).to(device)
        return torch.as_tensor(Y).to(device=device, dtype=dtype)

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        return self._output_loss(module(X), Y, sample_weight, weight_sum)

    def _output_loss(self, z, Y, sample_weight, weight_sum):
        if Y.ndim == 1:  # softmax over classes
            if sample_weight is None:  # over weight_sum (the whole batch's size) and
                # not the rows given: the mean of a data-parallel shard is a part of it
                return F.cross_entropy(z, Y, reduction="sum") / weight_sum
            return F.cross_entropy(z, Y, reduction="none").dot(sample_weight) / weight_sum
        weight = None if sample_weight is None else sample_weight[:, None]
        return F.binary_cross_entropy_with_logits(z, Y, weight=weight,
                                                  reduction="sum") / weight_sum

    def _output_error(self, z, Y, sample_weight, weight_sum):
        if Y.ndim != 1:  # sigmoid minus the labels
            return (self._output_loss(z, Y, sample_weight, weight_sum),
                    _scaled_rows(torch.sigmoid(z).sub_(Y), sample_weight, weight_sum))
        # softmax minus the one-hot labels. The log-softmax runs on the transposed
        # view: over a few classes torch's kernel along the outer dimension took 8 us
        # and along the rows 29 us (200 x 10, float64, one thread)
        log_p = torch.log_softmax(z.t(), 0).t()
        log_p_true = log_p.gather(1, Y[:, None])[:, 0]
        loss = -(log_p_true.sum() if sample_weight is None
                 else log_p_true.dot(sample_weight)) / weight_sum
        delta = log_p.exp()
        delta.scatter_add_(1, Y[:, None], delta.new_full((len(Y), 1), -1.0))
        return loss, _scaled_rows(delta, sample_weight, weight_sum)

    def _validation_score(self, module, X, Y, sample_weight):
        z = module(X)
        if Y.ndim == 1:
            pred, true = z.argmax(1).cpu().numpy(), Y.cpu().numpy()
        else:
            pred, true = (z > 0).cpu().numpy(), Y.cpu().numpy().astype(bool)
            if pred.shape[1] == 1:
                pred, true = pred.ravel(), true.ravel()
        sw = None if sample_weight is None else sample_weight.cpu().numpy()
        return float(accuracy_score(true, pred, sample_weight=sw))

    def _proba_forward(self, module, X):
        z = module(X)
        if self.out_activation_ == "softmax":  # on the transposed view: see _output_error
            return torch.softmax(z.t(), 0).t().contiguous()
        return torch.sigmoid(z)

    def _proba_raw(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=(np.float64, np.float32), reset=False)
        return self._predict_torch(X, self._proba_forward)

    def predict(self, X):
        """Predict the class labels (or label sets, for multi-label targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        proba = self._proba_raw(X)
        if self.n_outputs_ == 1:
            proba = proba.ravel()
        return self._label_binarizer.inverse_transform(proba)

    def predict_proba(self, X):
        """Probability estimates, computed in float64.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The probability of each class (columns in the order of ``classes_``);
            for multi-label targets, the probability of each label.
        """
        proba = self._proba_raw(X)
        if self.n_outputs_ == 1:
            p = proba.ravel()
            return np.vstack([1 - p, p]).T
        return proba

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates, ``log(predict_proba(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The log-probability of each class.
        """
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights (negative ones accepted, with a positive sum).
        classes : array-like of shape (n_classes,), default=None
            All the classes of the problem, required on the first call (``y`` need
            not contain all of them).

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)


class MLPClassifier(_ClassifierHead, ClassifierMixin, _BaseMLP):
    r"""Multi-layer perceptron classifier, trained in torch (scikit-learn's API).

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: same
    parameters, defaults, fitted attributes, initialisation (the same
    ``random_state`` gives the same initial weights and batch order), the same
    optimisers step for step, and the same stopping rules. The training loop runs in
    torch (one fused optimiser kernel per step); extra parameters add the training
    tricks of chapter 16.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Number of units of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        ``"adam"`` (Kingma & Ba) and ``"sgd"`` take mini-batch steps; ``"lbfgs"``
        minimises the full-batch objective with scipy's L-BFGS-B (often better on
        small data sets).
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the batch size (the batch's weight
        sum with ``sample_weight``) when added to its mean loss.
    batch_size : int or "auto", default="auto"
        Mini-batch size of the stochastic solvers; ``"auto"`` is
        ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Step-size schedule. As in scikit-learn, ``"invscaling"``
        (:math:`\eta_t = \eta_0 / (t+1)^{p}`, ``t`` the samples seen, updated every
        epoch) and ``"adaptive"`` (divide by 5 whenever ``n_iter_no_change`` epochs
        bring no improvement of ``tol``; stop below 1e-6) apply to ``"sgd"`` only.
        ``"cosine"`` (mlnotes) anneals either solver's rate as
        :math:`\eta_0 (1 + \cos(\pi\, e / \text{max\_iter})) / 2` after epoch ``e``.
    learning_rate_init : float, default=0.001
        Initial step size (``"sgd"``, ``"adam"``).
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Maximum number of epochs (``"sgd"``, ``"adam"``) or iterations
        (``"lbfgs"``).
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, early-stopping split, batch order and dropout masks. An int
        reproduces scikit-learn's initial weights and batch order; the caller's
        global torch RNG is left unchanged (dropout runs on a seeded fork of it).
    tol : float, default=1e-4
        Tolerance of the stopping rules: training stops when the loss (or the
        validation score) does not improve by ``tol`` for ``n_iter_no_change``
        consecutive epochs; for ``"lbfgs"`` the gradient tolerance.
    verbose : bool, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        Continue from the weights of the previous ``fit``.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (``"sgd"`` with ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for single-label
        targets) and stop when the validation accuracy does not improve by ``tol``
        for ``n_iter_no_change`` epochs; the weights of the best epoch are kept.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping (stochastic solvers).
    max_fun : int, default=15000
        Maximum number of loss evaluations of ``"lbfgs"``.
    init : {"glorot", "he"}, default="glorot"
        Weight initialisation (chapter 16). ``"glorot"`` is scikit-learn's
        (uniform, variance :math:`2 / (n_{in} + n_{out})`, keeping activations and
        gradients of tanh/logistic layers at a constant scale); ``"he"`` draws
        uniform weights of variance :math:`2 / n_{in}` and zero biases, the scale
        that keeps ReLU activations from shrinking layer after layer.
    dropout : float, default=0.0
        Probability of zeroing each hidden unit during training (inverted dropout,
        Srivastava et al.): an implicit ensemble of thinned networks that reduces
        over-fitting; no effect at predict time.
    batch_norm : bool, default=False
        Normalise each hidden layer's pre-activations over the mini-batch, then
        scale and shift them (Ioffe & Szegedy). Smooths the loss surface and allows
        larger steps. At predict time the running averages are used, so a row's
        prediction does not depend on the other rows.
    weight_decay : float, default=0.0
        Decoupled weight decay (AdamW, Loshchilov & Hutter): after each step,
        :math:`W \leftarrow (1 - \eta\lambda) W`. Unlike ``alpha``, whose gradient
        Adam rescales per coordinate, it shrinks every weight at the same rate.
    gradient_clipping : float, default=None
        Rescale each mini-batch gradient to this global L2 norm when it is larger,
        which keeps a rare huge gradient from throwing the weights far away.
    standardize : bool, default=False
        Standardise the features (weighted mean 0, variance 1, learned in the first
        ``fit``) inside the estimator: gradient steps then see well-conditioned
        inputs, whatever the units of the features.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``. A model fitted on a GPU unpickles and predicts on a
        machine without one.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    loss_ : float
        The loss (with the L2 term) at the last epoch.
    best_loss_ : float or None
        The minimum loss reached (None with early stopping; stochastic solvers).
    loss_curve_ : list of shape (n_iter_,)
        The loss at each epoch (stochastic solvers).
    validation_scores_ : list of shape (n_iter_,) or None
        Validation accuracy at each epoch (early stopping only).
    best_validation_score_ : float or None
        Best validation accuracy (early stopping only).
    t_ : int
        Number of training samples seen by the stochastic solver.
    coefs_ : list of shape (n_layers - 1,)
        Weight matrices, ``coefs_[i]`` of shape ``(fan_in, fan_out)``; in the dtype
        of the training data for ``"sgd"``/``"adam"`` (float32 for float32 ``X``),
        float64 for ``"lbfgs"``, as in scikit-learn.
    intercepts_ : list of shape (n_layers - 1,)
        Bias vectors.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Number of epochs (iterations for ``"lbfgs"``) run.
    n_layers_ : int
        Number of layers (input and output included).
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        Output activation: ``"softmax"`` or ``"logistic"``.
    module_ : torch.nn.Module
        The trained network (float64, evaluation mode).

    See Also
    --------
    MLPRegressor : Multi-layer perceptron regressor.
    CNNClassifier : Convolutional network for images given as flat rows.

    Notes
    -----
    Chapter 15 of the notes (neural networks), chapter 16 (training tricks). With
    :math:`a_0 = x`, hidden layers :math:`a_l = \sigma(a_{l-1} W_l + b_l)` and
    output :math:`z = a_{L-1} W_L + b_L`, the network minimises on each mini-batch
    :math:`B` the weighted cross-entropy plus the L2 term

    .. math::

        J(W, b) = \frac{1}{s_B} \sum_{i \in B} s_i\, \ell(y_i, z_i)
            + \frac{\alpha}{2 s_B} \sum_l \|W_l\|_F^2, \qquad
        s_B = \sum_{i \in B} s_i ,

    with :math:`\ell(y, z) = -\log \mathrm{softmax}(z)_y` for several classes and
    the binary cross-entropy of :math:`\mathrm{sigmoid}(z)` summed over the units
    otherwise. Gradients come from back-propagation (torch's autograd); since
    softmax/sigmoid and the cross-entropy are a canonical pair,
    :math:`\partial \ell / \partial z = p - y`.

    The weights and the training loop run in the dtype of ``X`` (float32 input
    trains in float32, as scikit-learn does, and ``coefs_`` are then float32); the
    trained network is kept in float64, so ``predict_proba`` is computed in float64.
    The stochastic solvers differentiate with torch's autograd and step with one
    fused optimiser kernel; ``"lbfgs"``, which evaluates the full-batch objective
    hundreds of times, uses back-propagation written out in numpy for the plain
    network (the same values; autograd with ``batch_norm``).
    Sparse input (CSR/CSC) is accepted and densified one mini-batch at a time (the
    whole matrix for ``"lbfgs"``).

    References
    ----------
    D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning representations by
    back-propagating errors", *Nature* 323, 1986.

    X. Glorot and Y. Bengio, "Understanding the difficulty of training deep
    feedforward neural networks", AISTATS 2010.

    K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers", ICCV 2015.

    D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization", ICLR 2015.

    N. Srivastava et al., "Dropout: a simple way to prevent neural networks from
    overfitting", JMLR 15, 2014.

    S. Ioffe and C. Szegedy, "Batch normalization", ICML 2015.

    I. Loshchilov and F. Hutter, "Decoupled weight decay regularization", ICLR 2019.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.model_selection import train_test_split
    >>> from mlnotes.neural_network import MLPClassifier
    >>> X, y = make_classification(n_samples=100, random_state=1)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y,
    ...                                                     random_state=1)
    >>> clf = MLPClassifier(random_state=1, max_iter=300).fit(X_train, y_train)
    >>> clf.predict_proba(X_test[:1]).round(2)
    array([[0.04, 0.96]])
    >>> clf.predict(X_test[:5, :])
    array([1, 0, 1, 0, 1])
    >>> round(clf.score(X_test, y_test), 2)
    0.88
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        init="glorot",
        dropout=0.0,
        batch_norm=False,
        weight_decay=0.0,
        gradient_clipping=None,
        standardize=False,
        device="cpu",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.weight_decay = weight_decay
        self.gradient_clipping = gradient_clipping
        self.standardize = standardize
        self.device = device

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Only for the stochastic solvers (``"sgd"``, ``"adam"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights (negative ones accepted, with a positive sum).
        classes : array-like of shape (n_classes,), default=None
            All the classes of the problem, required on the first call (``y`` need
            not contain all of them).

        Returns
        -------
        self : object
            The updated estimator.
        """
        return _ClassifierHead.partial_fit(self, X, y, sample_weight, classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


# ------------------------------------------------------------------------ regressor


class MLPRegressor(RegressorMixin, _BaseMLP):
    r"""Multi-layer perceptron regressor, trained in torch (scikit-learn's API).

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`: same
    parameters, defaults, fitted attributes, initialisation and optimisers step for
    step; extra parameters add the training tricks of chapter 16 (see
    :class:`MLPClassifier` for them and for the shared parameters).

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        Half squared error (identity output), or half Poisson deviance with a log
        link (exponential output; needs ``y >= 0``).
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Number of units of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        Optimiser (see :class:`MLPClassifier`).
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the batch size.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Step-size schedule (see :class:`MLPClassifier`).
    learning_rate_init : float, default=0.001
        Initial step size.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Maximum number of epochs (iterations for ``"lbfgs"``).
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, early-stopping split, batch order, dropout masks.
    tol : float, default=1e-4
        Tolerance of the stopping rules.
    verbose : bool, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        Continue from the weights of the previous ``fit``.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum.
    early_stopping : bool, default=False
        Stop when the validation :math:`R^2` stops improving (best weights kept).
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of ``"lbfgs"``.
    init : {"glorot", "he"}, default="glorot"
        Weight initialisation.
    dropout : float, default=0.0
        Dropout probability of the hidden units during training.
    batch_norm : bool, default=False
        Batch normalisation of the hidden layers.
    weight_decay : float, default=0.0
        Decoupled weight decay.
    gradient_clipping : float, default=None
        Maximum global L2 norm of a mini-batch gradient.
    standardize : bool, default=False
        Standardise the features inside the estimator.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    loss_ : float
        The loss (with the L2 term) at the last epoch.
    best_loss_ : float or None
        The minimum loss reached (None with early stopping).
    loss_curve_ : list of shape (n_iter_,)
        The loss at each epoch (stochastic solvers).
    validation_scores_ : list of shape (n_iter_,) or None
        Validation :math:`R^2` at each epoch (early stopping only).
    best_validation_score_ : float or None
        Best validation :math:`R^2` (early stopping only).
    t_ : int
        Number of training samples seen by the stochastic solver.
    coefs_ : list of shape (n_layers - 1,)
        Weight matrices, ``coefs_[i]`` of shape ``(fan_in, fan_out)``; in the dtype
        of the training data for ``"sgd"``/``"adam"`` (float32 for float32 ``X``),
        float64 for ``"lbfgs"``, as in scikit-learn.
    intercepts_ : list of shape (n_layers - 1,)
        Bias vectors.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
    n_iter_ : int
        Number of epochs (iterations for ``"lbfgs"``) run.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        ``"identity"`` or ``"exp"`` (Poisson loss).
    module_ : torch.nn.Module
        The trained network (float64, evaluation mode).

    See Also
    --------
    MLPClassifier : Multi-layer perceptron classifier.

    Notes
    -----
    Chapter 15 of the notes. On each mini-batch :math:`B` the network minimises

    .. math::

        J(W, b) = \frac{1}{2 s_B} \sum_{i \in B} s_i \|y_i - z_i\|_2^2
            + \frac{\alpha}{2 s_B} \sum_l \|W_l\|_F^2 ,

    :math:`z_i` the (identity) output. As in scikit-learn, the reported ``loss_``
    averages the squared error over the outputs, while the gradient is that of their
    sum (the two coincide for one output). Predictions are computed in float64
    and returned in the dtype of ``coefs_``.

    References
    ----------
    D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning representations by
    back-propagating errors", *Nature* 323, 1986.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from mlnotes.neural_network import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=20, random_state=1)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    >>> regr = MLPRegressor(random_state=1, max_iter=2000, tol=0.1)
    >>> regr.fit(X_train, y_train)
    MLPRegressor(max_iter=2000, random_state=1, tol=0.1)
    >>> round(regr.score(X_test, y_test), 2)
    0.98
    """

    _parameter_constraints = {
        **_MLP_CONSTRAINTS,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        init="glorot",
        dropout=0.0,
        batch_norm=False,
        weight_decay=0.0,
        gradient_clipping=None,
        standardize=False,
        device="cpu",
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.weight_decay = weight_decay
        self.gradient_clipping = gradient_clipping
        self.standardize = standardize
        self.device = device

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             accept_sparse=["csr", "csc"],
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' requires non-negative y.")
        Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        return X, Y, None

    def _n_outputs(self, Y):
        return Y.shape[1]

    def _out_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _loss_report_scale(self):
        return 1.0 / self.n_outputs_ if self.loss == "squared_error" else 1.0

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        return self._output_loss(module(X), Y, sample_weight, weight_sum)

    def _output_loss(self, z, Y, sample_weight, weight_sum):
        if self.loss == "poisson":
            per_sample = (torch.exp(z) - Y * z + torch.special.xlogy(Y, Y) - Y).sum(1)
        elif sample_weight is None:
            return F.mse_loss(z, Y, reduction="sum") * (0.5 / weight_sum)
        else:
            per_sample = 0.5 * ((z - Y) ** 2).sum(1)
        if sample_weight is None:
            return per_sample.sum() / weight_sum
        return per_sample.dot(sample_weight) / weight_sum

    def _output_error(self, z, Y, sample_weight, weight_sum):
        residual = (torch.exp(z) if self.loss == "poisson" else z) - Y
        return (self._output_loss(z, Y, sample_weight, weight_sum),
                _scaled_rows(residual, sample_weight, weight_sum))

    def _validation_score(self, module, X, Y, sample_weight):
        pred = self._output_forward(module, X).cpu().numpy()
        if not np.isfinite(pred).all():  # a diverged network scores NaN (scikit-learn)
            return float("nan")
        sw = None if sample_weight is None else sample_weight.cpu().numpy()
        return float(r2_score(Y.cpu().numpy(), pred, sample_weight=sw))

    def _output_forward(self, module, X):
        z = module(X)
        return torch.exp(z) if self.out_activation_ == "exp" else z

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values, computed in float64 and returned in the dtype
            of ``coefs_`` (float32 after a stochastic fit on float32 ``X``).
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=(np.float64, np.float32), reset=False)
        y_pred = self._predict_torch(X, self._output_forward)
        # computed in float64 (row-stable); returned in the weights' dtype, as
        # scikit-learn returns float32 predictions from float32 weights
        y_pred = y_pred.astype(getattr(self, "_coef_dtype", np.float64), copy=False)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Only for the stochastic solvers (``"sgd"``, ``"adam"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights (negative ones accepted, with a positive sum).

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
