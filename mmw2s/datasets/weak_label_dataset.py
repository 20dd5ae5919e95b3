# Copyright (c) mmw2s contributors. All rights reserved.
import hashlib
import os.path as osp
import warnings
from typing import Optional, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from mmw2s.utils import load_checkpoint_safely

from .dataset_wrapper import LabelDatasetWrapper

# transforms that are random although their names do not start with 'Random'
RANDOM_TRANSFORMS = ('RandAugment', 'AutoAugment', 'ColorJitter', 'Mixup',
                     'CutMix')


def image_hash(data_info: dict, data_root: Optional[str]) -> int:
    """A 64-bit hash of a sample's ``img`` bytes, or else of its
    ``img_path`` relative to ``data_root`` (so that the data may move)."""
    if 'img' in data_info:
        content = np.ascontiguousarray(data_info['img']).tobytes()
    elif 'img_path' in data_info:
        path = data_info['img_path']
        if data_root:
            path = osp.relpath(path, data_root)
        content = path.encode()
    else:
        raise KeyError('A sample has neither `img` nor `img_path`; expected '
                       f'one of them to key its weak logits, got '
                       f'{sorted(data_info)}.')
    digest = hashlib.blake2b(content, digest_size=8).digest()
    return int.from_bytes(digest, 'little', signed=True)


@DATASETS.register_module()
class WeakLabelDataset(LabelDatasetWrapper):
    """Attach offline weak logits to each sample of a dataset.

    Sample ``i`` gets ``weak_logits``, row ``i`` of the file written by
    ``tools/dump_weak_logits.py`` for the same dataset. Pack it with
    ``dict(type='PackInputs', algorithm_keys=['weak_logits'])``.

    The file keys every row by its sample (see :meth:`sample_keys`); a
    dataset whose samples differ from them, e.g. the same data in another
    order or another subset of the same size, is refused. A warning names
    the random transforms of the pipeline, which the logits, computed with
    the test pipeline, did not see.

    Args:
        dataset (dict | BaseDataset): The dataset (config) to wrap.
        weak_logits_file (str): A file with ``{'weak_logits': Tensor (N, C),
            'sample_keys': Tensor (N, 2), 'num_samples': N, ...}``.
    """

    def __init__(self, dataset: Union[dict, BaseDataset],
                 weak_logits_file: str) -> None:
        super().__init__(dataset)
        contents = load_checkpoint_safely(weak_logits_file, 'cpu')
        if not isinstance(contents, dict) or 'weak_logits' not in contents:
            raise KeyError(f'{weak_logits_file} has no `weak_logits`; write '
                           'it with tools/dump_weak_logits.py.')
        if 'sample_keys' not in contents:
            raise ValueError(
                f'{weak_logits_file} has no `sample_keys` (an old format), '
                'so its rows cannot be matched to the samples; re-dump it '
                'with tools/dump_weak_logits.py.')
        self.weak_logits = contents['weak_logits'].float()
        keys = torch.as_tensor(contents['sample_keys'])
        num_samples = len(self.dataset)
        if self.weak_logits.dim() != 2 or len(self.weak_logits) != \
                num_samples or tuple(keys.shape) != (num_samples, 2):
            raise ValueError(
                f'{weak_logits_file} holds weak logits of shape '
                f'{tuple(self.weak_logits.shape)} and sample keys of shape '
                f'{tuple(keys.shape)}, but the dataset has {num_samples} '
                f'samples; expected ({num_samples}, num_classes) and '
                f'({num_samples}, 2). Re-dump the logits for this dataset '
                'with tools/dump_weak_logits.py.')
        self._check_keys(keys, weak_logits_file)
        self._warn_random_transforms()

    @staticmethod
    def sample_keys(
            dataset: Union[BaseDataset, LabelDatasetWrapper]) -> torch.Tensor:
        """The key of every sample: its label and a hash of its image.

        The label is ``clean_label`` where a wrapper set one (label noise
        does not change the logits), else ``gt_label``, else -1. The hash is
        of the ``img`` bytes, or else of ``img_path`` relative to the
        innermost dataset's ``data_root``. Both come from ``get_data_info``,
        before the transforms.

        Args:
            dataset (BaseDataset | LabelDatasetWrapper): A built dataset.

        Returns:
            Tensor: Int64 keys of shape (N, 2): label, image hash.
        """
        inner = dataset
        while hasattr(inner, 'dataset'):
            inner = inner.dataset
        data_root = getattr(inner, 'data_root', None)
        keys = []
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            label = info.get('clean_label', info.get('gt_label', -1))
            keys.append((int(label), image_hash(info, data_root)))
        return torch.tensor(keys, dtype=torch.int64).reshape(-1, 2)

    def _check_keys(self, keys: torch.Tensor, weak_logits_file: str) -> None:
        """Refuse the file unless every row's key is its sample's."""
        differs = keys != self.sample_keys(self.dataset)
        bad_rows = differs.any(dim=1).nonzero().flatten()
        if len(bad_rows) == 0:
            return
        row = int(bad_rows[0])
        what = ' and '.join(
            name for name, bad in zip(('label', 'image'), differs[row]) if bad)
        raise ValueError(
            f'{weak_logits_file} was dumped for other samples than this '
            f'dataset: the first mismatch is row {row}, whose {what} '
            f'differ(s) ({len(bad_rows)} of {len(keys)} rows differ; the '
            'dataset may be reordered or another subset). Re-dump the logits '
            'for this dataset with tools/dump_weak_logits.py.')

    def _warn_random_transforms(self) -> None:
        """Warn once about the random transforms of the pipeline."""
        names = [
            type(transform).__name__
            for transform in getattr(self.pipeline, 'transforms', [])
        ]
        random = [
            name for name in names
            if name.startswith('Random') or name in RANDOM_TRANSFORMS
        ]
        if random:
            warnings.warn(
                f'The pipeline of WeakLabelDataset has random transforms '
                f'{random}; the offline weak logits were computed with the '
                'test pipeline and did not see them, so each sample keeps '
                'the logits of its unaugmented image.')

    def get_data_info(self, index: int) -> dict:
        """The wrapped sample's info with its ``weak_logits``."""
        data_info = self.dataset.get_data_info(index)
        data_info['weak_logits'] = self.weak_logits[index]
        return data_info
