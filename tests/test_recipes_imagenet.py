# Copyright (c) mmw2s contributors. All rights reserved.
"""The ImageNet transfer configs follow the authors' released recipe.

``RECIPE`` holds the authors' values for fine-tuning the MAE ViT-B/16 under
a ResNet-50 (README.md's command, imagenet_mae.yaml, train.py of
ggjy/vision_weak_to_strong at c020783) and, where their trainer leaves a
value to timm, timm v0.6.12's, each with the file and line it comes from.
``DEPARTURES`` names what mmpretrain cannot say the same way and what the
configs do instead. Every config of the setting is held to both; a config
that drifts fails.
"""
import copy
import glob
import math
import os.path as osp
from typing import Any, Dict, List

import pytest
from conftest import REPO_ROOT, parsed_config
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import TRANSFORMS
from test_recipes import mmengine_lrs, timm_lr

import mmw2s  # noqa: F401

YAML = 'classification/configs/imagenet_mae.yaml'
TRAIN = 'classification/train.py'
LRD = 'classification/layer_decay.py'
ADAPT = 'classification/distillers/adaptconf.py'
TIMM = 'timm@v0.6.12:timm'
VIT = f'{TIMM}/models/vision_transformer.py'

RECIPE = [
    dict(name='gpus', value=8, source='README.md:86 (--nproc_per_node=8)'),
    dict(
        name='student',
        value='vit_base_patch16_224',
        source='README.md:86 (--model)'),
    dict(name='amp', value=True, source='README.md:86 (--amp)'),
    dict(
        name='teacher',
        value='resnet50_a1_0-14fe96d1.pth',
        source='README.md:86 (--teacher resnet50 --teacher-pretrained)'),
    dict(name='superalignment_threshold', value=4.0, source='README.md:86'),
    dict(
        name='warmup_factor_used',
        value=False,
        source=f'{ADAPT}:44-63 (no superalignment_rate)'),
    dict(name='kd_temperature', value=1.0, source=f'{TRAIN}:87'),
    dict(name='epochs', value=100, source=f'{YAML}:1'),
    dict(name='batch_size', value=128, source=f'{YAML}:2'),
    dict(name='lr', value=2e-3, source=f'{YAML}:3'),
    dict(
        name='lr_scaled_with_batch',
        value=False,
        source=f'{TRAIN}:521 (args.lr as given)'),
    dict(name='layer_decay', value=0.65, source=f'{YAML}:4'),
    dict(name='opt', value='adamw', source=f'{YAML}:5'),
    dict(
        name='betas',
        value=(0.9, 0.999),
        source=f'{TRAIN}:160-163 (no --opt-betas: torch default)'),
    dict(
        name='eps',
        value=1e-8,
        source=f'{TRAIN}:160 (no --opt-eps: torch default)'),
    dict(name='sched', value='cosine', source=f'{YAML}:6'),
    dict(name='weight_decay', value=0.05, source=f'{YAML}:7'),
    dict(
        name='no_weight_decay',
        value='1-D parameters, cls_token, pos_embed',
        source=f'{LRD}:32, {TRAIN}:520'),
    dict(name='warmup_epochs', value=5, source=f'{YAML}:8'),
    dict(name='warmup_lr', value=1e-4, source=f'{YAML}:9'),
    dict(name='min_lr', value=1e-6, source=f'{YAML}:10'),
    dict(
        name='lr_scale_everywhere',
        value=True,
        source=f'{TIMM}/scheduler/scheduler.py:85-86'),
    dict(name='sched_step', value='epoch', source=f'{TRAIN}:743'),
    dict(name='smoothing', value=0.1, source=f'{YAML}:11'),
    dict(name='aa', value='rand-m9-mstd0.5-inc1', source=f'{YAML}:12'),
    dict(name='mixup', value=0.8, source=f'{YAML}:13'),
    dict(name='cutmix', value=1.0, source=f'{YAML}:14'),
    dict(name='mixup_switch_prob', value=0.5, source=f'{TRAIN}:258'),
    dict(name='color_jitter', value=0.0, source=f'{YAML}:15'),
    dict(name='reprob', value=0.25, source=f'{YAML}:16'),
    dict(name='remode', value='pixel', source=f'{TRAIN}:244'),
    dict(
        name='re_area',
        value=(0.02, 1 / 3),
        source=f'{TIMM}/data/random_erasing.py:47'),
    dict(
        name='re_aspect',
        value=(0.3, 1 / 0.3),
        source=f'{TIMM}/data/random_erasing.py:47'),
    dict(name='drop_path', value=0.1, source=f'{YAML}:17'),
    dict(name='scale', value=(0.08, 1.0), source=f'{TRAIN}:220'),
    dict(name='ratio', value=(3. / 4., 4. / 3.), source=f'{TRAIN}:222'),
    dict(name='hflip', value=0.5, source=f'{TRAIN}:224'),
    dict(name='train_interpolation', value='random', source=f'{TRAIN}:266'),
    dict(
        name='global_pool',
        value='token',
        source=f'{TRAIN}:137 (None), {TIMM}/models/factory.py:57, {VIT}:378'),
    dict(name='norm_before_pool', value=True, source=f'{VIT}:424-428,539'),
    dict(name='head_init_std', value=2e-5, source=f'{TRAIN}:440'),
    dict(name='img_size', value=224, source=f'{VIT}:45'),
    dict(name='crop_pct', value=0.9, source=f'{VIT}:46'),
    dict(name='interpolation', value='bicubic', source=f'{VIT}:46'),
    dict(
        name='mean',
        value=(0.5, 0.5, 0.5),
        source=f'{VIT}:47, {TIMM}/data/constants.py:4'),
    dict(
        name='std',
        value=(0.5, 0.5, 0.5),
        source=f'{VIT}:47, {TIMM}/data/constants.py:5'),
    dict(
        name='eval_resize',
        value='floor(img_size / crop_pct), then centre crop',
        source=f'{TIMM}/data/transforms_factory.py:147'),
    dict(
        name='aa_fill',
        value='round(255 x mean)',
        source=f'{TIMM}/data/transforms_factory.py:87'),
    dict(name='eval_interval', value=1, source=f'{TRAIN}:109,710'),
    dict(name='eval_metric', value='top1', source=f'{TRAIN}:328'),
]
AUTHORS = {entry['name']: entry['value'] for entry in RECIPE}

