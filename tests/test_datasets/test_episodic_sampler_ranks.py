# Copyright (c) mmw2s contributors. All rights reserved.
"""EpisodicSampler on two ranks (gloo, CPU): with ``seed=None`` the ranks
share one seed (synchronised from rank 0), draw different episodes from it,
and draw the same ones again for the same epoch."""
import os.path as osp
from types import SimpleNamespace

import numpy as np
import torch
import torch.distributed as dist
from conftest import join_two_ranks, results_of_two_ranks

from mmw2s.datasets import EpisodicSampler

# 6 classes of 10 samples, labels stored sorted
LABELS = np.repeat(np.arange(6), 10)
WAYS, SHOTS, QUERIES, EPISODES = 3, 1, 2, 4


def _worker(rank: int, out_dir: str) -> None:
    join_two_ranks(rank, out_dir)
    try:
        # each rank's own random state differs: only synchronisation can
        # give them one seed
        np.random.seed(rank)
        torch.manual_seed(rank)
        dataset = SimpleNamespace(get_gt_labels=lambda: LABELS)
        sampler = EpisodicSampler(dataset, WAYS, SHOTS, QUERIES, EPISODES)
        sampler.set_epoch(1)
        first = list(sampler)
        again = list(sampler)
        sampler.set_epoch(2)
        torch.save(
            dict(
                seed=sampler.seed,
                epoch1=first,
                epoch1_again=again,
                epoch2=list(sampler)), osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def test_ranks_share_a_seed_and_draw_different_episodes(tmp_path):
    ranks = results_of_two_ranks(_worker, tmp_path)
    assert ranks[0]['seed'] == ranks[1]['seed']
    assert ranks[0]['epoch1'] != ranks[1]['epoch1']
    per_class = SHOTS + QUERIES
    for drawn in ranks:
        assert drawn['epoch1'] == drawn['epoch1_again']
        assert drawn['epoch1'] != drawn['epoch2']
        episodes = np.array(drawn['epoch1']).reshape(EPISODES, WAYS, per_class)
        for episode in episodes:
            # each row is one class, the classes distinct, no sample twice
            labels = LABELS[episode]
            assert (labels == labels[:, :1]).all()
            assert len(set(labels[:, 0])) == WAYS
            assert len(set(episode.ravel())) == WAYS * per_class
