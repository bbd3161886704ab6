"""Offline RL (chapters 38-39): datasets and agents that learn from them.

:func:`collect_dataset` records transitions of any policy; agents such as
:class:`~mlnotes.rl.TD3BC` learn with ``fit(dataset, n_steps)``.
"""

from ._dataset import check_dataset, collect_dataset

__all__ = ["collect_dataset", "check_dataset"]
