"""The batched episode loop: the same episodes, the same scores, the same records as the serial loop."""

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark import ClassIndex, LabelledData, episodic_tasks, records
from benchmark.discovery.registry import discover
from benchmark.run import cell as cells
from benchmark.run.pretraining import pretrained
from benchmark.run.recording import cell_record
from benchmark.run.runner import Runner
from benchmark.scoring import episodes, metrics
from benchmark.suite.load import load_suite

# sha256 of every episode drawn below by the code at commit 6d6ec28 (before episodes were
# batched): the committed Omniglot records were scored on these episodes, so they must never change.
EPISODES_DIGEST = "b54a077c75c5a7e4ff8293955339f57a31bab2355a245f73e9415868580ec8cd"


def test_the_episodes_drawn_are_those_of_the_committed_results():
    labels = torch.arange(30).repeat_interleave(20)[torch.randperm(600, generator=torch.Generator().manual_seed(0))]
    data = LabelledData(torch.arange(600, dtype=torch.float32).reshape(-1, 1, 1, 1), labels,
                        tuple(f"c{i}" for i in range(30)), "pool")  # pixel = row id
    digest = hashlib.sha256()
    for ways, shots in ((5, 1), (5, 5), (20, 1), (20, 5)):
        for task in episodic_tasks(data, ClassIndex(data), ways, shots, 15, 50, 0, "p"):
            digest.update(repr((task.seed, task.support.inputs.flatten().long().tolist(), task.support.labels.tolist(),
                                task.support.classes, task.query_inputs.flatten().long().tolist(),
                                task.query_labels.tolist())).encode())
    assert digest.hexdigest() == EPISODES_DIGEST


def test_scores_of_many_episodes_in_one_call_equal_one_call_each():
    generator = torch.Generator().manual_seed(0)
    for n_classes, count, queries in ((5, 7, 75), (20, 3, 300), (3, 4, 2)):  # (3, 4, 2): classes never seen
        labels = torch.randint(n_classes, (count, queries), generator=generator)
        predicted = torch.where(torch.rand(count, queries, generator=generator) < 0.7, labels,
                                torch.randint(n_classes, (count, queries), generator=generator))
        together = episodes.score_episodes(predicted, labels, n_classes)
        assert together == [metrics.score(p, l, n_classes) for p, l in zip(predicted, labels)]
        names = [f"class {c}" for c in range(n_classes)]
        together = episodes.score_episodes(predicted, labels, n_classes, names)
        assert together == [metrics.score(p, l, n_classes, names) for p, l in zip(predicted, labels)]
        assert "recall[class 0]" in together[0]


def test_chunks_hold_at_most_the_memory_bound_and_at_least_one_episode():
    assert episodes.chunk_size(600, 2 ** 20, budget=64 * 2 ** 20) == 64
    assert episodes.chunk_size(10, 2 ** 20, budget=64 * 2 ** 20) == 10
    assert episodes.chunk_size(600, 2 ** 30, budget=64 * 2 ** 20) == 1
    assert episodes.chunk_size(600, 1) == episodes.MAX_CHUNK


@pytest.fixture(scope="module")
def episodic_runner(tmp_path_factory):
    """The tiny suite as a 5-way 2-shot episodic suite on sklearn digits, finetune with quick settings."""
    suite = load_suite(Path(__file__).parent / "suites" / "tiny.toml")
    pair = replace(suite.pairs[1], ways=5, queries=3)  # digits 0-4 -> 5-9
    suite = replace(suite, protocol="episodic", pairs=(pair,), budgets=(2,), seeds=(0,), episodes=7,
                    strategies=("finetune",), hparams={"finetune": {"pretrain_epochs": 1, "adapt_steps": 3}})
    out = tmp_path_factory.mktemp("episodic")
    runner = Runner(suite, discover(), out, out, show_progress=False, pretrain_cache=False)
    return runner


def run_one_cell(runner, **settings) -> dict:
    from benchmark.run.prepare import prepare_pairs
    from benchmark.suite.check import check_strategies

    (provided,) = check_strategies(runner.suite, runner.registry)
    pairs = prepare_pairs(runner.suite, runner.loader)
    (job,), _, _ = runner.plan([provided], pairs, set())
    strategy, ctx, status = pretrained(job, pairs[job.pair], runner.settings)
    cell_settings = replace(runner.settings, **settings)
    outcome = cells.run_cell(strategy, ctx, job, pairs[job.pair], cell_settings, job.budgets[0], 0.0, status)
    return cell_record(cell_settings, job, pairs[job.pair], job.budgets[0], outcome)


def test_a_batched_cell_records_what_the_serial_cell_records(episodic_runner, monkeypatch):
    """Chunking, episode order, seeding and scoring: with an ``adapt_episodes`` that is exactly
    ``adapt`` (the default loop, declared by the class), every chunk size records the serial record."""
    finetune = discover().strategy("finetune").cls
    monkeypatch.setattr(finetune, "adapt_episodes", lambda self, supports, contexts:
                        super(finetune, self).adapt_episodes(supports, contexts))
    serial = run_one_cell(episodic_runner, batched=False)
    for chunk in (None, 3, 7):  # the memory-bound default, chunks that do not divide the episodes, one chunk
        together = run_one_cell(episodic_runner, episode_chunk=chunk)
        assert together["status"] == "ok" and together["batched"] is True and serial["batched"] is False
        assert together["per_episode"] == serial["per_episode"] and together["metrics"] == serial["metrics"]


def test_finetune_cells_run_batched_to_nearly_the_serial_accuracy(episodic_runner):
    """The real batched finetune through the runner. In float32 a reordered sum can flip a near-tied
    query (tests/test_batched.py checks equality in float64): at most one query per episode here."""
    serial = run_one_cell(episodic_runner, batched=False)
    together = run_one_cell(episodic_runner, episode_chunk=3)
    assert together["status"] == "ok" and together["batched"] is True
    for a, b in zip(serial["per_episode"]["accuracy"], together["per_episode"]["accuracy"]):
        assert abs(a - b) <= 1 / 15 + 1e-6  # 5-way, 3 queries per class


def test_a_strategy_that_fails_in_adapt_episodes_fails_its_cell(episodic_runner, monkeypatch):
    def broken(self, supports, contexts):
        raise RuntimeError("out of memory in the batched pass")

    monkeypatch.setattr(discover().strategy("finetune").cls, "adapt_episodes", broken)
    record = run_one_cell(episodic_runner)
    assert record["status"] == "failed" and "out of memory" in record["error"]["message"]
    assert records.cell_key(record)  # a well-formed failed record
