# Copyright (c) mmw2s contributors. All rights reserved.
"""Offline weak labels: run a weak model once over a dataset."""
import copy
from typing import Callable, Optional

import torch
from mmengine.config import Config
from torch.utils.data import DataLoader

from mmw2s.models.distillers import class_logits


def deterministic_dataloader_cfg(cfg: Config, split: str,
                                 batch_size: int) -> Config:
    """The dataloader config of ``split``, in order, with the config's test
    pipeline, so that the logits of each sample are deterministic.

    Args:
        cfg (Config): A config with ``{split}_dataloader`` and
            ``test_dataloader``.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        batch_size (int): Batch size of the pass.

    Returns:
        Config: The dataloader config.
    """
    loader = copy.deepcopy(cfg[f'{split}_dataloader'])
    dataset = loader.dataset
    while 'dataset' in dataset:  # through dataset wrappers
        dataset = dataset.dataset
    dataset.pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.batch_size = batch_size
    loader.persistent_workers = False
    return loader


@torch.no_grad()
def compute_weak_logits(
        model: torch.nn.Module,
        dataloader: DataLoader,
        on_batch: Optional[Callable[[int], None]] = None) -> torch.Tensor:
    """The model's class logits for every sample, in dataloader order.

    Args:
        model (nn.Module): An mmpretrain classifier with its data
            preprocessor.
        dataloader (DataLoader): A dataloader that does not shuffle.
        on_batch (Callable[[int], None], optional): Called with the size of
            each batch, e.g. to advance a progress bar.

    Returns:
        Tensor: Float32 logits of shape (N, C), on CPU.
    """
    model.eval()
    chunks = []
    for data_batch in dataloader:
        data = model.data_preprocessor(data_batch, False)
        logits = class_logits(model(**data, mode='tensor'))
        chunks.append(logits.float().cpu())
        if on_batch is not None:
            on_batch(len(logits))
    return torch.cat(chunks)
