"""The command line: one-line errors, exit codes, list and leaderboard."""

import subprocess
import sys
from pathlib import Path

from benchmark.cli import main

TINY = Path(__file__).parent / "suites" / "tiny.toml"


def test_unknown_strategy_suggests_the_close_name(tmp_path, capsys):
    assert main(["run", str(TINY), "--strategies", "finetun", "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("transferbench: error: unknown strategy 'finetun' (did you mean 'finetune'?)")
    assert "\n" not in err


def test_unknown_hyperparameter_in_a_suite(tmp_path, capsys):
    suite = tmp_path / "s.toml"
    suite.write_text(TINY.read_text().replace("adapt_steps = 5\n\n[hparams.target-only]",
                                              "adapt_stepz = 5\n\n[hparams.target-only]"))
    assert main(["run", str(suite), "--out", str(tmp_path), "--no-progress"]) == 2
    assert "[hparams.finetune] has unknown hyperparameter 'adapt_stepz' (did you mean 'adapt_steps'?)" \
        in capsys.readouterr().err


def test_budget_larger_than_the_target_allows(tmp_path, capsys):
    suite = tmp_path / "s.toml"
    suite.write_text(TINY.read_text().replace('budgets = [2, "all"]', "budgets = [500]"))
    assert main(["run", str(suite), "--out", str(tmp_path), "--no-progress"]) == 2
    assert "budget 500 needs 500 examples per class but the target pool has only" in capsys.readouterr().err


def test_run_then_leaderboard_through_the_console_script(tmp_path):
    script = Path(sys.executable).parent / "transferbench"
    run = subprocess.run([str(script), "run", str(TINY), "--strategies", "target-only", "--seeds", "1",
                          "--out", str(tmp_path), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "plugins: " in run.stdout and "4 ok, 0 failed" in run.stdout
    board = subprocess.run([str(script), "leaderboard", str(tmp_path / "tiny")], capture_output=True, text=True)
    assert board.returncode == 0, board.stderr
    text = (tmp_path / "tiny" / "leaderboard.md").read_text()
    assert "| target-only" in text and "## accuracy, k = 2 labelled target examples per class" in text
    # Each target class's recall is recorded and can be the leaderboard's metric (digit 5 is in both pairs).
    board = subprocess.run([str(script), "leaderboard", str(tmp_path / "tiny"), "--metric", "recall[5]",
                            "--format", "md"], capture_output=True, text=True)
    assert board.returncode == 0, board.stderr
    assert "## recall[5], k = 2 labelled target examples per class" in (tmp_path / "tiny" / "leaderboard.md").read_text()
    wrong = subprocess.run([str(script), "leaderboard", str(tmp_path / "tiny"), "--metric", "top5"],
                           capture_output=True, text=True)
    assert wrong.returncode == 2 and "'top5' is not a metric" in wrong.stderr


def test_list_shows_distribution_and_version(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "finetune" in out and "transferbench 0.1.0" in out
    assert main(["list", "--disable", "finetune"]) == 0
    assert "finetune " not in capsys.readouterr().out


def test_dry_run_says_what_would_run_and_why_recorded_cells_run_again(tmp_path, capsys):
    args = ["run", str(TINY), "--strategies", "target-only", "--seeds", "1", "--out", str(tmp_path), "--no-progress"]
    assert main(args + ["--dry-run"]) == 0
    assert "4 cells to run, 0 already recorded" in capsys.readouterr().out
    assert not (tmp_path / "tiny" / "records.jsonl").exists()  # a dry run trains and writes nothing
    assert main(args) == 0
    assert main(args + ["--dry-run"]) == 0
    assert "0 cells to run, 4 already recorded" in capsys.readouterr().out
    changed = tmp_path / "tiny.toml"
    changed.write_text(TINY.read_text().replace("[hparams.target-only]\nadapt_steps = 5",
                                                "[hparams.target-only]\nadapt_steps = 6"))
    assert main(["run", str(changed), *args[2:], "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 cells to run, 0 already recorded" in out
    assert "target-only: 4 cells; 4 recorded before under other settings: hyperparameters adapt_steps 5 -> 6" in out
