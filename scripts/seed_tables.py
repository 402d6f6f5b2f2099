"""The README's seed-case tables, printed from a results folder's records (through the leaderboard's
own estimates, so every number is the committed leaderboard's): one pair, one metric, strategies ×
budgets, and each strategy's paired gain over target-only (the same architecture from random
initialisation).

    .venv/bin/python scripts/seed_tables.py results/solar-defects "imagenet→elpv" accuracy "recall[defective]"
"""

import sys
from pathlib import Path

from benchmark import records
from benchmark.leaderboard import tidy
from benchmark.leaderboard.summary import build


def cell(mean: float, low: float, high: float) -> str:
    if mean != mean:  # NaN: no ok run
        return "—"
    return f"{100 * mean:.1f} ± {100 * (high - mean):.1f}" if high == high else f"{100 * mean:.1f}"


def gain_cell(gain: float, low: float, high: float) -> str:
    if gain != gain:
        return "—"
    if high != high:  # one paired seed: no interval
        return f"{100 * gain:+.1f}"
    mark = " ↓" if high < 0 else " ↑" if low > 0 else ""
    return f"{100 * gain:+.1f} ± {100 * (high - gain):.1f}{mark}"


def table(folder: Path, pair: str, metric: str) -> str:
    frame = tidy.frame(build(records.read(folder / "records.jsonl"), metric))
    frame = frame[(frame["pair"] == pair) & (frame["status"] != "skipped")]
    budgets = list(dict.fromkeys(frame["budget"]))
    strategies = list(dict.fromkeys(frame.sort_values("rank")["strategy"]))
    lines = [f"{metric} (%), {pair}: mean ± 95% CI half-width (t over seeds); gain over target-only, paired by seed"
             f" (↑/↓: CI wholly above/below 0). Majority-class rate {100 * frame['majority_rate'].iloc[0]:.1f}%.", "",
             "| strategy | " + " | ".join(f"k={b}" for b in budgets) + " | " +
             " | ".join(f"gain k={b}" for b in budgets) + " |",
             "|---" * (1 + 2 * len(budgets)) + "|"]
    for strategy in strategies:
        rows = {row.budget: row for row in frame[frame["strategy"] == strategy].itertuples()}
        scores = [cell(rows[b].mean, rows[b].ci_low, rows[b].ci_high) if b in rows else "—" for b in budgets]
        gains = [gain_cell(rows[b].gain, rows[b].gain_low, rows[b].gain_high) if b in rows else "—"
                 for b in budgets] if strategy != "target-only" else ["—"] * len(budgets)
        lines.append(f"| {strategy} | " + " | ".join(scores) + " | " + " | ".join(gains) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    folder, pair, *metrics = sys.argv[1:]
    print("\n\n".join(table(Path(folder), pair, metric) for metric in metrics or ["accuracy"]))
