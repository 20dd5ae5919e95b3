# Copyright (c) mmw2s contributors. All rights reserved.
"""Test plugins: a hook that kills its own process (SIGKILL) at a chosen
iteration, and one that makes the student's weights non-finite."""
import os
import signal

import torch
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
class PoisonStudentHook(Hook):
    """Fills the student's weights with NaN before iteration ``at_iter``."""

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 != self.at_iter:
            return
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        with torch.no_grad():
            for parameter in model.student.parameters():
                parameter.fill_(torch.nan)
