"""Strategies that declare wants_texts get the raw texts (support and queries), no other does; labels never
reach a predictor; and the tfidf built-in runs on them (every train_on, a shared label space where it needs one)."""

import json

import pytest

from benchmark.checks.contract import check_strategy
from benchmark.discovery.registry import discover
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite
from plugins.tfidf import TfIdf

SPY = '''
import torch
from benchmark import Strategy, hookimpl
from benchmark.data.text import Texts


class ReadsTexts(Strategy):
    name = "reads-texts"
    wants_texts = True
    modalities = frozenset({"text"})

    def adapt(self, support, ctx):
        assert isinstance(support.texts, tuple) and len(support.texts) == len(support), support.texts
        assert all(isinstance(t, str) for t in support.texts)
        spam = support.classes.index("spam")
        def predict(queries):
            assert isinstance(queries, Texts) and all(isinstance(t, str) for t in queries), type(queries)
            hits = torch.tensor([float(any(w in t for w in ("cheap", "pills", "prize"))) for t in queries])
            scores = torch.zeros(len(queries), 2)
            scores[:, spam] = hits
            return scores
        return predict


class ReadsIds(Strategy):
    name = "reads-ids"
    modalities = frozenset({"text"})

    def adapt(self, support, ctx):
        assert support.texts is None, "a strategy that did not ask for texts got them"
        return lambda inputs: torch.zeros(len(inputs), support.num_classes)


@hookimpl
def transferbench_strategies():
    return [ReadsTexts, ReadsIds]
'''


@pytest.fixture
def text_suite(text_files):
    tmp_path = text_files  # tok.json, emb.safetensors, old/new.jsonl (tests/conftest.py)
    (tmp_path / "spy.py").write_text(SPY)

    def write(strategies, extra=""):
        (tmp_path / "suite.toml").write_text(f'''
name = "raw-texts"
seeds = [0]
budgets = [1, 5]
strategies = {json.dumps(strategies)}
input = {{ modality = "text", max_tokens = 4 }}
[model]
provider = "static-embedding"
path = "emb.safetensors"
tokenizer = "tok.json"
[[pairs]]
name = "old→new"
source = {{ provider = "textfiles", root = "old.jsonl" }}
target = {{ provider = "textfiles", root = "new.jsonl", split = "train[:50%]", test_split = "train[50%:]" }}
{extra}''')
        return tmp_path / "suite.toml"
    return tmp_path, write


def run(tmp_path, suite, registry):
    Runner(load_suite(suite), registry, tmp_path / "out", tmp_path, show_progress=False, log=lambda *a: None).run()
    return [json.loads(line) for line in (tmp_path / "out" / "raw-texts" / "records.jsonl").open()]


def test_only_a_strategy_that_asks_gets_the_raw_texts_and_the_runner_still_scores(text_suite):
    tmp_path, write = text_suite
    registry = discover(plugins=[str(tmp_path / "spy.py")])
    records = run(tmp_path, write(["reads-texts", "reads-ids"]), registry)
    assert {r["strategy"]: r["status"] for r in records} == {"reads-texts": "ok", "reads-ids": "ok"}, \
        [r.get("error") for r in records]
    reads = next(r for r in records if r["strategy"] == "reads-texts")
    # its keyword rule reads words the 4-token ids cut off, so raw texts score above ids' chance
    assert reads["metrics"]["accuracy"]["mean"] > 0.9
    assert next(r for r in records if r["strategy"] == "reads-ids")["metrics"]["accuracy"]["mean"] == 0.5


def test_a_strategy_that_reads_texts_is_skipped_on_images(registry):
    from benchmark.checks.contract import basic_cases
    assert "reads raw texts; this pair's inputs are images" in TfIdf.supports(basic_cases()[0].task)


@pytest.mark.parametrize("train_on", ["support", "source", "source+support"])
def test_tfidf_passes_the_contract_for_every_train_on(train_on):
    ran = check_strategy(TfIdf, {"train_on": train_on})
    assert "queries are scored independently (no query leakage)" in ran


def test_tfidf_runs_a_text_suite_and_notes_how_it_chose_C(text_suite, registry):
    tmp_path, write = text_suite
    variants = ["tfidf", "tfidf:source", "tfidf:both"]
    extra = '[hparams."tfidf:source"]\ntrain_on = "source"\n[hparams."tfidf:both"]\ntrain_on = "source+support"'
    records = run(tmp_path, write(variants, extra), registry)
    by = {(r["hparams"]["train_on"], r["budget"]): r for r in records}
    assert all(r["status"] == "ok" for r in records) and len(by) == 6
    assert by[("support", "1")]["adapt_notes"]["C_chosen_by"].startswith("fixed C = 1 (a class has 1")
    assert "cross-validation" in by[("support", "5")]["adapt_notes"]["C_chosen_by"]
    assert "on the source (training-domain validation)" in by[("source", "1")]["adapt_notes"]["C_chosen_by"]
    for budget in ("1", "5"):  # the classes' words do not overlap: a bag of words trained on the source separates them
        assert by[("source", budget)]["metrics"]["accuracy"]["mean"] == 1.0
        assert by[("source+support", budget)]["metrics"]["accuracy"]["mean"] == 1.0
