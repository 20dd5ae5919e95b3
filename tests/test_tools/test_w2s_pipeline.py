# Copyright (c) mmw2s contributors. All rights reserved.
"""A miniature run of the main job on generated IDX files whose training
labels are stored sorted by class and whose test split is not 10,000."""
import json
import os
import os.path as osp
import re
import subprocess

import numpy as np
import pytest
from conftest import REPO_ROOT, python_tool, run_tool
from idx_helpers import write_fashion_like
from PIL import Image

from mmw2s.datasets import read_idx
from mmw2s.datasets.idx_dataset import subset_indices
from mmw2s.pipeline.plan import file_sha256

CONFIG = osp.join(REPO_ROOT, 'configs', 'pipeline', 'w2s_fashion-mnist.py')
MINIATURE = [
    '--suite', 'transfer', 'weak_only', '--test-samples', '40',
    '--cfg-options', 'data.val_samples=50',
    'models.vit.model.backbone.arch.num_layers=1',
    'pretrain.model.backbone.arch.num_layers=1', 'pretrain.epochs=1',
    'pretrain.warmup_epochs=0', 'pretrain.batch_size=50',
    'settings.transfer.defaults.epochs=1',
    'settings.transfer.stages.weak.epochs=1',
    'settings.weak_only.defaults.epochs=1',
    'settings.weak_only.stages.weak.epochs=1'
]
TRANSFER = ('weak', 'finetune', 'kd', 'augconf', 'adaptconf',
            'strong_to_strong')
WEAK_ONLY = ('weak', 'ceiling', 'kd', 'augconf', 'adaptconf', 'logconf')


def _stage_lines(stdout, outcome):
    return set(re.findall(rf'{outcome}: seed 0 (\S+) ->', stdout))


@pytest.fixture(scope='module')
def miniature_run(tmp_path_factory):
    data_root = write_fashion_like(
        str(tmp_path_factory.mktemp('idx')),
        num_train=300,
        num_test=70,
        sorted_by_class=True)
    work_dir = str(tmp_path_factory.mktemp('pipeline'))
    command = python_tool('w2s_pipeline.py') + [
        CONFIG, '--work-dir', work_dir, '--data-root', data_root
    ] + MINIATURE
    first = run_tool(command, cwd=REPO_ROOT)
    return work_dir, data_root, command, first.stdout


def _result(work_dir, setting, stage):
    [path] = [
        osp.join(root, 'result.json')
        for root, _, files in os.walk(osp.join(work_dir, 'seed_0', setting)) if
        'result.json' in files and osp.basename(root).startswith(f'{stage}-')
    ]
    with open(path) as file:
        return json.load(file)


def test_report_sizes_and_names_come_from_the_data(miniature_run):
    work_dir, data_root, _, stdout = miniature_run
    report = open(osp.join(work_dir, 'report.md')).read()
    # 300 training images, 50 held out: 250 to train on (10,000 asked),
    # halves of 125; a 70-image test split
    for stage in TRANSFER:
        row = re.search(rf'^\| {stage} \| [^|]* \| ([\d,]+) \| ([\d.]+) \|',
                        report, re.MULTILINE)
        assert row, f'no row for {stage}'
        assert row.group(1) == ('250')
        assert float(row.group(2)) == pytest.approx(
            _result(work_dir, 'transfer', stage)['accuracy'], abs=0.005)
    assert re.search(r'^\| ceiling \| [^|]* \| 125 \|', report, re.MULTILINE)
    assert 'a seeded random subset of 40 images of the test split' in report
    assert _result(work_dir, 'transfer', 'weak')['test_images'] == 40
    assert 'asked for 10,000 training images; the data has 250' in report
    assert '10 classes: T-shirt/top, Trouser, Pullover' in report
    assert '50 training images are held out' in report
    assert '10,000' not in report.replace('asked for 10,000', '')
    for line in ('start seed 0 transfer/weak', 'done in'):
        assert line in stdout
    for name in ('accuracy.png', 'curves.png'):
        with Image.open(osp.join(work_dir, name)) as image:
            assert image.size[0] > 300


def test_pgr_is_reported_only_where_the_gap_is_positive(miniature_run):
    work_dir, _, _, _ = miniature_run
    report = open(osp.join(work_dir, 'report.md')).read()
    weak = _result(work_dir, 'weak_only', 'weak')['accuracy']
    ceiling = _result(work_dir, 'weak_only', 'ceiling')['accuracy']
    row = re.search(r'^\| adaptconf \| strong, AdaptConf[^\n]*\| (\S+) \|$',
                    report, re.MULTILINE)
    if ceiling > weak:
        student = _result(work_dir, 'weak_only', 'adaptconf')['accuracy']
        assert float(row.group(1)) == pytest.approx(
            (student - weak) / (ceiling - weak), abs=0.005)
    else:
        assert row.group(1) == 'undefined'
        assert 'PGR is not reported: no PGR: the ceiling' in report


