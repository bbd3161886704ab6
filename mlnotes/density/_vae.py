r"""Variational autoencoder (chapter 50 of the notes) as a density estimator.

Also holds the small pieces the latent-variable models of chapters 50-52 share: the
multilayer perceptron they build their networks from, the validation of the continuous
training data, and the seed of the fixed noise that makes their likelihood bounds
deterministic.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from mlnotes.base import DensityMixin, TorchEstimator
from mlnotes.utils._random import check_random_state
from mlnotes.utils._torch import inference_device

from ._base import _check_n_samples, _sampling_rng
from ._fourier import _FourierFeatures

__all__ = ["VAE"]

_LOG_2PI = math.log(2.0 * math.pi)
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "silu": nn.SiLU}

# Training hyperparameters of the base loop that the latent models expose.
_TRAINING_KEYS = ("alpha", "batch_size", "learning_rate", "learning_rate_init",
                  "max_iter", "shuffle", "random_state", "tol", "verbose",
                  "early_stopping", "validation_fraction", "n_iter_no_change",
                  "gradient_clipping")


def _mlp(n_in, hidden, n_out, activation, fourier_features=0):
    """``Linear -> act -> ... -> Linear`` with the given hidden sizes.

    With ``fourier_features > 0`` the input first goes through
    :class:`_FourierFeatures` of that many frequencies.
    """
    layers, width = [], n_in
    if fourier_features:
        features = _FourierFeatures(n_in, fourier_features)
        layers, width = [features], features.n_out
    for h in hidden:
        layers += [nn.Linear(width, h), _ACTIVATIONS[activation]()]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def _check_hidden(hidden_layer_sizes):
    sizes = np.atleast_1d(np.asarray(hidden_layer_sizes)).tolist() \
        if not isinstance(hidden_layer_sizes, Integral) else [hidden_layer_sizes]
    if not all(isinstance(h, Integral) and h >= 1 for h in sizes):
        raise ValueError(
            f"hidden_layer_sizes must contain positive ints; got {hidden_layer_sizes!r}.")
    return [int(h) for h in sizes]


def _noise_seed(random_state):
    """Seed of the fixed noise of a likelihood bound: the int itself, else drawn."""
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(2**31 - 1))


def _row_noise(X, seed, shape):
    """Standard normal noise of ``shape`` for every row of ``X``, from the row itself.

    Row ``i`` draws from a generator seeded with ``seed`` and the bytes of ``X[i]``:
    deterministic, independent between distinct rows, and the same whichever batch
    or position the row comes in, so that a bound estimated with it is a function of
    the row alone and its mean over many rows converges to the expected bound.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    words = X.view(np.uint32).reshape(X.shape[0], -1)
    out = np.empty((X.shape[0], *shape))
    for i in range(X.shape[0]):
        rng = np.random.default_rng([int(seed), *words[i].tolist()])
        out[i] = rng.standard_normal(shape)
    return out


