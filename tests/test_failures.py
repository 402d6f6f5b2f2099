"""Failure isolation: whatever a strategy does wrong becomes a failed record, and the suite goes on."""

import re
import signal
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmark import Strategy, records
from benchmark.cli import main
from benchmark.run.runner import Runner
from benchmark.run.timeout import CellTimeout, time_limit
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"


class WrongShape(Strategy):
    name = "wrong-shape"
    description = "Scores one class too many."

    def adapt(self, support, ctx):
        return lambda inputs: torch.zeros(len(inputs), support.num_classes + 1)


class NaNScores(Strategy):
    name = "nan-scores"
    description = "Scores NaN."

    def adapt(self, support, ctx):
        return lambda inputs: torch.full((len(inputs), support.num_classes), float("nan"))


class Exiting(Strategy):
    name = "exiting"
    description = "Calls sys.exit in pretrain, as a script would."

    def pretrain(self, source, ctx):
        sys.exit("no GPU found, giving up")


class SlowAdapt(Strategy):
    name = "slow-adapt"
    description = "Never finishes adapting, and swallows every Exception on the way."

    def adapt(self, support, ctx):
        while True:
            try:
                time.sleep(0.05)
            except Exception:  # the timeout must get through this anyway
                pass


class SlowPretrain(Strategy):
    name = "slow-pretrain"
    description = "Pretrains for half a minute."

    def pretrain(self, source, ctx):
        time.sleep(30)

    def adapt(self, support, ctx):
        return lambda inputs: torch.zeros(len(inputs), support.num_classes)


def test_bad_scores_and_timeouts_become_failed_records_and_the_suite_goes_on(registry, with_strategies, tmp_path):
    names = ["wrong-shape", "nan-scores", "exiting", "slow-adapt", "slow-pretrain", "target-only"]
    suite = load_suite(TINY).with_overrides(seeds=1, strategies=names)
    registry = with_strategies(registry, WrongShape, NaNScores, Exiting, SlowAdapt, SlowPretrain)
    summary = Runner(suite, registry, tmp_path, tmp_path, show_progress=False, cell_timeout=1, threads=1).run()
    written = records.read(tmp_path / "tiny" / "records.jsonl")
    by_strategy = {name: [r for r in written if r["strategy"] == name] for name in names}
    assert all(len(cells) == 4 for cells in by_strategy.values())  # 2 pairs × 2 budgets each

    for record in by_strategy["wrong-shape"]:
        assert record["status"] == "failed" and record["error"]["type"] == "ValueError"
        shapes = re.fullmatch(r"predictor returned scores of shape \((\d+), (\d+)\), expected \((\d+), (\d+)\)",
                              record["error"]["message"])
        rows, columns, expected_rows, expected_columns = map(int, shapes.groups())
        assert (rows, columns) == (expected_rows, expected_columns + 1)
    for record in by_strategy["nan-scores"]:
        assert (record["status"], record["error"]["message"]) == ("failed", "predictor returned NaN or infinite scores")
    for record in by_strategy["exiting"]:
        assert (record["status"], record["error"]["type"], record["error"]["message"]) == \
            ("failed", "SystemExit", "no GPU found, giving up")
    for record in by_strategy["slow-adapt"]:
        assert record["status"] == "failed" and record["error"]["type"] == "CellTimeout"
        cell = f"slow-adapt / {record['pair']} / seed 0 / budget {record['budget']}"
        assert record["error"]["message"] == f"cell {cell} exceeded the cell timeout of 1 s"
        assert "time.sleep(0.05)" in record["error"]["traceback"]  # the tail shows where it was stopped
        assert record["wall_s"] < 10
    for record in by_strategy["slow-pretrain"]:
        assert record["status"] == "failed" and record["error"]["type"] == "CellTimeout"
        assert record["error"]["message"] == \
            f"pretrain of slow-pretrain / {record['pair']} / seed 0 exceeded the cell timeout of 1 s"
        assert record["wall_s"] < 10  # stopped, not slept through
    assert all(r["status"] == "ok" for r in by_strategy["target-only"])

    assert summary.exit_code == 1 and summary.ok == 4 and len(summary.failed) == 20
    assert "slow-pretrain / digits→rotated / seed 0 / budget 2: CellTimeout: pretrain of slow-pretrain" \
        in "\n".join(summary.failed)


