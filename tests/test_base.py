"""The shared torch base (``mlnotes.base``) and its helpers (``mlnotes.utils._torch``).

The base is exercised through a minimal model written the way the density models of
chapters 48-52 will be: a module and a loss, nothing else. Its maximum-likelihood fit
has a closed form, so the training loop can be checked against known answers.
"""

import io
import pickle
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer
from sklearn.utils import get_tags
from sklearn.utils.validation import validate_data
from torch import nn

from mlnotes import base
from mlnotes.base import DensityMixin, TorchEstimator
from mlnotes.utils import _torch as torch_utils
from mlnotes.utils._torch import clip_gradients


class _Gaussian(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        # drawn from torch's global RNG: the base must fork and seed it
        self.mean = nn.Parameter(0.1 * torch.randn(n_features, dtype=torch.float64))
        self.log_std = nn.Parameter(torch.zeros(n_features, dtype=torch.float64))

    def nll(self, X):
        z = (X - self.mean) * torch.exp(-self.log_std)
        return (0.5 * z**2 + self.log_std).sum(1) + 0.5 * X.shape[1] * np.log(2 * np.pi)


class GaussianDensity(DensityMixin, TorchEstimator):
    """Diagonal Gaussian by maximum likelihood: the whole model file of a density model."""

    _parameter_constraints = {k: TorchEstimator._training_constraints[k] for k in (
        "solver", "learning_rate_init", "max_iter", "batch_size", "random_state",
        "early_stopping", "tol", "n_iter_no_change", "verbose", "gradient_clipping",
        "momentum")}

    def __init__(self, solver="adam", learning_rate_init=0.05, max_iter=300,
                 batch_size="auto", random_state=None, early_stopping=False, tol=1e-7,
                 n_iter_no_change=10, verbose=False, gradient_clipping=None,
                 momentum=0.9):
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.gradient_clipping = gradient_clipping
        self.momentum = momentum

    def fit(self, X, y=None, sample_weight=None):
        self._validate_params()
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=X.dtype)
        return self._fit_torch(X, None, sample_weight)

    def _module_spec(self, X, Y):
        return {"n_features": X.shape[1]}

    def _build_module(self, n_features):
        return _Gaussian(n_features)

    def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
        nll = module.nll(X)
        return nll.mean() if sample_weight is None else nll.dot(sample_weight) / weight_sum

    def score_samples(self, X):
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return -self._predict_torch(X, lambda module, x: module.nll(x))


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 0.0]


def _log_density(X, mean, std):
    return (-0.5 * ((X - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)).sum(1)


# ------------------------------------------------------------- the loop, known answers


def test_lbfgs_reaches_the_closed_form_mle():
    X = _data()
    model = GaussianDensity(solver="lbfgs", max_iter=200, tol=1e-12).fit(X)
    mean = model.module_.mean.detach().numpy()
    std = np.exp(model.module_.log_std.detach().numpy())
    # L-BFGS-B stops on its relative-decrease test (factr), not at machine precision
    np.testing.assert_allclose(mean, X.mean(0), atol=1e-4 * X.std(0).max())
    np.testing.assert_allclose(std, X.std(0), rtol=1e-4)
    np.testing.assert_allclose(model.score_samples(X), _log_density(X, mean, std),
                               rtol=1e-12)
    assert model.score(X) == pytest.approx(model.score_samples(X).mean(), rel=1e-15)
    assert isinstance(model.score(X), float)
    np.testing.assert_allclose(model.loss_, -model.score(X), rtol=1e-8)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_stochastic_solvers_approach_the_mle(solver):
    X = _data()
    model = _quiet(GaussianDensity(solver=solver, batch_size=50, random_state=0,
                                   learning_rate_init=0.05 if solver == "adam" else 0.01,
                                   max_iter=200).fit, X)
    std = np.exp(model.module_.log_std.detach().numpy())
    np.testing.assert_allclose(model.module_.mean.detach().numpy(), X.mean(0), atol=0.1)
    np.testing.assert_allclose(std, X.std(0), rtol=0.05)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert len(model.loss_curve_) == model.n_iter_
    assert model.t_ == model.n_iter_ * len(X)


def test_weighted_mle():
    X = _data(n=100)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, 100)
    model = GaussianDensity(solver="lbfgs", tol=1e-12).fit(X, sample_weight=sw)
    mean = np.average(X, axis=0, weights=sw)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sw))
    np.testing.assert_allclose(model.module_.mean.detach().numpy(), mean,
                               atol=1e-4 * std.max())
    np.testing.assert_allclose(np.exp(model.module_.log_std.detach().numpy()), std,
                               rtol=1e-4)


