# Copyright (c) mmw2s contributors. All rights reserved.
"""A study config resolved against its data: stages, sizes, keys and the
graph of runs (nothing is trained here)."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch
from conftest import REPO_ROOT, config_on_generated_idx, parsed_config
from idx_helpers import write_fashion_like, write_idx
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES
from mmpretrain.registry import DATASETS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmrazor.registry import MODELS as MMRAZOR_MODELS

from mmw2s.datasets import read_idx
from mmw2s.pipeline import Dispatcher, EvalSpec, Pipeline, PipelineEvents
from mmw2s.pipeline.data import resolve_size, split_cfg, summarize
from mmw2s.pipeline.graph import train_images
from mmw2s.pipeline.jobs import check_init, check_loadable, weights_sha256
from mmw2s.pipeline.plan import resolve_stage, setting_names, settings_key
from mmw2s.pipeline.stages import classifier_cfg, training_cfg

CONFIG = osp.join(REPO_ROOT, 'configs', 'pipeline', 'w2s_fashion-mnist.py')
BACKBONE = osp.join(REPO_ROOT, 'checkpoints', 'mae_vit-p4_fashion-mnist.pth')


@pytest.fixture
def plan(tmp_path):
    """The product's study config, unchanged, on 240 generated training
    images stored sorted by class."""
    return config_on_generated_idx(CONFIG, tmp_path / 'idx')


def _pipeline(plan, work_dir='unused', evaluation=EvalSpec()):
    return Pipeline(plan, str(work_dir), evaluation, PipelineEvents(),
                    Dispatcher())


def _study(plan,
           settings=('transfer', ),
           seeds=(0, ),
           evaluation=EvalSpec(),
           pretrained=BACKBONE):
    pipeline = _pipeline(plan, evaluation=evaluation)
    pipeline.pretrained = pretrained
    return pipeline.plan_study(list(settings), list(seeds))


def _run(study, name='adaptconf', setting='transfer', seed=0):
    return study.runs[study.entries[setting][seed][name].run]


def test_every_stage_of_every_setting_resolves(plan):
    for setting in setting_names(plan, ['all']):
        for name in plan.settings[setting].stages:
            stage = resolve_stage(plan, setting, name)
            assert stage.name == name and stage.model in plan.models


def test_defaults_fit_small_and_large_data(tmp_path):
    """The config's own sizes on 1,000 and 60,000 training images: the
    validation part is 1/12 of the training split, counts larger than the
    data are clamped with a note, and epochs rise to the iteration floor."""
    plan = parsed_config(CONFIG)
    for images in (1000, 60000):
        plan.data.data_root = write_fashion_like(
            str(tmp_path / str(images)),
            num_train=images,
            num_test=50,
            sorted_by_class=True)
        study = _study(plan, settings=['transfer', 'weak_only'])
        assert study.val.count == round(images / 12)
        run = _run(study, 'finetune')
        rest = images - study.val.count
        assert run.stage.samples == min(10000, rest)
        iterations = -(-run.stage.samples // 64) * run.stage.epochs
        assert iterations >= plan.min_iters
        if images == 1000:
            assert run.stage.epochs == 30
            assert f'asked for 10,000 training images; the data has ' \
                f'{rest:,}' in run.notes[0]
        else:
            assert run.stage.epochs == 3 and not run.notes
        assert _run(study, 'ceiling',
                    'weak_only').stage.samples == min(10000, rest - rest // 2)


def test_sizes_are_counts_or_fractions():
    assert resolve_size(None, 90, 'k').count == 90
    assert resolve_size(30, 90, 'k') == (30, 30, 90)
    clamped = resolve_size(300, 90, 'k')
    assert clamped.count == 90 and clamped.clamped
    assert resolve_size(0.5, 90, 'k').count == 45
    assert not resolve_size(0.5, 90, 'k').clamped
    for bad in (0, -3, 1.5, '10', True):
        with pytest.raises(
                ValueError, match=f'k is {bad!r}; expected a '
                'count'):
            resolve_size(bad, 90, 'k')


def test_a_validation_part_that_leaves_nothing_is_refused(plan):
    plan.data.val_size = 240
    with pytest.raises(
            ValueError,
            match='data.val_size is 240: 240 of the '
            '240 training images, leaving fewer than 2'):
        _study(plan)


def test_keys_follow_the_data_content_not_its_path(plan, tmp_path):
    key = _run(_study(plan)).key
    moved = str(tmp_path / 'moved')
    shutil.copytree(plan.data.data_root, moved)
    plan.data.data_root = moved
    assert _run(_study(plan)).key == key
    write_fashion_like(moved, seed=1)
    assert _run(_study(plan)).key != key


def test_the_data_is_identified_by_the_file_the_dataset_reads(plan):
    """With X and X.gz side by side the dataset reads X: the key and the
    sizes follow X, and changing X.gz changes nothing."""
    root = plan.data.data_root
    gzipped = osp.join(root, 'train-images-idx3-ubyte.gz')
    images = read_idx(gzipped)
    write_idx(osp.join(root, 'train-images-idx3-ubyte'), images[:, ::-1])
    write_idx(
        osp.join(root, 'train-labels-idx1-ubyte'),
        read_idx(osp.join(root, 'train-labels-idx1-ubyte.gz')))
    summary = summarize(split_cfg(plan, 'train', []))
    key = _run(_study(plan)).key
    write_idx(gzipped, images[:120])
    after = summarize(split_cfg(plan, 'train', []))
    assert (after.size, after.images_sha256,
            after.labels_sha256) == (240, summary.images_sha256,
                                     summary.labels_sha256)
    assert _run(_study(plan)).key == key
    write_idx(osp.join(root, 'train-images-idx3-ubyte'), images)
    assert _run(_study(plan)).key != key


def test_keys_follow_the_settings_seed_and_evaluation(plan):
    study = _study(plan)
    run = _run(study)
    key, [test_key] = run.key, list(run.tests)
    assert _run(_study(plan, seeds=[1]), seed=1).key != key
    # another evaluation tests the same training
    for evaluation in (EvalSpec('val'), EvalSpec('test', 50)):
        other = _run(_study(plan, evaluation=evaluation))
        assert other.key == key and list(other.tests) != [test_key]
    plan.settings.transfer.stages.adaptconf.loss.threshold = 7.0
    assert _run(_study(plan)).key != key


def test_identical_stages_train_once(plan):
    study = _study(plan, settings=['transfer', 'kd'])
    assert study.entries['transfer'][0]['weak'].run == \
        study.entries['kd'][0]['weak'].run
    assert _run(study, 'weak').used_by == ['transfer/weak', 'kd/weak']
    runs = sum(len(plan.settings[s].stages) for s in ('transfer', 'kd'))
    assert len(study.runs) == runs - 1


def test_a_students_key_follows_its_backbone_bytes(plan, tmp_path):
    """Two backbones pre-trained with the same settings but of other bytes
    give other keys (the key holds the file's SHA-256)."""
    key = _run(_study(plan)).key
    other = str(tmp_path / 'other.pth')
    state = torch.load(BACKBONE, weights_only=True)
    state['state_dict']['backbone.cls_token'] += 1
    torch.save(state, other)
    assert _run(_study(plan, pretrained=other)).key != key
    assert _run(_study(plan, pretrained=other),
                'weak').key == _run(_study(plan), 'weak').key


def test_a_stage_replaces_default_fields_whole(plan):
    plan.settings.transfer.defaults.loss = dict(type='LogConfLoss', alpha=0.75)
    plan.settings.transfer.stages.augconf.loss = dict(
        type='AugConfLoss', tau=1.0)
    assert resolve_stage(plan, 'transfer', 'augconf').loss == dict(
        type='AugConfLoss', tau=1.0)
    plan.settings.transfer.defaults.loss = dict(
        type='AdaptConfLoss', threshold=4.0)
    plan.settings.transfer.stages.kd.loss = dict(type='KLDivergence')
    assert resolve_stage(plan, 'transfer',
                         'kd').loss == dict(type='KLDivergence')


def test_a_stage_of_some_classes_is_tested_on_them(plan):
    plan.settings.transfer.stages.weak.classes = [0, 1]
    with pytest.raises(
            ValueError,
            match=r'transfer.stages.weak.classes is '
            r'\[0, 1\] .*test.classes is None; expected the same'):
        resolve_stage(plan, 'transfer', 'weak')
    plan.settings.transfer.stages.weak.test = dict(classes=[0, 1])
    assert resolve_stage(plan, 'transfer', 'weak').classes == [0, 1]


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
    with pytest.raises(
            ValueError,
            match=r'few_shot.stages.kd.classes is '
            r'\[1, 3\], but its teacher .weak. learns classes '
            r'\[0, 2, 4, 6, 8\]'):
        resolve_stage(plan, 'few_shot', 'kd')
    plan.settings.few_shot.stages.alone.test = dict(episodes=5)
    with pytest.raises(
            KeyError, match=r"alone.test has unknown fields "
            r"\['episodes'\]"):
        resolve_stage(plan, 'few_shot', 'alone')
    plan.settings.transfer.stages.finetune.init = 'mae.pth'
    with pytest.raises(ValueError, match="finetune.init is 'mae.pth'"):
        resolve_stage(plan, 'transfer', 'finetune')


def test_weights_that_do_not_load_are_refused(plan):
    """The committed backbone loads into the ViT (outside the norms MAE's
    fine-tuning replaces), not into LeNet-5, nor under another prefix."""
    vit = MMPRETRAIN_MODELS.build(plan.models.strong.model)
    check_loadable(vit.backbone, BACKBONE, 'backbone.', plan.pretrain.ignore)
    with pytest.raises(
            ValueError,
            match=r'2 missing .*ln2.weight.*2 '
            r'unexpected .*ln1.weight'):
        check_loadable(vit.backbone, BACKBONE, 'backbone.')
    lenet = MMPRETRAIN_MODELS.build(plan.models.weak.model)
    with pytest.raises(ValueError, match='does not load into the LeNet5'):
        check_loadable(lenet.backbone, BACKBONE, 'backbone.',
                       plan.pretrain.ignore)
    with pytest.raises(ValueError, match="prefix 'head.'"):
        check_loadable(vit.backbone, BACKBONE, 'head.', plan.pretrain.ignore)


def _labels_of(dataset):
    return [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]


def test_every_stage_builds_its_model_and_data(plan, tmp_path):
    """Each run's config builds: model (with init_weights, so the
    pre-trained backbone and the teacher checkpoint load), training and test
    datasets, with the stage's classes and test evaluator."""
    DefaultScope.get_instance('test_pipeline_stages', scope_name='mmpretrain')
    study = _study(
        plan,
        settings=setting_names(plan, ['all']),
        evaluation=EvalSpec('test', 30))
    whole_test = _labels_of(
        DATASETS.build(
            dict(
                type='SeededSplitDataset',
                dataset=split_cfg(plan, 'test', []),
                max_samples=30)))
    built_few_shot = False
    for run in study.runs.values():
        stage = run.stage
        teacher = study.runs[run.teacher] if run.teacher else None
        teacher_ckpt = None
        if teacher:
            teacher_ckpt = str(tmp_path / f'{teacher.key}.pth')
            torch.save(
                dict(
                    state_dict=MMPRETRAIN_MODELS.build(
                        classifier_cfg(plan, teacher.stage)).state_dict()),
                teacher_ckpt)
        cfg = training_cfg(
            plan,
            stage,
            0,
            str(tmp_path / run.directory),
            run.val_samples,
            pretrained=BACKBONE,
            teacher_ckpt=teacher_ckpt,
            teacher_stage=run.teacher_stage)
        [test] = [test['parts'] for test in run.tests.values()]
        model = MMRAZOR_MODELS.build(cfg.model)
        model.init_weights()
        if teacher:
            assert type(model).__name__ == 'WeakToStrongDistill'
            assert model.calculate_student_loss == stage.get(
                'ground_truth', True)
        train_set = DATASETS.build(cfg.train_dataloader.dataset)
        test_set = DATASETS.build(test['test_dataloader']['dataset'])
        assert train_set[0]['inputs'].shape[-2:] == (32, 32)
        classes = stage.get('classes')
        tested = stage.get('test', {}).get('classes')
        assert len(train_set) == train_images(stage, study.train.labels,
                                              run.seed, run.val_samples)
        assert len(test_set) == sum(tested is None or label in tested
                                    for label in whole_test)
        student = model.student if teacher else model
        if classes:
            assert set(_labels_of(train_set)) == set(range(len(classes)))
            outputs = student(torch.zeros(2, 1, 32, 32), mode='tensor')
            assert outputs.shape == (2, len(classes))
        if tested:
            built_few_shot = True
            assert test_set.metainfo['classes'] == tuple(
                FASHIONMNIST_CATEGORITES[c] for c in tested)
            assert test['test_evaluator'].type == 'FewShotAccuracy'
            assert type(student).__name__ == 'FewShotClassifier'
    assert built_few_shot


def test_pretraining_key_ignores_labels_and_validation_part(plan, tmp_path):
    pipeline = _pipeline(plan)
    key = settings_key(pipeline.pretrain_settings())
    plan.data.val_size = 0.25
    os.remove(osp.join(plan.data.data_root, 'train-labels-idx1-ubyte.gz'))
    assert settings_key(_pipeline(plan).pretrain_settings()) == key
    plan.pretrain.epochs += 1
    assert settings_key(_pipeline(plan).pretrain_settings()) != key


def test_the_committed_backbone_matches_its_record_format(tmp_path):
    """The committed record's settings are in the form the pipeline
    compares (Fashion-MNIST itself is not here: the recipe only)."""
    plan = parsed_config(CONFIG)
    record = json.load(open(osp.splitext(BACKBONE)[0] + '.json'))
    plan.data.data_root = write_fashion_like(str(tmp_path / 'idx'))
    settings = _pipeline(plan).pretrain_settings()
    assert record['settings']['recipe'] == settings['recipe']
    assert record['settings']['dataset'] == settings['dataset']


def test_the_cifar_study_builds_its_datasets():
    """The CIFAR-10 study config resolves to mmpretrain's CIFAR10 for each
    split (built lazily: there are no CIFAR files here)."""
    plan = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'pipeline', 'w2s_cifar10.py'))
    for split, expected in (('train', 'train'), ('test', 'test'),
                            ('unlabelled', 'train')):
        dataset = DATASETS.build(
            dict(split_cfg(plan, split, plan.test_pipeline), lazy_init=True))
        assert type(dataset).__name__ == 'CIFAR10'
        assert dataset.split == expected and not dataset.download


