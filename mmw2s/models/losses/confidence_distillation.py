# Copyright (c) mmw2s contributors. All rights reserved.
"""The fused computation behind AdaptConf and AugConf.

Both losses are ``mean_i (1 - w_i) KD_i + mean_i w_i CE_i^self`` with a
per-sample weight ``w`` that carries no gradient. Through autograd this
keeps a dozen full-size temporaries alive for the backward pass; here the
forward runs the fused log-softmax kernel once per input and temperature
(the teacher's probabilities are the exponential of its log-probabilities,
and its log-ratio to the student is formed in place; a teacher class masked
with a -inf logit costs a second pass only in a batch that has one, found
by checking the N per-sample KD terms, which on a GPU waits for the kernels
before it), the backward reuses the student's log-probabilities of the
forward (one or two (N, C) tensors kept, none recomputed from the logits),
and the gradient is written out:

    d/dz_s [(1 - w) KD]  = (1 - w) tau (softmax(z_s / tau) - p_t)
    d/dz_s [w CE^self]   = w (softmax(z_s) - onehot(argmax z_s))
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _row_dot(a: Tensor, b: Tensor) -> Tensor:
    """Row-wise dot product of two (N, C) tensors, without a temporary."""
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).view(-1)


def _kd_rows(probs_T: Tensor, log_probs_T: Tensor,
             log_probs_S: Tensor) -> Tensor:
    """``KL(p_t || p_s)`` of each row; ``log_probs_T`` is overwritten with
    ``log p_t - log p_s`` (no (N, C) temporary)."""
    return _row_dot(probs_T, log_probs_T.sub_(log_probs_S))


def _scaled(logits: Tensor, tau: float) -> Tensor:
    return logits / tau if tau != 1.0 else logits


class ConfidenceDistillation(torch.autograd.Function):
    """``(kd_term, ce_term, mean_weight, agreement)`` for student logits
    ``preds_S`` (the only input with a gradient) and teacher logits
    ``preds_T``, both (N, C) in the same float dtype.

    The per-sample weight is ``factor * sigmoid((CE^self - CE^teach) /
    threshold)`` (AdaptConf's beta) or, with ``threshold=None``, ``factor``
    (AugConf's a).
    """

    @staticmethod
    def forward(ctx, preds_S: Tensor, preds_T: Tensor, tau: float,
                threshold: Optional[float],
                factor: float) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        # float32 throughout, also under --amp (autocast runs bmm in half)
        with torch.autocast(preds_S.device.type, enabled=False):
            log_probs_S_tau = F.log_softmax(_scaled(preds_S, tau), dim=1)
            log_probs_T_tau = F.log_softmax(_scaled(preds_T, tau), dim=1)
            probs_T = log_probs_T_tau.exp()
            log_probs_S = log_probs_S_tau if tau == 1.0 else F.log_softmax(
                preds_S, dim=1)

            max_log_prob_S, labels_S = log_probs_S.max(dim=1)
            labels_T = preds_T.argmax(dim=1)
            ce_self = -max_log_prob_S
            if threshold is None:
                weight = torch.full_like(ce_self, factor)
            else:
                ce_teach = -log_probs_S.gather(
                    1, labels_T.unsqueeze(1)).view(-1)
                weight = factor * torch.sigmoid(
                    (ce_self - ce_teach) / threshold)
            kd = _kd_rows(probs_T, log_probs_T_tau, log_probs_S_tau)
            if kd.isnan().any():
                # a masked teacher class (logit -inf) has p_t = 0 and
                # log p_t = -inf, so 0 * -inf: only then clamped, so that
                # its KD term is 0 * finite = 0 (no pass where none is)
                kd = _kd_rows(
                    probs_T,
                    F.log_softmax(_scaled(preds_T, tau), dim=1).clamp_min_(
                        torch.finfo(preds_T.dtype).min), log_probs_S_tau)
            kd = tau**2 * kd

        # the backward needs the student's probabilities: kept as the log-
        # probabilities already computed, not recomputed from the logits
        ctx.save_for_backward(log_probs_S_tau, log_probs_S, probs_T,
                              labels_S, weight)
        ctx.tau = tau
        agreement = (labels_S == labels_T).to(preds_S.dtype).mean()
        ctx.mark_non_differentiable(agreement)
        return (((1 - weight) * kd).mean(), (weight * ce_self).mean(),
                weight.mean(), agreement)

    @staticmethod
    def backward(ctx, grad_kd: Tensor, grad_ce: Tensor, _grad_weight,
                 _grad_agreement):
        log_probs_S_tau, log_probs_S, probs_T, labels_S, weight = \
            ctx.saved_tensors
        tau = ctx.tau
        num = probs_T.shape[0]
        kd_coef = ((grad_kd * tau / num) * (1 - weight)).unsqueeze(1)
        ce_coef = ((grad_ce / num) * weight).unsqueeze(1)
        if tau == 1.0:
            grad = log_probs_S.exp().mul_(kd_coef + ce_coef)
        else:
            grad = log_probs_S_tau.exp().mul_(kd_coef)
            grad.addcmul_(log_probs_S.exp(), ce_coef)
        grad.addcmul_(probs_T, kd_coef, value=-1)
        grad.scatter_add_(1, labels_S.unsqueeze(1), -ce_coef)
        return grad, None, None, None, None
