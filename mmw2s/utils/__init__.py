# Copyright (c) mmw2s contributors. All rights reserved.
from .safe_checkpoint import (UnsafeCheckpointError, load_checkpoint_safely,
                              mmengine_checkpoint_globals)

__all__ = [
    'UnsafeCheckpointError', 'load_checkpoint_safely',
    'mmengine_checkpoint_globals'
]
