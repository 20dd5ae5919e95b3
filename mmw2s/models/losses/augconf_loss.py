# Copyright (c) mmw2s contributors. All rights reserved.
from mmrazor.registry import MODELS
from torch import Tensor

from .base_confidence_loss import (BaseConfidenceLoss, check_positive,
                                   check_range)
from .confidence_distillation import ConfidenceDistillation


@MODELS.register_module()
class AugConfLoss(BaseConfidenceLoss):
    r"""Augmented confidence distillation, the fixed-weight baseline of
    "Vision Superalignment" (Guo et al., arXiv 2402.03749).

    One weight :math:`a = \gamma \cdot \alpha` for the whole batch mixes
    KD with the weak teacher and cross-entropy with the student's own hard
    prediction:

    .. math::
        L = w \cdot \Big[(1 - a) \frac{1}{N}\sum_i KD_i
            + a \frac{1}{N}\sum_i CE_i^{self}\Big],

    where :math:`KD_i = \tau^2 KL(p_t^\tau \| p_s^\tau)`,
    :math:`CE_i^{self}` is the student's cross-entropy (at temperature 1)
    with its own argmax, and :math:`\gamma` is ``warmup_factor`` (the paper
    ramps it linearly over the first 30% of epochs). With ``alpha=0`` this
    is mmrazor's ``KLDivergence(tau, reduction='batchmean')``.

    Args:
        tau (float): Temperature of the KD term. Defaults to 1.0.
        alpha (float): Weight of the self-prediction term, in [0, 1].
            Defaults to 0.5.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 tau: float = 1.0,
                 alpha: float = 0.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.tau = check_positive('tau', tau)
        self.alpha = check_range('alpha', alpha, 0.0, 1.0)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Forward computation.

        Args:
            preds_S (Tensor): Student logits, shape (N, C).
            preds_T (Tensor): Teacher logits, shape (N, C); detached.

        Returns:
            Tensor: The scalar loss, float32 (float64 for float64 inputs).
        """
        preds_S, preds_T = self.prepare_logits(preds_S, preds_T)
        kd_term, ce_term, alpha, agreement = ConfidenceDistillation.apply(
            preds_S, preds_T, self.tau, None, self.warmup_factor * self.alpha)
        self.record_stats(
            alpha=alpha, agreement=agreement, kd_term=kd_term, ce_term=ce_term)
        return self.loss_weight * (kd_term + ce_term)
