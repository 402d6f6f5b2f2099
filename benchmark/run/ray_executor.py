"""``--executor ray``: jobs become Ray tasks; the driver still writes every record.

The cluster is the one at ``$RAY_ADDRESS`` when set, else a local Ray started for this
run with ``workers × threads`` CPUs and stopped after it. Each task asks Ray for
``threads`` CPUs (``--threads``, default 1) and sets torch to that many threads, so
workers never oversubscribe the cores. A local Ray's workers get the driver's ``sys.path``, so every
plugin importable here is importable there (a ``--plugin`` file's classes are sent by value); on a remote cluster, install the same
packages (and the same data root) on every node. Put ``--pretrain-cache`` on storage all
nodes share, or each node keeps its own cache (still correct: entries are keyed by content).

A task lost to the system (its worker process or its node died) is run again, up to ``retries``
times (``--retries``, default 3), by Ray itself; a strategy's own exception is never retried
(``retry_exceptions=False``): it is a failed record at once. A retried task cannot duplicate a
record: the driver alone writes them, when a task returns. A task still lost after its retries
becomes failed records naming Ray's error (``NodeDiedError``, ``WorkerCrashedError``).

Ray is an optional extra: ``pip install 'transferbench[ray]'``.
"""

import logging
import os
import sys
from dataclasses import replace

from benchmark.errors import TransferbenchError
from benchmark.run.execute import run_job_to_list
from benchmark.run.recording import failed_records

try:
    import ray
except ImportError:  # pragma: no cover - depends on the install
    ray = None


def send_by_value(provided) -> None:
    """Pickle the classes of a ``--plugin`` file (or of a class handed to ``benchmark.run.api``) by
    value: a worker cannot import them by module name unless the file happens to be on its path."""
    module = sys.modules.get(provided.cls.__module__)
    if provided.version.startswith("sha256:") and module is not None and module.__name__ != "__main__":
        ray.cloudpickle.register_pickle_by_value(module)


RETRIES = 3  # runs of a task lost to a dead worker or node, after the first


class RayExecutor:
    def __init__(self, pairs: dict, settings, workers: int | None, retries: int = RETRIES):
        if ray is None:
            raise TransferbenchError("--executor ray needs Ray: pip install 'transferbench[ray]'")
        self.pairs, self.threads = pairs, settings.threads or 1
        self.settings = replace(settings, threads=self.threads)
        self.started_ray = not ray.is_initialized()
        if self.started_ray:
            ray.init(**self.init_options(workers), logging_level=logging.WARNING, include_dashboard=False)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers or max(1, cpus // self.threads)
        self._task = ray.remote(num_cpus=self.threads, max_retries=retries, retry_exceptions=False)(run_job_to_list)
        self._pair_refs = {name: ray.put(prepared) for name, prepared in pairs.items()}  # sent once, not per task
        self._running = {}  # ObjectRef -> job

    def init_options(self, workers: int | None) -> dict:
        if os.environ.get("RAY_ADDRESS"):
            return {"address": os.environ["RAY_ADDRESS"]}
        cpus = (workers or max(1, (os.cpu_count() or 1) // self.threads)) * self.threads
        # Workers start with their own sys.path: give them ours, so plugins found here load there.
        return {"num_cpus": cpus,
                "runtime_env": {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for ref in self._running:
            ray.cancel(ref, force=True)
        self._running.clear()
        if self.started_ray:
            ray.shutdown()

    def has_room(self) -> bool:
        return len(self._running) < self.workers

    def busy(self) -> bool:
        return bool(self._running)

    def submit(self, job) -> None:
        send_by_value(job.provided)
        ref = self._task.remote(job, self._pair_refs[job.pair], self.settings)
        self._running[ref] = job

    def finished(self):
        ready, _ = ray.wait(list(self._running), num_returns=1)
        for ref in ready:
            job = self._running.pop(ref)
            try:
                produced = ray.get(ref)
            except Exception as error:  # the worker itself died (killed, out of memory, a crash in C code)
                cause = getattr(error, "cause", None) or error
                produced = failed_records(job, self.pairs[job.pair], self.settings, cause)
            yield job, produced, True
