# Copyright (c) mmw2s contributors. All rights reserved.
"""The weak-to-strong report: table, bar chart and training curves."""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mmw2s.evaluation import performance_gap_recovered

# results[seed][run] = top-1 accuracy (%) on the test set
Results = Dict[int, Dict[str, float]]
BASELINES = ('weak', 'ceiling')
CURVE_KEYS = (('distill.w2s_beta', 'beta (AdaptConf)'),
              ('distill.w2s_alpha', 'a = warmup_factor * alpha'),
              ('distill.agreement', 'student-teacher agreement'))


def load_scalars(stage_dir: str) -> Dict[str, List[Tuple[int, float]]]:
    """The scalars logged by a stage (all of its runs, e.g. after a
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


def _mean_std(values: Sequence[float]) -> str:
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{values.mean():.2f} ± {values.std(ddof=1):.2f}'


def summary_rows(results: Results, runs: Sequence[str]) -> List[List[str]]:
    """Rows of (run, accuracy, PGR) with mean ± std over seeds.

    Args:
        results (dict): ``results[seed][run]`` accuracies, with ``'weak'``
            and ``'ceiling'`` for every seed.
        runs (Sequence[str]): The runs to list, in order.

    Returns:
        list[list[str]]: The table rows.
    """
    seeds = sorted(results)
    rows = []
    for run in runs:
        accuracies = [results[seed][run] for seed in seeds]
        if run in BASELINES:
            pgr = '—'
        else:
            pgr = _mean_std([
                performance_gap_recovered(results[seed][run],
                                          results[seed]['weak'],
                                          results[seed]['ceiling'])
                for seed in seeds
            ])
        rows.append([run, _mean_std(accuracies), pgr])
    return rows


def markdown_table(rows: List[List[str]]) -> str:
    """A Markdown table of ``summary_rows``."""
    lines = ['| run | top-1 accuracy (%) | PGR |', '|---|---:|---:|']
    lines += [f'| {run} | {accuracy} | {pgr} |' for run, accuracy, pgr in rows]
    return '\n'.join(lines)


def plot_accuracy(results: Results, runs: Sequence[str], path: str) -> None:
    """A bar chart of mean test accuracy per run, with the seeds' spread.

    Args:
        results (dict): ``results[seed][run]`` accuracies.
        runs (Sequence[str]): The runs, in order.
        path (str): Output PNG.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    seeds = sorted(results)
    values = np.array([[results[s][run] for s in seeds] for run in runs])
    means = values.mean(axis=1)
    errors = values.std(axis=1, ddof=1) if len(seeds) > 1 else None
    colours = [
        '#9e9e9e'
        if run == 'weak' else '#424242' if run == 'ceiling' else '#1976d2'
        for run in runs
    ]
    figure, axis = plt.subplots(figsize=(1.3 * len(runs) + 2, 4))
    axis.bar(runs, means, yerr=errors, color=colours, capsize=4)
    low = max(0.0, values.min() - 5)
    axis.set_ylim(low, min(100.0, values.max() + 3))
    axis.set_ylabel('test top-1 accuracy (%)')
    axis.set_title(f'Weak-to-strong, {len(seeds)} seed(s)')
    tops = means + (errors if errors is not None else 0)
    for index, (mean, top) in enumerate(zip(means, tops)):
        axis.text(index, top, f'{mean:.1f}', ha='center', va='bottom')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_curves(curves: Dict[str, Dict[str, List[Tuple[int, float]]]],
                path: str) -> None:
    """Training curves of beta / a and agreement for each method.

    Args:
        curves (dict): ``curves[method]`` is :func:`load_scalars` of the
            method's stage (first seed).
        path (str): Output PNG.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        1, len(CURVE_KEYS), figsize=(5 * len(CURVE_KEYS), 3.6))
    for axis, (key, title) in zip(axes, CURVE_KEYS):
        for method, series in curves.items():
            if key in series:
                steps, values = zip(*series[key])
                axis.plot(steps, values, marker='.', label=method)
        axis.set_title(title)
        axis.set_xlabel('iteration')
        if axis.lines:
            axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
