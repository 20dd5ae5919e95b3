# Copyright (c) mmw2s contributors. All rights reserved.
"""The fused computation behind AdaptConf and AugConf.

Both losses are ``mean_i (1 - w_i) KD_i + mean_i w_i CE_i^self`` with a
per-sample weight ``w`` that carries no gradient. Through autograd this
keeps a dozen full-size temporaries alive for the backward pass; here the
forward takes one softmax per input and temperature (three passes of
``exp`` over (N, C) at most, where log-softmaxes and their exponentials
took six), and reads every log-probability it needs from the logits and
a log-sum-exp per row:

    log p(z)_c = z_c - lse(z),   lse(z) = max_c z_c - log p(z)_argmax

so ``KD = sum_c p_t,c [(z_t,c - z_s,c) / tau - lse(z_t / tau) + lse(z_s /
tau)]``. The backward reuses the forward's probabilities (none recomputed)
and the gradient is written out:

    d/dz_s [(1 - w) KD]  = (1 - w) tau (softmax(z_s / tau) - p_t)
    d/dz_s [w CE^self]   = w (softmax(z_s) - onehot(argmax z_s))

A teacher class masked with a -inf logit (p_t = 0) makes ``0 * -inf`` in
that sum: a batch whose KD terms are not all numbers is computed again
from clamped log-probabilities, so the check costs N elements (on a GPU,
it waits for the kernels before it) and the second pass happens only in a
batch that has a masked class.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _row_dot(a: Tensor, b: Tensor) -> Tensor:
    """Row-wise dot product of two (N, C) tensors, without a temporary."""
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).view(-1)


def _at(values: Tensor, labels: Tensor) -> Tensor:
    """``values[i, labels[i]]`` for each row i."""
    return values.gather(1, labels.unsqueeze(1)).view(-1)


def _scaled(logits: Tensor, tau: float) -> Tensor:
    return logits / tau if tau != 1.0 else logits


def _kd_of_masked_teacher(probs_T: Tensor, scaled_T: Tensor,
                          scaled_S: Tensor) -> Tensor:
    """``KL(p_t || p_s)`` of each row where some ``p_t`` are 0 (a -inf
    logit): ``log p_t`` is clamped, so those classes add ``0 * finite``."""
    log_ratio = F.log_softmax(
        scaled_T, dim=1).clamp_min_(torch.finfo(scaled_T.dtype).min)
    return _row_dot(probs_T, log_ratio.sub_(F.log_softmax(scaled_S, dim=1)))


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
            scaled_S, scaled_T = _scaled(preds_S, tau), _scaled(preds_T, tau)
            probs_S_tau = F.softmax(scaled_S, dim=1)
            probs_T = F.softmax(scaled_T, dim=1)
            probs_S = probs_S_tau if tau == 1.0 else F.softmax(preds_S, dim=1)
            max_S, labels_S = preds_S.max(dim=1)
            max_T, labels_T = preds_T.max(dim=1)

            ce_self = -_at(probs_S, labels_S).log()
            if threshold is None:
                weight = torch.full_like(ce_self, factor)
            else:
                # CE^self - CE^teach is the student's logit at the teacher's
                # argmax less its largest (no log of a tiny p_s)
                weight = factor * torch.sigmoid(
                    (_at(preds_S, labels_T) - max_S) / threshold)

            lse_S_tau = max_S / tau - _at(probs_S_tau, labels_S).log()
            lse_T = max_T / tau - _at(probs_T, labels_T).log()
            # log p_t - log p_s, centred in each element (as a log-softmax
            # is), so that large logits lose no precision in the sum
            log_ratio = torch.sub(scaled_T, scaled_S).sub_(
                (lse_T - lse_S_tau).unsqueeze(1))
            kd = _row_dot(probs_T, log_ratio)
            if kd.isnan().any():
                kd = _kd_of_masked_teacher(probs_T, scaled_T, scaled_S)
            kd = tau**2 * kd

        ctx.save_for_backward(probs_S_tau, probs_S, probs_T, labels_S,
                              weight)
        ctx.tau = tau
        agreement = (labels_S == labels_T).to(preds_S.dtype).mean()
        ctx.mark_non_differentiable(agreement)
        return (((1 - weight) * kd).mean(), (weight * ce_self).mean(),
                weight.mean(), agreement)

    @staticmethod
    def backward(ctx, grad_kd: Tensor, grad_ce: Tensor, _grad_weight,
                 _grad_agreement):
        probs_S_tau, probs_S, probs_T, labels_S, weight = ctx.saved_tensors
        tau = ctx.tau
        num = probs_T.shape[0]
        kd_coef = ((grad_kd * tau / num) * (1 - weight)).unsqueeze(1)
        ce_coef = ((grad_ce / num) * weight).unsqueeze(1)
        if tau == 1.0:
            grad = probs_S.mul(kd_coef + ce_coef)
        else:
            grad = probs_S_tau.mul(kd_coef)
            grad.addcmul_(probs_S, ce_coef)
        grad.addcmul_(probs_T, kd_coef, value=-1)
        grad.scatter_add_(1, labels_S.unsqueeze(1), -ce_coef)
        return grad, None, None, None, None