# What the configs do where mmpretrain cannot say the authors' value
DEPARTURES = dict(
    teacher=dict(
        value='mmpretrain::resnet/resnet50_8xb256-rsb-a1-600e_in1k.py',
        why='the same A1 recipe of "ResNet strikes back", trained by '
        "mmpretrain (80.12% top-1; timm's weights: 80.4%)"),
    train_interpolation=dict(
        value='bicubic',
        why='RandomResizedCrop and RandAugment take one interpolation; '
        'timm draws bilinear or bicubic each time'),
    remode=dict(
        value='rand',
        why='N(255 mean, 255 std) noise: the same noise in pixels as '
        "timm's N(0, 1) after normalisation, but clipped to 0-255"),
)


def used(name: str) -> Any:
    """What the configs use for the recipe value ``name``."""
    return DEPARTURES.get(name, dict(value=AUTHORS[name]))['value']


# the authors' setting: ViT-B/16 students (not a scaled-up variant)
SETTING_CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO_ROOT, 'configs', 'imagenet', '*vit-base-p16-mae*.py'))
    if not osp.basename(path).startswith('_'))


def expected_pipelines() -> Dict[str, List[dict]]:
    """The transforms' attributes the recipe asks for."""
    size, mean = AUTHORS['img_size'], AUTHORS['mean']
    magnitude = int(AUTHORS['aa'].split('-m')[1].split('-')[0])
    std = float(AUTHORS['aa'].split('-mstd')[1].split('-')[0])
    train = [
        dict(
            type='RandomResizedCrop',
            scale=(size, size),
            crop_ratio_range=AUTHORS['scale'],
            aspect_ratio_range=AUTHORS['ratio'],
            interpolation=used('train_interpolation')),
        dict(type='RandomFlip', prob=AUTHORS['hflip'], direction='horizontal'),
        dict(
            type='RandAugment',
            num_policies=2,
            magnitude_level=magnitude,
            magnitude_std=std,
            total_level=10,
            hparams=dict(
                pad_val=[round(255 * value) for value in mean],
                interpolation=used('train_interpolation'))),
        dict(
            type='RandomErasing',
            erase_prob=AUTHORS['reprob'],
            mode=used('remode'),
            min_area_ratio=AUTHORS['re_area'][0],
            max_area_ratio=AUTHORS['re_area'][1],
            aspect_range=AUTHORS['re_aspect'],
            fill_color=[255 * value for value in mean],
            fill_std=[255 * value for value in AUTHORS['std']]),
        dict(type='PackInputs'),
    ]
    test = [
        dict(
            type='ResizeEdge',
            scale=math.floor(size / AUTHORS['crop_pct']),
            edge='short',
            interpolation=AUTHORS['interpolation']),
        dict(type='CenterCrop', crop_size=(size, size)),
        dict(type='PackInputs'),
    ]
    return dict(train=train, test=test)


