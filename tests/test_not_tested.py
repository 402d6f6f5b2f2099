"""Issue 16.2: "not tested" is not "significantly worse".

A strategy with one successful seed left can be a column's best; the others share one seed with it,
so no paired test can be made. They used to lose their ≈ (read: significantly worse) with an empty
p-value. A comparison that could not be made gets its own mark (?) and caption text in every format
(md, tex, csv, html), and so does a gain without an interval (negative transfer not tested).
"""

import io
import math

import pandas as pd

from benchmark.leaderboard import latex, markdown, render, tidy, webpage
from benchmark.leaderboard import wording as text
from benchmark.leaderboard.summary import build
from benchmark.leaderboard.synthetic import record

NOTE = "not tested against the best"


def lucky_single_seed() -> list[dict]:
    """'lucky' has seed 0 only (its others failed) and the highest mean; target-only and finetune have 3 seeds."""
    made = [record("target-only", "p", s, 1, v) for s, v in enumerate([0.60, 0.62, 0.61])]
    made += [record("finetune", "p", s, 1, v) for s, v in enumerate([0.70, 0.71, 0.69])]
    made += [record("lucky", "p", 0, 1, 0.75)] + [record("lucky", "p", s, 1, status="failed") for s in (1, 2)]
    return made


def test_a_comparison_that_could_not_be_made_is_marked_not_tested_never_worse():
    (table,) = build(lucky_single_seed()).tables
    best, finetune = table.entries[("lucky", "p")], table.entries[("finetune", "p")]
    assert best.best and not best.not_tested
    assert finetune.not_tested and not finetune.tied_with_best and math.isnan(finetune.p_holm) and finetune.test == ""
    assert text.marks(finetune) == text.NOT_TESTED


def test_compared_rows_keep_their_test_and_no_mark():
    made = [record("a", "p", s, 1, v) for s, v in enumerate([0.70, 0.71, 0.69])]
    made += [record("b", "p", s, 1, v) for s, v in enumerate([0.69, 0.71, 0.68])]
    (table,) = build(made).tables
    b = table.entries[("b", "p")]
    assert b.test and not b.not_tested and NOTE not in text.caption(build(made), table)


def test_every_format_shows_the_mark_and_says_what_it_means():
    board = build(lucky_single_seed())
    (table,) = board.tables
    md = markdown.render(board)
    assert "70.0 ± 2.5 ?" in md and NOTE in md and "neither tied nor worse" in md
    tex = latex.render(board)
    assert r"$70.0 \pm 2.5^{?}$" in tex and NOTE in tex
    html = webpage.render(board)
    assert 'title="not tested: fewer than two paired runs, neither tied nor worse">?</span>' in html and NOTE in html
    csv = pd.read_csv(io.StringIO(render(board, "csv")))
    rows = csv.set_index("strategy")
    assert bool(rows.loc["finetune", "not_tested"]) and not bool(rows.loc["finetune", "tied_with_best"])
    assert bool(rows.loc["target-only", "not_tested"]) and not bool(rows.loc["lucky", "not_tested"])
    assert list(csv.columns) == tidy.COLUMNS


def test_a_gain_from_one_paired_seed_is_marked_negative_transfer_not_tested():
    made = [record("target-only", "p", 0, 1, 0.60), record("worse", "p", 0, 1, 0.40)]
    board = build(made)
    (table,) = board.tables
    worse = table.entries[("worse", "p")]
    assert worse.gain is not None and not worse.gain.has_ci
    assert worse.gain_not_tested and not worse.negative_transfer
    md = markdown.render(board)
    assert "-20.0 ?" in md and "negative transfer not tested" in md
    assert r"$-20.0^{?}$" in latex.render(board)
    assert bool(pd.read_csv(io.StringIO(render(board, "csv"))).set_index("strategy").loc["worse", "gain_not_tested"])
