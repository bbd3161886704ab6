"""Sphinx helpers for the mlnotes documentation.

Three things the docs must keep in step with the code without anybody editing them:

* :func:`write_api_pages` writes one page per public module of mlnotes (every
  importable module whose path has no ``_``-prefixed part and that defines
  ``__all__``), listing that ``__all__`` in an ``autosummary`` table whose stubs go to
  ``api/generated/stubs/``. It runs when ``conf.py`` is loaded, before Sphinx looks
  for source files, so a new module or a new name in ``__all__`` shows up in the API
  reference on the next build.
* ``.. chapter-map:: PART`` renders the rows of :mod:`chapters` (the chapter map of
  the notes) with a status computed by importing the names each row promises.
* ``.. benchmark-results::`` renders every ``benchmarks/results/<suite>.md`` that
  exists, and says where the tables will appear when none does.

Public names of mlnotes are enumerated by :func:`public_modules`, which
``tests/test_docs.py`` reimplements on its own so that the test does not trust this
file.
"""

import importlib
import inspect
import os
import pkgutil
import re
import tempfile
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "mlnotes"
# Sub-packages that never hold public API.
SKIP_PARTS = {"tests", "externals"}


# --------------------------------------------------------------------------- API pages


def public_modules(package=PACKAGE):
    """Return ``{module_name: list(__all__)}`` for the public modules of ``package``.

    A module is public when no part of its dotted path after the package starts
    with ``_``. Modules without ``__all__`` (or with an empty one) are left out: they
    export nothing. Import errors propagate, since a module that cannot be imported
    cannot be documented either.
    """
    root = importlib.import_module(package)
    found = {}
    candidates = [package] + [
        name
        for _, name, _ in pkgutil.walk_packages(root.__path__, prefix=package + ".")
    ]
    for name in sorted(candidates):
        parts = name.split(".")[1:]
        if any(p.startswith("_") or p in SKIP_PARTS for p in parts):
            continue
        module = importlib.import_module(name)
        exported = list(getattr(module, "__all__", ()) or ())
        if exported:
            found[name] = exported
    return found


def _kind(module, name):
    obj = getattr(module, name, None)
    if inspect.ismodule(obj):
        return None  # a public submodule has a page of its own
    if inspect.isclass(obj):
        if callable(getattr(obj, "learn", None)) and callable(getattr(obj, "predict", None)):
            return "Agents"
        try:
            from sklearn.base import BaseEstimator
        except ImportError:  # pragma: no cover - sklearn is a dependency
            BaseEstimator = ()
        if BaseEstimator and issubclass(obj, BaseEstimator):
            return "Estimators"
        return "Classes"
    if callable(obj):
        return "Functions"
    # Missing names land here too; autosummary then reports the failed import.
    return "Other objects"


_KIND_ORDER = ["Estimators", "Agents", "Classes", "Functions", "Other objects"]


def _module_page(module_name, names):
    module = importlib.import_module(module_name)
    lines = [
        module_name,
        "=" * len(module_name),
        "",
        f".. automodule:: {module_name}",
        "",
        f".. currentmodule:: {module_name}",
        "",
    ]
    groups = {}
    for name in names:
        kind = _kind(module, name)
        if kind is not None:
            groups.setdefault(kind, []).append(name)
    for kind in _KIND_ORDER:
        if kind not in groups:
            continue
        lines += [
            f".. rubric:: {kind}",
            "",
            ".. autosummary::",
            "   :toctree: stubs",
            "   :nosignatures:",
            "",
        ]
        lines += [f"   {name}" for name in groups[kind]]
        lines.append("")
    return "\n".join(lines)


def _write_if_changed(path, text):
    """Write atomically, and only when the content changes (keeps builds incremental)."""
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".rst.part")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_api_pages(outdir):
    """Write ``<outdir>/<module>.rst`` for each public module; drop stale pages and stubs.

    Stubs of names that left ``__all__`` are deleted too: a stale stub would fail the
    build (it would sit outside every toctree, or import a name that is gone).

    Returns
    -------
    modules : dict
        ``{module_name: names}`` as given by :func:`public_modules`.
    """
    outdir = Path(outdir)
    modules = public_modules()
    for module_name, names in modules.items():
        _write_if_changed(outdir / f"{module_name}.rst", _module_page(module_name, names))
    wanted_pages = {f"{m}.rst" for m in modules}
    for page in outdir.glob(f"{PACKAGE}*.rst"):
        if page.name not in wanted_pages:
            page.unlink(missing_ok=True)
    wanted_stubs = {f"{m}.{n}.rst" for m, names in modules.items() for n in names}
    stubs = outdir / "stubs"
    if stubs.is_dir():
        for stub in stubs.glob("*.rst"):
            if stub.name not in wanted_stubs:
                stub.unlink(missing_ok=True)
    return modules


