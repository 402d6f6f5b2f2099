import json
import warnings

import pytest

from benchmark import records


def record(i):
    return {"schema": 1, "pair": "p", "strategy": "s", "hparams": {}, "seed": i, "budget": "1", "status": "ok"}


def test_append_then_read_round_trips(tmp_path):
    path = tmp_path / "records.jsonl"
    for i in range(3):
        records.append(path, record(i))
    assert [r["seed"] for r in records.read(path)] == [0, 1, 2]
    assert path.read_text().endswith("\n")


def test_a_partial_last_line_is_repaired_before_the_next_append(tmp_path):
    path = tmp_path / "records.jsonl"
    records.append(path, record(0))
    with open(path, "a") as handle:
        handle.write('{"schema": 1, "pair": "p", "str')  # a crash mid-write
    with pytest.warns(UserWarning, match=r"records.jsonl:2: skipped a partial last line"):
        assert len(records.read(path)) == 1
    with pytest.warns(UserWarning, match=r"records.jsonl:2: removed a partial last line"):
        records.append(path, record(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [r["seed"] for r in records.read(path)] == [0, 1]


def test_a_garbage_line_is_skipped_with_its_line_number_and_kept(tmp_path):
    path = tmp_path / "records.jsonl"
    records.append(path, record(0))
    with open(path, "a") as handle:
        handle.write("not json at all\n")
    records.append(path, record(1))
    with pytest.warns(UserWarning, match=r"records.jsonl:2: skipped a line that is not a record"):
        assert [r["seed"] for r in records.read(path)] == [0, 1]
    assert "not json at all" in path.read_text()  # nothing the user had is deleted


def test_environment_names_versions():
    env = records.environment()
    assert {"python", "torch", "transferbench"} <= set(env["versions"])
    json.dumps(env)


def test_lines_with_nan_literals_are_read_not_lost(tmp_path):
    path = tmp_path / "records.jsonl"
    records.append(path, {**record(0), "wall_s": float("nan")})  # json.dumps writes the literal NaN
    assert "NaN" in path.read_text()
    (read,) = records.read(path)
    assert read["seed"] == 0 and read["wall_s"] != read["wall_s"]


def test_a_line_of_bad_utf8_is_skipped_and_the_rest_kept(tmp_path):
    path = tmp_path / "records.jsonl"
    records.append(path, record(0))
    with open(path, "ab") as handle:
        handle.write(b'{"schema": 1, "pair": "\xff\xfe"}\n')
    records.append(path, record(1))
    with pytest.warns(UserWarning, match=r"records.jsonl:2: skipped a line that is not a record"):
        assert [r["seed"] for r in records.read(path)] == [0, 1]
