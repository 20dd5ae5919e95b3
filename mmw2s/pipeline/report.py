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

from .plan import resolve_stage

# results[setting][seed][stage]: its run's training record and test result
Results = Dict[str, Dict[int, Dict[str, dict]]]
CURVE_KEYS = (('distill.w2s_beta', 'beta (AdaptConf)'),
              ('distill.w2s_alpha', 'a = warmup_factor * alpha'),
              ('distill.agreement', 'student-teacher agreement'))
RELATIONS = ('>', '>=')
# what a setting reports unless its config names other `metrics`
DEFAULT_METRICS = {'accuracy': 'top-1 (%)'}
# every metric is a percentage; at full marks a comparison decides nothing
# (mmpretrain's float32 accuracy of a perfect score can be 99.99999237)
FULL_MARKS = 100.0
FULL_MARKS_TOLERANCE = 1e-3


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


def setting_metrics(spec) -> Dict[str, str]:
    """The metrics a setting reports (result key -> column title); the
    first decides its claims and chart."""
    return dict(spec.get('metrics', DEFAULT_METRICS))


def accuracies(results: Dict[int, Dict[str, dict]],
               stage: str,
               metric: str = 'accuracy') -> List[float]:
    """The stage's ``metric`` for each seed, in seed order."""
    return [results[seed][stage][metric] for seed in sorted(results)]


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


def at_full_marks(results: Dict[int, Dict[str, dict]], stages: Sequence[str],
                  metric: str) -> bool:
    """Whether every one of ``stages`` scores full marks on ``metric`` on
    every seed."""
    return all(value >= FULL_MARKS - FULL_MARKS_TOLERANCE
               for stage in stages
               for value in accuracies(results, stage, metric))


def claim_row(spec: dict,
              results: Dict[int, Dict[str, dict]],
              metric: str = 'accuracy') -> List[str]:
    """One row of the claims table: the measured paired differences (run −
    baseline, per seed) and whether the claim holds on every seed.

    ``spec``: ``claim`` (text), ``run``, and either ``baseline`` (with
    ``relation`` ``'>'`` or ``'>='``; compared on ``spec['metric']``, else
    ``metric``) or ``pgr`` (the setting's PGR: the claim is PGR >
    ``above``, default 0, the difference PGR − above; with a ``baseline``
    too, the run's PGR is compared with the baseline's). A comparison of
    two runs that both score full marks on every seed (on the claim's
    metric; on top-1 accuracy for PGR) is undecided.
    """
    seeds = sorted(results)
    relation = spec.get('relation', '>')
    if relation not in RELATIONS:
        raise ValueError(f'claim {spec["claim"]!r}: relation must be one '
                         f'of {RELATIONS}, got {relation!r}.')
    if spec.get('pgr'):
        values, why = pgr_values(results, spec['run'], spec['pgr'])
        if values is None:
            return [spec['claim'], '—', '—', '—', f'undefined ({why})']
        measured = f'PGR {mean_std(values)}'
        if spec.get('baseline'):
            baseline, _ = pgr_values(results, spec['baseline'], spec['pgr'])
            measured += f' vs {mean_std(baseline)}'
        else:
            baseline = [spec.get('above', 0.0)] * len(values)
            relation = '>'
        differences = list(np.subtract(values, baseline))
    else:
        metric = spec.get('metric', metric)
        run = accuracies(results, spec['run'], metric)
        baseline = accuracies(results, spec['baseline'], metric)
        differences = list(np.subtract(run, baseline))
        measured = f'{mean_std(run)} vs {mean_std(baseline)}'
    holding = [d > 0 if relation == '>' else d >= 0 for d in differences]
    count = sum(holding)
    per_seed = ', '.join(f'{d:+.2f}' for d in differences)
    if spec.get('baseline') and at_full_marks(
            results, (spec['run'], spec['baseline']),
            'accuracy' if spec.get('pgr') else metric):
        return [
            spec['claim'], measured, per_seed, '—',
            f'undecided (both score {FULL_MARKS:.0f}% on every seed: this '
            'evaluation cannot tell them apart)'
        ]
    if count == len(seeds):
        verdict = 'holds' + (' on every seed' if len(seeds) > 1 else '')
    elif count == 0:
        verdict = 'does not hold'
    else:
        verdict = f'holds on {count} of {len(seeds)} seeds only'
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


