# Copyright (c) mmw2s contributors. All rights reserved.
"""When does weak-to-strong help? Runs a study config (teachers of several
strengths x schedules x methods) in three phases on one work dir: choices
on the validation part, then every cell on the test split, and writes
``report.md`` with the honest protocol beside the authors'.

Runs are pipeline runs (``tools/w2s_pipeline.py``): keyed, reused when they
match, resumed when cut short; run it again to go on.

Example::

    python tools/w2s_study.py configs/study/w2s_fashion-mnist.py --jobs 2
"""
import argparse
import signal
import sys
import time

from mmengine.config import DictAction

import mmw2s  # noqa: F401  (patches the stack, registers components)
from mmw2s.pipeline import EvalSpec, Pipeline, PipelineEvents, StudyFailed
from mmw2s.pipeline.progress import (add_dispatch_args, dispatcher_from_args,
                                     exit_on_sigterm, plan_from_args, shown,
                                     work_dir_from_args)
from mmw2s.study import (check_study, describe_study, restrict_schedules,
                         run_study, write_study_report)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run a weak-to-strong study and write its report')
    parser.add_argument('config', help='study config')
    parser.add_argument(
        '--work-dir',
        help='output directory (default: work_dirs/<config name>)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        help="seeds of the study (default: the config's study.seeds)")
    parser.add_argument(
        '--schedules',
        nargs='+',
        help='run only these schedules of the study (default: all); the '
        'report covers them')
    parser.add_argument(
        '--data-root', help="the data's directory (sets data.data_root)")
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help="list each phase's runs (sizes, epochs, what is saved) as far "
        'as the saved runs have made its choices, and stop')
    add_dispatch_args(parser)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the study config, e.g. '
        'study.schedules.patient=10')
    return parser.parse_args()


def main() -> None:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    args = parse_args()
    command = ' '.join(['python'] + sys.argv)
    plan = plan_from_args(args)
    check_study(plan)
    if args.schedules:
        restrict_schedules(plan, args.schedules)
    work_dir = work_dir_from_args(args)
    pipeline = Pipeline(plan, work_dir, EvalSpec(), PipelineEvents(),
                        dispatcher_from_args(args))
    seeds = args.seeds or list(plan.study.seeds)
    if args.dry_run:
        print('\n'.join(describe_study(pipeline, seeds)))
        return
    start = time.time()
    try:
        with shown(pipeline):
            outcome = run_study(pipeline, command, seeds)
    except StudyFailed as failure:
        sys.exit(str(failure))
    report = write_study_report(pipeline, outcome,
                                time.time() - start, command,
                                list(plan.study.get('cut', [])))
    print(f'\nReport: {report}')


if __name__ == '__main__':
    main()
