# Copyright (c) mmw2s contributors. All rights reserved.
"""The few-shot configs follow the authors' released recipe.

``RECIPE`` holds the values of Guo et al.'s few-shot code
(``few_shot_leaerning/`` of ggjy/vision_weak_to_strong at c020783, after
Meta-Baseline), each with the file and line it comes from. Every config
under configs/few_shot/ is held to them, by stage (classifier or
Meta-Baseline); a config that drifts fails.
"""
import glob
import os.path as osp
import re
from typing import Any, Dict, List

import pytest
from conftest import REPO_ROOT, parsed_config
from mmengine.config import Config
from test_recipes_imagenet import pipeline_mismatches

import mmw2s  # noqa: F401

FS = 'few_shot_leaerning'
CLS_YAML = f'{FS}/config/classifier/train_classifier_mini.yaml'
CLS_KD_YAML = (f'{FS}/config/classifier/'
               'train_classifier_mini_kd_adapt_conf.yaml')
META_YAML = f'{FS}/config/meta/train_meta_mini.yaml'
META_KD_YAML = f'{FS}/config/meta/train_meta_mini_kd_adapt_conf.yaml'
DATA = f'{FS}/datasets/mini_imagenet.py'
UTILS = f'{FS}/utils/__init__.py'

RECIPE = [
    dict(name='image_size', value=80, source=f'{DATA}:25'),
    dict(name='mean', value=(0.485, 0.456, 0.406), source=f'{DATA}:35'),
    dict(name='std', value=(0.229, 0.224, 0.225), source=f'{DATA}:36'),
    dict(
        name='eval_transform',
        value='Resize(image_size), no crop',
        source=f'{DATA}:38-42'),
    dict(
        name='train_augment',
        value='RandomResizedCrop(image_size), horizontal flip',
        source=f'{CLS_YAML}:2, {DATA}:44-50'),
    dict(
        name='depths',
        value=dict(resnet12_bottle=12, resnet18_bottle=18, resnet36_bottle=36),
        source=f'{FS}/models/resnet.py:152-164'),
    dict(
        name='students_teachers',
        value=('resnet36_bottle', ('resnet12_bottle', 'resnet18_bottle')),
        source=f'{FS}/README.md:62-63,77-84'),
    dict(name='num_classes', value=64, source=f'{CLS_YAML}:14'),
    dict(name='cls_gpus', value=4, source=f'{FS}/README.md:46,56-63'),
    dict(name='cls_batch_size', value=128, source=f'{CLS_YAML}:16'),
    dict(name='cls_epochs', value=100, source=f'{CLS_YAML}:17'),
    dict(name='cls_lr', value=0.1, source=f'{CLS_YAML}:19'),
    dict(name='weight_decay', value=5e-4, source=f'{CLS_YAML}:19'),
    dict(name='cls_milestones', value=[90], source=f'{CLS_YAML}:19'),
    dict(name='momentum', value=0.9, source=f'{UTILS}:152'),
    dict(
        name='cls_fs_eval',
        value=dict(split='test', interval=5, episodes=200 * 4),
        source=f'{CLS_YAML}:6-7, {FS}/train_classifier.py:86-92,191'),
    dict(name='n_way', value=5, source=f'{META_YAML}:14'),
    dict(name='n_shot', value=1, source=f'{META_YAML}:15'),
    dict(name='n_query', value=15, source=f'{META_YAML}:16'),
    dict(name='train_batches', value=200, source=f'{META_YAML}:17'),
    dict(name='ep_per_batch', value=4, source=f'{META_YAML}:18'),
    dict(name='meta_gpus', value=2, source=f'{FS}/README.md:47,71-84'),
    dict(name='meta_epochs', value=20, source=f'{META_YAML}:20'),
    dict(name='meta_lr', value=1e-3, source=f'{META_YAML}:22'),
    dict(
        name='meta_lr_schedule',
        value=None,
        source=f'{META_YAML}:22 (no milestones), {UTILS}:161-162'),
    dict(
        name='meta_train_augment',
        value=None,
        source=f'{META_YAML}:2, {DATA}:59-60'),
    dict(
        name='meta_val',
        value=dict(split='val', episodes=200 * 4),
        source=f'{META_YAML}:5-6, {FS}/train_meta.py:101'),
    dict(
        name='test_episodes',
        value=10 * 200 * 4,
        source=f'{FS}/test_few_shot.py:49-50,130'),
    dict(
        name='meta_student_start',
        value='plain classifier stage',
        source=f'{META_YAML}:12, {FS}/train_meta.py:297-300, '
        f'{FS}/train_classifier.py:36'),
    dict(
        name='temperature',
        value=10.0,
        source=f'{FS}/models/meta_baseline.py:14'),
    dict(
        name='teacher_temperature_learnt',
        value=False,
        source=f'{FS}/utils/kd_utils.py:44-54 (encoder only)'),
    dict(
        name='meta_teachers',
        value=('classifier', 'meta'),
        source=f'{FS}/README.md:75-85, {FS}/train_meta.py:309-311'),
    dict(name='kd_loss_weight', value=1, source=f'{CLS_KD_YAML}:28'),
    dict(name='cls_tau', value=10.0, source=f'{CLS_KD_YAML}:29'),
    dict(name='cls_threshold', value=8.0, source=f'{CLS_KD_YAML}:30'),
    dict(name='meta_tau', value=10.0, source=f'{META_KD_YAML}:36'),
    dict(name='meta_threshold', value=0.25, source=f'{META_KD_YAML}:37'),
    dict(name='warmup_ratio', value=0.25, source=f'{UTILS}:208-209'),
    dict(
        name='first_epoch',
        value=1,
        source=f'{FS}/train_classifier.py:135, {FS}/train_meta.py:151'),
]
AUTHORS = {entry['name']: entry['value'] for entry in RECIPE}

