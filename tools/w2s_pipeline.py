# Copyright (c) mmw2s contributors. All rights reserved.
"""The weak-to-strong study, end to end, with its report.

Pre-trains the strong model on the unlabelled training images (or uses a
matching committed checkpoint), runs every stage of the chosen settings for
each seed as jobs sent by submitit (local processes, or SLURM), and writes
``report.md`` with its charts into the work dir. Runs are keyed by what they
depend on: a rerun reuses what matches, resumes what was cut short, re-tests
saved checkpoints on a new evaluation and reruns what changed.

Example::

    python tools/w2s_pipeline.py configs/pipeline/w2s_fashion-mnist.py \\
        --suite all --seeds 0 1 2 --jobs 2
"""
import argparse
import signal
import sys
import time

from mmengine.config import DictAction

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.pipeline import (EvalSpec, Pipeline, PipelineEvents, StudyFailed,
                            setting_names, write_report)
from mmw2s.pipeline.progress import (add_dispatch_args, dispatcher_from_args,
                                     exit_on_sigterm, plan_from_args, shown,
                                     work_dir_from_args)


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
    parser.add_argument(
        '--data-root', help="the data's directory (sets data.data_root)")
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='list the runs the study needs (sizes, epochs, what is saved) '
        'and stop')
    add_dispatch_args(parser)
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


def _run(pipeline: Pipeline, args, settings, command) -> dict:
    if args.dry_run:
        pipeline.pretrained = pipeline.find_backbone()
        print('\n'.join(pipeline.describe(settings, args.seeds)))
        return {}
    if args.pretrain_only or args.export_pretrained or \
            pipeline.uses_pretraining(settings):
        pipeline.pretrain(command)
    if args.export_pretrained:
        pipeline.export_pretrained()
    if args.pretrain_only:
        return {}
    return pipeline.run(settings, args.seeds)


def main() -> None:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    args = parse_args()
    command = ' '.join(['python'] + sys.argv)
    plan = plan_from_args(args)
    settings = setting_names(plan, args.suite or list(plan.suite))
    work_dir = work_dir_from_args(args)
    pipeline = Pipeline(plan, work_dir,
                        EvalSpec(args.eval_split, args.test_samples),
                        PipelineEvents(), dispatcher_from_args(args))
    start = time.time()
    try:
        with shown(pipeline):
            results = _run(pipeline, args, settings, command)
    except StudyFailed as failure:
        sys.exit(str(failure))
    if args.pretrain_only:
        print(f'Pre-trained backbone: {pipeline.pretrained}')
        return
    if args.dry_run:
        return
    report = write_report(pipeline, results, args.seeds,
                          time.time() - start, command)
    print(f'\nReport: {report}')


if __name__ == '__main__':
    main()
