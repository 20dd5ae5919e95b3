# Copyright (c) mmw2s contributors. All rights reserved.
"""``mmw2s.testing.free_port``: test workers never share a port."""
import socket

import pytest

from mmw2s import testing


def test_each_test_worker_takes_ports_from_its_own_block(monkeypatch):
    """Under pytest-xdist, worker gwN's ports lie in its own block below the
    kernel's ephemeral range, each call gives another one, and a port that
    something listens on is skipped."""
    monkeypatch.setattr(testing, '_ports_taken', 0)
    monkeypatch.setenv('PYTEST_XDIST_WORKER', 'gw3')
    start = testing.PORT_BLOCK_START + 3 * testing.PORT_BLOCK_SIZE
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', start + 1))
        listener.listen()
        ports = [testing.free_port() for _ in range(3)]
    assert ports == [start, start + 2, start + 3]
    monkeypatch.setattr(testing, '_ports_taken', 0)
    monkeypatch.setenv('PYTEST_XDIST_WORKER', 'gw4')
    assert testing.free_port() == start + testing.PORT_BLOCK_SIZE
    last_port = testing.PORT_BLOCK_START + (
        testing.PORT_BLOCK_SIZE * testing.PORT_BLOCKS) - 1
    assert last_port < 32768


def test_a_full_block_is_an_error(monkeypatch):
    monkeypatch.setenv('PYTEST_XDIST_WORKER', 'gw0')
    monkeypatch.setattr(testing, 'PORT_BLOCK_SIZE', 1)
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', testing.PORT_BLOCK_START))
        listener.listen()
        with pytest.raises(RuntimeError, match='gw0: every port of its'):
            testing.free_port()


def test_outside_the_test_workers_the_kernel_picks(monkeypatch):
    monkeypatch.delenv('PYTEST_XDIST_WORKER', raising=False)
    port = testing.free_port()
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', port))