def test_rerun_reuses_only_stages_with_the_same_settings(miniature_run):
    work_dir, _, command, first = miniature_run
    assert _stage_lines(first, 'done in [\\d.]+ min') == {
        f'{s}/{r}'
        for s, runs in (('transfer', TRANSFER), ('weak_only', WEAK_ONLY))
        for r in runs
    }
    same = run_tool(command, cwd=REPO_ROOT).stdout
    assert not _stage_lines(same, 'done in [\\d.]+ min')
    assert 'reused (same settings): pretrain' in same
    changed = run_tool(
        command[:-len(MINIATURE)] + MINIATURE[:2] + MINIATURE[3:] +
        ['settings.transfer.stages.adaptconf.loss.threshold=7.0'],
        cwd=REPO_ROOT).stdout
    assert _stage_lines(changed,
                        'done in [\\d.]+ min') == {'transfer/adaptconf'}


def test_few_shot_learns_base_classes_and_tests_novel_episodes(tmp_path):
    data_root = write_fashion_like(
        str(tmp_path / 'idx'), num_train=300, num_test=70)
    work_dir = str(tmp_path / 'work')
    few_shot = 'settings.few_shot.defaults'
    run_tool(
        python_tool('w2s_pipeline.py') + [
            CONFIG, '--work-dir', work_dir, '--data-root', data_root,
            '--suite', 'few_shot', *MINIATURE[5:12], f'{few_shot}.epochs=1',
            'settings.few_shot.stages.weak.epochs=1',
            f'{few_shot}.test.evaluator.num_queries=1',
            f'{few_shot}.test.evaluator.num_episodes=20'
        ],
        cwd=REPO_ROOT)
    report = open(osp.join(work_dir, 'report.md')).read()
    labels = read_idx(osp.join(data_root,
                               'train-labels-idx1-ubyte.gz')).astype(int)
    train_part = subset_indices(len(labels), 'train', 0, None, 50)
    base_images = int(np.isin(labels[train_part], [0, 2, 4, 6, 8]).sum())
    # 70 test images, 7 of each class: 35 of the 5 novel classes
    assert ('tested on the 5 classes Trouser, Dress, Sandal, Sneaker, Ankle '
            'boot of the evaluation split (35 images). Metric: '
            '`FewShotAccuracy(num_ways=5, num_shots=(1, 5), num_queries=1, '
            'num_episodes=20, seed=0)`. Chance is 20.0%.') in report
    assert 'asked for 20,000 training images; the data has 250' in report
    assert '5-way 1-shot (%) | per seed (± 95% interval) | 5-way 5-shot' \
        in report
    for stage in ('weak', 'alone', 'kd', 'adaptconf'):
        result = _result(work_dir, 'few_shot', stage)
        assert result['train_images'] == base_images
        assert result['test_images'] == 35
        assert 'accuracy' not in result
        row = re.search(
            rf'^\| {stage} \| [^|]* \| {base_images} \| ([\d.]+) \| '
            rf'([\d.]+) ± ([\d.]+) \|', report, re.MULTILINE)
        assert float(row.group(1)) == float(row.group(2)) == pytest.approx(
            result['few-shot/5way-1shot'], abs=0.005)
        assert float(row.group(3)) == pytest.approx(
            result['few-shot/5way-1shot_ci95'], abs=0.005)
    assert '| AdaptConf > base-class labels alone (5-shot) | few_shot |' \
        in report


def test_pretraining_never_reads_labels_and_checks_its_checkpoint(tmp_path):
    data_root = write_fashion_like(str(tmp_path / 'idx'), num_train=100)
    for name in os.listdir(data_root):
        if 'labels' in name:
            os.remove(osp.join(data_root, name))
    command = python_tool('w2s_pipeline.py') + [
        CONFIG, '--work-dir',
        str(tmp_path / 'work'), '--data-root', data_root, '--pretrain-only',
        '--cfg-options', 'pretrain.epochs=1', 'pretrain.warmup_epochs=0',
        'pretrain.batch_size=50', 'pretrain.model.backbone.arch.num_layers=1'
    ]
    stdout = run_tool(command, cwd=REPO_ROOT).stdout
    [backbone] = re.findall(r'Pre-trained backbone: (\S+)', stdout)
    record = json.load(open(osp.splitext(backbone)[0] + '.json'))
    assert record['settings']['recipe']['epochs'] == 1
    assert record['loss_curve'] and record['command'].endswith(
        'pretrain.model.backbone.arch.num_layers=1')
    assert file_sha256(backbone) == record['sha256']
    with open(backbone, 'ab') as file:
        file.write(b'tampered')
    damaged = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert damaged.returncode != 0
    assert 'does not have the SHA-256 its record states' in damaged.stderr
