"""Leaderboards flag results that cannot be right, in every format: an accuracy below its test split's
majority-class rate (†), and a strategy that reused source-only's model and head yet ends below it (◁)."""

import io
import json
import re

import pandas as pd
import pytest

from benchmark.leaderboard import latex, markdown, render, webpage, write_leaderboard
from benchmark.leaderboard import wording as text
from benchmark.leaderboard.summary import build
from benchmark.leaderboard.synthetic import record, write

CLASSES = {"functional": 377, "defective": 206}  # majority-class rate 377 / 583 = 64.67%
BALANCED = {"yes": 50, "no": 50}  # rate 50%: the start tests' cells are all above it, but maml
REUSE = {"head": "reuse", "starts_from": "source-only"}
NEW = {"head": "new", "starts_from": "source-only"}


def scored(strategy: str, values: list, pair: str = "a→b", notes: dict | None = None, classes: dict = CLASSES,
           **hparams) -> list[dict]:
    """One record per seed, with its pair's test classes and the strategy's adapt_notes."""
    return [{**record(strategy, pair, seed, 5, value, hparams=hparams or None), "test_classes": classes,
             "adapt_notes": notes} for seed, value in enumerate(values)]


def majority_records() -> list[dict]:
    """finetune below the rate, target-only above it, lora exactly at it (not below: no flag)."""
    return scored("finetune", [0.55, 0.56, 0.57]) + scored("target-only", [0.70, 0.71, 0.72]) \
        + scored("lora", [377 / 583] * 3)


def start_records() -> list[dict]:
    """On a→b: source-only (full source training) at 0.82; finetune reused its head and ends below it;
    bitfit reused it and ends above; lora below with a new head (another starting point). source-only
    trained on the head only scores 0.60: finetune trained that way (0.70) is compared with it alone.
    On c→d only a source-only trained another way exists: nothing to compare with."""
    made = scored("source-only", [0.80, 0.82, 0.84], classes=BALANCED)
    made += scored("finetune", [0.75, 0.78, 0.80], notes=REUSE, classes=BALANCED)
    made += scored("bitfit", [0.85, 0.86, 0.90], notes=REUSE, classes=BALANCED)
    made += scored("lora", [0.60, 0.61, 0.62], notes=NEW, classes=BALANCED)
    made += scored("source-only", [0.58, 0.60, 0.62], classes=BALANCED, source_training="head")
    made += scored("finetune", [0.69, 0.70, 0.71], notes=REUSE, classes=BALANCED, source_training="head")
    made += scored("source-only", [0.90, 0.91, 0.92], pair="c→d", classes=BALANCED, source_training="head")
    made += scored("finetune", [0.60, 0.61, 0.62], pair="c→d", notes=REUSE, classes=BALANCED)
    return made


def csv_flags(board) -> dict:
    """(variant, pair) -> its CSV flags ('' for none)."""
    frame = pd.read_csv(io.StringIO(render(board, "csv")), keep_default_na=False)
    return {(row.variant, row.pair): row.flags for row in frame.itertuples()}


def test_an_accuracy_below_the_majority_class_rate_is_flagged_in_every_format():
    board = build(majority_records())
    (table,) = board.tables
    assert table.entries[("finetune", "a→b")].below_majority
    assert not table.entries[("target-only", "a→b")].below_majority
    assert not table.entries[("lora", "a→b")].below_majority  # at the rate, not below it
    md = markdown.render(board)
    assert re.search(r"\| finetune +\| +56\.0 ± 2\.5 ↓?† \|", md), md
    assert "† below the majority-class rate of its test split, which always answering its largest class would " \
           "score: finetune on a→b (64.7%)." in md
    tex = latex.render(board)
    assert re.search(r"finetune & \$56\.0 \\pm 2\.5\^\{[^}]*\\dagger\}\$", tex), tex
    assert r"$\dagger$ below the majority-class rate" in tex and "†" not in tex
    assert not re.search(r"(target-only|lora) & [^\n]*\\dagger", tex)
    html = webpage.render(board)
    assert 'title="below the majority-class rate of its test split">†</span>' in html
    assert csv_flags(board) == {("finetune", "a→b"): "below majority-class rate", ("target-only", "a→b"): "",
                                ("lora", "a→b"): ""}


