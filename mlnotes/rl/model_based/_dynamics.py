r"""Probabilistic ensembles of neural networks for learned dynamics (chapters 34-35).

Each of :math:`E` members is an MLP that outputs a Gaussian over the target,
:math:`\mathcal{N}(\mu_e(x), \operatorname{diag} \sigma_e^2(x))`, and is trained on its
own bootstrap resample of the data by the Gaussian negative log-likelihood

.. math::

    \ell_e = \frac{1}{2} \sum_j \left[\frac{(y_j - \mu_{e,j}(x))^2}{\sigma_{e,j}^2(x)}
    + \log \sigma_{e,j}^2(x)\right]

(Chua et al., 2018, "PETS"). The predicted log-variance is kept between learned bounds
by soft clamps, and a small penalty on those bounds keeps them tight. The spread of the
members' means measures what the data do not determine (epistemic uncertainty); each
member's variance what is random in the system (aleatoric). All members run as one
batched network (weights of shape ``(E, in, out)``), so an ensemble costs about one
network's Python overhead.
"""

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from torch import nn

from mlnotes.base import TorchEstimator

__all__ = ["DynamicsEnsemble"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU, "elu": nn.ELU}


class EnsembleLinear(nn.Module):
    """``E`` independent linear layers applied as one batched product."""

    def __init__(self, n_members, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(n_members, 1, out_features))
        bound = 1.0 / np.sqrt(in_features)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):  # x: (E, B, in)
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """Batched Gaussian MLP ensemble: ``(E, B, in) -> (mean, log_variance)``.

    Parameters
    ----------
    n_members : int
        Ensemble size ``E``.
    n_inputs, n_outputs : int
        Input and target dimensions.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers.
    activation : str
        ``"relu"``, ``"tanh"``, ``"silu"`` or ``"elu"``.
    """

    def __init__(self, n_members, n_inputs, n_outputs, hidden_layer_sizes, activation):
        super().__init__()
        sizes = [n_inputs, *hidden_layer_sizes]
        self.hidden = nn.ModuleList(EnsembleLinear(n_members, a, b)
                                    for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = _ACTIVATIONS[activation]()
        self.head = EnsembleLinear(n_members, sizes[-1], 2 * n_outputs)
        self.max_logvar = nn.Parameter(torch.full((n_outputs,), 0.5))
        self.min_logvar = nn.Parameter(torch.full((n_outputs,), -10.0))
        self.n_members = n_members
        self.n_outputs = n_outputs

    def forward(self, x):
        if x.ndim == 2:
            x = x.unsqueeze(0).expand(self.n_members, -1, -1)
        h = x
        for layer in self.hidden:
            h = self.activation(layer(h))
        out = self.head(h)
        mean, logvar = out[..., :self.n_outputs], out[..., self.n_outputs:]
        logvar = self.max_logvar - F.softplus(self.max_logvar - logvar)
        logvar = self.min_logvar + F.softplus(logvar - self.min_logvar)
        return mean, logvar


def gaussian_nll(mean, logvar, target):
    """Per-member, per-sample Gaussian NLL (without the constant): shape ``(E, B)``."""
    return 0.5 * (((target - mean) ** 2) * torch.exp(-logvar) + logvar).sum(-1)


class TransitionModel(nn.Module):
    """Ensemble model of ``(s, a) -> (s' - s, r)`` with its standardisation, for agents.

    The model of PETS and MBPO: an :class:`EnsembleMLP` on standardised inputs
    ``[s, a]`` and targets ``[s' - s, r]`` (statistics refreshed at every refit, kept as
    buffers so they are saved with the agent), trained by :meth:`fit` on bootstrap
    resamples (one per member) and sampled by :meth:`sample_step`.

    Parameters
    ----------
    obs_dim, act_dim : int
        Observation and action dimensions.
    n_members : int
        Ensemble size.
    net_arch : tuple of int
        Hidden widths of each member.
    activation : str
        Hidden activation.
    learning_rate : float
        Adam's step size.
    weight_decay : float
        Adam's weight decay.
    """

    def __init__(self, obs_dim, act_dim, n_members, net_arch, activation, learning_rate,
                 weight_decay):
        super().__init__()
        self.obs_dim, self.act_dim = int(obs_dim), int(act_dim)
        n_in, n_out = self.obs_dim + self.act_dim, self.obs_dim + 1
        self.model = EnsembleMLP(int(n_members), n_in, n_out,
                                 tuple(int(h) for h in net_arch), activation)
        self.register_buffer("x_mean", torch.zeros(n_in))
        self.register_buffer("x_scale", torch.ones(n_in))
        self.register_buffer("y_mean", torch.zeros(n_out))
        self.register_buffer("y_scale", torch.ones(n_out))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=learning_rate,
                                          weight_decay=weight_decay)

    @staticmethod
    def _inputs_targets(obs, actions, next_obs, rewards):
        """The model's inputs ``[s, a]`` and targets ``[s' - s, r]``, one row a transition."""
        return (np.hstack([obs, actions]),
                np.hstack([next_obs - obs, np.reshape(rewards, (-1, 1))]))

    def _standardise(self, X, Y):
        """``X`` and ``Y`` as float32 tensors standardised by the stored statistics."""
        return ((torch.as_tensor(X, dtype=torch.float32) - self.x_mean) / self.x_scale,
                (torch.as_tensor(Y, dtype=torch.float32) - self.y_mean) / self.y_scale)

    def fit(self, obs, actions, next_obs, rewards, n_epochs, batch_size, rng,
            learning_rate=None, what="the model"):
        """Refit on all transitions: ``n_epochs`` epochs of bootstrapped minibatches.

        Parameters
        ----------
        obs, actions, next_obs : numpy.ndarray of shape (n, dim)
            Transitions.
        rewards : numpy.ndarray of shape (n,)
            Rewards.
        n_epochs, batch_size : int
            Epochs over the data and minibatch size.
        rng : numpy.random.Generator
            Draws the bootstrap rows (each member its own).
        learning_rate : float, default=None
            Sets Adam's step size first (a schedule's current value).
        what : str, default="the model"
            Named in the error raised when the loss is not finite.

        Returns
        -------
        loss : float
            Mean training NLL (standardised targets, without the constant).
        """
        X, Y = self._inputs_targets(obs, actions, next_obs, rewards)
        for name, arr in (("x", X), ("y", Y)):
            mean, scale = arr.mean(axis=0), arr.std(axis=0)
            scale[scale < 1e-8] = 1.0
            getattr(self, f"{name}_mean").copy_(torch.as_tensor(mean))
            getattr(self, f"{name}_scale").copy_(torch.as_tensor(scale))
        Xs, Ys = self._standardise(X, Y)
        n, E = len(X), self.model.n_members
        batch = min(int(batch_size), n)
        if learning_rate is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = float(learning_rate)
        losses = []
        for _ in range(int(n_epochs)):
            for _ in range(max(1, n // batch)):
                idx = torch.as_tensor(rng.integers(0, n, (E, batch)))
                mean, logvar = self.model(Xs[idx])
                loss = gaussian_nll(mean, logvar, Ys[idx]).mean()
                loss = loss + 0.01 * (self.model.max_logvar.sum()
                                      - self.model.min_logvar.sum())
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"Training {what} diverged: the dynamics model's NLL is "
                        f"{loss.item()}; lower the model's learning rate.")
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
        return float(np.mean(losses))

    def holdout_mse(self, obs, actions, next_obs, rewards):
        """Mean squared error of the members' means on held-out transitions.

        In the standardised target units of the last :meth:`fit`, averaged over members,
        rows and targets (the criterion of MBPO's early stopping).

        Parameters
        ----------
        obs, actions, next_obs, rewards : numpy.ndarray
            Held-out transitions, shaped as in :meth:`fit`.

        Returns
        -------
        mse : float
        """
        Xs, Ys = self._standardise(*self._inputs_targets(obs, actions, next_obs, rewards))
        with torch.no_grad():
            mean, _ = self.model(Xs)
        return float(((mean - Ys) ** 2).mean())

    def sample_step(self, obs, actions, members, generator=None):
        """Sample ``(s', r)`` for each row from the member ``members[i]``.

        Parameters
        ----------
        obs : numpy.ndarray of shape (N, obs_dim)
            Current observations.
        actions : numpy.ndarray of shape (N, act_dim)
            Actions.
        members : torch.Tensor of shape (N,) or None
            Member index of each row; None: row ``i`` uses member ``i % E`` (trajectory
            sampling's layout; when ``E`` divides ``N`` the rows are reshaped into the
            batched network's ``(E, N / E)`` layout directly, with the same result and
            noise as the explicit indices).
        generator : torch.Generator, default=None
            Source of the Gaussian noise.

        Returns
        -------
        next_obs : numpy.ndarray of shape (N, obs_dim)
        rewards : numpy.ndarray of shape (N,)
        """
        E, n = self.model.n_members, len(obs)
        x = torch.as_tensor(np.hstack([obs, actions]), dtype=torch.float32)
        x = (x - self.x_mean) / self.x_scale
        if members is None:
            if n % E == 0:  # row i = j E + e -> member e, slot j
                with torch.no_grad():
                    mean, logvar = self.model(x.reshape(n // E, E, -1).transpose(0, 1))
                    sample = mean + torch.exp(0.5 * logvar) * torch.randn(
                        mean.shape, generator=generator)
                out = sample.transpose(0, 1).reshape(n, -1)
                out = (out * self.y_scale + self.y_mean).double().numpy()
                return obs + out[:, :self.obs_dim], out[:, self.obs_dim]
            members = torch.arange(n) % E
        # one batched forward: member e processes the rows assigned to it
        order = torch.argsort(members, stable=True)
        counts = torch.bincount(members, minlength=E)
        width = int(counts.max())
        padded = torch.zeros(E, width, x.shape[1])
        slots = torch.arange(n) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts)
        padded[members[order], slots] = x[order]
        with torch.no_grad():
            mean, logvar = self.model(padded)
            sample = mean + torch.exp(0.5 * logvar) * torch.randn(
                mean.shape, generator=generator)
        out = torch.empty(n, sample.shape[-1])
        out[order] = sample[members[order], slots]
        out = (out * self.y_scale + self.y_mean).double().numpy()
        return obs + out[:, :self.obs_dim], out[:, self.obs_dim]


class DynamicsEnsemble(RegressorMixin, TorchEstimator):
    r"""Bootstrapped ensemble of probabilistic MLPs (a scikit-learn regressor).

    Fits :math:`E` Gaussian MLPs by the negative log-likelihood above, each on a
    bootstrap resample of the rows (drawn once per ``fit`` from ``random_state``);
    ``predict`` returns the ensemble mean and, with ``return_std=True``, the standard
    deviation of the mixture of the members' Gaussians (aleatoric plus epistemic). In
    model-based RL the inputs are ``[observation, action]`` and the targets the change of
    observation and the reward; any regression problem works. Inputs and targets are
    standardised inside ``fit``. Chapters 34-35 of the notes; see the user guide,
    "Planning".

    Parameters
    ----------
    n_members : int, default=5
        Ensemble size :math:`E`.
    hidden_layer_sizes : tuple of int, default=(200, 200, 200)
        Hidden widths of each member.
    activation : {"silu", "relu", "tanh", "elu"}, default="silu"
        Hidden activation.
    bootstrap : bool, default=True
        Train each member on its own bootstrap resample (else all on the full data,
        differing by their initialisation only).
    learning_rate_init : float, default=1e-3
        Adam's step size.
    batch_size : int, default=256
        Mini-batch size (clipped to the data).
    max_iter : int, default=100
        Epochs.
    weight_decay : float, default=5e-5
        Decoupled weight decay.
    tol : float, default=1e-4
        Improvement below which an epoch counts as "no change".
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` and stop on its likelihood.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    random_state : int, RandomState instance or None, default=None
        Initialisation, bootstrap draws and shuffles.
    verbose : bool, default=False
        One line per epoch.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : EnsembleMLP
        The trained ensemble (float64).
    n_outputs_ : int
        Number of targets.
    n_features_in_ : int
        Number of input features.
    loss_curve_ : list of float
        Mean NLL per epoch (standardised units).
    n_iter_ : int
        Epochs run.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl import DynamicsEnsemble
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, (400, 1)); y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=400)
    >>> model = DynamicsEnsemble(hidden_layer_sizes=(32, 32), max_iter=200,
    ...                          random_state=0).fit(X, y)
    >>> mean, std = model.predict(np.array([[0.5], [6.0]]), return_std=True)
    >>> bool(abs(mean[0] - np.sin(0.5)) < 0.1), bool(std[1] > std[0])
    (True, True)
    """

    _parameter_constraints = {
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "bootstrap": ["boolean"],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
    }
    _warn_batch_clipping = False

    def __init__(self, n_members=5, hidden_layer_sizes=(200, 200, 200), activation="silu",
                 *, bootstrap=True, learning_rate_init=1e-3, batch_size=256, max_iter=100,
                 weight_decay=5e-5, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, random_state=None, verbose=False, device="cpu"):
        self.n_members = n_members
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.bootstrap = bootstrap
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.weight_decay = weight_decay
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    # -- hooks of the torch base -------------------------------------------------------

    def _module_spec(self, X, Y):
        sizes = tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes))
        return {"n_members": int(self.n_members), "n_inputs": X.shape[1],
                "n_outputs": self.n_outputs_, "hidden_layer_sizes": sizes,
                "activation": self.activation}

    def _build_module(self, **spec):
        return EnsembleMLP(**spec)

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        # Y holds [targets | bootstrap counts of each member]
        target, counts = Y[:, :self.n_outputs_], Y[:, self.n_outputs_:].T  # (E, B)
        mean, logvar = module(X)
        nll = gaussian_nll(mean, logvar, target)
        loss = (nll * counts).sum() / (counts.sum() + 1e-12)
        bounds = 0.01 * (module.max_logvar.sum() - module.min_logvar.sum())
        return loss + bounds

    # -- fit / predict -----------------------------------------------------------------

    def fit(self, X, y):
        """Fit the ensemble.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs (e.g. ``[observation, action]``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (e.g. ``[next_observation - observation, reward]``).

        Returns
        -------
        self : DynamicsEnsemble
            The fitted ensemble.
        """
        self._validate_params()
        sizes = np.atleast_1d(self.hidden_layer_sizes)
        if sizes.ndim != 1 or len(sizes) == 0 or not all(
                isinstance(h, (Integral, np.integer)) and h >= 1 for h in sizes):
            raise ValueError("hidden_layer_sizes must be a non-empty sequence of positive "
                             f"ints, got {self.hidden_layer_sizes!r}.")
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32))
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        self._y_ndim = y.ndim
        Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
        self.n_outputs_ = Y.shape[1]
        # standardisation of inputs and targets (constant columns get scale 1)
        self._x_mean, self._x_scale = _moments(np.asarray(X, dtype=np.float64))
        self._y_mean, self._y_scale = _moments(Y)
        Xs = ((X - self._x_mean) / self._x_scale).astype(X.dtype)
        Ys = (Y - self._y_mean) / self._y_scale
        rng = np.random.default_rng(_seed_from(self.random_state))
        n = X.shape[0]
        if self.bootstrap:
            counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n)
                               for _ in range(self.n_members)], axis=1)
        else:
            counts = np.ones((n, self.n_members))
        Y_aug = np.hstack([Ys, counts]).astype(X.dtype)
        return self._fit_torch(Xs, Y_aug)

    def _members(self, X):
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        Xs = (np.asarray(X, dtype=np.float64) - self._x_mean) / self._x_scale
        E, d = self.module_.n_members, self.n_outputs_

        def forward(module, x):
            mean, logvar = module(x)  # (E, B, d)
            return torch.cat([mean, logvar], dim=-1).permute(1, 0, 2).reshape(len(x), -1)

        out = self._predict_torch(Xs, forward).reshape(len(Xs), E, 2 * d)
        mean = out[..., :d] * self._y_scale + self._y_mean
        var = np.exp(out[..., d:]) * self._y_scale**2
        return mean.transpose(1, 0, 2), var.transpose(1, 0, 2)  # (E, n, d)

    def predict_members(self, X):
        """Each member's Gaussian: means and variances.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        means : numpy.ndarray of shape (n_members, n_samples, n_outputs)
            The members' means.
        variances : numpy.ndarray of shape (n_members, n_samples, n_outputs)
            The members' (aleatoric) variances.
        """
        return self._members(X)

    def predict(self, X, return_std=False):
        """Ensemble mean, and optionally the standard deviation of the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        return_std : bool, default=False
            Also return :math:`\\sqrt{\\frac{1}{E}\\sum_e (\\sigma_e^2 + \\mu_e^2) -
            \\bar\\mu^2}`.

        Returns
        -------
        y_mean : numpy.ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Mean over the members.
        y_std : numpy.ndarray, same shape
            Returned with ``return_std=True``.
        """
        means, variances = self._members(X)
        mean = means.mean(axis=0)
        shape = (-1,) if self._y_ndim == 1 else mean.shape
        if not return_std:
            return mean.reshape(shape)
        var = np.maximum((variances + means**2).mean(axis=0) - mean**2, 0.0)
        return mean.reshape(shape), np.sqrt(var).reshape(shape)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


def _moments(A):
    mean = A.mean(axis=0)
    scale = A.std(axis=0)
    scale[scale < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
    return mean, scale


def _seed_from(random_state):
    from mlnotes.utils._random import check_random_state

    return int(check_random_state(random_state).randint(2**31 - 1))
