# Copyright (c) mmw2s contributors. All rights reserved.
"""tools/train.py, tools/test.py and tools/dist_train.sh on a tiny mmrazor
KD run (SingleTeacherDistill + KLDivergence) with generated images."""
import os.path as osp
import re
import subprocess

import mmengine
import pytest
import torch
from conftest import REPO_ROOT, TEST_CONFIGS, python_tool, run_tool
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS
from mmrazor.registry import MODELS

import mmw2s  # noqa: F401
from mmw2s.testing import free_port
from mmw2s.utils import load_checkpoint_safely

CONFIG = osp.join(TEST_CONFIGS, 'kd_tiny_resnet.py')


def data_options(image_root: str, teacher_ckpt: str) -> list:
    return [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={image_root}',
        f'val_dataloader.dataset.data_root={image_root}',
        f'test_dataloader.dataset.data_root={image_root}',
        f'model.teacher_ckpt={teacher_ckpt}',
    ]


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory) -> str:
    """A plain mmpretrain-style checkpoint of the teacher."""
    cfg = Config.fromfile(CONFIG)
    teacher = MODELS.build(cfg.model.teacher)
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict()}, path)
    return path


@pytest.fixture(scope='module')
def trained_work_dir(tmp_path_factory, image_root, teacher_ckpt) -> str:
    work_dir = str(tmp_path_factory.mktemp('kd_run'))
    run_tool(
        python_tool('train.py') + [CONFIG, '--work-dir', work_dir] +
        data_options(image_root, teacher_ckpt),
        cwd=REPO_ROOT)
    return work_dir


def test_train_writes_a_checkpoint_per_epoch(trained_work_dir, teacher_ckpt):
    for epoch in (1, 2):
        checkpoint = load_checkpoint_safely(
            osp.join(trained_work_dir, f'epoch_{epoch}.pth'))
        assert checkpoint['meta']['epoch'] == epoch
    teacher_weights = load_checkpoint_safely(teacher_ckpt)['state_dict']
    trained = checkpoint['state_dict']
    for name, value in teacher_weights.items():
        assert torch.equal(trained[f'teacher.{name}'], value), name


def test_resume_continues_to_the_same_weights(trained_work_dir, tmp_path,
                                              image_root, teacher_ckpt):
    work_dir = str(tmp_path / 'resumed')
    result = run_tool(
        python_tool('train.py') + [
            CONFIG, '--work-dir', work_dir, '--resume',
            osp.join(trained_work_dir, 'epoch_1.pth')
        ] + data_options(image_root, teacher_ckpt),
        cwd=REPO_ROOT)
    assert 'resumed epoch: 1' in result.stdout + result.stderr
    resumed = load_checkpoint_safely(osp.join(work_dir, 'epoch_2.pth'))
    uninterrupted = load_checkpoint_safely(
        osp.join(trained_work_dir, 'epoch_2.pth'))
    assert not osp.exists(osp.join(work_dir, 'epoch_1.pth'))
    for name, value in uninterrupted['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][name], value)


def test_test_tool_evaluates_a_checkpoint(trained_work_dir, tmp_path,
                                          image_root, teacher_ckpt):
    out_file = str(tmp_path / 'predictions.pkl')
    result = run_tool(
        python_tool('test.py') + [
            CONFIG,
            osp.join(trained_work_dir, 'epoch_2.pth'), '--work-dir',
            str(tmp_path), '--out', out_file
        ] + data_options(image_root, teacher_ckpt),
        cwd=REPO_ROOT)
    accuracy = re.search(r'accuracy/top1: ([\d.]+)',
                         result.stdout + result.stderr)
    assert accuracy is not None
    assert 0.0 <= float(accuracy.group(1)) <= 100.0
    assert osp.getsize(out_file) > 0


def test_dist_train_runs_two_cpu_processes(tmp_path, image_root, teacher_ckpt):
    work_dir = str(tmp_path / 'dist')
    result = run_tool(
        [
            'bash',
            osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), CONFIG, '2',
            '--work-dir', work_dir
        ] + data_options(image_root, teacher_ckpt),
        cwd=REPO_ROOT,
        extra_env=dict(PORT=str(free_port())))
    log = result.stdout + result.stderr
    assert re.search(r'world_size: 2|Distributed launcher: pytorch', log)
    # 16 training images, 4 per batch and per process: 2 iterations an epoch
    assert 'Epoch(train) [2][2/2]' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


def scores_of_checkpoint(checkpoint: str, image_root: str, flip: bool) -> dict:
    """The student's class scores of each val image of ``image_root``
    (horizontally flipped if ``flip``), by image path, computed in this
    process."""
    cfg = Config.fromfile(CONFIG)
    model = MODELS.build(cfg.model)
    model.load_state_dict(load_checkpoint_safely(checkpoint)['state_dict'])
    model.eval()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(
            dict(
                type='CustomDataset',
                data_root=image_root,
                data_prefix='val',
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='RandomFlip', prob=float(flip)),
                    dict(type='PackInputs')
                ]))
        data = pseudo_collate([dataset[i] for i in range(len(dataset))])
    with torch.no_grad():
        samples = model.test_step(data)
    return {sample.img_path: sample.pred_score for sample in samples}


