"""Text through the dataset pipeline: provider -> slice -> classes -> shifts -> tokenise -> cache."""

import json

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from benchmark import DataError, PairTokenizer, tokenizer_from_file
from benchmark.data.loader import DatasetLoader
from benchmark.data.providers import DatasetSpec, InputSpec

TEXT = InputSpec(modality="text", max_tokens=12)


@pytest.fixture(scope="module")
def tokenizer():
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["cheap pills now win", "meeting at noon lunch"] * 5,
                            trainers.BpeTrainer(vocab_size=50, special_tokens=["[PAD]", "[UNK]"]))
    return PairTokenizer(tok, {"library": "tokenizers", "test": "bpe-50"}, pad_id=0, vocab_size=tok.get_vocab_size())


@pytest.fixture
def table(tmp_path):
    rows = [{"text": f"cheap pills {i}", "label": "spam"} for i in range(6)] + \
           [{"text": f"lunch at noon {i}", "label": "ham"} for i in range(6)]
    (tmp_path / "mail.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return tmp_path


def test_textfiles_slices_and_tokenises(registry, table, tokenizer):
    loader = DatasetLoader(registry, table, cache_dir=table / "cache")
    data, content = loader.load(DatasetSpec("textfiles", split="train[:50%]", root="mail.jsonl"), TEXT, "t", tokenizer)
    assert data.modality == "text" and data.inputs.shape == (6, 2, 12) and data.classes == ("ham", "spam")
    assert data.labels.tolist() == [1, 1, 1, 0, 0, 0]  # file order kept; classes sorted by name
    again, same = DatasetLoader(registry, table, cache_dir=table / "cache").load(
        DatasetSpec("textfiles", split="train[:50%]", root="mail.jsonl"), TEXT, "t", tokenizer)
    assert same == content and torch.equal(again.inputs, data.inputs)


def test_another_tokenizer_never_reuses_cached_ids(registry, table, tokenizer):
    loader = DatasetLoader(registry, table, cache_dir=table / "cache")
    spec = DatasetSpec("textfiles", root="mail.jsonl")
    _, first = loader.load(spec, TEXT, "t", tokenizer)
    other = PairTokenizer(tokenizer.tokenizer, {**tokenizer.identity, "test": "other"}, pad_id=1)
    data, second = loader.load(spec, TEXT, "t", other)
    assert first != second and (data.inputs[:, 0][data.inputs[:, 1] == 0] == 1).all()


def test_text_shifts_apply_before_tokenising(registry, table, tokenizer):
    loader = DatasetLoader(registry, table)
    plain, _ = loader.load(DatasetSpec("textfiles", root="mail.jsonl"), TEXT, "t", tokenizer)
    noisy, _ = loader.load(DatasetSpec("textfiles", root="mail.jsonl", shifts=({"char_noise": 0.5},)), TEXT, "t", tokenizer)
    assert not torch.equal(plain.inputs, noisy.inputs)
    with pytest.raises(DataError, match="unknown text shift"):
        loader.load(DatasetSpec("textfiles", root="mail.jsonl", shifts=({"rotate": 90},)), TEXT, "t", tokenizer)


def test_modality_mismatch_and_missing_tokenizer_are_one_line_errors(registry, table, tokenizer):
    loader = DatasetLoader(registry, table)
    with pytest.raises(DataError, match="provider 'textfiles' gives texts but the pair's input is image"):
        loader.load(DatasetSpec("textfiles", root="mail.jsonl"), InputSpec(), "t")
    with pytest.raises(DataError, match="texts are tokenised by the pair's model"):
        loader.load(DatasetSpec("textfiles", root="mail.jsonl"), TEXT, "t")


def test_hf_text_column_from_a_save_to_disk_directory(registry, tmp_path, tokenizer):
    import datasets

    datasets.Dataset.from_dict({"sentence": ["cheap pills", "lunch at noon", "win now", "meeting"],
                                "label": [1, 0, 1, 0]}).save_to_disk(str(tmp_path / "tiny"))
    loader = DatasetLoader(registry, tmp_path)
    data, _ = loader.load(DatasetSpec("hf", root="tiny", split="all", options={"text_column": "sentence"}),
                          TEXT, "t", tokenizer)
    assert data.inputs.shape == (4, 2, 12) and data.classes == ("0", "1")
    with pytest.raises(DataError, match="no column 'sentense'.*did you mean 'sentence'"):
        loader.load(DatasetSpec("hf", root="tiny", split="all", options={"text_column": "sentense"}), TEXT, "t",
                    tokenizer)


def test_spamassassin_with_the_real_wordllama_tokenizer(registry, shared_data, tmp_path):
    tokenizer = tokenizer_from_file(shared_data / "wordllama" / "l2_supercat_tokenizer_config.json")
    loader = DatasetLoader(registry, shared_data, cache_dir=tmp_path)
    spec = DatasetSpec("spamassassin", split="all[50%:]",
                       options={"sets": {"ham": ["hard_ham"], "spam": ["spam"]}})
    data, _ = loader.load(spec, InputSpec(modality="text", max_tokens=64), "t", tokenizer)
    assert data.inputs.shape == (375, 2, 64) and data.labels.bincount().tolist() == [125, 250]
    assert int(data.inputs[:, 0].max()) < tokenizer.vocab_size == 32000
