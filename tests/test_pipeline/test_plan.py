# Copyright (c) mmw2s contributors. All rights reserved.
"""Stage keys and checks of the pipeline config."""
import os.path as osp
import shutil

import pytest
import torch
from conftest import REPO_ROOT
from idx_helpers import write_fashion_like
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES
from mmpretrain.registry import DATASETS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmrazor.registry import MODELS as MMRAZOR_MODELS

from mmw2s.pipeline.plan import (EvalSpec, data_fingerprint, part_size,
                                 pretrain_settings, resolve_stage,
                                 setting_names, settings_key, stage_settings)
from mmw2s.pipeline.stages import classifier_cfg, dataset_cfg, training_cfg

CONFIG = osp.join(REPO_ROOT, 'configs', 'pipeline', 'w2s_fashion-mnist.py')


@pytest.fixture
def plan(tmp_path):
    plan = Config.fromfile(CONFIG)
    plan.data.data_root = write_fashion_like(str(tmp_path / 'idx'))
    plan.data.val_samples = 40
    return plan


def _key(plan,
         setting='transfer',
         name='adaptconf',
         seed=0,
         evaluation=EvalSpec()):
    stage = resolve_stage(plan, setting, name)
    return settings_key(
        stage_settings(plan, stage, seed, evaluation, data_fingerprint(plan),
                       dict(teacher='t')))


def test_every_stage_of_every_setting_resolves(plan):
    for setting in setting_names(plan, ['all']):
        for name in plan.settings[setting].stages:
            stage = resolve_stage(plan, setting, name)
            assert stage.name == name and stage.model in plan.models


def test_keys_follow_the_settings_not_the_path(plan, tmp_path):
    key = _key(plan)
    moved = str(tmp_path / 'moved')
    shutil.copytree(plan.data.data_root, moved)
    plan.data.data_root = moved
    assert _key(plan) == key
    assert _key(plan, seed=1) != key
    assert _key(plan, evaluation=EvalSpec('val')) != key
    assert _key(plan, evaluation=EvalSpec('test', 50)) != key
    plan.settings.transfer.stages.adaptconf.loss.threshold = 7.0
    changed = _key(plan)
    assert changed != key
    plan.settings.transfer.defaults.epochs = 7
    assert _key(plan) not in (key, changed)


def test_keys_follow_the_data_content(plan):
    key = _key(plan)
    write_fashion_like(plan.data.data_root, seed=1)
    assert _key(plan) != key


def test_pretraining_key_ignores_labels_and_validation_part(plan):
    key = settings_key(pretrain_settings(plan, data_fingerprint(plan)))
    plan.data.val_samples = 80
    write_fashion_like(plan.data.data_root + '_other', seed=0)
    shutil.copy(
        osp.join(plan.data.data_root + '_other', 't10k-labels-idx1-ubyte.gz'),
        osp.join(plan.data.data_root, 'train-labels-idx1-ubyte.gz'))
    assert settings_key(pretrain_settings(plan, data_fingerprint(plan))) == key
    plan.pretrain.epochs += 1
    assert settings_key(pretrain_settings(plan, data_fingerprint(plan))) != key


def test_sizes_come_from_the_idx_headers(plan):
    assert part_size(plan, None) == 240
    assert part_size(plan, None, 'test') == 120
    assert part_size(plan, 'val') == 40
    assert part_size(plan, 'train') == 200
    assert part_size(plan, 'A') + part_size(plan, 'B') == 200
    assert part_size(plan, 'train', samples=10000) == 200


