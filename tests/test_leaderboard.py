"""Leaderboards from records alone: golden files, byte-identical regeneration, honesty and errors."""

import io
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import records
from benchmark.cli import main
from benchmark.leaderboard import FORMATS, LeaderboardError, load, render, write_leaderboard
from benchmark.leaderboard import wording
from benchmark.leaderboard.summary import build
from benchmark.leaderboard.synthetic import record, write
from benchmark.scoring import stats

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def golden_dir(tmp_path) -> Path:
    shutil.copy(GOLDEN / "records.jsonl", tmp_path / "records.jsonl")
    return tmp_path


@pytest.mark.parametrize("fmt", ["md", "tex", "csv"])
def test_golden(golden_dir, fmt):
    write_leaderboard(golden_dir, formats=[fmt])
    rendered = (golden_dir / f"leaderboard.{fmt}").read_text(encoding="utf-8")
    expected = GOLDEN / f"leaderboard.{fmt}"
    if os.environ.get("TRANSFERBENCH_UPDATE_GOLDEN"):
        expected.write_text(rendered, encoding="utf-8")
    assert rendered == expected.read_text(encoding="utf-8"), \
        f"{expected.name} changed; review, then rewrite it as tests/golden/README.md says"


def test_regenerating_gives_byte_identical_files_and_never_trains(golden_dir, tmp_path_factory):
    first = {p.name: p.read_bytes() for p in write_leaderboard(golden_dir)[0]}
    again = tmp_path_factory.mktemp("again")
    shutil.copy(golden_dir / "records.jsonl", again / "records.jsonl")
    second = {p.name: p.read_bytes() for p in write_leaderboard(again)[0]}
    assert set(first) == {"leaderboard.md", "leaderboard.tex", "leaderboard.csv", "leaderboard.html",
                          "gain_heatmap.png", "accuracy_vs_budget.png", "leaderboard.provenance.json"}
    assert first == second
    assert first["gain_heatmap.png"].startswith(b"\x89PNG") and b"Software" not in first["gain_heatmap.png"]
    assert not (golden_dir / ".cache").exists()  # nothing was trained or cached


def test_every_table_carries_the_provenance_footer(golden_dir):
    write_leaderboard(golden_dir, formats=["md", "tex", "html", "csv"])
    footer = json.loads((golden_dir / "leaderboard.provenance.json").read_text())["footer"]
    assert footer["status"] == "50 ok, 4 failed, 6 skipped"
    assert footer["git commit"] == "0123456789ab" and footer["schema"] == "1" and footer["torch"] == "2.14.1"
    assert footer["records dated"] == "2026-01-01T00:02:00+00:00 to 2026-01-01T01:01:00+00:00"
    assert "digits→rotated: source 5a17e2c0, target 7a26e7c0, target_test 7e57c0de" in footer["datasets"]
    assert "1 older record of the same runs superseded" in footer["records"]
    for fmt in ("md", "tex", "html"):
        text = (golden_dir / f"leaderboard.{fmt}").read_text()
        assert "50 ok, 4 failed, 6 skipped" in text and "0123456789ab" in text and "5a17e2c0" in text, fmt


def test_failed_and_skipped_cells_are_never_zeros(golden_dir):
    write_leaderboard(golden_dir, formats=["md", "csv"])
    frame = pd.read_csv(golden_dir / "leaderboard.csv")
    failed = frame[(frame.strategy == "maml") & (frame.pair == "digits→rotated") & (frame.budget == "all")].iloc[0]
    assert failed.status == "failed" and failed.failed == 3 and np.isnan(failed["mean"]) and failed.n == 0
    skipped = frame[(frame.strategy == "source-only") & (frame.pair == "digits0-4→5-9")]
    assert set(skipped.status) == {"skipped"} and skipped["mean"].isna().all()
    partial = frame[(frame.strategy == "maml") & (frame.pair == "digits0-4→5-9") & (frame.budget == "1")].iloc[0]
    assert partial.status == "partial" and partial.n == 2 and partial.failed == 1
    markdown = (golden_dir / "leaderboard.md").read_text()
    assert "| maml " in markdown and "failed |" in markdown and "(1 failed)" in markdown and "skipped |" in markdown


