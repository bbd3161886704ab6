r"""Generative adversarial network (chapter 51 of the notes) as a sampler."""

import math
import sys
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from mlnotes.base import DensityMixin, TorchEstimator, _Adam
from mlnotes.utils._torch import as_tensor, inference_device

from ._base import _check_n_samples, _sampling_rng
from ._vae import _ACTIVATIONS, _check_hidden, _mlp

__all__ = ["GAN"]


def _no_likelihood(estimator):
    """A GAN defines no likelihood: ``score`` and ``score_samples`` are hidden."""
    return False


class _GANModule(nn.Module):
    def __init__(self, n_features, n_components, hidden, activation,
                 fourier_features=0):
        super().__init__()
        self.n_components = n_components
        self.generator = _mlp(n_components, hidden, n_features, activation,
                              fourier_features)
        self.critic = _mlp(n_features, hidden, 1, activation, fourier_features)

    def forward(self, z):
        return self.generator(z)


class GAN(DensityMixin, TorchEstimator):
    r"""Generative adversarial network: a generator trained against a critic.

    A generator network maps latent noise :math:`z \sim \mathcal N(0, I)` to rows; a
    critic (discriminator) network is trained to tell generated rows from the data
    and the generator to fool it. By default the critic estimates the Wasserstein-1
    distance with a gradient penalty (WGAN-GP); ``loss="non-saturating"`` is the
    original GAN with the non-saturating generator loss. A GAN has no likelihood:
    it offers :meth:`fit` and :meth:`sample`, while ``score`` and ``score_samples``
    are not available (``hasattr(gan, "score_samples")`` is False).

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent noise.
    hidden_layer_sizes : tuple of int, default=(128, 128)
        Hidden layers of the generator and of the critic.
    fourier_features : int, default=3
        Number :math:`L` of octaves of sinusoidal input features of both networks:
        every input coordinate :math:`u` (of the latent noise for the generator, of
        the standardised row for the critic) enters as :math:`(u, \sin 2^k u, \cos
        2^k u)_{k < L}`, which lets the generator fold the Gaussian noise onto
        densities with sharp edges and the critic see them (measured in
        :ref:`density-latent`: the MMD ratio on the checkerboard falls from 0.63 to
        about 0.3). 0 feeds the inputs as they are. Six octaves did slightly better
        with the default loss but made the non-saturating GAN collapse on the
        checkerboard; three suit both.
    loss : {"wgan-gp", "non-saturating"}, default="wgan-gp"
        The adversarial objective (see Notes).
    gp_weight : float, default=0.1
        Weight :math:`\lambda` of the gradient penalty (``"wgan-gp"`` only). 0.1 is
        the value of the WGAN-GP authors for low-dimensional toy data (10 for
        images): on two moons :math:`\lambda = 10` over-constrains the critic and the
        generator shrinks towards the mean within the epochs a CPU affords.
    n_critic : int, default=5
        Critic steps per generator step (each mini-batch is one critic step).
    ema_decay : float, default=0.99
        The fitted generator is the exponential moving average of the generator's
        weights over its steps, :math:`\bar\theta \leftarrow d\,\bar\theta +
        (1 - d)\,\theta`, which damps the oscillations of adversarial training; 0
        keeps the last weights.
    activation : {"relu", "tanh", "elu", "silu"}, default="relu"
        Hidden activation of both networks.
    batch_size : int or "auto", default=64
        Mini-batch size (clipped to the number of samples).
    learning_rate_init : float, default=0.001
        Step size of both Adam optimisers.
    beta_1 : float, default=0.5
        Adam's first-moment decay (0.5 as in the WGAN-GP paper).
    beta_2 : float, default=0.9
        Adam's second-moment decay.
    max_iter : int, default=100
        Number of epochs (passes over the data by the critic).
    random_state : int, RandomState instance or None, default=None
        Initial weights, the batch order and the training noise.
    verbose : bool, default=False
        Print the critic's loss at every epoch.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.
    module_ : torch.nn.Module
        The trained ``generator`` and ``critic`` (float64, evaluation mode).
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training rows seen by the critic.
    loss_ : float
        The critic's mean loss at the last epoch (for ``"wgan-gp"``: minus the
        Wasserstein estimate plus the penalty).
    loss_curve_ : list of float
        ``loss_`` at every epoch.
    generator_loss_curve_ : list of float
        The generator's mean loss at every epoch.

    See Also
    --------
    VAE : Latent-variable model with a likelihood bound.

    Notes
    -----
    Chapter 51 of the notes. The data are standardised inside ``fit`` and samples
    are mapped back. With generator :math:`G`, critic :math:`D`, data distribution
    :math:`p` and generated distribution :math:`q = G_\# \mathcal N(0, I)`:

    **WGAN-GP** (Gulrajani et al.). By Kantorovich-Rubinstein duality
    :math:`W_1(p, q) = \sup_{\|D\|_L \le 1} \mathbb E_p D(x) - \mathbb E_q D(x)`;
    the 1-Lipschitz constraint is replaced by a penalty on the gradient norm at
    random interpolates :math:`\hat x = u x + (1 - u) G(z)`, :math:`u \sim
    U(0, 1)`. The critic minimises

    .. math::

        L_D = \mathbb E_z D(G(z)) - \mathbb E_x D(x) + \lambda\, \mathbb E_{\hat x}
        \big(\|\nabla_{\hat x} D(\hat x)\|_2 - 1\big)^2

    and the generator :math:`L_G = -\mathbb E_z D(G(z))`.

    **Non-saturating GAN** (Goodfellow et al.). :math:`D` outputs a logit; the
    critic minimises the cross-entropy :math:`L_D = -\mathbb E_x \log \sigma(D(x))
    - \mathbb E_z \log(1 - \sigma(D(G(z))))` and the generator maximises
    :math:`\mathbb E_z \log \sigma(D(G(z)))` (rather than minimising
    :math:`\mathbb E \log(1 - \sigma(D))`, whose gradient vanishes when the critic
    wins). At the optimal critic the original objective is
    :math:`2\,\mathrm{JS}(p, q) - \log 4`.

    Each mini-batch makes one critic step; every ``n_critic``-th critic step is
    followed by one generator step; both use Adam. The fitted generator is the
    moving average of its weights (``ema_decay``). Both networks see Fourier
    features of their input, :math:`\gamma(u) = (u, \sin 2^k u, \cos 2^k u)_{k <
    L}` with :math:`L` = ``fourier_features``. The quality of a GAN cannot be
    read off a likelihood: the benchmarks measure the kernel MMD between its samples
    and held-out data.

    References
    ----------
    .. [1] I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    .. [2] M. Arjovsky, S. Chintala and L. Bottou, "Wasserstein GAN", ICML 2017.
    .. [3] I. Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS
       2017.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from mlnotes.density import GAN
    >>> X, _ = make_moons(300, noise=0.1, random_state=0)
    >>> gan = GAN(max_iter=5, random_state=0).fit(X)
    >>> gan.sample(4, random_state=0).shape
    (4, 2)
    >>> hasattr(gan, "score_samples")
    False
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "fourier_features": [Interval(Integral, 0, None, closed="left")],
        "loss": [StrOptions({"wgan-gp", "non-saturating"})],
        "gp_weight": [Interval(Real, 0, None, closed="left")],
        "n_critic": [Interval(Integral, 1, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        **{k: TorchEstimator._training_constraints[k] for k in (
            "batch_size", "learning_rate_init", "beta_1", "beta_2", "max_iter",
            "random_state", "verbose")},
        "device": [str, torch.device],
    }

    _warn_batch_clipping = False

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 128),
        fourier_features=3,
        loss="wgan-gp",
        gp_weight=0.1,
        n_critic=5,
        ema_decay=0.99,
        activation="relu",
        batch_size=64,
        learning_rate_init=0.001,
        beta_1=0.5,
        beta_2=0.9,
        max_iter=100,
        random_state=None,
        verbose=False,
        device="cpu",
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.fourier_features = fourier_features
        self.loss = loss
        self.gp_weight = gp_weight
        self.n_critic = n_critic
        self.ema_decay = ema_decay
        self.activation = activation
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    # a GAN has no likelihood: hide DensityMixin.score (sklearn's estimator checks and
    # model selection then treat it as a model without a score)
    score = available_if(_no_likelihood)(DensityMixin.score)

    # -- TorchEstimator hooks ---------------------------------------------------------

    def _module_spec(self, X, Y):
        return dict(n_features=X.shape[1], n_components=int(self.n_components),
                    hidden=_check_hidden(self.hidden_layer_sizes),
                    activation=self.activation,
                    fourier_features=int(self.fourier_features))

    def _build_module(self, **spec):
        return _GANModule(**spec)

    def _noise(self, n, like):
        return torch.randn((n, self.n_components), generator=self._generator,
                           device=like.device, dtype=like.dtype)

    def _critic_loss(self, module, x, fake):
        critic = module.critic
        if self.loss == "non-saturating":
            return (nn.functional.softplus(-critic(x)).mean()
                    + nn.functional.softplus(critic(fake)).mean())
        loss = critic(fake).mean() - critic(x).mean()
        if self.gp_weight > 0:
            u = torch.rand((x.shape[0], 1), generator=self._generator, device=x.device,
                           dtype=x.dtype)
            mixed = (u * x + (1.0 - u) * fake).requires_grad_(True)
            grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
            loss = loss + self.gp_weight * ((grad.norm(dim=1) - 1.0) ** 2).mean()
        return loss

    def _generator_loss(self, module, n, like):
        d_fake = module.critic(module.generator(self._noise(n, like)))
        if self.loss == "non-saturating":
            return nn.functional.softplus(-d_fake).mean()
        return -d_fake.mean()

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        """The critic's loss on a batch (the adversarial loop is :meth:`_fit_stochastic`)."""
        with torch.no_grad():
            fake = module.generator(self._noise(X.shape[0], X))
        return self._critic_loss(module, X, fake)

    def _fit_stochastic(self, module, X, Y, sample_weight, dtype, device, rng,
                        incremental, stratify):
        """Alternate critic and generator steps with two Adam optimisers."""
        crit = list(module.critic.parameters())
        gen = list(module.generator.parameters())
        crit_w, gen_w = [p.detach() for p in crit], [p.detach() for p in gen]
        lr, b1, b2 = self.learning_rate_init, self.beta_1, self.beta_2
        opt_d = _Adam(crit_w, lr, b1, b2, 1e-8)
        opt_g = _Adam(gen_w, lr, b1, b2, 1e-8)
        Xt = as_tensor(X, dtype=dtype, device=device)
        n = X.shape[0]
        batch_size = self._batch_size(n)
        self.generator_loss_curve_ = []
        decay = float(self.ema_decay)
        ema = [w.clone() for w in gen_w] if decay > 0 else None
        module.train()
        self.n_iter_ = 0
        step = 0
        for _ in range(self.max_iter):
            idx = torch.from_numpy(rng.permutation(n)).to(device)
            d_acc, g_acc, g_steps = 0.0, 0.0, 0
            for start in range(0, n, batch_size):
                xb = Xt.index_select(0, idx[start:start + batch_size])
                with torch.no_grad():
                    fake = module.generator(self._noise(xb.shape[0], xb))
                loss_d = self._critic_loss(module, xb, fake)
                opt_d.step(crit_w, list(torch.autograd.grad(loss_d, crit)))
                d_acc += float(loss_d.detach()) * xb.shape[0]
                step += 1
                if step % self.n_critic == 0:
                    loss_g = self._generator_loss(module, batch_size, xb)
                    opt_g.step(gen_w, list(torch.autograd.grad(loss_g, gen)))
                    if ema is not None:
                        torch._foreach_lerp_(ema, gen_w, 1.0 - decay)
                    g_acc += float(loss_g.detach())
                    g_steps += 1
            loss = d_acc / n
            if not math.isfinite(loss):
                self._diverged(loss)
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = loss
            self.loss_curve_.append(loss)
            self.best_loss_ = min(self.best_loss_, loss)
            self.generator_loss_curve_.append(g_acc / g_steps if g_steps else np.nan)
            if self.verbose:
                print("Iteration %d, critic loss = %.8f, generator loss = %.8f"
                      % (self.n_iter_, loss, self.generator_loss_curve_[-1]))
                sys.stdout.flush()
        if ema is not None:
            with torch.no_grad():
                for w, e in zip(gen_w, ema):
                    w.copy_(e)

    # -- public API -------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the generator against the critic.

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
        mean, scale = self._standardization(X, None)
        self._fit_torch(((X - mean) / scale).astype(np.float32), None)
        self._input_mean_, self._input_scale_ = mean, scale
        return self

    def sample(self, n_samples=1, random_state=None):
        """Draw rows: :math:`G(z)` with :math:`z \\sim \\mathcal N(0, I)`.

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
            The generated rows (float64).
        """
        check_is_fitted(self, "module_")
        n_samples = _check_n_samples(n_samples)
        z = _sampling_rng(random_state).standard_normal((n_samples, self.n_components))
        module = self.module_
        device = inference_device(getattr(self, "_device_", "cpu"))
        module.to(device)
        module.eval()
        with torch.inference_mode():
            out = module.generator(torch.as_tensor(z, dtype=torch.float64, device=device))
        return out.to("cpu").numpy() * self._input_scale_ + self._input_mean_
