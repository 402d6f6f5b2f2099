"""Executors run jobs and hand their records back to the driver, which alone writes them.

    while ...:
        if executor.has_room(): executor.submit(job)
        for job, records in executor.finished(): ...   # waits for at least one job

``local`` (the default) runs each job in this process as its records are read, so every
cell is appended the moment it is scored. ``ray`` (``benchmark.ray_executor``, imported
only when asked for) runs jobs as Ray tasks. Resume, claims and the records format are
the driver's, so they are the same for both.
"""

from collections import deque

from benchmark.cells import run_job
from benchmark.errors import TransferbenchError

EXECUTORS = ("local", "ray")


class LocalExecutor:
    """One job at a time, in this process, on torch's default threads."""

    def __init__(self, pairs: dict, settings):
        self.pairs, self.settings = pairs, settings
        self._queue = deque()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._queue.clear()

    def has_room(self) -> bool:
        return not self._queue

    def busy(self) -> bool:
        return bool(self._queue)

    def submit(self, job) -> None:
        self._queue.append(job)

    def finished(self):
        while self._queue:
            job = self._queue[0]
            yield job, run_job(job, self.pairs[job.pair], self.settings)
            self._queue.popleft()


def make_executor(name: str, pairs: dict, settings, workers: int | None = None, threads_per_worker: int = 1):
    if name == "local":
        if workers not in (None, 1):
            raise TransferbenchError(f"--workers {workers} needs --executor ray (the local executor runs one cell "
                                     f"at a time on all cores)")
        return LocalExecutor(pairs, settings)
    if name == "ray":
        from benchmark.ray_executor import RayExecutor  # only here: the local executor never imports ray

        return RayExecutor(pairs, settings, workers, threads_per_worker)
    raise TransferbenchError(f"unknown executor '{name}'; choose one of {', '.join(EXECUTORS)}")