def test_a_run_starting_from_weights_it_cannot_load_stops(plan):
    """``init='pretrain'`` on LeNet-5: the run's check refuses the ViT
    backbone before any training (mmengine alone would only log it)."""
    plan.settings.transfer.stages.weak.init = 'pretrain'
    pipeline = _pipeline(plan)
    pipeline.pretrained = BACKBONE
    study = pipeline.plan_study(['transfer'], [0])
    run = _run(study, 'weak')
    init = pipeline.init_spec(run)
    assert init == dict(
        target='backbone',
        checkpoint=BACKBONE,
        prefix='backbone.',
        ignore=('ln1.', 'ln2.'))
    model = MMPRETRAIN_MODELS.build(classifier_cfg(plan, run.stage))
    with pytest.raises(ValueError, match='does not load into the LeNet5'):
        check_init(model, init)
    check_init(
        MMPRETRAIN_MODELS.build(
            classifier_cfg(plan,
                           _run(study, 'finetune').stage)),
        pipeline.init_spec(_run(study, 'finetune')))


def test_a_run_saved_under_another_stages_name_is_found(plan, tmp_path):
    """A run is named after the first stage that uses it; a study whose
    stage of the same run has another name finds it by its key."""
    pipeline = _pipeline(plan, work_dir=tmp_path)
    pipeline.pretrained = BACKBONE
    run = _run(pipeline.plan_study(['transfer'], [0]), 'finetune')
    assert run.directory == osp.join('seed_0', f'finetune-{run.key[:10]}')
    renamed = osp.join('seed_0', f'finetune_short-{run.key[:10]}')
    os.makedirs(osp.join(tmp_path, renamed))
    # a directory of that name, its training not finished, is not it
    assert pipeline.plan_study(['transfer'],
                               [0]).runs[run.key].directory == run.directory
    with open(osp.join(tmp_path, renamed, 'train.json'), 'w') as file:
        json.dump(dict(key=run.key), file)
    # nor is its own directory when it holds nothing finished
    os.makedirs(osp.join(tmp_path, run.directory))
    study = pipeline.plan_study(['transfer'], [0])
    assert study.runs[run.key].directory == renamed
    assert _run(study, 'adaptconf').directory.startswith(
        osp.join('seed_0', 'adaptconf-'))


