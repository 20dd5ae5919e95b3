# Copyright (c) mmw2s contributors. All rights reserved.
"""mmw2s: weak-to-strong generalization for OpenMMLab vision models.

Importing the package first applies the compatibility patches of
:mod:`mmw2s.compat` (they must precede mmrazor's model imports), then
registers its components in the mmrazor and mmpretrain registries.
"""
from .compat import apply_compat_patches
from .version import __version__, version_info

apply_compat_patches()

# registers the components; must follow the patches
from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__', 'version_info', 'apply_compat_patches']
