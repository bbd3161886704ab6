"""Random state: ``check_random_state`` that never touches NumPy's global generator."""

import numpy as np
from sklearn.utils import check_random_state as _sklearn_check_random_state


def check_random_state(seed):
    """A ``RandomState`` from ``seed``; ``None`` draws fresh OS entropy.

    scikit-learn's ``check_random_state(None)`` returns NumPy's global generator, so
    every fit with ``random_state=None`` advances the user's global state; mlnotes
    leaves that state as it found it (CONTRIBUTING.md, "Estimators"). An int, a ``RandomState`` or a
    ``Generator``-free seed behaves exactly as in scikit-learn.

    Parameters
    ----------
    seed : None, int or numpy.random.RandomState
        The seed.

    Returns
    -------
    rng : numpy.random.RandomState
        A new generator seeded from OS entropy (None), a new generator seeded with the
        int, or ``seed`` itself.
    """
    if seed is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(4))
    return _sklearn_check_random_state(seed)
