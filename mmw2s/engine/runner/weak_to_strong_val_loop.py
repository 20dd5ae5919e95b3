# Copyright (c) mmw2s contributors. All rights reserved.
import logging
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop, autocast
from mmrazor.registry import LOOPS
from torch.utils.data import DataLoader

from mmw2s.evaluation import performance_gap_recovered


class _PlusWeakToStrongMetrics(Evaluator):
    """The loop's evaluator: the student's metrics, then ``add`` puts the
    teacher's and PGR beside them."""

    def __init__(self, evaluator: Evaluator,
                 add: Callable[[Dict[str, float]], None]) -> None:
        super().__init__(evaluator.metrics)
        if evaluator.dataset_meta is not None:
            self.dataset_meta = evaluator.dataset_meta
        self.add = add

    def evaluate(self, size: int) -> dict:
        metrics = super().evaluate(size)
        self.add(metrics)
        return metrics


@LOOPS.register_module()
class WeakToStrongValLoop(ValLoop):
    """Validate the strong student as mmengine's ``ValLoop`` does (metrics
    and validation losses), with its weak teacher's metrics and the
    performance gap recovered beside them.

    Metrics: the student's (e.g. ``accuracy/top1``), the teacher's under
    ``teacher.`` (as mmrazor's ``SingleTeacherDistillValLoop``), and ``pgr``
    when ``ceiling_acc`` is given and above the weak accuracy (else a
    warning says why there is none). The teacher is frozen, so it is
    evaluated once, at the first validation, and its metrics are reused.
    With offline weak logits there is no teacher network to evaluate: give
    ``weak_acc`` instead.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader.
        evaluator (Evaluator | dict | list): The evaluator.
        fp16 (bool): Validate with autocast. Defaults to False.
        ceiling_acc (float, optional): Accuracy (%, as ``acc_key``, e.g.
            85.0) of the strong model trained on ground truth. Defaults to
            None.
        weak_acc (float, optional): Accuracy (%) of the weak teacher;
            measured here when None and the teacher is a network. Defaults
            to None.
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
        # a ceiling of at most 1% is a fraction given for a percentage
        if ceiling_acc is not None and not 1 < ceiling_acc <= 100:
            raise ValueError(
                f'WeakToStrongValLoop: ceiling_acc is {ceiling_acc}; '
                f'expected a percentage in (1, 100], the unit of {acc_key} '
                '(85.0 for 85%).')
        if weak_acc is not None and not 0 <= weak_acc <= 100:
            raise ValueError(
                f'WeakToStrongValLoop: weak_acc is {weak_acc}; expected a '
                f'percentage in [0, 100], the unit of {acc_key}.')
        super().__init__(runner, dataloader, evaluator, fp16)
        self.evaluator = _PlusWeakToStrongMetrics(self.evaluator,
                                                  self._add_metrics)
        self.ceiling_acc = ceiling_acc
        self.weak_acc = weak_acc
        self.acc_key = acc_key
        self.teacher_metrics: Optional[Dict[str, float]] = None

    @property
    def algorithm(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> Dict[str, float]:
        """Evaluate the teacher (first time only), then validate the student
        as ``ValLoop`` does."""
        if self.teacher_metrics is None and not getattr(
                self.algorithm, 'offline', False):
            self.runner.model.eval()
            for data_batch in self.dataloader:
                self.run_teacher_iter(data_batch)
            # the plain evaluation: these are the teacher's metrics
            self.teacher_metrics = Evaluator.evaluate(
                self.evaluator, len(self.dataloader.dataset))
        return super().run()

    def _add_metrics(self, metrics: Dict[str, float]) -> None:
        """Put the teacher's metrics and PGR into the student's."""
        teacher = self.teacher_metrics or {}
        metrics.update(
            {f'teacher.{key}': value
             for key, value in teacher.items()})
        weak_acc = self.weak_acc
        if weak_acc is None:
            weak_acc = teacher.get(self.acc_key)
        if self.ceiling_acc is None or weak_acc is None:
            return
        if self.ceiling_acc > weak_acc:
            metrics['pgr'] = performance_gap_recovered(
                metrics[self.acc_key], weak_acc, self.ceiling_acc)
        else:
            print_log(
                f'No PGR: the ceiling accuracy ({self.ceiling_acc}) is not '
                f'above the weak accuracy ({weak_acc}), so there is no gap '
                'to recover.',
                logger='current',
                level=logging.WARNING)

    @torch.no_grad()
    def run_teacher_iter(self, data_batch: Sequence[dict]) -> None:
        """Predict one batch with the teacher, normalised by the
        algorithm's data preprocessor."""
        with autocast(enabled=self.fp16):
            data = self.algorithm.data_preprocessor(data_batch, False)
            outputs = self.algorithm.teacher(**data, mode='predict')
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
