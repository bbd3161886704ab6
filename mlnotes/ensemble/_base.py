"""Machinery shared by the ensembles (forests, bagging, boosting)."""


class EnsembleSequenceMixin:
    """Make a fitted ensemble behave as the sequence of its ``estimators_``."""

    def __len__(self):
        """Number of fitted learners in the ensemble.

        Returns
        -------
        n : int
            ``len(self.estimators_)``.
        """
        return len(self.estimators_)

    def __getitem__(self, index):
        """The ``index``-th fitted learner.

        Parameters
        ----------
        index : int or slice
            Position in ``estimators_``.

        Returns
        -------
        estimator : estimator or list of estimators
            ``self.estimators_[index]``.
        """
        return self.estimators_[index]

    def __iter__(self):
        """Iterate over the fitted learners.

        Returns
        -------
        iterator : iterator
            Over ``estimators_``.
        """
        return iter(self.estimators_)
