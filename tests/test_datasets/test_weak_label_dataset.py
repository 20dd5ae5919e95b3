# Copyright (c) mmw2s contributors. All rights reserved.
import warnings
from typing import List, Sequence

import numpy as np
import pytest
import torch
from idx_helpers import write_fashion_like

import mmw2s  # noqa: F401
from mmw2s.datasets import (FashionMNISTIDX, LabelDatasetWrapper,
                            NoisyLabelDataset, WeakLabelDataset)
from mmw2s.datasets.weak_label_dataset import image_hash


class Rows(LabelDatasetWrapper):
    """Rows ``indices`` of a dataset, in that order."""

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        super().__init__(dataset)
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def get_data_info(self, index: int) -> dict:
        return self.dataset.get_data_info(self.indices[index])


@pytest.fixture(scope='module')
def fashion(tmp_path_factory):
    root = write_fashion_like(
        str(tmp_path_factory.mktemp('fashion')), num_train=40, num_test=10)
    return FashionMNISTIDX(data_root=root)


def dump(dataset, path) -> torch.Tensor:
    """Write a weak-logits file for ``dataset`` as tools/dump_weak_logits.py
    does; return its logits."""
    logits = torch.randn(len(dataset), 10)
    torch.save(
        dict(
            weak_logits=logits,
            sample_keys=WeakLabelDataset.sample_keys(dataset),
            num_samples=len(dataset)), path)
    return logits


def random_transform_warnings(record: List[warnings.WarningMessage]) -> list:
    return [w for w in record if 'random transforms' in str(w.message)]


def test_attaches_the_row_of_each_sample(fashion, tmp_path):
    logits = dump(fashion, tmp_path / 'logits.pth')
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        weak = WeakLabelDataset(
            dict(type='FashionMNISTIDX', data_root=fashion.data_root),
            str(tmp_path / 'logits.pth'))
    assert not random_transform_warnings(record)
    for index in (0, 17, len(weak) - 1):
        info = weak.get_data_info(index)
        torch.testing.assert_close(info['weak_logits'], logits[index])
        np.testing.assert_array_equal(info['img'],
                                      fashion.get_data_info(index)['img'])


def test_keys_are_label_and_image_and_ignore_label_noise(fashion, tmp_path):
    keys = WeakLabelDataset.sample_keys(fashion)
    assert keys.shape == (len(fashion), 2) and keys.dtype == torch.int64
    np.testing.assert_array_equal(keys[:, 0], fashion.get_gt_labels())
    assert len(set(keys[:, 1].tolist())) == len(fashion)
    # noisy labels do not change the logits: the clean label is the key
    logits = dump(fashion, tmp_path / 'logits.pth')
    noisy = NoisyLabelDataset(fashion, 'symmetric', noise_rate=0.5)
    weak = WeakLabelDataset(noisy, str(tmp_path / 'logits.pth'))
    torch.testing.assert_close(weak.get_data_info(3)['weak_logits'], logits[3])


def test_image_path_is_keyed_relative_to_data_root():
    moved = image_hash(dict(img_path='/a/train/0/x.png'), '/a')
    assert moved == image_hash(dict(img_path='/b/train/0/x.png'), '/b')
    assert moved != image_hash(dict(img_path='/a/train/0/y.png'), '/a')
    with pytest.raises(KeyError, match='neither `img` nor `img_path`'):
        image_hash(dict(gt_label=0), '/a')


def swap_last_two_of_different_labels(labels: np.ndarray) -> List[int]:
    last = len(labels) - 1
    other = int(np.flatnonzero(labels != labels[last])[-1])
    indices = list(range(len(labels)))
    indices[other], indices[last] = last, other
    return indices


@pytest.mark.parametrize('change', ['reorder', 'subset'])
def test_refuses_other_order_or_subset_naming_the_first_bad_row(
        fashion, tmp_path, change):
    labels = fashion.get_gt_labels()
    if change == 'reorder':
        # every row is checked: only a late row and the last one are swapped
        dumped = fashion
        wrapped = Rows(fashion, swap_last_two_of_different_labels(labels))
        first_bad = wrapped.indices.index(len(labels) - 1)
        what = 'label and image'
    else:
        # the same size, a late sample replaced by one of the same label
        dumped = Rows(fashion, range(20))
        first_bad, replacement = max((row, other) for row in range(20)
                                     for other in range(20, 40)
                                     if labels[row] == labels[other])
        wrapped = Rows(fashion, range(20))
        wrapped.indices[first_bad] = replacement
        what = 'image'
    dump(dumped, tmp_path / 'logits.pth')
    assert len(wrapped) == len(dumped)
    with pytest.raises(ValueError) as error:
        WeakLabelDataset(wrapped, str(tmp_path / 'logits.pth'))
    message = str(error.value)
    assert str(tmp_path / 'logits.pth') in message
    assert f'row {first_bad}, whose {what} differ' in message
    assert 'Re-dump the logits for this dataset' in message


def test_refuses_a_file_without_sample_keys(fashion, tmp_path):
    torch.save(
        dict(weak_logits=torch.randn(len(fashion), 10)), tmp_path / 'old.pth')
    with pytest.raises(
            ValueError,
            match=r'old.pth has no `sample_keys`.*re-dump it '
            r'with tools/dump_weak_logits.py'):
        WeakLabelDataset(fashion, str(tmp_path / 'old.pth'))


def test_warns_once_about_random_transforms(fashion, tmp_path):
    dump(fashion, tmp_path / 'logits.pth')
    augmented = dict(
        type='FashionMNISTIDX',
        data_root=fashion.data_root,
        pipeline=[
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='ColorJitter', brightness=0.4),
            dict(type='PackInputs', algorithm_keys=['weak_logits']),
        ])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        WeakLabelDataset(augmented, str(tmp_path / 'logits.pth'))
    [warning] = random_transform_warnings(record)
    assert "['RandomFlip', 'ColorJitter']" in str(warning.message)
