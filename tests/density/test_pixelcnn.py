"""PixelCNN (mlnotes.density.PixelCNN): masks, receptive fields, learning, bad input.

The receptive-field tests take gradients of the network's logits at one pixel with
respect to a real-valued input image: the masked stack must ignore that pixel and
everything after it in raster order and (with 3 x 3 kernels) miss the pixel one row
up and two columns right (the blind spot, unreachable whatever the depth); the gated
stack must ignore the same pixels but see every pixel before.
"""

import itertools

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from mlnotes.density import PixelCNN
from mlnotes.density._base import AutoregressiveDensity
from mlnotes.density._pixelcnn import _masked_square, _PixelCNNModule
from mlnotes.utils.estimator_checks import check_density_autoregressive_mask

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def _module(image_shape, gated, n_layers, kernel_size=3, residual=True,
            dilations=None, n_filters=8, n_levels=2, seed=0):
    torch.manual_seed(seed)
    module = _PixelCNNModule(
        image_shape=image_shape, n_levels=n_levels, n_filters=n_filters,
        n_layers=n_layers, kernel_size=kernel_size, gated=gated, residual=residual,
        dilations=dilations or [1] * n_layers, dropout=0.0)
    return module.double().eval()


def _input_gradient(module, feature, n=16, seed=0):
    """``|d logits[feature] / d image|`` summed over random images, as (C*H*W,)."""
    C, H, W = module.image_shape
    img = torch.as_tensor(np.random.RandomState(seed).uniform(-1, 1, (n, C, H, W)),
                          dtype=torch.float64).requires_grad_(True)
    h = module.features(img)
    logits = module.head2(torch.relu(module.head1(torch.relu(h))))
    K = module.n_levels
    c, p = divmod(feature, H * W)
    logits = logits.reshape(n, C, K, H * W)[:, c, :, p]
    (grad,) = torch.autograd.grad(logits.pow(2).sum(), img)
    return grad.abs().sum(dim=0).reshape(-1).numpy()


@pytest.mark.parametrize("residual", [True, False])
def test_masked_stack_is_causal_and_has_a_blind_spot(residual):
    H = W = 6
    module = _module((1, H, W), gated=False, n_layers=5, residual=residual)
    for i, j in [(3, 2), (4, 1), (5, 3)]:
        p = i * W + j
        g = _input_gradient(module, p)
        assert np.all(g[p:] == 0), "depends on the pixel itself or later pixels"
        assert g[p - 1] > 0 and g[p - W] > 0  # left and above are seen
        # one row up, two columns right: unreachable with 3x3 masks at any depth
        assert g[(i - 1) * W + j + 2] == 0
        assert np.sum(g[:p] == 0) > 0


def test_gated_stack_sees_every_earlier_pixel():
    H = W = 6
    # k=3: the vertical stack reaches 1 + n_layers rows up and n_layers columns
    # either side, the horizontal stack 1 + n_layers pixels to the left
    module = _module((1, H, W), gated=True, n_layers=5)
    for i, j in [(0, 5), (3, 2), (4, 0), (5, 5), (2, 3)]:
        p = i * W + j
        g = _input_gradient(module, p)
        assert np.all(g[p:] == 0), "depends on the pixel itself or later pixels"
        assert np.all(g[:p] > 0), f"blind spot at {(i, j)}"
        # the masked stack's blind spot is seen here
        if i >= 1 and j + 2 < W:
            assert g[(i - 1) * W + j + 2] > 0


def test_default_gated_stack_covers_an_8x8_image():
    """With the default kernel size and depth, every pixel of an 8 x 8 image sees
    every pixel before it (the Notes' claim); the masked stack misses some."""
    params = PixelCNN().get_params()
    missing = {}
    for gated in (True, False):
        module = _module((1, 8, 8), gated=gated, n_layers=params["n_layers"],
                         kernel_size=params["kernel_size"], n_filters=8)
        missing[gated] = 0
        for p in range(64):
            g = _input_gradient(module, p, n=4)
            assert np.all(g[p:] == 0)
            missing[gated] += int(np.sum(g[:p] == 0))
    assert missing[True] == 0 and missing[False] > 0


