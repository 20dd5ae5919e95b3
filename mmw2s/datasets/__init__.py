# Copyright (c) mmw2s contributors. All rights reserved.
from .weak_label_dataset import WeakLabelDataset

__all__ = ['WeakLabelDataset']