def test_hyperparameter_settings_and_plugin_versions_are_separate_rows():
    made = [record("finetune", "p", seed, 1, 0.5, hparams={"steps": 5}) for seed in range(2)]
    made += [record("finetune", "p", seed, 1, 0.9, hparams={"steps": 100}) for seed in range(2)]
    made += [record("finetune", "p", seed, 1, 0.7, hparams={"steps": 100}, version="0.2.0") for seed in range(2)]
    board = build(made)
    (table,) = board.tables
    assert set(table.rows) == {"finetune (transferbench 0.1.0, steps=5)", "finetune (transferbench 0.1.0, steps=100)",
                               "finetune (transferbench 0.2.0, steps=100)"}
    assert sorted(e.score.mean for e in table.entries.values()) == pytest.approx([0.5, 0.7, 0.9])
    assert any("never averaged" in w and "'finetune'" in w for w in board.warnings)


def test_hyperparameters_equal_in_python_but_not_in_json_are_separate_rows():
    # 1 == 1.0 == True (and their hashes) in Python, but records.cell_key keeps them three cells
    made = [record("finetune", "p", 0, 1, value, hparams={"freeze": freeze})
            for value, freeze in ((0.5, 1), (0.6, 1.0), (0.7, True))]
    assert len({records.cell_key(r) for r in made}) == 3
    (table,) = build(made).tables
    assert {v: table.entries[(v, "p")].score.mean for v in table.rows} == pytest.approx(
        {"finetune (freeze=1)": 0.5, "finetune (freeze=1.0)": 0.6, "finetune (freeze=true)": 0.7})


def test_a_missing_hyperparameter_and_a_null_one_are_separate_rows():
    made = [record("finetune", "p", seed, 1, 0.5, hparams={"steps": 5, "freeze": None}) for seed in range(2)]
    made += [record("finetune", "p", seed, 1, 0.9, hparams={"steps": 5}) for seed in range(2)]
    (table,) = build(made).tables
    assert {v: table.entries[(v, "p")].score.mean for v in table.rows} == pytest.approx(
        {"finetune (freeze=null)": 0.5, "finetune (freeze absent)": 0.9})


def test_negative_transfer_needs_the_whole_gain_interval_below_zero():
    made = [record("target-only", "p", s, 1, v) for s, v in enumerate([0.60, 0.65, 0.70])]
    made += [record("worse", "p", s, 1, v) for s, v in enumerate([0.55, 0.61, 0.64])]      # always below
    made += [record("noisy", "p", s, 1, v) for s, v in enumerate([0.50, 0.70, 0.66])]      # below on average
    (table,) = build(made).tables
    worse, noisy = table.entries[("worse", "p")], table.entries[("noisy", "p")]
    assert worse.gain.high < 0 and worse.negative_transfer
    assert noisy.gain.mean < 0 < noisy.gain.high and not noisy.negative_transfer
    assert table.entries[("target-only", "p")].gain is None


