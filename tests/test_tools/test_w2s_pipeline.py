# Copyright (c) mmw2s contributors. All rights reserved.
"""The study tool, run as a user runs it, on generated IDX files whose
training labels are stored sorted by class and whose test split is not
10,000 images, and on a generated image folder.

The data sizes, the validation part and the iteration floor are the
config's defaults; what the miniature shrinks, for time only, is the
models (a 1-layer ViT in batches of 8) and the MAE pre-training (1 epoch).
"""
import glob
import json
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, python_tool, run_tool
from idx_helpers import write_fashion_like, write_image_folder
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import Runner
from PIL import Image

from mmw2s.datasets import read_idx
from mmw2s.datasets.dataset_wrapper import subset_indices
from mmw2s.pipeline.jobs import weights_sha256
from mmw2s.pipeline.plan import file_sha256
from mmw2s.utils import load_checkpoint_safely

CONFIG = osp.join(REPO_ROOT, 'configs', 'pipeline', 'w2s_fashion-mnist.py')
FOLDER_CONFIG = osp.join(REPO_ROOT, 'configs', 'pipeline',
                         'w2s_image-folder.py')
SHRUNK = [
    'models.strong.model.backbone.arch.num_layers=1',
    'models.strong.batch_size=8',
    'models.strong.optim_wrapper.optimizer.lr=4e-3',
    'pretrain.model.backbone.arch.num_layers=1', 'pretrain.epochs=1',
    'pretrain.warmup_epochs=0', 'pretrain.batch_size=50'
]
# weak-only is learnt: the ViT ceiling above a weak LeNet-5 stopped after
# 12 epochs (below the iteration floor, on purpose)
WEAK_ONLY_WEAK = [
    'settings.weak_only.stages.weak.epochs=12',
    'settings.weak_only.stages.weak.min_iters=0'
]
CHANCE = 10.0
TRANSFER = ('weak', 'finetune', 'kd', 'augconf', 'adaptconf',
            'strong_to_strong')
WEAK_ONLY = ('weak', 'ceiling', 'kd', 'augconf', 'adaptconf', 'logconf')
# 300 training images: 1/12 held out, 275 to train on, halves of 137, 138
TRAIN_PART, HALF_B = 275, 138


def _command(work_dir,
             data_root,
             suite=('transfer', 'weak_only'),
             jobs=2,
             test_samples=40,
             options=()):
    return python_tool('w2s_pipeline.py') + [
        CONFIG, '--work-dir', work_dir, '--data-root', data_root, '--suite',
        *suite, '--test-samples',
        str(test_samples), '--jobs',
        str(jobs), '--cfg-options', *SHRUNK, *WEAK_ONLY_WEAK, *options
    ]


def _lines(stdout, outcome):
    """The ``setting/stage`` of each run with ``outcome`` (trained, reused,
    re-tested, failed)."""
    return set(re.findall(rf'{outcome}: seed 0 (\S+) ->', stdout))


@pytest.fixture(scope='module')
def miniature_run(tmp_path_factory):
    data_root = write_fashion_like(
        str(tmp_path_factory.mktemp('idx')),
        num_train=300,
        num_test=70,
        sorted_by_class=True)
    work_dir = str(tmp_path_factory.mktemp('pipeline'))
    command = _command(work_dir, data_root)
    first = run_tool(command, cwd=REPO_ROOT)
    return work_dir, data_root, command, first.stdout


def _results(work_dir):
    with open(osp.join(work_dir, 'results.json')) as file:
        return json.load(file)


def _result(work_dir, setting, stage):
    return _results(work_dir)[setting]['0'][stage]


def test_report_sizes_and_names_come_from_the_data(miniature_run):
    work_dir, _, _, stdout = miniature_run
    report = open(osp.join(work_dir, 'report.md')).read()
    for stage in TRANSFER:
        row = re.search(rf'^\| {stage} \| [^|]* \| ([\d,]+) \| ([\d.]+) \|',
                        report, re.MULTILINE)
        assert row, f'no row for {stage}'
        assert row.group(1) == str(TRAIN_PART)
        assert float(row.group(2)) == pytest.approx(
            _result(work_dir, 'transfer', stage)['accuracy'], abs=0.005)
    assert re.search(rf'^\| ceiling \| [^|]* \| {HALF_B} \|', report,
                     re.MULTILINE)
    assert 'a seeded random subset of 40 images of the test split' in report
    assert _result(work_dir, 'transfer', 'weak')['test_images'] == 40
    assert f'asked for 10,000 training images; the data has {TRAIN_PART}' \
        in report
    assert '10 classes: T-shirt/top, Trouser, Pullover' in report
    assert '25 (0.08333 of the training split) of the 300 training images ' \
        'are held out' in report
    assert 'but the self-supervised pre-training saw them without labels' \
        in report
    assert '10,000' not in report.replace('asked for 10,000', '')
    for line in ('start seed 0 transfer/weak', 'trained: seed 0'):
        assert line in stdout
    for name in ('accuracy.png', 'curves.png'):
        with Image.open(osp.join(work_dir, name)) as image:
            assert image.size[0] > 300


