r"""Two-dimensional densities with a known log-density and entropy.

Each generator draws an ``(n_samples, 2)`` array; :func:`log_density` evaluates the
exact log-density of the distribution the generator samples from, and
:func:`entropy` its differential entropy

.. math::

    H(p) = -\int p(x) \log p(x) \, dx \quad \text{(nats)},

which is the smallest expected negative log-likelihood any model can reach on
held-out data (the cross-entropy :math:`-\mathbb{E}_p \log q = H(p) + KL(p \| q)`).
Closed forms are used where they exist (checkerboard); otherwise the entropy is a
numerical integral of :math:`-p \log p` on a fine grid (midpoint rule) of the exact
density, computed once and cached.
"""

import functools
import math

import numpy as np
from sklearn.datasets import make_moons

from mlnotes.utils._random import check_random_state
from mlnotes.utils._validation import check_int, check_real

__all__ = [
    "entropy",
    "log_density",
    "make_checkerboard",
    "make_density",
    "make_eight_gaussians",
    "make_pinwheel",
    "make_rings",
    "make_two_moons",
]

#: names accepted by :func:`make_density`, :func:`log_density` and :func:`entropy`
DENSITIES = ("two_moons", "checkerboard", "eight_gaussians", "rings", "pinwheel")

_MOONS_NOISE = 0.1
_EIGHT_RADIUS = 2.0 * math.sqrt(2.0)
_EIGHT_STD = 0.5 / math.sqrt(2.0)
_RING_RADII = (1.0, 2.0, 3.0)
_RING_STD = 0.1
_PIN_ARMS = 5
_PIN_RADIUS = 2.0
_PIN_STD = (0.5, 0.12)       # radial, tangential
_PIN_TWIST = 0.6             # radians of rotation per unit of distance from the origin


# ----------------------------------------------------------------------- generators


