# Copyright (c) mmw2s contributors. All rights reserved.
"""Run a weak model once over a dataset and save its logits.

The file feeds offline weak-to-strong training: wrap the same dataset in
``dict(type='WeakLabelDataset', dataset=..., weak_logits_file=FILE)`` and
set ``teacher=None`` in the ``WeakToStrongDistill`` model. The dataset is
read in order with the config's test pipeline, so the logits are
deterministic. Each row is keyed by its sample (label and image hash,
``sample_keys``), so that ``WeakLabelDataset`` refuses a dataset in another
order or another subset.

Example::

    python tools/dump_weak_logits.py weak_config.py weak.pth \\
        --split train --out work_dirs/weak_logits.pth
"""
import argparse

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from mmpretrain.registry import MODELS

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.apis import compute_weak_logits, deterministic_dataloader_cfg
from mmw2s.datasets import WeakLabelDataset
from mmw2s.models import load_teacher_weights
from mmw2s.utils import load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Save the logits of a weak model on a dataset')
    parser.add_argument('config', help='config of the weak model')
    parser.add_argument('checkpoint', help='checkpoint of the weak model')
    parser.add_argument('--out', required=True, help='output file (.pth)')
    parser.add_argument(
        '--split',
        default='train',
        choices=['train', 'val', 'test'],
        help='which dataloader of the config to read')
    parser.add_argument(
        '--ckpt-prefix',
        help="take the weights under this prefix, e.g. 'architecture.'")
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, in key=value form')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    load_teacher_weights(model, args.checkpoint, args.ckpt_prefix)
    model.to(args.device)
    dataloader = Runner.build_dataloader(
        deterministic_dataloader_cfg(cfg, args.split, args.batch_size))
    progress = ProgressBar(len(dataloader.dataset))
    logits = compute_weak_logits(model, dataloader, progress.update)
    torch.save(
        dict(
            weak_logits=logits,
            sample_keys=WeakLabelDataset.sample_keys(dataloader.dataset),
            num_samples=len(logits),
            config=args.config,
            checkpoint=args.checkpoint,
            split=args.split), args.out)
    print(f'\nSaved weak logits {tuple(logits.shape)} to {args.out}')


if __name__ == '__main__':
    main()
