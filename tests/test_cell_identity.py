"""Issue 16.1: a cell's identity is everything that decides its result.

Protocol settings (episodes, ways, queries), the data as the strategy saw it (fingerprints), the
model, the selection protocol and the plugin version. A rerun after any such change runs the cell
anew instead of saying "already recorded"; the leaderboard never averages records that differ in
them: separate rows, with a warning. Old episodic records, written before protocol settings were
recorded, are "unrecorded": never the same cell as a new one.
"""

import json
from pathlib import Path

import pytest

from benchmark import records
from benchmark.cli import main
from benchmark.leaderboard.summary import build

EPISODIC = """
name = "cells"
protocol = "episodic"
seeds = [0]
budgets = [1]
episodes = 3
input = { channels = 1, size = [8, 8] }
strategies = ["target-only"]

[[pairs]]
name = "digits0-4"
ways = WAYS
queries = QUERIES
source = { provider = "sklearn-digits", split = "train", classes = [5, 6, 7, 8, 9] }
target = { provider = "sklearn-digits", split = "train", classes = [0, 1, 2, 3, 4], shifts = SHIFTS }

[hparams.target-only]
adapt_steps = 2
"""


def suite(tmp_path, ways=5, queries=3, shifts="[]") -> Path:
    path = tmp_path / "cells.toml"
    path.write_text(EPISODIC.replace("WAYS", str(ways)).replace("QUERIES", str(queries)).replace("SHIFTS", shifts))
    return path


def run(capsys, out: Path, path: Path, *extra) -> str:
    assert main(["run", str(path), "--out", str(out), "--no-progress", "--threads", "1", *extra]) == 0
    return capsys.readouterr().out.splitlines()[-1]


def read(out: Path) -> list[dict]:
    return records.read(out / "cells" / "records.jsonl")


def rows(out: Path) -> dict:
    board = build(read(out))
    return {label: [e.score.n for (v, _), e in board.tables[0].entries.items() if v == label]
            for label in board.tables[0].rows}, board.warnings


def test_more_episodes_is_another_cell_and_another_row(tmp_path, capsys):
    out, path = tmp_path / "out", suite(tmp_path)
    assert run(capsys, out, path).startswith("1 ok, 0 failed, 0 skipped, 0 already recorded")
    assert run(capsys, out, path).startswith("0 ok, 0 failed, 0 skipped, 1 already recorded")
    assert run(capsys, out, path, "--episodes", "5").startswith("1 ok, 0 failed, 0 skipped, 0 already recorded")
    assert [r["protocol_settings"] for r in read(out)] == [{"episodes": 3, "ways": 5, "queries": 3},
                                                          {"episodes": 5, "ways": 5, "queries": 3}]
    shown, warnings = rows(out)
    assert shown == {"target-only (episodes=3)": [3], "target-only (episodes=5)": [5]}
    assert any("target-only" in w and "protocol settings or data" in w and "never averaged" in w for w in warnings)


def test_seeds_with_different_episode_counts_are_never_one_cell(tmp_path, capsys):
    out, path = tmp_path / "out", suite(tmp_path)
    run(capsys, out, path, "--seeds", "1", "--episodes", "3")
    assert run(capsys, out, path, "--seeds", "2", "--episodes", "5").startswith("2 ok")  # seed 0 anew, seed 1
    shown, _ = rows(out)
    # one seed of 3 episodes (its CI over episodes) apart from two seeds of 5 (t over seeds)
    assert shown == {"target-only (episodes=3)": [3], "target-only (episodes=5)": [2]}


@pytest.mark.parametrize("change", [{"ways": 4}, {"queries": 2}, {"shifts": "[{ rotate = 45 }]"}])
def test_other_ways_queries_or_data_run_anew_and_show_apart(tmp_path, capsys, change):
    out = tmp_path / "out"
    run(capsys, out, suite(tmp_path))
    assert run(capsys, out, suite(tmp_path, **change)).startswith("1 ok, 0 failed, 0 skipped, 0 already recorded")
    first, second = read(out)
    assert records.cell_key(first) != records.cell_key(second)
    shown, warnings = rows(out)
    assert len(shown) == 2 and all(n for n in shown.values())
    expected = "data version 2" if "shifts" in change else f"{next(iter(change))}={next(iter(change.values()))}"
    assert any(expected in label for label in shown), shown


def test_a_new_plugin_version_runs_the_cell_anew(tmp_path, capsys):
    out, path = tmp_path / "out", suite(tmp_path)
    run(capsys, out, path)
    file = out / "cells" / "records.jsonl"
    record = json.loads(file.read_text())
    record["plugin"]["version"] = "0.0.1"  # what an older release of the plugin recorded
    file.write_text(json.dumps(record) + "\n")
    assert run(capsys, out, path).startswith("1 ok, 0 failed, 0 skipped, 0 already recorded")


def test_an_episodic_record_from_before_protocol_settings_is_unrecorded_never_the_same_cell(tmp_path, capsys):
    out, path = tmp_path / "out", suite(tmp_path)
    run(capsys, out, path)
    file = out / "cells" / "records.jsonl"
    record = json.loads(file.read_text())
    del record["protocol_settings"]  # as every episodic record written before issue 16
    file.write_text(json.dumps(record) + "\n")
    assert records.protocol_settings_key(record) == "episodic \"unrecorded\""
    assert run(capsys, out, path).startswith("1 ok, 0 failed, 0 skipped, 0 already recorded")
    shown, _ = rows(out)
    assert set(shown) == {"target-only (episodes unrecorded, ways unrecorded, queries unrecorded)",
                          "target-only (episodes=3, ways=5, queries=3)"}


def test_a_transfer_record_from_before_is_the_same_cell_as_a_new_one():
    # The transfer protocol has no settings of its own: committed transfer results stay resumable.
    old = {"pair": "p", "strategy": "s", "hparams": {}, "seed": 0, "budget": "1", "protocol": "transfer",
           "fingerprints": {"source": "a", "target": "b", "target_test": "c"}, "plugin": {"dist": "d", "version": "1"}}
    assert records.cell_key(old) == records.cell_key({**old, "protocol_settings": {}})
    assert records.cell_key(old) != records.cell_key({**old, "fingerprints": {**old["fingerprints"], "target": "x"}})