def pipeline_mismatches(what: str, pipeline: List[dict],
                        expected: List[dict]) -> List[str]:
    """Build each transform after LoadImageFromFile and compare the
    attributes ``expected`` names (defaults included)."""
    steps = [step for step in pipeline if step['type'] != 'LoadImageFromFile']
    if [step['type'] for step in steps] != [step['type'] for step in expected]:
        return [
            f'{what}: {[step["type"] for step in steps]}, expected '
            f'{[step["type"] for step in expected]}'
        ]
    problems = []
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for step, wanted in zip(steps, expected):
            transform = TRANSFORMS.build(copy.deepcopy(step))
            for key, value in wanted.items():
                if key == 'type':
                    continue
                actual = getattr(transform, key)
                if isinstance(value, (tuple, list)):
                    actual = list(actual)
                    value = list(value)
                if actual != value and not (isinstance(
                        value, list) and len(actual) == len(value) and all(
                            math.isclose(a, b)
                            for a, b in zip(actual, value))):
                    problems.append(f'{what} {step["type"]}.{key}: '
                                    f'{actual!r}, expected {value!r}')
    return problems


def model_mismatches(cfg: Config) -> List[str]:
    """The student, the teacher and the losses."""
    problems = []

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f'{what}: {actual!r}, expected {expected!r}')

    model = cfg.model
    distill = model.type == 'WeakToStrongDistill'
    student = model.architecture if distill else model
    backbone = student.backbone
    expect(
        'student backbone', {
            key: backbone.get(key)
            for key in ('type', 'arch', 'patch_size', 'img_size', 'out_type',
                        'final_norm', 'drop_path_rate')
        },
        dict(
            type='VisionTransformer',
            arch='base',
            patch_size=16,
            img_size=AUTHORS['img_size'],
            out_type='cls_token'
            if AUTHORS['global_pool'] == 'token' else 'avg_featmap',
            final_norm=AUTHORS['norm_before_pool'],
            drop_path_rate=AUTHORS['drop_path']))
    expect(
        'student head loss', student.head.loss,
        dict(
            type='LabelSmoothLoss',
            label_smooth_val=AUTHORS['smoothing'],
            mode='original'))
    expect('student head init', student.head.init_cfg, [
        dict(type='TruncNormal', layer='Linear', std=AUTHORS['head_init_std'])
    ])
    preprocessor = model.data_preprocessor if distill else \
        cfg.data_preprocessor
    for key in ('mean', 'std'):
        expect(key, list(preprocessor[key]),
               [255 * value for value in AUTHORS[key]])
    expect('to_rgb', preprocessor.get('to_rgb'), True)
    augments = (preprocessor.get('batch_augments') if distill else student.get(
        'train_cfg', {})) or {}
    scope = 'mmpretrain.' if distill else ''
    expect('mixup / cutmix (one of the two a batch, even odds)',
           (augments.get('augments'), augments.get('probs')), ([
               dict(type=f'{scope}Mixup', alpha=AUTHORS['mixup']),
               dict(type=f'{scope}CutMix', alpha=AUTHORS['cutmix'])
           ], None))
    if not distill:
        return problems
    if model.teacher.get('cfg_path'):
        expect('teacher', model.teacher.cfg_path, used('teacher'))
    else:  # strong-to-strong: a fine-tuned student of the same recipe
        expect(
            'strong-to-strong teacher backbone', {
                key: model.teacher.backbone.get(key)
                for key in ('arch', 'out_type', 'final_norm')
            }, {
                key: backbone.get(key)
                for key in ('arch', 'out_type', 'final_norm')
            })
    tau, threshold = AUTHORS['kd_temperature'], AUTHORS[
        'superalignment_threshold']
    wanted = dict(
        KLDivergence=dict(tau=tau),
        AdaptConfLoss=dict(tau=tau, threshold=threshold))
    for name, loss in model.distiller.distill_losses.items():
        for key, value in wanted[loss.type].items():
            expect(f'{name}.{key}', loss.get(key), value)
    expect(
        'WarmupFactorHook',
        any('WarmupFactorHook' in hook.type
            for hook in cfg.get('custom_hooks', [])),
        AUTHORS['warmup_factor_used'])
    return problems


