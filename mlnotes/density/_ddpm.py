r"""Denoising diffusion probabilistic model (chapter 52 of the notes)."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from mlnotes.base import DensityMixin, TorchEstimator
from mlnotes.utils._torch import inference_device

from ._base import _check_n_samples, _sampling_rng
from ._fourier import _FourierFeatures
from ._vae import (
    _ACTIVATIONS,
    _LOG_2PI,
    _TRAINING_KEYS,
    _check_hidden,
    _finite_standardization,
    _mlp,
    _noise_seed,
    _predict_with_noise,
)

__all__ = ["DDPM"]


def _betas(schedule, n_steps):
    """Noise schedule :math:`\\beta_1..\\beta_T` (float64)."""
    if schedule == "linear":  # Ho et al.'s 1e-4..0.02 for T=1000, rescaled to T
        scale = 1000.0 / n_steps
        return np.linspace(scale * 1e-4, min(scale * 0.02, 0.999), n_steps)
    s = 0.008  # cosine schedule of Nichol & Dhariwal
    t = np.arange(n_steps + 1) / n_steps
    f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return np.clip(1.0 - alpha_bar[1:] / alpha_bar[:-1], 0.0, 0.999)


class _EpsNet(nn.Module):
    """Noise predictor :math:`\\epsilon_\\theta(x_t, t)`: an MLP on ``x_t`` (or its
    Fourier features) and a sinusoidal embedding of ``t / T``."""

    def __init__(self, n_features, hidden, activation, n_steps, n_frequencies=16,
                 fourier_features=0):
        super().__init__()
        self.n_steps = n_steps
        self.register_buffer("freqs", torch.exp(torch.linspace(0.0, math.log(1000.0),
                                                               n_frequencies)))
        self.features = _FourierFeatures(n_features, fourier_features) \
            if fourier_features else None
        n_in = self.features.n_out if fourier_features else n_features
        self.net = _mlp(n_in + 2 * n_frequencies, hidden, n_features, activation)

    def forward(self, x, t):
        """``x`` (..., d), ``t`` (...,) integer steps 1..T."""
        angle = (t.to(x.dtype) / self.n_steps).unsqueeze(-1) * self.freqs.to(x.dtype)
        if self.features is not None:
            x = self.features(x)
        return self.net(torch.cat([x, torch.sin(angle), torch.cos(angle)], dim=-1))


class DDPM(DensityMixin, TorchEstimator):
    r"""Denoising diffusion probabilistic model with a noise-prediction network.

    The data are gradually noised by a fixed Gaussian Markov chain of ``n_steps``
    steps; a network learns to predict the added noise, which defines the reverse
    (generative) chain. :meth:`sample` runs the reverse chain (ancestral sampling,
    or DDIM with fewer steps); :meth:`score_samples` returns the **variational lower
    bound** on the log-density, in nats, including the Gaussian decoder term of the
    last step, so that it bounds :math:`\log p(x)` of continuous data.

    Parameters
    ----------
    n_steps : int, default=400
        Number :math:`T` of diffusion steps. More steps tighten the bound of
        :meth:`score_samples` (for a perfect noise predictor on the checkerboard
        density the bound is about 0.32, 0.25 and 0.06 nats below the
        log-likelihood at :math:`T` = 100, 200 and 1000) and make
        :meth:`score_samples` and the ancestral :meth:`sample` proportionally
        slower; training costs the same.
    schedule : {"linear", "cosine"}, default="linear"
        Noise schedule: ``"linear"`` has :math:`\beta_t` evenly spaced from
        :math:`10^{-4} \cdot 1000/T` to :math:`0.02 \cdot 1000/T` (Ho et al.'s
        schedule for :math:`T = 1000`, rescaled); ``"cosine"`` has
        :math:`\bar\alpha_t = f(t)/f(0)`, :math:`f(t) = \cos^2\big(\frac{t/T +
        s}{1 + s}\frac\pi2\big)`, :math:`s = 0.008` (Nichol and Dhariwal).
    hidden_layer_sizes : tuple of int, default=(128, 128, 128)
        Hidden layers of the noise-prediction network.
    fourier_features : int, default=6
        Number :math:`L` of octaves of sinusoidal features of the noisy input: each
        coordinate :math:`u` of :math:`x_t` enters the network as :math:`(u, \sin
        2^k u, \cos 2^k u)_{k < L}`, which lets it represent the sharp changes of
        the noise prediction at small :math:`t` near edges and thin structures of
        the data (measured in :ref:`density-latent`). 0 feeds :math:`x_t` as it
        is.
    activation : {"relu", "tanh", "elu", "silu"}, default="silu"
        Hidden activation.
    variance : {"beta", "posterior"}, default="beta"
        Variance :math:`\sigma_t^2` of the reverse steps :math:`t \ge 2`:
        :math:`\beta_t` (right where the data are smooth at the scale of the noise,
        as for continuous data at small :math:`t`) or the posterior variance
        :math:`\tilde\beta_t` (right for data concentrated on points). Ho et al.
        found both give similar samples; the bound differs.
    sampler : {"ancestral", "ddim"}, default="ancestral"
        :meth:`sample`'s reverse process: the DDPM chain over all ``n_steps`` steps,
        or DDIM over ``n_sampling_steps`` evenly spaced steps.
    n_sampling_steps : int or None, default=None
        Number of DDIM steps (None: ``n_steps``). Ignored by the ancestral sampler.
    eta : float, default=0.0
        DDIM's noise scale: 0 is the deterministic DDIM sampler, 1 matches the
        variances of the ancestral chain.
    n_bound_samples : int, default=8
        Noise draws per step averaged in the bound of :meth:`score_samples`. The
        bound is a Monte-Carlo estimate; its noise does not bias its mean, but
        :math:`\exp` of a noisy estimate over-weights lucky draws (with one draw per
        step, :math:`\int \exp(\text{bound})` of a 2-D Gaussian fit is about 2.2;
        with 8 draws, 0.99).
    alpha : float, default=0.0
        L2 penalty on the weight matrices (see :class:`~mlnotes.base.TorchEstimator`).
    batch_size : int or "auto", default=256
        Mini-batch size (clipped to the number of samples).
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, default="cosine"
        Learning-rate schedule of Adam.
    learning_rate_init : float, default=0.002
        Initial step size of Adam.
    max_iter : int, default=1200
        Number of epochs.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, the batch order, the training noise and time steps; also the
        seed of the fixed noise of the bound in :meth:`score_samples` (an int is used
        as it is; otherwise a seed is drawn once in ``fit``).
    tol : float, default=1e-4
        Improvement of the loss below which an epoch counts as no change.
    verbose : bool, default=False
        Print the loss at every epoch.
    early_stopping : bool, default=False
        Stop when the denoising loss of a held-out ``validation_fraction`` stops
        improving.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    n_iter_no_change : int, default=1000
        Epochs without an improvement of ``tol`` before stopping (the denoising loss
        is noisy: the default trains for ``max_iter`` epochs).
    gradient_clipping : float or None, default=10.0
        Clip the global gradient norm of each mini-batch.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    betas_ : ndarray of shape (n_steps,)
        The noise schedule :math:`\beta_1, \dots, \beta_T`.
    alphas_cumprod_ : ndarray of shape (n_steps,)
        :math:`\bar\alpha_t = \prod_{s \le t} (1 - \beta_s)`.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.
    module_ : torch.nn.Module
        The trained noise-prediction network (float64, evaluation mode).
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training rows seen.
    loss_ : float
        Mean denoising loss :math:`\|\epsilon - \epsilon_\theta\|^2` per row at the
        last epoch.
    loss_curve_ : list of float
        ``loss_`` at every epoch.
    best_loss_ : float or None
        Smallest ``loss_`` (None with early stopping).
    validation_scores_ : list of float or None
        Minus the held-out denoising loss at every epoch (early stopping only).
    best_validation_score_ : float or None
        Best validation score (early stopping only).

    See Also
    --------
    VAE : Variational autoencoder, also scored by a variational bound.

    Notes
    -----
    Chapter 52 of the notes. The forward process adds Gaussian noise,
    :math:`q(x_t \mid x_{t-1}) = \mathcal N(\sqrt{1-\beta_t}\, x_{t-1}, \beta_t I)`,
    so that :math:`x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\,
    \epsilon` with :math:`\alpha_t = 1 - \beta_t`, :math:`\bar\alpha_t = \prod_{s\le
    t} \alpha_s`. The network is trained on the simplified objective of Ho et al.,
    :math:`\mathbb E_{t, x_0, \epsilon} \|\epsilon - \epsilon_\theta(x_t, t)\|^2`,
    with the step drawn from :math:`\pi(t) = \frac{1}{2T} + \frac12\, w_t /
    \sum_s w_s`, half uniform and half proportional to the weight :math:`w_t` of
    step :math:`t`'s noise-prediction error in the bound below (:math:`w_t \approx
    1/(2t)` at small :math:`t`): the minimiser at every step is the same as with
    uniform steps, but the network spends more of its capacity on the small
    :math:`t` that dominate the bound. The reverse chain is
    :math:`p_\theta(x_{t-1} \mid x_t) = \mathcal N(\mu_\theta(x_t, t), \sigma_t^2
    I)` with

    .. math::

        \mu_\theta(x_t, t) = \frac{1}{\sqrt{\alpha_t}}\Big(x_t -
        \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,\epsilon_\theta(x_t, t)\Big),
        \qquad \sigma_t^2 \in \Big\{\beta_t,\ \tilde\beta_t = \frac{1 -
        \bar\alpha_{t-1}}{1 - \bar\alpha_t}\beta_t\Big\} \; (t \ge 2), \quad
        \sigma_1^2 = \beta_1,

    and :math:`x_T \sim \mathcal N(0, I)`. The variational bound is

    .. math::

        \log p_\theta(x_0) \ge -\operatorname{KL}\big(q(x_T \mid x_0) \,\|\,
        \mathcal N(0, I)\big) - \sum_{t=2}^{T} \mathbb E_q \operatorname{KL}\big(
        q(x_{t-1} \mid x_t, x_0) \,\|\, p_\theta(x_{t-1} \mid x_t)\big)
        + \mathbb E_q \log p_\theta(x_0 \mid x_1),

    where each KL term is
    :math:`\frac{\beta_t^2}{2 \sigma_t^2 \alpha_t (1 - \bar\alpha_t)}\,\mathbb
    E\|\epsilon - \epsilon_\theta(x_t, t)\|^2 + \frac d2\big(r_t - 1 - \log
    r_t\big)`, :math:`r_t = \tilde\beta_t / \sigma_t^2` (the second part vanishes
    for :math:`\sigma_t^2 = \tilde\beta_t`), and the decoder term is
    :math:`-\frac d2 \log(2\pi\beta_1) - \frac{1}{2\alpha_1}\mathbb E\|\epsilon -
    \epsilon_\theta(x_1, 1)\|^2`, a Gaussian density of :math:`x_0` (so the bound
    is one on the log-density). :meth:`score_samples` evaluates every one of the
    :math:`T` terms with ``n_bound_samples`` noise draws per step, drawn from a
    generator seeded with the seed of ``random_state`` and the bytes of the row
    (deterministic, each row's value depends on that row only, distinct rows get
    independent noise). The data are standardised inside ``fit``,
    :math:`\tilde x = (x - m)/s`; the bound of the original data subtracts
    :math:`\sum_j \log s_j`.

    DDIM (Song et al.) samples with a subsequence :math:`\tau_1 < \dots < \tau_S`
    of the steps: :math:`\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta)
    / \sqrt{\bar\alpha_t}` and :math:`x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 +
    \sqrt{1 - \bar\alpha_{t'} - \sigma^2}\,\epsilon_\theta + \sigma z` with
    :math:`\sigma = \eta \sqrt{(1-\bar\alpha_{t'})/(1-\bar\alpha_t)}
    \sqrt{1 - \bar\alpha_t/\bar\alpha_{t'}}`.

    References
    ----------
    .. [1] J. Ho, A. Jain and P. Abbeel, "Denoising Diffusion Probabilistic Models",
       NeurIPS 2020.
    .. [2] A. Nichol and P. Dhariwal, "Improved Denoising Diffusion Probabilistic
       Models", ICML 2021.
    .. [3] J. Song, C. Meng and S. Ermon, "Denoising Diffusion Implicit Models",
       ICLR 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from mlnotes.density import DDPM
    >>> X, _ = make_moons(300, noise=0.1, random_state=0)
    >>> ddpm = DDPM(n_steps=50, max_iter=10, random_state=0).fit(X)
    >>> ddpm.score_samples(X[:3]).shape
    (3,)
    >>> ddpm.sample(5, random_state=0).shape
    (5, 2)
    >>> ddpm.set_params(sampler="ddim", n_sampling_steps=10).sample(5).shape
    (5, 2)
    """

    _parameter_constraints = {
        **{k: TorchEstimator._training_constraints[k] for k in _TRAINING_KEYS},
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "schedule": [StrOptions({"linear", "cosine"})],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "fourier_features": [Interval(Integral, 0, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "variance": [StrOptions({"beta", "posterior"})],
        "sampler": [StrOptions({"ancestral", "ddim"})],
        "n_sampling_steps": [Interval(Integral, 1, None, closed="left"), None],
        "eta": [Interval(Real, 0, None, closed="left")],
        "n_bound_samples": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
    }

    _warn_batch_clipping = False
    _score_is_lower_bound = True  # the density checks: integral of exp(score) <= 1

    def __init__(
        self,
        n_steps=400,
        *,
        schedule="linear",
        hidden_layer_sizes=(128, 128, 128),
        fourier_features=6,
        activation="silu",
        variance="beta",
        sampler="ancestral",
        n_sampling_steps=None,
        eta=0.0,
        n_bound_samples=8,
        alpha=0.0,
        batch_size=256,
        learning_rate="cosine",
        learning_rate_init=0.002,
        max_iter=1200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=1000,
        gradient_clipping=10.0,
        device="cpu",
    ):
        self.n_steps = n_steps
        self.schedule = schedule
        self.hidden_layer_sizes = hidden_layer_sizes
        self.fourier_features = fourier_features
        self.activation = activation
        self.variance = variance
        self.sampler = sampler
        self.n_sampling_steps = n_sampling_steps
        self.eta = eta
        self.n_bound_samples = n_bound_samples
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
        return dict(n_features=X.shape[1], hidden=_check_hidden(self.hidden_layer_sizes),
                    activation=self.activation, n_steps=int(self.n_steps),
                    fourier_features=int(self.fourier_features))

    def _build_module(self, **spec):
        return _EpsNet(**spec)

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        gen = self._generator
        t = torch.multinomial(self._step_probs(X.device), X.shape[0], replacement=True,
                              generator=gen) + 1
        eps = torch.randn(X.shape, generator=gen, device=X.device, dtype=X.dtype)
        ab = torch.as_tensor(self.alphas_cumprod_, dtype=X.dtype, device=X.device)[t - 1]
        xt = torch.sqrt(ab)[:, None] * X + torch.sqrt(1.0 - ab)[:, None] * eps
        loss = ((eps - module(xt, t)) ** 2).sum(-1)
        if sample_weight is None:
            return loss.sum() / weight_sum
        return (sample_weight * loss).sum() / weight_sum

    def _bound_weights(self):
        """Weight :math:`w_t` of the noise-prediction error of every step in the bound
        (used by :meth:`_bound_terms` and by the training steps' distribution)."""
        betas, ab = self.betas_, self.alphas_cumprod_
        alphas = 1.0 - betas
        if self.variance == "beta":
            w = betas / (2.0 * alphas * (1.0 - ab))
        else:
            ab_prev = np.concatenate([[1.0], ab[:-1]])
            w = betas / (2.0 * alphas * np.maximum(1.0 - ab_prev, 1e-300))
        w[0] = 1.0 / (2.0 * alphas[0])
        return w

    def _step_probs(self, device):
        """Sampling distribution of the training step: half uniform, half ``w_t``."""
        probs = getattr(self, "_step_probs_", None)
        if probs is None or probs.device != torch.device(device):
            w = self._bound_weights()
            p = 0.5 / w.size + 0.5 * w / w.sum()
            probs = self._step_probs_ = torch.as_tensor(p, device=device)
        return probs

    # -- public API -------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the noise-prediction network on the simplified diffusion loss.

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
        self.betas_ = _betas(self.schedule, int(self.n_steps))
        self.alphas_cumprod_ = np.cumprod(1.0 - self.betas_)
        self._step_probs_ = None
        self._noise_seed_ = _noise_seed(self.random_state)
        mean, scale = _finite_standardization(self, X)
        self._fit_torch(((X - mean) / scale).astype(np.float32), None)
        self._input_mean_, self._input_scale_ = mean, scale
        return self

    def _bound_terms(self, module, x0, eps):
        """``(n, T)`` terms of minus the bound (nats) of standardised rows ``x0``.

        ``eps`` is the noise of every row, ``(n, n_bound_samples, T, d)``.
        """
        T, d, S = int(self.n_steps), x0.shape[1], eps.shape[1]
        dev, dt = x0.device, x0.dtype
        betas = torch.as_tensor(self.betas_, dtype=dt, device=dev)
        ab = torch.as_tensor(self.alphas_cumprod_, dtype=dt, device=dev)
        ab_prev = torch.cat([torch.ones(1, dtype=dt, device=dev), ab[:-1]])
        post_var = (1.0 - ab_prev) / (1.0 - ab) * betas  # beta tilde (0 at t=1)
        weights = torch.as_tensor(self._bound_weights(), dtype=dt, device=dev)
        if self.variance == "beta":  # sigma_t^2 = beta_t, plus the variance mismatch
            ratio = (post_var / betas)[1:]
            var_terms = 0.5 * d * (ratio - 1.0 - torch.log(ratio))
        else:  # sigma_t^2 = beta tilde_t: equal variances, the mean term only
            var_terms = None
        t = torch.arange(1, T + 1, device=dev).expand(x0.shape[0], T)
        sq = torch.zeros((x0.shape[0], T), dtype=dt, device=dev)
        for s in range(S):
            e = eps[:, s]
            xt = torch.sqrt(ab)[None, :, None] * x0[:, None, :] + \
                torch.sqrt(1.0 - ab)[None, :, None] * e
            sq += ((e - module(xt, t)) ** 2).sum(-1)
        terms = weights * sq / S
        if var_terms is not None:
            terms[:, 1:] += var_terms
        terms[:, 0] += 0.5 * d * (_LOG_2PI + torch.log(betas[0]))
        # prior term KL(q(x_T | x_0) || N(0, I))
        var_T = 1.0 - ab[-1]
        terms[:, -1] += 0.5 * (ab[-1] * x0**2 + var_T - 1.0 - torch.log(var_T)).sum(-1)
        return terms

    def score_samples(self, X):
        """Variational lower bound on the log-density of each row, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_bound : ndarray of shape (n_samples,)
            The bound of the Notes (prior, denoising and decoder terms) for every
            row, minus the log-determinant of the standardisation (float64, nats).
        """
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        shape = (self.n_bound_samples, int(self.n_steps), self.n_features_in_)
        out = _predict_with_noise(
            self, X, shape, lambda m, x, eps: -self._bound_terms(m, x, eps).sum(1))
        return out - np.log(self._input_scale_).sum()

    def sample(self, n_samples=1, random_state=None):
        """Draw rows by running the reverse chain from Gaussian noise.

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
            The drawn rows (float64), with ``sampler`` and ``n_sampling_steps``.
        """
        check_is_fitted(self, "module_")
        n_samples = _check_n_samples(n_samples)
        rng = _sampling_rng(random_state)
        d, T = self.n_features_in_, int(self.n_steps)
        if self.sampler == "ddim":
            S = T if self.n_sampling_steps is None else min(int(self.n_sampling_steps), T)
            steps = np.unique(np.round(np.linspace(1, T, S)).astype(int))[::-1]
        else:
            steps = np.arange(T, 0, -1)
        module = self.module_
        device = inference_device(getattr(self, "_device_", "cpu"))
        module.to(device)
        module.eval()
        ab_all, betas = self.alphas_cumprod_, self.betas_

        def noise():
            return rng.standard_normal((n_samples, d))

        x = noise()
        with torch.inference_mode():
            for i, t in enumerate(steps):
                tt = torch.full((n_samples,), int(t), device=device)
                e = module(torch.as_tensor(x, device=device), tt).to("cpu").numpy()
                ab = ab_all[t - 1]
                if self.sampler == "ddim":
                    ab_prev = ab_all[steps[i + 1] - 1] if i + 1 < len(steps) else 1.0
                    x0 = (x - np.sqrt(1.0 - ab) * e) / np.sqrt(ab)
                    sigma = self.eta * np.sqrt((1.0 - ab_prev) / (1.0 - ab)
                                               * (1.0 - ab / ab_prev))
                    x = np.sqrt(ab_prev) * x0 + \
                        np.sqrt(max(1.0 - ab_prev - sigma**2, 0.0)) * e
                    if sigma > 0:
                        x = x + sigma * noise()
                else:
                    beta = betas[t - 1]
                    x = (x - beta / np.sqrt(1.0 - ab) * e) / np.sqrt(1.0 - beta)
                    if t > 1:
                        var = beta if self.variance == "beta" else \
                            (1.0 - ab_all[t - 2]) / (1.0 - ab) * beta
                        x = x + np.sqrt(var) * noise()
        return x * self._input_scale_ + self._input_mean_
