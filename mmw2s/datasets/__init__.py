# Copyright (c) mmw2s contributors. All rights reserved.
from .idx_dataset import FashionMNISTIDX, IDXDataset, MNISTIDX, read_idx
from .weak_label_dataset import WeakLabelDataset

__all__ = [
    'FashionMNISTIDX', 'IDXDataset', 'MNISTIDX', 'WeakLabelDataset',
    'read_idx'
]
