"""Scaling out: data-parallel training of the torch estimators (chapter 59).

The other ways of scaling out need nothing from this module: estimators with
``n_jobs`` and scikit-learn's searches run on a Dask cluster or a Ray instance through
joblib's backends (``joblib.parallel_config(backend="dask")``), and agents take
Stable-Baselines3's ``SubprocVecEnv``. See the user guide's "Scaling out" page.
"""

from ._ddp import fit_distributed

__all__ = ["fit_distributed"]
