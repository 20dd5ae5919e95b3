# Copyright (c) mmw2s contributors. All rights reserved.
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor

from .base_confidence_loss import (BaseConfidenceLoss, check_positive,
                                   check_range, per_sample_kd)


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
        log_probs_S_tau = F.log_softmax(preds_S / self.tau, dim=1)
        log_probs_T_tau = F.log_softmax(preds_T / self.tau, dim=1)
        log_probs_S = log_probs_S_tau if self.tau == 1.0 else F.log_softmax(
            preds_S, dim=1)

        max_log_prob_S, labels_S = log_probs_S.max(dim=1)
        alpha = self.warmup_factor * self.alpha
        kd_term = (1 - alpha) * per_sample_kd(
            log_probs_S_tau, log_probs_T_tau, self.tau).mean()
        ce_term = alpha * (-max_log_prob_S).mean()
        self.record_stats(
            alpha=preds_S.new_full((), alpha),
            agreement=(labels_S == preds_T.argmax(dim=1)).float().mean(),
            kd_term=kd_term,
            ce_term=ce_term)
        return self.loss_weight * (kd_term + ce_term)
