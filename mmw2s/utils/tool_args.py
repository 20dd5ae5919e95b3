# Copyright (c) mmw2s contributors. All rights reserved.
"""The command lines of ``tools/train.py`` and ``tools/test.py``: the options
of mmpretrain's tools of the same names, and how each one changes a config.

mmpretrain's tools give every dataloader ``pin_memory=True``,
``persistent_workers=True`` and ``collate_fn=dict(type='default_collate')``
unless the config says otherwise; torch refuses
persistent workers without workers, so here they are on only where
``num_workers > 0``, and pinning only where there is a CUDA device to pin for
(torch warns on every epoch otherwise).
"""
import argparse
import copy
import gc
import os
import os.path as osp
from typing import Optional

import mmengine
import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.dist import is_main_process
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in the dataloaders')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, in key=value form, e.g. '
        'train_cfg.max_epochs=2 or key="[a,b]"')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.run passes --local-rank, older launchers --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def train_arg_parser() -> argparse.ArgumentParser:
    """The options of mmpretrain's ``tools/train.py``.

    Returns:
        argparse.ArgumentParser: The parser.
    """
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a value, from '
        'the latest checkpoint in the work directory')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size over '
        'the `auto_scale_lr.base_batch_size` of the config')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='disable persistent_workers in the dataloaders')
    _add_common_args(parser)
    return parser