def _save_training(work_dir, run, **record):
    """A training record of ``run`` as its job writes it, and its
    checkpoint file."""
    directory = osp.join(work_dir, run.directory)
    os.makedirs(directory, exist_ok=True)
    torch.save(dict(state_dict=dict(weight=torch.ones(2))),
               osp.join(directory, 'epoch_1.pth'))
    with open(osp.join(directory, 'train.json'), 'w') as file:
        json.dump(dict(key=run.key, checkpoint='epoch_1.pth', **record), file)
    return osp.join(directory, 'epoch_1.pth')


def test_a_student_is_saved_only_with_its_teachers_checkpoint(plan, tmp_path):
    """A student's training counts as saved only while its teacher's saved
    checkpoint has the SHA-256 the student recorded; the dry run says why
    one with another (or none recorded) trains again."""
    pipeline = _pipeline(plan, work_dir=tmp_path)
    study = pipeline.plan_study(['kd'], [0])
    teacher, student = _run(study, 'weak', 'kd'), _run(study, 'kd', 'kd')
    checkpoint = _save_training(tmp_path, teacher)

    def state_and_notes():
        lines = pipeline.describe(['kd'], [0])
        [line] = [
            i for i, text in enumerate(lines)
            if text.startswith(student.directory + ':')
        ]
        block = lines[line + 1:]
        block = block[:next((i for i, text in enumerate(block)
                             if not text.startswith('  ')), len(block))]
        return lines[line].rsplit('; ', 1)[1], [
            note for note in block if note[2:] not in student.notes
        ]

    _save_training(tmp_path, student)
    assert state_and_notes() == ('to train', [
        "  saved by an earlier version, which did not record its teacher's "
        'weights: it trains again'
    ])
    _save_training(tmp_path, student, teacher_sha256='0' * 64)
    assert state_and_notes() == ('to train', [
        '  saved from other weights of its teacher than the ones saved now: '
        'it trains again'
    ])
    _save_training(
        tmp_path, student, teacher_sha256=weights_sha256(checkpoint))
    assert state_and_notes() == ('trained, to test', [])
    os.remove(osp.join(tmp_path, teacher.directory, 'train.json'))
    assert state_and_notes() == ('to train', [
        '  saved, but its teacher trains first: it trains again unless the '
        "teacher's new weights are the ones it was trained from"
    ])
