"""``--executor process``: jobs run in a pool of worker processes, so a cell that kills its process
kills only a worker.

A strategy can die where no ``except`` reaches (a segfault in an extension, the kernel's
out-of-memory killer, ``os._exit``). In a worker, that death becomes a failed record of the cell
it was running, naming the signal and the worker's peak memory; the job's other cells go to a
fresh worker. DomainBed runs each job in its own process for the same reason; a pool pays the
start-up (a Python with torch: seconds) once per worker, not once per cell.

    driver                                   worker (spawned: no fork of a threaded torch)
      submit(job) ──("job", preload, job)──▶  run_job(job, ...)
                 ◀──("started", phase, budgets)   before the pretraining and each cell
                 ◀──("phase", text, fraction)     progress, at most PHASE_HZ a second
                 ◀──("record", record)            each record as it is scored
                 ◀──("done",)
      a worker that exits mid-job ──▶ failed records for the phase it was in; the rest resubmitted

Workers are fresh interpreters (``python -m benchmark.run.process_executor FD``, talking over a
socket pair), so they inherit nothing of the driver's threads (forking a process whose OpenMP
pool has run can hang the child), CUDA works in them, and, unlike multiprocessing's ``spawn``,
they never re-import the driver's ``__main__`` (a script without a ``__main__`` guard would run
again in each worker). They get the driver's ``sys.path`` and receive the prepared pairs once,
at start. A ``--plugin`` file's module is executed again in the worker by path before its job is
read. Ctrl-C is the driver's: workers ignore SIGINT and are stopped by the driver.
"""

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait

from benchmark.errors import TransferbenchError
from benchmark.run.recording import failed_records
from benchmark.suite.spec import budget_label

PHASE_HZ = 5            # progress messages per second a worker sends at most
POLL_S = 1.0            # how often the driver reads its workers' peak memory while it waits
STOP_GRACE_S = 5.0      # how long a worker gets to exit after "stop" before it is killed
# --cell-timeout raises in the cell between bytecodes; a cell stuck inside one native call never
# gets there, so its worker is killed once the phase has run this much longer than the limit.
HARD_TIMEOUT_FACTOR, HARD_TIMEOUT_GRACE_S = 1.5, 10.0


class WorkerDied(Exception):
    """A worker process that exited in the middle of a job (a signal, the OOM killer, a native crash)."""


def send(conn, message) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def receive(conn):
    return pickle.loads(conn.recv_bytes())


def preload_of(provided) -> list[tuple[str, str]]:
    """(module, file) to execute in a worker before it can unpickle ``provided.cls``: a ``--plugin``
    file is not importable by name there (its folder need not be on the path)."""
    module, dist = provided.cls.__module__, provided.dist
    return [(module, dist)] if provided.version.startswith("sha256:") and dist.endswith(".py") else []


def load_preloaded(preload) -> None:
    import importlib

    from benchmark.discovery.local_plugins import load_plugin

    for module, path in preload:
        if module in sys.modules:
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            load_plugin(path)


class WorkerProgress:
    """``Progress.phase`` for ``run_job`` in a worker: sent to the driver, at most PHASE_HZ a second."""

    def __init__(self, conn):
        self.conn, self.last_text, self.last_sent = conn, None, 0.0

    def phase(self, text, fraction=None):
        now = time.monotonic()
        if text == self.last_text and now - self.last_sent < 1 / PHASE_HZ:
            return
        self.last_text, self.last_sent = text, now
        send(self.conn, ("phase", text, fraction))


def worker_main(conn) -> None:
    """A worker: read the pairs and settings, then jobs until told to stop; send each job's messages
    (see the module's picture)."""
    from benchmark.run.execute import run_job

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the driver, which stops us
    pairs, settings = receive(conn)
    progress = WorkerProgress(conn)
    while True:
        message = receive(conn)
        if message[0] == "stop":
            return
        _, preload, job_blob = message
        try:
            load_preloaded(preload)
            job = pickle.loads(job_blob)
            for record in run_job(job, pairs[job.pair], settings, progress,
                                  lambda phase, budgets: send(conn, ("started", phase, budgets))):
                send(conn, ("record", record))
            send(conn, ("done",))
        except BaseException as error:  # not the strategy's (run_job records those): the worker's own
            send(conn, ("error", f"{type(error).__name__}: {error}"))


