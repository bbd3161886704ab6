"""Generated datasets: two-dimensional densities with known entropy (chapters 49-52).

Benchmarks and tests of the continuous density models (flows, VAE, GAN, diffusion)
draw from these: each generator has an exact :func:`log_density` and an
:func:`entropy`, the floor of any model's held-out negative log-likelihood.
``DENSITIES`` (importable from here) is the tuple of their names:
``("two_moons", "checkerboard", "eight_gaussians", "rings", "pinwheel")``.
"""

from ._densities import (
    DENSITIES,
    entropy,
    log_density,
    make_checkerboard,
    make_density,
    make_eight_gaussians,
    make_pinwheel,
    make_rings,
    make_two_moons,
)

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
