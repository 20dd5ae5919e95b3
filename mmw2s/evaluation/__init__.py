# Copyright (c) mmw2s contributors. All rights reserved.
from .few_shot_metric import FewShotAccuracy, episode_accuracies, mean_and_ci95
from .pgr import performance_gap_recovered

__all__ = [
    'FewShotAccuracy', 'episode_accuracies', 'mean_and_ci95',
    'performance_gap_recovered'
]