def make_two_moons(n_samples=1000, *, noise=0.1, random_state=None):
    r"""Two interleaving half circles with Gaussian noise (scikit-learn's ``make_moons``).

    The points are :func:`sklearn.datasets.make_moons` with ``shuffle=True``: half of
    them (the larger half for odd ``n_samples``) on the upper arc
    :math:`(\cos t, \sin t)`, the others on the lower arc
    :math:`(1 - \cos t, \tfrac12 - \sin t)`, :math:`t` evenly spaced on
    :math:`[0, \pi]`, plus isotropic Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise. :func:`log_density` and
        :func:`entropy` describe the default ``noise=0.1``.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise and the shuffle; None draws fresh entropy (never NumPy's
        global generator).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.

    Notes
    -----
    As :math:`n \to \infty` the arc parameter is uniform on :math:`[0, \pi]`, so the
    density is an equal mixture of the two arcs blurred by the noise,

    .. math::

        p(x) = \frac{1}{2\pi} \sum_{k=1}^{2} \int_0^\pi
        \mathcal N\big(x;\, c_k(t),\, \sigma^2 I\big) \, dt,

    with entropy about 1.007 nats for :math:`\sigma = 0.1` (:func:`entropy`).

    Examples
    --------
    >>> from mlnotes.datasets import make_two_moons
    >>> make_two_moons(500, random_state=0).shape
    (500, 2)
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    noise = check_real(noise, "noise", 0, low_open=True)
    rng = check_random_state(random_state)
    X, _ = make_moons(n_samples, noise=noise, random_state=rng)
    return X


def make_checkerboard(n_samples=1000, *, random_state=None):
    r"""Uniform points on the black squares of an 8 x 8 checkerboard on :math:`[-4, 4]^2`.

    A square :math:`[i, i+1) \times [j, j+1)` (integers :math:`-4 \le i, j < 4`) is
    filled when :math:`i + j` is even: 32 unit squares out of 64.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    random_state : int, RandomState instance or None, default=None
        Seed; None draws fresh entropy (never NumPy's global generator).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.

    Notes
    -----
    The density is :math:`1/32` on the filled squares and 0 elsewhere, so the entropy
    is exactly :math:`\log 32 \approx 3.466` nats. The sharp edges make it hard for
    smooth models.

    Examples
    --------
    >>> from mlnotes.datasets import make_checkerboard
    >>> X = make_checkerboard(200, random_state=0)
    >>> bool(((X >= -4) & (X < 4)).all())
    True
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    rng = check_random_state(random_state)
    cell = rng.randint(0, 32, size=n_samples)
    i = cell // 4                            # row 0..7
    j = 2 * (cell % 4) + (i % 2)             # i + j even
    u = rng.random_sample((n_samples, 2))
    return np.column_stack([i + u[:, 0], j + u[:, 1]]) - 4.0


def make_eight_gaussians(n_samples=1000, *, random_state=None):
    r"""An equal mixture of eight Gaussians on a circle of radius :math:`2\sqrt2`.

    Component :math:`k = 0..7` has mean :math:`2\sqrt2\,(\cos\frac{k\pi}{4},
    \sin\frac{k\pi}{4})` and covariance :math:`\sigma^2 I` with
    :math:`\sigma = 0.5/\sqrt2` (the "8 gaussians" of the flow literature, scaled).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    random_state : int, RandomState instance or None, default=None
        Seed; None draws fresh entropy (never NumPy's global generator).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.

    Notes
    -----
    The components barely overlap (neighbouring means are about 6 standard deviations
    apart), so the entropy is close to :math:`\log 8 + 1 + \log(2\pi\sigma^2)
    \approx 2.838`; the overlap lowers it slightly, to about 2.832 (:func:`entropy`).

    Examples
    --------
    >>> from mlnotes.datasets import make_eight_gaussians
    >>> make_eight_gaussians(100, random_state=0).shape
    (100, 2)
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    rng = check_random_state(random_state)
    k = rng.randint(0, 8, size=n_samples)
    angle = k * (math.pi / 4.0)
    centres = _EIGHT_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])
    return centres + _EIGHT_STD * rng.standard_normal((n_samples, 2))


def make_rings(n_samples=1000, *, random_state=None):
    r"""Three concentric noisy rings of radii 1, 2 and 3.

    A point picks ring :math:`k` with probability proportional to its radius
    :math:`r_k` (so the points are evenly spread along the rings), an angle
    :math:`\theta` uniform on :math:`[0, 2\pi)` and a signed radius
    :math:`\rho = r_k + \sigma\varepsilon`, :math:`\varepsilon \sim \mathcal N(0, 1)`,
    :math:`\sigma = 0.1`; the point is :math:`\rho(\cos\theta, \sin\theta)`.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    random_state : int, RandomState instance or None, default=None
        Seed; None draws fresh entropy (never NumPy's global generator).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.

    Notes
    -----
    With :math:`w_k = r_k / \sum_l r_l` and :math:`s = \lVert x \rVert`, the change
    to polar coordinates (a negative :math:`\rho` lands at angle
    :math:`\theta + \pi`) gives the exact density

    .. math::

        p(x) = \frac{1}{2\pi s} \sum_k w_k \big[\mathcal N(s; r_k, \sigma^2) +
        \mathcal N(-s; r_k, \sigma^2)\big].

    Examples
    --------
    >>> from mlnotes.datasets import make_rings
    >>> make_rings(100, random_state=0).shape
    (100, 2)
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    rng = check_random_state(random_state)
    radii = np.asarray(_RING_RADII)
    k = rng.choice(len(radii), size=n_samples, p=radii / radii.sum())
    theta = rng.random_sample(n_samples) * 2.0 * math.pi
    rho = radii[k] + _RING_STD * rng.standard_normal(n_samples)
    return rho[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])


def make_pinwheel(n_samples=1000, *, random_state=None):
    r"""Five curved arms: a Gaussian mixture twisted by a radius-dependent rotation.

    Arm :math:`k = 0..4` starts as a Gaussian with mean :math:`2\,(\cos a_k,
    \sin a_k)`, :math:`a_k = 2\pi k / 5`, standard deviation 0.5 along the radius
    and 0.12 across it; each point :math:`u` of the mixture is then rotated about the
    origin by the angle :math:`0.6\,\lVert u \rVert`, which bends the arms into a
    pinwheel.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    random_state : int, RandomState instance or None, default=None
        Seed; None draws fresh entropy (never NumPy's global generator).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.

    Notes
    -----
    The twist :math:`T(u) = R(c \lVert u \rVert)\, u` is, in polar coordinates,
    :math:`(r, \varphi) \mapsto (r, \varphi + c r)`: its Jacobian determinant is 1
    (it preserves area) and it keeps the radius, so its inverse is the rotation by
    :math:`-c \lVert x \rVert` and the density is exactly

    .. math::

        p(x) = p_{\mathrm{GMM}}\big(R(-c \lVert x \rVert)\, x\big),

    with entropy that of the untwisted equal mixture of five well-separated
    Gaussians, close to :math:`\log 5 + 1 + \log(2\pi \cdot 0.5 \cdot 0.12)
    \approx 1.634` nats; the overlap near the origin lowers it by less than
    0.001 (:func:`entropy`: 1.6335). Long thin curved arms that meet near the
    origin are hard for affine flows. The shape follows the pinwheel data of
    Johnson et al., "Composing graphical models with neural networks" (2016), with
    a twist that depends on the radius only, so that the density is exact.

    Examples
    --------
    >>> from mlnotes.datasets import make_pinwheel
    >>> make_pinwheel(100, random_state=0).shape
    (100, 2)
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    rng = check_random_state(random_state)
    k = rng.randint(0, _PIN_ARMS, size=n_samples)
    eps = rng.standard_normal((n_samples, 2)) * np.asarray(_PIN_STD)
    a = k * (2.0 * math.pi / _PIN_ARMS)
    radial = _PIN_RADIUS + eps[:, 0]
    u = np.column_stack([radial * np.cos(a) - eps[:, 1] * np.sin(a),
                         radial * np.sin(a) + eps[:, 1] * np.cos(a)])
    return _rotate(u, _PIN_TWIST * np.sqrt((u**2).sum(axis=1)))


def _rotate(X, angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.column_stack([c * X[:, 0] - s * X[:, 1], s * X[:, 0] + c * X[:, 1]])


_GENERATORS = {
    "two_moons": make_two_moons,
    "checkerboard": make_checkerboard,
    "eight_gaussians": make_eight_gaussians,
    "rings": make_rings,
    "pinwheel": make_pinwheel,
}


def _check_name(name):
    if name not in _GENERATORS:
        raise ValueError(f"Unknown density {name!r}; expected one of {DENSITIES}.")
    return name


def make_density(name, n_samples=1000, *, random_state=None):
    """Draw points from one of the densities of ``DENSITIES`` by name.

    Parameters
    ----------
    name : {"two_moons", "checkerboard", "eight_gaussians", "rings", "pinwheel"}
        The density.
    n_samples : int, default=1000
        Number of points.
    random_state : int, RandomState instance or None, default=None
        Seed; None draws fresh entropy (never NumPy's global generator).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points (``make_<name>(n_samples, random_state=random_state)``).

    Examples
    --------
    >>> from mlnotes.datasets import make_density
    >>> make_density("rings", 10, random_state=0).shape
    (10, 2)
    """
    return _GENERATORS[_check_name(name)](n_samples, random_state=random_state)


# ----------------------------------------------------------------- exact densities


def _log_normal_2d(sq_dist, var):
    return -0.5 * sq_dist / var - math.log(2.0 * math.pi * var)


def _logsumexp(a, axis):
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))


# Gauss-Legendre nodes on [0, pi] for the arc integral of the moons (the Gaussian is
# ~0.1 rad wide on a unit arc: 160 nodes resolve it to ~1e-9 relative).
@functools.lru_cache(maxsize=None)
def _arc_nodes(n=160):
    t, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * math.pi * (t + 1.0), 0.5 * math.pi * w


def _log_density_two_moons(X, n_nodes=160):
    t, w = _arc_nodes(n_nodes)
    var = _MOONS_NOISE**2
    arcs = np.concatenate([np.column_stack([np.cos(t), np.sin(t)]),
                           np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])])
    # 1/(2 pi): the mixture weight 1/2 times the uniform density 1/pi of t
    log_w = np.log(np.concatenate([w, w])) - math.log(2.0 * math.pi)
    arc_sq = (arcs**2).sum(axis=1)
    out = []
    for start in range(0, X.shape[0], 8192):
        xb = X[start:start + 8192]
        d2 = (xb**2).sum(axis=1)[:, None] + arc_sq[None, :] - 2.0 * xb @ arcs.T
        out.append(_logsumexp(_log_normal_2d(np.maximum(d2, 0.0), var) + log_w, axis=1))
    return np.concatenate(out) if out else np.empty(0)


def _log_density_checkerboard(X):
    inside = np.all((X >= -4.0) & (X < 4.0), axis=1)
    cell = np.floor(X).astype(np.int64) + 4
    black = (cell[:, 0] + cell[:, 1]) % 2 == 0
    return np.where(inside & black, -math.log(32.0), -np.inf)


def _log_density_eight_gaussians(X):
    angle = np.arange(8) * (math.pi / 4.0)
    centres = _EIGHT_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])
    d2 = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    return _logsumexp(_log_normal_2d(d2, _EIGHT_STD**2), axis=1) - math.log(8.0)


def _log_density_rings(X):
    radii = np.asarray(_RING_RADII)
    logw = np.log(radii / radii.sum())
    s = np.sqrt((X**2).sum(axis=1))[:, None]
    var = _RING_STD**2
    log_n = lambda z: -0.5 * (z - radii) ** 2 / var - 0.5 * math.log(2 * math.pi * var)  # noqa: E731
    terms = np.concatenate([logw + log_n(s), logw + log_n(-s)], axis=1)
    with np.errstate(divide="ignore"):
        return _logsumexp(terms, axis=1) - np.log(2.0 * math.pi * s[:, 0])


def _log_density_pinwheel(X):
    # undo the area-preserving twist, then the exact mixture density
    u = _rotate(X, -_PIN_TWIST * np.sqrt((X**2).sum(axis=1)))
    a = np.arange(_PIN_ARMS) * (2.0 * math.pi / _PIN_ARMS)
    # coordinates of u along and across each arm's direction
    along = u[:, :1] * np.cos(a) + u[:, 1:] * np.sin(a) - _PIN_RADIUS
    across = -u[:, :1] * np.sin(a) + u[:, 1:] * np.cos(a)
    sr, st = _PIN_STD
    log_n = (-0.5 * (along / sr) ** 2 - 0.5 * (across / st) ** 2
             - math.log(2.0 * math.pi * sr * st))
    return _logsumexp(log_n, axis=1) - math.log(_PIN_ARMS)


_LOG_DENSITIES = {
    "two_moons": _log_density_two_moons,
    "checkerboard": _log_density_checkerboard,
    "eight_gaussians": _log_density_eight_gaussians,
    "rings": _log_density_rings,
    "pinwheel": _log_density_pinwheel,
}

# Integration boxes (the density outside is below 1e-12 of its peak).
_BOXES = {
    "two_moons": ((-1.8, 2.8), (-1.3, 1.8)),
    "eight_gaussians": ((-5.0, 5.0), (-5.0, 5.0)),
    "rings": ((-4.0, 4.0), (-4.0, 4.0)),
    "pinwheel": ((-5.5, 5.5), (-5.5, 5.5)),
}


def log_density(name, X):
    """Exact log-density of one of the densities of ``DENSITIES``, in nats.

    Parameters
    ----------
    name : {"two_moons", "checkerboard", "eight_gaussians", "rings", "pinwheel"}
        The density (for ``"two_moons"``, the default ``noise=0.1``, with the arc
        parameter uniform as in the limit of many samples).
    X : array-like of shape (n_samples, 2)
        Points.

    Returns
    -------
    log_p : ndarray of shape (n_samples,)
        ``log p(x)`` of each point (float64; ``-inf`` outside the support of the
        checkerboard).

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.datasets import log_density
    >>> float(np.exp(log_density("checkerboard", [[0.5, 0.5]]))[0])
    0.03125
    """
    name = _check_name(name)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2); got {X.shape}.")
    return _LOG_DENSITIES[name](X)


@functools.lru_cache(maxsize=None)
def _grid_entropy(name, step=0.01):
    (x0, x1), (y0, y1) = _BOXES[name]
    xs = np.arange(x0 + step / 2, x1, step)
    ys = np.arange(y0 + step / 2, y1, step)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    logp = _LOG_DENSITIES[name](pts)
    p = np.exp(logp)
    total = float(-(p * logp).sum() * step * step)
    mass = float(p.sum() * step * step)
    return total, mass


def entropy(name):
    r"""Differential entropy of one of the densities of ``DENSITIES``, in nats.

    Parameters
    ----------
    name : {"two_moons", "checkerboard", "eight_gaussians", "rings", "pinwheel"}
        The density.

    Returns
    -------
    H : float
        :math:`-\int p \log p`: exactly :math:`\log 32` for the checkerboard; a
        midpoint-rule integral on a grid of step 0.01 over a box holding all but a
        negligible part of the mass for the others (about 1.007 for the two moons,
        2.832 for the eight Gaussians).

    Examples
    --------
    >>> from mlnotes.datasets import entropy
    >>> round(entropy("checkerboard"), 4)
    3.4657
    """
    name = _check_name(name)
    if name == "checkerboard":
        return math.log(32.0)
    return _grid_entropy(name)[0]
