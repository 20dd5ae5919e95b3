# Copyright (c) mmw2s contributors. All rights reserved.
from .teacher_checkpoint import load_teacher_weights
from .weak_logits_teacher import WeakLogitsTeacher
from .weak_to_strong_distill import WeakToStrongDistill

__all__ = ['WeakToStrongDistill', 'WeakLogitsTeacher', 'load_teacher_weights']
