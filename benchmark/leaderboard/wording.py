"""Wording every format shares: titles, captions, number formats and the marks' meanings.

Numbers are percentages of the metric (one decimal) and gains are percentage points
(signed). Marks: best mean in bold; ≈ tied with best; ↓ negative transfer; ? a comparison
that could not be made (fewer than two paired runs): neither tied nor worse. Flags, results that
cannot be right: † an accuracy below its test split's majority-class rate; ◁ below its start, the
model (and head) it started from. Both exist in the fonts LaTeX math has by default (dagger, triangleleft).
"""

import math

from benchmark.leaderboard import licences
from benchmark.leaderboard import overlap_note as overlap
from benchmark.leaderboard.summary import ALPHA, BASELINE, Board, Entry, Estimate, Table

TIED = "≈"
NEGATIVE = "↓"
NOT_TESTED = "?"
NOT_RUN = "—"
BELOW_MAJORITY = "†"
BELOW_START = "◁"


def percent(value: float) -> str:
    return f"{100 * value:.1f}"


def points(value: float) -> str:
    """Signed percentage points; a gain that rounds to zero has no sign ("0.0", never "-0.0")."""
    text = f"{100 * value:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def half_width(estimate: Estimate) -> str | None:
    """The CI's half-width in the same units (t and normal intervals are symmetric)."""
    return f"{100 * (estimate.high - estimate.mean):.1f}" if estimate.has_ci else None


def marks(entry: Entry) -> str:
    return (TIED if entry.tied_with_best else "") + (NEGATIVE if entry.negative_transfer else "") + \
        (NOT_TESTED if entry.not_tested else "") + (BELOW_MAJORITY if entry.below_majority else "") + \
        (BELOW_START if entry.below_start else "")


def gain_marks(entry: Entry) -> str:
    return (NEGATIVE if entry.negative_transfer else "") + (NOT_TESTED if entry.gain_not_tested else "")


def status_word(entry: Entry) -> str:
    return "failed" if entry.failed else "skipped"


def no_value(entry: Entry | None, gain: bool = False) -> str | None:
    """What a cell shows instead of a number ("failed", "skipped", or — for not run / no paired
    baseline), or None when it has one."""
    if entry is None:
        return NOT_RUN
    if entry.score is None:
        return status_word(entry)
    if gain and entry.gain is None:
        return NOT_RUN
    return None


def partial_note(entry: Entry) -> str:
    """'(1 failed)' where some seeds of a cell with a score failed or were skipped, else ''."""
    parts = [f"{n} {word}" for n, word in ((entry.failed, "failed"), (entry.skipped, "skipped")) if n]
    return f"({', '.join(parts)})" if entry.score and parts else ""


def rank_columns(table: Table) -> list[str]:
    """["mean rank"] where the table ranks anything, else [] (no column of blanks)."""
    return ["mean rank"] if table.compared else []