def _per_seed(by_seed: Dict[int, Dict[str, dict]], stage: str,
              metric: str) -> str:
    """The stage's ``metric`` on each seed, with its 95% interval where the
    metric has one (``<metric>_ci95``)."""
    return ', '.join(
        f'{result[metric]:.2f}' +
        (f' ± {result[f"{metric}_ci95"]:.2f}' if f'{metric}_ci95' in
         result else '')
        for result in (by_seed[seed][stage] for seed in sorted(by_seed)))


def setting_table(spec, results: Dict[int, Dict[str, dict]]) -> List[str]:
    """The lines of one setting's table: each of its metrics (mean ± std
    over the seeds, and per seed), the PGR column where the setting defines
    one and a sentence where PGR is undefined."""
    pgr = spec.get('pgr')
    metrics = setting_metrics(spec)
    first = results[min(results)]
    header = ['run', 'what it is', 'training images']
    for metric, title in metrics.items():
        interval = any(f'{metric}_ci95' in result for result in first.values())
        header += [
            title, 'per seed' + (' (± 95% interval)' if interval else '')
        ]
    pgr_note = ''
    if pgr:
        header.append('PGR')
    rows = []
    for stage in spec.stages:
        row = [
            stage, spec.stages[stage].get('title', ''),
            f'{first[stage]["train_images"]:,}'
        ]
        for metric in metrics:
            row += [
                mean_std(accuracies(results, stage, metric)),
                _per_seed(results, stage, metric)
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


def evaluation_note(spec, results: Dict[int, Dict[str, dict]],
                    data_classes: List[str], evaluator: dict) -> List[str]:
    """A sentence on what the setting's runs are tested on and how, where
    it is not top-1 accuracy on every class of the evaluation split."""
    result = results[min(results)][next(iter(spec.stages))]
    lines = []
    if result['classes'] != list(data_classes):
        lines.append(
            f'Its runs are tested on the {len(result["classes"])} classes '
            f'{", ".join(result["classes"])} of the evaluation split '
            f'({result["test_images"]:,} images).')
    if evaluator:
        arguments = ', '.join(f'{key}={value}'
                              for key, value in evaluator.items()
                              if key != 'type')
        lines.append(f'Metric: `{evaluator["type"]}({arguments})`.')
    if evaluator.get('num_ways'):
        lines.append(f'Chance is {100 / evaluator["num_ways"]:.1f}%.')
    return [' '.join(lines), ''] if lines else []


def _size_text(asked, count: int) -> str:
    if isinstance(asked, float):
        return f'{count:,} ({asked:.4g} of the training split)'
    return f'{count:,}'


def data_lines(pipeline, results: Results) -> List[str]:
    """What was read: the data set, its classes and sizes, each from the
    data."""
    plan = pipeline.plan
    study = pipeline.study
    classes = study.train.classes
    evaluation = pipeline.evaluation
    tested = study.test_images()
    if evaluation.split == 'val':
        where = (f'the validation part held out from the training images '
                 f'({tested:,} images; hyper-parameter selection run, not a '
                 'test result)')
    elif evaluation.samples is not None:
        where = (f'a seeded random subset of {tested:,} images of the test '
                 f'split (--test-samples {evaluation.samples}), not the '
                 'whole test split')
        if evaluation.samples > study.test.size:
            where = (f'the whole test split ({tested:,} images; '
                     f'--test-samples asked for {evaluation.samples:,})')
    else:
        where = f'the whole test split ({tested:,} images)'
    held_out = (f'- {_size_text(study.val.asked, study.val.count)} of the '
                f'{study.train.size:,} training images are held out as the '
                'validation part (data.val_size), seeded by the run\'s seed: '
                'no run learns from their labels')
    if pipeline.pretrained is not None:
        held_out += (', but the self-supervised pre-training saw them '
                     'without labels, with every other training image')
    when = 'once, at its end'
    if evaluation.each_epoch:
        when = (f'at its end (the runs of seed(s) '
                f'{list(evaluation.each_epoch)} of the stages that keep '
                'their checkpoints also after every epoch, for the authors\' '
                'protocol only)')
    lines = [
        f'- data: `{plan.data.type}` read from '
        f'`{plan.data.get("data_root", "")}`; {study.train.size:,} training '
        f'images; {len(classes)} classes: {", ".join(classes)}',
        f'- each run is tested {when}, on {where} (a setting that tests on '
        'some classes only says so); chance is '
        f'{100 / len(classes):.1f}%', held_out
    ]
    noted: Dict[str, List[str]] = {}
    for setting in results:
        for name, result in results[setting][min(results[setting])].items():
            for note in result['notes']:
                noted.setdefault(note, []).append(f'{setting}/{name}')
    lines += [
        f'- {", ".join(stages)}: {note}' for note, stages in noted.items()
    ]
    for setting in results:
        for name, result in results[setting][min(results[setting])].items():
            if result.get('labels_changed') is not None:
                changed = [
                    f'{by_seed[name]["labels_changed"]:.1%}'
                    for by_seed in results[setting].values()
                ]
                lines.append(f'- {setting}/{name}: the label noise changed '
                             f'{", ".join(changed)} of its training labels '
                             '(per seed, as measured)')
    return lines


def pretrain_lines(pipeline) -> List[str]:
    if pipeline.pretrained is None:
        return ['- no stage of these settings starts from pre-training']
    record_file = osp.splitext(pipeline.pretrained)[0] + '.json'
    with open(record_file) as file:
        record = json.load(file)
    recipe = pipeline.plan.pretrain
    return [
        f'- strong backbone pre-trained with {recipe.title} on the '
        f'unlabelled training images, {recipe.epochs} '
        f'epoch{"s" if recipe.epochs != 1 else ""}, seed '
        f'{recipe.seed}: `{pipeline.pretrained}` (SHA-256 '
        f'{record["sha256"][:16]}…, made by `{record["command"]}`); every '
        'run that starts from it is keyed by that SHA-256'
    ]


def compute_minutes(results: Results) -> float:
    """Minutes the runs of ``results`` took when they ran: each run's
    training once, and each of its tests once (with its tests after each
    epoch), however many stages share them."""
    trained, tested = {}, {}
    for by_seed in results.values():
        for stages in by_seed.values():
            for result in stages.values():
                trained[result['key']] = result['train_minutes']
                tested[result['test_key']] = result['test_minutes'] + \
                    result.get('epoch_test_minutes', 0.0)
    return sum(trained.values()) + sum(tested.values())


def inverted_pairs(plan, results: Results) -> List[str]:
    """A warning for each setting whose strong model alone does not beat
    its weak model (``pair`` of the setting: ``weak`` and ``strong``
    stages) on some seed."""
    lines = []
    for setting, by_seed in results.items():
        pair = plan.settings[setting].get('pair')
        if not pair:
            continue
        metric = next(iter(setting_metrics(plan.settings[setting])))
        weak = accuracies(by_seed, pair['weak'], metric)
        strong = accuracies(by_seed, pair['strong'], metric)
        seeds = [
            seed for seed, w, s in zip(sorted(by_seed), weak, strong) if s <= w
        ]
        if seeds:
            lines.append(
                f'- **{setting}: the pair is inverted.** The "strong" model '
                f'alone ({pair["strong"]}: {mean_std(strong)}) does not beat '
                f'the "weak" one ({pair["weak"]}: {mean_std(weak)}) on '
                f'seed(s) {seeds}. Its students learn from a teacher that '
                'is at least as good as they are alone: any gain is ordinary '
                'distillation, not weak-to-strong generalisation, and "the '
                'student beats its weak teacher" is not a test of it. Train '
                'the strong model longer (min_iters, epochs) or pick a '
                'weaker teacher.' +
                (' They score the same on every seed: this evaluation '
                 'cannot tell them apart (too easy, or too few images).'
                 if weak == strong else ''))
    if lines:
        lines = ['## Inverted pairs', ''] + lines + ['']
    return lines


def runs_table(results: Results) -> List[str]:
    """Each stage's run: whether it was trained now, reused or re-tested,
    its directory and its training log."""
    rows = []
    for setting, by_seed in results.items():
        for seed in sorted(by_seed):
            for name, result in by_seed[seed].items():
                rows.append([
                    f'{setting}/{name}',
                    str(seed), result['outcome'], f'`{result["directory"]}`',
                    f'`{result["log"]}`'
                ])
    return [
        markdown_table(['stage', 'seed', 'this time', 'directory', 'log'],
                       rows,
                       text_columns=5), ''
    ]


def environment_line(results: Results) -> str:
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
    threads = sorted({
        result['threads']
        for by_seed in results.values()
        for stages in by_seed.values()
        for result in stages.values()
    })
    return (f'- hardware: {cpu}, {os.cpu_count()} cores, {device}; '
            f'torch {torch.__version__}, {"/".join(map(str, threads))} '
            'CPU thread(s) per run')


def write_report(pipeline, results: Results, seeds: Sequence[int],
                 elapsed: float, command: str) -> str:
    """Write ``report.md``, ``accuracy.png``, ``curves.png`` and
    ``results.json`` (``results`` as they are) into the pipeline's work
    dir.

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
        spec = plan.settings[setting]
        for claim in spec.get('claims', []):
            row = claim_row(claim, results[setting],
                            next(iter(setting_metrics(spec))))
            claims.append([row[0], setting, *row[1:]])
    lines = [
        '# Weak-to-strong report', '', f'Command: `{command}`', '',
        f'Seeds: {list(seeds)}. Accuracy (%) on the evaluation split (see '
        '"What was run"): top-1, or few-shot accuracy where a setting says '
        'so; mean ± sample std over the seeds.', '', '## Claims', '',
        'A claim is decided on the metric it names, else on the first '
        'metric of its setting (top-1 accuracy, or few-shot accuracy; see '
        'the tables).', '',
        'Each claim compares two runs of the same seed (paired '
        'difference, run − baseline); it holds when the difference is '
        'positive (≥ 0 for ≥) on every seed; two runs that both score '
        '100% on every seed leave it undecided.', '',
        markdown_table([
            'claim', 'setting', 'measured', 'per-seed difference', 'positive',
            'verdict'
        ],
                       claims,
                       text_columns=2), ''
    ]
    lines[4:4] = inverted_pairs(plan, results)
    for setting in results:
        spec = plan.settings[setting]
        lines += [f'## {spec.title}', '']
        if spec.get('paper'):
            lines += [f"The paper's setting: {spec.paper}.", '']
        if spec.get('note'):
            lines += [spec.note, '']
        first = resolve_stage(plan, setting, next(iter(spec.stages)))
        lines += evaluation_note(spec, results[setting],
                                 pipeline.study.train.classes,
                                 first.get('test', {}).get('evaluator', {}))
        lines += setting_table(spec, results[setting]) + ['']
    lines += ['## What was run', '']
    lines += data_lines(pipeline, results)
    lines += pretrain_lines(pipeline)
    lines += [
        environment_line(results),
        f'- wall time: {elapsed / 60:.1f} min (runs trained or tested in '
        'this invocation; reused runs cost nothing); the runs of this report '
        f'took {compute_minutes(results):.1f} min when they ran (sum of '
        'their own training and test times, each shared run once)', '',
        '![accuracy](accuracy.png)', '', '![curves](curves.png)', '',
        '## Runs', ''
    ]
    lines += runs_table(results)
    plot_accuracy(plan, results, osp.join(pipeline.work_dir, 'accuracy.png'))
    plot_curves(
        {
            f'{setting}/{stage}':
            load_scalars(osp.join(pipeline.work_dir, result['directory']))
            for setting in results
            for stage, result in results[setting][min(results[setting])].items(
            ) if plan.settings[setting].stages[stage].get('teacher')
        }, osp.join(pipeline.work_dir, 'curves.png'))
    with open(osp.join(pipeline.work_dir, 'results.json.tmp'), 'w') as file:
        json.dump(results, file, indent=1)
    os.replace(
        osp.join(pipeline.work_dir, 'results.json.tmp'),
        osp.join(pipeline.work_dir, 'results.json'))
    path = osp.join(pipeline.work_dir, 'report.md')
    with open(f'{path}.tmp', 'w') as file:
        file.write('\n'.join(lines))
    os.replace(f'{path}.tmp', path)
    return path


def chance_level(plan, setting: str, by_seed: Dict[int, Dict[str,
                                                             dict]]) -> float:
    """Accuracy of guessing (%): one in ``num_ways`` for an episodic
    evaluator, else one in the number of tested classes."""
    first = next(iter(plan.settings[setting].stages))
    evaluator = resolve_stage(plan, setting,
                              first).get('test', {}).get('evaluator', {})
    ways = evaluator.get('num_ways') or len(
        by_seed[min(by_seed)][first]['classes'])
    return 100 / ways


def plot_accuracy(plan, results: Results, path: str) -> None:
    """Bars of each setting's first metric per run (mean test accuracy),
    with the seeds' spread, a chance line, and the weak model marked when
    its supervised strong model falls below it."""
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
        spec = plan.settings[setting]
        stages = list(spec.stages)
        metric, metric_title = next(iter(setting_metrics(spec).items()))
        values = np.array(
            [accuracies(by_seed, stage, metric) for stage in stages])
        means = values.mean(axis=1)
        errors = values.std(axis=1, ddof=1) if values.shape[1] > 1 else None
        colours = ['#9e9e9e'] + ['#1976d2'] * (len(stages) - 1)
        axis.bar(stages, means, yerr=errors, color=colours, capsize=4)
        chance = chance_level(plan, setting, by_seed)
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
        axis.set_title(f'{spec.title} ({len(by_seed)} seed(s))')
        axis.set_ylabel(metric_title)
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
