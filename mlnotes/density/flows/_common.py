"""Shared docstring text and constructor plumbing of the four flow estimators."""

TRAINING_PARAMETERS = """\
    solver : {"adam", "sgd"}, default="adam"
        Optimiser.
    alpha : float, default=0.0
        L2 penalty on the weight matrices, divided by the batch size (as in
        scikit-learn's MLP).
    weight_decay : float, default=0.0
        Decoupled weight decay of the weight matrices (AdamW).
    batch_size : int or "auto", default=256
        Mini-batch size (clipped to the number of training rows); ``"auto"`` is
        ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, \\
            default="cosine"
        Step-size schedule: ``"cosine"`` anneals from ``learning_rate_init`` to 0
        over ``max_iter`` epochs (``"invscaling"`` and ``"adaptive"`` act on SGD
        only).
    learning_rate_init : float, default=0.002
        Initial step size.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=%(max_iter)d
        Number of epochs.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, batch order and the early-stopping split; the caller's
        global torch RNG is left unchanged.
    tol : float, default=1e-4
        Improvement (nats per row) below which an epoch counts as no change.
    verbose : bool, default=False
        Print the loss after every epoch.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when their
        log-likelihood stops improving; the best weights are kept (tiny data train
        on every row instead).
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=%(n_iter_no_change)d
        Epochs without an improvement of ``tol`` before stopping.
    gradient_clipping : float or None, default=5.0
        Maximum global L2 norm of a mini-batch gradient.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda"``."""

FITTED_ATTRIBUTES = """\
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.
    module_ : torch.nn.Module
        The trained flow (float64, evaluation mode): ``module_.transforms`` lists
        the transforms, data side first.
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training rows seen.
    loss_ : float
        Mean negative log-likelihood of the standardised training rows (nats) at
        the last epoch.
    loss_curve_ : list of float
        ``loss_`` at every epoch.
    best_loss_ : float or None
        Smallest ``loss_`` (None with early stopping).
    validation_scores_ : list of float or None
        Mean held-out log-likelihood at every epoch (early stopping only).
    best_validation_score_ : float or None
        Best held-out log-likelihood (early stopping only)."""


COUPLING_FOURIER_NOTES = r"""With ``fourier_features`` :math:`= L > 0` the conditioner sees
    :math:`\gamma(u) = (u, \sin 2^k u, \cos 2^k u)_{k < L}` of its inputs
    :math:`u` instead of :math:`u`: in two dimensions every conditioner sees one
    scalar, and sharp structure (the edges of a checkerboard, thin rings) needs
    outputs that change on a scale of :math:`2^{-L}` of a standardised feature,
    which a ReLU network of a raw scalar learns only slowly (Tancik et al., 2020).
    The transform stays affine in the transformed features, so the Jacobian and
    its log-determinant are unchanged."""


def document(max_iter, n_iter_no_change):
    """Fill the shared parameter and attribute text into a class docstring."""

    def decorate(cls):
        training = TRAINING_PARAMETERS % dict(max_iter=max_iter,
                                              n_iter_no_change=n_iter_no_change)
        cls.__doc__ = cls.__doc__.replace("    {training_parameters}", training).replace(
            "    {fitted_attributes}", FITTED_ATTRIBUTES).replace(
            "    {coupling_fourier_notes}", "    " + COUPLING_FOURIER_NOTES)
        return cls

    return decorate
