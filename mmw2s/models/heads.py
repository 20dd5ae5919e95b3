# Copyright (c) mmw2s contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class EpisodeCentroidHead(BaseModule):
    """Meta-Baseline's head (Chen et al., 2021): the logits of an episode's
    queries are the scaled cosine similarities to the class centroids of its
    support set.

    A batch is ``num_episodes`` N-way episodes one after the other, each
    laid out class by class: for each of the ``num_ways`` classes,
    ``num_shots`` support then ``num_queries`` query images (see
    ``EpisodicSampler``). The labels are the positions of the classes in
    their episode, so the ground-truth labels of the samples are not used.

    Args:
        num_ways (int): Classes per episode.
        num_shots (int): Support images per class.
        num_queries (int): Query images per class.
        temperature (float): Initial scale of the cosine similarities.
            Defaults to 10.0.
        learnable_temperature (bool): Learn the scale. Defaults to True.
        num_episodes (int): Episodes a batch. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_ways: int,
                 num_shots: int,
                 num_queries: int,
                 temperature: float = 10.0,
                 learnable_temperature: bool = True,
                 num_episodes: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_ways = num_ways
        self.num_shots = num_shots
        self.num_queries = num_queries
        self.num_episodes = num_episodes
        self.temperature = nn.Parameter(
            torch.tensor(float(temperature)),
            requires_grad=learnable_temperature)

    def forward(self, feats: Tuple[Tensor]) -> Tensor:
        """Query logits of shape (num_episodes * num_ways * num_queries,
        num_ways), episode by episode."""
        features = feats[-1].flatten(1)
        per_class = self.num_shots + self.num_queries
        expected = self.num_episodes * self.num_ways * per_class
        if features.shape[0] != expected:
            raise ValueError(
                f'EpisodeCentroidHead expects {self.num_episodes} episodes '
                f'of {self.num_ways} ways x ({self.num_shots} shots + '
                f'{self.num_queries} queries) = {expected} images, got '
                f'{features.shape[0]}.')
        episodes = features.view(self.num_episodes, self.num_ways, per_class,
                                 -1)
        centroids = F.normalize(
            episodes[:, :, :self.num_shots].mean(2), dim=-1)
        queries = F.normalize(
            episodes[:, :, self.num_shots:].flatten(1, 2), dim=-1)
        logits = queries @ centroids.transpose(1, 2)
        return self.temperature * logits.flatten(0, 1)

    def episode_labels(self, device: torch.device) -> Tensor:
        """The queries' labels: the position of their class."""
        return torch.arange(
            self.num_ways, device=device).repeat_interleave(
                self.num_queries).repeat(self.num_episodes)

    def loss(self, feats: Tuple[Tensor], data_samples: List, **kwargs) -> dict:
        """Cross-entropy of the queries against their episode labels."""
        logits = self(feats)
        return dict(
            loss=F.cross_entropy(logits, self.episode_labels(logits.device)))

    def predict(self,
                feats: Tuple[Tensor],
                data_samples: Optional[List] = None) -> List:
        """No class scores: few-shot evaluation classifies the features
        (``FewShotClassifier`` attaches them)."""
        return data_samples
