"""CNNClassifier (chapter 17): image shapes, the float64 convolution path, the digits
acceptance, pickling and bad input."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SKMLPClassifier

from mlnotes.neural_network import CNNClassifier
from mlnotes.neural_network._networks import _CNNModule, _ConvBlock


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def _images(n=60, shape=(2, 5, 6), seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, int(np.prod(shape))))
    y = (X[:, 0] + X[:, -1] > 0).astype(int)
    return X, y


@pytest.mark.parametrize("image_shape, expected", [
    (None, (1, 1, 60)), ((6, 10), (1, 6, 10)), ((2, 5, 6), (2, 5, 6)),
    ([3, 4, 5], (3, 4, 5)),
])
def test_image_shape(image_shape, expected):
    X, y = _images()
    clf = _quiet(CNNClassifier(image_shape=image_shape, conv_channels=(4,), max_iter=2,
                               random_state=0).fit, X, y)
    assert clf.image_shape_ == expected
    assert clf.predict_proba(X).shape == (60, 2)


@pytest.mark.parametrize("image_shape, match", [
    ((7, 7), "49 values per image but X has 60"), ((0, 60), "positive"),
    ((1, 2, 3, 10), "image_shape"), ((2.5, 24), "image_shape"),
])
def test_bad_image_shape(image_shape, match):
    X, y = _images()
    with pytest.raises(ValueError, match=match):
        CNNClassifier(image_shape=image_shape).fit(X, y)


def test_even_kernel_is_rejected():
    X, y = _images()
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        CNNClassifier(kernel_size=2).fit(X, y)


@pytest.mark.parametrize("pool", ["max", "avg", None])
@pytest.mark.parametrize("shape", [(3, 7, 5), (1, 1, 9), (2, 2, 3)])
def test_float64_im2col_path_equals_torch_convolution(pool, shape):
    """The channels-last im2col forward (float64) is torch's convolution + pooling."""
    torch.manual_seed(0)
    c, h, w = shape
    window = (2 if h > 2 else 1, 2 if w > 2 else 1)
    block = _ConvBlock(c, 4, (min(3, h if h % 2 else h + 1), 3), batch_norm=True,
                       activation="tanh", pool=pool, window=window)
    with torch.no_grad():
        block.norm.running_mean.uniform_(-1, 1)
        block.norm.running_var.uniform_(0.5, 2)
    block.eval()
    x = torch.randn(5, c, h, w, dtype=torch.float64)
    ref = block(x)
    ours = block.forward_nhwc(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    # and the whole network: float64 (im2col) vs float32 (torch conv) forward
    net = _CNNModule((c, h, w), [4, 3], 3, pool, 2, [5], 2, "relu", 0.0, False)
    CNNClassifier()._init_module(net, np.random.RandomState(0))
    x = torch.randn(5, c * h * w, dtype=torch.float64)
    out64 = net(x)
    out32 = net.float()(x.float())
    torch.testing.assert_close(out32.double(), out64, rtol=1e-4, atol=1e-5)


def test_standardization_is_per_channel():
    X, _ = _images(n=40, shape=(3, 4, 4))
    X = X + np.repeat([0.0, 5.0, -3.0], 16) * np.repeat([1.0, 2.0, 10.0], 16)
    clf = CNNClassifier(image_shape=(3, 4, 4))
    clf.image_shape_ = (3, 4, 4)
    mean, scale = clf._standardization(X, None)
    per_channel = X.reshape(40, 3, 16)
    np.testing.assert_allclose(mean[::16], per_channel.mean(axis=(0, 2)))
    np.testing.assert_allclose(scale[::16], per_channel.std(axis=(0, 2)))
    assert np.all(mean.reshape(3, 16) == mean[::16, None])


def test_beats_sklearn_mlp_on_digits():
    """Acceptance: image_shape=(8, 8), defaults otherwise, >= 0.5 points better than
    scikit-learn's MLPClassifier on held-out digits (float32 input to keep the test
    short; the float64 run is the benchmark's CNN-vs-MLP row)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.2,
                                                        stratify=y, random_state=0)
    ref = _quiet(SKMLPClassifier(random_state=0).fit, X_train, y_train)
    cnn = _quiet(CNNClassifier(image_shape=(8, 8), random_state=0).fit,
                 X_train.astype(np.float32), y_train)
    assert cnn.score(X_test, y_test) >= ref.score(X_test, y_test) + 0.005


def test_pickle_and_batch_independence():
    X, y = _images(n=80, shape=(1, 6, 6))
    clf = _quiet(CNNClassifier(image_shape=(6, 6), conv_channels=(4, 8), batch_norm=True,
                               max_iter=5, random_state=0).fit, X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-14)
    np.testing.assert_allclose(clf.predict_proba(X[5:6]), proba[5:6], rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X[::-1]), proba[::-1], rtol=1e-12)


def test_lbfgs_and_sgd_train():
    X, y = make_classification(120, 16, n_informative=6, random_state=0)
    for solver in ("lbfgs", "sgd"):
        clf = _quiet(CNNClassifier(image_shape=(4, 4), conv_channels=(4,), solver=solver,
                                   max_iter=40, learning_rate_init=0.05,
                                   random_state=0).fit, X, y)
        assert clf.score(X, y) > 0.85, solver


def test_global_torch_rng_is_left_alone():
    X, y = _images()
    state = torch.get_rng_state()
    _quiet(CNNClassifier(conv_channels=(4,), dropout=0.5, max_iter=2,
                         random_state=0).fit, X, y)
    assert torch.equal(torch.get_rng_state(), state)


def test_multilabel():
    X, _ = _images(n=50, shape=(1, 4, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 5] > 0]).astype(int)
    clf = _quiet(CNNClassifier(image_shape=(4, 4), conv_channels=(4,), max_iter=30,
                               learning_rate_init=0.01, random_state=0).fit, X, Y)
    assert clf.predict(X).shape == (50, 2)
    assert clf.out_activation_ == "logistic"


def test_float64_path_matches_float64_conv2d_gradients():
    """Autograd through the im2col path gives torch's conv2d gradients."""
    torch.manual_seed(1)
    block = _ConvBlock(2, 3, (3, 3), batch_norm=False, activation="relu", pool="max",
                       window=(2, 2))
    x = torch.randn(4, 2, 5, 5, dtype=torch.float64)
    g_ref = torch.autograd.grad(block(x).square().sum(), list(block.parameters()))
    out = block.forward_nhwc(x.permute(0, 2, 3, 1))
    g_ours = torch.autograd.grad(out.square().sum(), list(block.parameters()))
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
