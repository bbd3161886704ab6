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
from html.parser import HTMLParser
from pathlib import Path

import pytest

import mlnotes
from mlnotes.utils.discovery import all_estimators

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 1800  # seconds; the gallery runs inside the build (about 2 min of CPU)


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


# ------------------------------------------------------------ offline site, gallery, map

EXAMPLES = ROOT / "examples"
# A URL that leaves the site: a scheme (http:, https:, ...) or protocol-relative //.
_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


class _Resources(HTMLParser):
    """Scripts, style sheets, images, frames and ids of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads, self.links, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag in {"script", "img", "iframe", "source", "embed"} and attrs.get("src"):
            self.loads.append((tag, attrs["src"]))
        if tag == "link" and attrs.get("href"):
            rel = attrs.get("rel") or ""
            if any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload")):
                self.loads.append((tag, attrs["href"]))
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _pages(html_dir):
    """The built pages (not the theme's template fragments under ``_static``)."""
    html_dir = Path(html_dir)
    return sorted(p for p in html_dir.rglob("*.html")
                  if p.relative_to(html_dir).parts[0] != "_static")


def _parse(path):
    parser = _Resources()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def test_no_external_script_or_style(docs_build):
    """Maths and theme work offline: nothing the pages load comes from another host."""
    html = Path(docs_build["html"])
    external = []
    for page in _pages(html):
        for tag, url in _parse(page).loads:
            if _EXTERNAL.match(url) and not url.startswith("data:"):
                external.append(f"{page.relative_to(html)}: <{tag}> {url}")
    for css in (html / "_static").rglob("*.css"):
        for url in re.findall(r"""(?:@import\s+|url\()\s*['"]?((?:https?:)?//[^'")\s]+)""",
                              css.read_text(encoding="utf-8", errors="replace")):
            external.append(f"{css.relative_to(html)}: {url}")
    assert not external, "external resources:\n" + "\n".join(external[:40])
    # the maths is typeset by the MathJax copy inside the site
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    fonts = list((html / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert fonts, "MathJax's web fonts were not copied"
    page = (html / "user_guide" / "linear_model.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in page


def test_no_broken_internal_link(docs_build):
    """Every relative link and its #anchor resolve inside the built site."""
    html = Path(docs_build["html"])
    parsed = {page: _parse(page) for page in _pages(html)}
    broken = []
    for page, info in parsed.items():
        targets = [("a", href) for href in info.links] + info.loads
        for tag, url in targets:
            if _EXTERNAL.match(url) or url.startswith("mailto:"):
                continue
            path, _, anchor = url.partition("#")
            path = path.split("?")[0]
            target = (page.parent / path).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(html)}: {url}")
                continue
            if anchor and target.suffix == ".html" and anchor not in parsed[target].ids:
                broken.append(f"{page.relative_to(html)}: {url} (no such anchor)")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:40])


def _example_files():
    return sorted(p for p in EXAMPLES.rglob("plot_*.py"))


def test_gallery_pages_have_their_figures(docs_build):
    """Each example ran in the build and its page shows its figures, which exist."""
    html = Path(docs_build["html"])
    examples = _example_files()
    assert len(examples) >= 10, examples
    problems = []
    for example in examples:
        rel = example.relative_to(EXAMPLES).with_suffix(".html")
        page = html / "auto_examples" / rel
        if not page.is_file():
            problems.append(f"{rel}: no page")
            continue
        images = [url for tag, url in _parse(page).loads if tag == "img"
                  and "sphx_glr_" in url and "thumb" not in url]
        if not images:
            problems.append(f"{rel}: no figure")
        for url in images:
            if not (page.parent / url).resolve().is_file():
                problems.append(f"{rel}: missing image {url}")
    assert not problems, "\n".join(problems)


def _chapters():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import chapters
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    return chapters


def _exists(dotted):
    """``mlnotes.<dotted>`` exists (a module or an attribute of one)."""
    parts = f"mlnotes.{dotted}".split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_chapter_map_covers_every_public_name():
    """Each public name is promised by a chapter row, or is a listed shared tool."""
    chapters = _chapters()
    covered = set(chapters.INFRASTRUCTURE)
    for row in chapters.CHAPTERS:
        if not callable(row["check"]):
            covered |= set(row["check"])
    missing = []
    for module_name, names in public_all().items():
        rel = module_name[len("mlnotes."):] if module_name != "mlnotes" else ""
        for name in names:
            dotted = f"{rel}.{name}" if rel else name
            prefixes = {".".join(dotted.split(".")[:i]) for i in range(1, dotted.count(".") + 2)}
            if not prefixes & covered:
                missing.append(f"mlnotes.{dotted}")
    assert not missing, ("public names in no row of docs/_ext/chapters.py (nor in its "
                         f"INFRASTRUCTURE): {missing}")
    # and the map names no module that is not there
    assert all(_exists(m) for m in chapters.INFRASTRUCTURE)


def test_every_implemented_chapter_has_an_example():
    """A chapter whose API exists has a gallery example, unless it is listed as pending."""
    chapters = _chapters()
    no_example, stale_pending, unknown = [], [], []
    used = set()
    for row in chapters.CHAPTERS:
        examples = row["examples"]
        unknown += [e for e in examples if not (EXAMPLES / f"{e}.py").is_file()]
        used |= set(examples)
        check = row["check"]
        implemented = bool(check()) if callable(check) else (
            bool(check) and all(_exists(n) for n in check))
        key = chapters.row_key(row)
        if implemented and not examples and key not in chapters.EXAMPLE_PENDING:
            no_example.append(key)
        if examples and key in chapters.EXAMPLE_PENDING:
            stale_pending.append(key)
    assert not unknown, f"the chapter map names examples that do not exist: {unknown}"
    assert not no_example, f"implemented chapters without a gallery example: {no_example}"
    assert not stale_pending, f"in EXAMPLE_PENDING but have an example: {stale_pending}"
    orphans = [p.relative_to(EXAMPLES).with_suffix("").as_posix() for p in _example_files()]
    orphans = [e for e in orphans if e not in used]
    assert not orphans, f"gallery examples that no chapter row lists: {orphans}"


def test_chapter_map_page_shows_examples_and_status(docs_build):
    text = (Path(docs_build["html"]) / "chapters.html").read_text(encoding="utf-8")
    chapters = _chapters()
    for row in chapters.CHAPTERS:
        for example in row["examples"]:
            assert f"auto_examples/{example}.html" in text, example
    assert "gallery example" in text and ">done<" in text


def test_pages_in_a_real_browser(docs_build, tmp_path):
    """Headless Chromium renders the key pages: maths typeset, figures loaded, no 404.

    The screenshots and rendered DOMs land in ``$MLNOTES_SITE_CHECK_OUT`` when set
    (else a temporary folder). Without Chromium the test is skipped, except in CI,
    where ``.ci/run`` installs it and a missing browser is a failure.
    """
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import site_check
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    if site_check.find_browser() is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium in CI: .ci/run should have installed it")
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    out = Path(os.environ.get("MLNOTES_SITE_CHECK_OUT") or tmp_path / "site-check")
    report = site_check.check_site(docs_build["html"], out)
    assert not report["problems"], "\n".join(report["problems"])
    pages = report["pages"]
    assert len(pages) == len(site_check.PAGES)
    # the pages chosen for their maths and figures have them, rendered
    assert pages["api-ridge"]["math"] > 0 and pages["user-guide-rl"]["math"] > 0
    assert all(info["figures"] > 0 for name, info in pages.items()
               if name.startswith("gallery"))


def test_front_page_lists_what_exists(docs_build):
    """The front page names every estimator and agent of this build, in the present tense."""
    from mlnotes.utils.discovery import all_agents

    page = (Path(docs_build["html"]) / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", page)
    names = [name for name, _ in all_estimators()] + [name for name, _ in all_agents()]
    missing = [n for n in names if not re.search(rf"\b{re.escape(n)}\b", text)]
    assert not missing, f"not on the front page: {missing}"
    assert f"{len(all_estimators())} estimators" in text
    assert f"{len(all_agents())} agents" in text
    source = (DOCS / "index.rst").read_text(encoding="utf-8")
    assert not re.search(r"\bwill (?:come|follow|be)\b", source), "future tense on the front page"
