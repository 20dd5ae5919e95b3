# Copyright (c) mmw2s contributors. All rights reserved.
"""Sending a study's jobs out with submitit: to local processes (at most
``jobs`` at a time, on this machine) or to SLURM; a job waits for its
teacher's, and a failed job stops only the jobs that need it."""
import os
import os.path as osp
import re
import time
from typing import Callable, Dict, List, NamedTuple, Optional

import submitit
import torch

# where in a job's directory submitit keeps its files (the job's own log)
SUBMITIT_FOLDER = 'submitit'

# a study's job on one machine ends by itself; this only bounds a hung one
LOCAL_TIMEOUT_MIN = 7 * 24 * 60
POLL_SECONDS = 0.5


class Job(NamedTuple):
    """A job to send: its ``function(spec)`` and the keys it waits for.

    Attributes:
        key (str): Its name in the graph.
        directory (str): Its directory (submitit's files go under it).
        function (Callable): A module-level function of one argument.
        spec (Callable): Builds that argument, once what it waits for is
            done (given their results).
        needs (list[str]): Keys of the jobs it waits for.
    """
    key: str
    directory: str
    function: Callable
    spec: Callable
    needs: List[str]


class Failure(NamedTuple):
    """A job that did not finish: why, and where to look."""
    directory: str
    log: Optional[str]
    reason: str


def local_threads(jobs: int) -> int:
    """CPU threads for each of ``jobs`` local jobs: the cores shared among
    them, and at most ``OMP_NUM_THREADS`` where it is set (its first
    number, as OpenMP reads ``4,2``).

    Raises:
        ValueError: ``OMP_NUM_THREADS`` is set but does not start with an
            int >= 1.
    """
    shared = max(1, (os.cpu_count() or 1) // jobs)
    value = os.environ.get('OMP_NUM_THREADS', '').strip()
    if not value:
        return shared
    try:
        limit = int(value.split(',')[0])
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValueError(f'OMP_NUM_THREADS is {value!r}; expected an int '
                         '>= 1 (or unset: the cores shared among the jobs).')
    return min(shared, limit)


class Dispatcher:
    """Runs jobs through submitit.

    Args:
        jobs (int): Jobs at a time on this machine (local executor).
            Defaults to 1.
        threads (int, optional): CPU threads torch uses in each job.
            Defaults to None: locally, the cores shared among the jobs, at
            most ``OMP_NUM_THREADS`` where it is set; under SLURM,
            ``slurm['cpus_per_task']`` (1 if absent). Floating-point
            results may differ with the number of threads, not with the
            number of jobs.
        slurm (dict, optional): ``submitit.AutoExecutor`` parameters for
            SLURM (``slurm_partition``, ``gpus_per_node``, ``timeout_min``,
            ...); None runs locally. Defaults to None.

    Raises:
        ValueError: ``jobs`` or ``threads`` is not an int >= 1, or
            ``OMP_NUM_THREADS`` is not one.
    """

    def __init__(self,
                 jobs: int = 1,
                 threads: Optional[int] = None,
                 slurm: Optional[dict] = None) -> None:
        for name, value in (('jobs', jobs), ('threads', threads)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f'{name} is {value!r}; expected an int >= 1.')
        self.jobs = jobs
        self.slurm = slurm
        if threads is None and slurm is not None:
            threads = slurm.get('cpus_per_task', 1)
        elif threads is None:
            threads = local_threads(jobs)
        self.threads = threads

    def _executor(self, directory: str) -> submitit.Executor:
        folder = osp.join(directory, SUBMITIT_FOLDER)
        if self.slurm is not None:
            executor = submitit.AutoExecutor(folder=folder, cluster='slurm')
            executor.update_parameters(**self.slurm)
            return executor
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(
            timeout_min=LOCAL_TIMEOUT_MIN,
            gpus_per_node=1 if torch.cuda.is_available() else 0)
        return executor

    def run(self,
            jobs: List[Job],
            started: Callable[[Job], None],
            finished: Callable[[Job, Optional[dict]], None],
            poll: Callable[[], None] = lambda: None) -> Dict[str, Failure]:
        """Run ``jobs`` (listed after what they wait for), ``self.jobs`` at
        a time; each starts once the jobs it needs have finished.

        Args:
            jobs (list[Job]): The jobs.
            started (Callable): Called with each job as it is sent.
            finished (Callable): Called with each job and its result (None
                when it could not run or failed).
            poll (Callable): Called while jobs run (progress).

        Returns:
            dict[str, Failure]: The jobs that did not finish, by key.
        """
        waiting = list(jobs)
        running: Dict[str, tuple] = {}
        results: Dict[str, dict] = {}
        failures: Dict[str, Failure] = {}
        try:
            while waiting or running:
                self._start_ready(waiting, running, results, failures, started,
                                  finished)
                time.sleep(POLL_SECONDS)
                poll()
                self._collect(running, results, failures, finished)
        finally:
            # interrupted (Ctrl-C, SIGTERM): no job goes on writing alone
            for _, handle in running.values():
                handle.cancel(check=False)
        return failures

    def _start_ready(self, waiting: List[Job], running: Dict[str, tuple],
                     results: Dict[str, dict], failures: Dict[str, Failure],
                     started: Callable, finished: Callable) -> None:
        """Send the waiting jobs whose needs are met, while there is room;
        give up on those whose needs failed."""
        for job in list(waiting):
            failed = [need for need in job.needs if need in failures]
            if failed:
                waiting.remove(job)
                failures[job.key] = Failure(
                    job.directory, None,
                    f'not run: it needs {failures[failed[0]].directory}, '
                    'which failed')
                finished(job, None)
            elif len(running) < self.jobs and all(need in results
                                                  for need in job.needs):
                waiting.remove(job)
                spec = job.spec({need: results[need] for need in job.needs})
                running[job.key] = (job, self._executor(job.directory).submit(
                    job.function, spec))
                started(job)

    @staticmethod
    def _collect(running: Dict[str, tuple], results: Dict[str, dict],
                 failures: Dict[str, Failure], finished: Callable) -> None:
        """Take the results (or errors) of the jobs that ended."""
        for key, (job, handle) in list(running.items()):
            if not handle.done():
                continue
            del running[key]
            try:
                results[key] = handle.result()
            except Exception as error:  # the job's own error, any kind
                failures[key] = Failure(job.directory,
                                        str(handle.paths.stderr),
                                        _last_line(error))
                finished(job, None)
            else:
                finished(job, results[key])


def _last_line(error: Exception) -> str:
    """The job's own exception line, from submitit's report of a failed
    job (its traceback between two rules of dashes) or the error itself."""
    text = str(error)
    parts = re.split(r'^-{10,}$', text, flags=re.MULTILINE)
    trace = parts[1] if len(parts) >= 3 else text
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
