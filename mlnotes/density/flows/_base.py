r"""The flow estimator: a composition of transforms over a standard normal base.

:class:`FlowDensity` owns ``fit``, ``score_samples``, ``score`` and ``sample``; a
model file (RealNVP, MAF, Glow, NeuralSplineFlow) only lists its transforms
(``_transforms(n_features, **spec)``) and its hyperparameters.

``fit`` standardises every feature (:math:`\tilde x = (x - m) / s`) and trains the
flow on :math:`\tilde x` by maximum likelihood; the density of :math:`x` adds the
log-determinant of the standardisation,

.. math::

    \log p(x) = \log \mathcal N\big(f(\tilde x); 0, I\big) + \sum_k
    \log\lvert\det J_{f_k}\rvert - \sum_j \log s_j .
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from mlnotes.base import DensityMixin, TorchEstimator
from mlnotes.utils._torch import inference_device

from .._base import _check_n_samples, _sampling_rng

__all__ = ["FlowDensity"]

_LOG_2PI = math.log(2.0 * math.pi)
# nats per feature above the best epoch's loss at which a finite epoch counts as exploded,
# and how many such epochs in a row (or one at the last epoch) make the fit diverged
_DIVERGENCE_NATS = 10.0
_DIVERGENCE_EPOCHS = 5

# The training hyperparameters every flow exposes, with their constraints.
_TRAINING = ("alpha", "weight_decay", "batch_size", "learning_rate", "learning_rate_init",
             "power_t", "max_iter", "shuffle", "random_state", "tol", "verbose",
             "momentum", "nesterovs_momentum", "early_stopping", "validation_fraction",
             "beta_1", "beta_2", "epsilon", "n_iter_no_change", "gradient_clipping",
             "device")


class NonFiniteLogDetError(ValueError):
    """Raised when a transform's log-determinant becomes non-finite during ``fit``."""


class _Flow(nn.Module):
    """``transforms`` composed, data side first; standard normal base."""

    def __init__(self, transforms):
        super().__init__()
        self.transforms = nn.ModuleList(transforms)

    def forward(self, x):
        """``(z, [log_det of each transform])``."""
        log_dets = []
        for t in self.transforms:
            x, ld = t.forward_and_log_det(x)
            log_dets.append(ld)
        return x, log_dets

    def log_prob(self, x):
        z, log_dets = self(x)
        base = -0.5 * (z * z).sum(dim=1) - 0.5 * z.shape[1] * _LOG_2PI
        return base + torch.stack(log_dets, dim=1).sum(dim=1)

    def inverse(self, z):
        for t in reversed(self.transforms):
            z = t.inverse(z)
        return z


def _check_hidden(hidden_layer_sizes):
    sizes = hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if not sizes or not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                            for s in sizes):
        raise ValueError("hidden_layer_sizes must be a non-empty tuple of positive ints; "
                         f"got {hidden_layer_sizes!r}.")
    return tuple(int(s) for s in sizes)


