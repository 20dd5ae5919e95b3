# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop, autocast
from mmrazor.registry import LOOPS
from torch.utils.data import DataLoader

from mmw2s.evaluation import performance_gap_recovered


@LOOPS.register_module()
class WeakToStrongValLoop(ValLoop):
    """Validate the strong student and its weak teacher side by side, and
    report the performance gap recovered.

    Metrics: the student's (e.g. ``accuracy/top1``), the teacher's under
    ``teacher.`` (as mmrazor's ``SingleTeacherDistillValLoop``), and ``pgr``
    when ``ceiling_acc`` is given. With offline weak logits there is no
    teacher network to evaluate: give ``weak_acc`` instead.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader.
        evaluator (Evaluator | dict | list): The evaluator.
        fp16 (bool): Validate with autocast. Defaults to False.
        ceiling_acc (float, optional): Accuracy of the strong model trained
            on ground truth. Defaults to None.
        weak_acc (float, optional): Accuracy of the weak teacher; measured
            here when None and the teacher is a network. Defaults to None.
        acc_key (str): The metric PGR is computed on.
            Defaults to ``'accuracy/top1'``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 ceiling_acc: Optional[float] = None,
                 weak_acc: Optional[float] = None,
                 acc_key: str = 'accuracy/top1') -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.ceiling_acc = ceiling_acc
        self.weak_acc = weak_acc
        self.acc_key = acc_key

    @property
    def algorithm(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> Dict[str, float]:
        """Validate the student, then the teacher, then compute PGR."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))

        weak_acc = self.weak_acc
        if not getattr(self.algorithm, 'offline', False):
            for data_batch in self.dataloader:
                self.run_teacher_iter(data_batch)
            teacher_metrics = self.evaluator.evaluate(
                len(self.dataloader.dataset))
            metrics.update({
                f'teacher.{key}': value
                for key, value in teacher_metrics.items()
            })
            if weak_acc is None:
                weak_acc = teacher_metrics.get(self.acc_key)
        if self.ceiling_acc is not None and weak_acc is not None:
            metrics['pgr'] = performance_gap_recovered(metrics[self.acc_key],
                                                       weak_acc,
                                                       self.ceiling_acc)

        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @torch.no_grad()
    def run_teacher_iter(self, data_batch: Sequence[dict]) -> None:
        """Predict one batch with the teacher, normalised by the
        algorithm's data preprocessor."""
        with autocast(enabled=self.fp16):
            data = self.algorithm.data_preprocessor(data_batch, False)
            outputs = self.algorithm.teacher(**data, mode='predict')
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