def test_bad_stages_are_refused_with_their_key(plan):
    plan.settings.transfer.stages.kd.teacher = 'adaptconf'
    with pytest.raises(KeyError, match='transfer.stages.kd.teacher'):
        resolve_stage(plan, 'transfer', 'kd')
    plan.settings.transfer.stages.kd.teacher = 'weak'
    plan.settings.transfer.stages.kd.model = 'vgg'
    with pytest.raises(KeyError, match="kd.model is 'vgg'"):
        resolve_stage(plan, 'transfer', 'kd')
    with pytest.raises(ValueError, match="unknown settings \\['cifar'\\]"):
        setting_names(plan, ['cifar'])
    plan.settings.few_shot.stages.kd.classes = [1, 3]
    with pytest.raises(ValueError, match=r'few_shot.stages.kd.classes is '
                       r'\[1, 3\], but its teacher .weak. learns classes '
                       r'\[0, 2, 4, 6, 8\]'):
        resolve_stage(plan, 'few_shot', 'kd')
    plan.settings.few_shot.stages.alone.test = dict(episodes=5)
    with pytest.raises(KeyError, match=r"alone.test has unknown fields "
                       r"\['episodes'\]"):
        resolve_stage(plan, 'few_shot', 'alone')


def _labels_of(dataset):
    return [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]


def test_every_stage_builds_its_model_and_data(plan, tmp_path):
    """Each stage's runner config builds: model (with init_weights, so the
    pre-trained backbone and the teacher checkpoint load), training and test
    datasets, with the stage's classes and test evaluator."""
    DefaultScope.get_instance('test_pipeline_stages', scope_name='mmpretrain')
    pretrained = str(tmp_path / 'pretrained.pth')
    torch.save(
        dict(
            state_dict=MMPRETRAIN_MODELS.build(
                plan.models[plan.pretrain.student].model).state_dict()),
        pretrained)
    whole_train = _labels_of(
        DATASETS.build(dataset_cfg(plan, 'train', 'train', 0, [])))
    whole_test = _labels_of(
        DATASETS.build(dataset_cfg(plan, None, 'test', 0, [], 30)))
    built_few_shot = False
    for setting in setting_names(plan, ['all']):
        for name in plan.settings[setting].stages:
            stage = resolve_stage(plan, setting, name)
            teacher = resolve_stage(plan, setting, stage.teacher) \
                if stage.get('teacher') else None
            teacher_ckpt = None
            if teacher:
                teacher_ckpt = str(tmp_path / f'{setting}_{teacher.name}.pth')
                torch.save(
                    dict(
                        state_dict=MMPRETRAIN_MODELS.build(
                            classifier_cfg(plan, teacher)).state_dict()),
                    teacher_ckpt)
            cfg = training_cfg(
                plan,
                stage,
                0,
                str(tmp_path / setting / name),
                EvalSpec('test', 30),
                pretrained=pretrained,
                teacher_ckpt=teacher_ckpt,
                teacher_stage=teacher)
            model = MMRAZOR_MODELS.build(cfg.model)
            model.init_weights()
            if teacher:
                assert type(model).__name__ == 'WeakToStrongDistill'
                assert model.calculate_student_loss == stage.get(
                    'ground_truth', True)
            train_set = DATASETS.build(cfg.train_dataloader.dataset)
            test_set = DATASETS.build(cfg.test_dataloader.dataset)
            assert train_set[0]['inputs'].shape[-2:] == (32, 32)
            classes = stage.get('classes')
            tested = stage.get('test', {}).get('classes')
            if stage.train == 'train':
                assert len(train_set) == sum(
                    classes is None or label in classes
                    for label in whole_train)
            else:
                assert len(train_set) == part_size(plan, stage.train)
            assert len(test_set) == sum(tested is None or label in tested
                                        for label in whole_test)
            student = model.student if teacher else model
            if classes:
                assert set(_labels_of(train_set)) == set(range(len(classes)))
                # the classifier's last layer has one output per class
                outputs = student(torch.zeros(2, 1, 32, 32), mode='tensor')
                assert outputs.shape == (2, len(classes))
            if tested:
                built_few_shot = True
                assert test_set.metainfo['classes'] == tuple(
                    FASHIONMNIST_CATEGORITES[c] for c in tested)
                assert cfg.test_evaluator.type == 'FewShotAccuracy'
                assert type(student).__name__ == 'FewShotClassifier'
    assert built_few_shot
