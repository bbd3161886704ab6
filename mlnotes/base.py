r"""Shared bases: :class:`TorchEstimator` (the training loop) and :class:`DensityMixin`.

Every torch model of mlnotes (the networks of chapters 15-17, the density models of
chapters 48-52) is a :class:`TorchEstimator`: the base owns mini-batching, the
optimisers, learning-rate schedules, stopping rules, early stopping, the loss curve,
progress output, the device, seeding and pickling. A model file only says what its
network is and what it minimises, through a few hooks:

``_module_spec(X, Y)``
    The constructor arguments of the network, from the data (sizes) and the
    hyperparameters; stored as ``_module_spec_`` so that a pickled model can rebuild
    its network.
``_build_module(**spec)``
    The :class:`torch.nn.Module`.
``_init_module(module, random_state)``
    Optional: initialise the parameters from a numpy RandomState (the default keeps
    torch's own initialisation, drawn from a seeded fork of torch's RNG).
``_batch_loss(module, X, Y, sample_weight, weight_sum)``
    The data term of the objective on one mini-batch: a weighted *mean* over the
    samples (``sum(w_i * loss_i) / weight_sum``). A loss that samples (the noise of a
    VAE or a diffusion model) draws from ``self._generator``, a
    :class:`torch.Generator` on the training device seeded from ``random_state``
    that exists during ``fit``.
``_validation_score(module, X, Y, sample_weight)``
    Optional: the score early stopping maximises on the held-out part (default: minus
    the mean loss).
``_target_tensor(Y, dtype, device)``
    Optional: the tensor the loss compares against (default: ``Y`` as a float tensor).
``_loss_and_gradients(module)``
    Optional: a function returning a mini-batch's loss and gradients computed by hand,
    used by the stochastic solvers instead of autograd on ``_batch_loss`` (default
    ``None``: autograd). The multilayer perceptron's plain network uses it.

The model's public ``fit`` validates its input, encodes targets, then calls
:meth:`TorchEstimator._fit_torch`; predict-time methods call
:meth:`TorchEstimator._predict_torch`, which runs the network in evaluation mode and
float64 so that each row's output does not depend on the other rows of the batch.
"""

import math
import sys
import warnings
from abc import ABCMeta, abstractmethod
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
import scipy
import scipy.optimize
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.base import DensityMixin as _SKDensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from mlnotes import _fastpaths
from mlnotes.utils._random import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from mlnotes.utils._lazy import lazy_module
from mlnotes.utils._torch import (
    DEFER,
    as_tensor,
    blas_threads,
    check_device,
    clip_gradients,
    inference_device,
    load_numpy_state,
    local_torch_rng,
    make_generator,
    module_flops,
    module_state_to_numpy,
    torch_dtype,
    torch_seed,
    torch_threads,
    wrap_torch_threads,
)

__all__ = ["DensityMixin", "TorchEstimator"]

# imported by the first fit, predict or unpickling, not by `import mlnotes.base`: the
# torch estimators import without torch (mlnotes/utils/_lazy.py)
torch = lazy_module("torch", globals())

# Rows per forward pass at predict time (bounds the memory of large predictions; rows
# are independent, so the chunking does not change the result).
_PREDICT_CHUNK = 65536
_SCIPY_HAS_IPRINT = tuple(int(v) for v in scipy.__version__.split(".")[:2]) < (1, 15)
# torch's private fused optimiser kernels: a fast path (mlnotes/_fastpaths.py); read
# when an optimiser is built (module attributes _FUSED_ADAM / _FUSED_SGD, see
# __getattr__ below, for the tests)
_FUSED_NAMES = {"_FUSED_ADAM": "_fused_adam_", "_FUSED_SGD": "_fused_sgd_"}
# Public methods that run torch: each chooses its intra-op thread count and restores
# the caller's torch.get_num_threads() (mlnotes.utils._torch.torch_threads).
_THREADED_METHODS = (
    "fit", "partial_fit", "predict", "predict_proba", "predict_log_proba",
    "decision_function", "score", "score_samples", "sample", "transform",
    "inverse_transform", "fit_transform", "fit_predict",
)


