# Copyright (c) mmw2s contributors. All rights reserved.
"""The pipeline's report: a claims table, one table per setting, charts.

Every size and name in it is read from the results, which the stages read
from the datasets they built; derived figures (PGR) appear only where they
are defined.
"""
import glob
import json
import os
import os.path as osp
import platform
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mmw2s.evaluation import performance_gap_recovered

# results[setting][seed][stage] = the stage's result.json
Results = Dict[str, Dict[int, Dict[str, dict]]]
CURVE_KEYS = (('distill.w2s_beta', 'beta (AdaptConf)'),
              ('distill.w2s_alpha', 'a = warmup_factor * alpha'),
              ('distill.agreement', 'student-teacher agreement'))
RELATIONS = ('>', '>=')


def load_scalars(stage_dir: str) -> Dict[str, List[Tuple[int, float]]]:
    """The training scalars a stage logged (all of its runs, e.g. after a
    resume), by key, as (iteration, value) sorted by iteration.

    Args:
        stage_dir (str): The stage's work directory.

    Returns:
        dict[str, list[tuple[int, float]]]: The logged series.
    """
    series: Dict[str, Dict[int, float]] = {}
    for path in sorted(
            glob.glob(osp.join(stage_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as file:
            for line in file:
                record = json.loads(line)
                step = record.get('step')
                if step is None or 'lr' not in record:  # training lines only
                    continue
                for key, value in record.items():
                    if isinstance(value, (int, float)):
                        series.setdefault(key, {})[int(step)] = float(value)
    return {key: sorted(values.items()) for key, values in series.items()}


def mean_std(values: Sequence[float], digits: int = 2) -> str:
    """``mean ± std`` (sample std) of ``values``; the value alone for
    one."""
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f'{values[0]:.{digits}f}'
    return (f'{values.mean():.{digits}f} ± '
            f'{values.std(ddof=1):.{digits}f}')


def accuracies(results: Dict[int, Dict[str, dict]], stage: str) -> List[float]:
    """The stage's accuracy for each seed, in seed order."""
    return [results[seed][stage]['accuracy'] for seed in sorted(results)]


def pgr_values(results: Dict[int, Dict[str, dict]], stage: str,
               pgr: dict) -> Tuple[Optional[List[float]], str]:
    """PGR of ``stage`` on each seed, or None and why it is undefined.

    PGR is defined on a seed only when the ceiling is above the weak model.
    """
    weak = accuracies(results, pgr['weak'])
    ceiling = accuracies(results, pgr['ceiling'])
    inverted = [
        seed for seed, w, c in zip(sorted(results), weak, ceiling) if c <= w
    ]
    if inverted:
        return None, (f'no PGR: the ceiling ({pgr["ceiling"]}) is not above '
                      f'the weak model ({pgr["weak"]}) on seed(s) '
                      f'{inverted}, so there is no gap to recover')
    return [
        performance_gap_recovered(s, w, c)
        for s, w, c in zip(accuracies(results, stage), weak, ceiling)
    ], ''


def claim_row(spec: dict, results: Dict[int, Dict[str, dict]]) -> List[str]:
    """One row of the claims table: the measured paired differences (run −
    baseline, per seed) and whether the claim holds on every seed.

    ``spec``: ``claim`` (text), ``run``, and either ``baseline`` (with
    ``relation`` ``'>'`` or ``'>='``) or ``pgr`` (the setting's PGR: the
    claim is PGR > ``above``, default 0; the difference is PGR − above).
    """
    seeds = sorted(results)
    if spec.get('pgr'):
        values, why = pgr_values(results, spec['run'], spec['pgr'])
        if values is None:
            return [spec['claim'], '—', '—', '—', f'undefined ({why})']
        measured = f'PGR {mean_std(values)}'
        differences = list(np.subtract(values, spec.get('above', 0.0)))
        relation = '>'
    else:
        relation = spec.get('relation', '>')
        if relation not in RELATIONS:
            raise ValueError(f'claim {spec["claim"]!r}: relation must be one '
                             f'of {RELATIONS}, got {relation!r}.')
        differences = list(
            np.subtract(
                accuracies(results, spec['run']),
                accuracies(results, spec['baseline'])))
        measured = (f'{mean_std(accuracies(results, spec["run"]))} vs '
                    f'{mean_std(accuracies(results, spec["baseline"]))}')
    holding = [d > 0 if relation == '>' else d >= 0 for d in differences]
    count = sum(holding)
    if count == len(seeds):
        verdict = 'holds' + (' on every seed' if len(seeds) > 1 else '')
    elif count == 0:
        verdict = 'does not hold'
    else:
        verdict = f'holds on {count} of {len(seeds)} seeds only'
    per_seed = ', '.join(f'{d:+.2f}' for d in differences)
    return [
        spec['claim'], measured, per_seed, f'{count}/{len(seeds)}', verdict
    ]


def markdown_table(header: Sequence[str],
                   rows: List[List[str]],
                   text_columns: int = 1) -> str:
    """A Markdown table: the first ``text_columns`` left-aligned, the
    others (numbers) right-aligned."""
    alignments = ['---'] * text_columns + ['---:'] * (
        len(header) - text_columns)
    lines = [
        '| ' + ' | '.join(header) + ' |', '|' + '|'.join(alignments) + '|'
    ]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def setting_table(spec, results: Dict[int, Dict[str, dict]]) -> List[str]:
    """The lines of one setting's table, with the PGR column where the
    setting defines one and a sentence where PGR is undefined."""
    pgr = spec.get('pgr')
    header = ['run', 'what it is', 'training images', 'top-1 (%)', 'per seed']
    pgr_note = ''
    if pgr:
        header.append('PGR')
    rows = []
    first = results[min(results)]
    for stage in spec.stages:
        values = accuracies(results, stage)
        row = [
            stage, spec.stages[stage].get('title', ''),
            f'{first[stage]["train_images"]:,}',
            mean_std(values), ', '.join(f'{v:.2f}' for v in values)
        ]
        if pgr:
            if stage in (pgr['weak'], pgr['ceiling']):
                row.append('—')
            else:
                pgr_list, pgr_note = pgr_values(results, stage, pgr)
                row.append(mean_std(pgr_list) if pgr_list else 'undefined')
        rows.append(row)
    lines = [markdown_table(header, rows, text_columns=2)]
    if pgr_note:
        lines += ['', f'PGR is not reported: {pgr_note}.']
    return lines


def _data_lines(pipeline, results: Results) -> List[str]:
    """What was read: the data set, its classes and sizes, from results."""
    plan = pipeline.plan
    any_result = next(
        iter(next(iter(next(iter(results.values())).values())).values()))
    classes = any_result['classes']
    evaluation = pipeline.evaluation
    tested = any_result['test_images']
    if evaluation.split == 'val':
        where = (f'the validation part held out from the training images '
                 f'({tested:,} images; hyper-parameter selection run, not a '
                 'test result)')
    elif evaluation.samples is not None:
        where = (f'a seeded random subset of {tested:,} images of the test '
                 f'split (--test-samples {evaluation.samples}), not the '
                 'whole test split')
    else:
        where = f'the whole test split ({tested:,} images)'
    lines = [
        f'- data: `{plan.data.type}` read from `{plan.data.data_root}`; '
        f'{len(classes)} classes: {", ".join(classes)}',
        f'- each run is tested once, at its end, on {where}; chance is '
        f'{100 / len(classes):.1f}%',
        f'- {plan.data.get("val_samples", 0):,} training images are held out '
        'as the validation part (never trained on)'
    ]
    for setting, by_seed in results.items():
        for stage, result in by_seed[min(by_seed)].items():
            requested = result.get('requested_samples')
            if requested and requested > result['train_images']:
                lines.append(
                    f'- {setting}/{stage} asked for {requested:,} training '
                    f'images; the data has {result["train_images"]:,}, so it '
                    'used those')
    return lines


def _pretrain_lines(pipeline) -> List[str]:
    if pipeline.pretrained is None:
        return ['- no stage of these settings starts from pre-training']
    record_file = osp.splitext(pipeline.pretrained)[0] + '.json'
    with open(record_file) as file:
        record = json.load(file)
    recipe = pipeline.plan.pretrain
    return [
        f'- strong backbone pre-trained with {recipe.title} on the '
        f'unlabelled training images, {recipe.epochs} epochs, seed '
        f'{recipe.seed}: `{pipeline.pretrained}` (SHA-256 '
        f'{record["sha256"][:16]}…, made by `{record["command"]}`)'
    ]


def _environment_line() -> str:
    cpu = platform.processor() or 'unknown CPU'
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as file:
            names = [
                line.split(':', 1)[1].strip() for line in file
                if line.startswith('model name')
            ]
        cpu = names[0] if names else cpu
    device = (f'GPU {torch.cuda.get_device_name(0)}'
              if torch.cuda.is_available() else 'no GPU')
    return (f'- hardware: {cpu}, {os.cpu_count()} cores, {device}; '
            f'torch {torch.__version__}')


def write_report(pipeline, results: Results, seeds: Sequence[int],
                 elapsed: float, command: str) -> str:
    """Write ``report.md``, ``accuracy.png`` and ``curves.png`` into the
    pipeline's work dir.

    Args:
        pipeline (Pipeline): The pipeline that produced ``results``.
        results (dict): ``results[setting][seed][stage]``.
        seeds (Sequence[int]): The seeds.
        elapsed (float): Wall time of this invocation, in seconds.
        command (str): The command line.

    Returns:
        str: The report's path.
    """
    plan = pipeline.plan
    claims = []
    for setting in results:
        for claim in plan.settings[setting].get('claims', []):
            row = claim_row(claim, results[setting])
            claims.append([row[0], setting, *row[1:]])
    lines = [
        '# Weak-to-strong report', '', f'Command: `{command}`', '',
        f'Seeds: {list(seeds)}. Top-1 accuracy (%) on the evaluation '
        'split (see "What was run"), mean ± sample std over the seeds.', '',
        '## Claims', '',
        'Each claim compares two runs of the same seed (paired '
        'difference, run − baseline); it holds when the difference is '
        'positive (≥ 0 for ≥) on every seed.', '',
        markdown_table([
            'claim', 'setting', 'measured', 'per-seed difference', 'positive',
            'verdict'
        ],
                       claims,
                       text_columns=2), ''
    ]
    for setting in results:
        spec = plan.settings[setting]
        lines += [f'## {spec.title}', '']
        if spec.get('paper'):
            lines += [f"The paper's setting: {spec.paper}.", '']
        lines += setting_table(spec, results[setting]) + ['']
    lines += ['## What was run', '']
    lines += _data_lines(pipeline, results)
    lines += _pretrain_lines(pipeline)
    lines += [
        _environment_line(),
        f'- wall time: {elapsed / 60:.1f} min (stages run in this '
        'invocation; reused stages cost nothing)', '',
        '![accuracy](accuracy.png)', '', '![curves](curves.png)', ''
    ]
    plot_accuracy(plan, results, osp.join(pipeline.work_dir, 'accuracy.png'))
    plot_curves(
        {
            f'{setting}/{stage}': load_scalars(path)
            for setting in results
            for stage, path in pipeline.stage_dirs(
                setting, min(results[setting]), results[setting][min(
                    results[setting])]).items()
            if plan.settings[setting].stages[stage].get('teacher')
        }, osp.join(pipeline.work_dir, 'curves.png'))
    path = osp.join(pipeline.work_dir, 'report.md')
    with open(f'{path}.tmp', 'w') as file:
        file.write('\n'.join(lines))
    os.replace(f'{path}.tmp', path)
    return path


def plot_accuracy(plan, results: Results, path: str) -> None:
    """Bars of mean test accuracy per run and setting, with the seeds'
    spread, a chance line, and the weak model marked when its supervised
    strong model falls below it."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        1,
        len(results),
        figsize=(sum(1.1 * len(plan.settings[s].stages) + 1.5
                     for s in results), 4.4),
        squeeze=False)
    for axis, setting in zip(axes[0], results):
        by_seed = results[setting]
        stages = list(plan.settings[setting].stages)
        values = np.array([accuracies(by_seed, stage) for stage in stages])
        means = values.mean(axis=1)
        errors = values.std(axis=1, ddof=1) if values.shape[1] > 1 else None
        colours = ['#9e9e9e'] + ['#1976d2'] * (len(stages) - 1)
        axis.bar(stages, means, yerr=errors, color=colours, capsize=4)
        chance = 100 / len(by_seed[min(by_seed)][stages[0]]['classes'])
        low = max(0.0, values.min() - 5)
        if chance >= low:
            axis.axhline(
                chance, color='#e53935', linestyle=':', label='chance')
        else:
            axis.plot([], [], ' ', label=f'chance {chance:.1f}% (below axis)')
        axis.axhline(
            means[0],
            color='#616161',
            linestyle='--',
            label=f'{stages[0]} (mean)')
        axis.set_ylim(low, min(100.0, values.max() + 3))
        tops = means + (errors if errors is not None else 0)
        for index, (mean, top) in enumerate(zip(means, tops)):
            below = mean < means[0] and index > 0
            axis.text(
                index,
                top,
                f'{mean:.1f}' + (' ▼' if below else ''),
                ha='center',
                va='bottom',
                fontsize=8)
        axis.set_title(f'{plan.settings[setting].title} '
                       f'({len(by_seed)} seed(s))')
        axis.set_ylabel('top-1 accuracy (%)')
        axis.tick_params(axis='x', rotation=30)
        axis.legend(fontsize=7, loc='lower right')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_curves(curves: Dict[str, Dict[str, List[Tuple[int, float]]]],
                path: str) -> None:
    """Training curves of beta / a and agreement of each distilled run
    (first seed); every logged point is drawn."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        1, len(CURVE_KEYS), figsize=(5 * len(CURVE_KEYS), 3.8))
    for axis, (key, title) in zip(axes, CURVE_KEYS):
        for run, series in curves.items():
            if key in series:
                steps, values = zip(*series[key])
                axis.plot(
                    steps,
                    values,
                    marker='.',
                    markersize=3,
                    alpha=0.8,
                    label=run)
        axis.set_title(title)
        axis.set_xlabel('iteration')
        if axis.lines:
            axis.legend(fontsize=7)
        else:
            axis.text(
                0.5,
                0.5,
                'not logged by these runs',
                ha='center',
                transform=axis.transAxes)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
