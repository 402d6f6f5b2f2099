"""Leaderboard edge cases a plugin author meets: one strategy and no target-only, an --out
directory given instead of a suite's folder, and selecting seeds or where the files go."""

import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.leaderboard import LeaderboardError, load, render, write_leaderboard
from benchmark.leaderboard.synthetic import record, write

GOLDEN = Path(__file__).parent / "golden"


def test_one_strategy_without_target_only_says_what_is_missing_and_bolds_nothing(tmp_path):
    write(tmp_path / "records.jsonl", [record("protonet", pair, seed, 5, 0.6 + seed / 100)
                                       for pair in ("a→b", "c→d") for seed in range(3)])
    board = load(tmp_path)
    table = board.tables[0]
    assert not table.compared and not any(e.best or e.tied_with_best for e in table.entries.values())
    markdown = render(board, "md")
    assert "**" not in markdown.split("## Provenance")[0]  # nothing bold: nothing was compared
    assert "mean rank" not in markdown and "Mean rank" not in markdown
    assert "One strategy per column: nothing is compared, so no best, ties or ranks." in markdown
    assert "No target-only records: no gains over it, so no gain table and no gain heat map." in markdown
    assert any("no target-only records: gains over it, the gain tables and gain_heatmap.png are left out" in w
               for w in board.warnings)
    assert "Mean rank" not in render(board, "tex") and "mean rank" not in render(board, "html")
    written, _ = write_leaderboard(tmp_path, formats=["png"])
    assert [p.name for p in written] == ["accuracy_vs_budget.png"]  # the heat map is said missing, not silently


def test_two_strategies_without_target_only_are_compared_but_have_no_gains(tmp_path):
    write(tmp_path / "records.jsonl", [record(name, "a→b", seed, 5, value + seed / 100)
                                       for name, value in (("protonet", 0.6), ("maml", 0.5)) for seed in range(3)])
    markdown = render(load(tmp_path), "md")
    caption = markdown.split("\n\n")[2]
    assert "Best mean per column in bold; ≈ tied with best" in caption and ").  Mean" not in caption
    assert "α = 0.05). Mean rank over the pairs" in caption  # the sentence ends, no stray ';'
    assert "| **61.0 ± 2.5** |        1.00 |" in markdown and "|   mean rank |" in markdown
    assert "Gain over" not in markdown


def test_an_out_directory_lists_its_suite_folders_for_leaderboard_and_cite(tmp_path, capsys):
    for suite in ("quickstart", "digits"):
        (tmp_path / suite).mkdir()
        shutil.copy(GOLDEN / "records.jsonl", tmp_path / suite / "records.jsonl")
    with pytest.raises(LeaderboardError) as raised:
        load(tmp_path)
    message = str(raised.value)
    assert f"{tmp_path} holds no records.jsonl" in message
    assert f"suite folders {tmp_path / 'digits'}, {tmp_path / 'quickstart'}: give one of those" in message
    assert main(["leaderboard", str(tmp_path)]) == 2
    assert "suite folders" in capsys.readouterr().err
    assert main(["cite", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / 'quickstart'}: give one of those" in err


def test_seeds_select_runs_and_out_keeps_earlier_tables(tmp_path, capsys):
    shutil.copy(GOLDEN / "records.jsonl", tmp_path / "records.jsonl")
    assert main(["leaderboard", str(tmp_path), "--format", "md"]) == 0
    everything = (tmp_path / "leaderboard.md").read_text(encoding="utf-8")
    assert main(["leaderboard", str(tmp_path), "--format", "md,csv", "--seeds", "0,1",
                 "--out", str(tmp_path / "seeds01")]) == 0
    assert (tmp_path / "leaderboard.md").read_text(encoding="utf-8") == everything  # untouched
    board = load(tmp_path, seeds=["0", "1"])
    assert {r["seed"] for r in board.cells.used} == {0, 1}
    assert (tmp_path / "seeds01" / "leaderboard.md").read_text(encoding="utf-8") == render(board, "md")
    assert (tmp_path / "seeds01" / "leaderboard.provenance.json").exists()
    with pytest.raises(LeaderboardError, match=r"no record has seed '7'.*recorded: 0, 1, 2"):
        load(tmp_path, seeds=["7"])
