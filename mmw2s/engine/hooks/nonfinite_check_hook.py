# Copyright (c) mmw2s contributors. All rights reserved.
from typing import List, Optional

import torch
from mmengine.dist import all_gather_object
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ..optimizers import nonfinite_ranks


def nonfinite_logits(model) -> Optional[List[str]]:
    """Which of the recorded student and teacher logits are not finite;
    None for a model without a weak-to-strong distiller."""
    distiller = getattr(model, 'distiller', None)
    if distiller is None or not hasattr(distiller, 'get_logits'):
        return None
    culprits = []
    for name, from_student in (('student', True), ('weak teacher', False)):
        try:
            logits = distiller.get_logits(from_student)
        except (KeyError, IndexError, AssertionError):
            continue  # nothing recorded (e.g. distillation stopped)
        if not torch.isfinite(logits).all():
            culprits.append(f'the {name} produced non-finite logits')
    return culprits


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """Stop training at the first non-finite loss.

    The error names the iteration, the epoch, and whether the student's or
    the weak teacher's logits went non-finite. It runs before the checkpoint
    hook, so the last checkpoint on disk stays the last good one. In
    distributed training the ranks decide together (a small all-reduce an
    iteration): every rank stops with the same error, naming the ranks
    whose loss was not finite. To skip such batches instead, use
    ``SkipNonFiniteOptimWrapper``.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Check the iteration's loss on every rank."""
        loss = (outputs or {}).get('loss')
        if loss is None:
            return
        loss = torch.as_tensor(loss)
        ranks = nonfinite_ranks(loss)
        if not ranks:
            return
        findings = all_gather_object(
            f'loss {float(loss)}: {"; ".join(self._culprits(runner))}')
        where = ' and '.join(f'rank {rank} ({findings[rank]})'
                             for rank in ranks) if len(findings) > 1 else \
            findings[0]
        raise FloatingPointError(
            f'Non-finite loss at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}): {where}. Training stopped before saving; '
            f'the last checkpoint in {runner.work_dir} is intact.')

    @staticmethod
    def _culprits(runner) -> List[str]:
        """Which logits of this rank's model went non-finite."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        culprits = nonfinite_logits(model)
        if culprits is None:
            return ['the model records no logits to inspect']
        return culprits or ['the logits are finite, so a loss term overflowed']