def test_test_tool_tta_averages_each_image_and_its_flip(
        trained_work_dir, tmp_path, image_root, teacher_ckpt):
    checkpoint = osp.join(trained_work_dir, 'epoch_2.pth')
    predictions_file = str(tmp_path / 'tta.pkl')
    result = run_tool(
        python_tool('test.py') + [
            CONFIG, checkpoint, '--work-dir',
            str(tmp_path), '--tta', '--no-pin-memory', '--out',
            predictions_file
        ] + data_options(image_root, teacher_ckpt),
        cwd=REPO_ROOT)
    plain = scores_of_checkpoint(checkpoint, image_root, flip=False)
    flipped = scores_of_checkpoint(checkpoint, image_root, flip=True)
    predictions = mmengine.load(predictions_file)
    assert sorted(p['img_path'] for p in predictions) == sorted(plain)
    tta_scores = torch.stack([p['pred_score'] for p in predictions])
    plain_scores = torch.stack([plain[p['img_path']] for p in predictions])
    flipped_scores = torch.stack([flipped[p['img_path']] for p in predictions])
    # the flip changes the scores, so a test without TTA would fail here
    assert (flipped_scores - plain_scores).abs().max() > 1e-3
    torch.testing.assert_close(tta_scores, (plain_scores + flipped_scores) / 2)
    # and the logged metric is that of the averaged scores
    labels = torch.cat([p['gt_label'] for p in predictions])
    top1 = 100 * (tta_scores.argmax(dim=1) == labels).float().mean().item()
    logged = re.search(r'accuracy/top1: ([\d.]+)',
                       result.stdout + result.stderr)
    assert float(logged.group(1)) == pytest.approx(top1, abs=1e-3)


def test_test_tool_draws_every_interval_th_sample(trained_work_dir, tmp_path,
                                                  image_root, teacher_ckpt):
    show_dir = tmp_path / 'shown'
    run_tool(
        python_tool('test.py') + [
            CONFIG,
            osp.join(trained_work_dir, 'epoch_2.pth'), '--work-dir',
            str(tmp_path), '--show-dir',
            str(show_dir), '--interval', '4'
        ] + data_options(image_root, teacher_ckpt),
        cwd=REPO_ROOT)
    # samples 0, 4, 8, 12 are the first image of each class, 0.png (the
    # hook names a drawing by the image's file name); interval 1 would also
    # draw 1.png to 3.png
    assert sorted(p.name for p in show_dir.iterdir()) == ['0.png_0.png']


def test_dist_test_gives_the_metrics_of_one_process(trained_work_dir, tmp_path,
                                                    image_root, teacher_ckpt):
    """tools/dist_test.sh (2 CPU processes, ``--launcher pytorch``) scores
    a checkpoint as tools/test.py does in one process."""
    checkpoint = osp.join(trained_work_dir, 'epoch_2.pth')

    def tested_accuracy(command: list, work_dir: str, **env) -> tuple:
        """The accuracies the command logged, and its log."""
        result = run_tool(
            command + ['--work-dir', str(tmp_path / work_dir)] +
            data_options(image_root, teacher_ckpt),
            cwd=REPO_ROOT,
            extra_env=env)
        log = result.stdout + result.stderr
        return re.findall(r'Epoch\(test\).*accuracy/top1: ([\d.]+)', log), log

    one, _ = tested_accuracy(
        python_tool('test.py') + [CONFIG, checkpoint], 'one')
    two, log = tested_accuracy([
        'bash',
        osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), CONFIG, checkpoint, '2'
    ],
                               'two',
                               PORT=str(free_port()))
    assert re.search(r'world_size: 2|Distributed launcher: pytorch', log)
    assert len(one) == 1 and one == two


@pytest.mark.parametrize('processes', [1, 2])
def test_auto_scale_lr_scales_by_the_total_batch(tmp_path, image_root,
                                                 teacher_ckpt, processes):
    """--auto-scale-lr multiplies the learning rate by (processes x 4 images
    a batch) / ``auto_scale_lr.base_batch_size`` (here 16)."""
    if processes == 1:
        command = python_tool('train.py') + [CONFIG]
    else:
        command = [
            'bash',
            osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), CONFIG, '2'
        ]
    result = run_tool(
        command + ['--work-dir', str(tmp_path), '--auto-scale-lr'] +
        data_options(image_root, teacher_ckpt) +
        ['auto_scale_lr.base_batch_size=16'],
        cwd=REPO_ROOT,
        extra_env=dict(PORT=str(free_port())))
    rates = re.findall(r'Epoch\(train\).* lr: ([\d.e+-]+)',
                       result.stdout + result.stderr)
    assert rates and all(
        float(rate) == pytest.approx(0.01 * 4 * processes / 16)
        for rate in rates)


def test_auto_scale_lr_needs_a_base_batch_size(tmp_path, image_root,
                                               teacher_ckpt):
    result = subprocess.run(
        python_tool('train.py') +
        [CONFIG, '--work-dir',
         str(tmp_path), '--auto-scale-lr'] +
        data_options(image_root, teacher_ckpt),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    assert result.returncode != 0
    assert '--auto-scale-lr needs `auto_scale_lr' in result.stderr