# ------------------------------------------------------------------------ chapter map


def _resolve(dotted):
    """Return the object ``mlnotes.<dotted>`` names, or None when it does not exist yet.

    Only a *missing* module or attribute counts as "not there yet"; any other error
    while importing (a bug in a module that exists) is reported as a warning, which
    fails a ``-W`` build.
    """
    parts = f"{PACKAGE}.{dotted}".split(".")
    for i in range(len(parts), 0, -1):
        module_name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == module_name or module_name.startswith(missing + "."):
                continue
            logger.warning("chapter-map: importing %s failed: %r", module_name, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - report any import-time bug
            logger.warning("chapter-map: importing %s failed: %r", module_name, exc)
            return None
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


_TICKED = re.compile(r"`([^`]+)`")
_DOTTED = re.compile(r"^[A-Za-z_][\w.]*$")


def _api_cell(text, available):
    """Markdown-ish cell -> reST: `name` becomes a link when that API exists."""
    context = None  # module of the last dotted name, for bare names after it

    def repl(match):
        nonlocal context
        token = match.group(1)
        if not _DOTTED.match(token):
            return f"``{token}``"
        candidates = [token]
        if "." in token:
            context = token.rsplit(".", 1)[0]
        elif context is not None:
            candidates.insert(0, f"{context}.{token}")
        for cand in candidates:
            if cand in available:
                return f":py:obj:`{token} <{PACKAGE}.{cand}>`"
        return f"``{token}``"

    return _TICKED.sub(repl, text)


def _plain_cell(text):
    return _TICKED.sub(lambda m: f"``{m.group(1)}``", text)


def _row_status(row):
    """Return ``(status_text, available_names)`` for one chapter row."""
    check = row.get("check", ())
    if callable(check):
        ok = bool(check())
        return ("available" if ok else "planned"), set()
    names = list(check)
    if not names:
        return "planned", set()
    available = {n for n in names if _resolve(n) is not None}
    if len(available) == len(names):
        return "available", available
    if available:
        return f"partial ({len(available)} of {len(names)})", available
    return "planned", available


class ChapterMapDirective(Directive):
    """``.. chapter-map:: I`` renders the rows of part I (or II, III) as a table."""

    required_arguments = 1
    has_content = False

    def run(self):
        import chapters  # docs/_ext/chapters.py, on sys.path through conf.py

        # Availability depends on the code, not on this page's source; every page is
        # re-read at every build (see reread_everything), so the status is current.
        part = self.arguments[0]
        rows = [r for r in chapters.CHAPTERS if r["part"] == part]
        if not rows:
            raise self.error(f"chapter-map: no rows for part {part!r}")
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 6 18 40 26 10",
            "   :class: chapter-map",
            "",
            "   * - ch",
            "     - topic",
            "     - mlnotes API",
            "     - compared with",
            "     - status",
        ]
        for row in rows:
            status, available = _row_status(row)
            cells = [
                row["ch"],
                row["topic"],
                _api_cell(row["api"], available),
                _plain_cell(row["reference"]),
                f"**{status}**" if status == "available" else status,
            ]
            lines.append(f"   * - {cells[0]}")
            lines += [f"     - {c}" for c in cells[1:]]
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source="chapter-map"), 0, node)
        return node.children


class ChapterSummaryDirective(Directive):
    """``.. chapter-summary::`` one sentence: how many rows are available."""

    has_content = False

    def run(self):
        import chapters

        counts = {"available": 0, "partial": 0, "planned": 0}
        for row in chapters.CHAPTERS:
            status, _ = _row_status(row)
            counts[status.split()[0]] += 1
        total = sum(counts.values())
        text = (
            f"At this build, {counts['available']} of the {total} rows are available, "
            f"{counts['partial']} partly available and {counts['planned']} planned."
        )
        return [nodes.paragraph(text=text)]


# --------------------------------------------------------------------- benchmark tables


def repo_root():
    """The checkout that holds the imported mlnotes (editable install or source tree)."""
    module = importlib.import_module(PACKAGE)
    return Path(module.__file__).resolve().parents[1]


_MD_CODE = re.compile(r"(`[^`]*`)")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)\s*$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _md_inline(text):
    """Docutils nodes for one line of Markdown: `code` and **bold**; the rest is text."""
    out = []
    for part in _MD_CODE.split(text):
        if len(part) >= 2 and part[0] == part[-1] == "`":
            out.append(nodes.literal(part[1:-1], part[1:-1]))
            continue
        for i, piece in enumerate(_MD_BOLD.split(part)):
            if piece:
                out.append(nodes.strong(piece, piece) if i % 2 else nodes.Text(piece))
    return out


