# Copyright (c) mmw2s contributors. All rights reserved.
"""The tools' command lines: mmpretrain's options, and what each does to a
config."""
import ast
import os
import os.path as osp
import re

import mmengine
import mmpretrain
import pytest
import torch
from mmengine.config import Config

from mmw2s.utils import tool_args
from mmw2s.utils.tool_args import (merge_test_args, merge_train_args,
                                   parse_tool_args, set_dataloader_defaults,
                                   train_arg_parser)

MMPRETRAIN_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')


def options_of_mmpretrain_tool(name: str) -> set:
    with open(osp.join(MMPRETRAIN_TOOLS, name)) as file:
        return set(re.findall(r"add_argument\(\s*'(--[\w-]+)'", file.read()))


@pytest.mark.parametrize('name, parser',
                         [('train.py', train_arg_parser),
                          ('test.py', tool_args.test_arg_parser)])
def test_tools_take_every_option_of_mmpretrains_tools(name, parser):
    theirs = options_of_mmpretrain_tool(name)
    assert '--no-pin-memory' in theirs  # the regex reads their file
    ours = set(parser()._option_string_actions)
    assert theirs <= ours, sorted(theirs - ours)


def collate_fn_of_mmpretrain_tool(name: str) -> dict:
    """The ``collate_fn`` of the dataloader defaults in mmpretrain's tool,
    read from its source."""
    with open(osp.join(MMPRETRAIN_TOOLS, name)) as file:
        tree = ast.parse(file.read())
    [collate_fn] = [
        keyword.value for node in ast.walk(tree) if isinstance(node, ast.Call)
        for keyword in node.keywords if keyword.arg == 'collate_fn'
    ]
    return ast.literal_eval(
        ast.Dict(
            keys=[ast.Constant(k.arg) for k in collate_fn.keywords],
            values=[k.value for k in collate_fn.keywords]))


@pytest.mark.parametrize('name', ['train.py', 'test.py'])
def test_collate_fn_is_mmpretrains_default(name):
    theirs = collate_fn_of_mmpretrain_tool(name)
    assert theirs == dict(type='default_collate')  # read from their file
    cfg = loaders_cfg(0)
    set_dataloader_defaults(cfg, pin_memory=True)
    assert cfg.train_dataloader.collate_fn == theirs
    own = dict(type='pseudo_collate')
    cfg = loaders_cfg(0, collate_fn=own)
    set_dataloader_defaults(cfg, pin_memory=True)
    assert cfg.train_dataloader.collate_fn == own


def loaders_cfg(num_workers: int, **loader) -> Config:
    return Config(
        dict(
            train_dataloader=dict(num_workers=num_workers, **loader),
            val_dataloader=None))


@pytest.mark.parametrize('num_workers, expected', [(0, False), (2, True)])
def test_persistent_workers_only_where_there_are_workers(
        num_workers, expected):
    cfg = loaders_cfg(num_workers)
    set_dataloader_defaults(cfg, pin_memory=True, persistent_workers=True)
    assert cfg.train_dataloader.persistent_workers is expected
    assert cfg.train_dataloader.pin_memory is torch.cuda.is_available()
    assert cfg.val_dataloader is None


def test_no_flags_switch_off_what_the_config_set():
    cfg = loaders_cfg(2, pin_memory=True, persistent_workers=True)
    set_dataloader_defaults(cfg, pin_memory=False, persistent_workers=False)
    assert cfg.train_dataloader.pin_memory is False
    assert cfg.train_dataloader.persistent_workers is False


def test_a_config_with_persistent_workers_and_no_workers_is_corrected():
    cfg = loaders_cfg(0, persistent_workers=True)
    set_dataloader_defaults(cfg, pin_memory=True, persistent_workers=True)
    assert cfg.train_dataloader.persistent_workers is False


def test_train_flags_reach_the_config():
    cfg = loaders_cfg(2)
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
    args = parse_tool_args(train_arg_parser(), [
        'cfg.py', '--amp', '--no-persistent-workers', '--resume',
        '--cfg-options', 'train_dataloader.batch_size=3'
    ])
    merge_train_args(cfg, args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.train_dataloader.batch_size == 3
    assert cfg.work_dir == osp.join('./work_dirs', 'cfg')


def test_persistent_workers_follow_num_workers_of_cfg_options():
    cfg = loaders_cfg(4)
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
    args = parse_tool_args(
        train_arg_parser(),
        ['cfg.py', '--cfg-options', 'train_dataloader.num_workers=0'])
    merge_train_args(cfg, args)
    assert cfg.train_dataloader.num_workers == 0
    assert cfg.train_dataloader.persistent_workers is False


def tiny_test_cfg() -> Config:
    return Config(
        dict(
            model=dict(type='ImageClassifier'),
            test_dataloader=dict(
                num_workers=0,
                dataset=dict(pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='PackInputs')
                ])),
            test_cfg=dict(),
            default_hooks=dict(
                visualization=dict(type='VisualizationHook', enable=False))))


