# Copyright (c) mmw2s contributors. All rights reserved.
"""The study's report: its choices on the validation part, the honest
protocol (last epoch, tested once, every seed) and the authors' (best test
epoch, one seed) on the same runs, and plots of gain against the teacher's
gap."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config

from mmw2s.pipeline.report import (accuracies, compute_minutes, data_lines,
                                   environment_line, load_scalars,
                                   markdown_table, mean_std, plot_curves,
                                   pretrain_lines, runs_table)

from .grid import FINETUNE, STRONG_TO_STRONG
from .runner import StudyOutcome

Comparison = Tuple[str, str]  # (run, baseline); None baseline: the teacher


def comparisons(plan: Config) -> List[Comparison]:
    """What the study compares, run − baseline: each method against the
    student alone; the tuned method against each other method, against
    strong-to-strong and against its weak teacher (``'teacher'``)."""
    study = plan.study
    tuned = study.tuned.method
    pairs = [(method, FINETUNE) for method in study.methods]
    pairs += [(tuned, method) for method in study.methods if method != tuned]
    return pairs + [(tuned, STRONG_TO_STRONG), (tuned, 'teacher')]


def _stage(baseline: str, teacher: str) -> str:
    return teacher if baseline == 'teacher' else baseline


def differences(by_seed: Dict[int, Dict[str, dict]], comparison: Comparison,
                teacher: str) -> List[float]:
    """Per seed (in seed order), run − baseline, last epoch."""
    run, baseline = comparison
    return list(
        np.subtract(
            accuracies(by_seed, run),
            accuracies(by_seed, _stage(baseline, teacher))))


def best_epoch(result: dict) -> Tuple[float, int]:
    """The best test accuracy over the epochs of a run tested after each,
    and its epoch (the first on a tie)."""
    values = [test['accuracy'] for test in result['each_epoch']]
    index = int(np.argmax(values))
    return values[index], index + 1


def _epochs(count: int) -> str:
    return f'{count} epoch' + ('s' if count != 1 else '')


def _positive(values: Sequence[float]) -> str:
    return f'{sum(v > 0 for v in values)}/{len(values)}'


def _cell_teacher(outcome: StudyOutcome, cell: str) -> str:
    return outcome.cells[cell][1]


def _first_cell(outcome: StudyOutcome) -> str:
    return next(iter(outcome.cells))


def selection_lines(plan: Config, outcome: StudyOutcome) -> List[str]:
    """The choices, with every validation accuracy they were made on."""
    study = plan.study
    seed = study.selection_seed
    schedules = list(study.schedules)
    first = outcome.teachers[schedules[0]]
    rows = []
    for teacher in study.teachers:
        row = [teacher, f'{first.student - first.gaps[teacher]:.2f}']
        for schedule in schedules:
            choice = outcome.teachers[schedule]
            mark = ' **(reference)**' if choice.teacher == teacher else ''
            row.append(f'{choice.gaps[teacher]:+.2f}{mark}')
        rows.append(row)
    rows.append(['student alone', '—'] + [
        f'{outcome.teachers[schedule].student:.2f}' for schedule in schedules
    ])
    tuned = study.tuned
    value_rows = [[str(value)] + [
        f'{outcome.values[schedule].accuracy[value]:.2f}' +
        (' **(chosen)**' if outcome.values[schedule].value == value else '')
        for schedule in schedules
    ] for value in tuned['values']]
    return [
        f'## Choices (validation part, seed {seed})', '',
        'Chosen on the validation part held out from the training images, '
        f'with seed {seed}, then fixed for every seed; no test result was '
        'used.', '',
        f'Teachers: validation accuracy (%), and the gap (points) of the '
        'student fine-tuned alone over each, per schedule. The reference '
        "teacher of a schedule is the one whose gap is closest to "
        f'{study.reference_gap} points (`study.reference_gap`).', '',
        markdown_table(
            ['teacher', 'accuracy'] +
            [f'gap, {s} ({_epochs(study.schedules[s])})'
             for s in schedules], rows), '',
        f'{tuned.method} `{tuned.field}` under each schedule\'s reference '
        'teacher: validation accuracy (%).', '',
        markdown_table([tuned.field] + schedules, value_rows), ''
    ]


def accuracy_lines(plan: Config, outcome: StudyOutcome) -> List[str]:
    """Test accuracy of every run of every cell, last epoch, every seed."""
    study = plan.study
    stages = [FINETUNE] + list(study.methods) + [STRONG_TO_STRONG]
    rows = []
    for cell in outcome.cells:
        by_seed = outcome.results[cell]
        teacher = _cell_teacher(outcome, cell)
        gap = np.subtract(
            accuracies(by_seed, FINETUNE), accuracies(by_seed, teacher))
        rows.append([
            cell, teacher,
            mean_std(accuracies(by_seed, teacher)),
            mean_std(gap)
        ] + [mean_std(accuracies(by_seed, stage)) for stage in stages])
    seeds = sorted(outcome.results[_first_cell(outcome)])
    return [
        '## Honest protocol: test accuracy', '',
        'Each run\'s test after its last epoch, on the whole test split; '
        f'mean ± sample std over seeds {seeds}. The gap is the student '
        'alone minus its weak teacher (points, paired by seed).', '',
        markdown_table(
            ['cell', 'teacher', 'teacher (%)', 'gap'] + stages,
            rows,
            text_columns=2), ''
    ]


def gain_lines(plan: Config, outcome: StudyOutcome) -> List[str]:
    """Every comparison in every cell, paired by seed."""
    rows = []
    for cell in outcome.cells:
        teacher = _cell_teacher(outcome, cell)
        for comparison in comparisons(plan):
            values = differences(outcome.results[cell], comparison, teacher)
            rows.append([
                cell, f'{comparison[0]} − {comparison[1]}',
                mean_std(values), ', '.join(f'{v:+.2f}' for v in values),
                _positive(values)
            ])
    return [
        '## Honest protocol: paired differences', '',
        'Run − baseline on the same seed (points of test accuracy, last '
        'epoch); "positive" counts the seeds where the run is ahead.', '',
        markdown_table(
            ['cell', 'comparison', 'mean ± std', 'per seed', 'positive'],
            rows,
            text_columns=2), ''
    ]


def authors_lines(plan: Config, outcome: StudyOutcome) -> List[str]:
    """The authors' protocol on the same runs: the best test epoch of one
    seed, beside the honest figures."""
    seed = plan.study.each_epoch_seeds[0] if plan.study.each_epoch_seeds \
        else None
    if seed is None or seed not in outcome.results[_first_cell(outcome)]:
        return [
            "## The authors' protocol", '',
            'Not measured: no seed of this study was tested after every '
            'epoch (`study.each_epoch_seeds`).', ''
        ]
    rows = []
    for cell in outcome.cells:
        by_seed = outcome.results[cell]
        teacher = _cell_teacher(outcome, cell)
        seeds = sorted(by_seed)
        for comparison in comparisons(plan):
            if comparison[1] == 'teacher':
                continue
            honest = differences(by_seed, comparison, teacher)
            last = honest[seeds.index(seed)]
            run, baseline = comparison
            authors = best_epoch(by_seed[seed][run])[0] - best_epoch(
                by_seed[seed][baseline])[0]
            rows.append([
                cell, f'{run} − {baseline}',
                f'{mean_std(honest)} ({len(seeds)} seeds)', f'{last:+.2f}',
                f'{authors:+.2f}', f'{authors - last:+.2f}'
            ])
    return [
        "## The authors' protocol beside the honest one", '',
        f"The authors' trainer tests every epoch and keeps the best; their "
        f'tables are single runs. Here seed {seed}\'s runs were also tested '
        'after every epoch (for this comparison only; nothing was chosen '
        'on it). "Best-epoch effect" is what keeping the best epoch alone '
        'adds to a difference on the same seed; the spread over seeds is '
        'what a single seed can show by chance.', '',
        markdown_table([
            'cell', 'comparison', 'honest: last epoch, mean ± std',
            f'seed {seed}, last epoch', f"seed {seed}, best epoch (authors')",
            'best-epoch effect'
        ],
                       rows,
                       text_columns=2), ''
    ]


def plot_gains(plan: Config, outcome: StudyOutcome, path: str) -> None:
    """Gain over the student alone against the teacher's gap, one panel
    per method, one line per schedule, error bars over seeds."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    study = plan.study
    methods = list(study.methods)
    figure, axes = plt.subplots(
        1,
        len(methods),
        figsize=(4.6 * len(methods), 3.8),
        squeeze=False,
        sharey=True)
    for axis, method in zip(axes[0], methods):
        for schedule in study.schedules:
            cells = [
                cell for cell in outcome.cells
                if outcome.cells[cell][0] == schedule
            ]
            gaps, gains, errors = [], [], []
            for cell in cells:
                by_seed = outcome.results[cell]
                teacher = _cell_teacher(outcome, cell)
                gap = np.subtract(
                    accuracies(by_seed, FINETUNE),
                    accuracies(by_seed, teacher))
                gain = differences(by_seed, (method, FINETUNE), teacher)
                gaps.append(gap.mean())
                gains.append(np.mean(gain))
                errors.append(np.std(gain, ddof=1) if len(gain) > 1 else 0)
            order = np.argsort(gaps)
            axis.errorbar(
                np.array(gaps)[order],
                np.array(gains)[order],
                yerr=np.array(errors)[order],
                marker='o',
                capsize=3,
                label=f'{schedule} ({_epochs(study.schedules[schedule])})')
        axis.axhline(0, color='#616161', linestyle=':')
        axis.set_title(f'{method} − student alone')
        axis.set_xlabel('gap: student alone − weak teacher (points)')
        axis.set_ylabel('gain (points of test accuracy)')
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_epochs(plan: Config, outcome: StudyOutcome, seed: int,
                path: str) -> None:
    """Test accuracy after each epoch of the longest schedule's runs of
    ``seed`` (what the authors' protocol picks its best epoch from)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    study = plan.study
    longest = max(study.schedules, key=lambda name: study.schedules[name])
    cells = [
        cell for cell in outcome.cells if outcome.cells[cell][0] == longest
    ]
    figure, axes = plt.subplots(
        1, len(cells), figsize=(5 * len(cells), 3.8), squeeze=False)
    for axis, cell in zip(axes[0], cells):
        for stage in [FINETUNE] + list(study.methods) + [STRONG_TO_STRONG]:
            values = [
                test['accuracy']
                for test in outcome.results[cell][seed][stage]['each_epoch']
            ]
            axis.plot(
                range(1,
                      len(values) + 1), values, marker='.', label=stage)
        axis.set_title(f'{cell}, seed {seed}')
        axis.set_xlabel('epoch')
        axis.set_ylabel('test accuracy (%)')
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _write(path: str, text: str) -> None:
    with open(f'{path}.tmp', 'w') as file:
        file.write(text)
    os.replace(f'{path}.tmp', path)


def write_study_report(pipeline,
                       outcome: StudyOutcome,
                       elapsed: float,
                       command: str,
                       cut: Optional[List[str]] = None) -> str:
    """Write ``report.md``, its plots and ``results.json`` (the choices,
    the selection's and the study's results) into the work dir.

    Args:
        pipeline (Pipeline): The pipeline the study ran on.
        outcome (StudyOutcome): What it chose and measured.
        elapsed (float): Wall time of this invocation, in seconds.
        command (str): The command line.
        cut (list[str], optional): What the config leaves out of the full
            grid, one sentence each.

    Returns:
        str: The report's path.
    """
    plan = pipeline.plan
    work_dir = pipeline.work_dir
    study = plan.study
    seeds = sorted(outcome.results[_first_cell(outcome)])
    everything = dict(outcome.selection, **outcome.results)
    lines = [
        f'# {study.title}', '', f'Command: `{command}`', '',
        f'Seeds {seeds}; accuracy (%) is top-1 on the whole test split '
        'unless a section says otherwise.', ''
    ]
    lines += selection_lines(plan, outcome)
    lines += accuracy_lines(plan, outcome)
    lines += ['![gain against the gap](gains.png)', '']
    lines += gain_lines(plan, outcome)
    lines += authors_lines(plan, outcome)
    plot_gains(plan, outcome, osp.join(work_dir, 'gains.png'))
    if study.each_epoch_seeds and study.each_epoch_seeds[0] in seeds:
        plot_epochs(plan, outcome, study.each_epoch_seeds[0],
                    osp.join(work_dir, 'epochs.png'))
        lines += ['![test accuracy per epoch](epochs.png)', '']
    longest = max(study.schedules, key=lambda name: study.schedules[name])
    plot_curves(
        {
            f'{cell}/{stage}':
            load_scalars(osp.join(work_dir, result['directory']))
            for cell in outcome.cells if outcome.cells[cell][0] == longest
            for stage, result in outcome.results[cell][seeds[0]].items()
            if stage in study.methods or stage == STRONG_TO_STRONG
        }, osp.join(work_dir, 'curves.png'))
    lines += [
        f'Training curves of the {longest} schedule (seed {seeds[0]}):', '',
        '![curves](curves.png)', '', '## What was run', ''
    ]
    lines += data_lines(pipeline, outcome.results)
    lines += pretrain_lines(pipeline)
    lines += [f'- not run: {sentence}' for sentence in cut or []]
    lines += [
        environment_line(everything),
        f'- wall time: {elapsed / 60:.1f} min in this invocation (reused '
        'runs cost nothing); the runs of this report took '
        f'{compute_minutes(everything):.1f} min when they ran (selection '
        'included, each shared run and test once)', '', '## Runs', ''
    ]
    lines += runs_table(everything)
    _write(
        osp.join(work_dir, 'results.json'),
        json.dumps(
            dict(
                teachers={
                    k: v._asdict()
                    for k, v in outcome.teachers.items()
                },
                values={
                    k:
                    dict(
                        value=v.value,
                        accuracy={
                            str(x): a
                            for x, a in v.accuracy.items()
                        })
                    for k, v in outcome.values.items()
                },
                selection=outcome.selection,
                results=outcome.results),
            indent=1))
    path = osp.join(work_dir, 'report.md')
    _write(path, '\n'.join(lines))
    return path
