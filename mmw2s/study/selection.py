# Copyright (c) mmw2s contributors. All rights reserved.
"""The study's choices, made on the validation part with one seed and
then fixed: each schedule's reference teacher and its tuned value."""
from typing import Dict, List, NamedTuple

from mmengine.config import Config

from .grid import FINETUNE, SELECT_TEACHERS, tuned_stage


class TeacherChoice(NamedTuple):
    """A schedule's reference teacher and how it was chosen.

    Args:
        teacher (str): The chosen teacher.
        student (float): Validation accuracy of the student fine-tuned
            alone under the schedule.
        gaps (dict[str, float]): Each teacher's gap to it (points).
    """
    teacher: str
    student: float
    gaps: Dict[str, float]


class ValueChoice(NamedTuple):
    """A schedule's tuned value and the validation accuracy of each.

    Args:
        value: The chosen value (the first of the best).
        accuracy (dict): Value -> validation accuracy.
    """
    value: object
    accuracy: Dict[object, float]


def choose_teachers(plan: Config, results: dict,
                    seed: int) -> Dict[str, TeacherChoice]:
    """Per schedule, the teacher whose gap to the student alone is closest
    to ``study.reference_gap`` (the weaker one on a tie).

    Args:
        plan (Config): The study config.
        results (dict): The first phase's results, on the validation part.
        seed (int): The selection seed.

    Returns:
        dict[str, TeacherChoice]: By schedule.
    """
    study = plan.study
    stages = results[SELECT_TEACHERS][seed]
    choices = {}
    for schedule in study.schedules:
        student = stages[f'{FINETUNE}_{schedule}']['accuracy']
        gaps = {
            teacher: student - stages[teacher]['accuracy']
            for teacher in study.teachers
        }
        teacher = min(
            study.teachers,
            key=lambda name: abs(gaps[name] - study.reference_gap))
        choices[schedule] = TeacherChoice(teacher, student, gaps)
    return choices


def choose_values(plan: Config, results: dict, seed: int,
                  schedules: List[str]) -> Dict[str, ValueChoice]:
    """Per schedule, the tuned value with the best validation accuracy
    (the first listed on a tie).

    Args:
        plan (Config): The study config.
        results (dict): The second phase's results, on the validation part.
        seed (int): The selection seed.
        schedules (list[str]): The schedules.

    Returns:
        dict[str, ValueChoice]: By schedule.
    """
    study = plan.study
    choices = {}
    for schedule in schedules:
        stages = results[f'select_{study.tuned.field}_{schedule}'][seed]
        accuracy = {
            value: stages[tuned_stage(study, value)]['accuracy']
            for value in study.tuned['values']
        }
        best = max(accuracy.values())
        value = next(value for value in study.tuned['values']
                     if accuracy[value] == best)
        choices[schedule] = ValueChoice(value, accuracy)
    return choices
