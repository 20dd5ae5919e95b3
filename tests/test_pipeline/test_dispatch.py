# Copyright (c) mmw2s contributors. All rights reserved.
"""The dispatcher sends jobs to submitit's local processes: a job after
those it needs, at most ``jobs`` at a time, and a failure stops only the
jobs that need it."""
import os
import os.path as osp

import pytest

from mmw2s.pipeline.dispatch import Dispatcher, Job
from mmw2s.pipeline.jobs import _test


def _jobs(tmp_path, given):
    """A needs nothing, B needs A (and is built from its result), C fails,
    D needs C, E needs B."""

    def job(key, function, spec, needs=()):
        return Job(key, str(tmp_path / key), function, spec, list(needs))

    return [
        job('A', str.upper, lambda _: 'a'),
        job('B', str.upper, lambda done: given.append(done) or done['A'] * 2,
            ['A']),
        job('C', int, lambda _: 'not a number'),
        job('D', str.upper, lambda _: 'd', ['C']),
        job('E', str.lower, lambda done: done['B'], ['B']),
    ]


def test_jobs_run_after_what_they_need_and_failures_stop_only_theirs(tmp_path):
    given, running, most, results = [], set(), [0], {}

    def started(job):
        running.add(job.key)
        most[0] = max(most[0], len(running))

    def finished(job, result):
        running.discard(job.key)
        results[job.key] = result

    failures = Dispatcher(jobs=2).run(
        _jobs(tmp_path, given), started, finished)
    assert results == dict(A='A', B='AA', C=None, D=None, E='aa')
    assert given == [{'A': 'A'}]
    assert most[0] == 2
    assert set(failures) == {'C', 'D'}
    assert 'invalid literal for int()' in failures['C'].reason
    assert osp.isfile(failures['C'].log)
    assert 'not a number' in open(failures['C'].log).read()
    assert failures['D'].reason == (
        f'not run: it needs {tmp_path / "C"}, which failed')
    assert failures['D'].log is None


def test_jobs_and_threads_must_be_positive_counts():
    with pytest.raises(ValueError, match='jobs is 0; expected an int >= 1'):
        Dispatcher(jobs=0)
    with pytest.raises(ValueError, match="threads is '2'; expected an int"):
        Dispatcher(threads='2')
    assert Dispatcher(slurm=dict(cpus_per_task=6)).threads == 6


def test_local_threads_are_the_shared_cores_at_most_omp_num_threads(
        monkeypatch):
    monkeypatch.setattr(os, 'cpu_count', lambda: 8)
    for unset in (None, '', '  '):
        if unset is None:
            monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
        else:
            monkeypatch.setenv('OMP_NUM_THREADS', unset)
        assert Dispatcher(jobs=3).threads == 2
        assert Dispatcher(jobs=64).threads == 1
    for value, threads in (('3', 3), (' 1', 1), ('16', 4), ('2,1', 2)):
        monkeypatch.setenv('OMP_NUM_THREADS', value)
        assert Dispatcher(jobs=2).threads == threads, value
    assert Dispatcher(jobs=2, threads=1).threads == 1
    for wrong in ('four', '0', '²'):
        monkeypatch.setenv('OMP_NUM_THREADS', wrong)
        with pytest.raises(ValueError, match=f'OMP_NUM_THREADS is {wrong!r}'):
            Dispatcher()


def test_an_epoch_test_without_its_checkpoint_names_it(tmp_path):
    """A run trained without ``keep_checkpoints`` cannot be tested after an
    earlier epoch: the job says which file is missing and why."""
    spec = dict(
        directory=str(tmp_path),
        train_cfg={},
        tests=dict(key=dict(parts={}, epoch=2)))
    with pytest.raises(
            FileNotFoundError,
            match=r'epoch_2\.pth is missing.*'
            r'keep_checkpoints=True'):
        _test(spec, 'key', str(tmp_path / 'epoch_3.pth'))
