"""Ensembles: bagging and random forests (chapter 13), AdaBoost (chapter 23)."""

from ._bagging import BaggingClassifier, BaggingRegressor
from ._forest import RandomForestClassifier, RandomForestRegressor
from ._weight_boosting import AdaBoostClassifier, AdaBoostRegressor

__all__ = [
    "AdaBoostClassifier", "AdaBoostRegressor", "BaggingClassifier", "BaggingRegressor",
    "RandomForestClassifier", "RandomForestRegressor",
]