class BrokenConstructor(Strategy):
    name = "broken-constructor"
    description = "Raises while being built: plugin code the runner calls while planning."

    def __init__(self):
        raise ValueError("bad default")


class BrokenSupports(Strategy):
    name = "broken-supports"
    description = "Raises in supports()."

    @classmethod
    def supports(cls, task):
        raise KeyError("n_way")


class FiveShotsOrMore(Strategy):
    name = "five-shots-or-more"
    description = "Supports a budget of 5 or all, not fewer: supports() reads the budget."

    @classmethod
    def supports(cls, task):
        return None if task.k_shot is None or task.k_shot >= 5 else f"needs 5 shots, got {task.k_shot}"

    def adapt(self, support, ctx):
        return lambda inputs: torch.zeros(len(inputs), support.num_classes)


def test_plugin_code_the_runner_calls_before_training_fails_only_its_own_cells(registry, with_strategies, tmp_path):
    names = ["broken-constructor", "broken-supports", "five-shots-or-more", "target-only"]
    suite = load_suite(TINY).with_overrides(seeds=1, strategies=names)
    registry = with_strategies(registry, BrokenConstructor, BrokenSupports, FiveShotsOrMore)
    summary = Runner(suite, registry, tmp_path, tmp_path, show_progress=False, threads=1).run()
    written = records.read(tmp_path / "tiny" / "records.jsonl")
    cells = {(r["strategy"], r["pair"], r["budget"]): r for r in written}
    assert len(cells) == len(written) == 16  # 4 strategies × 2 pairs × budgets 2 and all
    for pair in ("digits→rotated", "digits0-4→5-9"):
        for budget in ("2", "all"):
            made = cells["broken-constructor", pair, budget]
            assert (made["status"], made["error"]["type"], made["error"]["message"]) == \
                ("failed", "ValueError", "bad default")
            asked = cells["broken-supports", pair, budget]
            assert (asked["status"], asked["error"]["type"]) == ("failed", "KeyError")
            assert cells["target-only", pair, budget]["status"] == "ok"
        # supports() is asked per budget: the job is cut to the budgets it can run
        assert cells["five-shots-or-more", pair, "2"]["status"] == "skipped"
        assert cells["five-shots-or-more", pair, "2"]["reason"] == "needs 5 shots, got 2"
        assert cells["five-shots-or-more", pair, "all"]["status"] == "ok"
    assert (summary.ok, len(summary.failed), summary.skipped) == (6, 8, 2)


def test_the_command_line_exits_non_zero_and_names_every_failed_cell(install, tmp_path, capsys):
    install("tb-crash", "crash", "tb_crash_mod", """
        from benchmark import hookimpl
        from benchmark import Strategy

        class Crashing(Strategy):
            name = "crashing"
            description = "Raises in adapt."

            def adapt(self, support, ctx):
                raise RuntimeError("boom in adapt")

        @hookimpl
        def transferbench_strategies():
            return [Crashing]
    """)
    code = main(["run", str(TINY), "--strategies", "crashing,target-only", "--seeds", "1", "--out", str(tmp_path),
                 "--no-progress", "--threads", "1"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "4 ok, 4 failed, 0 skipped, 0 already recorded" in out
    failed = [line for line in err.splitlines() if line.startswith("  failed: ")]
    assert failed == [f"  failed: crashing / {pair} / seed 0 / budget {budget}: RuntimeError: boom in adapt"
                      for pair in ("digits→rotated", "digits0-4→5-9") for budget in ("2", "all")]


def test_the_time_limit_restores_the_previous_alarm_handler_and_disarms_the_timer():
    def previous(signum, frame):
        raise AssertionError("the old handler must not fire")

    signal.signal(signal.SIGALRM, previous)
    try:
        with time_limit(5, "quick"):
            pass
        assert signal.getsignal(signal.SIGALRM) is previous
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        with pytest.raises(CellTimeout, match="^slow exceeded the cell timeout of 0.2 s$"):
            with time_limit(0.2, "slow"):
                time.sleep(5)
        assert signal.getsignal(signal.SIGALRM) is previous
    finally:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