def _md_cells(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def _md_table(lines):
    rows = [_md_cells(line) for line in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]
    if not rows:
        return nodes.paragraph()
    ncols = max(len(r) for r in rows)
    table = nodes.table(classes=["benchmark-table"])
    group = nodes.tgroup(cols=ncols)
    table += group
    group += [nodes.colspec(colwidth=1) for _ in range(ncols)]

    def row(cells):
        node = nodes.row()
        for cell in cells + [""] * (ncols - len(cells)):
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *_md_inline(cell))
            node += entry
        return node

    head, body = nodes.thead(), nodes.tbody()
    head += row(rows[0])
    body += [row(r) for r in rows[1:]]
    group += [head, body]
    return table


def markdown_report(text, image_uri):
    """Render a benchmark report (the subset of Markdown the harness writes) as nodes.

    Headings become rubrics, ``- item`` lines bullet lists, pipe tables tables,
    ``![alt](file)`` images (``image_uri(file)`` gives the URI, or None to drop
    it), anything else paragraphs. The nodes are built directly, never parsed as
    reST, so no report can break the build.
    """
    out, block = [], []

    def flush():
        if not block:
            return
        kind, lines = block[0], block[1:]
        if kind == "table":
            out.append(_md_table(lines))
        elif kind == "list":
            items = nodes.bullet_list()
            for line in lines:
                item = nodes.list_item()
                item += nodes.paragraph("", "", *_md_inline(line))
                items += item
            out.append(items)
        else:
            out.append(nodes.paragraph("", "", *_md_inline(" ".join(lines))))
        block.clear()

    for raw in text.splitlines():
        line = raw.strip()
        kind = ("table" if line.startswith("|") else
                "list" if line.startswith(("- ", "* ")) else "text")
        heading, image = _MD_HEADING.match(line), _MD_IMAGE.match(line)
        if not line or heading or image or (block and block[0] != kind):
            flush()
        if not line:
            continue
        if heading:
            out.append(nodes.rubric("", "", *_md_inline(heading.group(2))))
        elif image:
            uri = image_uri(image.group(2))
            if uri is not None:
                out.append(nodes.image(uri=uri, alt=image.group(1) or image.group(2)))
        else:
            if not block:
                block.append(kind)
            block.append(line[2:] if kind == "list" else line)
    flush()
    return out


class BenchmarkResultsDirective(Directive):
    """Show every ``benchmarks/results/<suite>[-quick].md`` of the checkout.

    The reports are Markdown, which plain Sphinx cannot parse; they are rendered
    by :func:`markdown_report` (tables as tables, the ``.png`` charts they link as
    images). With no report yet, the directive's content is used instead.
    ``:first: linear`` puts that suite first.
    """

    has_content = True
    option_spec = {"first": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        results = repo_root() / "benchmarks" / "results"
        reports = sorted(results.glob("*.md")) if results.is_dir() else []
        if not reports:
            node = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, node)
            return node.children

        first = self.options.get("first")

        def key(path):
            suite, quick = path.stem, False
            if suite.endswith("-quick"):
                suite, quick = suite[: -len("-quick")], True
            return (suite != first, suite, quick)

        # Image URIs are relative to the page that shows them.
        here = Path(env.doc2path(env.docname)).parent

        def image_uri(name):
            target = results / name
            if "://" in name or not target.is_file():
                return None
            return Path(os.path.relpath(target, here)).as_posix()

        out = []
        for report in sorted(reports, key=key):
            env.note_dependency(str(report))
            source = nodes.paragraph()
            source += [nodes.Text("From "),
                       nodes.literal(text=f"benchmarks/results/{report.name}"),
                       nodes.Text(":")]
            body = markdown_report(report.read_text(encoding="utf-8"), image_uri)
            out += [nodes.transition(), source, *body]
        return out[1:]  # no transition before the first report


# ----------------------------------------------------------------- docstring plumbing


def _is_ours(obj):
    module = getattr(obj, "__module__", None) or ""
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _defining_object(cls, name):
    """The attribute ``name`` as stored on the first class of the MRO that defines it."""
    for klass in inspect.getmro(cls):
        if name in vars(klass):
            return klass, vars(klass)[name]
    return None, None