def signal_text(exitcode: int | None) -> str:
    if exitcode is None:
        return "no exit code"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"{name}{' (killed: the out-of-memory killer sends it too)' if name == 'SIGKILL' else ''}"
    return f"exit code {exitcode}"


def peak_rss_mib(pid: int) -> float | None:
    """A live process's peak resident memory (VmHWM) in MiB; None where /proc does not say (not Linux)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


@dataclass(eq=False)
class Worker:
    process: subprocess.Popen
    conn: Connection
    owner: object = None             # the driver's job this worker's work belongs to
    job: object = None               # what it runs now: the owner, or its cells left after a death
    phase: tuple = ("pretrain", ())  # the phase it said it is in, and its budgets
    recorded: set = field(default_factory=set)  # budgets with a cell record
    peak_mib: float | None = None
    started_at: float = 0.0          # when the job began (monotonic seconds)
    phase_at: float = 0.0            # when the phase began
    killed: str = ""                 # why the driver killed it, if it did


class ProcessExecutor:
    """Up to ``workers`` jobs at once, each in a worker process; ``settings.threads`` torch threads
    each (default: the cores divided among the workers)."""

    def __init__(self, pairs: dict, settings, workers: int | None = None, progress=None):
        self.pairs, self.progress = pairs, progress
        self.workers = workers or 1
        threads = settings.threads or max(1, (os.cpu_count() or 1) // self.workers)
        self.settings = replace(settings, threads=threads)
        # Pickled once, sent to each worker as it starts.
        self._start_blob = pickle.dumps((pairs, self.settings), protocol=pickle.HIGHEST_PROTOCOL)
        self._idle: list[Worker] = []
        self._running: list[Worker] = []
        self._resubmit = deque()  # (owner, job): cells a dead worker did not reach, for a fresh worker
        self.started = 0          # workers started, a dead one's replacement included

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for worker in self._idle:
            try:
                send(worker.conn, ("stop",))
            except OSError:
                pass
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self._idle + self._running:
            if worker in self._running:  # mid-job (Ctrl-C, an error in the driver): nothing to wait for
                worker.process.kill()
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.conn.close()
        self._idle.clear()
        self._running.clear()

    def has_room(self) -> bool:
        return len(self._running) + len(self._resubmit) < self.workers

    def busy(self) -> bool:
        return bool(self._running or self._resubmit)

    def _start_worker(self) -> Worker:
        ours, theirs = socket.socketpair()
        # The driver's sys.path, so the worker imports what the driver can (plugins, test modules).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        process = subprocess.Popen([sys.executable, "-m", "benchmark.run.process_executor", str(theirs.fileno())],
                                   pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL)
        theirs.close()
        conn = Connection(ours.detach())
        conn.send_bytes(self._start_blob)
        self.started += 1
        return Worker(process, conn)

    def submit(self, job) -> None:
        self._start(job, job)

    def _start(self, owner, job) -> None:
        try:
            blob = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # e.g. a strategy class defined inside a function
            raise TransferbenchError(f"--executor process: strategy '{job.provided.name}' cannot be sent to a "
                                     f"worker process ({type(error).__name__}: {error}); define it at a "
                                     f"module's top level, or run with --executor local") from None
        worker = self._idle.pop() if self._idle else self._start_worker()
        worker.owner, worker.job, worker.phase, worker.recorded = owner, job, ("pretrain", job.budgets), set()
        worker.started_at = worker.phase_at = time.monotonic()
        worker.killed = ""
        send(worker.conn, ("job", preload_of(job.provided), blob))
        self._running.append(worker)

    def finished(self):
        """(job, records, done) as workers report: records as they are scored; done once the job's
        every cell is recorded (by its worker, or as failed because a worker died in it)."""
        while self._resubmit and len(self._running) < self.workers:
            self._start(*self._resubmit.popleft())
        if not self._running:
            return
        ready = wait([worker.conn for worker in self._running], timeout=POLL_S)
        for worker in list(self._running):
            self._watch(worker)
            if worker.conn not in ready:
                continue
            try:
                while worker.conn.poll():
                    yield from self._handle(worker, receive(worker.conn))
                    if worker not in self._running:
                        break
            except (EOFError, OSError):  # the worker is gone: its pipe closed with it
                yield from self._died(worker)

    def _watch(self, worker: Worker) -> None:
        """Note the worker's peak memory; kill it when its phase overran the cell timeout (see HARD_TIMEOUT_*)."""
        peak = peak_rss_mib(worker.process.pid)
        if peak is not None:
            worker.peak_mib = max(peak, worker.peak_mib or 0.0)
        limit = self.settings.cell_timeout
        overran = time.monotonic() - worker.phase_at
        if limit and not worker.killed and overran > limit * HARD_TIMEOUT_FACTOR + HARD_TIMEOUT_GRACE_S:
            worker.killed = f"killed by the driver after {overran:.0f} s, past the cell timeout of {limit:g} s " \
                            f"(stuck where the timeout cannot interrupt it, e.g. in native code)"
            worker.process.kill()

    def _handle(self, worker: Worker, message):
        kind = message[0]
        if kind == "phase" and self.progress is not None:
            self.progress.phase(message[1], message[2])
        elif kind == "started":
            worker.phase, worker.phase_at = (message[1], tuple(message[2])), time.monotonic()
        elif kind == "record":
            record = message[1]
            if record["status"] != "trial":
                worker.recorded.add(record["budget"])
            yield worker.owner, [record], False
        elif kind == "done":
            self._running.remove(worker)
            self._idle.append(worker)
            yield from self._owner_done(worker.owner)
        elif kind == "error":  # the worker's own failure, not a strategy's: every cell left fails with it
            job = self._left(worker)
            self._running.remove(worker)
            self._idle.append(worker)
            if job is not None:
                yield worker.owner, failed_records(job, self.pairs[job.pair], self.settings,
                                                   WorkerDied(message[1])), False
            yield from self._owner_done(worker.owner)

    def _owner_done(self, owner):
        """The owner is done once no worker runs, and no resubmission waits for, any of its cells."""
        if not any(w.owner is owner for w in self._running) and not any(o is owner for o, _ in self._resubmit):
            yield owner, [], True

    def _left(self, worker: Worker):
        """The worker's job cut to its budgets without a record; None when none is left."""
        left = tuple(b for b in worker.job.budgets if budget_label(b) not in worker.recorded)
        return replace(worker.job, budgets=left) if left else None

    def _died(self, worker: Worker):
        """A worker that exited mid-job: the cells of the phase it was in fail; the others go to a fresh worker."""
        try:
            worker.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:  # the pipe broke but the process lingers: end it
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()
        self._running.remove(worker)
        job = self._left(worker)
        if job is None:
            yield from self._owner_done(worker.owner)
            return
        phase, budgets = worker.phase
        dead = tuple(b for b in job.budgets if phase == "pretrain" or b in budgets)
        memory = f"; its peak memory was {worker.peak_mib:g} MiB" if worker.peak_mib is not None else ""
        how = worker.killed or signal_text(worker.process.returncode)
        error = WorkerDied(f"the worker process died during this cell's {phase} "
                           f"({how}{memory}); the suite went on in a fresh worker")
        wall = time.monotonic() - worker.started_at
        yield worker.owner, failed_records(replace(job, budgets=dead), self.pairs[job.pair], self.settings,
                                           error, wall), False
        rest = tuple(b for b in job.budgets if b not in dead)
        if rest:
            self._resubmit.append((worker.owner, replace(job, budgets=rest)))
        yield from self._owner_done(worker.owner)


if __name__ == "__main__":  # a worker, started by ProcessExecutor._start_worker with its socket's descriptor
    worker_main(Connection(int(sys.argv[1])))
