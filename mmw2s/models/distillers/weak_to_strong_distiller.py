# Copyright (c) mmw2s contributors. All rights reserved.
import copy
from inspect import signature
from typing import Any, Dict, Optional, Sequence, Union

import torch
from mmrazor.models import ConfigurableDistiller
from mmrazor.registry import MODELS
from torch import Tensor

LOGITS_RECORDER = 'w2s_logits'
LABELS_RECORDER = 'w2s_gt_labels'

# Forward argument names of logit losses, as (student, teacher) pairs:
# mmw2s and most mmrazor losses, DISTLoss, WSLD.
LOGIT_ARGUMENTS = (('preds_S', 'preds_T'), ('logits_S', 'logits_T'),
                   ('student', 'teacher'))


def class_logits(head_output: Union[Tensor, Sequence[Tensor]]) -> Tensor:
    """The class logits of a classification head's output.

    Heads with several classifiers (``ConformerHead``) return a tuple; like
    their ``predict`` we sum its items.

    Args:
        head_output (Tensor | Sequence[Tensor]): What the head's ``forward``
            returned.

    Returns:
        Tensor: Logits of shape (N, C).
    """
    if isinstance(head_output, Tensor):
        return head_output
    if isinstance(head_output, (tuple, list)) and head_output and all(
            isinstance(item, Tensor) for item in head_output):
        return torch.stack(list(head_output)).sum(dim=0)
    raise TypeError('The head must return a Tensor or a tuple of Tensors of '
                    f'class logits, got {type(head_output).__name__}; give '
                    'your own recorders and loss_forward_mappings for it.')


@MODELS.register_module()
class WeakToStrongDistiller(ConfigurableDistiller):
    """A :class:`ConfigurableDistiller` that, by itself, feeds the class
    logits of student and teacher to each logit loss.

    It records the output of ``student_head`` and ``teacher_head`` (any
    mmpretrain classification head, or a head of your own whose ``forward``
    returns logits) and maps them to every distill loss that has no
    ``loss_forward_mappings`` entry and takes ``(preds_S, preds_T)``,
    ``(logits_S, logits_T)`` or ``(student, teacher)``; a ``gt_labels``
    argument (``DKDLoss``, ``WSLD``) gets the labels passed to the student
    head's loss. Recorders and mappings given in the config are used as they
    are, so feature losses with connectors combine freely.

    Besides the losses it returns, for logging only (their keys hold no
    "loss", so they are not summed): the statistics each weak-to-strong loss
    keeps in ``last_stats`` (e.g. ``w2s_beta`` for a loss named
    ``loss_w2s``), and ``agreement``, the fraction of samples where the
    argmaxes of student and teacher agree.

    Args:
        distill_losses (dict[str, dict]): Configs of the distill losses.
        student_head (str): Name of the student module whose output is the
            class logits. Defaults to ``'head'``.
        teacher_head (str): Same for the teacher. Defaults to ``'head'``.
        **kwargs: The other arguments of :class:`ConfigurableDistiller`.
    """

    def __init__(self,
                 distill_losses: Dict[str, Dict],
                 student_head: str = 'head',
                 teacher_head: str = 'head',
                 student_recorders: Optional[Dict[str, Dict]] = None,
                 teacher_recorders: Optional[Dict[str, Dict]] = None,
                 loss_forward_mappings: Optional[Dict[str, Dict]] = None,
                 **kwargs) -> None:
        student_recorders = copy.deepcopy(dict(student_recorders or {}))
        teacher_recorders = copy.deepcopy(dict(teacher_recorders or {}))
        student_recorders.setdefault(
            LOGITS_RECORDER, dict(type='ModuleOutputs', source=student_head))
        teacher_recorders.setdefault(
            LOGITS_RECORDER, dict(type='ModuleOutputs', source=teacher_head))
        mappings = copy.deepcopy(dict(loss_forward_mappings or {}))
        for name, loss_cfg in dict(distill_losses).items():
            if name not in mappings:
                mappings[name] = self._logit_mapping(name, loss_cfg['type'])
                if 'gt_labels' in mappings[name]:
                    student_recorders.setdefault(
                        LABELS_RECORDER,
                        dict(
                            type='ModuleInputs',
                            source=f'{student_head}.loss_module'))
        super().__init__(
            student_recorders=student_recorders,
            teacher_recorders=teacher_recorders,
            distill_losses=distill_losses,
            loss_forward_mappings=mappings,
            **kwargs)

    @staticmethod
    def _logit_mapping(name: str, loss_type: Union[str,
                                                   type]) -> Dict[str, Dict]:
        loss_class = MODELS.get(loss_type) if isinstance(loss_type,
                                                         str) else loss_type
        if loss_class is None:
            raise KeyError(f'distill_losses.{name}: {loss_type} is not in '
                           'the mmrazor model registry.')
        parameters = signature(loss_class.forward).parameters
        for student_arg, teacher_arg in LOGIT_ARGUMENTS:
            if student_arg in parameters and teacher_arg in parameters:
                mapping = {
                    student_arg:
                    dict(recorder=LOGITS_RECORDER, from_student=True),
                    teacher_arg:
                    dict(recorder=LOGITS_RECORDER, from_student=False),
                }
                if 'gt_labels' in parameters:
                    mapping['gt_labels'] = dict(
                        recorder=LABELS_RECORDER,
                        from_student=True,
                        data_idx=1)
                return mapping
        raise ValueError(
            f'distill_losses.{name} ({loss_class.__name__}) takes '
            f'{[p for p in parameters if p != "self"]}, which are not class '
            'logits: give its '
            f'loss_forward_mappings.{name} in the config.')

    @property
    def uses_ground_truth(self) -> bool:
        """bool: Whether a distill loss reads the ground-truth labels."""
        return LABELS_RECORDER in self.student_recorders.recorders

    def get_record(self, recorder: str, from_student: bool, **kwargs) -> Any:
        """Like :meth:`ConfigurableDistiller.get_record`; the head outputs
        recorded by this distiller become (N, C) logits."""
        record = super().get_record(recorder, from_student, **kwargs)
        if recorder == LOGITS_RECORDER:
            return class_logits(record)
        return record

    def get_logits(self, from_student: bool) -> Tensor:
        """The class logits recorded in the last forward.

        Args:
            from_student (bool): Student's if True, else teacher's.

        Returns:
            Tensor: Logits of shape (N, C).
        """
        return self.get_record(LOGITS_RECORDER, from_student)

    def compute_distill_losses(self) -> Dict[str, Tensor]:
        """Compute the distill losses and add the statistics to log."""
        losses = super().compute_distill_losses()
        agreement = None
        for name, loss in self.distill_losses.items():
            prefix = name.replace('loss', '').strip('_') or 'w2s'
            for stat, value in getattr(loss, 'last_stats', {}).items():
                if stat == 'agreement':
                    agreement = value  # the losses' argmaxes: no new pass
                else:
                    losses[f'{prefix}_{stat}'] = value
        if agreement is None:
            with torch.no_grad():
                labels_S = self.get_logits(True).argmax(1)
                labels_T = self.get_logits(False).argmax(1)
                agreement = (labels_S == labels_T).float().mean()
        losses['agreement'] = agreement
        return losses