def test_every_stage_names_its_run_and_log(miniature_run):
    work_dir, _, _, _ = miniature_run
    report = open(osp.join(work_dir, 'report.md')).read()
    for setting, stages in (('transfer', TRANSFER), ('weak_only', WEAK_ONLY)):
        for stage in stages:
            result = _result(work_dir, setting, stage)
            assert osp.isfile(osp.join(work_dir, result['log']))
            assert (f'| {setting}/{stage} | 0 | trained | '
                    f'`{result["directory"]}` | `{result["log"]}` |') in report


def test_an_inverted_pair_is_said_at_the_top(miniature_run):
    """The report warns exactly when the strong model alone does not beat
    the weak one (here the generated data may be learnt by both)."""
    work_dir, _, _, _ = miniature_run
    report = open(osp.join(work_dir, 'report.md')).read()
    weak = _result(work_dir, 'transfer', 'weak')['accuracy']
    alone = _result(work_dir, 'transfer', 'finetune')['accuracy']
    warned = '**transfer: the pair is inverted.**' in report
    assert warned == (alone <= weak)
    assert report.index('## Claims') > report.index('# Weak-to-strong')
    if warned:
        assert report.index('## Inverted pairs') < report.index('## Claims')


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


def _config(work_dir: str, result: dict, test: bool = False) -> str:
    """The runner config a run dumped: of its training, or of its test."""
    where = osp.join(work_dir, result['directory'])
    if test:
        where = osp.join(where, 'tests', result['test_key'][:16])
    [path] = glob.glob(osp.join(where, '*.py'))
    return path


