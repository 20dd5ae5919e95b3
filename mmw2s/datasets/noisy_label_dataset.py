# Copyright (c) mmw2s contributors. All rights reserved.
import re
from typing import Dict, List, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmpretrain.datasets.categories import CIFAR100_CATEGORIES
from mmpretrain.registry import DATASETS

from .dataset_wrapper import LabelDatasetWrapper

# CIFAR-10: truck -> automobile, bird -> airplane, deer -> horse, cat <-> dog
CIFAR10_ASYMMETRIC = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}

CIFAR100_SUPERCLASSES = (
    ('beaver', 'dolphin', 'otter', 'seal', 'whale'),
    ('aquarium_fish', 'flatfish', 'ray', 'shark', 'trout'),
    ('orchid', 'poppy', 'rose', 'sunflower', 'tulip'),
    ('bottle', 'bowl', 'can', 'cup', 'plate'),
    ('apple', 'mushroom', 'orange', 'pear', 'sweet_pepper'),
    ('clock', 'keyboard', 'lamp', 'telephone', 'television'),
    ('bed', 'chair', 'couch', 'table', 'wardrobe'),
    ('bee', 'beetle', 'butterfly', 'caterpillar', 'cockroach'),
    ('bear', 'leopard', 'lion', 'tiger', 'wolf'),
    ('bridge', 'castle', 'house', 'road', 'skyscraper'),
    ('cloud', 'forest', 'mountain', 'plain', 'sea'),
    ('camel', 'cattle', 'chimpanzee', 'elephant', 'kangaroo'),
    ('fox', 'porcupine', 'possum', 'raccoon', 'skunk'),
    ('crab', 'lobster', 'snail', 'spider', 'worm'),
    ('baby', 'boy', 'girl', 'man', 'woman'),
    ('crocodile', 'dinosaur', 'lizard', 'snake', 'turtle'),
    ('hamster', 'mouse', 'rabbit', 'shrew', 'squirrel'),
    ('maple_tree', 'oak_tree', 'palm_tree', 'pine_tree', 'willow_tree'),
    ('bicycle', 'bus', 'motorcycle', 'pickup_truck', 'train'),
    ('lawn_mower', 'rocket', 'streetcar', 'tank', 'tractor'),
)


def cifar100_asymmetric_map() -> Dict[int, int]:
    """Each CIFAR-100 class flips to the next class of its superclass
    (cyclically), in mmpretrain's class indices."""
    index = {name: i for i, name in enumerate(CIFAR100_CATEGORIES)}
    mapping = {}
    for members in CIFAR100_SUPERCLASSES:
        for position, name in enumerate(members):
            following = members[(position + 1) % len(members)]
            mapping[index[name]] = index[following]
    return mapping


# what a symmetrically corrupted sample's new label is drawn from
SYMMETRIC_DRAWS = ('other_classes', 'all_classes')

ASYMMETRIC_MAPS = {
    'cifar10': lambda: dict(CIFAR10_ASYMMETRIC),
    'cifar100': cifar100_asymmetric_map,
}


def check_class_map(mapping: dict, num_classes: int) -> Dict[int, int]:
    """``mapping`` (an ``asymmetric_map``) with int keys and values.

    Keys and values may be ints or strings of an int, as JSON configs and
    ``--cfg-options`` give keys (``{'0': 6}``).

    Args:
        mapping (dict): Source class -> noisy class.
        num_classes (int): Number of classes.

    Returns:
        dict[int, int]: The map, with int keys and values.
    """

    def as_class(item, name: str) -> int:
        digits = isinstance(item, str) and re.fullmatch('[0-9]+', item)
        if digits or isinstance(
                item, (int, np.integer)) and not isinstance(item, bool):
            if 0 <= int(item) < num_classes:
                return int(item)
        raise ValueError(
            f'asymmetric_map {name}: expected a class index in '
            f'[0, {num_classes}), as an int or a string of an int.')

    normalised, keys = {}, {}
    for key, value in dict(mapping).items():
        source = as_class(key, f'key {key!r}')
        if source in keys:
            raise ValueError(
                f'asymmetric_map keys {keys[source]!r} and {key!r} are both '
                f'class {source}; expected each source class once.')
        keys[source] = key
        normalised[source] = as_class(value, f'value {value!r} of key {key!r}')
    return normalised


