# Copyright (c) mmw2s contributors. All rights reserved.
from mmrazor.registry import MODELS
from torch import Tensor

from .base_confidence_loss import BaseConfidenceLoss, check_positive
from .confidence_distillation import ConfidenceDistillation


@MODELS.register_module()
class AdaptConfLoss(BaseConfidenceLoss):
    r"""Adaptive confidence distillation of "Vision Superalignment:
    Weak-to-Strong Generalization for Vision Foundation Models" (Guo et al.,
    arXiv 2402.03749).

    For each sample the student learns from the weak teacher's soft labels
    (KD) and from its own hard prediction, weighted by how much more the
    student trusts itself than the teacher:

    .. math::
        \beta_i = \gamma \cdot \frac{\exp(CE_i^{self} / \theta)}
            {\exp(CE_i^{self} / \theta) + \exp(CE_i^{teach} / \theta)}
            = \gamma \cdot \sigma\big((CE_i^{self} - CE_i^{teach}) / \theta
            \big),

        L = w \cdot \Big[\frac{1}{N}\sum_i (1 - \beta_i) KD_i
            + \frac{1}{N}\sum_i \beta_i CE_i^{self}\Big],

    where :math:`KD_i = \tau^2 KL(p_t^\tau \| p_s^\tau)`,
    :math:`CE_i^{self}` and :math:`CE_i^{teach}` are the student's
    cross-entropy (at temperature 1) with its own argmax and with the
    teacher's argmax, and :math:`\gamma` is ``warmup_factor``. :math:`\beta`
    carries no gradient and is computed with a sigmoid, so it never
    overflows. The forward and its gradient are fused (see
    :class:`ConfidenceDistillation`).

    Since the student's argmax minimises its cross-entropy,
    :math:`CE^{self} \le CE^{teach}` and so :math:`\beta_i \le \gamma / 2`,
    with equality exactly when student and teacher predict the same class.

    Args:
        tau (float): Temperature of the KD term. Defaults to 1.0.
        threshold (float): The temperature :math:`\theta` of the confidence
            weight. Defaults to 0.5.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 tau: float = 1.0,
                 threshold: float = 0.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.tau = check_positive('tau', tau)
        self.threshold = check_positive('threshold', threshold)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Forward computation.

        Args:
            preds_S (Tensor): Student logits, shape (N, C).
            preds_T (Tensor): Teacher logits, shape (N, C); detached.

        Returns:
            Tensor: The scalar loss, float32 (float64 for float64 inputs).
        """
        preds_S, preds_T = self.prepare_logits(preds_S, preds_T)
        kd_term, ce_term, beta, agreement = ConfidenceDistillation.apply(
            preds_S, preds_T, self.tau, self.threshold, self.warmup_factor)
        self.record_stats(
            beta=beta, agreement=agreement, kd_term=kd_term, ce_term=ce_term)
        return self.loss_weight * (kd_term + ce_term)
