"""Naive Bayes classifiers (chapter 7 of the notes)."""

from ._gaussian import GaussianNB

__all__ = ["GaussianNB"]
