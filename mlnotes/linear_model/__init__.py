"""Linear models: least squares, ridge, logistic regression, perceptron (chapters 2, 9-12)."""

from ._least_squares import LinearRegression

__all__ = ["LinearRegression"]
