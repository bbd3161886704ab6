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
* ``.. benchmark-figure:: NAME.png`` shows a committed benchmark chart of
  ``benchmarks/results/`` as a figure with a caption (the user-guide pages use it).

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
from docutils.parsers.rst.directives.images import Figure
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


def _examples_dir():
    return repo_root() / "examples"


def row_examples(row):
    """The gallery examples of ``row`` that exist in ``examples/`` (paths, no suffix)."""
    return [e for e in row.get("examples", ()) if (_examples_dir() / f"{e}.py").is_file()]


def _api_status(row):
    """Return ``(status, available_names)`` of the API of one row."""
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


def row_status(row):
    """Return ``(status_text, available_names)`` for one chapter row.

    *done*: the API exists and the chapter has a gallery example; *API done, example
    to come*: the API exists, no example yet; *partial (i of n)*: some names exist;
    *planned*: none does.
    """
    api, available = _api_status(row)
    if api == "available":
        return ("done" if row_examples(row) else "API done, example to come"), available
    return api, available


_row_status = row_status  # the name used before the examples column existed


def _example_cell(row):
    links = [f":doc:`/auto_examples/{e}`" for e in row_examples(row)]
    return ", ".join(links) if links else "—"


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
            "   :widths: 5 14 34 20 19 8",
            "   :class: chapter-map",
            "",
            "   * - ch",
            "     - topic",
            "     - mlnotes API",
            "     - compared with",
            "     - gallery example",
            "     - status",
        ]
        for row in rows:
            status, available = row_status(row)
            cells = [
                row["ch"],
                row["topic"],
                _api_cell(row["api"], available),
                _plain_cell(row["reference"]),
                _example_cell(row),
                f"**{status}**" if status == "done" else status,
            ]
            lines.append(f"   * - {cells[0]}")
            lines += [f"     - {c}" for c in cells[1:]]
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source="chapter-map"), 0, node)
        return node.children


class ChapterSummaryDirective(Directive):
    """``.. chapter-summary::`` one sentence: how many rows are done."""

    has_content = False

    def run(self):
        import chapters

        counts = {"done": 0, "API": 0, "partial": 0, "planned": 0}
        for row in chapters.CHAPTERS:
            status, _ = row_status(row)
            counts[status.split()[0]] += 1
        total = sum(counts.values())
        text = (
            f"At this build, {counts['done']} of the {total} rows are done (API and "
            f"gallery example), {counts['API']} have their API but no example yet, "
            f"{counts['partial']} are partly available and {counts['planned']} planned."
        )
        return [nodes.paragraph(text=text)]


class ChapterExtrasDirective(Directive):
    """``.. chapter-extras::`` the shared modules and the chapters with no row."""

    has_content = False

    def run(self):
        import chapters

        lines = [
            "Shared tools used by many chapters (every name in their ``__all__`` is "
            "documented in the :doc:`API reference <api/index>`):",
            "",
        ]
        for module, what in chapters.INFRASTRUCTURE.items():
            target = f"{PACKAGE}.{module}"
            link = (f":py:mod:`{target}`" if _resolve(module) is not None
                    else f"``{target}``")
            lines.append(f"* {link}: {what}")
        lines += [
            "",
            "Chapters of the notes with no deliverable of their own: "
            + ", ".join(str(c) for c in chapters.NOT_MAPPED) + ".",
        ]
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source="chapter-extras"), 0, node)
        return node.children


# ------------------------------------------------------------------------- front page


def _public_name(obj, modules):
    """``module.Name`` under which ``obj`` is documented (the shortest public path)."""
    found = [f"{m}.{n}" for m, names in modules.items() for n in names
             if getattr(importlib.import_module(m), n, None) is obj]
    return min(found, key=lambda s: (s.count("."), s)) if found else None


