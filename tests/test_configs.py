# Copyright (c) mmw2s contributors. All rights reserved.
"""Every training config under configs/ loads, builds its model without
weights, and takes two training steps with its own optimizer settings on
generated data of its input size."""
import glob
import os.path as osp
import re

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import mmw2s  # noqa: F401

TRAINING_CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path and osp.sep + 'pipeline' +
    osp.sep not in path and not osp.basename(path).startswith('_'))


def test_configs_are_found():
    assert len(TRAINING_CONFIGS) > 30


def input_size(path: str) -> int:
    if path.endswith('_in1k.py'):
        return 224
    return 84 if path.endswith('_mini-imagenet.py') else 32


def shrink_episodes(cfg: dict) -> int:
    """Make the episodes of EpisodeCentroidHeads in ``cfg`` small (one
    query a class); returns the images per episode, or 2 without one."""
    images = 2
    for value in list(cfg.values()):
        if isinstance(value, dict):
            if value.get('type') == 'EpisodeCentroidHead':
                value['num_queries'] = 1
                images = value['num_ways'] * (value['num_shots'] + 1)
            else:
                images = max(images, shrink_episodes(value))
    return images


def generated_batch(num_classes: int, size: int, num: int = 2) -> dict:
    samples = [DataSample().set_gt_label(i % num_classes) for i in range(num)]
    inputs = [
        torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
        for _ in samples
    ]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize(
    'path',
    TRAINING_CONFIGS,
    ids=[osp.relpath(p, REPO_ROOT) for p in TRAINING_CONFIGS])
def test_config_builds_and_trains_two_iterations(path):
    cfg = Config.fromfile(path)
    assert 'mmcls::' not in cfg.pretty_text
    model_cfg = cfg.model
    if model_cfg.get('type') == 'WeakToStrongDistill':
        # the distill loss terms are logged as window averages, as the loss
        assert re.fullmatch(cfg.log_processor.mean_pattern,
                            'distill.w2s_kd_term')
    if model_cfg.pop('teacher_ckpt', None):
        # the teacher's checkpoint is not here: build with a random teacher
        model_cfg.allow_random_teacher = True
    batch_size = shrink_episodes(model_cfg)
    if 'data_preprocessor' not in model_cfg:  # as the Runner fills it in
        model_cfg.data_preprocessor = cfg.data_preprocessor
    optim_wrapper_cfg = cfg.optim_wrapper
    if optim_wrapper_cfg.get('type') == 'AmpOptimWrapper':
        # mmengine refuses AmpOptimWrapper without an accelerator
        optim_wrapper_cfg.update(type='OptimWrapper')
        optim_wrapper_cfg.pop('loss_scale', None)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(model_cfg)
        optim_wrapper = build_optim_wrapper(model, optim_wrapper_cfg)
    num_classes = model_cfg.data_preprocessor.num_classes
    trainable = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in trainable]
    model.train()
    for _ in range(2):
        log_vars = model.train_step(
            generated_batch(num_classes, input_size(path), batch_size),
            optim_wrapper)
        assert torch.isfinite(log_vars['loss'])
    assert any(not torch.equal(p, b) for p, b in zip(trainable, before))


def test_model_index_lists_every_config():
    import yaml
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as file:
        metafiles = yaml.safe_load(file)['Import']
    listed = set()
    for metafile in metafiles:
        with open(osp.join(REPO_ROOT, metafile)) as file:
            content = yaml.safe_load(file)
        collections = {c['Name'] for c in content['Collections']}
        for model in content['Models']:
            assert model['In Collection'] in collections
            assert osp.isfile(osp.join(REPO_ROOT, model['Config']))
            listed.add(osp.join(REPO_ROOT, model['Config']))
        readme = content['Collections'][0]['README']
        assert osp.isfile(osp.join(REPO_ROOT, readme))
    assert listed == set(TRAINING_CONFIGS)


def test_meta_stage_student_loads_its_classifier_stage_backbone(tmp_path):
    """The Meta-Baseline student starts from the student of the AdaptConf
    classifier stage: its backbone is under `architecture.backbone.` of
    that distillation checkpoint (init_weights loads it)."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'few_shot',
                 'adaptconf-meta-baseline_resnet12_resnet18_1xb80-20e_'
                 'mini-imagenet.py'))
    model_cfg = cfg.model
    model_cfg.pop('teacher_ckpt')
    model_cfg.allow_random_teacher = True
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        source = MODELS.build(model_cfg.architecture)
    checkpoint = str(tmp_path / 'classifier_stage.pth')
    torch.save(
        dict(
            state_dict={
                f'architecture.{key}': value
                for key, value in source.state_dict().items()
            }), checkpoint)
    model_cfg.architecture.backbone.init_cfg.checkpoint = checkpoint
    model_cfg.teacher.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
        model.init_weights()
    for key, value in source.backbone.state_dict().items():
        torch.testing.assert_close(model.student.backbone.state_dict()[key],
                                   value)
