"""Suites with estimators: one estimate record per estimator × pair × seed × budget, resumed, from the support alone."""

from dataclasses import replace

import numpy as np
import pytest

from benchmark import records
from benchmark.discovery.registry import Provided
from benchmark.errors import SuiteError
from benchmark.estimators.base import Estimator
from benchmark.run.runner import Runner
from benchmark.scoring.tasks import transfer_tasks
from benchmark.suite.load import load_suite

TARGET = 'target = { provider = "sklearn-digits", split = "train", test_split = "test", classes = [5, 6, 7, 8, 9] }'
SOURCE = 'source = { provider = "sklearn-digits", split = "train", classes = [0, 1, 2, 3, 4] }'
SUITE = f"""
name = "estimates"
seeds = [0, 1]
budgets = [2, 5]
strategies = ["target-only"]
estimators = ESTIMATORS
[estimator_options."hscore:shrunk"]
shrinkage = true
[model]
provider = "builtin"
name = "lenet"
channels = 1
size = [16, 16]
[[pairs]]
name = "with-source"
{TARGET}
{SOURCE}
[[pairs]]
name = "model-only"
{TARGET}
[hparams.target-only]
adapt_steps = 1
"""


def write(tmp_path, estimators='["logme", "leep", "knn", "hscore", "hscore:shrunk"]', extra=""):
    path = tmp_path / "estimates.toml"
    path.write_text(SUITE.replace("ESTIMATORS", estimators) + extra)
    return load_suite(path)


def run(suite, registry, out):
    return Runner(suite, registry, out, out / "data", show_progress=False).run()


def test_estimate_records_are_written_once_and_resumed(registry, tmp_path):
    suite = write(tmp_path)
    summary = run(suite, registry, tmp_path / "out")
    lines = records.read(tmp_path / "out" / "estimates" / "records.jsonl")
    estimates = [r for r in lines if r["status"] == "estimate"]
    assert len(estimates) == 5 * 2 * 2 * 2  # estimators x pairs x seeds x budgets
    scored = [r for r in estimates if r["metrics"]]
    # leep needs the source classifier: the pair without a source says so and has no score
    assert {(r["strategy"], r["pair"]) for r in estimates if r["reason"]} == {("leep", "model-only")}
    assert summary.estimates == len(scored) == 36 and not summary.failed
    for record in scored:
        assert np.isfinite(record["metrics"]["score"]["mean"]) and record["wall_s"] >= 0
        cache = record["adapt_notes"]["feature_cache"]
        assert cache["trunk"] == record["model"]["key"] and cache["cache"] in ("hit", "computed")
    # the same support (pair, seed, budget) is read from the cache by every estimator after the first
    assert sum(r["adapt_notes"]["feature_cache"]["cache"] == "hit" for r in scored) >= len(scored) - 8
    assert {r["hparams"].get("shrinkage") for r in estimates if r["strategy"] == "hscore"} == {False, True}
    again = run(suite, registry, tmp_path / "out")
    assert again.estimates == 0 and again.already >= len(estimates)
    assert len(records.read(tmp_path / "out" / "estimates" / "records.jsonl")) == len(lines)


def test_an_estimator_sees_the_strategies_support_and_never_the_test_split(registry, tmp_path):
    seen = []

    class Spy(Estimator):
        name, description, citation = "spy", "remembers what it was given", "@misc{spy, title={spy}}"

        def score(self, features, labels, source_probs=None):
            seen.append((features.shape, labels.copy()))
            return 0.0

    registry = replace(registry, estimators={**registry.estimators, "spy": Provided("spy", Spy, "test", "tests", "0")})
    suite = write(tmp_path, '["spy", "hscore:shrunk"]')
    suite = replace(suite, pairs=suite.pairs[:1])
    runner = Runner(suite, registry, tmp_path / "out", tmp_path / "data", show_progress=False)
    runner.run()
    from benchmark.data.loader import DatasetLoader
    from benchmark.models.resolve import resolve_models
    from benchmark.run.prepare import prepare_pairs
    _, models = resolve_models(suite, registry, tmp_path / "data")
    pair = prepare_pairs(suite, DatasetLoader(registry, tmp_path / "data"), models)["with-source"]
    expected = [next(transfer_tasks(pair.pool, pair.pool_index, pair.test, budget, seed, pair.pair.name)).support
                for seed in suite.seeds for budget in suite.budgets]
    assert len(seen) == len(expected) == 4, seen
    for (shape, labels), support in zip(seen, expected):
        assert shape[0] == len(support) and np.array_equal(labels, support.labels.numpy())
        assert len(labels) != len(pair.test)  # the test split never reaches an estimator


