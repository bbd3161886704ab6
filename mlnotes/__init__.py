"""mlnotes: the methods of a set of machine-learning course notes, as tested estimators and agents."""

__version__ = "0.1.0.dev0"
