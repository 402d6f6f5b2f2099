"""Issue 16.6: ``run`` enforces what ``check`` checks: queries are scored independently.

A predictor that scores queries jointly (a batch statistic: BatchNorm left in training mode at test
time is the classic case) used to fail ``transferbench check`` yet be ranked by ``run``. The runner
now scores a few queries of each cell's first task alone and in another batch; a strategy that
scores jointly either declares itself transductive (recorded, its own section of every table,
ranked only among its kind) or its cells fail with the reason, in both the transfer and the
episodic protocol (serial and batched episodes).
"""

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark import Strategy, records
from benchmark.leaderboard import latex, markdown, render, webpage
from benchmark.leaderboard.summary import build
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"


def centroid_predictor(support, standardise_by_batch: bool):
    """Nearest class mean on pixels; optionally standardised by the *query batch's* statistics
    (what a BatchNorm in training mode does), which makes every score depend on the other queries."""
    flat = support.inputs.flatten(1)
    means = torch.stack([flat[support.labels == c].mean(0) for c in range(support.num_classes)])

    def predict(queries):
        x = queries.flatten(1)
        if standardise_by_batch:
            x = (x - x.mean(0)) / (x.std(0, unbiased=False) + 1e-5) * flat.std(0, unbiased=False) + flat.mean(0)
        return -torch.cdist(x, means)
    return predict


class Inductive(Strategy):
    name = "centroid"
    description = "Nearest class mean, each query on its own."

    def adapt(self, support, ctx):
        return centroid_predictor(support, False)


class BatchLeak(Strategy):
    name = "batch-leak"
    description = "Nearest class mean standardised by the query batch, not declared."

    def adapt(self, support, ctx):
        return centroid_predictor(support, True)


class DeclaredTransductive(BatchLeak):
    name = "declared-transductive"
    description = "The same joint scoring, declared."
    transductive = True


class BatchedLeak(BatchLeak):
    name = "batched-leak"
    description = "The leak through adapt_episodes (the runner's batched episode path)."

    def adapt_episodes(self, supports, contexts):
        return [self.adapt(s, c) for s, c in zip(supports, contexts)]


def run(registry, with_strategies, tmp_path, protocol="transfer", names=("centroid", "batch-leak",
                                                                       "declared-transductive")):
    suite = load_suite(TINY)
    if protocol == "episodic":
        pair = replace(suite.pairs[1], ways=5, queries=3)
        suite = replace(suite, protocol="episodic", pairs=(pair,), budgets=(2,), episodes=4)
    suite = replace(suite, strategies=names, seeds=(0,), budgets=suite.budgets[:1])
    registry = with_strategies(registry, Inductive, BatchLeak, DeclaredTransductive, BatchedLeak)
    runner = Runner(suite, registry, tmp_path, tmp_path, show_progress=False, pretrain_cache=False)
    summary = runner.run()
    return summary, records.read(runner.records_path)


@pytest.mark.parametrize("protocol, names", [
    ("transfer", ("centroid", "batch-leak", "declared-transductive")),
    ("episodic", ("centroid", "batch-leak", "batched-leak", "declared-transductive")),
])
def test_joint_scoring_fails_its_cells_unless_declared(registry, with_strategies, tmp_path, protocol, names):
    summary, written = run(registry, with_strategies, tmp_path, protocol, names)
    by_strategy = {}
    for record in written:
        by_strategy.setdefault(record["strategy"], []).append(record)
    for leaky in set(names) & {"batch-leak", "batched-leak"}:
        for record in by_strategy[leaky]:
            assert record["status"] == "failed" and record["error"]["type"] == "QueryDependence"
            assert "depend on the other queries" in record["error"]["message"]
            assert "declare the strategy transductive" in record["error"]["message"]
    assert all(r["status"] == "ok" and not r["transductive"] for r in by_strategy["centroid"])
    assert all(r["status"] == "ok" and r["transductive"] for r in by_strategy["declared-transductive"])
    assert summary.exit_code == 1  # failed cells are reported; the suite went on


def test_a_transductive_row_has_its_own_section_and_is_never_ranked_with_inductive_ones(registry, with_strategies,
                                                                                        tmp_path):
    _, written = run(registry, with_strategies, tmp_path, names=("centroid", "declared-transductive"))
    board = build(written)
    table = board.tables[0]
    assert table.rows == ["centroid", "declared-transductive (transductive)"]  # inductive first, then its section
    for pair in table.pairs:
        ours, theirs = table.entries[("centroid", pair)], table.entries[("declared-transductive (transductive)", pair)]
        # Each is alone in its section: compared with nothing, so neither bold nor ranked nor tested
        # (ranked together, the column would have two entries: one best, the other tested against it).
        assert not ours.best and not theirs.best
        assert math.isnan(ours.rank) and math.isnan(theirs.rank)
        assert not theirs.test and not ours.test
    said = "Rows marked transductive score the queries jointly"
    assert said in markdown.render(board) and said in latex.render(board) and said in webpage.render(board)
    assert "declared-transductive (transductive)" in render(board, "csv")