def test_tied_with_best_is_holm_corrected_across_the_table():
    rng = np.random.default_rng(3)
    best = rng.normal(0.8, 0.02, 10)
    made = [record("best", f"p{j}", s, 1, best[s]) for j in range(4) for s in range(10)]
    # slightly worse on every seed: a significant difference alone, but 4 columns share one Holm family
    made += [record("close", f"p{j}", s, 1, best[s] - 0.01 + rng.normal(0, 0.012)) for j in range(4) for s in range(10)]
    made += [record("far", f"p{j}", s, 1, best[s] - 0.2) for j in range(4) for s in range(10)]
    (table,) = build(made).tables
    far = [table.entries[("far", f"p{j}")] for j in range(4)]
    assert not any(e.tied_with_best for e in far) and all(e.test == stats.PAIRED_T for e in far)
    close = [table.entries[("close", f"p{j}")] for j in range(4)]
    raw = [stats.paired_test([e_close - e_best for e_close, e_best in zip(
        [r["metrics"]["accuracy"]["mean"] for r in made if r["strategy"] == "close" and r["pair"] == f"p{j}"],
        best)])[0] for j in range(4)]
    expected = stats.holm(raw + [0.0] * 4)  # the 4 "far" comparisons are in the family too (p ≈ 0)
    assert [e.p_holm for e in close] == pytest.approx(list(expected[:4]), abs=1e-12)
    assert [e.tied_with_best for e in close] == [p >= 0.05 for p in expected[:4]]


def test_a_single_episodic_seed_uses_the_normal_ci_over_episodes_and_pairs_gains_by_episode():
    rng = np.random.default_rng(5)
    hard = rng.uniform(0.3, 0.9, 600)  # per-episode difficulty both strategies share
    made = [record("maml", "omniglot", 0, 1, episodes=np.clip(hard + 0.05 + rng.normal(0, 0.05, 600), 0, 1)),
            record("target-only", "omniglot", 0, 1, episodes=np.clip(hard + rng.normal(0, 0.05, 600), 0, 1))]
    board = build(made)
    (table,) = board.tables
    maml = table.entries[("maml", "omniglot")]
    assert maml.score.method == stats.NORMAL_OVER_EPISODES and maml.score.n == 600
    assert maml.score.low == pytest.approx(made[0]["metrics"]["accuracy"]["ci95"][0])
    assert maml.gain.method == stats.NORMAL_OVER_EPISODES and maml.gain.n == 600
    # pairing removes the shared difficulty: expected width ratio 0.07 / 0.18 ≈ 0.39 (unpaired: about 1.4)
    assert maml.gain.high - maml.gain.low < 0.5 * (maml.score.high - maml.score.low)
    assert table.entries[("target-only", "omniglot")].test == stats.WILCOXON
    markdown = render(board, "md")
    assert "normal approximation over episodes (n = 600)" in markdown and "Wilcoxon signed-rank test" in markdown
    assert "1-shot episodes" in markdown


def test_a_single_seed_keeps_the_ci_method_its_record_stores(tmp_path):
    made = record("maml", "omniglot", 0, 1, episodes=np.linspace(0.4, 0.8, 50))
    bootstrap = "95% CI, percentile bootstrap over episodes"
    made["metrics"]["accuracy"]["ci"] = bootstrap
    board = build([made])
    assert board.tables[0].entries[("maml", "omniglot")].score.method == bootstrap
    markdown = render(board, "md")
    assert f"{bootstrap} (n = 50)" in markdown and stats.NORMAL_OVER_EPISODES not in markdown
    del made["metrics"]["accuracy"]["ci"]  # a CI whose method is unknown is never shown under a guessed one
    write(tmp_path / "records.jsonl", [made])
    with pytest.raises(LeaderboardError, match=r"\(record 1\): the 'accuracy' of maml / omniglot / seed 0 has a "
                                               r"ci95 but no 'ci' naming its method"):
        load(tmp_path)


def test_the_csv_keeps_p_values_far_below_one_in_a_million():
    rng = np.random.default_rng(7)
    made = [record("maml", "omniglot", 0, 1, episodes=rng.uniform(0.7, 0.9, 100)),
            record("target-only", "omniglot", 0, 1, episodes=rng.uniform(0.3, 0.5, 100))]
    board = build(made)
    p_holm = board.tables[0].entries[("target-only", "omniglot")].p_holm
    assert 0 < p_holm < 5e-7
    frame = pd.read_csv(io.StringIO(render(board, "csv"))).set_index("variant")
    assert frame.loc["target-only", "p_holm"] == pytest.approx(p_holm, rel=1e-5, abs=0)
    assert frame.loc["maml", "mean"] == pytest.approx(made[0]["metrics"]["accuracy"]["mean"], abs=5e-7)  # still %.6f


