"""Cells → tables: each cell's estimate and CI, its gain over target-only, paired tests, ranks.

Everything a renderer prints is decided here, once, so the Markdown, LaTeX, CSV and
HTML tables and the plots can never disagree with one another.

    per budget, a table of variants × pairs:
        score   mean ± 95% CI: t over seeds, or the record's own CI over the episodes of one seed
        gain    variant − target-only, paired by seed (or by episode), with its CI;
                a gain CI wholly below 0 flags negative transfer
        best    the highest mean in the column; every other variant is tested against it,
                paired, Holm-corrected across the table: p ≥ α means "tied with best";
                fewer than 2 paired runs means "not tested" (its own mark), never "worse"
        rank    per column, equal means share the average rank; mean rank across pairs
        flags   results that cannot be right: an accuracy below its test split's majority-class rate
                (a constant predictor's); a strategy that reused another's model and head and ends
                below it (its start, by adapt_notes), paired by seed, on the same source training

For a lower-is-better metric (a calibration error: ``benchmark.Metric.higher_is_better``) every
comparison takes that direction: best is the lowest mean, rank 1 the lowest, a gain CI wholly
above 0 is negative transfer, ending above the start is flagged.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

from benchmark.leaderboard import costs, licences, selected
from benchmark.leaderboard import overlap_note as overlap
from benchmark.leaderboard.collect import Cells, Runs, collect
from benchmark.leaderboard.provenance import footer
from benchmark.scoring import stats

BASELINE = "target-only"
ALPHA = 0.05  # significance level of the Holm-corrected tests against the best
SEEDS, EPISODES = "seeds", "episodes"
# Metrics whose trivial bound is the majority-class rate: a constant predictor scores it. Macro recall
# and F1 of a constant predictor are other numbers (1 / classes, less), so they are never flagged by it.
MAJORITY_BOUNDED = frozenset({"accuracy"})


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float      # NaN when there is no interval (n < 2)
    high: float
    n: int
    method: str     # stats.T_OVER_SEEDS, stats.NORMAL_OVER_EPISODES, a record's stored method, or "" without one

    @property
    def has_ci(self) -> bool:
        return not math.isnan(self.high)


@dataclass
class Entry:
    """One variant × pair × budget, as every format shows it."""

    variant: str
    pair: str
    budget: str
    status: str                  # "ok", "partial" (some seeds failed or were skipped), "failed", "skipped"
    failed: int
    skipped: int
    score: Estimate | None
    pretrain_s: float | None     # seconds per pretrained state (leaderboard.costs); None: not recorded
    adapt_s: float | None        # seconds of adaptation and evaluation per cell; None: not recorded
    gain: Estimate | None = None
    negative_transfer: bool = False
    best: bool = False
    tied_with_best: bool = False
    not_tested: bool = False       # compared with the best by no test: fewer than 2 paired runs (p is NaN)
    gain_not_tested: bool = False  # a gain without an interval (1 paired run): negative transfer not tested
    p_holm: float = math.nan
    test: str = ""
    rank: float = math.nan
    below_majority: bool = False   # an accuracy below its pair's majority-class rate (MAJORITY_BOUNDED)
    start: str = ""                # the row it started from (start_row); "" where none was compared
    start_diff: Estimate | None = None  # this cell − its start, paired (start_difference)
    below_start: bool = False      # start_diff's mean below 0: it ends below the model it started from

    @property
    def flagged(self) -> bool:
        """Some result of this cell cannot be right (a flag the caption explains)."""
        return self.below_majority or self.below_start


@dataclass
class Table:
    budget: str
    pairs: list
    rows: list                   # variant labels, best mean rank first
    entries: dict                # (variant, pair) -> Entry; absent = never run
    mean_rank: dict              # variant -> mean rank across the pairs it has a score in
    pretrain_s: dict             # variant -> mean seconds per pretrained state (None: not recorded; NaN: no ok cell)
    adapt_s: dict                # variant -> mean adaptation + evaluation seconds per successful cell (same)
    search: dict = field(default_factory=dict)  # variant -> (trials, wall seconds) of its searches
    unranked: frozenset = frozenset()  # oracle variants: shown, never ranked or compared
    transductive: frozenset = frozenset()  # rows scoring queries jointly: a section of their own, ranked apart

    def scored(self):
        return [e for e in self.entries.values() if e.score is not None]

    def score_ns(self) -> dict:
        """{CI method: sorted n values} over the cells that have an interval."""
        return _ns(e.score for e in self.scored())

    def gain_ns(self) -> dict:
        return _ns(e.gain for e in self.entries.values() if e.gain is not None)

    def start_ns(self) -> dict:
        """{CI method: n values} of the differences from their start of the cells flagged below it."""
        return _ns(e.start_diff for e in self.entries.values() if e.below_start)

    @property
    def compared(self) -> bool:
        """Some column ranks two or more strategies: best, ties and ranks mean something."""
        return any(not math.isnan(rank) for rank in self.mean_rank.values())

    def tests(self) -> list:
        return sorted({e.test for e in self.entries.values() if e.test})


@dataclass
class Board:
    suite: str
    protocol: str
    metric: str
    tables: list
    baseline: str | None         # label of the target-only variant gains are measured against
    cells: Cells
    footer: dict                 # provenance, from the records alone
    warnings: list = field(default_factory=list)
    selection: str = ""          # how hyperparameters were chosen, for every caption (leaderboard.selected)
    searched: bool = False       # some row's hyperparameters were searched: tables get a search column
    notes: str = ""              # e.g. which strategy starts from the model another scores as is
    overlap: dict = field(default_factory=dict)  # pair -> its allowed train/score overlap (leaderboard.overlap)
    majority: dict = field(default_factory=dict)  # pair -> its test split's majority-class rate (records' test_classes)
    higher_is_better: bool = True  # the metric's direction (benchmark.Metric); False: best and ranks by the lowest
    licences: dict = field(default_factory=dict)  # {what: licence} of what the cells used (leaderboard.licences)


def _ns(estimates) -> dict:
    found = {}
    for estimate in estimates:
        if estimate.has_ci:
            found.setdefault(estimate.method, set()).add(estimate.n)
    return {method: sorted(ns) for method, ns in sorted(found.items())}


def _rounded(mean: float) -> float:
    """Means that differ only by float noise (summation order) count as equal for best and rank."""
    return round(mean, 12)


def estimate(runs: Runs) -> Estimate | None:
    """t over seeds; a single seed with recorded episodes keeps its record's CI over episodes, and its method."""
    seeds = sorted(runs.values)
    if not seeds:
        return None
    if len(seeds) == 1 and seeds[0] in runs.stored_ci:
        return Estimate(runs.values[seeds[0]], *runs.stored_ci[seeds[0]])
    mean, low, high = stats.mean_ci_t([runs.values[s] for s in seeds])
    return Estimate(mean, low, high, len(seeds), stats.T_OVER_SEEDS if len(seeds) > 1 else "")


