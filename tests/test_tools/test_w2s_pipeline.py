# Copyright (c) mmw2s contributors. All rights reserved.
"""A miniature run of the main job on generated IDX files whose training
labels are stored sorted by class and whose test split is not 10,000."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import time

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, python_tool, run_tool
from idx_helpers import write_fashion_like
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import Runner
from PIL import Image

from mmw2s.datasets import read_idx
from mmw2s.datasets.idx_dataset import subset_indices
from mmw2s.pipeline.plan import file_sha256

CONFIG = osp.join(REPO_ROOT, 'configs', 'pipeline', 'w2s_fashion-mnist.py')
# a 1-layer ViT that learns the generated images in a few epochs, and a
# MAE pre-training of one epoch
SHRUNK = [
    'data.val_samples=50', 'models.vit.model.backbone.arch.num_layers=1',
    'models.vit.batch_size=8', 'models.vit.optim_wrapper.optimizer.lr=4e-3',
    'pretrain.model.backbone.arch.num_layers=1', 'pretrain.epochs=1',
    'pretrain.warmup_epochs=0', 'pretrain.batch_size=50'
]
# weak-only is learnt: the ViT ceiling (6 epochs) above a weak LeNet-5
# stopped after 2 epochs
MINIATURE = [
    '--suite', 'transfer', 'weak_only', '--test-samples', '40',
    '--cfg-options', *SHRUNK, 'settings.transfer.defaults.epochs=1',
    'settings.transfer.stages.weak.epochs=1',
    'settings.weak_only.defaults.epochs=6',
    'settings.weak_only.stages.weak.epochs=2'
]
CHANCE = 10.0
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


def test_weak_only_is_learnt_and_its_pgr_reported(miniature_run):
    work_dir, _, _, _ = miniature_run
    report = open(osp.join(work_dir, 'report.md')).read()
    weak = _result(work_dir, 'weak_only', 'weak')['accuracy']
    ceiling = _result(work_dir, 'weak_only', 'ceiling')['accuracy']
    assert ceiling > weak + 10 and weak > CHANCE + 10, (weak, ceiling)
    student = _result(work_dir, 'weak_only', 'adaptconf')['accuracy']
    row = re.search(r'^\| adaptconf \| strong, AdaptConf[^\n]*\| (\S+) \|$',
                    report, re.MULTILINE)
    assert float(row.group(1)) == pytest.approx(
        (student - weak) / (ceiling - weak), abs=0.005)


def _stage_config(work_dir: str, setting: str, stage: str) -> str:
    [path] = glob.glob(
        osp.join(work_dir, 'seed_0', setting, f'{stage}-*', '*.py'))
    return path


def test_a_stage_checkpoint_retested_gives_its_result(miniature_run, tmp_path):
    work_dir, _, _, _ = miniature_run
    result = _result(work_dir, 'weak_only', 'adaptconf')
    stdout = run_tool(
        python_tool('test.py') + [
            _stage_config(work_dir, 'weak_only', 'adaptconf'),
            result['checkpoint'], '--work-dir',
            str(tmp_path)
        ],
        cwd=REPO_ROOT).stdout
    [accuracy] = re.findall(r'accuracy/top1: ([\d.]+)', stdout)
    assert float(accuracy) == pytest.approx(result['accuracy'], abs=1e-3)


def _losses_with_true_and_shuffled_labels(cfg: Config) -> tuple:
    """The training losses of the stage's model (built once) on its first
    training batch, with the true and with shuffled ground-truth labels."""
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
        model.init_weights()
        loader = Runner.build_dataloader(
            dict(
                cfg.train_dataloader,
                sampler=dict(type='DefaultSampler', shuffle=False)))
    batch = model.data_preprocessor(next(iter(loader)), True)
    model.eval()
    with torch.no_grad():
        true = model.loss(batch['inputs'], batch['data_samples'])
        for sample in batch['data_samples']:
            sample.set_gt_label((int(sample.gt_label) + 3) % 10)
        shuffled = model.loss(batch['inputs'], batch['data_samples'])
    return true, shuffled


@pytest.mark.parametrize('stage,sees_labels', [('ceiling', True),
                                               ('kd', False),
                                               ('adaptconf', False),
                                               ('logconf', False)])
def test_weak_only_students_never_see_ground_truth(miniature_run, stage,
                                                   sees_labels):
    work_dir, _, _, _ = miniature_run
    cfg = Config.fromfile(_stage_config(work_dir, 'weak_only', stage))
    true, shuffled = _losses_with_true_and_shuffled_labels(cfg)
    changed = {
        name
        for name in true if name != 'teacher_acc'
        and not torch.equal(true[name], shuffled[name])
    }
    # teacher_acc, the teacher's accuracy on the batch, is only logged
    assert bool(changed) == sees_labels, changed


@pytest.mark.parametrize('stage,ratio', [('augconf', 0.3), ('logconf', 0.2)])
def test_confidence_weights_ramp_up_per_iteration(miniature_run, stage, ratio):
    work_dir, _, _, _ = miniature_run
    [scalars] = glob.glob(
        osp.join(work_dir, 'seed_0', 'weak_only', f'{stage}-*', '*',
                 'vis_data', 'scalars.json'))
    logged = [json.loads(line) for line in open(scalars)]
    logged = [(entry['iter'], entry['distill.w2s_alpha']) for entry in logged
              if 'distill.w2s_alpha' in entry]
    max_iters = 6 * 16  # 6 epochs of 125 images in batches of 8
    # the value of the logged iteration (the hook sets it before the
    # iteration, counting from 0): alpha 0.5 times the ramp
    expected = [(iteration, 0.5 * min(1.0,
                                      (iteration - 1) / (ratio * max_iters)))
                for iteration, _ in logged]
    assert logged[-1][0] == max_iters
    assert logged[0][1] < 0.5 and logged[-1][1] == 0.5
    assert [alpha for _, alpha in logged
            ] == pytest.approx([alpha for _, alpha in expected])


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
            '--suite', 'few_shot', '--cfg-options', *SHRUNK,
            f'{few_shot}.epochs=1', 'settings.few_shot.stages.weak.epochs=1',
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


def _run_until(command: list,
               pattern: str,
               log: str,
               timeout: float = 300) -> str:
    """Run ``command`` until a file matching ``pattern`` exists, then kill
    it (as a power cut would); returns that file."""
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    with open(log, 'w') as output:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=output, stderr=output)
        deadline = time.time() + timeout
        try:
            while not glob.glob(pattern):
                assert process.poll() is None, open(log).read()[-3000:]
                assert time.time() < deadline, f'no {pattern} in {timeout} s'
                time.sleep(0.02)
        finally:
            process.kill()
            process.wait()


def test_an_interrupted_stage_resumes_from_its_checkpoint(tmp_path):
    data_root = write_fashion_like(str(tmp_path / 'idx'), num_train=300)
    work_dir = str(tmp_path / 'work')
    command = python_tool('w2s_pipeline.py') + [
        CONFIG, '--work-dir', work_dir, '--data-root', data_root, '--suite',
        'kd', '--cfg-options', 'data.val_samples=50',
        'settings.kd.stages.weak.epochs=30'
    ]
    stage = osp.join(work_dir, 'seed_0', 'kd', 'weak-*')
    _run_until(command, osp.join(stage, 'last_checkpoint'),
               str(tmp_path / 'first.log'))
    [stage_dir] = glob.glob(stage)
    assert not osp.exists(osp.join(stage_dir, 'result.json'))
    with open(osp.join(stage_dir, 'last_checkpoint')) as file:
        checkpoint = file.read()
    interrupted_at = int(re.search(r'epoch_(\d+)\.pth$', checkpoint).group(1))
    assert interrupted_at < 30

    _run_until(command, osp.join(stage, 'result.json'),
               str(tmp_path / 'second.log'))
    assert glob.glob(stage) == [stage_dir]  # the same settings, same dir
    _, second_log = sorted(glob.glob(osp.join(stage_dir, '*', '*.log')))
    resumed = open(second_log).read()
    assert f'resumed epoch: {interrupted_at},' in resumed
    # the second run trains only the epochs the first did not finish
    epochs = {
        int(e)
        for e in re.findall(r'Epoch\(train\) +\[(\d+)\]', resumed)
    }
    assert min(epochs) == interrupted_at + 1 and max(epochs) == 30
    result = json.load(open(osp.join(stage_dir, 'result.json')))
    assert result['checkpoint'].endswith('epoch_30.pth')
