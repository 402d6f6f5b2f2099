"""The README's seed-case tables, printed from a results folder's records through the leaderboard's own
estimates (so every number is the committed leaderboard's): for one pair, each strategy's accuracy at every
budget and, with every labelled example, macro-F1, the recall of the class that matters and AUROC; then
each strategy's accuracy gain over target-only (the same architecture from random initialisation),
paired by seed. Mean ± half-width of the 95% CI, t over seeds; ↑ / ↓: the gain's CI wholly above / below 0.

    .venv/bin/python scripts/seed_tables.py results/solar-defects "imagenet→elpv" defective
"""

import sys
from pathlib import Path

from benchmark import records
from benchmark.leaderboard import tidy
from benchmark.leaderboard.summary import build


def estimate(row) -> str:
    if row is None or row["mean"] != row["mean"]:  # not run, or NaN: no ok run
        return "—"
    return f"{100 * row['mean']:.1f} ± {100 * (row.ci_high - row['mean']):.1f}" if row.ci_high == row.ci_high \
        else f"{100 * row['mean']:.1f}"


def gain(row) -> str:
    if row is None or row.gain != row.gain:
        return "—"
    if row.gain_high != row.gain_high:  # one paired seed: no interval
        return f"{100 * row.gain:+.1f}"
    mark = " ↑" if row.gain_low > 0 else " ↓" if row.gain_high < 0 else ""
    return f"{100 * row.gain:+.1f} ± {100 * (row.gain_high - row.gain):.1f}{mark}"


def tables(folder: Path, pair: str, wanted_class: str) -> str:
    found = records.read(folder / "records.jsonl")
    metrics = ("accuracy", "macro_f1", f"recall[{wanted_class}]", "auroc")
    frames = {metric: tidy.frame(build(found, metric)) for metric in metrics}

    def row(metric, strategy, budget):
        frame = frames[metric]
        rows = frame[(frame.pair == pair) & (frame.strategy == strategy) & (frame.budget == budget)]
        return None if not len(rows) or rows.iloc[0].status == "skipped" else rows.iloc[0]

    accuracy = frames["accuracy"][frames["accuracy"].pair == pair]
    budgets = list(dict.fromkeys(accuracy.budget))
    last = budgets[-1]
    strategies = [s for s in dict.fromkeys(accuracy[accuracy.budget == last].sort_values("rank").strategy)
                  if row("accuracy", s, last) is not None]
    lines = ["| strategy | " + " | ".join(f"k={b}" for b in budgets)
             + f" | macro-F1, k={last} | recall[{wanted_class}], k={last} | AUROC, k={last} |",
             "|---" * (len(budgets) + 4) + "|"]
    lines += [f"| {s} | " + " | ".join(estimate(row("accuracy", s, b)) for b in budgets) + " | "
              + " | ".join(estimate(row(m, s, last)) for m in metrics[1:]) + " |" for s in strategies]
    lines += ["", "| gain over target-only (accuracy points) | " + " | ".join(f"k={b}" for b in budgets) + " |",
              "|---" * (len(budgets) + 1) + "|"]
    lines += [f"| {s} | " + " | ".join(gain(row("accuracy", s, b)) for b in budgets) + " |"
              for s in strategies if s != "target-only"]
    majority = accuracy["majority_rate"].iloc[0]
    return f"{pair}: accuracy (%); majority-class rate {100 * majority:.1f}%\n\n" + "\n".join(lines)


if __name__ == "__main__":
    folder, pair, wanted_class = sys.argv[1:4]
    print(tables(Path(folder), pair, wanted_class))