def _passthrough(func):
    """True when ``func(self, *args, **kwargs)`` has no named parameter."""
    try:
        params = list(inspect.signature(func).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    return all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


def validation_exclusions(modules):
    """Regexes for ``numpydoc_validation_exclude``: everything mlnotes did not write.

    * members a public class inherits from outside mlnotes (``score`` and
      ``set_params`` from scikit-learn, ``keys`` from ``dict``, ...);
    * classes whose constructor is inherited from outside mlnotes, or only passes
      ``*args``/``**kwargs`` on (result objects deriving from
      :class:`scipy.optimize.OptimizeResult`): they have no parameters of their own
      to document.
    """
    excluded = set()
    for module_name, names in modules.items():
        module = importlib.import_module(module_name)
        for name in names:
            cls = getattr(module, name, None)
            if not inspect.isclass(cls):
                continue
            full = re.escape(f"{module_name}.{name}")
            owner, init = _defining_object(cls, "__init__")
            if owner is not None and (not _is_ours(owner) or _passthrough(init)):
                excluded.add(rf"^{full}$")
            for member in dir(cls):
                if member.startswith("_"):
                    continue
                owner, _ = _defining_object(cls, member)
                if owner is not None and not _is_ours(owner):
                    excluded.add(rf"^{full}\.{re.escape(member)}$")
    return excluded


def skip_builtin_members(app, what, name, obj, skip, options):
    """Leave out methods a class inherits from Python builtins (``dict.keys``, ...).

    Autosummary consults this event too, so they are also left out of the methods
    table of the class pages.
    """
    if skip:
        return None
    objclass = getattr(obj, "__objclass__", None)
    if objclass is not None and objclass.__module__ == "builtins":
        return True
    if inspect.isbuiltin(obj) and getattr(obj, "__module__", None) in (None, "builtins"):
        return True
    return None


_ROLE_WITH_TEXT = re.compile(r":(?:ref|doc|term):`([^`<]+?)\s*<[^`>]+>`")
_ROLE_BARE = re.compile(r":(?:ref|doc|term):`([^`]+)`")


def strip_foreign_refs(app, what, name, obj, options, lines):
    """Turn ``:ref:``, ``:doc:`` and ``:term:`` roles into text in inherited docstrings.

    Methods inherited from scikit-learn (``score``, ``set_params``,
    ``set_fit_request``, ...) point at labels and glossary terms of scikit-learn's own
    documentation, which do not exist here and would fail a ``-W`` build. Our own
    docstrings are left alone.
    """
    if _is_ours(obj):
        return
    for i, line in enumerate(lines):
        line = _ROLE_WITH_TEXT.sub(r"\1", line)
        lines[i] = _ROLE_BARE.sub(r"\1", line)


_PARAM_LINE = re.compile(r"^(\s*\**\w+(?:\s*,\s*\**\w+)*\s:\s)(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"\b([A-Za-z]\w*?)_(?![\w`])")


def _join_continuations(lines):
    """Join a ``name : type`` line that ends with a backslash to the line after it.

    scikit-learn splits long type lines with a backslash, which Python removes in a
    normal string; in a raw docstring (needed for ``.. math::``) it stays, and
    numpydoc would take the rest of the type for the description.
    """
    out = []
    for line in lines:
        if out and out[-1].endswith("\\") and _PARAM_LINE.match(out[-1]):
            out[-1] = out[-1][:-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
    return out


def prepare_docstring(app, what, name, obj, options, lines):
    """Fix two scikit-learn idioms in ``name : type`` lines before numpydoc sees them.

    * a backslash at the end of a type line continues it on the next line
      (see :func:`_join_continuations`);
    * shapes such as ``(n_features_in_,)``: in reST a word ending in ``_`` is a
      hyperlink reference, which would fail the build, so the underscore is escaped
      (text between backticks is left as it is).
    """
    lines[:] = _join_continuations(lines)
    for i, line in enumerate(lines):
        match = _PARAM_LINE.match(line)
        if not match:
            continue
        head, tail = match.groups()
        parts = re.split(r"(`+[^`]*`+)", tail)
        parts[::2] = [_TRAILING_UNDERSCORE.sub(r"\1\\_", p) for p in parts[::2]]
        lines[i] = head + "".join(parts)


def reread_everything(app, env, added, changed, removed):
    """Re-read every page on every build (``env-get-outdated``).

    Sphinx re-reads only the pages whose source changed, so a warning in a page
    that did not change is not repeated, and a second ``make docs`` would pass
    ``-W`` where the first failed. The whole site reads in seconds; correctness wins.
    """
    return sorted(env.found_docs - set(added) - set(changed) - set(removed))


def setup(app):
    app.add_directive("chapter-map", ChapterMapDirective)
    app.add_directive("chapter-summary", ChapterSummaryDirective)
    app.add_directive("benchmark-results", BenchmarkResultsDirective)
    # Before numpydoc (priority 500) turns the docstrings into reST.
    app.connect("autodoc-process-docstring", prepare_docstring, priority=400)
    app.connect("autodoc-process-docstring", strip_foreign_refs)
    app.connect("autodoc-skip-member", skip_builtin_members)
    app.connect("env-get-outdated", reread_everything)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
