# Copyright (c) mmw2s contributors. All rights reserved.
import logging
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_reduce, get_dist_info
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteOptimWrapper(OptimWrapper):
    """An :class:`OptimWrapper` that skips the update of a batch whose loss
    is not finite, with a warning, and counts the skipped batches. In
    distributed training every rank skips when any rank's loss is not
    finite.

    The count is kept in the message hub as ``skipped_batches`` (so it is
    saved in checkpoints and restored on resume). Checking the loss costs one
    host-device synchronisation per step (and one small all-reduce when
    distributed).

    Args:
        max_skipped (int, optional): Raise once more batches than this were
            skipped. Defaults to None (no limit).
        **kwargs: The arguments of :class:`OptimWrapper`.
    """

    def __init__(self, max_skipped: Optional[int] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_skipped = max_skipped

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Update the parameters, unless the loss of any rank is not finite
        (every rank decides the same, so the gradient all-reduce of DDP
        stays paired)."""
        ranks = nonfinite_ranks(loss)
        if not ranks:
            super().update_params(loss, step_kwargs, zero_kwargs)
            return
        hub = MessageHub.get_current_instance()
        skipped = hub.get_info('skipped_batches', 0) + 1
        hub.update_info('skipped_batches', skipped)
        self._inner_count += 1  # the batch counts, as if accumulated
        self.zero_grad(**(zero_kwargs or {}))
        if self.max_skipped is not None and skipped > self.max_skipped:
            raise FloatingPointError(
                f'{skipped} batches had a non-finite loss, more than '
                f'max_skipped={self.max_skipped}.')
        print_log(
            f'Skipped a batch with a non-finite loss on rank(s) {ranks} '
            f'(this rank: {float(loss.detach())}); {skipped} skipped so '
            'far.',
            logger='current',
            level=logging.WARNING)


def nonfinite_ranks(loss: torch.Tensor) -> List[int]:
    """The ranks whose ``loss`` is not finite; every rank gets the same
    list (one all-reduce a step, none when not distributed; the flag stays
    on the device until the list is read)."""
    rank, world_size = get_dist_info()
    flags = torch.zeros(world_size, device=loss.device)
    flags[rank] = (~torch.isfinite(loss.detach()).all()).float()
    all_reduce(flags, op='sum')
    # the one host-device synchronisation of the check
    return [index for index, flag in enumerate(flags.tolist()) if flag]
