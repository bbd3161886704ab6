"""Imitation learning (chapter 26): behavioural cloning and DAgger.

The agents are documented and exported through :mod:`mlnotes.rl` (its ``__all__``);
this package has no ``__all__`` of its own so that the API reference lists each agent
once. :class:`~mlnotes.rl.imitation._bc.ImitationPolicy` (the ``MlpPolicy`` of both)
and :func:`~mlnotes.rl.imitation._bc.hindsight_relabel` are importable from here.
"""

from ._bc import BC, ImitationPolicy, hindsight_relabel
from ._dagger import DAgger
