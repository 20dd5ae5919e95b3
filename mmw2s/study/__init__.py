# Copyright (c) mmw2s contributors. All rights reserved.
"""When does weak-to-strong help? A study over teacher strength, schedule
length and method on the pipeline (:mod:`mmw2s.pipeline`), with its
choices made on the validation part and two protocols on the same runs.

- ``grid``: the study config's grid as pipeline settings, per phase;
- ``selection``: the reference teachers and the tuned value;
- ``runner``: the three phases on one work dir;
- ``report``: tables, the authors' protocol beside the honest one, plots.
"""
from .grid import check_study, restrict_schedules
from .report import write_study_report
from .runner import StudyOutcome, describe_study, run_study

__all__ = [
    'StudyOutcome', 'check_study', 'describe_study', 'restrict_schedules',
    'run_study', 'write_study_report'
]
