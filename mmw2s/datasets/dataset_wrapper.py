# Copyright (c) mmw2s contributors. All rights reserved.
import copy
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

# the parts of a seeded split (see subset_indices)
SUBSETS = ('A', 'B', 'train', 'val')


def subset_indices(num_samples: int,
                   subset: str,
                   seed: int,
                   max_samples: Optional[int],
                   val_samples: int = 0) -> np.ndarray:
    """Indices of a seeded part of a dataset.

    A seeded permutation of the samples is cut into a validation part (its
    first ``val_samples``) and the rest, which is cut into two halves.

    Args:
        num_samples (int): Size of the whole split.
        subset (str): ``'val'`` (the validation part), ``'train'`` (the
            rest), ``'A'`` (first half of the rest) or ``'B'`` (second half).
        seed (int): Seed of the permutation.
        max_samples (int, optional): Keep at most this many of the part.
        val_samples (int): Size of the validation part. Defaults to 0.

    Returns:
        np.ndarray: Sorted indices.
    """
    if not 0 <= val_samples < num_samples:
        raise ValueError(f'val_samples must be in [0, {num_samples}) for '
                         f'{num_samples} samples, got {val_samples}.')
    permutation = np.random.default_rng(seed).permutation(num_samples)
    validation, rest = permutation[:val_samples], permutation[val_samples:]
    half = len(rest) // 2
    chosen = dict(
        val=validation, train=rest, A=rest[:half], B=rest[half:])[subset]
    return np.sort(chosen[:max_samples])


class LabelDatasetWrapper:
    """Base of the project's dataset wrappers: a dataset seen through
    :meth:`get_data_info`, which subclasses override to change or add
    fields of a sample.

    Like mmengine's dataset wrappers, it offers what samplers and other
    wrappers use (``metainfo``, ``pipeline``, ``full_init``,
    ``get_gt_labels``, ``get_cat_ids``), so wrappers nest
    (``WeakLabelDataset(NoisyLabelDataset(...))``) and label-aware samplers
    (``EpisodicSampler``) take them.

    Args:
        dataset (dict | BaseDataset): The dataset (config) to wrap.
    """

    def __init__(self, dataset: Union[dict, BaseDataset]) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset,
                                                             dict) else dataset
        self.metainfo = copy.deepcopy(self.dataset.metainfo)

    @property
    def pipeline(self):
        """The wrapped dataset's transforms."""
        return self.dataset.pipeline

    def full_init(self) -> None:
        """Load the wrapped dataset if it is lazily initialised."""
        self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, index: int) -> dict:
        """The sample's fields before the transforms."""
        return self.dataset.get_data_info(index)

    def get_gt_labels(self) -> np.ndarray:
        """The label of every sample, as this wrapper gives them."""
        return np.asarray(self.dataset.get_gt_labels())

    def get_cat_ids(self, index: int) -> List[int]:
        """The label of sample ``index``, as a list (mmengine's API)."""
        return self.dataset.get_cat_ids(index)

    def __getitem__(self, index: int) -> dict:
        return self.pipeline(self.get_data_info(index))


@DATASETS.register_module()
class ClassSubsetDataset(LabelDatasetWrapper):
    """The samples of some classes of a dataset, with their labels
    renumbered ``0 .. len(classes) - 1`` in the order of ``classes`` (the
    base or novel classes of a few-shot split).

    Args:
        dataset (dict | BaseDataset): The dataset (config) to wrap.
        classes (Sequence[int]): Class indices of the wrapped dataset to
            keep, without repeats.
    """

    def __init__(self, dataset: Union[dict, BaseDataset],
                 classes: Sequence[int]) -> None:
        super().__init__(dataset)
        names = self.metainfo['classes']
        classes = [int(c) for c in classes]
        if not classes or len(set(classes)) != len(classes) or any(
                not 0 <= c < len(names) for c in classes):
            raise ValueError(
                f'ClassSubsetDataset: classes is {classes}; expected '
                f'distinct class indices in [0, {len(names)}) of '
                f'{type(self.dataset).__name__}.')
        labels = np.asarray(self.dataset.get_gt_labels())
        self.classes = classes
        self.indices = np.flatnonzero(np.isin(labels, classes))
        renumber = np.full(len(names), -1)
        renumber[classes] = np.arange(len(classes))
        self.labels = renumber[labels[self.indices]]
        self.metainfo['classes'] = tuple(names[c] for c in classes)

    def __len__(self) -> int:
        return len(self.indices)

    def get_data_info(self, index: int) -> dict:
        """The kept sample ``index`` with its renumbered ``gt_label``."""
        data_info = self.dataset.get_data_info(int(self.indices[index]))
        data_info['gt_label'] = int(self.labels[index])
        return data_info

    def get_gt_labels(self) -> np.ndarray:
        """The renumbered labels."""
        return self.labels.copy()

    def get_cat_ids(self, index: int) -> List[int]:
        """The renumbered label of sample ``index``, as a list."""
        return [int(self.labels[index])]


@DATASETS.register_module()
class SeededSplitDataset(LabelDatasetWrapper):
    """A seeded part of a dataset: its validation part, the rest, or a half
    of the rest (see :func:`subset_indices`), for any mmpretrain dataset
    (IDX files, image folders, CIFAR, annotation files).

    Args:
        dataset (dict | BaseDataset): The dataset (config) to wrap.
        part (str, optional): ``'val'``, ``'train'``, ``'A'`` or ``'B'``;
            None keeps every sample (``max_samples`` may still draw some).
            Defaults to None.
        seed (int): Seed of the permutation. Defaults to 0.
        val_samples (int): Size of the validation part. Defaults to 0.
        max_samples (int, optional): Keep at most this many samples of the
            part, a seeded draw (files may be stored sorted by class).
            Defaults to None (all).
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 part: Optional[str] = None,
                 seed: int = 0,
                 val_samples: int = 0,
                 max_samples: Optional[int] = None) -> None:
        if part not in (None, *SUBSETS):
            raise ValueError(f'SeededSplitDataset: part is {part!r}; '
                             f'expected None or one of {SUBSETS}.')
        if max_samples is not None and max_samples < 1:
            raise ValueError(f'SeededSplitDataset: max_samples is '
                             f'{max_samples!r}; expected None or >= 1.')
        super().__init__(dataset)
        self.indices = subset_indices(
            len(self.dataset), part or 'train', seed, max_samples,
            val_samples if part else 0)

    def __len__(self) -> int:
        return len(self.indices)

    def get_data_info(self, index: int) -> dict:
        """The kept sample ``index``."""
        return self.dataset.get_data_info(int(self.indices[index]))

    def get_gt_labels(self) -> np.ndarray:
        """The labels of the kept samples."""
        return np.asarray(self.dataset.get_gt_labels())[self.indices]

    def get_cat_ids(self, index: int) -> List[int]:
        """The label of kept sample ``index``, as a list."""
        return self.dataset.get_cat_ids(int(self.indices[index]))
