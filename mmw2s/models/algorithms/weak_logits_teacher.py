# Copyright (c) mmw2s contributors. All rights reserved.
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmrazor.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class WeakLogitsTeacher(BaseModel):
    """Stands in for the weak teacher when its logits were computed offline.

    It holds no network: its "forward" stacks the ``weak_logits`` that the
    data pipeline put in each data sample (see ``WeakLabelDataset`` and
    ``tools/dump_weak_logits.py``) and passes them through ``head``, an
    identity, so the distiller records them like a real teacher's logits.
    """

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Identity()

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor') -> Tensor:
        """Return the batch's weak logits.

        Args:
            inputs (Tensor): The batch (used for its device only).
            data_samples (list[DataSample]): Samples carrying
                ``weak_logits`` of shape (C, ).
            mode (str): Only ``'tensor'`` is supported.

        Returns:
            Tensor: Weak logits of shape (N, C).
        """
        if mode != 'tensor':
            raise RuntimeError(
                f'Offline weak labels only provide logits (mode="tensor"), '
                f'not mode={mode!r}; evaluate the weak model itself instead.')
        if not data_samples or any('weak_logits' not in sample
                                   for sample in data_samples):
            raise KeyError(
                'Offline weak-to-strong training needs `weak_logits` in every '
                'data sample: wrap the dataset in '
                "dict(type='WeakLabelDataset', weak_logits_file=...) and pack "
                "the key with dict(type='PackInputs', "
                "algorithm_keys=['weak_logits']).")
        logits = torch.stack([sample.weak_logits for sample in data_samples])
        return self.head(logits.to(inputs.device))
