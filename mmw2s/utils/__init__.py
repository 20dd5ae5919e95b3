# Copyright (c) mmw2s contributors. All rights reserved.
from .config_file import load_config
from .safe_checkpoint import (UnsafeCheckpointError, load_checkpoint_safely,
                              mmengine_checkpoint_globals)

__all__ = [
    'UnsafeCheckpointError', 'load_checkpoint_safely', 'load_config',
    'mmengine_checkpoint_globals'
]