CONFIGS = sorted(
    path
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', 'few_shot', '*.py'))
    if not osp.basename(path).startswith('_'))
CONFIG_NAMES = {osp.splitext(osp.basename(path))[0] for path in CONFIGS}


def is_meta(path: str) -> bool:
    return 'meta-baseline' in osp.basename(path)


def checkpoint_config(checkpoint: str) -> str:
    """The config that writes ``checkpoint`` (``work_dirs/<name>/...``)."""
    return checkpoint.split('/')[1]


def data_mismatches(cfg: Config, meta: bool) -> List[str]:
    """Images, normalisation, pipelines and few-shot evaluation."""
    problems = []

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f'{what}: {actual!r}, expected {expected!r}')

    size = AUTHORS['image_size']
    # torchvision's Resize and RandomResizedCrop on PIL images: bilinear
    resize = dict(
        type='ResizeEdge',
        scale=size,
        edge='short',
        backend='pillow',
        interpolation='bilinear')
    test = [resize, dict(type='PackInputs')]
    train = test if meta else [
        dict(
            type='RandomResizedCrop',
            scale=(size, size),
            crop_ratio_range=(0.08, 1.0),
            aspect_ratio_range=(3. / 4., 4. / 3.),
            backend='pillow',
            interpolation='bilinear'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]
    problems += pipeline_mismatches(
        'train pipeline', cfg.train_dataloader.dataset.pipeline, train)
    for loader in ('val_dataloader', 'test_dataloader'):
        problems += pipeline_mismatches(loader, cfg[loader].dataset.pipeline,
                                        test)
    preprocessor = cfg.model.data_preprocessor
    for key in ('mean', 'std'):
        expect(key, [round(value, 3) for value in preprocessor[key]],
               [round(255 * value, 3) for value in AUTHORS[key]])
    expect('to_rgb', preprocessor.get('to_rgb'), True)

    episodes = dict(
        type='FewShotAccuracy',
        num_ways=AUTHORS['n_way'],
        num_queries=AUTHORS['n_query'],
        seed=0)
    if meta:
        val = dict(
            episodes,
            num_shots=(AUTHORS['n_shot'], ),
            num_episodes=AUTHORS['meta_val']['episodes'])
        val_split, interval = AUTHORS['meta_val']['split'], 1
    else:
        val = dict(
            episodes,
            num_shots=(1, 5),
            num_episodes=AUTHORS['cls_fs_eval']['episodes'])
        val_split = AUTHORS['cls_fs_eval']['split']
        interval = AUTHORS['cls_fs_eval']['interval']
    expect('val_evaluator', dict(cfg.val_evaluator), val)
    expect('val split', cfg.val_dataloader.dataset.split, val_split)
    expect('val_interval', cfg.train_cfg.val_interval, interval)
    expect(
        'test_evaluator', dict(cfg.test_evaluator),
        dict(
            episodes, num_shots=(1, 5), num_episodes=AUTHORS['test_episodes']))
    expect('test split', cfg.test_dataloader.dataset.split, 'test')
    return problems


def schedule_mismatches(cfg: Config, meta: bool) -> List[str]:
    """Optimizer, learning rate, epochs and the batch."""
    problems = []

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f'{what}: {actual!r}, expected {expected!r}')

    stage = 'meta' if meta else 'cls'
    expect(
        'optimizer', dict(cfg.optim_wrapper.optimizer),
        dict(
            type='SGD',
            lr=AUTHORS[f'{stage}_lr'],
            momentum=AUTHORS['momentum'],
            weight_decay=AUTHORS['weight_decay']))
    expect('paramwise_cfg (decay on every parameter)',
           cfg.optim_wrapper.get('paramwise_cfg'), None)
    expect('max_epochs', cfg.train_cfg.max_epochs, AUTHORS[f'{stage}_epochs'])
    schedulers = [dict(scheduler) for scheduler in cfg.param_scheduler]
    if meta:
        expect('param_scheduler (constant lr)', schedulers, [])
    else:
        expect('param_scheduler', schedulers, [
            dict(
                type='MultiStepLR',
                by_epoch=True,
                milestones=AUTHORS['cls_milestones'],
                gamma=0.1)
        ])
    gpus = AUTHORS[f'{stage}_gpus']
    batch = cfg.train_dataloader.batch_size
    if meta:
        per_episode = AUTHORS['n_way'] * (
            AUTHORS['n_shot'] + AUTHORS['n_query'])
        episodes_per_gpu = AUTHORS['ep_per_batch'] // gpus
        expect('train batch size', batch, episodes_per_gpu * per_episode)
        expect(
            'train sampler', dict(cfg.train_dataloader.sampler),
            dict(
                type='EpisodicSampler',
                num_ways=AUTHORS['n_way'],
                num_shots=AUTHORS['n_shot'],
                num_queries=AUTHORS['n_query'],
                num_episodes=AUTHORS['train_batches'] * episodes_per_gpu))
        expect('auto_scale_lr.base_batch_size',
               cfg.auto_scale_lr.base_batch_size,
               AUTHORS['ep_per_batch'] * per_episode)
    else:
        expect('train batch size', batch, AUTHORS['cls_batch_size'] // gpus)
        expect('auto_scale_lr.base_batch_size',
               cfg.auto_scale_lr.base_batch_size, AUTHORS['cls_batch_size'])
    return problems


def model_mismatches(cfg: Config, path: str, meta: bool) -> List[str]:
    """Backbones, heads, where each starts from and the losses."""
    problems = []

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f'{what}: {actual!r}, expected {expected!r}')

    depths = AUTHORS['depths']
    strong, weak = AUTHORS['students_teachers']
    model = cfg.model
    distill = model.type == 'WeakToStrongDistill'
    student = model.architecture if distill else model
    name = osp.basename(path)
    depth = depths[strong] if distill else int(
        re.search(r'resnet(\d+)-bottle', name).group(1))
    expect('student backbone', (student.backbone.type, student.backbone.depth),
           ('FewShotResNet', depth))
    episodes_per_gpu = AUTHORS['ep_per_batch'] // AUTHORS['meta_gpus']
    meta_head = dict(
        type='EpisodeCentroidHead',
        num_ways=AUTHORS['n_way'],
        num_shots=AUTHORS['n_shot'],
        num_queries=AUTHORS['n_query'],
        num_episodes=episodes_per_gpu,
        temperature=AUTHORS['temperature'])
    if meta:
        expect('student head', dict(student.head),
               dict(meta_head, learnable_temperature=True))
        init = student.backbone.get('init_cfg') or {}
        # the plain classifier stage of the student's depth
        expect(
            'student starts from',
            (init.get('type'), checkpoint_config(init.get(
                'checkpoint', '/?')), init.get('prefix')),
            ('Pretrained', f'resnet{depth}-bottle_4xb32-100e_mini-imagenet',
             'backbone.'))
    else:
        expect('student head', (student.head.type, student.head.num_classes),
               ('LinearClsHead', AUTHORS['num_classes']))
    if not distill:
        return problems

    teacher = model.teacher
    teacher_depth = teacher.backbone.depth
    expect('teacher depth', teacher_depth in [depths[net] for net in weak],
           True)
    plain_classifier = f'resnet{teacher_depth}-bottle_4xb32-100e_mini-imagenet'
    if meta:
        expect(
            'teacher head', dict(teacher.head),
            dict(
                meta_head,
                learnable_temperature=AUTHORS['teacher_temperature_learnt']))
        init = teacher.backbone.get('init_cfg') or {}
        source = {
            'cls':
            plain_classifier,
            'meta':
            f'meta-baseline_resnet{teacher_depth}-bottle_2xb160-20e_'
            'mini-imagenet'
        }[re.search(r'-bottle-(cls|meta)_', name).group(1)]
        expect(
            'teacher starts from',
            (init.get('type'), checkpoint_config(init.get('checkpoint', '/?')),
             init.get('prefix')), ('Pretrained', source, 'backbone.'))
    else:
        expect('teacher checkpoint', checkpoint_config(model.teacher_ckpt),
               plain_classifier)
    stage = 'meta' if meta else 'cls'
    losses = [dict(loss) for loss in model.distiller.distill_losses.values()]
    expect('distill losses', losses, [
        dict(
            type='AdaptConfLoss',
            tau=AUTHORS[f'{stage}_tau'],
            threshold=AUTHORS[f'{stage}_threshold'])
    ])
    hooks = [
        dict(hook) for hook in cfg.custom_hooks
        if 'WarmupFactorHook' in hook.type
    ]
    expect('beta warm-up', hooks, [
        dict(
            type='mmrazor.WarmupFactorHook',
            schedule='epoch',
            ratio=AUTHORS['warmup_ratio'],
            first_epoch=AUTHORS['first_epoch'])
    ])
    return problems


