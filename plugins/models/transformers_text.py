"""The text side of the ``transformers`` model provider: an encoder and its tokenizer, offline.

    [model]
    provider = "transformers"
    name = "models/bert-base-uncased"     # a directory: config.json, the weights, and the tokenizer's files
    pooling = "cls"                       # or "mean": the mask-weighted mean of the last hidden states

A directory with tokenizer files and no ``preprocessor_config.json`` is a text encoder:
``AutoModel.from_pretrained(dir, local_files_only=True)`` with
``AutoTokenizer.from_pretrained(dir, local_files_only=True)``, whose ids the pair's texts are
tokenised into. The trunk maps packed text [N, 2, L] (``benchmark.data.text``) to [N, hidden size].
"""

from pathlib import Path

import torch
from torch import nn

from benchmark import ModelError, PairTokenizer, sha256_of, unpack

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "spiece.model", "vocab.json")
POOLINGS = ("cls", "mean")


def is_text_encoder(path: Path) -> bool:
    return not (path / "preprocessor_config.json").is_file() and any((path / f).is_file() for f in TOKENIZER_FILES)


class TextEncoder(nn.Module):
    """A transformers text encoder as a trunk: [N, 2, L] -> the first token's or the masked mean
    of the last hidden states [N, D] (BERT's [CLS] convention, or Sentence-BERT's mean pooling)."""

    def __init__(self, model: nn.Module, pooling: str):
        super().__init__()
        self.model, self.pooling = model, pooling

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        ids, mask = unpack(inputs)
        # Texts are right-padded to the suite's max_tokens; the positions after the batch's longest text
        # are masked out everywhere, so cutting them changes no output and saves their attention and MLP
        # cost (tweets use a third of 64 tokens).
        length = max(int(mask.sum(dim=1).max()), 1)
        ids, mask = ids[:, :length], mask[:, :length]
        hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state  # [N, length, D]
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = mask.unsqueeze(-1).to(hidden.dtype)                             # [N, L, 1]
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def check_text(path: Path, pooling: str) -> None:
    if pooling not in POOLINGS:
        raise ModelError(f"transformers: pooling must be one of {POOLINGS}, got '{pooling}'")
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise ModelError(f"transformers text model {path}: no tokenizer files ({', '.join(TOKENIZER_FILES)}); "
                         f"save it with AutoTokenizer.from_pretrained(ID).save_pretrained(DIR)")


def text_tokenizer(path: Path) -> PairTokenizer:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    files = {name: sha256_of(path / name) for name in TOKENIZER_FILES if (path / name).is_file()}
    return PairTokenizer(tokenizer, {"library": "transformers", "class": type(tokenizer).__name__, "files": files},
                         pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
                         vocab_size=len(tokenizer))
