# Copyright (c) mmw2s contributors. All rights reserved.
"""The CIFAR-100 distillation configs follow the authors' released recipe.

``RECIPE`` holds the authors' values, each with the file and line it comes
from: ggjy/vision_weak_to_strong at c020783 (their YAML configs, trainer and
README), and, where their trainer leaves a value to its library, timm v0.6.12
(the version their README names). ``recipe_mismatches`` turns them into what
an mmengine config must say; every training config of the setting is held
to them, and a config that drifts from any of them fails.
"""
import copy
import glob
import math
import os.path as osp
from typing import Any, Dict, List

import pytest
import torch
from conftest import REPO_ROOT, parsed_config
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, DefaultScope
from mmpretrain.datasets.transforms.auto_augment import AUTOAUG_POLICIES
from mmrazor.registry import MODELS

import mmw2s  # noqa: F401

V0 = 'classification/configs/cifar_v0.yaml'
V1 = 'classification/configs/cifar_v1.yaml'
TRAIN = 'classification/train.py'
TIMM = 'timm@v0.6.12:timm'

RECIPE = [
    dict(name='gpus', value=8, source='README.md:54,66,72'),
    dict(name='batch_size', value=64, source=f'{V0}:14, {V1}:14'),
    dict(name='epochs', value=240, source=f'{V0}:13, {V1}:13'),
    dict(name='img_size', value=32, source=f'{V0}:3, {V1}:3'),
    dict(name='mean', value=(0.5071, 0.4865, 0.4409), source=f'{V0}:4-7'),
    dict(name='std', value=(0.2673, 0.2564, 0.2762), source=f'{V0}:8-11'),
    dict(name='interpolation', value='bilinear', source=f'{V0}:12'),
    dict(name='crop_pct', value=0.875, source=f'{V0}:21, {V1}:25'),
    dict(
        name='eval_resize',
        value='floor(img_size / crop_pct), then centre crop',
        source=f'{TIMM}/data/transforms_factory.py:139-152'),
    dict(name='scale', value=(0.08, 1.0), source=f'{TRAIN}:220'),
    dict(name='ratio', value=(3. / 4., 4. / 3.), source=f'{TRAIN}:222'),
    dict(name='hflip', value=0.5, source=f'{TRAIN}:224'),
    dict(name='smoothing', value=0.0, source=f'{V0}:23, {V1}:21'),
    dict(name='lr', value=0.2, source=f'{V0}:15, {V1}:15'),
    dict(
        name='lr_scaled_with_batch',
        value=False,
        source=f'{TRAIN}:523 (args.lr as given)'),
    dict(name='opt', value='sgd', source=f'{V0}:18, {V1}:18'),
    dict(
        name='nesterov',
        value=True,
        source=f'{TIMM}/optim/optim_factory.py:250-253 ("sgd")'),
    dict(name='momentum', value=0.9, source=f'{TRAIN}:164'),
    dict(name='weight_decay', value=5e-4, source=f'{V0}:20, {V1}:20'),
    dict(
        name='decay_1d_params',
        value=False,
        source=f'{TIMM}/optim/optim_factory.py:49,192'),
    dict(name='sched', value='cosine', source=f'{V0}:19, {V1}:19'),
    dict(name='min_lr', value=2e-3, source=f'{V0}:16, {V1}:16'),
    dict(name='warmup_epochs', value=10, source=f'{V0}:17, {V1}:17'),
    dict(name='warmup_lr', value=1e-4, source=f'{TRAIN}:194'),
    dict(
        name='warmup_prefix',
        value=False,
        source=f'{TIMM}/scheduler/cosine_lr.py:38,72-94'),
    dict(name='sched_step', value='epoch', source=f'{TRAIN}:743'),
    dict(name='eval_interval', value=1, source=f'{TRAIN}:109'),
    dict(name='dist_bn', value='reduce', source=f'{TRAIN}:284,705-708'),
    dict(name='eval_metric', value='top1', source=f'{TRAIN}:328'),
    dict(name='gt_loss_weight', value=1.0, source=f'{TRAIN}:83'),
    dict(name='kd_loss_weight', value=1.0, source=f'{TRAIN}:84'),
    dict(
        name='kd_temperature',
        value=1.0,
        source=f'{TRAIN}:87; README.md:66 passes none'),
    dict(name='superalignment_rate', value=0.3, source=f'{TRAIN}:88'),
    dict(
        name='superalignment_threshold',
        value=0.5,
        source=f'{TRAIN}:89; README.md:54,72'),
    dict(
        name='v1_pairs',
        value=('vgg8', 'vgg13'),
        source='README.md:66,72 (--config configs/cifar_v1.yaml)'),
    dict(name='aa', value='original-mstd0.5', source=f'{V1}:22'),
    dict(name='mixup', value=0.1, source=f'{V1}:23'),
    dict(name='mixup_prob', value=1.0, source=f'{TRAIN}:256'),
    dict(
        name='aa_fill',
        value='round(255 x mean)',
        source=f'{TIMM}/data/transforms_factory.py:87'),
    dict(
        name='aa_original',
        value=(
            (('PosterizeOriginal', 0.4, 8), ('Rotate', 0.6, 9)),
            (('Solarize', 0.6, 5), ('AutoContrast', 0.6, 5)),
            (('Equalize', 0.8, 8), ('Equalize', 0.6, 3)),
            (('PosterizeOriginal', 0.6, 7), ('PosterizeOriginal', 0.6, 6)),
            (('Equalize', 0.4, 7), ('Solarize', 0.2, 4)),
            (('Equalize', 0.4, 4), ('Rotate', 0.8, 8)),
            (('Solarize', 0.6, 3), ('Equalize', 0.6, 7)),
            (('PosterizeOriginal', 0.8, 5), ('Equalize', 1.0, 2)),
            (('Rotate', 0.2, 3), ('Solarize', 0.6, 8)),
            (('Equalize', 0.6, 8), ('PosterizeOriginal', 0.4, 6)),
            (('Rotate', 0.8, 8), ('Color', 0.4, 0)),
            (('Rotate', 0.4, 9), ('Equalize', 0.6, 2)),
            (('Equalize', 0.0, 7), ('Equalize', 0.8, 8)),
            (('Invert', 0.6, 4), ('Equalize', 1.0, 8)),
            (('Color', 0.6, 4), ('Contrast', 1.0, 8)),
            (('Rotate', 0.8, 8), ('Color', 1.0, 2)),
            (('Color', 0.8, 8), ('Solarize', 0.8, 7)),
            (('Sharpness', 0.4, 7), ('Invert', 0.6, 8)),
            (('ShearX', 0.6, 5), ('Equalize', 1.0, 9)),
            (('Color', 0.4, 0), ('Equalize', 0.6, 3)),
            (('Equalize', 0.4, 7), ('Solarize', 0.2, 4)),
            (('Solarize', 0.6, 5), ('AutoContrast', 0.6, 5)),
            (('Invert', 0.6, 4), ('Equalize', 1.0, 8)),
            (('Color', 0.6, 4), ('Contrast', 1.0, 8)),
            (('Equalize', 0.8, 8), ('Equalize', 0.6, 3)),
        ),
        source=f'{TIMM}/data/auto_augment.py:439-463'),
]
AUTHORS = {entry['name']: entry['value'] for entry in RECIPE}

