"""Mixture models: Gaussian mixtures fitted by EM (chapter 20 of the notes)."""

from ._gaussian_mixture import GaussianMixture

__all__ = ["GaussianMixture"]
