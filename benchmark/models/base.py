"""The model-provider contract: a suite's ``[model]`` table -> a trunk, its preprocessing, its identity.

A model provider (the ``transferbench_models`` hook) is a class constructed from a
suite's model table::

    [model]
    provider = "torchvision"          # which provider
    name = "resnet50"                 # which architecture it builds
    weights = "IMAGENET1K_V2"         # which weights ("none": random initialisation)
    # any other key is a provider option, e.g. file = "...", path = "..."

as ``Provider(name=..., weights=..., base_dir=..., **options)``. It must never download:
``check`` finds every file first and fails in one line naming the model, the exact path
looked at and how to provide it.

The trunk maps inputs to features ``[N, D]`` (images ``[N, C, H, W]`` for every provider
here; ``kind`` says what the inputs are, so a text provider can declare ``"text"`` and a
tokenizer later without changing this contract).
"""

import hashlib
import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from benchmark.errors import TransferbenchError
from benchmark.suite.paths import base_of, beside_suite


class ModelError(TransferbenchError):
    """A model table or checkpoint that cannot be used: unknown name, mismatched keys, a pickle."""


class MissingModelError(ModelError):
    """A checkpoint that is not where the provider looks; nothing is downloaded."""


@dataclass(frozen=True)
class Preprocessing:
    """What the weights expect of their inputs (for images: brought to this before the trunk)."""

    channels: int
    size: tuple[int, int]                   # (H, W)
    mean: tuple[float, ...] | None = None   # per channel, applied as (x - mean) / std on [0, 1] pixels
    std: tuple[float, ...] | None = None
    source: str = ""                        # where these values come from, for records (e.g. "weights.transforms()")

    def describe(self) -> dict:
        return {"channels": self.channels, "size": list(self.size),
                "mean": None if self.mean is None else list(self.mean),
                "std": None if self.std is None else list(self.std), "from": self.source}


@dataclass(frozen=True)
class ModelSpec:
    """A suite's model table as data; ``where`` is its file:line, for errors."""

    provider: str
    name: str | None = None
    weights: str | None = None
    options: dict = field(default_factory=dict)
    base_dir: str = "."      # relative checkpoint paths are relative to the suite file's directory
    where: str = ""

    def describe(self) -> dict:
        return {"provider": self.provider, "name": self.name, "weights": self.weights, **self.options}


