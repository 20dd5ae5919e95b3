# Copyright (c) mmw2s contributors. All rights reserved.
"""The student of a weak-to-strong (or any mmrazor distillation) run as a
plain mmpretrain checkpoint and config, without the teacher."""
import copy

from mmengine.config import Config
from mmengine.hub import get_config

from mmw2s.models.algorithms.teacher_checkpoint import select_prefix

STUDENT_PREFIX = 'architecture.'
META_KEYS = ('epoch', 'iter', 'seed', 'dataset_meta', 'mmengine_version')
TEST_KEYS = ('test_dataloader', 'test_evaluator', 'test_cfg', 'val_dataloader',
             'val_evaluator', 'custom_imports')


def student_checkpoint(checkpoint: dict) -> dict:
    """The student's weights and the run's meta information.

    Args:
        checkpoint (dict): A checkpoint of the distillation algorithm.

    Returns:
        dict: A checkpoint of the student alone.
    """
    state_dict = select_prefix(checkpoint['state_dict'], STUDENT_PREFIX)
    meta = {
        key: value
        for key, value in checkpoint.get('meta', {}).items()
        if key in META_KEYS
    }
    return dict(meta=meta, state_dict=state_dict)


def resolve_cfg_path(model: dict, key: str = 'model') -> dict:
    """The model config that a ``dict(cfg_path=..., pretrained=...)``
    reference names, so that a registry other than mmrazor's can build it.

    It keeps the semantics of mmrazor's ``build_razor_model_from_cfg``, which
    builds such a reference (one with ``cfg_path`` and no ``type``) with
    ``mmengine.hub.get_model``: the referenced config's ``model``, with its
    top-level ``data_preprocessor``, the reference's other keys as defaults
    and the referenced package as scope. ``pretrained`` is dropped: it only
    loads the released weights at build time, and a checkpoint of the run
    replaces them.

    Args:
        model (dict): A model config, with or without ``cfg_path``.
        key (str): Where ``model`` sits in its config, for error messages.
            Defaults to ``'model'``.

    Returns:
        dict: ``model`` itself when it names no ``cfg_path`` (or has a
        ``type``), else the model config it refers to.
    """
    if not model.get('cfg_path') or model.get('type'):
        return model
    defaults = copy.deepcopy(dict(model))
    cfg_path = defaults.pop('cfg_path')
    defaults.pop('pretrained', None)
    try:
        referenced = get_config(cfg_path)
    except (AssertionError, FileNotFoundError, ValueError) as error:
        raise ValueError(
            f'{key}.cfg_path={cfg_path!r} does not name a config of an '
            "installed package; expected 'package::path/to/config.py', as "
            "in 'mmpretrain::resnet/resnet18_8xb16_cifar10.py' "
            f'({error})') from error
    resolved = referenced.model
    if 'data_preprocessor' in referenced:
        resolved.data_preprocessor = referenced.data_preprocessor
    for name, value in defaults.items():
        resolved.setdefault(name, value)
    resolved.setdefault('_scope_', cfg_path.split('::')[0])
    return resolved


def student_config(cfg: Config) -> Config:
    """A plain mmpretrain config of the student, for testing and inference.

    Args:
        cfg (Config): The config of the distillation run.

    Returns:
        Config: The student's model (with the run's data preprocessor, less
        its batch augments) and the run's test and validation settings.
    """
    model = copy.deepcopy(
        resolve_cfg_path(cfg.model.architecture, 'model.architecture'))
    preprocessor = copy.deepcopy(cfg.model.get('data_preprocessor', None))
    if preprocessor is not None:
        preprocessor.pop('batch_augments', None)
        model['data_preprocessor'] = preprocessor
    student = dict(model=model, default_scope='mmpretrain')
    for key in TEST_KEYS:
        if key in cfg:
            student[key] = copy.deepcopy(cfg[key])
    if 'val_dataloader' in student:
        student['val_cfg'] = dict()  # a plain ValLoop: there is no teacher
    return Config(student)
