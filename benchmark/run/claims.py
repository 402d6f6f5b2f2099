"""Claims: two runners on one results directory split the work instead of both doing it.

Before it runs a job, a runner takes an exclusive, non-blocking ``flock`` on the job's
lock file in ``results/<suite>/.claims/``; another runner that finds it taken leaves the
job for later and, by then, usually finds its cells recorded. The kernel drops the locks
of a runner that dies, so a killed run never leaves a job claimed. Lock files are empty
and never deleted (deleting a lock file others may hold open races with them).
"""

import fcntl
import hashlib
import json
from pathlib import Path

from benchmark.records.store import writing


class Claims:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._held = {}  # job -> open lock file

    def name(self, job) -> str:
        """The file name of ``job``'s claim (one per strategy, pair, hyperparameters, seed and task key)."""
        return self._path(job).name

    def _path(self, job) -> Path:
        # Not the budgets: two runners may plan different budgets for one group (one had some
        # recorded already) and must still see each other's claim. A task-shaped pretrain
        # (e.g. MAML's episodes) splits the budgets into groups named by their task key.
        group = json.dumps([job.pair, job.provided.name, job.hparams, job.seed, list(job.task_key)], sort_keys=True)
        return self.directory / f"{hashlib.sha256(group.encode()).hexdigest()[:24]}.lock"

    def acquire(self, job) -> bool:
        """True when this runner now holds ``job``; False when another runner does."""
        with writing(self.directory):  # a read-only results folder: one line, not a traceback
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = open(self._path(job), "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held[job] = handle
        return True

    def rename(self, job, same_group) -> None:
        """Keep holding the claim, now under ``same_group`` (the job with fewer budgets left)."""
        self._held[same_group] = self._held.pop(job)

    def release(self, job) -> None:
        handle = self._held.pop(job, None)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def release_all(self) -> None:
        for job in list(self._held):
            self.release(job)
