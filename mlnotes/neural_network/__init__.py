"""Neural networks in torch: multi-layer perceptrons and a CNN (chapters 15-17)."""

from ._cnn import CNNClassifier
from ._mlp import MLPClassifier, MLPRegressor

__all__ = ["CNNClassifier", "MLPClassifier", "MLPRegressor"]
