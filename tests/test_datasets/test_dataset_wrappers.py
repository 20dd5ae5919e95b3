# Copyright (c) mmw2s contributors. All rights reserved.
import numpy as np
import pytest
import torch
from idx_helpers import write_fashion_like

import mmw2s  # noqa: F401
from mmw2s.datasets import (ClassSubsetDataset, EpisodicSampler,
                            FashionMNISTIDX, NoisyLabelDataset,
                            SeededSplitDataset, WeakLabelDataset, read_idx)


@pytest.fixture(scope='module')
def fashion(tmp_path_factory):
    root = write_fashion_like(
        str(tmp_path_factory.mktemp('fashion')), num_train=200, num_test=50)
    labels = read_idx(f'{root}/train-labels-idx1-ubyte.gz').astype(int)
    return FashionMNISTIDX(data_root=root), labels


def test_class_subset_keeps_the_classes_in_order_and_renumbers(fashion):
    dataset, labels = fashion
    subset = ClassSubsetDataset(dataset, classes=[7, 2, 4])
    kept = np.flatnonzero(np.isin(labels, [7, 2, 4]))
    assert len(subset) == len(kept)
    assert subset.metainfo['classes'] == ('Sneaker', 'Pullover', 'Coat')
    expected = np.array([{7: 0, 2: 1, 4: 2}[c] for c in labels[kept]])
    np.testing.assert_array_equal(subset.get_gt_labels(), expected)
    for position in (0, len(subset) // 2, len(subset) - 1):
        info = subset.get_data_info(position)
        assert info['gt_label'] == expected[position]
        np.testing.assert_array_equal(
            info['img'],
            dataset.get_data_info(int(kept[position]))['img'])
        assert subset.get_cat_ids(position) == [expected[position]]
    # the wrapped dataset keeps its own labels
    assert dataset.get_data_info(int(kept[0]))['gt_label'] == labels[kept[0]]


@pytest.mark.parametrize('classes', [[], [1, 1], [10], [-1]])
def test_class_subset_refuses_bad_classes(fashion, classes):
    with pytest.raises(ValueError, match=r'classes is .*\[0, 10\)'):
        ClassSubsetDataset(fashion[0], classes=classes)


def test_wrappers_nest_and_offer_labels_to_samplers(fashion, tmp_path):
    dataset, labels = fashion
    subset_cfg = dict(
        type='ClassSubsetDataset', dataset=dataset, classes=[0, 1, 2, 3])
    noisy = NoisyLabelDataset(
        subset_cfg, noise_type='symmetric', noise_rate=0.5, seed=3)
    kept = np.flatnonzero(labels < 4)
    np.testing.assert_array_equal(noisy.clean_labels, labels[kept])
    flipped = np.flatnonzero(noisy.noisy_labels != noisy.clean_labels)
    assert len(flipped) > 0
    logits = torch.randn(len(noisy), 4)
    torch.save(
        dict(
            weak_logits=logits,
            sample_keys=WeakLabelDataset.sample_keys(noisy)),
        tmp_path / 'logits.pth')
    weak = WeakLabelDataset(noisy, str(tmp_path / 'logits.pth'))
    np.testing.assert_array_equal(weak.get_gt_labels(), noisy.noisy_labels)
    index = int(flipped[0])
    info = weak.get_data_info(index)
    assert info['gt_label'] == noisy.noisy_labels[index] != labels[kept[index]]
    assert info['clean_label'] == labels[kept[index]]
    torch.testing.assert_close(info['weak_logits'], logits[index])
    assert weak.get_cat_ids(index) == [int(noisy.noisy_labels[index])]
    assert weak.metainfo['classes'] == dataset.metainfo['classes'][:4]
    assert weak.pipeline is dataset.pipeline
    weak.full_init()
    # a label-aware sampler reads the labels through the wrappers
    sampler = EpisodicSampler(
        weak, num_ways=2, num_shots=1, num_queries=1, num_episodes=5, seed=0)
    episode = np.array(list(sampler)).reshape(5, 2, 2)
    noisy_labels = weak.get_gt_labels()
    for classes in noisy_labels[episode]:
        assert (classes[:, 0] == classes[:, 1]).all()
        assert classes[0, 0] != classes[1, 0]


def test_seeded_split_cuts_any_dataset_as_the_idx_reader_did(fashion):
    """The parts of a wrapped dataset are the seeded parts IDXDataset cuts
    itself (same samples, same order), disjoint, and ``max_samples`` is a
    seeded draw."""
    dataset, labels = fashion
    parts = {}
    for part in ('val', 'A', 'B'):
        split = SeededSplitDataset(dataset, part=part, seed=3, val_samples=20)
        own = FashionMNISTIDX(
            data_root=dataset.data_root,
            subset=part,
            subset_seed=3,
            val_samples=20)
        assert len(split) == len(own)
        for index in (0, len(split) - 1):
            np.testing.assert_array_equal(
                split.get_data_info(index)['img'],
                own.get_data_info(index)['img'])
        np.testing.assert_array_equal(split.get_gt_labels(),
                                      own.get_gt_labels())
        parts[part] = set(split.indices)
    assert len(parts['val']) == 20 and len(parts['A']) == 90
    assert not parts['val'] & parts['A'] and not parts['A'] & parts['B']
    assert parts['val'] | parts['A'] | parts['B'] == set(range(200))
    drawn = SeededSplitDataset(dataset, seed=1, max_samples=50)
    assert len(drawn) == 50 and drawn.indices[-1] > 100  # not the first 50
    assert drawn.get_cat_ids(0) == [labels[drawn.indices[0]]]
    with pytest.raises(ValueError, match="part is 'C'; expected None or"):
        SeededSplitDataset(dataset, part='C')
