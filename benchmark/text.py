"""Text as tensors: token ids and attention mask packed into one int64 tensor ``[N, 2, L]``.

Images are ``[N, C, H, W]``; text is ``inputs[:, 0]`` = token ids ``[N, L]`` and
``inputs[:, 1]`` = attention mask ``[N, L]`` (1 = a real token, 0 = padding), padded and
truncated to ``L = max_tokens``. One tensor per example keeps every part of the runner that
indexes, batches, moves, caches or fingerprints inputs the same for both modalities: only a
model's first layer and an augmentation policy look inside.

Tokenisation is the model's own tokenizer (a Hugging Face ``tokenizers.Tokenizer`` or a
``transformers`` tokenizer), run once in preprocessing.
"""

import torch
from torch import nn


def tokenise(texts: list[str], tokenizer, max_tokens: int, pad_id: int = 0) -> torch.Tensor:
    """``texts`` -> packed ``[N, 2, max_tokens]`` int64 (ids, mask), right-padded with ``pad_id``.

    ``tokenizer`` is a ``tokenizers.Tokenizer`` (``encode_batch``) or a ``transformers``
    tokenizer (callable). Raises ValueError when ``max_tokens`` < 1 or a text is empty.
    """
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    empty = next((i for i, text in enumerate(texts) if not text or not text.strip()), None)
    if empty is not None:
        raise ValueError(f"text {empty} is empty: nothing to tokenise")
    if hasattr(tokenizer, "encode_batch"):  # tokenizers.Tokenizer
        ids = [encoding.ids[:max_tokens] for encoding in tokenizer.encode_batch(texts)]
    else:  # transformers: its own special tokens and truncation
        ids = tokenizer(texts, truncation=True, max_length=max_tokens)["input_ids"]
    packed = torch.full((len(texts), 2, max_tokens), pad_id, dtype=torch.long)
    packed[:, 1] = 0
    for row, sequence in enumerate(ids):
        packed[row, 0, :len(sequence)] = torch.tensor(sequence, dtype=torch.long)
        packed[row, 1, :len(sequence)] = 1
    return packed


def unpack(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``[N, 2, L]`` -> (ids ``[N, L]``, mask ``[N, L]``)."""
    if inputs.dim() != 3 or inputs.shape[1] != 2:
        raise ValueError(f"text inputs must be [N, 2, L] (token ids, mask), got shape {tuple(inputs.shape)}")
    return inputs[:, 0], inputs[:, 1]


class StaticEmbeddingTrunk(nn.Module):
    """Token embeddings pooled by the mask-weighted mean: ``[N, 2, L]`` -> features ``[N, D]``.

    The architecture of WordLlama (Miller 2024) and of fastText-style averaged embeddings.
    ``weight`` [V, D] is copied into an ``nn.Embedding`` (float32); ``trainable=False`` freezes it.
    """

    def __init__(self, weight: torch.Tensor, trainable: bool = True):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(weight.float(), freeze=not trainable)
        self.feature_dim = weight.shape[1]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        ids, mask = unpack(inputs)
        vectors = self.embedding(ids)                               # [N, L, D]
        weights = mask.unsqueeze(-1).to(vectors.dtype)              # [N, L, 1]
        return (vectors * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # [N, D]


def token_dropout(inputs: torch.Tensor, rate: float, generator: torch.Generator) -> torch.Tensor:
    """EDA's random deletion (Wei & Zou 2019) on packed text: each real token is dropped with
    probability ``rate`` (its mask set to 0), keeping at least the first token of every text.
    Returns a new tensor; ``inputs`` is left unchanged."""
    ids, mask = unpack(inputs)
    keep = torch.rand(mask.shape, generator=generator).to(mask.device) >= rate
    keep[:, 0] = True
    return torch.stack([ids, mask * keep.long()], dim=1)
