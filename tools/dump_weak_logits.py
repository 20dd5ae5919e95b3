# Copyright (c) mmw2s contributors. All rights reserved.
"""Run a weak model once over a dataset and save its logits.

The file feeds offline weak-to-strong training: wrap the same dataset in
``dict(type='WeakLabelDataset', dataset=..., weak_logits_file=FILE)`` and
set ``teacher=None`` in the ``WeakToStrongDistill`` model. The dataset is
read in order with the config's test pipeline, so the logits are
deterministic.

Example::

    python tools/dump_weak_logits.py weak_config.py weak.pth \\
        --split train --out work_dirs/weak_logits.pth
"""
import argparse
import copy

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from mmpretrain.registry import MODELS

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.models import class_logits, load_teacher_weights


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


def deterministic_dataloader(cfg: Config, split: str,
                             batch_size: int) -> dict:
    """The split's dataloader config, in order, with the test pipeline."""
    loader = copy.deepcopy(cfg[f'{split}_dataloader'])
    loader.dataset.pipeline = copy.deepcopy(
        cfg.test_dataloader.dataset.pipeline)
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.batch_size = batch_size
    loader.persistent_workers = False
    return loader


@torch.no_grad()
def compute_logits(model: torch.nn.Module, dataloader) -> torch.Tensor:
    """The model's class logits for every sample, in dataset order."""
    model.eval()
    chunks = []
    progress = ProgressBar(len(dataloader.dataset))
    for data_batch in dataloader:
        data = model.data_preprocessor(data_batch, False)
        logits = class_logits(model(**data, mode='tensor'))
        chunks.append(logits.float().cpu())
        for _ in range(len(logits)):
            progress.update()
    return torch.cat(chunks)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    load_teacher_weights(model, args.checkpoint, args.ckpt_prefix)
    model.to(args.device)
    dataloader = Runner.build_dataloader(
        deterministic_dataloader(cfg, args.split, args.batch_size))
    logits = compute_logits(model, dataloader)
    torch.save(
        dict(
            weak_logits=logits,
            config=args.config,
            checkpoint=args.checkpoint,
            split=args.split), args.out)
    print(f'\nSaved weak logits {tuple(logits.shape)} to {args.out}')


if __name__ == '__main__':
    main()
