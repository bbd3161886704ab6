"""Linear models: least squares, ridge, logistic regression, perceptron (chapters 2, 9-12)."""

from ._bayes import BayesianRidge
from ._coordinate_descent import ElasticNet, Lasso, enet_path, lasso_path
from ._kernel_perceptron import KernelPerceptron
from ._least_squares import LinearRegression
from ._logistic import LogisticRegression
from ._perceptron import Perceptron
from ._ridge import Ridge
from ._stochastic_gradient import SGDClassifier, SGDRegressor

__all__ = [
    "BayesianRidge", "ElasticNet", "Lasso", "LinearRegression", "LogisticRegression",
    "Perceptron", "Ridge", "SGDClassifier", "SGDRegressor", "enet_path", "lasso_path",
    "KernelPerceptron",
]
