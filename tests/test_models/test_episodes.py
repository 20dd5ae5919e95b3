# Copyright (c) mmw2s contributors. All rights reserved.
"""Meta-Baseline pieces: the episodic sampler and the centroid head."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmw2s.datasets import EpisodicSampler
from mmw2s.models import EpisodeCentroidHead


class Labels:

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def get_gt_labels(self):
        return self.labels


def test_sampler_lays_out_episodes_class_by_class():
    labels = np.repeat(np.arange(8), 6)
    sampler = EpisodicSampler(
        Labels(labels), num_ways=3, num_shots=1, num_queries=2,
        num_episodes=4, seed=0)
    indices = list(sampler)
    assert len(indices) == len(sampler) == 4 * 3 * 3
    for episode in np.array(indices).reshape(4, 3, 3):
        classes = labels[episode]
        assert all(len(set(row)) == 1 for row in classes)  # one class a row
        assert len({row[0] for row in classes}) == 3  # three classes
        assert len(set(episode.ravel())) == 9  # no repeated image
    first_epoch = indices
    sampler.set_epoch(1)
    assert list(sampler) != first_epoch


def test_sampler_refuses_too_small_classes():
    with pytest.raises(ValueError, match='5-way episodes of 16 samples'):
        EpisodicSampler(
            Labels(np.repeat(np.arange(10), 5)), 5, 1, 15, 10, seed=0)


def test_head_gives_scaled_cosine_to_support_centroids():
    head = EpisodeCentroidHead(
        num_ways=2, num_shots=2, num_queries=1, temperature=10.0)
    features = torch.randn(2 * 3, 4)
    logits = head((features, ))
    episode = features.view(2, 3, 4)
    centroids = F.normalize(episode[:, :2].mean(1), dim=-1)
    queries = F.normalize(episode[:, 2], dim=-1)
    torch.testing.assert_close(logits, 10.0 * queries @ centroids.t())
    loss = head.loss((features, ), data_samples=None)['loss']
    torch.testing.assert_close(
        loss, F.cross_entropy(logits, torch.tensor([0, 1])))
    loss.backward()
    assert head.temperature.grad is not None


def test_head_refuses_a_batch_that_is_not_an_episode():
    head = EpisodeCentroidHead(num_ways=5, num_shots=1, num_queries=15)
    with pytest.raises(ValueError, match='80 images, got 7'):
        head((torch.randn(7, 4), ))


def test_head_takes_several_episodes_a_batch_one_after_the_other():
    """Meta-Baseline trains on 4 episodes a batch: each episode's logits
    and labels are those of the episode alone."""
    single = EpisodeCentroidHead(num_ways=3, num_shots=2, num_queries=2)
    several = EpisodeCentroidHead(
        num_ways=3, num_shots=2, num_queries=2, num_episodes=4)
    features = torch.randn(4 * 3 * 4, 8)
    logits = several((features, ))
    expected = torch.cat(
        [single((episode, )) for episode in features.chunk(4)])
    torch.testing.assert_close(logits, expected)
    labels = several.episode_labels(logits.device)
    torch.testing.assert_close(
        labels, single.episode_labels(logits.device).repeat(4))
    with pytest.raises(ValueError, match='4 episodes of 3 ways'):
        several((features[:12], ))
