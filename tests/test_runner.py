"""The runner scores, records one line per cell, skips recorded cells and isolates crashes."""

from dataclasses import replace
from pathlib import Path

import torch

from benchmark import Strategy, records
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"


def run(suite, registry, tmp_path):
    return Runner(suite, registry, tmp_path, tmp_path / "data", show_progress=False).run()


def test_a_suite_writes_one_complete_record_per_cell_and_a_rerun_skips_them(registry, tmp_path):
    suite = load_suite(TINY)
    summary = run(suite, registry, tmp_path)
    written = records.read(tmp_path / "tiny" / "records.jsonl")
    cells = 3 * 2 * 2 * 2  # strategies × pairs × seeds × budgets
    assert len(written) == cells and summary.ok + summary.skipped == cells and not summary.failed
    ok = [r for r in written if r["status"] == "ok"]
    for record in ok:
        assert {"schema", "suite", "pair", "source", "target", "strategy", "plugin", "hparams", "seed", "budget",
                "metrics", "status", "error", "wall_s", "fingerprints", "versions", "git"} <= set(record)
        classes = {f"recall[{name}]" for name in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")} \
            if record["pair"] == "digits→rotated" else {f"recall[{name}]" for name in ("5", "6", "7", "8", "9")}
        assert set(record["metrics"]) == {"accuracy", "macro_f1", "macro_recall"} | classes
        assert 0.0 <= record["metrics"]["accuracy"]["mean"] <= 1.0
        assert record["plugin"]["dist"] == "transferbench"
    skipped = [r for r in written if r["status"] == "skipped"]
    assert {(r["strategy"], r["pair"]) for r in skipped} == {("source-only", "digits0-4→5-9")}
    assert "shared label space" in skipped[0]["reason"]
    # the hyperparameters recorded are the full set, overrides included
    assert next(r for r in ok if r["strategy"] == "finetune")["hparams"]["adapt_steps"] == 5

    again = run(suite, registry, tmp_path)
    assert again.already == cells and again.ok == 0
    assert len(records.read(tmp_path / "tiny" / "records.jsonl")) == cells


class Crashing(Strategy):
    name = "crashing"
    description = "Raises in adapt."

    def adapt(self, support, ctx):
        raise RuntimeError("boom in adapt")


def test_a_crashing_strategy_becomes_failed_records_and_the_suite_goes_on(registry, with_strategies, tmp_path):
    suite = load_suite(TINY).with_overrides(seeds=1, strategies=["crashing", "target-only"])
    summary = run(suite, with_strategies(registry, Crashing), tmp_path)
    written = records.read(tmp_path / "tiny" / "records.jsonl")
    failed = [r for r in written if r["status"] == "failed"]
    assert len(failed) == 4 and all(r["strategy"] == "crashing" for r in failed)
    assert failed[0]["error"]["type"] == "RuntimeError" and failed[0]["error"]["message"] == "boom in adapt"
    assert "boom in adapt" in failed[0]["error"]["traceback"]
    assert summary.exit_code == 1 and len(summary.failed) == 4
    assert sum(r["status"] == "ok" for r in written) == 4  # target-only still ran every cell


class Spy(Strategy):
    """Remembers exactly what the runner hands it."""

    name = "spy"
    description = "Records its inputs."
    seen = []

    def adapt(self, support, ctx):
        Spy.seen.append(("adapt", support))

        def predictor(inputs):
            Spy.seen.append(("predict", inputs))
            return torch.zeros(len(inputs), support.num_classes)
        return predictor


def test_the_runner_scores_and_the_strategy_never_sees_query_labels(registry, with_strategies, tmp_path):
    suite = load_suite(TINY).with_overrides(seeds=1, strategies=["spy"])
    Spy.seen.clear()
    run(suite, with_strategies(registry, Spy), tmp_path)
    supports = [arg for kind, arg in Spy.seen if kind == "adapt"]
    queries = [arg for kind, arg in Spy.seen if kind == "predict"]
    assert all(isinstance(q, torch.Tensor) for q in queries)  # inputs only: no labels object at all
    k2 = next(s for s in supports if len(s) == 2 * s.num_classes)
    assert torch.bincount(k2.labels).tolist() == [2] * k2.num_classes
    # support rows come from the labelled pool, never from the scored test split
    test_rows = {tuple(row.flatten().tolist()) for q in queries for row in q}
    assert not any(tuple(row.flatten().tolist()) in test_rows for row in k2.inputs)
    # a constant predictor is scored by the runner as the share of class 0
    written = records.read(tmp_path / "tiny" / "records.jsonl")
    assert all(0.05 < r["metrics"]["accuracy"]["mean"] < 0.3 for r in written)


def test_budgets_share_a_pretrain_unless_it_reads_the_task_shape(registry, tmp_path):
    """MAML meta-trains on the target's K-shot episodes: one pretrain per budget, unless `shots` fixes K."""
    from benchmark.run.prepare import prepare_pairs

    def jobs(hparams):
        suite = replace(load_suite(TINY).with_overrides(seeds=1, strategies=["maml"]), hparams={"maml": hparams})
        runner = Runner(suite, registry, tmp_path, tmp_path / "data", show_progress=False)
        planned, _, _ = runner.plan([registry.strategy("maml")], prepare_pairs(suite, runner.loader), set())
        return [(job.pair, job.budgets, job.task_key) for job in planned]

    per_budget = jobs({})
    assert [(b, k) for p, b, k in per_budget if p == "digits→rotated"] == [((2,), (10, 2)), ((None,), (10, 10))]
    shared = jobs({"shots": 1})
    assert [(b, k) for p, b, k in shared if p == "digits→rotated"] == [((2, None), (10, 1))]
