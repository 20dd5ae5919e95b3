# Copyright (c) mmw2s contributors. All rights reserved.
"""``mmw2s.testing.free_port``: test workers never share a port."""
import socket

import pytest

from mmw2s import testing

# below the range the real test workers take their ports from
START = 15000


@pytest.fixture
def worker_ports(monkeypatch):
    """Blocks of 10 ports from ``START`` for 5 workers; none taken yet."""
    monkeypatch.setattr(testing, 'PORTS_START', START)
    monkeypatch.setattr(testing, 'PORTS_END', START + 50)
    monkeypatch.setattr(testing, '_ports_taken', 0)
    monkeypatch.setenv('PYTEST_XDIST_WORKER_COUNT', '5')
    return monkeypatch


def test_each_test_worker_takes_ports_from_its_own_block(worker_ports):
    """Worker gwN's ports lie in its own block, each call gives another
    one, and a port that something listens on is skipped; the workers share
    the range evenly."""
    worker_ports.setenv('PYTEST_XDIST_WORKER', 'gw3')
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', START + 31))
        listener.listen()
        ports = [testing.free_port() for _ in range(3)]
    assert ports == [START + 30, START + 32, START + 33]
    worker_ports.setattr(testing, '_ports_taken', 0)
    worker_ports.setenv('PYTEST_XDIST_WORKER', 'gw4')
    assert testing.free_port() == START + 40
    # a worker replacing a crashed one takes a block nobody is using
    worker_ports.setattr(testing, '_ports_taken', 0)
    worker_ports.setenv('PYTEST_XDIST_WORKER', 'gw5')
    assert testing.free_port() == START


def test_a_full_block_is_an_error(worker_ports):
    worker_ports.setenv('PYTEST_XDIST_WORKER', 'gw0')
    worker_ports.setenv('PYTEST_XDIST_WORKER_COUNT', '50')
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', START))
        listener.listen()
        with pytest.raises(RuntimeError, match='gw0: every port of its'):
            testing.free_port()


def test_outside_the_test_workers_the_kernel_picks(monkeypatch):
    monkeypatch.delenv('PYTEST_XDIST_WORKER', raising=False)
    port = testing.free_port()
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', port))
