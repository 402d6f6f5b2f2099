"""A cell that kills its process (a signal, the out-of-memory killer, a crash in native code) cannot
block a suite: in-process, the journal records it as failed after it did so ``--max-deaths`` times;
in a worker (``--executor process``) it is a failed record at once and a fresh worker runs the rest."""

import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmark import records

SUITE = """
name = "deaths"
protocol = "transfer"
seeds = [0, 1, 2]
budgets = [2]
input = { channels = 1, size = [8, 8] }
strategies = ["target-only", "%(name)s"]

[[pairs]]
name = "digits→rotated"
source = { provider = "sklearn-digits", split = "train[:50%%]" }
target = { provider = "sklearn-digits", split = "train[50%%:]", test_split = "test", shifts = [{ rotate = 30 }] }

[hparams.target-only]
adapt_steps = 5
"""

# adapt on seed 1 ends the process the way a native crash or the OOM killer does: no Python
# exception, no cleanup; on the other seeds it is a nearest-centroid classifier.
KILLER = '''
import os, signal, torch
from benchmark import Strategy

class SelfKilling(Strategy):
    name = "self-killing"
    description = "SIGKILLs its own process while adapting on seed 1"

    def pretrain(self, source, ctx):
        self.seed = ctx.seed

    def adapt(self, support, ctx):
        if self.seed == 1:
            %(death)s
        flat = support.inputs.flatten(1)
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ flat) / one_hot.sum(0)[:, None]
        return lambda inputs: -torch.cdist(inputs.flatten(1), centroids)
'''

KILL = "os.kill(os.getpid(), signal.SIGKILL)"
# Allocate and touch 64 MiB at a time until the address-space limit the test sets refuses more.
EXHAUST = "hoard = []\n            while True: hoard.append(torch.ones(16 * 2**20))"


def write_case(tmp_path: Path, death: str = KILL, name: str = "self-killing") -> tuple[Path, Path]:
    suite = tmp_path / "deaths.toml"
    suite.write_text(SUITE % {"name": name})
    plugin = tmp_path / "killer.py"
    plugin.write_text(KILLER % {"death": death})
    return suite, plugin


def run(suite: Path, plugin: Path, out: Path, *extra, preexec=None) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "transferbench"
    command = [str(script), "run", str(suite), "--plugin", str(plugin), "--out", str(out), "--no-progress",
               "--threads", "1", "--no-pretrain-cache", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, preexec_fn=preexec)


def cells(out: Path) -> dict:
    """(strategy, seed) -> the last record's status and error, from the suite's records."""
    found = {}
    for record in records.read(out / "deaths" / "records.jsonl"):
        found[(record["strategy"], record["seed"])] = (record["status"], record.get("error") or {})
    return found


def assert_only_the_bad_cell_failed(out: Path, error_type: str) -> dict:
    found = cells(out)
    assert {key: status for key, (status, _) in found.items()} == {
        ("target-only", 0): "ok", ("target-only", 1): "ok", ("target-only", 2): "ok",
        ("self-killing", 0): "ok", ("self-killing", 1): "failed", ("self-killing", 2): "ok"}
    error = found[("self-killing", 1)][1]
    assert error["type"] == error_type, error
    return error


def test_in_process_a_self_killing_cell_is_recorded_failed_after_two_deaths_and_the_suite_finishes(tmp_path):
    suite, plugin = write_case(tmp_path)
    out = tmp_path / "out"
    first = run(suite, plugin, out)
    assert first.returncode == -9, first.stderr  # the whole run died with the cell, as it must in-process
    second = run(suite, plugin, out)
    assert second.returncode == -9, second.stderr
    assert "self-killing / digits→rotated / seed 1 / budget 2 took the process down 1 time(s) before" in second.stderr
    third = run(suite, plugin, out)
    assert third.returncode == 1, third.stderr
    error = assert_only_the_bad_cell_failed(out, "ProcessDied")
    assert error["message"].startswith("the process died during this cell 2 times"), error
    assert "failed: self-killing / digits→rotated / seed 1 / budget 2: ProcessDied" in third.stderr
    # Every cell but the bad one was recorded once: none was lost or computed twice by the deaths.
    ok = [r for r in records.read(out / "deaths" / "records.jsonl") if r["status"] == "ok"]
    assert len(ok) == len({records.cell_key(r) for r in ok}) == 5


