# Copyright (c) mmw2s contributors. All rights reserved.
"""Every training config's runtime parts resolve: the parts of a run that
test_configs.py (model and optimizer) does not build.

Built for real: the visualizer, each dataset (``lazy_init=True``, so no
data is read, but its class, arguments and transforms are checked), each
transform, hook and evaluator metric. Resolved and given their arguments
(``Signature.bind``, since they need a built dataset or runner): dataset
wrappers, samplers, loops and parameter schedulers.
"""
import inspect
import os.path as osp
from typing import Iterator, List, Tuple

import pytest
from conftest import REPO_ROOT, parsed_config
from mmengine.config import Config
from mmengine.registry import (DATA_SAMPLERS, DATASETS, HOOKS, LOOPS, METRICS,
                               PARAM_SCHEDULERS, VISUALIZERS, Registry)
from test_configs import TRAINING_CONFIGS

import mmw2s  # noqa: F401

# what a runner passes itself, not the config
SUPPLIED = dict(
    train_loop=('runner', 'dataloader'),
    loop=('runner', 'dataloader', 'evaluator'),
    sampler=('dataset', ),
    scheduler=('optimizer', ),
    wrapper=())


def bind(registry: Registry, scope: str, cfg: dict, where: str,
         supplied: Tuple[str, ...]) -> type:
    """Resolve ``cfg['type']`` in ``registry`` under ``scope`` and bind
    the config's arguments to its ``__init__``; fail naming ``where``."""
    cfg = dict(cfg)
    scope = cfg.pop('_scope_', scope)
    with registry.switch_scope_and_registry(scope) as scoped:
        cls = scoped.get(cfg.pop('type'))
    assert cls is not None, f'{where}: type not registered'
    try:
        inspect.signature(cls).bind(**{name: None for name in supplied}, **cfg)
    except TypeError as error:
        pytest.fail(f'{where} ({cls.__name__}): {error}')
    return cls


def build(registry: Registry, scope: str, cfg: dict, where: str):
    """Build ``cfg`` in ``registry`` under ``scope``; fail naming
    ``where``."""
    cfg = dict(cfg)
    scope = cfg.pop('_scope_', scope)
    try:
        with registry.switch_scope_and_registry(scope) as scoped:
            return scoped.build(cfg)
    except Exception as error:  # any build error names the config part
        pytest.fail(f'{where}: {type(error).__name__}: {error}')


def check_dataset(cfg: dict, scope: str, where: str) -> None:
    """Build a dataset lazily; a wrapper (one with a ``dataset``) is bound
    and its inner dataset checked."""
    if 'dataset' in cfg:
        inner = cfg['dataset']
        bind(DATASETS, scope, {
            **cfg, 'dataset': None
        }, where, SUPPLIED['wrapper'])
        check_dataset(inner, cfg.get('_scope_', scope), f'{where}.dataset')
        return
    dataset = build(DATASETS, scope, dict(cfg, lazy_init=True), where)
    assert len(dataset.pipeline.transforms) == len(cfg.get('pipeline', []))


def dataloaders(cfg: Config) -> Iterator[Tuple[str, dict]]:
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name):
            yield name, cfg[name]


def as_list(value) -> List[dict]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def loop_cfgs(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """The loops the runner builds, with the type it would choose."""
    train = dict(cfg.train_cfg)
    if 'type' not in train:
        train['type'] = ('EpochBasedTrainLoop'
                         if train.pop('by_epoch') else 'IterBasedTrainLoop')
    yield 'train_cfg', train
    for name, default in (('val_cfg', 'ValLoop'), ('test_cfg', 'TestLoop')):
        if cfg.get(name) is not None:
            yield name, dict({'type': default}, **cfg[name])


@pytest.mark.parametrize(
    'path',
    TRAINING_CONFIGS,
    ids=[osp.relpath(p, REPO_ROOT) for p in TRAINING_CONFIGS])
def test_runtime_parts_resolve(path, tmp_path):
    cfg = parsed_config(path)
    scope = cfg.get('default_scope', 'mmengine')
    if cfg.get('visualizer'):  # the VisualizationHook needs an instance
        build(VISUALIZERS, scope,
              dict(cfg.visualizer, name=path, save_dir=str(tmp_path)),
              'visualizer')
    for name, loader in dataloaders(cfg):
        check_dataset(loader.dataset, scope, f'{name}.dataset')
        bind(DATA_SAMPLERS, scope, loader.sampler, f'{name}.sampler',
             SUPPLIED['sampler'])
    for name in ('val_evaluator', 'test_evaluator'):
        for index, metric in enumerate(as_list(cfg.get(name))):
            build(METRICS, scope, metric, f'{name}[{index}]')
    for name, hook in cfg.get('default_hooks', {}).items():
        if hook is not None:
            build(HOOKS, scope, hook, f'default_hooks.{name}')
    for index, hook in enumerate(cfg.get('custom_hooks', [])):
        build(HOOKS, scope, hook, f'custom_hooks[{index}]')
    for name, loop in loop_cfgs(cfg):
        bind(LOOPS, scope, loop, name,
             SUPPLIED['train_loop' if name == 'train_cfg' else 'loop'])
    for index, scheduler in enumerate(as_list(cfg.get('param_scheduler'))):
        bind(PARAM_SCHEDULERS, scope, scheduler, f'param_scheduler[{index}]',
             SUPPLIED['scheduler'])


def test_a_misspelt_argument_fails():
    cfg = parsed_config(TRAINING_CONFIGS[0])
    hook = dict(cfg.default_hooks.checkpoint, type='CheckpointHooks')
    with pytest.raises(pytest.fail.Exception, match='CheckpointHooks'):
        build(HOOKS, 'mmpretrain', hook, 'default_hooks.checkpoint')
    loop = dict(type='ValLoop', fp17=True)
    with pytest.raises(pytest.fail.Exception, match='val_cfg.*fp17'):
        bind(LOOPS, 'mmpretrain', loop, 'val_cfg', SUPPLIED['loop'])
    dataset = dict(cfg.train_dataloader.dataset, pipline=[])
    with pytest.raises(pytest.fail.Exception, match='pipline'):
        check_dataset(dataset, 'mmpretrain', 'train_dataloader.dataset')
