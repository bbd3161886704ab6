"""The documentation builds cleanly and documents every public name of mlnotes.

The Sphinx build (``-W``: any warning is an error) runs once per test session, on a
copy of ``docs/`` in a temporary folder so that it never writes into the working
tree and cannot collide with a ``make docs`` running at the same time. Under
pytest-xdist the workers share that one build through a lock file.

The public names are enumerated here independently of ``docs/_ext``, so that a bug in
the generator of the API pages cannot hide a missing page.
"""

import doctest
import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

import mlnotes
from mlnotes.utils.discovery import all_estimators

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 600


def public_all():
    """``{module: __all__}`` for every public, importable module of mlnotes."""
    found = {}
    names = ["mlnotes"] + [
        name for _, name, _ in pkgutil.walk_packages(mlnotes.__path__, prefix="mlnotes.")
    ]
    for name in names:
        parts = name.split(".")[1:]
        if any(p.startswith("_") or p == "tests" for p in parts):
            continue
        exported = getattr(importlib.import_module(name), "__all__", None)
        if exported:
            found[name] = list(exported)
    return found


# ------------------------------------------------------------------------------ build


@contextmanager
def _locked(path):
    """Exclusive lock on ``path`` across processes (a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: each worker builds on its own
        yield
        return
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build(workdir):
    src, out = workdir / "src", workdir / "html"
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(
        DOCS, src, ignore=shutil.ignore_patterns("_build", "generated", "__pycache__")
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
         "-d", str(workdir / "doctrees"), str(src), str(out)],
        capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT, cwd=ROOT,
    )
    return {"returncode": proc.returncode, "log": proc.stdout + proc.stderr,
            "html": str(out)}


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory):
    """Build the docs once for the whole session (shared by xdist workers)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    workdir, result_file = shared / "docs-build", shared / "docs-build.json"
    with _locked(shared / "docs-build.lock"):
        if result_file.exists():
            return json.loads(result_file.read_text())
        result = _build(workdir)
        result_file.write_text(json.dumps(result))
        return result


def _inventory(html_dir):
    """``{name: role}`` from the ``objects.inv`` the HTML builder writes."""
    data = (Path(html_dir) / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):  # four plain-text header lines, then zlib
        header_end = data.index(b"\n", header_end) + 1
    entries = {}
    for line in zlib.decompress(data[header_end:]).decode().splitlines():
        match = re.match(r"(?x)(.+?)\s+(\S+):(\S+)\s+(-?\d+)\s+(\S*)\s+(.*)", line)
        if match and match.group(2) == "py":
            entries[match.group(1)] = match.group(3)
    return entries


def test_docs_build_without_warnings(docs_build):
    assert docs_build["returncode"] == 0, docs_build["log"][-6000:]
    problems = [line for line in docs_build["log"].splitlines()
                if "WARNING" in line or "ERROR" in line]
    assert not problems, "\n".join(problems)


def test_every_public_name_is_in_the_api_reference(docs_build):
    html = Path(docs_build["html"])
    if not (html / "objects.inv").exists():
        pytest.fail("the build wrote no objects.inv:\n" + docs_build["log"][-3000:])
    documented = _inventory(html)
    modules = public_all()
    assert modules, "no public module with __all__ found"
    missing, no_docstring = [], []
    for module_name, names in modules.items():
        if module_name not in documented:
            missing.append(f"{module_name} (module page)")
        module = importlib.import_module(module_name)
        for name in names:
            full = f"{module_name}.{name}"
            obj = getattr(module, name, None)
            if inspect.ismodule(obj):
                continue  # a public submodule: checked as a module of its own
            if full not in documented:
                missing.append(full)
            if callable(obj) and not (obj.__doc__ or "").strip():
                no_docstring.append(full)
    assert not missing, f"not in the built API reference: {missing}"
    assert not no_docstring, f"public objects without a docstring: {no_docstring}"

    # An estimator that no module exports (no __all__ entry) would be invisible.
    exported = {getattr(importlib.import_module(m), n, None)
                for m, names in modules.items() for n in names}
    hidden = [name for name, cls in all_estimators() if cls not in exported]
    assert not hidden, f"estimators missing from every module's __all__: {hidden}"


# ----------------------------------------------------------- examples of the pages


_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_IMPORT = re.compile(r"from\s+(mlnotes[\w.]*)\s+import\s+([\w\s,()]+)")


def _rst_sections():
    """``(id, text, lineno, required names)`` of each section with ``>>>`` examples."""
    sections = []
    for path in sorted(DOCS.rglob("*.rst")):
        rel = path.relative_to(DOCS)
        if rel.parts[0] in {"_build", "_templates"} or "generated" in rel.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        starts = [0] + [i for i in range(1, len(lines))
                        if _UNDERLINE.match(lines[i]) and lines[i - 1].strip()
                        and len(lines[i].rstrip()) >= len(lines[i - 1].rstrip())]
        bounds = [s - 1 if s else 0 for s in starts] + [len(lines)]
        for begin, end in zip(bounds, bounds[1:]):
            text = "\n".join(lines[begin:end])
            if ">>>" not in text:
                continue
            title = lines[begin].strip() if begin else rel.stem
            needs = [(m, n.strip()) for m, names in _IMPORT.findall(text)
                     for n in names.replace("(", "").replace(")", "").split(",")
                     if n.strip()]
            sections.append((f"{rel.as_posix()}::{title}", text, begin, needs))
    return sections


@pytest.mark.parametrize(
    "text, lineno, needs",
    [pytest.param(t, l, n, id=i) for i, t, l, n in _rst_sections()],
)
def test_user_guide_examples(text, lineno, needs):
    """The ``>>>`` examples of the hand-written pages run (each section on its own)."""
    for module_name, name in needs:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            module = None
        if not hasattr(module, name):
            pytest.skip(f"{module_name}.{name} does not exist yet")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, "rst", None, lineno)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