def recipe_mismatches(cfg: Config, path: str) -> List[str]:
    """Where the config ``path`` departs from the authors' recipe; empty
    when it follows it."""
    meta = is_meta(path)
    return (data_mismatches(cfg, meta) + schedule_mismatches(cfg, meta) +
            model_mismatches(cfg, path, meta))


def test_every_source_names_a_file_and_line():
    for entry in RECIPE:
        assert set(entry) == {'name', 'value', 'source'}
        assert ':' in entry['source'] and any(
            char.isdigit() for char in entry['source']), entry


def test_the_checks_encode_these_values():
    """Values the checks take for granted rather than read."""
    assert AUTHORS['meta_lr_schedule'] is None  # no param_scheduler
    assert AUTHORS['meta_train_augment'] is None  # train = test pipeline
    assert AUTHORS['meta_student_start'] == 'plain classifier stage'
    assert AUTHORS['kd_loss_weight'] == 1  # AdaptConfLoss's default
    assert AUTHORS['ep_per_batch'] % AUTHORS['meta_gpus'] == 0


def test_every_run_of_their_readme_has_a_config():
    """Their classifier stage trains the three ResNets alone and the
    student under each teacher; their meta stage trains the three
    Meta-Baselines and the student under each teacher, classifier or meta."""
    strong, weak = AUTHORS['students_teachers']
    depths = AUTHORS['depths']
    expected = set()
    for net in (strong, ) + weak:
        expected.add(f'resnet{depths[net]}-bottle_4xb32-100e_mini-imagenet')
        expected.add(f'meta-baseline_resnet{depths[net]}-bottle_2xb160-20e_'
                     'mini-imagenet')
    for net in weak:
        expected.add(f'adaptconf_resnet{depths[net]}-bottle_'
                     f'resnet{depths[strong]}-bottle_4xb32-100e_mini-imagenet')
        for kind in ('cls', 'meta'):
            expected.add(f'adaptconf-meta-baseline_resnet{depths[net]}-bottle-'
                         f'{kind}_resnet{depths[strong]}-bottle_2xb160-20e_'
                         'mini-imagenet')
    assert CONFIG_NAMES == expected


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(path, REPO_ROOT) for path in CONFIGS])
def test_config_follows_the_authors_recipe(path):
    cfg = parsed_config(path)
    assert recipe_mismatches(cfg, path) == []


