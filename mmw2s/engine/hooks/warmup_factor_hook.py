# Copyright (c) mmw2s contributors. All rights reserved.
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from mmrazor.registry import HOOKS

SCHEDULES = ('epoch', 'iter', 'constant')


@HOOKS.register_module()
class WarmupFactorHook(Hook):
    """Set ``warmup_factor`` of the weak-to-strong losses during training.

    - ``'epoch'`` (AugConf in Guo et al.): before each epoch, numbered
      ``e`` from ``first_epoch``, ``factor = e / (ratio * max_epochs)`` while
      ``e < int(ratio * max_epochs)``, then 1.
    - ``'iter'`` (LogConf in Burns et al.): before each iteration ``i``,
      ``factor = min(1, i / (ratio * max_iters))``.
    - ``'constant'``: ``factor = value`` throughout.

    The factor follows from the runner's epoch and iteration, which
    ``--resume`` restores, so a resumed run continues the same schedule.

    Args:
        schedule (str): ``'epoch'``, ``'iter'`` or ``'constant'``.
            Defaults to ``'epoch'``.
        ratio (float): Fraction of training the ramp lasts, in [0, 1].
            Defaults to 0.3.
        value (float): The factor of the ``'constant'`` schedule.
            Defaults to 1.0.
        first_epoch (int): The number of the first epoch in the ``'epoch'``
            formula: 0 as Guo et al.'s timm trainer counts, 1 as their
            few-shot (Meta-Baseline) trainer does. Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self,
                 schedule: str = 'epoch',
                 ratio: float = 0.3,
                 value: float = 1.0,
                 first_epoch: int = 0) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f'schedule must be one of {SCHEDULES}, got '
                             f'{schedule!r}.')
        if not 0 <= ratio <= 1:
            raise ValueError(f'ratio must be in [0, 1], got {ratio!r}.')
        if not 0 <= value <= 1:
            raise ValueError(f'value must be in [0, 1], got {value!r}.')
        if not isinstance(first_epoch, int) or first_epoch < 0:
            raise ValueError('first_epoch must be an integer >= 0 (0 or 1 '
                             f'in the papers), got {first_epoch!r}.')
        self.schedule = schedule
        self.ratio = ratio
        self.value = value
        self.first_epoch = first_epoch

    def epoch_factor(self, epoch: int, max_epochs: int) -> float:
        """The factor of the ``'epoch'`` schedule before ``epoch`` (the
        runner's, from 0)."""
        epoch += self.first_epoch
        ramp = self.ratio * max_epochs
        if epoch >= int(ramp) or ramp == 0:
            return 1.0
        return epoch / ramp

    def iter_factor(self, iteration: int, max_iters: int) -> float:
        """The factor of the ``'iter'`` schedule before ``iteration``."""
        ramp = self.ratio * max_iters
        return 1.0 if ramp == 0 else min(1.0, iteration / ramp)

    @staticmethod
    def _scheduled_losses(runner) -> List:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        losses = [
            loss for loss in model.distiller.distill_losses.values()
            if hasattr(loss, 'warmup_factor')
        ] if hasattr(model, 'distiller') else []
        if not losses:
            raise ValueError('WarmupFactorHook found no distill loss with a '
                             '`warmup_factor` in model.distiller.')
        return losses

    def _set(self, runner, factor: float) -> None:
        for loss in self._scheduled_losses(runner):
            loss.warmup_factor = factor

    def before_train(self, runner) -> None:
        """Check the schedule fits the loop and set the first factor."""
        if self.schedule == 'epoch' and not isinstance(runner.train_loop,
                                                       EpochBasedTrainLoop):
            raise ValueError("schedule='epoch' needs an epoch-based train "
                             "loop; use schedule='iter'.")
        if self.schedule == 'epoch' and 0 < self.ratio * runner.max_epochs < 1:
            raise ValueError(
                f"schedule='epoch' with ratio={self.ratio} of "
                f'{runner.max_epochs} epochs ramps over less than one epoch, '
                "so it would not ramp at all; use schedule='iter'.")
        if self.schedule == 'constant':
            self._set(runner, self.value)

    def before_train_epoch(self, runner) -> None:
        """Set the factor of the ``'epoch'`` schedule."""
        if self.schedule == 'epoch':
            self._set(runner, self.epoch_factor(runner.epoch,
                                                runner.max_epochs))

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Set the factor of the ``'iter'`` schedule."""
        if self.schedule == 'iter':
            self._set(runner, self.iter_factor(runner.iter, runner.max_iters))
