"""Leaderboards are a pure function of records.jsonl: regenerating them never trains anything.

    records ──recompute.complete──► a metric a record lacks, from its stored predictions
            ──collect.collect──► latest run per variant × pair × budget × seed
            ──summary.build──► Board: per budget, estimates, gains, paired tests, ranks
            ──markdown / latex / tidy / webpage / plots──► files next to the records

The same records give byte-identical files: nothing reads the clock or the checkout;
provenance comes from the records themselves.
"""

import gc
import json
from contextlib import contextmanager
from pathlib import Path

from benchmark import records
from benchmark.leaderboard import (latex, markdown, recompute, tidy, transfer_matrix, transferability, webpage,
                                   wording)
from benchmark.leaderboard.collect import LeaderboardError
from benchmark.leaderboard.summary import Board, build

FORMATS = ("md", "tex", "csv", "html", "png")
HEATMAP = "gain_heatmap.png"
CURVES = "accuracy_vs_budget.png"


def render(board: Board, fmt: str) -> str:
    """One text format of the board (md, tex, csv or html), footer included."""
    if fmt == "md":
        return markdown.render(board)
    if fmt == "tex":
        return latex.render(board)
    if fmt == "csv":
        return tidy.render(board)
    if fmt == "html":
        return webpage.render(board)
    raise LeaderboardError(f"unknown leaderboard format '{fmt}'; choose from {', '.join(FORMATS)}")


@contextmanager
def gc_paused():
    """Reading and grouping 100,000 records allocates millions of small acyclic containers; the
    cyclic garbage collector would rescan them again and again and reclaim nothing (a third of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(results_dir: Path, metric: str = "accuracy", strategies=None, budgets=None, seeds=None,
         metrics=None) -> Board:
    """The board of results_dir/records.jsonl. A metric a record lacks is computed from its stored
    predictions (``recompute``) with ``metrics()`` -> {name: Metric}, default: the installed plugins'."""
    path = Path(results_dir) / "records.jsonl"
    with gc_paused():
        all_records = records.read(path)
        if not all_records:
            raise LeaderboardError(records.no_records_here(results_dir, "render"))
        all_records, higher = recompute.complete(all_records, metric, Path(results_dir),
                                                 metrics or recompute.installed_metrics)
        return build(all_records, metric, str(path), strategies, budgets, seeds, higher_is_better=higher)


def write_leaderboard(results_dir: Path, metric: str = "accuracy", formats=None, strategies=None,
                      budgets=None, seeds=None, out_dir: Path | None = None,
                      metrics=None, against: str = "finetune") -> tuple[list[Path], list[str]]:
    """Render ``formats`` (default: all) from results_dir/records.jsonl into ``out_dir`` (default:
    beside the records; created when missing); the files written and warnings.
    ``strategies`` / ``budgets`` / ``seeds`` keep only those records (None: all); ``metrics``: as ``load``.
    With estimate records, transferability.FMT too: estimators ranked against ``against``'s measured metric;
    where pairs share a target, transfer_matrix.FMT: each starting point's gain over training from scratch."""
    formats = formats or FORMATS
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise LeaderboardError(f"unknown leaderboard format '{unknown[0]}'; choose from {', '.join(FORMATS)}")
    results_dir = Path(results_dir)
    board = load(results_dir, metric, strategies, budgets, seeds, metrics)
    records_path = results_dir / "records.jsonl"
    results_dir = Path(out_dir) if out_dir is not None else results_dir  # where the files go
    results_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        if fmt == "png":
            from benchmark.leaderboard import plots  # matplotlib is imported only when plots are asked for

            written += [p for p in (plots.gain_heatmap(board, results_dir / HEATMAP),
                                    plots.budget_curves(board, results_dir / CURVES)) if p]
            continue
        path = results_dir / f"leaderboard.{fmt}"
        path.write_text(render(board, fmt), encoding="utf-8")
        written.append(path)
    if "csv" in formats:  # the CSV stays plain data; its footer lives beside it
        path = results_dir / "leaderboard.provenance.json"
        path.write_text(json.dumps({"footer": board.footer, "warnings": board.warnings,
                                    "flags": wording.flagged_cells(board)}, indent=2,
                                   ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    # The estimators' section and the transfer matrix, in their own files, from the records as stored.
    all_records = records.read(records_path)
    if any(r.get("status") == "estimate" for r in all_records):
        extra, notes = transferability.write(all_records, results_dir, formats, against, metric)
        written, board.warnings = written + extra, board.warnings + notes
        if "png" in formats:  # matplotlib is imported only when plots are asked for
            from benchmark.leaderboard import transferability_plot

            for name in (name.strip() for name in against.split(",") if name.strip()):
                written += transferability_plot.write(all_records, results_dir, name, metric)
    written += transfer_matrix.write(all_records, results_dir, formats, against.split(",")[0].strip(), metric)
    return written, board.warnings
