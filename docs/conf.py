"""Sphinx configuration of the mlnotes documentation (``make docs``).

Sphinx + numpydoc, pydata-sphinx-theme, sphinx-gallery (the ``examples/`` folder of the
repository, executed at build time and cached), and myst-parser for the one Markdown page
(the developer guide, which is the repository's ``CONTRIBUTING.md``). The API reference
is written from each public module's ``__all__`` when this file is loaded (see
``_ext/mlnotes_docs.py``).

Maths renders offline: MathJax 3 is served from the built site itself (``_static/mathjax``,
copied from the ``sphinx-mathjax-offline`` package of the ``docs`` extra), never from a
CDN; ``tests/test_docs.py`` fails on any external script or style sheet.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
if (ROOT / "mlnotes" / "__init__.py").is_file():
    # Document the checkout these docs belong to, installed or not.
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import mlnotes  # noqa: E402
import mlnotes_docs  # noqa: E402

# The developer guide is the repository's CONTRIBUTING.md, copied beside these sources
# at build time (the docs may be built from a copy of docs/, as the test suite does).
_CONTRIBUTING = Path(mlnotes.__file__).resolve().parents[1] / "CONTRIBUTING.md"
if _CONTRIBUTING.is_file():
    (DOCS / "_contributing.md").write_text(_CONTRIBUTING.read_text(encoding="utf-8"),
                                           encoding="utf-8")

# -- Project ----------------------------------------------------------------------

project = "mlnotes"
author = "the mlnotes developers"
copyright = "the mlnotes developers, BSD-3-Clause"
release = mlnotes.__version__
version = ".".join(release.split(".")[:2])

# Gallery examples live at the top of the repository (``examples/``), next to the code.
EXAMPLES = Path(mlnotes.__file__).resolve().parents[1] / "examples"

# -- General ----------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",  # the developer guide is the repository's CONTRIBUTING.md
    "sphinx_gallery.gen_gallery",
    "mlnotes_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "_ext", "_contributing.md", "Thumbs.db",
                    ".DS_Store", "sg_execution_times.rst", "benchmarks/*.md"]
root_doc = "index"
default_role = "literal"  # `x` renders as code (docstrings use it for names), not italics
pygments_style = "sphinx"

# -- API reference ----------------------------------------------------------------

# One page per public module, listing its __all__; stubs land beside it in stubs/.
API_OUTDIR = DOCS / "api" / "generated"
API_MODULES = mlnotes_docs.write_api_pages(API_OUTDIR)

# Stubs are generated for the autosummary tables of these pages. An explicit list,
# because ``True`` means "the pages Sphinx knew at the previous build", which misses
# a module page written just now.
autosummary_generate = sorted(
    p.relative_to(DOCS).as_posix()
    for p in DOCS.rglob("*.rst")
    if not {"_build", "_templates", "_ext", "stubs", "auto_examples"}
    & set(p.relative_to(DOCS).parts)
)
autosummary_generate_overwrite = True
autosummary_imported_members = False
autodoc_typehints = "none"  # types are in the numpydoc text
autodoc_member_order = "bysource"

numpydoc_show_class_members = False  # the class template lists the methods instead
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True
# Structural checks of the docstrings mlnotes writes (a warning fails the build):
#   GL08 no docstring, SS01 no summary line, PR01 a parameter is not documented,
#   PR02 a documented parameter does not exist, RT01 no Returns section.
# A deliberate exception goes on the ``def``/``class`` line of the object, e.g.
# ``def lasso_path(X, y, ...):  # numpydoc ignore=PR01,RT01``.
numpydoc_validation_checks = {"GL08", "SS01", "PR01", "PR02", "RT01"}
# What mlnotes inherits (scikit-learn's get_params/score/set_*_request, dict methods
# of result objects, constructors of such classes) is not ours to check.
numpydoc_validation_exclude = {r"\.__init__$"} | mlnotes_docs.validation_exclusions(
    API_MODULES
)

# -- Benchmark pages ---------------------------------------------------------------

# One page per suite of benchmarks/results/*.md, listed by benchmarks.rst.
BENCHMARK_SUITES = mlnotes_docs.write_benchmark_pages(DOCS / "benchmarks")

# -- Maths (offline) -------------------------------------------------------------

# A path relative to _static: sphinx.ext.mathjax then links the local copy, which
# mlnotes_docs.vendor_mathjax writes into the built site (no request leaves the site).
mathjax_path = "mathjax/tex-chtml.js"

# -- Gallery ----------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": [str(EXAMPLES)],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"plot_",  # every plot_*.py is executed
    # the parts of the notes in their order (paths as sphinx-gallery sees them)
    "subsection_order": [os.path.relpath(EXAMPLES / part, DOCS)
                         for part in ("intro_ml", "rl", "density")],
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    # Unchanged examples are not re-run: sphinx-gallery keeps an md5 of each source
    # beside its output in auto_examples/ (git-ignored), so a second `make docs` is fast.
    "run_stale_examples": False,
    "reset_modules": ("matplotlib", "mlnotes_docs.reset_example_state"),
    "remove_config_comments": True,
    "show_memory": False,
    "download_all_examples": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_srcset": [],
    "backreferences_dir": None,
    "show_signature": False,
    # no execution-time tables: sphinx-gallery draws them with scripts from a CDN
    "write_computation_times": False,
}

# -- HTML -------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"mlnotes {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 7,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # (the pages with wide tables, the chapter map and the benchmark reports, drop
    # this sidebar with the :html_theme.sidebar_secondary.remove: field)
    "secondary_sidebar_items": ["page-toc"],
    # No icon links, analytics or version switcher: nothing is fetched from outside.
    "icon_links": [],
}
html_sidebars = {"index": [], "chapters": [], "benchmarks/*": ["sidebar-nav-bs"]}
html_favicon = "_static/favicon.svg"  # else browsers ask for a /favicon.ico the site lacks
html_static_path = ["_static"]
html_css_files = ["mlnotes.css"]
html_show_sourcelink = False
