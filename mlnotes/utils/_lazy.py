"""A module imported on first use, for modules that must import without torch.

``torch = lazy_module("torch", globals())`` binds a placeholder to the name ``torch``
in the calling module. The first attribute read through it (``torch.zeros``) imports
torch and rebinds the module's global name to the real module, so later reads pay
nothing: the functions of that module look ``torch`` up as a global each time they
run. ``import mlnotes.neural_network`` uses this so that torch (about a second to
import) is imported by the first ``fit``, ``predict`` or unpickling, not by the import.
"""

import importlib

__all__ = ["lazy_module"]


class _LazyModule:
    """Placeholder for the module ``name``, bound to ``alias`` in ``namespace``."""

    __slots__ = ("_lazy_name", "_lazy_namespace", "_lazy_alias")

    def __init__(self, name, namespace, alias):
        self._lazy_name = name
        self._lazy_namespace = namespace
        self._lazy_alias = alias

    def _load(self):
        module = importlib.import_module(self._lazy_name)
        if self._lazy_namespace.get(self._lazy_alias) is self:
            self._lazy_namespace[self._lazy_alias] = module
        return module

    def __getattr__(self, attr):
        return getattr(self._load(), attr)

    def __repr__(self):
        return f"<module {self._lazy_name!r}, imported on first use>"


def lazy_module(name, namespace, alias=None):
    """A placeholder for module ``name`` that imports it on first attribute access.

    Parameters
    ----------
    name : str
        The module's import name (``"torch"``, ``"torch.nn.functional"``).
    namespace : dict
        The calling module's ``globals()``: on first use the placeholder replaces
        itself there by the module.
    alias : str or None, default=None
        The global name the placeholder is bound to (default: the last component of
        ``name``).

    Returns
    -------
    placeholder : object
        Forwards attribute reads to the module, importing it on the first.
    """
    return _LazyModule(name, namespace, alias or name.rpartition(".")[2])