def test_strategy_and_budget_filters(golden_dir):
    board = load(golden_dir, strategies=["maml"], budgets=["1"])
    (table,) = board.tables
    assert table.budget == "1" and table.rows == ["maml"]
    assert table.entries[("maml", "digits→rotated")].gain is not None  # target-only still pairs, unseen
    with pytest.raises(LeaderboardError, match=r"no record has strategy 'mamml' \(did you mean 'maml'\?\)"):
        load(golden_dir, strategies=["mamml"])
    with pytest.raises(LeaderboardError, match=r"no record has budget '20'"):
        load(golden_dir, budgets=["20"])


def test_bad_records_give_one_line_errors(tmp_path):
    write(tmp_path / "records.jsonl", [{**record("a", "p", 0, 1, 0.5), "schema": records.SCHEMA + 1}])
    with pytest.raises(LeaderboardError, match=r"records.jsonl \(record 1\): schema 2 was written by a newer"):
        load(tmp_path)
    write(tmp_path / "records.jsonl", [record("a", "p", 0, 1, 0.5)])
    with pytest.raises(LeaderboardError, match=r"'top5' is not a metric; choose from .*; the records have accuracy"):
        load(tmp_path, metric="top5")
    (tmp_path / "records.jsonl").write_text("")
    with pytest.raises(LeaderboardError, match=r"records.jsonl: no records to render"):
        load(tmp_path)


def test_latex_is_booktabs_with_balanced_braces(golden_dir):
    tex = render(load(golden_dir), "tex")
    assert tex.count("\\toprule") == tex.count("\\bottomrule") == tex.count("\\begin{table}") == 4
    body = re.sub(r"\\[{}%$&#_]", "", "\n".join(l for l in tex.splitlines() if not l.startswith("%")))
    assert body.count("{") == body.count("}") and body.count("$") % 2 == 0
    assert "$\\mathbf{87.3 \\pm 3.8}$" in tex and "$26.3 \\pm 3.8^{\\downarrow}$" in tex
    assert "digits$\\rightarrow$rotated" in tex and "\\textit{failed}" in tex
    assert "% git commit: 0123456789ab" in tex


def test_cli_writes_the_chosen_formats_and_reports_errors_in_one_line(golden_dir, capsys):
    assert main(["leaderboard", str(golden_dir), "--format", "md,csv", "--budget", "all"]) == 0
    out, err = capsys.readouterr()
    assert sorted(Path(line).name for line in out.split()) == ["leaderboard.csv", "leaderboard.md",
                                                               "leaderboard.provenance.json"]
    assert "warning: strategy 'finetune' has records from 2" in err
    assert "k = 1" not in (golden_dir / "leaderboard.md").read_text()
    assert main(["leaderboard", str(golden_dir), "--format", "md,pdf"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"transferbench: error: unknown leaderboard format 'pdf'; choose from {', '.join(FORMATS)}"


def test_every_table_shows_each_pairs_majority_class_rate_from_the_records(tmp_path):
    rows = [{**record(s, "a→b", seed, value=v), "test_classes": {"functional": 377, "defective": 206}}
            for seed in range(3) for s, v in (("finetune", 0.8), ("target-only", 0.6))]
    board = build(rows)
    assert all("a→b 64.7%" in wording.caption(board, table) for table in board.tables)
    write(tmp_path / "records.jsonl", rows)
    write_leaderboard(tmp_path, formats=["md", "csv"])
    assert "Majority-class rate of the test split" in (tmp_path / "leaderboard.md").read_text()
    assert set(pd.read_csv(tmp_path / "leaderboard.csv")["majority_rate"].round(4)) == {0.6467}
    old = build([record("finetune", "a→b", 0, value=0.8)])  # records before test_classes: no rate, no claim
    assert "Majority-class" not in wording.caption(old, old.tables[0])
