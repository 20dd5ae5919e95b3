# Copyright (c) mmw2s contributors. All rights reserved.
import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor

from .base_confidence_loss import (BaseConfidenceLoss, check_range,
                                   hard_label_ce)


def balanced_binary_labels(probs_S: Tensor, probs_T: Tensor) -> Tensor:
    """Harden binary predictions so their class balance matches the
    teacher's.

    The student's class-1 probabilities are thresholded at their
    ``1 - mean(p_T[:, 1])`` quantile (linear interpolation, as
    :func:`torch.quantile`), computed without host synchronisation.

    Args:
        probs_S (Tensor): Student probabilities, shape (N, 2).
        probs_T (Tensor): Teacher probabilities, shape (N, 2).

    Returns:
        Tensor: Hard labels in {0, 1}, shape (N, ).
    """
    scores = probs_S[:, 1]
    sorted_scores = scores.sort().values
    position = (1 - probs_T[:, 1].mean()) * (scores.numel() - 1)
    lower = position.floor().long().clamp(0, scores.numel() - 1).view(1)
    upper = (lower + 1).clamp(max=scores.numel() - 1)
    threshold = torch.lerp(
        sorted_scores.gather(0, lower), sorted_scores.gather(0, upper),
        position - lower)
    return (scores > threshold).long()


@MODELS.register_module()
class LogConfLoss(BaseConfidenceLoss):
    r"""Auxiliary confidence loss of "Weak-to-Strong Generalization:
    Eliciting Strong Capabilities With Weak Supervision" (Burns et al.,
    2023), in its multi-class form.

    The student is trained with cross-entropy towards a mix of the weak
    teacher's probabilities and its own hardened prediction:

    .. math::
        t_i = (1 - a)\, \mathrm{softmax}(z_{t,i}) + a\, \mathrm{onehot}(h_i),
        \qquad
        L = w \cdot \frac{1}{N}\sum_i -\sum_c t_i[c]
            \log \mathrm{softmax}(z_{s,i})[c],

    with :math:`a = \gamma \cdot \alpha` (:math:`\gamma` is
    ``warmup_factor``; Burns et al. ramp it over the first 20% of
    iterations). :math:`h_i` is the student's argmax for :math:`C > 2`; for
    :math:`C = 2` it thresholds the student's class-1 probability at the
    batch quantile that makes the hardened labels match the mean class
    balance of the teacher's probabilities. The target carries no gradient.

    Args:
        alpha (float): Weight of the student's hardened prediction, in
            [0, 1]. Defaults to 0.5.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, alpha: float = 0.5, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
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
        log_probs_S = F.log_softmax(preds_S, dim=1)
        probs_T = F.softmax(preds_T, dim=1)
        with torch.no_grad():
            labels_S = log_probs_S.argmax(dim=1)
            labels_T = preds_T.argmax(dim=1)
            stats = dict(agreement=(labels_S == labels_T).float().mean())
            if preds_S.shape[1] == 2:
                hard_labels = balanced_binary_labels(log_probs_S.exp(),
                                                     probs_T)
                stats['hardened_agreement'] = (
                    hard_labels == labels_T).float().mean()
            else:
                hard_labels = labels_S

        alpha = self.warmup_factor * self.alpha
        teacher_term = (1 - alpha) * -(probs_T * log_probs_S).sum(1).mean()
        self_term = alpha * hard_label_ce(log_probs_S, hard_labels).mean()
        self.record_stats(
            alpha=preds_S.new_full((), alpha),
            teacher_term=teacher_term,
            self_term=self_term,
            **stats)
        return self.loss_weight * (teacher_term + self_term)
