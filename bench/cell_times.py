"""Per-cell wall times of a finished run, from its records alone: where a suite's time goes.

    .venv/bin/python bench/cell_times.py results/digits [results/omniglot-fewshot ...]

Prints, per strategy and pair, the mean wall seconds per cell (pretraining shared by a
group of cells is split evenly among them, as the records store it), and the total per
strategy; writes bench/results/cell_times-<suite>.json. Times depend on the machine's
load: say how busy it was when quoting them.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

from benchmark import records

RESULTS = Path(__file__).resolve().parent / "results"


def summarise(results_dir: Path) -> dict:
    cells = [r for r in records.read(results_dir / "records.jsonl") if r["status"] == "ok"]
    per_cell, totals = defaultdict(list), defaultdict(float)
    for record in cells:
        per_cell[(record["strategy"], record["pair"], record["budget"])].append(record["wall_s"])
        totals[record["strategy"]] += record["wall_s"]
    rows = {f"{strategy} | {pair} | k={budget}": round(sum(times) / len(times), 2)
            for (strategy, pair, budget), times in sorted(per_cell.items())}
    return {"suite": cells[0]["suite"] if cells else None, "cells": len(cells), "mean_wall_s_per_cell": rows,
            "total_wall_s_per_strategy": {k: round(v, 1) for k, v in sorted(totals.items())},
            "total_wall_s": round(sum(totals.values()), 1)}


def main():
    for directory in map(Path, sys.argv[1:]):
        summary = summarise(directory)
        for row, seconds in summary["mean_wall_s_per_cell"].items():
            print(f"{row:60s} {seconds:8.2f} s/cell")
        for strategy, seconds in summary["total_wall_s_per_strategy"].items():
            print(f"total {strategy:20s} {seconds / 60:7.1f} min")
        print(f"total {summary['suite']}: {summary['cells']} cells, {summary['total_wall_s'] / 60:.1f} min")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"cell_times-{summary['suite']}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
