"""Regenerate the "what exists today" block of README.md: ``python -m mlnotes._readme``.

The block between the two marker comments is written from
:func:`mlnotes.utils.discovery.all_estimators` and
:func:`~mlnotes.utils.discovery.all_agents` (grouped by the public module users import
them from) and the other public modules, so the README cannot fall behind the package:
``tests/test_readme.py`` fails when the block differs from what this module generates.
``python -m mlnotes._readme --check`` exits 1 in that case without writing.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

BEGIN = "<!-- begin generated: what exists (python -m mlnotes._readme) -->"
END = "<!-- end generated -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def _public_modules():
    import mlnotes

    names = [name for _, name, _ in pkgutil.walk_packages(mlnotes.__path__,
                                                          prefix="mlnotes.")]
    for name in sorted(names):
        parts = name.split(".")[1:]
        if any(p.startswith("_") or p == "tests" for p in parts):
            continue
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if exported:
            yield name, module, list(exported)


def _home(classes, modules):
    """``{class: the shortest public module exporting it}``."""
    home = {}
    for name, module, exported in modules:
        for attr in exported:
            obj = getattr(module, attr, None)
            if obj in classes and (obj not in home or len(name) < len(home[obj])):
                home[obj] = name
    return home


def _group(pairs, home):
    groups: dict[str, list[str]] = {}
    for name, cls in pairs:
        groups.setdefault(home.get(cls, cls.__module__), []).append(name)
    return {m: sorted(v) for m, v in sorted(groups.items())}


def generate() -> str:
    """The Markdown of the block (without the markers).

    Returns
    -------
    text : str
        Estimators and agents grouped by public module, then the other public modules.
    """
    from mlnotes.utils.discovery import all_agents, all_estimators

    estimators, agents = all_estimators(), all_agents()
    modules = list(_public_modules())
    classes = {cls for _, cls in estimators + agents}
    home = _home(classes, modules)
    lines = [f"**{len(estimators)} estimators** (scikit-learn API; "
             "`mlnotes.utils.discovery.all_estimators()`):", ""]
    for module, names in _group(estimators, home).items():
        lines.append(f"- `{module}`: {', '.join(names)}")
    lines += ["", f"**{len(agents)} agents** (Stable-Baselines3 API; "
              "`mlnotes.utils.discovery.all_agents()`):", ""]
    for module, names in _group(agents, home).items():
        lines.append(f"- `{module}`: {', '.join(names)}")
    used = set(home.values())
    others = []
    for name, module, exported in modules:
        if name in used or name == "mlnotes.utils.discovery":
            continue
        objs = [getattr(module, a, None) for a in exported]
        if all(inspect.ismodule(o) for o in objs):
            continue  # a namespace of submodules, listed themselves
        if any(o in classes for o in objs):
            continue
        others.append(f"`{name}`")
    if others:
        lines += ["", "Other public modules: " + ", ".join(others) + "."]
    return "\n".join(lines)


def current(text: str) -> str | None:
    """The block of ``text`` between the markers (None when they are missing).

    Parameters
    ----------
    text : str
        The README.

    Returns
    -------
    block : str or None
        The stripped block.
    """
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def main(argv=None) -> int:
    """Rewrite the README block; with ``--check`` only compare.

    Parameters
    ----------
    argv : list of str or None
        ``["--check"]`` or nothing.

    Returns
    -------
    status : int
        0 when the README is (now) up to date, 1 when ``--check`` finds it stale, 2
        when the markers are missing.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    text = README.read_text(encoding="utf-8")
    block = current(text)
    if block is None:
        print(f"{README}: markers {BEGIN!r} ... {END!r} not found", file=sys.stderr)
        return 2
    fresh = generate()
    if block == fresh:
        return 0
    if "--check" in argv:
        print(f"{README} is stale: run python -m mlnotes._readme", file=sys.stderr)
        return 1
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    README.write_text(f"{before}{BEGIN}\n{fresh}\n{END}{after}", encoding="utf-8")
    print(f"updated {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
