"""The linear probe on a pretrained trunk, with its features computed once and reused.

A frozen trunk's features of a set of images depend only on the trunk and the images. The
pair's ``PretrainedModel`` holds a ``FeatureCache`` shared by every cell of the run, keyed
by the trunk's identity and the images' content: with no source split every seed probes the
checkpoint's own trunk, so the target test set goes through it once per model and target,
whatever the budgets and seeds; with a source split, once per source-trained trunk (seed).
"""

import torch
from torch import nn

from benchmark.models.loaded import FeatureCache, state_digest
from benchmark.toolkit.backbones import Classifier
from benchmark.toolkit.training import fit_tensors


class CachedFeatureClassifier(nn.Module):
    """head(features of a frozen trunk), the features [N, D] read from ``cache`` when known."""

    def __init__(self, trunk: nn.Module, head: nn.Linear, cache: FeatureCache, trunk_key: str):
        super().__init__()
        self.trunk, self.head, self.cache, self.trunk_key = trunk, head, cache, trunk_key

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.cache.features(self.trunk_key, self.trunk, inputs))  # [N, D] -> [N, classes]


def trunk_key(model, source_trained: bool, trunk: nn.Module) -> str:
    """The checkpoint's key for its own trunk; a digest of the weights for one trained on a source."""
    return f"{model.key}/{state_digest(trunk)}" if source_trained else model.key


def linear_probe(classifier: Classifier, source_trained: bool, support, ctx, *, steps: int, lr: float,
                 batch_size: int, weight_decay: float) -> nn.Module:
    """A new linear head fitted on the frozen trunk's support features; the trunk is shared, never trained."""
    trunk = classifier.trunk.eval()  # eval mode keeps BatchNorm statistics fixed
    key = trunk_key(ctx.model, source_trained, trunk)
    features = ctx.model.features.features(key, trunk, support.inputs)  # [S, D], once per support set
    head = nn.Linear(classifier.feature_dim, support.num_classes).to(ctx.device)
    fit_tensors(head, features, support.labels, steps=steps, lr=lr, batch_size=batch_size,
                generator=ctx.generator, weight_decay=weight_decay)
    return CachedFeatureClassifier(trunk, head, ctx.model.features, key).eval()
