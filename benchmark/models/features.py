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
from benchmark.toolkit.probe import Probe, fit_probe
from benchmark.toolkit.training import forward_in_batches


class CachedFeatureClassifier(nn.Module):
    """head(features of a frozen trunk), the features [N, D] read from ``cache`` when known."""

    def __init__(self, trunk: nn.Module, head: nn.Linear, cache: FeatureCache, trunk_key: str):
        super().__init__()
        self.trunk, self.head, self.cache, self.trunk_key = trunk, head, cache, trunk_key

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.cache.features(self.trunk_key, self.trunk, inputs))  # [N, D] -> [N, classes]


def trunk_key(model, trunk_trained: bool, trunk: nn.Module) -> str:
    """The checkpoint's key for its own trunk; a digest of the weights for one trained on a source."""
    return f"{model.key}/{state_digest(trunk)}" if trunk_trained else model.key


def linear_probe(classifier: Classifier, trunk_trained: bool, support, ctx, *, C="cv",
                 prior: nn.Linear | None = None) -> tuple[nn.Module, Probe]:
    """A linear head probed (benchmark.toolkit.probe) on the frozen trunk's support features [S, D],
    and the predictor it makes: head(trunk(inputs)), the trunk shared and never trained.

    With a pretrained model (``ctx.model``) the features go through its cache; otherwise the
    trunk (a strategy's own backbone) is run here. ``prior``: the head the probe is pulled toward.
    """
    trunk = classifier.trunk.eval()  # eval mode keeps BatchNorm statistics fixed
    if ctx.model is not None:
        key = trunk_key(ctx.model, trunk_trained, trunk)
        features = ctx.model.features.features(key, trunk, support.inputs)  # once per support set
    else:
        features = forward_in_batches(trunk, support.inputs)
    probe = fit_probe(features, support.labels, support.num_classes, ctx.generator, C=C,
                      prior=None if prior is None else prior.weight.detach(), progress=ctx.progress)
    if ctx.model is not None:
        return CachedFeatureClassifier(trunk, probe.linear(), ctx.model.features, key).eval(), probe
    model = Classifier(trunk, classifier.feature_dim, support.num_classes)
    model.head = probe.linear()
    return model.eval(), probe
