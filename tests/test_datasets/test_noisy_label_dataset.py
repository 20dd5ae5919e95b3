# Copyright (c) mmw2s contributors. All rights reserved.
import json

import numpy as np
import pytest
from mmpretrain.datasets.categories import CIFAR100_CATEGORIES

import mmw2s  # noqa: F401
from mmw2s.datasets import NoisyLabelDataset, corrupt_labels
from mmw2s.datasets.noisy_label_dataset import (CIFAR10_ASYMMETRIC,
                                                cifar100_asymmetric_map)


class LabelsOnly:
    """A stand-in dataset: only labels (and an identity pipeline)."""

    def __init__(self, labels, num_classes):
        self.labels = np.asarray(labels)
        self.metainfo = dict(classes=[str(c) for c in range(num_classes)])

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels

    def get_data_info(self, index):
        return dict(img=index, gt_label=int(self.labels[index]))

    def pipeline(self, data_info):
        return data_info


def balanced(num_classes, per_class=500):
    return np.repeat(np.arange(num_classes), per_class)


@pytest.mark.parametrize('num_classes,rate', [(10, 0.2), (100, 0.2),
                                              (10, 0.8)])
def test_symmetric_noise_rate_and_uniform_transitions(num_classes, rate):
    clean = balanced(num_classes, per_class=5000 if num_classes == 10 else 500)
    noisy = corrupt_labels(clean, num_classes, 'symmetric', rate, 0, {})
    changed = noisy != clean
    assert changed.mean() == pytest.approx(rate, abs=1 / len(clean))
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (clean[changed], noisy[changed]), 1)
    assert np.all(np.diag(counts) == 0)
    off_diagonal = counts[~np.eye(num_classes, dtype=bool)]
    expected = changed.sum() / (num_classes * (num_classes - 1))
    if num_classes == 10:  # enough samples per cell for a tight check
        assert np.abs(off_diagonal - expected).max() < 0.5 * expected


@pytest.mark.parametrize('num_classes,effective', [(10, 0.18), (100, 0.198)])
def test_symmetric_noise_drawn_from_all_classes(num_classes, effective):
    """Sel-CL's noise (Guo et al.'s noisy_labels_learning/CIFAR/dataset/
    cifar_dataset.py:84-96 at c020783): 20% of the samples get a label drawn
    from all classes, so 20% x (C - 1) / C change class, uniformly."""
    clean = balanced(num_classes, per_class=5000 if num_classes == 10 else 500)
    noisy = corrupt_labels(
        clean,
        num_classes,
        'symmetric',
        0.2,
        0, {},
        symmetric_draw='all_classes')
    changed = noisy != clean
    assert changed.mean() == pytest.approx(effective, abs=0.005)
    # the drawn labels are uniform: each class gains about as many samples
    gained = np.bincount(noisy[changed], minlength=num_classes)
    if num_classes == 10:
        expected = changed.sum() / num_classes
        assert np.abs(gained - expected).max() < 0.1 * expected


def test_symmetric_draw_default_keeps_the_labels_of_earlier_runs():
    """The default draws from the other classes with the same random
    stream as before the option existed (committed Fashion-MNIST results
    depend on it)."""
    clean = balanced(10, per_class=100)
    rng = np.random.default_rng(7)
    chosen = rng.choice(len(clean), 200, replace=False)
    before = clean.copy()
    before[chosen] = (clean[chosen] + rng.integers(1, 10, size=200)) % 10
    np.testing.assert_array_equal(
        corrupt_labels(clean, 10, 'symmetric', 0.2, 7, {}), before)
    wrapped = NoisyLabelDataset(
        LabelsOnly(clean, 10), 'symmetric', 0.2, seed=7)
    np.testing.assert_array_equal(wrapped.noisy_labels, before)


def test_cifar10_asymmetric_noise_follows_the_class_map():
    clean = balanced(10)
    noisy = corrupt_labels(clean, 10, 'asymmetric', 0.4, 0, CIFAR10_ASYMMETRIC)
    for source in range(10):
        members = clean == source
        if source in CIFAR10_ASYMMETRIC:
            flipped = noisy[members] != source
            assert flipped.mean() == pytest.approx(0.4)
            assert set(noisy[members][flipped]) == {CIFAR10_ASYMMETRIC[source]}
        else:
            assert np.all(noisy[members] == source)