class WhatExistsDirective(Directive):
    """``.. what-exists::`` every estimator and agent of this build, by family.

    Generated from :func:`mlnotes.utils.discovery.all_estimators` and
    :func:`~mlnotes.utils.discovery.all_agents`, so the front page cannot go stale.
    """

    has_content = False

    def run(self):
        from mlnotes.utils.discovery import all_agents, all_estimators

        modules = public_modules()
        families = {}
        for items in (all_estimators(), all_agents()):
            for name, cls in items:
                target = _public_name(cls, modules)
                family = (target or cls.__module__).rsplit(".", 1)[0]
                if family.startswith(f"{PACKAGE}.rl."):
                    family = f"{PACKAGE}.rl"
                link = f":py:obj:`{name} <{target}>`" if target else f"``{name}``"
                families.setdefault(family, {})[name] = link
        n_est, n_agents = len(all_estimators()), len(all_agents())
        lines = [
            f"At this build mlnotes has **{n_est} estimators** "
            f"(``all_estimators()``) and **{n_agents} agents** (``all_agents()``):",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 22 78",
            "   :class: what-exists",
            "",
            "   * - module",
            "     - classes",
        ]
        for family, links in sorted(families.items()):
            lines.append(f"   * - :py:mod:`{family}`" if family in modules
                         else f"   * - ``{family}``")
            lines.append("     - " + ", ".join(links[k] for k in sorted(links)))
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source="what-exists"), 0, node)
        return node.children


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


def _ratio_first(rows):
    """Reorder columns: the first (the case), then every "... ratio" column, then the rest.

    The ratios (ours / reference) are what a reader compares; the absolute times
    behind them follow.
    """
    header = rows[0]
    ratios = [i for i, c in enumerate(header) if "ratio" in c.lower()]
    if not ratios or len(header) < 3:
        return rows
    order = [0] + ratios + [i for i in range(1, len(header)) if i not in ratios]
    return [[r[i] if i < len(r) else "" for i in order] for r in rows]


def _md_table(lines):
    rows = [_md_cells(line) for line in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]
    if not rows:
        return nodes.paragraph()
    rows = _ratio_first(rows)
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


def benchmark_reports():
    """``{suite: [report paths]}`` of ``benchmarks/results/*.md`` (full run first)."""
    results = repo_root() / "benchmarks" / "results"
    suites = {}
    for path in sorted(results.glob("*.md")) if results.is_dir() else []:
        suite = path.stem[: -len("-quick")] if path.stem.endswith("-quick") else path.stem
        suites.setdefault(suite, []).append(path)
    for paths in suites.values():
        paths.sort(key=lambda p: p.stem.endswith("-quick"))
    return suites


def write_benchmark_pages(outdir):
    """Write ``<outdir>/<suite>.rst`` for each suite with a report; drop stale pages.

    Runs when ``conf.py`` is loaded (like :func:`write_api_pages`), so a new report
    in ``benchmarks/results/`` gets its page at the next build.
    """
    outdir = Path(outdir)
    suites = benchmark_reports()
    for suite in suites:
        title = f"Benchmark: {suite}"
        _write_if_changed(outdir / f"{suite}.rst", "\n".join([
            ":html_theme.sidebar_secondary.remove:", "",
            f".. _benchmark-{suite}:", "", title, "=" * len(title), "",
            f".. benchmark-results:: {suite}", ""]))
    for page in outdir.glob("*.rst"):
        if page.stem not in suites:
            page.unlink(missing_ok=True)
    return sorted(suites)


_META = re.compile(r"^- (date|machine|mode|command):\s*(.*)$")


def _report_meta(path):
    meta = {}
    for line in path.read_text(encoding="utf-8").splitlines()[:30]:
        match = _META.match(line.strip())
        if match:
            meta.setdefault(match.group(1), match.group(2))
    return meta


