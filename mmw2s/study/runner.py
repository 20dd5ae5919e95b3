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
"""
from typing import Dict, List, NamedTuple, Tuple

from mmw2s.pipeline import EvalSpec, Pipeline

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
    plan = pipeline.plan
    check_study(plan)
    study = plan.study
    chooser = [study.selection_seed]
    plan.settings = selection_of_teachers(plan)
    if pipeline.uses_pretraining([SELECT_TEACHERS]):
        pipeline.pretrain(command)
    # the each-epoch seeds' runs keep their checkpoints from the start, so
    # that the study re-tests them after every epoch without retraining
    each_epoch = tuple(study.each_epoch_seeds)
    pipeline.evaluation = EvalSpec('val', each_epoch=each_epoch)
    selection = pipeline.run([SELECT_TEACHERS], chooser)
    teachers = choose_teachers(plan, selection, study.selection_seed)

    tuned = selection_of_tuned(plan, {
        name: choice.teacher
        for name, choice in teachers.items()
    })
    plan.settings = dict(plan.settings, **tuned)
    selection.update(pipeline.run(list(tuned), chooser))
    values = choose_values(plan, selection, study.selection_seed,
                           list(study.schedules))

    references = {name: choice.teacher for name, choice in teachers.items()}
    settings = study_settings(plan, references, {
        name: choice.value
        for name, choice in values.items()
    })
    plan.settings = dict(plan.settings, **settings)
    pipeline.evaluation = EvalSpec('test', each_epoch=each_epoch)
    results = pipeline.run(list(settings), seeds)
    cells = {
        cell_setting(schedule, teacher): (schedule, teacher)
        for schedule, teacher in study_cells(plan, references)
    }
    return StudyOutcome(teachers, values, selection, results, cells)
