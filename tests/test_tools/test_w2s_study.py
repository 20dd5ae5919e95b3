# Copyright (c) mmw2s contributors. All rights reserved.
"""The study, run as a user runs it on a GPU machine (``tools/study_gpu.sh``
and its full-size config), at a tiny size on the CPU: generated IDX files
whose training labels are stored sorted by class.

What the tiny size shrinks, for time only: the grid (two teachers, two
values of the threshold, schedules of 1 and 2 epochs, seeds 0 and 1, KD
and AdaptConf), the models (a 1-layer ViT in batches of 8), the
pre-training (1 epoch) and the iteration floor (none; the pipeline's tests
run it).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import shutil
import sys

import pytest
from conftest import REPO_ROOT, python_tool, run_tool
from idx_helpers import write_fashion_like
from mmengine.config import DictAction

from mmw2s.pipeline import Dispatcher, EvalSpec, Pipeline, PipelineEvents
from mmw2s.pipeline.progress import plan_from_args
from mmw2s.study import describe_study

FULL = osp.join(REPO_ROOT, 'configs', 'study', 'w2s_fashion-mnist_full.py')
SHRUNK = [
    'models.strong.model.backbone.arch.num_layers=1',
    'models.strong.batch_size=8', 'pretrain.model.backbone.arch.num_layers=1',
    'pretrain.epochs=1', 'pretrain.warmup_epochs=0', 'pretrain.batch_size=50'
]
TINY = f'''_base_ = [{FULL!r}]
min_iters = 0
study = dict(
    teachers=dict(
        _delete_=True,
        lenet_1ep=dict(model='weak', train='train', epochs=1, min_iters=0),
        lenet_4ep=dict(model='weak', train='train', epochs=4, min_iters=0)),
    schedules=dict(short=1, patient=2),
    methods=dict(_delete_=True,
                 kd=dict(loss=dict(type='KLDivergence', tau=1.0)),
                 adaptconf=dict(loss=dict(type='AdaptConfLoss', tau=1.0))),
    tuned=dict(values=[0.5, 4.0]),
    seeds=[0, 1])
'''
# 300 training images: 25 held out (the validation part), 275 to train on
VAL = 25


def _run(config, work_dir, data_root):
    return run_tool([
        'bash',
        osp.join(REPO_ROOT, 'tools', 'study_gpu.sh'), '--data-root', data_root,
        '--cfg-options', *SHRUNK
    ],
                    cwd=REPO_ROOT,
                    extra_env=dict(
                        CONFIG=config,
                        JOBS='2',
                        WORK_DIR=work_dir,
                        PYTHON=sys.executable))


@pytest.fixture(scope='module')
def tiny_study(tmp_path_factory):
    root = tmp_path_factory.mktemp('study')
    data_root = write_fashion_like(
        str(root / 'idx'), num_train=300, num_test=70, sorted_by_class=True)
    config = root / 'tiny.py'
    config.write_text(TINY)
    work_dir = str(root / 'work')
    first = _run(str(config), work_dir, data_root)
    with open(osp.join(work_dir, 'results.json')) as file:
        results = json.load(file)
    return dict(
        config=str(config),
        data_root=data_root,
        work_dir=work_dir,
        stdout=first.stdout,
        results=results,
        report=open(osp.join(work_dir, 'report.md')).read())


def test_choices_are_made_on_the_validation_part(tiny_study):
    results = tiny_study['results']
    selection = results['selection']
    for setting in selection.values():
        for result in setting['0'].values():
            assert result['test_images'] == VAL
    assert set(selection['select_teachers']) == {'0'}
    for schedule, choice in results['values'].items():
        accuracy = choice['accuracy']
        assert accuracy == {
            value:
            selection[f'select_threshold_{schedule}']['0']
            [f'adaptconf_threshold_{value}']['accuracy']
            for value in ('0.5', '4.0')
        }
        best = max(accuracy.values())
        assert choice['value'] == float(
            next(v for v in ('0.5', '4.0') if accuracy[v] == best))
    for schedule, choice in results['teachers'].items():
        student = selection['select_teachers']['0'][f'finetune_{schedule}'][
            'accuracy']
        assert choice['student'] == student
        gaps = {
            teacher:
            student - selection['select_teachers']['0'][teacher]['accuracy']
            for teacher in ('lenet_1ep', 'lenet_4ep')
        }
        assert choice['gaps'] == pytest.approx(gaps)
        assert choice['teacher'] == min(
            gaps, key=lambda teacher: abs(gaps[teacher] - 3.2))


def test_the_chosen_selection_run_is_reused_by_the_study(tiny_study):
    results = tiny_study['results']
    for schedule in ('short', 'patient'):
        teacher = results['teachers'][schedule]['teacher']
        value = results['values'][schedule]['value']
        cell = results['results'][f'{schedule}_{teacher}']
        chosen = results['selection'][f'select_threshold_{schedule}']['0'][
            f'adaptconf_threshold_{value}']
        assert cell['0']['adaptconf']['key'] == chosen['key']
        assert cell['0']['adaptconf']['outcome'] == 're-tested'
        assert cell['0']['adaptconf']['test_images'] == 70
        assert cell['1']['adaptconf']['key'] != chosen['key']
    # every teacher at the short schedule, the reference one when patient
    cells = set(results['results'])
    assert {c
            for c in cells if c.startswith('short_')
            } == {'short_lenet_1ep', 'short_lenet_4ep'}
    assert cells - {'short_lenet_1ep', 'short_lenet_4ep'} == {
        f'patient_{results["teachers"]["patient"]["teacher"]}'
    }


def test_seed_0_is_tested_after_every_epoch(tiny_study):
    results = tiny_study['results']
    cell = results['results'][
        f'patient_{results["teachers"]["patient"]["teacher"]}']
    for stage in ('finetune', 'kd', 'adaptconf', 'strong_to_strong'):
        result = cell['0'][stage]
        assert len(result['each_epoch']) == result['epochs'] == 2
        directory = osp.join(tiny_study['work_dir'], result['directory'])
        tested = {}
        for path in glob.glob(osp.join(directory, 'tests', '*.json')):
            with open(path) as file:
                test = json.load(file)
            if test['test_images'] == 70:  # not the selection's on val
                tested[test['epoch']] = test['accuracy']
        assert tested == {
            1: result['each_epoch'][0]['accuracy'],
            None: result['accuracy']
        }
        assert sorted(
            osp.basename(path)
            for path in glob.glob(osp.join(directory, 'epoch_*.pth'))) == [
                'epoch_1.pth', 'epoch_2.pth'
            ]
        assert 'each_epoch' not in cell['1'][stage]
    # the teacher is not part of the comparison
    assert 'each_epoch' not in cell['0'][results['teachers']['patient']
                                         ['teacher']]


def _row(report, cell, comparison):
    match = re.search(rf'^\| {cell} \| {re.escape(comparison)} \| (.*) \|$',
                      report, re.MULTILINE)
    assert match, f'no row {cell} {comparison}'
    return [part.strip() for part in match.group(1).split('|')]


def test_the_report_shows_both_protocols_on_the_same_runs(tiny_study):
    results = tiny_study['results']
    report = tiny_study['report']
    cell = f'patient_{results["teachers"]["patient"]["teacher"]}'
    by_seed = results['results'][cell]
    honest = [
        by_seed[seed]['adaptconf']['accuracy'] -
        by_seed[seed]['kd']['accuracy'] for seed in ('0', '1')
    ]
    best = {
        stage: max(test['accuracy']
                   for test in by_seed['0'][stage]['each_epoch'])
        for stage in ('adaptconf', 'kd')
    }
    authors = best['adaptconf'] - best['kd']
    honest_part, authors_part = report.split("## The authors' protocol")
    row = _row(authors_part, cell, 'adaptconf − kd')
    # the honest paired differences; seed 0 last epoch; seed 0 best epoch
    assert row[1] == f'{honest[0]:+.2f}'
    assert row[2] == f'{authors:+.2f}'
    assert row[3] == f'{authors - honest[0]:+.2f}'
    gains = _row(honest_part, cell, 'adaptconf − kd')
    assert gains[1] == ', '.join(f'{d:+.2f}' for d in honest)
    for figure in ('gains.png', 'epochs.png', 'curves.png'):
        assert osp.getsize(osp.join(tiny_study['work_dir'], figure)) > 0
    # the full-size config trains on every training image but the
    # validation part
    assert by_seed['1']['finetune']['train_images'] == 275
    assert 'asked for' not in report
    assert 'not run: the teacher axis under the patient schedule' in report


def test_a_rerun_trains_nothing(tiny_study):
    again = _run(tiny_study['config'], tiny_study['work_dir'],
                 tiny_study['data_root'])
    assert 'trained:' not in again.stdout
    assert 're-tested:' not in again.stdout
    assert 'reused: seed 1 short_lenet_1ep/kd' in again.stdout
    assert re.search(r'start ', again.stdout) is None


def _files(directory):
    """Every file under ``directory`` (hidden ones too) with its size and
    modification time."""
    files = set()
    for root, _, names in os.walk(directory):
        for name in names:
            path = osp.join(root, name)
            files.add((path, os.stat(path).st_size, os.stat(path).st_mtime_ns))
    return files


def _dry_run(config, work_dir, data_root):
    return run_tool(
        python_tool('w2s_study.py') + [
            config, '--work-dir', work_dir, '--data-root', data_root,
            '--dry-run', '--cfg-options', *SHRUNK
        ],
        cwd=REPO_ROOT).stdout


def _choices(results, kind):
    return ', '.join(f'{schedule}: {results[kind][schedule][field]}'
                     for schedule in ('short', 'patient')
                     for field in [{
                         'teachers': 'teacher',
                         'values': 'value'
                     }[kind]])


def _headings(text):
    return [line for line in text.splitlines() if line.startswith('Phase')]


def test_a_dry_run_lists_every_phase_of_a_saved_study(tiny_study):
    """Once every run is saved, the dry run lists the three phases, with
    the choices the saved runs made (headed as the study's run printed
    them), and writes nothing."""
    results = tiny_study['results']
    work_dir = tiny_study['work_dir']
    before = _files(work_dir)
    stdout = _dry_run(tiny_study['config'], work_dir, tiny_study['data_root'])
    assert _files(work_dir) == before
    # the headings the study printed as it ran each phase
    assert [
        f'{title}:' for title in re.findall(r'^\d\d:\d\d:\d\d (Phase .*)$',
                                            tiny_study['stdout'], re.MULTILINE)
    ] == _headings(stdout)
    assert _headings(stdout) == [
        "Phase 1, each schedule's reference teacher (validation part, "
        'seed 0):',
        'Phase 2, adaptconf threshold under the reference teachers '
        f'({_choices(results, "teachers")}; validation part, seed 0):',
        'Phase 3, every cell at the chosen threshold '
        f'({_choices(results, "values")}; test split, seeds 0, 1):'
    ]
    runs = re.findall(r'^  seed_\d/\S+: .*; (\w[\w ,]*)$', stdout,
                      re.MULTILINE)
    assert runs and set(runs) == {'saved'}
    assert len(
        re.findall(r'stage\(s\), 0 to train \(0 iterations\); ', stdout)) == 3
    # the third phase's runs are the study's (each listed once)
    third = stdout.split('Phase 3')[1]
    assert len(re.findall(r'^  seed_', third, re.MULTILINE)) == len({
        result['key']
        for cell in results['results'].values()
        for stages in cell.values()
        for result in stages.values()
    })


def test_a_dry_run_stops_at_the_choices_it_cannot_make_yet(tmp_path):
    """With nothing saved: the first phase's runs, to train, and why the
    list stops there; the work dir is not even made."""
    data_root = write_fashion_like(
        str(tmp_path / 'idx'),
        num_train=300,
        num_test=70,
        sorted_by_class=True)
    config = tmp_path / 'tiny.py'
    config.write_text(TINY)
    work_dir = tmp_path / 'work'
    lines = _dry_run(str(config), str(work_dir), data_root).splitlines()
    lines = lines[lines.index(_headings('\n'.join(lines))[0]):]
    assert _headings('\n'.join(lines)) == [
        "Phase 1, each schedule's reference teacher (validation part, "
        'seed 0):'
    ]
    assert lines[1] == ('  pre-training to do first: the runs that start '
                        'from it are listed as to train')
    runs = [line for line in lines if line.startswith('  seed_0/')]
    # two teachers, the student alone under two schedules
    assert len(runs) == 4 and all(line.endswith('; to train') for line in runs)
    iterations = sum(
        int(re.search(r'(\d+) iterations; to train$', line).group(1))
        for line in runs)
    assert lines[2].startswith(
        f'  4 run(s) for 4 stage(s), 4 to train ({iterations:,} iterations); '
        f'300 training images, {VAL} held out for validation')
    assert lines[-1] == ('The next phases are chosen from these runs: they '
                         'are listed once these are saved.')
    assert not work_dir.exists()


def _describe(tiny_study, work_dir):
    """The dry run, in this process, of the tiny study in ``work_dir``."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    plan = plan_from_args(
        argparse.Namespace(
            config=tiny_study['config'],
            data_root=tiny_study['data_root'],
            cfg_options=parser.parse_args(['--cfg-options',
                                           *SHRUNK]).cfg_options))
    pipeline = Pipeline(plan, work_dir, EvalSpec(), PipelineEvents(),
                        Dispatcher(1))
    return '\n'.join(describe_study(pipeline, [0, 1]))


