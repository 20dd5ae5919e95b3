# Copyright (c) mmw2s contributors. All rights reserved.
"""Sphinx configuration of mmw2s's documentation site.

Build it (offline, warnings as errors, as the tests do)::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmw2s.version import __version__  # noqa: E402

project = 'mmw2s'
author = 'mmw2s contributors'
copyright = '2026, mmw2s contributors'
release = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
]
source_suffix = {'.md': 'markdown'}
exclude_patterns = ['_build']
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']

# OpenMMLab docstrings are Google style ("Args:", "Returns:")
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_default_options = {'members': True, 'show-inheritance': True}

html_theme = 'furo'
html_title = f'mmw2s {release}'