def corrupt_labels(labels: np.ndarray,
                   num_classes: int,
                   noise_type: str,
                   noise_rate: float,
                   seed: int,
                   asymmetric_map: Dict[int, int],
                   symmetric_draw: str = 'other_classes') -> np.ndarray:
    """Noisy copy of ``labels``.

    ``'symmetric'``: ``round(rate * N)`` samples, chosen at random, get a
    label drawn uniformly from the other classes (``symmetric_draw=
    'other_classes'``), or from all classes (``'all_classes'``, as Sel-CL
    and Guo et al.'s noisy-label code: a drawn label can be the clean one, so
    ``rate * (C - 1) / C`` of the labels change). ``'asymmetric'``: for each
    source class of ``asymmetric_map``, ``round(rate * N_c)`` of its samples
    get the mapped class.

    Args:
        labels (np.ndarray): Clean labels, shape (N, ).
        num_classes (int): Number of classes.
        noise_type (str): ``'symmetric'`` or ``'asymmetric'``.
        noise_rate (float): Fraction to corrupt, in [0, 1].
        seed (int): Seed of the corruption.
        asymmetric_map (dict[int, int]): Source class -> noisy class.
        symmetric_draw (str): ``'other_classes'`` or ``'all_classes'``.
            Defaults to ``'other_classes'``.

    Returns:
        np.ndarray: The noisy labels.
    """
    rng = np.random.default_rng(seed)
    noisy = labels.copy()
    if noise_type == 'symmetric':
        chosen = rng.choice(
            len(labels), int(round(noise_rate * len(labels))), replace=False)
        if symmetric_draw == 'all_classes':
            noisy[chosen] = rng.integers(0, num_classes, size=len(chosen))
        else:
            offsets = rng.integers(1, num_classes, size=len(chosen))
            noisy[chosen] = (labels[chosen] + offsets) % num_classes
    else:
        for source, target in sorted(asymmetric_map.items()):
            members = np.flatnonzero(labels == source)
            chosen = rng.choice(
                members, int(round(noise_rate * len(members))), replace=False)
            noisy[chosen] = target
    return noisy


@DATASETS.register_module()
class NoisyLabelDataset(LabelDatasetWrapper):
    """Replace the labels of a dataset with seeded synthetic noise, keeping
    the clean label of each sample as ``clean_label``.

    Args:
        dataset (dict | BaseDataset): The dataset (config) to wrap.
        noise_type (str): ``'symmetric'`` or ``'asymmetric'``.
        noise_rate (float): Fraction of labels to corrupt, in [0, 1].
        seed (int): Seed of the corruption. Defaults to 0.
        asymmetric_map (str | dict): ``'cifar10'`` (truck -> automobile,
            bird -> airplane, deer -> horse, cat <-> dog), ``'cifar100'``
            (next class within the superclass) or a dict of source class ->
            noisy class, whose keys and values are ints or strings of an int
            (``{'0': 6}``, as JSON configs and ``--cfg-options`` give it),
            all in [0, number of classes). Used, and checked, only if
            ``noise_type`` is ``'asymmetric'``. Defaults to ``'cifar10'``.
        symmetric_draw (str): What a symmetrically corrupted label is drawn
            from: ``'other_classes'`` (every chosen sample changes class) or
            ``'all_classes'`` (Sel-CL's and Guo et al.'s noise, where
            ``noise_rate * (C - 1) / C`` of the labels change).
            Defaults to ``'other_classes'``.

    Attributes:
        changed_fraction (float): Share of the samples whose noisy label
            differs from their clean one, to report the noise actually
            applied (below ``noise_rate`` for ``'all_classes'`` draws and
            for asymmetric noise).
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 noise_type: str,
                 noise_rate: float,
                 seed: int = 0,
                 asymmetric_map: Union[str, Dict[int, int]] = 'cifar10',
                 symmetric_draw: str = 'other_classes') -> None:
        if noise_type not in ('symmetric', 'asymmetric'):
            raise ValueError("noise_type must be 'symmetric' or "
                             f"'asymmetric', got {noise_type!r}.")
        if not 0 <= noise_rate <= 1:
            raise ValueError(
                f'noise_rate must be in [0, 1], got {noise_rate!r}.')
        if symmetric_draw not in SYMMETRIC_DRAWS:
            raise ValueError(f'symmetric_draw must be one of '
                             f'{SYMMETRIC_DRAWS}, got {symmetric_draw!r}.')
        if isinstance(asymmetric_map, str):
            if asymmetric_map not in ASYMMETRIC_MAPS:
                raise KeyError(f'asymmetric_map must be one of '
                               f'{sorted(ASYMMETRIC_MAPS)} or a dict, got '
                               f'{asymmetric_map!r}.')
            asymmetric_map = ASYMMETRIC_MAPS[asymmetric_map]()
        super().__init__(dataset)
        self.clean_labels = np.asarray(self.dataset.get_gt_labels())
        num_classes = len(self.metainfo['classes'])
        class_map = (
            check_class_map(asymmetric_map, num_classes)
            if noise_type == 'asymmetric' else {})
        self.noisy_labels = corrupt_labels(self.clean_labels, num_classes,
                                           noise_type, noise_rate, seed,
                                           class_map, symmetric_draw)
        changed = self.noisy_labels != self.clean_labels
        self.changed_fraction = float(changed.mean()) if len(changed) else 0.0

    def get_data_info(self, index: int) -> dict:
        """The wrapped sample's info with the noisy ``gt_label`` and its
        ``clean_label``."""
        data_info = self.dataset.get_data_info(index)
        data_info['clean_label'] = int(self.clean_labels[index])
        data_info['gt_label'] = int(self.noisy_labels[index])
        return data_info

    def get_gt_labels(self) -> np.ndarray:
        """The noisy labels."""
        return self.noisy_labels.copy()

    def get_cat_ids(self, index: int) -> List[int]:
        """The noisy label of sample ``index``, as a list."""
        return [int(self.noisy_labels[index])]
