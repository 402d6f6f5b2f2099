"""The static-embedding model provider, and a text suite end to end through the runner."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from tokenizers import pre_tokenizers

from benchmark import ModelError
from benchmark.models.base import MissingModelError
from plugins.models.static_embedding import StaticEmbeddingModels

SUITES = Path(__file__).resolve().parent.parent / "suites"


@pytest.fixture
def files(text_files):
    return text_files


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
    from benchmark.run.runner import Runner
    from benchmark.suite.load import load_suite

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
    from benchmark import DataError
    from benchmark.run.runner import Runner
    from benchmark.suite.load import load_suite

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


def test_news_to_social_runs_on_tiny_data_in_the_same_formats(registry, tmp_path):
    """suites/news-to-social.toml as shipped (less its WordLlama pair and its assets' hashes), on tiny VADER
    ground-truth files written in the dataset's own format and a tiny random BERT (save_pretrained) with a
    WordPiece tokenizer trained here on that data."""
    import csv
    import gzip
    import io
    import re

    from tokenizers import Tokenizer as RawTokenizer
    from tokenizers import models as tok_models
    from tokenizers import normalizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from benchmark.run.runner import Runner
    from benchmark.suite.load import load_suite
    from plugins.datasets.vader import DOMAINS

    words = {1.0: "good great love nice", -1.0: "bad awful hate poor"}
    draw = torch.Generator().manual_seed(0)
    texts = []
    (tmp_path / "vader").mkdir()
    for domain, prefix in DOMAINS.items():
        table = io.StringIO()
        writer = csv.writer(table)
        writer.writerow(["id", "sentiment", "text"])
        for i in range(40):
            sign = 1.0 if i % 2 else -1.0
            text = " ".join(words[sign].split()[p] for p in torch.randint(0, 4, (4,), generator=draw).tolist())
            texts.append(f"{domain} {i} {text}")
            writer.writerow([i, sign * 2.0, texts[-1]])
        with gzip.open(tmp_path / "vader" / f"{prefix}_GroundTruth.csv.gz", "wt", encoding="utf-8") as handle:
            handle.write(table.getvalue())
    wordpiece = RawTokenizer(tok_models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer()
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(texts, trainers.WordPieceTrainer(
        vocab_size=120, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    model_dir = tmp_path / "all-minilm-l6-v2"
    PreTrainedTokenizerFast(tokenizer_object=wordpiece, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                            sep_token="[SEP]", mask_token="[MASK]").save_pretrained(str(model_dir))
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=120, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=64)).save_pretrained(str(model_dir))
    text = (SUITES / "news-to-social.toml").read_text()
    text = re.sub(r'\[\[pairs\]\]\nname = "nyt→tweets \(wordllama\)".*?(?=\[hparams)', "", text, flags=re.S)
    text = re.sub(r"^assets = .*$", "", text, flags=re.M)
    text = re.sub(r"adapt_steps = \d+", "adapt_steps = 2", text).replace("max_tokens = 64", "max_tokens = 16")
    suite_file = tmp_path / "news-to-social.toml"
    suite_file.write_text(text.replace("seeds = [0, 1, 2]", "seeds = [0]")
                          .replace('budgets = [1, 5, 20, 100, "all"]', "budgets = [1]"))
    summary = Runner(load_suite(suite_file), registry, tmp_path / "out", tmp_path, show_progress=False,
                     log=lambda *a: None).run()
    records = [json.loads(line) for line in (tmp_path / "out" / "news-to-social" / "records.jsonl").open()]
    assert summary.failed == [], summary.failed
    assert {r["pair"] for r in records} == {"nyt→tweets", "movies→tweets"}
    assert {r["strategy"] for r in records if r["status"] == "ok"} == {
        "finetune", "frozen-feature", "lora", "bitfit", "augment-only", "target-only", "source-only", "multitask"}
    assert all(r["model"]["provider"] == "transformers" and r["model"]["pooling"] == "mean" for r in records)
    assert all("auroc" in r["metrics"] and r["test_classes"]["negative"] > 0 for r in records if r["status"] == "ok")


def test_cutting_a_batchs_padding_changes_no_feature(tmp_path):
    """The text trunk trims positions after the batch's longest text; the features equal the untrimmed ones."""
    from transformers import BertConfig, BertModel

    from plugins.models.transformers_text import TextEncoder

    torch.manual_seed(0)
    bert = BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                intermediate_size=32, max_position_embeddings=64)).eval()
    ids = torch.randint(5, 50, (3, 32))
    mask = torch.zeros(3, 32, dtype=torch.long)
    for row, length in enumerate((7, 12, 3)):
        mask[row, :length] = 1
    ids = ids * mask  # pad id 0 after each text
    for pooling in ("mean", "cls"):
        with torch.no_grad():
            trimmed = TextEncoder(bert, pooling)(torch.stack([ids, mask], dim=1))
            hidden = bert(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).float()
        full = hidden[:, 0] if pooling == "cls" else (hidden * weights).sum(1) / weights.sum(1)
        assert torch.allclose(trimmed, full, atol=1e-5), pooling
