"""Datasets as data: a provider loads raw images; the pipeline brings them to the pair's shape.

A dataset table in a suite file::

    { provider = "torchvision", name = "CIFAR10", split = "train[:50%]", root = ".",
      classes = ["cat", "dog"], rename = { automobile = "car" }, shifts = [{ rotate = 90 }],
      options = { ... }, stands_in_for = "train" }

``provider`` picks a dataset provider (the ``transferbench_datasets`` hook); ``name``
which dataset it serves, for providers of many; ``root`` where its files are, under
the data root (default: the provider's ``default_root``); ``options`` go to the
provider's constructor.

``split`` may end in a per-class percentage slice ``[a%:b%]``: in every class, the
examples from a% to b% of that class (in the provider's order) are kept, so two
slices of one split are disjoint and keep the class balance. Both bounds need their
``%`` (either may be left out): ``train[:1000]``, Hugging Face's absolute count, is an
error here rather than a percentage no one meant. A dataset whose provider knows the group of
each example (``LabelledData.groups``: e.g. the manifest provider's ``group_column``) is sliced
between whole groups instead, so one group is never on both sides (``benchmark.data.groups``).
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch

from benchmark.data.groups import slice_groups
from benchmark.data.labelled import LabelledData
from benchmark.errors import DataError, MissingDataError, did_you_mean


class DatasetProvider:
    """Base class of dataset providers. ``__init__`` takes the table's ``options`` as keywords;
    a provider that serves several datasets (torchvision, hf, learn2learn) takes the table's
    ``name`` as its ``dataset`` option.

    ``root`` is the directory (or file) the table's ``root`` names under the data root, or
    ``default_root`` under it when the table names none (e.g. ``mnist`` for ``DATA/mnist``).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    modality: ClassVar[str] = "image"  # "text": load returns benchmark.data.text.TextData, tokenised later
    citation: ClassVar[str] = ""      # BibTeX, for `transferbench cite`
    how_to_get: ClassVar[str] = ""    # shown when the files are missing
    default_root: ClassVar[str | None] = ""  # relative to the data root; None: no root unless the table names one

    def files(self, split: str, root: Path) -> list[Path] | None:
        """The files (or directories) ``split`` is read from. Their bytes key the preprocessing
        cache, and ``check`` requires them to exist. None: unknown, so never cached."""
        return None

    def check(self, split: str, root: Path) -> None:
        """Fail fast, before anything is read, when the split's files (or, if unknown, its root) are missing."""
        files = self.files(split, root)
        for path in files if files is not None else [root] if root is not None else []:
            if not Path(path).exists():
                raise self.missing(split, path)

    def load(self, split: str, root: Path, size: tuple[int, int]) -> LabelledData:
        """Return the whole split as images [N, C, H, W], float in [0, 1] or uint8 in [0, 255].

        ``size`` is the pair's declared (H, W): a provider whose images differ in size
        resizes each to it (a provider of fixed-size images may ignore it). Must not
        download: when files are missing raise ``self.missing(split, path)``. A provider
        that knows which examples belong together (one patient, one module) sets
        ``LabelledData.groups``: slices and the overlap check then keep groups apart.
        """
        raise NotImplementedError

    def missing(self, split: str, path) -> MissingDataError:
        """The error for absent data: names the dataset, the path looked at and how to get it."""
        return MissingDataError(f"dataset '{self.name}' split '{split}' not found at {path}. "
                                f"{self.how_to_get}".rstrip())


@dataclass(frozen=True)
class DatasetSpec:
    provider: str
    split: str = "train"
    name: str | None = None          # which dataset of a multi-dataset provider (e.g. torchvision "CIFAR10")
    root: str | None = None          # relative to the data root (absolute paths are kept)
    options: dict = field(default_factory=dict)
    classes: tuple[str, ...] | None = None
    rename: dict = field(default_factory=dict)  # {old class name: new}, e.g. to align two label spaces
    shifts: tuple[dict, ...] = ()
    stands_in_for: str | None = None  # e.g. "train" when a test split stands in for a missing train split

    @property
    def base_split(self) -> str:
        return parse_split(self.split)[0]

    def describe(self) -> dict:
        """The spec as plain data, for records."""
        described = {"provider": self.provider, "split": self.split}
        for key in ("name", "root", "stands_in_for"):
            if getattr(self, key) is not None:
                described[key] = getattr(self, key)
        if self.options:
            described["options"] = dict(self.options)
        if self.classes is not None:
            described["classes"] = list(self.classes)
        if self.rename:
            described["rename"] = dict(self.rename)
        if self.shifts:
            described["shifts"] = [dict(s) for s in self.shifts]
        return described


_SLICE = re.compile(r"\[([^\[\]]*)\]$")                # any trailing [...]: parse_split reads or rejects it
_PERCENT = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)%")