def test_gated_without_residual_is_also_causal():
    module = _module((1, 5, 5), gated=True, n_layers=4, residual=False)
    p = 2 * 5 + 2
    g = _input_gradient(module, p)
    assert np.all(g[p:] == 0) and np.all(g[:p] > 0)


@pytest.mark.parametrize("gated", [True, False])
def test_colour_channels_follow_pixel_then_channel_order(gated):
    C, H, W = 3, 3, 3
    module = _module((C, H, W), gated=gated, n_layers=4, n_filters=9)
    est = PixelCNN((C, H, W))
    est._check_layout(C * H * W)
    order = est._make_ordering(C * H * W)
    # R, G, B of pixel 0, then of pixel 1, ... as columns of the C-order flattening
    np.testing.assert_array_equal(order[:6], [0, 9, 18, 1, 10, 19])
    for t in [0, 1, 2, 4, 5, 13, 26]:
        g = _input_gradient(module, order[t])
        assert np.all(g[order[t:]] == 0), f"position {t} sees itself or later values"
        if gated:
            assert np.all(g[order[:t]] > 0), f"position {t} misses earlier values"
    # within a pixel: G sees R, B sees R and G (mask B on the centre taps)
    p = 4
    g_green = _input_gradient(module, 1 * H * W + p)
    g_blue = _input_gradient(module, 2 * H * W + p)
    assert g_green[p] > 0 and g_blue[p] > 0 and g_blue[H * W + p] > 0


def test_mask_types_a_and_b():
    a = _masked_square(3, 6, 3, 5, 3, "A", 1).mask.numpy()
    b = _masked_square(6, 6, 3, 5, 3, "B", 1).mask.numpy()
    # the kernel keeps the row above and the centre row (rows below are cut off)
    assert a.shape == (6, 3, 2, 3) and b.shape == (6, 6, 2, 3)
    for m in (a, b):
        assert np.all(m[:, :, 0, :] == 1) and np.all(m[:, :, 1, 0] == 1)
        assert np.all(m[:, :, 1, 2] == 0)
    # centre tap, groups R=0, G=1, B=2: A is strictly lower triangular, B lower
    groups_out = np.arange(6) * 3 // 6
    np.testing.assert_array_equal(a[:, :, 1, 1],
                                  np.arange(3)[None, :] < groups_out[:, None])
    np.testing.assert_array_equal(b[:, :, 1, 1],
                                  groups_out[None, :] <= groups_out[:, None])
    # one channel: A drops the centre, B keeps it (then no mask is needed at all)
    assert _masked_square(1, 4, 3, 5, 1, "A", 1).mask.numpy()[:, :, 1, 1].max() == 0
    b1 = _masked_square(4, 4, 3, 5, 1, "B", 1).mask
    assert float(b1[:, :, 1, 1].min()) == 1
    # a 1 x n image: no rows above, a 1 x k kernel
    assert _masked_square(1, 4, 5, 1, 1, "A", 1).conv.weight.shape[2:] == (1, 5)


def test_wavenet_dilation_receptive_field():
    """1-D, k=3, rates 1, 1, 2, 4, 8: exactly the 16 previous features are seen."""
    n = 40
    est = PixelCNN(n_layers=5, kernel_size=3, dilation="wavenet")
    est._check_layout(n)
    assert est.dilations_ == [1, 1, 2, 4, 8]
    for gated in (True, False):
        module = _module((1, 1, n), gated=gated, n_layers=5, dilations=est.dilations_)
        j = 30
        g = _input_gradient(module, j)
        np.testing.assert_array_equal(np.flatnonzero(g), np.arange(j - 16, j))
    # rates restart before reaching the width
    est = PixelCNN((8, 8), n_layers=6, dilation="wavenet")
    est._check_layout(64)
    assert est.dilations_ == [1, 1, 2, 4, 1, 2]


