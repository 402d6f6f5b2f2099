"""Datasets as data: a provider loads raw images; the pipeline brings them to the pair's shape.

A dataset table in a suite file::

    { provider = "sklearn-digits", split = "train[:50%]", classes = ["0", "1"],
      shifts = [{ rotate = 90 }], options = { ... }, root = "mnist" }

``split`` may end in a per-class percentage slice ``[a%:b%]``: in every class, the
examples from a% to b% of that class (in the provider's order) are kept, so two
slices of one split are disjoint and keep the class balance.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch

from benchmark import shifts
from benchmark.data import LabelledData, fingerprint
from benchmark.errors import DataError, did_you_mean
from benchmark.strategy import init_param_names


class DatasetProvider:
    """Base class of dataset providers. ``__init__`` takes the table's ``options`` as keywords."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    citation: ClassVar[str] = ""      # BibTeX, for `transferbench cite`
    how_to_get: ClassVar[str] = ""    # shown when the files are missing

    def load(self, split: str, root: Path) -> LabelledData:
        """Return the whole split as float images [N, C, H, W] in [0, 1] with labels.

        Must not download: when files are missing raise ``DataError`` naming the
        dataset, the path looked at and ``how_to_get``.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class DatasetSpec:
    provider: str
    split: str = "train"
    root: str | None = None          # relative to the data root (absolute paths are kept)
    options: dict = field(default_factory=dict)
    classes: tuple[str, ...] | None = None
    shifts: tuple[dict, ...] = ()
    stands_in_for: str | None = None  # e.g. "train" when a test split stands in for a missing train split

    @property
    def base_split(self) -> str:
        return _SLICE.sub("", self.split)

    def describe(self) -> dict:
        """The spec as plain data, for records."""
        described = {"provider": self.provider, "split": self.split}
        for key in ("root", "stands_in_for"):
            if getattr(self, key) is not None:
                described[key] = getattr(self, key)
        if self.options:
            described["options"] = dict(self.options)
        if self.classes is not None:
            described["classes"] = list(self.classes)
        if self.shifts:
            described["shifts"] = [dict(s) for s in self.shifts]
        return described


_SLICE = re.compile(r"\[(\d*(?:\.\d+)?)%?:(\d*(?:\.\d+)?)%?\]$")


@dataclass(frozen=True)
class InputSpec:
    """The shape every dataset of a pair is brought to before a strategy sees it."""

    channels: int = 1
    size: tuple[int, int] = (28, 28)
    mean: float | None = None  # standardise with (x - mean) / std after the shifts
    std: float | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, *self.size)


def stratified_slice(data: LabelledData, split: str) -> LabelledData:
    match = _SLICE.search(split)
    if not match:
        return data
    low = float(match.group(1) or 0) / 100
    high = float(match.group(2) or 100) / 100
    keep = []
    for label in range(data.num_classes):
        members = torch.nonzero(data.labels == label).flatten()
        keep.append(members[round(low * len(members)):round(high * len(members))])
    index = torch.sort(torch.cat(keep)).values
    return data.subset(index)


def select_classes(data: LabelledData, classes: tuple[str, ...], where: str) -> LabelledData:
    """Keep only ``classes`` (by name) and renumber labels in that order."""
    lookup = {name: i for i, name in enumerate(data.classes)}
    for name in classes:
        if name not in lookup:
            raise DataError(f"{where}: class '{name}' is not in the dataset{did_you_mean(name, lookup)}; "
                            f"it has {len(lookup)} classes, e.g. {list(data.classes)[:5]}")
    old_to_new = torch.full((data.num_classes,), -1, dtype=torch.long)
    for new, name in enumerate(classes):
        old_to_new[lookup[name]] = new
    keep = old_to_new[data.labels] >= 0
    return LabelledData(data.inputs[keep], old_to_new[data.labels[keep]], tuple(classes), data.name)


class DatasetLoader:
    """Loads and preprocesses datasets, keeping each raw split in memory for the run."""

    def __init__(self, registry, data_root: Path):
        self.registry = registry
        self.data_root = Path(data_root)
        self._raw: dict = {}

    def provider(self, spec: DatasetSpec, where: str) -> DatasetProvider:
        cls = self.registry.dataset(spec.provider).cls
        known = init_param_names(cls)
        unknown = [k for k in spec.options if k not in known]
        if unknown:
            raise DataError(f"{where}: provider '{spec.provider}' has no option '{unknown[0]}'"
                            f"{did_you_mean(unknown[0], known)}")
        return cls(**spec.options)

    def raw(self, spec: DatasetSpec, where: str) -> LabelledData:
        key = (spec.provider, repr(sorted(spec.options.items())), spec.base_split, spec.root)
        if key not in self._raw:
            root = self.data_root / spec.root if spec.root else self.data_root
            self._raw[key] = self.provider(spec, where).load(spec.base_split, root)
        return self._raw[key]

    def load(self, spec: DatasetSpec, shape: InputSpec, where: str) -> tuple[LabelledData, str]:
        """The dataset as strategies see it, and its fingerprint."""
        data = stratified_slice(self.raw(spec, where), spec.split)
        if spec.classes is not None:
            data = select_classes(data, spec.classes, where)
        images = shifts.to_shape(data.inputs.float(), shape.channels, shape.size)
        for shift in spec.shifts:
            images = shifts.apply_shift(images, shift, where)
        if shape.mean is not None:
            images = (images - shape.mean) / (shape.std or 1.0)
        name = f"{spec.provider}:{spec.split}"
        prepared = LabelledData(images.contiguous(), data.labels.clone(), data.classes, name)
        return prepared, fingerprint(prepared)