def test_a_dry_run_stops_at_the_first_phase_with_work_left(
        tiny_study, tmp_path):
    """A selection run not trained stops the list after its phase; one
    trained but not tested (on the validation part) stops it too."""
    results = tiny_study['results']
    selection = results['selection']
    untrained = str(tmp_path / 'untrained')
    shutil.copytree(tiny_study['work_dir'], untrained)
    short = results['values']['short']['value']
    other = next(value for value in (0.5, 4.0) if value != short)
    run = selection['select_threshold_short']['0'][
        f'adaptconf_threshold_{other}']
    os.remove(osp.join(untrained, run['directory'], 'train.json'))
    listed = _describe(tiny_study, untrained)
    assert _headings(listed)[1].startswith(
        'Phase 2, adaptconf threshold under the reference teachers '
        f'({_choices(results, "teachers")};')
    assert len(_headings(listed)) == 2
    assert f'{run["directory"]}: select_threshold_short/adaptconf_threshold_' \
        f'{other}; 1 epochs' in listed
    assert re.findall(r'; (to train|trained, to test)$', listed,
                      re.MULTILINE) == ['to train']
    assert listed.endswith('they are listed once these are saved.')

    untested = str(tmp_path / 'untested')
    shutil.copytree(tiny_study['work_dir'], untested)
    teacher = selection['select_teachers']['0']['lenet_1ep']
    os.remove(
        osp.join(untested, teacher['directory'], 'tests',
                 f'{teacher["test_key"][:16]}.json'))
    listed = _describe(tiny_study, untested)
    assert len(_headings(listed)) == 1
    assert re.findall(r'; (to train|trained, to test)$', listed,
                      re.MULTILINE) == ['trained, to test']
