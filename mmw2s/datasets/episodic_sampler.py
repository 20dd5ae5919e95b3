# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Iterator, List, Optional, Sequence

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


def classes_for_episodes(labels: Sequence[int], num_ways: int,
                         per_class: int, what: str) -> List[np.ndarray]:
    """The sample indices of each class with at least ``per_class``
    samples, the classes an episode may draw.

    Raises:
        ValueError: Fewer than ``num_ways`` classes have that many; the
            message starts with ``what``.
    """
    labels = np.asarray(labels)
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    usable = [indices for indices in by_class if len(indices) >= per_class]
    if len(usable) < num_ways:
        raise ValueError(
            f'{what} need {num_ways} classes with at least {per_class} '
            f'samples; the dataset has {len(usable)}.')
    return usable


def draw_episode(rng: np.random.Generator, by_class: List[np.ndarray],
                 num_ways: int, per_class: int) -> np.ndarray:
    """One episode: ``num_ways`` classes of ``by_class`` drawn without
    replacement, then ``per_class`` samples of each.

    Returns:
        np.ndarray: (num_ways, per_class) sample indices, class by class.
    """
    return np.stack([
        rng.choice(by_class[c], per_class, replace=False)
        for c in rng.choice(len(by_class), num_ways, replace=False)
    ])


@DATA_SAMPLERS.register_module()
class EpisodicSampler(Sampler):
    """Indices of N-way K-shot episodes, laid out class by class (K support
    then Q query indices for each class), so that a dataloader with
    ``batch_size = num_ways * (num_shots + num_queries)`` yields one episode
    a batch (the layout ``EpisodeCentroidHead`` expects).

    Episodes are seeded by ``seed``, the epoch (``set_epoch``) and the rank,
    so ranks draw different episodes.

    Args:
        dataset: A dataset with ``get_gt_labels()``.
        num_ways (int): Classes per episode.
        num_shots (int): Support samples per class.
        num_queries (int): Query samples per class.
        num_episodes (int): Episodes per epoch (per rank).
        seed (int, optional): Seed; synchronised across ranks when None.
    """

    def __init__(self,
                 dataset,
                 num_ways: int,
                 num_shots: int,
                 num_queries: int,
                 num_episodes: int,
                 seed: Optional[int] = None) -> None:
        self.per_class = num_shots + num_queries
        self.by_class = classes_for_episodes(
            dataset.get_gt_labels(), num_ways, self.per_class,
            f'{num_ways}-way episodes of {self.per_class} samples per class')
        self.num_ways = num_ways
        self.num_episodes = num_episodes
        self.seed = sync_random_seed() if seed is None else seed
        self.rank = get_dist_info()[0]
        self.epoch = 0

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng((self.seed, self.epoch, self.rank))
        for _ in range(self.num_episodes):
            yield from draw_episode(rng, self.by_class, self.num_ways,
                                    self.per_class).ravel().tolist()

    def __len__(self) -> int:
        return self.num_episodes * self.num_ways * self.per_class

    def set_epoch(self, epoch: int) -> None:
        """Draw other episodes in each epoch."""
        self.epoch = epoch
