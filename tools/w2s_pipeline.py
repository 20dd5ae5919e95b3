# Copyright (c) mmw2s contributors. All rights reserved.
"""The weak-to-strong experiment, end to end, with its report.

Pre-trains the strong model on the unlabelled training images (or uses a
matching committed checkpoint), runs every stage of the chosen settings for
each seed, and writes ``report.md`` with its charts into the work dir.
Stages are keyed by their settings: a rerun reuses what matches, resumes
what was cut short and reruns what changed.

Example::

    python tools/w2s_pipeline.py configs/pipeline/w2s_fashion-mnist.py \\
        --suite all --seeds 0 1 2
"""
import argparse
import contextlib
import os
import os.path as osp
import sys
import time

from mmengine.config import Config, DictAction
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.pipeline import (EvalSpec, Pipeline, PipelineEvents, setting_names,
                            write_report)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run the weak-to-strong settings and write a report')
    parser.add_argument('config', help='pipeline config')
    parser.add_argument(
        '--work-dir',
        help='output directory (default: work_dirs/<config name>)')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0], help='seeds to run')
    parser.add_argument(
        '--suite',
        nargs='+',
        help='settings to run, or "all" (default: the config\'s `suite`)')
    parser.add_argument(
        '--eval-split',
        choices=['test', 'val'],
        default='test',
        help='test every stage on the test split, or on the validation '
        'part held out from the training images (to choose settings)')
    parser.add_argument(
        '--test-samples',
        type=int,
        help='test on a seeded draw of N test images (reported as such)')
    parser.add_argument('--data-root', help='directory of the IDX files')
    parser.add_argument(
        '--pretrain-only',
        action='store_true',
        help='only pre-train the strong backbone (or find a matching one)')
    parser.add_argument(
        '--export-pretrained',
        action='store_true',
        help="copy the pre-trained backbone and its record to the config's "
        '`pretrain.checkpoint` (to commit it)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the pipeline config, e.g. '
        'settings.transfer.defaults.epochs=1')
    return parser.parse_args()


class RichEvents(PipelineEvents):
    """A progress bar with an ETA over every stage (on a terminal)."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task('starting', total=total)

    def stage_started(self, label: str, cost: int) -> None:
        self.progress.update(self.task, description=label)

    def advance(self, iterations: int) -> None:
        self.progress.advance(self.task, iterations)


class LineEvents(PipelineEvents):
    """One line as each stage starts and ends (logs, CI), on the standard
    output of when it was made."""

    def __init__(self) -> None:
        self.out = sys.stdout

    def stage_started(self, label: str, cost: int) -> None:
        print(
            f'{time.strftime("%H:%M:%S")} start {label} ({cost} iters)',
            file=self.out,
            flush=True)

    def stage_finished(self, label: str, result: dict, seconds: float,
                       reused: bool) -> None:
        metrics = [
            f'{name} {value:.2f}%' for name, value in result.items()
            if '/' in name and not name.endswith('_ci95')
            and name != 'accuracy/top1'
        ]
        if 'accuracy' in result:
            outcome = f'{result["accuracy"]:.2f}%'
        elif metrics:
            outcome = ', '.join(metrics)
        else:
            outcome = result.get('checkpoint', '')
        how = 'reused (same settings)' if reused else \
            f'done in {seconds / 60:.1f} min'
        print(
            f'{time.strftime("%H:%M:%S")} {how}: {label} -> {outcome}',
            file=self.out,
            flush=True)


@contextlib.contextmanager
def _console_to(path: str):
    """Send what mmengine prints to ``path``; the terminal keeps the
    progress display."""
    with open(path, 'a') as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        yield


def _run(pipeline: Pipeline, args, settings, events, command) -> dict:
    pipeline.events = events
    with _console_to(osp.join(pipeline.work_dir, 'console.log')):
        if args.pretrain_only or args.export_pretrained or \
                pipeline.uses_pretraining(settings):
            pipeline.pretrain(command)
        if args.export_pretrained:
            pipeline.export_pretrained()
        if args.pretrain_only:
            return {}
        return {
            setting: {
                seed: pipeline.run_setting(setting, seed)
                for seed in args.seeds
            }
            for setting in settings
        }


def main() -> None:
    args = parse_args()
    command = ' '.join(['python'] + sys.argv)
    plan = Config.fromfile(args.config)
    if args.data_root:
        plan.data.data_root = args.data_root
    if args.cfg_options:
        plan.merge_from_dict(args.cfg_options)
    settings = setting_names(plan, args.suite or list(plan.suite))
    work_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    os.makedirs(work_dir, exist_ok=True)
    pipeline = Pipeline(plan, work_dir,
                        EvalSpec(args.eval_split, args.test_samples),
                        PipelineEvents())
    total = pipeline.pretrain_cost() if args.pretrain_only else \
        pipeline.total_cost(settings, args.seeds)
    start = time.time()
    if sys.stderr.isatty():
        with Progress(
                TextColumn('{task.description:<36}'),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn('ETA'),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr)) as progress:
            results = _run(pipeline, args, settings,
                           RichEvents(progress, total), command)
    else:
        results = _run(pipeline, args, settings, LineEvents(), command)
    if args.pretrain_only:
        print(f'Pre-trained backbone: {pipeline.pretrained}')
        return
    report = write_report(pipeline, results, args.seeds,
                          time.time() - start, command)
    print(f'\nReport: {report}')


if __name__ == '__main__':
    main()