def test_test_flags_reach_the_config():
    args = parse_tool_args(tool_args.test_arg_parser(), [
        'cfg.py', 'ckpt.pth', '--amp', '--tta', '--no-pin-memory',
        '--cfg-options', 'model.type=ResNetClassifier'
    ])
    cfg = merge_test_args(tiny_test_cfg(), args)
    assert cfg.load_from == 'ckpt.pth'
    assert cfg.test_cfg.fp16 is True
    assert cfg.model.type == 'mmpretrain.AverageClsScoreTTA'
    assert cfg.model.module.type == 'ResNetClassifier'
    flips = cfg.test_dataloader.dataset.pipeline[-1]
    assert flips.type == 'TestTimeAug'
    assert [t.prob for t in flips.transforms[0]] == [1., 0.]
    assert flips.transforms[1] == [dict(type='PackInputs')]
    assert cfg.test_dataloader.pin_memory is False
    assert 'persistent_workers' not in cfg.test_dataloader


def test_show_flags_reach_the_visualization_hook():
    args = parse_tool_args(tool_args.test_arg_parser(), [
        'cfg.py', 'ckpt.pth', '--show-dir', 'shown', '--interval', '3',
        '--wait-time', '0.5'
    ])
    hook = merge_test_args(tiny_test_cfg(), args).default_hooks.visualization
    assert hook.enable and hook.out_dir == 'shown' and hook.interval == 3
    assert hook.wait_time == 0.5 and hook.show is False


def test_tta_with_show_is_refused():
    args = parse_tool_args(tool_args.test_arg_parser(),
                           ['cfg.py', 'c.pth', '--tta', '--show-dir', 'x'])
    with pytest.raises(ValueError, match='--tta cannot be combined'):
        merge_test_args(tiny_test_cfg(), args)


def test_show_without_a_visualization_hook_names_the_key():
    cfg = tiny_test_cfg()
    cfg.default_hooks = dict()
    args = parse_tool_args(tool_args.test_arg_parser(),
                           ['cfg.py', 'c.pth', '--show'])
    with pytest.raises(KeyError, match='visualization'):
        merge_test_args(cfg, args)


def test_out_item_needs_out(capsys):
    with pytest.raises(SystemExit):
        parse_tool_args(tool_args.test_arg_parser(),
                        ['cfg.py', 'c.pth', '--out-item', 'metrics'])
    assert '--out-item metrics needs --out FILE' in capsys.readouterr().err


class FakeRunner:
    """Stands for a runner whose test gives fixed metrics."""

    def test(self) -> dict:
        return {'accuracy/top1': 50.0}


@pytest.mark.parametrize('main_process', [True, False])
def test_metrics_are_written_by_the_main_process_only(tmp_path, monkeypatch,
                                                      main_process):
    monkeypatch.setattr(tool_args, 'is_main_process', lambda: main_process)
    out = str(tmp_path / 'metrics.json')
    metrics = tool_args.test_and_write(FakeRunner(), out, 'metrics')
    assert metrics == {'accuracy/top1': 50.0}
    assert osp.exists(out) is main_process
    assert os.listdir(tmp_path) == (['metrics.json'] if main_process else [])
    if main_process:
        assert mmengine.load(out) == metrics


@pytest.mark.parametrize('runner_type, loop, refused', [
    ('FlexibleRunner', 'mmrazor.SingleTeacherDistillValLoop', True),
    ('FlexibleRunner', 'SingleTeacherDistillValLoop', True),
    ('FlexibleRunner', 'mmrazor.WeakToStrongValLoop', False),
    ('Runner', 'mmrazor.SingleTeacherDistillValLoop', False),
])
def test_a_val_loop_flexible_runner_cannot_build_is_refused(
        runner_type, loop, refused):
    cfg = loaders_cfg(0)
    cfg.runner_type = runner_type
    cfg.val_cfg = dict(type=loop)
    args = parse_tool_args(train_arg_parser(), ['cfg.py'])
    if not refused:
        merge_train_args(cfg, args)
        return
    with pytest.raises(
            ValueError,
            match=rf"val_cfg.type is '{loop}' with "
            r"runner_type='FlexibleRunner'.*Use val_cfg = "
            r"dict\(type='mmrazor.WeakToStrongValLoop'\)"):
        merge_train_args(cfg, args)
