"""The static-embedding model provider, and a text suite end to end through the runner."""

import json

import pytest
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers

from benchmark.models.base import MissingModelError, ModelError
from plugins.models.static_embedding import StaticEmbeddingModels

WORDS = {"spam": "cheap pills win money offer click free prize".split(),
         "ham": "meeting lunch noon report project team agenda notes".split()}


@pytest.fixture
def files(tmp_path):
    vocabulary = {"[PAD]": 0, "[UNK]": 1}
    for words in WORDS.values():
        for word in words:
            vocabulary.setdefault(word, len(vocabulary))
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tok.json"))
    save_file({"embedding.weight": torch.randn(len(vocabulary), 8)}, str(tmp_path / "emb.safetensors"))
    draw = torch.Generator().manual_seed(0)
    for split in ("old", "new"):
        with open(tmp_path / f"{split}.jsonl", "w") as out:
            for i in range(40):
                label = "spam" if i % 2 else "ham"
                picks = torch.randint(0, 8, (6,), generator=draw).tolist()
                out.write(json.dumps({"text": " ".join(WORDS[label][p] for p in picks), "label": label}) + "\n")
    return tmp_path


def provider(files, **options):
    return StaticEmbeddingModels(base_dir=str(files), **{"path": "emb.safetensors", "tokenizer": "tok.json", **options})


def test_the_trunk_holds_the_file_s_matrix_and_pools_by_the_mask(files):
    from safetensors.torch import load_file

    trunk, dim = provider(files).build()
    weight = load_file(str(files / "emb.safetensors"))["embedding.weight"]
    assert dim == 8 and torch.equal(trunk.embedding.weight, weight)
    packed = torch.tensor([[[2, 3, 0], [1, 1, 0]]])
    assert torch.allclose(trunk(packed)[0], (weight[2] + weight[3]) / 2)


def test_random_init_and_frozen_are_other_models(files):
    keys = {provider(files).identity()["key"], provider(files, weights="none").identity()["key"],
            provider(files, trainable=False).identity()["key"]}
    assert len(keys) == 3
    assert provider(files, weights="none").identity()["sha256"] is None
    assert not torch.equal(provider(files, weights="none").build()[0].embedding.weight,
                           provider(files).build()[0].embedding.weight)


def test_a_tokenizer_that_does_not_fit_the_embedding_is_refused(files):
    save_file({"embedding.weight": torch.randn(5, 8)}, str(files / "small.safetensors"))
    with pytest.raises(ModelError, match="has 18 tokens but the embedding small.safetensors has 5 rows"):
        provider(files, path="small.safetensors").check()


def test_missing_files_name_the_path(files):
    with pytest.raises(MissingModelError, match=r"not found at .*nope\.json"):
        provider(files, tokenizer="nope.json").check()


def test_a_text_suite_runs_end_to_end(files, registry, tmp_path):
    from benchmark.runner import Runner
    from benchmark.suite import load_suite

    (files / "suite.toml").write_text('''
name = "tiny-text"
seeds = [0]
budgets = [2]
strategies = ["frozen-feature", "target-only", "augment-only", "bitfit", "maml"]
input = { modality = "text", max_tokens = 8 }
[model]
provider = "static-embedding"
path = "emb.safetensors"
tokenizer = "tok.json"
[[pairs]]
name = "old→new"
source = { provider = "textfiles", root = "old.jsonl" }
target = { provider = "textfiles", root = "new.jsonl", split = "train[:50%]", test_split = "train[50%:]" }
[hparams.frozen-feature]
pretrain_epochs = 1
adapt_steps = 5
[hparams.target-only]
adapt_steps = 5
[hparams.augment-only]
adapt_steps = 5
''')
    summary = Runner(load_suite(files / "suite.toml"), registry, tmp_path / "out", files, show_progress=False,
                     log=lambda *a: None).run()
    records = [json.loads(line) for line in (tmp_path / "out" / "tiny-text" / "records.jsonl").open()]
    status = {r["strategy"]: r["status"] for r in records}
    assert summary.failed == [] and status == {"frozen-feature": "ok", "target-only": "ok", "augment-only": "ok",
                                               "bitfit": "skipped", "maml": "skipped"}
    assert all(r["model"]["tokenizer"]["sha256"] for r in records)
    assert "no bias" in next(r for r in records if r["strategy"] == "bitfit")["reason"]


def test_a_text_pair_without_a_text_model_is_a_one_line_error(files, registry, tmp_path):
    from benchmark.errors import DataError
    from benchmark.runner import Runner
    from benchmark.suite import load_suite

    (files / "suite.toml").write_text('''
name = "no-model"
input = { modality = "text" }
[[pairs]]
source = { provider = "textfiles", root = "old.jsonl" }
target = { provider = "textfiles", root = "new.jsonl", split = "train[:50%]", test_split = "train[50%:]" }
''')
    with pytest.raises(DataError, match="texts are tokenised by the pair's model"):
        Runner(load_suite(files / "suite.toml"), registry, tmp_path / "out", files, show_progress=False,
               log=lambda *a: None).run()
