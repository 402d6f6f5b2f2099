"""Tidy CSV (pandas): one row per strategy variant × pair × budget, metric values as fractions.

Columns: what the cell is (strategy, variant label, plugin, hyperparameters, pair,
budget, metric), its status and counts, the estimate (mean, ci_low, ci_high, n,
ci_method), the gain over target-only with its CI, the marks as booleans (``not_tested``:
no test against the best could be made; ``gain_not_tested``: a gain without an interval), the
costs (pretrain_s per pretrained state over pretrain_states states, adapt_s per cell; empty
where not recorded, see benchmark.leaderboard.costs), and ``overlap``: what the pair scores
that it also learned from, where its suite allows it; ``majority_rate``: the share of the pair's
test split in its largest class (a constant predictor's accuracy; empty for records without
``test_classes``); ``flags``: what in the cell cannot be right, ";"-joined (``below majority-class
rate``, ``below its start (source-only)``; empty: none; see benchmark.leaderboard.summary.flag). The
provenance footer goes to leaderboard.provenance.json beside it, so that the CSV
stays plain data any reader loads.
"""

import io
import math

import pandas as pd

from benchmark.leaderboard import wording
from benchmark.leaderboard.summary import Board

COLUMNS = ["strategy", "variant", "plugin", "plugin_version", "hparams", "pair", "budget", "metric", "status",
           "n", "failed", "skipped", "mean", "ci_low", "ci_high", "ci_method", "gain", "gain_low", "gain_high",
           "gain_n", "gain_ci_method", "negative_transfer", "gain_not_tested", "best", "tied_with_best",
           "not_tested", "p_holm", "test", "rank", "pretrain_s", "pretrain_states", "adapt_s", "selection",
           "search_trials", "search_wall_s", "overlap", "majority_rate", "flags"]


def _seconds(value: float | None) -> float:
    """Seconds; NaN (an empty CSV field) where not recorded (leaderboard.costs) or no cell succeeded."""
    return math.nan if value is None else value


def _estimate(estimate, prefix: str, mean_name: str) -> dict:
    if estimate is None:
        return {mean_name: math.nan, f"{prefix}_low": math.nan, f"{prefix}_high": math.nan, f"{prefix}_n": 0,
                f"{prefix}_method": ""}
    return {mean_name: estimate.mean, f"{prefix}_low": estimate.low, f"{prefix}_high": estimate.high,
            f"{prefix}_n": estimate.n, f"{prefix}_method": estimate.method}


def frame(board: Board) -> pd.DataFrame:
    rows = []
    for table in board.tables:
        for variant in table.rows:
            for pair in table.pairs:
                e = table.entries.get((variant, pair))
                if e is None:
                    continue
                who, runs = board.cells.variants[variant], board.cells.runs[(variant, pair, table.budget)]
                score = _estimate(e.score, "ci", "mean")
                gain = _estimate(e.gain, "gain", "gain")
                rows.append({"strategy": who.strategy, "variant": variant, "plugin": who.dist,
                             "plugin_version": who.version, "hparams": who.hparams, "pair": pair,
                             "budget": table.budget, "metric": board.metric, "status": e.status,
                             "n": score["ci_n"], "failed": e.failed, "skipped": e.skipped, "mean": score["mean"],
                             "ci_low": score["ci_low"], "ci_high": score["ci_high"], "ci_method": score["ci_method"],
                             "gain": gain["gain"], "gain_low": gain["gain_low"], "gain_high": gain["gain_high"],
                             "gain_n": gain["gain_n"], "gain_ci_method": gain["gain_method"],
                             "negative_transfer": e.negative_transfer, "gain_not_tested": e.gain_not_tested,
                             "best": e.best, "tied_with_best": e.tied_with_best, "not_tested": e.not_tested,
                             "p_holm": e.p_holm, "test": e.test,
                             "rank": e.rank, "pretrain_s": _seconds(e.pretrain_s),
                             "pretrain_states": len(runs.pretrain_s), "adapt_s": _seconds(e.adapt_s),
                             "selection": who.selection,
                             "search_trials": runs.trials, "search_wall_s": runs.search_wall_s,
                             "overlap": board.overlap.get(pair, ""),
                             "majority_rate": board.majority.get(pair, math.nan),
                             "flags": ";".join(wording.flags(board, e))})
    return pd.DataFrame(rows, columns=COLUMNS)


def render(board: Board) -> str:
    table = frame(board)
    # p-values span hundreds of orders of magnitude: %.6f would write every p < 5e-7 as 0.000000
    table["p_holm"] = [f"{p:.6g}" if not math.isnan(p) else "" for p in table["p_holm"]]
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, float_format="%.6f", lineterminator="\n")
    return buffer.getvalue()