def test_a_stage_checkpoint_retested_gives_its_result(miniature_run, tmp_path):
    work_dir, _, _, _ = miniature_run
    result = _result(work_dir, 'weak_only', 'adaptconf')
    stdout = run_tool(
        python_tool('test.py') + [
            _config(work_dir, result, test=True),
            osp.join(work_dir, result['checkpoint']), '--work-dir',
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
    cfg = Config.fromfile(
        _config(work_dir, _result(work_dir, 'weak_only', stage)))
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
    result = _result(work_dir, 'weak_only', stage)
    [scalars] = glob.glob(
        osp.join(work_dir, result['directory'], '*', 'vis_data',
                 'scalars.json'))
    logged = [json.loads(line) for line in open(scalars)]
    logged = [(entry['iter'], entry['distill.w2s_alpha']) for entry in logged
              if 'distill.w2s_alpha' in entry]
    max_iters = result['iterations']
    assert max_iters >= 450  # the config's iteration floor
    # the value of the logged iteration (the hook sets it before the
    # iteration, counting from 0): alpha 0.5 times the ramp
    expected = [(iteration, 0.5 * min(1.0,
                                      (iteration - 1) / (ratio * max_iters)))
                for iteration, _ in logged]
    assert logged[-1][0] == max_iters
    assert logged[0][1] < 0.5 and logged[-1][1] == 0.5
    assert [alpha for _, alpha in logged
            ] == pytest.approx([alpha for _, alpha in expected])


def test_rerun_reuses_retests_and_retrains_exactly_what_changed(miniature_run):
    work_dir, data_root, command, first = miniature_run
    assert _lines(first, 'trained') == {
        f'{s}/{r}'
        for s, runs in (('transfer', TRANSFER), ('weak_only', WEAK_ONLY))
        for r in runs
    }
    assert re.search(r'start pretrain \(.+\) \(\d+ iterations to pre-train\)',
                     first)
    same = run_tool(command, cwd=REPO_ROOT).stdout
    assert not _lines(same, 'trained') and not _lines(same, 're-tested')
    assert 'reused: pretrain' in same
    before = _results(work_dir)['transfer']['0']
    changed = run_tool(
        _command(
            work_dir,
            data_root,
            suite=['transfer'],
            options=['settings.transfer.stages.adaptconf.loss.threshold=7.0']),
        cwd=REPO_ROOT).stdout
    assert _lines(changed, 'trained') == {'transfer/adaptconf'}
    retested = run_tool(
        _command(work_dir, data_root, suite=['transfer'], test_samples=30),
        cwd=REPO_ROOT).stdout
    assert not _lines(retested, 'trained')
    assert _lines(retested, 're-tested') == {f'transfer/{r}' for r in TRANSFER}
    assert set(re.findall(r'start seed 0 (\S+) \(\d+ iterations to re-test\)',
                          retested)) == {f'transfer/{r}' for r in TRANSFER}
    assert set(
        re.findall(r'start seed 0 (\S+) \(\d+ iterations to train and test\)',
                   changed)) == {'transfer/adaptconf'}
    after = _results(work_dir)['transfer']['0']
    for stage in TRANSFER:
        assert after[stage]['test_images'] == 30
        assert after[stage]['checkpoint'] == before[stage]['checkpoint']
        assert after[stage]['outcome'] == 're-tested'


def test_two_workers_give_the_results_of_one(miniature_run, tmp_path):
    """The miniature ran with --jobs 2; in a copy of its work dir without
    two of its runs (one fine-tuned, one distilled from its teacher), the
    transfer setting with one job at a time, with as many threads as each
    of those had, trains just those two again, to the same weights (bit for
    bit) and the same test accuracy."""
    work_dir, data_root, _, _ = miniature_run
    sequential = str(tmp_path / 'sequential')
    shutil.copytree(work_dir, sequential)
    again = ('finetune', 'adaptconf')
    for stage in again:
        shutil.rmtree(
            osp.join(sequential,
                     _result(work_dir, 'transfer', stage)['directory']))
    # as many threads as the miniature's runs had (its default)
    threads = _result(work_dir, 'transfer', 'finetune')['threads']
    stdout = run_tool(
        _command(sequential, data_root, suite=['transfer'], jobs=1) +
        ['--threads', str(threads)],
        cwd=REPO_ROOT).stdout
    assert _lines(stdout, 'trained') == {f'transfer/{r}' for r in again}
    for stage in again:
        one, two = (
            _result(directory, 'transfer', stage)
            for directory in (sequential, work_dir))
        assert one['threads'] == two['threads'] == threads
        weights = [
            load_checkpoint_safely(
                osp.join(directory, result['checkpoint']),
                map_location='cpu')['state_dict']
            for directory, result in ((sequential, one), (work_dir, two))
        ]
        assert weights[0].keys() == weights[1].keys()
        assert all(
            torch.equal(weights[0][name], weights[1][name])
            for name in weights[0]), stage
        # the miniature's own test of this evaluation (its results.json may
        # hold another: the rerun test re-tests on fewer images)
        tested = json.load(
            open(
                osp.join(work_dir, two['directory'], 'tests',
                         f'{one["test_key"][:16]}.json')))
        assert tested['accuracy'] == one['accuracy'], stage


def test_a_failed_run_is_named_and_the_others_go_on(miniature_run, tmp_path):
    work_dir, data_root, _, _ = miniature_run
    copy = str(tmp_path / 'copy')
    shutil.copytree(work_dir, copy)
    failed = subprocess.run(
        _command(
            copy,
            data_root,
            suite=['transfer'],
            options=[
                'settings.transfer.stages.kd.loss.type=NoSuchLoss',
                'settings.transfer.stages.adaptconf.loss.threshold=3.0'
            ]),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600)
    assert failed.returncode != 0
    [line] = [
        line for line in failed.stderr.splitlines()
        if line.startswith('seed 0 transfer/kd: ')
    ]
    assert 'NoSuchLoss' in line and 'directory ' in line
    log = re.search(r', log (\S+)\)$', line).group(1)
    assert 'NoSuchLoss' in open(log).read()
    assert _lines(failed.stdout, 'trained') == {'transfer/adaptconf'}
    assert _lines(failed.stdout, 'failed') == {'transfer/kd'}


def test_a_student_of_another_teacher_checkpoint_trains_again(
        miniature_run, tmp_path):
    """A student's key names its teacher's run, not the teacher's bytes: a
    teacher saved again under its key with other weights (as retraining
    with another thread count gives) makes its student train again, from
    scratch, not reused nor resumed."""
    work_dir, data_root, _, _ = miniature_run
    copy = str(tmp_path / 'copy')
    shutil.copytree(work_dir, copy)
    teacher = osp.join(copy, _result(work_dir, 'transfer',
                                     'finetune')['checkpoint'])
    state = load_checkpoint_safely(teacher, map_location='cpu')
    name = next(iter(state['state_dict']))
    state['state_dict'][name] = state['state_dict'][name] + 0.01
    torch.save(state, teacher)
    student = _result(work_dir, 'transfer', 'strong_to_strong')
    command = _command(copy, data_root, suite=['transfer'])
    planned = run_tool(command + ['--dry-run'], cwd=REPO_ROOT).stdout
    [line] = [
        line for line in planned.splitlines()
        if line.startswith(student['directory'] + ':')
    ]
    assert line.endswith('; to train')
    lines = planned.splitlines()
    notes = lines[lines.index(line) + 1:]
    notes = notes[:next((i for i, note in enumerate(notes)
                         if not note.startswith('  ')), len(notes))]
    assert ('  saved from other weights of its teacher than the ones saved '
            'now: it trains again') in notes
    stdout = run_tool(command, cwd=REPO_ROOT).stdout
    assert _lines(stdout, 'trained') == {'transfer/strong_to_strong'}
    with open(osp.join(copy, student['directory'], 'train.json')) as file:
        assert json.load(file)['teacher_sha256'] == weights_sha256(teacher)
    before, after = (load_checkpoint_safely(
        osp.join(directory, student['checkpoint']),
        map_location='cpu')['state_dict'] for directory in (work_dir, copy))
    assert any(not torch.equal(before[key], after[key]) for key in before)


def test_a_moved_work_dir_retrains_a_student_from_its_teacher(
        miniature_run, tmp_path):
    """Paths in a run's records are relative: after the work dir moves, a
    student that must retrain finds its teacher's checkpoint. (Last: it
    moves the module's work dir.)"""
    work_dir, data_root, _, _ = miniature_run
    moved = str(tmp_path / 'moved')
    shutil.move(work_dir, moved)
    stdout = run_tool(
        _command(
            moved,
            data_root,
            suite=['transfer'],
            options=['settings.transfer.stages.adaptconf.loss.threshold=6.0']),
        cwd=REPO_ROOT).stdout
    assert _lines(stdout, 'trained') == {'transfer/adaptconf'}
    assert _lines(stdout, 'reused') == {
        f'transfer/{r}'
        for r in TRANSFER if r != 'adaptconf'
    }


def test_few_shot_learns_base_classes_and_tests_novel_episodes(tmp_path):
    """Few-shot: base classes learnt, novel classes tested in episodes (the
    iteration floor lowered for time only: the miniature runs it whole)."""
    data_root = write_fashion_like(
        str(tmp_path / 'idx'), num_train=300, num_test=70)
    work_dir = str(tmp_path / 'work')
    few_shot = 'settings.few_shot.defaults'
    run_tool(
        python_tool('w2s_pipeline.py') + [
            CONFIG, '--work-dir', work_dir, '--data-root', data_root,
            '--suite', 'few_shot', '--cfg-options', *SHRUNK,
            f'{few_shot}.test.evaluator.num_queries=1',
            f'{few_shot}.test.evaluator.num_episodes=20', 'min_iters=60'
        ],
        cwd=REPO_ROOT)
    report = open(osp.join(work_dir, 'report.md')).read()
    labels = read_idx(osp.join(data_root,
                               'train-labels-idx1-ubyte.gz')).astype(int)
    train_part = subset_indices(len(labels), 'train', 0, None, 25)
    base_images = int(np.isin(labels[train_part], [0, 2, 4, 6, 8]).sum())
    # 70 test images, 7 of each class: 35 of the 5 novel classes
    assert ('tested on the 5 classes Trouser, Dress, Sandal, Sneaker, Ankle '
            'boot of the evaluation split (35 images). Metric: '
            '`FewShotAccuracy(num_ways=5, num_shots=(1, 5), num_queries=1, '
            'num_episodes=20, seed=0)`. Chance is 20.0%.') in report
    assert f'asked for 20,000 training images; the data has {TRAIN_PART}' \
        in report
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


@pytest.mark.parametrize('images,held_out', [(1000, 83), (5000, 417),
                                             (60000, 5000)])
def test_the_readme_command_plans_any_idx_data(tmp_path, images, held_out):
    """The README's first command with only --data-root and data.type, on
    IDX data of 1,000, 5,000 and 60,000 training images stored sorted by
    class, resolves every setting (listed by --dry-run, nothing trained)."""
    data_root = write_fashion_like(
        str(tmp_path / 'idx'),
        num_train=images,
        num_test=images // 5,
        sorted_by_class=True)
    stdout = run_tool(
        python_tool('w2s_pipeline.py') + [
            CONFIG, '--data-root', data_root, '--work-dir',
            str(tmp_path / 'work'), '--suite', 'all', '--dry-run',
            '--cfg-options', 'data.type=MNISTIDX'
        ],
        cwd=REPO_ROOT).stdout
    assert f'{images:,} training images, {held_out:,} held out for ' \
        f'validation, tested on {images // 5:,} images' in stdout
    # nothing saved: every run is to train, and the header counts them
    runs = re.findall(r'^seed_0/\S+: .*, (\d+) iterations; to train$', stdout,
                      re.MULTILINE)
    assert re.search(
        rf'^{len(runs)} run\(s\) for \d+ stage\(s\), {len(runs)} to train '
        rf'\({sum(map(int, runs)):,} iterations\); ', stdout, re.MULTILINE)
    assert 'pre-training to do first' in stdout
    assert not osp.exists(str(tmp_path / 'work'))


def test_an_image_folder_study_runs_through_its_config(tmp_path):
    """The image-folder config on generated colour images (the iteration
    floor lowered for time only: the miniature above runs it whole)."""
    data_root = write_image_folder(str(tmp_path / 'images'), num_train=120)
    work_dir = str(tmp_path / 'work')
    run_tool(
        python_tool('w2s_pipeline.py') + [
            FOLDER_CONFIG, '--data-root', data_root, '--work-dir', work_dir,
            '--cfg-options', *SHRUNK, 'min_iters=60'
        ],
        cwd=REPO_ROOT)
    report = open(osp.join(work_dir, 'report.md')).read()
    classes = ', '.join(f'class_{i:02d}' for i in range(10))
    assert f'`CustomDataset` read from `{data_root}`; 120 training images; ' \
        f'10 classes: {classes}' in report
    assert 'the whole test split (60 images)' in report
    assert '10 (0.08333 of the training split) of the 120' in report
    result = _result(work_dir, 'transfer', 'finetune')
    assert result['train_images'] == 110 and result['test_images'] == 60
    record = json.load(
        open(glob.glob(osp.join(work_dir, 'pretrain-*', 'backbone.json'))[0]))
    assert record['settings']['dataset'] == dict(
        type='CustomDataset', data_prefix='train', with_label=False)


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
               timeout: float = 300) -> None:
    """Run ``command`` until a file matching ``pattern`` exists, then kill
    it with every process it started (as a power cut would)."""
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    with open(log, 'w') as output:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True)
        deadline = time.time() + timeout
        try:
            while not glob.glob(pattern):
                assert process.poll() is None, open(log).read()[-3000:]
                assert time.time() < deadline, f'no {pattern} in {timeout} s'
                time.sleep(0.02)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_an_interrupted_stage_resumes_from_its_checkpoint(tmp_path):
    data_root = write_fashion_like(str(tmp_path / 'idx'), num_train=300)
    work_dir = str(tmp_path / 'work')
    command = python_tool('w2s_pipeline.py') + [
        CONFIG, '--work-dir', work_dir, '--data-root', data_root, '--suite',
        'kd', '--cfg-options', 'settings.kd.stages.weak.epochs=100'
    ]
    stage = osp.join(work_dir, 'seed_0', 'weak-*')
    _run_until(command, osp.join(stage, 'last_checkpoint'),
               str(tmp_path / 'first.log'))
    [stage_dir] = glob.glob(stage)
    assert not osp.exists(osp.join(stage_dir, 'train.json'))
    with open(osp.join(stage_dir, 'last_checkpoint')) as file:
        checkpoint = file.read()
    interrupted_at = int(re.search(r'epoch_(\d+)\.pth$', checkpoint).group(1))
    assert interrupted_at < 100

    _run_until(command, osp.join(stage, 'train.json'),
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
    assert min(epochs) == interrupted_at + 1 and max(epochs) == 100
    record = json.load(open(osp.join(stage_dir, 'train.json')))
    assert record['checkpoint'] == 'epoch_100.pth'