def test_max_deaths_one_records_it_on_the_first_rerun(tmp_path):
    suite, plugin = write_case(tmp_path)
    out = tmp_path / "out"
    assert run(suite, plugin, out, "--max-deaths", "1").returncode == -9
    rerun = run(suite, plugin, out, "--max-deaths", "1")
    assert rerun.returncode == 1, rerun.stderr
    assert_only_the_bad_cell_failed(out, "ProcessDied")


def test_a_run_that_ended_cleanly_counts_no_death(tmp_path):
    suite, plugin = write_case(tmp_path, death="raise RuntimeError('a Python failure, not a death')")
    out = tmp_path / "out"
    assert run(suite, plugin, out).returncode == 1
    journal = [json.loads(line) for line in (out / "deaths" / ".journal.jsonl").read_text().splitlines()]
    tokens = {entry["token"] for entry in journal}
    assert tokens == {entry["token"] for entry in journal if entry.get("end")}  # every job's entry was closed
    assert_only_the_bad_cell_failed(out, "RuntimeError")


def test_a_worker_that_kills_itself_is_a_failed_record_naming_the_signal_and_a_fresh_worker_goes_on(tmp_path):
    suite, plugin = write_case(tmp_path)
    out = tmp_path / "out"
    result = run(suite, plugin, out, "--executor", "process")
    assert result.returncode == 1, result.stderr
    error = assert_only_the_bad_cell_failed(out, "WorkerDied")
    assert error["message"].startswith("the worker process died during this cell's cell (SIGKILL"), error
    assert "peak memory was" in error["message"]


def address_space_limit(limit_bytes: int):
    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return preexec


@pytest.mark.parametrize("executor", ["local", "process"])
def test_a_cell_that_exhausts_memory_fails_alone_and_the_suite_finishes(tmp_path, executor):
    # 6 GiB of address space: room for Python, torch and the data, not for a hoard without end
    # (the kernel's OOM killer would end it on a machine without the limit).
    suite, plugin = write_case(tmp_path, death=EXHAUST)
    out = tmp_path / "out"
    result = run(suite, plugin, out, "--executor", executor, preexec=address_space_limit(6 * 2**30))
    assert result.returncode == 1, result.stderr
    found = cells(out)
    assert found[("self-killing", 1)][0] == "failed"
    assert found[("self-killing", 1)][1]["type"] in ("MemoryError", "RuntimeError", "WorkerDied"), found
    assert sorted(key for key, (status, _) in found.items() if status == "ok") == sorted(
        [("target-only", 0), ("target-only", 1), ("target-only", 2), ("self-killing", 0), ("self-killing", 2)])


def test_the_journal_forgets_nothing_a_live_runner_is_doing(tmp_path):
    """A job whose claim is held (its runner is alive, here or on another host) is no death."""
    from benchmark.run.claims import Claims
    from benchmark.run.journal import Journal

    claims = Claims(tmp_path / ".claims")

    class Job:  # what the journal and the claims read of a job
        pair, seed, hparams, task_key, budgets = "p", 0, {}, (), (2,)
        provided = type("P", (), {"name": "s"})

        def cell_key(self, budget):
            return ("p", "s", budget)

    job = Job()
    journal = Journal(tmp_path, claims)
    entry = journal.begin(job)
    entry.started("cell", (2,))
    assert claims.acquire(job)
    assert journal.deaths() == {}      # held: running now
    claims.release(job)
    assert len(next(iter(journal.deaths().values()))) == 1  # released without an end: it died
    entry.end()
    assert journal.deaths() == {}


def test_worker_processes_record_the_same_metrics_as_the_in_process_run(tmp_path):
    """Isolation changes where a cell runs, not what it computes (same code, same thread count)."""
    tiny = Path(__file__).parent / "suites" / "tiny.toml"
    script = Path(sys.executable).parent / "transferbench"
    found = {}
    for executor in ("local", "process"):
        out = tmp_path / executor
        result = subprocess.run([str(script), "run", str(tiny), "--seeds", "1", "--out", str(out), "--no-progress",
                                 "--threads", "1", "--executor", executor], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        found[executor] = {records.cell_key(r): (r["status"], r["metrics"])
                           for r in records.read(out / "tiny" / "records.jsonl")}
    assert len(found["local"]) == 12 and found["local"] == found["process"]
