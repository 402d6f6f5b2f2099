"""A pair's model as strategies see it (``ctx.model``): fresh trunks, preprocessing, identity, feature cache.

The runner builds one ``PretrainedModel`` per pair and run. It keeps the loaded weights
in a private template and hands out deep copies, so no strategy can change what another
(or a later cell) starts from. The template is built on first use, in the process that
uses it: a Ray worker loads the checkpoint itself instead of receiving it pickled.
"""

import copy
import hashlib
from collections import OrderedDict

import torch
from torch import nn

from benchmark.models.base import ModelProvider, Preprocessing
from benchmark.toolkit.training import forward_in_batches


def tensor_digest(*tensors: torch.Tensor) -> str:
    """A content hash of tensors (shape, dtype and bytes), for cache keys."""
    digest = hashlib.sha256()
    for tensor in tensors:
        tensor = tensor.detach().contiguous().cpu()
        digest.update(repr((tuple(tensor.shape), str(tensor.dtype))).encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()[:32]


def state_digest(module: nn.Module) -> str:
    """A content hash of a module's parameters and buffers: which trunk features came from."""
    state = module.state_dict()
    return tensor_digest(*(state[k] for k in sorted(state)))


class FeatureCache:
    """Features [N, D] of a frozen trunk, computed once per (trunk, inputs) and reused.

    Keyed by the trunk's identity (its checkpoint, or the digest of a trunk trained on a
    source) and a content hash of the inputs, so a target test set is passed through a
    trunk once per run, whatever the budgets and seeds (with no source, every seed shares
    the checkpoint's trunk). Least recently used entries go beyond ``limit_bytes``.
    ``forward_rows`` counts the rows actually passed through a trunk.
    """

    def __init__(self, limit_bytes: int = 1 << 30):
        self.limit_bytes, self.entries, self.forward_rows = limit_bytes, OrderedDict(), 0

    def __getstate__(self):  # a worker starts with an empty cache, not a pickled copy of ours
        return {"limit_bytes": self.limit_bytes, "entries": OrderedDict(), "forward_rows": 0}

    def features(self, trunk_key: str, trunk: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        key = (trunk_key, tensor_digest(inputs))
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key].to(inputs.device)
        features = forward_in_batches(trunk, inputs)  # [N, D], trunk in eval mode
        self.forward_rows += len(inputs)
        self.entries[key] = features.detach().cpu()
        while sum(f.numel() * f.element_size() for f in self.entries.values()) > self.limit_bytes \
                and len(self.entries) > 1:
            self.entries.popitem(last=False)
        return features


class PretrainedModel:
    """What ``ctx.model`` is. ``None`` there means: the strategy builds its own backbone, as before.

    Besides the methods: ``provider`` (the ``benchmark.models.ModelProvider`` that loads the
    checkpoint), ``identity`` (what records store: provider, name, weights, sha256, library
    version), ``preprocessing`` (the ``Preprocessing`` the weights expect, already applied to the
    pair's inputs) and ``features`` (a ``FeatureCache``: ``features.features(key, trunk, inputs)``
    computes a frozen trunk's features [N, D] once per run).
    """

    def __init__(self, provider: ModelProvider, identity: dict, preprocessing: Preprocessing):
        self.provider, self.identity, self.preprocessing = provider, identity, preprocessing
        self.features = FeatureCache()
        self._template = None

    def __getstate__(self):
        return {**vars(self), "_template": None}

    @property
    def key(self) -> str:
        """The model's key in the suite (``ctx.task.model``): identifies the checkpoint."""
        return self.identity["key"]

    def _loaded(self) -> tuple[nn.Module, int]:
        if self._template is None:
            # Whatever a build draws (a builtin model's initialisation, a layer the checkpoint lacks) comes
            # from a fixed seed, so every process, cell and resumed run starts from the same trunk.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                self._template = self.provider.build(pretrained=True)
        return self._template

    @property
    def feature_dim(self) -> int:
        """D, the width of the trunk's features [N, D]."""
        return self._loaded()[1]

    def trunk(self) -> nn.Module:
        """A new copy of the pretrained trunk (on CPU, training mode): the caller may train it."""
        return copy.deepcopy(self._loaded()[0]).train()

    def random_trunk(self) -> nn.Module:
        """The same architecture from random initialisation (torch's global generator, seeded by the runner)."""
        return self.provider.build(pretrained=False)[0].train()

    def classes(self) -> tuple[str, ...] | None:
        """The class names of the checkpoint's own head (e.g. ImageNet's), or None when it has none."""
        return self.provider.classes()

    def head(self) -> dict | None:
        """The checkpoint's own classifier ``{"weight": [C, D], "bias": [C]}`` (``ModelProvider.head``)."""
        return self.provider.head()

    @property
    def tokenizer(self):
        """The text model's tokenizer (``benchmark.data.text.PairTokenizer``), loaded once; None for images."""
        if not hasattr(self, "_tokenizer"):
            self._tokenizer = self.provider.tokenizer()
        return self._tokenizer