# timm's level (0-10) to argument maps of the ops above
# (timm/data/auto_augment.py:183-249 at v0.6.12): argument, random sign
TIMM_LEVEL_TO_ARG = {
    'Rotate': (lambda level: level / 10 * 30., True),
    'ShearX': (lambda level: level / 10 * 0.3, True),
    'Solarize': (lambda level: int(level / 10 * 256), False),
    'PosterizeOriginal': (lambda level: int(level / 10 * 4) + 4, False),
    'Color': (lambda level: level / 10 * 1.8 + 0.1, False),
    'Contrast': (lambda level: level / 10 * 1.8 + 0.1, False),
    'Sharpness': (lambda level: level / 10 * 1.8 + 0.1, False),
}
MMPRETRAIN_TYPE = dict(
    Rotate='Rotate',
    ShearX='Shear',
    Solarize='Solarize',
    PosterizeOriginal='Posterize',
    Color='ColorTransform',
    Contrast='Contrast',
    Sharpness='Sharpness',
    AutoContrast='AutoContrast',
    Equalize='Equalize',
    Invert='Invert')

SETTING_CONFIGS = sorted(
    path for folder in ('kd', 'augconf', 'adaptconf', 'combinations',
                        'teachers')
    for path in glob.glob(
        osp.join(REPO_ROOT, 'configs', folder, '*_cifar100.py')))


