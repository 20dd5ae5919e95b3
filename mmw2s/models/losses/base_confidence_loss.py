# Copyright (c) mmw2s contributors. All rights reserved.
"""What the weak-to-strong losses share: input checks, the warm-up factor,
statistics for logging, cross-entropy with hard labels."""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from torch import Tensor


def check_range(name: str, value: float, low: float, high: float) -> float:
    """Return ``float(value)`` if ``low <= value <= high``, else raise.

    Args:
        name (str): Argument name, for the error message.
        value (float): The value to check.
        low (float): Smallest allowed value.
        high (float): Largest allowed value.

    Returns:
        float: The value.
    """
    if not low <= value <= high:
        raise ValueError(f'{name} must be in [{low}, {high}], got {value!r}.')
    return float(value)


def check_positive(name: str, value: float) -> float:
    """Return ``float(value)`` if it is > 0, else raise ValueError."""
    if not value > 0:
        raise ValueError(f'{name} must be > 0, got {value!r}.')
    return float(value)


def hard_label_ce(log_probs: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy of each sample with a hard label.

    Args:
        log_probs (Tensor): Log-probabilities, shape (N, C).
        labels (Tensor): Class indices, shape (N, ).

    Returns:
        Tensor: Shape (N, ).
    """
    return -log_probs.gather(1, labels.unsqueeze(1)).squeeze(1)


class BaseConfidenceLoss(nn.Module):
    """Base of the losses that mix a weak teacher's soft labels with the
    student's own hard predictions.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.

    Attributes:
        warmup_factor (float): Factor in [0, 1] on the weight of the
            student's own predictions, set by a schedule hook during
            training. Defaults to 1.0.
        last_stats (dict[str, Tensor]): Detached statistics of the last
            forward (for logging; reading them does not synchronise),
            among them ``agreement``, the fraction of samples whose student
            and teacher argmaxes agree.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        if not loss_weight >= 0:
            raise ValueError(f'loss_weight must be >= 0, got {loss_weight!r}.')
        self.loss_weight = float(loss_weight)
        self.warmup_factor = 1.0
        self.last_stats: Dict[str, Tensor] = {}

    @property
    def warmup_factor(self) -> float:
        """float: Factor in [0, 1] set by the warm-up schedule."""
        return self._warmup_factor

    @warmup_factor.setter
    def warmup_factor(self, value: float) -> None:
        self._warmup_factor = check_range('warmup_factor', value, 0.0, 1.0)

    @staticmethod
    def prepare_logits(preds_S: Tensor,
                       preds_T: Tensor) -> Tuple[Tensor, Tensor]:
        """Check the shapes and cast both logits to a common float type.

        Half-precision inputs are computed in float32; float64 stays
        float64 (so gradients can be checked numerically).

        Args:
            preds_S (Tensor): Student logits, shape (N, C).
            preds_T (Tensor): Teacher logits, shape (N, C).

        Returns:
            tuple[Tensor, Tensor]: The student logits and the detached
            teacher logits, in the compute dtype.
        """
        for name, preds in (('preds_S', preds_S), ('preds_T', preds_T)):
            if preds.dim() != 2:
                raise ValueError(f'{name} must be 2-D logits (N, C), got '
                                 f'shape {tuple(preds.shape)}.')
        if preds_S.shape != preds_T.shape:
            raise ValueError(
                f'preds_S and preds_T must have the same (N, C), got '
                f'{tuple(preds_S.shape)} and {tuple(preds_T.shape)}.')
        dtype = torch.promote_types(
            torch.promote_types(preds_S.dtype, preds_T.dtype), torch.float32)
        return preds_S.to(dtype), preds_T.detach().to(dtype)

    def record_stats(self, **stats: Tensor) -> None:
        """Keep detached copies of the statistics of this forward."""
        self.last_stats = {
            name: value.detach()
            for name, value in stats.items()
        }