@pytest.mark.parametrize("image_shape", [None, (2, 2), (2, 1, 2), (4, 1, 1)])
@pytest.mark.parametrize("gated", [True, False])
def test_density_mask_check_for_layouts(image_shape, gated):
    est = PixelCNN(image_shape, gated=gated, n_filters=8, n_layers=2, max_iter=3,
                   random_state=0)
    check_density_autoregressive_mask("PixelCNN", est)


@pytest.mark.parametrize("image_shape, gated", [((4, 3), True), ((4, 3), False),
                                                ((2, 3, 2), True), (None, True)])
def test_row_cropped_sampler_matches_generic_sampling(image_shape, gated):
    """The sampler runs the network on the rows up to the current one only; its
    draws are those of the base's generic one-pass-per-feature sampler."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 3, size=(120, 12))
    est = PixelCNN(image_shape, gated=gated, n_filters=6, n_layers=3, max_iter=5,
                   random_state=0).fit(X)
    fast = est.sample(40, random_state=7)
    module = est.module_
    with torch.inference_mode():
        slow = AutoregressiveDensity._sample_indices(est, module, 40,
                                                     np.random.default_rng(7))
    np.testing.assert_array_equal(fast, est._level_values(slow))


@pytest.mark.parametrize("image_shape, n_levels", [((2, 2), 2), ((2, 1, 2), 3)])
def test_total_probability_is_one(image_shape, n_levels):
    rng = np.random.RandomState(0)
    X = rng.randint(0, n_levels, size=(80, 4))
    rows = np.array(list(itertools.product(range(n_levels), repeat=4)))
    for gated in (True, False):
        est = PixelCNN(image_shape, gated=gated, n_filters=6, n_layers=3, max_iter=5,
                       random_state=0).fit(X)
        total = np.exp(est.score_samples(rows)).sum()
        assert abs(total - 1.0) < 1e-9
        np.testing.assert_allclose(est.conditional_log_likelihood(rows).sum(axis=1),
                                   est.score_samples(rows), rtol=1e-12)


def _stripes(n, shape=(4, 4), flip=0.1, seed=0):
    """First row iid fair bits; every later row copies the row above, each bit
    flipped with probability ``flip``."""
    rng = np.random.RandomState(seed)
    H, W = shape
    X = np.empty((n, H, W), dtype=np.int64)
    X[:, 0] = rng.randint(0, 2, (n, W))
    for i in range(1, H):
        X[:, i] = X[:, i - 1] ^ (rng.rand(n, W) < flip)
    return X.reshape(n, H * W)


@pytest.mark.parametrize("gated", [True, False])
def test_learns_vertical_stripes(gated):
    """The conditional of a pixel is the pixel above: the held-out NLL is that of
    the generating distribution on the same rows, within about a tenth of a nat
    (ignoring the pixel above would cost about 4.4 nats)."""
    H, W, flip = 4, 4, 0.1
    X_te = _stripes(1000, seed=1)
    img = X_te.reshape(-1, H, W)
    flips = (img[:, 1:] != img[:, :-1]).sum(axis=(1, 2))
    true_nll = -np.mean(W * np.log(0.5) + flips * np.log(flip)
                        + ((H - 1) * W - flips) * np.log(1 - flip))
    est = PixelCNN((H, W), gated=gated, n_filters=8, n_layers=2, kernel_size=3,
                   dropout=0.0, batch_size=150, max_iter=60, learning_rate_init=0.01,
                   early_stopping=False, random_state=0).fit(_stripes(1500, seed=0))
    nll = -est.score(X_te)
    assert abs(nll - true_nll) < 0.1, (nll, true_nll)
    # the learnt conditional of a pixel given a different pixel above: about flip
    rows = np.zeros((1, H * W), dtype=int)
    rows[0, 5] = 1  # pixel (1, 1) is 1, the pixel above (0, 1) is 0
    assert abs(np.exp(est.conditional_log_likelihood(rows)[0, 5]) - flip) < 0.05
    # and samples follow the chain: a pixel equals the one above 90% of the time
    S = est.sample(400, random_state=0).reshape(-1, H, W)
    assert abs(np.mean(S[:, 1:] == S[:, :-1]) - (1 - flip)) < 0.04


def test_one_dimensional_markov_chain():
    """``image_shape=None``: a causal 1-D convolution over the features; the held-out
    NLL is that of the generating Markov chain on the same rows."""
    rng = np.random.RandomState(0)
    n, d, stay = 2000, 12, 0.85
    X = np.empty((n, d), dtype=np.int64)
    X[:, 0] = rng.randint(0, 3, n)
    for j in range(1, d):
        X[:, j] = np.where(rng.rand(n) < stay, X[:, j - 1],
                           (X[:, j - 1] + rng.randint(1, 3, n)) % 3)
    X_tr, X_te = X[:1500], X[1500:]
    est = PixelCNN(n_filters=8, n_layers=2, kernel_size=3, dropout=0.0, max_iter=30,
                   learning_rate_init=0.01, random_state=0).fit(X_tr)
    np.testing.assert_array_equal(est.ordering_, np.arange(d))
    same = X_te[:, 1:] == X_te[:, :-1]
    true_nll = -np.mean(np.log(1 / 3) + np.where(same, np.log(stay),
                                                 np.log((1 - stay) / 2)).sum(axis=1))
    assert abs(-est.score(X_te) - true_nll) < 0.05


def test_binarized_digits_ci():
    """A CI-sized version of the acceptance run (the benchmark uses the defaults)."""
    X = (load_digits().data >= 8).astype(np.int64)
    X_tr, X_te = train_test_split(X, test_size=0.3, random_state=0)
    est = PixelCNN((8, 8), n_filters=16, max_iter=8, early_stopping=False,
                   random_state=0).fit(X_tr)
    nll = -est.score(X_te)
    # the acceptance threshold (independent Bernoulli pixels: about 25.2 nats),
    # after 8 epochs instead of the default early-stopped run (about 17.5)
    assert nll < 20.0, nll
    S = est.sample(3, random_state=0)
    assert S.shape == (3, 64) and set(np.unique(S)) <= {0, 1}


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_values(bad):
    X = np.random.RandomState(0).randint(0, 2, (30, 4)).astype(float)
    est = PixelCNN((2, 2), n_filters=4, n_layers=1, max_iter=2).fit(X)
    X_bad = X.copy()
    X_bad[2, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        PixelCNN((2, 2), max_iter=2).fit(X_bad)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.score_samples(X_bad)
    with pytest.raises(ValueError, match="features"):
        est.score_samples(X[:, :3])


@pytest.mark.parametrize("kwargs, match", [
    (dict(image_shape=(3, 3)), "holds 9 values per image but X has 8 features"),
    (dict(image_shape=(3, 2, 2)), "holds 12 values"),
    (dict(image_shape=(2, -4)), "positive integer"),
    (dict(image_shape=(1, 2, 2, 2)), "image_shape must be"),
    (dict(image_shape=(2.0, 4)), "image_shape must be"),
    (dict(kernel_size=4), "kernel_size must be odd"),
    (dict(image_shape=(8, 1, 1), n_filters=4), "n_filters=4 must be at least"),
])
def test_bad_layout(kwargs, match):
    X = np.random.RandomState(0).randint(0, 2, (30, 8))
    with pytest.raises(ValueError, match=match):
        PixelCNN(max_iter=2, **kwargs).fit(X)


def test_bad_parameters():
    X = np.random.RandomState(0).randint(0, 2, (30, 8))
    with pytest.raises(ValueError, match="dilation"):
        PixelCNN(dilation="other").fit(X)
    with pytest.raises(ValueError, match="dropout"):
        PixelCNN(dropout=1.0).fit(X)


def test_divergence_stops_with_an_error():
    X = np.random.RandomState(0).randint(0, 2, (60, 4))
    with pytest.raises(ValueError, match="diverged"):
        PixelCNN((2, 2), n_filters=4, n_layers=2, learning_rate_init=1e30,
                 early_stopping=False, max_iter=20, random_state=0).fit(X)