def recipe_mismatches(cfg: Config) -> List[str]:
    """Where ``cfg`` departs from the authors' ImageNet recipe (beyond
    ``DEPARTURES``); empty when it follows it."""
    problems = []

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f'{what}: {actual!r}, expected {expected!r}')

    wrapper = cfg.optim_wrapper
    optimizer = wrapper.optimizer
    expect(
        'optimizer', {
            key: optimizer.get(key)
            for key in ('type', 'lr', 'weight_decay', 'betas', 'eps')
        },
        dict(
            type='AdamW',
            lr=AUTHORS['lr'],
            weight_decay=AUTHORS['weight_decay'],
            betas=AUTHORS['betas'],
            eps=AUTHORS['eps']))
    expect('mixed precision',
           wrapper.get('type') == 'AmpOptimWrapper', AUTHORS['amp'])
    expect(
        'layer-wise decay', (wrapper.get('constructor'),
                             wrapper.paramwise_cfg.get('layer_decay_rate')),
        ('LearningRateDecayOptimWrapperConstructor', AUTHORS['layer_decay']))
    spared = wrapper.paramwise_cfg.get('custom_keys', {})
    expect(
        'undecayed cls_token, pos_embed, norms, biases', {
            key: spared.get(key, {}).get('decay_mult')
            for key in ('.cls_token', '.pos_embed', '.ln', '.bias')
        }, {key: 0.0
            for key in ('.cls_token', '.pos_embed', '.ln', '.bias')})
    expect('auto_scale_lr.base_batch_size', cfg.auto_scale_lr.base_batch_size,
           AUTHORS['gpus'] * AUTHORS['batch_size'])
    expect('train batch size', cfg.train_dataloader.batch_size,
           AUTHORS['batch_size'])

    warmup, epochs = AUTHORS['warmup_epochs'], AUTHORS['epochs']
    expect(
        'param_scheduler',
        [{
            key: value
            for key, value in scheduler.items()
            if key in ('type', 'start_factor', 'begin', 'end', 'T_max',
                       'eta_min', 'eta_min_ratio', 'by_epoch',
                       'convert_to_iter_based')
        } for scheduler in cfg.param_scheduler],
        [
            dict(
                type='LinearLR',
                start_factor=AUTHORS['warmup_lr'] / AUTHORS['lr'],
                by_epoch=True,
                begin=0,
                end=warmup + 1),
            dict(
                type='CosineAnnealingLR',
                T_max=epochs,
                # timm scales the minimum by each layer's lr_scale too
                eta_min_ratio=AUTHORS['min_lr'] / AUTHORS['lr'],
                by_epoch=True,
                begin=0,
                end=epochs),
        ])
    expect('train_cfg', (cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval),
           (epochs, AUTHORS['eval_interval']))
    if not problems:
        gaps = [
            abs(ours - timm_lr(epoch, AUTHORS))
            for epoch, ours in enumerate(mmengine_lrs(cfg))
        ]
        # only the warm-up differs, by the cosine factor at its last epoch
        bound = (1 - math.cos(math.pi * (warmup - 1) / epochs)) / 2
        if max(gaps[warmup:]) > 1e-5 * AUTHORS['lr'] or max(
                gaps) > bound * AUTHORS['lr']:
            problems.append(f'lr per epoch off timm\'s by {max(gaps):.2e}')
    expect('checkpoint save_best',
           cfg.default_hooks.checkpoint.get('save_best'),
           f'accuracy/{AUTHORS["eval_metric"]}')

    pipelines = expected_pipelines()
    problems += pipeline_mismatches('train pipeline',
                                    cfg.train_dataloader.dataset.pipeline,
                                    pipelines['train'])
    for loader in ('val_dataloader', 'test_dataloader'):
        problems += pipeline_mismatches(loader, cfg[loader].dataset.pipeline,
                                        pipelines['test'])
    return problems + model_mismatches(cfg)


