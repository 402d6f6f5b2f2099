"""Text as tensors: token ids and attention mask packed into one int64 tensor ``[N, 2, L]``.

Images are ``[N, C, H, W]``; text is ``inputs[:, 0]`` = token ids ``[N, L]`` and
``inputs[:, 1]`` = attention mask ``[N, L]`` (1 = a real token, 0 = padding), padded and
truncated to ``L = max_tokens``. One tensor per example keeps every part of the runner that
indexes, batches, moves, caches or fingerprints inputs the same for both modalities: only a
model's first layer and an augmentation policy look inside.

Tokenisation is the model's own tokenizer (a Hugging Face ``tokenizers.Tokenizer`` or a
``transformers`` tokenizer), run once in preprocessing.
"""

import hashlib
import random
import string
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from benchmark.errors import DataError


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


class Texts(tuple):
    """Raw texts [N] as a predictor of a strategy that ``wants_texts`` receives its queries.

    A tuple of str that also answers the few tensor calls the runner's scoring makes on a batch of
    queries (``to``, ``flip``, and slicing that stays ``Texts``), so one scoring path serves both.
    """

    def __getitem__(self, item):
        got = super().__getitem__(item)
        return Texts(got) if isinstance(item, slice) else got

    def to(self, device) -> "Texts":
        return self  # strings live on the host

    def flip(self, dim: int) -> "Texts":
        return Texts(reversed(self))


@dataclass(frozen=True)
class TextData:
    """Raw labelled texts, as a text dataset provider returns them, before tokenisation.

    Offers what the preprocessing pipeline needs of ``LabelledData`` (``labels``, ``classes``,
    ``num_classes``, ``subset``), so slicing, class selection and renaming are shared code.
    """

    texts: tuple[str, ...]
    labels: torch.Tensor  # [N] int64 indexing classes
    classes: tuple[str, ...]
    name: str = ""
    groups: tuple[str, ...] | None = None  # [N] group of each text, as LabelledData.groups (e.g. its author)
    group_source: str = ""                 # what the groups are, as LabelledData.group_source

    def __post_init__(self):
        if self.labels.shape != (len(self.texts),):
            raise ValueError(f"{self.name or 'texts'}: {len(self.texts)} texts but labels of shape {tuple(self.labels.shape)}")
        if self.groups is not None and len(self.groups) != len(self.texts):
            raise ValueError(f"{self.name or 'texts'}: {len(self.texts)} texts but {len(self.groups)} groups")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, index: torch.Tensor, name: str | None = None) -> "TextData":
        """The rows ``index`` selects (a [M] index or [N] bool mask)."""
        rows = (torch.nonzero(index).flatten() if index.dtype == torch.bool else index.flatten()).tolist()
        groups = None if self.groups is None else tuple(self.groups[i] for i in rows)
        return replace(self, texts=tuple(self.texts[i] for i in rows), labels=self.labels[index],
                       name=name or self.name, groups=groups)

    def with_labels(self, labels: torch.Tensor, classes: tuple[str, ...]) -> "TextData":
        return replace(self, labels=labels, classes=classes)


@dataclass(frozen=True)
class PairTokenizer:
    """The tokenizer that belongs to a pair's model, with what identifies it in caches and records.

    ``tokenizer``: a ``tokenizers.Tokenizer`` or a ``transformers`` tokenizer; ``identity``: plain
    data (e.g. library, file, sha256); ``pad_id``: the id written in padded positions (masked out).
    """

    tokenizer: object
    identity: dict
    pad_id: int = 0
    vocab_size: int | None = None


def tokenizer_from_file(path) -> PairTokenizer:
    """A ``tokenizers`` JSON file (``Tokenizer.from_file``), identified by its sha256.

    Raises FileNotFoundError naming the path when it is missing.
    """
    import tokenizers  # here: only text pairs need it

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tokenizer file not found at {path}")
    tokenizer = tokenizers.Tokenizer.from_file(str(path))
    pad = next((tokenizer.token_to_id(t) for t in ("<pad>", "[PAD]", "<unk>") if tokenizer.token_to_id(t) is not None), 0)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return PairTokenizer(tokenizer, {"library": "tokenizers", "version": tokenizers.__version__, "file": path.name,
                                     "sha256": digest}, pad, tokenizer.get_vocab_size())


TEXT_SHIFTS = ("lowercase", "char_noise")


def apply_text_shift(texts: tuple[str, ...], shift: dict, where: str) -> tuple[str, ...]:
    """A domain shift on raw texts, before tokenisation.

    ``{ lowercase = true }``: every text lower-cased. ``{ char_noise = 0.05, seed = 0 }``: each
    letter replaced by a random lower-case letter with that probability (typos; seeded, so the
    same table gives the same texts). Raises DataError naming ``where`` for anything else.
    """
    unknown = [key for key in shift if key not in TEXT_SHIFTS + ("seed",)]
    if unknown or not any(key in shift for key in TEXT_SHIFTS):
        raise DataError(f"{where}: unknown text shift {shift}; text shifts are {', '.join(TEXT_SHIFTS)}")
    if shift.get("lowercase"):
        texts = tuple(t.lower() for t in texts)
    rate = shift.get("char_noise", 0.0)
    if not 0 <= rate <= 1:
        raise DataError(f"{where}: char_noise must be in [0, 1], got {rate}")
    if rate:
        draw = random.Random(shift.get("seed", 0))
        texts = tuple("".join(draw.choice(string.ascii_lowercase) if c.isalpha() and draw.random() < rate else c
                              for c in t) for t in texts)
    return texts
