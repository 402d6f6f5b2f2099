"""Executors run jobs and hand their records back to the driver, which alone writes them.

    while ...:
        if executor.has_room(): executor.submit(job)
        for job, records, done in executor.finished(): ...   # waits a while for news of a job
                                                              # done: the job has no cell left to record

``local`` (the default) runs each job in this process as its records are read, so every
cell is appended the moment it is scored; a journal (``benchmark.run.journal``) lets a rerun
get past a cell that killed the process. ``process`` (``benchmark.run.process_executor``) runs
jobs in a pool of worker processes: a cell that kills its worker is a failed record at once.
``ray`` (``benchmark.run.ray_executor``, imported only when asked for) runs jobs as Ray tasks.
Resume, claims and the records format are the driver's, so they are the same for all three.
"""

from collections import deque

import torch

from benchmark.errors import TransferbenchError
from benchmark.run.execute import run_job

EXECUTORS = ("local", "process", "ray")


class LocalExecutor:
    """One job at a time, in this process, on ``settings.threads`` torch threads (default: torch's)."""

    def __init__(self, pairs: dict, settings, progress=None, journal=None):
        self.pairs, self.settings, self.progress, self.journal = pairs, settings, progress, journal
        self._queue = deque()
        self._threads_before = None

    def __enter__(self):
        self._threads_before = torch.get_num_threads()  # run_job sets the budget; the caller gets theirs back
        return self

    def __exit__(self, *exc):
        self._queue.clear()
        torch.set_num_threads(self._threads_before)

    def has_room(self) -> bool:
        return not self._queue

    def busy(self) -> bool:
        return bool(self._queue)

    def submit(self, job) -> None:
        self._queue.append(job)

    def finished(self):
        while self._queue:
            job = self._queue.popleft()

            def produced(started, job=job):
                return run_job(job, self.pairs[job.pair], self.settings, self.progress, started)

            yield job, self.journal.records(job, produced) if self.journal else produced(None), True


def check_executor(name: str, workers: int | None) -> None:
    """Raise on an executor choice that cannot work: checked before any data is loaded."""
    if name not in EXECUTORS:
        raise TransferbenchError(f"unknown executor '{name}'; choose one of {', '.join(EXECUTORS)}")
    if name == "local" and workers not in (None, 1):
        raise TransferbenchError(f"--workers {workers} needs --executor process or ray (the local executor runs "
                                 f"one cell at a time on all cores)")


def make_executor(name: str, pairs: dict, settings, workers: int | None = None, progress=None, journal=None,
                  retries: int | None = None):
    """``progress`` (benchmark.run.progress.Progress) shows each job's phase (local and process);
    ``journal`` (benchmark.run.journal.Journal): the local executor's record of the cells it starts;
    ``retries``: Ray's reruns of a task lost to a dead worker or node (None: ``ray_executor.RETRIES``)."""
    check_executor(name, workers)
    if name == "ray":
        from benchmark.run.ray_executor import RETRIES, RayExecutor  # only here: the others never import ray

        return RayExecutor(pairs, settings, workers, RETRIES if retries is None else retries)
    if name == "process":
        from benchmark.run.process_executor import ProcessExecutor

        return ProcessExecutor(pairs, settings, workers, progress)
    return LocalExecutor(pairs, settings, progress, journal)
