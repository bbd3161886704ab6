"""Decision trees: CART classification and regression trees (chapter 13 of the notes)."""

from ._classes import DecisionTreeClassifier, DecisionTreeRegressor

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]
