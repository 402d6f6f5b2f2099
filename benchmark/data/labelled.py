"""The tensors strategies see: a labelled set of images or texts, and its content fingerprint."""

import hashlib
from dataclasses import dataclass, replace

import torch


@dataclass(frozen=True)
class LabelledData:
    """Inputs with integer labels that index ``classes``.

    inputs: images [N, C, H, W] float32, already brought to the pair's declared shape, or
            texts [N, 2, L] int64: token ids and attention mask packed (``benchmark.data.text``).
    labels: [N] int64 in [0, len(classes)).
    """

    inputs: torch.Tensor      # images [N, C, H, W] float32, or texts [N, 2, L] int64 (ids, mask)
    labels: torch.Tensor      # [N] int64 indices into classes
    classes: tuple[str, ...]  # class names; label i is classes[i]
    name: str = ""            # what the data is, for messages (e.g. "mnist train")
    # Texts only: the raw strings the ids were tokenised from (after the suite's text shifts, before
    # truncation), row for row; strategies that declare ``wants_texts`` get them, no other does.
    texts: tuple[str, ...] | None = None
    # The group of each example, [N] strings (a solar module, a patient, a speaker), from a provider
    # that knows them: a percentage slice then takes whole groups and the overlap check counts
    # groups on both sides (benchmark.data.groups). None: every example is its own group.
    groups: tuple[str, ...] | None = None
    # What the groups are, e.g. the manifest column "module": two sets' groups are compared only
    # when they name the same thing (speaker "1" of one corpus is not speaker "1" of another).
    group_source: str = ""

    def __post_init__(self):
        if self.inputs.dim() != 4 and not (self.inputs.dim() == 3 and self.inputs.shape[1] == 2):
            raise ValueError(f"{self.name or 'data'}: inputs must be images [N, C, H, W] or texts [N, 2, L], "
                             f"got shape {tuple(self.inputs.shape)}")
        if self.labels.shape != (len(self.inputs),):
            raise ValueError(f"{self.name or 'data'}: {len(self.inputs)} inputs but labels of shape {tuple(self.labels.shape)}")
        if self.texts is not None and len(self.texts) != len(self.inputs):
            raise ValueError(f"{self.name or 'data'}: {len(self.inputs)} inputs but {len(self.texts)} texts")
        if self.groups is not None and len(self.groups) != len(self.inputs):
            raise ValueError(f"{self.name or 'data'}: {len(self.inputs)} inputs but {len(self.groups)} groups")
        if len(self.labels) and (int(self.labels.min()) < 0 or int(self.labels.max()) >= len(self.classes)):
            raise ValueError(f"{self.name or 'data'}: labels outside [0, {len(self.classes)})")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        """len(classes): predictors score this many classes."""
        return len(self.classes)

    @property
    def modality(self) -> str:
        """ "image" for inputs [N, C, H, W], "text" for [N, 2, L]."""
        return "image" if self.inputs.dim() == 4 else "text"

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One input's shape: (C, H, W) or (2, L)."""
        return tuple(self.inputs.shape[1:])

    def subset(self, index: torch.Tensor, name: str | None = None) -> "LabelledData":
        """The rows ``index`` selects (a [M] index or [N] bool mask, on the data's device), same classes."""
        texts, groups = self.texts, self.groups
        if texts is not None or groups is not None:  # row by row: only when there are strings to take
            rows = (torch.nonzero(index).flatten() if index.dtype == torch.bool else index.flatten()).tolist()
            texts = None if texts is None else tuple(texts[i] for i in rows)
            groups = None if groups is None else tuple(groups[i] for i in rows)
        return replace(self, inputs=self.inputs[index], labels=self.labels[index], name=name or self.name,
                       texts=texts, groups=groups)

    def with_labels(self, labels: torch.Tensor, classes: tuple[str, ...]) -> "LabelledData":
        """The same inputs with other labels [N] and class names."""
        return replace(self, labels=labels, classes=classes)

    def without_texts(self) -> "LabelledData":
        """The same set with token ids only: what a strategy that does not ask for texts sees."""
        return self if self.texts is None else replace(self, texts=None)

    def to(self, device) -> "LabelledData":
        """Inputs and labels on ``device`` (the same tensors when already there)."""
        return replace(self, inputs=self.inputs.to(device), labels=self.labels.to(device))


def fingerprint(data: LabelledData) -> str:
    """A short content hash of exactly what a strategy sees (pixels, labels, class names)."""
    digest = hashlib.sha256()
    digest.update(repr((tuple(data.inputs.shape), data.classes)).encode())
    digest.update(data.inputs.contiguous().cpu().numpy().tobytes())
    digest.update(data.labels.contiguous().cpu().numpy().tobytes())
    if data.texts is not None:  # what a strategy that wants texts sees; ids alone lose what truncation cut
        digest.update("\x00".join(data.texts).encode())
    return digest.hexdigest()[:16]
