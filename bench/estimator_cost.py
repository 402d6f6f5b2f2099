"""What an estimate costs next to the fine-tuning it replaces: each estimator's seconds per model x target
against one finetune cell of the same pair (goal: every built-in <= 1% of the cell).

    .venv/bin/python bench/estimator_cost.py [--case tiny|lite0-elpv] [--budget 5] [--adapt-steps 20]

Runs one small suite (one seed, one budget) with finetune and every installed estimator:
``tiny``, the builtin lenet on sklearn digits 0-4 -> 5-9 after a short source training;
``lite0-elpv``, the model zoo's real case: ImageNet EfficientNet-Lite0 (the fetched asset) to ELPV at
112 px, no source (LEEP and NCE read the ImageNet classifier), 30 steps of 16 as suites/model-zoo.toml.
It then reads the records: an estimate's wall_s is its
support's features (computed once, by the first estimator, then read from the pair's feature cache:
the linear probe of frozen-feature reads the same entries) and its score; the
source head LEEP and NCE read is fitted once per pair and reported apart. Writes
bench/results/estimator_cost.json (estimator_cost_lite0-elpv.json for that case).
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

HEAD = """
name = "estimator-cost"
seeds = [0]
budgets = [{budget}]
strategies = ["finetune"]
estimators = {estimators}
"""

TINY = HEAD + """[model]
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

LITE0_ELPV = HEAD + """assets = ["efficientnet-lite0", "elpv"]
input = {{ channels = 3, size = [112, 112] }}
[model]
provider = "timm"
name = "tf_efficientnet_lite0"
file = "{{data_root}}/efficientnet-lite0/efficientnet-lite0-57934424.pth"
key_mapping = "order"
[[pairs]]
name = "lite0-imagenet→elpv"
target = {{ provider = "elpv", split = "pool", test_split = "test[:50%]" }}
[hparams.finetune]
adapt_steps = {adapt_steps}
batch_size = 16
"""

CASES = {"tiny": (TINY, None), "lite0-elpv": (LITE0_ELPV, "data")}  # (suite, data root: None = a scratch folder)


def main() -> None:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--case", choices=sorted(CASES), default="tiny")
    arguments.add_argument("--budget", default="5", help='labelled examples per class, or "all"')
    arguments.add_argument("--adapt-steps", type=int, default=None, help="default: 20 (tiny), 30 (lite0-elpv)")
    arguments.add_argument("--pretrain-epochs", type=int, default=1)
    args = arguments.parse_args()
    registry = discover()
    started_on = benchlib.machine()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "estimator-cost.toml"
        budget = '"all"' if args.budget == "all" else args.budget
        template, data_root = CASES[args.case]
        steps = args.adapt_steps or (20 if args.case == "tiny" else 30)
        path.write_text(template.format(budget=budget, estimators=str(sorted(registry.estimators)).replace("'", '"'),
                                        pretrain_epochs=args.pretrain_epochs, adapt_steps=steps))
        runner = Runner(load_suite(path), registry, Path(scratch) / "out",
                        Path(data_root or Path(scratch) / "data").absolute(), show_progress=False)
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
    name = "estimator_cost" if args.case == "tiny" else f"estimator_cost_{args.case}"
    benchlib.write(name, {"case": args.case, "goal_fraction": GOAL, "budget": args.budget, "finetune_cell_s": cell["wall_s"],
                                      "finetune_accuracy": cell["metrics"]["accuracy"]["mean"],
                                      "run_s": round(seconds, 2), "estimates": estimates,
                                      "all_within_goal": all(f["within_goal"] for f in estimates.values())},
                   " ".join(["python", *sys.argv]), started_on)


if __name__ == "__main__":
    main()
