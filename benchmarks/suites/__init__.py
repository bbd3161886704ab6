"""The registry of suites: every public module in this package that defines ``SUITE``.

Adding a suite is adding one file, ``benchmarks/suites/<name>.py``, whose module-level
``SUITE`` follows :class:`benchmarks.harness.Suite` (usually an
:class:`~benchmarks.harness.EstimatorSuite`). Suite modules must stay cheap to import:
estimators are named by dotted strings and imported only when a case runs.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["available_suites"]


def available_suites() -> dict:
    """``{suite name: suite}`` for every module here with a ``SUITE``, sorted by name."""
    suites = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        suite = getattr(module, "SUITE", None)
        if suite is None:
            continue
        if suite.name in suites:
            raise ValueError(f"two suites are named {suite.name!r}")
        suites[suite.name] = suite
    return dict(sorted(suites.items()))