def paired_differences(a: Runs, b: Runs) -> tuple[np.ndarray, str]:
    """a − b paired by seed; by episode when they share exactly one seed and both kept its episodes.

    Episodes pair because their seeds depend on pair, shot, seed and episode number,
    never on the strategy (benchmark.scoring.tasks): episode i is the same task for both.
    """
    common = sorted(set(a.values) & set(b.values))
    if len(common) == 1:
        ours, theirs = a.episodes.get(common[0]), b.episodes.get(common[0])
        if ours is not None and theirs is not None and len(ours) == len(theirs):
            return ours - theirs, EPISODES
    return np.array([a.values[s] - b.values[s] for s in common], dtype=float), SEEDS


def gain(runs: Runs, baseline: Runs) -> Estimate | None:
    differences, unit = paired_differences(runs, baseline)
    if len(differences) == 0:
        return None
    if unit == EPISODES:
        mean, low, high = stats.mean_ci_normal(differences)
        return Estimate(mean, low, high, len(differences), stats.NORMAL_OVER_EPISODES)
    mean, low, high = stats.mean_ci_t(differences)
    return Estimate(mean, low, high, len(differences), stats.T_OVER_SEEDS if len(differences) > 1 else "")


def entry(cells: Cells, variant: str, pair: str, budget: str, baseline: str | None, sign: int = 1) -> Entry:
    """``sign``: 1 where a higher value is better, -1 where a lower one is (negative transfer: a gain CI above 0)."""
    runs = cells.runs[(variant, pair, budget)]
    score = estimate(runs)
    status = ("partial" if runs.failed or runs.skipped else "ok") if score else \
        ("failed" if runs.failed else "skipped")
    made = Entry(variant, pair, budget, status, runs.failed, runs.skipped, score,
                 costs.mean_pretrain([runs]), costs.mean_adapt([runs]))
    base = cells.runs.get((baseline, pair, budget))
    if score and base is not None and variant != baseline:
        made.gain = gain(runs, base)
        made.negative_transfer = bool(made.gain and made.gain.has_ci
                                      and max(sign * made.gain.low, sign * made.gain.high) < 0)
        made.gain_not_tested = bool(made.gain and not made.gain.has_ci)
    return made


