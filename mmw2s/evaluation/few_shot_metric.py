# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


def episode_accuracies(features: np.ndarray, labels: np.ndarray, num_ways: int,
                       num_shots: int, num_queries: int, num_episodes: int,
                       seed: int) -> np.ndarray:
    """Accuracy of nearest-centroid cosine classification on seeded N-way
    K-shot episodes.

    Each episode draws ``num_ways`` classes, then ``num_shots`` support and
    ``num_queries`` query samples of each; a query gets the class whose mean
    L2-normalised support feature is most cosine-similar to it.

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
    features = features / np.maximum(
        np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    usable = [
        c for c, idx in by_class.items() if len(idx) >= num_shots + num_queries
    ]
    if len(usable) < num_ways:
        raise ValueError(
            f'{num_ways}-way {num_shots}-shot episodes with {num_queries} '
            f'queries need {num_ways} classes with at least '
            f'{num_shots + num_queries} samples; {len(usable)} have that.')
    rng = np.random.default_rng(seed)
    accuracies = np.empty(num_episodes)
    for episode in range(num_episodes):
        classes = rng.choice(usable, num_ways, replace=False)
        centroids, queries = [], []
        for c in classes:
            chosen = rng.choice(
                by_class[c], num_shots + num_queries, replace=False)
            centroid = features[chosen[:num_shots]].mean(axis=0)
            centroids.append(centroid / max(np.linalg.norm(centroid), 1e-12))
            queries.append(features[chosen[num_shots:]])
        similarity = np.concatenate(queries) @ np.stack(centroids).T
        truth = np.repeat(np.arange(num_ways), num_queries)
        accuracies[episode] = (similarity.argmax(axis=1) == truth).mean()
    return accuracies


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