class FlowDensity(DensityMixin, TorchEstimator):
    """Base of the normalising flows (not used directly).

    A subclass declares its hyperparameters (the training ones of
    :class:`~mlnotes.base.TorchEstimator` listed in ``_TRAINING``, plus
    ``n_transforms``, ``hidden_layer_sizes``, ``activation``) and implements
    ``_transforms(n_features, **spec)``, the list of transforms, data side first.
    """

    _flow_constraints = {
        **{k: TorchEstimator._training_constraints[k] for k in _TRAINING},
        "n_transforms": [Interval(Integral, 1, None, closed="left")],
        "fourier_features": [Interval(Integral, 0, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "tanh", "elu"})],
        "solver": [StrOptions({"adam", "sgd"})],
    }

    # train on standardised features (TorchEstimator applies it at predict time too)
    standardize = True
    _warn_batch_clipping = False

    # -- hooks ------------------------------------------------------------------------

    def _transforms(self, n_features, **spec):  # pragma: no cover - abstract
        raise NotImplementedError

    def _extra_spec(self):
        """Model-specific constructor arguments of the transforms (every flow has
        ``fourier_features``; a subclass adds its own to this dict)."""
        return dict(fourier_features=int(self.fourier_features))

    # -- TorchEstimator hooks -----------------------------------------------------------

    def _module_spec(self, X, Y):
        return dict(n_features=int(X.shape[1]), n_transforms=int(self.n_transforms),
                    hidden=_check_hidden(self.hidden_layer_sizes),
                    activation=self.activation, **self._extra_spec())

    def _build_module(self, **spec):
        return _Flow(self._transforms(**spec))

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        z, log_dets = module(X)
        log_det = torch.stack(log_dets, dim=1)
        ll = -0.5 * (z * z).sum(dim=1) - 0.5 * z.shape[1] * _LOG_2PI + log_det.sum(dim=1)
        loss = -ll.sum() / weight_sum
        # one check of the scalar loss per step; a non-finite log-determinant always
        # makes it non-finite, and only then is the culprit looked for
        if not bool(torch.isfinite(loss)) and not bool(torch.isfinite(log_det).all()):
            bad = int(torch.nonzero(~torch.isfinite(log_det).all(dim=0))[0, 0])
            raise NonFiniteLogDetError(
                f"{type(self).__name__}: the log-determinant of transform {bad} "
                f"({type(module.transforms[bad]).__name__}) became non-finite during "
                f"fit (epoch {self.n_iter_ + 1}). Use a smaller learning_rate_init (now "
                f"{self.learning_rate_init!r}), clip the gradients (gradient_clipping) "
                "or check the input for extreme values."
            )
        return loss

    def _exploded_run(self, loss):
        """Epochs in a row, ending with ``loss``, whose mean NLL is more than
        ``_DIVERGENCE_NATS`` per feature above the best epoch's (0: not exploded)."""
        limit = min(self.loss_curve_, default=math.inf) + \
            _DIVERGENCE_NATS * self.n_features_in_
        run = 0
        for value in (loss, *reversed(self.loss_curve_)):
            if not value > limit:
                break
            run += 1
        return run

    def _loss_exploded(self, loss):
        # A likelihood that collapses while staying finite is a divergence too (seen:
        # MAF(n_transforms=6) on the rings, 2.28 nats at epoch 16, 2.5e4 at epoch 21,
        # some rows near -1e9 at the end). A spike that recovers is not (seen:
        # RealNVP(max_iter=150) on the rings, 74 and 606 nats at epochs 15-16 after a
        # best of 2.31, 3.1 at epoch 17, 1.93 at the end, a better held-out fit than at
        # 50 epochs). So the fit stops when exploded epochs run 5 in a row (fewer if
        # n_iter_no_change would stop it sooner) or the last epoch is one.
        run = self._exploded_run(loss)
        patience = min(_DIVERGENCE_EPOCHS, max(int(self.n_iter_no_change), 1))
        return run > 0 and (run >= patience or self.n_iter_ + 1 >= self._hp("max_iter"))

    def _diverged(self, loss, detail=""):
        best = min(self.loss_curve_, default=math.inf)
        if math.isfinite(loss) and math.isfinite(best):
            run = max(self._exploded_run(loss), 1)
            detail = (f" (mean negative log-likelihood; its best epoch reached {best:.4g}; "
                      f"more than {_DIVERGENCE_NATS:g} nats per feature above it for "
                      f"{run} epoch{'s' if run > 1 else ''} in a row)")
        super()._diverged(loss, detail)

    def _validation_score(self, module, X, Y, sample_weight):
        return float(module.log_prob(X).mean())

    # -- public API ---------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the flow by maximum likelihood on the standardised features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = validate_data(self, X, dtype=np.float64)
        _check_hidden(self.hidden_layer_sizes)
        # tiny data: nothing to hold out for early stopping
        n_val = math.ceil(self.validation_fraction * X.shape[0])
        self._tiny_fit = bool(self.early_stopping) and (n_val < 2 or X.shape[0] - n_val < 1)
        try:
            with warnings.catch_warnings():
                if self.learning_rate == "cosine":
                    # a cosine schedule is a fixed budget: reaching max_iter is the plan
                    warnings.filterwarnings("ignore", category=ConvergenceWarning,
                                            message="Stochastic Optimizer")
                return self._fit_torch(X.astype(np.float32), None)
        finally:
            del self._tiny_fit

    def _hp(self, name):
        if name == "early_stopping" and getattr(self, "_tiny_fit", False):
            return False
        return super()._hp(name)

    def _after_fit(self):
        self._log_scale_sum_ = float(np.log(np.asarray(self._input_scale_,
                                                       dtype=np.float64)).sum())

    def score_samples(self, X):
        """Log-density of each row, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            ``log p(x)`` of each row (float64), including the log-determinant of the
            standardisation learned in :meth:`fit`.
        """
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        out = self._predict_torch(X, forward=lambda m, x: m.log_prob(x))
        return out - self._log_scale_sum_

    def sample(self, n_samples=1, random_state=None):
        """Draw rows: base noise through the inverse flow, then un-standardised.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, numpy Generator, RandomState or None, default=None
            Source of the base noise. None means fresh entropy
            (``np.random.default_rng()``), never numpy's global RNG.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The samples (float64).
        """
        check_is_fitted(self, "module_")
        n_samples = _check_n_samples(n_samples)
        rng = _sampling_rng(random_state)
        z = rng.standard_normal((n_samples, self.n_features_in_))
        device = inference_device(getattr(self, "_device_", "cpu"))
        module = self.module_
        module.to(device)
        module.eval()
        with torch.inference_mode():
            x = module.inverse(torch.as_tensor(z, dtype=torch.float64, device=device))
        x = x.to("cpu").numpy()
        return x * self._input_scale_.astype(np.float64) + self._input_mean_.astype(
            np.float64)


# Constraints shared by the model files.
def flow_constraints(**extra):
    """The parameter constraints of a flow with extra model-specific entries."""
    return {**FlowDensity._flow_constraints, **extra}


_REAL_POS = Interval(Real, 0, None, closed="neither")