def search_cost(cells: Cells, variant: str, pairs: list, budget: str) -> tuple[int, float]:
    """(trials, wall seconds) of the searches behind a row's cells in one table."""
    runs = [cells.runs[(variant, p, budget)] for p in pairs if (variant, p, budget) in cells.runs]
    return sum(r.trials for r in runs), sum(r.search_wall_s for r in runs)


def sections(table: Table) -> list[frozenset]:
    """The row groups ranked and compared only among themselves: inductive rows, then transductive ones."""
    ranked = [v for v in table.rows if v not in table.unranked]
    return [frozenset(v for v in ranked if v not in table.transductive), frozenset(v for v in ranked if v in table.transductive)]


def compare_with_best(cells: Cells, table: Table, sign: int = 1) -> None:
    """Mark each column's best, test every other scored variant against it, Holm across the table;
    per section: a transductive row is never the best of, nor compared with, inductive ones."""
    compared = []
    for pair, section in ((p, s) for s in sections(table) for p in table.pairs):
        column = [table.entries[(v, pair)] for v in table.rows if (v, pair) in table.entries]
        column = [e for e in column if e.score is not None and e.variant in section]
        if len(column) < 2:  # a lone entry is compared with nothing: no bold, no ties
            continue
        top = max(sign * _rounded(e.score.mean) for e in column)
        best = [e for e in column if sign * _rounded(e.score.mean) == top]
        for e in best:
            e.best = True
        reference = cells.runs[(best[0].variant, pair, table.budget)]
        compared += [(e, paired_differences(cells.runs[(e.variant, pair, table.budget)], reference)[0])
                     for e in column if not e.best]
    tested = stats.paired_tests([differences for _, differences in compared])
    adjusted = stats.holm([p for p, _ in tested]) if compared else []
    for (e, _), (_, test), p_holm in zip(compared, tested, adjusted):
        e.test, e.p_holm = test, float(p_holm)
        e.tied_with_best = bool(p_holm >= ALPHA)  # NaN (fewer than 2 pairs) is never "tied" ...
        e.not_tested = math.isnan(p_holm)         # ... nor worse: no test could be made
        if e.not_tested:
            e.test = ""  # the test that would have run did not


def rank(table: Table, sign: int = 1) -> None:
    """Per column rank 1 = highest mean (``sign`` -1: lowest); equal means share the average rank."""
    ranks = {v: [] for v in table.rows}
    for pair, section in ((p, s) for s in sections(table) for p in table.pairs):
        column = [e for e in (table.entries.get((v, pair)) for v in table.rows)
                  if e and e.score and e.variant in section]
        if len(column) < 2:  # a rank among one is no rank
            continue
        for e, r in zip(column, rankdata([-sign * _rounded(e.score.mean) for e in column], method="average")):
            e.rank = float(r)
            ranks[e.variant].append(float(r))
    table.mean_rank = {v: float(np.mean(r)) if r else math.nan for v, r in ranks.items()}
    table.rows.sort(key=lambda v: (v in table.transductive, math.isnan(table.mean_rank[v]), table.mean_rank[v], v))


def choose_baseline(cells: Cells, warnings: list) -> str | None:
    """The target-only variant gains are measured against: the one with the most successful runs."""
    candidates = [v.label for v in cells.variants.values() if v.strategy == BASELINE]
    if not candidates:
        return None
    done = {label: sum(len(r.values) for (v, _, _), r in cells.runs.items() if v == label) for label in candidates}
    chosen = max(candidates, key=lambda label: done[label])  # max keeps the first of equals
    if len(candidates) > 1:
        warnings.append(f"gains are measured against '{chosen}', the {BASELINE} variant with the most runs")
    return chosen


def start_row(cells: Cells, variant: str, pair: str, budget: str) -> str | None:
    """The row a cell started from, or None: a row of the strategy whose model and head it reused
    (adapt_notes: head "reuse", starts_from), on the same pair, budget, model and data, whose source
    model was trained the same way (hparams source_training; a cell mixing ways is compared with none).
    A new head scores by another rule than the start's, so such a cell is compared with nothing."""
    runs = cells.runs[(variant, pair, budget)]
    if not runs.reused_from or len(runs.source_training) != 1:
        return None
    own = cells.variants[variant]
    candidates = [label for label, v in cells.variants.items()
                  if label != variant and v.strategy in runs.reused_from and v.model == own.model
                  and v.setup == own.setup and (label, pair, budget) in cells.runs
                  and cells.runs[(label, pair, budget)].values
                  and cells.runs[(label, pair, budget)].source_training == runs.source_training]
    # several (e.g. two plugin versions of source-only): the one sharing the most seeds, then the first seen
    return max(candidates, key=lambda label: len(cells.runs[(label, pair, budget)].values.keys() & runs.values.keys()),
               default=None)


