"""Generative classifiers and Bayes decision theory (chapters 6-7 of the notes)."""

from ._bayes_decision import BayesDecisionClassifier
from ._lda import LinearDiscriminantAnalysis
from ._qda import QuadraticDiscriminantAnalysis

__all__ = [
    "BayesDecisionClassifier",
    "LinearDiscriminantAnalysis",
    "QuadraticDiscriminantAnalysis",
]
