"""Where numba caches mlnotes' compiled kernels, when the usual places are read-only.

numba (``cache=True``) writes its cache next to the module (``__pycache__``), or, when
that directory is read-only, into the per-user cache directory
(``$XDG_CACHE_HOME/numba``, else ``~/.cache/numba``), or into ``$NUMBA_CACHE_DIR``.
When none of these is writable (a read-only install run by a user without a writable
home, as in some containers) numba refuses to decorate the functions and the import
fails. :func:`ensure_cache_dir` then points numba at a per-user directory under the
system's temporary directory, so mlnotes imports and caches there.
"""

import os
import tempfile

_ROOT = os.path.dirname(os.path.abspath(__file__))


def _writable(path):
    """Whether ``path`` (or the nearest existing ancestor that would hold it) is writable."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _user_cache_dir():
    # numba's own rule (numba.misc.appdirs, Linux and macOS alike for our purpose)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "numba")


def ensure_cache_dir():
    """Set ``NUMBA_CACHE_DIR`` when numba would find no writable cache location.

    Returns
    -------
    path : str or None
        The directory set, or None when numba's own choice works (nothing changed).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    pycache = os.path.join(_ROOT, "__pycache__")
    if _writable(pycache if os.path.exists(pycache) else _ROOT) or _writable(
            _user_cache_dir()):
        return None
    return set_cache_dir(temp_cache_dir("mlnotes-numba-cache"))


def temp_cache_dir(name):
    """A per-user directory ``<name>-<uid>`` under the system's temporary directory."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"{name}-{uid}")


def set_cache_dir(path):
    """Point numba's cache at ``path``, also when numba is already imported; return it."""
    os.environ["NUMBA_CACHE_DIR"] = path
    import sys

    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba already imported: its config read the variable
        config.CACHE_DIR = path
    return path
