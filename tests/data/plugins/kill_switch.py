# Copyright (c) mmw2s contributors. All rights reserved.
"""Test plugins: a hook that kills its own process (SIGKILL) at a chosen
iteration, and one that makes the student's or the teacher's weights
non-finite."""
import copy
import os
import signal

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmrazor.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """Sends SIGKILL to this process before iteration ``kill_iter`` (global,
    1-based) of a run that has not been resumed."""

    def __init__(self, kill_iter: int) -> None:
        self.kill_iter = kill_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 == self.kill_iter and not runner._resume:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class PoisonWeightsHook(Hook):
    """Fills the weights of ``part`` (``'student'`` or ``'teacher'``) with
    NaN before iteration ``at_iter``; with ``once``, puts them back after
    it (one non-finite batch)."""

    def __init__(self,
                 at_iter: int,
                 part: str = 'student',
                 once: bool = False) -> None:
        self.at_iter = at_iter
        self.part = part
        self.once = once
        self.saved = None

    def _part(self, runner) -> torch.nn.Module:
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        return getattr(model, self.part)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 != self.at_iter:
            return
        part = self._part(runner)
        self.saved = copy.deepcopy(part.state_dict())
        with torch.no_grad():
            for parameter in part.parameters():
                parameter.fill_(torch.nan)

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if self.once and self.saved is not None:
            self._part(runner).load_state_dict(self.saved)
            self.saved = None


@HOOKS.register_module()
class SaveBuffersHook(Hook):
    """Saves this rank's model buffers (BatchNorm statistics) after
    training, as ``{work_dir}/buffers_rank{rank}.pth``."""

    priority = 'LOWEST'

    def after_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        torch.save(
            {name: value.clone()
             for name, value in model.named_buffers()},
            os.path.join(runner.work_dir, f'buffers_rank{get_rank()}.pth'))
