# Copyright (c) mmw2s contributors. All rights reserved.
"""Helpers shared by the tests and the checks in ``tools/analysis`` of a
source checkout: generated image folders, a free TCP port, and a run
launched on two simulated nodes."""
import os
import os.path as osp
import socket
import subprocess
from typing import IO, List, Sequence

import numpy as np
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DIST_TRAIN = osp.join(REPO_ROOT, 'tools', 'dist_train.sh')


def write_image_folders(root: str,
                        num_classes: int = 4,
                        per_class: int = 4,
                        size: int = 16) -> str:
    """Write ``train/`` and ``val/`` folders of generated PNG images, one
    sub-folder per class; each class has its own mean colour so it is
    learnable.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for label in range(num_classes):
            folder = osp.join(root, split, f'class_{label}')
            os.makedirs(folder, exist_ok=True)
            for index in range(per_class):
                mean = 40 + 50 * label
                pixels = rng.normal(mean, 20, size=(size, size, 3))
                Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
                    osp.join(folder, f'{index}.png'))
    return root


# Under pytest-xdist, worker gwN takes its ports from a block of its own
# in [PORTS_START, PORTS_END), below Linux's ephemeral range (32768-60999):
# two workers never pick the same port, and no outgoing connection is given
# one between its pick and the rendezvous that binds it.
PORTS_START = 20000
PORTS_END = 32768
_ports_taken = 0


def free_port() -> int:
    """A TCP port nothing listens on now, for a distributed rendezvous.

    In a pytest-xdist worker the port comes from the worker's own block
    (the range shared evenly among ``PYTEST_XDIST_WORKER_COUNT`` workers)
    and each call gives the next free one; elsewhere the kernel picks it.

    Raises:
        RuntimeError: every port of the worker's block is in use.
    """
    worker = os.environ.get('PYTEST_XDIST_WORKER', '')
    if not worker.startswith('gw'):
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            return probe.getsockname()[1]
    global _ports_taken
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    size = (PORTS_END - PORTS_START) // workers
    # a worker that replaces a crashed one gets the next id
    block = PORTS_START + size * (int(worker[2:]) % workers)
    for _ in range(size):
        port = block + _ports_taken % size
        _ports_taken += 1
        with socket.socket() as probe:
            try:
                probe.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise RuntimeError(f'pytest-xdist worker {worker}: every port of its '
                       f'block {block}-{block + size - 1} is in use')


def launch_two_nodes(config: str, work_dir: str, options: Sequence[str],
                     logs: Sequence[IO], cwd: str) -> List[subprocess.Popen]:
    """Launch the checkout's ``tools/dist_train.sh config 1`` twice, as
    nodes 0 and 1 of ``NNODES=2`` on 127.0.0.1 (one process each, each in a
    session of its own), with ``--cfg-options options``.

    Args:
        config (str): The config file.
        work_dir (str): Their ``--work-dir``.
        options (Sequence[str]): ``--cfg-options`` items.
        logs (Sequence[IO]): Where each node's output goes (both streams).
        cwd (str): Their working directory (mmengine leaves its results
            scratch ``.dist_test/`` there when a rank fails).

    Returns:
        list[subprocess.Popen]: The two launchers.

    Raises:
        FileNotFoundError: mmw2s is not run from a source checkout.
    """
    if not osp.isfile(DIST_TRAIN):
        raise FileNotFoundError(
            f'{DIST_TRAIN} does not exist: two simulated nodes are launched '
            'from a source checkout of mmw2s (pip install -e .)')
    port = str(free_port())
    return [
        subprocess.Popen([
            'bash', DIST_TRAIN, config, '1', '--work-dir', work_dir,
            '--cfg-options', *options
        ],
                         cwd=cwd,
                         env=dict(
                             os.environ,
                             OMP_NUM_THREADS='1',
                             NNODES='2',
                             NODE_RANK=str(rank),
                             MASTER_ADDR='127.0.0.1',
                             PORT=port),
                         stdout=log,
                         stderr=subprocess.STDOUT,
                         start_new_session=True)
        for rank, log in enumerate(logs)
    ]
