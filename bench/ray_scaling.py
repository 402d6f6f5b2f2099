"""Ray scaling: a CPU-bound suite in-process vs on Ray with 2 workers of 1 thread, in one run.

    .venv/bin/python bench/ray_scaling.py [--seeds 4] [--workers 2]

The suite: finetune (5 source epochs, 100 fine-tuning steps) on the quickstart's rotated
and inverted pairs, budgets 5 and all, seeds 0..3, no pretrain cache, so every executor
does exactly the same work (16 cells, 8 pretrains). Three runs, one after the other:

    local          the in-process executor on torch's default threads (what `run` does)
    local-1thread  the in-process executor on one torch thread
    ray            --executor ray --workers 2 --threads 1 on a local Ray started for the run

Throughput is cells per second of wall time. The Ray figure is end to end (it includes
starting Ray and its workers); ``ray_startup_s`` is that fixed cost, timed on its own.
Goal: ray ≥ 1.7 × local.
"""

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import benchlib

from benchmark.discovery.registry import discover
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

HPARAMS = {"finetune": {"pretrain_epochs": 5, "adapt_steps": 100}}


def ray_startup_seconds(workers: int) -> float:
    """Start a local Ray, run one torch-importing task per worker, stop it: the fixed cost."""
    import ray

    def start():
        ray.init(num_cpus=workers, include_dashboard=False, logging_level="WARNING")
        task = ray.remote(num_cpus=1)(lambda: __import__("torch").get_num_threads())
        ray.get([task.remote() for _ in range(workers)])
        ray.shutdown()
    seconds, _ = benchlib.timed(start)
    return seconds


def main() -> int:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--seeds", type=int, default=4)
    arguments.add_argument("--workers", type=int, default=2)
    args = arguments.parse_args()
    started_on = benchlib.machine()
    quickstart = load_suite(benchlib.REPO / "suites" / "quickstart.toml")
    suite = replace(quickstart.with_overrides(seeds=args.seeds, strategies=["finetune"]), pairs=quickstart.pairs[:2],
                    budgets=(5, None), hparams=HPARAMS)
    registry = discover()
    runs = {"local": {"executor": "local"}, "local-1thread": {"executor": "local", "threads": 1},
            "ray": {"executor": "ray", "workers": args.workers, "threads": 1}}
    figures = {"runs": {}}
    for label, options in runs.items():
        with tempfile.TemporaryDirectory() as out:
            runner = Runner(suite, registry, Path(out), Path(out), show_progress=False, pretrain_cache=False, **options)
            seconds, summary = benchlib.timed(runner.run)
        assert not summary.failed, summary.failed
        figures["runs"][label] = {"seconds": round(seconds, 2), "cells": summary.ok,
                                  "cells_per_s": round(summary.ok / seconds, 4), **options}
        print(f"{label:14s} {seconds:7.1f} s  {summary.ok} cells  {summary.ok / seconds:.3f} cells/s", flush=True)
    figures["ray_startup_s"] = round(ray_startup_seconds(args.workers), 2)
    throughput = {label: run["cells_per_s"] for label, run in figures["runs"].items()}
    figures["speedup_ray_vs_local"] = round(throughput["ray"] / throughput["local"], 3)
    figures["speedup_ray_vs_local_1thread"] = round(throughput["ray"] / throughput["local-1thread"], 3)
    figures["goal"] = "speedup_ray_vs_local >= 1.7"
    print(f"ray / local = {figures['speedup_ray_vs_local']:.2f}x (goal >= 1.7); ray / local-1thread = "
          f"{figures['speedup_ray_vs_local_1thread']:.2f}x; Ray's fixed start-up cost {figures['ray_startup_s']:.1f} s")
    benchlib.write("ray_scaling", figures, "python " + " ".join(sys.argv), started_on)
    return 0


if __name__ == "__main__":
    sys.exit(main())
