"""The journal: which cells were running when an in-process run died, so a rerun does not die on them forever.

A strategy can take its whole process down where no ``except`` reaches: a segfault in an
extension, the kernel's out-of-memory killer, ``os._exit``. Run in-process (the local executor),
that kills the run, and a rerun reaches the same cell and dies again. So before each phase of a
job the runner appends one line to ``results/<suite>/.journal.jsonl``, and one more when the job
ends (also when it ends by Ctrl-C or an error):

    {"token": "9f1c…", "claim": "3ab2….lock", "phase": "pretrain", "cells": ["c41d…", …],
     "what": "finetune / digits→usps / seed 1", "pid": 4242, "host": "node7", "at": 1764780000.0,
     "peak_rss_mib": 812.4}
    {"token": "9f1c…", "end": true}

A token whose last line is a phase, not an end, and whose job claim (``benchmark.run.claims``)
nobody holds any more, is a death during that phase: of the one cell it names, or of every cell
of the job for a pretraining. ``deaths()`` counts them per cell; the runner records a cell that
died ``max_deaths`` times as failed (``ProcessDied``) and runs the rest. Lines are not fsynced:
the page cache outlives a killed process (a machine's crash may lose the last line, and with it
at most one count). Deleting the file forgets every death.
"""

import fcntl
import hashlib
import json
import os
import resource
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmark.records.store import writing

FILE = ".journal.jsonl"


class ProcessDied(Exception):
    """A cell that took its process down (a signal, the out-of-memory killer, a crash in native code)."""


def cell_id(key: tuple) -> str:
    """A cell key (``records.cell_key``) as a short stable string for the journal."""
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if os.uname().sysname == "Darwin" else 1024), 1)


@dataclass(frozen=True)
class Death:
    """One death: where and when the process was last seen, and in which phase."""

    phase: str          # "pretrain" or "cell"
    what: str           # the job, as the progress line names it
    pid: int
    host: str
    at: float           # seconds since the epoch, when the phase began
    peak_rss_mib: float  # the process's peak memory when the phase began: a lower bound of what it reached

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.at))
        return f"pid {self.pid} on {self.host}, {self.phase} begun {when} at a peak of {self.peak_rss_mib:g} MiB"


class Journal:
    """One results folder's journal, beside the runner's job ``claims`` (``benchmark.run.claims.Claims``)."""

    def __init__(self, folder: Path, claims):
        self.path = Path(folder) / FILE
        self.claims = claims

    def _append(self, entry: dict) -> None:
        with writing(self.path), open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")

    def begin(self, job) -> "JobEntry":
        """The entry of one run of ``job`` (``benchmark.run.jobs.Job``), before it starts."""
        what = f"{job.provided.name} / {job.pair} / seed {job.seed}"
        return JobEntry(self, uuid.uuid4().hex, self.claims.name(job), what,
                        {budget: cell_id(job.cell_key(budget)) for budget in job.budgets})

    def records(self, job, produced):
        """``produced`` (``run_job``'s records) passed through, with the job's journal lines around it:
        ``run_job(..., started=...)`` takes the ``started`` of ``entry``."""
        entry = self.begin(job)
        try:
            yield from produced(entry.started)
        finally:  # also on Ctrl-C or an error: the job stopped, it did not die
            entry.end()

    def deaths(self) -> dict[str, list[Death]]:
        """{cell id: its deaths, oldest first} over every job that died: ended without an end
        line while no process holds its claim now."""
        if not self.path.exists():
            return {}
        last, order = {}, []
        for line in self.path.read_bytes().splitlines():
            try:
                entry = json.loads(line)
                token = entry["token"]
            except (ValueError, KeyError, TypeError):  # a torn last line: a crash while writing it
                continue
            if token not in last:
                order.append(token)
            last[token] = entry
        found = {}
        for token in order:
            entry = last[token]
            if entry.get("end") or self._held(entry["claim"]):
                continue
            death = Death(entry["phase"], entry["what"], entry["pid"], entry["host"], entry["at"],
                          entry["peak_rss_mib"])
            for cell in entry["cells"]:
                found.setdefault(cell, []).append(death)
        return found

    def _held(self, claim: str) -> bool:
        """Whether a live process holds the claim (its job is running now, here or on another host)."""
        path = self.claims.directory / claim
        if not path.exists():
            return False
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False


@dataclass
class JobEntry:
    """The journal lines of one job as it runs: ``phase`` before each phase, ``end`` once it stops."""

    journal: Journal
    token: str
    claim: str
    what: str
    cells: dict  # budget -> cell id

    def started(self, phase: str, budgets: tuple) -> None:
        """``run_job``'s ``started`` hook: one line before the pretraining and before each cell."""
        self.journal._append({"token": self.token, "claim": self.claim, "phase": phase,
                              "cells": [self.cells[budget] for budget in budgets],
                              "what": self.what, "pid": os.getpid(), "host": socket.gethostname(),
                              "at": round(time.time(), 3), "peak_rss_mib": peak_rss_mib()})

    def end(self) -> None:
        self.journal._append({"token": self.token, "end": True})


def died_message(deaths: list[Death], max_deaths: int) -> str:
    """The failed record's message for a cell that took its process down ``len(deaths)`` times."""
    return (f"the process died during this cell {len(deaths)} time{'s' if len(deaths) > 1 else ''} "
            f"(a signal, the out-of-memory killer or a crash in native code; the journal cannot see which): "
            f"{'; '.join(death.describe() for death in deaths)}. Recorded as failed after {max_deaths} "
            f"so the suite goes on; --executor process runs cells in workers and names the signal")