def test_only_accuracy_is_held_to_the_majority_class_rate():
    # a constant predictor's macro recall or F1 is not the majority rate: no such bound, no flag
    board = build(majority_records(), metric="macro_f1")
    assert not any(e.below_majority for e in board.tables[0].entries.values())
    assert "†" not in markdown.render(board) and set(csv_flags(board).values()) == {""}


def test_records_without_test_classes_are_never_flagged_below_the_majority():
    board = build([{**r, "test_classes": None} for r in majority_records()])
    assert not any(e.below_majority for e in board.tables[0].entries.values())


def test_a_strategy_that_reused_source_only_and_ends_below_it_is_flagged():
    board = build(start_records())
    (table,) = board.tables
    full, head = "finetune (source_training absent)", 'finetune (source_training="head")'
    finetune = table.entries[(full, "a→b")]
    assert finetune.below_start and finetune.start == "source-only (source_training absent)"
    assert finetune.start_diff.mean == pytest.approx(-13 / 300) and finetune.start_diff.high < 0  # paired by seed
    bitfit = table.entries[("bitfit", "a→b")]
    assert bitfit.start == "source-only (source_training absent)" and not bitfit.below_start  # compared, above
    lora = table.entries[("lora", "a→b")]
    assert lora.start == "" and not lora.below_start  # a new head: started elsewhere, not compared
    # trained on the source's head only: compared with the source-only trained so (0.60), never the full one
    assert table.entries[(head, "a→b")].start == 'source-only (source_training="head")'
    assert not table.entries[(head, "a→b")].below_start
    # on c→d the only source-only was trained another way: nothing to compare with, no flag
    assert table.entries[(full, "c→d")].start == "" and not table.entries[(full, "c→d")].below_start
    flags = csv_flags(board)
    assert flags[(full, "a→b")] == "below its start (source-only)"
    assert {key for key, value in flags.items() if value} == {(full, "a→b")}
    md = markdown.render(board)
    assert "◁ below its start: below the row whose model and source head it reused" in md
    assert f"{full} on a→b -4.3 ± " in md and "vs source-only (source_training absent)." in md
    assert "t-distribution over seeds (n = 3)" in md.split("◁ below its start")[1]
    assert re.search(r"\| finetune \(source_training absent\) +\| +77\.7 ± [0-9.]+ [^|]*◁ \|", md), md
    tex = latex.render(board)
    assert r"\triangleleft}$" in tex and r"$\triangleleft$ below its start" in tex and "◁" not in tex
    body = re.sub(r"\\[{}%$&#_]", "", "\n".join(l for l in tex.splitlines() if not l.startswith("%")))
    assert body.count("{") == body.count("}") and body.count("$") % 2 == 0
    assert 'title="below its start: the model and head it reused score more">◁</span>' in webpage.render(board)


def test_the_flag_needs_its_start_below_not_a_tie():
    made = scored("source-only", [0.80, 0.82, 0.84]) + scored("finetune", [0.80, 0.82, 0.84], notes=REUSE)
    entry = build(made).tables[0].entries[("finetune", "a→b")]
    assert entry.start == "source-only" and not entry.below_start


def test_showing_one_strategy_still_compares_it_with_its_start(tmp_path):
    board = build(start_records(), strategies=["finetune"])
    (table,) = board.tables
    assert all(row.startswith("finetune") for row in table.rows)
    assert table.entries[("finetune (source_training absent)", "a→b")].below_start


def test_the_provenance_file_lists_the_flagged_cells_and_regenerating_is_byte_identical(tmp_path):
    write(tmp_path / "records.jsonl", start_records() + scored("maml", [0.30, 0.31, 0.32], classes=BALANCED))
    formats = ["md", "tex", "csv", "html"]
    first = {p.name: p.read_bytes() for p in write_leaderboard(tmp_path, formats=formats)[0]}
    second = {p.name: p.read_bytes() for p in write_leaderboard(tmp_path, formats=formats)[0]}
    assert first == second
    listed = json.loads(first["leaderboard.provenance.json"])["flags"]
    assert listed == [{"strategy": "finetune (source_training absent)", "pair": "a→b", "budget": "5",
                       "flags": ["below its start (source-only)"]},
                      {"strategy": "maml", "pair": "a→b", "budget": "5", "flags": ["below majority-class rate"]}]
    assert text.BELOW_MAJORITY in first["leaderboard.md"].decode() and text.BELOW_START in first["leaderboard.md"].decode()
