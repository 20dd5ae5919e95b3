# Copyright (c) mmw2s contributors. All rights reserved.
"""Weak-to-strong runs through the tools: training, warm-up with resume,
student export, offline weak logits."""
import os.path as osp
import re
from typing import List, Optional

import pytest
import torch
from conftest import REPO_ROOT, TEST_CONFIGS, python_tool, run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS

import mmw2s  # noqa: F401
from mmw2s.apis import student_checkpoint, student_config
from mmw2s.datasets import WeakLabelDataset
from mmw2s.utils import load_checkpoint_safely

CNN_TO_VIT = osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit.py')
VIT_TO_CNN = osp.join(TEST_CONFIGS, 'w2s_tiny_vit_to_cnn_augconf.py')
WEAK_CNN = osp.join(TEST_CONFIGS, 'weak_tiny_cnn.py')
OFFLINE = osp.join(TEST_CONFIGS, 'w2s_tiny_offline.py')
CIFAR_RESNET18 = 'mmpretrain::resnet/resnet18_8xb16_cifar10.py'


def data_root_options(image_root: str,
                      splits=('train', 'val', 'test')) -> list:
    return [
        f'{split}_dataloader.dataset.data_root={image_root}'
        for split in splits
    ]


def train(config: str,
          work_dir: str,
          image_root: str,
          *extra: str,
          options: Optional[List[str]] = None) -> str:
    """Run tools/train.py; ``options`` default to the data roots."""
    if options is None:
        options = data_root_options(image_root)
    result = run_tool(
        python_tool('train.py') + [config, '--work-dir', work_dir] +
        list(extra) + ['--cfg-options'] + options,
        cwd=REPO_ROOT)
    return result.stdout + result.stderr


def logged(log: str, key: str, epoch: int) -> list:
    """Values of ``key`` on the training log lines of ``epoch``."""
    lines = re.findall(rf'Epoch\(train\) +\[{epoch}\]\[.*', log)
    return [
        float(value) for line in lines
        for value in re.findall(rf'{re.escape(key)}: ([-\d.]+)', line)
    ]


def assert_exported_student_matches(algorithm: torch.nn.Module,
                                    student_cfg: str,
                                    student_ckpt: str,
                                    inputs: torch.Tensor) -> None:
    """Build the exported student with mmpretrain's registry alone, load its
    checkpoint strictly and compare its logits on ``inputs`` with those of
    the student inside ``algorithm``."""
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        student = PRETRAIN_MODELS.build(Config.fromfile(student_cfg).model)
    student.load_state_dict(
        load_checkpoint_safely(student_ckpt)['state_dict'], strict=True)
    algorithm.eval()
    student.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            student(inputs, mode='tensor'),
            algorithm.student(inputs, mode='tensor'))


@pytest.fixture(scope='module')
def cnn_to_vit_run(tmp_path_factory, image_root):
    work_dir = str(tmp_path_factory.mktemp('cnn_to_vit'))
    return work_dir, train(CNN_TO_VIT, work_dir, image_root)


def test_cnn_teacher_vit_student_trains_and_reports(cnn_to_vit_run):
    work_dir, log = cnn_to_vit_run
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    betas = logged(log, 'distill.w2s_beta', 2)
    assert betas and all(0 <= beta <= 0.5 for beta in betas)
    assert logged(log, 'distill.agreement', 2)
    # the logged terms add up to the logged loss (both window averages)
    kd_terms = logged(log, 'distill.w2s_kd_term', 2)
    ce_terms = logged(log, 'distill.w2s_ce_term', 2)
    losses = logged(log, 'distill.loss_w2s', 2)
    assert len(kd_terms) == len(ce_terms) == len(losses) > 1
    for kd_term, ce_term, loss in zip(kd_terms, ce_terms, losses):
        assert kd_term + ce_term == pytest.approx(loss, abs=2e-4)
    assert logged(log, 'teacher_acc', 1)
    val = re.findall(
        r'Epoch\(val\) \[2\].*accuracy/top1: ([\d.]+)\s+'
        r'teacher.accuracy/top1: ([\d.]+)\s+pgr: ([-\d.]+)', log)
    assert val, 'validation must report student, teacher and PGR'
    student, teacher, pgr = map(float, val[-1])
    assert pgr == pytest.approx(
        (student - teacher) / (90.0 - teacher), abs=1e-3)