def library_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def sha256_of(path: Path) -> str:
    """The checkpoint's sha256 (hex), read in 1 MiB blocks; a directory hashes its files in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() else [Path(path)]
    for file in files:
        if Path(path).is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def mismatch(what: str, missing, unexpected, shapes, hint: str = "") -> str | None:
    """The one-line error of a checkpoint that does not fit its architecture, or None when it fits.

    ``missing`` / ``unexpected``: key names; ``shapes``: "key (checkpoint shape) vs (model shape)" strings.
    Names the first three of each kind, so a file in another library's naming stays one short line.
    """
    problems = [f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                for label, keys in (("missing keys", list(missing)), ("unexpected keys", list(unexpected)),
                                    ("shape mismatch (checkpoint vs model)", list(shapes))) if keys]
    if not problems:
        return None
    return f"{what} does not fit the architecture: {'; '.join(problems)}" + (f"; {hint}" if hint else "")


def load_matching(module: nn.Module, state: dict, what: str) -> None:
    """``module.load_state_dict(state)`` strictly, after a check that names the first mismatched keys in one line.

    Raises ModelError unless every key of the module is in ``state`` (a BatchNorm's ``num_batches_tracked``
    may be absent, as torch allows), every shape equal and no key extra:
    a checkpoint that does not fit is never loaded in part and presented as the pretrained network.
    """
    own = module.state_dict()
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
              if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    # torch's own strict load fills a BatchNorm's step counter a file predates (checkpoints saved before
    # PyTorch 0.4.1 have none); it counts steps and holds no weight, so its absence is no mismatch.
    missing = [k for k in own if k not in state and not k.endswith(".num_batches_tracked")]
    problem = mismatch(what, missing, [k for k in state if k not in own], shapes)
    if problem:
        raise ModelError(problem)
    module.load_state_dict(state)


class ModelProvider:
    """Base class of model providers. Subclasses set the class attributes and ``build``.

    ``__init__(name, weights, base_dir, **options)``: options are the table's other keys.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""     # one line, shown by `transferbench list --models`
    library: ClassVar[str] = ""         # the distribution whose loader reads the weights (version in records)
    kind: ClassVar[str] = "image"       # what the trunk's inputs are: "image" [N, C, H, W] floats, or
                                        # "text" [N, 2, L] token ids + mask (benchmark.data.text), with a tokenizer
    how_to_get: ClassVar[str] = ""      # shown when a checkpoint is missing
    # Adaptation defaults that suit this family of models, {hyperparameter: value}: a strategy that has the
    # hyperparameter uses the value unless the suite or a search sets it, and its records say so
    # (record["selection"]["model_recipe"]). ``recipe_source``: the paper or model card they come from.
    recipe: ClassVar[dict] = {}
    recipe_source: ClassVar[str] = ""

    def __init__(self, name: str | None = None, weights: str | None = None, base_dir: str = "."):
        self.model_name, self.weights, self.base_dir = name, weights, Path(base_dir)

    # -- what a provider implements ---------------------------------------------------------
    def check(self) -> None:
        """Fail fast (< 2 s, nothing read but names and file existence) on an unknown name or weights,
        or a missing checkpoint. The default checks nothing."""

    def checkpoint(self) -> Path | None:
        """The file or directory the weights are read from; None for random initialisation."""
        return None

    def build(self, pretrained: bool = True) -> tuple[nn.Module, int]:
        """(trunk, D): a new trunk mapping inputs to features [N, D], with the weights loaded
        (``pretrained=False``: the same architecture from random initialisation)."""
        raise NotImplementedError

    def preprocessing(self) -> Preprocessing:
        """The input the weights expect."""
        raise NotImplementedError

    def classes(self) -> tuple[str, ...] | None:
        """The class names of the checkpoint's own classifier, where it has one and they are known."""
        return None

    def head(self) -> dict | None:
        """The checkpoint's own classifier, ``{"weight": [C, D], "bias": [C]}`` over the trunk's features
        (ImageNet's 1000 classes, an exported source head), read from the weights; None when the file holds
        none or for random initialisation. Transferability estimators that read a source model's predictions
        (LEEP, NCE) use it when a pair has no source split, as LEEP's paper scores the ImageNet classifier."""
        return None

    def tokenizer(self):
        """Text models (``kind = "text"``): the ``benchmark.data.text.PairTokenizer`` that belongs to the
        weights; the pair's texts are tokenised with it. Image models: None."""
        return None

    # -- shared ---------------------------------------------------------------------------------
    data_root: Path | None = None  # set by the runner: where "{data_root}/..." paths of the table point

    def resolve(self, path) -> Path:
        """A path of the [model] table as ``benchmark.suite.paths`` says: relative to the suite file,
        under the data root when it begins with ``{data_root}/``, an absolute one as is."""
        return beside_suite(path, self.base_dir, self.data_root)

    # For providers whose library loads the weights itself (transformers' from_pretrained): the same
    # one-line message as load_matching, from the library's own list of missing and unexpected keys.
    mismatch = staticmethod(mismatch)

    def missing(self, path, how: str = "") -> MissingModelError:
        """The error for an absent checkpoint: what, where it was looked for and from which base, how to get it."""
        what = f"{self.name} model '{self.model_name}'" + (f" weights '{self.weights}'" if self.weights else "")
        base = base_of(path, self.base_dir, self.data_root) if isinstance(path, Path) else ""
        return MissingModelError(f"{what}: checkpoint not found at {path}{f' ({base})' if base else ''}; nothing is "
                                 f"downloaded. {how or self.how_to_get}".rstrip())

    def identity(self) -> dict:
        """Provenance for records; ``key`` is what tells two models apart in cell keys and leaderboards.

        ``weights`` says what the trunk starts from: the suite's weights tag (e.g. "IMAGENET1K_V2"), else
        the name of the checkpoint file or directory read (with ``checkpoint`` and ``sha256``), else
        "none", which means random initialisation and nothing else.
        """
        path = self.checkpoint()
        digest = sha256_of(path) if path is not None else None
        weights = self.weights or (path.name if path is not None else "none")
        # The key keeps the spelling it had before ``weights`` named the file ("none" then the sha256 for a
        # checkpoint given without a tag): a changed key would make every published cell of such a model
        # another cell. The sha256 in it is what tells a loaded checkpoint from random initialisation.
        tag = self.weights or "none"
        if self.weights == "none" and path is not None:
            # Random initialisation of an architecture a folder or file describes (a transformers config, a
            # checkpoint's sidecar): no weights are read, and the key must not be the pretrained model's, or
            # caches keyed by it (pretraining, features) would hand one model's state to the other.
            return {"provider": self.name, "name": self.model_name, "weights": "none", "checkpoint": None,
                    "sha256": None, "architecture_from": str(path), "architecture_sha256": digest,
                    "library": self.library, "library_version": library_version(self.library) if self.library else None,
                    "key": f"{self.name}:{self.model_name}:none:random:{digest[:16]}"}
        return {"provider": self.name, "name": self.model_name, "weights": weights,
                "checkpoint": str(path) if path is not None else None, "sha256": digest,
                "library": self.library, "library_version": library_version(self.library) if self.library else None,
                "key": f"{self.name}:{self.model_name}:{tag}" + (f":{digest[:16]}" if digest else "")}


def feature_dim_of(trunk: nn.Module, shape: tuple[int, ...]) -> int:
    """D of a trunk, by one forward pass of zeros [1, *shape] in eval mode (no statistics move)."""
    was_training = trunk.training
    trunk.eval()
    with torch.no_grad():
        features = trunk(torch.zeros(1, *shape))
    trunk.train(was_training)
    if features.dim() != 2:
        raise ModelError(f"the trunk returns features of shape {tuple(features.shape)}, expected [N, D]")
    return int(features.shape[1])
