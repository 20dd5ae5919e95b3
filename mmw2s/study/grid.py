# Copyright (c) mmw2s contributors. All rights reserved.
"""A study's grid as pipeline settings.

A study config's ``study`` dict is data, not code: weak teachers of several
strengths, schedules, methods and a tuned hyper-parameter. This module
turns it into the settings of ``mmw2s.pipeline`` for each of the study's
three phases, so that every run is an ordinary pipeline run, keyed and
reused like any other (the seed-0 run of a chosen value is the same run in
the selection and in the study).

Its fields:

- ``student`` (dict): stage fields of every student (``model``, ``init``,
  ``train``, ``samples``);
- ``teachers`` (dict): name -> stage fields of a weak model (``model``,
  ``epochs``...), from the weakest to the strongest;
- ``schedules`` (dict): name -> the students' epochs;
- ``teacher_axis`` (dict): schedule -> ``'all'`` (every teacher) or
  ``'reference'`` (only the schedule's reference teacher: the one whose
  gap to the student fine-tuned alone, on the validation part, is closest
  to ``reference_gap`` points);
- ``methods`` (dict): name -> ``loss`` and optional ``warmup`` of a
  distillation from the weak teacher, added to the labels' loss;
- ``tuned`` (dict): ``method``, ``field`` of its loss and the ``values``
  chosen among on the validation part, per schedule;
- ``strong_to_strong`` (str): the method a student fine-tuned alone then
  teaches a fresh student with (its tuned value as chosen);
- ``seeds`` (list[int]), ``selection_seed`` (int) and
  ``each_epoch_seeds`` (list[int]: seeds also tested after every epoch,
  for the authors' protocol);
- ``title`` (str) and ``cut`` (list[str], optional): the report's title,
  and what the study leaves out of the full grid, one sentence each.
"""
import copy
from typing import Dict, List

from mmengine.config import Config

FINETUNE = 'finetune'
STRONG_TO_STRONG = 'strong_to_strong'
SELECT_TEACHERS = 'select_teachers'
REQUIRED = ('title', 'student', 'teachers', 'schedules', 'teacher_axis',
            'reference_gap', 'methods', 'tuned', 'strong_to_strong', 'seeds',
            'selection_seed', 'each_epoch_seeds')
TEACHER_AXES = ('all', 'reference')


def check_study(plan: Config) -> None:
    """Refuse a ``study`` dict that misses a field or names what it does not
    define, naming the key."""
    study = plan.get('study')
    if study is None:
        raise KeyError('the config has no `study` dict; see mmw2s.study.grid '
                       'for its fields.')
    missing = [key for key in REQUIRED if key not in study]
    if missing:
        raise KeyError(f'study is missing {missing}; expected all of '
                       f'{list(REQUIRED)}.')
    if set(study.teacher_axis) != set(study.schedules):
        raise ValueError(
            f'study.teacher_axis names {sorted(study.teacher_axis)}; '
            f'expected each schedule of {sorted(study.schedules)} once.')
    for schedule, axis in study.teacher_axis.items():
        if axis not in TEACHER_AXES:
            raise ValueError(f'study.teacher_axis.{schedule} is {axis!r}; '
                             f'expected one of {TEACHER_AXES}.')
    _check_names(study)
    if not isinstance(study.reference_gap, (int, float)):
        raise ValueError(f'study.reference_gap is {study.reference_gap!r}; '
                         'expected a number of points.')
    for schedule, epochs in study.schedules.items():
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f'study.schedules.{schedule} is {epochs!r}; '
                             'expected epochs, an int >= 1.')
    tuned = study.tuned
    if tuned.get('method') not in study.methods or not isinstance(
            tuned.get('field'), str) or not tuned.get('values'):
        raise ValueError(
            f'study.tuned is {dict(tuned)}; expected a method of '
            f'{list(study.methods)}, the field of its loss and its values.')
    if study.strong_to_strong not in study.methods:
        raise ValueError(f'study.strong_to_strong is '
                         f'{study.strong_to_strong!r}; expected a method of '
                         f'{list(study.methods)}.')
    if study.selection_seed not in study.seeds:
        raise ValueError(f'study.selection_seed is {study.selection_seed}; '
                         f'expected one of study.seeds {list(study.seeds)}.')
    if len(study.each_epoch_seeds) > 1 or not set(
            study.each_epoch_seeds) <= set(study.seeds):
        raise ValueError(
            f'study.each_epoch_seeds is {list(study.each_epoch_seeds)}; '
            'expected one seed of study.seeds (the authors\' protocol is a '
            'single run), or none.')


