"""Sphinx configuration for the xpkern documentation."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from _matrix import write_matrix  # noqa: E402

import xpkern  # noqa: E402

project = "xpkern"
author = "the xpkern developers"
copyright = "2026, the xpkern developers"
release = version = xpkern.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated/*.inc"]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # the results files start below the top heading level
html_theme = "pydata_sphinx_theme"
html_title = "xpkern"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["xpkern.css"]
html_sidebars = {"**": ["sidebar-global-nav"]}
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
doctest_global_setup = "import numpy as np\nimport xpkern"

write_matrix(HERE / "_generated" / "backends_table.inc")
