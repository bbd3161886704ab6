"""Neural networks in torch: multi-layer perceptrons and a CNN (chapters 15-17)."""

from ._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
