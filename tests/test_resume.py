"""Pull the plug at any moment, or run twice at once: no cell is lost, repeated or changed."""

import multiprocessing
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from benchmark import records
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"
CELLS = 3 * 2 * 1 * 2  # the tiny suite with one seed: strategies × pairs × seeds × budgets


def transferbench(out: Path, *extra) -> list[str]:
    script = Path(sys.executable).parent / "transferbench"
    return [str(script), "run", str(TINY), "--seeds", "1", "--out", str(out), "--no-progress", "--threads", "1", *extra]


def metrics_by_cell(path: Path) -> dict:
    return {records.cell_key(r): (r["status"], r["metrics"]) for r in records.read(path)}


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_a_killed_run_resumes_to_exactly_the_records_of_a_clean_run(registry, tmp_path):
    out = tmp_path / "killed"
    path = out / "tiny" / "records.jsonl"
    process = subprocess.Popen(transferbench(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while count_lines(path) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written_before_kill = path.read_bytes()
    finished = written_before_kill.count(b"\n")
    assert 3 <= finished < CELLS, "the kill must land in the middle of the run"
    # SIGKILL in the middle of a write leaves half a line; make sure this run has one.
    torn = written_before_kill.splitlines(keepends=True)[0][:40]
    with open(path, "ab") as handle:
        handle.write(torn)

    resumed = subprocess.run(transferbench(out), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"transferbench: warning: {path}:{finished + 1}: removed a partial last line ({len(torn)} bytes) " \
           f"left by an interrupted write" in resumed.stderr
    assert f"{finished} already recorded" in resumed.stdout  # no finished cell was computed again
    final = path.read_bytes()
    assert final.startswith(written_before_kill)  # and none was changed
    keys = [records.cell_key(r) for r in records.read(path)]
    assert len(keys) == len(set(keys)) == CELLS

    clean = tmp_path / "clean"
    suite = load_suite(TINY).with_overrides(seeds=1)
    Runner(suite, registry, clean, clean, show_progress=False, threads=1, pretrain_cache=False).run()
    assert metrics_by_cell(path) == metrics_by_cell(clean / "tiny" / "records.jsonl")


def test_two_runners_on_one_results_directory_split_the_work(tmp_path):
    runners = [subprocess.Popen(transferbench(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [runner.communicate(timeout=600) for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0], outputs
    path = tmp_path / "tiny" / "records.jsonl"
    lines = path.read_text().splitlines()
    assert len(lines) == CELLS and len({records.cell_key(records.parse_line(line)) for line in lines}) == CELLS
    # Every cell was computed by exactly one of them: the other found it recorded or claimed.
    counts = [re.search(r"(\d+) ok, (\d+) failed, (\d+) skipped, (\d+) already recorded", out).groups()
              for out, _ in outputs]
    ok, failed, skipped, already = (sum(int(c[i]) for c in counts) for i in range(4))
    assert (ok + skipped, failed, already) == (CELLS, 0, CELLS), outputs


def _append_many(path: str, worker: int) -> None:
    log = records.Log(Path(path))
    for i in range(40):
        record = {"schema": 1, "pair": "p", "strategy": "s", "hparams": {}, "budget": "1", "status": "ok",
                  "seed": 1000 * worker + i, "padding": "x" * 5000}  # long lines: a torn interleave would show
        log.append(record)
        log.append({**record, "seed": i})  # the same cells from every worker: written once in all


def test_concurrent_appends_never_interleave_or_duplicate(tmp_path):
    path = tmp_path / "records.jsonl"
    context = multiprocessing.get_context("fork")  # the children only append: no torch work to upset
    workers = [context.Process(target=_append_many, args=(str(path), worker)) for worker in range(1, 4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    lines = path.read_text().splitlines()
    seeds = [records.parse_line(line)["seed"] for line in lines]  # raises on a torn line
    assert sorted(seeds) == sorted(list(range(40)) + [1000 * w + i for w in range(1, 4) for i in range(40)])


def test_the_same_suite_and_seed_give_bit_identical_metrics(registry, tmp_path):
    # One finetune cell (pretrain + adapt + score), on torch's default threads and without
    # the cache, so that both runs compute everything.
    suite = replace(load_suite(TINY).with_overrides(seeds=1, strategies=["finetune"]),
                    pairs=load_suite(TINY).pairs[:1], budgets=(2,))
    paths = []
    for run in ("first", "second"):
        Runner(suite, registry, tmp_path / run, tmp_path, show_progress=False, pretrain_cache=False).run()
        paths.append(tmp_path / run / "tiny" / "records.jsonl")
    first, second = map(metrics_by_cell, paths)
    assert len(first) == 1 and all(status == "ok" for status, _ in first.values())
    assert first == second
