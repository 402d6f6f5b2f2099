"""Few-shot episodes on the real Omniglot Vinyals split: right classes, no overlap, same episodes for everyone."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark import ClassIndex, Strategy, episodic_tasks, records
from benchmark.data.cache import default_dir
from benchmark.data.loader import DatasetLoader
from benchmark.run.prepare import prepare_pairs
from benchmark.run.runner import Runner
from benchmark.scoring import query_independence
from benchmark.scoring.stats import NORMAL_OVER_EPISODES
from benchmark.suite.load import load_suite

SUITE = Path(__file__).resolve().parent.parent / "suites" / "omniglot-fewshot.toml"


def split_lines(shared_data, name: str) -> set[str]:
    return set((shared_data / "omniglot" / "splits" / "vinyals" / f"{name}.txt").read_text().split())


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """A results directory shared by the module."""
    return tmp_path_factory.mktemp("omniglot")


@pytest.fixture(scope="module")
def novel(shared_data, registry, out):
    """The suite's novel-class pool (the test split, 33,840 drawings at 28x28)."""
    suite = load_suite(SUITE)
    loader = DatasetLoader(registry, shared_data, default_dir())  # where a Runner looks (conftest: a temporary one)
    pool, _ = loader.load(suite.pairs[0].target, suite.pairs[0].input, "test")
    return pool


def row_ids(pool) -> dict:
    """Each pool image's bytes -> its row, to recover which rows an episode used."""
    return {image.numpy().tobytes(): row for row, image in enumerate(pool.inputs)}


@pytest.mark.slow  # preprocesses all 96,000 base-class drawings (~10 s idle, more on a busy machine)
def test_base_and_novel_classes_are_the_vinyals_splits(shared_data, registry, tmp_path):
    suite = load_suite(SUITE)
    prepared = prepare_pairs(suite, DatasetLoader(registry, shared_data, tmp_path))
    for pair in prepared.values():
        assert set(pair.source.classes) == split_lines(shared_data, "trainval") and pair.source.num_classes == 4800
        assert set(pair.pool.classes) == split_lines(shared_data, "test") and pair.pool.num_classes == 1692
        assert pair.source.input_shape == pair.pool.input_shape == (1, 28, 28) and len(pair.pool) == 1692 * 20


def test_episodes_draw_only_novel_classes_never_overlap_and_repeat_exactly(novel, shared_data):
    test_classes = split_lines(shared_data, "test")
    assert set(novel.classes) == test_classes and not test_classes & split_lines(shared_data, "trainval")
    ids = row_ids(novel)
    assert len(ids) == len(novel)  # every drawing is distinct, so bytes identify rows
    index = ClassIndex(novel)
    first = list(episodic_tasks(novel, index, 20, 5, 15, episodes=20, seed=0, pair="p"))
    again = list(episodic_tasks(novel, index, 20, 5, 15, episodes=20, seed=0, pair="p"))
    other = list(episodic_tasks(novel, index, 20, 5, 15, episodes=20, seed=1, pair="p"))
    for task, same, different in zip(first, again, other):
        assert set(task.support.classes) <= test_classes and len(set(task.support.classes)) == 20
        support = [ids[image.numpy().tobytes()] for image in task.support.inputs]
        query = [ids[image.numpy().tobytes()] for image in task.query_inputs]
        assert len(set(support)) == 100 and len(set(query)) == 300 and not set(support) & set(query)
        for rows, labels in ((support, task.support.labels), (query, task.query_labels)):
            assert [novel.classes[novel.labels[r]] for r in rows] == [task.support.classes[l] for l in labels]
        assert torch.equal(task.support.inputs, same.support.inputs) and torch.equal(task.query_inputs, same.query_inputs)
        assert task.support.classes != different.support.classes
    assert len({task.support.classes for task in first}) == 20


class SeeingStrategy(Strategy):
    """Predicts nothing useful; remembers every support set and query batch it was handed."""

    description = "test"
    protocols = frozenset({"episodic"})
    seen: dict = {}

    def adapt(self, support, ctx):
        log = self.seen.setdefault(self.name, [])
        log.append(("support", support.inputs.clone(), support.labels.clone()))

        def predictor(inputs):
            log.append(("query", inputs.clone(), None))
            return torch.zeros(len(inputs), support.num_classes)
        return predictor


class SeeingA(SeeingStrategy):
    name = "seeing-a"


class SeeingB(SeeingStrategy):
    name = "seeing-b"


def test_every_strategy_is_scored_on_the_same_episodes(registry, with_strategies, shared_data, out, novel):
    suite = load_suite(SUITE)
    # the suite's 5-way pair with a smaller real source (the val split), to keep the test quick
    pair = replace(suite.pairs[0], source=replace(suite.pairs[0].source, split="val"))
    suite = replace(suite, pairs=(pair,), budgets=(1,), episodes=4, strategies=("seeing-a", "seeing-b"))
    SeeingStrategy.seen.clear()
    summary = Runner(suite, with_strategies(registry, SeeingA, SeeingB), out, shared_data,
                     show_progress=False).run()
    assert summary.ok == 2 and not summary.failed
    a, b = SeeingStrategy.seen["seeing-a"], SeeingStrategy.seen["seeing-b"]
    # 4 episodes x (support, query), and the runner's query-independence check on the first episode:
    # ALONE queries one at a time and one reordered batch (benchmark.scoring.query_independence)
    assert len(a) == len(b) == 8 + query_independence.ALONE + 1
    for (kind_a, inputs_a, labels_a), (kind_b, inputs_b, labels_b) in zip(a, b):
        assert kind_a == kind_b and torch.equal(inputs_a, inputs_b)
        assert labels_a is None or torch.equal(labels_a, labels_b)
    written = records.read(out / suite.name / "records.jsonl")
    for record in written:
        assert len(record["per_episode"]["accuracy"]) == 4
        assert record["metrics"]["accuracy"]["ci"] == NORMAL_OVER_EPISODES and record["n_way"] == 5
        assert record["source"] == {"provider": "omniglot", "split": "val"}
