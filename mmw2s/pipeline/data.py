# Copyright (c) mmw2s contributors. All rights reserved.
"""The study's data: any mmpretrain dataset config, its seeded parts, their
sizes, and the identity of what the dataset reads.

A study config's ``data`` holds the arguments every split shares (``type``,
``data_root``, ``classes``...), the arguments of each split (``train``,
``test``), those of the unlabelled training images for pre-training
(``unlabelled``, e.g. ``labelled=False`` for IDX files or
``with_label=False`` for ``CustomDataset``) and the size of the validation
part held out from the training split (``val_size``: a count or a
fraction).
"""
import copy
import hashlib
import math
from typing import List, NamedTuple, Optional, Union

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS

# the keys of ``data`` that are not arguments of the dataset itself
SPLIT_KEYS = ('train', 'test', 'unlabelled', 'val_size')
Size = Union[int, float]


class DataSummary(NamedTuple):
    """What a dataset reads, as its own code resolved it.

    Attributes:
        size (int): Number of samples.
        classes (list[str]): Class names (its metainfo).
        images_sha256 (str): SHA-256 of every sample's image in order: the
            bytes of each file it reads (``img_path``), or of each array it
            decoded (``img``, e.g. IDX files and CIFAR batches).
        labels_sha256 (str): SHA-256 of the labels in order (empty for an
            unlabelled dataset).
        labels (np.ndarray): The labels in order (empty for an unlabelled
            dataset).
    """
    size: int
    classes: List[str]
    images_sha256: str
    labels_sha256: str
    labels: np.ndarray


def split_cfg(plan: Config, split: str, pipeline: list) -> dict:
    """The dataset config of ``split`` (``'train'``, ``'test'`` or
    ``'unlabelled'``, the training images without labels) with
    ``pipeline``."""
    common = {k: v for k, v in plan.data.items() if k not in SPLIT_KEYS}
    extra = dict(plan.data.get('train', {}))
    if split == 'unlabelled':
        extra.update(plan.data.get('unlabelled', {}))
    elif split == 'test':
        extra = dict(plan.data.get('test', {}))
    return copy.deepcopy(dict(common, **extra, pipeline=pipeline))


def part_cfg(dataset: dict,
             part: Optional[str],
             seed: int,
             val_samples: int,
             samples: Optional[int] = None) -> dict:
    """``dataset`` cut to a seeded ``part`` (``SeededSplitDataset``)."""
    return dict(
        type='SeededSplitDataset',
        dataset=dataset,
        part=part,
        seed=seed,
        val_samples=val_samples,
        max_samples=samples)


def _update_image(digest, info: dict, index: int) -> None:
    if 'img_path' in info:
        with open(info['img_path'], 'rb') as file:
            for block in iter(lambda: file.read(1 << 20), b''):
                digest.update(block)
    elif 'img' in info:
        image = np.ascontiguousarray(info['img'])
        digest.update(f'{image.dtype.str}{image.shape}'.encode())
        digest.update(image.tobytes())
    else:
        raise KeyError(f'sample {index} of the data has neither img_path nor '
                       f'img (it has {sorted(info)}); expected one of them '
                       'to identify the data.')


def summarize(dataset_cfg: dict) -> DataSummary:
    """Build ``dataset_cfg`` and identify what it reads.

    Args:
        dataset_cfg (dict): An mmpretrain dataset config.

    Returns:
        DataSummary: Its size, classes and the SHA-256 of its images and
        labels.
    """
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
    images, labels = hashlib.sha256(), []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        _update_image(images, info, index)
        if 'gt_label' in info:
            labels.append(int(info['gt_label']))
    labels = np.asarray(labels, dtype=np.int64)
    labels_sha256 = hashlib.sha256(
        labels.tobytes()).hexdigest() if len(labels) else ''
    return DataSummary(
        len(dataset),
        [str(name) for name in dataset.metainfo.get('classes', ())],
        images.hexdigest(), labels_sha256, labels)


class Sized(NamedTuple):
    """A size asked for, resolved against what the data has.

    Attributes:
        count (int): The number used.
        asked (int | float | None): What the config asked for.
        available (int): What the data has.
    """
    count: int
    asked: Optional[Size]
    available: int

    @property
    def clamped(self) -> bool:
        """Whether a count larger than the data was cut to the data."""
        return isinstance(self.asked, int) and self.asked > self.available


def resolve_size(asked: Optional[Size], available: int, key: str) -> Sized:
    """A count (int >= 1, clamped to ``available``) or a fraction (float in
    (0, 1], rounded, at least 1) of ``available``; None takes all.

    Raises:
        ValueError: ``asked`` is neither, naming ``key``.
    """
    if asked is None:
        return Sized(available, None, available)
    if isinstance(asked, bool) or not isinstance(asked, (int, float)) or \
            asked <= 0 or (isinstance(asked, float) and asked > 1):
        raise ValueError(f'{key} is {asked!r}; expected a count (an int >= '
                         '1) or a fraction (a float in (0, 1]).')
    if isinstance(asked, float):
        return Sized(max(1, round(asked * available)), asked, available)
    return Sized(min(asked, available), asked, available)


def validation_size(plan: Config, train_images: int) -> Sized:
    """The validation part's size: ``data.val_size`` of the training
    split, leaving at least two images to train on (halves A and B)."""
    val = resolve_size(plan.data.get('val_size'), train_images,
                       'data.val_size') if plan.data.get('val_size') \
        else Sized(0, None, train_images)
    if train_images - val.count < 2:
        raise ValueError(
            f'data.val_size is {val.asked!r}: {val.count} of the '
            f'{train_images} training images, leaving fewer than 2 to train '
            'on; expected a smaller count or a fraction such as 0.1.')
    return val


def part_images(total: int, val_samples: int, part: Optional[str]) -> int:
    """Images in ``part`` of a split of ``total`` (see
    ``SeededSplitDataset``)."""
    rest = total - val_samples
    return dict(
        val=val_samples,
        train=rest,
        A=rest // 2,
        B=rest - rest // 2,
        whole=total)[part or 'whole']


def iterations(num_images: int, batch_size: int, epochs: int = 1) -> int:
    """Iterations of ``epochs`` over ``num_images``."""
    return math.ceil(num_images / batch_size) * epochs
