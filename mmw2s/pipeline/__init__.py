# Copyright (c) mmw2s contributors. All rights reserved.
from .execution import Pipeline, PipelineEvents
from .plan import EvalSpec, setting_names
from .report import write_report

__all__ = [
    'EvalSpec', 'Pipeline', 'PipelineEvents', 'setting_names', 'write_report'
]