def timm_lr(epoch: int, recipe: Dict[str, Any] = AUTHORS) -> float:
    """timm 0.6.12's CosineLRScheduler as the authors' create_scheduler
    builds it (per epoch, warmup_prefix=False) from ``recipe``'s lr,
    warmup_lr, warmup_epochs, min_lr and epochs."""
    lr, warmup = recipe['lr'], recipe['warmup_epochs']
    if epoch < warmup:
        start = recipe['warmup_lr']
        return start + epoch * (lr - start) / warmup
    low = recipe['min_lr']
    return low + 0.5 * (lr - low) * (
        1 + math.cos(math.pi * epoch / recipe['epochs']))


def mmengine_lrs(cfg: Config) -> List[float]:
    """The lr of each epoch under ``cfg.param_scheduler``, stepped once an
    epoch as mmengine's ParamSchedulerHook steps epoch-based schedulers."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [
        PARAM_SCHEDULERS.build(
            dict(copy.deepcopy(scheduler), optimizer=optimizer))
        for scheduler in cfg.param_scheduler
    ]
    lrs = []
    for _ in range(cfg.train_cfg.max_epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def augment_mismatches(policies: list) -> List[str]:
    """Compare an mmpretrain AutoAugment policy with timm's "original" under
    ``aa`` (magnitude std from "mstd"), op by op, through each op's level
    to argument map."""
    expected = AUTHORS['aa_original']
    if len(policies) != len(expected):
        return [f'AutoAugment: {len(policies)} sub-policies, expected '
                f'{len(expected)}']
    std = float(AUTHORS['aa'].split('-mstd')[1])
    fill = tuple(round(255 * value) for value in AUTHORS['mean'])
    problems = []
    for index, (sub_policy, timm_ops) in enumerate(zip(policies, expected)):
        if len(sub_policy) != len(timm_ops):
            problems.append(f'AutoAugment sub-policy {index}: {sub_policy}')
        for op, (name, prob, level) in zip(sub_policy, timm_ops):
            where = f'AutoAugment sub-policy {index} {name}'
            if op['type'] != MMPRETRAIN_TYPE[name] or op['prob'] != prob:
                problems.append(f'{where}: {op}, expected prob {prob}')
            if name not in TIMM_LEVEL_TO_ARG:
                continue
            if (op.get('magnitude_level'), op.get('magnitude_std')) != (
                    level, std) or 'magnitude_range' not in op:
                problems.append(f'{where}: level {level}, std {std} '
                                f'expected, got {op}')
                continue
            to_arg, signed = TIMM_LEVEL_TO_ARG[name]
            low, high = op['magnitude_range']
            for noisy_level in (0.3, 2.7, 5.1, 7.9, 9.6):
                value = noisy_level / 10 * (high - low) + low
                if op['type'] == 'Posterize':
                    value = math.ceil(value)
                elif name in ('Color', 'Contrast', 'Sharpness'):
                    value += 1  # mmpretrain's factor is 1 + magnitude
                # Solarize thresholds: timm floors, mmpretrain does not
                tolerance = 1 if name == 'Solarize' else 1e-9
                if abs(value - to_arg(noisy_level)) >= tolerance:
                    problems.append(f'{where}: argument {value} at level '
                                    f'{noisy_level}, timm '
                                    f'{to_arg(noisy_level)}')
            negative = op.get('random_negative_prob', 0.5)
            if op['type'] in ('Posterize', 'Solarize'):
                negative = 0.  # fixed by mmpretrain
            if negative != (0.5 if signed else 0.):
                problems.append(f'{where}: random_negative_prob {negative}')
            if signed and (tuple(op.get('pad_val', ())) != fill
                           or op.get('interpolation') != 'bilinear'):
                problems.append(f'{where}: fill {fill} and bilinear '
                                f'expected, got {op}')
    return problems


def loss_mismatches(cfg: Config) -> List[str]:
    """The distillation losses' and the ground-truth loss's settings."""
    problems = []
    tau, threshold = AUTHORS['kd_temperature'], AUTHORS[
        'superalignment_threshold']
    expected = dict(
        KLDivergence=dict(tau=tau, loss_weight=AUTHORS['kd_loss_weight']),
        AdaptConfLoss=dict(tau=tau, threshold=threshold),
        AugConfLoss=dict(tau=tau, alpha=threshold))
    model = cfg.model
    if model.type == 'WeakToStrongDistill':
        for name, loss in model.distiller.distill_losses.items():
            for key, value in expected.get(loss.type, {}).items():
                if loss.get(key, 1.0) != value:
                    problems.append(f'{name}.{key} = {loss.get(key)}, '
                                    f'expected {value}')
        for hook in cfg.get('custom_hooks', []):
            if 'WarmupFactorHook' in hook.type and hook.get(
                    'ratio') != AUTHORS['superalignment_rate']:
                problems.append(f'WarmupFactorHook ratio {hook.ratio}')
        head = model.architecture.head
    else:
        head = model.head
    if head.loss != dict(type='CrossEntropyLoss') and head.loss != dict(
            type='CrossEntropyLoss',
            loss_weight=AUTHORS['gt_loss_weight']):
        problems.append(f'ground-truth loss {head.loss}: plain cross-entropy '
                        f'(smoothing {AUTHORS["smoothing"]}) expected')
    return problems


def recipe_mismatches(cfg: Config, v1: bool) -> List[str]:
    """Where ``cfg`` departs from the authors' recipe (``cifar_v1.yaml``'s
    when ``v1``, else ``cifar_v0.yaml``'s); empty when it follows it."""
    problems = []

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f'{what}: {actual!r}, expected {expected!r}')

    batch = AUTHORS['batch_size']
    optimizer = cfg.optim_wrapper.optimizer
    expect('optimizer', {key: optimizer.get(key)
                         for key in ('type', 'lr', 'momentum', 'nesterov',
                                     'weight_decay')},
           dict(
               type='SGD',
               lr=AUTHORS['lr'],
               momentum=AUTHORS['momentum'],
               nesterov=AUTHORS['nesterov'],
               weight_decay=AUTHORS['weight_decay']))
    # timm spares 1-D parameters: biases and norms in these models
    paramwise = cfg.optim_wrapper.get('paramwise_cfg', {})
    expect('paramwise_cfg', {
        key: paramwise.get(key)
        for key in ('norm_decay_mult', 'bias_decay_mult')
    }, dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
    expect('auto_scale_lr.base_batch_size', cfg.auto_scale_lr.base_batch_size,
           AUTHORS['gpus'] * batch)
    expect('train batch size', cfg.train_dataloader.batch_size, batch)

    warmup, epochs = AUTHORS['warmup_epochs'], AUTHORS['epochs']
    expect('param_scheduler', [{
        key: value
        for key, value in scheduler.items()
        if key in ('type', 'start_factor', 'begin', 'end', 'T_max', 'eta_min',
                   'by_epoch', 'convert_to_iter_based')
    } for scheduler in cfg.param_scheduler], [
        dict(
            type='LinearLR',
            start_factor=AUTHORS['warmup_lr'] / AUTHORS['lr'],
            by_epoch=True,
            begin=0,
            end=warmup + 1),
        dict(
            type='CosineAnnealingLR',
            T_max=epochs,
            eta_min=AUTHORS['min_lr'],
            by_epoch=True,
            begin=0,
            end=epochs),
    ])
    expect('train_cfg', (cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval),
           (epochs, AUTHORS['eval_interval']))
    if not problems:
        gaps = [
            abs(ours - timm_lr(epoch))
            for epoch, ours in enumerate(mmengine_lrs(cfg))
        ]
        # only the warm-up differs, by the cosine factor (< 0.35%)
        if max(gaps[warmup:]) > 1e-5 or max(gaps) > 0.0035 * AUTHORS['lr']:
            problems.append(f'lr per epoch off timm\'s by {max(gaps):.2e}')
    expect('checkpoint save_best', cfg.default_hooks.checkpoint.get(
        'save_best'), f'accuracy/{AUTHORS["eval_metric"]}')
    # dist_bn 'reduce': BN statistics averaged over the GPUs every epoch
    expect('SyncBuffersHook', 'SyncBuffersHook'
           in [hook.type for hook in cfg.get('custom_hooks', [])], True)

    size = AUTHORS['img_size']
    train = [
        dict(
            type='RandomResizedCrop',
            scale=size,
            crop_ratio_range=AUTHORS['scale'],
            aspect_ratio_range=AUTHORS['ratio']),
        dict(
            type='RandomFlip',
            prob=AUTHORS['hflip'],
            direction='horizontal'),
    ] + ([dict(type='AutoAugment')] if v1 else []) + [dict(type='PackInputs')]
    pipeline = cfg.train_dataloader.dataset.pipeline
    expect('train pipeline', [{key: step.get(key)
                               for key in expected}
                              for step, expected in zip(pipeline, train)],
           train)
    expect('train pipeline length', len(pipeline), len(train))
    if v1 and len(pipeline) == len(train):
        problems += augment_mismatches(pipeline[2].policies)
    test = [
        dict(
            type='ResizeEdge',
            scale=math.floor(size / AUTHORS['crop_pct']),
            edge='short',
            interpolation=AUTHORS['interpolation']),
        dict(type='CenterCrop', crop_size=size),
        dict(type='PackInputs'),
    ]
    for loader in ('val_dataloader', 'test_dataloader'):
        pipeline = cfg[loader].dataset.pipeline
        expect(f'{loader} pipeline', [{key: step.get(key)
                                       for key in expected}
                                      for step, expected in zip(
                                          pipeline, test)], test)
        expect(f'{loader} pipeline length', len(pipeline), len(test))

    preprocessor = cfg.model.data_preprocessor
    for key in ('mean', 'std'):
        expect(
            key, [round(value, 4) for value in preprocessor[key]],
            [round(255 * value, 4) for value in AUTHORS[key]])
    mixup = dict(
        augments=dict(type='Mixup', alpha=AUTHORS['mixup'])) if v1 else None
    expect('batch_augments (mixup every batch)',
           preprocessor.get('batch_augments'), mixup)
    return problems + loss_mismatches(cfg)


def uses_v1(path: str) -> bool:
    return any(model in osp.basename(path).replace('_', '-').split('-')
               for model in AUTHORS['v1_pairs'])


def test_every_source_names_a_file_and_line():
    for entry in RECIPE:
        assert set(entry) == {'name', 'value', 'source'}
        assert ':' in entry['source'] and any(
            char.isdigit() for char in entry['source']), entry


def test_the_checks_encode_these_values():
    """Values the checks below take for granted rather than read."""
    assert (AUTHORS['opt'], AUTHORS['nesterov']) == ('sgd', True)
    assert (AUTHORS['sched'], AUTHORS['sched_step']) == ('cosine', 'epoch')
    assert AUTHORS['warmup_prefix'] is False  # in timm_lr
    assert AUTHORS['lr_scaled_with_batch'] is False  # auto_scale_lr base
    assert AUTHORS['decay_1d_params'] is False  # the weight-decay test
    assert AUTHORS['dist_bn'] == 'reduce'  # SyncBuffersHook
    assert (AUTHORS['mixup_prob'], AUTHORS['smoothing']) == (1.0, 0.0)


def test_the_setting_configs_are_found():
    assert len(SETTING_CONFIGS) == 28
    assert sum(map(uses_v1, SETTING_CONFIGS)) == 6


@pytest.mark.parametrize(
    'path',
    SETTING_CONFIGS,
    ids=[osp.relpath(path, REPO_ROOT) for path in SETTING_CONFIGS])
def test_config_follows_the_authors_recipe(path):
    cfg = parsed_config(path)
    assert recipe_mismatches(cfg, uses_v1(path)) == []


KD = osp.join(REPO_ROOT, 'configs', 'kd',
              'kd_vgg8_vgg13_8xb64-240e_cifar100.py')
DRIFTS: Dict[str, Any] = {
    'kd tau 4': lambda cfg: cfg.model.distiller.distill_losses.loss_kd.update(
        tau=4.0),
    'no nesterov': lambda cfg: cfg.optim_wrapper.optimizer.update(
        nesterov=False),
    'decayed norms': lambda cfg: cfg.optim_wrapper.pop('paramwise_cfg'),
    'lr 0.1': lambda cfg: cfg.optim_wrapper.optimizer.update(lr=0.1),
    'warm-up from 2e-3': lambda cfg: cfg.param_scheduler[0].update(
        start_factor=0.01),
    'cosine after the warm-up': lambda cfg: cfg.param_scheduler[1].update(
        begin=10, T_max=230),
    'per iteration': lambda cfg: cfg.param_scheduler[1].update(
        convert_to_iter_based=True),
    'eval every 5 epochs': lambda cfg: cfg.train_cfg.update(val_interval=5),
    'BN statistics of one GPU': lambda cfg: cfg.update(custom_hooks=[]),
    'padded random crop': lambda cfg: cfg.train_dataloader.dataset.pipeline.
    __setitem__(0, dict(type='RandomCrop', crop_size=32, padding=4)),
    'full test image': lambda cfg: cfg.val_dataloader.dataset.update(
        pipeline=[dict(type='PackInputs')]),
    "mmpretrain's mean": lambda cfg: cfg.model.data_preprocessor.update(
        mean=[129.304, 124.070, 112.434]),
    'no mixup': lambda cfg: cfg.model.data_preprocessor.pop('batch_augments'),
    "mmpretrain's imagenet policy": lambda cfg: cfg.train_dataloader.dataset.
    pipeline[2].update(policies=AUTOAUG_POLICIES['imagenet']),
    'AutoAugment level unnoised': lambda cfg: cfg.train_dataloader.dataset.
    pipeline[2].policies[0][1].update(magnitude_std=0.),
    'Color factor from 1': lambda cfg: cfg.train_dataloader.dataset.pipeline[
        2].policies[10][1].update(magnitude_range=(0, 0.9)),
}


@pytest.mark.parametrize('drift', sorted(DRIFTS))
def test_a_drift_from_the_recipe_fails(drift):
    cfg = parsed_config(KD)
    assert recipe_mismatches(cfg, v1=True) == []
    DRIFTS[drift](cfg)
    assert recipe_mismatches(cfg, v1=True) != []


@pytest.mark.parametrize(
    'path', [path for path in SETTING_CONFIGS if '/teachers/' in path],
    ids=lambda path: osp.basename(path))
def test_weight_decay_spares_what_timm_spares(path):
    """timm decays no parameter of one dimension (biases, norms)."""
    cfg = parsed_config(path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    decay = {
        id(param): group['weight_decay']
        for group in optimizer.param_groups for param in group['params']
    }
    for name, param in model.named_parameters():
        spared = param.ndim <= 1 or name.endswith('.bias')
        assert decay[id(param)] == (
            0. if spared else AUTHORS['weight_decay']), name
