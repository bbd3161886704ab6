r"""Neural spline flow: rational-quadratic spline couplings (chapter 49)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import FlowDensity, flow_constraints
from ._common import document
from ._transforms import RationalQuadraticCoupling

__all__ = ["NeuralSplineFlow"]


@document(max_iter=150, n_iter_no_change=50)
class NeuralSplineFlow(FlowDensity):
    r"""Neural spline flow: rational-quadratic spline couplings.

    An exact-likelihood density model of continuous data: ``n_transforms``
    coupling layers (:class:`~mlnotes.density.flows.RationalQuadraticCoupling`) with
    alternating masks, each transforming half of the features by monotone
    rational-quadratic splines whose knots come from a network of the other half.

    Parameters
    ----------
    n_transforms : int, default=4
        Number of coupling layers.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden units of each coupling's conditioner network.
    activation : {"relu", "tanh", "elu"}, default="relu"
        Activation of the conditioner networks.
    n_bins : int, default=32
        Number of spline bins.
    tail_bound : float, default=5.0
        The splines act on :math:`[-B, B]` of the standardised features and are the
        identity outside.
    fourier_features : int, default=0
        Number :math:`L` of Fourier-feature frequencies of the inputs of each
        coupling's conditioner network: :math:`u` becomes
        :math:`(u, \sin 2^k u, \cos 2^k u)_{k < L}`; 0 (the default) feeds
        :math:`u` as is: the splines already bend sharply, and the affine flows
        need the features far more (see the user guide).
    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    RealNVP : Affine couplings.

    Notes
    -----
    Chapter 49 of the notes (normalising flows). Each coupling keeps the features
    :math:`x_b` of its mask and maps every other feature through a monotone
    rational-quadratic spline :math:`g_\theta` with :math:`K` bins on
    :math:`[-B, B]`, :math:`\theta = \theta(x_b)` the bin widths :math:`w_k`,
    heights :math:`h_k` (softmax-normalised) and the knot derivatives
    :math:`\delta_k > 0` (softplus; :math:`\delta_0 = \delta_K = 1` so that the
    spline joins the identity tails). In bin :math:`k`, with
    :math:`\xi = (x - x_k)/w_k` and :math:`s_k = h_k / w_k`,

    .. math::

        g(x) = y_k + \frac{h_k\,[s_k \xi^2 + \delta_k \xi (1-\xi)]}
        {s_k + (\delta_{k+1} + \delta_k - 2 s_k)\,\xi (1-\xi)},
        \qquad
        g'(x) = \frac{s_k^2\,[\delta_{k+1}\xi^2 + 2 s_k \xi(1-\xi) +
        \delta_k (1-\xi)^2]}{[s_k + (\delta_{k+1} + \delta_k - 2 s_k)\,
        \xi(1-\xi)]^2},

    and the log-determinant of the coupling is :math:`\sum_a \log g'(x_a)`. The
    inverse solves a quadratic in :math:`\xi` in closed form, so sampling is one
    pass. Splines are far more flexible per layer than affine maps (multimodal
    conditionals, sharp edges), which is why fewer layers are needed. The
    standardisation done in ``fit`` adds :math:`-\sum_j \log s_j` to the
    log-density.

    The defaults (4 couplings of ``(64, 64)``, 32 bins on :math:`[-5, 5]`) were
    chosen over training seeds 0-2 on five 2-D densities of known entropy (10,000
    training rows, 150 epochs; ``benchmarks/results/flows-seeds.md``): held-out NLL
    minus the true entropy 0.025 / 0.122 / 0.029 / 0.042 / 0.036 nats on two moons,
    the checkerboard, eight Gaussians, the rings and the pinwheel, lower on all five
    than the earlier 16 bins on :math:`[-3, 3]` (0.031 / 0.125 / 0.034 / 0.046 /
    0.041) for 5-20% more CPU time. Coarser bins suit smooth densities and finer
    ones sharp edges: the sweeps are in :ref:`density-flows` in the user guide.

    References
    ----------
    .. [1] C. Durkan, A. Bekasov, I. Murray and G. Papamakarios, "Neural Spline
       Flows", NeurIPS 2019.

    Examples
    --------
    >>> from mlnotes.datasets import make_two_moons
    >>> from mlnotes.density import NeuralSplineFlow
    >>> X = make_two_moons(500, random_state=0)
    >>> flow = NeuralSplineFlow(n_transforms=2, max_iter=20, random_state=0).fit(X)
    >>> flow.score_samples(X[:3]).shape
    (3,)
    >>> flow.sample(5, random_state=0).shape
    (5, 2)
    """

    _parameter_constraints = flow_constraints(
        n_bins=[Interval(Integral, 2, None, closed="left")],
        tail_bound=[Interval(Real, 0, None, closed="neither")],
    )

    def __init__(
        self,
        n_transforms=4,
        *,
        hidden_layer_sizes=(64, 64),
        activation="relu",
        fourier_features=0,
        n_bins=32,
        tail_bound=5.0,
        solver="adam",
        alpha=0.0,
        weight_decay=0.0,
        batch_size=256,
        learning_rate="cosine",
        learning_rate_init=0.002,
        power_t=0.5,
        max_iter=150,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=50,
        gradient_clipping=5.0,
        device="cpu",
    ):
        self.n_transforms = n_transforms
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.fourier_features = fourier_features
        self.n_bins = n_bins
        self.tail_bound = tail_bound
        self.solver = solver
        self.alpha = alpha
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.gradient_clipping = gradient_clipping
        self.device = device

    def _extra_spec(self):
        return dict(super()._extra_spec(), n_bins=int(self.n_bins),
                    tail_bound=float(self.tail_bound))

    def _transforms(self, n_features, n_transforms, hidden, activation, n_bins,
                    tail_bound, fourier_features):
        parts = []
        for k in range(n_transforms):
            mask = np.arange(n_features) % 2 == k % 2
            parts.append(RationalQuadraticCoupling(mask, hidden, n_bins, tail_bound,
                                                   activation, fourier_features))
        return parts
