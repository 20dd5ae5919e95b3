# Copyright (c) mmw2s contributors. All rights reserved.
"""A study in three pipeline phases on one work dir.

1. every teacher, and the student fine-tuned alone under each schedule, on
   the validation part with the selection seed: each schedule's reference
   teacher (:func:`choose_teachers`);
2. the tuned method under each schedule's reference teacher, once per
   value, on the validation part with the selection seed: each schedule's
   value (:func:`choose_values`);
3. every cell of the grid at the chosen values, for every seed, tested on
   the test split; the ``each_epoch_seeds`` runs are also tested after
   every epoch (the authors' protocol, reported apart).

The runs of the selection seed that the study needs again are the same
runs (same keys): they are re-tested, not retrained.

:func:`describe_study` lists the phases' runs without training, as far as
the saved runs have made the choices.
"""
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

from mmw2s.pipeline import SAVED, EvalSpec, Pipeline
from mmw2s.pipeline.execution import Results

from .grid import (SELECT_TEACHERS, cell_setting, check_study,
                   selection_of_teachers, selection_of_tuned, study_cells,
                   study_settings)
from .selection import (TeacherChoice, ValueChoice, choose_teachers,
                        choose_values)


class StudyOutcome(NamedTuple):
    """What a study chose and measured.

    Args:
        teachers (dict[str, TeacherChoice]): Reference teacher by schedule.
        values (dict[str, ValueChoice]): Tuned value by schedule.
        selection (dict): Results of the two selection phases (validation
            part), ``results[setting][seed][stage]``.
        results (dict): Results of the study (test split).
        cells (dict[str, tuple[str, str]]): The study's settings, one per
            cell: its schedule and its teacher.
    """
    teachers: Dict[str, TeacherChoice]
    values: Dict[str, ValueChoice]
    selection: dict
    results: dict
    cells: Dict[str, Tuple[str, str]]


class Phase(NamedTuple):
    """One phase of a study, as the pipeline runs it.

    Attributes:
        title (str): What it does, with the choices it starts from.
        settings (list[str]): Its settings (in ``pipeline.plan.settings``).
        seeds (list[int]): Its seeds.
        chooses (bool): Whether its results make the next phase's choices.
    """
    title: str
    settings: List[str]
    seeds: List[int]
    chooses: bool


# runs a phase (its evaluation set on the pipeline): its results, or None
# to stop the study there
PhaseRunner = Callable[[Phase], Optional[Results]]


def run_study(pipeline: Pipeline, command: str, seeds: List[int]) -> \
        StudyOutcome:
    """Run the phases of ``pipeline.plan.study`` (see the module's doc).

    Args:
        pipeline (Pipeline): A pipeline on the study config; its settings
            and evaluation are set here, phase by phase.
        command (str): The command line, for the pre-training's record.
        seeds (list[int]): The study's seeds.

    Returns:
        StudyOutcome: The choices and the results.
    """

    def run_phase(phase: Phase) -> Results:
        pipeline.events.phase_started(phase.title)
        if pipeline.pretrained is None and \
                pipeline.uses_pretraining(phase.settings):
            pipeline.pretrain(command)
        return pipeline.run(phase.settings, phase.seeds)

    outcome = _run_phases(pipeline, seeds, run_phase)
    assert outcome is not None, 'run_phase stops no phase'
    return outcome


def describe_study(pipeline: Pipeline, seeds: List[int]) -> List[str]:
    """What the study needs, without training: each phase's runs as
    :meth:`Pipeline.describe` lists them, with what is saved. A phase whose
    choices come from runs that are not all saved yet ends the list (its
    saved results are read, never recomputed). Nothing is trained or
    written; like :func:`run_study`, it sets the pipeline's settings,
    evaluation and pre-trained backbone (a matching one, if any).

    Args:
        pipeline (Pipeline): A pipeline on the study config.
        seeds (list[int]): The study's seeds.

    Returns:
        list[str]: The lines to print.
    """
    pipeline.pretrained = pipeline.find_backbone()
    lines: List[str] = []

    def describe_phase(phase: Phase) -> Optional[Results]:
        lines.append(f'{phase.title}:')
        lines.extend(
            f'  {line}'
            for line in pipeline.describe(phase.settings, phase.seeds))
        if all(
                pipeline.run_state(run) == SAVED
                for run in pipeline.study.runs.values()):
            return pipeline.run(phase.settings, phase.seeds)
        if phase.chooses:
            lines.append('The next phases are chosen from these runs: they '
                         'are listed once these are saved.')
        return None

    _run_phases(pipeline, seeds, describe_phase)
    return lines


def _run_phases(pipeline: Pipeline, seeds: List[int],
                run_phase: PhaseRunner) -> Optional[StudyOutcome]:
    """The three phases, each run by ``run_phase``; None where it stops
    one."""
    plan = pipeline.plan
    check_study(plan)
    study = plan.study
    chooser = [study.selection_seed]
    plan.settings = selection_of_teachers(plan)
    # the each-epoch seeds' runs keep their checkpoints from the start, so
    # that the study re-tests them after every epoch without retraining
    each_epoch = tuple(study.each_epoch_seeds)
    pipeline.evaluation = EvalSpec('val', each_epoch=each_epoch)
    selection = run_phase(
        Phase(
            "Phase 1, each schedule's reference teacher (validation part, "
            f'seed {study.selection_seed})', [SELECT_TEACHERS], chooser, True))
    if selection is None:
        return None
    teachers = choose_teachers(plan, selection, study.selection_seed)

    references = {name: choice.teacher for name, choice in teachers.items()}
    tuned = selection_of_tuned(plan, references)
    plan.settings = dict(plan.settings, **tuned)
    chosen = run_phase(
        Phase(
            f'Phase 2, {study.tuned.method} {study.tuned.field} under the '
            f'reference teachers ({_listed(references)}; validation part, '
            f'seed {study.selection_seed})', list(tuned), chooser, True))
    if chosen is None:
        return None
    selection.update(chosen)
    values = choose_values(plan, selection, study.selection_seed,
                           list(study.schedules))

    value_of = {name: choice.value for name, choice in values.items()}
    settings = study_settings(plan, references, value_of)
    plan.settings = dict(plan.settings, **settings)
    pipeline.evaluation = EvalSpec('test', each_epoch=each_epoch)
    results = run_phase(
        Phase(
            f'Phase 3, every cell at the chosen {study.tuned.field} '
            f'({_listed(value_of)}; test split, seeds '
            f'{", ".join(map(str, seeds))})', list(settings), seeds, False))
    if results is None:
        return None
    cells = {
        cell_setting(schedule, teacher): (schedule, teacher)
        for schedule, teacher in study_cells(plan, references)
    }
    return StudyOutcome(teachers, values, selection, results, cells)


def _listed(by_schedule: Dict[str, object]) -> str:
    return ', '.join(f'{schedule}: {value}'
                     for schedule, value in by_schedule.items())
