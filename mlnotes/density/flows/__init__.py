"""Normalising flows (chapter 49): exact-likelihood density models of continuous data.

The four estimators share one small set of transforms (each with ``forward``,
``inverse`` and ``log_abs_det_jacobian``) and one estimator base over a standard
normal distribution.
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

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "Glow",
    "InvertibleLinearLU",
    "MAF",
    "MaskedAffineAutoregressive",
    "NeuralSplineFlow",
    "Permutation",
    "RationalQuadraticCoupling",
    "RealNVP",
    "Transform",
]
