# Copyright (c) mmw2s contributors. All rights reserved.
import csv
import os.path as osp
import pickle
from typing import List

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

SPLITS = ('train', 'val', 'test')
# MetaOptNet's pickles name the splits differently
METAOPTNET_SPLITS = {
    'train': 'train_phase_train',
    'val': 'val',
    'test': 'test'
}


class ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain Python containers only; any other
    global (which could run code) is refused."""

    ALLOWED = {('numpy', 'ndarray'), ('numpy', 'dtype'),
               ('numpy.core.multiarray', '_reconstruct'),
               ('numpy._core.multiarray', '_reconstruct'),
               ('numpy.core.multiarray', 'scalar'),
               ('numpy._core.multiarray', 'scalar')}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED or (module == 'numpy.dtypes'
                                              and name.endswith('DType')):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'{module}.{name} is not allowed in a miniImageNet pickle (only '
            'numpy arrays, lists and dicts are).')


def load_arrays_pickle(path: str) -> dict:
    """Load a dataset pickle holding numpy arrays, without running code."""
    with open(path, 'rb') as file:
        return ArraysOnlyUnpickler(file, encoding='latin1').load()


@DATASETS.register_module()
class MiniImageNet(BaseDataset):
    """miniImageNet (Vinyals et al., 2016; Ravi & Larochelle's split: 64
    train, 16 val, 20 test classes of 600 images, 84x84), in the common
    formats:

    - ``'csv'``: ``{data_root}/images/`` with every image and
      ``{data_root}/{split}.csv`` rows of ``filename,label``;
    - ``'cache'``: ``{data_root}/mini-imagenet-cache-{split}.pkl`` holding
      ``{'image_data': (N, 84, 84, 3) uint8, 'class_dict': {name: [index]}}``;
    - ``'metaoptnet'``:
      ``{data_root}/miniImageNet_category_split_{split}.pickle``
      holding ``{'data': (N, 84, 84, 3) uint8, 'labels': [int]}`` (the train
      split is ``train_phase_train``).

    Labels are re-indexed 0..C-1 within the split, in sorted class order.
    Pickles are read with an unpickler that only builds numpy arrays.

    Args:
        data_root (str): The dataset directory.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        data_format (str): ``'auto'`` (whichever file exists), ``'csv'``,
            ``'cache'`` or ``'metaoptnet'``. Defaults to ``'auto'``.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 data_format: str = 'auto',
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}.')
        self.split = split
        self.data_format = data_format
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _paths(self) -> dict:
        return dict(
            csv=osp.join(self.data_root, f'{self.split}.csv'),
            cache=osp.join(self.data_root,
                           f'mini-imagenet-cache-{self.split}.pkl'),
            metaoptnet=osp.join(
                self.data_root, 'miniImageNet_category_split_'
                f'{METAOPTNET_SPLITS[self.split]}.pickle'))

    def _resolve_format(self) -> str:
        paths = self._paths()
        if self.data_format != 'auto':
            if self.data_format not in paths:
                raise ValueError(
                    f"data_format must be 'auto' or one of {sorted(paths)}, "
                    f'got {self.data_format!r}.')
            if not osp.isfile(paths[self.data_format]):
                raise FileNotFoundError(
                    f'{paths[self.data_format]} not found.')
            return self.data_format
        for data_format, path in paths.items():
            if osp.isfile(path):
                return data_format
        raise FileNotFoundError(
            f'No miniImageNet {self.split} split in {self.data_root}: '
            f'expected one of {", ".join(paths.values())}.')

    def load_data_list(self) -> List[dict]:
        """Read the split in whichever format is there."""
        data_format = self._resolve_format()
        path = self._paths()[data_format]
        if data_format == 'csv':
            with open(path, newline='') as file:
                rows = [row for row in csv.DictReader(file)]
            names = sorted({row['label'] for row in rows})
            index = {name: i for i, name in enumerate(names)}
            data_list = [
                dict(
                    img_path=osp.join(self.data_root, 'images',
                                      row['filename']),
                    gt_label=index[row['label']]) for row in rows
            ]
        else:
            content = load_arrays_pickle(path)
            if data_format == 'cache':
                images = content['image_data']
                names = sorted(content['class_dict'])
                labels = np.empty(len(images), dtype=np.int64)
                for label, name in enumerate(names):
                    labels[np.asarray(content['class_dict'][name])] = label
            else:
                images = content['data']
                raw = np.asarray(content['labels'])
                names = sorted(set(raw.tolist()))
                labels = np.searchsorted(names, raw)
            data_list = [
                dict(img=images[i], gt_label=int(labels[i]))
                for i in range(len(images))
            ]
        self._metainfo.setdefault('classes', tuple(str(n) for n in names))
        return data_list
