# Copyright (c) mmw2s contributors. All rights reserved.
"""The study config's grid as pipeline settings, its choices, and the
runs it asks for (nothing is trained here)."""
import os.path as osp

import pytest
from conftest import REPO_ROOT, config_on_generated_idx

from mmw2s.pipeline import Dispatcher, EvalSpec, Pipeline, PipelineEvents
from mmw2s.study.grid import (FINETUNE, SELECT_TEACHERS, STRONG_TO_STRONG,
                              check_study, restrict_schedules,
                              selection_of_teachers, selection_of_tuned,
                              study_settings, tuned_stage)
from mmw2s.study.selection import choose_teachers, choose_values

CONFIG = osp.join(REPO_ROOT, 'configs', 'study', 'w2s_fashion-mnist.py')
BACKBONE = osp.join(REPO_ROOT, 'checkpoints', 'mae_vit-p4_fashion-mnist.pth')


@pytest.fixture
def plan(tmp_path):
    """The product's study config, unchanged, on 240 generated training
    images stored sorted by class."""
    return config_on_generated_idx(CONFIG, tmp_path / 'idx')


def _graph(plan, settings, seeds, evaluation):
    pipeline = Pipeline(plan, 'unused', evaluation, PipelineEvents(),
                        Dispatcher())
    pipeline.pretrained = BACKBONE
    return pipeline.plan_study(list(settings), list(seeds))


def _phase_settings(plan):
    references = {'short': 'lenet_8ep', 'patient': 'lenet_16ep'}
    chosen = {'short': 4.0, 'patient': 0.5}
    plan.settings = dict(
        selection_of_teachers(plan), **selection_of_tuned(plan, references),
        **study_settings(plan, references, chosen))
    return references, chosen


def test_the_config_asks_for_the_issues_grid(plan):
    check_study(plan)
    study = plan.study
    assert len(study.teachers) >= 4
    assert study.schedules.patient >= 5 * study.schedules.short
    assert list(study.tuned['values']) == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert len(study.seeds) >= 3
    references, _ = _phase_settings(plan)
    cells = [name for name in plan.settings if not name.startswith('select')]
    # every teacher at 3 epochs, the reference teacher when patient
    assert cells == [f'short_{teacher}' for teacher in study.teachers] + \
        ['patient_lenet_16ep']


def test_cells_run_each_method_at_the_chosen_value(plan):
    _phase_settings(plan)
    stages = plan.settings.patient_lenet_16ep.stages
    assert list(stages) == [
        'lenet_16ep', FINETUNE, 'kd', 'augconf', 'adaptconf', STRONG_TO_STRONG
    ]
    assert stages.adaptconf.loss.threshold == 0.5
    assert stages.adaptconf.teacher == 'lenet_16ep'
    assert stages[STRONG_TO_STRONG].teacher == FINETUNE
    assert stages[STRONG_TO_STRONG].loss.threshold == 0.5
    assert 'threshold' not in stages.kd.loss
    assert stages.augconf.warmup == dict(schedule='iter', ratio=0.3)
    for name in (FINETUNE, 'kd', 'adaptconf'):
        assert stages[name].epochs == 15 and stages[name].keep_checkpoints
    assert plan.settings.short_lenet_1ep.stages.kd.epochs == 3


def test_selection_runs_are_the_studys_runs(plan):
    """The selection seed's run of the chosen value, and its student alone,
    are the same runs (keys) in the study: re-tested, not retrained."""
    _phase_settings(plan)
    selection = _graph(plan, [SELECT_TEACHERS, 'select_threshold_short'], [0],
                       EvalSpec('val'))
    study = _graph(plan, ['short_lenet_8ep'], [0, 1],
                   EvalSpec('test', each_epoch=(0, )))
    entries = study.entries['short_lenet_8ep']
    assert entries[0]['adaptconf'].run == selection.entries[
        'select_threshold_short'][0][tuned_stage(plan.study, 4.0)].run
    assert entries[0][FINETUNE].run == selection.entries[SELECT_TEACHERS][0][
        'finetune_short'].run
    assert entries[1][FINETUNE].run != entries[0][FINETUNE].run
    # no iteration floor on the teacher axis
    teacher = study.runs[entries[0]['lenet_8ep'].run]
    assert teacher.stage.epochs == 8


