"""Packed text tensors, tokenisation with the model's tokenizer, and the static-embedding trunk."""

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from benchmark import StaticEmbeddingTrunk, token_dropout, tokenise, unpack


@pytest.fixture(scope="module")
def tokenizer():
    # A real tokenizers BPE, trained here on a few sentences (nothing downloaded).
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["cheap pills now", "meeting at noon", "win money fast", "lunch at noon"] * 5,
                            trainers.BpeTrainer(vocab_size=60, special_tokens=["[PAD]", "[UNK]"]))
    return tok


def test_tokenise_pads_truncates_and_masks(tokenizer):
    packed = tokenise(["cheap pills now", "noon"], tokenizer, max_tokens=2)
    ids, mask = unpack(packed)
    assert packed.shape == (2, 2, 2) and packed.dtype == torch.long
    assert ids[0].tolist() == tokenizer.encode("cheap pills now").ids[:2]
    assert mask.tolist() == [[1, 1], [1, 0]] and ids[1, 1] == 0


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_max_tokens_below_one_is_refused(tokenizer, bad):
    with pytest.raises(ValueError, match="max_tokens"):
        tokenise(["x"], tokenizer, bad)


def test_an_empty_text_is_refused(tokenizer):
    with pytest.raises(ValueError, match="text 1 is empty"):
        tokenise(["fine", "  "], tokenizer, 4)


def test_static_embedding_is_the_mask_weighted_mean():
    weight = torch.randn(10, 4)
    trunk = StaticEmbeddingTrunk(weight, trainable=False)
    packed = torch.tensor([[[3, 5, 0], [1, 1, 0]]])
    expected = (weight[3] + weight[5]) / 2
    assert torch.allclose(trunk(packed)[0], expected)
    assert not any(p.requires_grad for p in trunk.parameters())


def test_token_dropout_keeps_ids_and_the_first_token_and_leaves_its_input():
    packed = torch.stack([torch.arange(1, 51).repeat(4, 1), torch.ones(4, 50, dtype=torch.long)], dim=1)
    before = packed.clone()
    dropped = token_dropout(packed, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(packed, before) and torch.equal(dropped[:, 0], packed[:, 0])
    assert dropped[:, 1, 0].eq(1).all() and 0.3 < dropped[:, 1].float().mean() < 0.7
