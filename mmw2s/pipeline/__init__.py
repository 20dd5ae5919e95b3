# Copyright (c) mmw2s contributors. All rights reserved.
from .report import (load_scalars, markdown_table, plot_accuracy, plot_curves,
                     summary_rows)
from .stages import (WEAK_LOGITS_FILE, classifier_stage, iterations, stage_dir,
                     student_stage, weak_labelling_cfg)

__all__ = [
    'WEAK_LOGITS_FILE', 'classifier_stage', 'iterations', 'load_scalars',
    'markdown_table', 'plot_accuracy', 'plot_curves', 'stage_dir',
    'student_stage', 'summary_rows', 'weak_labelling_cfg'
]
