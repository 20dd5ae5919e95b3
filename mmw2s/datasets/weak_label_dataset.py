# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Union

from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from mmw2s.utils import load_checkpoint_safely

from .dataset_wrapper import LabelDatasetWrapper


@DATASETS.register_module()
class WeakLabelDataset(LabelDatasetWrapper):
    """Attach offline weak logits to each sample of a dataset.

    Sample ``i`` gets ``weak_logits``, row ``i`` of the file written by
    ``tools/dump_weak_logits.py`` for the same dataset. Pack it with
    ``dict(type='PackInputs', algorithm_keys=['weak_logits'])``.

    Args:
        dataset (dict | BaseDataset): The dataset (config) to wrap.
        weak_logits_file (str): A file with ``{'weak_logits': Tensor (N, C),
            ...}``.
    """

    def __init__(self, dataset: Union[dict, BaseDataset],
                 weak_logits_file: str) -> None:
        super().__init__(dataset)
        contents = load_checkpoint_safely(weak_logits_file, 'cpu')
        if not isinstance(contents, dict) or 'weak_logits' not in contents:
            raise KeyError(f'{weak_logits_file} has no `weak_logits`; write '
                           'it with tools/dump_weak_logits.py.')
        self.weak_logits = contents['weak_logits'].float()
        if self.weak_logits.dim() != 2 or len(self.weak_logits) != len(
                self.dataset):
            raise ValueError(
                f'{weak_logits_file} holds weak logits of shape '
                f'{tuple(self.weak_logits.shape)}, but the dataset has '
                f'{len(self.dataset)} samples; expected '
                f'({len(self.dataset)}, num_classes).')

    def get_data_info(self, index: int) -> dict:
        """The wrapped sample's info with its ``weak_logits``."""
        data_info = self.dataset.get_data_info(index)
        data_info['weak_logits'] = self.weak_logits[index]
        return data_info
