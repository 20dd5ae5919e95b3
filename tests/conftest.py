# Copyright (c) mmw2s contributors. All rights reserved.
"""Shared fixtures: generated image folders and IDX data, config files
parsed once, helpers to run tools and two-process groups, and the set-up for
pytest-xdist (tests sharing a module fixture in one worker, one thread a
process).

mmw2s is imported first: its patches must precede any import of
mmrazor.models, which fails on current torch without them.
"""
import mmw2s  # noqa: F401  # isort: skip
import copy
import datetime
import functools
import os
import os.path as osp
import subprocess
import sys
from typing import Callable, List, Union

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from idx_helpers import write_fashion_like
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmw2s.testing import write_image_folders

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEST_CONFIGS = osp.join(REPO_ROOT, 'tests', 'data', 'configs')
GLOO_TEARDOWN_ABORT = 'terminate called without an active exception'
# under pytest-xdist (the README's test command: ``-n auto``, a worker per
# core) each worker and the processes its tests start use one thread (the
# pipeline's runs too: their default ``--threads`` is at most
# OMP_NUM_THREADS): with torch's default of a
# thread per core in each, OpenMP threads wait, spinning, for cores another
# process holds (beside another job at full share, a LeNet-5 step was
# measured 35x slower on 2 cores)
if int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')) > 1:
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Under ``--dist loadgroup``, the tests that share a module-scoped
    fixture (a tiny run, a built wheel) run in one worker, which sets the
    fixture up once; the others are spread one by one."""
    for item in items:
        fixtures = getattr(item, '_fixtureinfo', None)
        if fixtures is None:
            continue
        if any(definitions[-1].scope == 'module'
               for definitions in fixtures.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture(autouse=True)
def default_scopes_restored():
    """Each test ends with the default scopes it started with: a runner
    built in the test process makes its config's scope the current one, in
    which later tests would resolve registry names (mmw2s's losses are
    not in mmpretrain's)."""
    scopes = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)


@functools.lru_cache(maxsize=None)
def _parsed(path: str) -> Config:
    return Config.fromfile(path)


def parsed_config(path: str) -> Config:
    """The config file at ``path``, parsed once a session (parsing the 54
    configs took 13 s; the tests read each several times); every caller
    gets a copy of its own to change."""
    return copy.deepcopy(_parsed(path))


def config_on_generated_idx(path: str,
                            directory: Union[str, os.PathLike]) -> Config:
    """The config file at ``path`` (parsed once a session), reading its
    data from IDX files written in ``directory``: 240 generated training
    images stored sorted by class."""
    plan = parsed_config(path)
    plan.data.data_root = write_fashion_like(
        str(directory), sorted_by_class=True)
    return plan


@pytest.fixture(scope='session')
def image_root(tmp_path_factory) -> str:
    """Generated image folders shared by the tests of a session."""
    return write_image_folders(str(tmp_path_factory.mktemp('images')))


def run_tool(args: List[str],
             cwd: str,
             timeout: int = 600,
             extra_env: dict = None) -> subprocess.CompletedProcess:
    """Run a command from the repository root with mmw2s importable, once;
    fail the test with its output if it exits non-zero or gloo aborted at
    exit (a finished distributed run must end cleanly on every rank)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.update(extra_env or {})

    result = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if result.returncode != 0 or GLOO_TEARDOWN_ABORT in result.stderr:
        pytest.fail(f'{" ".join(args)} exited {result.returncode}\n'
                    f'stdout:\n{result.stdout[-4000:]}\n'
                    f'stderr:\n{result.stderr[-6000:]}')
    return result


def python_tool(name: str) -> List[str]:
    """The command prefix that runs ``tools/{name}`` with this Python."""
    return [sys.executable, osp.join(REPO_ROOT, 'tools', name)]


def join_two_ranks(rank: int, out_dir: str) -> None:
    """Join, as ``rank``, the gloo group of :func:`results_of_two_ranks`:
    the two processes meet through a file in ``out_dir`` (no port for
    another test worker to take meanwhile)."""
    dist.init_process_group(
        'gloo',
        init_method=f'file://{osp.join(out_dir, "rendezvous")}',
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=30))


def results_of_two_ranks(worker: Callable,
                         out_dir: Union[str, os.PathLike]) -> List[dict]:
    """Run ``worker(rank, out_dir)`` in two processes (each joins with
    :func:`join_two_ranks` and saves its results as ``rank{rank}.pth`` in
    ``out_dir``); the results of rank 0 and rank 1."""
    mp.spawn(worker, args=(str(out_dir), ), nprocs=2, join=True)
    return [
        torch.load(osp.join(out_dir, f'rank{rank}.pth'), weights_only=True)
        for rank in range(2)
    ]
