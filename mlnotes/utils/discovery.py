"""Discovery of the public estimators and agents of mlnotes.

The functions mirror :func:`sklearn.utils.discovery.all_estimators`: they walk the
package, import every public module and return sorted ``(name, class)`` pairs.
"""

import inspect
import pkgutil
from importlib import import_module
from operator import itemgetter
from pathlib import Path

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

__all__ = ["all_estimators", "all_agents"]

_ROOT = Path(__file__).resolve().parents[1]
# Sub-packages that hold no estimators (tests live outside the package).
_SKIP_MODULES = {"tests", "externals"}

_TYPE_MIXINS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
}


def _rl_extra_installed():
    from importlib.util import find_spec

    try:
        return all(find_spec(name) is not None for name in ("gymnasium", "stable_baselines3"))
    except (ImportError, ValueError):  # a module blocked in sys.modules (set to None)
        return False


def _public_classes():
    """Yield ``(name, class)`` for every class that a public mlnotes module exports.

    Public means listed in the ``__all__`` of a module whose dotted path has no
    private (``_``-prefixed) part, i.e. what users import and the API reference
    documents; base classes and helpers inside private modules are never returned.
    """
    seen = set()
    for _, module_name, _ in pkgutil.walk_packages([str(_ROOT)], prefix="mlnotes."):
        parts = module_name.split(".")
        if any(p.startswith("_") for p in parts[1:]):
            continue
        if any(p in _SKIP_MODULES for p in parts):
            continue
        try:
            module = import_module(module_name)
        except ImportError:
            if parts[1] == "rl" and not _rl_extra_installed():
                continue  # mlnotes.rl without its extra: no agents (and no rl estimators)
            raise
        for name in getattr(module, "__all__", ()):
            cls = getattr(module, name, None)
            if not inspect.isclass(cls) or not cls.__module__.startswith("mlnotes."):
                continue
            if cls in seen:
                continue
            seen.add(cls)
            yield name, cls


def all_estimators(type_filter=None):
    """Get every public scikit-learn-style estimator of mlnotes.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "cluster", "transformer", "density"} \
            or list of these, default=None
        Keep only estimators of these kinds. ``None`` returns all of them.

    Returns
    -------
    estimators : list of tuple
        Sorted ``(name, class)`` pairs, ``name`` being the class name.

    Examples
    --------
    >>> from mlnotes.utils.discovery import all_estimators
    >>> names = [name for name, _ in all_estimators(type_filter="regressor")]
    >>> "Ridge" in names
    True
    """
    estimators = [
        (name, cls)
        for name, cls in _public_classes()
        if issubclass(cls, BaseEstimator) and not inspect.isabstract(cls)
        and not name.startswith("Base")
    ]
    if type_filter is not None:
        filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        from mlnotes.base import DensityMixin  # imports torch: only when filtering

        mixins = dict(_TYPE_MIXINS, density=DensityMixin)
        unknown = [f for f in filters if f not in _TYPE_MIXINS and f != "density"]
        if unknown:
            raise ValueError(
                "type_filter must be None, or one or a list of "
                f"{sorted([*_TYPE_MIXINS, 'density'])}; got {type_filter!r}."
            )
        wanted = tuple(mixins[f] for f in filters if f in mixins)
        estimators = [(n, c) for n, c in estimators if wanted and issubclass(c, wanted)]
    return sorted(set(estimators), key=itemgetter(0))


def all_agents():
    """Get every public reinforcement-learning agent of mlnotes.

    Agents follow the Stable-Baselines3 surface and do not subclass
    :class:`~sklearn.base.BaseEstimator`, so :func:`all_estimators` never returns
    them.

    Returns
    -------
    agents : list of tuple
        Sorted ``(name, class)`` pairs.

    Examples
    --------
    >>> from mlnotes.utils.discovery import all_agents
    >>> isinstance(all_agents(), list)
    True
    """
    if not _rl_extra_installed():
        return []  # pip install "mlnotes[rl]" for the agents
    base_module = import_module("mlnotes.rl.common.base_class")
    base = base_module.BaseAlgorithm
    agents = [
        (name, cls)
        for name, cls in _public_classes()
        if issubclass(cls, base) and cls is not base and not inspect.isabstract(cls)
        and not name.startswith("Base")
    ]
    return sorted(set(agents), key=itemgetter(0))
