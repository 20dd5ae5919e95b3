# Copyright (c) mmw2s contributors. All rights reserved.
from .weak_logits import compute_weak_logits, deterministic_dataloader_cfg

__all__ = ['compute_weak_logits', 'deterministic_dataloader_cfg']
