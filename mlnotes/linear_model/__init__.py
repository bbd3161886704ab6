"""Linear models: least squares, ridge, logistic regression, perceptron (chapters 2, 9-12)."""

from ._least_squares import LinearRegression
from ._perceptron import Perceptron
from ._ridge import Ridge

__all__ = ["LinearRegression", "Perceptron", "Ridge"]