def _check_names(study) -> None:
    """Teachers, methods and the study's own stages share a setting's
    stages: a name used twice would replace a stage."""
    own = [FINETUNE, STRONG_TO_STRONG
           ] + [f'{FINETUNE}_{schedule}' for schedule in study.schedules]
    names = list(study.teachers) + list(study.methods) + own
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f'study names {repeated} more than once among its teachers '
            f'{list(study.teachers)}, its methods {list(study.methods)} and '
            f'its own stages {own}; expected distinct names.')


def restrict_schedules(plan: Config, names: List[str]) -> None:
    """Keep only the schedules ``names`` of the study (a study run in
    pieces: its report covers those)."""
    study = plan.study
    unknown = [name for name in names if name not in study.schedules]
    if unknown:
        raise ValueError(f'--schedules names {unknown}; the study defines '
                         f'{list(study.schedules)}.')
    study.schedules = {name: study.schedules[name] for name in names}
    study.teacher_axis = {name: study.teacher_axis[name] for name in names}


def _student(study, schedule: str) -> dict:
    """A student's stage fields under ``schedule``; every checkpoint kept,
    for the authors' protocol."""
    return dict(
        copy.deepcopy(dict(study.student)),
        epochs=study.schedules[schedule],
        keep_checkpoints=True)


def _method(study, name: str, teacher: str, tuned_value=None) -> dict:
    """The stage fields a method adds to a student taught by ``teacher``;
    the tuned method's loss gets ``tuned_value``."""
    method = copy.deepcopy(dict(study.methods[name]))
    if name == study.tuned.method:
        method['loss'] = dict(method['loss'],
                              **{study.tuned.field: tuned_value})
    return dict(method, teacher=teacher)


def tuned_stage(study, value) -> str:
    """The name of the selection stage that tries ``value``."""
    return f'{study.tuned.method}_{study.tuned.field}_{value}'


def selection_of_teachers(plan: Config) -> Dict[str, dict]:
    """The first phase: every teacher, and the student fine-tuned alone
    under each schedule (their gaps choose the reference teachers)."""
    study = plan.study
    stages = {
        name: copy.deepcopy(dict(fields))
        for name, fields in study.teachers.items()
    }
    for schedule in study.schedules:
        stages[f'{FINETUNE}_{schedule}'] = _student(study, schedule)
    return {
        SELECT_TEACHERS:
        dict(title='Teachers and students alone', stages=stages)
    }


def selection_of_tuned(plan: Config, references: Dict[str,
                                                      str]) -> Dict[str, dict]:
    """The second phase: per schedule, the tuned method under the
    schedule's reference teacher, once per value."""
    study = plan.study
    settings = {}
    for schedule, teacher in references.items():
        stages = {teacher: copy.deepcopy(dict(study.teachers[teacher]))}
        for value in study.tuned['values']:
            stages[tuned_stage(study, value)] = dict(
                _student(study, schedule),
                **_method(study, study.tuned.method, teacher, value))
        settings[f'select_{study.tuned.field}_{schedule}'] = dict(
            title=f'{study.tuned.method} {study.tuned.field}, {schedule}',
            stages=stages)
    return settings


def cell_setting(schedule: str, teacher: str) -> str:
    """The name of the setting of one cell of the grid."""
    return f'{schedule}_{teacher}'


def study_cells(plan: Config, references: Dict[str, str]) -> List[tuple]:
    """The grid's (schedule, teacher) cells that the study runs."""
    study = plan.study
    return [
        (schedule, teacher) for schedule in study.schedules
        for teacher in (list(study.teachers) if study.teacher_axis[schedule] ==
                        'all' else [references[schedule]])
    ]


def study_settings(plan: Config, references: Dict[str, str],
                   chosen: Dict[str, object]) -> Dict[str, dict]:
    """The third phase: each cell with the student alone, each method from
    the weak teacher, and strong-to-strong, at the chosen values."""
    study = plan.study
    settings = {}
    for schedule, teacher in study_cells(plan, references):
        student = _student(study, schedule)
        stages = {
            teacher: copy.deepcopy(dict(study.teachers[teacher])),
            FINETUNE: student
        }
        for method in study.methods:
            stages[method] = dict(
                student, **_method(study, method, teacher, chosen[schedule]))
        stages[STRONG_TO_STRONG] = dict(
            student,
            **_method(study, study.strong_to_strong, FINETUNE,
                      chosen[schedule]))
        settings[cell_setting(schedule, teacher)] = dict(
            title=f'{schedule} schedule, teacher {teacher}',
            pair=dict(weak=teacher, strong=FINETUNE),
            stages=stages)
    return settings