def _ratio_stats(path):
    """(rows, geometric mean, worst) of the first ratio column of every table."""
    values = []
    block = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("|")]
    header = None
    for line in block:
        cells = _md_cells(line)
        if all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue
        if header is None or (cells and cells[0] == header[0] and cells != header
                              and not re.search(r"\d", " ".join(cells))):
            header = cells
            continue
        if cells == header:
            continue
        cols = [i for i, c in enumerate(header) if "ratio" in c.lower()]
        # the combined ratio when there is one, else the first
        pick = [i for i in cols if "+" in header[i]] or cols
        if not pick or pick[-1] >= len(cells):
            continue
        try:
            value = float(cells[pick[-1]].replace(",", "").rstrip("x"))
        except ValueError:
            continue
        if value > 0:
            values.append(value)
    if not values:
        return 0, None, None
    import math

    geo = math.exp(sum(math.log(v) for v in values) / len(values))
    return len(values), geo, max(values)


class BenchmarkSummaryDirective(Directive):
    """``.. benchmark-summary::`` one row per suite: ratios, date and machine, link."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        suites = benchmark_reports()
        if not suites:
            return [nodes.paragraph(text="No benchmark report in this checkout yet: "
                                    "run make bench.")]
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :class: benchmark-summary",
            "",
            "   * - suite",
            "     - timed rows",
            "     - geometric mean of the ratios",
            "     - worst ratio",
            "     - report",
            "     - measured",
            "     - machine",
        ]
        for suite, paths in suites.items():
            report = paths[0]
            env.note_dependency(str(report))
            n, geo, worst = _ratio_stats(report)
            meta = _report_meta(report)
            when, _, rest = meta.get("date", "").partition(";")
            commit = re.search(r"git [0-9a-f]+", rest)
            date = ", ".join(filter(None, [when.strip(), commit and commit.group(0)]))
            machine = meta.get("machine", "").split(";")[0].replace("|", "/")
            lines += [
                f"   * - :doc:`{suite} <benchmarks/{suite}>`",
                f"     - {n}" if n else "     - —",
                f"     - {geo:.2f}" if geo else "     - —",
                f"     - {worst:.2f}" if worst else "     - —",
                f"     - ``{report.name}``",
                f"     - {_plain_cell(date) or '—'}",
                f"     - {_plain_cell(machine) or '—'}",
            ]
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source="benchmark-summary"), 0, node)
        return node.children


class BenchmarkResultsDirective(Directive):
    """Show ``benchmarks/results/<suite>[-quick].md`` (one suite, or every one).

    The reports are Markdown, which plain Sphinx cannot parse; they are rendered
    by :func:`markdown_report` (tables as tables, ratio columns first, the ``.png``
    charts they link as images). With no report yet, the directive's content is
    used instead.
    """

    has_content = True
    optional_arguments = 1

    def run(self):
        env = self.state.document.settings.env
        results = repo_root() / "benchmarks" / "results"
        suites = benchmark_reports()
        if self.arguments:
            suites = {k: v for k, v in suites.items() if k == self.arguments[0]}
        reports = [p for paths in suites.values() for p in paths]
        if not reports:
            node = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, node)
            return node.children

        # Image URIs are relative to the page that shows them.
        here = Path(env.doc2path(env.docname)).parent

        def image_uri(name):
            target = results / name
            if "://" in name or not target.is_file():
                return None
            return Path(os.path.relpath(target, here)).as_posix()

        out = []
        for report in reports:
            env.note_dependency(str(report))
            source = nodes.paragraph()
            source += [nodes.Text("From "),
                       nodes.literal(text=f"benchmarks/results/{report.name}"),
                       nodes.Text(":")]
            body = markdown_report(report.read_text(encoding="utf-8"), image_uri)
            out += [nodes.transition(), source, *body]
        return out[1:]  # no transition before the first report


class BenchmarkFigureDirective(Figure):
    """``.. benchmark-figure:: agents.png``: a figure from ``benchmarks/results/``.

    The committed benchmark charts live outside ``docs/``; this is the ``figure``
    directive with its path taken in that folder (relative to the page, as
    :class:`BenchmarkResultsDirective` does), so a user-guide page can show one with
    a caption. A missing chart is an error, not a broken image.
    """

    def run(self):
        env = self.state.document.settings.env
        target = repo_root() / "benchmarks" / "results" / self.arguments[0]
        if not target.is_file():
            raise self.error(f"benchmark-figure: no {target}")
        env.note_dependency(str(target))
        here = Path(env.doc2path(env.docname)).parent
        self.arguments[0] = Path(os.path.relpath(target, here)).as_posix()
        return super().run()


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


# ------------------------------------------------------------------- offline MathJax

#: The PyPI distribution (``docs`` extra) whose package ships MathJax 3's files.
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
# What the page never loads from tex-chtml.js: other combined components, the SVG
# output, and the speech-rule maps of the accessibility explorer (4 MB of JSON).
_MATHJAX_SKIP = ("sre", "mml-*", "tex-svg*", "tex-mml-*", "tex-chtml-full*", "node-main.js",
                 "svg*", "latest.js")


def mathjax_source():
    """The folder of MathJax 3's files (``tex-chtml.js`` and the components it loads).

    Raises
    ------
    sphinx.errors.ExtensionError
        When the package is not installed (``pip install -e ".[docs]"`` installs it).
    """
    import importlib.util

    from sphinx.errors import ExtensionError

    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    locations = list(getattr(spec, "submodule_search_locations", None) or ())
    for location in locations:
        folder = Path(location) / "static" / "mathjax"
        if (folder / "tex-chtml.js").is_file():
            return folder
    raise ExtensionError(
        f"MathJax's files were not found: install the {MATHJAX_PACKAGE!r} package "
        '(part of mlnotes\' docs extra: pip install -e ".[docs]"). The docs never '
        "load MathJax from a CDN."
    )


def check_mathjax(app):
    """``builder-inited``: fail early, before the build, when MathJax is missing."""
    if app.builder.format == "html":
        mathjax_source()


def vendor_mathjax(app, exc):
    """``build-finished``: copy MathJax into ``<outdir>/_static/mathjax``.

    ``mathjax_path`` (conf.py) points there, so the maths renders with no network.
    """
    if exc is not None or app.builder.format != "html":
        return
    import shutil

    target = Path(app.outdir) / "_static" / "mathjax"
    if (target / "tex-chtml.js").is_file():
        return  # copied by an earlier build into the same output folder
    shutil.copytree(mathjax_source(), target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*_MATHJAX_SKIP))


# -------------------------------------------------------------------------- gallery


def reset_example_state(gallery_conf, fname):
    """Before each gallery example: one torch thread, matplotlib's defaults, no stale figures.

    Listed in ``sphinx_gallery_conf["reset_modules"]`` (conf.py). One thread keeps the
    examples' run time predictable on a shared 2-core machine.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of mlnotes
        return
    torch.set_num_threads(1)


def setup(app):
    app.connect("builder-inited", check_mathjax)
    app.connect("build-finished", vendor_mathjax)
    app.add_directive("chapter-map", ChapterMapDirective)
    app.add_directive("chapter-summary", ChapterSummaryDirective)
    app.add_directive("chapter-extras", ChapterExtrasDirective)
    app.add_directive("what-exists", WhatExistsDirective)
    app.add_directive("benchmark-results", BenchmarkResultsDirective)
    app.add_directive("benchmark-summary", BenchmarkSummaryDirective)
    app.add_directive("benchmark-figure", BenchmarkFigureDirective)
    # Before numpydoc (priority 500) turns the docstrings into reST.
    app.connect("autodoc-process-docstring", prepare_docstring, priority=400)
    app.connect("autodoc-process-docstring", strip_foreign_refs)
    app.connect("autodoc-skip-member", skip_builtin_members)
    app.connect("env-get-outdated", reread_everything)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