def test_each_epoch_is_tested_only_for_the_seeds_asked(plan):
    _phase_settings(plan)
    study = _graph(plan, ['patient_lenet_16ep'], [0, 1],
                   EvalSpec('test', each_epoch=(0, )))
    entries = study.entries['patient_lenet_16ep']
    epoch_tests = entries[0]['kd'].epoch_tests
    run = study.runs[entries[0]['kd'].run]
    # 15 epochs of 220 images, raised to the iteration floor of 450
    epochs = run.stage.epochs
    assert epochs == 113 and len(epoch_tests) == epochs
    assert epoch_tests[-1] == entries[0]['kd'].test
    assert [run.tests[key]['epoch']
            for key in epoch_tests] == list(range(1, epochs)) + [None]
    assert entries[1]['kd'].epoch_tests == ()
    # the weak teacher keeps only its last checkpoint: no epoch tests
    assert entries[0]['lenet_16ep'].epoch_tests == ()
    # on the validation part there are none either
    val = _graph(plan, ['patient_lenet_16ep'], [0],
                 EvalSpec('val', each_epoch=(0, )))
    assert val.entries['patient_lenet_16ep'][0]['kd'].epoch_tests == ()


def _result(accuracy):
    return dict(accuracy=accuracy)


def test_reference_teacher_is_the_closest_gap_weaker_on_a_tie(plan):
    plan.study.reference_gap = 3.0
    stages = dict(
        lenet_1ep=_result(70.0),
        lenet_2ep=_result(80.0),
        lenet_8ep=_result(84.0),
        lenet_16ep=_result(90.0),
        finetune_short=_result(87.0),
        finetune_patient=_result(92.0))
    choices = choose_teachers(plan, {SELECT_TEACHERS: {0: stages}}, 0)
    # short: gaps 17, 7, 3, -3 -> lenet_8ep; patient: 22, 12, 8, 2 -> 16ep
    assert choices['short'].teacher == 'lenet_8ep'
    assert choices['short'].gaps['lenet_16ep'] == pytest.approx(-3.0)
    assert choices['patient'].teacher == 'lenet_16ep'
    stages['finetune_patient'] = _result(87.0)
    stages['lenet_2ep'] = _result(81.0)  # gaps 6 and 0: a tie at 3
    stages['lenet_8ep'] = _result(84.5)  # gap 2.5
    assert choose_teachers(plan, {SELECT_TEACHERS: {
        0: stages
    }}, 0)['patient'].teacher == 'lenet_8ep'
    stages['lenet_8ep'] = _result(90.0)
    stages['lenet_16ep'] = _result(84.0)
    stages['lenet_2ep'] = _result(90.0)
    stages['lenet_1ep'] = _result(84.0)  # two gaps of exactly 3
    assert choose_teachers(plan, {SELECT_TEACHERS: {
        0: stages
    }}, 0)['patient'].teacher == 'lenet_1ep'


def test_tuned_value_is_the_best_first_listed_on_a_tie(plan):
    values = plan.study.tuned['values']
    accuracy = dict(zip(values, [80.0, 82.0, 81.0, 82.0, 79.0, 70.0]))
    stages = {
        tuned_stage(plan.study, value): _result(accuracy[value])
        for value in values
    }
    choice = choose_values(plan, {'select_threshold_short': {
        0: stages
    }}, 0, ['short'])['short']
    assert choice.value == 0.5
    assert choice.accuracy == accuracy


@pytest.mark.parametrize('options, message', [
    (dict(tuned=dict(method='logconf')), 'study.tuned'),
    (dict(strong_to_strong='dkd'), 'study.strong_to_strong'),
    (dict(selection_seed=7), 'study.selection_seed is 7'),
    (dict(schedules=dict(short=0)), 'study.schedules.short is 0'),
    (dict(teacher_axis=dict(long='all')),
     r"study.teacher_axis names \['long'"),
    (dict(teacher_axis=dict(short='some')), 'study.teacher_axis.short is'),
])
def test_a_bad_study_names_its_key(plan, options, message):
    plan.merge_from_dict(dict(study=options))
    with pytest.raises((KeyError, ValueError), match=message):
        check_study(plan)


def test_schedules_are_restricted_by_name(plan):
    restrict_schedules(plan, ['patient'])
    assert dict(plan.study.schedules) == dict(patient=15)
    assert dict(plan.study.teacher_axis) == dict(patient='reference')
    with pytest.raises(ValueError, match=r"--schedules names \['long'\]"):
        restrict_schedules(plan, ['long'])


@pytest.mark.parametrize('options, message', [
    (dict(teachers=dict(finetune=dict(model='weak', epochs=1))),
     r"study names \['finetune'\] more than once"),
    (dict(teachers=dict(kd=dict(model='weak', epochs=1))),
     r"study names \['kd'\] more than once"),
    (dict(teacher_axis=dict(_delete_=True, short='all')),
     r"study.teacher_axis names \['short'\]; expected each schedule"),
    (dict(each_epoch_seeds=[0, 1]), r'study.each_epoch_seeds is \[0, 1\]'),
    (dict(each_epoch_seeds=[5]), r'study.each_epoch_seeds is \[5\]'),
    (dict(reference_gap='3'), r"study.reference_gap is '3'"),
])
def test_names_and_seeds_of_a_study_are_checked(plan, options, message):
    plan.merge_from_dict(dict(study=options))
    with pytest.raises(ValueError, match=message):
        check_study(plan)
