"""What isolation costs: the quickstart run in-process and in a worker-process pool, side by side.

    .venv/bin/python bench/isolation_cost.py [--suite suites/quickstart.toml] [--workers 1] [--seeds N]

Runs the suite twice from nothing (fresh results, pretrain and dataset caches each time):
``--executor local`` (cells in this process) and ``--executor process`` (cells in spawned worker
processes that a crashing cell cannot take the run down with). Prints both wall times, their
ratio (goal <= 1.1), the extra seconds per cell, and whether the two runs recorded the same
metrics (they should: same code, same threads). ``--seeds 1`` runs a third of the quickstart:
the pool's start-up is then spread over fewer cells, so the ratio is an upper bound. Writes bench/results/isolation_cost.json.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib

from benchmark import records

GOAL_RATIO = 1.1


def run(suite: Path, executor: str, workers: int, scratch: Path, seeds) -> tuple[float, Path, str]:
    script = str(Path(sys.executable).parent / "transferbench")
    out = scratch / executor
    command = [script, "run", str(suite), "--out", str(out), "--no-progress", "--executor", executor,
               "--dataset-cache", str(scratch / f"{executor}-datasets")]
    if executor == "process":
        command += ["--workers", str(workers)]
    if seeds:
        command += ["--seeds", str(seeds)]
    seconds, result = benchlib.timed(subprocess.run, command, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{executor}: exit {result.returncode}\n{result.stderr}")
    summary = next(line for line in result.stdout.splitlines() if " ok, " in line)
    return seconds, next(out.glob("*/records.jsonl")), summary


def metrics(path: Path) -> dict:
    return {records.cell_key(r): (r["status"], r["metrics"]) for r in records.read(path)}


def main() -> int:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--suite", default=str(benchlib.REPO / "suites" / "quickstart.toml"))
    arguments.add_argument("--workers", type=int, default=1)
    arguments.add_argument("--seeds", type=int, help="the suite's first N seeds (default: all)")
    options = arguments.parse_args()
    started_on = benchlib.machine()
    with tempfile.TemporaryDirectory() as scratch:
        suite, where = Path(options.suite), Path(scratch)
        local_s, local_path, local_summary = run(suite, "local", options.workers, where, options.seeds)
        process_s, process_path, process_summary = run(suite, "process", options.workers, where, options.seeds)
        local, isolated = metrics(local_path), metrics(process_path)
    cells = len(local)
    ratio = process_s / local_s
    same = local == isolated
    print(f"in-process: {local_s:.1f} s ({local_summary})")
    print(f"worker processes ({options.workers}): {process_s:.1f} s ({process_summary})")
    print(f"ratio {ratio:.3f} (goal <= {GOAL_RATIO}); {(process_s - local_s) / cells * 1000:+.0f} ms per cell "
          f"over {cells} cells; same metrics in both: {same}")
    benchlib.write("isolation_cost", {"suite": options.suite, "seeds": options.seeds, "workers": options.workers,
                                      "cells": cells,
                                      "local_s": round(local_s, 2), "process_s": round(process_s, 2),
                                      "ratio": round(ratio, 4), "goal_ratio": GOAL_RATIO,
                                      "extra_ms_per_cell": round((process_s - local_s) / cells * 1000, 1),
                                      "same_metrics": same, "local_summary": local_summary,
                                      "process_summary": process_summary},
                   "python " + " ".join(sys.argv), started_on)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
