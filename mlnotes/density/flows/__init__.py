"""Normalising flows (chapter 49): exact-likelihood density models of continuous data.

The four estimators share one small set of transforms (each with ``forward``,
``inverse`` and ``log_abs_det_jacobian``) and one estimator base over a standard
normal distribution.

The estimators are documented (and exported) in :mod:`mlnotes.density`; the transforms
are torch modules, importable from here, documented in the user guide. This module has
no ``__all__`` on purpose: the API reference would otherwise list every method the
transforms inherit from :class:`torch.nn.Module`.
"""

from ._glow import Glow
from ._maf import MAF
from ._nsf import NeuralSplineFlow
from ._realnvp import RealNVP
from ._transforms import (
    ActNorm,
    AffineCoupling,
    InvertibleLinearLU,
    MaskedAffineAutoregressive,
    Permutation,
    RationalQuadraticCoupling,
    Transform,
)
