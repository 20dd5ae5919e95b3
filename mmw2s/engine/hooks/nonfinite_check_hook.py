# Copyright (c) mmw2s contributors. All rights reserved.
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS


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
    hook, so the last checkpoint on disk stays the last good one. To skip
    such batches instead, use ``SkipNonFiniteOptimWrapper``.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Check the iteration's loss."""
        loss = (outputs or {}).get('loss')
        if loss is None or bool(torch.isfinite(torch.as_tensor(loss)).all()):
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        culprits = nonfinite_logits(model)
        if culprits is None:
            culprits = ['the model records no logits to inspect']
        elif not culprits:
            culprits = ['the logits are finite, so a loss term overflowed']
        raise FloatingPointError(
            f'Non-finite loss ({float(loss)}) at iteration {runner.iter + 1}'
            f' (epoch {runner.epoch + 1}): {"; ".join(culprits)}. Training '
            'stopped before saving; the last checkpoint in '
            f'{runner.work_dir} is intact.')
