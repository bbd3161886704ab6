"""Offline RL (chapters 38-39): datasets and agents that learn from them.

:func:`collect_dataset` records transitions of any policy, :func:`make_dataset` the
D4RL-style ``random`` / ``medium`` / ``medium-replay`` / ``expert`` datasets (recipes in
``DATASET_RECIPES``); agents such as
:class:`~mlnotes.rl.TD3BC` learn with ``fit(dataset, n_steps)``.
"""

from ._dataset import DATASET_RECIPES, check_dataset, collect_dataset, make_dataset

__all__ = ["collect_dataset", "check_dataset", "make_dataset"]