def rank_text(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def seconds_text(value: float | None) -> str:
    """'12.3'; 'not recorded' where no record says it (leaderboard.costs); '' without a successful cell."""
    if value is None:
        return "not recorded"
    return "" if math.isnan(value) else f"{value:.1f}"


def title(board: Board) -> str:
    return f"transferbench leaderboard: {board.suite}"


def budget_phrase(board: Board, budget: str) -> str:
    if "episodic" in board.protocol:
        return f"{budget}-shot episodes" if budget != "all" else "all support examples"
    return "all labelled target examples" if budget == "all" else \
        f"k = {budget} labelled target example{'s' if budget != '1' else ''} per class"


def metric_phrase(board: Board) -> str:
    """The metric's name, and its direction where a lower value is better (a calibration error)."""
    return board.metric if board.higher_is_better else f"{board.metric} (lower is better)"


def table_title(board: Board, table: Table) -> str:
    return f"{metric_phrase(board)}, {budget_phrase(board, table.budget)}"


def _n_phrase(ns: dict) -> str:
    """'95% CI, t-distribution over seeds (n = 3)' for each CI method present."""
    parts = []
    for method, values in ns.items():
        n = str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"
        parts.append(f"{method} (n = {n})")
    return "; ".join(parts) or "no interval (a single run per cell)"


def caption(board: Board, table: Table) -> str:
    tests = " / ".join(table.tests()) or "paired test"
    ns = table.score_ns()
    pieces = [f"{metric_phrase(board)} (%), {budget_phrase(board, table.budget)}: "
              + (f"mean ± half-width of the {_n_phrase(ns)}." if ns else
                 "mean of one run per cell (no interval).")]
    if table.compared:
        not_tested = any(e.not_tested for e in table.entries.values())
        pieces += ["Best mean per column in bold;",
                   f"{TIED} tied with best: not significantly worse than it ({tests}, two-sided, paired by seed or "
                   f"episode, Holm-corrected across this table, α = {ALPHA}){';' if board.baseline or not_tested else '.'}"]
        if not_tested:
            pieces.append(f"{NOT_TESTED} not tested against the best: fewer than two paired runs (seeds, or episodes "
                          f"of one seed) in common with it, so no test was made; neither tied nor worse"
                          f"{';' if board.baseline else '.'}")
        if board.baseline:
            pieces.append(f"{NEGATIVE} negative transfer: the 95% CI of the gain over {BASELINE}, paired, "
                          f"lies wholly {'below' if board.higher_is_better else 'above'} 0.")
        pieces.append("Mean rank over the pairs a strategy has a score in (equal means share the average rank).")
    else:
        pieces.append("One strategy per column: nothing is compared, so no best, ties or ranks.")
    if not board.baseline:
        pieces.append(f"No {BASELINE} records: no gains over it, so no gain table and no gain heat map.")
    if table.transductive:
        pieces.append("Rows marked transductive score the queries jointly (the query set shapes each score); they "
                      "form their own section below the others, ranked and compared only among themselves.")
    pieces.append("Pretrain s = mean wall-clock seconds per pretrained state, counted once whichever cell ran it "
                  "or restored it from the cache; adapt s = mean wall-clock seconds of a cell's adaptation and "
                  "evaluation; not recorded: records older than these fields. "
                  f"failed / skipped: no successful run; {NOT_RUN}: not run.")
    pieces += [board.selection, board.notes, overlap_note(board, table), majority_note(board, table),
               below_majority_note(board, table), below_start_note(board, table), licences.caption_note(board.licences)]
    return " ".join(piece for piece in pieces if piece)


def _flagged(table: Table, attribute: str) -> list[Entry]:
    """The table's entries with a flag set, column by column (pairs in order, rows in order within one)."""
    return [e for p in table.pairs for v in table.rows
            if (e := table.entries.get((v, p))) is not None and getattr(e, attribute)]


def below_majority_note(board: Board, table: Table) -> str:
    """'† below the majority-class rate ...: finetune, lora on a→b (64.7%).' where a cell is; else ''."""
    flagged = _flagged(table, "below_majority")
    if not flagged:
        return ""
    by_pair = {}
    for e in flagged:
        by_pair.setdefault(e.pair, []).append(e.variant)
    cells = "; ".join(f"{', '.join(variants)} on {pair} ({percent(board.majority[pair])}%)"
                      for pair, variants in by_pair.items())
    return (f"{BELOW_MAJORITY} below the majority-class rate of its test split, which always answering its "
            f"largest class would score: {cells}.")


def start_difference_text(entry: Entry) -> str:
    """'-3.1 ± 2.0' (percentage points, as gains); '-3.1, no interval' from one paired run; unpaired: the means."""
    diff = entry.start_diff
    if diff.has_ci:
        return f"{points(diff.mean)} ± {half_width(diff)}"
    return f"{points(diff.mean)}, " + ("no interval" if diff.n else "difference of the means: no seed in common")


def below_start_note(board: Board, table: Table) -> str:
    """'◁ below its start ...: finetune on a→b -3.1 ± 2.0 vs source-only.' where a cell is; else ''."""
    flagged = _flagged(table, "below_start")
    if not flagged:
        return ""
    ns = table.start_ns()
    spread = f"mean ± half-width of the {_n_phrase(ns)}" if ns else "without an interval"
    cells = "; ".join(f"{e.variant} on {e.pair} {start_difference_text(e)} vs {e.start}" for e in flagged)
    worse = "below" if board.higher_is_better else "worse than (above)"
    return (f"{BELOW_START} below its start: {worse} the row whose model and source head it reused, on the same "
            f"pair, budget and source training; the difference in percentage points, paired by seed (by episode "
            f"within a single seed), {spread}: {cells}.")


def flags(board: Board, entry: Entry) -> list[str]:
    """The entry's flags in words, for the CSV and the provenance file."""
    return (["below majority-class rate"] if entry.below_majority else []) + \
        ([f"below its start ({board.cells.variants[entry.start].strategy})"] if entry.below_start else [])


def flagged_cells(board: Board) -> list[dict]:
    """Every flagged cell of the board, table by table: what the provenance file lists."""
    return [{"strategy": e.variant, "pair": e.pair, "budget": table.budget, "flags": flags(board, e)}
            for table in board.tables for e in _flagged(table, "flagged")]


def majority_note(board: Board, table: Table) -> str:
    """The test splits' majority-class rates, beside every table: an accuracy near it is no better than
    always answering the largest class (unequal classes make raw accuracy look better than it is)."""
    rates = [f"{pair} {percent(board.majority[pair])}%" for pair in table.pairs if pair in board.majority]
    return f"Majority-class rate of the test split (a constant predictor's accuracy): {', '.join(rates)}." \
        if rates else ""


def oracle_mark(board: Board, entry: Entry | None) -> str:
    """"oracle" on every cell of a row tuned on the target test split, else ''."""
    return "oracle" if entry is not None and entry.variant in board.cells.variants and \
        board.cells.variants[entry.variant].oracle else ""


def search_text(table: Table, variant: str) -> str:
    """'64 trials, 812 s': the cost of the row's searches in this table; '' where nothing was searched."""
    trials, seconds = table.search.get(variant, (0, 0.0))
    return f"{trials} trials, {seconds:.0f} s" if trials else ""


def gain_caption(board: Board, table: Table) -> str:
    ns = table.gain_ns()
    spread = f"mean difference ± half-width of the {_n_phrase(ns)}" if ns else \
        "difference of one paired run per cell (no interval)"
    return (f"Gain over {board.baseline} in {board.metric} percentage points, "
            f"{budget_phrase(board, table.budget)}: {spread}, paired by seed (by episode within a single seed). "
            f"{NEGATIVE} negative transfer (CI wholly {'below' if board.higher_is_better else 'above'} 0); "
            f"{NOT_RUN}: no paired {BASELINE} run."
            + (f" {NOT_TESTED} a single paired run: no interval, negative transfer not tested."
               if any(e.gain_not_tested for e in table.entries.values()) else "")
            + (f" {overlap_note(board, table)}" if overlap_note(board, table) else ""))


def overlap_note(board: Board, table: Table) -> str:
    """What the table's pairs score that they also learned from (allowed by the suite); '' if nothing."""
    return overlap.note({pair: found for pair, found in board.overlap.items() if pair in table.pairs})


def gain_rows(board: Board, table: Table) -> list:
    return [v for v in table.rows if v != board.baseline]

