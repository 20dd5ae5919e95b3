# Copyright (c) mmw2s contributors. All rights reserved.
"""Turn a weak-to-strong (or any mmrazor distillation) checkpoint into a
plain mmpretrain checkpoint of the student.

With ``--config`` it also writes a student-only mmpretrain config, so that
``ImageClassificationInferencer`` and ``tools/test.py`` can use the pair
without the teacher.

Example::

    python tools/model_converters/w2s_to_student.py \\
        work_dirs/w2s/epoch_100.pth work_dirs/w2s/student.pth \\
        --config configs/adaptconf/my_w2s_config.py \\
        --out-config work_dirs/w2s/student_config.py
"""
import argparse
import copy
import os
import os.path as osp

import torch
from mmengine.config import Config

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.models.algorithms.teacher_checkpoint import select_prefix
from mmw2s.utils import load_checkpoint_safely

STUDENT_PREFIX = 'architecture.'
TEST_KEYS = ('test_dataloader', 'test_evaluator', 'test_cfg', 'val_dataloader',
             'val_evaluator', 'custom_imports')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Extract the student of a weak-to-strong checkpoint')
    parser.add_argument('checkpoint', help='weak-to-strong checkpoint')
    parser.add_argument('out', help='output checkpoint of the student')
    parser.add_argument('--config', help='the weak-to-strong config')
    parser.add_argument(
        '--out-config', help='output path of the student-only config')
    args = parser.parse_args()
    if bool(args.config) != bool(args.out_config):
        parser.error('--config and --out-config go together')
    return args


def student_checkpoint(checkpoint: dict) -> dict:
    """The student's weights and the run's meta information."""
    state_dict = select_prefix(checkpoint['state_dict'], STUDENT_PREFIX)
    meta = {
        key: value
        for key, value in checkpoint.get('meta', {}).items()
        if key in ('epoch', 'iter', 'seed', 'dataset_meta', 'mmengine_version')
    }
    return dict(meta=meta, state_dict=state_dict)


def student_config(cfg: Config) -> Config:
    """A plain mmpretrain config of the student, for testing and
    inference."""
    model = copy.deepcopy(cfg.model.architecture)
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


def main() -> None:
    args = parse_args()
    checkpoint = load_checkpoint_safely(args.checkpoint, map_location='cpu')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(student_checkpoint(checkpoint), args.out)
    print(f'Saved the student to {args.out}')
    if args.config:
        student_config(Config.fromfile(args.config)).dump(args.out_config)
        print(f'Saved its config to {args.out_config}')


if __name__ == '__main__':
    main()
