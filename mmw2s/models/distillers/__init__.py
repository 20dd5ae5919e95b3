# Copyright (c) mmw2s contributors. All rights reserved.
from .weak_to_strong_distiller import WeakToStrongDistiller, class_logits

__all__ = ['WeakToStrongDistiller', 'class_logits']
