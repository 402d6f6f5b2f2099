"""What an estimate costs next to the fine-tuning it replaces: each estimator's seconds per model x target
against one finetune cell of the same pair (goal: every built-in <= 1% of the cell).

    .venv/bin/python bench/estimator_cost.py [--budget 5] [--adapt-steps 20] [--pretrain-epochs 1]

Runs one small suite (the builtin lenet, sklearn digits 0-4 -> 5-9, one seed, one budget) with
finetune and every installed estimator, then reads the records: an estimate's wall_s is its
support's features (computed once, by the first estimator, then read from the pair's feature cache:
the linear probe of frozen-feature reads the same entries) and its score; the
source head LEEP and NCE read is fitted once per pair and reported apart. Writes
bench/results/estimator_cost.json.
"""

import sys
import tempfile
from pathlib import Path

import benchlib

from benchmark import records
from benchmark.discovery.registry import discover
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

GOAL = 0.01  # an estimate at most 1% of a fine-tuning cell

SUITE = """
name = "estimator-cost"
seeds = [0]
budgets = [{budget}]
strategies = ["finetune"]
estimators = {estimators}
[model]
provider = "builtin"
name = "lenet"
channels = 1
size = [16, 16]
[[pairs]]
name = "digits0-4→5-9"
target = {{ provider = "sklearn-digits", split = "train", test_split = "test", classes = [5, 6, 7, 8, 9] }}
source = {{ provider = "sklearn-digits", split = "train", classes = [0, 1, 2, 3, 4] }}
[hparams.finetune]
pretrain_epochs = {pretrain_epochs}
adapt_steps = {adapt_steps}
"""


def main() -> None:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--budget", default="5", help='labelled examples per class, or "all"')
    arguments.add_argument("--adapt-steps", type=int, default=20)
    arguments.add_argument("--pretrain-epochs", type=int, default=1)
    args = arguments.parse_args()
    registry = discover()
    started_on = benchlib.machine()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "estimator-cost.toml"
        budget = '"all"' if args.budget == "all" else args.budget
        path.write_text(SUITE.format(budget=budget, estimators=str(sorted(registry.estimators)).replace("'", '"'),
                                     pretrain_epochs=args.pretrain_epochs, adapt_steps=args.adapt_steps))
        runner = Runner(load_suite(path), registry, Path(scratch) / "out", Path(scratch) / "data",
                        show_progress=False)
        seconds, summary = benchlib.timed(runner.run)
        written = records.read(runner.records_path)
    cell = next(r for r in written if r["strategy"] == "finetune" and r["status"] == "ok")
    estimates = {}
    for record in (r for r in written if r["status"] == "estimate"):
        notes = record["adapt_notes"] or {}
        estimates[record["strategy"]] = {
            "score": None if not record["metrics"] else record["metrics"]["score"]["mean"],
            "wall_s": record["wall_s"], "fraction_of_cell": record["wall_s"] / cell["wall_s"],
            "score_s": notes.get("score_s"), "features": (notes.get("feature_cache") or {}).get("cache"),
            "features_s": (notes.get("feature_cache") or {}).get("seconds"),
            "score_fraction_of_cell": (notes.get("score_s") or 0.0) / cell["wall_s"],
            "source_head_s": notes.get("source_head_s"), "reason": record["reason"],
            "within_goal": record["wall_s"] / cell["wall_s"] <= GOAL}
    for name, figures in sorted(estimates.items()):
        print(f"{name:14s} {figures['wall_s']:.4f} s = {100 * figures['fraction_of_cell']:.3f}% of the "
              f"{cell['wall_s']:.2f} s finetune cell ({figures['features']} features; the score alone "
              f"{100 * figures['score_fraction_of_cell']:.3f}%)"
              f"{'' if figures['within_goal'] else '  ABOVE THE 1% GOAL'}")
    benchlib.write("estimator_cost", {"goal_fraction": GOAL, "budget": args.budget, "finetune_cell_s": cell["wall_s"],
                                      "finetune_accuracy": cell["metrics"]["accuracy"]["mean"],
                                      "run_s": round(seconds, 2), "estimates": estimates,
                                      "all_within_goal": all(f["within_goal"] for f in estimates.values())},
                   " ".join(["python", *sys.argv]), started_on)


if __name__ == "__main__":
    main()