def test_unknown_estimator_is_one_line_with_did_you_mean(registry, tmp_path):
    suite = write(tmp_path, '["logmee", "hscore:shrunk"]')
    with pytest.raises(SuiteError, match=r"unknown estimator 'logmee' \(did you mean 'logme'\?\); installed: ") as error:
        run(suite, registry, tmp_path / "out")
    assert "\n" not in str(error.value)


def test_options_must_be_the_estimators_own(registry, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SUITE.replace("ESTIMATORS", '["hscore:shrunk"]').replace("shrinkage = true", "shrink = true"))
    with pytest.raises(SuiteError, match="no option shrink.*options: shrinkage"):
        run(load_suite(path), registry, tmp_path / "out")
    path.write_text(SUITE.replace("ESTIMATORS", '["hscore"]'))
    with pytest.raises(SuiteError, match="estimator_options.*does not list"):
        load_suite(path)


def test_strategy_leaderboards_ignore_estimate_records(registry, tmp_path):
    from benchmark.leaderboard import load

    suite = write(tmp_path, '["logme", "hscore:shrunk"]')
    run(suite, registry, tmp_path / "out")
    board = load(tmp_path / "out" / "estimates")
    assert set(board.cells.variants) == {"target-only"} and all(r["status"] != "estimate" for r in board.cells.used)


def test_the_leaderboard_command_writes_the_transferability_section(registry, tmp_path, capsys):
    from benchmark.cli import main

    run(write(tmp_path, '["logme", "knn", "hscore:shrunk"]'), registry, tmp_path / "out")
    results = tmp_path / "out" / "estimates"
    assert main(["leaderboard", str(results), "--format", "md,csv", "--against", "target-only"]) == 0
    md = (results / "transferability.md").read_text()
    assert "against target-only" in md and "| logme |" in md and "| 2 | 2 |" in md  # two models (pairs), two seeds
    assert (results / "transferability.csv").exists() and (results / "leaderboard.md").exists()
    assert main(["list", "--estimators"]) == 0
    listed = capsys.readouterr().out
    assert "logme" in listed and "source predictions" in listed


def test_without_a_source_split_leep_reads_the_checkpoints_own_classifier(registry, tmp_path):
    """A checkpoint that holds a classifier (an exported source head, ImageNet's) gives LEEP and NCE their
    source predictions when the pair has no source split: softmax(head(features)) of the support."""
    import torch
    from safetensors.torch import save_file

    from benchmark import build_trunk

    torch.manual_seed(1)
    trunk, dim = build_trunk((1, 16, 16), "lenet")
    head = torch.nn.Linear(dim, 3)
    save_file({**trunk.state_dict(), "head.weight": head.weight.detach(), "head.bias": head.bias.detach()},
              str(tmp_path / "own.safetensors"))
    seen = []

    class Spy(Estimator):
        name, description, citation = "spy", "remembers the source predictions", "@misc{spy, title={spy}}"
        needs_source_predictions = True

        def score(self, features, labels, source_probs=None):
            seen.append((features, source_probs))
            return 0.0

    registry = replace(registry, estimators={**registry.estimators, "spy": Provided("spy", Spy, "test", "tests", "0")})
    path = tmp_path / "own.toml"
    path.write_text(f"""
name = "own-head"
seeds = [0]
budgets = [5]
strategies = ["target-only"]
estimators = ["spy", "leep"]
[[pairs]]
name = "own"
{TARGET}
[pairs.model]
provider = "file"
path = "own.safetensors"
architecture = {{ provider = "builtin", name = "lenet", channels = 1, size = [16, 16] }}
[hparams.target-only]
adapt_steps = 1
""")
    run(load_suite(path), registry, tmp_path / "out")
    (features, probs), = seen
    expected = torch.softmax(head(torch.as_tensor(features, dtype=torch.float32)).double(), dim=1).detach().numpy()
    assert probs.shape == (25, 3) and np.allclose(probs, expected, atol=1e-5)
    leep = [r for r in records.read(tmp_path / "out" / "own-head" / "records.jsonl") if r["strategy"] == "leep"]
    assert leep[0]["metrics"] and not leep[0]["reason"]
    assert leep[0]["adapt_notes"]["source_predictions"] == "the checkpoint's own classifier (3 classes)"


def test_an_unknown_estimator_defined_in_a_file_here_says_to_pass_it_with_plugin(registry, tmp_path, monkeypatch):
    (tmp_path / "my_score.py").write_text('class MyScore:\n    name = "my-score"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="an estimator in a file of yours needs --plugin my_score.py"):
        registry.estimator("my-score")