def start_difference(runs: Runs, start: Runs) -> Estimate:
    """runs − start, paired by seed (by episode within one seed), as gains are; without a seed in
    common, the plain difference of their means (no interval, n = 0)."""
    paired = gain(runs, start)
    if paired is not None:
        return paired
    return Estimate(estimate(runs).mean - estimate(start).mean, math.nan, math.nan, 0, "")


def flag(cells: Cells, table: Table, metric: str, majority: dict, sign: int = 1) -> None:
    """Mark each scored cell of the table that cannot be right: below the majority-class rate, or below its start."""
    for e in table.scored():
        rate = majority.get(e.pair)
        e.below_majority = metric in MAJORITY_BOUNDED and rate is not None and _rounded(e.score.mean) < _rounded(rate)
        start = start_row(cells, e.variant, e.pair, table.budget)
        if start is not None:
            e.start = start
            e.start_diff = start_difference(cells.runs[(e.variant, e.pair, table.budget)],
                                            cells.runs[(start, e.pair, table.budget)])
            e.below_start = sign * _rounded(e.start_diff.mean) < 0  # float noise of equal means is no difference


def starts_named(all_records: list[dict], strategies) -> set:
    """The strategies the records of ``strategies`` say they started from (adapt_notes starts_from)."""
    return {(r.get("adapt_notes") or {}).get("starts_from") for r in all_records
            if r.get("strategy") in strategies} - {None}


def majority_rates(used: list[dict]) -> dict[str, float]:
    """pair -> the share of its test split's largest class: the accuracy of a constant predictor.
    From the records' ``test_classes`` (transfer records since they were added; older ones have none)."""
    rates = {}
    for record in used:
        counts = record.get("test_classes") or {}
        if record["pair"] not in rates and sum(counts.values()):
            rates[record["pair"]] = max(counts.values()) / sum(counts.values())
    return rates


def build(all_records: list[dict], metric: str = "accuracy", where: str = "records",
          strategies=None, budgets=None, seeds=None, higher_is_better: bool = True) -> Board:
    """The whole leaderboard as data; ``strategies`` / ``budgets`` select rows and tables, ``seeds`` runs;
    ``higher_is_better`` False ranks the lowest first (a calibration error)."""
    sign = 1 if higher_is_better else -1
    wanted = None
    if strategies is not None:  # the baseline's records still pair with the shown rows' for gains
        recorded = {r.get("strategy") for r in all_records}
        wanted = list(strategies) + ([BASELINE] if BASELINE in recorded and BASELINE not in strategies else [])
        # ... and so do the rows shown strategies started from, for the below-its-start flag
        wanted += sorted((starts_named(all_records, strategies) & recorded) - set(wanted))
    cells = collect(all_records, metric, where, wanted, budgets, seeds)
    warnings = list(cells.warnings)
    baseline = choose_baseline(cells, warnings)
    if baseline is None:  # said, not silently left out
        warnings.append(f"no {BASELINE} records: gains over it, the gain tables and gain_heatmap.png are left out")
    majority = majority_rates(cells.used)
    shown = [label for label, v in cells.variants.items() if strategies is None or v.strategy in strategies]
    tables = []
    for budget in cells.budgets:
        pairs = [p for p in cells.pairs if any((v, p, budget) in cells.runs for v in shown)]
        rows = [v for v in shown if any((v, p, budget) in cells.runs for p in pairs)]
        entries = {(v, p): entry(cells, v, p, budget, baseline, sign) for v in rows for p in pairs
                   if (v, p, budget) in cells.runs}
        runs = {v: [cells.runs[(v, p, budget)] for p in pairs if (v, p, budget) in cells.runs] for v in rows}
        table = Table(budget, pairs, rows, entries, {}, {v: costs.mean_pretrain(runs[v]) for v in rows},
                      {v: costs.mean_adapt(runs[v]) for v in rows},
                      {v: search_cost(cells, v, pairs, budget) for v in rows},
                      frozenset(v for v in rows if cells.variants[v].oracle),
                      frozenset(v for v in rows if cells.variants[v].transductive))
        rank(table, sign)
        compare_with_best(cells, table, sign)
        flag(cells, table, metric, majority, sign)
        tables.append(table)
    facts, data_warnings = footer(cells)
    return Board(facts["suite"], facts["protocol"], metric, tables, baseline, cells, facts, warnings + data_warnings,
                 selected.caption(cells.used), any(v.selection != "fixed" for v in cells.variants.values()),
                 selected.starts_from_note(cells.used), overlap.by_pair(cells.used), majority, higher_is_better,
                 licences=licences.of_records(cells.used))
