"""Leaderboards are a pure function of records.jsonl: regenerating one never trains anything.

Rows are strategies, columns pair × budget, cells mean ± 95% CI half-width (in %),
the best mean per column in bold, and the mean rank across columns (ties share the
average rank).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from benchmark import records, stats


def latest_per_cell(all_records: list[dict]) -> list[dict]:
    """The last record of each cell: a rerun of a failed cell supersedes the failure."""
    latest = {}
    for record in all_records:
        latest[records.cell_key(record)] = record
    return list(latest.values())


def cell_frame(all_records: list[dict], metric: str = "accuracy") -> pd.DataFrame:
    """One row per cell: strategy, pair, budget, seed, status, value (and per-episode values)."""
    rows = []
    for record in latest_per_cell(all_records):
        value = record["metrics"][metric]["mean"] if record["status"] == "ok" else np.nan
        rows.append({"strategy": record["strategy"], "pair": record["pair"], "budget": str(record["budget"]),
                     "seed": record["seed"], "status": record["status"], "value": value,
                     "episode_ci": (record["metrics"][metric].get("ci95") if record["status"] == "ok" else None),
                     "wall_s": record.get("wall_s", np.nan)})
    return pd.DataFrame(rows)


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI per (strategy, pair, budget): t over seeds, or the episode CI of a single seed."""
    rows = []
    for (strategy, pair, budget), group in frame.groupby(["strategy", "pair", "budget"], sort=False):
        ok = group[group["status"] == "ok"]
        row = {"strategy": strategy, "pair": pair, "budget": budget, "n": len(ok),
               "failed": int((group["status"] == "failed").sum()), "skipped": int((group["status"] == "skipped").sum()),
               "mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "ci": "", "wall_s": group["wall_s"].mean()}
        if len(ok) == 1 and ok["episode_ci"].iloc[0]:
            row.update(mean=ok["value"].iloc[0], ci_low=ok["episode_ci"].iloc[0][0],
                       ci_high=ok["episode_ci"].iloc[0][1], ci=stats.NORMAL_OVER_EPISODES)
        elif len(ok):
            mean, low, high = stats.mean_ci_t(ok["value"].to_numpy())
            row.update(mean=mean, ci_low=low, ci_high=high, ci=stats.T_OVER_SEEDS)
        rows.append(row)
    return pd.DataFrame(rows)


def _budget_order(budget: str):
    return (1, 0) if budget == "all" else (0, int(budget))


def column_label(pair: str, budget: str) -> str:
    return f"{pair} (k={budget})"


def wide(summary: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Strategies × columns of mean values, and the column order (pairs as recorded, budgets ascending)."""
    columns = []
    for pair in dict.fromkeys(summary["pair"]):
        for budget in sorted(set(summary.loc[summary["pair"] == pair, "budget"]), key=_budget_order):
            columns.append((pair, budget))
    means = summary.pivot_table(index="strategy", columns=["pair", "budget"], values="mean", dropna=False)
    return means.reindex(columns=pd.MultiIndex.from_tuples(columns)), columns


def render_markdown(all_records: list[dict], metric: str = "accuracy", title: str = "") -> str:
    summary = aggregate(cell_frame(all_records, metric))
    means, columns = wide(summary)
    ranks = means.rank(axis=0, ascending=False, method="average").mean(axis=1)
    best = means.max(axis=0)
    lookup = summary.set_index(["strategy", "pair", "budget"])
    table = []
    for strategy in ranks.sort_values().index:
        row = [strategy]
        for pair, budget in columns:
            if (strategy, pair, budget) not in lookup.index:
                row.append("")
                continue
            cell = lookup.loc[(strategy, pair, budget)]
            if cell["n"] == 0:
                row.append("failed" if cell["failed"] else "skipped")
                continue
            text = f"{100 * cell['mean']:.1f}"
            if not np.isnan(cell["ci_high"]):
                text += f" ± {100 * (cell['ci_high'] - cell['mean']):.1f}"
            if cell["mean"] == best[(pair, budget)]:
                text = f"**{text}**"
            row.append(text)
        row.append(f"{ranks[strategy]:.2f}")
        table.append(row)
    headers = ["strategy"] + [column_label(p, b) for p, b in columns] + ["mean rank"]
    methods = sorted(set(summary["ci"]) - {""})
    seeds_n = sorted(set(summary.loc[summary["n"] > 0, "n"]))
    caption = (f"{metric} (%), mean ± {' / '.join(methods) or '95% CI'}; n = {', '.join(map(str, seeds_n))} "
               f"per cell. k = labelled target examples per class. Best mean per column in bold; "
               f"mean rank across columns (ties share the average rank).")
    heading = f"# {title}\n\n" if title else ""
    return f"{heading}{caption}\n\n{tabulate(table, headers, tablefmt='github', disable_numparse=True)}\n"


def write_leaderboard(results_dir: Path, metric: str = "accuracy") -> Path:
    results_dir = Path(results_dir)
    all_records = records.read(results_dir / "records.jsonl")
    if not all_records:
        from benchmark.errors import TransferbenchError
        raise TransferbenchError(f"{results_dir / 'records.jsonl'}: no records to render")
    suite = all_records[0]["suite"]
    out = results_dir / "leaderboard.md"
    out.write_text(render_markdown(all_records, metric, title=f"transferbench leaderboard: {suite}"), encoding="utf-8")
    return out
