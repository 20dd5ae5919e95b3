# Copyright (c) mmw2s contributors. All rights reserved.
"""A distributed run never waits for ever on a lost rank: on two simulated
nodes (two launches of ``tools/dist_train.sh``, one CPU process each), a
rank that dies fails its peer at once (gloo sees the connection close), and
a rank that hangs fails it after the process-group timeout of the config
(``env_cfg.dist_cfg.timeout``, seconds). A finished run exits 0 on every
rank: ``tools/analysis/clean_exit_check.py`` measures that over many runs,
and every distributed test fails on a non-zero exit or gloo's abort."""
import contextlib
import os
import os.path as osp
import re
import signal
import subprocess
import time
from typing import List, Tuple

import pytest
from conftest import TEST_CONFIGS

from mmw2s.testing import launch_two_nodes

CONFIG = osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit.py')
# seconds a rank waits in a collective for a peer that does not answer
PROCESS_GROUP_TIMEOUT = 10


def processes() -> List[Tuple[int, int, int, str]]:
    """``(pid, parent pid, session id, command)`` of every process."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as file:
                fields = file.read().rsplit(')', 1)[1].split()
            with open(f'/proc/{entry}/cmdline') as file:
                command = file.read().replace('\0', ' ')
        except OSError:  # ended meanwhile
            continue
        found.append((int(entry), int(fields[1]), int(fields[3]), command))
    return found


def session_workers(session: int) -> List[int]:
    """The training processes of a node: the children of the torchrun
    launched in ``session`` (torchrun starts them in sessions of their
    own)."""
    everything = processes()
    launchers = {
        pid
        for pid, _, sid, command in everything
        if sid == session and 'torch.distributed.run' in command
    }
    return [pid for pid, parent, _, _ in everything if parent in launchers]


@pytest.fixture
def two_nodes(tmp_path, image_root):
    """Start a long run on two simulated nodes; yields the two launchers
    and node 0's log file once training is under way; kills what is left
    afterwards."""
    options = [
        f'{split}_dataloader.dataset.data_root={image_root}'
        for split in ('train', 'val', 'test')
    ] + [
        'train_cfg.max_epochs=500',
        f'env_cfg.dist_cfg.timeout={PROCESS_GROUP_TIMEOUT}'
    ]
    logs = [str(tmp_path / f'node{rank}.log') for rank in (0, 1)]
    files = [open(log, 'w') for log in logs]
    nodes = launch_two_nodes(
        CONFIG, str(tmp_path / 'work'), options, files, cwd=str(tmp_path))
    for file in files:
        file.close()
    deadline = time.monotonic() + 120
    while not re.search(r'Epoch\(train\)\s+\[3\]', open(logs[0]).read()):
        assert time.monotonic() < deadline and nodes[0].poll() is None, \
            open(logs[0]).read()[-4000:]
        time.sleep(0.1)
    yield nodes, logs[0]
    for node in nodes:
        for pid in session_workers(node.pid) + [-node.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        node.wait()


def seconds_until_ended(node: subprocess.Popen, limit: float) -> float:
    start = time.monotonic()
    while node.poll() is None and time.monotonic() - start < limit:
        time.sleep(0.1)
    return time.monotonic() - start


def test_a_rank_that_dies_fails_its_peer_at_once(two_nodes):
    nodes, _ = two_nodes
    (worker, ) = session_workers(nodes[1].pid)
    os.kill(worker, signal.SIGKILL)
    waited = seconds_until_ended(nodes[0], 60)
    assert nodes[0].returncode not in (None, 0), 'node 0 still waits'
    # measured 2 s: no timeout is involved
    assert waited < PROCESS_GROUP_TIMEOUT
    assert seconds_until_ended(nodes[1], 10) < 10
    assert nodes[1].returncode not in (None, 0)


def test_a_rank_that_hangs_fails_its_peer_after_the_timeout(two_nodes):
    nodes, log = two_nodes
    (worker, ) = session_workers(nodes[1].pid)
    os.kill(worker, signal.SIGSTOP)
    waited = seconds_until_ended(nodes[0], 6 * PROCESS_GROUP_TIMEOUT)
    assert nodes[0].returncode not in (None, 0), 'node 0 still waits'
    assert PROCESS_GROUP_TIMEOUT - 1 < waited < 6 * PROCESS_GROUP_TIMEOUT
    assert f'Timed out waiting {PROCESS_GROUP_TIMEOUT * 1000}ms' in open(
        log).read()
