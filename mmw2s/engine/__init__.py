# Copyright (c) mmw2s contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .optimizers import SkipNonFiniteOptimWrapper
from .runner import *  # noqa: F401,F403
from .strategies import *  # noqa: F401,F403

__all__ = ['SkipNonFiniteOptimWrapper']
