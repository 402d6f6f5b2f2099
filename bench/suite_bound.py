"""What bounds the Omniglot suite's wall time: its arithmetic, counted, against this CPU's convolutions.

    .venv/bin/python bench/suite_bound.py [--records results/omniglot-fewshot/records.jsonl]
                                          [--wall-s SECONDS] [--threads N]

Reads the records of a finished run of suites/omniglot-fewshot.toml and, for each of its
phases (every pretraining, every cell's episodes), puts side by side:

    seconds        what the records say the phase took (cost.pretrain_s, cost.adapt_s)
    tflop          the convolutions and matrix products the phase must do, counted by
                   torch.utils.flop_counter on one unit of it with the run's hyperparameters
                   and multiplied out: one source minibatch step x the steps of the
                   epochs; one maml meta-iteration (meta_batch episodes, second order) x
                   meta_iterations; one serial episode (adaptation and prediction) x episodes
    gflops         tflop / seconds: what the phase achieved
    at_ceiling_s   tflop / conv_ceiling_gflops, the seconds the phase would take if it ran
                   at the speed of a conv4 training step on 256 images (bench/episodes.py:
                   as much work per kernel call as any batching gives), with this process's
                   torch threads (default torch's: both cores)

The sum of at_ceiling_s is what the suite's arithmetic costs on this machine at the suite's
budgets: a lower bound no change to the runner or the batching can beat on this CPU. The
weights do not change the FLOPs, so nothing is pretrained for real here (source-trained
strategies start from random weights, maml meta-trains one iteration). Writes
bench/results/suite_bound.json.
"""

import json
import sys
import tempfile
from pathlib import Path

import benchlib
import episodes
import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from benchmark import build_classifier, epochs_to_steps
from plugins.source_training import SourceTrained, classifier_state


def latest_ok(path: Path) -> list[dict]:
    """The last ok record of each (strategy, pair, budget), in file order."""
    latest = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line) if line.strip() else None
        if record and record["status"] == "ok":
            latest[record["strategy"], record["pair"], record["budget"]] = record
    return list(latest.values())


def setting_of(record: dict) -> str:
    return f"{record['n_way']}w{record['budget']}s"


def counted(function) -> tuple[float, object]:
    """(FLOPs of calling ``function``, what it returned)."""
    counter = FlopCounterMode(display=False)
    with counter:
        result = function()
    return float(counter.get_total_flops()), result


def source_training_flops(cell: "episodes.Cell") -> float:
    """The shared source training: one minibatch step of the strategy's own pretrain, times its steps."""
    strategy, source = type(cell.strategy)(**cell.job.hparams), cell.prepared.source
    one_step = source.subset(torch.arange(strategy.batch_size))  # all source classes: the head is full size
    return counted(lambda: strategy.pretrain(one_step, cell.ctx))[0] * epochs_to_steps(
        strategy.pretrain_epochs, len(source), strategy.batch_size)


def random_source_state(bench: "episodes.Bench", record: dict) -> dict:
    source = bench.pairs[record["pair"]].source
    hparams = record["hparams"]
    return classifier_state(build_classifier(source.input_shape, source.num_classes, hparams["backbone"]))


def phases(bench: "episodes.Bench", records: list[dict]) -> list[dict]:
    rows, pretrains = [], {}
    for record in records:
        name, setting, cost = record["strategy"], setting_of(record), record["cost"]
        if name == "maml":  # one meta-iteration, counted while the cell meta-trains it (--maml-iterations 1)
            iteration_flops, cell = counted(lambda: bench.cell(name, setting))
            pretrain_flops = iteration_flops * record["hparams"]["meta_iterations"]
            what = f"maml {setting} meta-training ({record['hparams']['meta_iterations']} x " \
                   f"{record['hparams']['meta_batch']} episodes)"
        else:
            source_trained = record["pretrain_cache"] is not None  # target-only keeps no pretrained state
            assert not source_trained or issubclass(bench.registry.strategy(name).cls, SourceTrained), name
            # the first cell of a shared source model supplies its state and counts its training; the
            # others restore that state (bench.states) and add their name to its row
            first = source_trained and cost["pretrain_id"] not in pretrains
            cell = bench.cell(name, setting, random_source_state(bench, record) if first else None)
            pretrain_flops = source_training_flops(cell) if first else 0.0
            what = f"source training ({record['hparams'].get('pretrain_epochs')} epoch)"
        if record["pretrain_cache"] is not None:
            entry = pretrains.setdefault(cost["pretrain_id"], {"phase": "pretrain", "what": what, "strategies": [],
                                                               "seconds": cost["pretrain_s"],
                                                               "flops": pretrain_flops})
            entry["strategies"].append(f"{name} {setting}")
        n = record["protocol_settings"]["episodes"]
        rows.append({"phase": "episodes", "what": f"{name} {setting}: {n} episodes", "strategies": [name],
                     "seconds": cost["adapt_s"], "flops": episodes.episode_flops(cell) * n,
                     "batched": record.get("batched")})
    return list(pretrains.values()) + rows


def main() -> int:
    parser = episodes.arguments()
    parser.add_argument("--records", type=Path, default=benchlib.REPO / "results" / "omniglot-fewshot" / "records.jsonl")
    parser.add_argument("--wall-s", type=float, help="the run's wall-clock seconds, e.g. from /usr/bin/time")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    started_on = benchlib.machine()
    records = latest_ok(args.records)
    ceiling = episodes.conv_ceiling_gflops(repeats=30)
    with tempfile.TemporaryDirectory() as cache:  # maml's one-iteration meta-training is never cached
        args.pretrain_cache, args.maml_iterations, args.source_split = Path(cache), 1, None
        rows = phases(episodes.Bench(args), records)
    ceiling = max(ceiling, episodes.conv_ceiling_gflops(repeats=30))  # measured before and after: the higher is the less disturbed
    for row in rows:
        row.update(seconds=round(row["seconds"], 1), tflop=round(row.pop("flops") / 1e12, 2))
        row.update(gflops=round(row["tflop"] * 1e3 / row["seconds"], 1),
                   at_ceiling_s=round(row["tflop"] * 1e3 / ceiling, 1))
    total = {"seconds": round(sum(r["seconds"] for r in rows), 1), "tflop": round(sum(r["tflop"] for r in rows), 1),
             "at_ceiling_s": round(sum(r["at_ceiling_s"] for r in rows), 1), "wall_s": args.wall_s}
    print(tabulate([[r["phase"], r["what"], r["seconds"], r["tflop"], r["gflops"], r["at_ceiling_s"]] for r in rows]
                   + [["total", f"{len(records)} cells", total["seconds"], total["tflop"],
                       round(total["tflop"] * 1e3 / total["seconds"], 1), total["at_ceiling_s"]]],
                   headers=["phase", "what", "seconds", "TFLOP", "GFLOP/s", "s at ceiling"]))
    print(f"conv ceiling {ceiling} GFLOP/s ({torch.get_num_threads()} threads); the suite's arithmetic at it: "
          f"{total['at_ceiling_s'] / 60:.1f} min; the phases took {total['seconds'] / 60:.1f} min"
          + (f"; the run's wall clock {args.wall_s / 60:.1f} min" if args.wall_s else ""))
    benchlib.write("suite_bound", {"records": str(args.records), "conv_ceiling_gflops": ceiling, "rows": rows,
                                   "total": total}, "python " + " ".join(sys.argv), started_on)
    return 0


if __name__ == "__main__":
    sys.exit(main())
