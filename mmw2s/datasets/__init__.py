# Copyright (c) mmw2s contributors. All rights reserved.
from .dataset_wrapper import (ClassSubsetDataset, LabelDatasetWrapper,
                              SeededSplitDataset)
from .episodic_sampler import EpisodicSampler
from .idx_dataset import MNISTIDX, FashionMNISTIDX, IDXDataset, read_idx
from .mini_imagenet import MiniImageNet
from .noisy_label_dataset import NoisyLabelDataset, corrupt_labels
from .weak_label_dataset import WeakLabelDataset

__all__ = [
    'ClassSubsetDataset', 'EpisodicSampler', 'FashionMNISTIDX', 'IDXDataset',
    'LabelDatasetWrapper', 'MiniImageNet', 'MNISTIDX', 'NoisyLabelDataset',
    'SeededSplitDataset', 'WeakLabelDataset', 'corrupt_labels', 'read_idx'
]
