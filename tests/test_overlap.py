"""Issue 16.5: training data must never be scored on.

Any overlap between what a strategy learns from (source, labelled pool) and what it is scored on
(the target test split; episode queries, drawn from the pool) is refused before training, naming
the pair and how many examples overlap; compared by content, not by split names. A suite that wants
it on purpose says ``allow_overlap = true``; its records and every table then say so.
"""

import io
from pathlib import Path

import pandas as pd
import pytest

from benchmark import records
from benchmark.cli import main
from benchmark.data.providers import stratified_slice
from benchmark.leaderboard import latex, markdown, render, webpage
from benchmark.leaderboard.summary import build
from plugins.datasets.sklearn_digits import SklearnDigits

HEADER = """
name = "ov"
protocol = "PROTOCOL"
seeds = [0]
budgets = [1]
episodes = 2
input = { channels = 1, size = [8, 8] }
strategies = ["target-only"]
EXTRA

[[pairs]]
name = "p"
ways = 3
queries = 2
source = { provider = "sklearn-digits", split = "SOURCE" }
target = { provider = "sklearn-digits", split = "TARGET", test_split = "TEST" }

[hparams.target-only]
adapt_steps = 1
"""


def suite(tmp_path, source="train[:50%]", target="train[50%:]", test="test", protocol="transfer", extra="") -> Path:
    path = tmp_path / "ov.toml"
    path.write_text(HEADER.replace("PROTOCOL", protocol).replace("SOURCE", source).replace("TARGET", target)
                    .replace("TEST", test).replace("EXTRA", extra))
    return path


def size(split: str) -> int:
    """Examples in a slice of sklearn-digits, from the provider and the slicer alone."""
    return len(stratified_slice(SklearnDigits().load(split.split("[")[0], None), split))


def run(path: Path, out: Path) -> int:
    return main(["run", str(path), "--out", str(out), "--no-progress", "--threads", "1"])


@pytest.mark.parametrize("splits, where, count", [
    # the issue's case: half the test split is the labelled pool (the default test split is "test")
    # the issue's case: half the test split is the labelled pool (the default test split is "test")
    ({"target": "test[:50%]"}, "target pool ∩ target test", ("test[:50%]",)),
    ({"source": "test"}, "source ∩ target test", ("test",)),
    # other names, same content: the first and the last 60% of train share train[40%:60%]
    ({"source": "test", "target": "train[:60%]", "test": "train[40%:]"}, "target pool ∩ target test",
     ("train[:60%]", "train[:40%]")),
    ({"protocol": "episodic", "source": "train", "target": "train[50%:]"}, "source ∩ target pool (episode queries)",
     ("train[50%:]",)),
])
def test_scoring_on_training_data_is_refused_before_training_naming_pair_and_count(tmp_path, capsys, splits,
                                                                                   where, count):
    # the expected count from the split arithmetic: examples in the first slice, less those in the second
    sizes = [size(split) for split in count]
    count = sizes[0] - (sizes[1] if len(sizes) > 1 else 0)
    out = tmp_path / "out"
    path = suite(tmp_path, **splits)
    assert run(path, out) == 2
    err = capsys.readouterr().err
    expected = (f"transferbench: error: {path}: pair 'p': scored examples that are also training data, "
                f"compared by content ({where}: {count} examples")
    assert err[:len(expected)] == expected
    assert "allow_overlap = true" in err and err.count("\n") == 1
    assert not (out / "ov" / "records.jsonl").exists()  # nothing trained, nothing recorded


def test_disjoint_splits_run(tmp_path, capsys):
    assert run(suite(tmp_path), tmp_path / "out") == 0
    (record,) = records.read(tmp_path / "out" / "ov" / "records.jsonl")
    assert record["overlap"] is None


def test_an_allowed_overlap_is_in_the_records_and_every_table(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(suite(tmp_path, target="test[:50%]", extra="allow_overlap = true"), out) == 0
    (record,) = records.read(out / "ov" / "records.jsonl")
    n = size("test[:50%]")
    assert record["overlap"] == {"target pool ∩ target test": n}
    board = build([record])
    said = f"Scored on training data, as the suite allows (allow_overlap): p: target pool ∩ target test: {n} examples."
    assert said in markdown.render(board) and said in webpage.render(board)
    assert "allow\\_overlap" in latex.render(board)
    csv = pd.read_csv(io.StringIO(render(board, "csv")))
    assert list(csv["overlap"]) == [f"target pool ∩ target test: {n} examples"]


def test_the_overlap_key_must_be_a_boolean(tmp_path):
    path = suite(tmp_path, extra='allow_overlap = "yes"')
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2


def test_the_issue_case_on_real_mnist(tmp_path, capsys, shared_data):
    path = tmp_path / "mnist.toml"
    path.write_text(HEADER.replace("PROTOCOL", "transfer").replace("EXTRA", "")
                    .replace('{ provider = "sklearn-digits", split = "SOURCE" }', '{ provider = "mnist", split = "test[50%:]" }')
                    .replace('{ provider = "sklearn-digits", split = "TARGET", test_split = "TEST" }',
                             '{ provider = "mnist", split = "test[:50%]" }'))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--data-root", str(shared_data), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "pair 'p': scored examples that are also training data" in err
    assert "source ∩ target test: " in err and "target pool ∩ target test: " in err
