# Copyright (c) mmw2s contributors. All rights reserved.
from .weak_to_strong_val_loop import WeakToStrongValLoop

__all__ = ['WeakToStrongValLoop']
