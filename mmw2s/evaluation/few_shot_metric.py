# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from mmw2s.datasets.episodic_sampler import classes_for_episodes, draw_episode


def episode_accuracies(features: np.ndarray, labels: np.ndarray, num_ways: int,
                       num_shots: int, num_queries: int, num_episodes: int,
                       seed: int) -> np.ndarray:
    """Accuracy of nearest-centroid cosine classification on seeded N-way
    K-shot episodes, drawn as ``EpisodicSampler`` draws them.

    Each episode draws ``num_ways`` classes, then ``num_shots`` support and
    ``num_queries`` query samples of each; a query gets the class whose
    centroid is most cosine-similar to it. A centroid is the mean of the
    class's support features, as in Meta-Baseline (Chen et al., 2021) and
    ``EpisodeCentroidHead``.

    Args:
        features (np.ndarray): (M, D) features.
        labels (np.ndarray): (M, ) labels.
        num_ways (int): Classes per episode.
        num_shots (int): Support samples per class.
        num_queries (int): Query samples per class.
        num_episodes (int): Episodes.
        seed (int): Seed of the episodes.

    Returns:
        np.ndarray: The accuracy (in [0, 1]) of each episode.
    """
    by_class = classes_for_episodes(
        labels, num_ways, num_shots + num_queries,
        f'{num_ways}-way {num_shots}-shot episodes with {num_queries} '
        'queries')
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(num_ways), num_queries)
    accuracies = np.empty(num_episodes)
    for episode in range(num_episodes):
        chosen = features[draw_episode(rng, by_class, num_ways,
                                       num_shots + num_queries)]
        centroids = _normalise(chosen[:, :num_shots].mean(axis=1))
        queries = _normalise(chosen[:, num_shots:].reshape(
            -1, features.shape[1]))
        similarity = queries @ centroids.T
        accuracies[episode] = (similarity.argmax(axis=1) == truth).mean()
    return accuracies


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(
        np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def mean_and_ci95(accuracies: np.ndarray) -> Tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval,
    ``1.96 * std / sqrt(episodes)`` (sample standard deviation)."""
    half_width = 1.96 * accuracies.std(ddof=1) / np.sqrt(len(accuracies)) \
        if len(accuracies) > 1 else 0.0
    return float(accuracies.mean()), float(half_width)


@METRICS.register_module()
class FewShotAccuracy(BaseMetric):
    """Few-shot evaluation: N-way K-shot episodes on the evaluation set's
    features, classified by the nearest cosine centroid; reports the mean
    accuracy (%) and its 95% confidence interval for each K.

    The model must put a feature vector in each prediction under
    ``feature_key`` (``FewShotClassifier`` puts the pooled neck output in
    ``pred_feat``).

    Args:
        num_ways (int): Classes per episode. Defaults to 5.
        num_shots (Sequence[int]): Support samples per class, one evaluation
            each. Defaults to (1, 5).
        num_queries (int): Queries per class. Defaults to 15.
        num_episodes (int): Episodes. Defaults to 600.
        seed (int): Seed of the episodes. Defaults to 0.
        feature_key (str): Field of the predictions with the features.
            Defaults to ``'pred_feat'``.
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to ``'few-shot'``.
    """

    def __init__(self,
                 num_ways: int = 5,
                 num_shots: Sequence[int] = (1, 5),
                 num_queries: int = 15,
                 num_episodes: int = 600,
                 seed: int = 0,
                 feature_key: str = 'pred_feat',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = 'few-shot') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_ways = num_ways
        self.num_shots = tuple(num_shots)
        self.num_queries = num_queries
        self.num_episodes = num_episodes
        self.seed = seed
        self.feature_key = feature_key

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if self.feature_key not in sample:
                raise KeyError(
                    f'FewShotAccuracy needs `{self.feature_key}` in the '
                    'predictions; use the FewShotClassifier model.')
            feature = torch.as_tensor(sample[self.feature_key]).detach()
            label = int(torch.as_tensor(sample['gt_label']).view(-1)[0])
            self.results.append((feature.float().cpu(), label))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        features = torch.stack([feature for feature, _ in results]).numpy()
        labels = np.array([label for _, label in results])
        metrics = {}
        for shots in self.num_shots:
            mean, ci95 = mean_and_ci95(
                episode_accuracies(features, labels, self.num_ways, shots,
                                   self.num_queries, self.num_episodes,
                                   self.seed))
            key = f'{self.num_ways}way-{shots}shot'
            metrics[key] = mean * 100
            metrics[f'{key}_ci95'] = ci95 * 100
        return metrics