def test_arg_parser() -> argparse.ArgumentParser:
    """The options of mmpretrain's ``tools/test.py``.

    Returns:
        argparse.ArgumentParser: The parser.
    """
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the directory to save the evaluation metrics')
    parser.add_argument('--out', help='the file to write the output to')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='what --out holds: the predictions (default; a .pkl file) or '
        'the metrics (.json, .yaml or .pkl)')
    parser.add_argument(
        '--amp', action='store_true', help='test with mixed precision')
    parser.add_argument(
        '--show-dir', help='directory to save the visualised predictions in')
    parser.add_argument(
        '--show',
        action='store_true',
        help='display the predictions in a window')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualise every `interval`-th sample')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='seconds each window of --show stays open')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: the config\'s `tta_model` and '
        '`tta_pipeline`, or, without them, the average score of the image '
        'and its horizontal flip')
    _add_common_args(parser)
    return parser


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: list = None) -> argparse.Namespace:
    """Parse a tool's command line and export ``LOCAL_RANK`` for mmengine.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        argv (list, optional): The arguments; ``sys.argv[1:]`` if None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if getattr(args, 'out_item', None) is not None and args.out is None:
        parser.error(f'--out-item {args.out_item} needs --out FILE.')
    return args


def set_dataloader_defaults(cfg: Config,
                            pin_memory: bool,
                            persistent_workers: Optional[bool] = None) -> None:
    """Give each dataloader of ``cfg`` mmpretrain's defaults where the config
    leaves them unset: ``collate_fn=dict(type='default_collate')`` (not
    mmengine's ``pseudo_collate``), ``pin_memory`` where a CUDA device is
    present and,
    unless ``persistent_workers`` is None, ``persistent_workers`` where the
    loader has workers. A False flag also switches off what the config set.

    Args:
        cfg (Config): The config, changed in place.
        pin_memory (bool): False for ``--no-pin-memory``.
        persistent_workers (bool, optional): False for
            ``--no-persistent-workers``; None leaves the option to the
            config (mmpretrain's ``tools/test.py``). Defaults to None.
    """
    for field in DATALOADERS:
        loader = cfg.get(field)
        if loader is None:
            continue
        loader.setdefault('collate_fn', dict(type='default_collate'))
        loader.setdefault('pin_memory', torch.cuda.is_available())
        if not pin_memory:
            loader.pin_memory = False
        if persistent_workers is None:
            continue
        has_workers = loader.get('num_workers', 0) > 0
        loader.setdefault('persistent_workers', has_workers)
        if not persistent_workers or not has_workers:
            loader.persistent_workers = False


def _set_work_dir(cfg: Config, args: argparse.Namespace) -> None:
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])


def check_loops_for_runner(cfg: Config) -> None:
    """Refuse mmrazor's ``SingleTeacherDistillValLoop`` under mmengine's
    ``FlexibleRunner``: the loop reads the built model's teacher when it
    is built, and ``FlexibleRunner`` builds its loops before its model (the
    strategy builds that), so it would stop with an ``AttributeError`` of
    a ``ConfigDict``.

    Raises:
        ValueError: ``val_cfg`` names that loop and ``runner_type`` is
            ``FlexibleRunner``.
    """
    loop = (cfg.get('val_cfg') or {}).get('type', '')
    if cfg.get('runner_type') == 'FlexibleRunner' and str(loop).split(
            '.')[-1] == 'SingleTeacherDistillValLoop':
        raise ValueError(
            f'val_cfg.type is {loop!r} with runner_type=\'FlexibleRunner\': '
            'that loop reads the teacher of the built model when it is '
            'built, and FlexibleRunner builds its loops before the model. '
            "Use val_cfg = dict(type='mmrazor.WeakToStrongValLoop'), which "
            'reports the teacher\'s metrics too (and PGR).')


def merge_train_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the options of :func:`train_arg_parser` to ``cfg``.

    Args:
        cfg (Config): The training config, changed in place.
        args (argparse.Namespace): The parsed options.

    Returns:
        Config: ``cfg``.
    """
    _set_work_dir(cfg, args)
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # after --cfg-options, which may give `auto_scale_lr.base_batch_size`
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = '
                           'dict(base_batch_size=...)` in the config or '
                           'in --cfg-options.')
        cfg.auto_scale_lr.enable = True
    # after --cfg-options, which may change `num_workers`
    set_dataloader_defaults(cfg, not args.no_pin_memory,
                            not args.no_persistent_workers)
    check_loops_for_runner(cfg)
    return cfg


def _enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise KeyError('--show and --show-dir need a visualization hook in '
                       '`default_hooks` of the config, e.g. '
                       'visualization=dict(type="VisualizationHook").')
    hook.update(
        enable=True,
        show=args.show,
        wait_time=args.wait_time,
        out_dir=args.show_dir,
        interval=args.interval)


def _enable_tta(cfg: Config) -> None:
    """Wrap the model in ``cfg.tta_model`` and test on ``cfg.tta_pipeline``;
    without them, average the scores of each image and its flip."""
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpretrain.AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        pipeline = cfg.test_dataloader.dataset.pipeline
        cfg.tta_pipeline = copy.deepcopy(pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.),
                dict(type='RandomFlip', prob=0.)
            ], [pipeline[-1]]])
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def merge_test_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the options of :func:`test_arg_parser` to ``cfg``.

    Args:
        cfg (Config): The test config, changed in place.
        args (argparse.Namespace): The parsed options.

    Returns:
        Config: ``cfg``.
    """
    if args.tta and (args.show or args.show_dir is not None):
        raise ValueError('--tta cannot be combined with --show or --show-dir: '
                         "mmpretrain's VisualizationHook draws one view of "
                         'each image, a TTA batch holds several.')
    _set_work_dir(cfg, args)
    cfg.load_from = args.checkpoint
    if args.amp:
        if cfg.get('test_cfg') is None:
            cfg.test_cfg = ConfigDict()
        cfg.test_cfg.fp16 = True
    if args.show or args.show_dir is not None:
        _enable_visualization(cfg, args)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    set_dataloader_defaults(cfg, not args.no_pin_memory)
    # after --cfg-options, so that their `model.` keys are the model's, not
    # the TTA wrapper's
    if args.tta:
        _enable_tta(cfg)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type`` from the registry, else mmengine's
    :class:`Runner`.

    Args:
        cfg (Config): The merged config.

    Returns:
        Runner: The runner.
    """
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def test_and_write(runner: Runner, out: Optional[str],
                   out_item: Optional[str]) -> dict:
    """Test, writing the predictions (``out_item`` None or ``'pred'``) or the
    metrics (``'metrics'``, by the main process only) to ``out`` when it is
    given.

    Args:
        runner (Runner): The runner of the test config.
        out (str, optional): The output file (``--out``).
        out_item (str, optional): ``'pred'`` or ``'metrics'``
            (``--out-item``).

    Returns:
        dict: The metrics.
    """
    if out is not None and out_item in (None, 'pred'):
        if not out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must end with .pkl or .pickle to hold '
                             f'the predictions, got {out!r}.')
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=out))
    metrics = runner.test()
    if out is not None and out_item == 'metrics' and is_main_process():
        # whole or not at all: a reader never sees half a file
        temporary = f'{out}.tmp'
        mmengine.dump(metrics, temporary, file_format=osp.splitext(out)[1][1:])
        os.replace(temporary, out)
    return metrics


def end_process_group() -> None:
    """Shut the process group down before the interpreter exits.

    A finished runner lives on in reference cycles (its loops hold it), and
    with it the DDP wrapper whose reducer holds the group and its work
    objects. Left to interpreter finalization, they are destroyed while
    gloo's worker threads still run, and a finished run aborts ("terminate
    called without an active exception", SIGABRT). So: collect those cycles
    first, wait for every rank, then destroy the group while the interpreter
    is whole. Call it after the last reference to the runner is gone.
    """
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
