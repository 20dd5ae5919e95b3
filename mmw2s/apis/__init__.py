# Copyright (c) mmw2s contributors. All rights reserved.
from .student_export import (resolve_cfg_path, student_checkpoint,
                             student_config)
from .weak_logits import compute_weak_logits, deterministic_dataloader_cfg

__all__ = [
    'compute_weak_logits', 'deterministic_dataloader_cfg', 'resolve_cfg_path',
    'student_checkpoint', 'student_config'
]