def __getattr__(name):
    """``_FUSED_ADAM`` / ``_FUSED_SGD``: whether torch has the fused kernel (imports torch)."""
    if name in _FUSED_NAMES:
        return hasattr(torch, _FUSED_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _TorchDevices(Options):
    """Parameter constraint: an instance of :class:`torch.device`, without importing torch.

    A value can only be a ``torch.device`` once torch is imported, so the check looks
    torch up in ``sys.modules``. (An ``Options`` subclass because scikit-learn's
    ``make_constraint`` accepts only its own constraint classes.)
    """

    def __init__(self):
        super().__init__(object, set())

    def is_satisfied_by(self, val):
        torch_module = sys.modules.get("torch")
        return torch_module is not None and isinstance(val, torch_module.device)

    def __str__(self):
        return "an instance of 'torch.device'"


class DensityMixin(_SKDensityMixin):
    """Mixin for density estimators: the ``density_estimator`` tag and ``score``.

    A density estimator implements ``score_samples(X)``, the log-density (continuous
    models) or log-probability mass (discrete models) of each row, in nats; ``score``
    is their mean.
    """

    def score(self, X, y=None):
        """Mean log-likelihood of the samples, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            ``mean(score_samples(X))``.
        """
        return float(np.mean(self.score_samples(X)))


# ------------------------------------------------------------------------- optimisers


class _Adam:
    r"""Adam exactly as scikit-learn's MLP applies it (bias-corrected step size).

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v +
    (1-\beta_2) g^2`, :math:`\theta \leftarrow \theta - \eta_t m / (\sqrt v +
    \epsilon)` with :math:`\eta_t = \eta \sqrt{1-\beta_2^t} / (1-\beta_1^t)`. On CPU
    and CUDA this is one fused kernel per step (torch's fused Adam, with its
    :math:`\epsilon` rescaled so the two updates coincide); elsewhere, foreach ops;
    with the fast paths off (``MLNOTES_DISABLE_FASTPATHS=1``), public tensor methods,
    one tensor at a time.
    """

    def __init__(self, params, learning_rate, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate
        self.learning_rate = float(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.ms = [torch.zeros_like(p) for p in params]
        self.vs = [torch.zeros_like(p) for p in params]
        self._step = torch.zeros((), dtype=torch.float32, device=params[0].device)
        self._fused = hasattr(torch, "_fused_adam_")

    def step(self, params, grads):
        self.t += 1
        bc2 = 1.0 - self.beta_2**self.t
        if not _fastpaths.enabled():
            lr_t = self.learning_rate * math.sqrt(bc2) / (1.0 - self.beta_1**self.t)
            for p, g, m, v in zip(params, grads, self.ms, self.vs):
                m.lerp_(g, 1.0 - self.beta_1)
                v.mul_(self.beta_2).addcmul_(g, g, value=1.0 - self.beta_2)
                p.addcdiv_(m, v.sqrt().add_(self.epsilon), value=-lr_t)
            return
        if self._fused:
            grads = _dense_like_params(grads)
            self._step.fill_(self.t)
            try:
                torch._fused_adam_(
                    params, grads, self.ms, self.vs, [], [self._step] * len(params),
                    lr=self.learning_rate, beta1=self.beta_1, beta2=self.beta_2,
                    weight_decay=0.0, eps=self.epsilon / math.sqrt(bc2), amsgrad=False,
                    maximize=False,
                )
                return
            except (RuntimeError, NotImplementedError):  # pragma: no cover - exotic device
                self._fused = False
                self.t -= 1
                return self.step(params, grads)
        lr_t = self.learning_rate * math.sqrt(bc2) / (1.0 - self.beta_1**self.t)
        torch._foreach_lerp_(self.ms, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(self.vs, self.beta_2)
        torch._foreach_addcmul_(self.vs, grads, grads, value=1.0 - self.beta_2)
        denom = torch._foreach_sqrt(self.vs)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_addcdiv_(params, self.ms, denom, value=-lr_t)

    def set_learning_rate(self, value):
        self.learning_rate = float(value)

    def to(self, device, dtype):
        self.ms = [m.to(device=device, dtype=dtype) for m in self.ms]
        self.vs = [v.to(device=device, dtype=dtype) for v in self.vs]
        self._step = self._step.to(device)
        return self

    def __getstate__(self):
        state = dict(self.__dict__)
        state["ms"] = [m.detach().cpu().numpy() for m in self.ms]
        state["vs"] = [v.detach().cpu().numpy() for v in self.vs]
        state["_step"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.ms = [torch.from_numpy(np.array(m)) for m in self.ms]
        self.vs = [torch.from_numpy(np.array(v)) for v in self.vs]
        self._step = torch.zeros((), dtype=torch.float32)
        self._fused = hasattr(torch, "_fused_adam_")


class _SGD:
    r"""SGD with (Nesterov) momentum exactly as scikit-learn's MLP applies it.

    scikit-learn keeps a velocity :math:`v \leftarrow \mu v - \eta g` and steps
    :math:`\theta \leftarrow \theta + v` (Nesterov: :math:`\theta \leftarrow \theta +
    \mu v - \eta g`). torch's fused SGD keeps :math:`b = -v / \eta` instead; the two
    agree step for step, and when the learning rate changes (``invscaling``,
    ``adaptive``) the buffer is rescaled so that the velocity is kept, as in
    scikit-learn.
    """

    def __init__(self, params, learning_rate, momentum, nesterov):
        self.learning_rate_init = learning_rate
        self.learning_rate = float(learning_rate)
        self.momentum, self.nesterov = momentum, nesterov
        self.bufs = [torch.zeros_like(p) for p in params] if momentum > 0 else []
        self._fused = hasattr(torch, "_fused_sgd_")

    def step(self, params, grads):
        lr, mu = self.learning_rate, self.momentum
        if not _fastpaths.enabled():
            for i, (p, g) in enumerate(zip(params, grads)):
                if mu == 0:
                    p.add_(g, alpha=-lr)
                    continue
                buf = self.bufs[i].mul_(mu).add_(g)
                if self.nesterov:
                    p.add_(g, alpha=-lr).add_(buf, alpha=-lr * mu)
                else:
                    p.add_(buf, alpha=-lr)
            return
        if mu == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        if self._fused:
            grads = _dense_like_params(grads)
            try:
                torch._fused_sgd_(
                    params, grads, self.bufs, weight_decay=0.0, momentum=mu, lr=lr,
                    dampening=0.0, nesterov=self.nesterov, maximize=False,
                    is_first_step=False,
                )
                return
            except (RuntimeError, NotImplementedError):  # pragma: no cover
                self._fused = False
        torch._foreach_mul_(self.bufs, mu)
        torch._foreach_add_(self.bufs, grads)
        if self.nesterov:
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_add_(params, self.bufs, alpha=-lr * mu)
        else:
            torch._foreach_add_(params, self.bufs, alpha=-lr)

    def set_learning_rate(self, value):
        value = float(value)
        if self.bufs and value != self.learning_rate and value > 0:
            torch._foreach_mul_(self.bufs, self.learning_rate / value)
        self.learning_rate = value

    def to(self, device, dtype):
        self.bufs = [b.to(device=device, dtype=dtype) for b in self.bufs]
        return self

    def __getstate__(self):
        state = dict(self.__dict__)
        state["bufs"] = [b.detach().cpu().numpy() for b in self.bufs]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.bufs = [torch.from_numpy(np.array(b)) for b in self.bufs]
        self._fused = hasattr(torch, "_fused_sgd_")


class _Schedule:
    """Learning-rate schedule and stopping decisions, as scikit-learn's optimisers.

    ``constant``, ``invscaling`` and ``adaptive`` act on SGD only (Adam keeps its
    rate), exactly as in scikit-learn; ``cosine`` (an mlnotes addition) anneals either
    solver's rate from ``learning_rate_init`` to 0 over ``max_iter`` epochs.
    """

    def __init__(self, optimizer, kind, solver, learning_rate_init, power_t, max_iter):
        self.optimizer, self.kind, self.solver = optimizer, kind, solver
        self.learning_rate_init, self.power_t, self.max_iter = (
            learning_rate_init, power_t, max_iter)
        self.epoch = 0

    def iteration_ends(self, time_step):
        self.epoch += 1
        if self.kind == "cosine":
            frac = min(self.epoch / self.max_iter, 1.0)
            self.optimizer.set_learning_rate(
                0.5 * self.learning_rate_init * (1.0 + math.cos(math.pi * frac)))
        elif self.solver == "sgd" and self.kind == "invscaling":
            self.optimizer.set_learning_rate(
                self.learning_rate_init / (time_step + 1) ** self.power_t)

    def trigger_stopping(self, msg, verbose):
        if self.solver != "sgd" or self.kind != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.optimizer.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.optimizer.set_learning_rate(self.optimizer.learning_rate / 5.0)
        if verbose:
            print(msg + " Setting learning rate to %f" % self.optimizer.learning_rate)
        return False


# --------------------------------------------------------------------------- the base


class TorchEstimator(BaseEstimator, metaclass=ABCMeta):
    r"""Base class of the torch estimators: one training loop for every model.

    Subclasses declare their hyperparameters in their own ``__init__`` (scikit-learn
    style) and implement the hooks listed in the module docstring; the loop reads the
    training hyperparameters below by name, with these defaults where a subclass does
    not have them.

    Parameters
    ----------
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Optimiser. ``"adam"`` and ``"sgd"`` (with ``momentum`` and
        ``nesterovs_momentum``) take mini-batch steps; ``"lbfgs"`` minimises the
        full-batch objective with scipy's L-BFGS-B (``max_iter`` iterations,
        ``max_fun`` evaluations, gradient tolerance ``tol``).
    alpha : float, default=0.0
        L2 penalty, added to the mean loss of a batch as
        :math:`\frac{\alpha}{2 s}\sum_l \|W_l\|_F^2` with :math:`s` the batch's total
        sample weight (its size without weights), as scikit-learn's MLP does. Only
        the matrices/kernels (parameters of two or more dimensions) are penalised.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        Schedule (see :class:`mlnotes.neural_network.MLPClassifier`).
    learning_rate_init : float, default=0.001
        Initial step size.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Epochs (stochastic solvers) or iterations (``"lbfgs"``).
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Everything random in ``fit``. The numpy RandomState
        ``check_random_state(random_state)`` draws the initialisation (where the
        model defines ``_init_module``), the early-stopping split and the shuffles,
        in scikit-learn's order, so an MLP starts from scikit-learn's weights and
        sees its batches; a seed derived from it seeds a fork of torch's global RNG
        (dropout masks, torch's default layer initialisation) and the local
        generator ``self._generator``. The caller's global torch RNG is unchanged.
    tol : float, default=1e-4
        Improvement below which an epoch counts as "no change".
    verbose : bool or int, default=False
        Print one line per epoch.
    warm_start : bool, default=False
        Continue from the previous fit.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Nesterov's variant of the momentum step.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the validation
        score stops improving; the best weights are kept.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's denominator offset.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping.
    max_fun : int, default=15000
        ``"lbfgs"``: maximum number of loss evaluations.
    weight_decay : float, default=0.0
        Decoupled weight decay (AdamW, Loshchilov & Hutter):
        :math:`W \leftarrow (1 - \eta\lambda) W` after each step, on the penalised
        parameters.
    gradient_clipping : float or None, default=None
        Rescale each mini-batch gradient to this global L2 norm when it is larger.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (float64, evaluation mode).
    n_iter_ : int
        Epochs (or L-BFGS iterations) run by the last call.
    t_ : int
        Training samples seen by the stochastic solver.
    loss_ : float
        Objective at the last epoch.
    loss_curve_ : list of float
        Objective at each epoch (stochastic solvers).
    best_loss_ : float or None
        Smallest objective seen (None with early stopping).
    validation_scores_ : list of float or None
        Validation score at each epoch (early stopping only).
    best_validation_score_ : float or None
        Best validation score (early stopping only).
    """

    _training_constraints = {
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "gradient_clipping": [Interval(Real, 0, None, closed="neither"), None],
        "device": [str, _TorchDevices()],
    }

    # scikit-learn's MLP warns when batch_size exceeds the number of samples; models
    # whose default batch size is an int (not "auto") clip it silently.
    _warn_batch_clipping = True

    _training_defaults = dict(
        solver="adam", alpha=0.0, batch_size="auto", learning_rate="constant",
        learning_rate_init=1e-3, power_t=0.5, max_iter=200, shuffle=True,
        random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
        nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
        beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
        weight_decay=0.0, gradient_clipping=None, device="cpu", standardize=False,
    )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        wrap_torch_threads(cls, _THREADED_METHODS, work=_method_work)

    # -- hooks (override in the model) ---------------------------------------------

    @abstractmethod
    def _module_spec(self, X, Y):
        """Constructor arguments of the network, from the data and hyperparameters."""

    @abstractmethod
    def _build_module(self, **spec):
        """The :class:`torch.nn.Module` for ``spec``."""

    def _init_module(self, module, random_state):
        """Initialise the parameters (default: torch's own initialisation)."""

    @abstractmethod
    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        """Data term of the objective on a batch: a weighted mean over its rows."""

    def _loss_and_gradients(self, module):
        """Mini-batch loss and gradients written by hand for ``module``, or ``None``.

        ``None`` (the default): the stochastic solvers differentiate
        :meth:`_batch_loss` with autograd. Otherwise a function
        ``f(X, Y, sample_weight, weight_sum) -> (loss, gradients)`` returning what
        :meth:`_batch_loss` and autograd would, the gradients in the order of the
        module's trainable parameters.
        """
        return None

    def _loss_report_scale(self):
        """Factor from the optimised data term to the reported ``loss_`` (default 1)."""
        return 1.0

    def _target_tensor(self, Y, dtype, device):
        return None if Y is None else as_tensor(Y, dtype=dtype, device=device)

    def _validation_score(self, module, X, Y, sample_weight):
        """Score early stopping maximises: minus the weighted mean loss."""
        weight_sum = float(X.shape[0] if sample_weight is None else sample_weight.sum())
        return -float(self._batch_loss(module, X, Y, sample_weight, weight_sum))

    def _penalized_parameters(self, module):
        """Parameters under the L2 penalty and weight decay: matrices and kernels."""
        return [p for p in module.parameters() if p.ndim >= 2]

    def _standardization(self, X, sample_weight):
        """``(mean, scale)`` of shape (n_features,) for ``standardize=True``.

        Weighted mean and standard deviation of each feature (constant features get
        scale 1). Sparse input is scaled but not centred (mean 0), which keeps it
        sparse, as :class:`~sklearn.preprocessing.StandardScaler` does with
        ``with_mean=False``.
        """
        n = X.shape[0]
        w = np.full(n, 1.0 / n) if sample_weight is None else \
            sample_weight / sample_weight.sum()
        if scipy.sparse.issparse(X):
            mean = np.asarray(X.T @ w).ravel()
            var = np.asarray(X.multiply(X).T @ w).ravel() - mean**2
            scale = np.sqrt(np.maximum(var, 0.0))
            mean = np.zeros_like(mean)
        else:
            mean = w @ X
            scale = np.sqrt(w @ (X - mean) ** 2)
        scale[scale < 10 * np.finfo(scale.dtype).eps * np.maximum(1.0, np.abs(mean))] = 1.0
        return mean, scale

    # -- helpers ------------------------------------------------------------------

    def _hp(self, name):
        return getattr(self, name, self._training_defaults[name])

    def _preprocess(self, X):
        """Apply the input standardisation learned in ``fit`` (if any)."""
        mean = getattr(self, "_input_mean_", None)
        if mean is None:
            return X
        scale = self._input_scale_.astype(X.dtype, copy=False)
        if scipy.sparse.issparse(X):
            if not np.any(mean):
                return X.multiply(1.0 / scale).tocsr().astype(X.dtype)
            X = X.toarray()
        return (X - mean.astype(X.dtype, copy=False)) / scale

    # -- fit ----------------------------------------------------------------------

    def _fit_torch(self, X, Y, sample_weight=None, *, incremental=False, stratify=None):
        """Train ``module_`` on validated arrays (the model's ``fit`` calls this).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32 or float64
            Validated input; its dtype is the training precision.
        Y : ndarray of shape (n_samples, ...) or None
            Encoded targets (None for unsupervised models).
        sample_weight : ndarray of shape (n_samples,) or None
            Validated non-negative weights.
        incremental : bool
            ``partial_fit``: one epoch, keep the optimiser.
        stratify : ndarray or None
            Labels to stratify the early-stopping split by.
        """
        first_pass = not hasattr(self, "module_") or (
            not self._hp("warm_start") and not incremental)
        device = check_device(self._hp("device"))
        dtype = torch_dtype(X.dtype)
        solver = self._hp("solver")
        rng = check_random_state(self._hp("random_state"))
        seed = torch_seed(self._hp("random_state") if isinstance(
            self._hp("random_state"), Integral) else rng)

        if first_pass:
            if self._hp("standardize"):
                mean, scale = self._standardization(X, sample_weight)
                self._input_mean_, self._input_scale_ = mean, scale
            else:
                self._input_mean_ = self._input_scale_ = None
        X = self._preprocess(X)

        # For losses that sample (noise, time steps): a local generator, decorrelated
        # from the forked global RNG that dropout uses; only present during fit.
        self._generator = make_generator((seed + 0x9E3779B9) % (2**31 - 1), device)
        with local_torch_rng(seed, device):
            if first_pass:
                self._module_spec_ = self._module_spec(X, Y)
                module = self._build_module(**self._module_spec_)
                self._init_module(module, rng)
                self.n_iter_ = 0
                self.t_ = 0
                self._optimizer = None
                if solver != "lbfgs":
                    self.loss_curve_ = []
                    self._no_improvement_count = 0
                    if self._hp("early_stopping"):
                        self.validation_scores_ = []
                        self.best_validation_score_ = -np.inf
                        self.best_loss_ = None
                    else:
                        self.best_loss_ = np.inf
                        self.validation_scores_ = None
                        self.best_validation_score_ = None
            else:
                module = self.module_
            module.to(device=device, dtype=dtype)
            self._device_ = str(device)
            batch = self._hp("batch_size")
            batch = X.shape[0] if solver == "lbfgs" else min(
                X.shape[0], 200 if batch == "auto" else batch)
            try:
                with torch_threads(_forward_work(module, batch, X.shape[1])) as n, \
                        (blas_threads(n) if device.type == "cpu" else nullcontext()):
                    if solver == "lbfgs":
                        self._fit_lbfgs(module, X, Y, sample_weight, dtype, device)
                    else:
                        self._fit_stochastic(module, X, Y, sample_weight, dtype, device,
                                             rng, incremental, stratify)
            except BaseException:
                if first_pass:  # a failed first fit leaves no half-trained model
                    self.__dict__.pop("module_", None)
                raise
            finally:
                module.eval()
                module.to(dtype=torch.float64)
                del self._generator
        self.module_ = module
        self._after_fit()
        return self

    def _after_fit(self):
        """Set model-specific fitted attributes from ``module_`` (after fit and load)."""

    def _batch_size(self, n_samples):
        batch_size = self._hp("batch_size")
        if batch_size == "auto":
            return min(200, n_samples)
        if batch_size > n_samples and self._warn_batch_clipping:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going "
                "to be clipped"
            )
        return int(np.clip(batch_size, 1, n_samples))

    def _make_optimizer(self, params):
        solver = self._hp("solver")
        if solver == "sgd":
            opt = _SGD(params, self._hp("learning_rate_init"), self._hp("momentum"),
                       self._hp("nesterovs_momentum"))
        else:
            opt = _Adam(params, self._hp("learning_rate_init"), self._hp("beta_1"),
                        self._hp("beta_2"), self._hp("epsilon"))
        schedule = _Schedule(opt, self._hp("learning_rate"), solver,
                             self._hp("learning_rate_init"), self._hp("power_t"),
                             self._hp("max_iter"))
        return opt, schedule

    def _loss_exploded(self, loss):
        """Whether a finite epoch loss means the fit has diverged all the same (a hook:
        never, here; the flows say so when their likelihood collapses)."""
        return False

    def _diverged(self, loss, detail=""):
        raise ValueError(
            f"The fit diverged: the training loss became {loss}{detail} at epoch "
            f"{self.n_iter_ + 1}. Use a smaller learning_rate_init (now "
            f"{self._hp('learning_rate_init')!r}), standardise the input, or clip the "
            "gradients (gradient_clipping)."
        )

    def _fit_stochastic(self, module, X, Y, sample_weight, dtype, device, rng,
                        incremental, stratify):
        params = [p for p in module.parameters() if p.requires_grad]
        pen_ids = {id(p) for p in self._penalized_parameters(module)}
        pen_idx = [i for i, p in enumerate(params) if id(p) in pen_ids]
        # Detached views share the parameters' storage: the optimiser and the penalty
        # update and read them in place without recording anything for autograd.
        weights = [p.detach() for p in params]
        penalized = [weights[i] for i in pen_idx]
        if not incremental or self._optimizer is None:
            self._optimizer = self._make_optimizer(weights)
        optimizer, schedule = self._optimizer
        optimizer.to(device, dtype)

        early_stopping = self._hp("early_stopping")
        if early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if early_stopping:
            arrays = [X] + ([] if Y is None else [Y]) + (
                [] if sample_weight is None else [sample_weight])
            parts = train_test_split(*arrays, random_state=rng,
                                     test_size=self._hp("validation_fraction"),
                                     stratify=stratify)
            X_train, X_val = parts[0], parts[1]
            rest = parts[2:]
            if Y is not None:
                Y_train, Y_val, rest = rest[0], rest[1], rest[2:]
            else:
                Y_train = Y_val = None
            sw_train, sw_val = (rest[0], rest[1]) if rest else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or "
                    "the size of your dataset."
                )
            X_val_t = _dense_tensor(X_val, dtype, device)
            Y_val_t = self._target_tensor(Y_val, dtype, device)
            sw_val_t = None if sw_val is None else as_tensor(sw_val, dtype, device)
        else:
            X_train, Y_train, sw_train = X, Y, sample_weight

        n_samples = X_train.shape[0]
        batch_size = self._batch_size(n_samples)
        starts = list(range(0, n_samples, batch_size))
        counts = [min(batch_size, n_samples - s) for s in starts]
        sparse = scipy.sparse.issparse(X_train)
        if sparse:  # rows are densified batch by batch
            X_train = scipy.sparse.csr_matrix(X_train)
            Xt = None
        else:
            Xt = as_tensor(X_train, dtype=dtype, device=device)
        Yt = self._target_tensor(Y_train, dtype, device)
        swt = None if sw_train is None else as_tensor(sw_train, dtype=dtype, device=device)
        sample_idx = np.arange(n_samples)

        alpha = float(self._hp("alpha"))
        weight_decay = float(self._hp("weight_decay"))
        clip = self._hp("gradient_clipping")
        verbose = self._hp("verbose")
        shuffle = self._hp("shuffle")
        max_iter = self._hp("max_iter")
        tol = self._hp("tol")
        n_iter_no_change = self._hp("n_iter_no_change")
        report_scale = float(self._loss_report_scale())
        batch_loss = self._batch_loss
        by_hand = self._loss_and_gradients(module)
        autograd_grad = torch.autograd.grad
        foreach_add_ = torch._foreach_add_
        # mlnotes.parallel.fit_distributed: this process computes the gradient of its
        # shard of each global batch and the shards' gradients are summed (all-reduce)
        sync = self.__dict__.get("_data_parallel")
        if sync is not None:
            sync.broadcast(weights)

        if early_stopping:
            best_state = [t.detach().clone() for t in module.state_dict().values()]
        module.train()
        self.n_iter_ = 0
        try:
            for _ in range(max_iter):
                if shuffle:
                    perm = np.arange(n_samples)
                    rng.shuffle(perm)
                    sample_idx = sample_idx[perm]
                    idx_t = torch.from_numpy(sample_idx).to(device)
                    Xe = X_train[sample_idx] if sparse else Xt.index_select(0, idx_t)
                    Ye = None if Yt is None else Yt.index_select(0, idx_t)
                    swe = None if swt is None else swt.index_select(0, idx_t)
                else:
                    Xe, Ye, swe = (X_train if sparse else Xt), Yt, swt
                if sw_train is None:
                    sums = counts
                else:
                    sums = np.add.reduceat(sw_train[sample_idx], starts).tolist()
                data_acc = torch.zeros((), dtype=dtype, device=device)
                reg_acc = [torch.zeros((), dtype=dtype, device=device) for _ in penalized] \
                    if alpha > 0 else None
                for start, count, wsum in zip(starts, counts, sums):
                    if wsum <= 0:
                        continue  # every sample of the batch has weight zero
                    stop = start + count
                    if sync is not None:  # this process's rows of the batch
                        start, stop = sync.shard(start, stop)
                    xb = _dense_tensor(Xe[start:stop], dtype, device) if sparse \
                        else Xe[start:stop]
                    yb = None if Ye is None else Ye[start:stop]
                    swb = None if swe is None else swe[start:stop]
                    if by_hand is not None:
                        loss, grads = by_hand(xb, yb, swb, wsum)
                    else:
                        loss = batch_loss(module, xb, yb, swb, wsum)
                        grads = list(autograd_grad(loss, params))
                    if sync is not None:  # sums of the shards' gradients and losses
                        loss = sync.all_reduce(loss, grads)
                    if alpha > 0:
                        norms = torch._foreach_norm(penalized)
                        torch._foreach_addcmul_(reg_acc, norms, norms,
                                                value=0.5 * alpha * count / wsum)
                        foreach_add_([grads[i] for i in pen_idx], penalized,
                                     alpha=alpha / wsum)
                    if clip is not None:
                        clip_gradients(grads, clip)
                    if weight_decay > 0:
                        torch._foreach_mul_(
                            penalized, 1.0 - optimizer.learning_rate * weight_decay)
                    optimizer.step(weights, grads)
                    data_acc.add_(loss.detach(), alpha=count)
                total = data_acc * report_scale
                if reg_acc:
                    total = total + torch.stack(reg_acc).sum()
                loss_value = float(total) / n_samples
                if not math.isfinite(loss_value) or self._loss_exploded(loss_value):
                    self._diverged(loss_value)

                self.n_iter_ += 1
                self.loss_ = loss_value
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                    sys.stdout.flush()

                if early_stopping:
                    module.eval()
                    with torch.no_grad():
                        score = self._validation_score(module, X_val_t, Y_val_t, sw_val_t)
                    module.train()
                    self.validation_scores_.append(score)
                    if verbose:
                        print("Validation score: %f" % score)
                    if score < self.best_validation_score_ + tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                    if score > self.best_validation_score_:
                        self.best_validation_score_ = score
                        best_state = [t.detach().clone()
                                      for t in module.state_dict().values()]
                else:
                    if self.loss_curve_[-1] > self.best_loss_ - tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                    if self.loss_curve_[-1] < self.best_loss_:
                        self.best_loss_ = self.loss_curve_[-1]

                schedule.iteration_ends(self.t_)

                if self._no_improvement_count > n_iter_no_change:
                    if early_stopping:
                        msg = ("Validation score did not improve more than tol=%f for %d "
                               "consecutive epochs." % (tol, n_iter_no_change))
                    else:
                        msg = ("Training loss did not improve more than tol=%f for %d "
                               "consecutive epochs." % (tol, n_iter_no_change))
                    if schedule.trigger_stopping(msg, verbose):
                        break
                    self._no_improvement_count = 0

                if incremental:
                    break

                if self.n_iter_ == max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                        "optimization hasn't converged yet." % max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        if early_stopping:
            with torch.no_grad():
                for t, best in zip(module.state_dict().values(), best_state):
                    t.copy_(best)

    def _lbfgs_objective(self, module, X, Y, sample_weight, weight_sum, alpha):
        """Optional fast full-batch objective for ``"lbfgs"`` on the CPU.

        Return None (the default: autograd is used) or a function of the flat
        float64 parameter vector (parameters in ``module.parameters()`` order)
        returning ``(objective, gradient, reported_loss)``.
        """
        return None

    def _fit_lbfgs(self, module, X, Y, sample_weight, dtype, device):
        params = [p for p in module.parameters() if p.requires_grad]
        pen_ids = {id(p) for p in self._penalized_parameters(module)}
        shapes = [p.shape for p in params]
        sizes = [p.numel() for p in params]
        wsum = float(X.shape[0] if sample_weight is None else sample_weight.sum())
        alpha = float(self._hp("alpha"))
        report_scale = float(self._loss_report_scale())
        module.train()

        objective = None
        if device.type == "cpu":
            objective = self._lbfgs_objective(module, X, Y, sample_weight, wsum, alpha)
        if objective is None:
            Xt = _dense_tensor(X, dtype, device)
            Yt = self._target_tensor(Y, dtype, device)
            swt = None if sample_weight is None else as_tensor(sample_weight, dtype,
                                                               device)

            def objective(theta):
                flat = torch.from_numpy(theta).to(device=device, dtype=dtype)
                with torch.no_grad():
                    for p, chunk, shape in zip(params, torch.split(flat, sizes), shapes):
                        p.copy_(chunk.view(shape))
                loss = self._batch_loss(module, Xt, Yt, swt, wsum)
                reg = sum((p * p).sum() for p in params if id(p) in pen_ids) \
                    if alpha > 0 else torch.zeros((), dtype=dtype, device=device)
                total = loss + (0.5 * alpha / wsum) * reg
                grads = torch.autograd.grad(total, params)
                reg = float(reg.detach()) * 0.5 * alpha / wsum
                grad = torch.cat([g.reshape(-1) for g in grads]).to(
                    device="cpu", dtype=torch.float64).numpy()
                return (float(total.detach()), grad,
                        float(loss.detach()) * report_scale + reg)

        def fun(theta):
            value, grad, self.loss_ = objective(theta)
            return value, grad

        theta0 = torch.cat([p.detach().reshape(-1) for p in params]).to(
            device="cpu", dtype=torch.float64).numpy()
        options = {"maxfun": self._hp("max_fun"), "maxiter": self._hp("max_iter"),
                   "gtol": self._hp("tol")}
        if _SCIPY_HAS_IPRINT:  # pragma: no cover - old scipy
            options["iprint"] = 1 if self._hp("verbose") else -1
        result = scipy.optimize.minimize(fun, theta0, method="L-BFGS-B", jac=True,
                                         options=options)
        max_iter = self._hp("max_iter")
        self.n_iter_ = min(result.nit, max_iter)
        if result.status != 0:
            msg = (f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                   f"(status={result.status}):\n{result.message}\n")
            if self.n_iter_ == max_iter:
                msg += ("\nIncrease the number of iterations to improve the convergence "
                        f"(max_iter={max_iter}).")
            msg += ("\nYou might also want to scale the data as shown in:\n"
                    "    https://scikit-learn.org/stable/modules/preprocessing.html")
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        fun(result.x)  # loss_ at the solution
        flat = torch.from_numpy(result.x)
        with torch.no_grad():
            for p, chunk, shape in zip(params, torch.split(flat, sizes), shapes):
                p.copy_(chunk.view(shape))
        if not math.isfinite(self.loss_):
            self._diverged(self.loss_)

    # -- predict ------------------------------------------------------------------

    def _predict_torch(self, X, forward=None):
        """Run the trained network on validated ``X`` in float64; return numpy.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Validated input (the fitted standardisation is applied here).
        forward : callable, default=None
            ``forward(module, X_tensor) -> tensor``; default ``module(X_tensor)``.

        Returns
        -------
        out : ndarray
            The output, float64, row ``i`` a function of ``X[i]`` alone.
        """
        check_is_fitted(self, "module_")
        if scipy.sparse.issparse(X):
            X = scipy.sparse.csr_matrix(X, dtype=np.float64)
            chunk = max(1, min(_PREDICT_CHUNK, 2**24 // max(X.shape[1], 1)))
        else:
            X = np.asarray(X, dtype=np.float64)
            chunk = _PREDICT_CHUNK
        X = self._preprocess(X)
        device = inference_device(getattr(self, "_device_", "cpu"))
        module = self.module_
        if next(iter(module.parameters()), torch.empty(0)).device != device:
            module.to(device)
        module.eval()
        forward = forward if forward is not None else (lambda m, x: m(x))
        outs = []
        work = _forward_work(module, min(chunk, max(X.shape[0], 1)), X.shape[1])
        with torch_threads(work) as n, torch.inference_mode(), \
                (blas_threads(n) if device.type == "cpu" else nullcontext()):
            for start in range(0, max(X.shape[0], 1), chunk):
                xb = _dense_tensor(X[start:start + chunk], torch.float64, device)
                outs.append(forward(module, xb).to("cpu").numpy())
        return outs[0] if len(outs) == 1 else np.concatenate(outs)

    # -- pickling -----------------------------------------------------------------

    def __getstate__(self):
        state = dict(super().__getstate__())
        module = state.pop("module_", None)
        if module is not None:
            state["_module_state_"] = module_state_to_numpy(module)
        return state

    def __setstate__(self, state):
        state = dict(state)
        module_state = state.pop("_module_state_", None)
        super().__setstate__(state)
        if module_state is not None:
            with local_torch_rng(0):  # layer constructors draw from torch's RNG
                module = self._build_module(**self._module_spec_)
            module.to(torch.float64)
            load_numpy_state(module, module_state,
                             inference_device(getattr(self, "_device_", "cpu")))
            module.eval()
            self.module_ = module
            self._after_fit()


def _method_work(estimator):
    """Thread-choice work estimate of a public method, before it runs.

    Before the first fit there is no network to size: ``DEFER`` leaves the choice to
    the training loop's block (``_fit_torch``), which knows the network and batch, so
    a fit that ends up on the caller's thread count never switches away and back.
    A fitted network is sized at the training batch (``batch_size``, 200 for
    ``"auto"``): a refit or a predict then starts on the count its inner block will
    choose for a batch of that size.
    """
    module = estimator.__dict__.get("module_")
    n_features = getattr(estimator, "n_features_in_", None)
    if module is None or n_features is None:
        return DEFER
    batch = estimator._hp("batch_size")
    batch = batch if isinstance(batch, Integral) else 200
    return _forward_work(module, batch, n_features)


def _forward_work(module, batch, n_features):
    """Estimated flops of a forward pass of ``batch`` rows (for the thread choice).

    A convolution is counted at every input position: ``n_features`` divided by the
    input channels of the first convolution (an upper bound: pooling shrinks maps).
    A module whose dense layers run at every position of a sequence (class attribute
    ``dense_per_position``: the transformer) counts them ``n_features`` times.
    """
    if getattr(module, "dense_per_position", False):
        return module_flops(module, batch * max(int(n_features), 1))
    first_conv = next((m for m in module.modules()
                       if isinstance(m, torch.nn.modules.conv._ConvNd)), None)
    spatial = 1 if first_conv is None else max(1, n_features // first_conv.in_channels)
    return module_flops(module, batch, spatial)


def _dense_like_params(grads):
    """Contiguous gradients: torch's fused optimiser kernels ignore strides.

    A gradient that autograd returns with a permuted layout (after an ``einsum`` or a
    transpose) would otherwise be applied to the wrong entries of the parameter.
    """
    return [g if g.is_contiguous() else g.contiguous() for g in grads]


def _dense_tensor(X, dtype, device):
    """A dense tensor of ``X`` (a scipy sparse block is densified)."""
    if scipy.sparse.issparse(X):
        X = X.toarray()
    return as_tensor(X, dtype=dtype, device=device)
