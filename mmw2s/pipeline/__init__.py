# Copyright (c) mmw2s contributors. All rights reserved.
"""The weak-to-strong study: a config of settings and stages on any
mmpretrain data and models, resolved into a graph of runs, sent out by
submitit, and reported.

- ``plan``: the config's stages, checked; the keys' form;
- ``data``: dataset configs of the splits and their seeded parts, sizes
  (counts or fractions), and the SHA-256 of what a dataset reads;
- ``graph``: each (setting, seed, stage) resolved against the data into a
  run keyed by its training's inputs, with its tests keyed apart; identical
  runs merged;
- ``stages``: the runner configs of a run's training and tests;
- ``jobs``: what one job does in its own process (pre-train; train unless
  saved, then test what is not);
- ``dispatch``: submitit (local processes or SLURM), a job after its
  teacher's, a failure stopping only what needs it;
- ``execution``: the whole study; ``report``: tables, claims, plots;
- ``progress``: what the tools show while it runs, and their dispatch
  options.

A study over a grid of settings (teacher strength, schedule, method) with
its choices made on the validation part is :mod:`mmw2s.study`, on this
pipeline.
"""
from .dispatch import Dispatcher
from .execution import (SAVED, TO_TEST, TO_TRAIN, Pipeline, PipelineEvents,
                        StudyFailed)
from .plan import EvalSpec, setting_names
from .report import write_report

__all__ = [
    'SAVED', 'TO_TEST', 'TO_TRAIN', 'Dispatcher', 'EvalSpec', 'Pipeline',
    'PipelineEvents', 'StudyFailed', 'setting_names', 'write_report'
]
