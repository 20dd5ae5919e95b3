# Copyright (c) mmw2s contributors. All rights reserved.
from typing import List, Optional

from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class FewShotClassifier(ImageClassifier):
    """An :class:`ImageClassifier` whose predictions also carry the pooled
    feature of each image (``pred_feat``), for ``FewShotAccuracy``."""

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List] = None,
                **kwargs) -> List:
        """Predict as :class:`ImageClassifier` and attach the features."""
        feats = self.extract_feat(inputs)
        predictions = self.head.predict(feats, data_samples, **kwargs)
        for prediction, feature in zip(predictions, feats[-1]):
            prediction.set_field(feature.detach().flatten(), 'pred_feat')
        return predictions
