# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Iterator, Optional

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


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
        labels = np.asarray(dataset.get_gt_labels())
        self.by_class = [
            np.flatnonzero(labels == c) for c in np.unique(labels)
        ]
        per_class = num_shots + num_queries
        usable = sum(len(idx) >= per_class for idx in self.by_class)
        if usable < num_ways:
            raise ValueError(
                f'{num_ways}-way episodes of {per_class} samples per class '
                f'need {num_ways} classes with that many samples; the '
                f'dataset has {usable}.')
        self.by_class = [idx for idx in self.by_class if len(idx) >= per_class]
        self.num_ways = num_ways
        self.per_class = per_class
        self.num_episodes = num_episodes
        self.seed = sync_random_seed() if seed is None else seed
        self.rank = get_dist_info()[0]
        self.epoch = 0

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng((self.seed, self.epoch, self.rank))
        for _ in range(self.num_episodes):
            for c in rng.choice(len(self.by_class), self.num_ways,
                                replace=False):
                yield from rng.choice(
                    self.by_class[c], self.per_class, replace=False).tolist()

    def __len__(self) -> int:
        return self.num_episodes * self.num_ways * self.per_class

    def set_epoch(self, epoch: int) -> None:
        """Draw other episodes in each epoch."""
        self.epoch = epoch