def parse_split(split: str) -> tuple[str, float, float]:
    """``"train[10%:50%]"`` -> ``("train", 0.1, 0.5)``; a split without a slice keeps everything (0, 1)."""
    match = _SLICE.search(split)
    if not match:
        return split, 0.0, 1.0
    base, bounds = split[:match.start()], match.group(1).split(":")
    if len(bounds) != 2 or not all(_PERCENT.fullmatch(bound) for bound in bounds if bound):
        raise DataError(f"split '{split}': a slice takes per-class percentages, e.g. '{base}[:50%]' or "
                        f"'{base}[50%:]' (absolute counts such as '{base}[:1000]' are not supported)")
    low = float(bounds[0][:-1]) / 100 if bounds[0] else 0.0
    high = float(bounds[1][:-1]) / 100 if bounds[1] else 1.0
    if not 0 <= low <= high <= 1:
        raise DataError(f"split '{split}': a slice needs 0% <= start <= end <= 100%")
    return base, low, high


MODALITIES = ("image", "text")


@dataclass(frozen=True)
class InputSpec:
    """The shape every dataset of a pair is brought to before a strategy sees it.

    Images: ``channels`` x ``size``, optionally standardised. Texts: tokenised by the pair's
    tokenizer into ``max_tokens`` token ids plus their mask (``benchmark.data.text``).
    """

    channels: int = 1
    size: tuple[int, int] = (28, 28)
    mean: float | tuple[float, ...] | None = None  # standardise with (x - mean) / std after the shifts;
    std: float | tuple[float, ...] | None = None   # a tuple holds one value per channel
    modality: str = "image"
    max_tokens: int = 256      # texts only: padded / truncated length L

    @property
    def shape(self) -> tuple[int, ...]:
        """(C, H, W) for images; (2, L) for texts (token ids and mask)."""
        return (2, self.max_tokens) if self.modality == "text" else (self.channels, *self.size)


def slice_each_class(data: LabelledData, bounds) -> LabelledData:
    """In every class, keep its examples ``[start:stop]`` (in the provider's order), where
    ``start, stop = bounds(number of examples in the class)``; kept examples keep their order."""
    keep = []
    for label in range(data.num_classes):
        members = torch.nonzero(data.labels == label).flatten()
        start, stop = bounds(len(members))
        keep.append(members[start:stop])
    return data.subset(torch.sort(torch.cat(keep)).values)


def stratified_slice(data: LabelledData, split: str) -> LabelledData:
    """The split's ``[a%:b%]`` slice: per class, or between whole groups when the data has groups."""
    if not _SLICE.search(split):
        return data
    _, low, high = parse_split(split)
    if data.groups is not None:
        return slice_groups(data, low, high)
    return slice_each_class(data, lambda size: (round(low * size), round(high * size)))


def select_classes(data: LabelledData, classes: tuple[str, ...], where: str) -> LabelledData:
    """Keep only ``classes`` (by name) and renumber labels in that order."""
    # A name listed twice, or naming two of the dataset's classes, would leave one class without examples.
    repeated = [name for name, count in Counter(classes).items() if count > 1]
    if repeated:
        raise DataError(f"{where}: classes lists '{repeated[0]}' more than once")
    shared = Counter(data.classes)
    ambiguous = [name for name in classes if shared[name] > 1]
    if ambiguous:
        raise DataError(f"{where}: class '{ambiguous[0]}' names {shared[ambiguous[0]]} classes of the dataset, "
                        f"so it cannot pick one")
    lookup = {name: i for i, name in enumerate(data.classes)}
    for name in classes:
        if name not in lookup:
            raise DataError(f"{where}: class '{name}' is not in the dataset{did_you_mean(name, lookup)}; "
                            f"it has {len(lookup)} classes, e.g. {list(data.classes)[:5]}")
    old_to_new = torch.full((data.num_classes,), -1, dtype=torch.long)
    for new, name in enumerate(classes):
        old_to_new[lookup[name]] = new
    keep = torch.nonzero(old_to_new[data.labels] >= 0).flatten()
    kept = data.subset(keep)  # images or raw texts alike
    return kept.with_labels(old_to_new[kept.labels], tuple(classes))


def rename_classes(data: LabelledData, rename: dict, where: str) -> LabelledData:
    unknown = [name for name in rename if name not in data.classes]
    if unknown:
        raise DataError(f"{where}: cannot rename class '{unknown[0]}': not in the dataset"
                        f"{did_you_mean(unknown[0], data.classes)}")
    renamed = tuple(rename.get(c, c) for c in data.classes)
    clashes = [name for name, count in Counter(renamed).items() if count > 1]
    if clashes:  # two classes under one name: `classes` would then keep only one of them
        merged = [old for old in data.classes if rename.get(old, old) == clashes[0]]
        raise DataError(f"{where}: rename gives classes {merged} the one name '{clashes[0]}'; class names must stay "
                        f"unique (merging classes is not supported)")
    return data.with_labels(data.labels, renamed)