def _predict_with_noise(est, X, shape, forward):
    """``forward(module, x, noise)`` over row chunks of validated ``X`` in float64.

    ``noise`` holds :func:`_row_noise` of the rows (shape ``(n, *shape)``); ``x`` is
    the preprocessed (standardised) chunk. Runs on the inference device in
    evaluation mode; returns numpy.
    """
    check_is_fitted(est, "module_")
    X = np.asarray(X, dtype=np.float64)
    device = inference_device(getattr(est, "_device_", "cpu"))
    module = est.module_
    module.to(device)
    module.eval()
    chunk = max(1, 2**21 // max(1, int(np.prod(shape))))
    outs = []
    with torch.inference_mode():
        for start in range(0, max(X.shape[0], 1), chunk):
            rows = X[start:start + chunk]
            noise = torch.as_tensor(_row_noise(rows, est._noise_seed_, shape),
                                    dtype=torch.float64, device=device)
            x = torch.as_tensor(est._preprocess(rows), dtype=torch.float64,
                                device=device)
            outs.append(forward(module, x, noise).to("cpu").numpy())
    return outs[0] if len(outs) == 1 else np.concatenate(outs)


def _finite_standardization(est, X):
    """``est._standardization(X)`` that stays finite on data near the float maximum.

    The variance of features of magnitude ~1e300 overflows (its squares do), which
    made the scale infinite and the log-density terms ``-log(scale)`` infinite.
    Where that happens, the standard deviation is recomputed on the feature divided
    by its largest deviation first, so that nothing is squared beyond ~1.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean, scale = est._standardization(X, None)
    if not np.all(np.isfinite(mean)):
        raise ValueError(
            "Floating-point overflow: the mean of the input overflows float64 (largest "
            f"|x| {np.abs(X).max():.3g}); scale the input first."
        )
    bad = ~np.isfinite(scale)
    if bad.any():
        dev = X[:, bad] - mean[bad]
        peak = np.abs(dev).max(axis=0)
        scale = scale.copy()
        scale[bad] = peak * np.sqrt(np.mean((dev / peak) ** 2, axis=0))
        if not np.all(np.isfinite(scale)):
            raise ValueError(
                "Floating-point overflow: the spread of the input overflows float64 "
                f"(largest |x| {np.abs(X).max():.3g}); scale the input first."
            )
    return mean, scale


def _is_binary(X):
    return bool(np.all((X == 0) | (X == 1)))


class _VAEModule(nn.Module):
    """Encoder ``x -> (mu, log var)`` of q(z|x); decoder ``z -> `` mean and log var
    (Gaussian) or logits (Bernoulli) of p(x|z)."""

    def __init__(self, n_features, n_components, hidden, activation, likelihood,
                 fourier_features=0):
        super().__init__()
        self.likelihood = likelihood
        self.n_features = n_features
        self.encoder = _mlp(n_features, hidden, 2 * n_components, activation,
                            fourier_features)
        n_out = 2 * n_features if likelihood == "gaussian" else n_features
        self.decoder = _mlp(n_components, hidden[::-1], n_out, activation,
                            fourier_features)

    def encode(self, x):
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var.clamp(-15.0, 10.0)

    def decode(self, z):
        out = self.decoder(z)
        if self.likelihood == "gaussian":
            mean, log_var = out.chunk(2, dim=-1)
            return mean, log_var.clamp(-12.0, 8.0)
        return out, None

    def log_px_given_z(self, x, z):
        """``log p(x | z)`` summed over features; ``x`` broadcasts against ``z``."""
        a, log_var = self.decode(z)
        if self.likelihood == "gaussian":
            return -0.5 * (_LOG_2PI + log_var + (x - a) ** 2 * torch.exp(-log_var)
                           ).sum(-1)
        # Bernoulli with logits a: x a - softplus(a)
        return (x * a - nn.functional.softplus(a)).sum(-1)

    def log_weights(self, x, eps, beta=1.0):
        """``log p(x, z_k) - log q(z_k | x)`` for ``z_k = mu + sigma eps_k``.

        ``x`` is ``(n, d)``, ``eps`` ``(K, n_components)`` (the same noise for every
        row) or ``(n, K, n_components)``; the result is ``(n, K)``. ``beta`` scales
        ``log p(z_k) - log q(z_k | x)`` (the KL warm-up of training).
        """
        mu, log_var = self.encode(x)
        std = torch.exp(0.5 * log_var)
        if eps.ndim == 2:
            eps = eps.unsqueeze(0)
        z = mu.unsqueeze(1) + std.unsqueeze(1) * eps  # (n, K, m)
        log_q = -0.5 * (_LOG_2PI + log_var.unsqueeze(1) + eps**2).sum(-1)
        log_prior = -0.5 * (_LOG_2PI + z**2).sum(-1)
        log_px = self.log_px_given_z(x.unsqueeze(1), z)
        if beta == 1.0:
            return log_px + log_prior - log_q
        return log_px + beta * (log_prior - log_q)


class VAE(DensityMixin, TransformerMixin, TorchEstimator):
    r"""Variational autoencoder: a latent-variable density model trained on the ELBO.

    A latent :math:`z \sim \mathcal N(0, I)` of dimension ``n_components`` is decoded
    into a distribution over rows: a diagonal Gaussian for continuous data, independent
    Bernoullis for binary data. An encoder network :math:`q_\phi(z \mid x)` amortises
    inference; both networks are trained together on the evidence lower bound, or
    by default on its importance-weighted version with
    ``n_train_importance_samples`` samples, with the reparameterisation trick.
    :meth:`score_samples` returns the **importance-weighted bound** (IWAE) with
    ``n_importance_samples`` samples, a lower bound on :math:`\log p(x)` that
    tightens as the number of samples grows.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden layers of the encoder; the decoder uses them in reverse order.
    likelihood : {"auto", "gaussian", "bernoulli"}, default="auto"
        Decoder. ``"auto"`` chooses ``"bernoulli"`` when every training value is 0 or
        1 and ``"gaussian"`` otherwise. A Gaussian decoder learns a mean and a
        log-variance for every feature and works on standardised data (``fit``
        standardises, and :meth:`score_samples` includes the log-determinant of that
        scaling, so it is a log-density of the original data).
    n_importance_samples : int, default=100
        Number :math:`K` of importance samples of the bound in :meth:`score_samples`.
    n_train_importance_samples : int, default=8
        Number :math:`K'` of importance samples of the training objective: 1 trains
        on the ELBO, :math:`K' > 1` on the importance-weighted bound
        :math:`\mathcal L_{K'}` (IWAE training, see Notes), which lets the decoder
        become sharper than a Gaussian encoder could invert exactly (on the 2-D
        densities of :ref:`density-latent` the held-out bound of the checkerboard
        improves by about 0.3 nats). Each training step costs about :math:`K'`
        decoder passes.
    fourier_features : int, default=6
        Number :math:`L` of octaves of sinusoidal input features of both networks
        (Gaussian decoder only): every input coordinate :math:`u` is expanded to
        :math:`(u, \sin 2^k u, \cos 2^k u)_{k < L}` before the first layer, so that
        the networks can represent densities with sharp edges or thin structures
        (measured in :ref:`density-latent`). 0 feeds the inputs as they are.
    kl_warmup : float, default=0.3
        Fraction of ``max_iter`` over which the weight of the KL term rises linearly
        from 0 to 1 (KL annealing, which keeps the decoder from settling on a large
        variance early; measured in :ref:`density-latent`). While it is positive
        the training loss of the early epochs is not a bound, so training stops
        only at ``max_iter`` (or by
        ``early_stopping``, which monitors the full bound). 0 trains on the full
        bound from the start.
    activation : {"relu", "tanh", "elu", "silu"}, default="relu"
        Hidden activation.
    alpha : float, default=0.0
        L2 penalty on the weight matrices (see :class:`~mlnotes.base.TorchEstimator`).
    batch_size : int or "auto", default=128
        Mini-batch size (clipped to the number of samples).
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="cosine"
        Learning-rate schedule of Adam (``"cosine"`` anneals to 0 over ``max_iter``).
    learning_rate_init : float, default=0.002
        Initial step size of Adam.
    max_iter : int, default=300
        Number of epochs.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, the batch order and the training noise; also the seed of the
        fixed noise of the bound in :meth:`score_samples` (an int is used as it is;
        otherwise a seed is drawn once in ``fit``).
    tol : float, default=1e-4
        Improvement of the loss below which an epoch counts as no change.
    verbose : bool, default=False
        Print the loss at every epoch.
    early_stopping : bool, default=False
        Stop when the ELBO of a held-out ``validation_fraction`` stops improving.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    n_iter_no_change : int, default=50
        Epochs without an improvement of ``tol`` before stopping.
    gradient_clipping : float or None, default=10.0
        Clip the global gradient norm of each mini-batch.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    likelihood_ : str
        The decoder used, ``"gaussian"`` or ``"bernoulli"``.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.
    module_ : torch.nn.Module
        The trained encoder and decoder (float64, evaluation mode).
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training rows seen.
    loss_ : float
        Minus the training bound per row (the ELBO, or the importance-weighted
        bound with ``n_train_importance_samples`` > 1; nats, of the standardised
        data, annealed during the KL warm-up) at the last epoch.
    loss_curve_ : list of float
        ``loss_`` at every epoch.
    best_loss_ : float or None
        Smallest ``loss_`` (None with early stopping).
    validation_scores_ : list of float or None
        Held-out training bound at every epoch (early stopping only).
    best_validation_score_ : float or None
        Best held-out training bound (early stopping only).

    See Also
    --------
    DDPM : Diffusion model, also scored by a variational bound.
    GAN : Generative adversarial network (no likelihood).

    Notes
    -----
    Chapter 50 of the notes. With prior :math:`p(z) = \mathcal N(0, I)`, decoder
    :math:`p_\theta(x \mid z)` and encoder :math:`q_\phi(z \mid x) =
    \mathcal N(\mu_\phi(x), \operatorname{diag} \sigma_\phi^2(x))`, training maximises
    the evidence lower bound

    .. math::

        \log p_\theta(x) \ge \mathcal L(x) =
        \mathbb E_{q_\phi(z \mid x)}\big[\log p_\theta(x \mid z)\big]
        - \operatorname{KL}\big(q_\phi(z \mid x) \,\|\, p(z)\big),

    estimated with one reparameterised sample :math:`z = \mu_\phi(x) + \sigma_\phi(x)
    \odot \epsilon`, :math:`\epsilon \sim \mathcal N(0, I)`, so that the gradient
    flows through :math:`z`; the KL term is in closed form,
    :math:`\tfrac12 \sum_j (\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2)`. The
    Gaussian decoder is :math:`\mathcal N(m_\theta(z), \operatorname{diag}
    s^2_\theta(z))`; the Bernoulli decoder has
    :math:`\log p(x \mid z) = \sum_j x_j a_j - \log(1 + e^{a_j})` with logits
    :math:`a = a_\theta(z)`. During the first ``kl_warmup * max_iter`` epochs the KL
    term is weighted by :math:`\beta` rising linearly from 0 to 1 (KL annealing).

    With ``n_train_importance_samples`` :math:`K' > 1` training maximises the
    importance-weighted bound :math:`\mathcal L_{K'}` below instead (Burda et al.),
    with the annealed log-weights :math:`\log p_\theta(x \mid z_k) + \beta\,
    (\log p(z_k) - \log q_\phi(z_k \mid x))`; :math:`\mathcal L_{K'}` is a
    tighter lower bound than the ELBO, and maximising it no longer forces the
    decoder's posterior to be close to the Gaussian :math:`q_\phi`, so the model
    itself can be sharper. For continuous data both networks see Fourier features
    of their input, :math:`\gamma(u) = (u, \sin 2^k u, \cos 2^k u)_{k <
    L}` with :math:`L` = ``fourier_features``.

    :meth:`score_samples` returns the importance-weighted bound of Burda et al.,

    .. math::

        \log p(x) \ge \mathcal L_K(x) = \log \frac1K \sum_{k=1}^{K}
        \frac{p_\theta(x, z_k)}{q_\phi(z_k \mid x)}, \qquad
        z_k = \mu_\phi(x) + \sigma_\phi(x) \odot \epsilon_k,

    with :math:`\mathcal L_1 = \mathcal L \le \mathcal L_K \le \mathcal L_{K+1}` in
    expectation and :math:`\mathcal L_K \to \log p(x)` as :math:`K \to \infty`. The
    noise :math:`\epsilon_1, \dots, \epsilon_K` of a row is drawn from a generator
    seeded with the seed of ``random_state`` and the bytes of the row, so the bound
    is deterministic, each row's value depends on that row only, and distinct rows
    get independent noise (the mean over a test set converges to the expected
    bound). For a Gaussian decoder the data are
    standardised, :math:`\tilde x = (x - m) / s`, and the bound of the original data
    is :math:`\mathcal L_K(\tilde x) - \sum_j \log s_j`.

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
       Autoencoders", ICLR 2016.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from mlnotes.density import VAE
    >>> X, _ = make_moons(300, noise=0.1, random_state=0)
    >>> vae = VAE(max_iter=20, random_state=0).fit(X)
    >>> vae.likelihood_
    'gaussian'
    >>> vae.score_samples(X[:3]).shape
    (3,)
    >>> vae.transform(X[:3]).shape
    (3, 2)
    >>> vae.sample(5, random_state=0).shape
    (5, 2)
    """

    _parameter_constraints = {
        **{k: TorchEstimator._training_constraints[k] for k in _TRAINING_KEYS},
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "likelihood": [StrOptions({"auto", "gaussian", "bernoulli"})],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "n_train_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "fourier_features": [Interval(Integral, 0, None, closed="left")],
        "kl_warmup": [Interval(Real, 0, 1, closed="both")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "device": [str, torch.device],
    }

    _warn_batch_clipping = False
    _score_is_lower_bound = True  # the density checks: integral of exp(score) <= 1

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(64, 64),
        likelihood="auto",
        n_importance_samples=100,
        n_train_importance_samples=8,
        fourier_features=6,
        kl_warmup=0.3,
        activation="relu",
        alpha=0.0,
        batch_size=128,
        learning_rate="cosine",
        learning_rate_init=0.002,
        max_iter=300,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=50,
        gradient_clipping=10.0,
        device="cpu",
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.likelihood = likelihood
        self.n_importance_samples = n_importance_samples
        self.n_train_importance_samples = n_train_importance_samples
        self.fourier_features = fourier_features
        self.kl_warmup = kl_warmup
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.gradient_clipping = gradient_clipping
        self.device = device

    # -- TorchEstimator hooks ---------------------------------------------------------

    def _module_spec(self, X, Y):
        return dict(n_features=X.shape[1], n_components=int(self.n_components),
                    hidden=_check_hidden(self.hidden_layer_sizes),
                    activation=self.activation, likelihood=self.likelihood_,
                    fourier_features=int(self.fourier_features)
                    if self.likelihood_ == "gaussian" else 0)

    def _build_module(self, **spec):
        return _VAEModule(**spec)

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        return self._neg_elbo(module, X, sample_weight, weight_sum, self._kl_weight())

    def _kl_weight(self):
        """KL weight of the current epoch: rises linearly to 1 over the warm-up."""
        warm = self.kl_warmup * self.max_iter
        return 1.0 if warm <= 0 else min(1.0, (self.n_iter_ + 1) / warm)

    def _validation_score(self, module, X, Y, sample_weight):
        wsum = float(X.shape[0] if sample_weight is None else sample_weight.sum())
        return -float(self._neg_elbo(module, X, sample_weight, wsum, 1.0))

    def _hp(self, name):
        # the annealed loss rises during the warm-up: no stopping on the training loss
        if name == "n_iter_no_change" and self.kl_warmup > 0 and \
                not self.early_stopping:
            return np.inf
        return super()._hp(name)

    def _neg_elbo(self, module, X, sample_weight, weight_sum, beta):
        """Minus the (annealed) training bound: the ELBO, or the IWAE bound."""
        K = int(self.n_train_importance_samples)
        if K > 1:  # importance-weighted bound with annealed log-weights
            eps = torch.randn((X.shape[0], K, int(self.n_components)),
                              generator=self._generator, device=X.device, dtype=X.dtype)
            lw = module.log_weights(X, eps, beta)
            elbo = torch.logsumexp(lw, dim=1) - math.log(K)
        else:  # ELBO with one reparameterised sample and the KL in closed form
            mu, log_var = module.encode(X)
            eps = torch.randn(mu.shape, generator=self._generator, device=mu.device,
                              dtype=mu.dtype)
            z = mu + torch.exp(0.5 * log_var) * eps
            kl = 0.5 * (mu**2 + torch.exp(log_var) - 1.0 - log_var).sum(-1)
            elbo = module.log_px_given_z(X, z) - beta * kl
        if sample_weight is None:
            return -elbo.sum() / weight_sum
        return -(sample_weight * elbo).sum() / weight_sum

    # -- public API -------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoder and the decoder on the ELBO or the IWAE bound.

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
        likelihood = self.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if _is_binary(X) else "gaussian"
        elif likelihood == "bernoulli" and not _is_binary(X):
            raise ValueError("likelihood='bernoulli' needs binary data (0 or 1 values).")
        self.likelihood_ = likelihood
        _check_hidden(self.hidden_layer_sizes)
        self._noise_seed_ = _noise_seed(self.random_state)
        if likelihood == "gaussian":
            mean, scale = _finite_standardization(self, X)
            Xs = (X - mean) / scale
        else:
            mean = scale = None
            Xs = X
        self._fit_torch(Xs.astype(np.float32), None)
        self._input_mean_, self._input_scale_ = mean, scale
        return self

    def score_samples(self, X):
        """Importance-weighted lower bound on the log-density of each row, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_bound : ndarray of shape (n_samples,)
            :math:`\\mathcal L_K(x) \\le \\log p(x)` with ``K =
            n_importance_samples`` (float64, nats). With a Bernoulli decoder it
            bounds the log probability mass and is ``-inf`` for rows that are not
            binary.
        """
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        K = self.n_importance_samples

        def forward(module, x, eps):
            lw = module.log_weights(x, eps)
            return torch.logsumexp(lw, dim=1) - math.log(K)

        shape = (K, self.n_components)
        if self.likelihood_ == "bernoulli":
            valid = ((X == 0) | (X == 1)).all(axis=1)
            out = _predict_with_noise(self, np.where(valid[:, None], X, 0.0), shape,
                                      forward)
            out[~valid] = -np.inf
            return out
        out = _predict_with_noise(self, X, shape, forward)
        return out - np.log(self._input_scale_).sum()

    def transform(self, X):
        """Mean of the encoder's distribution :math:`q(z \\mid x)` for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The latent means :math:`\\mu_\\phi(x)` (float64).
        """
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._predict_torch(X, forward=lambda m, x: m.encode(x)[0])

    def sample(self, n_samples=1, random_state=None):
        """Draw rows: :math:`z \\sim \\mathcal N(0, I)`, then :math:`x \\sim p(x \\mid z)`.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, numpy Generator, RandomState or None, default=None
            Source of randomness. None means fresh entropy
            (``np.random.default_rng()``), never numpy's global RNG.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The drawn rows (float64; 0./1. values for a Bernoulli decoder).
        """
        check_is_fitted(self, "module_")
        n_samples = _check_n_samples(n_samples)
        rng = _sampling_rng(random_state)
        z = rng.standard_normal((n_samples, self.n_components))
        d = self.n_features_in_
        noise = rng.random((n_samples, d)) if self.likelihood_ == "bernoulli" \
            else rng.standard_normal((n_samples, d))
        module = self.module_
        device = inference_device(getattr(self, "_device_", "cpu"))
        module.to(device)
        module.eval()
        with torch.inference_mode():
            a, log_var = module.decode(torch.as_tensor(z, dtype=torch.float64,
                                                       device=device))
            a = a.to("cpu").numpy()
            log_var = None if log_var is None else log_var.to("cpu").numpy()
        if self.likelihood_ == "bernoulli":
            return (noise < 1.0 / (1.0 + np.exp(-a))).astype(np.float64)
        Xs = a + np.exp(0.5 * log_var) * noise
        return Xs * self._input_scale_ + self._input_mean_