def test_early_stopping_keeps_the_best_epoch():
    X = _data(n=200)
    seed = 3
    model = _quiet(GaussianDensity(early_stopping=True, random_state=seed, max_iter=40,
                                   learning_rate_init=0.2).fit, X)
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ is None
    # the split is drawn from check_random_state(seed), as scikit-learn's MLP draws it
    _, X_val = train_test_split(X, random_state=np.random.RandomState(seed),
                                test_size=0.1)
    np.testing.assert_allclose(model.score(X_val), model.best_validation_score_,
                               rtol=1e-10)


def test_divergence_stops_with_a_clear_error():
    with pytest.raises(ValueError, match="diverged.*smaller learning_rate_init"):
        GaussianDensity(solver="sgd", learning_rate_init=1e4, random_state=0).fit(_data())


def test_verbose_reports_epochs_and_validation():
    out = io.StringIO()
    with redirect_stdout(out):
        _quiet(GaussianDensity(verbose=True, early_stopping=True, max_iter=2,
                               random_state=0).fit, _data())
    text = out.getvalue()
    assert text.count("Iteration") == 2 and text.count("Validation score") == 2


# -------------------------------------------------------------- RNG, pickling, device


def test_random_state_reproducible_and_global_rng_untouched():
    X = _data()
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    a = _quiet(GaussianDensity(max_iter=3, random_state=7, batch_size=64).fit, X)
    b = _quiet(GaussianDensity(max_iter=3, random_state=7, batch_size=64).fit, X)
    c = _quiet(GaussianDensity(max_iter=3, random_state=8, batch_size=64).fit, X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    assert not np.array_equal(a.score_samples(X), c.score_samples(X))


def test_pickle_stores_numpy_and_loads_without_the_training_device():
    X = _data()
    model = _quiet(GaussianDensity(max_iter=5, random_state=0).fit, X)
    state = model.__getstate__()
    assert "module_" not in state

    def has_tensor(obj):
        if isinstance(obj, torch.Tensor):
            return True
        if isinstance(obj, dict):
            return any(has_tensor(v) for v in obj.values())
        if isinstance(obj, (list, tuple)):
            return any(has_tensor(v) for v in obj)
        return False

    assert not has_tensor(state)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.score_samples(X), model.score_samples(X))
    # a model fitted on a GPU: its pickle names CUDA; here it loads and predicts on CPU
    if not torch.cuda.is_available():
        state["_device_"] = "cuda:0"
        gpu_model = GaussianDensity.__new__(GaussianDensity)
        gpu_model.__setstate__(pickle.loads(pickle.dumps(state)))
        np.testing.assert_array_equal(gpu_model.score_samples(X), model.score_samples(X))
        assert next(gpu_model.module_.parameters()).device.type == "cpu"


def test_tags():
    tags = get_tags(GaussianDensity())
    assert tags.estimator_type == "density_estimator"


# --------------------------------------------------------------- optimisers vs sklearn


def _sequence(shapes, steps, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for s in shapes] for _ in range(steps)]
    return params, grads


@pytest.mark.parametrize("fused", [True, False])
def test_adam_equals_sklearns_adam(fused):
    params, grads = _sequence([(4, 3), (3,)], 6)
    ref_params = [p.copy() for p in params]
    ref = AdamOptimizer(ref_params, 0.01, 0.9, 0.999, 1e-8)
    ours_params = [torch.from_numpy(p.copy()) for p in params]
    ours = base._Adam(ours_params, 0.01, 0.9, 0.999, 1e-8)
    ours._fused = fused and base._FUSED_ADAM
    for g in grads:
        ref.update_params(ref_params, [x.copy() for x in g])
        ours.step(ours_params, [torch.from_numpy(x.copy()) for x in g])
    for a, b in zip(ours_params, ref_params):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_equals_sklearns_sgd_through_rate_changes(fused, nesterov):
    params, grads = _sequence([(3, 2), (2,)], 8)
    ref_params = [p.copy() for p in params]
    ref = SGDOptimizer(ref_params, 0.1, "invscaling", momentum=0.9, nesterov=nesterov,
                       power_t=0.5)
    ours_params = [torch.from_numpy(p.copy()) for p in params]
    ours = base._SGD(ours_params, 0.1, 0.9, nesterov)
    ours._fused = fused and base._FUSED_SGD
    for t, g in enumerate(grads):
        ref.update_params(ref_params, [x.copy() for x in g])
        ours.step(ours_params, [torch.from_numpy(x.copy()) for x in g])
        if t % 3 == 2:  # the learning rate changes; the velocity must carry over
            ref.iteration_ends(10 * t)
            ours.set_learning_rate(ref.learning_rate)
    for a, b in zip(ours_params, ref_params):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fused_step_with_non_contiguous_gradients(solver):
    # autograd returns permuted-stride gradients after einsum/transposes; the fused
    # kernels ignore strides, so a column-major gradient must give the same step
    params, grads = _sequence([(4, 3)], 3)
    p_c = [torch.from_numpy(params[0].copy())]
    p_f = [torch.from_numpy(params[0].copy())]
    make = (lambda p: base._Adam(p, 0.01, 0.9, 0.999, 1e-8)) if solver == "adam" \
        else (lambda p: base._SGD(p, 0.1, 0.9, True))
    opt_c, opt_f = make(p_c), make(p_f)
    for g in grads:
        opt_c.step(p_c, [torch.from_numpy(g[0].copy())])
        g_f = torch.from_numpy(np.asfortranarray(g[0]))
        assert not g_f.is_contiguous()
        opt_f.step(p_f, [g_f])
    torch.testing.assert_close(p_c[0], p_f[0], rtol=0, atol=0)


