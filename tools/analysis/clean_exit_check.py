# Copyright (c) mmw2s contributors. All rights reserved.
"""Run the tests' tiny weak-to-strong job on two simulated nodes (two
launches of ``tools/dist_train.sh`` with ``NNODES=2``, one CPU process
each, on 127.0.0.1) again and again, and print how many runs ended with
every rank at exit code 0, and how long each took.

A finished distributed run must exit 0 on every rank; a rank that dies must
make its peers fail, never wait for ever. Each run here is given
``--timeout`` seconds, after which its processes are killed and the run
counts as hung.

Example::

    python tools/analysis/clean_exit_check.py --runs 30 --strategy ddp fsdp
"""
import argparse
import os
import os.path as osp
import signal
import sys
import tempfile
import time
from typing import List, NamedTuple

import numpy as np

from mmw2s.testing import launch_two_nodes, write_image_folders

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = dict(
    ddp=osp.join(ROOT, 'tests', 'data', 'configs', 'w2s_tiny_cnn_to_vit.py'),
    fsdp=osp.join(ROOT, 'tests', 'data', 'configs',
                  'w2s_tiny_cnn_to_vit_fsdp.py'))
ABORT = 'terminate called without an active exception'


class Outcome(NamedTuple):
    """How one run ended: each node's exit code (None: killed when the run
    timed out), its seconds, and whether any node printed gloo's abort."""
    codes: List[int]
    seconds: float
    aborted: bool

    @property
    def clean(self) -> bool:
        return all(code == 0 for code in self.codes)


def run_once(config: str, images: str, work_dir: str,
             timeout: float) -> Outcome:
    """Both nodes of one job, launched together; killed after
    ``timeout`` seconds."""
    options = [
        f'{loader}_dataloader.dataset.data_root={images}'
        for loader in ('train', 'val', 'test')
    ]
    work_dir = osp.abspath(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    logs = [
        open(osp.join(work_dir, f'node{rank}.log'), 'w+') for rank in (0, 1)
    ]
    start = time.monotonic()
    # in the run's directory: mmengine leaves its results scratch there
    # when a rank fails
    nodes = launch_two_nodes(config, work_dir, options, logs, cwd=work_dir)
    while time.monotonic() - start < timeout and any(node.poll() is None
                                                     for node in nodes):
        time.sleep(0.1)
    seconds = time.monotonic() - start
    codes = [node.poll() for node in nodes]
    for node, code in zip(nodes, codes):
        if code is None:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait()
    aborted = False
    for log in logs:
        log.seek(0)
        aborted |= ABORT in log.read()
        log.close()
    return Outcome(codes, seconds, aborted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument(
        '--strategy', nargs='+', choices=sorted(CONFIGS), default=['ddp'])
    parser.add_argument(
        '--work-dir',
        help='keep every run here (each node\'s output in nodeN.log); '
        'default: a temporary directory, removed at the end')
    parser.add_argument(
        '--timeout',
        type=float,
        default=120,
        help='seconds a run may take before it counts as hung')
    args = parser.parse_args()
    all_clean = True
    with tempfile.TemporaryDirectory() as temporary:
        # absolute: each run starts in a directory of its own
        scratch = osp.abspath(args.work_dir or temporary)
        images = osp.join(scratch, 'images')
        write_image_folders(images)
        for strategy in args.strategy:
            outcomes = []
            for index in range(args.runs):
                outcome = run_once(CONFIGS[strategy], images,
                                   osp.join(scratch, f'{strategy}_{index}'),
                                   args.timeout)
                outcomes.append(outcome)
                verdict = 'clean' if outcome.clean else (
                    'hung' if None in outcome.codes else 'failed')
                print(
                    f'{strategy} run {index + 1}: exit codes '
                    f'{outcome.codes}, {outcome.seconds:.1f} s, {verdict}'
                    f'{", gloo abort" if outcome.aborted else ""}',
                    flush=True)
            clean = sum(outcome.clean for outcome in outcomes)
            seconds = [outcome.seconds for outcome in outcomes]
            print(
                f'{strategy}: {clean} of {len(outcomes)} runs ended with '
                f'every rank at 0 (seconds: min {min(seconds):.1f}, '
                f'median {float(np.median(seconds)):.1f}, max '
                f'{max(seconds):.1f})',
                flush=True)
            all_clean &= clean == len(outcomes)
    return 0 if all_clean else 1


if __name__ == '__main__':
    sys.exit(main())
