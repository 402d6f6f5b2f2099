"""Frozen features of a pretrained model: runner throughput vs a bare loop, and test-set forward passes.

    .venv/bin/python bench/pretrained.py [--repeats 3] [--size 64] [--data-root ../shared/data]

The model is torchvision's resnet18 read through the torchvision provider from a temporary
``$TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth`` holding random weights (no ImageNet
weights ship offline; the values do not change the cost). The target is real USPS (train
pool, test split of 2,007 images), brought to 3 x SIZE x SIZE with the weights' mean/std.

1. Throughput. Runner: one frozen-feature cell (no source, k = 1, seed 0) through
   ``Runner.run``, timed by its record's wall_s (adapt: support features and the linear head;
   then every test image through the trunk, scored). Bare: the same trunk in eval mode over the
   same support and test images in ``torch.no_grad()`` batches of 1,024. Alternating, after an
   untimed warm-up; ratio = bare seconds / runner seconds of the fastest repeats (= runner
   images/s / bare images/s). Goal: >= 0.95.
2. Reuse. A 3-budget (1, 5, 10) x 3-seed frozen-feature run: how many times the test set went
   through the trunk (counted at the feature cache's forward pass). Goal: 1 per model and target
   (9 without the cache: one per cell).
"""

import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import benchlib
import torch

import benchmark.models.loaded as loaded
from benchmark import forward_in_batches, records
from benchmark.data.loader import DatasetLoader
from benchmark.discovery.registry import discover
from benchmark.models.resolve import resolve_models
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite
from benchmark.toolkit.training import FORWARD_BATCH

SUITE = """
name = "pretrained-bench"
seeds = [0]
budgets = [1]
strategies = ["frozen-feature"]
input = {{ size = [{size}, {size}] }}
[model]
provider = "torchvision"
name = "resnet18"
weights = "IMAGENET1K_V1"
[[pairs]]
name = "resnet18→usps"
target = {{ provider = "usps", split = "train", test_split = "test" }}
"""


def write_checkpoint(home: Path) -> None:
    import torchvision

    path = home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18().state_dict(), path)


def runner_cell(suite, registry, data_root) -> float:
    with tempfile.TemporaryDirectory() as out:
        Runner(suite, registry, Path(out), data_root, show_progress=False, pretrain_cache=False).run()
        (record,) = records.read(Path(out) / suite.name / "records.jsonl")
    assert record["status"] == "ok", record.get("error")
    return record["wall_s"]


def main() -> int:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--repeats", type=int, default=3)
    arguments.add_argument("--size", type=int, default=64, help="input size (the weights expect 224; CPU time)")
    arguments.add_argument("--data-root", default=str(benchlib.REPO.parent / "shared" / "data"))
    args = arguments.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_root = Path(args.data_root)
    started_on = benchlib.machine()
    with tempfile.TemporaryDirectory() as home:
        import os

        os.environ["TORCH_HOME"] = home
        write_checkpoint(Path(home))
        path = Path(home) / "suite.toml"
        path.write_text(SUITE.format(size=args.size))
        registry = discover()
        suite = load_suite(path)

        # The bare side's model and images: exactly what the runner's cell gets.
        resolved, models = resolve_models(suite, registry)
        pair = resolved.pairs[0]
        model = models[pair.name][0]
        loader = DatasetLoader(registry, data_root)
        test = loader.load(pair.target_test, pair.input, "test")[0].inputs
        pool = loader.load(pair.target, pair.input, "pool")[0]
        support = pool.inputs[:pool.num_classes]  # k = 1: one image per class, as many rows as the cell's support
        trunk = model.trunk().eval()

        def bare() -> float:
            seconds, _ = benchlib.timed(lambda: (forward_in_batches(trunk, support), forward_in_batches(trunk, test)))
            return seconds

        runner_cell(suite, registry, data_root), bare()  # warm-up
        times = {"runner": [], "bare": []}
        for repeat in range(args.repeats):
            for side, cell in (("runner", lambda: runner_cell(suite, registry, data_root)), ("bare", bare)):
                seconds = cell()
                times[side].append(round(seconds, 3))
                print(f"repeat {repeat + 1}: {side:6s} {seconds:7.2f} s", flush=True)
        fastest = {side: min(values) for side, values in times.items()}
        medians = {side: statistics.median(values) for side, values in times.items()}
        ratio, median_ratio = fastest["bare"] / fastest["runner"], medians["bare"] / medians["runner"]
        images = len(test) + len(support)
        print(f"throughput: runner {images / fastest['runner']:.0f} images/s, bare {images / fastest['bare']:.0f} "
              f"images/s, ratio {ratio:.3f} (goal >= 0.95); median ratio {median_ratio:.3f}")

        # Reuse: count the trunk's passes over the test set in a 3 x 3 run.
        passes, original = [], loaded.forward_in_batches
        loaded.forward_in_batches = lambda trunk, inputs: passes.append(len(inputs)) or original(trunk, inputs)
        try:
            grid = replace(suite, budgets=(1, 5, 10), seeds=(0, 1, 2))
            with tempfile.TemporaryDirectory() as out:
                summary = Runner(grid, registry, Path(out), data_root, show_progress=False).run()
        finally:
            loaded.forward_in_batches = original
        # The runner predicts in batches of FORWARD_BATCH rows, each a cache entry: a pass is one of each.
        batches = [min(FORWARD_BATCH, len(test) - start) for start in range(0, len(test), FORWARD_BATCH)]
        test_passes = sum(passes.count(size) for size in set(batches)) / len(batches)
        print(f"reuse: {summary.ok} frozen-feature cells (3 budgets x 3 seeds), test set ({len(test)} images) through "
              f"the trunk {test_passes:g} time(s) (goal: 1; 9 without the cache)")
    benchlib.write("pretrained", {
        "model": "torchvision resnet18 (random weights under IMAGENET1K_V1's cache file name)",
        "target": "usps train pool / test split", "input": list(pair.input.shape),
        "throughput": {"seconds": times, "fastest_s": fastest, "median_s": medians, "images": images,
                       "ratio_bare_over_runner": round(ratio, 4), "median_ratio": round(median_ratio, 4),
                       "goal": "ratio >= 0.95"},
        "reuse": {"cells": summary.ok, "test_images": len(test), "test_set_forward_passes": test_passes,
                  "goal": "1 per model and target", "without_cache": summary.ok},
    }, "python " + " ".join(sys.argv), started_on)
    return 0


if __name__ == "__main__":
    sys.exit(main())