def test_optimiser_state_survives_pickling():
    params = [torch.ones(3, dtype=torch.float64)]
    opt = base._Adam(params, 0.1, 0.9, 0.999, 1e-8)
    opt.step(params, [torch.full((3,), 2.0, dtype=torch.float64)])
    clone = pickle.loads(pickle.dumps(opt))
    p1, p2 = [params[0].clone()], [params[0].clone()]
    g = [torch.full((3,), -1.0, dtype=torch.float64)]
    opt.step(p1, g)
    clone.step(p2, g)
    torch.testing.assert_close(p1[0], p2[0], rtol=0, atol=0)


def test_gradient_clipping_known_answer():
    grads = [torch.tensor([3.0, 0.0], dtype=torch.float64),
             torch.tensor([4.0], dtype=torch.float64)]
    clip_gradients(grads, 1.0)  # norm 5 -> 1
    np.testing.assert_allclose(torch.cat(grads).numpy(), [0.6, 0.0, 0.8], rtol=1e-6)
    small = [torch.tensor([0.3, 0.4], dtype=torch.float64)]
    clip_gradients(small, 1.0)  # below the limit: unchanged
    np.testing.assert_allclose(small[0].numpy(), [0.3, 0.4])


# ------------------------------------------------------------------------ torch helpers


def test_local_torch_rng_is_reproducible_and_restores_the_state():
    before = torch.get_rng_state()
    with torch_utils.local_torch_rng(5):
        a = torch.rand(4)
    with torch_utils.local_torch_rng(5):
        b = torch.rand(4)
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), before)


def test_torch_seed():
    assert torch_utils.torch_seed(3) == torch_utils.torch_seed(3)
    assert torch_utils.torch_seed(3) != torch_utils.torch_seed(4)
    rs = np.random.RandomState(0)
    assert torch_utils.torch_seed(rs) != torch_utils.torch_seed(rs)  # advances
    g1 = torch_utils.make_generator(11)
    g2 = torch_utils.make_generator(11)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


def test_as_tensor_views_and_accepts_read_only_arrays():
    X = np.arange(6.0).reshape(2, 3)
    t = torch_utils.as_tensor(X)
    X[0, 0] = 42.0
    assert t[0, 0].item() == 42.0  # a view, no copy
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = torch_utils.as_tensor(X, dtype=torch.float32)
    assert t.dtype == torch.float32


def test_check_device():
    assert torch_utils.check_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        torch_utils.check_device("gpu")
    with pytest.raises(ValueError, match="device"):
        torch_utils.check_device("mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            torch_utils.check_device("cuda")
        assert torch_utils.inference_device("cuda:0") == torch.device("cpu")


def test_losses_can_sample_from_a_local_generator():
    """``self._generator`` exists during fit only, is seeded from random_state and is
    not torch's global generator."""
    draws = []

    class Noisy(GaussianDensity):
        def _batch_loss(self, module, X, Y, sample_weight, weight_sum):
            noise = torch.randn(X.shape, dtype=X.dtype, generator=self._generator)
            draws.append(noise[0, 0].item())
            return super()._batch_loss(module, X + 0.01 * noise, Y, sample_weight,
                                       weight_sum)

    X = _data(n=50)
    state = torch.get_rng_state()
    model = _quiet(Noisy(max_iter=2, random_state=0).fit, X)
    first = list(draws)
    draws.clear()
    _quiet(Noisy(max_iter=2, random_state=0).fit, X)
    assert draws == first and len(set(first)) == len(first)
    assert torch.equal(torch.get_rng_state(), state)
    assert not hasattr(model, "_generator")