def test_cifar100_map_is_the_next_class_in_each_superclass():
    mapping = cifar100_asymmetric_map()
    index = {name: i for i, name in enumerate(CIFAR100_CATEGORIES)}
    assert len(mapping) == 100 and sorted(mapping.values()) == list(range(100))
    assert mapping[index['beaver']] == index['dolphin']
    assert mapping[index['whale']] == index['beaver']
    assert mapping[index['tractor']] == index['lawn_mower']
    clean = balanced(100, per_class=50)
    noisy = corrupt_labels(clean, 100, 'asymmetric', 0.4, 1, mapping)
    assert (noisy != clean).mean() == pytest.approx(0.4)


def test_wrapper_is_reproducible_by_seed_and_keeps_clean_labels():
    labels = balanced(10, per_class=100)

    def wrap(seed):
        return NoisyLabelDataset(
            LabelsOnly(labels, 10), 'symmetric', 0.2, seed=seed)

    first, again, other = wrap(3), wrap(3), wrap(4)
    assert np.array_equal(first.noisy_labels, again.noisy_labels)
    assert not np.array_equal(first.noisy_labels, other.noisy_labels)
    flipped = np.flatnonzero(first.noisy_labels != labels)
    kept = np.flatnonzero(first.noisy_labels == labels)
    for index in (int(flipped[0]), int(flipped[-1]), int(kept[0])):
        sample = first[index]
        assert sample['clean_label'] == labels[index]
        assert sample['gt_label'] == first.noisy_labels[index]
    assert first[int(flipped[0])]['gt_label'] != labels[flipped[0]]
    np.testing.assert_array_equal(first.get_gt_labels(), first.noisy_labels)


@pytest.mark.parametrize('kwargs,message', [
    (dict(noise_type='pairwise', noise_rate=0.2), 'noise_type must be'),
    (dict(noise_type='symmetric', noise_rate=1.5), 'noise_rate must be in'),
    (dict(noise_type='asymmetric', noise_rate=0.4,
          asymmetric_map='svhn'), 'asymmetric_map must be one of'),
    (dict(noise_type='symmetric', noise_rate=0.2, symmetric_draw='all'),
     r"symmetric_draw must be one of \('other_classes', 'all_classes'\), "
     "got 'all'"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises((ValueError, KeyError), match=message):
        NoisyLabelDataset(LabelsOnly(balanced(10, 2), 10), **kwargs)


@pytest.mark.parametrize('text', ['{"0": 6, "2": 4}', '{"0": "6", "2": "4"}'])
def test_string_keys_give_the_noise_of_int_keys(text):
    """Keys as JSON configs and ``--cfg-options`` give them (``'0'``)."""

    def wrap(class_map):
        return NoisyLabelDataset(
            LabelsOnly(balanced(10, 100), 10),
            'asymmetric',
            0.4,
            seed=2,
            asymmetric_map=class_map)

    expected = wrap({0: 6, 2: 4}).noisy_labels
    assert (expected != balanced(10, 100)).sum() == 80
    np.testing.assert_array_equal(
        wrap(json.loads(text)).noisy_labels, expected)


@pytest.mark.parametrize('key,value,message', [
    ('cat', 6, "key 'cat': expected a class index in"),
    (1.5, 6, 'key 1.5: expected'),
    (None, 6, 'key None: expected'),
    (True, 6, 'key True: expected'),
    (10, 1, r'key 10: expected a class index in \[0, 10\)'),
    (0, 'cat', "value 'cat' of key 0: expected"),
    ('0', None, "value None of key '0': expected"),
    ('0', -1, "value -1 of key '0': expected"),
])
def test_invalid_asymmetric_map_names_the_key(key, value, message):
    with pytest.raises(ValueError, match='asymmetric_map ' + message):
        NoisyLabelDataset(
            LabelsOnly(balanced(10, 2), 10),
            'asymmetric',
            0.4,
            asymmetric_map={key: value})


def test_asymmetric_map_keys_of_one_class_raise():
    with pytest.raises(ValueError, match="keys '0' and 0 are both class 0"):
        NoisyLabelDataset(
            LabelsOnly(balanced(10, 2), 10),
            'asymmetric',
            0.4,
            asymmetric_map=dict([('0', 6), (0, 7)]))


@pytest.mark.parametrize('kwargs', [
    dict(noise_type='symmetric', symmetric_draw='all_classes'),
    dict(noise_type='asymmetric', asymmetric_map='cifar10'),
])
def test_changed_fraction_is_the_share_of_changed_labels(kwargs):
    labels = balanced(10, 100)
    wrapped = NoisyLabelDataset(
        LabelsOnly(labels, 10), noise_rate=0.4, seed=5, **kwargs)
    measured = (wrapped.noisy_labels != labels).mean()
    assert 0 < measured < 0.4  # below noise_rate in both cases
    assert isinstance(wrapped.changed_fraction, float)
    assert wrapped.changed_fraction == measured