def test_every_source_names_a_file_and_line():
    for entry in RECIPE:
        assert set(entry) == {'name', 'value', 'source'}
        assert ':' in entry['source'] and any(
            char.isdigit() for char in entry['source']), entry
    assert set(DEPARTURES) <= set(AUTHORS)


def test_the_checks_encode_these_values():
    """Values the checks take for granted rather than read."""
    assert (AUTHORS['opt'], AUTHORS['sched']) == ('adamw', 'cosine')
    assert AUTHORS['sched_step'] == 'epoch'  # by_epoch, no iter conversion
    assert AUTHORS['lr_scaled_with_batch'] is False  # auto_scale_lr base
    assert AUTHORS['lr_scale_everywhere'] is True  # eta_min_ratio
    assert AUTHORS['color_jitter'] == 0.0  # no ColorJitter step
    assert AUTHORS['aa'].endswith('-inc1')  # timm_increasing
    assert AUTHORS['no_weight_decay'].startswith('1-D')
    assert AUTHORS['mixup_switch_prob'] == 0.5  # RandomBatchAugment's odds


def test_the_setting_configs_are_found():
    assert len(SETTING_CONFIGS) == 4


@pytest.mark.parametrize(
    'path',
    SETTING_CONFIGS,
    ids=[osp.relpath(path, REPO_ROOT) for path in SETTING_CONFIGS])
def test_config_follows_the_authors_recipe(path):
    cfg = parsed_config(path)
    assert recipe_mismatches(cfg) == []


def test_randaugment_is_timms_increasing_set():
    cfg = parsed_config(SETTING_CONFIGS[0])
    randaugment = [
        step for step in cfg.train_dataloader.dataset.pipeline
        if step['type'] == 'RandAugment'
    ]
    assert [step['policies'] for step in randaugment] == ['timm_increasing']


ADAPTCONF = osp.join(
    REPO_ROOT, 'configs', 'imagenet',
    'adaptconf_resnet50_vit-base-p16-mae_8xb128-coslr-100e_in1k.py')
DRIFTS: Dict[str, Any] = {
    'average-pooled patch tokens':
    lambda cfg: cfg.model.architecture.backbone.update(
        out_type='avg_featmap', final_norm=False),
    "mmpretrain's ImageNet mean":
    lambda cfg: cfg.model.data_preprocessor.update(
        mean=[123.675, 116.28, 103.53]),
    'resize 256 for the test crop':
    lambda cfg: cfg.val_dataloader.dataset.pipeline[1].update(scale=256),
    'warm-up from 2e-7':
    lambda cfg: cfg.param_scheduler[0].update(start_factor=1e-4),
    'absolute minimum lr':
    lambda cfg: cfg.param_scheduler[1].update(
        eta_min=1e-6, eta_min_ratio=None),
    'float32':
    lambda cfg: cfg.optim_wrapper.update(type='OptimWrapper'),
    "ResNet-50's 76.55% recipe":
    lambda cfg: cfg.model.teacher.update(
        cfg_path='mmpretrain::resnet/resnet50_8xb32_in1k.py'),
    'threshold 0.5':
    lambda cfg: cfg.model.distiller.distill_losses.loss_w2s.update(
        threshold=0.5),
    "mmpretrain's erasing fill":
    lambda cfg: cfg.train_dataloader.dataset.pipeline[4].update(
        fill_color=[103.53, 116.28, 123.675]),
    'RandAugment fill 124':
    lambda cfg: cfg.train_dataloader.dataset.pipeline[3].hparams.update(
        pad_val=[124, 116, 104]),
    'lr 8e-3':
    lambda cfg: cfg.optim_wrapper.optimizer.update(lr=8e-3),
    'no mixup':
    lambda cfg: cfg.model.data_preprocessor.pop('batch_augments'),
}


@pytest.mark.parametrize('drift', sorted(DRIFTS))
def test_a_drift_from_the_recipe_fails(drift):
    cfg = parsed_config(ADAPTCONF)
    assert recipe_mismatches(cfg) == []
    DRIFTS[drift](cfg)
    assert recipe_mismatches(cfg) != []
