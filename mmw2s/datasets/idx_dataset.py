# Copyright (c) mmw2s contributors. All rights reserved.
import gzip
import os.path as osp
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import (FASHIONMNIST_CATEGORITES,
                                            MNIST_CATEGORITES)
from mmpretrain.registry import DATASETS

from .dataset_wrapper import SUBSETS, subset_indices

IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: '>i2',
    0x0C: '>i4',
    0x0D: '>f4',
    0x0E: '>f8'
}
SPLIT_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (the format of MNIST and Fashion-MNIST), gzipped or
    not.

    Args:
        path (str): The file; ``.gz`` files are decompressed.

    Returns:
        np.ndarray: The array it holds.
    """
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as file:
        content = file.read()
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or \
            content[2] not in IDX_DTYPES:
        raise ValueError(f'{path} is not an IDX file (bad magic number).')
    dtype = np.dtype(IDX_DTYPES[content[2]])
    num_dims = content[3]
    header = 4 + 4 * num_dims
    shape = tuple(
        int.from_bytes(content[4 + 4 * i:8 + 4 * i], 'big')
        for i in range(num_dims))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(content) - header != expected:
        raise ValueError(f'{path} is truncated: its header announces shape '
                         f'{shape} ({expected} bytes of data), but it holds '
                         f'{len(content) - header}.')
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)


def find_idx_file(data_root: str, name: str, install_hint: str) -> str:
    """The path of ``name`` or ``name.gz`` under ``data_root``."""
    for candidate in (name, f'{name}.gz'):
        path = osp.join(data_root, candidate)
        if osp.isfile(path):
            return path
    raise FileNotFoundError(
        f'{osp.join(data_root, name)}[.gz] not found. {install_hint}')


@DATASETS.register_module()
class IDXDataset(BaseDataset):
    """Image classification data in IDX files: the four files of MNIST,
    Fashion-MNIST and their kin, gzipped or not.

    ``data_root`` holds ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (each possibly with ``.gz``). Samples carry
    ``img`` (H, W) uint8 and ``gt_label``.

    For weak-to-strong experiments the training split can be cut, by a
    seeded permutation, into a validation part of ``val_samples`` images
    (``subset='val'``) and the rest (``subset='train'``), itself cut into two
    disjoint halves (``subset='A'`` and ``subset='B'``).

    Args:
        data_root (str): Directory of the IDX files.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        subset (str, optional): ``'val'``, ``'train'``, ``'A'`` or ``'B'``
            (see above). Defaults to None (the whole split).
        subset_seed (int): Seed of the permutation. Defaults to 0.
        val_samples (int): Images held out for validation when ``subset``
            is given. Defaults to 0.
        max_samples (int, optional): Keep only this many samples (of the
            subset, if any), drawn at random with ``subset_seed`` (files may
            be sorted by class), for fast runs. Defaults to None.
        labelled (bool): Read the labels file. With False the labels file
            is never opened and samples carry only ``img`` (self-supervised
            pre-training). Defaults to True.
        install_hint (str): Added to the error when a file is missing.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``, e.g.
            ``classes`` and ``pipeline``.

    Without class names (``classes``, or a subclass's ``METAINFO``), the
    classes are named by their labels: ``'0'`` to the largest label of the
    split read.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 subset: Optional[str] = None,
                 subset_seed: int = 0,
                 val_samples: int = 0,
                 max_samples: Optional[int] = None,
                 labelled: bool = True,
                 install_hint: str = '',
                 **kwargs) -> None:
        if split not in SPLIT_FILES:
            raise ValueError(f'split must be one of {tuple(SPLIT_FILES)}, '
                             f'got {split!r}.')
        if subset not in (None, *SUBSETS):
            raise ValueError(f'subset must be None or one of {SUBSETS}, '
                             f'got {subset!r}.')
        if max_samples is not None and max_samples < 1:
            raise ValueError(f'max_samples must be >= 1, got {max_samples}.')
        self.split = split
        self.subset = subset
        self.subset_seed = subset_seed
        self.val_samples = val_samples
        self.max_samples = max_samples
        self.labelled = labelled
        self.install_hint = install_hint
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the images (and, if ``labelled``, the labels) of the split
        and subset."""
        image_name, label_name = SPLIT_FILES[self.split]
        images = read_idx(
            find_idx_file(self.data_root, image_name, self.install_hint))
        if images.ndim != 3:
            raise ValueError(f'{image_name} in {self.data_root} holds shape '
                             f'{images.shape}; expected (N, H, W).')
        if self.subset is not None:
            indices = subset_indices(
                len(images), self.subset, self.subset_seed, self.max_samples,
                self.val_samples)
        elif self.max_samples is not None:
            # a seeded draw, not the first images: files may be sorted
            permutation = np.random.default_rng(self.subset_seed).permutation(
                len(images))
            indices = np.sort(permutation[:self.max_samples])
        else:
            indices = np.arange(len(images))
        if len(indices) == 0:
            raise ValueError(
                f'No samples in {self.data_root} '
                f'(split={self.split!r}, subset={self.subset!r}).')
        if not self.labelled:
            return [dict(img=images[index]) for index in indices]
        labels = read_idx(
            find_idx_file(self.data_root, label_name, self.install_hint))
        if labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f'IDX files in {self.data_root} do not pair up: images '
                f'{images.shape}, labels {labels.shape}; expected (N, H, W) '
                'and (N, ).')
        num_classes = len(self.CLASSES) if self.CLASSES else None
        if num_classes is None:
            # unnamed classes are named by their labels, 0 to the largest
            self._metainfo['classes'] = tuple(
                str(label) for label in range(int(labels.max()) + 1))
        elif int(labels.max()) >= num_classes:
            raise ValueError(
                f'Label {int(labels.max())} in {self.data_root} is out of '
                f'range for {num_classes} classes.')
        return [
            dict(img=images[index], gt_label=int(labels[index]))
            for index in indices
        ]


@DATASETS.register_module()
class FashionMNISTIDX(IDXDataset):
    """Fashion-MNIST read from its IDX files (gzipped or not), by default
    from Debian's ``dataset-fashion-mnist`` package.

    Args:
        data_root (str): Directory of the IDX files. Defaults to
            ``'/usr/share/datasets/fashion-mnist'``.
        **kwargs: Other arguments of :class:`IDXDataset`.
    """

    METAINFO = {'classes': FASHIONMNIST_CATEGORITES}

    def __init__(self,
                 data_root: str = '/usr/share/datasets/fashion-mnist',
                 **kwargs) -> None:
        kwargs.setdefault(
            'install_hint', 'Install Fashion-MNIST with `apt-get install -y '
            'dataset-fashion-mnist` (Debian, as root), or set data_root to '
            'a directory with its four IDX files.')
        super().__init__(data_root=data_root, **kwargs)


@DATASETS.register_module()
class MNISTIDX(IDXDataset):
    """MNIST read from its IDX files (gzipped or not).

    Args:
        data_root (str): Directory of the IDX files.
        **kwargs: Other arguments of :class:`IDXDataset`.
    """

    METAINFO = {'classes': MNIST_CATEGORITES}
