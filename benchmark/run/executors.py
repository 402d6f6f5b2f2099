"""Executors run jobs and hand their records back to the driver, which alone writes them.

    while ...:
        if executor.has_room(): executor.submit(job)
        for job, records in executor.finished(): ...   # waits for at least one job

``local`` (the default) runs each job in this process as its records are read, so every
cell is appended the moment it is scored. ``ray`` (``benchmark.run.ray_executor``, imported
only when asked for) runs jobs as Ray tasks. Resume, claims and the records format are
the driver's, so they are the same for both.
"""

from collections import deque

import torch

from benchmark.errors import TransferbenchError
from benchmark.run.execute import run_job

EXECUTORS = ("local", "ray")


class LocalExecutor:
    """One job at a time, in this process, on ``settings.threads`` torch threads (default: torch's)."""

    def __init__(self, pairs: dict, settings, progress=None):
        self.pairs, self.settings, self.progress = pairs, settings, progress
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
            job = self._queue[0]
            yield job, run_job(job, self.pairs[job.pair], self.settings, self.progress)
            self._queue.popleft()


def check_executor(name: str, workers: int | None) -> None:
    """Raise on an executor choice that cannot work: checked before any data is loaded."""
    if name not in EXECUTORS:
        raise TransferbenchError(f"unknown executor '{name}'; choose one of {', '.join(EXECUTORS)}")
    if name == "local" and workers not in (None, 1):
        raise TransferbenchError(f"--workers {workers} needs --executor ray (the local executor runs one cell "
                                 f"at a time on all cores)")


def make_executor(name: str, pairs: dict, settings, workers: int | None = None, progress=None):
    """``progress`` (benchmark.run.progress.Progress) shows each job's phase; in-process jobs only."""
    check_executor(name, workers)
    if name == "ray":
        from benchmark.run.ray_executor import RayExecutor  # only here: the local executor never imports ray

        return RayExecutor(pairs, settings, workers)
    return LocalExecutor(pairs, settings, progress)