def test_vit_teacher_cnn_student_follows_the_epoch_warmup_and_resumes(
        tmp_path, image_root):
    work_dir = str(tmp_path / 'vit_to_cnn')
    log = train(VIT_TO_CNN, work_dir, image_root)
    # alpha = 0.5 * epoch / (0.5 * 4) for epochs 0, 1; then 0.5
    expected = {1: 0.0, 2: 0.25, 3: 0.5, 4: 0.5}
    for epoch, alpha in expected.items():
        assert set(logged(log, 'distill.w2s_alpha', epoch)) == {alpha}

    resumed_dir = str(tmp_path / 'resumed')
    resumed_log = train(VIT_TO_CNN, resumed_dir, image_root, '--resume',
                        osp.join(work_dir, 'epoch_1.pth'))
    assert not logged(resumed_log, 'distill.w2s_alpha', 1)
    for epoch in (2, 3, 4):
        assert set(logged(resumed_log, 'distill.w2s_alpha',
                          epoch)) == {expected[epoch]}
    # the resumed run ends with the weights of the uninterrupted one
    uninterrupted = load_checkpoint_safely(osp.join(work_dir, 'epoch_4.pth'))
    resumed = load_checkpoint_safely(osp.join(resumed_dir, 'epoch_4.pth'))
    for name, value in uninterrupted['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][name], value)


def test_exported_student_matches_and_loads_in_mmpretrain(
        cnn_to_vit_run, tmp_path, image_root):
    work_dir, log = cnn_to_vit_run
    checkpoint = osp.join(work_dir, 'epoch_2.pth')
    student_ckpt = str(tmp_path / 'student.pth')
    student_cfg = str(tmp_path / 'student_config.py')
    run_tool(
        python_tool('model_converters/w2s_to_student.py') + [
            checkpoint, student_ckpt, '--config', CNN_TO_VIT, '--out-config',
            student_cfg
        ],
        cwd=REPO_ROOT)

    cfg = Config.fromfile(CNN_TO_VIT)
    algorithm = MODELS.build(cfg.model)
    algorithm.load_state_dict(load_checkpoint_safely(checkpoint)['state_dict'])
    assert_exported_student_matches(algorithm, student_cfg, student_ckpt,
                                    torch.randn(3, 3, 16, 16))

    from mmpretrain.apis import ImageClassificationInferencer
    inferencer = ImageClassificationInferencer(
        model=student_cfg, pretrained=student_ckpt, device='cpu')
    image = osp.join(image_root, 'val', 'class_0', '0.png')
    prediction = inferencer(image)[0]
    assert 0 <= prediction['pred_label'] < 4

    result = run_tool(
        python_tool('test.py') + [
            student_cfg, student_ckpt, '--work-dir',
            str(tmp_path / 'test'), '--cfg-options'
        ] + data_root_options(image_root, ('val', 'test')),
        cwd=REPO_ROOT)
    tested = re.findall(r'Epoch\(test\).*accuracy/top1: ([\d.]+)',
                        result.stdout + result.stderr)
    validated = re.findall(
        r'Epoch\(val\) \[2\]\[\d+/\d+\]\s+accuracy/top1: ([\d.]+)', log)
    assert tested and validated
    assert float(tested[-1]) == float(validated[-1])


def test_student_named_by_cfg_path_exports_to_plain_mmpretrain(tmp_path):
    cfg = Config.fromfile(CNN_TO_VIT)
    cfg.model.architecture = dict(cfg_path=CIFAR_RESNET18, pretrained=False)
    cfg.model.teacher.head.num_classes = 10
    algorithm = MODELS.build(cfg.model)
    student_ckpt = str(tmp_path / 'student.pth')
    student_cfg = str(tmp_path / 'student_config.py')
    torch.save(
        student_checkpoint(dict(state_dict=algorithm.state_dict())),
        student_ckpt)
    student_config(cfg).dump(student_cfg)
    assert_exported_student_matches(algorithm, student_cfg, student_ckpt,
                                    torch.randn(2, 3, 32, 32))


def test_student_config_names_a_cfg_path_it_cannot_resolve():
    cfg = Config(
        dict(
            model=dict(
                architecture=dict(
                    cfg_path='mmpretrain::resnet/no_such_config.py'))))
    with pytest.raises(
            ValueError,
            match=r'model\.architecture\.cfg_path='
            r"'mmpretrain::resnet/no_such_config\.py'"):
        student_config(cfg)


def test_offline_weak_logits_train_a_student(cnn_to_vit_run, tmp_path,
                                             image_root):
    work_dir, _ = cnn_to_vit_run
    logits_file = str(tmp_path / 'weak_logits.pth')
    run_tool(
        python_tool('dump_weak_logits.py') + [
            WEAK_CNN,
            osp.join(work_dir, 'epoch_2.pth'), '--ckpt-prefix', 'teacher.',
            '--out', logits_file, '--cfg-options'
        ] + data_root_options(image_root),
        cwd=REPO_ROOT)

    cfg = Config.fromfile(CNN_TO_VIT)
    algorithm = MODELS.build(cfg.model)
    algorithm.load_state_dict(
        load_checkpoint_safely(osp.join(work_dir,
                                        'epoch_2.pth'))['state_dict'])
    offline_cfg = Config.fromfile(OFFLINE)
    dataset_cfg = offline_cfg.train_dataloader.dataset
    dataset_cfg.weak_logits_file = logits_file
    dataset_cfg.dataset.data_root = image_root
    dataset = WeakLabelDataset(
        dataset=dataset_cfg.dataset, weak_logits_file=logits_file)
    sample = dataset[5]
    data = algorithm.data_preprocessor(
        dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]),
        False)
    with torch.no_grad():
        teacher_logits = algorithm.teacher(data['inputs'], mode='tensor')
    torch.testing.assert_close(sample['data_samples'].weak_logits,
                               teacher_logits[0])

    log = train(
        OFFLINE,
        str(tmp_path / 'offline'),
        image_root,
        options=data_root_options(image_root, ('val', 'test')) + [
            f'train_dataloader.dataset.weak_logits_file={logits_file}',
            f'train_dataloader.dataset.dataset.data_root={image_root}',
            'train_cfg.max_epochs=2'
        ])
    assert logged(log, 'distill.loss_w2s', 1)
    assert not logged(log, 'student.loss', 1)
    assert re.search(r'Epoch\(val\) \[1\].*pgr: [-\d.]+', log)
    assert 'teacher.accuracy' not in log
