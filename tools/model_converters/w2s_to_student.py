# Copyright (c) mmw2s contributors. All rights reserved.
"""Turn a weak-to-strong (or any mmrazor distillation) checkpoint into a
plain mmpretrain checkpoint of the student.

With ``--config`` it also writes a student-only mmpretrain config, so that
``ImageClassificationInferencer`` and ``tools/test.py`` can use the pair
without the teacher; a student named by reference,
``architecture=dict(cfg_path='mmpretrain::...', pretrained=False)``, is
written out as the model config it refers to.

Example::

    python tools/model_converters/w2s_to_student.py \\
        work_dirs/w2s/epoch_100.pth work_dirs/w2s/student.pth \\
        --config configs/adaptconf/my_w2s_config.py \\
        --out-config work_dirs/w2s/student_config.py
"""
import argparse
import os
import os.path as osp

import torch

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.apis import student_checkpoint, student_config
from mmw2s.utils import load_checkpoint_safely, load_config


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


def main() -> None:
    args = parse_args()
    checkpoint = load_checkpoint_safely(args.checkpoint, map_location='cpu')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(student_checkpoint(checkpoint), args.out)
    print(f'Saved the student to {args.out}')
    if args.config:
        student_config(load_config(args.config)).dump(args.out_config)
        print(f'Saved its config to {args.out_config}')


if __name__ == '__main__':
    main()
