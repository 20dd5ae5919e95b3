# Copyright (c) mmw2s contributors. All rights reserved.
"""Strict loading of the weak teacher's weights.

mmrazor's ``SingleTeacherDistill`` loads ``teacher_ckpt`` non-strictly and
only logs mismatching keys, so a wrong file trains against a random teacher.
Here every key must match in name and shape.
"""
import os.path as osp
from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor

DISTILL_PREFIXES = ('architecture.', 'teacher.')


def _first(names: List[str], count: int = 5) -> str:
    shown = ', '.join(names[:count])
    more = f' and {len(names) - count} more' if len(names) > count else ''
    return f'{shown}{more}' if names else '(none)'


def select_prefix(state_dict: Dict[str, Tensor],
                  prefix: Optional[str]) -> Dict[str, Tensor]:
    """Keep the weights under ``prefix``, without it; drop a ``module.``
    prefix left by DataParallel.

    Args:
        state_dict (dict[str, Tensor]): The checkpoint's weights.
        prefix (str, optional): E.g. ``'architecture.'`` for the student of
            an earlier distillation run.

    Returns:
        dict[str, Tensor]: The selected weights.
    """
    if state_dict and all(key.startswith('module.') for key in state_dict):
        state_dict = {key[len('module.'):]: v for key, v in state_dict.items()}
    if not prefix:
        return state_dict
    selected = {
        key[len(prefix):]: value
        for key, value in state_dict.items() if key.startswith(prefix)
    }
    if not selected:
        raise KeyError(f'No weights start with teacher_ckpt_prefix '
                       f'{prefix!r}; the checkpoint keys start with: '
                       f'{_first(sorted(state_dict))}')
    return selected


def load_teacher_weights(teacher: nn.Module,
                         filename: str,
                         prefix: Optional[str] = None) -> None:
    """Load ``filename`` into ``teacher`` on CPU; every key must match.

    Args:
        teacher (nn.Module): The teacher model.
        filename (str): A plain model checkpoint or a full training
            checkpoint (weights under ``state_dict``).
        prefix (str, optional): Take the weights under this prefix, e.g.
            ``'architecture.'`` for the student of a distillation checkpoint.
            Defaults to None.

    Raises:
        FileNotFoundError: ``filename`` is a local path that is not a file.
        ValueError: Keys or shapes do not match the teacher; the message
            lists the first missing, unexpected and mismatching keys.
    """
    if '://' not in filename and not osp.isfile(filename):
        raise FileNotFoundError(
            f'teacher_ckpt {filename!r} is not a file; train the weak '
            'teacher first and point teacher_ckpt at its checkpoint.')
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    state_dict = select_prefix(state_dict, prefix)
    expected = teacher.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = [
        f'{key} {tuple(state_dict[key].shape)} vs '
        f'{tuple(expected[key].shape)}'
        for key in sorted(set(expected) & set(state_dict))
        if state_dict[key].shape != expected[key].shape
    ]
    if missing or unexpected or mismatched:
        hint = ''
        if not prefix and any(
                key.startswith(DISTILL_PREFIXES) for key in unexpected):
            hint = (' It looks like a distillation checkpoint: set '
                    "teacher_ckpt_prefix='architecture.' to take its "
                    'student.')
        raise ValueError(
            f'teacher_ckpt {filename} does not match the teacher model: '
            f'missing keys: {_first(missing)}; unexpected keys: '
            f'{_first(unexpected)}; shape mismatches (checkpoint vs model): '
            f'{_first(mismatched)}.{hint}')
    teacher.load_state_dict(state_dict, strict=True)
