"""What keeping predictions costs: bytes per cell and per 10,000 test examples, and the seconds to write them.

    .venv/bin/python bench/predictions_size.py [--results results/<suite>]

Encodes the predictions of typical cells (``benchmark.scoring.predictions``: float16 scores, or the
top 5 of more than 20 classes) and writes each file as the runner does (content-addressed, atomic,
fsynced): a two-class transfer cell (the goal: under 1 MB per 10,000 test examples), 10 classes,
100 classes (top-k) and a 600-episode 5-way 15-query episodic cell. The sizes depend only on the
shapes (safetensors, uncompressed); the scores are random logits. ``--results`` also sums the
prediction files of a results folder. Writes bench/results/predictions_size.json.
"""

import tempfile
import time
from pathlib import Path

import benchlib
import numpy as np

from benchmark.records import prediction_files
from benchmark.scoring import predictions

GOAL_BYTES_PER_10K = 1_000_000  # two classes
CASES = {  # name: (tasks T, queries Q, classes C)
    "transfer, 2 classes": (1, 10_000, 2),
    "transfer, 10 classes": (1, 10_000, 10),
    "transfer, 100 classes (top 5)": (1, 10_000, 100),
    "episodic, 600 x 5-way x 15 queries": (600, 75, 5),
}


def measure(tasks: int, queries: int, classes: int, folder: Path) -> dict:
    generator = np.random.default_rng(0)
    scores = generator.normal(0, 3, size=(tasks, queries, classes)).astype(np.float32)   # [T, Q, C] logits
    labels = generator.integers(0, classes, size=(tasks, queries))                       # [T, Q]
    started = time.perf_counter()
    field = prediction_files.pending(predictions.from_scores(scores, labels, [str(c) for c in range(classes)]))
    prediction_files.settle({"predictions": field}, folder)
    seconds = time.perf_counter() - started
    size = (folder / field["file"]).stat().st_size
    examples = tasks * queries
    return {"tasks": tasks, "queries": queries, "classes": classes, "kind": field["kind"], "examples": examples,
            "bytes_per_cell": size, "bytes_per_10k_examples": round(size / examples * 10_000),
            "encode_and_write_ms": round(seconds * 1000, 1)}


def folder_total(results: Path) -> dict:
    """The prediction files a results folder holds, against its ok records."""
    from benchmark import records

    files = list((results / prediction_files.FOLDER).glob(f"*{prediction_files.SUFFIX}"))
    ok = [r for r in records.read(results / "records.jsonl") if r["status"] == "ok"]
    kept = [r for r in ok if r.get("predictions")]
    total = sum(f.stat().st_size for f in files)
    return {"folder": str(results), "ok_cells": len(ok), "cells_with_predictions": len(kept), "files": len(files),
            "bytes": total, "bytes_per_cell": round(total / max(len(kept), 1))}


def main() -> int:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--results", help="also sum the prediction files of this results folder")
    options = arguments.parse_args()
    started_on = benchlib.machine()
    figures = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, shape in CASES.items():
            figures[name] = measure(*shape, Path(scratch))
            row = figures[name]
            print(f"{name}: {row['bytes_per_cell'] / 1e3:.1f} kB per cell ({row['kind']}), "
                  f"{row['bytes_per_10k_examples'] / 1e3:.1f} kB per 10,000 examples, "
                  f"{row['encode_and_write_ms']:.1f} ms to encode and write")
    two = figures["transfer, 2 classes"]["bytes_per_10k_examples"]
    met = two < GOAL_BYTES_PER_10K
    print(f"two classes: {two / 1e6:.3f} MB per 10,000 examples (goal < {GOAL_BYTES_PER_10K / 1e6:.0f} MB): "
          f"{'met' if met else 'NOT met'}")
    report = {"cases": figures, "goal_bytes_per_10k_two_classes": GOAL_BYTES_PER_10K, "goal_met": met}
    if options.results:
        report["results_folder"] = folder_total(Path(options.results))
        found = report["results_folder"]
        print(f"{found['folder']}: {found['files']} files, {found['bytes'] / 1e6:.2f} MB for "
              f"{found['cells_with_predictions']} of {found['ok_cells']} ok cells "
              f"({found['bytes_per_cell'] / 1e3:.1f} kB per cell)")
    benchlib.write("predictions_size", report, " ".join(["bench/predictions_size.py"] +
                                                         ([f"--results {options.results}"] if options.results else [])),
                   started_on)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
