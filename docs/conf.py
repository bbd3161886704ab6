"""Sphinx configuration of the mlnotes documentation (``make docs``).

Sphinx + numpydoc, and myst-parser for the one Markdown page (the developer guide,
which is the repository's ``CONTRIBUTING.md``). The API reference is written from each public
module's ``__all__`` when this file is loaded (see ``_ext/mlnotes_docs.py``).
"""

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

# -- General ----------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",  # the developer guide is the repository's CONTRIBUTING.md
    "mlnotes_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "_ext", "_contributing.md", "Thumbs.db",
                    ".DS_Store"]
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
    if not {"_build", "_templates", "_ext", "stubs"} & set(p.relative_to(DOCS).parts)
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

# -- HTML -------------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"mlnotes {release}"
html_theme_options = {
    "description": "Course notes as scikit-learn estimators, benchmarked.",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_static_path = ["_static"]
html_css_files = ["mlnotes.css"]
html_show_sourcelink = False
