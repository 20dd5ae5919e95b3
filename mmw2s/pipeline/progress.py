# Copyright (c) mmw2s contributors. All rights reserved.
"""What the study tools show while a study runs, and the command-line
options they share: the config and its overrides, the work dir, and where
its runs are sent."""
import argparse
import contextlib
import os
import os.path as osp
import sys
import time
from typing import Iterator

from mmengine.config import Config
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from .dispatch import Dispatcher
from .execution import Pipeline, PipelineEvents


class RichEvents(PipelineEvents):
    """A progress bar with an ETA over every run (on a terminal)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task('starting', total=None)

    def stage_started(self, label: str, cost: int, work: str) -> None:
        total = (self.progress.tasks[0].total or 0) + cost
        self.progress.update(self.task, description=label, total=total)

    def phase_started(self, title: str) -> None:
        self.progress.console.print(title, markup=False, highlight=False)

    def advance(self, iterations: int) -> None:
        self.progress.advance(self.task, iterations)


class LineEvents(PipelineEvents):
    """One line as each phase begins and each run starts and ends (logs,
    CI)."""

    def phase_started(self, title: str) -> None:
        print(f'{time.strftime("%H:%M:%S")} {title}', flush=True)

    def stage_started(self, label: str, cost: int, work: str) -> None:
        print(
            f'{time.strftime("%H:%M:%S")} start {label} ({cost} iterations '
            f'{work})',
            flush=True)

    def stage_finished(self, label: str, result, outcome: str) -> None:
        print(
            f'{time.strftime("%H:%M:%S")} {outcome}: {label} -> '
            f'{outcome_text(result)}',
            flush=True)


def outcome_text(result) -> str:
    """A run's test results in a few words."""
    if result is None:
        return 'see the errors below'
    # a run's test after its last epoch, not its tests after each epoch
    tests = [
        test for test in result.get('tests', {}).values()
        if test.get('epoch') is None
    ]
    if not tests:
        return result.get('checkpoint', '')
    parts = []
    for test in tests:
        metrics = [
            f'{name} {value:.2f}%' for name, value in test.items()
            if '/' in name and not name.endswith('_ci95')
            and name != 'accuracy/top1'
        ]
        parts.append(f'{test["accuracy"]:.2f}%' if 'accuracy' in
                     test else ', '.join(metrics))
    return '; '.join(parts)


@contextlib.contextmanager
def shown(pipeline: Pipeline) -> Iterator[None]:
    """Show the pipeline's progress while in the block: a bar on a
    terminal, else a line per run."""
    if not sys.stderr.isatty():
        pipeline.events = LineEvents()
        yield
        return
    with Progress(
            TextColumn('{task.description:<36}'),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn('ETA'),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr)) as progress:
        pipeline.events = RichEvents(progress)
        yield


def plan_from_args(args: argparse.Namespace) -> Config:
    """The config file ``args.config``, with ``--data-root`` (which sets
    ``data.data_root``) and then ``--cfg-options`` applied."""
    plan = Config.fromfile(args.config)
    if args.data_root:
        plan.data.data_root = args.data_root
    if args.cfg_options:
        plan.merge_from_dict(args.cfg_options)
    return plan


def work_dir_from_args(args: argparse.Namespace) -> str:
    """``--work-dir``, by default ``work_dirs/<config name>`` as mmengine's
    tools name it; made if it does not exist, unless ``args.dry_run``."""
    work_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    if not args.dry_run:
        os.makedirs(work_dir, exist_ok=True)
    return work_dir


def add_dispatch_args(parser: argparse.ArgumentParser) -> None:
    """The options that say where a study's runs go."""
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs at a time on this machine (local submitit processes; '
        'the CPU cores are shared among them)')
    parser.add_argument(
        '--threads',
        type=int,
        help='CPU threads torch uses in each run (default: the cores shared '
        'among the --jobs, at most OMP_NUM_THREADS where it is set; under '
        'SLURM, --slurm-cpus-per-task; results may differ in the last bits '
        'with the number of threads)')
    slurm = parser.add_argument_group(
        'SLURM', 'send each run to SLURM through submitit instead')
    slurm.add_argument('--slurm-partition', help='the partition')
    slurm.add_argument('--slurm-gpus-per-node', type=int, default=1)
    slurm.add_argument('--slurm-cpus-per-task', type=int, default=8)
    slurm.add_argument('--slurm-mem-gb', type=int, default=32)
    slurm.add_argument(
        '--slurm-timeout-min',
        type=int,
        default=24 * 60,
        help='time limit of one run')


def dispatcher_from_args(args: argparse.Namespace) -> Dispatcher:
    """The dispatcher that :func:`add_dispatch_args`'s options ask for."""
    if not args.slurm_partition:
        return Dispatcher(args.jobs, args.threads)
    return Dispatcher(
        args.jobs,
        args.threads,
        slurm=dict(
            slurm_partition=args.slurm_partition,
            gpus_per_node=args.slurm_gpus_per_node,
            cpus_per_task=args.slurm_cpus_per_task,
            mem_gb=args.slurm_mem_gb,
            timeout_min=args.slurm_timeout_min))


def exit_on_sigterm(signum, frame) -> None:
    """A SIGTERM handler: leave through ``finally`` blocks, which stop the
    running jobs."""
    sys.exit(f'stopped by signal {signum}')
