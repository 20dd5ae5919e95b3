# Copyright (c) mmw2s contributors. All rights reserved.
import copy
from typing import List, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS


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
