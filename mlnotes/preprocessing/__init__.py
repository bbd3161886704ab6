"""Preprocessing: basis expansions used by the linear models (chapter 9)."""

from ._polynomial import PolynomialFeatures

__all__ = ["PolynomialFeatures"]
