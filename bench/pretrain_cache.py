"""Pretrain cache: pretrain calls made and seconds saved on a suite with several targets per source.

    .venv/bin/python bench/pretrain_cache.py [--seeds 2] [--threads N]

The suite: one source (the first half of sklearn-digits' train split) and four targets
(rotated 15° and 30°, inverted, noisy), finetune and source-only at their default
hyperparameters, budgets 1, 5 and all. It runs three times, one after the other:

    off    --no-pretrain-cache: every (strategy, pair, seed) pretrains
    cold   an empty cache: one pretrain per seed (finetune and source-only train the same
           source model, so they share it), every other cell restores it
    warm   a second suite (budget 10) on the same results directory: nothing pretrains

Pretrain calls are counted from the records (``pretrain_cache`` is "off" or "stored" for a
job that pretrained, "hit" for one that restored).
"""

import sys
import tempfile
from pathlib import Path

import benchlib
import torch

from benchmark import records
from benchmark.discovery.registry import discover
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

SUITE = """
name = "{name}"
protocol = "transfer"
budgets = {budgets}
input = {{ channels = 1, size = [16, 16] }}
strategies = ["finetune", "source-only"]
{pairs}
"""
TARGETS = {"rotated15": "{ rotate = 15 }", "rotated30": "{ rotate = 30 }", "inverted": "{ invert = true }",
           "noisy": "{ noise = 0.3 }"}
PAIR = """
[[pairs]]
name = "digits→{name}"
source = {{ provider = "sklearn-digits", split = "train[:50%]" }}
target = {{ provider = "sklearn-digits", split = "train[50%:]", test_split = "test", shifts = [{shift}] }}
"""


def suite(directory: Path, name: str, budgets: str, seeds: int):
    path = directory / f"{name}.toml"
    pairs = "".join(PAIR.format(name=target, shift=shift) for target, shift in TARGETS.items())
    path.write_text(SUITE.format(name=name, budgets=budgets, pairs=pairs), encoding="utf-8")
    return load_suite(path).with_overrides(seeds=seeds)


def pretrain_calls(written: list[dict]) -> int:
    jobs = {(r["strategy"], r["pair"], r["seed"]) for r in written if r.get("pretrain_cache") in ("off", "stored")}
    return len(jobs)


def main() -> int:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--seeds", type=int, default=2)
    args = arguments.parse_args()
    started_on = benchlib.machine()
    registry = discover()
    figures = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        runs = (("off", "first", '[1, 5, "all"]', scratch / "off", False),
                ("cold", "first", '[1, 5, "all"]', scratch / "cached", True),
                ("warm", "second", "[10]", scratch / "cached", True))
        for label, name, budgets, out, cache in runs:
            the_suite = suite(scratch, name, budgets, args.seeds)
            runner = Runner(the_suite, registry, out, out, show_progress=False, pretrain_cache=cache,
                            threads=args.threads)
            seconds, summary = benchlib.timed(runner.run)
            written = records.read(runner.records_path)
            figures[label] = {"seconds": round(seconds, 2), "cells": summary.ok + summary.skipped,
                              "pretrain_calls": pretrain_calls(written),
                              "pretrain_cache": sorted({str(r.get("pretrain_cache")) for r in written})}
            print(f"{label:5s} {seconds:7.1f} s  {figures[label]['cells']} cells  "
                  f"{figures[label]['pretrain_calls']} pretrain calls", flush=True)
    figures["seconds_saved_cold"] = round(figures["off"]["seconds"] - figures["cold"]["seconds"], 2)
    figures["pretrain_calls_saved_cold"] = figures["off"]["pretrain_calls"] - figures["cold"]["pretrain_calls"]
    print(f"cold cache: {figures['pretrain_calls_saved_cold']} pretrain calls and "
          f"{figures['seconds_saved_cold']:.1f} s saved of {figures['off']['seconds']:.1f} s; "
          f"warm cache (a second suite): {figures['warm']['pretrain_calls']} pretrain calls")
    figures["torch_threads"] = torch.get_num_threads() if args.threads is None else args.threads
    benchlib.write("pretrain_cache", figures, "python " + " ".join(sys.argv), started_on)
    return 0


if __name__ == "__main__":
    sys.exit(main())