def config_path(name: str) -> str:
    return osp.join(REPO_ROOT, 'configs', 'few_shot', f'{name}.py')


CLASSIFIER = config_path(
    'adaptconf_resnet12-bottle_resnet36-bottle_4xb32-100e_mini-imagenet')
META = config_path('adaptconf-meta-baseline_resnet12-bottle-meta_'
                   'resnet36-bottle_2xb160-20e_mini-imagenet')
DRIFTS: Dict[str, Any] = {
    "the student's own 84 px crops":
    (CLASSIFIER,
     lambda cfg: cfg.train_dataloader.dataset.pipeline[1].update(scale=84)),
    "miniImageNet's own mean":
    (CLASSIFIER, lambda cfg: cfg.model.data_preprocessor.update(
        mean=[120.39586422, 115.59361427, 104.54012653])),
    'a centre crop at test':
    (CLASSIFIER, lambda cfg: cfg.val_dataloader.dataset.pipeline.insert(
        2, dict(type='CenterCrop', crop_size=80))),
    '600 episodes':
    (CLASSIFIER, lambda cfg: cfg.val_evaluator.update(num_episodes=600)),
    'a ResNet-18 student':
    (CLASSIFIER, lambda cfg: cfg.model.architecture.backbone.update(depth=18)),
    'warm-up from epoch 0':
    (CLASSIFIER, lambda cfg: cfg.custom_hooks[1].update(first_epoch=0)),
    'threshold 0.25 in the classifier stage':
    (CLASSIFIER, lambda cfg: cfg.model.distiller.distill_losses.loss_w2s.
     update(threshold=0.25)),
    'lr decay at epoch 60':
    (CLASSIFIER, lambda cfg: cfg.param_scheduler[0].update(milestones=[60])),
    'one episode a batch':
    (META, lambda cfg: cfg.model.architecture.head.update(num_episodes=1)),
    'augmented episodes':
    (META, lambda cfg: cfg.train_dataloader.dataset.pipeline.insert(
        2, dict(type='RandomFlip', prob=0.5, direction='horizontal'))),
    'a learnt teacher temperature':
    (META,
     lambda cfg: cfg.model.teacher.head.update(learnable_temperature=True)),
    'student from its distillation stage':
    (META, lambda cfg: cfg.model.architecture.backbone.init_cfg.update(
        checkpoint='work_dirs/adaptconf_resnet12-bottle_resnet36-bottle_'
        '4xb32-100e_mini-imagenet/epoch_100.pth',
        prefix='architecture.backbone.')),
    'a classifier teacher in the meta-teacher run':
    (META, lambda cfg: cfg.model.teacher.backbone.init_cfg.update(
        checkpoint='work_dirs/resnet12-bottle_4xb32-100e_mini-imagenet/'
        'epoch_100.pth')),
    '600 test episodes':
    (META, lambda cfg: cfg.test_evaluator.update(num_episodes=600)),
    'lr 0.1 in the meta stage':
    (META, lambda cfg: cfg.optim_wrapper.optimizer.update(lr=0.1)),
}


@pytest.mark.parametrize('drift', sorted(DRIFTS))
def test_a_drift_from_the_recipe_fails(drift):
    path, change = DRIFTS[drift]
    cfg = parsed_config(path)
    assert recipe_mismatches(cfg, path) == []
    change(cfg)
    assert recipe_mismatches(cfg, path) != []
