# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel
from mmrazor.models import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import Tensor

from .teacher_checkpoint import load_teacher_weights


def loads_own_weights(model: Union[BaseModel, Dict]) -> bool:
    """Whether a model config loads weights when built or initialised: an
    ``init_cfg`` of type ``Pretrained`` anywhere in it, or a ``cfg_path``
    reference with ``pretrained=True``. A built model counts as loaded:
    whoever built it chose its weights."""
    if not isinstance(model, dict):
        return True
    if model.get('cfg_path') and model.get('pretrained'):
        return True

    def pretrained(value) -> bool:
        if isinstance(value, dict):
            if value.get('type') == 'Pretrained':
                return True
            return any(pretrained(item) for item in value.values())
        if isinstance(value, (list, tuple)):
            return any(pretrained(item) for item in value)
        return False

    return pretrained(model)


def _num_classes(model: BaseModel) -> Optional[int]:
    return getattr(getattr(model, 'head', None), 'num_classes', None)


@MODELS.register_module()
class WeakToStrongDistill(SingleTeacherDistill):
    """Train a strong student under a frozen weak teacher.

    Differences from :class:`SingleTeacherDistill`:

    - the teacher is in eval mode for the whole training (dropout,
      drop-path and BatchNorm statistics off, whatever ``train()`` is
      called with), runs without autograd, and only computes its logits
      (``mode='tensor'``), never a loss;
    - ``teacher_ckpt`` is loaded on CPU and strictly: mismatching weights
      raise an error listing the keys instead of training with a random
      teacher; ``teacher_ckpt_prefix`` takes e.g. the student
      (``'architecture.'``) of an earlier distillation checkpoint;
    - ``calculate_student_loss=False`` is the pure weak-to-strong protocol of
      Burns et al.: the student runs in ``mode='tensor'``, so no ground
      truth reaches it;
    - ``teacher=None`` trains from offline weak logits carried by the data
      samples (:class:`WeakLogitsTeacher`): no teacher network in memory;
    - it logs ``teacher_acc``, the fraction of the batch the teacher
      classifies right (a fraction, as the distiller's ``agreement``), when
      the samples have hard labels;
    - ``student_trainable=False`` is refused: the student is what
      weak-to-strong training trains.

    Args:
        distiller (dict): Config of the distiller, usually
            ``WeakToStrongDistiller``.
        teacher (dict | BaseModel, optional): The weak model; None for
            offline weak logits. Defaults to None.
        teacher_ckpt (str, optional): Checkpoint of the weak model.
            Defaults to None.
        teacher_ckpt_prefix (str, optional): Take the weights under this
            prefix of ``teacher_ckpt``. Defaults to None.
        calculate_student_loss (bool): Train the student on ground truth too
            (the setting of Guo et al.). Defaults to True.
        allow_random_teacher (bool): Accept a teacher that neither
            ``teacher_ckpt`` nor its own config (an ``init_cfg`` of type
            ``Pretrained``, ``pretrained=True``) gives weights, i.e. a random
            teacher (tests). Defaults to False: such a teacher is refused.
        **kwargs: ``architecture``, ``data_preprocessor``, ``init_cfg`` and
            the other arguments of :class:`SingleTeacherDistill`.
    """

    def __init__(self,
                 distiller: Dict,
                 teacher: Optional[Union[BaseModel, Dict]] = None,
                 teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_prefix: Optional[str] = None,
                 calculate_student_loss: bool = True,
                 allow_random_teacher: bool = False,
                 **kwargs) -> None:
        if kwargs.get('teacher_trainable', False):
            raise ValueError('teacher_trainable=True is not supported: the '
                             'weak teacher of weak-to-strong training is '
                             'frozen.')
        kwargs['teacher_trainable'] = False
        if not kwargs.get('student_trainable', True):
            raise ValueError('student_trainable=False is not supported: '
                             'weak-to-strong training trains the student.')
        self.offline = teacher is None
        if self.offline and teacher_ckpt:
            raise ValueError(f'teacher_ckpt={teacher_ckpt!r} needs a teacher '
                             'model; teacher=None means offline weak logits.')
        if not (self.offline or teacher_ckpt or allow_random_teacher
                or loads_own_weights(teacher)):
            raise ValueError(
                'WeakToStrongDistill: teacher_ckpt is not set and the '
                "teacher's config loads no weights, so the weak teacher "
                'would stay randomly initialised. Train the teacher first '
                'and set teacher_ckpt to its checkpoint (or give the teacher '
                "an init_cfg=dict(type='Pretrained', ...)); set "
                'allow_random_teacher=True only to test with a random '
                'teacher.')
        super().__init__(
            distiller=distiller,
            teacher=dict(
                type='WeakLogitsTeacher') if self.offline else teacher,
            calculate_student_loss=calculate_student_loss,
            **kwargs)
        if teacher_ckpt:
            load_teacher_weights(self.teacher, teacher_ckpt,
                                 teacher_ckpt_prefix)
            self.teacher._is_init = True
        self.teacher.eval()
        self._check_setup()

    def _check_setup(self) -> None:
        student_classes = _num_classes(self.student)
        teacher_classes = _num_classes(self.teacher)
        if None not in (student_classes, teacher_classes) and \
                student_classes != teacher_classes:
            raise ValueError(
                f'The student head has num_classes={student_classes} but the '
                f'teacher head has num_classes={teacher_classes}; both must '
                'classify the same classes.')
        if not self.calculate_student_loss and getattr(
                self.distiller, 'uses_ground_truth', False):
            raise ValueError(
                'A distill loss takes gt_labels, but calculate_student_loss='
                'False keeps ground truth away from the student.')
        if self.offline and getattr(self.data_preprocessor, 'batch_augments',
                                    None) is not None:
            raise ValueError(
                'Batch augments (mixup, cutmix) change the images after the '
                'offline weak logits were computed; use an online teacher.')

    def train(self, mode: bool = True) -> 'WeakToStrongDistill':
        """Set the training mode of the student; the teacher stays in eval
        mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def get_layer_depth(self, param_name: str) -> Tuple[int, int]:
        """The student's layer depth of a parameter, for layer-wise
        learning-rate decay (``LearningRateDecayOptimWrapperConstructor``, as
        in MAE fine-tuning); parameters outside the student (connectors)
        count as its last layer.

        Args:
            param_name (str): Name of the parameter in this model.

        Returns:
            tuple[int, int]: The layer depth and the number of layers.
        """
        prefix = 'architecture.'
        if param_name.startswith(prefix):
            param_name = param_name[len(prefix):]
        return self.student.get_layer_depth(param_name)

    def loss(self,
             batch_inputs: Tensor,
             data_samples: Optional[List] = None) -> Dict[str, Tensor]:
        """Calculate the student and distill losses of a batch.

        Args:
            batch_inputs (Tensor): The pre-processed batch; teacher and
                student see the same (possibly mixed) images.
            data_samples (list, optional): The batch's data samples.

        Returns:
            dict[str, Tensor]: Losses (keys with "loss") and logged values.
        """
        losses: Dict[str, Tensor] = dict()
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            with torch.no_grad():
                self.teacher(batch_inputs, data_samples, mode='tensor')

        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(
                    batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            else:
                self.student(batch_inputs, data_samples, mode='tensor')

        if not self.distillation_stopped:
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        teacher_acc = self._teacher_batch_accuracy(data_samples)
        if teacher_acc is not None:
            losses['teacher_acc'] = teacher_acc
        return losses

    def _teacher_batch_accuracy(
            self, data_samples: Optional[List]) -> Optional[Tensor]:
        """The teacher's top-1 accuracy on the batch (a fraction), if every
        sample has a single hard label (not after mixup or cutmix) and a
        prediction (not in few-shot episodes)."""
        if not data_samples or not hasattr(self.distiller, 'get_logits'):
            return None
        if not all('gt_label' in sample and 'gt_score' not in sample
                   for sample in data_samples):
            return None
        labels = torch.cat([sample.gt_label for sample in data_samples])
        if labels.numel() != len(data_samples):
            return None
        with torch.no_grad():
            logits = self.distiller.get_logits(False)
            if logits.shape[0] != len(labels):  # e.g. an episode's queries
                return None
            return (logits.argmax(dim=1) == labels.to(
                logits.device)).float().mean()
