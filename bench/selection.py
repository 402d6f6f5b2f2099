"""Cost of an 8-trial hyperparameter search relative to one fixed run of the same cells.

    .venv/bin/python bench/selection.py [--seeds 2] [--trials 8] [--repeats 2] [--threads N]

One pair (sklearn-digits, the first half of train -> the second half rotated 30°), finetune,
budgets 1, 5 and all, run twice side by side on fresh results directories:

    fixed       the defaults: one pretrain per seed, one adapt per cell
    source-val  --trials trials per cell drawn from finetune's search space (adapt-time only:
                learning rate, steps, LP-FT probe steps), each scored on a held-out 20% of the
                source, then the selected one on the target test split

The goal: the search shares the pretrain (at most 1 pretrain per seed), so its cost over
the fixed run is close to (trials + 1) × the adapt cost, not (trials + 1) × the whole.
The two runs alternate ``--repeats`` times and each keeps its fastest repeat, so a burst of
load on a shared machine inflates neither side alone.
Pretrains are counted from the records (``pretrain_cache`` "stored" / "off" for a job that
pretrained, plus ``selection.extra_pretrains``). Seconds are wall-clock on a machine that
may be shared; the ratios are what to read.
"""

import sys
import tempfile
from pathlib import Path

import benchlib

from benchmark import records
from benchmark.discovery.registry import discover
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

SUITE = """
name = "bench-selection"
protocol = "transfer"
budgets = [1, 5, "all"]
input = { channels = 1, size = [16, 16] }
strategies = ["finetune"]

[[pairs]]
name = "digits→rotated30"
source = { provider = "sklearn-digits", split = "train[:50%]" }
target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test", shifts = [{ rotate = 30 }] }

[hparams.finetune]
pretrain_epochs = 10
"""


def figures_of(written: list[dict], seconds: float, seeds: int) -> dict:
    finals = [r for r in written if r["status"] == "ok"]
    pretrains = len({(r["pair"], r["seed"]) for r in finals if r.get("pretrain_cache") in ("off", "stored")}) + \
        sum((r.get("selection") or {}).get("extra_pretrains", 0) for r in finals)
    pretrain_s = sum(r.get("pretrain_s") or 0.0 for r in finals)  # each cell carries its share of its job's pretrain
    # adapt and score: every trial's wall seconds, and each cell's own (its wall less its pretrain share)
    adapt_s = sum(r["wall_s"] for r in written if r["status"] == "trial") + \
        sum(r["wall_s"] - (r.get("pretrain_s") or 0.0) for r in finals)
    return {"seconds": round(seconds, 2), "cells": len(finals),
            "trials": sum(1 for r in written if r["status"] == "trial"),
            "pretrains": pretrains, "pretrains_per_seed": pretrains / seeds,
            "pretrain_seconds": round(pretrain_s, 2), "adapt_and_score_seconds": round(adapt_s, 2),
            "other_seconds": round(seconds - pretrain_s - adapt_s, 2)}  # loading data, planning, writing records


def main() -> int:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--seeds", type=int, default=2)
    arguments.add_argument("--trials", type=int, default=8)
    arguments.add_argument("--repeats", type=int, default=2)
    args = arguments.parse_args()
    started_on = benchlib.machine()
    registry = discover()
    figures = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        path = scratch / "bench-selection.toml"
        path.write_text(SUITE, encoding="utf-8")
        for repeat in range(args.repeats):
            for protocol in ("fixed", "source-val"):
                suite = load_suite(path).with_overrides(seeds=args.seeds, selection=protocol, trials=args.trials)
                out = scratch / f"{protocol}-{repeat}"  # fresh: no records, no cached pretrain
                runner = Runner(suite, registry, out, out, show_progress=False, threads=args.threads)
                seconds, _ = benchlib.timed(runner.run)
                measured = figures_of(records.read(runner.records_path), seconds, args.seeds)
                if protocol not in figures or measured["seconds"] < figures[protocol]["seconds"]:
                    figures[protocol] = measured
    fixed, search = figures["fixed"], figures["source-val"]
    figures["ratio_whole"] = round(search["seconds"] / fixed["seconds"], 2)
    figures["ratio_adapt"] = round(search["adapt_and_score_seconds"] / fixed["adapt_and_score_seconds"], 2)
    figures["ratio_if_every_trial_pretrained"] = round(
        (search["seconds"] + args.trials * fixed["pretrain_seconds"]) / fixed["seconds"], 2)
    print(f"{'run':<12}{'seconds':>9}{'cells':>7}{'trials':>8}{'pretrains':>11}{'pretrain s':>12}{'adapt s':>9}"
          f"{'other s':>9}")
    for name in ("fixed", "source-val"):
        f = figures[name]
        print(f"{name:<12}{f['seconds']:>9.1f}{f['cells']:>7}{f['trials']:>8}{f['pretrains']:>11}"
              f"{f['pretrain_seconds']:>12.1f}{f['adapt_and_score_seconds']:>9.1f}{f['other_seconds']:>9.1f}")
    print(f"search / fixed: {figures['ratio_whole']}x the whole run, {figures['ratio_adapt']}x the adapt-and-score "
          f"time ({args.trials} trials + the selected cell); had every trial pretrained: "
          f"~{figures['ratio_if_every_trial_pretrained']}x")
    benchlib.write("selection", figures, " ".join(["bench/selection.py", *sys.argv[1:]]), started_on)
    return 0


if __name__ == "__main__":
    sys.exit(main())
